package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/pve-op/network-rescue/internal/command"
	"github.com/pve-op/network-rescue/internal/health"
	"github.com/pve-op/network-rescue/internal/qm"
	"github.com/pve-op/network-rescue/internal/remote"
	"github.com/pve-op/network-rescue/internal/rescue"
)

// The router VM with the real Proxmox qm CLI (SPEC §13): its observation,
// each call bounded, and the actions the decision chose.

const (
	// VMCmdTimeout bounds `qm start` and `qm resume`; `qm stop` gets
	// VM_STOP_TIMEOUT on top of it.
	VMCmdTimeout = 3 * time.Minute
	// VMQueryTimeout bounds `qm status` and `qm config` (a Perl program
	// that talks to pmxcfs: about a second on a healthy node).
	VMQueryTimeout = 30 * time.Second
	// VMStartConfirm is how long a started VM has to report running.
	VMStartConfirm = time.Minute
	// VMPollEvery is the pause between two `qm status` while waiting.
	VMPollEvery = time.Second
)

// vmStatus asks `qm status VMID --verbose`, bounded.
func (h *host) vmStatus(ctx context.Context) rescue.VMStatus {
	r := h.e.Exec(ctx, h.cfg.QM+" status "+h.cfg.VMID+" --verbose", VMQueryTimeout)
	if !r.OK() {
		return rescue.VMStatus{Err: r.Summary()} // with the first stderr line
	}
	st, err := qm.ParseStatus(r.Stdout)
	if err != nil {
		return rescue.VMStatus{Err: err.Error()}
	}
	return rescue.VMStatus{Status: st.Status, QMP: st.QMPStatus, Lock: st.Lock}
}

// vmConfig asks `qm config VMID`, bounded: the guest agent, passthrough
// devices and the lock.
func (h *host) vmConfig(ctx context.Context) rescue.VMConfig {
	r := h.e.Exec(ctx, h.cfg.QM+" config "+h.cfg.VMID, VMQueryTimeout)
	if !r.OK() {
		return rescue.VMConfig{Err: r.Summary()}
	}
	c, err := qm.ParseConfig(r.Stdout)
	if err != nil {
		return rescue.VMConfig{Err: err.Error()}
	}
	return rescue.VMConfig{AgentEnabled: c.AgentEnabled, HostPCI: c.HostPCI, Lock: c.Lock, OnBoot: c.OnBoot}
}

// systemState asks `systemctl is-system-running`, bounded: the one word it
// prints on stdout (systemctl(1): initializing, starting, running,
// degraded, maintenance, stopping, offline, unknown), whatever its exit
// status, which is 0 only for "running". "" when it printed nothing.
func (h *host) systemState(ctx context.Context) string {
	r := h.e.Exec(ctx, h.cfg.Systemctl+" is-system-running", 5*time.Second)
	word, _, _ := strings.Cut(strings.TrimSpace(r.Stdout), "\n")
	return strings.TrimSpace(word)
}

// agentPing asks `qm guest cmd VMID ping`, bounded by AgentTimeout; a
// timeout is the agent not answering (SPEC §13).
func (h *host) agentPing(ctx context.Context) (qm.Ping, string) {
	actx, cancel := context.WithTimeout(ctx, rescue.AgentTimeout)
	defer cancel()
	r := h.e.Exec(actx, h.cfg.QM+" guest cmd "+h.cfg.VMID+" ping", 0)
	timedOut := !r.OK() && errors.Is(r.Err, context.DeadlineExceeded) && ctx.Err() == nil
	p := qm.ClassifyPing(r.ExitCode, r.Stderr, timedOut)
	if p == qm.PingError {
		return p, r.Summary()
	}
	return p, ""
}

// vmStart starts a router VM found stopped (rule 1) and confirms it runs;
// a start qm refused before trying the VM may be given back (vmCounted).
// It reports whether it was. told, when set, queues the step's message
// for the owner once qm has not refused it.
func (h *host) vmStart(ctx context.Context, store rescue.Store, o rescue.Obs, told func()) (givenBack bool) {
	return h.vmCounted(ctx, store, o, "start", told)
}

