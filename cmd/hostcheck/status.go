package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/pve-op/network-rescue/crontab"
	"github.com/pve-op/network-rescue/internal/config"
	"github.com/pve-op/network-rescue/internal/health"
	"github.com/pve-op/network-rescue/internal/ladder"
	"github.com/pve-op/network-rescue/internal/notify"
	"github.com/pve-op/network-rescue/internal/pause"
	"github.com/pve-op/network-rescue/internal/remote"
	"github.com/pve-op/network-rescue/internal/rescue"
	"github.com/pve-op/network-rescue/state"
)

// status is the host half of the health check (SPEC §7), or with -json
// the same checks and the state as one JSON object (SPEC §16).
func (h *host) status(ctx context.Context, crontabPath string, out health.Output) error {
	checks, loc := health.Basics(h.cfg, h.e.Now(), "timedatectl set-timezone Asia/Shanghai (or your zone)")
	now := h.e.Now().In(loc)
	out.Now = now
	if !h.crontabSet && packageCron(h.cronD, h.pkgBin) {
		// Installed from the package: its cron lines are in /etc/cron.d.
		checks = append(checks, health.CronPackage(h.cronD)...)
	} else {
		checks = append(checks, health.Cron(crontabPath, crontab.Role("host"), "hostcheck install --role host")...)
	}
	rc := h.remote()

	key := ""
	for _, k := range rc.KeyFiles {
		if _, err := os.Stat(k); err == nil {
			key = k
			break
		}
	}
	if key == "" {
		port := "" // ssh-copy-id's own default, 22; another OP_SSH_PORT reached the wrong sshd
		if h.cfg.OpSSHPort != 22 {
			port = "-p " + strconv.Itoa(h.cfg.OpSSHPort) + " "
		}
		checks = append(checks, health.Check{Name: "SSH key", Detail: "none of " + strings.Join(rc.KeyFiles, ", "),
			Fix: "ssh-keygen -t ed25519 -N '' -f " + h.cfg.SSHKey + " && ssh-copy-id -i " + h.cfg.SSHKey + " " + port + h.cfg.OpSSHUser + "@" + h.cfg.OpIP +
				" (Dropbear: append it to /etc/dropbear/authorized_keys)"})
	} else {
		checks = append(checks, health.Check{OK: true, Name: "SSH key", Detail: key})
	}

	rctx, cancel := context.WithTimeout(ctx, h.cfg.SSHTimeout)
	rs, err := rc.ReadRouterState(rctx, h.cfg.OpStateDir)
	cancel()
	routerErr := err
	var ce *state.CorruptError
	switch kind := remote.KindOf(err); {
	case errors.As(err, &ce):
		// A FIFO or a directory as SSH_KEY or KNOWN_HOSTS (SPEC §15).
		checks = append(checks, health.Check{Name: "SSH files", Detail: ce.Path + " is a " + ce.Kind + ", not a regular file",
			Fix: "remove " + ce.Path + " and put the file there again (ssh-keygen -t ed25519 -N '' -f " + h.cfg.SSHKey + ", or " + h.pinCmd() + ")"})
	case err == nil:
		checks = append(checks, health.Check{OK: true, Name: "host key pinned", Detail: h.cfg.KnownHosts})
		checks = append(checks, health.Check{OK: true, Name: "SSH without password", Detail: rc.User + "@" + rc.Addr})
		checks = append(checks, routerStateChecks(rs)...)
	case kind == remote.HostUnknown || kind == remote.HostChanged:
		checks = append(checks, health.Check{Name: "host key pinned", Detail: shown(err.Error(), maxShownErr), Fix: h.pinCmd()})
	default:
		checks = append(checks, health.Check{Name: "SSH without password", Detail: shown(err.Error(), maxShownErr),
			Fix: "check OP_IP/OP_SSH_PORT, that Dropbear runs, and that the key is in the router's /etc/dropbear/authorized_keys"})
	}

	st, problems := h.store().Load(loc)
	for _, p := range problems {
		fix := "delete the file; hostcheck rewrites it"
		if ce := (*state.CorruptError)(nil); errors.As(p, &ce) && filepath.Base(ce.Path) == rescue.UnreadFile {
			fix = "nothing to do: the next hostcheck run removes it (its counts are lost; the day keeps one VM start)"
		} else if errors.As(p, &ce) && ce.Kind == "directory" {
			fix = "the next hostcheck run moves it aside (" + filepath.Base(ce.Path) + ".damaged-TIME, nothing in it deleted) and writes the file"
			if ce.Path == h.cfg.PVEMark {
				// The owner's path: /root by mistake must not be deleted.
				fix = "PVE_MARK names a directory: set PVE_MARK to a file's path (the default is /root/pve_did_reboot_today); an empty directory there is removed by the next run"
			}
		} else if !errors.As(p, &ce) {
			// Not read (EIO): what it holds is not known to be damaged;
			// the record may hold today's host reboot or VM restart.
			fix = "check the disk (dmesg) and the file's permissions"
			if strings.Contains(p.Error(), rescue.RecordFile) {
				fix += "; do not delete it: it may hold today's host rescue"
			}
		}
		checks = append(checks, health.Check{Name: "state file", Detail: p.Error(), Fix: fix})
	}
	// The uptime and boot id as a run reads them (observeBasics, not
	// logged): the misfire's lines depend on them.
	seen := rescue.Obs{Now: now}
	if up, uerr := h.e.Uptime(); uerr == nil {
		seen.Uptime = up
	} else {
		seen.UptimeUnknown = true
	}
	seen.BootID = "unknown"
	if id, berr := h.e.BootID(); berr == nil {
		seen.BootID = id
	}
	if ok, detail := rescue.HostRescueOutlook(st, now, seen.Uptime); ok {
		checks = append(checks, health.Info("reboot mark", detail))
	} else {
		checks = append(checks, health.Check{Name: "reboot mark", Detail: detail,
			Fix: "set the clock right (NTP); the next hostcheck run repairs the date, or run midnight-reset -force now"})
	}
	checks = append(checks, health.Pause(st.PauseUntil, now, "hostcheck resume"))
	switch w := h.cfg.HostRebootHours; {
	case st.HeldReboot != "":
		// From the window's next hour, and not before a pause ends (the
		// runs' pause holds it too).
		from := now
		if st.PauseUntil.After(from) {
			from = st.PauseUntil
		}
		if today := rescue.Today(now); st.LastReboot == today || st.HasMark && st.Mark.Date == today {
			// A spent day's runs take no host reboot: tomorrow's.
			y, m, d := now.Date()
			from = latest(from, time.Date(y, m, d+1, 0, 0, 0, 0, now.Location()))
		}
		held := "HOST_REBOOT_HOURS=" + w.String() + " holds it"
		if !w.Set {
			held = "HOST_REBOOT_HOURS held it (unset since)"
		}
		checks = append(checks, health.Info("held host reboot", fmt.Sprintf("%s: %s; taken from %s if this outage lasts",
			st.HeldReboot, held, w.Next(from).Format("01-02 15:04"))))
	}
	if h := st.HeldSOS; h.SOS != "" {
		count := fmt.Sprintf("the router's count at %d", h.Count)
		if h.Count < 0 {
			count = "the router's count unknown"
		}
		checks = append(checks, health.Info("held SOS", fmt.Sprintf("%s, seen %s with %s, not answered yet (a pause, a guard): answered if midnight-reset clears it while this outage lasts",
			h.SOS, h.Day, count)))
	}

	if st.MisfireDate != "" && st.MisfireDate >= rescue.Today(now) {
		checks = append(checks, h.misfireCheck(st, seen))
	}
	if st.LANFault != "" {
		// A fault only the LAN sees, under way (SPEC §14): one LAN-side
		// step per host run once two runs in a row saw it.
		steps := st.LANSteps
		switch steps {
		case "":
			steps = "none yet"
		case rescue.LANHostStep:
			steps = "none yet since the host's reboot for it"
			if st.LANFault == rescue.LANPath && st.MisfireBoot != "" && st.MisfireBoot == seen.BootID {
				// That reboot misfired in this boot (【回退】): the runs
				// retry it (rescue's lanStep), not the router's steps.
				steps = "all; the host's reboot for it misfired, and the next run retries it (see host reboot)"
			}
		}
		checks = append(checks, health.Info("LAN fault", fmt.Sprintf("%s, seen by %d host runs in a row; steps asked of the router: %s",
			map[string]string{rescue.LANDNS: "dns (IP targets answer, the router's DNS does not)", rescue.LANPath: "path (the router is online, the LAN is not)"}[st.LANFault],
			st.LANSeen, steps)))
	}
	if at := st.NoNetcheckAt; !at.IsZero() {
		// The router answered in this outage that it cannot run netcheck
		// (State.NoNetcheckAt): LAN faults cannot be told apart until
		// rescue.NoNetcheckHold is over; then the router is asked again.
		until := st.NoNetcheckUntil()
		c := health.Check{Name: "router netcheck",
			Detail: fmt.Sprintf("the router could not run %s at %s (the original scripts still there?): until %s LAN faults cannot be told apart, only the router's SOS leads to the host's steps; then a LAN fault is diagnosed again and the router asked again",
				h.cfg.OpNetcheck, at.In(h.loc).Format("15:04"), until.In(h.loc).Format("15:04")),
			Fix: "install the router side: install.sh --role router on the router (or install.sh --router " + h.cfg.OpIP + " here), or set OP_NETCHECK"}
		if !now.Before(until) || at.After(now) {
			// The hold is over (or dated by a clock since stepped back):
			// the router may have netcheck now; the next LAN fault asks.
			c = health.Info("router netcheck", fmt.Sprintf("the router could not run %s at %s in this outage; a LAN fault is diagnosed again and the router asked again (held until %s)",
				h.cfg.OpNetcheck, at.In(h.loc).Format("01-02 15:04"), until.In(h.loc).Format("15:04")))
		}
		checks = append(checks, c)
	}
	if st.VMRestartDate != "" && !st.RecordUnread {
		checks = append(checks, health.Info("router VM restart", "last on "+st.VMRestartDate))
	}
	if h.cfg.VMID != "" {
		checks = append(checks, h.vmChecks(ctx, st, now)...)
	}
	dns := h.dnsCheck(ctx)
	res := h.probe(ctx, h.cfg.CheckTargets, h.cfg.CheckTCP)
	asked, dnsErr := dns()
	if res.Up {
		checks = append(checks, health.Check{OK: true, Name: "internet", Detail: res.Summary()})
	} else {
		checks = append(checks, health.Check{Name: "internet", Detail: res.Summary(), Fix: "the router's ladder is working on it; see both logs"})
	}
	// DNS_CHECK through the router's forwarder (SPEC §14): a router that
	// serves no DNS on OP_IP would look like a DNS fault every run.
	switch err := dnsErr; {
	case !asked:
		checks = append(checks, health.Info("DNS via the router", "DNS_CHECK is empty: not checked"))
	case err == nil:
		checks = append(checks, health.Check{OK: true, Name: "DNS via the router", Detail: h.cfg.DNSCheck + " resolved by " + h.cfg.OpIP + ":53"})
	default:
		checks = append(checks, health.Check{Name: "DNS via the router", Detail: shown(err.Error(), maxShownErr),
			Fix: "make OpenWrt's DNS forwarder (dnsmasq) answer on " + h.cfg.OpIP + ":53, set DNS_CHECK to a name it resolves, or DNS_CHECK= to disable the check"})
	}
	checks = append(checks, h.publishChecks(now)...)
	var nv hostNotify
	if h.cfg.NotifyURL != "" {
		var nerr error
		nv, nerr = h.notifyView()
		checks = append(checks, notifyCheck(nv, nerr, now))
	}
	files := []string{h.cfg.PVEMark}
	for _, f := range []string{rescue.RecordFile, rescue.UnreadFile, notify.QueueFile, FailPendingFile, ActionsFile, pause.File} {
		files = append(files, filepath.Join(h.cfg.StateDir, f))
	}
	checks = append(checks, health.Log(h.cfg.LogFile, h.cfg.StateDir, files, 5)...)
	// The internet as the family sees it (rescue.Obs.Up): a DNS fault is
	// an outage, as in the decision and METRICS_FILE.
	up := res.Up && (!asked || dnsErr == nil)
	js := h.statusState(st, now, res, up, rs, routerErr)
	if h.cfg.NotifyURL != "" {
		js.Notify = &nv
	}
	return out.Finish(h.e.Stdout, checks, js)
}

