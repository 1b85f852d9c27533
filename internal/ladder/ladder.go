// Package ladder is the router's decision (SPEC §5): given the
// configuration, the state carried between runs, the probe result and the
// clock, it chooses exactly one step — nothing, L1, L2 or L3 — and the new
// state. Decide is pure: no clock, file, network or logger inside, so that
// the cron run, `netcheck plan` and the property tests run the same rules.
package ladder

import (
	"fmt"
	"log/slog"
	"strconv"
	"time"

	"github.com/pve-op/network-rescue/internal/assist"
	"github.com/pve-op/network-rescue/internal/config"
	"github.com/pve-op/network-rescue/internal/hook"
)

// Action is the one thing a run may do.
type Action int

// The escalation steps (SPEC §2).
const (
	None Action = iota
	L1          // redial the WAN
	L2          // restart network and firewall
	L3          // reboot the router
)

// String names the action in logs and state files.
//
//go:noinline
func (a Action) String() string {
	switch a {
	case L1:
		return "L1"
	case L2:
		return "L2"
	case L3:
		return "L3"
	}
	return "none"
}

// SOSLogEvery is how often a run under SOS logs that it is still waiting.
const SOSLogEvery = 30 * time.Minute

// State is what one run hands to the next. Count, Cooling, SOS and Outage
// are persistent (STATE_DIR survives a reboot); Boot, Streak, SOSLogged and
// CoolingLogged are volatile (RUN_DIR is a tmpfs that a reboot empties).
type State struct {
	Count   int       // router reboots today (net_rb_count)
	Cooling time.Time // no L3 before this; zero when not cooling (net_cooling_ts)
	SOS     bool      // SOS_SYSTEM exists
	// CountOld: the count (not 0) was last written on an earlier day
	// than today by the clock (net_rb_count's mtime, not after now).
	CountOld   bool
	SOSContent string // its content, kept as found
	Outage     Outage // net_outage
	RescuedBy  string // net_rescued_by: "host" or "vm" when the host acknowledged SOS
	// RescuedAt is net_rescued_by's mtime (zero unknown): a writing of
	// it the runs have not seen (Outage.RescueSeen) is a rescue of the
	// host's, whose reboot the next boot is (seeRescue).
	RescuedAt  time.Time
	PauseUntil time.Time // maintenance mode until then (SPEC §16); zero when none

	Boot          string    // boot id of the last run; "" after a reboot
	Streak        int       // consecutive failed runs
	SOSLogged     time.Time // last "still waiting" line under SOS
	CoolingLogged bool      // 【冷却】 was logged for the current deadline
	// UpAt is the uptime at which this boot's runs found the net up with a
	// reset pending (0: none): RECOVERY_STABLE counts on the boot's own
	// clock, which no clock step (NTP after a boot days behind) moves.
	UpAt time.Duration
	// Net is what the last run of this boot found, "up" or "down" (""
	// unknown): whether a run starts or ends an outage (outageEdge).
	Net string
}

// Outage records an outage across reboots, so that a recovery after an L3
// is still reported with its length and the action that ended it, and so
// that the count is reset only after the net stayed up (RECOVERY_STABLE).
type Outage struct {
	Since      time.Time // first failed run; zero when the net is up
	LastAction Action    // the last action taken during the outage
	UpSince    time.Time // the net has been up since; zero when no reset is pending
	ISP        ISPState  // what the next hop said during this outage (SPEC §14)
	// Assists counts the reboots the host asked for on AssistDay (its
	// assist, SPEC §14), kept in the same record: the count keeps them
	// when RECOVERY_STABLE resets it.
	AssistDay string
	Assists   int
	// SOS: an SOS stands, or stood and its withdrawal is not told yet
	// (ON_EVENT_CMD's sos-withdrawn, SPEC §16). Kept in STATE_DIR: the
	// host's acknowledgement deletes SOS_SYSTEM and then reboots the host
	// or the router VM, which empties RUN_DIR, and the router's first run
	// after it tells the withdrawal.
	SOS bool
	// RebootBy is the router reboot ordered and not yet seen land: "l3"
	// (the ladder) or "assist" (the host's request), ordered in boot
	// RebootBoot (UnknownBoot when its id was unread). The first run of
	// another boot names the reboot in 【启动】 (reboot=) and clears it,
	// so that a later boot, a power cut or a reboot by hand, no longer
	// reads as the ladder's own (count and cooling alike in both).
	RebootBy, RebootBoot string
	RebootUp             time.Duration // the uptime at the order (RebootGrace)
	// RescueBy is the host's rescue ("host" or "vm") whose
	// net_rescued_by a run of boot RescueBoot saw before the host's
	// reboot (or the router VM's restart) came: an order as RebootBy is,
	// apart, for the router may take an L3 of its own meanwhile.
	RescueBy, RescueBoot string
	RescueUp             time.Duration // the uptime when it was seen (RescueGrace)
	// RescueSeen is the RescuedAt of the net_rescued_by the runs saw:
	// the same writing, there still for 【状态恢复】, is no new rescue.
	RescueSeen time.Time
	// SOSStuck: the withdrawal is owed (SOS) because SOS_SYSTEM could not
	// be removed (chattr +i), not because the host took it: its outage
	// was told over (OwedFile's content "stuck").
	SOSStuck bool
	// Open: an outage goes on that net_outage could not take, told at a
	// boot's first run as since= would be. Stale: StaleFile stands (a
	// full flash): net_outage's since= says otherwise than the net did;
	// Recorded: net_outage holds since= (Load, as found).
	Open, Stale, Recorded bool
}

