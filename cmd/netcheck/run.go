package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net/netip"
	"os"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/pve-op/network-rescue/internal/assist"
	"github.com/pve-op/network-rescue/internal/cli"
	"github.com/pve-op/network-rescue/internal/command"
	"github.com/pve-op/network-rescue/internal/config"
	"github.com/pve-op/network-rescue/internal/health"
	"github.com/pve-op/network-rescue/internal/hook"
	"github.com/pve-op/network-rescue/internal/ladder"
	"github.com/pve-op/network-rescue/internal/logx"
	"github.com/pve-op/network-rescue/internal/midnight"
	"github.com/pve-op/network-rescue/internal/nexthop"
	"github.com/pve-op/network-rescue/internal/probe"
	"github.com/pve-op/network-rescue/internal/report"
	"github.com/pve-op/network-rescue/internal/runenv"
	"github.com/pve-op/network-rescue/state"
)

// ActionTimeout bounds one L1/L2/L3 command: L1 alone sleeps 10 s and a
// network restart on a slow router takes tens of seconds. An assist's
// command has the same bound.
const ActionTimeout = assist.ActionTimeout

// env is the run's environment (cli.Env).
type env = runenv.Env

const usage = `usage: netcheck [flags] [status | plan | report | assist STEP | pause DURATION | resume]

  (no subcommand)  one run, as cron does every minute
  status [-json]   health checklist with a fix for every ✗ (exit 1 if any);
                   -json: the checks and the state as one JSON object
  plan             timeline of a total outage under the current config,
                   and of an ISP outage beyond the next hop (WAN_GATEWAY)
  report           from the log: outages per month, their lengths, what ended them
  assist STEP      run by the host over SSH: dns (DNS_CMD), network (L2_CMD) or
                   reboot (L3_CMD, counted and refused as an L3 would be);
                   prints one result line; exit 0 done, 3 refused, 1 failed,
                   2 usage
  pause DURATION   maintenance mode for DURATION (30m, 2h; at most 7 days):
                   probing and logging go on, no step, no SOS; ends by itself
  resume           end a pause now
  install, uninstall  the router side's installer (netcheck install -h)

flags:
`

// flags is the command line: the common flags and netcheck's own.
type flags struct {
	fs      *flag.FlagSet
	common  *cli.Flags
	crontab *string
	at      *string
	reason  *string
	json    *bool
}

func newFlags(stderr *os.File) flags {
	var w io.Writer = io.Discard
	if stderr != nil {
		w = stderr
	}
	fs, f := cli.NewFlagSet("netcheck", usage, w)
	return flags{fs: fs, common: f,
		crontab: fs.String("crontab", "/etc/crontabs/root", "crontab `file` that status checks"),
		at:      fs.String("at", "", "plan: start the outage at `HH:MM` today instead of now"),
		reason:  fs.String("reason", "", "assist: why the host asks (logged, escaped)"),
		json:    fs.Bool("json", false, "status: the checks and the state as one JSON object"),
	}
}