// routerStateChecks shows the router's state files; their text is
// untrusted and shown escaped (SPEC §15), a damaged file by its kind.
func routerStateChecks(rs remote.RouterState) []health.Check {
	r := routerObs(rs)
	count := "none (0)"
	if rs.HasCount {
		count = strings.TrimSpace(r.Count)
	}
	out := []health.Check{health.Info("router reboot count", count)}
	if rs.HasCooling {
		cooling := shown(strings.TrimSpace(rs.Cooling), maxShownCount)
		if rs.CoolingDamaged != "" {
			cooling = damagedText(rs.CoolingDamaged)
		}
		out = append(out, health.Info("router cooling", "until unix "+cooling))
	}
	for _, d := range rs.Damaged() {
		out = append(out, health.Check{Name: "router " + d.File, Detail: damagedText(d.Kind),
			Fix: "on the router: rm -rf the file in its STATE_DIR (netcheck rewrites it)"})
	}
	if rs.SOS {
		out = append(out, health.Info("router SOS", "raised: "+r.SOSContent))
	} else {
		out = append(out, health.Info("router SOS", "none"))
	}
	return out
}

// plan prints the joint timeline of a total outage (SPEC §7): the router's
// ladder under routerCfg, then the host stepping in.
func (h *host) plan(routerCfg config.Config, now time.Time) error {
	w := h.e.Stdout
	res := rescue.SimulateJoint(routerCfg, h.cfg, now, ladder.PlanHorizon)
	src := "router defaults"
	if routerCfg.Path != "" {
		src = routerCfg.Path
	}
	fmt.Fprintf(w, "Total outage starting %s that only a host reboot fixes (router: %s, L4_SOS_THRESHOLD=%d; host VM_ID=%q).\n",
		now.Format("2006-01-02 15:04"), src, routerCfg.L4SOSThreshold, h.cfg.VMID)
	if routerCfg.Path == "" {
		fmt.Fprintln(w, "The router's ladder is its defaults: for your router's, copy its /etc/netrescue.conf here and pass it with -router-config FILE.")
	}
	fmt.Fprintf(w, "Assumes: netcheck every minute, hostcheck every %s, a router reboot takes %s, midnight-reset at 00:00.\n\n",
		ladder.Human(rescue.HostEvery), ladder.Human(ladder.RebootTime))
	for _, ev := range res.Events {
		fmt.Fprintf(w, "  %s  +%-8s %-6s %s\n", ev.At.Format("Mon 15:04"), ladder.Human(ev.At.Sub(now)), ev.Side, ev.Text)
	}
	fmt.Fprintln(w)
	fmt.Fprintln(w, "Profiles (router PROFILE / L4_SOS_THRESHOLD):")
	for _, name := range config.ProfileNames {
		c := routerCfg
		c.L4SOSThreshold = config.Profiles[name]
		fmt.Fprintf(w, "  %-13s %-4s %s\n", name, fmt.Sprintf("(%d)", c.L4SOSThreshold), jointOutcome(rescue.SimulateJoint(c, h.cfg, now, ladder.PlanHorizon)))
	}
	fmt.Fprintln(w)
	fmt.Fprintf(w, "Faults only the LAN sees (the router up by its own probe), fault at %s:\n", now.Format("15:04"))
	for _, f := range rescue.LANFaultClasses {
		d, action, ok := rescue.SimulateLANFault(h.cfg, f, now, ladder.PlanHorizon)
		planFault(w, f.String(), now, d, action, ok)
	}
	fmt.Fprintln(w)
	if h.cfg.VMID == "" {
		fmt.Fprintln(w, "Router VM faults: VM_ID is empty, so a stopped, paused or hung router VM (which raises no SOS) is never helped; set VM_ID.")
		return nil
	}
	fmt.Fprintf(w, "Router VM faults (VM_ID=%s; they raise no SOS, only the host sees them), fault at %s:\n", h.cfg.VMID, now.Format("15:04"))
	for _, f := range rescue.VMFaults {
		d, action, ok := rescue.SimulateVMFault(h.cfg, f, now, ladder.PlanHorizon)
		planFault(w, f.String(), now, d, action, ok)
	}
	return nil
}

