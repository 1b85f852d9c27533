package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/pve-op/network-rescue/crontab"
	"github.com/pve-op/network-rescue/internal/assist"
	"github.com/pve-op/network-rescue/internal/cli"
	"github.com/pve-op/network-rescue/internal/command"
	"github.com/pve-op/network-rescue/internal/config"
	"github.com/pve-op/network-rescue/internal/health"
	"github.com/pve-op/network-rescue/internal/hook"
	"github.com/pve-op/network-rescue/internal/ladder"
	"github.com/pve-op/network-rescue/internal/logx"
	"github.com/pve-op/network-rescue/internal/midnight"
	"github.com/pve-op/network-rescue/internal/pause"
	"github.com/pve-op/network-rescue/internal/probe"
	"github.com/pve-op/network-rescue/internal/remote"
	"github.com/pve-op/network-rescue/internal/report"
	"github.com/pve-op/network-rescue/internal/rescue"
	"github.com/pve-op/network-rescue/internal/runenv"
	"github.com/pve-op/network-rescue/internal/sysinfo"
	"github.com/pve-op/network-rescue/state"
)

// CorosyncConfs: either exists on a node that is part of a Proxmox
// cluster. The first is corosync's own (pvecm create and add write it;
// corosync reads it, and counts this node's votes from it while pmxcfs is
// down); the second is pmxcfs's (/etc/pve is a FUSE mount: empty while
// pve-cluster is down, ENOTCONN when it crashed). Only the first can make
// the answer unknown: without it the node is no member, whatever /etc/pve
// says, so a single node whose pmxcfs crashed still reboots.
var CorosyncConfs = []string{"/etc/corosync/corosync.conf", "/etc/pve/corosync.conf"}

// env is the run's environment (cli.Env).
type env = runenv.Env

const usage = `usage: hostcheck [flags] [boot | status | plan | report | pin | drill | pause DURATION | resume]

  (no subcommand)  one run, as cron does every 5 minutes
  boot             @reboot: log 【启动】 and confirm a reboot we asked for
  status [-json]   health checklist with a fix for every ✗ (exit 1 if any);
                   -json: the checks and the state as one JSON object
  plan             timeline of a total outage: the router's ladder, then the host
  report           from the log: outages per month, host reboots, VM restarts, misfires
  pin [-yes]       show the router's host key and pin it into KNOWN_HOSTS
  drill [-live -yes]  the closed-loop drill: SOS on the router, the decision
                   in dry run, the SSH acknowledgement, then everything put back
  pause DURATION   maintenance mode for DURATION (30m, 2h; at most 7 days):
                   hostcheck observes and logs but does nothing; ends by itself
  resume           end a pause now
  install, uninstall  the installer, either side (hostcheck install -h)

flags:
`

// flags is hostcheck's command line: the common flags and its own.
type flags struct {
	fs                      *flag.FlagSet
	common                  *cli.Flags
	yes, live               *bool
	crontab, at, routerConf *string
	json                    *bool
}

func newFlags(stderr io.Writer) flags {
	fs, f := cli.NewFlagSet("hostcheck", usage, stderr)
	return flags{fs: fs, common: f,
		yes:        fs.Bool("yes", false, "pin/drill: do not ask for confirmation"),
		live:       fs.Bool("live", false, "drill: really reboot (with -yes)"),
		crontab:    fs.String("crontab", "/var/spool/cron/crontabs/root", "crontab `file` that status checks"),
		at:         fs.String("at", "", "plan: start the outage at `HH:MM` today instead of now"),
		routerConf: fs.String("router-config", "", "plan: the router's netrescue.conf (default: router defaults)"),
		json:       fs.Bool("json", false, "status: the checks and the state as one JSON object"),
	}
}