func run(ctx context.Context, args []string, e env) error {
	args, step := cli.SubArg(args, "assist", func() *flag.FlagSet { return newFlags(nil).fs })
	args, pauseFor := cli.SubArg(args, "pause", func() *flag.FlagSet { return newFlags(nil).fs })
	f := newFlags(e.Stderr)
	sub, done, err := cli.ParseArgs(f.fs, f.common, args, e.Stdout, "status", "plan", "report", "assist", "pause", "resume")
	if err != nil || done {
		return err
	}
	if *f.json && sub != "status" {
		return cli.Usagef("-json is for status only")
	}
	out := health.Output{JSON: *f.json, Side: "router", Now: e.Now()}
	var st assist.Step
	if sub == "assist" {
		if step == "" {
			return cli.Usagef("assist: want a step: dns, network or reboot")
		}
		if st, err = assist.ParseStep(step); err != nil {
			return cli.Usagef("%v", err)
		}
	}
	pauseDur, err := cli.PauseFor(sub, pauseFor)
	if err != nil {
		return err
	}
	cfg, err := cli.LoadConfig(*f.common, config.Router)
	if err != nil && sub == "status" && (out.JSON || !errors.Is(err, os.ErrNotExist)) {
		// A broken file still gets the checklist; a named file that is
		// missing is a typo on the command line: exit 2 (SPEC §15), the
		// message alone, unless a script asked for -json: it reads JSON.
		return health.ConfigFailed(e.Stdout, err, out)
	}
	if err != nil {
		if sub == "" {
			cli.ConfigFailedToSyslog(e.Syslog, "netcheck", e.Now(), err)
		}
		return err
	}
	switch sub {
	case "status":
		return status(ctx, cfg, e, *f.crontab, out)
	case "report":
		return report.WriteFile(e.Stdout, cfg.LogFile, false)
	case "plan":
		start, err := ladder.ParseAt(*f.at, e.Now().In(cli.Zone()))
		if err != nil {
			return cli.Usagef("%v", err)
		}
		return plan(cfg, e, start)
	case "assist":
		return assistRun(ctx, cfg, st, *f.reason, f.common.Verbose, e)
	case "pause", "resume":
		loc := cli.Zone()
		log, closeLog := cli.Logger(cfg, "netcheck", f.common.Verbose, e.Stderr, loc)
		defer closeLog()
		// A dry run pauses its own state, never the real rescue (SPEC §5 rule 5).
		pre := ""
		if cfg.DryRun {
			pre = "【演练】"
		}
		dir := ladder.Store{StateDir: cfg.StateDir}
		if cfg.DryRun {
			dir = dir.DryRun()
		}
		return cli.Held(log, cfg.RunDir, cfg.StateDir, "netcheck.lock", cfg.ProbeTimeout+midnight.ActionTime, e.Stdout, func() error {
			now := e.Now().In(loc) // after the wait for a run under way
			if sub == "resume" {
				return cli.Resume(log, e.Stdout, dir.StateDir, pre, now)
			}
			return cli.Pause(log, e.Stdout, dir.StateDir, pre, now, pauseDur)
		})
	}
	return check(ctx, cfg, f.common.Verbose, e)
}

// exitCode maps a run's error to the exit status: an assist's own
// (done 0, refused 3, failed 1: internal/assist), else cli's.
func exitCode(err error) int {
	var ae *assist.Error
	if errors.As(err, &ae) {
		return ae.ExitCode()
	}
	return cli.ExitCode(err)
}

