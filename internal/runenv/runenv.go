// Package runenv is the environment of a netcheck or hostcheck run: every
// side effect a run has, in one small struct, so that the decision code
// around it can be tested with fakes (STYLE: side effects at the edges).
package runenv

import (
	"context"
	"io"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/pve-op/network-rescue/internal/command"
	"github.com/pve-op/network-rescue/internal/logx"
	"github.com/pve-op/network-rescue/internal/nexthop"
	"github.com/pve-op/network-rescue/internal/probe"
	"github.com/pve-op/network-rescue/internal/sysinfo"
)

// Env is everything a run touches outside its own memory: the terminal,
// the clock, the prober, the command runner and the facts of the running
// system.
type Env struct {
	Stdin  io.Reader
	Stdout io.Writer
	Stderr *os.File
	Now    func() time.Time
	Probe  func(context.Context, probe.Config) probe.Result
	Exec   func(ctx context.Context, cmdline string, timeout time.Duration) command.Result
	// ExecEnv runs a command with extra environment (ON_EVENT_CMD).
	ExecEnv func(ctx context.Context, cmdline string, timeout time.Duration, env []string) command.Result
	Uptime  func() (time.Duration, error)
	BootID  func() (string, error)
	// NextHop finds the WAN's next hop in the kernel (WAN_GATEWAY=auto,
	// SPEC §14); nil (a test's Env) finds none.
	NextHop func() (nexthop.Hop, error)
	// Resolve asks the DNS server at server (host:port) for name
	// (DNS_CHECK, SPEC §14); nil (a test's Env) asks nothing. Only
	// hostcheck sets it (dnscheck.Resolve): netcheck links no DNS code.
	Resolve func(ctx context.Context, server, name string) error
	// Signals is where a run starts catching SIGTERM and SIGINT: only
	// once it has decided to act (SPEC §12, §15).
	Signals Signals
	// Syslog sends one line to syslog at daemon.err, tagged tag, stamped
	// in loc, before a logger exists (a configuration the cron run cannot
	// read); nil (a test's Env) sends nothing.
	Syslog func(tag, msg string, loc *time.Location)
}

// Signals starts catching SIGTERM and SIGINT for the rest of the run; the
// context it returns ends when one arrives, stop stops catching. No
// handler is installed before: a healthy run, which writes nothing, keeps
// the default disposition and a signal simply ends it (SPEC §12). From
// the moment a run decides to act, a signal must neither kill the action
// half way (its commands run with context.WithoutCancel in their own
// process group) nor the persist before it, and it ends hostcheck's wait
// for its own reboot quietly (SPEC §6 step 6, §15).
type Signals func(parent context.Context) (ctx context.Context, stop context.CancelFunc)

// Catch starts catching. A nil Signals (a test's Env) catches nothing:
// its context ends only with parent or stop.
func (s Signals) Catch(parent context.Context) (context.Context, context.CancelFunc) {
	if s == nil {
		return context.WithCancel(parent)
	}
	return s(parent)
}

// OSSignals catches the process's SIGTERM, SIGINT and SIGHUP
// (signal.NotifyContext): a by-hand run whose SSH session drops, over the
// WAN that L1 takes down, must not die under its action either.
func OSSignals(parent context.Context) (context.Context, context.CancelFunc) {
	return signal.NotifyContext(parent, os.Interrupt, syscall.SIGTERM, syscall.SIGHUP)
}

// Real is the environment of a real run: a one-shot process, so its probe
// returns at the first reply without waiting for the other pingers to wind
// down (they die with the process; SPEC §12).
func Real() Env {
	return Env{Stdin: os.Stdin, Stdout: os.Stdout, Stderr: os.Stderr, Now: time.Now, Probe: oneShot,
		Exec: command.Run, ExecEnv: command.RunEnv, Uptime: sysinfo.Uptime, BootID: sysinfo.BootID, NextHop: nexthop.Find,
		Signals: OSSignals, Syslog: func(tag, msg string, loc *time.Location) { logx.SyslogError("", tag, msg, loc) }}
}

func oneShot(ctx context.Context, cfg probe.Config) probe.Result {
	cfg.OneShot = true
	return probe.Run(ctx, cfg)
}