func run(ctx context.Context, args []string, e env) error {
	args, pauseFor := cli.SubArg(args, "pause", func() *flag.FlagSet { return newFlags(io.Discard).fs })
	fl := newFlags(e.Stderr)
	fs, f, yes, live, crontabPath, at, routerConf, asJSON := fl.fs, fl.common, fl.yes, fl.live, fl.crontab, fl.at, fl.routerConf, fl.json
	sub, done, err := cli.ParseArgs(fs, f, args, e.Stdout, "boot", "status", "plan", "report", "pin", "drill", "pause", "resume")
	if err != nil || done {
		return err
	}
	if *asJSON && sub != "status" {
		return cli.Usagef("-json is for status only")
	}
	out := health.Output{JSON: *asJSON, Side: "host", Now: e.Now()}
	pauseDur, err := cli.PauseFor(sub, pauseFor)
	if err != nil {
		return err
	}
	if *live && !*yes {
		return cli.Usagef("drill -live really reboots this host: add -yes to confirm")
	}
	cfg, err := cli.LoadConfig(*f, config.Host)
	if err != nil && sub == "status" && (out.JSON || !errors.Is(err, os.ErrNotExist)) {
		// A broken file still gets the checklist; a named file that is
		// missing is a typo on the command line: exit 2 (SPEC §15), the
		// message alone, unless a script asked for -json: it reads JSON.
		return health.ConfigFailed(e.Stdout, err, out)
	}
	if err != nil {
		if sub == "" {
			cli.ConfigFailedToSyslog(e.Syslog, "hostcheck", e.Now(), err)
		}
		return err
	}
	crontabSet := false
	fs.Visit(func(fl *flag.Flag) { crontabSet = crontabSet || fl.Name == "crontab" })
	h := &host{cfg: cfg, e: e, verbose: f.Verbose, loc: cli.Zone(), corosync: CorosyncConfs,
		vzdumpLock: sysinfo.VzdumpLock, procRoot: "/proc", cronD: crontab.PackageFile, pkgBin: "/usr/bin/hostcheck", crontabSet: crontabSet}
	switch sub {
	case "status":
		return h.status(ctx, *crontabPath, out)
	case "plan":
		rcfg := config.Default(config.Router)
		if *routerConf != "" {
			if rcfg, err = config.Load(*routerConf, config.Router, config.Options{Euid: -1, Required: "-router-config"}); err != nil {
				return err
			}
		}
		start, err := ladder.ParseAt(*at, h.e.Now().In(h.loc))
		if err != nil {
			return cli.Usagef("%v", err)
		}
		return h.plan(rcfg, start)
	case "pin":
		return h.pin(ctx, *yes)
	case "report":
		return report.WriteFile(e.Stdout, cfg.LogFile, true)
	}
	var closeLog func() error
	h.log, closeLog = cli.Logger(cfg, "hostcheck", f.Verbose, e.Stderr, h.loc)
	defer closeLog()
	switch sub {
	case "boot", "drill":
		// Under the cron run's lock, waiting for one under way: the drill's
		// SOS on the router is seen by no cron run of this host (one took
		// it for real and rebooted the host), and boot's rewrite of the
		// mark races no run's save.
		if *live && cfg.DryRun {
			return cli.Usagef("drill -live acts for real: not in a dry run (-dry-run or DRY_RUN=1)")
		}
		return h.held(sub != "boot", func() error {
			if sub == "boot" {
				return h.boot(ctx)
			}
			return h.drill(ctx, *live)
		})
	case "pause", "resume":
		// A dry run pauses its own state, never the real rescue (SPEC §5 rule 5).
		dir, pre := h.store().StateDir, ""
		if cfg.DryRun {
			pre = "【演练】"
		}
		return h.held(true, func() error {
			if sub == "resume" {
				return cli.Resume(h.log, e.Stdout, dir, pre, time.Time{})
			}
			return cli.Pause(h.log, e.Stdout, dir, pre, h.e.Now().In(h.loc), pauseDur)
		})
	}
	return h.check(ctx)
}

// held runs fn under the cron run's lock, waiting for a run under way
// (up to its probe, its SSH call and an action). A person (said) is told
// that it waits: a drill or a pause otherwise sat silent for up to a few
// minutes; boot, run by cron, is not.
func (h *host) held(said bool, fn func() error) error {
	var say io.Writer
	if said {
		say = h.e.Stdout
	}
	return cli.Held(h.log, h.cfg.RunDir, h.cfg.StateDir, "hostcheck.lock", h.cfg.ProbeTimeout+h.cfg.SSHTimeout+midnight.ActionTime, say, fn)
}

