package ladder

import (
	"time"

	"github.com/pve-op/network-rescue/internal/config"
)

// Simulation assumptions for `netcheck plan` (SPEC §7): cron runs netcheck
// once a minute, a router reboot takes RebootTime and empties RUN_DIR, and
// midnight-reset runs at 00:00 local time.
const (
	RunEvery   = time.Minute
	RebootTime = time.Minute
)

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

// Simulate runs Decide once a minute on a simulated clock from start, with
// the internet down throughout, until SOS or horizon. The router has been
// up for a day when the fault starts.
func Simulate(cfg config.Config, start time.Time, horizon time.Duration) PlanResult {
	cfg.DryRun = false
	res := PlanResult{Start: start, Actions: map[Action]int{}}
	var st State
	boot := start.Add(-24 * time.Hour)
	bootID := "boot-0"
	nextMidnight := midnightAfter(start)
	for now := start.Add(RunEvery); now.Sub(start) <= horizon; now = now.Add(RunEvery) {
		reset := false
		if !now.Before(nextMidnight) {
			// midnight-reset (router): count 0, no cooling, no SOS.
			st.Count, st.Cooling, st.SOS, st.SOSContent = 0, time.Time{}, false, ""
			nextMidnight = midnightAfter(nextMidnight)
			reset = true
		}
		step := Decide(cfg, st, Input{Now: now, Up: false, Uptime: now.Sub(boot), BootID: bootID, Detail: "simulated outage"})
		st = step.Next
		if len(step.Events) > 0 || step.Action != None {
			res.Events = append(res.Events, PlanEvent{At: now, Action: step.Action, Step: step, Reset: reset})
		}
		res.Actions[step.Action]++
		if step.Action == L3 {
			res.Reboots++
			boot = now.Add(RebootTime)
			bootID = "boot-" + now.Format("150405")
			st.Boot, st.Streak, st.SOSLogged, st.CoolingLogged = "", 0, time.Time{}, false
			// The router is down while it reboots: the next run is the
			// first cron tick after it is back.
			for now.Add(RunEvery).Before(boot) {
				now = now.Add(RunEvery)
			}
		}
		if st.SOS {
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