func jointOutcome(r rescue.JointResult) string {
	if r.HostReboot.IsZero() {
		return fmt.Sprintf("no host reboot within %v (%d router reboots)", ladder.PlanHorizon, r.RouterReboots)
	}
	s := fmt.Sprintf("first SOS after %s; host reboot after %s (%s), %d router reboots before",
		ladder.Human(r.FirstSOS.Sub(r.Start)), ladder.Human(r.HostReboot.Sub(r.Start)), r.HostReboot.Format("Mon 15:04"), r.RouterReboots)
	if !r.VMRestart.IsZero() {
		s += fmt.Sprintf("; VM cold restart first at +%s", ladder.Human(r.VMRestart.Sub(r.Start)))
	}
	return s
}

// planFault is one line of plan's fault classes: when the host acts.
func planFault(w io.Writer, fault string, now time.Time, d time.Duration, action rescue.Action, ok bool) {
	if !ok {
		fmt.Fprintf(w, "  %-31s nothing within %v\n", fault, ladder.PlanHorizon)
		return
	}
	fmt.Fprintf(w, "  %-31s %s at +%s (%s)\n", fault, action, ladder.Human(d), now.Add(d).Format("15:04"))
}

// packageCron reports whether the package's cron lines (cronD) are the ones
// that run hostcheck here: the file is there and so is the package's
// binary (pkgBin), which each of its lines tests first. `dpkg -r` leaves
// the file (a conffile) and takes the binary, and a copy from install.sh
// then runs from root's crontab, which status must check instead.
func packageCron(cronD, pkgBin string) bool {
	if _, err := os.Lstat(cronD); err != nil {
		return false
	}
	_, err := os.Stat(pkgBin)
	return err == nil
}

