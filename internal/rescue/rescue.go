// Package rescue is the host's decision (SPEC §6): whether this run of
// hostcheck does nothing, cold-restarts the router VM or reboots the
// physical host. Decide is pure. A run learns things in stages — the
// internet probe, then the router over SSH, then a LAN ping, then the
// guards — and each stage costs time, so Decide says what it needs next
// (Step.Need) and the caller observes that and calls it again with more
// known. A healthy run therefore costs one probe, and `hostcheck plan`,
// `drill` and the property tests run the very same rules.
package rescue

import (
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"time"

	"github.com/pve-op/network-rescue/internal/assist"
	"github.com/pve-op/network-rescue/internal/config"
	"github.com/pve-op/network-rescue/internal/ladder"
	"github.com/pve-op/network-rescue/internal/qm"
	"github.com/pve-op/network-rescue/state"
)

// Action is what a host run does.
type Action int

// The host's steps.
const (
	None       Action = iota
	VMRestart         // qm stop + qm start of the router VM
	HostReboot        // the physical host
	VMStart           // qm start of a router VM found stopped (SPEC §13 rule 1)
	VMResume          // qm resume of a router VM found paused (SPEC §13 rule 2)
	Assist            // ask the router to take one LAN-side step (SPEC §14): Step.Assist
)

func (a Action) String() string {
	switch a {
	case VMRestart:
		return "vm-restart"
	case HostReboot:
		return "host-reboot"
	case VMStart:
		return "vm-start"
	case VMResume:
		return "vm-resume"
	case Assist:
		return "assist"
	}
	return "none"
}

// Need is the next observation the decision is waiting for.
type Need int

// The stages of a run, in order.
const (
	NeedNothing  Need = iota
	NeedNet           // probe the internet
	NeedRouter        // read the router's SOS state over SSH
	NeedLAN           // ping the router on the LAN
	NeedGuards        // backups running, cluster quorum
	NeedVM            // qm status VMID --verbose (only with VM_ID, only while the internet is down)
	NeedVMConfig      // qm config VMID: the guest agent, passthrough devices, the lock (a router unreachable that long)
	NeedAgent         // qm guest cmd VMID ping (the agent is enabled, the router silent on SSH and the LAN)
	NeedSystem        // systemctl is-system-running (a stopped VM with onboot=1 on a host booted less than MIN_HOST_UPTIME ago, or a cold restart with the uptime unread)
)

// State is what the host keeps between runs: the "rebooted today" mark
// (PVE_MARK) and a small record in STATE_DIR.
type State struct {
	Mark            state.Mark
	HasMark         bool
	DownSince       time.Time // first run that found the internet down
	RouterDownSince time.Time // first run that could not reach the router while the internet was down
	VMRestartDate   string    // local day of the last VM cold restart
	// VMStopFailDate is the local day of a cold restart whose qm stop did
	// not stop the VM (QEMU stuck): that day's restart was spent on
	// nothing, and the host's reboot is next (SPEC §13 rule 5).
	VMStopFailDate string
	// VMGaveUpDate is the local day on which a run whose host rescue was
	// spent said that nothing is left to try for a router VM that does not
	// run (its starts, the day's cold restart and the host's reboot all
	// used): said once, not at every run until midnight.
	VMGaveUpDate string
	// LeftLockDate is the local day on which a run whose host rescue was
	// spent said the backup lock left on the router VM with no backup
	// running (locked): said once, as VMGaveUpDate.
	LeftLockDate string
	// MisfireDate is the local day of the last host reboot that did not
	// happen (【回退】): a second one that day keeps the mark
	// (Store.Misfire). MisfireBoot is the boot it did not end: a run of
	// another boot finds that the reboot came after all (a shutdown that
	// was only slow) and counts it (SPEC §2: no second reboot that day).
	MisfireDate, MisfireBoot string
	// LastReboot is the local day of the last host reboot. Unlike the mark,
	// which midnight-reset deletes (the original scripts' way, and what
	// users look at), it is only ever moved forward, so that no clock step
	// or deletion can make a day that already had its reboot look fresh.
	LastReboot string
	// VMStartDate and VMStarts count today's starts of a VM found stopped
	// (SPEC §13 rule 1: at most VM_START_MAX a day, apart from the cold
	// restart) that did not bring the internet back: rule 5 escalates
	// after VM_START_MAX of them. A start is counted before qm runs (the
	// state is saved first) and forgiven once a run finds the internet up
	// after it (VMStartUnproven); a run that finds the VM running is no
	// proof (QEMU killed minutes after each start runs at every other run).
	VMStartDate string
	VMStarts    int
	// VMStartUnproven is the day whose count holds the last start or
	// resume not yet seen to work: a later run that finds the internet
	// back forgives it; a next start leaves it counted, as one that
	// failed. Only the last start waits for its proof, so the count is the
	// day's failed starts, plus one at most.
	VMStartUnproven string
	// VMStartPrevDate and VMStartsPrev keep the count of the day before
	// VMStartDate: a clock stepped forward over midnight and back (SPEC §6
	// allows steps of up to a day) must find that day's starts again.
	VMStartPrevDate string
	VMStartsPrev    int
	// PauseUntil is the end of maintenance mode (SPEC §16), zero when
	// none: until then the host observes and logs but takes no action.
	PauseUntil time.Time
	// A fault only the LAN sees (SPEC §14): its kind (LANDNS, LANPath),
	// how many runs in a row saw it, and the LAN-side steps taken for it
	// (comma-separated: dns, network, reboot).
	LANFault string
	LANSeen  int
	LANSteps string
	// LANHeld counts the router's "not now" answers (cooling, just
	// booted, busy) to this fault's steps: at LANHoldRuns they count as
	// tried (Refused).
	LANHeld int
	// NoNetcheckAt: when the router last answered, in this outage, that
	// it cannot run netcheck (WhyNotRunnable: not installed there, the
	// original scripts still running). Without it the router writes no
	// net_outage, and its absence says nothing of its own view: for
	// NoNetcheckHold after the answer no LAN fault is diagnosed, and only
	// its SOS leads to the host's steps, as with the original scripts;
	// then its view counts again, and a LAN fault is asked for again (the
	// owner may have installed netcheck since, as the 【LAN】 line and
	// status ask). Zero: no such answer. Cleared when the outage ends.
	NoNetcheckAt time.Time
	// QMFailSince is the first run, of those in a row that found the
	// internet down, whose `qm status` failed: one failure is no reason to
	// skip the VM's cold restart for the host's reboot, two in a row are.
	QMFailSince time.Time
	// HeldReboot is the reason of a host reboot that HOST_REBOOT_HOURS
	// held in the outage under way ("" none). SOS, its cause, does not
	// last: midnight-reset clears it on the router at 00:00, before a
	// window such as 1-6 opens; the held reboot is then still due in the
	// window while the outage goes on (SPEC §16).
	HeldReboot string
	// HeldSOS is the SOS that runs of the outage under way saw and took
	// no host step for (a pause held it, a guard deferred it, the router
	// did not answer on the LAN); zero when none. midnight-reset clears
	// SOS on the router at 00:00 and sets its count to 0, and the
	// router's ladder starts over (hours to its next SOS); while the
	// outage goes on, the host still answers the SOS it saw, as it does a
	// held reboot.
	HeldSOS HeldSOS
	// RouterErr is the kind of the reason SSH to the router failed
	// (Router.ErrKind) in the silence of RouterDownSince: a spent day's
	// runs say a silence again only when its kind changes.
	RouterErr string
	// RecordUnread: hostcheck.state is there but could not be read (EIO,
	// no file descriptor left). Its day counts as spent, and nothing is
	// written over it (Store.Save refuses): it may hold today's VM
	// restart, the outage's start and a held SOS.
	RecordUnread bool
}

// HeldSOS is an SOS seen and not answered yet: its text, the router's
// reboot count beside it (-1 unknown: no number in the count file nor in
// the SOS), and the day it was first seen. It is answered once the SOS is
// gone and the count lower (midnight-reset set it to 0; the router's
// ladder may have climbed a little since), or, the count unknown, once
// the day changed. Gone with the count as it was (a person deleted it:
// the router raises it again at its next L3; a read between the reset's
// two writes), it is kept; seen days ago, it is dropped.
type HeldSOS struct {
	SOS   string
	Count int
	Day   string
}

// VMStatus is what `qm status VMID --verbose` said.
type VMStatus struct {
	Err    string // non-empty: qm failed; its first stderr line
	Status string // running | stopped
	QMP    string // qmpstatus: running | paused | …
	Lock   string // the config lock (backup, migrate, snapshot, …), "" if none
}