// host carries one invocation's configuration, environment and logger.
type host struct {
	cfg     config.Config
	e       env
	verbose bool
	loc     *time.Location
	log     *slog.Logger
	trace   func(stage, result string) // drill: show each stage of the decision
	// corosync is CorosyncConfs; a test points it elsewhere, since /etc/pve
	// cannot be faked on a machine that is not a Proxmox node.
	corosync []string
	// vzdumpLock (sysinfo.VzdumpLock) and procRoot ("/proc") are where the
	// backup guard looks; tests point them at a temp lock and a fake /proc.
	vzdumpLock, procRoot string
	// cronD is crontab.PackageFile: a host installed from the package has
	// its cron lines there, and status checks them unless -crontab says
	// otherwise (crontabSet), or the package's binary pkgBin, which they
	// run, is gone (packageCron).
	cronD, pkgBin string
	crontabSet    bool
	// failed: a rescue step failed in this run (a command returned [错误], a
	// reboot that did not happen, a VM that would not stop or start):
	// HEARTBEAT_URL's /fail.
	failed bool
	// saved is the state carryOut saved for its step (what the next run
	// reads), nil outside it: a VM start that fails says the next step
	// from it (vmThen).
	saved *rescue.State
	// uncounted is the action tally before recordAction counted this
	// run's action (nil when it counted none): a host reboot cancelled
	// before REBOOT_CMD ran puts it back, since no reboot was started.
	uncounted *actionTally
}

func (h *host) store() rescue.Store {
	s := h.realStore()
	if h.cfg.DryRun {
		s = s.DryRun()
	}
	return s
}

// realStore is the cron runs' state, also in a dry run (drill reads it).
func (h *host) realStore() rescue.Store {
	return rescue.Store{Mark: h.cfg.PVEMark, StateDir: h.cfg.StateDir, Now: h.e.Now, VMStartMax: h.cfg.VMStartMax, RunDir: cli.RunDir(h.cfg.RunDir)}
}

// remote is the SSH client for the router (SPEC §3 host keys).
func (h *host) remote() remote.Config {
	keys := []string{h.cfg.SSHKey}
	if rsa := filepath.Join(filepath.Dir(h.cfg.SSHKey), "id_rsa"); rsa != h.cfg.SSHKey {
		keys = append(keys, rsa)
	}
	return remote.Config{Addr: net.JoinHostPort(h.cfg.OpIP, fmt.Sprint(h.cfg.OpSSHPort)), User: h.cfg.OpSSHUser,
		KeyFiles: keys, KnownHosts: h.cfg.KnownHosts, Timeout: h.cfg.SSHTimeout, PinCmd: h.pinCmd()}
}

// pinCmd is the command that pins the router's key into this config's
// KNOWN_HOSTS: `hostcheck pin`, with the run's -config when it is not the
// default file (a bare `hostcheck pin` would pin into the default's),
// made absolute: the fix is run from wherever the person stands.
func (h *host) pinCmd() string {
	p := h.cfg.Path
	if p == "" || p == config.DefaultPath {
		return "hostcheck pin"
	}
	if abs, err := filepath.Abs(p); err == nil {
		p = abs
	}
	return "hostcheck -config " + remote.ShellQuote(p) + " pin"
}