// check is one cron run (SPEC §5): lock → load → probe → decide → persist → act → log.
// The probe is sent first and answered while the run takes the lock and
// reads its state (a healthy run is mostly waiting for those); it is only
// read after both, so the decision sees the same as in that order. A run
// that finds the lock held drops the answer unread.
func check(ctx context.Context, cfg config.Config, verbose bool, e env) error {
	pctx, cancel := context.WithTimeout(ctx, cfg.ProbeTimeout)
	defer cancel()
	probed := make(chan probe.Result, 1)
	go func() {
		probed <- e.Probe(pctx, probe.Config{Targets: cfg.CheckTargets, TCP: cfg.CheckTCP, Timeout: cfg.ProbeTimeout,
			Privileged: os.Geteuid() == 0})
	}()
	loc := cli.Zone()
	log, closeLog := cli.Logger(cfg, "netcheck", verbose, e.Stderr, loc)
	defer closeLog()

	release, held, err := cli.Lock(log, cfg.RunDir, cfg.StateDir, "netcheck.lock", 0)
	if err != nil {
		log.Error("【严重错误】无法加锁，本次不检测", "err", err)
		return err
	}
	if !held {
		log.Debug("another netcheck run holds the lock; exiting")
		if logx.IsTerminal(e.Stderr) {
			// By hand: say why nothing happened (SPEC §1).
			fmt.Fprintln(e.Stderr, "netcheck: another netcheck run holds the lock (cron's, or an action under way); nothing done")
		}
		return nil
	}
	defer release()

	now := e.Now().In(loc)
	store, st, problems := loadState(ctx, cfg, log, now)

	hopP := startHop(pctx, cfg, e) // the next hop, only if the targets are slow (SPEC §14)
	res := <-probed
	var hop hopResult
	if res.Up {
		hopP.abandon(cancel)
	} else {
		hop = hopP.wait()
		cancel()
	}
	if ctx.Err() != nil {
		// No signal is caught during the probe (a SIGTERM or Ctrl-C ends
		// the process, which has written nothing: SPEC §12); a probe cut
		// short by the caller's context is no outage either: nothing is
		// decided, the next cron run probes again.
		log.Debug("interrupted during the probe; nothing decided", "err", ctx.Err())
		return nil
	}
	log.Debug("probe", "up", res.Up, "summary", res.Summary())
	if !res.Up {
		logHop(log, cfg, hop)
	}

	in := ladder.Input{Now: e.Now().In(loc), Up: res.Up, Detail: res.Summary()}
	in.NextHop, in.NextHopAddr = hop.observation()
	if in.Uptime, err = e.Uptime(); err != nil {
		// Unknown uptime: treat it as "just booted" so that L3 stays locked.
		log.Error("【严重错误】无法读取开机时间，物理重启被安全锁挡住", "err", err)
	}
	if in.BootID, err = e.BootID(); err != nil || in.BootID == "" {
		// The boot last seen, not a new one: /proc failing (the uptime
		// with it) is no reboot, and a false 【启动】 would start the
		// streak over and RECOVERY_STABLE's wait by the wall clock. A
		// real reboot emptied RUN_DIR: no boot was seen.
		if in.BootID = st.Boot; in.BootID == "" {
			in.BootID = ladder.UnknownBoot
		}
	}

	step := ladder.Decide(cfg, st, in)
	if cfg.DryRun && step.Action == ladder.L3 {
		// A dry run reboots nothing: its state is left as the reboot would
		// leave it (a new boot, the streak started over), as plan's is, or
		// every run after L3_THRESHOLD took another L3, one a minute, and
		// the trial showed a ladder no router climbs.
		step.Next.Boot, step.Next.Streak = "", 0
		step.Next.Outage.RebootBoot = "dry-run" // the next run's boot is "another" one
	}
	if st.Boot != in.BootID {
		volatileState(log, cfg.StateDir, cfg.DryRun) // once a boot, with its 【启动】
	}
	if step.Action != ladder.None {
		// Decided to act: from here until the run exits SIGTERM and SIGINT
		// are caught, so the count is persisted and the action runs to
		// completion; the healthy path installs no handler (SPEC §12, §15).
		var stop context.CancelFunc
		ctx, stop = e.Signals.Catch(ctx)
		defer stop()
	}
	// Persist before acting, so that a reboot or crash never loses a count.
	err = store.Save(st, step.Next, len(problems) > 0)
	if makeRoom(log, cfg, err) {
		err = store.Save(st, step.Next, len(problems) > 0)
	}
	var failed error // a persistent write that failed but withheld nothing
	logVolatile(log, cfg, err)
	var perr *ladder.PersistError
	errors.As(err, &perr)
	// An SOS_SYSTEM that could not be removed (chattr +i) stays: no
	// 【SOS 撤回】, which every run then logged.
	stuck := perr != nil && st.SOS && !step.Next.SOS && lost(perr, ladder.SOSFile)
	for _, ev := range step.Events {
		if !stuck || !strings.Contains(ev.Msg, "【SOS 撤回】") {
			log.LogAttrs(ctx, ev.Level, ev.Msg, ev.Attrs...)
		}
	}
	var verr *ladder.VolatileError
	if errors.As(err, &verr) && verr.FallbackErr != nil && (step.Action == ladder.L1 || step.Action == ladder.L2) {
		// The streak is L1's and L2's only record: saved nowhere, the next
		// run would find the same streak and take the same step, every
		// minute, and the ladder would never climb (SPEC §5).
		log.Error("【严重错误】状态无法保存，为防止每次运行重复同一步骤，本次不执行动作", "action", step.Action.String(), "err", verr)
		return fmt.Errorf("save state: %w", verr)
	}
	if perr != nil {
		pre := "" // the run's own lines, beside the decision's (SPEC §5 rule 5)
		if cfg.DryRun {
			pre = "【演练】"
		}
		// Only what needs a lost file on flash is withheld: an L3 whose
		// count was not written would loop for ever, never reaching SOS;
		// L1 and L2 change nothing on flash, and a full flash is no reason
		// to leave the WAN down (SPEC §5, §15).
		if w := withheld(st, step, perr); w != "" {
			files := strings.Join(perr.Files, ",")
			if w == "SOS" {
				log.Error(pre+"【严重错误】状态无法保存，SOS 未能写入，下次运行重试", "action", w, "not_written", files, "err", perr.Err)
				// RUN_DIR was written: its "SOS logged" time would read, at
				// the next run, as an SOS that stood and was cleared (the
				// host's acknowledgement), which starts the ladder over from
				// L1 instead of retrying the SOS.
				// A count the SOS raised, written without the SOS, is put
				// back too: each retry would raise it again, a count of
				// reboots never taken.
				back := step.Next
				back.SOSLogged, back.Count, back.Outage.SOS = st.SOSLogged, st.Count, st.Outage.SOS
				_ = store.Save(step.Next, back, false)
				step.Next.SOS = false
			} else {
				log.Error(pre+"【严重错误】状态无法保存，为防止无限重启，本次不执行动作", "action", w, "not_written", files, "err", perr.Err)
				putBack(log, store, &st, &step.Next, perr, pre, "time="+now.Format(time.RFC3339)+" count="+strconv.Itoa(st.Count)+
					" reason=state not writable ("+files+"): the router cannot count its own reboots")
			}
			// The step is not taken; the hook still hears what was (SPEC
			// §16): the outage's start, which RUN_DIR's record now holds
			// told, an SOS's withdrawal owed, the hand-over's SOS.
			step.Action = ladder.None
		} else if msg := "【严重错误】状态无法保存到 STATE_DIR，L1/L2 照常执行，L3 与 SOS 须先写入"; !stuck || len(perr.Files) > 1 ||
			st.Boot != in.BootID || !st.SOSLogged.IsZero() || !st.Outage.SOS {
			// SOS_SYSTEM alone not removed: said when it first stays, and
			// once a boot, not every minute.
			if stuck && len(perr.Files) == 1 {
				msg = "【严重错误】SOS_SYSTEM 无法删除，SOS 信号仍在：请 chattr -i 后删除它"
			}
			log.Error(pre+msg, "action", step.Action.String(), "not_written", strings.Join(perr.Files, ","), "err", perr.Err)
		}
		// The run acts, then still fails (exit 1): cron mails the full flash.
		failed = fmt.Errorf("save state: %w", perr)
	}
	events := ladder.Transitions(st, in, step)
	if perr != nil && (lost(perr, ladder.OwedFile) && st.Outage.SOS || lost(perr, ladder.SOSFile) && st.SOS) {
		// The SOS's end stays untold on flash (OwedFile, or SOS_SYSTEM
		// not removed): the first run that can write it tells it, once;
		// told now as well, every run on a read-only flash (or with
		// SOS_SYSTEM immutable) told it again.
		told := events[:0]
		for _, ev := range events {
			if ev.Name != "sos-withdrawn" {
				told = append(told, ev)
			}
		}
		events = told
	}
	if step.Action == ladder.None {
		if len(step.Events) == 0 && logx.IsTerminal(e.Stderr) && !verbose {
			// By hand on a terminal, a quiet healthy run still answers.
			fmt.Fprintf(e.Stderr, "netcheck: %s; streak %d, count %d: nothing to do\n", res.Summary(), step.Next.Streak, step.Next.Count)
		}
		fire(ctx, cfg, log, e, events...)
		return failed
	}
	cmdline := map[ladder.Action]string{ladder.L1: cfg.L1Cmd, ladder.L2: cfg.L2Cmd, ladder.L3: cfg.L3Cmd}[step.Action]
	if cfg.DryRun {
		log.Info("【演练】-> 不执行命令", "action", step.Action.String(), "cmd", cmdline)
		return failed
	}
	// The action runs to completion in its own process group: a SIGTERM
	// or Ctrl-C (ctx cancelled) after `ifdown` must not leave the WAN
	// down; only ActionTimeout ends it (SPEC §15).
	wait := func() {}
	if step.Action == ladder.L3 {
		// The reboot ends the run: ON_EVENT_CMD runs beside it, never
		// before it (SPEC §16), and may be cut short by it.
		wait = goFire(ctx, cfg, log, e, events...)
	}
	r := e.Exec(context.WithoutCancel(ctx), cmdline, ActionTimeout)
	logResult(ctx, log, r, "action", step.Action.String())
	if step.Action == ladder.L3 {
		orderFailed(log, store, step.Next, r)
	} else {
		fire(ctx, cfg, log, e, events...)
	}
	wait()
	return failed
}