// VMConfig is what `qm config VMID` said that SPEC §13 needs.
type VMConfig struct {
	Err          string   // non-empty: qm failed; its first stderr line
	AgentEnabled bool     // `agent: 1` or `agent: enabled=1,…`
	HostPCI      []string // passthrough keys present (hostpci0 …)
	Lock         string
	OnBoot       bool // `onboot: 1`: PVE starts it when the host boots (pve-guests.service)
}

// Paused reports a VM whose QEMU runs but whose guest is halted in a way
// `qm resume` undoes (SPEC §13 rule 2): package qm's rule, the one copy.
func (v VMStatus) Paused() bool { return qm.Status{Status: v.Status, QMPStatus: v.QMP}.Paused() }

// Router is what SSH told us about the router.
type Router struct {
	Err string // non-empty: SSH failed; the classified, readable reason
	// ErrKind is Err's kind (remote.Kind: refused, timeout, auth,
	// host_changed …): stable from run to run, where Err's text holds
	// ports and budgets.
	ErrKind string
	// SSHFile and SSHFileKind: SSH failed because a file of this host's
	// SSH (SSH_KEY, KNOWN_HOSTS) is not a regular file (SPEC §15): its
	// path and kind ("fifo", "directory" …). ErrKind then names the file
	// and the kind, so that a spent day says it when it begins or changes.
	SSHFile, SSHFileKind string
	// Damaged: the router's state files that could not be read whole
	// (SPEC §15), each by its path and kind; SOSTruncated, with SOSLimit:
	// SOS_SYSTEM was longer than SOSLimit bytes, and the rest dropped.
	Damaged      []FileDamage
	SOSTruncated bool
	SOSLimit     int
	SOSFile      string // SOS_SYSTEM's path on the router, with SOSTruncated
	SOS          bool
	SOSContent   string
	Count        string
	// NoCount: there is no net_rb_count, which reads as 0 (SPEC §5), as a
	// reset on a full flash leaves it; an empty one is damage.
	NoCount bool
	// SelfKnown says whether the router's own view could be read
	// (net_outage); SelfUp is that view: its last run found the internet up.
	SelfKnown bool
	SelfUp    bool
}

// FileDamage is a file that was not read: its path and its kind.
type FileDamage struct{ File, Kind string }

// Obs is what the run has observed so far; each *Known flag says whether
// the corresponding stage ran.
type Obs struct {
	Now    time.Time // in the local zone: calendar days are local
	Uptime time.Duration
	// UptimeUnknown: /proc/uptime could not be read (Uptime is then 0,
	// which holds the host's reboot, SPEC §6 step 4, but no VM start or
	// cold restart: vmGuards).
	UptimeUnknown bool
	BootID        string

	NetKnown  bool
	NetUp     bool
	NetDetail string
	// DNSKnown: DNS_CHECK was asked of the router's resolver in the same
	// budget as the probe; DNSOK whether it answered with an address.
	DNSKnown  bool
	DNSOK     bool
	DNSDetail string

	RouterKnown bool
	Router      Router

	LANKnown bool
	LANUp    bool

	VMKnown bool
	VM      VMStatus

	VMConfigKnown bool
	VMConfig      VMConfig

	AgentKnown bool
	Agent      qm.Ping
	AgentErr   string // with qm.PingError: the first stderr line

	GuardsKnown bool
	// Deferred: reasons every disruptive step waits for, the router VM's
	// too: a backup runs (vzdump), the cluster has no quorum now, or
	// whether it has cannot be told (pvecm failing, most often corosync
	// down: no quorum) — qm start refuses without it, and a cold restart
	// would leave the VM stopped.
	Deferred []string
	// Quorum: reasons only the host's reboot waits for: it would break
	// the cluster's quorum. Restarting one of this node's VMs leaves its
	// votes as they are.
	Quorum []string
	// Backup, with GuardsKnown: a vzdump backup runs by SPEC §15's
	// signals, or whether one does could not be told.
	Backup bool
	// NoQuorum, with GuardsKnown: the cluster has no quorum now (pvecm
	// status says "Quorate: No"), the reason said; also in Deferred.
	// pmxcfs is read-only then and qm start refuses, so the router VM's
	// start or resume waits too: tried, each failed and counted, and a
	// quorum back that day found the starts spent and rebooted the host
	// where a start would do.
	NoQuorum string
	// QuorumUnknown, with GuardsKnown: the host is in a cluster and
	// `pvecm status` failed or could not be read (corosync down, most
	// often: no quorum), or whether it is in one could not be told
	// (corosync.conf not stat'ed); also in Deferred. A qm start refused for "no
	// quorum" is then the cluster's state, and given back
	// (GiveBackStart). With pvecm saying quorate, the same refusal is
	// pmxcfs's own fault, which restarting pve-cluster or the host mends:
	// counted, so that rule 5's host reboot still comes.
	QuorumUnknown bool

	// SystemKnown: `systemctl is-system-running` was asked; SystemState is
	// the word it printed ("" when it printed none).
	SystemKnown bool
	SystemState string
}

// booting reports whether a `systemctl is-system-running` state is the
// system still booting: "initializing" (before sysinit.target) or
// "starting" (before the boot's jobs are done), in systemctl(1)'s table of
// manager operational states. pve-guests.service, whose startall starts
// the guests with onboot=1 in their startup order, is one of those jobs
// (Type=oneshot, TimeoutSec=infinity, wanted by multi-user.target), so
// the system stays "starting" until PVE has started its guests.
func booting(state string) bool { return state == "initializing" || state == "starting" }

// Up reports the internet as the family sees it: the probe answered and,
// when DNS_CHECK was asked, the router's resolver answered too (SPEC §14:
// with DNS failing the internet is down all the same). It is false while
// the net is unknown. Decide, the ON_EVENT_CMD transitions, the recovery
// message, the metrics and the heartbeat all read it, so they agree.
func (o Obs) Up() bool { return o.NetKnown && o.NetUp && (!o.DNSKnown || o.DNSOK) }

// Step is the decision so far.
type Step struct {
	Need   Need
	Action Action
	Assist assist.Step // with Action Assist: the step the router is asked for
	Events []ladder.Event
	Next   State
	Silent bool // the mark says today's rescue is spent: exit without a word
}

// Today is the local calendar day of t.
func Today(t time.Time) string { return t.Format(state.DateLayout) }

// spent reports whether date (a mark's or a VM restart's) counts as today.
// A date after today counts too: the clock was stepped back, and treating
// it as stale would allow a second reboot on the same real day.
func spent(date string, now time.Time) bool { return date != "" && date >= Today(now) }

// absurd reports whether date lies more than one day ahead of now's day:
// no clock step we allow for (SPEC §6: up to a day) explains it, only a
// clock that once ran far ahead.
func absurd(date string, now time.Time) bool {
	return date != "" && date > Today(now.AddDate(0, 0, 1))
}

// futureDates applies SPEC §6 to the dates the host keeps: one more than a
// day ahead is logged as 【严重错误】, counts as today and is rewritten as
// today, so it never blocks the rescue beyond the current day.
func (d *decider) futureDates() (fixed bool) {
	n := &d.step.Next
	today := Today(d.o.Now)
	for _, f := range []struct {
		key  string
		date *string
	}{{"last_reboot_date", &n.LastReboot}, {"mark_date", &n.Mark.Date}, {"vm_restart_date", &n.VMRestartDate}, {"vm_start_date", &n.VMStartDate},
		{"misfire_date", &n.MisfireDate}} {
		if f.key == "mark_date" && !n.HasMark || !absurd(*f.date, d.o.Now) {
			continue
		}
		d.log(slog.LevelError, "【严重错误】记录的日期在未来 (时钟曾经跑快)，按今天计一次并改写为今天。",
			slog.String("key", f.key), slog.String("date", *f.date), slog.String("today", today))
		*f.date = today
		if f.key == "mark_date" {
			n.Mark.Dated = true
		}
		fixed = true
	}
	return fixed
}

// AsDated is st with its dates as the next run reads them (futureDates,
// without its log): one more than a day ahead of now's day is today. For
// `hostcheck status`, so that a count of today's VM starts dated in the
// future reads as the run counts it.
func AsDated(st State, now time.Time) State {
	d := &decider{o: Obs{Now: now}, step: Step{Next: st}}
	d.futureDates()
	return d.step.Next
}

