package main

import (
	"time"

	"github.com/pve-op/network-rescue/internal/ladder"
)

// This file is a MODEL OF THE ORIGINAL SCRIPTS (SPEC §2), not code of this
// project: the router's procd loop and the host's @reboot loop, reduced to
// when they act. Its constants are the model's assumptions.
const (
	origSleep      = 60 * time.Second // the router loop sleeps 60 s after each check
	origProbeDown  = 11 * time.Second // `ping -c 2 -W 5 www.baidu.com` when nothing answers: the name's lookup timing out, then the pings (busybox pinging an IP alone takes 6.0 s, BENCHMARKS.md)
	origProbeUp    = 1 * time.Second  // `ping -c 2 -W 5` when both answer: 1 s between the pings
	origL1Time     = 10 * time.Second // ifdown wan; sleep 10; ifup wan
	origL2Time     = 10 * time.Second // network + firewall restart (assumed)
	origRebootTime = ladder.RebootTime
	origSafeUptime = 600 * time.Second
	origL1         = 2  // retry_count == 2
	origL2         = 5  // retry_count == 5
	origL3         = 10 // retry_count >= 10
	origSOS        = 10 // L4_SOS_THRESHOLD
	origFree       = 6  // cooling hours = clamp(rb_count - 6, 0, 3)
	origCoolMax    = 3
	origHostEvery  = 2 * time.Hour // the host loop checks every 2 h
)

// origRouter is the original router script's state: retry_count lives in
// memory (a reboot loses it), rb_count and the cooling deadline in files.
type origRouter struct {
	retry   int
	rb      int
	cooling time.Time // zero: not cooling
	sos     bool
	boot    time.Time
}

// check is one pass of the original router loop starting at t. It returns
// when the next pass starts, and fixAt (non-zero) when this pass started a
// step strong enough for f.
func (r *origRouter) check(t time.Time, f fault) (next, fixAt time.Time) {
	if !r.cooling.IsZero() {
		if t.Before(r.cooling) {
			return t.Add(origSleep), time.Time{} // cooling: nothing at all, not even a probe
		}
		r.cooling = time.Time{} // 【熔断解除】
	}
	done := t.Add(origProbeDown)
	if r.sos {
		return done.Add(origSleep), time.Time{} // under SOS it only watches for a recovery
	}
	r.retry++
	switch {
	case r.retry == origL1:
		if f <= byL1 {
			return time.Time{}, done
		}
		return done.Add(origL1Time + origSleep), time.Time{}
	case r.retry == origL2:
		if f <= byL2 {
			return time.Time{}, done
		}
		return done.Add(origL2Time + origSleep), time.Time{}
	case r.retry >= origL3:
		if done.Sub(r.boot) < origSafeUptime {
			return done.Add(origSleep), time.Time{} // 【安全锁】
		}
		r.rb++
		if r.rb >= origSOS {
			r.sos = true
			return done.Add(origSleep), time.Time{}
		}
		if f <= byRouterReboot {
			return time.Time{}, done
		}
		if hours := min(max(r.rb-origFree, 0), origCoolMax); hours > 0 {
			r.cooling = done.Add(time.Duration(hours) * time.Hour)
		}
		// reboot -f: retry_count is gone; procd starts the loop at boot.
		r.retry, r.boot = 0, done.Add(origRebootTime)
		return r.boot, time.Time{}
	}
	return done.Add(origSleep), time.Time{}
}

// originalTime is the model's time from a fault at `at` to the start of the
// step that fixes f. routerPhase is when the router loop's first pass after
// the fault starts (0 < routerPhase <= 61 s: its period while the net was
// up); hostPhase is when the host loop's first check after the fault starts
// (0 < hostPhase <= 2 h). The host acts on SOS after its own failed ping;
// cron's midnight reset clears rb_count, cooling and SOS.
func originalTime(f fault, at time.Time, routerPhase, hostPhase time.Duration) (time.Duration, bool) {
	r := origRouter{boot: at.Add(-24 * time.Hour)}
	rNext, hNext := at.Add(routerPhase), at.Add(hostPhase)
	y, m, d := at.Date()
	midnight := time.Date(y, m, d+1, 0, 0, 0, 0, at.Location())
	for end := at.Add(horizon); ; {
		switch {
		case midnight.Before(rNext) && midnight.Before(hNext):
			if midnight.After(end) {
				return 0, false
			}
			r.rb, r.cooling, r.sos = 0, time.Time{}, false
			midnight = midnight.AddDate(0, 0, 1)
		case !hNext.Before(rNext):
			if rNext.After(end) {
				return 0, false
			}
			next, fixAt := r.check(rNext, f)
			if !fixAt.IsZero() {
				return fixAt.Sub(at), true
			}
			rNext = next
		default:
			if hNext.After(end) {
				return 0, false
			}
			// ping fails, then ssh finds SOS: sync, mark, reboot (fixes every class).
			if decided := hNext.Add(origProbeDown); r.sos && !decided.Before(r.boot) {
				return decided.Sub(at), true
			}
			hNext = hNext.Add(origProbeDown + origHostEvery)
		}
	}
}

// originalStats tries every router phase (1 s apart) and host phase (5 min
// apart).
func originalStats(f fault) stats {
	var ds []time.Duration
	missed := 0
	for rp := time.Second; rp <= origSleep+origProbeUp; rp += time.Second {
		for hp := 5 * time.Minute; hp <= origHostEvery; hp += 5 * time.Minute {
			if d, ok := originalTime(f, faultBase(), rp, hp); ok {
				ds = append(ds, d)
			} else {
				missed++
			}
		}
	}
	return summarize(ds, missed)
}