// ISPState records what the next hop said during an outage, so that each
// 【诊断】 line is logged once per outage, across reboots.
type ISPState int

// The diagnosis of an outage.
const (
	ISPNone     ISPState = iota // the next hop has not answered during this outage
	ISPUpstream                 // it answered: 【诊断】运营商侧故障 was logged
	ISPResumed                  // it answered, then stopped: the ladder went on, logged
)

func (s ISPState) String() string {
	switch s {
	case ISPUpstream:
		return "upstream"
	case ISPResumed:
		return "resumed"
	}
	return "none"
}

// Hop is what a run saw of the WAN's next hop (WAN_GATEWAY, SPEC §14).
type Hop int

// What the next hop did.
const (
	// HopUnknown: not asked — WAN_GATEWAY=off, no next hop found (no
	// default route), or the internet answered first.
	HopUnknown Hop = iota
	// HopSilent: asked, no answer within PROBE_TIMEOUT.
	HopSilent
	// HopAnswers: it answered while nothing beyond it did: the outage is
	// the ISP's, and no router reboot or SOS can fix it.
	HopAnswers
)

func (h Hop) String() string {
	switch h {
	case HopSilent:
		return "silent"
	case HopAnswers:
		return "answers"
	}
	return "unknown"
}

// Input is what the run observed.
type Input struct {
	Now    time.Time
	Up     bool
	Uptime time.Duration // time since the router booted
	BootID string        // /proc/sys/kernel/random/boot_id
	Detail string        // the probe's one-line summary, for the log
	// NextHop is what the next hop did on a down run; NextHopAddr names
	// it for the log.
	NextHop     Hop
	NextHopAddr string
}

// Event is one log line the run must write: a verbatim tag and message,
// plus key=value attributes.
type Event struct {
	Level slog.Level
	Msg   string
	Attrs []slog.Attr
}

// Step is the decision: one action, the lines to log and the state to
// persist before acting.
type Step struct {
	Action Action
	Events []Event
	Next   State
}

// Decide applies the rules of SPEC §5 to one run.
func Decide(cfg config.Config, st State, in Input) Step {
	d := decider{cfg: cfg, in: in, next: st}
	d.run()
	d.next.Outage.SOS = d.next.SOS // told, if it went (Transitions)
	if cfg.DryRun {
		for i := range d.events {
			d.events[i].Msg = "【演练】" + d.events[i].Msg
		}
	}
	return Step{Action: d.action, Events: d.events, Next: d.next}
}

type decider struct {
	cfg    config.Config
	in     Input
	next   State
	action Action
	events []Event
}

// log records an event of the decision. Not inlined: its ~25 call sites
// cost netcheck ~4 KB inlined (SPEC §12: ≤ 5 MiB), and a healthy run
// calls it not at all.
//
//go:noinline
func (d *decider) log(level slog.Level, msg string, attrs ...slog.Attr) {
	d.events = append(d.events, Event{Level: level, Msg: msg, Attrs: attrs})
}

func (d *decider) run() {
	n := &d.next
	now := d.in.Now
	edge := outageEdge(n, d.in.BootID, d.in.Up)
	first := firstAfterBoot(n.Boot, d.in.BootID)
	rescue := d.seeRescue(first)
	if first {
		// Rule 1: the first run after a boot (RUN_DIR was emptied).
		n.Boot, n.Streak, n.SOSLogged, n.CoolingLogged, n.UpAt = d.in.BootID, 0, time.Time{}, false, 0
		attrs := []slog.Attr{slog.Duration("uptime", d.in.Uptime.Round(time.Second)), slog.Int("count", n.Count)}
		if !n.Cooling.IsZero() {
			attrs = append(attrs, slog.String("cooling_until", d.clock(n.Cooling)))
		}
		attrs = append(attrs, slog.Bool("sos", n.SOS))
		why := rescue
		if why == "" {
			why = d.bootCause()
		}
		if why != "" {
			attrs = append(attrs, slog.String("reboot", why))
		}
		d.log(slog.LevelInfo, "【启动】netcheck 开始守护", attrs...)
		d.missedMidnight()
	} else {
		d.orderGone()
	}
	d.pauseExpiry()
	// The day's assists as they stand: none of another day, never more
	// than the count (the host's acknowledgement or midnight-reset zeroed
	// it), never below 0 (a damaged file).
	if a := n.Outage.assistsOn(now, n.Count); a != n.Outage.Assists {
		n.Outage.Assists = a
	}
	if n.Outage.Assists == 0 {
		n.Outage.AssistDay = ""
	}
	if d.in.Up {
		d.up(edge)
		return
	}
	d.down(now, edge)
}

