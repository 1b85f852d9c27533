package install

import (
	"bytes"
	"context"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"golang.org/x/term"
)

// Env is everything the installer touches besides the files of the tree it
// installs into: the terminal, the commands it runs (crontab, init scripts,
// status), the processes of the original scripts, and facts of the
// machine. Tests replace parts of it; RealEnv is the real one.
type Env struct {
	Stdin  io.Reader
	Stdout io.Writer
	Stderr io.Writer
	// Euid is the effective user id: installing into / needs root, and a
	// root install checks that the config is root's.
	Euid int
	// Executable is the running binary, whose directory is the default
	// --bin.
	Executable func() (string, error)
	Getenv     func(string) string
	LookPath   func(string) (string, error)
	// Run runs a command with stdin and returns what it printed on stdout
	// and stderr, interleaved; ctx bounds it.
	Run func(ctx context.Context, stdin []byte, name string, args ...string) ([]byte, error)
	// Procs lists the running processes (for the original host loop).
	Procs func() ([]Proc, error)
	// Kill sends SIGTERM to pid.
	Kill     func(pid int) error
	Hostname func() (string, error)
	// Terminal reports whether Stdin is a terminal a person can answer on.
	Terminal func() bool
	// ReadPassword reads a line from the terminal without echoing it.
	ReadPassword func() ([]byte, error)
}

// Proc is a running process and its command line (arguments joined by
// spaces).
type Proc struct {
	PID     int
	Cmdline string
}

// RealEnv is the environment of `netcheck install` and `hostcheck install`.
func RealEnv(stdin io.Reader, stdout, stderr io.Writer) Env {
	fd := -1
	if f, ok := stdin.(*os.File); ok {
		fd = int(f.Fd())
	}
	return Env{
		Stdin: stdin, Stdout: stdout, Stderr: stderr,
		Euid:       os.Geteuid(),
		Executable: executable,
		Getenv:     os.Getenv,
		LookPath:   exec.LookPath,
		Run:        runCommand,
		Procs:      func() ([]Proc, error) { return procs("/proc") },
		Kill:       func(pid int) error { return syscall.Kill(pid, syscall.SIGTERM) },
		Hostname:   os.Hostname,
		Terminal:   func() bool { return fd >= 0 && term.IsTerminal(fd) },
		ReadPassword: func() ([]byte, error) {
			return term.ReadPassword(fd)
		},
	}
}

// executable is the running binary with symlinks resolved: the router's
// /usr/bin/midnight-reset is a link to netcheck.
func executable() (string, error) {
	p, err := os.Executable()
	if err != nil {
		return "", err
	}
	return filepath.EvalSymlinks(p)
}

// maxCommandOutput bounds what a command the installer runs may print
// into its memory (status prints a checklist of a few KiB).
const maxCommandOutput = 1 << 20

func runCommand(ctx context.Context, stdin []byte, name string, args ...string) ([]byte, error) {
	var out bytes.Buffer
	c := exec.CommandContext(ctx, name, args...)
	c.Stdin = bytes.NewReader(stdin)
	w := &capped{b: &out, max: maxCommandOutput}
	c.Stdout, c.Stderr = w, w
	c.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	c.Cancel = func() error { return syscall.Kill(-c.Process.Pid, syscall.SIGKILL) }
	c.WaitDelay = time.Second
	err := c.Run()
	if ctx.Err() != nil && err != nil {
		err = errors.Join(err, ctx.Err())
	}
	return out.Bytes(), err
}

// capped keeps the first max bytes written to it.
type capped struct {
	b   *bytes.Buffer
	max int
}

func (c *capped) Write(p []byte) (int, error) {
	if room := c.max - c.b.Len(); room > 0 {
		c.b.Write(p[:min(room, len(p))])
	}
	return len(p), nil
}

// procs reads the command lines of the processes in proc (/proc). A
// process that exits while it is read is left out.
func procs(proc string) ([]Proc, error) {
	ents, err := os.ReadDir(proc)
	if err != nil {
		return nil, err
	}
	var out []Proc
	for _, e := range ents {
		pid, err := strconv.Atoi(e.Name())
		if err != nil || pid == os.Getpid() {
			continue
		}
		b, err := os.ReadFile(filepath.Join(proc, e.Name(), "cmdline"))
		if err != nil || len(b) == 0 {
			continue
		}
		out = append(out, Proc{PID: pid, Cmdline: strings.TrimSpace(strings.ReplaceAll(string(b), "\x00", " "))})
	}
	return out, nil
}
