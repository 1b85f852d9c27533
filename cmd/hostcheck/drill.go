package main

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/pve-op/network-rescue/internal/remote"
	"github.com/pve-op/network-rescue/internal/rescue"
	"github.com/pve-op/network-rescue/internal/untrusted"
)

// drill is the original README's closed-loop drill, made safe (SPEC §7):
// pretend the internet is down, raise SOS on the router, run the real
// decision in dry run and show each stage, check that the SSH
// acknowledgement works, then put the router's state back exactly as it
// was. With -live (and -yes) the decision is carried out for real.
func (h *host) drill(ctx context.Context, live bool) (err error) {
	// The drill changes the router's state and puts it back when it ends:
	// a Ctrl-C must reach that restore, not kill the process (SPEC §15).
	ctx, stop := h.e.Signals.Catch(ctx)
	defer stop()
	w := h.e.Stdout
	rc := h.remote()
	say := func(format string, a ...any) { fmt.Fprintf(w, format+"\n", a...) }

	// The router's netcheck runs at second 0 of each minute (cron) and
	// reads SOS as it starts: one that saw the drill's SOS withdrew it, the
	// internet being up (a 【SOS 撤回】 and an sos-withdrawn hook for an SOS
	// that never was). The drill's SOS stands from second 10 to about 50
	// (that run probes for up to PROBE_TIMEOUT, 3 s, before it writes),
	// and it waits before it reads the router's state: what it puts back
	// at the end is what it read, and a read before the minute put back
	// what the router's run at second 0 had changed (its count reset, a
	// real SOS deleted).
	if wait := drillWait(h.e.Now()); wait > 0 {
		say("   waiting %v, so that the router's cron run at the minute does not see the drill's SOS", wait)
		select {
		case <-ctx.Done():
			return fmt.Errorf("drill: %w", ctx.Err())
		case <-time.After(wait):
		}
	}
	rctx, cancel := context.WithTimeout(ctx, h.cfg.SSHTimeout)
	before, err := rc.ReadRouterState(rctx, h.cfg.OpStateDir)
	cancel()
	if err != nil {
		return fmt.Errorf("drill: read the router's state: %w", err)
	}
	say("1. router %s reached over SSH: count=%s cooling=%v SOS=%v", rc.Addr, countShown(before, routerObs(before).Count), before.HasCooling, before.SOS)
	if before.SOS {
		return errors.New("drill: the router already has a real SOS; not drilling over it (see hostcheck status)")
	}
	if d := before.Damaged(); len(d) > 0 {
		// Its state could not be put back as it was (SPEC §15).
		return fmt.Errorf("drill: the router has damaged state files %v; not drilling (see hostcheck status)", d)
	}
	content := fmt.Sprintf("time=%s count=drill reason=hostcheck drill", h.e.Now().In(h.loc).Format(time.RFC3339))
	// expect is the router's state as the drill last left it. What is put
	// back at the end is before, file by file, only over expect: a file
	// the router's own run changed meanwhile (its count, a real SOS) is its
	// own, not the drill's to undo (it deleted a real SOS and lowered the
	// count).
	expect := before
	expect.SOS, expect.SOSContent = true, content
	restored, acking := false, false
	restore := func() error {
		if restored {
			return nil
		}
		restored = true
		rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), h.cfg.SSHTimeout)
		defer cancel()
		now, err := rc.ReadRouterState(rctx, h.cfg.OpStateDir)
		if err != nil {
			return fmt.Errorf("drill: read the router's state to put it back (fix by hand: rm %s/SOS_SYSTEM if it says count=drill): %w", h.cfg.OpStateDir, err)
		}
		if _, changed := drillTarget(before, now, before); len(changed) == 0 {
			return nil // as before (the SOS's create did not get through)
		}
		mine := []remote.RouterState{expect}
		if acking {
			mine = append(mine, ackedState(expect))
		}
		target, theirs := drillTarget(before, now, mine...)
		if target != now {
			if err := rc.RestoreRouterState(rctx, h.cfg.OpStateDir, target, true); err != nil {
				return fmt.Errorf("drill: put the router's state back (fix by hand: rm %s/SOS_SYSTEM if it says count=drill): %w", h.cfg.OpStateDir, err)
			}
		}
		if now.SOS && now.SOSContent == content && !before.SOS {
			// Deleted only while it is still the drill's, in one step on
			// the router: an SOS its run raises now stays.
			if err := rc.DeleteSOSIf(rctx, h.cfg.OpStateDir, content); err != nil {
				return fmt.Errorf("drill: remove the drill's SOS (fix by hand: rm %s/SOS_SYSTEM if it says count=drill): %w", h.cfg.OpStateDir, err)
			}
		}
		if len(theirs) > 0 {
			return fmt.Errorf("drill: the router changed %s during the drill (its own cron run): left as it wrote them, the rest put back; see hostcheck status", strings.Join(theirs, ", "))
		}
		return nil
	}
	// Set before the SOS is created: a create whose answer was lost (a
	// Ctrl-C, SSH_TIMEOUT) may have written it. Its error is the drill's.
	defer func() {
		if rerr := restore(); rerr != nil {
			err = errors.Join(err, rerr)
		}
	}()
	rctx, cancel = context.WithTimeout(ctx, h.cfg.SSHTimeout)
	err = rc.CreateSOS(rctx, h.cfg.OpStateDir, content)
	cancel()
	if err != nil {
		return fmt.Errorf("drill: create SOS on the router: %w", err)
	}
	say("2. drill SOS created on the router: %s/SOS_SYSTEM", h.cfg.OpStateDir)
	created := h.e.Now()
	defer func() {
		if h.e.Now().Truncate(time.Minute).After(created.Truncate(time.Minute)) {
			say("   note: the drill ran past second 0 of a minute: the router's cron run may have seen its SOS (see the router's log)")
		}
	}()

	// The real state, also in a dry run (-dry-run, DRY_RUN=1): the drill
	// shows what a cron run would do today (a mark dated today makes it
	// do nothing). The dry run's own state is for dry cron runs; a drill
	// that is not live saves nothing.
	st, _ := h.realStore().Load(h.loc)
	if !live {
		h.cfg.DryRun = true
	}
	obs := h.observeBasics()
	obs.NetKnown, obs.NetUp, obs.NetDetail = true, false, "drill: internet pretended down"
	say("3. the real decision (%s), internet pretended down:", map[bool]string{true: "LIVE", false: "dry run"}[live])
	h.trace = func(stage, result string) { say("   - %-28s %s", stage, result) }
	step, rs, seen := h.decide(ctx, st, obs)
	h.trace = nil
	if ctx.Err() != nil {
		return fmt.Errorf("drill: interrupted during the decision: %w", ctx.Err())
	}
	if _, changed := drillTarget(expect, rs, expect); seen.RouterKnown && seen.Router.Err == "" && len(changed) > 0 {
		// The router's own run changed its files since the drill raised
		// its SOS: the decision is not the drill's to show.
		return errors.New("drill: the router changed its state during the drill (its own cron run); no decision shown")
	}
	for _, ev := range step.Events {
		say("   %s", ev.Msg)
	}
	if step.Silent {
		say("   (the mark says today's host rescue is spent: a real run would do nothing)")
	}
	say("   => action: %s", step.Action)

	if live && step.Action != rescue.None {
		if err := restore(); err != nil {
			return err
		}
		say("4. LIVE: carrying it out now")
		// The action is real and recorded as a cron run's (its mark, the
		// day's VM restart), but the outage was pretended: none is
		// recorded, and the hooks and METRICS_FILE hear of the action only.
		step.Next.DownSince, step.Next.RouterDownSince = st.DownSince, st.RouterDownSince
		switch step.Action {
		case rescue.VMRestart, rescue.VMStart, rescue.VMResume, rescue.HostReboot:
			// The router VM restarts (with the host, or alone): the clock
			// of its silence is not put back, or the next run judged the
			// VM it found booting hung on time from before the drill. The
			// drill read the router over SSH: no silence since.
			step.Next.RouterDownSince, step.Next.RouterErr = time.Time{}, ""
		}
		if step.Action != rescue.VMRestart && step.Action != rescue.HostReboot {
			// The drill's SOS is pretended: it holds none. A real step
			// answers the one held (as a cron run's does).
			step.Next.HeldSOS = st.HeldSOS
		}
		obs = drillCarry(obs, seen)
		store := h.store()
		if err := store.Save(st, step.Next); err != nil {
			return fmt.Errorf("drill: save state: %w", err)
		}
		h.logEvents(step)
		// As a cron run: METRICS_FILE and HEARTBEAT_URL (its /fail for a
		// step that failed) after the notifications; each probes the real
		// internet, the drill's outage being pretended.
		defer h.publish(ctx, step, obs, rs)
		defer h.flushNotifications(ctx, obs)
		return h.carryOut(ctx, store, st, obs, step, rs)
	}

	acking = true // its outcome unknown until read back
	rctx, cancel = context.WithTimeout(ctx, h.cfg.SSHTimeout)
	err = rc.AckSOS(rctx, h.cfg.OpStateDir, true)
	cancel()
	if ctx.Err() != nil {
		return fmt.Errorf("drill: interrupted during the SSH acknowledgement: %w", ctx.Err())
	}
	if err != nil {
		return fmt.Errorf("drill: the SSH acknowledgement (delete SOS, count 0) failed: %w", err)
	}
	rctx, cancel = context.WithTimeout(context.WithoutCancel(ctx), h.cfg.SSHTimeout)
	acked, err := rc.ReadRouterState(rctx, h.cfg.OpStateDir)
	cancel()
	if err != nil || acked.SOS || acked.HasCooling || (acked.HasCount && acked.Count != "0\n" && acked.Count != "0") {
		return fmt.Errorf("drill: after the acknowledgement the router shows SOS=%v count=%q cooling=%v (err %v)",
			acked.SOS, acked.Count, acked.HasCooling, err)
	}
	expect, acking = acked, false
	say("4. SSH acknowledgement works: SOS deleted, count 0, cooling cleared")
	if err := restore(); err != nil {
		return err
	}
	// Read whatever a Ctrl-C says: the restore above ran (bounded).
	rctx, cancel = context.WithTimeout(context.WithoutCancel(ctx), h.cfg.SSHTimeout)
	after, err := rc.ReadRouterState(rctx, h.cfg.OpStateDir)
	cancel()
	if err != nil || after != before {
		return notAsBefore(after, before, err)
	}
	say("5. router state put back exactly as before; nothing else was touched.")
	return nil
}