// bootCause names what rebooted the router, for the 【启动】 line of a
// boot's first run: the reboot of ours ordered in another boot ("l3",
// "assist"; the order is then cleared), the host's rescue ("host" or
// "vm", its net_rescued_by), or "other": none of ours (a power cut, a
// reboot by hand or by an upgrade, the host rebooting of its own accord).
// "" when the boot id is the one the order was made in: RUN_DIR was
// emptied without a reboot.
func (d *decider) bootCause() string {
	o := &d.next.Outage
	this := func(boot string) bool { return boot == d.in.BootID && d.in.BootID != UnknownBoot }
	switch {
	case o.RebootBy != "" && !this(o.RebootBoot):
		// Ours first: an L3 after the host's sync lands before the
		// host's reboot, whose order stays for the boot after.
		why := o.RebootBy
		o.RebootBy, o.RebootBoot, o.RebootUp = "", "", 0
		if o.RescueBy != "" {
			// The host's reboot, seen coming before ours, is still to
			// come: it waits in this boot, RescueGrace from now, or the
			// next run took it for an order no boot will name (orderGone).
			o.RescueBoot, o.RescueUp = d.in.BootID, d.in.Uptime
			if o.RescueBoot == "" {
				o.RescueBoot = UnknownBoot
			}
		}
		return why
	case o.RescueBy != "" && !this(o.RescueBoot):
		why := o.RescueBy
		o.RescueBy, o.RescueBoot, o.RescueUp = "", "", 0
		return why
	case o.RebootBy != "" || o.RescueBy != "":
		return "" // RUN_DIR emptied in the boot of the order: no reboot
	}
	return "other"
}

// seeRescue takes note of a writing of net_rescued_by the runs have not
// seen: the host's rescue (its sync, then its reboot or the router VM's
// cold restart). Seen first by a boot's first run, that boot is the
// rescue's: its name is returned for 【启动】. Seen by another run, the
// host's reboot is still to come: it is ordered as a reboot of ours is,
// for the boot it brings (the router may take a step meanwhile, or find
// the net up and remove net_rescued_by). A writing seen stays seen, so a
// later boot (a power cut) is not the rescue's; the record goes with the
// file.
func (d *decider) seeRescue(first bool) string {
	n := &d.next
	o := &n.Outage
	switch {
	case n.RescuedBy == "" && !o.RescueSeen.IsZero():
		// Gone, and not by a run of ours (up and act forget it as they
		// remove it): the host withdrew its rescue (its reboot misfired
		// or was cancelled: remote.ForgetRescue).
		o.RescueSeen, o.RescueBy, o.RescueBoot, o.RescueUp = time.Time{}, "", "", 0
		return ""
	case n.RescuedBy == "" || n.RescuedAt.IsZero() || n.RescuedAt.Unix() == o.RescueSeen.Unix():
		return ""
	}
	o.RescueSeen = n.RescuedAt
	if first {
		// Written since the last run of the boot before: this boot is the
		// rescue's, an order of ours from then with it (one boot for both).
		o.RescueBy, o.RescueBoot, o.RescueUp = "", "", 0
		o.RebootBy, o.RebootBoot, o.RebootUp = "", "", 0
		return n.RescuedBy
	}
	o.RescueBy, o.RescueBoot, o.RescueUp = n.RescuedBy, d.in.BootID, d.in.Uptime
	if o.RescueBoot == "" {
		o.RescueBoot = UnknownBoot
	}
	return ""
}

// RebootGrace is how long after its order a reboot of ours may take to
// come: a run of the same boot later than that finds none came (the
// command returned and the router went on, or ActionTimeout ended it).
// The host's rescue has RescueGrace: REBOOT_DELAY, PVE's shutdown of its
// guests or a qm stop that waits VM_STOP_TIMEOUT, and the host's own
// boot (hostcheck boot gives its reboot an hour).
const (
	RebootGrace = 10 * time.Minute
	RescueGrace = time.Hour
)

// orderGone clears, in a run that is not a boot's first, a reboot order
// that no boot will name: one of an earlier boot that the boot's first
// run named but could not clear (a full flash), or one of this boot that
// RebootGrace has passed without the reboot.
func (d *decider) orderGone() {
	o := &d.next.Outage
	gone := func(by, boot string, up, grace time.Duration) bool {
		return by != "" && (boot != d.in.BootID && boot != UnknownBoot || d.in.Uptime >= up+grace)
	}
	if gone(o.RebootBy, o.RebootBoot, o.RebootUp, RebootGrace) {
		o.RebootBy, o.RebootBoot, o.RebootUp = "", "", 0
	}
	if gone(o.RescueBy, o.RescueBoot, o.RescueUp, RescueGrace) {
		if o.RescueBoot == d.in.BootID {
			// The host's reboot did not come in RescueGrace (nor its
			// withdrawal): net_rescued_by, kept for it (up, act), goes, or
			// a recovery after a step of ours would name the host.
			d.next.RescuedBy, o.RescueSeen = "", time.Time{}
		}
		o.RescueBy, o.RescueBoot, o.RescueUp = "", "", 0
	}
}

// UnknownBoot is the boot id of a run that could read none, and saw none
// before it in RUN_DIR: no two such runs can be told apart.
const UnknownBoot = "unknown"

// rebootOrdered records a reboot of ours (by: "l3", "assist") before it
// runs, for the 【启动】 of the boot it brings (bootCause).
func (d *decider) rebootOrdered(by string) {
	boot := d.in.BootID
	if boot == "" {
		boot = UnknownBoot
	}
	d.next.Outage.RebootBy, d.next.Outage.RebootBoot, d.next.Outage.RebootUp = by, boot, d.in.Uptime
}

// OrderFailed is next with the reboot it ordered forgotten: its command
// failed, no reboot came, and the next boot (a power cut, say) must not
// read as this one's in 【启动】.
func OrderFailed(next State) State {
	next.Outage.RebootBy, next.Outage.RebootBoot, next.Outage.RebootUp = "", "", 0
	return next
}

