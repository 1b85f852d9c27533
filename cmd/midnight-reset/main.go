// Command midnight-reset starts a new rescue day; cron runs it at 00:00 on
// both sides (SPEC §5, §6). On the router it sets the reboot count to 0 and
// deletes the cooling deadline and the SOS signal; on the host it deletes
// the "rebooted today" mark. The role is detected from /etc/openwrt_release
// and can be forced with -role.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/pve-op/network-rescue/internal/cli"
	"github.com/pve-op/network-rescue/internal/config"
	"github.com/pve-op/network-rescue/internal/ladder"
	"github.com/pve-op/network-rescue/internal/rescue"
	"github.com/pve-op/network-rescue/state"
)

// OpenWrtRelease marks a router.
const OpenWrtRelease = "/etc/openwrt_release"

// ActionTime bounds the action of a cron run that midnight-reset waits
// for, on top of its probe: netcheck's ActionTimeout (one L1–L3 command).
const ActionTime = 2 * time.Minute

func main() {
	err := run(context.Background(), os.Args[1:], os.Stdout, os.Stderr)
	if code := cli.ExitCode(err); code != cli.ExitOK {
		fmt.Fprintln(os.Stderr, "midnight-reset:", err)
		os.Exit(code)
	}
}

func run(ctx context.Context, args []string, stdout io.Writer, stderr *os.File) error {
	fs, f := cli.NewFlagSet("midnight-reset", "usage: midnight-reset [flags]\n\nStarts a new rescue day (cron: 0 0 * * *).\n\nflags:\n", stderr)
	roleFlag := fs.String("role", "", "`router` or `host` (default: router if "+OpenWrtRelease+" exists)")
	force := fs.Bool("force", false, "host: also forget today's host reboot, allowing another one today (a person's override)")
	if _, done, err := cli.ParseArgs(fs, f, args, stdout); err != nil || done {
		return err
	}
	role, err := detectRole(*roleFlag)
	if err != nil {
		return err
	}
	cfg, err := cli.LoadConfig(*f, role)
	if err != nil {
		return err
	}
	loc := cli.Zone()
	log, closeLog := cli.Logger(cfg, "midnight-reset", f.Verbose, stderr, loc)
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
		store := ladder.Store{StateDir: cfg.StateDir, RunDir: cfg.RunDir}
		if cfg.DryRun {
			store = store.DryRun()
		}
		changed, err := store.Reset()
		if err != nil {
			log.ErrorContext(ctx, prefix+"【严重错误】零点重置失败", "err", err)
			return fmt.Errorf("reset router state: %w", err)
		}
		if changed {
			log.InfoContext(ctx, prefix+"【重置】新的一天：重启计数清零，冷却与 SOS 已清除。")
		} else {
			log.DebugContext(ctx, "nothing to reset")
		}
		return nil
	}
	store := rescue.Store{Mark: cfg.PVEMark, StateDir: cfg.StateDir}
	if cfg.DryRun {
		store = store.DryRun()
	}
	if *force {
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

func detectRole(flagValue string) (config.Role, error) {
	switch flagValue {
	case "router":
		return config.Router, nil
	case "host":
		return config.Host, nil
	case "":
		if _, err := os.Stat(OpenWrtRelease); err == nil {
			return config.Router, nil
		}
		return config.Host, nil
	}
	return "", cli.Usagef("-role %q: want router or host", flagValue)
}
