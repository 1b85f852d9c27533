package main

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/pve-op/network-rescue/internal/config"
	"github.com/pve-op/network-rescue/internal/ladder"
	"github.com/pve-op/network-rescue/internal/rescue"
	"github.com/pve-op/network-rescue/state"
)

// The eighth review of status's misfire line (each test failed on
// 5322be6).

// TestMisfireFixCombinations: a fix that needs two steps was never
// offered (resume and -force, -force and the uptime read, resume and the
// uptime read): status said only "check REBOOT_CMD … by hand" though the
// runs, given both, reboot the host today.
func TestMisfireFixCombinations(t *testing.T) {
	now := time.Date(2026, 12, 6, 12, 0, 0, 0, time.UTC)
	const day = "2026-12-06"
	late := now.Add(13 * time.Hour) // a pause past midnight
	for _, tt := range []struct {
		name                  string
		st                    rescue.State
		o                     rescue.Obs
		resume, force, readUp bool
		want                  []string
	}{
		{"mark kept, a pause past midnight", rescue.State{MisfireDate: day, MisfireBoot: "boot-1", HasMark: true, Mark: state.Mark{Date: day}, PauseUntil: late},
			rescue.Obs{Now: now, Uptime: 72 * time.Hour, BootID: "boot-1"}, true, true, false, []string{"hostcheck resume", "-force"}},
		{"mark stands, a pause past midnight", rescue.State{MisfireDate: day, MisfireBoot: "boot-1", HasMark: true,
			Mark: state.Mark{Date: day, Time: now.Add(-time.Hour), BootID: "boot-1", Dated: true}, PauseUntil: late},
			rescue.Obs{Now: now, Uptime: 72 * time.Hour, BootID: "boot-1"}, true, true, false, []string{"hostcheck resume", "-force"}},
		{"mark kept, the uptime unread", rescue.State{MisfireDate: day, MisfireBoot: "boot-1", HasMark: true, Mark: state.Mark{Date: day}},
			rescue.Obs{Now: now, UptimeUnknown: true, BootID: "boot-1"}, false, true, true, []string{"cat /proc/uptime", "-force"}},
		{"counted as landed, the uptime unread", rescue.State{MisfireDate: day, MisfireBoot: "boot-2", LastReboot: day},
			rescue.Obs{Now: now, UptimeUnknown: true, BootID: "boot-2"}, false, true, true, []string{"cat /proc/uptime", "-force"}},
		{"torn, the uptime unread, a pause past midnight", rescue.State{MisfireDate: day, MisfireBoot: "boot-1", PauseUntil: late},
			rescue.Obs{Now: now, UptimeUnknown: true, BootID: "boot-1"}, true, false, true, []string{"hostcheck resume", "cat /proc/uptime"}},
	} {
		h := testHost(t, nil)
		h.cfg.VMID = ""
		c := h.misfireCheck(tt.st, tt.o)
		st := tt.st
		if tt.resume {
			st.PauseUntil = time.Time{}
		}
		if tt.force {
			st = rescue.Forgotten(st)
		}
		var see func(*rescue.Obs)
		if tt.readUp {
			see = func(run *rescue.Obs) {
				if run.UptimeUnknown {
					run.UptimeUnknown, run.Uptime = false, 72*time.Hour
				}
			}
		}
		host, _ := cronToday(h.cfg, st, tt.o, see)
		for _, w := range tt.want {
			if !host || !strings.Contains(c.Fix, w) {
				t.Errorf("%s: status %+v; given resume %v, -force %v, the uptime read %v, the runs reboot the host today: %v; want the fix to name %q",
					tt.name, c, tt.resume, tt.force, tt.readUp, host, w)
			}
		}
	}
}