// lateReboot: the host has booted since the last misfire (【回退】) — the
// shutdown that the misfire check took for a failed one was only slow,
// and came after all (or the host rebooted for another reason that day).
// Either way the host rebooted on the misfire's day: that day is spent,
// whatever the clock says now (a clock a day ahead, then set back, must
// not make room for a second reboot). It reports whether it changed the
// state, which is then saved even on a spent day, whose runs are silent.
//
// A try of the host reboot after the misfire that is still on record (its
// mark, with the boot id it was taken in) explains the new boot: the
// retry worked, and `hostcheck boot` tells it. A boot more than a day
// after the misfire is not its landing (couldLand): not counted, said
// once.
func (d *decider) lateReboot() bool {
	n := &d.step.Next
	if n.MisfireBoot == "" || d.o.BootID == n.MisfireBoot && d.o.BootID != "unknown" {
		return false
	}
	if d.o.BootID == "" || d.o.BootID == "unknown" {
		// Unread now, read at the misfire: a run that reads it again will
		// tell; until then hostReboot holds (nothing saved of it).
		return false
	}
	if !d.couldLand() {
		// A boot more than a day after the misfire (a reboot by hand once
		// REBOOT_CMD was fixed, a power cut) is not its slow shutdown:
		// systemd's reboot.target forces a shutdown after 30 minutes.
		// Counted, it spent the day of that boot without a word.
		d.log(slog.LevelInfo, "【重置】上次未生效的物理机重启之后，物理机到隔天以后才重启：不是那次重启，不计入今天。",
			slog.String("misfire_date", n.MisfireDate), slog.String("boot_id", d.o.BootID))
		n.MisfireBoot = ""
		return true
	}
	if n.MisfireBoot == "unknown" && d.bootBeforeMisfire() {
		// Unread at the misfire, and this boot began more than a day
		// before the misfire's day: no clock step it allows for (SPEC §6)
		// makes it a later boot. It is the misfire's own, whose id is
		// learnt now: a landing still to come is told by it, and the day
		// keeps its retry (counted as landed, it was lost).
		n.MisfireBoot = d.o.BootID
		return true
	}
	if n.MisfireBoot == "unknown" {
		// Unread at the misfire: whether the slow shutdown landed since
		// cannot be told. Counted as landed: a second host reboot that
		// day is what must never happen (SPEC §6). And still watched
		// for, by this boot's id: if this is the misfire's own boot, the
		// landing may come yet, after midnight (cleared, it was not
		// counted against its day, and the host rebooted again that day).
		if n.MisfireDate >= Today(d.o.Now) {
			d.log(slog.LevelError, "【严重错误】无法读取开机 ID，无法确认上次未生效的物理机重启是否已经发生：按已重启计，当天不再重启 PVE 物理机。",
				slog.String("misfire_date", n.MisfireDate))
		}
		n.LastReboot, n.MisfireBoot = max(n.LastReboot, d.landed()), d.o.BootID
		return true
	}
	if n.HasMark && n.Mark.BootID != "" {
		// Still saved (changed): the mark of a retry since, whose boot
		// this may be.
		n.LastReboot, n.MisfireBoot = max(n.LastReboot, d.landed()), ""
		return true
	}
	day := d.landed()
	d.log(slog.LevelWarn, "【确认】上次判定未生效的物理机重启之后，物理机已经重启过 (开机 ID 已变)：计为开机当天的物理机重启。",
		slog.String("misfire_date", n.MisfireDate), slog.String("counted_day", day), slog.String("boot_id", d.o.BootID))
	n.LastReboot, n.MisfireDate, n.MisfireBoot = max(n.LastReboot, day), "", ""
	return true
}

// couldLand reports whether this boot can be the misfire's slow shutdown
// landing: it came on the misfire's day or the next, or the day after by
// a clock stepped forward since (SPEC §6 allows steps of up to a day: a
// misfire at 23:50 landing at 00:10 that the clock then put at 00:10 the
// day after was dropped, and the host rebooted again minutes later). By
// the clock now less the uptime; with the uptime unread, now, which is
// later.
func (d *decider) couldLand() bool {
	boot := d.o.Now
	if !d.o.UptimeUnknown && d.o.Uptime > 0 {
		boot = d.o.Now.Add(-d.o.Uptime)
	}
	return yesterday(boot.AddDate(0, 0, -1)) <= d.step.Next.MisfireDate
}

// bootBeforeMisfire reports whether this boot began (now less the
// uptime) more than a day before the misfire's day began: a clock stepped
// by up to a day (SPEC §6) cannot have moved a boot after the misfire
// there, so it is the boot the misfire did not end. A boot nearer the
// misfire can be either: the uptime alone cannot tell them apart.
func (d *decider) bootBeforeMisfire() bool {
	return !d.o.UptimeUnknown && BootBeforeMisfire(d.step.Next.MisfireDate, d.o.Now, d.o.Uptime)
}

// BootBeforeMisfire is bootBeforeMisfire for status: the boot up for
// uptime at now (0: unknown) began more than a day before misfireDate's
// day, so a misfire with the boot id unread did not end it, and a later
// run retries.
func BootBeforeMisfire(misfireDate string, now time.Time, uptime time.Duration) bool {
	day, err := time.ParseInLocation(state.DateLayout, misfireDate, now.Location())
	return err == nil && uptime > 0 && now.Add(-uptime).Before(day.AddDate(0, 0, -1))
}

// landed is the day a misfire's slow shutdown counts against once it
// landed: the misfire's, or the day of this boot when that is later (a
// reboot ordered at 23:45 that lands at 00:10 is the new day's; counted
// the day before, the new day allowed a second). With the uptime unread,
// today, on the safe side.
func (d *decider) landed() string {
	day := d.step.Next.MisfireDate
	if d.o.UptimeUnknown || d.o.Uptime <= 0 {
		return max(day, Today(d.o.Now))
	}
	return max(day, Today(d.o.Now.Add(-d.o.Uptime)))
}

// bootClock restarts the clock of the router's silence when it began
// before this boot of the host (now minus the uptime): the router VM was
// stopped with the host and booted by PVE after it (our reboot, a late
// one, a power cut), and its silence is counted from the first run of
// this boot that cannot reach it. Kept, a VM still booting was judged
// hung on time from before the reboot and cold-restarted (with a short
// MIN_HOST_UPTIME), spending the day's cold restart. A host reboot that
// misfired leaves the boot as it was, and the clock with it: the retry
// comes at the next run. With the uptime unknown, the time of today's mark
// (our reboot's) stands for the boot: kept, the clock from before our
// reboot made a VM still booting "hung" at the first run after it. It
// reports whether it cleared the clock.
func (d *decider) bootClock() bool {
	n := &d.step.Next
	boot := d.o.Now.Add(-d.o.Uptime)
	if d.o.UptimeUnknown || d.o.Uptime <= 0 {
		// A mark with a boot id is a reboot that happened (the one that
		// wrote it is over; hostcheck boot rewrites the id); one kept
		// after a second misfire has none: no boot then.
		if !n.HasMark || !n.Mark.Dated || n.Mark.BootID == "" || n.Mark.Time.IsZero() || n.Mark.Time.After(d.o.Now) {
			return false
		}
		boot = n.Mark.Time
	}
	if n.RouterDownSince.IsZero() || !n.RouterDownSince.Before(boot) {
		return false
	}
	n.RouterDownSince, n.RouterErr = time.Time{}, ""
	return true
}