// vmResume resumes a paused router VM (rule 2) and confirms it runs, as
// vmStart.
func (h *host) vmResume(ctx context.Context, store rescue.Store, o rescue.Obs, told func()) (givenBack bool) {
	return h.vmCounted(ctx, store, o, "resume", told)
}

// vmCounted is a start or resume counted against VM_START_MAX (rules 1
// and 2), saved in h.saved before qm ran. One that qm refused before
// trying the VM is given back when rescue.GiveBackStart says so, and told
// as a refusal (vmRefused); else the step is told (told: "正在启动"), and
// a start that did not get the VM running after it (vmFailed). The step's
// message waits for qm's answer: queued before it and taken back on a
// refusal, it pushed older messages out of a full queue (notify.MaxQueued)
// for one that was never sent.
func (h *host) vmCounted(ctx context.Context, store rescue.Store, o rescue.Obs, verb string, told func()) (givenBack bool) {
	r := h.vmCmd(ctx, verb, VMCmdTimeout)
	if why := refusal(verb, r); why != qm.NotRefused {
		var saved rescue.State
		if h.saved != nil { // carryOut's step, saved before qm ran
			saved = *h.saved
		}
		next, given := rescue.GiveBackStart(saved, o, why)
		switch {
		case !given:
			// "No quorum" with no quorum trouble seen: pmxcfs's own view
			// is broken, which restarting pve-cluster or the host mends.
			h.log.Error("【严重错误】qm "+verb+" 被拒绝 ("+refusalZH(why)+")，但本次未见集群缺少法定票数 (pvecm status 显示有法定票数，或本机不属于集群)：pmxcfs 自身状态异常 (systemctl restart pve-cluster 或重启物理机可修复)，计入启动次数 (VM_START_MAX)。",
				slog.String("vm_id", h.cfg.VMID), slog.String("refused", why.String()), slog.String("qm", r.Stderr))
		case h.saved == nil:
			h.vmRefused(verb, why, r.Stderr)
			return true
		default:
			if err := store.Save(saved, next); err != nil {
				h.log.Error("【严重错误】状态无法保存：qm "+verb+" 被拒绝的这次仍计入启动次数", "vm_id", h.cfg.VMID, "err", err)
				break
			}
			*h.saved = next
			h.vmRefused(verb, why, r.Stderr)
			return true
		}
	}
	// Told as soon as qm answered, before the minute's wait for the VM to
	// run: a run killed in it left a counted start untold.
	if told != nil {
		told()
	}
	if !r.OK() || !h.vmConfirm(ctx, "running", vmStartConfirm) {
		h.vmFailed(verb)
	}
	return false
}

// refusal is qm.ClassifyRefusal of a qm VERB that failed.
func refusal(verb string, r command.Result) qm.Refusal {
	if r.OK() {
		return qm.NotRefused
	}
	return qm.ClassifyRefusal(verb, r.Stderr)
}

// vmFailed tells the owner that qm VERB did not get the VM running, after
// the step's message that said it was being started (SPEC §9).
func (h *host) vmFailed(verb string) {
	h.notify("vm-"+verb, fmt.Sprintf("OpenWrt 虚拟机 %s 未能运行 (qm %s 失败或未进入运行状态)，详见日志。", h.cfg.VMID, verb), false)
}

// vmRefused says a start or resume given back (【推迟】) and tells the
// owner, once a queue, that the VM was not started and why, in place of
// the step's "正在启动". The action's count in METRICS_FILE is taken
// back: no start ran.
func (h *host) vmRefused(verb string, why qm.Refusal, stderr string) {
	h.uncount()
	h.log.Warn("【推迟】qm "+verb+" 被拒绝 ("+refusalZH(why)+")，没有尝试"+verbZH(verb)+"路由虚拟机；这不是虚拟机的故障，本次不计启动次数 (VM_START_MAX)，下次检测再试。",
		slog.String("vm_id", h.cfg.VMID), slog.String("refused", why.String()), slog.String("qm", stderr))
	h.notify("vm-"+verb+"-refused", fmt.Sprintf("OpenWrt 虚拟机 %s 没有%s：qm %s 被拒绝 (%s)。这不是虚拟机的故障，不计启动次数，之后的检测会再试。", h.cfg.VMID, verbZH(verb), verb, refusalZH(why)), true)
}