// orderFailed forgets the reboot a command was to make when the command
// exited by itself with a failure: no reboot came (ladder.OrderFailed). A
// command ended by a signal may be the shutdown under way: kept.
func orderFailed(log *slog.Logger, store ladder.Store, next ladder.State, r command.Result) {
	if r.OK() || r.ExitCode < 0 || next.Outage.RebootBy == "" {
		return
	}
	if err := store.Save(next, ladder.OrderFailed(next), false); err != nil {
		log.Debug("the failed reboot's order stays in net_outage", "err", err)
	}
}

// withheld names the step a Save that could not write all of STATE_DIR
// withholds ("" when none): an L3 whose count, or the cooling it sets, was
// not written, or a new SOS whose flag was not.
func withheld(old ladder.State, step ladder.Step, perr *ladder.PersistError) string {
	switch {
	case step.Action == ladder.L3 && (lost(perr, ladder.CountFile) || lost(perr, ladder.CoolingFile) && !step.Next.Cooling.Equal(old.Cooling)):
		return "L3"
	case step.Next.SOS && !old.SOS && lost(perr, ladder.SOSFile):
		return "SOS"
	}
	return ""
}

// volatileState logs a STATE_DIR on a tmpfs on OpenWrt (as status shows
// it): every reboot forgets the count, and the router reboots at every L3
// without end. Not inlined, to keep the router's netcheck small (SPEC
// §12), as group.end in probe.
//
//go:noinline
func volatileState(log *slog.Logger, dir string, dry bool) {
	if _, ok := health.Volatile(midnight.OpenWrtRelease, dir); !ok {
		msg := "【严重错误】STATE_DIR 在 tmpfs 上，每次重启都会清空：重启计数与冷却随之丢失，路由器会无休止地重启。请把 STATE_DIR 设到闪存上的目录，如 /root (默认)"
		if dry {
			msg = "【演练】" + msg // a dry run's lines, all of them (SPEC §5 rule 5)
		}
		log.Error(msg, "state_dir", dir)
	}
}

