package main

import (
	"fmt"
	"io"
	"slices"
	"time"

	"github.com/pve-op/network-rescue/internal/config"
	"github.com/pve-op/network-rescue/internal/ladder"
	"github.com/pve-op/network-rescue/internal/rescue"
)

// An ISP outage beyond the router's next hop (SPEC §14) is a fault nothing
// in the house can fix: the figure is not a time to rescue but the
// disruptive actions (router reboots, router VM cold restarts, host
// reboots) taken while it lasts. The goal is 0.

// ispWindow is how long the simulated ISP outage lasts: from 08:00, so
// that no midnight-reset falls inside it.
const ispWindow = 12 * time.Hour

// ispCount is what one simulated ISP outage cost.
type ispCount struct {
	routerReboots, vmRestarts, hostReboots, sos, l1, l2 int
}

func (c ispCount) disruptive() int { return c.routerReboots + c.vmRestarts + c.hostReboots }

// netrescueISP runs the real decisions — the router's ladder every cron
// minute, seeing the next hop as hop, and the host's rescue every five
// minutes — through an ISP outage from at, counting what they do. A host
// reboot reboots the router VM with it and acknowledges SOS (SPEC §6), a
// VM cold restart reboots the router, as in netrescueTime; here the
// outage goes on after them.
func netrescueISP(rcfg, hcfg config.Config, hop ladder.Hop, at time.Time) ispCount {
	hcfg.DryRun = false
	var c ispCount
	r := ladder.NewRouter(rcfg, at)
	r.NextHop = hop
	var hs rescue.State
	hostBoot, hostBootN := at.Add(-30*24*time.Hour), 0
	for now := at.Truncate(ladder.RunEvery).Add(ladder.RunEvery); now.Sub(at) <= ispWindow; now = now.Add(ladder.RunEvery) {
		hadSOS := r.State.SOS
		step, ran, _ := r.Tick(now, false)
		if ran {
			switch step.Action {
			case ladder.L1:
				c.l1++
			case ladder.L2:
				c.l2++
			case ladder.L3:
				c.routerReboots++
			}
			if r.State.SOS && !hadSOS {
				c.sos++
			}
		}
		if !now.Truncate(rescue.HostEvery).Equal(now) || now.Before(hostBoot) {
			continue
		}
		obs := rescue.Obs{Now: now, Uptime: now.Sub(hostBoot), BootID: fmt.Sprint("host-", hostBootN), NetKnown: true,
			NetDetail: "simulated", RouterKnown: true, LANKnown: true, GuardsKnown: true,
			VMKnown: true, VM: rescue.VMStatus{Status: "running", QMP: "running"}}
		if r.Up(now) {
			obs.Router = rescue.Router{SOS: r.State.SOS, SOSContent: r.State.SOSContent, Count: fmt.Sprint(r.State.Count)}
			obs.LANUp = true
		} else {
			obs.Router.Err = "router rebooting"
		}
		hstep := rescue.Decide(hcfg, hs, obs)
		hs = hstep.Next
		switch hstep.Action {
		case rescue.VMRestart:
			c.vmRestarts++
			r.State.SOS, r.State.SOSContent = false, ""
			r.Reboot(now)
		case rescue.HostReboot:
			c.hostReboots++
			r.State.SOS, r.State.SOSContent, r.State.Count, r.State.Cooling = false, "", 0, time.Time{}
			r.Reboot(now)
			hostBoot, hostBootN = now.Add(2*time.Minute), hostBootN+1
		}
	}
	return c
}

// originalISP is the model of the original scripts through the same
// outage (their ping of www.baidu.com fails all along): routerPhase and
// hostPhase as in originalTime.
func originalISP(at time.Time, routerPhase, hostPhase time.Duration) ispCount {
	const never fault = 1 << 10 // no step fixes an ISP outage
	var c ispCount
	r := origRouter{boot: at.Add(-24 * time.Hour)}
	rNext, hNext := at.Add(routerPhase), at.Add(hostPhase)
	marked := false // the host's mark: one host reboot a day
	for end := at.Add(ispWindow); ; {
		if !hNext.Before(rNext) {
			if rNext.After(end) {
				return c
			}
			retry, rb, sos := r.retry, r.rb, r.sos
			next, _ := r.check(rNext, never)
			switch {
			case r.rb > rb && !r.sos:
				c.routerReboots++
			case r.retry != retry && r.retry == origL1:
				c.l1++
			case r.retry != retry && r.retry == origL2:
				c.l2++
			}
			if r.sos && !sos {
				c.sos++
			}
			rNext = next
			continue
		}
		if hNext.After(end) {
			return c
		}
		// ping fails, then ssh finds SOS: sync, mark, reboot; the router
		// VM reboots with the host, its count and cooling reset.
		if decided := hNext.Add(origProbeDown); !marked && r.sos && !decided.Before(r.boot) {
			c.hostReboots++
			marked = true
			r.rb, r.cooling, r.sos, r.retry = 0, time.Time{}, false, 0
			r.boot = decided.Add(origRebootTime)
			rNext = r.boot
		}
		hNext = hNext.Add(origProbeDown + origHostEvery)
	}
}