// refusalZH is why qm refused, as the owner's messages say it.
func refusalZH(why qm.Refusal) string {
	if why == qm.RefusedLocked {
		return "虚拟机被锁定 (备份、迁移等)"
	}
	return "集群没有法定票数"
}

// verbZH is qm's verb as the owner's messages say it.
func verbZH(verb string) string {
	if verb == "resume" {
		return "恢复"
	}
	return "启动"
}

// vmRestart cold-restarts the router VM (SPEC §13 rule 4): SOS is deleted
// on the router first (its count is kept), then `qm stop --timeout`, a
// wait until qm reports it stopped, `qm start`, and a wait until it runs.
// The day's restart was saved before; a VM this leaves stopped (the start
// failed, the run was killed) is started by the next run (rule 1). It
// reports false when the VM did not stop (QEMU stuck): the caller records
// it, and the host's reboot is next (rule 5). A qm stop that a config lock
// refused (a backup, snapshot or migration that took the VM after this
// run's guards) touched nothing: refused is true, and the caller gives the
// day's cold restart back instead. told tells the owner of the step
// ("正在冷重启") once qm stop answered other than with that refusal: queued
// before it, a refused stop was told as a cold restart, and the one made
// after the lock told again.
func (h *host) vmRestart(ctx context.Context, rs remote.RouterState, told func()) (stopped, refused bool) {
	if rs.SOS && !h.cfg.DryRun {
		actx, cancel := context.WithTimeout(ctx, h.cfg.SSHTimeout)
		err := h.remote().AckSOS(actx, h.cfg.OpStateDir, false)
		cancel()
		if err != nil {
			h.log.Error("【严重错误】无法删除 OpenWrt 的 SOS，仍然冷重启虚拟机", "reason", err)
		} else {
			h.log.Info("【同步】已删除 OpenWrt 的 SOS (保留重启计数)。")
		}
	}
	secs := int(h.cfg.VMStopTimeout.Round(time.Second) / time.Second)
	if r := h.vmCmd(ctx, fmt.Sprintf("stop --timeout %d", secs), h.cfg.VMStopTimeout+VMCmdTimeout); !r.OK() && qm.StopLocked(r.Stderr) {
		// qemu-server's _do_vm_stop checks the lock before it sends QEMU
		// anything: the VM was not touched. Taken for a stop that failed,
		// the next run rebooted the host for "today's cold restart could
		// not stop it" once the lock was gone.
		h.uncount()
		h.log.Warn("【推迟】qm stop 被拒绝 (虚拟机被锁定：备份、快照或迁移刚开始)，没有动路由虚拟机；今天的冷重启不计，锁解除后仍卡死再冷重启。",
			slog.String("vm_id", h.cfg.VMID), slog.String("qm", r.Stderr))
		h.notify("vm-restart-refused", fmt.Sprintf("OpenWrt 虚拟机 %s 没有冷重启：qm stop 被拒绝 (虚拟机被锁定)。锁解除后的检测会再试。", h.cfg.VMID), true)
		return false, true
	}
	if told != nil {
		told()
	}
	if !h.vmConfirm(ctx, "stopped", h.cfg.VMStopTimeout+vmStopGrace) {
		// Logged; a VM still running cannot be started. The owner was
		// told "正在冷重启" once qm stop answered: told now that it failed.
		h.notify("vm-restart", fmt.Sprintf("OpenWrt 虚拟机 %s 冷重启失败：qm stop 没有停下它；之后的步骤 (物理机重启每天至多一次) 见日志与 hostcheck status。", h.cfg.VMID), false)
		return false, false
	}
	if r := h.vmCmd(ctx, "start", VMCmdTimeout); !r.OK() || !h.vmConfirm(ctx, "running", vmStartConfirm) {
		// Refused or failed, not a counted start (rule 4 records the day's
		// cold restart): the VM is left stopped, and the next run starts
		// it (rule 1).
		h.vmFailed("start")
	}
	return true, false
}

