package rescue

import (
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/pve-op/network-rescue/internal/config"
	"github.com/pve-op/network-rescue/internal/qm"
)

// The router VM, seen from the host (SPEC §13). Every rule here is part of
// Decide, reached only while the internet is down and VM_ID is set, so a
// healthy run runs no qm at all.

// vmStage applies rules 1 and 2 to what `qm status VMID --verbose` said:
// a stopped VM is started, a paused one resumed, at most VM_START_MAX a day
// together; a VM that will not start escalates to the host (rule 5). It
// reports whether the run's decision is made.
func (d *decider) vmStage() bool {
	vm := d.o.VM
	n := &d.step.Next
	if vm.Err == "" {
		n.QMFailSince = time.Time{}
	} else if n.QMFailSince.IsZero() || n.QMFailSince.After(d.o.Now) {
		n.QMFailSince = d.o.Now
	}
	if vm.Err != "" {
		d.vmUnknown = true
		d.log(slog.LevelError, "【严重错误】无法读取路由虚拟机状态 (qm status)，本次不对虚拟机动作。",
			slog.String("vm_id", d.cfg.VMID), slog.String("reason", vm.Err))
		return false
	}
	// A VM found running does not forgive the start before it: QEMU
	// killed minutes after each qm start (OOM) is running at one run and
	// stopped at the next, and forgiven there it was started every ten
	// minutes all day, rule 5's host reboot never coming. Only the
	// internet's return forgives a start (recovered).
	if lockHolds(vm.Lock) {
		// A backup in stop or suspend mode stops or pauses the VM itself and
		// starts it again when done; qm would refuse anyway ("VM is locked").
		// The router's silence under it is no hang: its clock stops here
		// (once: the runs under the lock after it find it stopped and
		// rewrite nothing) and starts again at the first run after the
		// lock, so that a VM the backup has just started again has the
		// whole hung delay to boot. Kept running, the first run after the
		// lock cold-restarted a VM that was booting.
		d.step.Next.RouterDownSince, d.step.Next.RouterErr = time.Time{}, ""
		return d.locked(vm.Lock, vm.Status)
	}
	action := None
	switch {
	case vm.Status == "stopped":
		action = VMStart
		if d.autostarting() {
			return true
		}
	case vm.Paused():
		action = VMResume
	default:
		return false
	}
	if d.vmStart(action) {
		return true
	}
	// Rule 5: VM_START_MAX starts today did not bring the internet back
	// (none was followed by a run that found it up) and the VM is still
	// not running. A paused VM that resume did not revive gets the day's cold restart
	// first; then only the host's reboot is left (at most once a day,
	// after the guards).
	restart := action == VMResume && !spent(d.step.Next.VMRestartDate, d.o.Now)
	if restart && !d.vmGuards() || !restart && !d.guards() {
		return true
	}
	if restart {
		why := "qm resume 未能恢复暂停的虚拟机"
		if d.cfg.VMStartMax == 0 { // never resumed by us
			why = "虚拟机已暂停 (VM_START_MAX=0：不自动恢复)"
		}
		d.vmRestart(why)
		return true
	}
	reason := fmt.Sprintf("VM %s will not start (%s after VM_START_MAX=%d failed starts)", d.cfg.VMID, vmState(vm), d.cfg.VMStartMax)
	msg := "【确认】路由虚拟机今天已多次启动仍未运行，只能重启 PVE 物理机。"
	if d.cfg.VMStartMax == 0 {
		// No start was made: "已多次启动" sent the owner looking for
		// starts that failed.
		reason = fmt.Sprintf("VM %s not running (%s; VM_START_MAX=0: never started by hostcheck)", d.cfg.VMID, vmState(vm))
		msg = "【确认】路由虚拟机未运行，VM_START_MAX=0 不自动启动它，只能重启 PVE 物理机。"
	}
	if d.hostRebootHeld(reason, false) {
		return true
	}
	d.log(slog.LevelError, msg,
		slog.String("vm_id", d.cfg.VMID), slog.String("status", vm.Status), slog.String("qmpstatus", vm.QMP), slog.Int("failed_starts", d.cfg.VMStartMax))
	d.rebootHost(reason)
	return true
}