// assistsOn is the number of the host's assist reboots on now's day that
// the count still holds. Those of an earlier day are gone (midnight-reset
// zeroed the count); a day after now's is a clock behind (no RTC, before
// NTP), not another day: they count.
func (o Outage) assistsOn(now time.Time, count int) int {
	if o.AssistDay < now.Format(time.DateOnly) {
		return 0
	}
	return max(0, min(o.Assists, count))
}

// missedMidnight does midnight-reset's work at the first run after a boot
// when the count was last written on an earlier day: the router was down
// at 00:00 (an L3 late in the day, a power cut, the host cold-restarting
// its VM), and crond does not run a job whose minute passed while it was
// not running, so the new day would keep yesterday's count, cooling and
// SOS. Only forward: a clock behind the count's time (no RTC, before NTP)
// never triggers it.
func (d *decider) missedMidnight() {
	n := &d.next
	if !n.CountOld || n.Count == 0 {
		return
	}
	d.log(slog.LevelInfo, "【重置】补做零点重置：零点时路由器未运行，重启计数清零，冷却与 SOS 已清除。", slog.Int("old_count", n.Count))
	n.Count, n.CountOld, n.Cooling, n.CoolingLogged, n.SOS, n.SOSContent = 0, false, time.Time{}, false, false, ""
}

// firstAfterBoot reports whether a run of boot bootID after one of boot,
// the state's the last run left, is the first after a boot (rule 1:
// RUN_DIR was emptied).
func firstAfterBoot(boot, bootID string) bool { return boot != bootID || boot == "" }

// outageEdge reports whether a run with in after s, the state the last
// run left, starts an outage (down) or ends one (up): the edge that
// 【状态恢复】 and ON_EVENT_CMD's down and up tell (Transitions). Within
// a boot RUN_DIR's record knows (Net), always writable: what the last run
// found. net_outage, on flash, may not be: on a full flash its since=
// could be neither written at an outage's start nor cleared at its end,
// and every down run told "down" again, or every healthy run "up" and
// 【状态恢复】 (each an outage for report). At a boot's first run, or
// with no Net recorded (an older record), net_outage tells.
//
//go:noinline
func outageEdge(s *State, bootID string, up bool) bool {
	if firstAfterBoot(s.Boot, bootID) || s.Net == "" {
		// An SOS withdrawal owed is an outage too: on a full flash it is
		// the one trace of an outage that net_outage could not take
		// (OwedFile: an empty file), across a reboot. One owed because
		// SOS_SYSTEM cannot be removed (chattr +i) is none: its outage
		// was told over (SOSStuck).
		return (s.Outage.Since.IsZero() && !s.Outage.Open && !(s.Outage.SOS && !s.Outage.SOSStuck)) != up
	}
	return (s.Net == "up") != up
}

// up is rule 2; ends: this run ends an outage (outageEdge).
func (d *decider) up(ends bool) {
	n := &d.next
	now := d.in.Now
	// The host's reboot seen coming (RescueBy) has not come: a recovery
	// now is none of its, and net_rescued_by stays for it, so that the
	// host's withdrawal (ForgetRescue: its reboot misfired) is still seen
	// (seeRescue).
	awaited := n.Outage.RescueBy != ""
	if ends {
		last := n.Outage.LastAction.String()
		if n.RescuedBy != "" && !awaited {
			last = n.RescuedBy // the host rebooted itself or the router VM
		}
		attrs := []slog.Attr{slog.String("last_action", last)}
		if !n.Outage.Since.IsZero() { // else never written (a full flash): its length unknown
			// A clock set back during the outage (NTP, once the net is
			// back) makes no negative length: 0 (the hook's outage, alike).
			attrs = append(attrs, slog.Duration("outage", max(now.Sub(n.Outage.Since), 0).Round(time.Second)))
		}
		if n.Outage.ISP != ISPNone {
			attrs = append(attrs, slog.String("diagnosis", "isp"))
		}
		d.log(slog.LevelInfo, "【状态恢复】网络已恢复", append(attrs, slog.String("by", d.in.Detail))...)
	}
	if n.Net != "" || !n.Outage.Since.IsZero() || ends { // else unknown still: a healthy run changes nothing
		n.Net = "up" // an edge told, also of an outage only an owed withdrawal told: once
	}
	n.Outage.Since, n.Outage.LastAction, n.Outage.ISP, n.Outage.Open = time.Time{}, None, ISPNone, false
	if !awaited {
		n.RescuedBy, n.Outage.RescueSeen = "", time.Time{} // removed by us: no withdrawal (seeRescue)
	}
	n.Streak, n.SOSLogged = 0, time.Time{}
	if n.SOS {
		n.SOS, n.SOSContent = false, ""
		d.log(slog.LevelInfo, "【SOS 撤回】网络已恢复，撤回 SOS 信号。")
	}
	// The reboots the host asked for today (its assist, SPEC §14) stay in
	// the count: they were taken with the router's own net up, and no
	// recovery of its own ends the LAN fault they were for. Reset with the
	// rest, a fault that recurs all day would have "reboot #1" every time,
	// never cooling, never the limit.
	keep := n.Outage.Assists // as run() left them: today's, within the count
	if !n.Cooling.IsZero() && !coolingNow(*n, now) {
		// Run out while up: nothing was held, nothing to lift (【熔断解除】
		// is an outage's), and a later outage must not be told so.
		n.Cooling, n.CoolingLogged = time.Time{}, false
	}
	// A count of the host's reboots alone keeps their cooling, to its end.
	pending := n.Count > keep || keep == 0 && !n.Cooling.IsZero()
	switch {
	case !pending:
		n.Outage.UpSince, n.UpAt = time.Time{}, 0
	case n.Outage.UpSince.IsZero() || n.Outage.UpSince.After(now):
		n.Outage.UpSince = now
	}
	if pending && d.in.Uptime > 0 && (n.UpAt == 0 || n.UpAt > d.in.Uptime) {
		n.UpAt = d.in.Uptime
	}
	// The time the net stayed up, on the boot's clock: a reboot between
	// (the host's assist) or a clock set forward by NTP is none of it.
	// An uptime unread this run (0) waits for the next, when this boot's
	// is known; by the wall clock only when it never was.
	stable := now.Sub(n.Outage.UpSince)
	switch {
	case d.in.Uptime > 0 && n.UpAt > 0:
		stable = d.in.Uptime - n.UpAt
	case n.UpAt > 0:
		stable = 0
	}
	if pending && stable >= d.cfg.RecoveryStable {
		msg := "【状态恢复】网络已稳定，重启计数清零"
		if keep > 0 {
			msg = "【状态恢复】网络已稳定，重启计数只保留今日应 PVE 请求的重启"
		}
		d.log(slog.LevelInfo, msg, slog.Duration("stable", stable.Round(time.Second)),
			slog.Int("old_count", n.Count), slog.Int("count", keep))
		// The outage's cooling goes with its reboots, also beside kept ones.
		n.Count, n.Cooling, n.CoolingLogged, n.Outage.UpSince, n.UpAt = keep, time.Time{}, false, time.Time{}, 0
	}
}

