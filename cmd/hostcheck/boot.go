package main

import (
	"context"
	"time"
)

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
	if !st.Mark.Time.IsZero() {
		attrs = append(attrs, "took", bootedAt.Sub(st.Mark.Time).Round(time.Second))
	}
	h.log.InfoContext(ctx, "【确认】物理机重启完成", attrs...)
	if h.cfg.DryRun {
		return nil
	}
	return store.ConfirmBoot(st.Mark, obs.BootID)
}
