package ladder

import (
	"fmt"
	"log/slog"
	"time"

	"github.com/pve-op/network-rescue/internal/assist"
	"github.com/pve-op/network-rescue/internal/config"
)

// AssistInput is a request from the host (`netcheck assist`, SPEC §14).
type AssistInput struct {
	Now    time.Time
	Uptime time.Duration // time since the router booted
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
	d := decider{cfg: cfg, in: Input{Now: in.Now, Uptime: in.Uptime}, next: st}
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
