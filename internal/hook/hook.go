// Package hook is ON_EVENT_CMD (SPEC §16): a person's command, run once per
// transition of the rescue — down, up, l1, l2, l3, sos, sos-withdrawn,
// assist, vm-start, vm-resume, vm-restart, host-reboot, misfire,
// reboot-cancelled — not once per failed run, with what happened in its
// environment. It runs after the step it reports (or beside it, for a
// reboot that ends the run), bounded, so it never delays or blocks the
// rescue.
package hook

import (
	"strconv"
	"time"
)

// Timeout bounds one run of ON_EVENT_CMD.
const Timeout = 30 * time.Second

// Event is one transition.
type Event struct {
	Name   string        // NETRESCUE_EVENT: down, up, l1 …
	Detail string        // NETRESCUE_DETAIL: one line a person reads
	Outage time.Duration // NETRESCUE_OUTAGE_SECONDS: how long the internet has been down (0 when not down)
}

// Env is the environment ON_EVENT_CMD gets for ev, on top of the run's own.
func (ev Event) Env() []string {
	return []string{
		"NETRESCUE_EVENT=" + ev.Name,
		"NETRESCUE_DETAIL=" + ev.Detail,
		"NETRESCUE_OUTAGE_SECONDS=" + strconv.FormatInt(int64(ev.Outage/time.Second), 10),
	}
}