// autostarting is rule 1 on a host that has just booted: PVE starts the
// guests with onboot=1 itself (pve-guests.service's startall, in their
// startup order and delays), and a qm start of ours would race it: one of
// VM_START_MAX spent on "VM 100 already running" or a lock timeout, and a
// start logged that PVE made. While systemd is still booting and the host
// has been up less than MIN_HOST_UPTIME, a stopped router VM with onboot=1
// is left to PVE (【推迟】); after that, or when qm config or the uptime
// cannot tell, rule 1 holds as ever. It reports whether the run waits (logged) or must
// observe more first (Step.Need). Both observations are asked only on a
// young host with the VM stopped.
func (d *decider) autostarting() bool {
	if d.o.UptimeUnknown || d.o.Uptime >= d.cfg.MinHostUptime {
		return false // unknown: no wait that could last for ever
	}
	if !d.o.VMConfigKnown {
		d.step.Need = NeedVMConfig
		return true
	}
	if d.o.VMConfig.Err != "" || !d.o.VMConfig.OnBoot {
		return false
	}
	if !d.o.SystemKnown {
		d.step.Need = NeedSystem
		return true
	}
	if !booting(d.o.SystemState) {
		return false
	}
	d.log(slog.LevelWarn, "【推迟】PVE 正在开机，按 onboot 自动启动虚拟机 (pve-guests)，本次不启动路由虚拟机。",
		slog.String("vm_id", d.cfg.VMID), slog.String("system", d.o.SystemState),
		slog.Duration("uptime", d.o.Uptime.Round(time.Second)), slog.Duration("min_host_uptime", d.cfg.MinHostUptime))
	return true
}

// locked is a config lock under which no VM action runs (SPEC §13 rule
// 4), and no host reboot either; it reports whether the guards must be
// observed first. A lock "backup" that no backup holds (vzdump neither
// holds its lock nor runs, SPEC §15: the backup crashed, or the host lost
// power under it) is said for what it is, with the command that clears
// it: PVE keeps such a lock until someone runs qm unlock, and waiting for
// its backup to end would wait for good.
func (d *decider) locked(lock, status string) (need bool) {
	d.vmLocked = true
	if lock == "backup" && !d.o.GuardsKnown {
		d.step.Need = NeedGuards
		return true
	}
	if lock == "backup" && !d.o.Backup {
		d.leftLock(lock, status)
		return false
	}
	d.log(slog.LevelWarn, "【推迟】路由虚拟机被锁定 (备份或迁移进行中)，本次不对虚拟机动作。",
		slog.String("vm_id", d.cfg.VMID), slog.String("lock", lock), slog.String("status", status))
	return false
}

// leftLock says a backup lock that no backup holds, with the command
// that clears it.
func (d *decider) leftLock(lock, status string) {
	d.log(slog.LevelError, "【严重错误】路由虚拟机留有备份锁，但没有备份在运行 (vzdump 未运行)：虚拟机动作与物理机重启都被挡住，请执行 qm unlock "+d.cfg.VMID+"。",
		slog.String("vm_id", d.cfg.VMID), slog.String("lock", lock), slog.String("status", status))
}

// lockHolds reports a config lock under which no VM action may run. The
// lock "suspended" (a VM hibernated to disk) is not one: qm start resumes it.
func lockHolds(lock string) bool { return lock != "" && lock != "suspended" }

func vmState(vm VMStatus) string {
	if vm.QMP != "" && vm.QMP != vm.Status {
		return vm.Status + "/" + vm.QMP
	}
	return vm.Status
}