// check is one cron run (SPEC §6 steps 1–6).
func (h *host) check(ctx context.Context) error {
	release, held, err := cli.Lock(h.log, h.cfg.RunDir, h.cfg.StateDir, "hostcheck.lock", 0)
	if err != nil {
		h.log.Error("【严重错误】无法加锁，本次不检测", "err", err)
		return err
	}
	if !held {
		h.log.Debug("another hostcheck run holds the lock; exiting")
		if logx.IsTerminal(h.e.Stderr) {
			// By hand: say why nothing happened (SPEC §1).
			fmt.Fprintln(h.e.Stderr, "hostcheck: another hostcheck run holds the lock (cron's, or a rescue under way); nothing done")
		}
		return nil
	}
	defer release()

	store := h.store()
	st, problems := store.Load(h.loc)
	for _, p := range problems {
		h.logProblem(p)
	}
	if len(problems) > 0 {
		// Rewrite damaged files with the safe values just read, so that the
		// damage is reported once, not every five minutes; a damaged pause
		// is no pause (SPEC §16) and goes.
		if err := store.Repair(st, problems); err != nil {
			h.log.Error("【严重错误】状态文件无法重写", "err", err)
		}
		if st.PauseUntil.IsZero() {
			if err := pause.Clear(store.StateDir); err != nil {
				h.log.Error("【严重错误】状态文件无法重写", "err", err)
			}
		}
	}
	step, rs, obs := h.decide(ctx, st, h.observeBasics())
	if ctx.Err() != nil {
		// No signal is caught while observing (a SIGTERM or Ctrl-C ends the
		// process before it writes anything: SPEC §12); an observation cut
		// short by the caller's context is no outage either: nothing is
		// decided.
		h.log.Debug("interrupted while observing; nothing decided", "err", ctx.Err())
		return nil
	}
	defer h.publish(ctx, step, obs, rs) // METRICS_FILE, HEARTBEAT_URL (SPEC §16), after the notifications
	defer h.flushNotifications(ctx, obs)
	if step.Silent {
		h.log.Debug("today's rescue is spent (mark dated today)", "mark", store.Mark)
		if logx.IsTerminal(h.e.Stderr) && !h.verbose {
			fmt.Fprintf(h.e.Stderr, "hostcheck: the host already stepped in today (%s): nothing to do until midnight\n", store.Mark)
		}
		return nil
	}
	if step.Action != rescue.None {
		// Decided to act: from here until the run exits SIGTERM and SIGINT
		// are caught, so qm and the reboot commands run to completion and
		// a SIGTERM ends the wait for our own reboot quietly (SPEC §6 step
		// 6, §15); the healthy path installs no handler (SPEC §12).
		var stop context.CancelFunc
		ctx, stop = h.e.Signals.Catch(ctx)
		defer stop()
	}
	// Persist before acting: the mark of a host reboot is on disk before
	// anything can interrupt the reboot (SPEC §6 step 6).
	var failed error
	if err := store.Save(st, step.Next); err != nil {
		if step.Action == rescue.None {
			// Nothing to do, nothing recorded: what this run found (the
			// net back, an outage begun) is still news to the next run,
			// which says it once it can record it. Said now as well, every
			// run said 【恢复】 again, and report counted each as an outage.
			h.log.Error("【严重错误】状态无法保存：本次的检测结果待可写入时再记录", "err", err)
			return fmt.Errorf("save state: %w", err)
		}
		h.logEvents(step)
		if step.Action != rescue.HostReboot || !markWritten(store, step.Next.Mark, h.loc) {
			h.log.Error("【严重错误】状态无法保存，为防止重复重启，本次不执行动作", "action", step.Action.String(), "err", err)
			return fmt.Errorf("save state: %w", err)
		}
		// Today's mark, the guard of SPEC §6 (one host reboot a day), is
		// on disk; only hostcheck.state was not written (a full or failing
		// STATE_DIR). Not acting would leave that mark standing with no
		// reboot: every run until midnight silent, the day's rescue gone.
		h.log.Error("【严重错误】状态记录无法保存；今日重启标记已写入，照常重启 PVE 物理机", "action", step.Action.String(), "err", err)
		failed = fmt.Errorf("save state: %w", err)
	} else {
		h.logEvents(step)
	}
	if len(step.Events) == 0 && logx.IsTerminal(h.e.Stderr) && !h.verbose {
		// By hand on a terminal, a quiet healthy run still answers.
		fmt.Fprintf(h.e.Stderr, "hostcheck: %s: nothing to do\n", obs.NetDetail)
	}
	return errors.Join(h.carryOut(ctx, store, st, obs, step, rs), failed)
}

// markWritten reports whether the mark at store.Mark is m: Save writes it
// first, and a failure after it left it on disk.
func markWritten(store rescue.Store, m state.Mark, loc *time.Location) bool {
	got, ok, err := state.ReadMark(store.Mark, loc)
	return ok && err == nil && got.Format() == m.Format()
}

