package ladder

import (
	"fmt"
	"time"

	"github.com/pve-op/network-rescue/internal/hook"
)

// Transitions are the router's events of one run for ON_EVENT_CMD (SPEC
// §16), from the state before the run, its input and its step: the
// internet going down (the first failed run of an outage) or coming back,
// the ladder's step, and SOS raised or withdrawn. A run that finds things
// as they were has none, so the hook runs once per transition.
func Transitions(old State, in Input, s Step) []hook.Event {
	var evs []hook.Event
	outage := time.Duration(0)
	if !old.Outage.Since.IsZero() && in.Now.After(old.Outage.Since) {
		outage = in.Now.Sub(old.Outage.Since)
	}
	switch {
	case in.Up && !old.Outage.Since.IsZero():
		evs = append(evs, hook.Event{Name: "up", Detail: in.Detail, Outage: outage})
	case !in.Up && old.Outage.Since.IsZero():
		evs = append(evs, hook.Event{Name: "down", Detail: in.Detail})
	}
	switch s.Action {
	case L1:
		evs = append(evs, hook.Event{Name: "l1", Detail: "redial the WAN (L1_CMD)", Outage: outage})
	case L2:
		evs = append(evs, hook.Event{Name: "l2", Detail: "restart network and firewall (L2_CMD)", Outage: outage})
	case L3:
		evs = append(evs, hook.Event{Name: "l3", Detail: fmt.Sprintf("reboot the router (L3_CMD), count %d", s.Next.Count), Outage: outage})
	}
	switch {
	case s.Next.SOS && !old.SOS:
		evs = append(evs, hook.Event{Name: "sos", Detail: s.Next.SOSContent, Outage: outage})
	case !s.Next.SOS && old.SOS:
		evs = append(evs, hook.Event{Name: "sos-withdrawn", Detail: in.Detail, Outage: outage})
	}
	return evs
}
