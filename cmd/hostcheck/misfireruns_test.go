package main

import (
	"strings"
	"testing"
	"time"

	"github.com/pve-op/network-rescue/internal/config"
	"github.com/pve-op/network-rescue/internal/rescue"
)

// cronToday drives the real cron runs (every */5 slot from the first at or
// after o.Now, up to midnight) with an SOS standing, the LAN up, the
// guards clear and the router VM running: what status's misfire line must
// agree with. see may change each run's uptime and boot id (the uptime
// grows with the clock unless unread). It reports whether a run today
// rebooted the host, and whether one cold-restarted the VM.
func cronToday(cfg config.Config, st rescue.State, o rescue.Obs, see func(run *rescue.Obs)) (host, vm bool) {
	cfg.DryRun = false
	today := rescue.Today(o.Now)
	next := o.Now.Truncate(5 * time.Minute)
	if next.Before(o.Now) {
		next = next.Add(5 * time.Minute)
	}
	run := o
	for ; rescue.Today(next) == today; next = next.Add(5 * time.Minute) {
		if !run.UptimeUnknown {
			run.Uptime += next.Sub(run.Now)
		}
		run.Now = next
		if see != nil {
			see(&run)
		}
		run.NetKnown, run.NetUp, run.RouterKnown, run.Router = true, false, true, rescue.Router{SOS: true, SOSContent: "count=10"}
		run.LANKnown, run.LANUp, run.GuardsKnown, run.SystemKnown, run.SystemState = true, true, true, true, "running"
		run.VMKnown, run.VM, run.VMConfigKnown, run.AgentKnown = true, rescue.VMStatus{Status: "running", QMP: "running"}, true, true
		s := rescue.Decide(cfg, st, run)
		switch s.Action {
		case rescue.HostReboot:
			return true, vm
		case rescue.VMRestart:
			vm = true
		}
		st = s.Next
	}
	return false, vm
}

// The seventh review of status's misfire line (each test failed on
// 32119f0; the line ran the runs' decision for the next three runs from a
// pause's end, not for every cron run left today).

// TestMisfirePauseEndOffSlot: a pause whose end is not on a cron slot.
// The first run after it is the next */5 slot, not the pause's end: ending
// at 23:57, the run at 23:55 is paused and the next is 00:00, the new
// day's; ending at 13:58 with HOST_REBOOT_HOURS=10-14, the next run is
// 14:00, outside the window. Status promised a retry in each.
func TestMisfirePauseEndOffSlot(t *testing.T) {
	now := time.Date(2026, 12, 6, 12, 0, 0, 0, time.UTC)
	const day = "2026-12-06"
	for _, tt := range []struct {
		name  string
		until time.Time
		hours string
	}{
		{"pause until 23:57", time.Date(2026, 12, 6, 23, 57, 0, 0, time.UTC), ""},
		{"pause until 23:55:30", time.Date(2026, 12, 6, 23, 55, 30, 0, time.UTC), ""},
		{"pause until 13:58, HOST_REBOOT_HOURS=10-14", time.Date(2026, 12, 6, 13, 58, 0, 0, time.UTC), "10-14"},
	} {
		h := testHost(t, nil)
		h.cfg.VMID = ""
		h.cfg.HostRebootHours, _ = config.ParseHours(tt.hours)
		st := rescue.State{MisfireDate: day, MisfireBoot: "boot-1", PauseUntil: tt.until}
		o := rescue.Obs{Now: now, Uptime: 72 * time.Hour, BootID: "boot-1"}
		c := h.misfireCheck(st, o)
		promised := strings.Contains(c.Detail, "retries it") && !strings.Contains(c.Detail, "HOST_REBOOT_HOURS")
		host, _ := cronToday(h.cfg, st, o, nil)
		if promised != host {
			t.Errorf("%s: status says %q; the cron runs reboot the host today: %v", tt.name, c.Detail, host)
		}
	}
}

