// Package midnight is midnight-reset (SPEC §5, §6): the start of a new
// rescue day. On the router it sets the reboot count to 0 and deletes the
// cooling deadline and the SOS signal; on the host it deletes the "rebooted
// today" mark. cmd/midnight-reset runs it on the host; on the router the one
// netcheck binary runs it when invoked as midnight-reset (a symlink, busybox
// style; SPEC §10), so the router carries one binary.
package midnight

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"time"

	"github.com/pve-op/network-rescue/internal/assist"
	"github.com/pve-op/network-rescue/internal/cli"
	"github.com/pve-op/network-rescue/internal/command"
	"github.com/pve-op/network-rescue/internal/config"
	"github.com/pve-op/network-rescue/internal/hook"
	"github.com/pve-op/network-rescue/internal/ladder"
	"github.com/pve-op/network-rescue/internal/rescue"
	"github.com/pve-op/network-rescue/state"
)

// Name is the command name, and the argv[0] base name under which netcheck
// runs the reset.
const Name = "midnight-reset"

// OpenWrtRelease marks a router.
const OpenWrtRelease = "/etc/openwrt_release"

// ActionTime bounds the action of a cron run that midnight-reset waits
// for, on top of its probe: netcheck's ActionTimeout (one L1–L3 command),
// then ON_EVENT_CMD, which the run fires with its lock held, once for each
// of at most three events (up or down, the step, SOS raised or withdrawn),
// each bounded by hook.Timeout, and 10 s for the rest of the run (a
// command's kill grace, the log). Waiting less logged a false 【严重错误】.
const ActionTime = assist.ActionTimeout + 3*hook.Timeout + 10*time.Second

// Invoked reports whether argv0 (os.Args[0]) names midnight-reset: the
// router's /usr/bin/midnight-reset is a symlink to netcheck.
func Invoked(argv0 string) bool { return filepath.Base(argv0) == Name }

// HostReset is the host's reset (ResetHost), passed in by the binaries
// that do it: the router's netcheck leaves it out and so does not carry
// the host's state code (SPEC §12: the router's flash).
type HostReset func(ctx context.Context, log *slog.Logger, cfg config.Config, loc *time.Location, prefix string, force bool) error

// Run is one midnight-reset. defaultRole is the role when -role is not
// given: "" detects it from OpenWrtRelease (the host binary), config.Router
// for netcheck run as midnight-reset (only a router carries netcheck).
// host is ResetHost, or nil in a binary without the host side.
func Run(ctx context.Context, args []string, stdout io.Writer, stderr *os.File, defaultRole config.Role, host HostReset) error {
	roleHelp := "`router` or `host` (default: router if " + OpenWrtRelease + " exists)"
	if defaultRole != "" {
		roleHelp = "`router` or `host` (default: " + string(defaultRole) + ")"
	}
	if host == nil {
		// The router's binary: its -h offers no host-only flag it would
		// then refuse (-force is not defined at all).
		roleHelp = "`router`, the only role here"
	}
	fs, f := cli.NewFlagSet(Name, "usage: midnight-reset [flags]\n\nStarts a new rescue day (cron: 0 0 * * *).\n\nflags:\n", stderr)
	roleFlag := fs.String("role", "", roleHelp)
	force := new(bool)
	if host != nil {
		fs.BoolVar(force, "force", false, "host: also forget today's host reboot, allowing another one today (a person's override)")
	}
	if _, done, err := cli.ParseArgs(fs, f, args, stdout); err != nil || done {
		return err
	}
	role, err := detectRole(*roleFlag, defaultRole)
	if err != nil {
		return err
	}
	if role == config.Host && host == nil {
		return cli.Usagef("-role host: this is the router's netcheck; the host's midnight-reset (netrescue package) resets the host")
	}
	cfg, err := cli.LoadConfig(*f, role)
	if err != nil {
		return err
	}
	loc := cli.Zone()
	log, closeLog := cli.Logger(cfg, Name, f.Verbose, stderr, loc)
	defer closeLog()
	prefix := ""
	if cfg.DryRun {
		prefix = "【演练】"
	}
	// Take the lock of this side's cron run, waiting for a run under way
	// (SPEC §15): a netcheck probing at 00:00 would otherwise save its L3
	// or SOS over the reset, and the new day start with yesterday's count.
	lockName, wait := "hostcheck.lock", cfg.ProbeTimeout+cfg.SSHTimeout+ActionTime
	if role == config.Router {
		lockName, wait = "netcheck.lock", cfg.ProbeTimeout+ActionTime
	}
	release, held, err := cli.Lock(log, cfg.RunDir, cfg.StateDir, lockName, wait)
	switch {
	case err != nil:
		// The reset matters more than the lock: go on, and say so.
		log.ErrorContext(ctx, prefix+"【严重错误】零点重置无法加锁，仍然重置", "lock", lockName, "err", err)
	case !held:
		log.ErrorContext(ctx, prefix+"【严重错误】零点重置等锁超时，仍然重置", "lock", lockName, "waited", wait)
	default:
		defer release()
	}
	if role == config.Router {
		store := ladder.Store{StateDir: cfg.StateDir, RunDir: cli.RunDir(cfg.RunDir)}
		if cfg.DryRun {
			store = store.DryRun()
		}
		sos := filepath.Join(store.StateDir, ladder.SOSFile)
		_, had := os.Lstat(sos)
		changed, err := store.Reset()
		if err != nil {
			log.ErrorContext(ctx, prefix+"【严重错误】零点重置失败", "err", err)
			err = fmt.Errorf("reset router state: %w", err) // after the SOS's hook, if the SOS went
		} else if changed {
			log.InfoContext(ctx, prefix+"【重置】新的一天：重启计数清零，冷却与 SOS 已清除。")
		} else {
			log.DebugContext(ctx, "nothing to reset")
		}
		_, gone := os.Lstat(sos)
		if _, owed := os.Lstat(filepath.Join(store.StateDir, ladder.OwedFile)); had == nil && gone != nil && owed != nil && cfg.OnEventCmd != "" && !cfg.DryRun {
			// SPEC §16: an SOS withdrawn is a transition like any other,
			// whoever withdraws it; the hook that had "sos" hears of it.
			// Once: a withdrawal still owed (its file not removed) is the
			// next netcheck run's to tell.
			ev := hook.Event{Name: "sos-withdrawn", Detail: Name}
			if rec, ok, _ := state.ReadRecord(filepath.Join(store.StateDir, ladder.OutageFile)); ok {
				// The outage goes on: its length, as netcheck's events say it.
				if since := state.RecordTime(rec["since"], loc); !since.IsZero() && time.Now().After(since) {
					ev.Outage = time.Since(since)
				}
			}
			r := command.RunEnv(ctx, cfg.OnEventCmd, hook.Timeout, ev.Env())
			level := slog.LevelInfo
			if !r.OK() {
				level = slog.LevelError
			}
			log.Log(ctx, level, "-> "+r.Summary(), "event", "sos-withdrawn")
		}
		return err
	}
	return host(ctx, log, cfg, loc, prefix, *force)
}

