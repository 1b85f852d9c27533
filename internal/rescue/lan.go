package rescue

import (
	"log/slog"
	"slices"
	"strings"
	"time"

	"github.com/pve-op/network-rescue/internal/assist"
)

// Faults only the LAN sees (SPEC §14): the router reports itself up (no
// SOS, its own last probe up) while the host, on the LAN, has no internet.
const (
	LANDNS  = "dns"  // the IP targets answer, the router's DNS forwarder does not resolve
	LANPath = "path" // the IP targets do not answer from the LAN: forwarding, NAT, conntrack
)

// LANHostStep, as a LAN fault's only step done, says that the host
// rebooted for it (rebootHost): the ladder starts over on the new host,
// unless that reboot misfired in this boot, when it is retried.
const LANHostStep = "host"

// LANSeenBefore is how many host runs in a row must see a LAN fault before
// the first step: a blip is not a fault.
const LANSeenBefore = 2

// lanFault classifies the run: a LAN fault, or "" when the router sees
// the outage itself (its own ladder is at work) or its view is unknown.
func (d *decider) lanFault() string {
	switch {
	case !d.routerSelfUp():
		return ""
	case d.o.NetUp && d.o.DNSKnown && !d.o.DNSOK:
		return LANDNS
	case !d.o.NetUp:
		return LANPath
	}
	return ""
}

// routerSelfUp reports whether the router's own view is known and says
// its internet is up (Router.SelfKnown, SelfUp). For NoNetcheckHold after
// the router answered that it cannot run netcheck (State.NoNetcheckAt) it
// is unknown, whatever net_outage's absence seemed to say.
func (d *decider) routerSelfUp() bool {
	r := d.o.Router
	return r.SelfKnown && r.SelfUp && !d.step.Next.noNetcheck(d.o.Now)
}

// NoNetcheckHold is how long the router's answer that it cannot run
// netcheck (State.NoNetcheckAt) leaves its own view unknown: an hour,
// LANHoldRuns host runs at the default five minutes, as long as "not now"
// answers may hold a LAN fault's steps. Then a LAN fault is diagnosed and
// its step asked for again: a router whose owner installed netcheck since
// (what the 【LAN】 line and status ask for), or whose 127 was passing,
// gets its LAN steps and the host's reboot after them; held for the rest
// of the outage, a LAN path fault (no SOS, the outage never ending by
// itself) had none. A router still without netcheck answers again and
// is held again: one ask, one warning, an hour. A time, not a count of
// runs as LANHeld is: LANHeld counts the router's answers, one per run
// that asked, while under this hold no run asks, and a count of runs
// would rewrite hostcheck.state at every run of the outage, where one
// stamp is written with the answer.
const NoNetcheckHold = LANHoldRuns * 5 * time.Minute

// NoNetcheckUntil is when the router's answer that it cannot run netcheck
// stops holding (NoNetcheckHold): the zero time when there was none.
func (st State) NoNetcheckUntil() time.Time {
	if st.NoNetcheckAt.IsZero() {
		return time.Time{}
	}
	return st.NoNetcheckAt.Add(NoNetcheckHold)
}

// noNetcheck reports whether the router's answer that it cannot run
// netcheck holds at now. An answer dated after now (the clock stepped
// back) does not: the router is asked again, and its answer is dated by
// the clock as it is. The hold ends at the run of the cron tick an hour
// after the answer's (cronSlack): counted to the millisecond, that run
// read its clock before the end about half the time and held the fault
// five minutes past the time the 【LAN】 line said.
func (st State) noNetcheck(now time.Time) bool {
	return !st.NoNetcheckAt.IsZero() && !st.NoNetcheckAt.After(now) && now.Add(cronSlack).Before(st.NoNetcheckUntil())
}