// down is rule 3; starts: this run starts an outage (outageEdge), also
// over a record of the last one that a full flash kept.
func (d *decider) down(now time.Time, starts bool) {
	n := &d.next
	n.Outage.UpSince, n.UpAt, n.Net = time.Time{}, 0, "down"
	if starts && !n.Outage.Since.IsZero() {
		// The last outage's record, which a full flash kept: this is another.
		n.Outage.Since, n.Outage.LastAction, n.Outage.ISP = now, None, ISPNone
	}
	if n.Outage.Since.IsZero() || n.Outage.Since.After(now) {
		n.Outage.Since = now
	}
	if !n.SOS && !n.SOSLogged.IsZero() {
		// This outage's SOS was cleared while the net is still down: the
		// host's acknowledgement before it reboots (SPEC §6 step 6),
		// midnight-reset, a person. The ladder starts over, as after a
		// cooling: its streak grew under SOS, and an L3 at once rebooted
		// the router VM in the middle of PVE's shutdown. The host's log
		// and midnight-reset's 【重置】 say who cleared it; here the next
		// 【报警】 counts from 1.
		n.Streak, n.SOSLogged = 0, time.Time{}
	}
	if n.SOS {
		n.Streak++
		if n.SOSLogged.IsZero() || now.Sub(n.SOSLogged) >= SOSLogEvery || now.Before(n.SOSLogged) {
			n.SOSLogged = now
			d.log(slog.LevelWarn, "【报警】网络断开 (第 "+strconv.Itoa(n.Streak)+" 次失败)。SOS 已发出，等待 PVE 介入。",
				slog.Int("count", n.Count), slog.String("probe", d.in.Detail))
		}
		return
	}
	if !n.Cooling.IsZero() {
		if coolingNow(*n, now) {
			if !n.CoolingLogged {
				n.CoolingLogged = true
				d.log(slog.LevelWarn, "【冷却】熔断冷却中，只检测不动作，直到 "+d.clock(n.Cooling),
					slog.Duration("left", n.Cooling.Sub(now).Round(time.Second)), slog.Int("count", n.Count))
			}
			return
		}
		d.log(slog.LevelInfo, "【熔断解除】冷却结束，重新开始自救阶梯。", slog.Int("count", n.Count))
		n.Cooling, n.CoolingLogged, n.Streak = time.Time{}, false, 0
	}
	n.Streak++
	alarm := []slog.Attr{slog.String("probe", d.in.Detail)}
	if d.in.NextHop != HopUnknown {
		alarm = append(alarm, d.hopAttr())
	}
	d.log(slog.LevelWarn, "【报警】网络断开 (第 "+strconv.Itoa(n.Streak)+" 次失败)。", alarm...)
	d.diagnose()
	c := d.cfg
	want := None
	switch {
	case n.Streak == c.L1Threshold:
		want = L1
	case n.Streak == c.L2Threshold:
		want = L2
	case n.Streak >= c.L3Threshold && d.in.NextHop == HopAnswers:
		// The next hop answers, nothing beyond it does: the fault is the
		// ISP's, which no router reboot fixes, and no SOS may bring the
		// host's reboot either. The streak still grows, so the ladder goes
		// on from here the run the next hop stops answering (SPEC §14).
	case n.Streak >= c.L3Threshold:
		want = L3
	}
	if want != None && d.paused() {
		// Maintenance (SPEC §16): no step and no SOS; said once per rung.
		if want != L3 || n.Streak == c.L3Threshold {
			d.log(slog.LevelWarn, "【暂停】维护模式中，不执行动作。", slog.String("would", want.String()),
				slog.String("until", d.clock(n.PauseUntil)))
		}
		return
	}
	switch want {
	case L1:
		// The configured interface (WAN_IFACE), not always "wan" (SPEC §14).
		d.act(L1, "【L1-动作】重拨 WAN 接口 (ifdown/ifup "+c.WanIface+")…")
	case L2:
		d.act(L2, "【L2-动作】重启网络与防火墙服务…")
	case L3:
		d.l3()
	}
}