// carryOut is what follows a saved step, in a cron run and in
// `hostcheck drill -live` alike: the notification, the action's count
// (METRICS_FILE), the action itself and ON_EVENT_CMD for its transitions;
// a cold restart whose qm stop failed is recorded so that the next run
// escalates (SPEC §13 rule 5).
func (h *host) carryOut(ctx context.Context, store rescue.Store, st rescue.State, obs rescue.Obs, step rescue.Step, rs remote.RouterState) error {
	h.saved = &step.Next
	defer func() { h.saved = nil }()
	switch step.Action {
	case rescue.Assist, rescue.VMStart, rescue.VMResume, rescue.VMRestart: // told once the router, or qm, answered
	default:
		h.notifyStep(st, obs, step)
	}
	h.recordAction(step, obs, rs) // counted before it runs (METRICS_FILE)
	events := rescue.Transitions(st, obs, step)
	switch step.Action {
	case rescue.VMRestart:
		if !rs.SOS && !h.cfg.DryRun && obs.RouterKnown && obs.Router.Err == "" {
			// The router answers SSH (a LAN fault, an SOS cleared at
			// midnight): the cold restart is the host's rescue all the
			// same, told as vmRestart tells it for SOS (net_rescued_by=vm),
			// or the router's 【启动】 named its boot reboot=other, none of
			// ours. A failure is no reason to hold the restart.
			actx, cancel := context.WithTimeout(ctx, h.cfg.SSHTimeout)
			if err := h.remote().AckSOS(actx, h.cfg.OpStateDir, false); err != nil {
				h.log.Warn("【警告】未能告知 OpenWrt 这次冷重启来自 PVE (net_rescued_by)，仍然冷重启虚拟机。", "reason", shown(err.Error(), maxShownErr))
			}
			cancel()
		}
		switch stopped, refused := h.vmRestart(ctx, rs, func() { h.notifyStep(st, obs, step) }); {
		case h.cfg.DryRun || stopped:
		case refused:
			// A lock refused qm stop before it touched the VM: no cold
			// restart was made today, and the day's is given back (SPEC
			// §13 rule 4: under a lock, 【推迟】). The run after the lock
			// takes it, not the host's reboot.
			// The router's silence goes on from when it began: the clock
			// the restart started for the VM it would have booted is
			// taken back with it (a lock seen by the next run stops it
			// anyway).
			next := step.Next
			next.VMRestartDate = st.VMRestartDate
			if !st.RouterDownSince.IsZero() && !st.RouterDownSince.After(step.Next.RouterDownSince) {
				next.RouterDownSince, next.RouterErr = st.RouterDownSince, st.RouterErr
			}
			// A LAN fault's reboot step (the VM's cold restart, recorded
			// in lan_steps before qm stop) goes back with it: kept, the
			// run after the lock found every router-side step tried and
			// rebooted the host for a cold restart never made.
			if done, ok := strings.CutSuffix(step.Next.LANSteps, string(assist.Reboot)); ok && step.Next.LANSteps != st.LANSteps {
				next.LANSteps = strings.TrimSuffix(done, ",")
			}
			if err := store.Save(step.Next, next); err != nil {
				h.log.Error("【严重错误】状态无法保存：被锁拒绝的这次冷重启仍计入今天", "vm_id", h.cfg.VMID, "err", err)
				break
			}
			events = slices.DeleteFunc(events, func(ev hook.Event) bool { return ev.Name == step.Action.String() })
		default:
			// The day's cold restart changed nothing (qm stop failed):
			// recorded, so that the next run escalates (SPEC §13 rule 5).
			if err := store.VMStopFailed(h.loc, step.Next.VMRestartDate); err != nil {
				h.log.Error("【严重错误】状态无法保存", "err", err)
			}
		}
	case rescue.VMStart, rescue.VMResume:
		run := h.vmStart
		if step.Action == rescue.VMResume {
			run = h.vmResume
		}
		if run(ctx, store, obs, func() { h.notifyStep(st, obs, step) }) {
			// Refused before qm tried the VM: given back, no start for
			// ON_EVENT_CMD either.
			events = slices.DeleteFunc(events, func(ev hook.Event) bool { return ev.Name == step.Action.String() })
		}
	case rescue.Assist:
		res := h.assist(ctx, step.Assist, fmt.Sprintf("LAN fault %q seen by %d host runs; %s; dns %s",
			step.Next.LANFault, step.Next.LANSeen, obs.NetDetail, obs.DNSDetail))
		if h.refused(store, step.Next, step.Assist, res, obs.Now) || notAsked(res) {
			// Nothing was asked (netcheck not on the router, the request
			// not sent, its config refused it), or the router refused it
			// for now (its pause, a cooling, just booted, busy) and it is
			// asked again at the next run: no "assist" for the hook or the
			// owner, each run told one for a step that never ran (all
			// through a router's pause, every five minutes). The 【LAN】
			// lines say it; HEARTBEAT_URL's /fail those never asked.
			told := events[:0]
			for _, ev := range events {
				if ev.Name != "assist" {
					told = append(told, ev)
				}
			}
			events = told
			break
		}
		h.notifyStep(st, obs, step)
	case rescue.HostReboot:
		// The reboot ends the run: ON_EVENT_CMD runs beside it, never
		// before it (SPEC §16).
		done := make(chan struct{})
		go func() { defer close(done); h.fire(ctx, events...) }()
		err := h.reboot(ctx, store, step.Next.Mark, st.LastReboot, syncFor(obs))
		<-done
		return err
	}
	h.fire(ctx, events...)
	return nil
}

