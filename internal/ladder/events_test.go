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

// TestSOSWithdrawnDetail: the hook's detail says who withdrew an SOS. The
// reply that ended the outage, when the net came back; the missed
// midnight-reset made at the first run after a boot, with the net still
// down (it said the probe's failure, "no reply", as if that withdrew it).
func TestSOSWithdrawnDetail(t *testing.T) {
	cfg := testConfig()
	sos := State{Boot: "b", Streak: 30, Count: 10, SOS: true, Outage: Outage{Since: t0.Add(-time.Hour), SOS: true}}
	stale := sos
	stale.CountOld = true
	for _, tt := range []struct {
		name string
		st   State
		in   Input
		want string
	}{
		{"back up", sos, Input{Now: t0, Up: true, BootID: "b", Detail: "reply from 198.51.100.1"}, "reply from 198.51.100.1"},
		{"missed midnight, down", stale, Input{Now: t0, Uptime: time.Minute, BootID: "b2", Detail: "no reply"}, "midnight-reset, made at boot"},
		{"missed midnight, up", stale, Input{Now: t0, Uptime: time.Minute, Up: true, BootID: "b2", Detail: "reply from 198.51.100.1"}, "midnight-reset, made at boot"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			s := Decide(cfg, tt.st, tt.in)
			var got []string
			for _, ev := range Transitions(tt.st, tt.in, s) {
				if ev.Name == "sos-withdrawn" {
					got = append(got, ev.Detail)
				}
			}
			if strings.Join(got, "|") != tt.want {
				t.Errorf("sos-withdrawn details = %q; want %q (log: %s)", got, tt.want, msgs(s))
			}
		})
	}
}
