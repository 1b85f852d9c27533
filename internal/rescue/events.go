package rescue

import (
	"time"

	"github.com/pve-op/network-rescue/internal/hook"
)

// Transitions are the host's events of one run for ON_EVENT_CMD (SPEC
// §16), from the state before the run, what it observed and its step: the
// internet going down (first run that finds it down) or coming back, and
// the action; a DNS fault is the internet down (Obs.Up). A run that finds things as they were has none, so the hook
// runs once per transition, not once per failed run. A misfire is not
// decided but found while rebooting: the caller adds it.
func Transitions(old State, o Obs, s Step) []hook.Event {
	var evs []hook.Event
	outage := time.Duration(0)
	if !old.DownSince.IsZero() && o.Now.After(old.DownSince) {
		outage = o.Now.Sub(old.DownSince)
	}
	switch {
	case o.Up() && !old.DownSince.IsZero():
		evs = append(evs, hook.Event{Name: "up", Detail: o.NetDetail, Outage: outage})
	case o.NetKnown && !o.Up() && old.DownSince.IsZero():
		evs = append(evs, hook.Event{Name: "down", Detail: o.NetDetail})
	}
	detail := ""
	switch s.Action {
	case VMStart:
		detail = "qm start of the stopped router VM"
	case VMResume:
		detail = "qm resume of the paused router VM"
	case VMRestart:
		detail = "qm stop/start of the router VM"
	case HostReboot:
		detail = s.Next.Mark.Reason
	case Assist:
		detail = "netcheck assist " + string(s.Assist) + " (LAN fault " + s.Next.LANFault + ")"
	}
	if s.Action != None {
		evs = append(evs, hook.Event{Name: s.Action.String(), Detail: detail, Outage: outage})
	}
	return evs
}
