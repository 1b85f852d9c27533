package ladder

import (
	"time"

	"github.com/pve-op/network-rescue/internal/config"
)

// Simulation assumptions for the plans (SPEC §7): cron runs netcheck once a
// minute, a router reboot takes RebootTime and empties RUN_DIR, and
// midnight-reset runs at 00:00 local time unless the router is rebooting
// then (the first run after the boot makes the reset up).
const (
	RunEvery   = time.Minute
	RebootTime = time.Minute
)

// Router is a simulated router running Decide on a simulated clock with
// the internet down: the engine of `netcheck plan`, `hostcheck plan` and
// the time-to-rescue figures.
type Router struct {
	Cfg   config.Config
	State State
	// NextHop is what the WAN's next hop does on the simulated down runs
	// (HopUnknown: not asked, as with WAN_GATEWAY=off).
	NextHop Hop
	boot    time.Time // when the current boot finished
	bootN   int
	midnite time.Time // next midnight-reset
}

// NewRouter returns a router that has been up for a day at start.
func NewRouter(cfg config.Config, start time.Time) *Router {
	cfg.DryRun = false
	return &Router{Cfg: cfg, boot: start.Add(-24 * time.Hour), midnite: midnightAfter(start)}
}

// Up reports whether the router is running (not in the middle of a reboot) at now.
func (r *Router) Up(now time.Time) bool { return !now.Before(r.boot) }

// Reboot starts a reboot at now: RUN_DIR is emptied and the router is
// back after RebootTime.
func (r *Router) Reboot(now time.Time) {
	r.bootN++
	r.boot = now.Add(RebootTime)
	r.State.Boot, r.State.Streak, r.State.SOSLogged, r.State.CoolingLogged = "", 0, time.Time{}, false
}

// Tick is one cron minute at now with the internet up or down. It returns
// the step, whether netcheck ran (not while rebooting), and whether
// midnight-reset ran just before.
func (r *Router) Tick(now time.Time, up bool) (step Step, ran, reset bool) {
	if !now.Before(r.midnite) {
		if r.boot.Before(now) {
			r.State.Count, r.State.Cooling, r.State.SOS, r.State.SOSContent = 0, time.Time{}, false, ""
			reset = true
		} else {
			// Rebooting at 00:00 (crond starts after the minute began):
			// crond does not run a missed job, and the count now dates
			// from an earlier day.
			r.State.CountOld = r.State.Count > 0
		}
		r.midnite = midnightAfter(r.midnite)
	}
	if !r.Up(now) {
		return Step{}, false, reset
	}
	in := Input{Now: now, Up: up, Uptime: now.Sub(r.boot),
		BootID: "boot-" + string(rune('a'+r.bootN%26)), Detail: "simulated"}
	if !up {
		in.NextHop, in.NextHopAddr = r.NextHop, "next-hop"
	}
	step = Decide(r.Cfg, r.State, in)
	if step.Next.Count != r.State.Count {
		step.Next.CountOld = false // written now
	}
	r.State = step.Next
	if step.Action == L3 {
		r.Reboot(now)
	}
	return step, true, reset
}

// PlanEvent is one run of the simulated outage that logged something.
type PlanEvent struct {
	At     time.Time
	Action Action
	Step   Step
	Reset  bool // midnight-reset ran just before this run
}

// PlanResult is the timeline of a total outage that nothing fixes.
type PlanResult struct {
	Start   time.Time
	Events  []PlanEvent
	SOS     time.Time // zero: no SOS within the horizon
	Reboots int       // router reboots before the SOS (or the horizon)
	Actions map[Action]int
}

// Simulate runs the router once a minute from start with the internet down
// throughout, until SOS or horizon.
func Simulate(cfg config.Config, start time.Time, horizon time.Duration) PlanResult {
	return SimulateHop(cfg, start, horizon, HopUnknown)
}

// SimulateHop is Simulate with the next hop doing hop on every run: with
// HopAnswers, an outage beyond the next hop, at the ISP (SPEC §14).
func SimulateHop(cfg config.Config, start time.Time, horizon time.Duration, hop Hop) PlanResult {
	start = start.Truncate(RunEvery)
	res := PlanResult{Start: start, Actions: map[Action]int{}}
	r := NewRouter(cfg, start)
	r.NextHop = hop
	for now := start.Add(RunEvery); now.Sub(start) <= horizon; now = now.Add(RunEvery) {
		step, ran, reset := r.Tick(now, false)
		if !ran {
			continue
		}
		if len(step.Events) > 0 || step.Action != None || reset {
			res.Events = append(res.Events, PlanEvent{At: now, Action: step.Action, Step: step, Reset: reset})
		}
		if step.Action == L3 {
			res.Reboots++
		}
		if step.Action != None {
			res.Actions[step.Action]++
		}
		if r.State.SOS {
			res.SOS = now
			break
		}
	}
	return res
}

func midnightAfter(t time.Time) time.Time {
	y, m, d := t.Date()
	return time.Date(y, m, d+1, 0, 0, 0, 0, t.Location())
}
