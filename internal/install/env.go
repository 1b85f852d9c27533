package install

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"syscall"

	"github.com/pve-op/network-rescue/internal/command"
	"github.com/pve-op/network-rescue/internal/config"
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
	// Output runs a command and returns its stdout and its stderr apart,
	// for output that is parsed (crontab -l: a warning on stderr is no
	// line of the crontab); nil: the real commands, with the host side
	// (WithHostSide).
	Output func(ctx context.Context, name string, args ...string) (stdout, stderr []byte, err error)
	// Procs lists the running processes (for the original host loop);
	// nil: /proc, with the host side (WithHostSide).
	Procs func() ([]Proc, error)
	// Kill sends SIGTERM to pid.
	Kill     func(pid int) error
	Hostname func() (string, error)
	// Terminal reports whether Stdin is a terminal a person can answer on,
	// and ReadPassword reads a line from it without echoing it. Only the
	// host's pairing asks for a password: pair.RealEnv sets them, and
	// netcheck's installer, without them, links no terminal code.
	Terminal     func() bool
	ReadPassword func() ([]byte, error)
	// Host holds the host's steps: those that need an SSH stack, the key
	// and the router deploy (package pair), and this package's host-only
	// ones (WithHostSide). Only hostcheck sets it, so that netcheck, which
	// installs the router side, links neither x/crypto/ssh nor the host's
	// steps: the router's footprint (SPEC §12) stays small.
	Host HostSteps
}

// HostSteps are the host's install steps (package pair sets them).
type HostSteps struct {
	Key    func(h Host) error
	Deploy func(ctx context.Context, h Host) error
	// Unpin removes the pin of addr (host:port) from the known_hosts
	// file at path (remote.Unpin), reporting whether one was there.
	Unpin func(path, addr string) (bool, error)
	side  *hostSide // WithHostSide
}

// hostSide are the host-only steps of this package.
type hostSide struct {
	dpkg    func(in *installer) // sets in.pkg, and warns of a package removed but not purged
	pkg     func(in *installer, ctx context.Context) error
	migrate func(in *installer, ctx context.Context) error
	install func(in *installer, ctx context.Context, src string) error
	remove  func(in *installer, ctx context.Context) error           // uninstall
	procs   func() ([]Proc, error)                                   // the running processes, when Env.Procs is nil
	crontab func(in *installer, ctx context.Context) (string, error) // root's crontab (crontab -l)
	output  func(ctx context.Context, name string, args ...string) (stdout, stderr []byte, err error)
}

// WithHostSide adds this package's host-only steps to s: the netrescue
// package's check (dpkg) and the migration from the original
// pve_host_monitor.sh loop.
func (s HostSteps) WithHostSide() HostSteps {
	s.side = &hostSide{dpkg: (*installer).dpkg, pkg: (*installer).packageHost, migrate: (*installer).migrateHost, install: (*installer).installHost,
		remove: (*installer).uninstallHost, crontab: (*installer).crontabList, output: outputCommand,
		procs: func() ([]Proc, error) { return procs("/proc") }}
	return s
}

// Host is what those steps get of an install run.
type Host struct {
	Opts        Options
	Cfg         config.Config
	Env         Env
	Pkg         bool // the netrescue package installs the host side here
	UI          UI
	Path        func(abs string) string // abs inside --prefix
	Bare        func(p string) string   // p without --prefix, for messages
	Mkdir       func(dir string) error
	SelfCommand func() string
}

// UI is how a step reports (install.sh's "==> " lines, the summary).
type UI interface {
	Say(format string, a ...any)
	Info(format string, a ...any)
	Note(format string, a ...any)
	Warn(msg, fix string)
}

func (in *installer) host() Host {
	return Host{Opts: in.o, Cfg: in.cfg, Env: in.env, Pkg: in.pkg, UI: in.ui, Path: in.path, Bare: in.bare,
		Mkdir: in.mkdir, SelfCommand: in.selfCommand}
}

// errNoHostSide says that a binary without the host's SSH steps was asked
// for them.
func errNoHostSide() error {
	return fail("this binary installs the router side only", "run hostcheck install (or scripts/install.sh) on the host")
}

// key creates the host's SSH key (hostcheck only).
func (in *installer) key() error {
	if in.env.Host.Key == nil {
		return errNoHostSide()
	}
	return in.env.Host.Key(in.host())
}

// deploy sets the router up over SSH (hostcheck only).
func (in *installer) deploy(ctx context.Context) error {
	if in.env.Host.Deploy == nil {
		return errNoHostSide()
	}
	return in.env.Host.Deploy(ctx, in.host())
}

// Proc is a running process and its arguments (argv, from
// /proc/PID/cmdline).
type Proc struct {
	PID  int
	Args []string
}

// RealEnv is the environment of `netcheck install` and `hostcheck install`.
// The host's adds to it (pair.RealEnv).
func RealEnv(stdin io.Reader, stdout, stderr io.Writer) Env {
	return Env{
		Stdin: stdin, Stdout: stdout, Stderr: stderr,
		Euid:       os.Geteuid(),
		Executable: executable,
		Getenv:     os.Getenv,
		LookPath:   command.LookPath,
		Run:        runCommand,
		Kill:       func(pid int) error { return syscall.Kill(pid, syscall.SIGTERM) },
		Hostname:   os.Hostname,
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
	w := &capped{b: &out, max: maxCommandOutput}
	err := execute(ctx, stdin, w, w, name, args)
	return out.Bytes(), err
}

// outputCommand is Env.Output's real commands (host side only).
func outputCommand(ctx context.Context, name string, args ...string) ([]byte, []byte, error) {
	var out, errb bytes.Buffer
	err := execute(ctx, nil, &capped{b: &out, max: maxCommandOutput}, &capped{b: &errb, max: maxCommandOutput}, name, args)
	if err == nil && out.Len() >= maxCommandOutput {
		// Cut, it would be read (a crontab) and written back cut.
		err = fmt.Errorf("it printed more than %d bytes", maxCommandOutput)
	}
	return out.Bytes(), errb.Bytes(), err
}

// execute runs name with stdin, its stdout and stderr to the writers given
// (one for both interleaves them), bounded by ctx (command.Exec). One that
// exited 0 and left a child holding its output (an init script that
// starts a daemon) succeeded, as in package command.
func execute(ctx context.Context, stdin []byte, stdout, stderr io.Writer, name string, args []string) error {
	st, err := command.Exec(ctx, append([]string{name}, args...), nil, stdin, stdout, stderr)
	if err == nil && !st.Success() {
		err = errors.New(st.String()) // "exit status 1", "signal: killed"
	}
	if ctx.Err() != nil && err != nil {
		err = errors.Join(err, ctx.Err())
	}
	return err
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
		out = append(out, Proc{PID: pid, Args: strings.Split(strings.TrimSuffix(string(b), "\x00"), "\x00")})
	}
	return out, nil
}

// SelfArch is the dist/linux-ARCH name (amd64, arm64, armv7, armv5, mips,
// mipsle, SPEC §10) of the running binary's build, and so of the binaries
// beside it.
func SelfArch() string { return archName(runtime.GOARCH, goarm) }

// archName maps GOARCH and GOARM to the dist/linux-ARCH name. GOARM 5 and
// 6 builds run without VFPv3 and are our armv5; 7 (Go's default) is armv7.
func archName(goarch, arm string) string {
	if goarch != "arm" {
		return goarch
	}
	if strings.HasPrefix(arm, "5") || strings.HasPrefix(arm, "6") {
		return "armv5"
	}
	return "armv7"
}
