package main

import (
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/pve-op/network-rescue/internal/cli"
)

// TestLockedByHand: a run by hand (on a terminal) while another run holds
// the lock used to print nothing and exit 0, as if it had checked and
// found the net fine. It now says why it did nothing; under cron (no
// terminal) it stays silent, and neither acts.
func TestLockedByHand(t *testing.T) {
	ptm, pts := openPTY(t)
	dir := t.TempDir()
	conf, log := writeConf(t, dir, "L1_THRESHOLD=1", "L1_CMD=/bin/echo L1")
	release, held, err := cli.Lock(slog.New(slog.DiscardHandler), filepath.Join(dir, "run"), filepath.Join(dir, "state"), "netcheck.lock", 0)
	if err != nil || !held {
		t.Fatalf("take the lock: held %v, %v", held, err)
	}
	defer release()
	var ran []string
	e := fakeEnv(t, &ran)
	e.Stderr = pts
	if err := runEnvWithin(t, conf, e); err != nil {
		t.Fatalf("run: %v", err)
	}
	// What the run wrote, up to an end mark written after it (a read of
	// the terminal blocks while there is nothing to read).
	if _, err := io.WriteString(pts, "<end>\n"); err != nil {
		t.Fatal(err)
	}
	var got []byte
	for buf := make([]byte, 4096); !strings.Contains(string(got), "<end>"); {
		n, err := ptm.Read(buf)
		if err != nil {
			t.Fatalf("read the terminal: %v (read so far %q)", err, got)
		}
		got = append(got, buf[:n]...)
	}
	if !strings.Contains(string(got), "another netcheck run holds the lock") || !strings.Contains(string(got), "nothing done") {
		t.Errorf("terminal shows %q; want why nothing was done", got)
	}
	// Under cron: nothing on stderr.
	e = fakeEnv(t, &ran)
	if err := runEnvWithin(t, conf, e); err != nil {
		t.Fatalf("run: %v", err)
	}
	if _, err := e.Stderr.Seek(0, io.SeekStart); err != nil {
		t.Fatal(err)
	}
	if b, _ := io.ReadAll(e.Stderr); len(b) != 0 {
		t.Errorf("cron run while locked wrote %q to stderr; want nothing", b)
	}
	if len(ran) != 0 {
		t.Errorf("ran %q while another run held the lock", ran)
	}
	if b, _ := os.ReadFile(log); strings.Contains(string(b), "L1") {
		t.Errorf("log while locked: %q", b)
	}
}

// openPTY returns both sides of a new pseudo-terminal, or skips the test
// when the machine has none to give (some containers).
func openPTY(t *testing.T) (ptm, pts *os.File) {
	t.Helper()
	ptm, err := os.OpenFile("/dev/ptmx", os.O_RDWR|unix.O_NOCTTY, 0)
	if err != nil {
		t.Skipf("skipping: no pseudo-terminal: %v", err)
	}
	t.Cleanup(func() { ptm.Close() })
	if err := unix.IoctlSetPointerInt(int(ptm.Fd()), unix.TIOCSPTLCK, 0); err != nil {
		t.Skipf("skipping: unlock pseudo-terminal: %v", err)
	}
	n, err := unix.IoctlGetInt(int(ptm.Fd()), unix.TIOCGPTN)
	if err != nil {
		t.Skipf("skipping: pseudo-terminal number: %v", err)
	}
	pts, err = os.OpenFile(fmt.Sprintf("/dev/pts/%d", n), os.O_RDWR|unix.O_NOCTTY, 0)
	if err != nil {
		t.Skipf("skipping: open pseudo-terminal: %v", err)
	}
	t.Cleanup(func() { pts.Close() })
	return ptm, pts
}
