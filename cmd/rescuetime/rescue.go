package main

import (
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"github.com/pve-op/network-rescue/internal/config"
	"github.com/pve-op/network-rescue/internal/ladder"
	"github.com/pve-op/network-rescue/internal/rescue"
)

// fault is a class of fault, named by the least disruptive step that fixes
// it: the net comes back right after that step (or any stronger one).
type fault int

const (
	byL1 fault = iota + 1
	byL2
	byRouterReboot
	byHostReboot
)

var faults = []fault{byL1, byL2, byRouterReboot, byHostReboot}

func (f fault) String() string {
	switch f {
	case byL1:
		return "L1 (redial WAN)"
	case byL2:
		return "L2 (restart network+firewall)"
	case byRouterReboot:
		return "router reboot (L3)"
	case byHostReboot:
		return "host reboot (after SOS)"
	}
	return "?"
}

// horizon bounds every simulation.
const horizon = 48 * time.Hour

// faultBase is when the simulated faults happen (plus a phase): a weekday
// morning, so that no midnight-reset falls inside even the longest rescue.
func faultBase() time.Time { return time.Date(2024, 3, 5, 8, 0, 0, 0, time.UTC) }

// routerStrength ranks the router's steps against the fault classes: a
// fault of class f is fixed by any step at least as strong as f.
func routerStrength(a ladder.Action) fault {
	switch a {
	case ladder.L1:
		return byL1
	case ladder.L2:
		return byL2
	case ladder.L3:
		return byRouterReboot
	}
	return 0
}

// netrescueTime runs the real decisions — the router's ladder once a cron
// minute and the host's rescue every five minutes, as ladder.Router and
// rescue.SimulateJoint do — with the internet down from at until a step
// strong enough for f starts. It returns the time from the fault to the
// moment that step's command starts: the cron tick plus the run's probe,
// which waits its whole PROBE_TIMEOUT when nothing answers.
func netrescueTime(rcfg, hcfg config.Config, f fault, at time.Time) (time.Duration, bool) {
	hcfg.DryRun = false
	r := ladder.NewRouter(rcfg, at)
	var hs rescue.State
	hostBoot := at.Add(-30 * 24 * time.Hour)
	for now := at.Truncate(ladder.RunEvery).Add(ladder.RunEvery); now.Sub(at) <= horizon; now = now.Add(ladder.RunEvery) {
		step, ran, _ := r.Tick(now, false)
		if ran && step.Action != ladder.None && routerStrength(step.Action) >= f {
			return now.Add(rcfg.ProbeTimeout).Sub(at), true
		}
		if !now.Truncate(rescue.HostEvery).Equal(now) {
			continue
		}
		obs := rescue.Obs{Now: now, Uptime: now.Sub(hostBoot), BootID: "host", NetKnown: true,
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
		case rescue.VMRestart: // a cold restart of the router VM is a router reboot
			if f <= byRouterReboot {
				return now.Add(hcfg.ProbeTimeout).Sub(at), true
			}
			r.State.SOS, r.State.SOSContent = false, ""
			r.Reboot(now)
		case rescue.HostReboot: // reboots the router VM with it: fixes every class
			return now.Add(hcfg.ProbeTimeout).Sub(at), true
		}
	}
	return 0, false
}

// stats sums up the times of one fault class over the phases tried.
type stats struct {
	median, best, worst time.Duration
	n, missed           int  // tries; tries not rescued within the horizon
	never               bool // no step of the model ever fixes it
}

func summarize(ds []time.Duration, missed int) stats {
	s := stats{n: len(ds) + missed, missed: missed}
	if len(ds) == 0 {
		return s
	}
	slices.Sort(ds)
	s.best, s.worst = ds[0], ds[len(ds)-1]
	if len(ds)%2 == 1 {
		s.median = ds[len(ds)/2]
	} else {
		s.median = (ds[len(ds)/2-1] + ds[len(ds)/2]) / 2
	}
	return s
}

// phaseStep is the spacing of the fault instants tried for netrescue:
// across five minutes they cover every position against the minute cron
// of the router and the five-minute cron of the host.
const phaseStep = 5 * time.Second

func netrescueStats(rcfg, hcfg config.Config, f fault) stats {
	var ds []time.Duration
	missed := 0
	for u := time.Duration(0); u < rescue.HostEvery; u += phaseStep {
		if d, ok := netrescueTime(rcfg, hcfg, f, faultBase().Add(u)); ok {
			ds = append(ds, d)
		} else {
			missed++
		}
	}
	return summarize(ds, missed)
}

// row is one line of the table.
type row struct {
	name                string
	netrescue, original stats
}

// vmRescueStats is the time to rescue of a router VM fault (SPEC §13) from
// the host's real decision, over every phase against its five-minute cron.
// The config gets VM_ID=100 when it has none: without it nothing acts.
func vmRescueStats(hcfg config.Config, f rescue.VMFault) stats {
	if hcfg.VMID == "" {
		hcfg.VMID = "100"
	}
	return hostPhases(func(at time.Time) (time.Duration, rescue.Action, bool) {
		return rescue.SimulateVMFault(hcfg, f, at, horizon)
	})
}

