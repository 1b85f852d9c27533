package main

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/pve-op/network-rescue/internal/hook"
	"github.com/pve-op/network-rescue/internal/rescue"
	"github.com/pve-op/network-rescue/state"
)

// routerSync is what the run knew of the router when it decided the
// host's reboot, which decides what reboot says of the sync with it.
type routerSync struct {
	// SOS: the router's SOS was read in this run. Only then does the line
	// say "删除 SOS 成功" (the original's), and only then is a failed sync
	// 【严重错误】: a reboot for a LAN fault or a hung VM has no SOS to remove.
	SOS bool
	// VMDown, with VM_ID: qm status found the router VM not running in
	// this run (its state, "stopped", "running/paused" …; "" otherwise).
	// SSH can only fail then: it is not tried.
	VMDown string
}

// syncFor is routerSync from the run's observation.
func syncFor(obs rescue.Obs) routerSync {
	s := routerSync{SOS: obs.RouterKnown && obs.Router.Err == "" && obs.Router.SOS}
	if vm := obs.VM; obs.VMKnown && vm.Err == "" && vm.Status != "" && (vm.Status != "running" || vm.Paused()) {
		s.VMDown = vm.Status
		if vm.QMP != "" && vm.QMP != vm.Status {
			s.VMDown += "/" + vm.QMP
		}
	}
	return s
}

// vmDownSync is the line for a host reboot with the router VM not
// running: nothing is synced, and the router, once it boots, deals with
// its count itself (internal/ladder: a count written on an earlier day is
// reset at its first run, as midnight-reset would have; else it is kept,
// and reset once its net has stayed up RECOVERY_STABLE, or at midnight).
const vmDownSync = "【同步】路由虚拟机未运行，不在 OpenWrt 上同步 (删除 SOS、计数清零、清除冷却)：它开机后自行处理重启计数 (计数是前一天的则首次运行即补做零点重置；否则网络稳定 RECOVERY_STABLE 后或零点时清零)。"