// HostRescueOutlook is what `status` says about today's host rescue
// (SPEC §6, §7): whether the host may still step in today, and why not;
// uptime is the host's (0: unknown), as the runs read it.
// ok is false for a date in the future, which the next run repairs.
func HostRescueOutlook(st State, now time.Time, uptime time.Duration) (ok bool, detail string) {
	const repair = "in the future (a clock that ran ahead): the next run logs 【严重错误】, counts it as today and rewrites it as today"
	switch {
	case st.RecordUnread:
		return true, RecordFile + " could not be read (see the state file line): today's host rescue counts as spent until it can be"
	case absurd(st.LastReboot, now):
		return false, "last_reboot_date " + st.LastReboot + " is " + repair
	case st.HasMark && absurd(st.Mark.Date, now):
		return false, "the mark dated " + st.Mark.Date + " is " + repair
	case absurd(st.MisfireDate, now):
		// Read raw, "before the day before it" held for any boot.
		return false, "misfire_date " + st.MisfireDate + " is " + repair
	case st.HasMark && spent(st.Mark.Date, now):
		return true, fmt.Sprintf("dated %s (%s): today's host rescue is spent until midnight-reset", st.Mark.Date, st.Mark.Reason)
	case spent(st.LastReboot, now):
		return true, "no mark, but " + RecordFile + " dates the last host reboot " + st.LastReboot + " (a damaged record counts as one): today's host rescue is spent until midnight"
	case st.HasMark:
		return true, "stale (dated " + st.Mark.Date + "): the next run deletes it; the host may step in once today"
	case st.MisfireBoot == "unknown" && spent(st.MisfireDate, now) && BootBeforeMisfire(st.MisfireDate, now, uptime):
		return true, "none: today's host reboot misfired with the boot id unread; this boot began before the day before it, so it is the boot the misfire did not end (the host reboot line says whether a run tries again today)"
	case st.MisfireBoot == "unknown" && spent(st.MisfireDate, now):
		return true, "none, but today's host reboot misfired with the boot id unread: a run that cannot place this boot before the day before it (the uptime unread, or read and shorter) counts it as done (its slow shutdown may have landed); the host reboot line says whether a run tries again today"
	case st.MisfireBoot != "" && spent(st.MisfireDate, now):
		return true, "none: today's host reboot misfired (【回退】); the next run that reads the boot id and the uptime counts it as done if the host has booted since (boot id " + st.MisfireBoot +
			"); if not, the host reboot line says whether a run tries again today"
	case st.MisfireBoot == "unknown" && st.MisfireDate == yesterday(now):
		return true, "none, but yesterday's host reboot misfired with the boot id unread: a run that cannot place this boot before the day before it (the uptime unread, or a boot since) counts its landing as today, spent; else the host may step in once today"
	case st.MisfireBoot != "" && st.MisfireDate == yesterday(now):
		return true, "none, but yesterday's host reboot misfired: if the host has booted since (boot id " + st.MisfireBoot +
			") today, its slow shutdown landed today and the next run counts today as spent; else the host may step in once today"
	case st.MisfireBoot != "" && st.MisfireDate == yesterday(now.AddDate(0, 0, -1)):
		return true, "none, but the host reboot of " + st.MisfireDate + " misfired: a boot since (not boot id " + st.MisfireBoot +
			") may be its slow shutdown by a clock stepped forward, and the next run counts it against the day it came: today spent if it came today; else the host may step in once today"
	}
	return true, "none: the host may step in once today"
}

// Decide applies SPEC §6 steps 1–6 to what is known.
func Decide(cfg config.Config, st State, o Obs) Step {
	d := &decider{cfg: cfg, o: o, step: Step{Next: st}}
	d.run()
	d.holdSOS()
	if d.step.Silent && d.step.Next.HeldSOS != st.HeldSOS {
		// A silent step is not saved: an SOS held (or let go) on a spent
		// day is, or whether the host answers it after midnight would
		// hang on some other change of the same run.
		d.step.Silent = false
	}
	if n := &d.step.Next; !d.step.Silent && o.NetKnown && !o.Up() && (n.DownSince.IsZero() || n.DownSince.After(o.Now)) {
		// A saved run tells what it observed (Transitions: ON_EVENT_CMD's
		// down): the outage is recorded with it, or the run that records
		// it later told down again. On a spent day a run is saved for
		// many things other than the outage (a pause that ran out, the
		// clock of a hung router's silence, a lock's, a qm failure's, an
		// SOS held).
		n.DownSince = o.Now
	}
	if cfg.DryRun {
		for i := range d.step.Events {
			d.step.Events[i].Msg = "【演练】" + d.step.Events[i].Msg
		}
	}
	return d.step
}

type decider struct {
	cfg       config.Config
	o         Obs
	step      Step
	vmUnknown bool // a qm call failed: no VM action this run (with SOS the host reboot is left)
	vmLocked  bool // the VM holds a config lock (a backup runs): no VM action this run
}

func (d *decider) log(level slog.Level, msg string, attrs ...slog.Attr) {
	d.step.Events = append(d.step.Events, ladder.Event{Level: level, Msg: msg, Attrs: attrs})
}

func (d *decider) run() {
	n := &d.step.Next
	now := d.o.Now
	if n.RecordUnread {
		// Load dated the unread day by its clock, before this run's
		// (a read at 23:59:59, a run at 00:00): the day spent is the
		// run's, or nothing recorded a cold restart taken today.
		n.LastReboot, n.VMRestartDate = Today(now), Today(now)
		unreadDayStarts(n, Today(now), max(d.cfg.VMStartMax-1, 0))
	}
	// Step 1: the mark, and the day of the last reboot. A date that is
	// absurd was logged and now reads today: the run says so and stops.
	ended, expired := d.pauseExpiry()
	fixed := d.futureDates()
	late := d.lateReboot()
	rebooted := d.bootClock()
	if spent(n.LastReboot, now) || n.HasMark && spent(n.Mark.Date, now) {
		if !fixed {
			d.spentDay()
		}
		// A late reboot found is said and saved, also on a spent day; a
		// clock of silence from before the boot is saved cleared; so is
		// a pause that ran out (【恢复自救】, the file removed), which the
		// day's silence dropped until the next day.
		d.step.Silent = d.step.Silent && !late && !rebooted && !expired
		if expired && (len(d.step.Events) == 0 || d.step.Events[0].Msg != ended.Msg) {
			d.step.Events = append([]ladder.Event{ended}, d.step.Events...)
		}
		return
	}
	if n.HasMark {
		d.log(slog.LevelInfo, "【重置】发现过期的重启标记，已删除。", slog.String("mark_date", n.Mark.Date))
		n.HasMark, n.Mark = false, state.Mark{}
	}
	// Step 2: the internet.
	if !d.o.NetKnown {
		d.step.Need = NeedNet
		return
	}
	if d.o.Up() {
		d.recovered()
		return
	}
	if n.DownSince.IsZero() || n.DownSince.After(now) {
		n.DownSince = now
	}
	if d.o.NetUp {
		// The IP targets answer, the router's DNS forwarder does not: for
		// the family the internet is down all the same (SPEC §14).
		d.log(slog.LevelWarn, "【检测】DNS 解析失败 (经 OpenWrt)，开始检索 OpenWrt SOS 信号...",
			slog.String("probe", d.o.NetDetail), slog.String("dns", d.o.DNSDetail))
	} else {
		d.log(slog.LevelWarn, "【检测】互联网断开，开始检索 OpenWrt SOS 信号...", slog.String("probe", d.o.NetDetail))
	}
	// SPEC §13: the router VM, seen from the host, before SSH (a stopped
	// VM answers no SSH).
	if d.cfg.VMID != "" {
		if !d.o.VMKnown {
			d.step.Need = NeedVM
			return
		}
		if d.vmStage() {
			return
		}
	}
	// Step 3: the router.
	if !d.o.RouterKnown {
		d.step.Need = NeedRouter
		return
	}
	if d.o.Router.Err != "" {
		d.routerUnreachable()
		return
	}
	d.routerDamage()
	n.RouterDownSince, n.RouterErr = time.Time{}, ""
	if !d.o.Router.SOS {
		if kind := d.lanFault(); kind != "" {
			d.lanStep(kind)
			return
		}
		n.LANFault, n.LANSeen, n.LANSteps, n.LANHeld = "", 0, "", 0
		if n.HeldReboot != "" {
			// The SOS that called for it was cleared at midnight; the
			// outage it was for goes on. What was held is the host's
			// reboot (the VM's cold restart, when it comes first, is never
			// held): no new day's VM restart comes before it, at 00:00
			// beside the router's midnight-reset.
			d.heldReboot()
			return
		}
		if h := n.HeldSOS; h.SOS != "" {
			if h.Day > Today(now) {
				// Seen "later" than now (a clock that ran ahead): today,
				// as the other dates that are absurd (SPEC §6).
				h.Day = Today(now)
				n.HeldSOS.Day = h.Day
			}
			count, ok := routerCount(d.o.Router)
			if d.o.Router.NoCount {
				count, ok = 0, true // no count file: 0 (SPEC §5), as a reset on a full flash leaves it
			}
			reset := ok && h.Count >= 0 && count < h.Count
			if !ok || h.Count < 0 {
				reset = h.Day < Today(now) // a count to compare is missing: the day changed
			}
			switch {
			case h.Day < yesterday(now):
				n.HeldSOS = HeldSOS{} // seen days ago: not one to answer
			case reset:
				// Cleared since, with the count, by midnight-reset: the
				// outage it was seen in goes on.
				// Ended as a fresh SOS's line is (sosPrepares): "按 SOS 介入。"
				// alone read as a step under a lock that forbids one.
				d.log(slog.LevelWarn, "【确认】本次断网中未处理的 SOS 信号已被零点重置清除 (重启计数已归零)，断网仍在继续，按 SOS 介入："+d.sosPrepares(),
					slog.String("sos", h.SOS), slog.String("seen", h.Day), slog.Int("count_then", h.Count), slog.String("router_count", d.o.Router.Count))
				d.sosConfirmed("SOS " + h.SOS)
				return
			}
		}
		d.log(slog.LevelInfo, "【观察】未发现 SOS 信号。判定 OpenWrt 仍在尝试自愈或处于熔断期。",
			slog.String("router_count", d.o.Router.Count))
		return
	}
	n.LANFault, n.LANSeen, n.LANSteps, n.LANHeld = "", 0, "", 0
	d.log(slog.LevelWarn, SOSConfirmed+d.sosPrepares(),
		slog.String("sos", d.o.Router.SOSContent))
	d.sosConfirmed("SOS " + d.o.Router.SOSContent)
}

