package install

import (
	"fmt"
	"io"
	"strings"

	"github.com/pve-op/network-rescue/internal/cli"
)

// Error is a failure of the install, with what fixes it. Its text is the
// message and, on a line of its own, "  fix: " and the fix, as the
// original install.sh printed them.
type Error struct {
	Msg string
	Fix string
	Err error // the cause, when there is one (errors.Is, errors.As)
}

// Unwrap is the cause.
func (e *Error) Unwrap() error { return e.Err }

func (e *Error) Error() string {
	if e.Fix == "" {
		return e.Msg
	}
	return e.Msg + "\n  fix: " + e.Fix
}

// Several helpers here and in install.go carry //go:noinline: called
// from dozens of places, their inlined copies cost netcheck (which
// installs the router side) ~20 KB, and its stripped binary must stay
// ≤ 5 MiB (SPEC §12).

//go:noinline
func fail(msg, fix string) error { return &Error{Msg: msg, Fix: fix} }

// Fail is an install failure with its fix (for package pair).
func Fail(msg, fix string) error { return fail(msg, fix) }

// usageError is a mistake on the command line (exit 2), with its fix.
//
//go:noinline
func usageError(msg, fix string) error {
	return &cli.UsageError{Msg: (&Error{Msg: msg, Fix: fix}).Error()}
}

// ui prints the install's steps as install.sh always did: "==> " before a
// step, four spaces before what happened in it, warnings with their fix on
// stderr, and a summary of every change at the end.
type ui struct {
	out, errw io.Writer
	dry       bool
	summary   []string
	warnings  int
}

// say starts a step.
//
//go:noinline
func (u *ui) say(format string, a ...any) { fmt.Fprintf(u.out, "==> "+format+"\n", a...) }

// info tells what happened in a step.
//
//go:noinline
func (u *ui) info(format string, a ...any) { fmt.Fprintf(u.out, "    "+format+"\n", a...) }

// note adds a change to the summary (under --dry-run: one that would have
// been made).
//
//go:noinline
func (u *ui) note(format string, a ...any) {
	s := fmt.Sprintf(format, a...)
	if u.dry {
		s = "(would have) " + s
	}
	u.summary = append(u.summary, s)
}

// warn reports a problem that does not stop the install, and its fix.
func (u *ui) warn(msg, fix string) {
	fmt.Fprintf(u.errw, "warning: %s\n", msg)
	if fix != "" {
		fmt.Fprintf(u.errw, "  fix: %s\n", fix)
	}
	u.warnings++
	u.summary = append(u.summary, "warning: "+msg)
}

// finish prints the summary.
func (u *ui) finish() {
	if u.dry {
		u.summary = append(u.summary, "dry run: nothing was changed")
	}
	if len(u.summary) > 0 {
		fmt.Fprintf(u.out, "Summary:\n    - %s\n", strings.Join(u.summary, "\n    - "))
	}
	if u.warnings > 0 {
		fmt.Fprintf(u.out, "%d warning(s): see the fixes above.\n", u.warnings)
	}
}

// Say, Info, Note and Warn are the UI of package pair's steps.
func (u *ui) Say(format string, a ...any)  { u.say(format, a...) }
func (u *ui) Info(format string, a ...any) { u.info(format, a...) }
func (u *ui) Note(format string, a ...any) { u.note(format, a...) }
func (u *ui) Warn(msg, fix string)         { u.warn(msg, fix) }