// putBack undoes the half of a reboot's record (count, cooling, the
// outage's last action) that a Save wrote before the reboot was withheld
// for the other half: a count raised, or a cooling moved on, without the
// reboot would no longer tell the reboots performed (SPEC §15). A half
// that was not written is on disk as it was. With sos non-empty it raises
// SOS with that content too: a router that cannot count its own reboots
// hands over to the host, whose reboot is counted on the host and comes at
// most once a day (SPEC §6); else the L3 would be withheld every minute,
// never reaching SOS, and nothing would step in. On a full flash the SOS
// goes in empty (ladder.Store), which still calls the host. next becomes
// what is on disk; false when that could not be written. Each line it
// logs is led by pre (【演练】 in a dry run).
func putBack(log *slog.Logger, store ladder.Store, old, next *ladder.State, perr *ladder.PersistError, pre, sos string) bool {
	back := *next
	if !lost(perr, ladder.CountFile) {
		back.Count = old.Count
	}
	if !lost(perr, ladder.CoolingFile) {
		back.Cooling = old.Cooling
	}
	if !lost(perr, ladder.OutageFile) {
		// The outage's last action, and an assist reboot's count among
		// the day's assists.
		back.Outage.LastAction, back.Outage.AssistDay, back.Outage.Assists = old.Outage.LastAction, old.Outage.AssistDay, old.Outage.Assists
		// No reboot ordered: the next boot is none of ours.
		back.Outage.RebootBy, back.Outage.RebootBoot, back.Outage.RebootUp = old.Outage.RebootBy, old.Outage.RebootBoot, old.Outage.RebootUp
	}
	if sos != "" {
		back.SOS, back.SOSContent = true, sos
		// Its withdrawal told in time (ladder.OwedFile: empty, as the SOS
		// goes in on a full STATE_DIR).
		back.Outage.SOS = true
	}
	if err := store.Save(*next, back, false); err != nil {
		log.Error(pre+"【严重错误】状态无法保存：未执行的重启的记录或 SOS 未能写入", "err", err)
		return false
	}
	*next = back
	if sos != "" {
		log.Error(pre+"【SOS】状态无法保存，路由器无法安全地重启自己。生成 SOS 信号，交给 PVE 主机。", "sos", sos)
	}
	return true
}

