package logx

import (
	"fmt"
	"os"
	"testing"

	"golang.org/x/sys/unix"
)

func TestIsTerminal(t *testing.T) {
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	defer w.Close()
	devNull, err := os.Open(os.DevNull)
	if err != nil {
		t.Fatal(err)
	}
	defer devNull.Close()
	regular, err := os.CreateTemp("", fmt.Sprintf("nrlog%d-", os.Getpid()))
	if err != nil {
		t.Fatal(err)
	}
	defer os.Remove(regular.Name())
	defer regular.Close()

	tests := []struct {
		name string
		f    *os.File
		want bool
	}{
		{"nil", nil, false},
		{"pipe (cron, | less)", w, false},
		{"/dev/null", devNull, false},
		{"regular file", regular, false},
	}
	if pty := openPTY(t); pty != nil {
		tests = append(tests, struct {
			name string
			f    *os.File
			want bool
		}{"pseudo-terminal", pty, true})
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := IsTerminal(tt.f); got != tt.want {
				t.Errorf("IsTerminal(%s) = %v; want %v", tt.name, got, tt.want)
			}
		})
	}
}

// openPTY returns the terminal side of a new pseudo-terminal, or nil if the
// machine has none to give (some containers).
func openPTY(t *testing.T) *os.File {
	t.Helper()
	ptm, err := os.OpenFile("/dev/ptmx", os.O_RDWR|unix.O_NOCTTY, 0)
	if err != nil {
		t.Logf("no pseudo-terminal: %v", err)
		return nil
	}
	t.Cleanup(func() { ptm.Close() })
	if err := unix.IoctlSetPointerInt(int(ptm.Fd()), unix.TIOCSPTLCK, 0); err != nil {
		t.Logf("unlock pseudo-terminal: %v", err)
		return nil
	}
	n, err := unix.IoctlGetInt(int(ptm.Fd()), unix.TIOCGPTN)
	if err != nil {
		t.Logf("pseudo-terminal number: %v", err)
		return nil
	}
	pts, err := os.OpenFile(fmt.Sprintf("/dev/pts/%d", n), os.O_RDWR|unix.O_NOCTTY, 0)
	if err != nil {
		t.Logf("open pseudo-terminal: %v", err)
		return nil
	}
	t.Cleanup(func() { pts.Close() })
	return pts
}