// TestHostRescueOutlookUptimeUnread: the misfire's boot id unread, the
// uptime unread now: the "reboot mark" line said flatly "the next run
// counts it as done … no more host reboots today", beside the host reboot
// line offering the uptime read before the next run for a retry, which
// the runs take on a host up for days.
func TestHostRescueOutlookUptimeUnread(t *testing.T) {
	now := time.Date(2026, 12, 6, 12, 0, 0, 0, time.UTC)
	h := testHost(t, nil)
	h.cfg.VMID = ""
	st := rescue.State{MisfireDate: "2026-12-06", MisfireBoot: "unknown"}
	o := rescue.Obs{Now: now, UptimeUnknown: true, BootID: "boot-1"}
	_, detail := rescue.HostRescueOutlook(st, now, 0)
	c := h.misfireCheck(st, o)
	host, _ := cronToday(h.cfg, st, o, func(run *rescue.Obs) {
		if run.UptimeUnknown {
			run.UptimeUnknown, run.Uptime = false, 5*24*time.Hour
		}
	})
	if host && strings.Contains(detail, "no more host reboots today") || !strings.Contains(detail, "the host reboot line") {
		t.Errorf("reboot mark says %q; host reboot line %+v; the runs, the uptime read (up 5 days), reboot the host today: %v", detail, c, host)
	}
}

// TestMisfireUptimeFixOldBootOnly: the misfire's boot id unread, the uptime
// unread now: the uptime read brings the retry only on a boot older than
// the day before the misfire's (on a host up 30 hours the run that reads
// it counts the misfire as landed). The fix was offered with no condition.
func TestMisfireUptimeFixOldBootOnly(t *testing.T) {
	now := time.Date(2026, 12, 6, 12, 0, 0, 0, time.UTC)
	h := testHost(t, nil)
	h.cfg.VMID = ""
	st := rescue.State{MisfireDate: "2026-12-06", MisfireBoot: "unknown"}
	o := rescue.Obs{Now: now, UptimeUnknown: true, BootID: "boot-1"}
	c := h.misfireCheck(st, o)
	host, _ := cronToday(h.cfg, st, o, func(run *rescue.Obs) {
		if run.UptimeUnknown {
			run.UptimeUnknown, run.Uptime = false, 30*time.Hour // read from the next run, as it is
		}
	})
	if host || !strings.Contains(c.Fix, "cat /proc/uptime") || !strings.Contains(c.Fix, "only if this host has been up since before 12-05") {
		t.Errorf("status %+v; the runs, the uptime read before the next run (up 30h), reboot the host today: %v", c, host)
	}
}

// TestMisfireUptimeFixWhy: a torn misfire (its boot id known), the uptime
// unread, one run left in reach (23:52; 12:52 with HOST_REBOOT_HOURS=10-13):
// the fix said "a run that cannot read it counts the misfire as landed",
// which that run does not do (it holds on 开机时间过短): the day or the
// window ends.
func TestMisfireUptimeFixWhy(t *testing.T) {
	st := rescue.State{MisfireDate: "2026-12-06", MisfireBoot: "boot-1"}
	for _, tt := range []struct {
		name  string
		now   time.Time
		hours string
	}{
		{"23:52", time.Date(2026, 12, 6, 23, 52, 0, 0, time.UTC), ""},
		{"12:52, HOST_REBOOT_HOURS=10-13", time.Date(2026, 12, 6, 12, 52, 0, 0, time.UTC), "10-13"},
	} {
		h := testHost(t, nil)
		h.cfg.VMID = ""
		h.cfg.HostRebootHours, _ = config.ParseHours(tt.hours)
		o := rescue.Obs{Now: tt.now, UptimeUnknown: true, BootID: "boot-1"}
		c := h.misfireCheck(st, o)
		if strings.Contains(c.Fix, "counts the misfire as landed") || !strings.Contains(c.Fix, "before the next run") {
			t.Errorf("%s: status %+v; want the uptime before the next run, without a landing the run does not count", tt.name, c)
		}
	}
}