// SOSConfirmed is the start of the original's line for an SOS read
// (【确认】捕获 SOS 信号！…), what owners grep for; sosPrepares ends it.
const SOSConfirmed = "【确认】捕获 SOS 信号！OpenWrt 自救已穷尽。"

// sosPrepares is the end of the 【确认】 line for an SOS: the step this SOS
// leads to (sosStep), once the LAN's ping and the guards allow it. The
// original's "准备介入重启 PVE。" only when that is the host's reboot: with
// VM_RESTART_FIRST=1 the day's first SOS cold-restarts the router VM, and
// the host's reboot comes at a later SOS, if one does. Under the VM's
// config lock (d.vmLocked: a backup or migration, or a backup lock left
// behind, said with its qm unlock before this line) sosStep takes neither:
// the line says so, and which step the SOS still standing (or held,
// HeldSOS) leads to at the first run after the lock.
func (d *decider) sosPrepares() string {
	step := "介入重启 PVE。"
	if d.sosRestartsVM() && !d.vmUnknown {
		step = "冷重启 OpenWrt 虚拟机。"
	}
	if d.cfg.VMID != "" && d.vmLocked {
		return "路由虚拟机被锁定，暂不动作：锁解除后再" + step
	}
	return "准备" + step
}

// sosConfirmed is what follows an SOS: the router answering on the LAN,
// the guards, then steps 5 and 6.
func (d *decider) sosConfirmed(reason string) {
	if !d.o.LANKnown {
		d.step.Need = NeedLAN
		return
	}
	if !d.o.LANUp {
		d.log(slog.LevelWarn, "【等待】OpenWrt 在局域网上没有响应 ping，下个周期重试。", slog.String("router", d.cfg.OpIP))
		return
	}
	if d.sosRestartsVM() && !d.vmUnknown {
		if !d.vmGuards() {
			return
		}
	} else if !d.guards() {
		return
	}
	d.sosStep(reason)
}

// sosRestartsVM reports whether an SOS is answered by step 5, the router
// VM's cold restart (the day's, with VM_RESTART_FIRST=1), rather than the
// host's reboot; a held reboot is due first.
func (d *decider) sosRestartsVM() bool {
	n := &d.step.Next
	return d.cfg.VMID != "" && d.cfg.VMRestartFirst && !spent(n.VMRestartDate, d.o.Now) && n.HeldReboot == ""
}

// holdSOS keeps HeldSOS, once a run's decision is made: the SOS it saw,
// when it took no host step for it; none once a step was taken, the
// outage is over, or a held reboot stands for it.
func (d *decider) holdSOS() {
	n := &d.step.Next
	r := d.o.Router
	switch {
	case d.step.Need != NeedNothing:
	case d.step.Action == VMRestart || d.step.Action == HostReboot || n.HeldReboot != "" || n.DownSince.IsZero(),
		// The router's own net is back. Not on the word of a router that
		// answered in this outage that it cannot run netcheck, also once
		// that answer no longer holds (NoNetcheckHold): it has shown
		// nothing since that its missing net_outage is its view.
		d.o.RouterKnown && r.Err == "" && !r.SOS && d.routerSelfUp() && n.NoNetcheckAt.IsZero():
		n.HeldSOS = HeldSOS{}
	case n.HasMark && spent(n.Mark.Date, d.o.Now) || spent(n.LastReboot, d.o.Now):
		// A day whose host rescue is spent holds no new SOS: the host
		// took its step today, and an SOS after it is the router's next
		// day's, as without VM_ID (whose spent days read no SOS at all).
	case d.o.RouterKnown && r.Err == "" && r.SOS:
		count, ok := routerCount(r)
		if !ok {
			count = sosCount(r.SOSContent) // the count the SOS was raised at, or -1
		}
		text := strings.TrimSpace(strings.ReplaceAll(r.SOSContent, "\n", " ")) // as the record keeps it
		if text == "" {
			text = "(empty)" // an empty SOS_SYSTEM, as the original's touch made it
		}
		day := Today(d.o.Now)
		if h := n.HeldSOS; h.SOS != "" && h.Day >= yesterday(d.o.Now) && h.Day <= day {
			// The hold under way: its count never lowered while SOS
			// stands (a read between the reset's writes, the count 0 and
			// SOS not yet gone, held it at 0); the same SOS keeps the day
			// it was first seen (the 00:00 run, before the reset, dated
			// it today, and the day's change was lost).
			count = max(count, h.Count)
			if h.SOS == text {
				day = h.Day
			}
		}
		n.HeldSOS = HeldSOS{SOS: text, Count: count, Day: day}
	}
}

// sosCount is the count= of netcheck's SOS line (SPEC §5: time=RFC3339
// count=N reason=…), -1 when it has none (the original's empty SOS).
func sosCount(sos string) int {
	for _, f := range strings.Fields(sos) {
		if v, ok := strings.CutPrefix(f, "count="); ok {
			if n, err := strconv.Atoi(v); err == nil && n >= 0 {
				return n
			}
		}
	}
	return -1
}

// routerCount is the router's reboot count as read with SOS; false when
// it is no number (damaged, empty: SPEC §5 rule 4) or there is none.
func routerCount(r Router) (int, bool) {
	n, err := strconv.Atoi(strings.TrimSpace(r.Count))
	return n, err == nil && n >= 0
}

// yesterday is the date before now's, taken at noon: a day that began an
// hour late (a DST change at midnight) is still the day before.
func yesterday(now time.Time) string {
	y, m, d := now.Date()
	return Today(time.Date(y, m, d-1, 12, 0, 0, 0, now.Location()))
}

// sosStep is steps 5 and 6 once SOS (or a held reboot it caused) passed
// the guards: the router VM's cold restart first, once a day, else the
// host's reboot.
func (d *decider) sosStep(reason string) {
	// Step 5: the router VM first, once a day.
	if d.cfg.VMID != "" && d.vmLocked {
		return // a backup or migration holds the VM (logged 【推迟】): no VM action, no host reboot under it
	}
	// A host reboot already held in this outage is what is due: no new
	// day's VM restart comes first (at 00:00, with SOS not yet cleared).
	if d.sosRestartsVM() {
		if !d.vmUnknown {
			d.vmRestart("SOS: 先冷重启路由虚拟机")
			return
		}
		// Twice in a row (pmxcfs down, a broken install), no cold restart
		// can run, and waiting would leave the house offline for good: the
		// host's reboot is §6 step 6 as without VM_ID, and it mends qm too.
		if !d.qmFailedTwice("重启 PVE 物理机", "无法先冷重启虚拟机，改为重启 PVE 物理机") {
			return
		}
		reason += "; qm status failed: " + d.o.VM.Err
	}
	d.hostReboot(reason, true)
}

// qmFailedTwice is the rule for a `qm status` that failed in this run
// before a VM cold restart: once may be a passing fault (qm's own
// timeout), so the run logs 【推迟】 with what the next failure brings
// (next) and the next run tries again; failing in two runs in a row
// (State.QMFailSince) it logs 【确认】 with what the caller does instead
// (then), and reports true.
func (d *decider) qmFailedTwice(next, then string) bool {
	n := &d.step.Next
	if !n.QMFailSince.Before(d.o.Now) {
		d.log(slog.LevelWarn, "【推迟】qm 无法读取路由虚拟机状态，下个周期再试；仍失败则"+next+"。",
			slog.String("vm_id", d.cfg.VMID), slog.String("reason", d.o.VM.Err))
		return false
	}
	d.log(slog.LevelWarn, "【确认】qm 无法读取路由虚拟机状态，"+then+"。",
		slog.String("vm_id", d.cfg.VMID), slog.String("reason", d.o.VM.Err),
		slog.String("failing_since", n.QMFailSince.Format("15:04")))
	return true
}