// drillCarry is the observation a live drill carries its step out with:
// the basic one (the internet left to be probed, by the notifications
// and HEARTBEAT_URL, the drill's outage being pretended) with what the
// guards saw, for a qm start's refusal (rescue.GiveBackStart): without
// it a refusal for a quorum that pvecm could not read was counted, and
// said as pmxcfs's fault.
func drillCarry(obs, seen rescue.Obs) rescue.Obs {
	obs.NetKnown = false
	obs.GuardsKnown, obs.Deferred, obs.Backup, obs.Quorum, obs.NoQuorum, obs.QuorumUnknown =
		seen.GuardsKnown, seen.Deferred, seen.Backup, seen.Quorum, seen.NoQuorum, seen.QuorumUnknown
	return obs
}

// countShown is the router's count as drill shows it: shown, its escaped
// text, or "none (0)" without a count file, as status says it.
func countShown(rs remote.RouterState, shown string) string {
	if !rs.HasCount {
		return "none (0)"
	}
	return shown
}

// notAsBefore is drill's error for a router whose state it could not put
// back. The state holds router text (SOS_SYSTEM, the count): it is escaped
// before it reaches the terminal (SPEC §15).
func notAsBefore(after, before remote.RouterState, err error) error {
	return fmt.Errorf("drill: the router's state is not as before: %s, was %s (err %v)",
		untrusted.Text(fmt.Sprintf("%+v", after), 400), untrusted.Text(fmt.Sprintf("%+v", before), 400), err)
}

