package main

import (
	"context"
	"time"
)

// BootConfirmWithin is how long after REBOOT_DELAY and the two
// REBOOT_CONFIRM waits a boot may come and still be the reboot the mark
// asked for: systemd forces a shutdown after 30 minutes (reboot.target's
// JobTimeoutSec), and a server's firmware may take minutes more.
const BootConfirmWithin = time.Hour

// boot is `hostcheck boot`, run by cron at @reboot (SPEC §6 step 7): log
// 【启动】, and when a mark written by another boot is found, confirm the
// reboot it asked for and how long it took.
func (h *host) boot(ctx context.Context) error {
	store := h.store()
	st, problems := store.Load(h.loc)
	for _, p := range problems {
		h.logProblem(p)
	}
	obs := h.observeBasics()
	h.log.InfoContext(ctx, "【启动】hostcheck 开机检查", "uptime", obs.Uptime.Round(time.Second), "mark", st.HasMark)
	if !st.HasMark || st.Mark.BootID == "" || st.Mark.BootID == obs.BootID {
		return nil
	}
	bootedAt := obs.Now.Add(-obs.Uptime)
	attrs := []any{"requested_at", st.Mark.Time.Format(time.DateTime), "booted_at", bootedAt.Format(time.DateTime)}
	if took := bootedAt.Sub(st.Mark.Time); !st.Mark.Time.IsZero() && obs.Uptime > 0 {
		if took > h.cfg.RebootDelay+2*h.cfg.RebootConfirm+BootConfirmWithin {
			// Hours after the reboot the mark asked for: a power cut or a
			// reboot by hand later that day (the mark then held a boot
			// confirmed already, or one a misfire could not record). Told
			// as ours, with its "took", it was not.
			h.log.InfoContext(ctx, "【启动】这次开机远晚于今日重启标记所请求的重启：不是那次重启 (断电或手动重启)。", attrs...)
			return nil
		}
		attrs = append(attrs, "took", took.Round(time.Second))
	}
	h.log.InfoContext(ctx, "【确认】物理机重启完成", attrs...)
	if h.cfg.DryRun {
		return nil
	}
	return store.ConfirmBoot(st.Mark, obs.BootID)
}