// vmStart is SPEC §13 rules 1 and 2: start a stopped VM (VMStart) or
// resume a paused one (VMResume), the two under the same VM_START_MAX a
// day; false when that is spent. The count is part of the new state, saved
// before qm runs.
func (d *decider) vmStart(action Action) bool {
	n := &d.step.Next
	if d.held(action) {
		return true // the decision is made: nothing
	}
	if d.cfg.VMStartMax == 0 {
		return false // never started by us: nothing "used up" to say
	}
	count := vmStartCount(n, Today(d.o.Now))
	if count == nil || *count >= d.cfg.VMStartMax {
		starts := d.cfg.VMStartMax
		if count != nil {
			starts = *count
		}
		d.log(slog.LevelError, "【严重错误】路由虚拟机未运行，但今天的启动次数已用完 (VM_START_MAX)。",
			slog.String("vm_id", d.cfg.VMID), slog.String("status", vmState(d.o.VM)), slog.Int("failed_starts", starts))
		return false
	}
	if action == VMStart && !d.o.GuardsKnown {
		d.step.Need = NeedGuards // is the cluster quorate (Obs.NoQuorum)?
		return true
	}
	if action == VMStart && d.o.NoQuorum != "" {
		// qm start refuses without quorum (qemu-server vm_start:
		// check_cfs_quorum); qm resume, a QMP cont under the local
		// config lock, does not ask, and is taken.
		d.log(slog.LevelWarn, "【推迟】"+d.o.NoQuorum+"：qm 此时无法启动路由虚拟机，等法定票数恢复，不计启动次数。",
			slog.String("vm_id", d.cfg.VMID), slog.String("status", vmState(d.o.VM)))
		return true
	}
	// The start before this one, if it waited for its proof, failed: the
	// VM does not run. This one waits for its own.
	failed := *count
	*count++
	n.VMStartUnproven = n.VMStartDate
	if count == &n.VMStartsPrev {
		n.VMStartUnproven = n.VMStartPrevDate
	}
	d.step.Action = action
	d.step.Next.RouterDownSince, d.step.Next.RouterErr = d.o.Now, "" // as after a cold restart: it boots
	// A step taken after "nothing left until midnight": a VM that fails
	// again is said again (it was silent until midnight after the start).
	d.step.Next.VMGaveUpDate = ""
	msg := "【终极动作】启动已停止的 OpenWrt 虚拟机。"
	if action == VMResume {
		msg = "【终极动作】恢复已暂停的 OpenWrt 虚拟机 (qm resume)。"
	}
	d.log(slog.LevelWarn, msg, slog.String("vm_id", d.cfg.VMID), slog.String("qmpstatus", d.o.VM.QMP), slog.Int("failed_starts", failed))
	return true
}

// startWorked forgives the start or resume that waited for its proof
// (State.VMStartUnproven), on a run that finds the internet back: SPEC §13
// rule 5 counts the starts that did not bring the internet back. Counted
// as attempts, three starts that each worked (a VM the OOM killer stopped
// at 09:00, 12:00 and 15:00, the internet back after each) rebooted the
// host at 18:00 as a VM that "will not start". A VM merely seen running
// proves nothing: one killed minutes after each start is running at every
// other run. It reports whether it changed n.
func (n *State) startWorked() bool {
	switch day := n.VMStartUnproven; {
	case day == "":
		return false
	case day == n.VMStartDate && n.VMStarts > 0:
		n.VMStarts--
	case day == n.VMStartPrevDate && n.VMStartsPrev > 0:
		n.VMStartsPrev--
	}
	n.VMStartUnproven = ""
	return true
}

// GiveBackStart is SPEC §13 rules 1 and 2 for a start or resume that qm
// refused before it tried the VM (why): that says nothing about the VM,
// and counted, each such refusal spent one of the day's VM_START_MAX, and
// the quorum back that day found them spent and took rule 5's cold
// restart or host reboot where a start would do. Given back: a config
// lock (the next run sees it in qm config and waits for it), and "no
// quorum" while this run could not read the cluster's quorum
// (o.QuorumUnknown). "No quorum" while pvecm says quorate stays counted:
// pmxcfs's own view is broken, and given back for ever, the start was
// tried every five minutes all day and the host's reboot that mends it
// never came. The start is given back as one that worked is
// (startWorked): its count and its "unproven" mark. st is the state
// saved for the start (the count already taken), o the run's
// observation; it reports whether the start is given back, for the
// caller to save the state returned before anything else.
func GiveBackStart(st State, o Obs, why qm.Refusal) (State, bool) {
	switch {
	case why == qm.RefusedLocked:
	case why == qm.RefusedNoQuorum && o.GuardsKnown && o.QuorumUnknown:
	default:
		return st, false
	}
	st.startWorked()
	return st, true
}

// vmStartCount returns the counter of today's VM starts in n, moving the
// two remembered days along; nil means today lies before both remembered
// days (the clock went back further than we remember): treated as spent.
func vmStartCount(n *State, today string) *int {
	switch {
	case today > n.VMStartDate:
		n.VMStartPrevDate, n.VMStartsPrev = n.VMStartDate, n.VMStarts
		n.VMStartDate, n.VMStarts = today, 0
		return &n.VMStarts
	case today == n.VMStartDate:
		return &n.VMStarts
	case today == n.VMStartPrevDate:
		return &n.VMStartsPrev
	case today > n.VMStartPrevDate:
		// Between the two days, or no day before: nothing was started on it
		// while it was remembered.
		n.VMStartPrevDate, n.VMStartsPrev = today, 0
		return &n.VMStartsPrev
	}
	return nil
}

// VMStartsLeft reports whether st allows another start of a stopped VM on
// now's day under cfg (SPEC §13 rule 1).
func VMStartsLeft(cfg config.Config, st State, now time.Time) bool {
	count := vmStartCount(&st, Today(now))
	return count != nil && *count < cfg.VMStartMax
}