// makeRoom answers a Save that found STATE_DIR full (ENOSPC, an OpenWrt
// overlay filled by packages or logs): the rotated half of netcheck's own
// log (LOG_FILE.1), when it lies on the same filesystem, goes, so that the
// count of a reboot, or the SOS that calls the host, can be written; a
// full flash must not block the step that would fix the house's internet
// (SPEC §15), and those lines matter less. True when it removed the file:
// the caller saves again. A dry run's trial state is no reason to delete
// the owner's real log (SPEC §5 rule 5).
func makeRoom(log *slog.Logger, cfg config.Config, err error) bool {
	old := logx.Rotated(cfg.LogFile)
	var a, b syscall.Stat_t
	if cfg.DryRun || !errors.Is(err, syscall.ENOSPC) || syscall.Stat(cfg.StateDir, &a) != nil || syscall.Lstat(old, &b) != nil || a.Dev != b.Dev ||
		os.Remove(old) != nil {
		return false
	}
	log.Error("【严重错误】STATE_DIR 已满，已删除旧日志以写入状态", "removed", old, "freed", b.Size)
	return true
}

// lost is perr.Lost(name) for one name, not inlined: cold code (SPEC §12: size).
//
//go:noinline
func lost(perr *ladder.PersistError, name string) bool {
	for _, f := range perr.Files {
		if f == name {
			return true
		}
	}
	return false
}

// logVolatile logs a Save whose volatile record could not go to RUN_DIR.
func logVolatile(log *slog.Logger, cfg config.Config, err error) {
	var verr *ladder.VolatileError
	if !errors.As(err, &verr) {
		return
	}
	if verr.FallbackErr != nil {
		log.Error("【严重错误】RUN_DIR 与 STATE_DIR 都无法写入，连续失败次数未能保存", "run_dir", cfg.RunDir, "err", verr)
		return
	}
	// The count is on disk: act anyway, a full /tmp must not block the
	// reboot that would fix it (SPEC §15).
	log.Error("【严重错误】RUN_DIR 无法写入，连续失败次数改存 STATE_DIR，动作照常执行", "run_dir", cfg.RunDir, "err", verr)
}

