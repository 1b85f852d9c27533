package main

import (
	"bytes"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"
)

// TestPeakRSS: the peak RSS is the program's own. Under rusage, a small
// program read as benchtool's (here the test binary's) RSS: the kernel
// carries the vfork parent's high-water mark into the child at exec. Its
// file-backed part is the program's pages, not its buffers.
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
	own := readMemory(os.Getpid()).hwm
	small, err := exec.LookPath("true")
	if err != nil {
		t.Skipf("skipping: no true(1): %v", err)
	}
	got, err := peakRSS(small, []string{"true"}, devnull.Fd())
	if err != nil {
		t.Fatal(err)
	}
	if got.hwm <= 0 || got.hwm >= own/4 || got.file <= 0 || got.file > got.hwm {
		t.Errorf("peakRSS(true) = %+v KiB; want the small program's own, far below this process's %d KiB, some of it file-backed", got, own)
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
	if got.hwm < 16<<10 || got.file <= 0 || got.file > got.hwm-16<<10 {
		t.Errorf("peakRSS(dd bs=16M) = %+v KiB; want at least %d, its buffer not file-backed", got, 16<<10)
	}
	runtime.KeepAlive(ballast)
}

// TestCopy: -copy writes the same bytes, executable.
func TestCopy(t *testing.T) {
	dir := t.TempDir()
	src, dst := filepath.Join(dir, "src"), filepath.Join(dir, "dst")
	want := bytes.Repeat([]byte("netrescue\n"), 5000) // more than one page
	if err := os.WriteFile(src, want, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := run([]string{"-copy", src, dst}, io.Discard, io.Discard); err != nil {
		t.Fatalf("benchtool -copy: %v", err)
	}
	got, err := os.ReadFile(dst)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("copy holds %d bytes, not the %d of the source", len(got), len(want))
	}
	fi, err := os.Stat(dst)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o755 {
		t.Errorf("copy mode = %v; want 0755", fi.Mode())
	}
}

// TestPooledLabels: commands that share a label make one line over all
// their runs, and -raw numbers them command by command.
func TestPooledLabels(t *testing.T) {
	tr, err := exec.LookPath("true")
	if err != nil {
		t.Skipf("skipping: no true(1): %v", err)
	}
	raw := filepath.Join(t.TempDir(), "raw")
	var out bytes.Buffer
	args := []string{"-n", "2", "-rss-runs", "1", "-raw", raw, "-label", "a,a,b", "--", tr, "---", tr, "---", tr}
	if err := run(args, &out, io.Discard); err != nil {
		t.Fatalf("benchtool %q: %v", args, err)
	}
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	if len(lines) != 2 || !strings.HasPrefix(lines[0], "label=a n=4 ") || !strings.HasPrefix(lines[1], "label=b n=2 ") ||
		!strings.Contains(lines[0], " rss_runs=2 ") {
		t.Errorf("output:\n%s\nwant a line for a (4 runs, 2 under ptrace), then one for b (2 runs)", out.String())
	}
	b, err := os.ReadFile(raw)
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, l := range strings.Split(strings.TrimSpace(string(b)), "\n") {
		f := strings.Fields(l)
		ids = append(ids, f[0]+" "+f[1])
	}
	want := []string{"a 1.0", "a 1.1", "a 2.0", "a 2.1", "b 1.0", "b 1.1"}
	if !slices.Equal(ids, want) {
		t.Errorf("-raw runs %q; want %q", ids, want)
	}
}