// reboot is SPEC §6 step 6 after the mark was written: acknowledge SOS on
// the router, wait REBOOT_DELAY, reboot, and tell a slow shutdown from a
// misfire. A SIGTERM (ctx cancelled) while waiting is the shutdown reaching
// us: the run ends quietly. A signal during REBOOT_DELAY, before the
// reboot command ran, is that too only when the system is shutting down
// (cancelled).
//
// router says what the run knew of the router (routerSync): with its VM
// not running, SSH is not tried (it could only fail, and its 【严重错误】
// sent the owner to debug Dropbear on a router that was off); without an
// SOS read, a failed sync is a 【警告】: nothing the owner must fix.
func (h *host) reboot(ctx context.Context, store rescue.Store, mark state.Mark, prevReboot string, router routerSync) error {
	delay := int(h.cfg.RebootDelay.Round(time.Second) / time.Second)
	if h.cfg.DryRun {
		switch {
		case router.VMDown != "":
			h.log.Info("【演练】"+vmDownSync, "vm_id", h.cfg.VMID, "vm_status", router.VMDown)
		case router.SOS:
			h.log.Info("【演练】【同步】会在 OpenWrt 上删除 SOS、计数清零、清除冷却 (未执行)。")
		default:
			h.log.Info("【演练】【同步】会在 OpenWrt 上计数清零、清除冷却 (未执行)。")
		}
		h.log.Warn(fmt.Sprintf("【演练】【终极动作】PVE 物理机将在 %d 秒后执行优雅重启... (未执行)", delay), "cmd", h.cfg.RebootCmd)
		return nil
	}
	var err error
	if router.VMDown == "" {
		actx, cancel := context.WithTimeout(ctx, h.cfg.SSHTimeout)
		err = h.remote().AckSOS(actx, h.cfg.OpStateDir, true)
		cancel()
	}
	switch {
	case router.VMDown != "":
		h.log.Info(vmDownSync, "vm_id", h.cfg.VMID, "vm_status", router.VMDown)
		h.log.Warn(fmt.Sprintf("【终极动作】PVE 物理机将在 %d 秒后执行优雅重启...", delay), "reason", mark.Reason)
	case err != nil && router.SOS:
		h.log.Error("【严重错误】无法在 OpenWrt 上删除 SOS 并清零计数，仍然重启", "reason", err)
		h.log.Warn(fmt.Sprintf("【终极动作】PVE 物理机将在 %d 秒后执行优雅重启...", delay), "reason", mark.Reason)
	case err != nil:
		// No SOS to remove: the count and the cooling stay as they are,
		// which the router resets itself (RECOVERY_STABLE, midnight).
		h.log.Warn("【警告】未能在 OpenWrt 上清零重启计数、清除冷却 (本次没有 SOS)，仍然重启：路由器沿用原有计数，网络稳定后或零点时自行清零。", "reason", err)
		h.log.Warn(fmt.Sprintf("【终极动作】PVE 物理机将在 %d 秒后执行优雅重启...", delay), "reason", mark.Reason)
	default:
		synced, done := "【同步】已在 OpenWrt 上删除 SOS、重启计数清零、清除冷却，路由器重启后从头开始。", "删除 SOS 成功。"
		if !router.SOS {
			synced, done = "【同步】已在 OpenWrt 上重启计数清零、清除冷却，路由器重启后从头开始。", ""
		}
		h.log.Info(synced)
		h.log.Warn(fmt.Sprintf("【终极动作】%sPVE 物理机将在 %d 秒后执行优雅重启...", done, delay), "reason", mark.Reason)
	}
	if !sleep(ctx, h.cfg.RebootDelay) {
		return h.cancelled(context.WithoutCancel(ctx), store, prevReboot, router)
	}
	// The reboot commands run to completion in their own process group
	// (SPEC §15); a signal meanwhile still ends the run quietly after them.
	r := h.e.Exec(context.WithoutCancel(ctx), h.cfg.RebootCmd, h.cfg.RebootConfirm)
	if ctx.Err() != nil {
		return nil // the shutdown reached us while the command ran
	}
	h.result(r)
	if !sleep(ctx, h.cfg.RebootConfirm) {
		return nil
	}
	if !h.stopping(ctx) {
		h.log.Warn("【警告】重启命令未生效，执行备用重启命令。", "cmd", h.cfg.RebootFallbackCmd)
		r := h.e.Exec(context.WithoutCancel(ctx), h.cfg.RebootFallbackCmd, h.cfg.RebootConfirm)
		if ctx.Err() != nil {
			return nil
		}
		h.result(r)
		if !sleep(ctx, h.cfg.RebootConfirm) {
			return nil
		}
	}
	if h.stopping(ctx) {
		// A slow shutdown (PVE stopping its guests takes minutes): keep the
		// mark and wait for the SIGTERM that ends us.
		h.log.Info("系统正在关机，等待。")
		sleep(ctx, 30*time.Minute)
		return nil
	}
	h.log.Error("【严重错误】检测到 PVE 未能成功重启！命令执行失效。", "cmd", h.cfg.RebootCmd, "fallback", h.cfg.RebootFallbackCmd)
	// The commands may have exited 0, but the step failed: HEARTBEAT_URL's
	// /fail tells the owner, once the internet lets it through (SPEC §16).
	h.failed = true
	// Not retried at once (Store.Misfire says why): a later run may try
	// again today when the fault asks for it again, once.
	// This process's boot, as the run read it when it began (the mark's);
	// read again only if it could not be then. Unread both times, the
	// misfire is recorded "unknown", and its day counts as spent.
	boot := mark.BootID
	if boot == "" || boot == "unknown" {
		boot, _ = h.e.BootID()
	}
	kept, err := store.Misfire(h.loc, prevReboot, h.e.Now(), boot, true)
	if err != nil {
		// Misfire keeps the mark when it cannot record the try: the day
		// is spent, and the hook and the owner hear the reboot failed, as
		// after any misfire (they had heard host-reboot).
		h.log.Error("【严重错误】PVE 未能成功重启，且无法记录这次未生效的重启：保留今日重启标记，今天不再尝试重启物理机。请检查磁盘与 REBOOT_CMD。", "err", err)
		h.forgetRescue(ctx, router)
		h.notify("misfire", "PVE 未能成功重启，且状态无法写入 (严重错误)：今日重启标记保留，今天不再尝试。请检查磁盘与 REBOOT_CMD。", false)
		h.fire(ctx, hook.Event{Name: "misfire", Detail: h.cfg.RebootCmd + " and " + h.cfg.RebootFallbackCmd + " had no effect, and the try could not be recorded: no more tries today",
			Outage: h.outage(store)})
		return fmt.Errorf("host did not reboot (%s and %s had no effect), and the try could not be recorded: %w", h.cfg.RebootCmd, h.cfg.RebootFallbackCmd, err)
	}
	if kept {
		h.log.Error("【严重错误】今天第二次重启未生效：保留今日重启标记，今天不再尝试重启物理机，请检查 REBOOT_CMD 与 REBOOT_FALLBACK_CMD。", "mark", store.Mark)
		h.forgetRescue(ctx, router)
		h.notify("misfire", "PVE 今天第二次未能成功重启 (严重错误)：今天不再尝试，请检查 REBOOT_CMD 与 REBOOT_FALLBACK_CMD。", false)
		h.fire(ctx, hook.Event{Name: "misfire", Detail: h.cfg.RebootCmd + " and " + h.cfg.RebootFallbackCmd + " had no effect, the second time today: no more tries today",
			Outage: h.outage(store)})
		return fmt.Errorf("host did not reboot, the second time today: %s and %s had no effect", h.cfg.RebootCmd, h.cfg.RebootFallbackCmd)
	}
	if boot == "" || boot == "unknown" {
		// Recorded "unknown": whether its slow shutdown lands yet cannot
		// be told, and the next run counts the day as spent (lateReboot),
		// unless the uptime places this boot before yesterday; a retry
		// promised here did not come.
		h.log.Error("【回退】正在撕毁免死金牌；但开机 ID 无法读取，无法确认这次重启是否仍会发生：除非本次开机早于昨天，今天按已重启计，不再重试；开机 ID 一直无法读取时，它可能落地的三天内都不重启。", "mark", store.Mark)
		h.forgetRescue(ctx, router)
		h.notify("misfire", "PVE 未能成功重启 (严重错误/回退)：重启命令没有生效，开机 ID 无法读取：除非本次开机早于昨天，今天按已重启计，不再重试 (开机 ID 一直无法读取时，三天内都不重启)。请检查 REBOOT_CMD 与 /proc/sys/kernel/random/boot_id。", false)
		h.fire(ctx, hook.Event{Name: "misfire", Detail: h.cfg.RebootCmd + " and " + h.cfg.RebootFallbackCmd + " had no effect; boot id unread: no more tries today unless this boot began before yesterday", Outage: h.outage(store)})
		return fmt.Errorf("host did not reboot: %s and %s had no effect", h.cfg.RebootCmd, h.cfg.RebootFallbackCmd)
	}
	h.log.Error("【回退】正在撕毁免死金牌，以便在下个检测周期重试。", "mark", store.Mark)
	h.forgetRescue(ctx, router)
	h.notify("misfire", "PVE 未能成功重启 (严重错误/回退)：重启命令没有生效，今日重启标记已撕毁；故障仍在时物理机可再介入 (OpenWrt 的 SOS 已确认：走 SOS 的故障须等它再次发出)。请检查 REBOOT_CMD。", false)
	h.fire(ctx, hook.Event{Name: "misfire", Detail: h.cfg.RebootCmd + " and " + h.cfg.RebootFallbackCmd + " had no effect", Outage: h.outage(store)})
	return fmt.Errorf("host did not reboot: %s and %s had no effect", h.cfg.RebootCmd, h.cfg.RebootFallbackCmd)
}