// paused reports maintenance mode at the run's time (SPEC §16).
func (d *decider) paused() bool {
	return !d.next.PauseUntil.IsZero() && d.in.Now.Before(d.next.PauseUntil)
}

// pauseExpiry ends a pause whose deadline passed: 【恢复自救】, and the
// ladder starts over from its first rung, the least disruptive step, as
// after a cooling.
func (d *decider) pauseExpiry() {
	n := &d.next
	if n.PauseUntil.IsZero() || d.paused() {
		return
	}
	d.log(slog.LevelInfo, "【恢复自救】维护模式已结束，恢复自救。", slog.String("paused_until", d.clock(n.PauseUntil)))
	n.PauseUntil, n.Streak = time.Time{}, 0
}

// diagnose logs, once per outage, that the next hop answers (the outage is
// upstream), and once that it stopped answering after that (SPEC §14).
func (d *decider) diagnose() {
	o := &d.next.Outage
	switch {
	case d.in.NextHop == HopAnswers && o.ISP == ISPNone:
		o.ISP = ISPUpstream
		d.log(slog.LevelWarn, "【诊断】运营商侧故障，本机链路正常",
			slog.String("next_hop", d.in.NextHopAddr),
			slog.String("hold", "no router reboot and no SOS while the next hop answers; L1 and L2 as usual"))
	case d.in.NextHop != HopAnswers && o.ISP == ISPUpstream:
		o.ISP = ISPResumed
		d.log(slog.LevelWarn, "【诊断】下一跳不再响应，自救阶梯继续",
			d.hopAttr(), slog.Int("streak", d.next.Streak))
	}
}

// hopAttr is the next hop and what it did: "192.0.2.1 silent", or
// "unknown" when it could not be asked.
func (d *decider) hopAttr() slog.Attr {
	if d.in.NextHopAddr == "" {
		return slog.String("next_hop", d.in.NextHop.String())
	}
	return slog.String("next_hop", d.in.NextHopAddr+" "+d.in.NextHop.String())
}

// Verdict is the rule's answer to one router reboot.
type Verdict int

// The answers of RebootRule, in the order it checks them.
const (
	RebootOK         Verdict = iota // reboot, counting it
	RebootSOS                       // SOS is raised: the router only waits for the host
	RebootCooling                   // the cooling deadline has not passed
	RebootSafeUptime                // up for less than SAFE_UPTIME (【安全锁】)
	RebootMidnight                  // 00:00, the minute of midnight-reset
	RebootLimit                     // the count would reach L4_SOS_THRESHOLD
)

// RebootRule is the rule every router reboot passes, the ladder's L3 and
// the host's `assist reboot` alike (SPEC §5 rule 3, §14): none under SOS
// or cooling, none before SAFE_UPTIME, and none that would bring the day's
// count to L4_SOS_THRESHOLD (the ladder raises SOS there instead). None
// in the minute of 00:00 either: midnight-reset runs then and waits for
// the run's lock, and a reboot with the lock held would kill it, so the
// new day would keep yesterday's count, cooling and SOS (SPEC §5, §15).
// The reboot comes a minute later, after the reset.
func RebootRule(cfg config.Config, st State, now time.Time, uptime time.Duration) Verdict {
	switch {
	case st.SOS:
		return RebootSOS
	case coolingNow(st, now):
		return RebootCooling
	case uptime < cfg.SafeUptime:
		return RebootSafeUptime
	case now.Hour() == 0 && now.Minute() == 0:
		return RebootMidnight
	case st.Count+1 >= cfg.L4SOSThreshold:
		return RebootLimit
	}
	return RebootOK
}

// coolingNow reports a cooling deadline still ahead of now.
func coolingNow(st State, now time.Time) bool { return !st.Cooling.IsZero() && now.Before(st.Cooling) }

func (d *decider) l3() {
	n := &d.next
	now := d.in.Now
	switch RebootRule(d.cfg, *n, now, d.in.Uptime) {
	case RebootSafeUptime:
		d.log(slog.LevelWarn, "【安全锁】开机时间过短，跳过物理重启。",
			slog.Duration("uptime", d.in.Uptime.Round(time.Second)), slog.Duration("safe_uptime", d.cfg.SafeUptime))
	case RebootLimit:
		n.Count++
		n.SOS, n.SOSLogged = true, now
		n.SOSContent = fmt.Sprintf("time=%s count=%d reason=%d failed checks in a row; router reboots today did not help (%d)",
			now.Format(time.RFC3339), n.Count, n.Streak, n.Count-1)
		d.log(slog.LevelError, "【SOS】今日自愈已达 "+strconv.Itoa(n.Count)+" 次上限。生成 SOS 信号，停止自救。",
			slog.Int("count", n.Count))
	case RebootMidnight:
		d.log(slog.LevelWarn, "【推迟】零点重置进行中，物理重启推迟到下一次运行。")
	case RebootOK:
		d.reboot()
		d.rebootOrdered("l3")
	}
	// RebootSOS and RebootCooling: down() returned before the ladder.
}