// TestMisfireVMFirstHostHeld: with VM_ID and VM_RESTART_FIRST, status said
// the router's next SOS takes the VM cold restart and "a later SOS retries
// it (the host's reboot)". The cold restart is taken (its guards allow an
// unread uptime, an unread boot id, any hour), but the host's reboot after
// it is held all day: by the uptime unread (开机时间过短), by the boot id
// unread, by HOST_REBOOT_HOURS. Without VM_ID the same states say "no
// retry".
func TestMisfireVMFirstHostHeld(t *testing.T) {
	now := time.Date(2026, 12, 6, 12, 0, 0, 0, time.UTC)
	torn := rescue.State{MisfireDate: "2026-12-06", MisfireBoot: "boot-1"}
	for _, tt := range []struct {
		name   string
		uptime time.Duration // 0: unread
		boot   string
		hours  string
	}{
		{"the uptime unread", 0, "boot-1", ""},
		{"the boot id unread", 3 * time.Hour, "unknown", ""},
		{"HOST_REBOOT_HOURS=2-5", 72 * time.Hour, "boot-1", "2-5"},
	} {
		h := testHost(t, nil)
		h.cfg.VMID, h.cfg.VMRestartFirst = "100", true
		h.cfg.HostRebootHours, _ = config.ParseHours(tt.hours)
		o := rescue.Obs{Now: now, Uptime: tt.uptime, UptimeUnknown: tt.uptime == 0, BootID: tt.boot}
		c := h.misfireCheck(torn, o)
		promised := strings.Contains(c.Detail, "retries it (the host's reboot)") && !strings.Contains(c.Detail, "HOST_REBOOT_HOURS")
		host, vm := cronToday(h.cfg, torn, o, nil)
		if promised != host || !vm || !strings.Contains(c.Detail, "VM cold restart") {
			t.Errorf("%s: status says %q (fix %q); the cron runs today: VM cold restart %v, host reboot %v", tt.name, c.Detail, c.Fix, vm, host)
		}
	}
}

// TestMisfireUptimeUnreadSpends: the misfire's boot id unread then, the
// uptime unread now. Status said "no retry while the uptime cannot be
// read", fix: cat /proc/uptime. The next run (the uptime still unread)
// counts the misfire as landed (【严重错误】无法读取开机 ID… 按已重启计) and
// the day is spent: /proc/uptime readable again from the run after brings
// no retry. The fix now says it must come before the next run.
func TestMisfireUptimeUnreadSpends(t *testing.T) {
	now := time.Date(2026, 12, 6, 12, 0, 0, 0, time.UTC)
	h := testHost(t, nil)
	h.cfg.VMID = ""
	st := rescue.State{MisfireDate: "2026-12-06", MisfireBoot: "unknown"}
	o := rescue.Obs{Now: now, UptimeUnknown: true, BootID: "boot-1"}
	c := h.misfireCheck(st, o)
	first := true
	late, _ := cronToday(h.cfg, st, o, func(run *rescue.Obs) {
		if !first && run.UptimeUnknown {
			run.UptimeUnknown, run.Uptime = false, 5*24*time.Hour // fixed from the second run
		}
		first = false
	})
	early, _ := cronToday(h.cfg, st, o, func(run *rescue.Obs) {
		if run.UptimeUnknown {
			run.UptimeUnknown, run.Uptime = false, 5*24*time.Hour // fixed before the next run
		}
	})
	if late || !early || !strings.Contains(c.Fix, "before the next run") || strings.Contains(c.Detail, "until it can") {
		t.Errorf("status says %q (fix %q); the runs, the uptime read from the second: host reboot %v; from the first: %v", c.Detail, c.Fix, late, early)
	}
}

