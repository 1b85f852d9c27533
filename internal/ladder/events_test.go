package ladder

import (
	"strings"
	"testing"
	"time"
)

// TestTransitions: ON_EVENT_CMD runs once per transition on the router
// (SPEC §16): down at the first failed run, each step, SOS raised and
// withdrawn, up — nothing for a run that finds things as they were.
func TestTransitions(t *testing.T) {
	cfg := testConfig()
	down := func() Input { return Input{Now: t0, Uptime: time.Hour, BootID: "b", Detail: "no reply"} }
	out := State{Boot: "b", Outage: Outage{Since: t0.Add(-10 * time.Minute)}}
	for _, tt := range []struct {
		name string
		st   State
		in   Input
		want string
	}{
		{"healthy", State{Boot: "b"}, Input{Now: t0, Up: true, BootID: "b"}, ""},
		{"first failed run", State{Boot: "b"}, down(), "down"},
		{"still down", withStreak(out, 2), down(), ""},
		{"L1", withStreak(out, 1), down(), "l1"},
		{"L3", withStreak(out, 9), down(), "l3"},
		{"SOS", State{Boot: "b", Streak: 9, Count: 9, Outage: out.Outage}, down(), "sos"},
		{"back up, SOS withdrawn", State{Boot: "b", Streak: 30, Count: 10, SOS: true, Outage: out.Outage},
			Input{Now: t0, Up: true, BootID: "b"}, "up sos-withdrawn"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			s := Decide(cfg, tt.st, tt.in)
			var got []string
			for _, ev := range Transitions(tt.st, tt.in, s) {
				got = append(got, ev.Name)
			}
			if strings.Join(got, " ") != tt.want {
				t.Errorf("Transitions = %q; want %q (log: %s)", got, tt.want, msgs(s))
			}
		})
	}
}

func withStreak(st State, n int) State { st.Streak = n; return st }
