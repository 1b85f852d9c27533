package testlab

import (
	"fmt"
	"io"
	"os"
	"strings"
	"testing"

	"golang.org/x/sys/unix"
)

// OpenPTY returns both sides of a new pseudo-terminal, closed when the
// test ends, or skips the test when the machine has none to give (some
// containers). A binary given the terminal side as stderr is "run by hand".
func OpenPTY(t *testing.T) (ptm, pts *os.File) {
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

// ReadPTY returns what was written to the terminal side pts so far, read
// from ptm up to an end mark it writes there first (a read of the terminal
// blocks while there is nothing to read).
func ReadPTY(t *testing.T, ptm, pts *os.File) string {
	t.Helper()
	const end = "<end of output>"
	if _, err := io.WriteString(pts, end+"\n"); err != nil {
		t.Fatal(err)
	}
	var got []byte
	for buf := make([]byte, 4096); !strings.Contains(string(got), end); {
		n, err := ptm.Read(buf)
		if err != nil {
			t.Fatalf("read the terminal: %v (read so far %q)", err, got)
		}
		got = append(got, buf[:n]...)
	}
	return strings.TrimSuffix(strings.TrimSuffix(string(got), end+"\r\n"), end+"\n")
}