// goFire is fire beside a reboot; the returned func waits for it, so that
// when L3_CMD returns (a reboot that signals init, or one that failed)
// the hook's outcome is still logged (SPEC §5 rule 3).
func goFire(ctx context.Context, cfg config.Config, log *slog.Logger, e env, events ...hook.Event) func() {
	done := make(chan struct{})
	go func() {
		defer close(done)
		fire(ctx, cfg, log, e, events...)
	}()
	return func() { <-done }
}

// fire runs ON_EVENT_CMD once for each event (SPEC §16), after the step it
// reports, bounded by hook.Timeout and run to completion even when a
// signal arrives; its outcome is logged as -> [成功] / -> [错误].
func fire(ctx context.Context, cfg config.Config, log *slog.Logger, e env, events ...hook.Event) {
	if cfg.OnEventCmd == "" || cfg.DryRun || e.ExecEnv == nil {
		return
	}
	for _, ev := range events {
		r := e.ExecEnv(context.WithoutCancel(ctx), cfg.OnEventCmd, hook.Timeout, ev.Env())
		logResult(ctx, log, r, "event", ev.Name)
	}
}

// logResult logs a command's outcome as the original did: -> [成功] /
// -> [错误], with what it was and how long it took.
func logResult(ctx context.Context, log *slog.Logger, r command.Result, attrs ...any) {
	level := slog.LevelInfo
	if !r.OK() {
		level = slog.LevelError
	}
	log.Log(ctx, level, "-> "+r.Summary(), append(attrs, "elapsed", r.Elapsed.Round(time.Millisecond))...)
}

// loadState reads the router's state (the dry run's own under DRY_RUN),
// logging each damaged file as 【严重错误】 (SPEC §5 rule 4).
func loadState(ctx context.Context, cfg config.Config, log *slog.Logger, now time.Time) (ladder.Store, ladder.State, []error) {
	// RUN_DIR as the lock resolved it: its private subdirectory when
	// others may write it (RUN_DIR=/tmp, SPEC §15).
	store := ladder.Store{StateDir: cfg.StateDir, RunDir: cli.RunDir(cfg.RunDir)}
	if cfg.DryRun {
		store = store.DryRun()
	}
	st, problems := store.Load(now, cfg.CoolingMax)
	for _, p := range problems {
		logProblem(ctx, log, p)
	}
	return store, st, problems
}

// logProblem reports a state file that could not be read (SPEC §5 rule 4).
func logProblem(ctx context.Context, log *slog.Logger, err error) {
	var ce *state.CorruptError
	if errors.As(err, &ce) && ce.Kind != "" {
		// Not a regular file of ours (SPEC §15): named by its kind, never read.
		log.ErrorContext(ctx, "【严重错误】状态文件损坏，按安全值处理并重写", "file", ce.Path, "kind", ce.Kind, "reason", ce.Reason)
		return
	}
	if errors.As(err, &ce) {
		log.ErrorContext(ctx, "【严重错误】状态文件损坏，按安全值处理并重写", "file", ce.Path, "content", ce.Content, "reason", ce.Reason)
		return
	}
	log.ErrorContext(ctx, "【严重错误】状态文件无法读取，按安全值处理", "err", err)
}

// hopDelay is how long a run waits for the targets before it also asks the
// next hop (SPEC §14): a healthy run, answered within it, sends one echo
// per target and nothing else; a down run asks the next hop in parallel
// with the targets for the rest of the same PROBE_TIMEOUT. 300 ms is the
// probe's own spacing of echo requests: a run not answered by then would
// send a second round of echoes anyway.
func hopDelay(probeTimeout time.Duration) time.Duration {
	return min(300*time.Millisecond, probeTimeout/3)
}

// errNoLookup is the next hop of an environment that cannot find one.
var errNoLookup = errors.New("no next-hop lookup in this environment")