// TestHostRescueOutlookNoRetry: the "reboot mark" line (HostRescueOutlook)
// promised "the next run ... retries it" where the misfire line of the
// same status says no retry today: a pause past midnight, and 23:58 (the
// next run is 00:00's). It now leaves whether to the misfire line.
func TestHostRescueOutlookNoRetry(t *testing.T) {
	for _, tt := range []struct {
		name string
		st   rescue.State
		now  time.Time
	}{
		{"a pause past midnight", rescue.State{MisfireDate: "2026-12-06", MisfireBoot: "boot-1", PauseUntil: time.Date(2026, 12, 7, 1, 0, 0, 0, time.UTC)},
			time.Date(2026, 12, 6, 12, 0, 0, 0, time.UTC)},
		{"at 23:58", rescue.State{MisfireDate: "2026-12-06", MisfireBoot: "boot-1"}, time.Date(2026, 12, 6, 23, 58, 0, 0, time.UTC)},
	} {
		h := testHost(t, nil)
		h.cfg.VMID = ""
		o := rescue.Obs{Now: tt.now, Uptime: 72 * time.Hour, BootID: "boot-1"}
		_, detail := rescue.HostRescueOutlook(tt.st, tt.now, o.Uptime)
		c := h.misfireCheck(tt.st, o)
		host, _ := cronToday(h.cfg, tt.st, o, nil)
		if strings.Contains(detail, "retries it") && !host || !strings.Contains(detail, "the host reboot line") {
			t.Errorf("%s: reboot mark says %q; misfire line says %q; the runs reboot the host today: %v", tt.name, detail, c.Detail, host)
		}
	}
}

// TestMisfireLastSlotWhy: at 23:56-23:59 no cron run is left today (the
// next is 00:00's), so no retry today; but the day is not spent (no
// landing, no reboot counted), and midnight-reset -force "allows another
// try today" that no run is left to take. Status said "today's host rescue
// counts as spent" with -force as the fix.
func TestMisfireLastSlotWhy(t *testing.T) {
	now := time.Date(2026, 12, 6, 23, 58, 0, 0, time.UTC)
	h := testHost(t, nil)
	h.cfg.VMID = ""
	st := rescue.State{MisfireDate: "2026-12-06", MisfireBoot: "boot-1"}
	for _, o := range []rescue.Obs{{Now: now, Uptime: 72 * time.Hour, BootID: "boot-1"}, {Now: now, UptimeUnknown: true, BootID: "boot-1"}} {
		c := h.misfireCheck(st, o)
		host, _ := cronToday(h.cfg, rescue.Forgotten(st), o, nil)
		if strings.Contains(c.Detail, "counts as spent") || strings.Contains(c.Detail, "uptime cannot be read") || strings.Contains(c.Fix, "-force") && !host ||
			!strings.Contains(c.Detail, "no cron run is left today") {
			t.Errorf("at 23:58 (uptime unread %v): %+v; the day is not spent, and after -force the runs reboot the host today: %v", o.UptimeUnknown, c, host)
		}
	}
}

// TestMisfirePausePastMidnightSpent: a pause past midnight on a day
// already spent (the misfire counted since as landed): status's fix was
// "hostcheck resume ends the pause", but resumed, the runs still take no
// host reboot today; only with midnight-reset -force too.
func TestMisfirePausePastMidnightSpent(t *testing.T) {
	now := time.Date(2026, 12, 6, 12, 0, 0, 0, time.UTC)
	const day = "2026-12-06"
	h := testHost(t, nil)
	h.cfg.VMID = ""
	st := rescue.State{MisfireDate: day, MisfireBoot: "boot-2", LastReboot: day, PauseUntil: now.Add(13 * time.Hour)}
	o := rescue.Obs{Now: now, Uptime: 2 * time.Hour, BootID: "boot-2"}
	c := h.misfireCheck(st, o)
	resumed := st
	resumed.PauseUntil = time.Time{}
	host, _ := cronToday(h.cfg, resumed, o, nil)
	both, _ := cronToday(h.cfg, rescue.Forgotten(resumed), o, nil)
	if strings.Contains(c.Fix, "hostcheck resume") && !strings.Contains(c.Fix, "-force") && !host || !both || !strings.Contains(c.Fix, "hostcheck resume ends the pause; then midnight-reset -force") {
		t.Errorf("%+v; resumed, the runs reboot the host today: %v; resumed and forced: %v", c, host, both)
	}
}
