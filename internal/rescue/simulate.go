package rescue

import (
	"fmt"
	"time"

	"github.com/pve-op/network-rescue/internal/assist"
	"github.com/pve-op/network-rescue/internal/config"
	"github.com/pve-op/network-rescue/internal/ladder"
	"github.com/pve-op/network-rescue/internal/qm"
)

// HostEvery is how often cron runs hostcheck (SPEC §0).
const HostEvery = 5 * time.Minute

// JointEvent is one line of the joint timeline.
type JointEvent struct {
	At   time.Time
	Side string // "router" or "host"
	Text string
}

// JointResult is a total outage with both sides at work.
type JointResult struct {
	Start         time.Time
	Events        []JointEvent
	FirstSOS      time.Time
	VMRestart     time.Time
	HostReboot    time.Time // zero: none within the horizon
	RouterReboots int
}

// SimulateJoint runs the router's ladder each minute and the host's
// decision every five minutes (at :00, :05 …) on one simulated clock, with
// the internet down throughout, until the host reboots or horizon. Both
// sides run their real Decide; the host's actions act on the simulated
// router (a VM restart reboots it and removes SOS; a host reboot
// acknowledges SOS and resets its count).
func SimulateJoint(rcfg, hcfg config.Config, start time.Time, horizon time.Duration) JointResult {
	hcfg.DryRun = false
	start = start.Truncate(time.Minute)
	res := JointResult{Start: start}
	r := ladder.NewRouter(rcfg, start)
	var hs State
	hostBoot := start.Add(-30 * 24 * time.Hour)
	confirmed := false
	for now := start.Add(ladder.RunEvery); now.Sub(start) <= horizon; now = now.Add(ladder.RunEvery) {
		step, ran, reset := r.Tick(now, false)
		if reset {
			res.Events = append(res.Events, JointEvent{now, "router", "midnight-reset: count 0, cooling and SOS cleared"})
		}
		if ran {
			if line := ladder.Describe(ladder.PlanEvent{At: now, Action: step.Action, Step: step}); line != "" {
				res.Events = append(res.Events, JointEvent{now, "router", line})
			}
			if step.Action == ladder.L3 {
				res.RouterReboots++
			}
			if r.State.SOS && res.FirstSOS.IsZero() {
				res.FirstSOS = now
			}
		}
		if now.Sub(now.Truncate(HostEvery)) != 0 {
			continue
		}
		obs := Obs{Now: now, Uptime: now.Sub(hostBoot), BootID: "host", NetKnown: true, NetUp: false,
			NetDetail: "simulated", RouterKnown: true, LANKnown: true, GuardsKnown: true,
			VMKnown: true, VM: VMStatus{Status: "running", QMP: "running"}} // the VM runs; its guest may not
		if !r.Up(now) {
			obs.Router.Err = "router rebooting"
		} else {
			obs.Router = Router{SOS: r.State.SOS, SOSContent: "count=" + fmt.Sprint(r.State.Count), Count: fmt.Sprint(r.State.Count)}
			obs.LANUp = true
		}
		hstep := Decide(hcfg, hs, obs)
		if obs.Router.SOS && !confirmed {
			confirmed = true
			res.Events = append(res.Events, JointEvent{now, "host", "【确认】 hostcheck sees SOS"})
		}
		if hstep.Next.HeldReboot != "" && hs.HeldReboot == "" {
			w := hcfg.HostRebootHours
			res.Events = append(res.Events, JointEvent{now, "host", fmt.Sprintf("【推迟】 HOST_REBOOT_HOURS=%s holds the host reboot until %s, kept while the outage lasts",
				w, w.Next(now).Format("Mon 15:04"))})
		}
		hs = hstep.Next
		switch hstep.Action {
		case VMRestart:
			confirmed = false
			r.State.SOS, r.State.SOSContent = false, ""
			r.Reboot(now)
			res.VMRestart = now
			res.Events = append(res.Events, JointEvent{now, "host", fmt.Sprintf("VM cold restart of the router (qm stop/start %s); SOS removed, count kept", hcfg.VMID)})
		case HostReboot:
			r.State.SOS, r.State.SOSContent, r.State.Count, r.State.Cooling = false, "", 0, time.Time{}
			res.HostReboot = now
			res.Events = append(res.Events, JointEvent{now, "host", "host reboot (once today): SOS acknowledged, router count reset"})
			return res
		}
	}
	return res
}

// VMFault is a fault of the router VM that only the host sees (SPEC §13):
// the router's own ladder is not running, so no SOS ever comes.
type VMFault int

// The VM fault classes of `hostcheck plan` and rescuetime.
const (
	VMStopped     VMFault = iota + 1 // the VM crashed or was stopped
	VMHungAgent                      // QEMU runs, the guest is frozen, its agent enabled and silent
	VMHungNoAgent                    // the same without a guest agent
)

// VMFaults lists the classes in the order they are shown.
var VMFaults = []VMFault{VMStopped, VMHungAgent, VMHungNoAgent}

func (f VMFault) String() string {
	switch f {
	case VMStopped:
		return "router VM stopped"
	case VMHungAgent:
		return "router VM hung (agent)"
	case VMHungNoAgent:
		return "router VM hung (no agent)"
	}
	return "?"
}