// hung is SPEC §13 rule 3 for a running VM whose router has not answered
// SSH for down: it is hung when the router does not answer ping on the LAN
// either and, when the guest agent is enabled, the agent does not answer:
// after VM_HUNG_AFTER with the agent's confirmation, else after
// ROUTER_HUNG_AFTER. The LAN ping, qm config and the agent are asked only
// once the router has been silent for the shorter of the two.
func (d *decider) hung(down time.Duration) {
	n := &d.step.Next
	if !past(down, min(d.cfg.VMHungAfter, d.cfg.RouterHungAfter)) {
		return
	}
	if !d.o.LANKnown {
		d.step.Need = NeedLAN
		return
	}
	if d.o.LANUp {
		d.log(slog.LevelWarn, "【观察】OpenWrt 在局域网上响应 ping，只是 SSH 不通：虚拟机没有卡死，不冷重启。请用 hostcheck status 检查 SSH。",
			slog.String("vm_id", d.cfg.VMID), slog.String("router", d.cfg.OpIP))
		return
	}
	if !d.o.VMConfigKnown {
		d.step.Need = NeedVMConfig
		return
	}
	conf := d.o.VMConfig
	if conf.Err != "" {
		d.vmUnknown = true
		d.log(slog.LevelError, "【严重错误】无法读取路由虚拟机配置 (qm config)，本次不对虚拟机动作。",
			slog.String("vm_id", d.cfg.VMID), slog.String("reason", conf.Err))
		return
	}
	if lockHolds(conf.Lock) {
		d.locked(conf.Lock, d.o.VM.Status)
		return
	}
	agent := "not configured"
	confirmed := false
	if conf.AgentEnabled {
		if !d.o.AgentKnown {
			d.step.Need = NeedAgent
			return
		}
		agent = d.o.Agent.String()
		switch d.o.Agent {
		case qm.PingError:
			d.vmUnknown = true
			d.log(slog.LevelError, "【严重错误】无法询问路由虚拟机的 guest agent (qm guest cmd ping)，本次不对虚拟机动作。",
				slog.String("vm_id", d.cfg.VMID), slog.String("reason", d.o.AgentErr))
			return
		case qm.PingNoAnswer:
			confirmed = true
		}
	}
	after := d.cfg.RouterHungAfter
	if confirmed {
		after = d.cfg.VMHungAfter
	}
	if !past(down, after) {
		d.log(slog.LevelWarn, "【观察】路由虚拟机无 SSH、局域网无响应，等待确认卡死。",
			slog.String("vm_id", d.cfg.VMID), slog.String("agent", agent),
			slog.Duration("unreachable_for", down.Round(time.Second)), slog.Duration("hung_after", after))
		return
	}
	why := fmt.Sprintf("SSH 与局域网 ping 均无响应已 %v，guest agent: %s，判定虚拟机卡死", down.Round(time.Second), agent)
	if conf.AgentEnabled && d.o.Agent == qm.PingAnswers {
		// Not hung (SPEC §13 rule 3 asks for a silent agent), but its
		// network has been dead past ROUTER_HUNG_AFTER and nothing else on
		// this host can revive it short of the host's own reboot.
		why = fmt.Sprintf("SSH 与局域网 ping 均无响应已 %v (ROUTER_HUNG_AFTER)；guest agent 仍响应，虚拟机未卡死，但其网络已失灵", down.Round(time.Second))
	}
	if spent(n.VMRestartDate, d.o.Now) {
		if spent(n.VMStopFailDate, d.o.Now) {
			// Today's cold restart never stopped the VM (QEMU stuck): only
			// the host's reboot is left (rule 5, once a day, after the guards).
			reason := fmt.Sprintf("VM %s hung, and today's cold restart could not stop it (qm stop failed)", d.cfg.VMID)
			if !d.guards() || d.hostRebootHeld(reason, false) {
				return
			}
			d.log(slog.LevelError, "【确认】路由虚拟机今天的冷重启没有停下它 (qm stop 失败)，只能重启 PVE 物理机。",
				slog.String("vm_id", d.cfg.VMID), slog.String("stop_failed", n.VMStopFailDate))
			d.rebootHost(reason)
			return
		}
		if len(conf.HostPCI) == 0 {
			d.log(slog.LevelWarn, "【观察】路由虚拟机今天已冷重启过一次，不再重复。", slog.String("vm_id", d.cfg.VMID))
			return
		}
		// Rule 5: a passed-through device that today's cold restart did not
		// revive; the host's reboot resets it (once a day, after the guards).
		reason := fmt.Sprintf("VM %s hung after today's cold restart (passthrough %s)", d.cfg.VMID, strings.Join(conf.HostPCI, ","))
		if !d.guards() || d.hostRebootHeld(reason, false) {
			return
		}
		d.log(slog.LevelError, "【确认】直通设备的路由虚拟机冷重启后仍卡死，只能重启 PVE 物理机。",
			slog.String("vm_id", d.cfg.VMID), slog.String("hostpci", strings.Join(conf.HostPCI, ",")))
		d.rebootHost(reason)
		return
	}
	if !d.vmGuards() {
		return
	}
	d.vmRestart(why)
}

