package rescue

import (
	"testing"
	"time"

	"github.com/pve-op/network-rescue/internal/config"
	"github.com/pve-op/network-rescue/state"
)

// TestSpentDayHungOutageOnce: on a spent day (the host rebooted today and
// the router VM was cold-restarted) the internet, back since, goes down
// again with the router VM hung. The first run that finds the router
// silent saves its clock of silence (spentDayHungGivesUp), not silent, so
// its ON_EVENT_CMD hears "down" from what it observed; the run past
// ROUTER_HUNG_AFTER that gives up records the outage (down_since) and
// hears "down" again: one outage, two downs, as a pause that ran out on
// a spent day told before 1ba3c25. The saved run records what it tells.
func TestSpentDayHungOutageOnce(t *testing.T) {
	cfg := config.Default(config.Host)
	cfg.VMID = "100"
	today := Today(t0)
	st := State{HasMark: true, LastReboot: today, VMRestartDate: today,
		Mark: state.Mark{Date: today, Time: t0.Add(-5 * time.Hour), Dated: true, Reason: "SOS", BootID: "boot1"}}
	var downs int
	var log []string
	at := t0
	for i := 0; i <= int(cfg.RouterHungAfter/(5*time.Minute))+1; i++ {
		o := full(func(o *Obs) {
			o.Now, o.LANUp = at, false
			o.Router = Router{Err: "dial tcp 192.168.1.1:22: connect: no route to host", ErrKind: "unreachable"}
		})
		s := Decide(cfg, st, o)
		if !s.Silent {
			for _, ev := range Transitions(st, o, s) {
				if ev.Name == "down" {
					downs++
					log = append(log, at.Format("15:04"))
				}
			}
			st = s.Next
		}
		at = at.Add(5 * time.Minute)
	}
	if downs != 1 {
		t.Errorf("one outage on a spent day with the router VM hung: \"down\" told at %v; want once (down_since %v)", log, st.DownSince)
	}
}
