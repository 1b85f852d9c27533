package logx

import (
	"os"

	"golang.org/x/sys/unix"
)

// IsTerminal reports whether f is a terminal, the condition for colour
// (STYLE: no colour when stderr is not a TTY). It asks the tty driver for
// the terminal settings, which only a terminal has.
func IsTerminal(f *os.File) bool {
	if f == nil {
		return false
	}
	_, err := unix.IoctlGetTermios(int(f.Fd()), unix.TCGETS)
	return err == nil
}
