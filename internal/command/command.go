// Package command runs the configured action commands (L1_CMD, REBOOT_CMD,
// qm …) the way the original scripts did — as `/bin/sh -c VALUE` — but
// bounded by a deadline, in their own process group so that a timeout ends
// the whole pipeline, and with an outcome a log line can show (SPEC §5
// rule 3: `-> [成功]` / `-> [错误]`).
package command

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"time"
	"unicode/utf8"
)

// Shell is the interpreter of every *_CMD value.
const Shell = "/bin/sh"

// Result is the outcome of one command.
type Result struct {
	Cmd      string
	ExitCode int           // -1 when it did not exit by itself
	Stderr   string        // first non-empty line of standard error
	Stdout   string        // standard output, for queries (qm status …)
	Elapsed  time.Duration //
	Err      error         // nil on exit status 0
}

// OK reports whether the command exited with status 0. Not inlined, to
// keep the router's netcheck small (SPEC §12), as group.end in probe.
//
//go:noinline
func (r Result) OK() bool { return r.Err == nil }

// Summary is the outcome as the log shows it, after "-> ".
func (r Result) Summary() string {
	if r.OK() {
		return "[成功]"
	}
	msg := r.Err.Error()
	if r.Stderr != "" {
		msg += ": " + r.Stderr
	}
	return "[错误] " + msg
}

// Run runs cmdline with /bin/sh -c under ctx and timeout (0 = ctx only).
// A command still running at the deadline is killed with its process group.
// The group is its own, so a Ctrl-C on the terminal never reaches it; an
// action (L1, qm stop/start, a reboot command) is passed a ctx that a
// signal to the run does not cancel (context.WithoutCancel), so that it
// runs to completion within its timeout (SPEC §15).
func Run(ctx context.Context, cmdline string, timeout time.Duration) Result {
	return RunEnv(ctx, cmdline, timeout, nil)
}

// RunEnv is Run with extra KEY=value pairs added to the command's
// environment (ON_EVENT_CMD's NETRESCUE_* variables).
func RunEnv(ctx context.Context, cmdline string, timeout time.Duration, env []string) Result {
	if timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, timeout)
		defer cancel()
	}
	var stdout, stderr bytes.Buffer
	c := exec.CommandContext(ctx, Shell, "-c", cmdline)
	if len(env) > 0 {
		c.Env = append(os.Environ(), env...)
	}
	c.Stdout, c.Stderr = &limited{b: &stdout}, &limited{b: &stderr}
	c.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	c.Cancel = func() error { return syscall.Kill(-c.Process.Pid, syscall.SIGKILL) }
	c.WaitDelay = time.Second
	start := time.Now()
	err := c.Run()
	r := Result{Cmd: cmdline, ExitCode: -1, Stdout: stdout.String(), Stderr: firstLine(stderr.String()), Elapsed: time.Since(start)}
	var ee *exec.ExitError
	switch {
	case err == nil:
		r.ExitCode = 0
	case errors.Is(err, exec.ErrWaitDelay) && c.ProcessState != nil && c.ProcessState.Success():
		// The shell exited 0 by itself but left a child in the background
		// holding its output ("curl … &"): Wait gave up on the pipes after
		// WaitDelay. The outcome is the exit status (SPEC §5 rule 3); the
		// child goes on, and what it wrote so far is kept.
		r.ExitCode = 0
	case ctx.Err() != nil:
		r.Err = fmt.Errorf("killed after %v: %w", r.Elapsed.Round(time.Millisecond), ctx.Err())
	case errors.As(err, &ee) && ee.Exited():
		r.ExitCode = ee.ExitCode()
		r.Err = fmt.Errorf("exit status %d", r.ExitCode)
	default:
		r.Err = fmt.Errorf("run %s: %w", Shell, err)
	}
	return r
}

func firstLine(s string) string {
	for s != "" {
		var l string
		l, s, _ = strings.Cut(s, "\n")
		if l = strings.TrimSpace(l); l != "" {
			if len(l) > 200 {
				l = l[:runeCut(l, 200)] + "…"
			}
			return l
		}
	}
	return ""
}

// runeCut is n, or less so that s[:n] does not end inside a UTF-8
// character (a Chinese error message is 3 bytes a character).
func runeCut(s string, n int) int {
	for i := n; i > n-utf8.UTFMax && i > 0; i-- {
		if utf8.RuneStart(s[i]) {
			return i
		}
	}
	return n // not UTF-8 there: any cut will do
}

// limited keeps at most 64 KiB of output: enough for a log line or a
// status query, and bounded whatever a command prints.
type limited struct{ b *bytes.Buffer }

func (l *limited) Write(p []byte) (int, error) {
	if room := 64<<10 - l.b.Len(); room > 0 {
		l.b.Write(p[:min(len(p), room)])
	}
	return len(p), nil
}