// hostPhases runs a simulation of the host's decision for every phase of
// the fault against its five-minute cron and sums the times up.
func hostPhases(sim func(at time.Time) (time.Duration, rescue.Action, bool)) stats {
	var ds []time.Duration
	missed := 0
	for u := time.Duration(0); u < rescue.HostEvery; u += phaseStep {
		if d, _, ok := sim(faultBase().Add(u)); ok {
			ds = append(ds, d)
		} else {
			missed++
		}
	}
	return summarize(ds, missed)
}

func table(rcfg, hcfg config.Config) []row {
	var rows []row
	for _, f := range faults {
		rows = append(rows, row{name: f.String(), netrescue: netrescueStats(rcfg, hcfg, f), original: originalStats(f)})
	}
	// A stopped or hung router VM raises no SOS, and the original host
	// script only ever acted on SOS: it never helps.
	for _, f := range rescue.VMFaults {
		rows = append(rows, row{name: f.String(), netrescue: vmRescueStats(hcfg, f), original: stats{never: true}})
	}
	// A fault only the LAN sees (SPEC §14): the router is up by its own
	// probe and raises no SOS; the original scripts never helped either.
	for _, f := range rescue.LANFaultClasses {
		rows = append(rows, row{name: f.String(), netrescue: lanRescueStats(hcfg, f), original: stats{never: true}})
	}
	return rows
}

// lanRescueStats is the time to rescue of a fault only the LAN sees from
// the host's real decision, over every phase against its five-minute cron.
func lanRescueStats(hcfg config.Config, f rescue.LANFaultClass) stats {
	return hostPhases(func(at time.Time) (time.Duration, rescue.Action, bool) {
		return rescue.SimulateLANFault(hcfg, f, at, horizon)
	})
}

// minutes prints a duration as minutes with one decimal, or as 7h45m past
// an hour.
func minutes(d time.Duration) string {
	if d >= time.Hour {
		d = d.Round(time.Minute)
		return fmt.Sprintf("%dh%02dm", int(d.Hours()), int(d.Minutes())%60)
	}
	return fmt.Sprintf("%.1f", d.Minutes())
}

func (s stats) String() string {
	if s.never {
		return "never"
	}
	if s.n == s.missed {
		return fmt.Sprintf("not within %v", horizon)
	}
	unit := ""
	if s.worst < time.Hour {
		unit = " min"
	}
	out := fmt.Sprintf("%s%s (%s–%s)", minutes(s.median), unit, minutes(s.best), minutes(s.worst))
	if s.missed > 0 {
		out += fmt.Sprintf(", %d of %d not within %v", s.missed, s.n, horizon)
	}
	return out
}

func ratio(r row) string {
	if r.netrescue.median <= 0 || r.original.median <= 0 {
		return "–"
	}
	return fmt.Sprintf("%.2f×", float64(r.original.median)/float64(r.netrescue.median))
}

const explain = `Time to rescue: from the fault to the moment the step that fixes it starts,
as median (best–worst) over where the fault falls against cron and the loops.
netrescue: the real decision code (ladder.Router, rescue.Decide) on a simulated
clock: netcheck every minute, hostcheck every 5 minutes, a router reboot takes
1 minute, the acting run's probe waits its whole PROBE_TIMEOUT. Original: a
model of the original scripts (cmd/rescuetime/original.go): router loop =
ping -c 2 -W 5 www.baidu.com (assumed 11 s when down: lookup, then pings) +
sleep 60; L1/L2/L3 at retry 2/5/>=10; SOS at 10 reboots; cooling 1/2/3 h after
reboots 7/8/9; host loop every 2 h. The command's own duration (ifup, a reboot)
comes on top, the same for both. Faults start at 08:00 on a weekday.
Router VM rows (VM_ID set; rescue.SimulateVMFault): the router's own ladder is
dead, the host's run counts its observations at their bounds (PROBE_TIMEOUT;
for a hung VM also SSH_TIMEOUT, the LAN ping and 20 s for the agent's ping).
LAN rows (rescue.SimulateLANFault): the router is up by its own probe; the
host sees the fault twice, then asks the router for one step per run.`

func writeText(w io.Writer, rows []row) {
	fmt.Fprintln(w, explain)
	fmt.Fprintln(w)
	fmt.Fprintf(w, "%-31s %-30s %-30s %s\n", "fault fixed by", "netrescue (defaults)", "original scripts (model)", "original/netrescue")
	for _, r := range rows {
		fmt.Fprintf(w, "%-31s %-30s %-30s %s\n", r.name, r.netrescue, r.original, ratio(r))
	}
}

func writeMarkdown(w io.Writer, rows []row) {
	for _, l := range strings.Split(explain, "\n") {
		fmt.Fprintln(w, strings.TrimSpace(l))
	}
	fmt.Fprintln(w)
	fmt.Fprintln(w, "| fault fixed by | netrescue (defaults) | original scripts (model) | original ÷ netrescue (median) |")
	fmt.Fprintln(w, "|---|---|---|---|")
	for _, r := range rows {
		fmt.Fprintf(w, "| %s | %s | %s | %s |\n", r.name, r.netrescue, r.original, ratio(r))
	}
}