// vmStartConfirm is VMStartConfirm (a variable so that a test need not
// wait a minute).
var vmStartConfirm = VMStartConfirm

// vmStopGrace is how long after VM_STOP_TIMEOUT a stopped VM has to report
// stopped (a variable so that a test need not wait half a minute).
var vmStopGrace = VMQueryTimeout

// vmCmd runs `qm VERB VMID [ARGS]`, bounded, and logs its outcome; OK on
// exit status 0 (or in a dry run, where nothing runs).
func (h *host) vmCmd(ctx context.Context, verbArgs string, timeout time.Duration) command.Result {
	verb, args, _ := strings.Cut(verbArgs, " ")
	cmdline := fmt.Sprintf("%s %s %s", h.cfg.QM, verb, h.cfg.VMID)
	if args != "" {
		cmdline += " " + args
	}
	if h.cfg.DryRun {
		h.log.Info("【演练】-> 不执行命令", "cmd", cmdline)
		return command.Result{Cmd: cmdline}
	}
	// A signal during qm stop must not leave the VM stopped: each
	// command runs to completion within its bound (SPEC §15).
	r := h.e.Exec(context.WithoutCancel(ctx), cmdline, timeout)
	h.result(r, "vm_id", h.cfg.VMID)
	return r
}

// vmConfirm polls `qm status VMID --verbose` until the VM is in want
// ("stopped", or "running" with the guest running too) or within is over,
// and logs the outcome; true when it got there. A signal does not cut the
// wait short: the action it confirms runs to completion (SPEC §15).
func (h *host) vmConfirm(ctx context.Context, want string, within time.Duration) bool {
	if h.cfg.DryRun {
		return true
	}
	ctx = context.WithoutCancel(ctx)
	deadline := time.Now().Add(within)
	var last rescue.VMStatus
	for {
		last = h.vmStatus(ctx)
		if last.Err == "" && last.Status == want && (want != "running" || !last.Paused()) {
			if want == "running" {
				h.log.Info("【确认】路由虚拟机已在运行。", "vm_id", h.cfg.VMID, "qmpstatus", last.QMP)
			} else {
				h.log.Debug("router VM stopped", "vm_id", h.cfg.VMID)
			}
			return true
		}
		if !time.Now().Add(VMPollEvery).Before(deadline) {
			break
		}
		time.Sleep(VMPollEvery)
	}
	h.failed = true // qm may have exited 0: the step still failed (HEARTBEAT_URL's /fail)
	got := last.Status
	if last.Err != "" {
		got = last.Err
	} else if last.QMP != "" && last.QMP != last.Status {
		got += "/" + last.QMP
	}
	if want == "running" {
		h.log.Error("【严重错误】路由虚拟机启动后没有运行："+h.vmThen(last)+"。",
			slog.String("vm_id", h.cfg.VMID), slog.String("status", got), slog.Duration("waited", within))
	} else {
		h.log.Error("【严重错误】路由虚拟机没有停止，今天的冷重启失败，本次不再启动它；故障持续则升级 (重启 PVE 物理机每天至多一次，今天已用过则零点后先再冷重启)。",
			slog.String("vm_id", h.cfg.VMID), slog.String("status", got), slog.Duration("waited", within))
	}
	return false
}

// vmThen says what the next run does for a router VM that a start or
// resume left as last (stopped, paused; qm failing reads as stopped):
// Decide's answer (rescue.NextVMStep) on the state saved for this step.
// It used to promise the host's reboot once the starts were spent, also
// on a day whose reboot was taken.
func (h *host) vmThen(last rescue.VMStatus) string {
	if h.saved == nil {
		return "下次检测按今天剩余的步骤处理 (hostcheck status 说明下一步)"
	}
	vm := last
	if vm.Err != "" || vm.Status != "stopped" && !vm.Paused() {
		vm = rescue.VMStatus{Status: "stopped", Lock: vm.Lock}
	}
	boot := ""
	if h.e.BootID != nil {
		boot, _ = h.e.BootID()
	}
	switch rescue.NextVMStep(h.cfg, *h.saved, h.e.Now().In(h.loc), boot, vm) {
	case rescue.OutlookStart:
		return "今天还有启动次数 (VM_START_MAX)，下次检测会再启动它"
	case rescue.OutlookHostReboot:
		return "今天的启动次数已用完 (VM_START_MAX)，下次检测将重启 PVE 物理机 (每天至多一次)"
	case rescue.OutlookColdRestart:
		return "下次检测将冷重启虚拟机 (今天的冷重启)"
	case rescue.OutlookLocked:
		return "虚拟机被锁定，锁解除前不对它动作"
	}
	return "今天的启动次数 (VM_START_MAX)、冷重启和物理机重启都已用过：零点前不再自动处理，请手动执行 qm start " + h.cfg.VMID + " 查看原因"
}