// heldReboot takes the host reboot still due in this outage
// (State.HeldReboot), held by HOST_REBOOT_HOURS. It passes the guards and
// no VM lock, as any host reboot.
func (d *decider) heldReboot() {
	n := &d.step.Next
	d.log(slog.LevelWarn, "【确认】本次断网中被时间窗口推迟的物理机重启仍未执行，断网仍在继续。",
		slog.String("held", n.HeldReboot), slog.String("router_count", d.o.Router.Count))
	if d.guards() && (d.cfg.VMID == "" || !d.vmLocked) {
		d.hostReboot(n.HeldReboot, true)
	}
}

// spentDay is a run on a day whose host rescue is spent. SPEC §6 step 1
// makes it silent, and it takes no step of the host's own; but two things
// still hold while an outage is open or a router VM is watched:
//   - the outage's end is seen when it happens (step 2's 【恢复】, the
//     recovery message and ON_EVENT_CMD "up"), not at the first run after
//     midnight with the hours in between counted as outage;
//   - with VM_ID, §13 rules 1 and 2 (rule 4: "a failed or interrupted
//     restart never leaves the house offline"): a router VM that did not
//     come back after the host's reboot (onboot=0, a passed-through NIC
//     that failed to attach), or that stopped or paused since, is started
//     or resumed within VM_START_MAX. Nothing else is tried: no SSH, no
//     cold restart, no reboot.
//
// A run with no outage open and no VM_ID probes nothing, as before; any
// run with nothing to do or say stays silent.
func (d *decider) spentDay() {
	n := &d.step.Next
	now := d.o.Now
	d.step.Silent = true
	switch {
	case d.cfg.VMID == "" && n.DownSince.IsZero():
		return
	case !d.o.NetKnown:
		d.step.Need = NeedNet
		return
	case d.o.Up():
		if !n.DownSince.IsZero() || n.VMStartUnproven != "" {
			d.step.Silent = false
			d.recovered() // forgives the start before it (startWorked)
		}
		return
	case d.cfg.VMID == "":
		return
	case !d.o.VMKnown:
		d.step.Need = NeedVM
		return
	}
	vm := d.o.VM
	if vm.Err == "" && !n.QMFailSince.IsZero() {
		// qm answers: a later failure starts afresh. Saved (once), though
		// nothing is said: a silent step saves nothing, and the failure
		// kept from before made the first qm failure after midnight count
		// as the second in a row (the VM's cold restart skipped for the
		// host's reboot).
		n.QMFailSince, d.step.Silent = time.Time{}, false
	}
	if vm.Err == "" && lockHolds(vm.Lock) && (!n.RouterDownSince.IsZero() || n.RouterErr != "") {
		// A backup holds the VM (vmStage's rule): the clock of its silence
		// stops, saved once; the runs under the lock after it change
		// nothing and stay silent.
		n.RouterDownSince, n.RouterErr, d.step.Silent = time.Time{}, "", false
	}
	if vm.Err == "" && vm.Lock == "backup" && n.LeftLockDate != Today(now) {
		// A lock no backup holds blocks every VM step until someone runs
		// qm unlock: said as a fresh day's run says it (locked), once.
		if !d.o.GuardsKnown {
			d.step.Need = NeedGuards
			return
		}
		if !d.o.Backup {
			d.step.Silent = false
			if n.DownSince.IsZero() || n.DownSince.After(now) {
				n.DownSince = now
			}
			n.LeftLockDate = Today(now)
			d.leftLock(vm.Lock, vmState(vm))
		}
	}
	action := None
	switch {
	case vm.Err != "" || lockHolds(vm.Lock):
	case vm.Status == "stopped":
		action = VMStart
	case vm.Paused():
		action = VMResume
	}
	if action == None && vm.Err == "" && vm.Status == "running" {
		if d.paused() || lockHolds(vm.Lock) || spent(n.VMRestartDate, now) {
			// No VM step under a pause or a lock, but the clock of the
			// router's silence is kept true: left from before, one SSH
			// failure after the pause took the day's cold restart. With
			// the cold restart spent, a hang is said once (giveUp).
			giveUp := !d.paused() && !lockHolds(vm.Lock) && n.VMGaveUpDate != Today(now)
			switch {
			case !d.o.RouterKnown && (giveUp || !n.RouterDownSince.IsZero()):
				d.step.Need = NeedRouter
			case d.o.RouterKnown && d.o.Router.Err == "" && !n.RouterDownSince.IsZero():
				n.RouterDownSince, n.RouterErr, d.step.Silent = time.Time{}, "", false
			case d.o.RouterKnown && d.o.Router.Err != "" && giveUp:
				d.spentDayHungGivesUp()
			}
			return
		}
		d.spentDayHung()
		return
	}
	if action != None && !d.paused() && !VMStartsLeft(d.cfg, *n, now) {
		d.spentDayStartsSpent(action)
		return
	}
	if action == None || d.paused() {
		return
	}
	d.step.Silent = false
	if n.DownSince.IsZero() || n.DownSince.After(now) {
		n.DownSince = now
	}
	d.log(slog.LevelWarn, "【检测】互联网断开，路由虚拟机未运行 (今天的物理机救援已用过，只启动虚拟机)。",
		slog.String("vm_id", d.cfg.VMID), slog.String("status", vmState(vm)), slog.String("probe", d.o.NetDetail))
	if action == VMStart && d.autostarting() {
		return // right after the host's reboot, PVE starts it (onboot)
	}
	d.vmStart(action)
}

// spentDayStartsSpent is a spent day's router VM that is stopped or
// paused with today's VM_START_MAX starts and resumes used: the host
// rebooted for it (rule 5), or it stopped again since, and it still does
// not run. It gets the day's cold restart, as on any day (rule 5's first
// step; for a stopped VM, qm stop does nothing and qm start is tried once
// more on the new boot, where a passed-through NIC may attach), never a
// second host reboot. With the cold restart spent too, nothing is left
// until midnight: one saved 【严重错误】 says so (VMGaveUpDate), then the
// runs are silent. Both used to be silence all day.
func (d *decider) spentDayStartsSpent(action Action) {
	n := &d.step.Next
	now := d.o.Now
	vm := d.o.VM
	if !spent(n.VMRestartDate, now) {
		wait := action == VMStart && d.autostarting() // PVE starts an onboot VM while it boots
		ok := !wait && d.vmGuards()                   // the VM's cold restart: its guards, not the quorum's
		if d.step.Need == NeedNothing {
			// Said and saved, also a 【推迟】 (the host young after its
			// reboot, as is usual on a spent day).
			d.step.Silent = false
			if n.DownSince.IsZero() || n.DownSince.After(now) {
				n.DownSince = now
			}
		}
		if ok {
			why := "虚拟机仍处于暂停状态，今天的恢复次数已用完 (VM_START_MAX)"
			if action == VMStart {
				why = "虚拟机仍处于停止状态，今天的启动次数已用完 (VM_START_MAX)，物理机今天已重启过"
			}
			if d.cfg.VMStartMax == 0 { // none was made: nothing "used up"
				why = "虚拟机未运行 (VM_START_MAX=0：不自动启动或恢复)，物理机今天已重启过"
			}
			d.vmRestart(why)
		}
		return
	}
	if n.VMGaveUpDate == Today(now) {
		return // said today: silent
	}
	d.step.Silent = false
	if n.DownSince.IsZero() || n.DownSince.After(now) {
		n.DownSince = now
	}
	n.VMGaveUpDate = Today(now)
	verb := "start"
	if action == VMResume {
		verb = "resume"
	}
	d.log(slog.LevelError, "【严重错误】路由虚拟机仍未运行，今天的启动次数 (VM_START_MAX)、冷重启和物理机重启都已用过：零点前不再自动处理，请手动执行 qm "+verb+" "+d.cfg.VMID+" 查看原因。",
		slog.String("vm_id", d.cfg.VMID), slog.String("status", vmState(vm)), slog.String("vm_restart_date", n.VMRestartDate))
}

// spentDayHungGivesUp is a spent day's running router VM that does not
// answer SSH, whose day's cold restart is used too: nothing is left to
// try until midnight (rule 4's cold restart and rule 5's host reboot are
// once a day). Once the router has been silent ROUTER_HUNG_AFTER (the
// delay that needs no guest agent's word) and does not answer ping on
// the LAN either, one saved 【严重错误】 says so (VMGaveUpDate), as
// spentDayStartsSpent does for a VM that does not start; it used to be
// silence all day. The clock of the silence starts at the first run that
// finds it, saved without a word.
func (d *decider) spentDayHungGivesUp() {
	n := &d.step.Next
	now := d.o.Now
	if n.RouterDownSince.IsZero() || n.RouterDownSince.After(now) {
		n.RouterDownSince, n.RouterErr, d.step.Silent = now, d.o.Router.ErrKind, false
		return
	}
	down := now.Sub(n.RouterDownSince)
	if !d.routerDead(down) {
		return // not yet, or SSH alone fails (a fresh day's 【观察】 says so)
	}
	d.step.Silent = false
	if n.DownSince.IsZero() || n.DownSince.After(now) {
		n.DownSince = now
	}
	n.VMGaveUpDate = Today(now)
	d.log(slog.LevelError, "【严重错误】路由虚拟机仍无响应 (SSH 与局域网 ping)，今天的冷重启和物理机重启都已用过：零点前不再自动处理，请手动检查 (qm status "+d.cfg.VMID+"、控制台)，必要时 qm stop/start "+d.cfg.VMID+"。",
		slog.String("vm_id", d.cfg.VMID), slog.String("reason", d.o.Router.Err), slog.Duration("unreachable_for", down.Round(time.Second)),
		slog.String("vm_restart_date", n.VMRestartDate))
}

