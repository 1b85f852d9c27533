package ladder

import (
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/pve-op/network-rescue/internal/config"
)

// PlanHorizon is how far a plan looks ahead.
const PlanHorizon = 48 * time.Hour

// WritePlan prints the timeline of a total outage that nothing fixes,
// computed by Decide on a simulated clock, and the profile comparison that
// the original README gave in prose (SPEC §7). It returns the simulation.
func WritePlan(w io.Writer, cfg config.Config, now time.Time) PlanResult {
	res := Simulate(cfg, now, PlanHorizon)
	src := "built-in defaults"
	if cfg.Path != "" {
		src = cfg.Path
	}
	fmt.Fprintf(w, "Total outage starting %s, nothing fixes it (config: %s; L4_SOS_THRESHOLD=%d).\n",
		now.Format("2006-01-02 15:04"), src, cfg.L4SOSThreshold)
	fmt.Fprintf(w, "Assumes: netcheck every minute, a router reboot takes %s, midnight-reset at 00:00.\n\n", Human(RebootTime))
	for _, line := range Timeline(res) {
		fmt.Fprintln(w, line)
	}
	fmt.Fprintln(w)
	fmt.Fprintln(w, "Profiles (PROFILE= sets L4_SOS_THRESHOLD; an explicit L4_SOS_THRESHOLD wins):")
	for _, name := range config.ProfileNames {
		c := cfg
		c.L4SOSThreshold = config.Profiles[name]
		r := Simulate(c, now, PlanHorizon)
		fmt.Fprintf(w, "  %-13s %-4s %s\n", name, fmt.Sprintf("(%d)", c.L4SOSThreshold), Outcome(r))
	}
	return res
}

// Outcome sums a simulation up in one line.
func Outcome(r PlanResult) string {
	if r.SOS.IsZero() {
		return fmt.Sprintf("no SOS within %v: the router reboots %d times, and midnight-reset restarts the count each day",
			PlanHorizon, r.Reboots)
	}
	return fmt.Sprintf("SOS after %s (at %s), after %d router reboots",
		Human(r.SOS.Sub(r.Start)), r.SOS.Format("Mon 15:04"), r.Reboots)
}

// Timeline renders the simulated runs that acted or logged a state change.
func Timeline(r PlanResult) []string {
	var out []string
	for _, ev := range r.Events {
		at := fmt.Sprintf("  %s  +%-8s", ev.At.Format("Mon 15:04"), Human(ev.At.Sub(r.Start)))
		if ev.Reset {
			out = append(out, at+" midnight-reset: count 0, cooling and SOS cleared")
		}
		if line := Describe(ev); line != "" {
			out = append(out, at+" "+line)
		}
	}
	if r.SOS.IsZero() {
		out = append(out, fmt.Sprintf("  (no SOS within %v)", PlanHorizon))
	}
	return out
}

// Describe says in a few words what a simulated run did, or "" for nothing.
func Describe(ev PlanEvent) string {
	n := ev.Step.Next
	switch {
	case ev.Action == L1:
		return "L1  redial WAN"
	case ev.Action == L2:
		return "L2  restart network + firewall"
	case ev.Action == L3 && !n.Cooling.IsZero():
		return fmt.Sprintf("L3  reboot router #%d, then cooling %s (until %s)", n.Count, Human(n.Cooling.Sub(ev.At)), n.Cooling.Format("15:04"))
	case ev.Action == L3:
		return fmt.Sprintf("L3  reboot router #%d", n.Count)
	}
	for _, e := range ev.Step.Events {
		switch {
		case strings.HasPrefix(e.Msg, "【重置】"):
			return "    midnight-reset missed while rebooting: made up now (count 0, cooling and SOS cleared)"
		case strings.HasPrefix(e.Msg, "【SOS】"):
			return fmt.Sprintf("SOS raised at count %d: the router stops, the host's hostcheck takes over", n.Count)
		case strings.HasPrefix(e.Msg, "【冷却】"):
			return "    cooling: the router only watches"
		case strings.HasPrefix(e.Msg, "【熔断解除】"):
			return "    cooling over: the ladder starts again"
		case strings.HasPrefix(e.Msg, "【安全锁】"):
			return "    safe lock: uptime below SAFE_UPTIME, reboot deferred"
		case strings.HasPrefix(e.Msg, "【诊断】运营商侧故障"):
			return "    the next hop answers: the ISP's outage, no router reboot and no SOS while it does"
		case strings.HasPrefix(e.Msg, "【诊断】"):
			return "    the next hop stopped answering: the ladder goes on"
		}
	}
	return ""
}

// Human prints a duration as 1h05m or 12m.
func Human(d time.Duration) string {
	d = d.Round(time.Minute)
	h, m := int(d.Hours()), int(d.Minutes())%60
	if h == 0 {
		return fmt.Sprintf("%dm", m)
	}
	return fmt.Sprintf("%dh%02dm", h, m)
}

// ParseAt resolves a plan's -at flag ("HH:MM", today in now's zone); ""
// means now.
func ParseAt(at string, now time.Time) (time.Time, error) {
	if at == "" {
		return now, nil
	}
	t, err := time.Parse("15:04", at)
	if err != nil {
		return now, fmt.Errorf("-at %q: want HH:MM, e.g. 09:00", at)
	}
	y, m, d := now.Date()
	return time.Date(y, m, d, t.Hour(), t.Minute(), 0, 0, now.Location()), nil
}

// WriteISPPlan prints, under the current config, what the router does in an
// outage beyond its next hop (SPEC §14): hop says which WAN_GATEWAY mode is
// on and what the next hop is now. The timeline is Decide's, on a
// simulated clock, with the next hop answering throughout.
func WriteISPPlan(w io.Writer, cfg config.Config, now time.Time, hop string) PlanResult {
	fmt.Fprintf(w, "ISP outage beyond the next hop (WAN_GATEWAY=%s; next hop: %s):\n", cfg.WanGateway, hop)
	if cfg.WanGateway == config.GatewayOff {
		fmt.Fprintln(w, "  WAN_GATEWAY=off: the next hop is not asked, so an ISP outage runs the ladder above")
		fmt.Fprintln(w, "  (router reboots, cooling, SOS and the host's step).")
		return PlanResult{}
	}
	res := SimulateHop(cfg, now, PlanHorizon, HopAnswers)
	fmt.Fprintln(w, "the next hop keeps answering while nothing beyond it does.")
	for _, line := range Timeline(res) {
		if !strings.HasPrefix(line, "  (no SOS") {
			fmt.Fprintln(w, line)
		}
	}
	fmt.Fprintf(w, "  within %v: L1 %d, L2 %d, %d router reboots, %s; the run after the next hop stops\n",
		PlanHorizon, res.Actions[L1], res.Actions[L2], res.Reboots, sosWord(res))
	fmt.Fprintln(w, "  answering, the ladder goes on where it is (an L3 at once, past L3_THRESHOLD).")
	return res
}

func sosWord(r PlanResult) string {
	if r.SOS.IsZero() {
		return "no SOS"
	}
	return "SOS at " + r.SOS.Format("Mon 15:04")
}

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