// lanStep takes one LAN-side step per host run, in the order of SPEC §14:
// dns (a DNS fault only) → network → reboot (the VM cold restart with
// VM_ID) → the host reboot under §6's rules, for a LAN path fault only (a
// DNS fault with the IP targets answering through the host's bridge is not
// the host's). A step is recorded in the new state before it is asked for,
// so no run repeats it.
func (d *decider) lanStep(kind string) {
	n := &d.step.Next
	if n.LANFault != kind {
		n.LANFault, n.LANSeen, n.LANSteps, n.LANHeld = kind, 0, "", 0
	}
	n.LANSeen++
	msg := "【LAN】局域网侧故障：OpenWrt 自身网络正常，局域网却无法上网。"
	if kind == LANDNS {
		msg = "【LAN】DNS 故障：IP 可达，但 OpenWrt 的 DNS 转发不解析。"
	}
	d.log(slog.LevelWarn, msg, slog.String("fault", kind), slog.Int("seen", n.LANSeen),
		slog.String("probe", d.o.NetDetail), slog.String("dns", d.o.DNSDetail), slog.String("steps_done", n.LANSteps))
	if kind == LANPath && n.HeldReboot != "" {
		// A host reboot is still due in this outage (held by
		// HOST_REBOOT_HOURS): the ladder that led to it is not climbed
		// again first.
		d.heldReboot()
		return
	}
	if n.LANSteps == LANHostStep {
		if kind == LANPath && n.MisfireBoot != "" && n.MisfireBoot == d.o.BootID {
			// The host's reboot for this fault misfired in this boot
			// (【回退】): what is due is that reboot again, under §6's
			// rules (Store.Misfire gave the day back), not the router's
			// steps, taken already, again.
			reason := "LAN fault (" + kind + ") after the host's reboot misfired"
			if (d.cfg.VMID != "" && d.vmLocked) || !d.guards() || d.hostRebootHeld(reason, false) {
				return
			}
			d.log(slog.LevelError, "【LAN】上次为局域网故障重启 PVE 物理机未生效，故障仍在，重试重启 PVE 物理机。",
				slog.String("fault", kind), slog.String("misfire_date", n.MisfireDate))
			d.rebootHost(reason)
			return
		}
		// The host rebooted for it (another boot, another day): the
		// fault on a new host, its ladder from the start.
		n.LANSteps = ""
		if n.LANSeen > 1 {
			n.LANSeen = 1
		}
	}
	if n.LANSeen < LANSeenBefore {
		return // seen once: wait for the next run (a blip is not a fault)
	}
	done := strings.Split(n.LANSteps, ",")
	var steps []assist.Step
	if kind == LANDNS {
		steps = append(steps, assist.DNS)
	}
	steps = append(steps, assist.Network, assist.Reboot)
	for _, st := range steps {
		if slices.Contains(done, string(st)) {
			continue
		}
		if st == assist.Reboot && d.cfg.VMID != "" && !d.lanVMRestart(kind) {
			return
		}
		if d.held(Assist) {
			return
		}
		n.LANSteps = joinStep(n.LANSteps, st)
		d.step.Action, d.step.Assist = Assist, st
		d.log(slog.LevelWarn, "【LAN】请求 OpenWrt 协助。", slog.String("step", string(st)), slog.String("fault", kind))
		return
	}
	if kind == LANDNS {
		// The host reaches the IP targets through its own bridge, so its
		// reboot cannot fix a DNS fault; what is left is upstream (the
		// ISP's resolvers), which no reboot here fixes either.
		d.log(slog.LevelWarn, "【LAN】OpenWrt 侧的步骤都已尝试，DNS 仍不通；IP 可达，物理机网桥无碍，不重启 PVE 物理机 (多半是上游 DNS)。",
			slog.String("fault", kind), slog.String("steps_done", n.LANSteps))
		return
	}
	// Every router-side step was tried: the fault may be the host's own
	// bridge. The host reboot, under §6's rules.
	reason := "LAN fault (" + kind + ") after " + n.LANSteps
	if d.cfg.VMID != "" && d.vmLocked {
		// A migration, a snapshot or a backup holds the router VM (said
		// with 【推迟】, or a lock left behind with its qm unlock): no
		// host reboot under it, as with SOS (sosStep) and a held reboot.
		return
	}
	if !d.guards() || d.hostRebootHeld(reason, false) {
		return
	}
	d.log(slog.LevelError, "【LAN】OpenWrt 侧的步骤都已尝试，故障仍在，重启 PVE 物理机 (可能是主机网桥)。",
		slog.String("fault", kind), slog.String("steps_done", n.LANSteps))
	d.rebootHost(reason)
}