// vmChecks is the router VM in `hostcheck status` (SPEC §7, §13): its
// status and qmpstatus, the lock, the guest agent (configured, answering),
// passthrough devices and today's starts, with a fix for every ✗.
func (h *host) vmChecks(ctx context.Context, st rescue.State, now time.Time) []health.Check {
	id := h.cfg.VMID
	name := "router VM " + id
	vm := h.vmStatus(ctx)
	if vm.Err != "" {
		return []health.Check{{Name: name, Detail: "qm status: " + vm.Err,
			Fix: "check VM_ID (qm list shows the router VM's id) and QM (" + h.cfg.QM + "), or leave VM_ID empty"}}
	}
	var out []health.Check
	// What the runs do while the internet is down for this VM, or, when
	// it runs, for it stopped: Decide's own answer (rescue.NextVMStep),
	// in this boot (a misfired reboot that landed since spent the day).
	boot := ""
	if h.e.BootID != nil {
		boot, _ = h.e.BootID()
	}
	outlookVM := vm
	if vm.Status != "stopped" && !vm.Paused() {
		outlookVM = rescue.VMStatus{Status: "stopped", Lock: vm.Lock}
	}
	next := rescue.NextVMStep(h.cfg, st, now, boot, outlookVM)
	detail := "status " + vm.Status + ", qmpstatus " + vm.QMP
	switch {
	case vm.Status == "stopped":
		out = append(out, health.Check{Name: name, Detail: detail, Fix: h.vmFix("start", next, vm.Lock)})
	case vm.Paused():
		out = append(out, health.Check{Name: name, Detail: detail, Fix: h.vmFix("resume", next, vm.Lock)})
	default:
		out = append(out, health.Check{OK: true, Name: name, Detail: detail})
	}
	if vm.Lock != "" {
		out = append(out, health.Check{Name: name + " lock", Detail: vm.Lock + ": no VM action while it holds",
			Fix: "wait for the backup or migration to end; a lock left by a crashed task: qm unlock " + id})
	}
	conf := h.vmConfig(ctx)
	switch {
	case conf.Err != "":
		out = append(out, health.Check{Name: name + " config", Detail: "qm config: " + conf.Err, Fix: "check VM_ID (qm list) and QM"})
	case !conf.AgentEnabled:
		out = append(out, health.Info("guest agent", fmt.Sprintf("not enabled: a hung VM is cold-restarted after ROUTER_HUNG_AFTER (%s) instead of VM_HUNG_AFTER (%s); "+
			"to enable: qm set %s --agent enabled=1, and in OpenWrt opkg install qemu-ga", h.cfg.RouterHungAfter, h.cfg.VMHungAfter, id)))
	case vm.Status != "running":
		out = append(out, health.Info("guest agent", "enabled; not asked while the VM is not running"))
	default:
		switch p, errText := h.agentPing(ctx); p {
		case qm.PingAnswers:
			out = append(out, health.Check{OK: true, Name: "guest agent", Detail: "enabled, answers"})
		case qm.PingError:
			out = append(out, health.Check{Name: "guest agent", Detail: "qm guest cmd " + id + " ping: " + errText, Fix: "check qm guest cmd " + id + " ping by hand"})
		default:
			out = append(out, health.Check{Name: "guest agent", Detail: "enabled, " + p.String() + ": hostcheck would count a silent agent as a hung guest",
				Fix: "in OpenWrt: opkg update && opkg install qemu-ga && /etc/init.d/qemu-ga enable && /etc/init.d/qemu-ga start (or qm set " + id + " --agent 0)"})
		}
	}
	if conf.Err == "" {
		if len(conf.HostPCI) > 0 {
			out = append(out, health.Info("passthrough", strings.Join(conf.HostPCI, ", ")+": a device the day's cold restart does not revive escalates to the host reboot"))
		} else {
			out = append(out, health.Info("passthrough", "none"))
		}
	}
	// The check keeps its name (status -json's consumers match it). What
	// it counts is what SPEC §13 rule 5 counts: a start is counted when
	// taken and forgiven only by the internet's return, so "failed" was
	// untrue right after a start.
	const startsCounted = "starts and resumes today that did not bring the internet back"
	st = rescue.AsDated(st, now) // a vm_start_date far ahead counts as today, as the run counts it
	starts := 0
	if st.VMStartDate == rescue.Today(now) && !st.RecordUnread {
		starts = st.VMStarts
	}
	switch left := rescue.VMStartsLeft(h.cfg, st, now); {
	case h.cfg.VMStartMax == 0:
		// The owner's choice, no fault (status exited 1 for ever).
		out = append(out, health.Info("router VM starts today", "none (VM_START_MAX=0): a router VM found stopped or paused gets no start or resume of its own; while the internet is down "+
			nextVMStep(next)))
	case st.RecordUnread && left:
		out = append(out, health.Info("router VM starts today", fmt.Sprintf("not known (%s could not be read): one start is left today, of VM_START_MAX %d", rescue.RecordFile, h.cfg.VMStartMax)))
	case st.RecordUnread:
		out = append(out, health.Info("router VM starts today", fmt.Sprintf("not known (%s could not be read): the one start left today was taken (%s)", rescue.RecordFile, rescue.UnreadFile)))
	case left:
		out = append(out, health.Info("router VM starts today", fmt.Sprintf("%d of VM_START_MAX %d (%s)", starts, h.cfg.VMStartMax, startsCounted)))
	default:
		out = append(out, health.Check{Name: "router VM starts today", Detail: fmt.Sprintf("%d of VM_START_MAX %d (%s): spent; while the internet is down %s",
			starts, h.cfg.VMStartMax, startsCounted, nextVMStep(next)),
			Fix: "find why the VM does not start (qm start " + id + " by hand shows the error); the count renews at midnight"})
	}
	return out
}