// misfireCheck is status's line for a host reboot that misfired today
// (SPEC §6 step 6: the reboot commands did nothing). Whether a later run
// retries it today is asked of the runs' own decision (runsToday: every
// cron run left today), with the uptime and boot id read as a run reads
// them (o), not told by a copy of its rules: copies promised retries that
// the runs held (the boot id or the uptime unread, a misfire dated ahead,
// one counted since as landed, a pause ending off a cron slot, a window
// behind a VM cold restart) and denied one they took. So is each fix: it
// is offered when the runs, given it, retry today (hostFixes). Before
// them, the states the decision does not show:
//   - the mark kept, without a boot id: a second misfire; no more tries
//     today, only midnight-reset -force allows one;
//   - a mark of today whose boot id is not the misfire's pending one: a
//     later run's retry rebooted the host (hostcheck boot or the run
//     after it has confirmed it).
//
// Without a retry, a mark of the misfire's own boot is a retry under way
// or a mark Store.Misfire could not remove.
func (h *host) misfireCheck(st rescue.State, o rescue.Obs) health.Check {
	check := "check REBOOT_CMD (" + h.cfg.RebootCmd + ") and REBOOT_FALLBACK_CMD (" + h.cfg.RebootFallbackCmd + ") by hand"
	const cmds = "REBOOT_CMD and REBOOT_FALLBACK_CMD had no effect"
	misfired := "misfired today (" + cmds + ")"
	today := rescue.Today(o.Now)
	clock := func(t time.Time) string { return t.In(o.Now.Location()).Format("15:04") }
	switch {
	case st.HasMark && st.Mark.Date == today && st.Mark.BootID == "":
		return health.Check{Name: "host reboot", Detail: "misfired twice today (" + cmds + "): the mark is kept, no more tries today (the 00:00 midnight-reset starts a new day)",
			Fix: check + h.misfireFix(st, o)}
	case st.HasMark && st.Mark.Date == today && (st.MisfireBoot == "" || st.Mark.BootID != st.MisfireBoot):
		return health.Info("host reboot", "misfired once today ("+cmds+"); a later run's retry, ordered at "+clock(st.Mark.Time)+", rebooted the host")
	}
	if st.RecordUnread {
		// The runs count the day as spent while the record is unread, and
		// -force cannot forget a day in a record it cannot read.
		return health.Check{Name: "host reboot", Detail: misfired + "; " + rescue.RecordFile + " cannot be read, so today's host rescue counts as spent (see the state file line)",
			Fix: check + "; then fix what the state file line says"}
	}
	paused := ""
	if st.PauseUntil.After(o.Now) {
		paused = "a pause holds every host step until " + st.PauseUntil.In(o.Now.Location()).Format("01-02 15:04") + "; "
	}
	r := h.runsToday(st, o, -1)
	vm := ""
	if !r.vm.IsZero() {
		vm = "the router's next SOS takes the day's VM cold restart first (VM_RESTART_FIRST, " + clock(r.vm) + " at the earliest); "
	}
	before := " before that retry"
	switch {
	case !r.host.IsZero():
		what := "a later run retries it"
		if vm != "" {
			what = "a later SOS retries it (the host's reboot)"
		}
		return health.Check{Name: "host reboot", Detail: misfired + ": " + paused + vm + what + " when the router raises SOS again today while the fault lasts (the misfired reboot's sync took back its SOS and count: its ladder climbs again first), " + clock(r.host) +
			" at the earliest; a second misfire today keeps the mark, no more tries today", Fix: check + before}
	case !r.held.IsZero():
		w := h.cfg.HostRebootHours
		return health.Check{Name: "host reboot", Detail: misfired + ": " + paused + vm + "HOST_REBOOT_HOURS=" + w.String() + " holds the retry; a run from " +
			w.Next(r.held).Format("01-02 15:04") + " retries it if the fault lasts", Fix: check + before + h.misfireFix(st, o)}
	case st.HasMark && st.Mark.Date == today:
		return health.Check{Name: "host reboot", Detail: misfired + "; the mark of " + clock(st.Mark.Time) +
			" stands: a later run's retry under way, or the misfired reboot's own mark that could not be removed (the log says 保留今日重启标记: no more tries today)",
			Fix: check + h.misfireFix(st, o)}
	}
	why := "no cron run is left today (the next, at 00:00, is the new day's)"
	switch {
	case r.runs > 0 && len(r.said) > 0:
		why = "as the runs decide: " + strings.Join(r.said, " ")
	case r.runs > 0:
		why = "as the runs decide: today's host rescue counts as spent (see the reboot mark)"
	}
	if vm != "" {
		vm = "the router's next SOS takes the day's VM cold restart (VM_RESTART_FIRST, " + clock(r.vm) + " at the earliest); the host's reboot: "
	}
	fix := check
	if r.runs > 0 {
		fix += h.misfireFix(st, o)
	}
	return health.Check{Name: "host reboot", Detail: misfired + "; " + paused + vm + "no retry today, " + why, Fix: fix}
}

