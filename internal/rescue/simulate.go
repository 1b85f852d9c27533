package rescue

import (
	"fmt"
	"time"

	"github.com/pve-op/network-rescue/internal/config"
	"github.com/pve-op/network-rescue/internal/ladder"
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
			obs.Router = Router{SOS: r.State.SOS, SOSContent: "count=" + fmt.Sprint(r.State.Count)}
			obs.LANUp = true
		}
		hstep := Decide(hcfg, hs, obs)
		hs = hstep.Next
		if obs.Router.SOS && !confirmed {
			confirmed = true
			res.Events = append(res.Events, JointEvent{now, "host", "【确认】 hostcheck sees SOS"})
		}
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