// AgentTimeout bounds `qm guest cmd VMID ping`: an agent that has not
// answered by then does not answer (SPEC §13).
const AgentTimeout = 20 * time.Second

// SimulateVMFault runs the host's real Decide every HostEvery on a
// simulated clock, with the router VM in fault f and the internet down
// from at, until the step that fixes f starts (a start, a cold restart or
// the host reboot). It returns that moment minus at: the cron tick plus
// the acting run's observations at their bounds (the probe's
// PROBE_TIMEOUT; for a hung VM also SSH_TIMEOUT, the LAN ping and the
// agent's ping), and the action. hcfg must have VM_ID set.
func SimulateVMFault(hcfg config.Config, f VMFault, at time.Time, horizon time.Duration) (time.Duration, Action, bool) {
	return simulateHost(hcfg, at, horizon, func(o *Obs) time.Duration {
		o.RouterKnown, o.Router, o.LANKnown, o.VMKnown, o.VMConfigKnown, o.AgentKnown = true, Router{Err: "timeout"}, true, true, true, true
		observed := hcfg.ProbeTimeout
		switch f {
		case VMStopped:
			o.VM = VMStatus{Status: "stopped", QMP: "stopped"}
		case VMHungAgent, VMHungNoAgent:
			o.VM = VMStatus{Status: "running", QMP: "running"}
			o.VMConfig.AgentEnabled = f == VMHungAgent
			o.Agent = qm.PingNoAnswer
			observed += hcfg.SSHTimeout + hcfg.ProbeTimeout
			if f == VMHungAgent {
				observed += AgentTimeout
			}
		}
		return observed
	}, func(s Step) bool { return s.Action != None })
}

// simulateHost runs the host's real Decide every HostEvery on a simulated
// clock from at: observe fills each run's observation (what the internet
// probe saw is set already: down) and returns how long observing it took;
// the first step that fixed accepts ends it, with that moment minus at and
// the step's action.
func simulateHost(hcfg config.Config, at time.Time, horizon time.Duration, observe func(o *Obs) time.Duration, fixed func(Step) bool) (time.Duration, Action, bool) {
	hcfg.DryRun = false
	var hs State
	hostBoot := at.Add(-30 * 24 * time.Hour)
	for now := at.Truncate(HostEvery).Add(HostEvery); now.Sub(at) <= horizon; now = now.Add(HostEvery) {
		o := Obs{Now: now, Uptime: now.Sub(hostBoot), BootID: "host", NetKnown: true, NetDetail: "simulated", GuardsKnown: true}
		observed := observe(&o)
		s := Decide(hcfg, hs, o)
		hs = s.Next
		if fixed(s) {
			return now.Add(observed).Sub(at), s.Action, true
		}
	}
	return 0, None, false
}

// LANFaultClass is a fault only the LAN sees (SPEC §14), named by the
// router-side step that fixes it.
type LANFaultClass int

// The LAN fault classes of rescuetime.
const (
	LANDNSDead      LANFaultClass = iota + 1 // the router's DNS forwarder died: assist dns
	LANPathByL2                              // forwarding or NAT broken, a network restart fixes it
	LANPathByReboot                          // forwarding broken until the router reboots
)

// LANFaultClasses lists the classes in the order they are shown.
var LANFaultClasses = []LANFaultClass{LANDNSDead, LANPathByL2, LANPathByReboot}

func (f LANFaultClass) String() string {
	switch f {
	case LANDNSDead:
		return "DNS forwarder dead"
	case LANPathByL2:
		return "LAN path broken (L2 fixes)"
	case LANPathByReboot:
		return "LAN path broken (reboot fixes)"
	}
	return "?"
}

// SimulateLANFault runs the host's real Decide every HostEvery on a
// simulated clock with a fault of class f from at: the router answers SSH,
// raises no SOS and reports itself up, while the host sees no internet (a
// LAN path fault) or no DNS through the router. It returns the time from
// the fault to the moment the fixing step starts (the cron tick plus the
// run's PROBE_TIMEOUT) and the action that started it.
func SimulateLANFault(hcfg config.Config, f LANFaultClass, at time.Time, horizon time.Duration) (time.Duration, Action, bool) {
	return simulateHost(hcfg, at, horizon, func(o *Obs) time.Duration {
		o.NetUp = f == LANDNSDead // IP answers, DNS does not
		o.DNSKnown, o.RouterKnown, o.Router = true, true, Router{SelfKnown: true, SelfUp: true, Count: "0"}
		o.LANKnown, o.LANUp, o.VMKnown, o.VM = true, true, true, VMStatus{Status: "running", QMP: "running"}
		return hcfg.ProbeTimeout
	}, func(s Step) bool {
		switch {
		case s.Action == HostReboot: // restarts the router VM with it
			return true
		case f == LANDNSDead:
			return s.Action == Assist && s.Assist == assist.DNS
		case f == LANPathByL2:
			return s.Action == Assist && s.Assist == assist.Network
		}
		return s.Action == Assist && s.Assist == assist.Reboot || s.Action == VMRestart
	})
}