// routerToday: the cron runs left today against the router as the
// misfire's sync left it (SOS deleted, count 0), its default ladder
// climbing again; both sides' real decisions on one clock (as
// SimulateJoint).
func routerToday(hcfg config.Config, st rescue.State, o rescue.Obs) (host bool, firstSOS time.Time) {
	hcfg.DryRun = false
	today := rescue.Today(o.Now)
	start := o.Now.Truncate(time.Minute)
	r := ladder.NewRouter(config.Default(config.Router), start)
	run := o
	for now := start.Add(ladder.RunEvery); rescue.Today(now) == today; now = now.Add(ladder.RunEvery) {
		r.Tick(now, false)
		if r.State.SOS && firstSOS.IsZero() {
			firstSOS = now
		}
		if now.Sub(now.Truncate(rescue.HostEvery)) != 0 {
			continue
		}
		run.Uptime += now.Sub(run.Now)
		run.Now = now
		run.NetKnown, run.NetUp, run.RouterKnown, run.LANKnown, run.GuardsKnown = true, false, true, true, true
		run.Router, run.LANUp = rescue.Router{}, false
		if !r.Up(now) {
			run.Router.Err = "router rebooting"
		} else {
			run.Router = rescue.Router{SOS: r.State.SOS, SOSContent: fmt.Sprint("count=", r.State.Count), Count: fmt.Sprint(r.State.Count)}
			run.LANUp = true
		}
		s := rescue.Decide(hcfg, st, run)
		if s.Action == rescue.HostReboot {
			return true, firstSOS
		}
		st = s.Next
	}
	return false, firstSOS
}

// TestMisfireRetryNeedsNewSOS: the misfired reboot's own sync deleted the
// router's SOS and zeroed its count (SPEC §6 step 6): the retry waits for
// the router to raise SOS again, hours of its ladder away. For a misfire
// at 16:55 status said "a later run retries it … from 17:00 at the
// earliest" as if it came then; the runs with the router's ladder from
// count 0 take none today. It is said as the condition it is.
func TestMisfireRetryNeedsNewSOS(t *testing.T) {
	now := time.Date(2026, 12, 6, 17, 0, 0, 0, time.UTC)
	h := testHost(t, nil)
	h.cfg.VMID = ""
	st := rescue.State{MisfireDate: "2026-12-06", MisfireBoot: "boot-1", DownSince: now.Add(-10 * time.Hour)}
	o := rescue.Obs{Now: now, Uptime: 72 * time.Hour, BootID: "boot-1"}
	c := h.misfireCheck(st, o)
	host, sos := routerToday(h.cfg, st, o)
	if strings.Contains(c.Detail, "retries it") && !host && !strings.Contains(c.Detail, "when the router raises SOS again today") {
		t.Errorf("status says %q; the runs, with the router's ladder from count 0, reboot the host today: %v (its first SOS today: %v)", c.Detail, host, sos)
	}
}

// TestMisfireVMLineNotHostWhy: with VM_RESTART_FIRST and the uptime
// unread, the VM's cold restart line (【终极动作】) was given as why the
// host's reboot is not retried.
func TestMisfireVMLineNotHostWhy(t *testing.T) {
	now := time.Date(2026, 12, 6, 12, 0, 0, 0, time.UTC)
	h := testHost(t, nil)
	h.cfg.VMID, h.cfg.VMRestartFirst = "100", true
	st := rescue.State{MisfireDate: "2026-12-06", MisfireBoot: "boot-1"}
	o := rescue.Obs{Now: now, UptimeUnknown: true, BootID: "boot-1"}
	c := h.misfireCheck(st, o)
	_, why, _ := strings.Cut(c.Detail, "as the runs decide:")
	if strings.Contains(why, "【终极动作】") || !strings.Contains(c.Detail, "VM cold restart") {
		t.Errorf("status says %q: the VM's cold restart given as why the host's reboot is not retried", c.Detail)
	}
}
