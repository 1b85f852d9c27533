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