// recovered is step 2 with the internet up: 【恢复】 when an outage was
// open, and the outage's records cleared.
func (d *decider) recovered() {
	n := &d.step.Next
	n.startWorked() // the house is online: the start before it worked
	n.LANFault, n.LANSeen, n.LANSteps, n.LANHeld, n.NoNetcheckAt = "", 0, "", 0, time.Time{}
	if !n.DownSince.IsZero() {
		d.log(slog.LevelInfo, "【恢复】互联网已恢复。",
			slog.Duration("outage", max(d.o.Now.Sub(n.DownSince), 0).Round(time.Second)), slog.String("by", d.o.NetDetail))
	}
	n.DownSince, n.RouterDownSince, n.RouterErr, n.QMFailSince, n.HeldReboot, n.HeldSOS = time.Time{}, time.Time{}, "", time.Time{}, "", HeldSOS{}
	n.VMGaveUpDate, n.LeftLockDate = "", "" // an outage later today is told again
}

// hostReboot is step 6: the mark is part of the new state, so the caller
// writes it before anything else happens. The guards have passed; a pause
// or HOST_REBOOT_HOURS may still hold it. hold: one the window holds is
// kept as due in this outage (State.HeldReboot), for an SOS, which
// midnight-reset clears on the router while the outage goes on. The other
// causes (a VM that will not start or stays hung, a LAN fault) are asked
// again at every run: held, the host rebooted at 01:00 for a VM running
// again since 15:00.
func (d *decider) hostReboot(reason string, hold bool) {
	if !d.hostRebootHeld(reason, hold) {
		d.rebootHost(reason)
	}
}

// WindowHeld is the line of a host reboot that HOST_REBOOT_HOURS holds
// (status tells it from the other holds by it).
const WindowHeld = "【推迟】物理机重启只在 HOST_REBOOT_HOURS 时间窗口内进行。"

// hostRebootHeld reports whether the host's reboot waits (a pause, a
// misfire whose landing cannot be read, HOST_REBOOT_HOURS), said with
// 【暂停】 or 【推迟】. The paths that announce the reboot at ERROR ask it
// first: they said "重启 PVE 物理机" every run outside the window, before
// the 【推迟】 that held it.
func (d *decider) hostRebootHeld(reason string, hold bool) bool {
	n := &d.step.Next
	now := d.o.Now
	if d.held(HostReboot) {
		return true
	}
	if n.MisfireBoot != "" && (d.o.BootID == "" || d.o.BootID == "unknown") && d.couldLand() &&
		n.MisfireDate >= yesterday(now.AddDate(0, 0, -1)) && !d.bootBeforeMisfire() {
		// A reboot misfired, and this run cannot read the boot id that
		// tells whether its slow shutdown landed since, while a landing
		// could still count against today (couldLand: the misfire's day
		// and the two after) and the uptime does not place this boot
		// before the misfire beyond any clock step: no second reboot on a
		// guess. A run that reads it decides. Held on the days after, the
		// host's rescue was held for as long as the id stayed unread.
		d.log(slog.LevelWarn, "【推迟】无法读取开机 ID，无法确认上次未生效的物理机重启是否已经发生，本次不重启 PVE 物理机。",
			slog.String("misfire_date", n.MisfireDate))
		return true
	}
	if w := d.cfg.HostRebootHours; !w.Contains(now) {
		d.log(slog.LevelWarn, WindowHeld,
			slog.String("window", w.String()), slog.String("from", w.Next(now).Format("01-02 15:04")), slog.String("reason", reason))
		// Due in the window while this outage lasts. Trimmed as the record
		// keeps it, or every run would find it changed and rewrite it.
		if hold {
			n.HeldReboot = strings.TrimSpace(reason)
		}
		return true
	}
	return false
}

// rebootHost records the host's reboot for reason and takes it
// (hostRebootHeld said it may).
func (d *decider) rebootHost(reason string) {
	n := &d.step.Next
	now := d.o.Now
	// MisfireBoot stays: while this try's mark stands, a new boot is its
	// own (lateReboot); if a person cancels it, the misfire before it may
	// still land.
	n.HasMark, n.LastReboot, n.HeldReboot = true, Today(now), ""
	n.Mark = state.Mark{Date: Today(now), Time: now, BootID: d.o.BootID, Dated: true, Reason: reason}
	n.QMFailSince = time.Time{} // the reboot mends qm; a failure after it starts afresh
	// A start still waiting for its proof did not bring the internet back,
	// or this reboot would not come: it stays counted. Kept, the internet
	// back after the reboot forgave it (startWorked) as a start that
	// worked.
	n.VMStartUnproven = ""
	// The clock of the router's silence is kept: a reboot that misfires
	// (【回退】) is tried again at the next run of the same boot, as its
	// line says. The new boot restarts it (bootClock).
	// A LAN fault that survives the reboot is a fault on a new host: its
	// ladder starts over (SPEC §14), saved with the mark before the
	// reboot. Kept, every step would read as done and the next day's first
	// run would reboot the host again at 00:00. The fault's kind stays,
	// with LANHostStep alone as its steps: a reboot that misfires in this
	// boot (【回退】) is tried again at the next run, as its line says,
	// not after the router's network restart and a second reboot of the
	// router for the same fault (lanStep).
	lan := n.LANFault
	n.LANFault, n.LANSeen, n.LANSteps, n.LANHeld = "", 0, "", 0
	if lan != "" {
		n.LANFault, n.LANSteps = lan, LANHostStep
	}
	d.step.Action = HostReboot
}

// spentDayHung is §13 rule 3 on a day whose host rescue is spent (the
// VM's own cold restart is not): a router VM that hangs after the host's
// reboot still gets the day's cold restart (rule 4: never left offline),
// never a second host reboot. Its SSH is read; the runs that cannot are
// said and saved (the clock of its silence), the others stay silent.
func (d *decider) spentDayHung() {
	n := &d.step.Next
	if !d.o.RouterKnown {
		d.step.Need = NeedRouter
		return
	}
	if d.o.Router.Err == "" {
		if !n.RouterDownSince.IsZero() {
			// Saved, though nothing is said: a silent step saves nothing,
			// and a clock of silence kept from hours ago took one SSH
			// failure (the router rebooting itself) for a hung VM.
			n.RouterDownSince, n.RouterErr, d.step.Silent = time.Time{}, "", false
		}
		return
	}
	since, down, pre, why := n.RouterDownSince, n.DownSince, len(d.step.Events), n.RouterErr
	d.step.Silent = false
	if n.DownSince.IsZero() || n.DownSince.After(d.o.Now) {
		n.DownSince = d.o.Now
	}
	d.routerUnreachable()
	if d.step.Action == None && d.step.Need == NeedNothing && pre == 0 && n.RouterDownSince.Equal(since) && n.DownSince.Equal(down) &&
		n.RouterErr == why && d.repeatsOnly(d.o.Now.Sub(since)) {
		// Nothing new (the same silence for the same kind of reason, no
		// step, nothing else said this run): said when it began or
		// changed, not every five minutes of a spent day.
		d.step.Silent, d.step.Events = true, nil
	}
}

// repeatsOnly reports whether this run said only what a run of the same
// silence said before it: the SSH failure, and the hint that the router
// answers ping on the LAN once the run before (five minutes earlier) was
// past the hung delay too and said it. A 【推迟】, a qm or agent error or a
// wait for a hang's confirmation is said every run.
func (d *decider) repeatsOnly(silent time.Duration) bool {
	for i, e := range d.step.Events {
		switch {
		case i == 0 && strings.HasPrefix(e.Msg, "【严重错误】无法通过 SSH 读取"):
		case i == 1 && strings.HasPrefix(e.Msg, "【严重错误】SSH 文件不是普通文件") && d.o.Router.SSHFile != "":
			// Its file and kind are in RouterErr: unchanged, a repeat.
		case i >= 1 && strings.HasPrefix(e.Msg, "【观察】OpenWrt 在局域网上响应 ping") && past(silent, min(d.cfg.VMHungAfter, d.cfg.RouterHungAfter)+5*time.Minute):
		default:
			return false
		}
	}
	return len(d.step.Events) > 0
}