// ispRow sums an ISP outage up: disruptive actions per hour as median
// (best–worst) over where the outage falls against the loops, and the
// counts of the median case.
type ispRow struct {
	netrescue, netrescueOff, original ispSummary
}

type ispSummary struct {
	median, best, worst float64 // disruptive actions per hour
	typical             ispCount
}

func summarizeISP(cs []ispCount) ispSummary {
	slices.SortStableFunc(cs, func(a, b ispCount) int { return a.disruptive() - b.disruptive() })
	per := func(c ispCount) float64 { return float64(c.disruptive()) / ispWindow.Hours() }
	m := cs[len(cs)/2]
	return ispSummary{median: per(m), best: per(cs[0]), worst: per(cs[len(cs)-1]), typical: m}
}

func ispTable(rcfg, hcfg config.Config) ispRow {
	var auto, off, orig []ispCount
	offCfg := rcfg
	offCfg.WanGateway = config.GatewayOff
	for u := time.Duration(0); u < rescue.HostEvery; u += phaseStep {
		auto = append(auto, netrescueISP(rcfg, hcfg, ladder.HopAnswers, faultBase().Add(u)))
		off = append(off, netrescueISP(offCfg, hcfg, ladder.HopUnknown, faultBase().Add(u)))
	}
	for rp := time.Second; rp <= origSleep+origProbeUp; rp += time.Second {
		for hp := 5 * time.Minute; hp <= origHostEvery; hp += 5 * time.Minute {
			orig = append(orig, originalISP(faultBase(), rp, hp))
		}
	}
	return ispRow{netrescue: summarizeISP(auto), netrescueOff: summarizeISP(off), original: summarizeISP(orig)}
}

func (s ispSummary) String() string {
	return fmt.Sprintf("%.2f/h (%.2f–%.2f)", s.median, s.best, s.worst)
}

func (c ispCount) String() string {
	return fmt.Sprintf("%d router reboots, %d VM restarts, %d host reboots, %d SOS (L1 %d, L2 %d)",
		c.routerReboots, c.vmRestarts, c.hostReboots, c.sos, c.l1, c.l2)
}

const ispExplain = `An ISP outage beyond the router's next hop (SPEC §14) lasting %.0f h, from 08:00:
nothing in the house fixes it, so the figure is the disruptive actions (router
reboots, router VM cold restarts, host reboots) per hour while it lasts, median
(best–worst) over where it falls against the loops, and the counts of the
median case. netrescue: the real decisions as above, the next hop answering
throughout (WAN_GATEWAY=auto). Goal: 0.`

const ispName = "ISP outage beyond the next hop (disruptive actions per hour)"

func writeISPText(w io.Writer, r ispRow) {
	fmt.Fprintf(w, ispExplain+"\n\n", ispWindow.Hours())
	fmt.Fprintln(w, ispName)
	for _, l := range []struct {
		name string
		s    ispSummary
	}{{"netrescue (defaults)", r.netrescue}, {"netrescue, WAN_GATEWAY=off", r.netrescueOff}, {"original scripts (model)", r.original}} {
		fmt.Fprintf(w, "  %-27s %-20s %s\n", l.name, l.s, l.s.typical)
	}
}

func writeISPMarkdown(w io.Writer, r ispRow) {
	fmt.Fprintf(w, ispExplain+"\n\n", ispWindow.Hours())
	fmt.Fprintln(w, "| fault | netrescue (defaults) | netrescue, `WAN_GATEWAY=off` | original scripts (model) |")
	fmt.Fprintln(w, "|---|---|---|---|")
	fmt.Fprintf(w, "| %s | %s: %s | %s: %s | %s: %s |\n", ispName, r.netrescue, r.netrescue.typical,
		r.netrescueOff, r.netrescueOff.typical, r.original, r.original.typical)
}
