package main

import (
	"context"
	"errors"
	"log/slog"
	"time"

	"github.com/pve-op/network-rescue/internal/assist"
	"github.com/pve-op/network-rescue/internal/remote"
	"github.com/pve-op/network-rescue/internal/rescue"
)

// assist asks the router to take one LAN-side step with its own command
// (SPEC §14): `OP_NETCHECK -config OP_CONFIG assist STEP` over SSH, bounded
// by what the router may take (its lock wait and the command) on top of
// the connection. The answer is logged as a 【LAN】 line; router text in
// it is escaped (SPEC §15). It returns the router's answer (the zero
// Result when there was none).
func (h *host) assist(ctx context.Context, step assist.Step, reason string) assist.Result {
	if h.cfg.DryRun {
		h.log.Info("【演练】-> 不执行命令", "cmd", h.cfg.OpNetcheck+" -config "+h.cfg.OpConfig+" assist "+string(step))
		return assist.Result{}
	}
	// The step runs to completion on the router whatever happens here; a
	// signal does not cut the wait for its answer short (SPEC §15).
	actx := context.WithoutCancel(ctx)
	res, err := h.remote().Assist(actx, h.cfg.OpNetcheck, h.cfg.OpConfig, step, reason, assist.MaxDuration(h.cfg.ProbeTimeout))
	switch {
	case errors.Is(err, remote.ErrRouterConfig):
		// netcheck ran there and refused before the step (exit 2, no
		// result line): nothing ran, a reboot neither. Its stderr names
		// the fault; status on the router shows it with the fix.
		h.log.Error("【LAN】-> [错误] OpenWrt 上的 netcheck 因配置错误拒绝执行，此步骤未执行：请在路由器上运行 "+
			remote.ShellQuote(h.cfg.OpNetcheck)+" -config "+remote.ShellQuote(h.cfg.OpConfig)+" status 并按提示修正 (配置须为 root 所有、组和其他用户不可写)，或更新路由器上的 netcheck",
			"step", string(step), "reason", shown(err.Error(), maxShownErr))
		h.failed = true
		return assist.Result{Outcome: assist.Refused, Why: rescue.WhyRouterConfig}
	case remote.NotSent(err):
		// The request never reached the router's shell (refused, a
		// timeout under a full conntrack table): nothing ran.
		h.log.Error("【LAN】-> [错误] 请求 OpenWrt 协助失败 (请求未送达，此步骤未执行)", "step", string(step), "reason", shown(err.Error(), maxShownErr))
		h.failed = true
		return assist.Result{Outcome: assist.Refused, Why: rescue.WhyNotSent}
	case (errors.Is(err, assist.ErrNoLine) || remote.CommandSent(err)) && step == assist.Reboot:
		// A reboot that works ends the session before the answer comes:
		// closed (no line), or dropped without a word, the kernel gone
		// before it could close the connection (a timeout).
		h.log.Info("【LAN】-> OpenWrt 正在重启 (会话随重启结束)。", "step", string(step))
	case errors.Is(err, remote.ErrNotRunnable):
		h.log.Error("【LAN】-> [错误] OpenWrt 上无法运行 netcheck：请在路由器上安装本项目 (install.sh --role router)，或设置 OP_NETCHECK", "step", string(step), "reason", shown(err.Error(), maxShownErr))
		h.failed = true
		return assist.Result{Outcome: assist.Refused, Why: rescue.WhyNotRunnable}
	case err != nil:
		h.log.Error("【LAN】-> [错误] 请求 OpenWrt 协助失败", "step", string(step), "reason", shown(err.Error(), maxShownErr))
		h.failed = true
	default:
		level := slog.LevelInfo
		msg := "【LAN】-> [成功] OpenWrt 已执行。"
		switch res.Outcome {
		case assist.Refused:
			level, msg = slog.LevelWarn, "【LAN】-> OpenWrt 拒绝执行。"
		case assist.Failed:
			level, msg = slog.LevelError, "【LAN】-> [错误] OpenWrt 执行失败。"
			h.failed = true
		}
		h.log.Log(context.Background(), level, msg, "step", string(step), "result", string(res.Outcome),
			"why", res.Why, "detail", shown(res.Detail, maxShownErr))
		return res
	}
	return assist.Result{}
}

// notAsked reports whether res is the host's own answer for a step the
// router never took up: its netcheck could not run, the request did not
// reach it, or its netcheck refused it as a configuration error. Such a
// step is no assist for the hook or the owner (every run told one for a
// step that never ran); the 【LAN】 line and HEARTBEAT_URL's /fail say it.
func notAsked(res assist.Result) bool {
	switch res.Why {
	case rescue.WhyNotRunnable, rescue.WhyNotSent, rescue.WhyRouterConfig:
		return res.Outcome == assist.Refused
	}
	return false
}

// refused takes a LAN step the router refused for now off the steps done
// (rescue.Refused), so that the next run asks for it again instead of
// climbing past it. It is saved before the next run can act on it; now is
// the run's time. It reports whether the step was given back: not taken,
// it is no assist to tell (the next run asks for it again).
func (h *host) refused(store rescue.Store, next rescue.State, step assist.Step, res assist.Result, now time.Time) (given bool) {
	if res.Outcome != assist.Refused {
		return false
	}
	back, ok := rescue.Refused(next, step, res.Why, now)
	if !ok {
		if res.Why == rescue.WhyNotSent || res.Why == rescue.WhyRouterConfig {
			// Held LANHoldRuns times in this fault already: the step now
			// counts as tried, and the next run climbs past it.
			h.log.Warn("【LAN】OpenWrt 在本次故障中已多次未能执行请求，此步骤记为已尝试，下次运行继续下一步。",
				"step", string(step), "why", res.Why, "held", next.LANHeld)
		}
		return false
	}
	if err := store.Save(next, back); err != nil {
		h.log.Error("【严重错误】状态无法保存：被拒绝的 LAN 步骤仍记为已尝试", "step", string(step), "err", err)
		return false
	}
	msg := "【LAN】OpenWrt 暂不执行此步骤，不算已尝试，下次运行再请求。"
	switch res.Why {
	case rescue.WhyNotRunnable:
		// Said once an hour at most: the runs of the hold ask no more
		// (rescue.NoNetcheckHold); the first after it asks again.
		until := back.NoNetcheckUntil().In(h.loc).Format("15:04")
		h.log.Warn("【LAN】OpenWrt 上没有安装 netcheck (仍在运行原版脚本？)，无法分辨局域网侧故障："+until+" 前不按局域网故障处理，只看 OpenWrt 的 SOS (与原版脚本相同)；之后再判断并请求 OpenWrt。",
			"step", string(step), "why", res.Why, "ask_again", until, "fix", "在路由器上安装本项目: install.sh --role router (或在本机: install.sh --router "+h.cfg.OpIP+")，或设置 OP_NETCHECK")
		return true
	case rescue.WhyNotSent:
		msg = "【LAN】请求未送达 OpenWrt，此步骤不算已尝试，下次运行再请求。"
	case rescue.WhyRouterConfig:
		msg = "【LAN】OpenWrt 的 netcheck 配置有误，此步骤不算已尝试，下次运行再请求。"
	}
	h.log.Warn(msg, "step", string(step), "why", res.Why)
	return true
}