// cronSlack is how much short of a delay the router's silence may be at
// the run that ends it. cron starts the runs at every fifth minute, and
// each reads its clock some milliseconds (on a busy host, seconds) after
// its start, a little differently each time: counted to the millisecond,
// two ticks VM_HUNG_AFTER apart read 9m59.9s as often as 10m0.1s, and the
// hung VM waited a whole cycle more (SPEC §13: hung VM ≤ 16 min).
const cronSlack = 30 * time.Second

// past reports whether the router's silence down has reached the delay
// after, at the cron run that ends it (cronSlack).
func past(down, after time.Duration) bool { return down+cronSlack >= after }

// vmRestart is rule 4's decision: the day's cold restart is recorded in the
// new state, which the caller saves before qm stop.
func (d *decider) vmRestart(why string) {
	if d.held(VMRestart) {
		return
	}
	d.step.Next.VMRestartDate = Today(d.o.Now)
	// The restarted VM is judged hung on a clock of its own: on the one
	// from before, the next run found it "hung" while it booted and took
	// the host's reboot (rule 5) five minutes later.
	d.step.Next.RouterDownSince, d.step.Next.RouterErr = d.o.Now, ""
	d.step.Action = VMRestart
	d.log(slog.LevelWarn, "【终极动作】冷重启 OpenWrt 虚拟机 (qm stop/start)。", slog.String("vm_id", d.cfg.VMID), slog.String("reason", why))
}

// VMOutlook is what the runs do next, while the internet is down, for a
// router VM that does not run (stopped, or paused): Decide's rules put
// for `hostcheck status` (SPEC §7, §13), so that it says what the run
// will do.
type VMOutlook int

// The next step for a router VM that does not run.
const (
	OutlookStart       VMOutlook = iota // qm start or resume, within VM_START_MAX
	OutlookHostReboot                   // starts spent: the host's reboot (rule 5), once a day
	OutlookColdRestart                  // the day's VM cold restart (a paused VM first; any once the host's reboot is spent)
	OutlookNothing                      // starts, cold restart and host reboot spent: nothing until midnight
	OutlookLocked                       // a config lock holds the VM: nothing is started, resumed or rebooted under it
)

// NextVMStep is the VMOutlook of a router VM found as vm (stopped, or
// paused; its lock with it) on now's day under cfg and st, in the boot
// bootID. It is Decide's own answer, not a copy of its rules: Decide runs
// on a run of this boot that finds the internet down, the VM as vm and
// the router silent, with every guard passed. A pause and
// HOST_REBOOT_HOURS only hold a step (status says them apart): the step
// is the one they hold.
func NextVMStep(cfg config.Config, st State, now time.Time, bootID string, vm VMStatus) VMOutlook {
	cfg.DryRun, cfg.HostRebootHours = false, config.Hours{}
	// A date days ahead is repaired by the next run, which acts on
	// nothing else: the run after it is the one to tell of.
	st = AsDated(st, now)
	st.PauseUntil = time.Time{}
	vm.Err = ""
	s := Decide(cfg, st, Obs{Now: now, Uptime: cfg.MinHostUptime + 24*time.Hour, BootID: bootID,
		NetKnown: true, NetDetail: "status",
		VMKnown: true, VM: vm, VMConfigKnown: true, VMConfig: VMConfig{Lock: vm.Lock}, SystemKnown: true, SystemState: "running",
		RouterKnown: true, Router: Router{Err: "status", ErrKind: "status"}, LANKnown: true, GuardsKnown: true})
	switch s.Action {
	case VMStart, VMResume:
		return OutlookStart
	case HostReboot:
		return OutlookHostReboot
	case VMRestart:
		return OutlookColdRestart
	}
	if lockHolds(vm.Lock) {
		return OutlookLocked // Decide took no step under it (locked)
	}
	return OutlookNothing
}
