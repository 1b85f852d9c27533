// Package runenv is the environment of a netcheck or hostcheck run: every
// side effect a run has, in one small struct, so that the decision code
// around it can be tested with fakes (STYLE: side effects at the edges).
package runenv

import (
	"context"
	"io"
	"os"
	"time"

	"github.com/pve-op/network-rescue/internal/command"
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
	Uptime func() (time.Duration, error)
	BootID func() (string, error)
}

// Real is the environment of a real run: a one-shot process, so its probe
// returns at the first reply without waiting for the other pingers to wind
// down (they die with the process; SPEC §12).
func Real() Env {
	return Env{Stdin: os.Stdin, Stdout: os.Stdout, Stderr: os.Stderr, Now: time.Now, Probe: oneShot,
		Exec: command.Run, Uptime: sysinfo.Uptime, BootID: sysinfo.BootID}
}

func oneShot(ctx context.Context, cfg probe.Config) probe.Result {
	cfg.OneShot = true
	return probe.Run(ctx, cfg)
}