// lanVMRestart is the reboot step with the router as a VM: the VM's cold
// restart (once a day), or, when the day's is spent or qm fails twice,
// the router's own reboot, asked as any step (it answers SSH: a LAN
// fault). It was skipped then, and the host rebooted after only the
// network step, with the router's reboot, far less, never tried. It
// reports whether the router is to be asked.
func (d *decider) lanVMRestart(kind string) bool {
	n := &d.step.Next
	if d.vmLocked {
		return false // a migration or backup holds the VM (logged 【推迟】): no VM action, no host reboot under it
	}
	if spent(n.VMRestartDate, d.o.Now) {
		return true
	}
	if d.vmUnknown {
		// qm cannot say the VM's state: the SOS path's rule. Once may
		// pass; twice in a row, the router is asked instead.
		return d.qmFailedTwice("改为请求 OpenWrt 自行重启", "改为请求 OpenWrt 自行重启")
	}
	if !d.vmGuards() || d.held(VMRestart) {
		return false // a pause holds the step before it is recorded: not spent
	}
	n.LANSteps = joinStep(n.LANSteps, assist.Reboot)
	d.vmRestart("LAN 故障 (" + kind + ")：网络重启无效，冷重启路由虚拟机")
	return false
}

func joinStep(done string, st assist.Step) string {
	if done == "" {
		return string(st)
	}
	return done + "," + string(st)
}

// LANHoldRuns is how many times the router may answer "not now" (cooling,
// just booted, busy) to a LAN fault's steps before such a refusal counts
// as the step tried: an hour of host runs at the default five minutes.
const LANHoldRuns = 12

// WhyNotRunnable is the host's own answer for a LAN step whose command
// the router could not run (OP_NETCHECK not found or not executable:
// netcheck not installed there, the original scripts still running). The
// router's own view (no net_outage) then says nothing, and every outage
// read as a LAN fault: climbing past steps never taken rebooted the host
// 15 minutes into any outage with no SOS, and holding the step asked for
// it again, with "OpenWrt 自身网络正常", every run of the outage. The
// router's view is unknown for NoNetcheckHold (State.NoNetcheckAt): no
// LAN fault, and an SOS, if one comes, is the host's, as with the
// original scripts; then it is asked again.
const WhyNotRunnable = "not-runnable"

// WhyNotSent is the host's own answer for a LAN step whose request never
// reached the router's shell: the SSH connection, session or exec request
// failed (refused; a timeout, as under a full conntrack table). Nothing
// ran, so the step is not taken; as a "not now" it is bounded by
// LANHoldRuns, so that a router that never takes a request cannot hold
// the host's own reboot for good.
const WhyNotSent = "not-sent"

// WhyRouterConfig is the host's own answer for a LAN step that netcheck
// on the router refused as a configuration or usage error (exit 2 and no
// result line: its config group-writable or mistyped, a binary too old to
// know assist). Nothing ran; bounded as WhyNotSent is.
const WhyRouterConfig = "router-config"

// Refused answers a router's refusal of the LAN step just asked for (SPEC
// §14). A refusal that says "not now" did not take the step, so it is
// taken off the steps done, and the next run asks again; else the host
// would climb to the VM's cold restart or its own reboot over steps that
// never ran: always while the router is paused (the owner's maintenance,
// SPEC §16, at most 7 days), and for a cooling, a router just booted or a
// busy one up to LANHoldRuns such answers in this fault (State.LANHeld),
// so that none of them holds the house offline for good (a router whose
// uptime cannot be read answers "just booted" for ever); a request that
// never reached the router (WhyNotSent) or that its netcheck refused as a
// configuration error (WhyRouterConfig) is held as those are. The runs of a
// pause do not count. A refusal that does not end by
// itself (the daily limit, SOS raised, a router left in DRY_RUN) leaves
// the step done: what is left is the host's, under §6's rules. A router
// that cannot run netcheck (WhyNotRunnable) is dated now, the run's time
// (State.NoNetcheckAt). ok is false when the refusal leaves the state as
// it is.
func Refused(next State, st assist.Step, why string, now time.Time) (back State, ok bool) {
	switch why {
	case WhyNotRunnable:
		// No step was taken, and none can be: the fault, which only the
		// router's view (net_outage, netcheck's) made a LAN fault, goes
		// until the hold ends (NoNetcheckHold).
		next.LANFault, next.LANSeen, next.LANSteps, next.LANHeld, next.NoNetcheckAt = "", 0, "", 0, now
		return next, true
	case assist.WhyPause:
	case assist.WhyCooling, assist.WhySafeUptime, assist.WhyBusy, WhyNotSent, WhyRouterConfig:
		if next.LANHeld >= LANHoldRuns {
			return next, false
		}
		next.LANHeld++
	default:
		return next, false
	}
	done := strings.Split(next.LANSteps, ",")
	if len(done) == 0 || done[len(done)-1] != string(st) {
		return next, false
	}
	next.LANSteps = strings.Join(done[:len(done)-1], ",")
	return next, true
}