// cancelled answers a signal (SIGINT, SIGTERM) during REBOOT_DELAY,
// before the reboot command ran. A shutdown under way (systemctl:
// stopping; offline, unknown or no answer once systemd is past answering) is the
// reboot coming another way: the mark stays, the run ends quietly (SPEC §6
// step 6). Any other state (running, degraded, starting, maintenance …)
// means a person stopped it (Ctrl-C, kill): no reboot comes, so the mark
// is torn as for a misfire, and then the log says so and the owner is
// told; else today's rescue would be spent on a reboot that never
// happened, silently. It is no misfire either (REBOOT_CMD never ran):
// its own event and notification, reboot-cancelled, and the reboot's
// count in METRICS_FILE taken back. As after a misfire, a later run may step in again
// while the fault lasts (at once for a hung VM, after the router's next SOS
// on the SOS path): `hostcheck pause` is how an owner who wants none says so.
func (h *host) cancelled(ctx context.Context, store rescue.Store, prev string, router routerSync) error {
	switch h.systemState(ctx) {
	case "stopping", "offline", "", "unknown": // unknown: systemd did not answer the query
		return nil
	}
	if _, err := store.Misfire(h.loc, prev, h.e.Now(), "", false); err != nil {
		h.log.Error("【严重错误】重启已被信号取消，但无法删除今日重启标记", "err", err)
		return err
	}
	h.log.Error("【回退】PVE 重启已取消 (收到信号，重启命令未执行)：撕毁今日重启标记，故障仍在时物理机可再介入 (OpenWrt 的 SOS 已确认：走 SOS 的故障须等它再次发出；不想介入：hostcheck pause 时长)。", "mark", store.Mark)
	h.forgetRescue(ctx, router)
	h.uncount()
	h.notify("reboot-cancelled", "PVE 重启已取消 (收到信号，重启命令未执行)：今天的物理机救援可再用一次，故障仍在时物理机可再介入 (OpenWrt 的 SOS 已确认：走 SOS 的故障须等它再次发出)；不想介入请运行 hostcheck pause 时长。", false)
	h.fire(ctx, hook.Event{Name: "reboot-cancelled", Detail: "host reboot cancelled by a signal before " + h.cfg.RebootCmd + " ran", Outage: h.outage(store)})
	return errors.New("host reboot cancelled by a signal before REBOOT_CMD ran")
}