// fire runs ON_EVENT_CMD once for each event (SPEC §16), after the step it
// reports, each bounded by hook.Timeout and run to completion even when a
// signal arrives; its outcome is logged as -> [成功] / -> [错误].
func (h *host) fire(ctx context.Context, events ...hook.Event) {
	if h.cfg.OnEventCmd == "" || h.cfg.DryRun || h.e.ExecEnv == nil {
		return
	}
	for _, ev := range events {
		// The owner's hook, not a rescue step: its failure is logged, but
		// is no reason for HEARTBEAT_URL's /fail (h.failed).
		h.logResult(h.e.ExecEnv(context.WithoutCancel(ctx), h.cfg.OnEventCmd, hook.Timeout, ev.Env()), "event", ev.Name)
	}
}

func (h *host) observeBasics() rescue.Obs {
	obs := rescue.Obs{Now: h.e.Now().In(h.loc)}
	var err error
	if obs.Uptime, err = h.e.Uptime(); err != nil {
		obs.UptimeUnknown = true
		h.log.Error("【严重错误】无法读取开机时间，物理机动作被推迟", "err", err)
	}
	if obs.BootID, err = h.e.BootID(); err != nil {
		obs.BootID = "unknown"
	}
	return obs
}

// decide runs the staged decision, observing what it asks for.
func (h *host) decide(ctx context.Context, st rescue.State, obs rescue.Obs) (rescue.Step, remote.RouterState, rescue.Obs) {
	var rs remote.RouterState
	for {
		step := rescue.Decide(h.cfg, st, obs)
		if step.Need != rescue.NeedNothing && ctx.Err() != nil {
			// Interrupted while observing: observe no more (check decides nothing).
			return step, rs, obs
		}
		switch step.Need {
		case rescue.NeedNet:
			h.observeNet(ctx, &obs)
			h.traceStage("probe the internet", obs.NetDetail)
		case rescue.NeedRouter:
			rctx, cancel := context.WithTimeout(ctx, h.cfg.SSHTimeout)
			var err error
			rs, err = h.remote().ReadRouterState(rctx, h.cfg.OpStateDir)
			cancel()
			obs.RouterKnown = true
			// Router text is untrusted: routerObs escapes it (SPEC §15).
			if err != nil {
				obs.Router = rescue.Router{Err: shown(err.Error(), maxShownErr), ErrKind: remote.KindOf(err).String()}
				var ce *state.CorruptError
				if errors.As(err, &ce) {
					// A FIFO or a directory as SSH_KEY or KNOWN_HOSTS (SPEC
					// §15): the user must fix it, the run goes on without the
					// router. The decision says it, under its silence rules
					// (the kind names the file and its kind: a spent day
					// says it when it begins or changes).
					which := "ssh_key"
					if ce.Path == h.cfg.KnownHosts {
						which = "known_hosts"
					}
					obs.Router.SSHFile, obs.Router.SSHFileKind = ce.Path, ce.Kind
					obs.Router.ErrKind = which + "_" + ce.Kind
				}
				h.traceStage("read the router over SSH", obs.Router.Err)
			} else {
				obs.Router = routerObs(rs)
				routerDamage(&obs.Router, rs, h.cfg.OpStateDir)
				h.traceStage("read the router over SSH", fmt.Sprintf("SOS=%v count=%s", rs.SOS, countShown(rs, obs.Router.Count)))
			}
		case rescue.NeedLAN:
			res := h.probe(ctx, []string{h.cfg.OpIP}, nil)
			obs.LANKnown, obs.LANUp = true, res.Up
			h.traceStage("ping the router on the LAN", res.Summary())
		case rescue.NeedVM:
			obs.VMKnown, obs.VM = true, h.vmStatus(ctx)
			h.traceStage("qm status "+h.cfg.VMID, fmt.Sprintf("%+v", obs.VM))
		case rescue.NeedVMConfig:
			obs.VMConfigKnown, obs.VMConfig = true, h.vmConfig(ctx)
			h.traceStage("qm config "+h.cfg.VMID, fmt.Sprintf("%+v", obs.VMConfig))
		case rescue.NeedAgent:
			obs.AgentKnown = true
			obs.Agent, obs.AgentErr = h.agentPing(ctx)
			h.traceStage("qm guest cmd "+h.cfg.VMID+" ping", obs.Agent.String())
		case rescue.NeedSystem:
			obs.SystemKnown, obs.SystemState = true, h.systemState(ctx)
			h.traceStage("systemctl is-system-running (PVE still booting?)", obs.SystemState)
		case rescue.NeedGuards:
			h.guards(ctx, &obs)
			h.traceStage("guards (vzdump, quorum)", fmt.Sprintf("%d reason(s) to wait %v, %d more for the host's reboot %v", len(obs.Deferred), obs.Deferred, len(obs.Quorum), obs.Quorum))
		default:
			return step, rs, obs
		}
	}
}

