package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/pve-op/network-rescue/internal/assist"
	"github.com/pve-op/network-rescue/internal/cli"
	"github.com/pve-op/network-rescue/internal/config"
	"github.com/pve-op/network-rescue/internal/hook"
	"github.com/pve-op/network-rescue/internal/ladder"
	"github.com/pve-op/network-rescue/internal/untrusted"
)

// assistRun is `netcheck assist STEP`, run by the host over SSH (SPEC §14):
// lock (waiting for a cron run under way, bounded) → load → decide with
// ladder.DecideAssist → persist → run the router's own command → log →
// print one result line (internal/assist) and exit done 0, refused 3 or
// failed 1.
func assistRun(ctx context.Context, cfg config.Config, step assist.Step, reason string, verbose bool, e env) error {
	loc := cli.Zone()
	log, closeLog := cli.Logger(cfg, "netcheck", verbose, e.Stderr, loc)
	defer closeLog()
	// Text from the host: escaped before it reaches a log line (SPEC §15).
	reason = untrusted.Text(reason, assist.MaxReason)
	answer := func(r assist.Result) error { return answerAssist(e.Stdout, step, r) }

	wait := assist.LockWait(cfg.ProbeTimeout)
	release, held, err := cli.Lock(log, cfg.RunDir, cfg.StateDir, "netcheck.lock", wait)
	if err != nil {
		log.Error("【严重错误】无法加锁，拒绝协助", "step", string(step), "reason", reason, "err", err)
		return answer(assist.Result{Outcome: assist.Failed, Why: assist.WhyState, Detail: err.Error()})
	}
	if !held {
		log.Warn("【协助】另一次 netcheck 运行持有锁，本次协助未执行", "step", string(step), "reason", reason, "waited", wait)
		return answer(assist.Result{Outcome: assist.Refused, Why: assist.WhyBusy,
			Detail: fmt.Sprintf("another netcheck run held the lock for %v; ask again at the next run", wait)})
	}
	defer release()

	now := e.Now().In(loc)
	store, st, problems := loadState(ctx, cfg, log, now)
	in := ladder.AssistInput{Now: now, Step: step, Reason: reason}
	if in.Uptime, err = e.Uptime(); err != nil {
		// Unknown uptime: as "just booted", so that a reboot stays locked.
		log.Error("【严重错误】无法读取开机时间，物理重启被安全锁挡住", "err", err)
	}
	// The boot a reboot is ordered in, for the 【启动】 of the next one
	// (unread: "", which any boot then differs from).
	in.BootID, _ = e.BootID()
	d := ladder.DecideAssist(cfg, st, in)
	if d.Run {
		// From here a signal neither stops the persist nor the command
		// (SPEC §15), as in a cron run that acts.
		var stop context.CancelFunc
		ctx, stop = e.Signals.Catch(ctx)
		defer stop()
	}
	err = store.Save(st, d.Next, len(problems) > 0)
	logVolatile(log, cfg, err)
	var perr *ladder.PersistError
	if errors.As(err, &perr) {
		err = perr // what STATE_DIR could not take refuses the step, as before
	} else {
		err = nil // only RUN_DIR failed: the count is on disk (SPEC §15)
	}
	for _, ev := range d.Events {
		log.LogAttrs(ctx, ev.Level, ev.Msg, ev.Attrs...)
	}
	if err != nil {
		pre := "" // beside the decision's events (SPEC §5 rule 5)
		if cfg.DryRun {
			pre = "【演练】"
		}
		log.Error(pre+"【严重错误】状态无法保存，为防止无限重启，本次不执行动作", "step", string(step), "err", err)
		putBack(log, store, &st, &d.Next, perr, pre, "") // the host hears the refusal
		return answer(assist.Result{Outcome: assist.Failed, Why: assist.WhyState, Detail: "save state: " + err.Error()})
	}
	if !d.Run {
		return answer(d.Refusal)
	}
	cmdline := map[assist.Step]string{assist.DNS: cfg.DNSCmd, assist.Network: cfg.L2Cmd, assist.Reboot: cfg.L3Cmd}[step]
	if cfg.DryRun {
		log.Info("【演练】-> 不执行命令", "step", string(step), "cmd", cmdline)
		return answer(assist.Result{Outcome: assist.Refused, Why: assist.WhyDryRun,
			Detail: "DRY_RUN: decided and logged, " + cmdline + " not run"})
	}
	// ON_EVENT_CMD (SPEC §16): after the step, beside a reboot.
	ev := hook.Event{Name: "assist", Detail: fmt.Sprintf("%s asked by the host: %s", step, reason)}
	if d.Action == ladder.L3 {
		defer goFire(ctx, cfg, log, e, ev)()
	} else {
		defer fire(ctx, cfg, log, e, ev)
	}
	// In its own process group, to completion within its bound (SPEC §15).
	r := e.Exec(context.WithoutCancel(ctx), cmdline, ActionTimeout)
	logResult(ctx, log, r, "step", string(step))
	if d.Action == ladder.L3 {
		orderFailed(log, store, d.Next, r)
	}
	if !r.OK() {
		detail := cmdline + ": " + r.Err.Error()
		if r.Stderr != "" {
			detail += ": " + r.Stderr
		}
		return answer(assist.Result{Outcome: assist.Failed, Why: assist.WhyCommand, Detail: detail})
	}
	detail := fmt.Sprintf("%s ran in %v", cmdline, r.Elapsed.Round(time.Millisecond))
	if d.Action == ladder.L3 {
		detail = fmt.Sprintf("reboot #%d today: %s", d.Next.Count, detail)
	}
	return answer(assist.Result{Outcome: assist.Done, Detail: detail})
}

// answerAssist prints the one result line of `netcheck assist` (for the
// host) and returns the error its exit code comes from.
func answerAssist(w io.Writer, step assist.Step, r assist.Result) error {
	r.Step = step
	fmt.Fprintln(w, r.Line())
	if r.Outcome == assist.Done {
		return nil
	}
	return &assist.Error{Result: r}
}