// misfireFix is what brings the retry today that the runs do not take:
// the fewest of these that the runs, given them, act on (the pause ended,
// the uptime read, the day forgotten by midnight-reset -force), each
// said; "" when none does.
func (h *host) misfireFix(st rescue.State, o rescue.Obs) string {
	type part struct {
		ok   bool
		with func(st rescue.State) rescue.State
	}
	resume := part{st.PauseUntil.After(o.Now), func(st rescue.State) rescue.State { st.PauseUntil = time.Time{}; return st }}
	uptime := part{o.UptimeUnknown, func(st rescue.State) rescue.State { return st }}
	force := part{true, rescue.Forgotten}
	for _, set := range [][]*part{{&resume}, {&uptime}, {&force}, {&resume, &uptime}, {&resume, &force}, {&uptime, &force}, {&resume, &uptime, &force}} {
		fixed, read, usable := st, -1, true
		for _, p := range set {
			usable = usable && p.ok
			fixed = p.with(fixed)
			if p == &uptime {
				read = 0
			}
		}
		if !usable || !h.retriedToday(fixed, o, read) {
			continue
		}
		var fix string
		for _, p := range set {
			switch p {
			case &resume:
				fix += "; hostcheck resume ends the pause"
			case &uptime:
				fix += "; and why /proc/uptime cannot be read (cat /proc/uptime)" + h.uptimeWhen(fixed, o)
			case &force:
				fix += "; then midnight-reset -force allows another try today (midnight-reset without -force does not)"
			}
		}
		return fix
	}
	return ""
}

