package remote

import (
	"context"
	"errors"
	"fmt"
	"time"

	"golang.org/x/crypto/ssh"

	"github.com/pve-op/network-rescue/internal/assist"
)

// ErrNotRunnable is an assist whose command the router's shell could not
// run (exit 127: not found; 126: not executable) and that printed no
// result line: netcheck is not installed there, or OP_NETCHECK names
// another path. The step was not taken.
var ErrNotRunnable = errors.New("OP_NETCHECK cannot be run on the router")

// ErrRouterConfig is an assist that netcheck on the router refused as a
// usage or configuration error (exit 2, assist.ExitUsage) with no result
// line: its config is group- or world-writable or does not parse, or the
// binary is too old to know assist. Its stderr says what to fix there.
// The step was not taken.
var ErrRouterConfig = errors.New("the router's netcheck refused the request as a usage or configuration error (exit status 2)")

// Assist asks the router to take one LAN-side step with its own command
// (SPEC §14): it runs `NETCHECK -config CONF assist STEP -reason REASON`
// over SSH, the paths and the reason single-quoted, and reads the one
// result line netcheck prints (internal/assist). The connection has the
// usual SSH timeout; the command has timeout (assist.MaxDuration): it may
// wait for the router's own run and then run a network restart.
//
// A reboot that works ends the session before the line comes: that is
// assist.ErrNoLine with step reboot, which the caller may take for done.
// Router text in the result (Detail) is untrusted.
func (c Config) Assist(ctx context.Context, netcheck, conf string, step assist.Step, reason string, timeout time.Duration) (assist.Result, error) {
	cmd := ShellQuote(netcheck) + " -config " + ShellQuote(conf) + " assist " + string(step) + " -reason " + ShellQuote(reason)
	if len(cmd) > maxCommandLen {
		return assist.Result{}, fmt.Errorf("assist: command of %d bytes", len(cmd))
	}
	client, err := c.dial(ctx)
	if err != nil {
		return assist.Result{}, err
	}
	defer client.Close()
	cctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	budget := budgetOf(cctx)
	stop := context.AfterFunc(cctx, func() { client.Close() })
	defer stop()
	sess, err := client.NewSession()
	if err != nil {
		return assist.Result{}, phaseError(cctx, c.Addr, "ssh session", budget, err)
	}
	defer sess.Close()
	stdout := &limitedBuffer{max: maxOutput}
	stderr := &limitedBuffer{max: 4096}
	sess.Stdout, sess.Stderr = stdout, stderr
	// Sent once the router accepted the exec request (Start): a session
	// that fails after that may have run the command (a reboot ends it
	// unanswered); one refused before it did not.
	runErr := sess.Start(cmd)
	sent := runErr == nil
	if sent {
		runErr = sess.Wait()
	}
	var exit *ssh.ExitError
	var missing *ssh.ExitMissingError
	if (cctx.Err() != nil && runErr != nil) || (runErr != nil && !errors.As(runErr, &exit) && !errors.As(runErr, &missing)) {
		e := phaseError(cctx, c.Addr, "ssh command", budget, runErr)
		e.Sent = sent
		return assist.Result{}, e
	}
	res, perr := assist.Parse(stdout.String())
	if perr != nil {
		if exit != nil && exit.ExitStatus() == assist.ExitUsage {
			return assist.Result{}, fmt.Errorf("assist: %w: %s", ErrRouterConfig, oneLine(stderr.String()))
		}
		if exit != nil && exit.Signal() != "" {
			// Killed by a signal (a shutdown's KILL): as a session cut
			// short, which a reboot is.
			return assist.Result{}, fmt.Errorf("assist: %w (killed by SIG%s)", perr, exit.Signal())
		}
		if exit != nil && (exit.ExitStatus() == 126 || exit.ExitStatus() == 127) {
			return assist.Result{}, fmt.Errorf("assist: %w (%s: exit status %d: %s)", ErrNotRunnable, netcheck, exit.ExitStatus(), oneLine(stderr.String()))
		}
		if exit != nil {
			// The command ended with a status: it ran and said nothing
			// (a wrong OP_NETCHECK, exit 127), no reboot cut it short.
			return assist.Result{}, fmt.Errorf("assist: %v (exit status %d: %s)", perr, exit.ExitStatus(), oneLine(stderr.String()))
		}
		return assist.Result{}, fmt.Errorf("assist: %w", perr)
	}
	if exit != nil && exit.ExitStatus() != res.ExitCode() {
		return assist.Result{}, fmt.Errorf("assist: result %s with exit status %d", res.Outcome, exit.ExitStatus())
	}
	return res, nil
}