// outage is a misfire's NETRESCUE_OUTAGE_SECONDS (SPEC §16): how long the
// internet has been down now, by the outage start the store holds (the
// decision saved it before the reboot's wait); 0 when it holds none or one
// that starts later (a clock set back).
func (h *host) outage(store rescue.Store) time.Duration {
	st, _ := store.Load(h.loc)
	if st.DownSince.IsZero() {
		return 0
	}
	return max(h.e.Now().Sub(st.DownSince), 0)
}

// forgetRescue deletes net_rescued_by on the router after a reboot that
// did not happen, bounded by SSH_TIMEOUT; a failure is logged, not fatal.
// With the router VM not running nothing was written there (reboot did
// not sync), and nothing is tried.
func (h *host) forgetRescue(ctx context.Context, router routerSync) {
	if router.VMDown != "" {
		return
	}
	actx, cancel := context.WithTimeout(context.WithoutCancel(ctx), h.cfg.SSHTimeout)
	defer cancel()
	if err := h.remote().ForgetRescue(actx, h.cfg.OpStateDir); err != nil {
		h.log.Warn("【警告】无法删除 OpenWrt 上的 net_rescued_by (物理机重启没有发生)", "reason", err)
	}
}

// stopping reports whether systemd is shutting the system down. A SIGTERM
// (ctx cancelled) that arrives while systemctl is asked is the shutdown
// reaching us: the query was killed, its empty answer means nothing, and
// calling it a misfire would tear the mark of a reboot that is happening.
//
// Only "stopping" is a shutdown here, unlike in cancelled: the reboot
// command has run and no SIGTERM came, so a systemd that does not answer
// ("unknown", nothing) is taken for a misfire, told to the owner; a
// shutdown that was only slow lands later and is counted then
// (decider.lateReboot).
func (h *host) stopping(ctx context.Context) bool {
	return h.systemState(ctx) == "stopping" || ctx.Err() != nil
}

// sleep waits d; false means ctx ended first (SIGTERM).
func sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}