// uptimeWhen says when reading the uptime brings the retry (st with the
// other fixes given): only for a boot older than the misfire's day when
// its boot id was unread, and only before the next run when from the one
// after it the runs no longer retry.
func (h *host) uptimeWhen(st rescue.State, o rescue.Obs) string {
	var when string
	if st.MisfireBoot == "unknown" {
		if day, err := time.ParseInLocation(state.DateLayout, st.MisfireDate, o.Now.Location()); err == nil {
			when = ", which brings the retry only if this host has been up since before " + day.AddDate(0, 0, -1).Format("01-02")
		}
	}
	if h.retriedToday(st, o, 1) {
		return when
	}
	next := o.Now.Truncate(5 * time.Minute)
	if next.Before(o.Now) {
		next = next.Add(5 * time.Minute)
	}
	when += ", before the next run (" + next.Format("15:04") + ")"
	run := h.runsOnce(st, o, next)
	if run.Next.LastReboot != st.LastReboot || run.Next.MisfireBoot != st.MisfireBoot {
		when += ": a run that cannot read it counts the misfire as landed, and the day is spent"
	}
	return when
}

// runsOnce is the cron run at next as runsToday makes it, the uptime unread.
func (h *host) runsOnce(st rescue.State, o rescue.Obs, next time.Time) rescue.Step {
	cfg := h.cfg
	cfg.DryRun = false
	pretend(&o)
	o.Now = next
	return rescue.Decide(cfg, st, o)
}