// dnsCheck starts DNS_CHECK against the router's resolver (OP_IP:53)
// within PROBE_TIMEOUT and returns the wait for its answer; asked is false
// when DNS_CHECK is empty (or the environment resolves nothing).
// observeNet is the run's look at the internet: the IP probe and
// DNS_CHECK against the router's resolver, in parallel, within one
// PROBE_TIMEOUT (SPEC §14). Every look goes through it, so that a DNS
// fault reads as the internet down (rescue.Obs.Up) wherever it is used.
func (h *host) observeNet(ctx context.Context, obs *rescue.Obs) {
	dns := h.dnsCheck(ctx)
	res := h.probe(ctx, h.cfg.CheckTargets, h.cfg.CheckTCP)
	obs.NetKnown, obs.NetUp, obs.NetDetail = true, res.Up, res.Summary()
	if asked, d := dns(); asked {
		obs.DNSKnown, obs.DNSOK, obs.DNSDetail = true, d == nil, "ok"
		if d != nil {
			obs.DNSDetail = d.Error()
		}
	}
	h.log.Debug("probe", "up", res.Up, "summary", res.Summary(), "dns", obs.DNSDetail)
}

func (h *host) dnsCheck(ctx context.Context) func() (asked bool, err error) {
	if h.cfg.DNSCheck == "" || h.e.Resolve == nil {
		return func() (bool, error) { return false, nil }
	}
	dctx, cancel := context.WithTimeout(ctx, h.cfg.ProbeTimeout)
	done := make(chan error, 1)
	go func() { done <- h.e.Resolve(dctx, net.JoinHostPort(h.cfg.OpIP, "53"), h.cfg.DNSCheck) }()
	return func() (bool, error) {
		defer cancel()
		return true, <-done
	}
}

func (h *host) traceStage(stage, result string) {
	if h.trace != nil {
		h.trace(stage, result)
	}
}

func (h *host) probe(ctx context.Context, targets, tcp []string) probe.Result {
	pctx, cancel := context.WithTimeout(ctx, h.cfg.ProbeTimeout)
	defer cancel()
	return h.e.Probe(pctx, probe.Config{Targets: targets, TCP: tcp, Timeout: h.cfg.ProbeTimeout, Privileged: os.Geteuid() == 0})
}

// guards finds reasons a disruptive step must wait (SPEC §6 step 4), in
// o: Deferred holds every step (a backup runs or whether one does is
// unknown, Backup says so; the cluster has no quorum now, or whether it
// has cannot be told: qm start refuses without it); Quorum holds only the
// host's reboot (it would break the cluster's quorum). Restarting one of
// this node's VMs does not change its votes: held by the quorum, a hung
// router VM on a two-node cluster was never restarted. NoQuorum is the
// reason when pvecm says the cluster has no quorum now; QuorumUnknown is
// set when pvecm failed or could not be read, or corosync.conf not stat'ed.
func (h *host) guards(ctx context.Context, o *rescue.Obs) {
	var out []string
	// A backup holds the global vzdump lock, or runs as a process named
	// vzdump or a `task UPID:…:vzdump:` worker (SPEC §15).
	switch held, err := sysinfo.LockHeld(h.vzdumpLock); {
	case err != nil:
		out = append(out, fmt.Sprintf("无法确认是否有备份任务在运行 (%v)。", err))
	case held:
		out = append(out, fmt.Sprintf("备份任务正在运行 (%s 已被锁定)，等它结束再说。", h.vzdumpLock))
	}
	if pids := sysinfo.FindVzdumpWorker(h.procRoot); len(pids) > 0 {
		out = append(out, fmt.Sprintf("备份任务 vzdump 正在运行 (pid %s)，等它结束再说。", strings.Join(pids, ",")))
	}
	o.Deferred, o.Backup = out, len(out) > 0 // a backup runs, or whether one does is unknown
	o.Quorum, o.NoQuorum, o.QuorumUnknown = nil, "", false
	h.clusterQuorum(ctx, o)
	o.GuardsKnown = true
}