// findHop resolves WAN_GATEWAY to the next hop: the configured address, or
// the kernel's for auto. off is errNoLookup's caller's business: never asked.
func findHop(cfg config.Config, e env) (nexthop.Hop, error) {
	if cfg.WanGateway != config.GatewayAuto {
		ip, err := netip.ParseAddr(cfg.WanGateway)
		if err != nil {
			return nexthop.Hop{}, err
		}
		return nexthop.Hop{Addr: ip, How: nexthop.HowConfig}, nil
	}
	if e.NextHop == nil {
		return nexthop.Hop{}, errNoLookup
	}
	return e.NextHop()
}

// hopResult is what a run learnt of the next hop.
type hopResult struct {
	hop   nexthop.Hop
	err   error // finding it; nil when not asked or found
	asked bool
	res   probe.Result
}

// observation is the result as the ladder takes it.
func (h hopResult) observation() (ladder.Hop, string) {
	switch {
	case !h.asked:
		return ladder.HopUnknown, ""
	case h.res.Up:
		return ladder.HopAnswers, h.hop.Addr.String()
	}
	return ladder.HopSilent, h.hop.Addr.String()
}

// hopProbe asks the next hop in the background of the targets' probe.
type hopProbe struct {
	stop chan struct{} // the targets answered: do not ask
	now  chan struct{} // the targets did not answer: ask at once
	done chan hopResult
}

// startHop starts asking the next hop within ctx's deadline (the run's
// PROBE_TIMEOUT), after hopDelay, unless WAN_GATEWAY=off; nil when off.
func startHop(ctx context.Context, cfg config.Config, e env) *hopProbe {
	if cfg.WanGateway == config.GatewayOff {
		return nil
	}
	p := &hopProbe{stop: make(chan struct{}), now: make(chan struct{}), done: make(chan hopResult, 1)}
	go func() {
		t := time.NewTimer(hopDelay(cfg.ProbeTimeout))
		defer t.Stop()
		select {
		case <-p.stop:
			p.done <- hopResult{}
			return
		case <-ctx.Done():
			p.done <- hopResult{}
			return
		case <-t.C:
		case <-p.now:
		}
		select {
		case <-p.stop: // the targets answered as the timer fired
			p.done <- hopResult{}
			return
		default:
		}
		hop, err := findHop(cfg, e)
		if err != nil {
			p.done <- hopResult{err: err}
			return
		}
		deadline, _ := ctx.Deadline()
		res := e.Probe(ctx, probe.Config{Targets: []string{hop.Addr.String()}, Timeout: time.Until(deadline),
			Privileged: os.Geteuid() == 0})
		p.done <- hopResult{hop: hop, asked: true, res: res}
	}()
	return p
}

// wait asks the next hop now if the timer has not yet fired (the targets
// failed before hopDelay, e.g. "network is unreachable") and returns the
// result once it answered or the budget ended.
func (p *hopProbe) wait() hopResult {
	if p == nil {
		return hopResult{}
	}
	close(p.now)
	return <-p.done
}

// abandon stops a probe that has not started; cancel (the probe's context)
// ends one under way. It waits for the goroutine, which is then quick.
func (p *hopProbe) abandon(cancel context.CancelFunc) {
	if p == nil {
		cancel()
		return
	}
	close(p.stop)
	cancel()
	<-p.done
}

// logHop says, in a verbose run, what the next hop did or why it was not
// asked; the ladder's own lines carry what it decided from it.
func logHop(log *slog.Logger, cfg config.Config, h hopResult) {
	switch {
	case cfg.WanGateway == config.GatewayOff:
		log.Debug("next hop not asked", "wan_gateway", "off")
	case h.err != nil:
		log.Debug("next hop unknown", "wan_gateway", cfg.WanGateway, "err", h.err)
	case h.asked:
		log.Debug("next hop", "hop", h.hop.String(), "answers", h.res.Up, "summary", h.res.Summary())
	}
}