// reboot counts a reboot the rule allowed, sets the cooling that follows
// it and decides L3.
func (d *decider) reboot(attrs ...slog.Attr) {
	n := &d.next
	n.Count++
	attrs = append(attrs, slog.Int("count", n.Count))
	if cool := CoolingFor(d.cfg, n.Count); cool > 0 {
		n.Cooling, n.CoolingLogged = d.in.Now.Add(cool), false
		attrs = append(attrs, slog.Duration("cooling", cool), slog.String("cooling_until", d.clock(n.Cooling)))
	}
	d.act(L3, "【L3-动作】执行物理重启 (#"+strconv.Itoa(n.Count)+")…", attrs...)
}

// act decides a step. The step is the outage's last action from now on,
// also after the host's rescue: a recovery after it is the router's own
// (RescuedBy goes), not the host's; one whose reboot is still to come
// (RescueBy) keeps net_rescued_by, as up does. Not inlined: cold, and called for
// each step (SPEC §12: size).
//
//go:noinline
func (d *decider) act(a Action, msg string, attrs ...slog.Attr) {
	d.action = a
	d.next.Outage.LastAction = a
	if d.next.Outage.RescueBy == "" { // else the host's reboot is still to come: kept for it (up)
		d.next.RescuedBy, d.next.Outage.RescueSeen = "", time.Time{}
	}
	d.log(slog.LevelWarn, msg, attrs...)
}

// CoolingFor is the cooling that follows the count-th reboot (SPEC §5):
// clamp((count - COOLING_FREE_REBOOTS) × COOLING_STEP, 0, COOLING_MAX), also
// when COOLING_MAX is no multiple of the step (3h with a 2h step: 2h, then
// 3h). The steps are compared first, so that no count overflows.
func CoolingFor(cfg config.Config, count int) time.Duration {
	steps := time.Duration(count - cfg.CoolingFreeReboots)
	switch {
	case steps <= 0 || cfg.CoolingStep <= 0:
		return 0
	case steps > cfg.CoolingMax/cfg.CoolingStep:
		return cfg.CoolingMax
	}
	return steps * cfg.CoolingStep
}

// clock shows t as a wall-clock time in the zone of the run's clock.
func (d *decider) clock(t time.Time) string {
	return t.In(d.in.Now.Location()).Format("2006-01-02 15:04:05")
}

// Transitions are the router's events of one run for ON_EVENT_CMD (SPEC
// §16), from the state before the run, its input and its step: the
// internet going down (the first failed run of an outage) or coming back,
// the ladder's step, and SOS raised or withdrawn. A run that finds things
// as they were has none, so the hook runs once per transition.
func Transitions(old State, in Input, s Step) []hook.Event {
	var evs []hook.Event
	outage, since := time.Duration(0), old.Outage.Since
	if !in.Up {
		since = s.Next.Outage.Since // this outage's, also one that starts over a kept record
	}
	if !since.IsZero() && in.Now.After(since) {
		outage = in.Now.Sub(since)
	}
	switch edge := outageEdge(&old, in.BootID, in.Up); {
	case edge && in.Up:
		evs = append(evs, hook.Event{Name: "up", Detail: in.Detail, Outage: outage})
	case edge:
		evs = append(evs, hook.Event{Name: "down", Detail: in.Detail})
	}
	switch s.Action {
	case L1:
		evs = append(evs, hook.Event{Name: "l1", Detail: "redial the WAN (L1_CMD)", Outage: outage})
	case L2:
		evs = append(evs, hook.Event{Name: "l2", Detail: "restart network and firewall (L2_CMD)", Outage: outage})
	case L3:
		evs = append(evs, hook.Event{Name: "l3", Detail: fmt.Sprintf("reboot the router (L3_CMD), count %d", s.Next.Count), Outage: outage})
	}
	if !old.SOS && old.Outage.SOS {
		// Withdrawn by another since the last run, and untold: whoever
		// withdraws an SOS, the hook that had "sos" hears of it, also
		// before a new one. The host's acknowledgement is told at the
		// router's first run after it, also when that is the first after
		// the reboot the host took for it; midnight-reset tells it itself
		// (Store.Reset clears the flag).
		detail := "cleared by hand"
		if old.RescuedBy != "" {
			detail = "acknowledged by the host: " + old.RescuedBy
		}
		evs = append(evs, hook.Event{Name: "sos-withdrawn", Detail: detail, Outage: outage})
	}
	switch {
	case s.Next.SOS && !old.SOS:
		evs = append(evs, hook.Event{Name: "sos", Detail: s.Next.SOSContent, Outage: outage})
	case !s.Next.SOS && old.SOS:
		detail := in.Detail                   // the reply that ended the outage
		if old.CountOld && !s.Next.CountOld { // only missedMidnight clears it
			detail = "midnight-reset, made at boot" // missedMidnight's, the net maybe still down
		}
		evs = append(evs, hook.Event{Name: "sos-withdrawn", Detail: detail, Outage: outage})
	}
	return evs
}