// clusterQuorum is guards' part for a host in a cluster: `pvecm status`.
func (h *host) clusterQuorum(ctx context.Context, o *rescue.Obs) {
	conf, err := clustered(h.corosync)
	switch {
	case err != nil:
		// As unknown as with pvecm failing (QuorumUnknown).
		o.Deferred, o.QuorumUnknown = append(o.Deferred, fmt.Sprintf("无法确认本机是否属于集群 (%v)。", err)), true
		return
	case conf == "":
		return
	}
	// A quorum that cannot be read holds every step, the VM's too
	// (Deferred): pvecm failing is most often corosync down, which means
	// no quorum, and qm start refuses then while qm stop does not (the
	// !quorate case below): a cold restart would leave the router VM
	// stopped.
	r := h.e.Exec(ctx, h.cfg.Pvecm+" status", 15*time.Second)
	if !r.OK() {
		o.Deferred, o.QuorumUnknown = append(o.Deferred, "无法确认集群法定票数 (pvecm status "+r.Summary()+")。"), true
		return
	}
	// The nodes of the nodelist the node boots with: one is a one-node
	// cluster, which pvecm's numbers cannot tell from a two-node cluster
	// given `pvecm expected 1`. Unread: 0, the quorum's arithmetic alone
	// (the safe side).
	nodes := 0
	// Read as the config is (SPEC §15): no blocking on a FIFO, a regular
	// file only, bounded.
	if text, err := state.ReadBoundedFollow(conf, corosyncConfMax); err == nil {
		nodes, _ = rescue.CorosyncNodes(string(text))
	}
	ok, quorate, detail, err := rescue.QuorumAfterReboot(r.Stdout, nodes)
	switch {
	case err != nil:
		o.Deferred, o.QuorumUnknown = append(o.Deferred, "无法确认集群法定票数: "+err.Error()), true
	case !quorate:
		// pmxcfs is read-only: qm start refuses (qemu-server API2/Qemu.pm
		// vm_start: check_cfs_quorum), while qm stop does not ask. A cold
		// restart would stop the router VM and leave it stopped, and each
		// start failing would spend VM_START_MAX; held, it comes once the
		// quorum is back.
		o.Deferred, o.NoQuorum = append(o.Deferred, detail+"。"), detail
	case !ok:
		o.Quorum = append(o.Quorum, detail+"。")
	}
}

// clustered returns the first of confs (CorosyncConfs) that exists, ""
// when none does. The first decides: an error other than "not there"
// leaves the answer unknown, and the guard defers. The others only add a
// "yes".
func clustered(confs []string) (string, error) {
	for i, c := range confs {
		_, err := os.Stat(c)
		switch {
		case err == nil:
			return c, nil
		case i == 0 && !errors.Is(err, fs.ErrNotExist):
			return "", err
		}
	}
	return "", nil
}

// corosyncConfMax bounds the read of corosync.conf: PVE's is well under
// 4 KiB for a dozen nodes.
const corosyncConfMax = 64 << 10

// result logs a rescue command's outcome as the original did: -> [成功] /
// -> [错误]; a failure is reported to HEARTBEAT_URL as /fail (h.failed).
func (h *host) result(r command.Result, attrs ...any) {
	if !r.OK() {
		h.failed = true
	}
	h.logResult(r, attrs...)
}

// logResult logs a command's outcome: -> [成功] / -> [错误].
func (h *host) logResult(r command.Result, attrs ...any) {
	level := slog.LevelInfo
	if !r.OK() {
		level = slog.LevelError
	}
	h.log.Log(context.Background(), level, "-> "+r.Summary(),
		append([]any{"cmd", r.Cmd, "elapsed", r.Elapsed.Round(time.Millisecond)}, attrs...)...)
}

func (h *host) logEvents(step rescue.Step) {
	for _, ev := range step.Events {
		h.log.LogAttrs(context.Background(), ev.Level, ev.Msg, ev.Attrs...)
	}
}

func (h *host) logProblem(err error) {
	var ce *state.CorruptError
	if errors.As(err, &ce) && ce.Kind != "" {
		h.log.Error("【严重错误】状态文件损坏，按安全值处理", "file", ce.Path, "kind", ce.Kind, "reason", ce.Reason)
		return
	}
	if errors.As(err, &ce) {
		h.log.Error("【严重错误】状态文件损坏，按安全值处理", "file", ce.Path, "content", ce.Content, "reason", ce.Reason)
		return
	}
	h.log.Error("【严重错误】状态文件无法读取，按安全值处理", "err", err)
}