// vmFix is the fix of a router VM that does not run (verb: start or
// resume), with what hostcheck does next while the internet is down
// (rescue.NextVMStep: Decide's rules, so that status says what the run
// will do).
func (h *host) vmFix(verb string, next rescue.VMOutlook, lock string) string {
	fix := "qm " + verb + " " + h.cfg.VMID
	switch {
	case next == rescue.OutlookLocked:
		return "wait for the lock (" + lock + ") to end: hostcheck starts, resumes or reboots nothing under it (a backup starts the VM again when done); " +
			"if it is still not running after that, " + fix
	case next == rescue.OutlookStart:
		return fix + " (while the internet is down hostcheck " + verb + "s it by itself, VM_START_MAX a day)"
	case next == rescue.OutlookNothing:
		return fix + " by hand: " + nextVMStep(next)
	case h.cfg.VMStartMax == 0:
		return fix + " (VM_START_MAX=0: no " + verb + " of its own; while the internet is down " + nextVMStep(next) + ")"
	}
	return fix + " (VM_START_MAX spent today; while the internet is down " + nextVMStep(next) + ")"
}

// nextVMStep says a rescue.VMOutlook past the VM's own starts.
func nextVMStep(next rescue.VMOutlook) string {
	switch next {
	case rescue.OutlookColdRestart:
		return "the next step is the day's VM cold restart (qm stop, then qm start)"
	case rescue.OutlookNothing:
		return "hostcheck has nothing more to try until midnight (today's VM starts, cold restart and host reboot are spent)"
	case rescue.OutlookLocked:
		return "nothing is started, resumed or rebooted while the VM's lock holds"
	}
	return "the next step is the host reboot (once a day)"
}