// routerUnreachable is step 3's SSH failure, with the hung-VM rule (vm.go).
func (d *decider) routerUnreachable() {
	n := &d.step.Next
	now := d.o.Now
	if d.vmLocked && d.o.VM.Err == "" && lockHolds(d.o.VM.Lock) {
		// A backup (or migration) holds the VM and may have it stopped or
		// paused: its silence is no hang, and the clock stays stopped
		// (vmStage cleared it) until the first run after the lock.
		d.log(slog.LevelError, "【严重错误】无法通过 SSH 读取 OpenWrt 的 SOS 信号。",
			slog.String("reason", d.o.Router.Err), slog.String("vm_lock", d.o.VM.Lock))
		d.sshFileDamage()
		return
	}
	if n.RouterDownSince.IsZero() || n.RouterDownSince.After(now) {
		n.RouterDownSince = now
	}
	n.RouterErr = d.o.Router.ErrKind
	down := now.Sub(n.RouterDownSince)
	d.log(slog.LevelError, "【严重错误】无法通过 SSH 读取 OpenWrt 的 SOS 信号。",
		slog.String("reason", d.o.Router.Err), slog.Duration("unreachable_for", down.Round(time.Second)))
	d.sshFileDamage()
	if d.cfg.VMID != "" && d.o.VM.Err != "" {
		d.qmDeadRouter(down)
		return
	}
	if d.cfg.VMID == "" || d.vmUnknown || d.vmLocked || d.o.VM.Status != "running" || d.o.VM.Paused() {
		return
	}
	d.hung(down)
}

// routerDead reports whether the router, silent on SSH for down, has been
// so for ROUTER_HUNG_AFTER and does not answer ping on the LAN either,
// asking for the LAN's ping (Step.Need) once the delay is past.
func (d *decider) routerDead(down time.Duration) bool {
	if !past(down, d.cfg.RouterHungAfter) {
		return false
	}
	if !d.o.LANKnown {
		d.step.Need = NeedLAN
		return false
	}
	return !d.o.LANUp
}

// qmDeadRouter is rule 5 for a router that is silent while qm cannot say
// what its VM does (pmxcfs down: qm status fails; an OOM that took both):
// no SOS can come from it, and no qm step can be taken. Past
// ROUTER_HUNG_AFTER, the router silent on the LAN too and qm failing in
// two runs in a row, only the host's reboot is left (it mends qm too, as
// on the SOS path), at most once a day, after the guards. Every run said
// the two failures and did nothing, day after day.
func (d *decider) qmDeadRouter(down time.Duration) {
	if !d.routerDead(down) {
		return
	}
	if strings.Contains(d.o.VM.Err, "does not exist") {
		// PVE::AbstractConfig::load_config: "Configuration file
		// 'nodes/NODE/qemu-server/VMID.conf' does not exist". No VM of that
		// id here (migrated, renumbered, a typo): no reboot mends that, and
		// one a day would follow.
		d.log(slog.LevelError, "【严重错误】qm 说 VM_ID 所指的虚拟机在本机不存在：重启 PVE 物理机也无济于事，不重启。请检查 VM_ID。",
			slog.String("vm_id", d.cfg.VMID), slog.String("reason", d.o.VM.Err))
		return
	}
	if !d.qmFailedTwice("重启 PVE 物理机", "OpenWrt 在 SSH 与局域网上均无响应，只能重启 PVE 物理机") || !d.guards() {
		return
	}
	// Not held for the window: the router may be back by then, and this
	// is asked again at every run.
	d.hostReboot(fmt.Sprintf("router silent for %v on SSH and the LAN, and qm status failing (%s)", down.Round(time.Second), d.o.VM.Err), false)
}

// sshFileDamage says, beside the SSH failure it caused, an SSH file of
// ours that is not a regular file (SPEC §15: named with its kind), so the
// user knows what to fix. Part of the decision, it is said on the runs
// that say the failure: on a spent day when it begins or changes
// (repeatsOnly), not every five minutes as a line logged beside Decide.
func (d *decider) sshFileDamage() {
	if r := d.o.Router; r.SSHFile != "" {
		d.log(slog.LevelError, "【严重错误】SSH 文件不是普通文件，无法连接路由器", slog.String("file", r.SSHFile), slog.String("kind", r.SSHFileKind))
	}
}

// routerDamage says the router's state files that could not be read
// whole (SPEC §15), on a run that read the router and acts on what it
// read (step 3); a spent day's runs do not read SOS for a step, and stay
// silent about it.
func (d *decider) routerDamage() {
	r := d.o.Router
	for _, f := range r.Damaged {
		d.log(slog.LevelError, "【严重错误】OpenWrt 的状态文件损坏，未读取 (不是普通文件或过大)，按存在处理",
			slog.String("file", f.File), slog.String("kind", f.Kind))
	}
	if r.SOSTruncated {
		d.log(slog.LevelError, fmt.Sprintf("【严重错误】OpenWrt 的 SOS_SYSTEM 超过 %d 字节，其余部分已丢弃", r.SOSLimit),
			slog.String("file", r.SOSFile))
	}
}

// guards is step 4; false means the run defers (and has logged why).
func (d *decider) guards() bool { return d.guardsFor(false) }

// vmGuards is step 4 before the router VM's cold restart: the cluster's
// quorum is not asked (Obs.Quorum), since the VM's restart leaves this
// node's votes as they are. An uptime that
// cannot be read holds the host's reboot, but not the cold restart for
// ever: held until /proc/uptime read again, a hung router VM was never
// restarted. systemd says instead whether the host still boots (PVE
// starting its guests, the router VM among them): then it waits.
func (d *decider) vmGuards() bool { return d.guardsFor(true) }

func (d *decider) guardsFor(vm bool) bool {
	if vm && d.o.UptimeUnknown {
		if !d.o.SystemKnown {
			d.step.Need = NeedSystem
			return false
		}
		if booting(d.o.SystemState) {
			d.log(slog.LevelWarn, "【推迟】物理机开机时间未知，systemd 仍在启动 (PVE 正在启动虚拟机)，本次不冷重启路由虚拟机。",
				slog.String("vm_id", d.cfg.VMID), slog.String("system", d.o.SystemState))
			return false
		}
	} else if d.o.Uptime < d.cfg.MinHostUptime {
		d.log(slog.LevelWarn, "【推迟】物理机开机时间过短。",
			slog.Duration("uptime", d.o.Uptime.Round(time.Second)), slog.Duration("min_host_uptime", d.cfg.MinHostUptime))
		return false
	}
	if !d.o.GuardsKnown {
		d.step.Need = NeedGuards
		return false
	}
	wait := d.o.Deferred
	if !vm {
		wait = append(wait[:len(wait):len(wait)], d.o.Quorum...)
	}
	for _, r := range wait {
		d.log(slog.LevelWarn, "【推迟】"+r)
	}
	return len(wait) == 0
}

// paused reports maintenance mode (SPEC §16) at the run's time.
func (d *decider) paused() bool {
	until := d.step.Next.PauseUntil
	return !until.IsZero() && d.o.Now.Before(until)
}

// pauseExpiry ends a pause whose deadline has passed: 【恢复自救】, and
// the pause file goes with the saved state.
// The event is returned too, for a spent day's run, whose silence must
// not drop it.
func (d *decider) pauseExpiry() (ladder.Event, bool) {
	n := &d.step.Next
	if n.PauseUntil.IsZero() || d.paused() {
		return ladder.Event{}, false
	}
	d.log(slog.LevelInfo, "【恢复自救】维护模式已到期，恢复自救。", slog.String("paused_until", n.PauseUntil.In(d.o.Now.Location()).Format("01-02 15:04")))
	n.PauseUntil = time.Time{}
	return d.step.Events[len(d.step.Events)-1], true
}

// held reports whether a pause holds action, and logs it: the run
// observed everything and would have acted.
func (d *decider) held(a Action) bool {
	if !d.paused() {
		return false
	}
	d.log(slog.LevelWarn, "【暂停】维护模式中，不执行动作。", slog.String("would", a.String()), slog.String("vm_id", d.cfg.VMID),
		slog.String("until", d.step.Next.PauseUntil.In(d.o.Now.Location()).Format("01-02 15:04")))
	return true
}