// drillWait is how long a drill starting at now waits to read the router
// and raise its SOS, so that it stands from second 10 to about 50 of one
// minute: none from :10 to :45, else to :10 of the minute.
func drillWait(now time.Time) time.Duration {
	sec := now.Second()
	if sec >= 10 && sec <= 45 {
		return 0
	}
	return time.Duration((70-sec)%60)*time.Second - time.Duration(now.Nanosecond())
}

// drillTarget is what the drill writes back on the router, file by file:
// before's content where the router's file is still as the drill left it
// (expect), now's where the router's own run changed it (theirs, named).
// SOS_SYSTEM keeps now's content: the drill's own is deleted on the router
// only while it is still the drill's (DeleteSOSIf).
//
// mine are the states the drill may have left: the one after its SOS,
// and while its acknowledgement's outcome is not known (its answer lost),
// the one the acknowledgement leaves too. A file is the drill's when it
// is as in any of them.
func drillTarget(before, now remote.RouterState, mine ...remote.RouterState) (target remote.RouterState, theirs []string) {
	target = now
	count, cooling, rescued, sos := false, false, false, false
	for _, m := range mine {
		count = count || now.HasCount == m.HasCount && now.Count == m.Count && now.CountDamaged == m.CountDamaged
		cooling = cooling || now.HasCooling == m.HasCooling && now.Cooling == m.Cooling && now.CoolingDamaged == m.CoolingDamaged
		rescued = rescued || now.HasRescuedBy == m.HasRescuedBy && now.RescuedBy == m.RescuedBy && now.RescuedByDamaged == m.RescuedByDamaged
		sos = sos || now.SOS == m.SOS && now.SOSContent == m.SOSContent && now.SOSDamaged == m.SOSDamaged && now.SOSTruncated == m.SOSTruncated
	}
	if count {
		target.HasCount, target.Count, target.CountDamaged = before.HasCount, before.Count, before.CountDamaged
	} else {
		theirs = append(theirs, "net_rb_count")
	}
	if cooling {
		target.HasCooling, target.Cooling, target.CoolingDamaged = before.HasCooling, before.Cooling, before.CoolingDamaged
	} else {
		theirs = append(theirs, "net_cooling_ts")
	}
	if rescued {
		target.HasRescuedBy, target.RescuedBy, target.RescuedByDamaged = before.HasRescuedBy, before.RescuedBy, before.RescuedByDamaged
	} else {
		theirs = append(theirs, "net_rescued_by")
	}
	if !sos {
		theirs = append(theirs, "SOS_SYSTEM")
	}
	return target, theirs
}

// ackedState is what the host's acknowledgement with a count reset
// leaves of st on the router (remote.AckSOS): count 0, no cooling,
// net_rescued_by "host", no SOS.
func ackedState(st remote.RouterState) remote.RouterState {
	st.HasCount, st.Count, st.CountDamaged = true, "0\n", ""
	st.HasCooling, st.Cooling, st.CoolingDamaged = false, "", ""
	st.HasRescuedBy, st.RescuedBy, st.RescuedByDamaged = true, "host\n", ""
	st.SOS, st.SOSContent, st.SOSDamaged, st.SOSTruncated = false, "", "", false
	return st
}