// AssistInput is a request from the host (`netcheck assist`, SPEC §14).
type AssistInput struct {
	Now    time.Time
	Uptime time.Duration // time since the router booted
	BootID string        // the boot the request came in ("" unread)
	Step   assist.Step
	Reason string // the host's reason, already escaped (internal/untrusted)
}

// AssistStep is the decision on a request: whether to run the step's
// command, the lines to log, the state to persist before running it, and
// the answer for the host when the request is refused.
type AssistStep struct {
	Run     bool          // run the step's command
	Action  Action        // L3 for a reboot that the rule allowed; None otherwise
	Refusal assist.Result // Outcome Refused when the request is refused; zero otherwise
	Events  []Event
	Next    State
}

// DecideAssist decides a request from the host. dns and network run the
// router's own DNS_CMD and L2_CMD: they are no reboot, so neither cooling
// nor the count holds them. reboot passes RebootRule exactly as the
// ladder's L3 does and counts in the same count with the same cooling; a
// reboot the rule refuses changes nothing (at the limit the ladder raises
// SOS, but the router that the host asks is up by its own probe, and its
// next run would withdraw that SOS at once: the refusal tells the host to
// take its own next step instead).
func DecideAssist(cfg config.Config, st State, in AssistInput) AssistStep {
	d := decider{cfg: cfg, in: Input{Now: in.Now, Uptime: in.Uptime, BootID: in.BootID}, next: st}
	out := AssistStep{}
	reason := slog.String("reason", in.Reason)
	if d.paused() {
		// Maintenance (SPEC §16) holds every step the host asks for too.
		out.Refusal = assist.Result{Step: in.Step, Outcome: assist.Refused, Why: assist.WhyPause,
			Detail: "maintenance pause until " + d.clock(st.PauseUntil)}
		d.log(slog.LevelWarn, "【协助】拒绝 PVE 的请求：维护模式中", slog.String("step", string(in.Step)), reason,
			slog.String("why", assist.WhyPause), slog.String("until", d.clock(st.PauseUntil)))
		in.Step = ""
	}
	switch in.Step {
	case assist.DNS:
		out.Run = true
		d.log(slog.LevelWarn, "【协助】应 PVE 请求重启 DNS 服务…", slog.String("step", string(in.Step)), reason)
	case assist.Network:
		out.Run = true
		d.log(slog.LevelWarn, "【协助】应 PVE 请求重启网络与防火墙服务…", slog.String("step", string(in.Step)), reason)
	case assist.Reboot:
		v := RebootRule(cfg, st, in.Now, in.Uptime)
		if v == RebootOK {
			out.Run = true
			d.log(slog.LevelWarn, "【协助】应 PVE 请求重启路由器…", slog.String("step", string(in.Step)), reason)
			d.reboot(slog.String("by", "assist"))
			// The router saw no outage (its own probe is up): the assist is
			// no step of one, and must not become the "last action" of the
			// next one.
			d.next.Outage = st.Outage
			// Stamped with the later day: a clock behind (no RTC, before
			// NTP) must not date the day's assists back, to be dropped.
			n, day := st.Outage.assistsOn(in.Now, st.Count), in.Now.Format(time.DateOnly)
			if n > 0 {
				day = max(day, st.Outage.AssistDay)
			}
			d.next.Outage.AssistDay, d.next.Outage.Assists = day, n+1
			if !cfg.DryRun { // a dry run reboots nothing, and no boot follows it
				d.rebootOrdered("assist")
			}
			break
		}
		why, zh, detail := refusal(cfg, st, in, v, d.clock)
		out.Refusal = assist.Result{Step: in.Step, Outcome: assist.Refused, Why: why, Detail: detail}
		d.log(slog.LevelWarn, "【协助】拒绝 PVE 的重启请求："+zh, slog.String("step", string(in.Step)), reason,
			slog.String("why", why), slog.Int("count", st.Count))
	}
	if cfg.DryRun {
		for i := range d.events {
			d.events[i].Msg = "【演练】" + d.events[i].Msg
		}
	}
	out.Action, out.Events, out.Next = d.action, d.events, d.next
	return out
}

// refusal words a verdict for the host (why, detail) and the log (zh).
func refusal(cfg config.Config, st State, in AssistInput, v Verdict, clock func(time.Time) string) (why, zh, detail string) {
	switch v {
	case RebootSOS:
		return assist.WhySOS, "SOS 已发出，路由器已停止自救",
			"SOS is raised: the router has stopped rescuing itself"
	case RebootCooling:
		return assist.WhyCooling, "熔断冷却中，直到 " + clock(st.Cooling),
			fmt.Sprintf("cooling until %s (%v left) after %d reboots today", clock(st.Cooling), st.Cooling.Sub(in.Now).Round(time.Second), st.Count)
	case RebootSafeUptime:
		return assist.WhySafeUptime, "安全锁，开机时间过短",
			fmt.Sprintf("up %v, less than SAFE_UPTIME %v", in.Uptime.Round(time.Second), cfg.SafeUptime)
	case RebootMidnight:
		return assist.WhyBusy, "零点重置进行中", "midnight-reset runs at 00:00: ask again after it"
	}
	return assist.WhyLimit, fmt.Sprintf("今日已重启 %d 次，再重启将达 SOS 上限 %d", st.Count, cfg.L4SOSThreshold),
		fmt.Sprintf("%d router reboots today; one more reaches L4_SOS_THRESHOLD %d", st.Count, cfg.L4SOSThreshold)
}