// ResetHost deletes the host's "rebooted today" mark; with force it also
// forgets today's host reboot.
func ResetHost(ctx context.Context, log *slog.Logger, cfg config.Config, loc *time.Location, prefix string, force bool) error {
	store := rescue.Store{Mark: cfg.PVEMark, StateDir: cfg.StateDir, VMStartMax: cfg.VMStartMax}
	if cfg.DryRun {
		store = store.DryRun()
	}
	if force {
		// Forget rewrites a damaged record with its safe values (a VM
		// restart dated the day it was written): said, as a run says it.
		if _, problems := store.Load(loc); len(problems) > 0 {
			for _, p := range problems {
				log.ErrorContext(ctx, prefix+"【严重错误】状态文件损坏，按安全值处理并重写", "err", p)
			}
		}
		changed, err := store.Forget(loc)
		if err != nil {
			log.ErrorContext(ctx, prefix+"【严重错误】零点重置失败", "err", err)
			return err
		}
		if changed {
			log.InfoContext(ctx, prefix+"【重置】已删除今日重启标记并忘记今天的物理机重启 (-force)，今天可再介入一次。", "mark", store.Mark)
		}
		return nil
	}
	if _, err := os.Lstat(store.Mark); errors.Is(err, os.ErrNotExist) {
		log.DebugContext(ctx, "no mark to delete", "mark", store.Mark)
		return nil
	}
	if err := state.Remove(store.Mark); err != nil {
		log.ErrorContext(ctx, prefix+"【严重错误】零点重置失败，无法删除今日重启标记", "mark", store.Mark, "err", err)
		return err
	}
	log.InfoContext(ctx, prefix+"【重置】新的一天：已删除今日重启标记。", "mark", store.Mark)
	return nil
}

// detectRole is -role, else defaultRole, else router when OpenWrtRelease
// exists and host otherwise.
func detectRole(flagValue string, defaultRole config.Role) (config.Role, error) {
	switch flagValue {
	case "router":
		return config.Router, nil
	case "host":
		return config.Host, nil
	case "":
		if defaultRole != "" {
			return defaultRole, nil
		}
		if _, err := os.Stat(OpenWrtRelease); err == nil {
			return config.Router, nil
		}
		return config.Host, nil
	}
	return "", cli.Usagef("-role %q: want router or host", flagValue)
}
