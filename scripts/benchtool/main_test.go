package main

import (
	"os"
	"os/exec"
	"runtime"
	"testing"
)

// TestPeakRSS: the peak RSS is the program's own. Under rusage, a small
// program read as benchtool's (here the test binary's) RSS: the kernel
// carries the vfork parent's high-water mark into the child at exec.
func TestPeakRSS(t *testing.T) {
	devnull, err := os.OpenFile(os.DevNull, os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer devnull.Close()
	// Grow the test's own RSS well past a small program's.
	ballast := make([]byte, 32<<20)
	for i := range ballast {
		ballast[i] = 1
	}
	own := readHWM(os.Getpid())
	small, err := exec.LookPath("true")
	if err != nil {
		t.Skipf("skipping: no true(1): %v", err)
	}
	got, err := peakRSS(small, []string{"true"}, devnull.Fd())
	if err != nil {
		t.Fatal(err)
	}
	if got <= 0 || got >= own/4 {
		t.Errorf("peakRSS(true) = %d KiB; want the small program's own, far below this process's %d KiB", got, own)
	}
	// dd touches its whole 16 MiB buffer: its peak is at least that.
	dd, err := exec.LookPath("dd")
	if err != nil {
		t.Skipf("skipping the large half: no dd(1): %v", err)
	}
	got, err = peakRSS(dd, []string{"dd", "if=/dev/zero", "of=/dev/null", "bs=16M", "count=1"}, devnull.Fd())
	if err != nil {
		t.Fatal(err)
	}
	if got < 16<<10 {
		t.Errorf("peakRSS(dd bs=16M) = %d KiB; want at least %d", got, 16<<10)
	}
	runtime.KeepAlive(ballast)
}
