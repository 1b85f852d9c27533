// Package command runs the configured action commands (L1_CMD, REBOOT_CMD,
// qm …) the way the original scripts did — as `/bin/sh -c VALUE` — but
// bounded by a deadline, in their own process group so that a timeout ends
// the whole pipeline, and with an outcome a log line can show (SPEC §5
// rule 3: `-> [成功]` / `-> [错误]`).
package command

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
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
	start := time.Now()
	st, err := Exec(ctx, []string{Shell, "-c", cmdline}, env, nil, &limited{b: &stdout}, &limited{b: &stderr})
	r := Result{Cmd: cmdline, ExitCode: -1, Stdout: stdout.String(), Stderr: firstLine(stderr.String()), Elapsed: time.Since(start)}
	switch {
	case err != nil:
		r.Err = fmt.Errorf("run %s: %w", Shell, err)
	case st.Success():
		// Also when the shell left a child in the background holding its
		// output ("curl … &"), not waited for past WaitDelay: the outcome
		// is the exit status (SPEC §5 rule 3), and what it wrote so far
		// is kept. The child goes on until its next write to the pipe we
		// no longer read, which kills it (SIGPIPE), as with os/exec: a
		// hook that backgrounds its work sends its output elsewhere
		// ("curl … >/dev/null 2>&1 &").
		r.ExitCode = 0
	case ctx.Err() != nil:
		r.Err = fmt.Errorf("killed after %v: %w", r.Elapsed.Round(time.Millisecond), ctx.Err())
	case st.Exited():
		r.ExitCode = st.ExitCode()
		r.Err = fmt.Errorf("exit status %d", r.ExitCode)
	default:
		r.Err = fmt.Errorf("run %s: %s", Shell, st) // "signal: killed"
	}
	return r
}

// WaitDelay is how long Exec waits, once the process exited, for the
// output that a child it left in the background may hold open.
const WaitDelay = time.Second

// Exec runs argv (argv[0] a path, or a name found in PATH) in a process
// group of its own, with env added to this process's environment, stdin
// as its standard input (none: /dev/null) and its output written to stdout
// and stderr (one writer for both interleaves them), until it exits or ctx
// ends, when the whole group is killed. Once it exited, a child of its
// that holds its output open (an init script starting a daemon, "curl …
// &") is not waited for past WaitDelay. err is for a process that did not
// start (st nil); how it ended is in st. This is what os/exec's Cmd with
// Setpgid, a Cancel killing the group and a WaitDelay did, in a fraction
// of its code, which the router's netcheck carries (SPEC §12: ≤ 5 MiB).
func Exec(ctx context.Context, argv, env []string, stdin []byte, stdout, stderr io.Writer) (st *os.ProcessState, err error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	path, err := LookPath(argv[0])
	if err != nil {
		return nil, err
	}
	var child, parent []*os.File // the pipes' ends: the child's, closed once it started; ours to read
	var inW *os.File             // ours to write the child's stdin, if any
	defer func() {
		for _, f := range append(child, parent...) {
			f.Close()
		}
		if inW != nil {
			inW.Close() // a child left in the background still holding it: its writer ends
		}
	}()
	var in *os.File
	if len(stdin) == 0 {
		in, err = os.Open(os.DevNull)
	} else if in, inW, err = os.Pipe(); err == nil {
		// Written while the child reads; a child that never reads (or
		// never starts) ends the write with EPIPE.
		go func(w *os.File) { _, _ = w.Write(stdin); w.Close() }(inW)
	}
	if err != nil {
		return nil, err
	}
	child = append(child, in)
	copied := make(chan struct{}, 2)
	pipe := func(dst io.Writer) *os.File {
		r, w, perr := os.Pipe()
		if perr != nil {
			err = perr
			return nil
		}
		child, parent = append(child, w), append(parent, r)
		go func() { _, _ = io.Copy(dst, r); copied <- struct{}{} }()
		return w
	}
	out := pipe(stdout)
	errOut := out
	if stderr != stdout {
		errOut = pipe(stderr)
	}
	if err != nil {
		return nil, err
	}
	var e []string
	if len(env) > 0 {
		e = append(os.Environ(), env...)
	}
	p, err := os.StartProcess(path, argv, &os.ProcAttr{Env: e, Files: []*os.File{in, out, errOut},
		Sys: &syscall.SysProcAttr{Setpgid: true}})
	for _, f := range child {
		f.Close() // the child has them: its exit ends our reads
	}
	child = nil
	if err != nil {
		return nil, err
	}
	waited := make(chan struct{})
	go func() { st, err = p.Wait(); close(waited) }()
	select {
	case <-waited:
	case <-ctx.Done():
		_ = syscall.Kill(-p.Pid, syscall.SIGKILL)
		select {
		case <-waited:
		case <-time.After(WaitDelay):
			// It left the group (setpgid to another): killed by its
			// pid, as os/exec does after its WaitDelay.
			_ = p.Kill()
			<-waited
		}
	}
	if err != nil {
		return nil, err
	}
	// Its output, read to the end, or for WaitDelay at most: then the
	// reads are ended (closing our ends) and their goroutines are done
	// before the writers are read.
	delay := time.NewTimer(WaitDelay)
	defer delay.Stop()
	for i, pipes := 0, len(parent); i < pipes; i++ {
		select {
		case <-copied:
		case <-delay.C:
			for _, f := range parent {
				f.Close()
			}
			for ; i < pipes; i++ {
				<-copied
			}
		}
	}
	return st, nil
}

// LookPath is name's path: name itself when it holds a slash, else the
// first executable regular file of that name in PATH's absolute
// directories (as exec.LookPath, which refuses relative ones too).
func LookPath(name string) (string, error) {
	if strings.Contains(name, "/") {
		return name, nil
	}
	for _, dir := range filepath.SplitList(os.Getenv("PATH")) {
		p := filepath.Join(dir, name)
		if fi, err := os.Stat(p); filepath.IsAbs(dir) && err == nil && fi.Mode().IsRegular() && fi.Mode()&0o111 != 0 {
			return p, nil
		}
	}
	return "", fmt.Errorf("%s: not found in PATH", name)
}

// firstLine is the first line of s with text, trimmed and cut to 200
// bytes. Perl's locale warnings ("perl: warning: Setting locale failed." and the
// indented lines under it), which every `qm` prints first on a PVE host
// whose LANG names a locale not generated, are passed over: behind them
// is qm's own message ("… does not exist").
func firstLine(s string) string {
	perl := false
	for s != "" {
		var raw string
		raw, s, _ = strings.Cut(s, "\n")
		l := strings.TrimSpace(raw)
		if l == "" {
			continue
		}
		if perl = strings.HasPrefix(l, "perl: warning:") || perl && raw[0] <= ' '; !perl {
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
