package rescue

import (
	"testing"
	"time"

	"github.com/pve-op/network-rescue/internal/config"
	"github.com/pve-op/network-rescue/internal/hook"
	"github.com/pve-op/network-rescue/state"
)

// TestPauseEndsOnSpentDayOutageOnce: a pause runs out on a spent day (the
// host rebooted today) while the internet is down and the router VM runs:
// the run that ends the pause is said and saved (【恢复自救】), but the
// spent day's silence records no outage (down_since stays empty). That
// run's ON_EVENT_CMD heard "down" from what it observed, and the next
// day's first run, which records the outage, told "down" again: one
// outage, two downs.
func TestPauseEndsOnSpentDayOutageOnce(t *testing.T) {
	cfg := config.Default(config.Host)
	cfg.VMID = "100"
	today := Today(t0)
	st := State{HasMark: true, LastReboot: today, PauseUntil: t0.Add(-time.Minute),
		Mark: state.Mark{Date: today, Time: t0.Add(-3 * time.Hour), Dated: true, Reason: "SOS", BootID: "boot0"}}
	var downs int
	count := func(evs []hook.Event) {
		for _, ev := range evs {
			if ev.Name == "down" {
				downs++
			}
		}
	}
	down := func(now time.Time) Obs {
		return full(func(o *Obs) { o.Now, o.Router = now, Router{SelfKnown: true, SelfUp: false, Count: "0"} })
	}
	o := down(t0)
	s := Decide(cfg, st, o)
	if s.Silent {
		t.Fatalf("the pause's end on a spent day is silent (log: %s)", msgs(s))
	}
	count(Transitions(st, o, s))
	st = s.Next
	// The next day's first run: the mark is yesterday's, the outage goes on.
	next := t0.Add(10*time.Hour + 5*time.Minute)
	o = down(next)
	s = Decide(cfg, st, o)
	count(Transitions(st, o, s))
	if downs != 1 {
		t.Errorf("one outage across a pause ending on a spent day: %d downs told; want 1 (down_since after the first run: %v)", downs, st.DownSince)
	}
}