// pretend is what runsToday's runs see beside the uptime and boot id: an
// SOS, the internet down, the router answering on the LAN, its VM
// running, no guard.
func pretend(o *rescue.Obs) {
	o.NetKnown, o.NetUp = true, false
	o.RouterKnown, o.Router = true, rescue.Router{SOS: true, SOSContent: "count=10"}
	o.LANKnown, o.LANUp, o.GuardsKnown, o.SystemKnown, o.SystemState = true, true, true, true, "running"
	o.VMKnown, o.VM, o.VMConfigKnown, o.AgentKnown = true, rescue.VMStatus{Status: "running", QMP: "running"}, true, true
}

// retriedToday: a cron run left today reboots the host (runsToday).
func (h *host) retriedToday(st rescue.State, o rescue.Obs, uptimeFrom int) bool {
	return !h.runsToday(st, o, uptimeFrom).host.IsZero()
}

// todaysRuns is what the cron runs left today do (runsToday).
type todaysRuns struct {
	runs int       // cron runs left today
	host time.Time // the first run that reboots the host; zero: none today
	vm   time.Time // the first run that cold-restarts the router VM; zero: none
	held time.Time // the first run whose host reboot HOST_REBOOT_HOURS held (its line)
	said []string  // the runs' warnings, each once, less the outage and SOS this pretends
}

// runsToday runs the runs' decision (rescue.Decide) for every cron run
// left today: each five minutes from the next slot up to midnight, when
// the router's midnight-reset clears its SOS and a reboot is the new
// day's. Each run sees an SOS, the internet down, the router answering on
// the LAN, its VM running and no guard, not in a dry run; the uptime grows
// with the clock from o's, and an unread one (o.UptimeUnknown) is read
// from the uptimeFrom-th run on (-1: never), as from a host up for days.
// A pause holds the runs it covers, as it does the real ones.
func (h *host) runsToday(st rescue.State, o rescue.Obs, uptimeFrom int) todaysRuns {
	cfg := h.cfg
	cfg.DryRun = false
	pretend(&o)
	today := rescue.Today(o.Now)
	at := o.Now.Truncate(5 * time.Minute)
	if at.Before(o.Now) {
		at = at.Add(5 * time.Minute) // cron's next */5
	}
	var r todaysRuns
	for ; rescue.Today(at) == today; at = at.Add(5 * time.Minute) {
		if o.UptimeUnknown && r.runs == uptimeFrom {
			o.UptimeUnknown, o.Uptime = false, 5*24*time.Hour+at.Sub(o.Now)
		}
		if !o.UptimeUnknown {
			o.Uptime += at.Sub(o.Now)
		}
		o.Now = at
		r.runs++
		s := rescue.Decide(cfg, st, o)
		switch s.Action {
		case rescue.HostReboot:
			r.host = at
			return r
		case rescue.VMRestart:
			if r.vm.IsZero() {
				r.vm = at
			}
			st = s.Next
			continue // its lines are the VM's step, not why the host's waits
		}
		for _, ev := range s.Events {
			if ev.Msg == rescue.WindowHeld && r.held.IsZero() {
				r.held = at
			}
			if ev.Level < slog.LevelWarn || strings.HasPrefix(ev.Msg, "【检测】") || strings.HasPrefix(ev.Msg, rescue.SOSConfirmed) || slices.Contains(r.said, ev.Msg) {
				continue
			}
			r.said = append(r.said, ev.Msg)
		}
		st = s.Next
	}
	return r
}

// latest is the later of a and b.
func latest(a, b time.Time) time.Time {
	if b.After(a) {
		return b
	}
	return a
}
