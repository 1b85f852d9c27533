package rescue

import (
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/pve-op/network-rescue/internal/config"
	"github.com/pve-op/network-rescue/state"
)

// TestLateReboot: the host booted since a misfire (【回退】) — a shutdown
// that was only slow, or any reboot — so the misfire's day had its host
// reboot: the first run of the new boot says so (also on a day already
// spent, where it would otherwise be silent) and no second reboot comes
// that day, also when that run's clock is a day ahead and then set back.
// A run of the same boot changes nothing. A boot id unread now cannot
// tell: that run holds the reboot, saving nothing (a run that reads it
// decides); unread at the misfire, the misfire's day counts as spent,
// said (a retry there was a second host reboot that day once the slow
// shutdown had landed).
func TestLateReboot(t *testing.T) {
	cfg := config.Default(config.Host)
	for _, tt := range []struct {
		name       string
		st         State
		boot       string
		wantReboot bool
		wantLog    bool
		wantLast   string
	}{
		{"misfire today, another boot", State{MisfireDate: "2026-11-25", MisfireBoot: "boot0"}, "boot1", false, true, "2026-11-25"},
		{"misfire today, same boot", State{MisfireDate: "2026-11-25", MisfireBoot: "boot1"}, "boot1", true, false, "2026-11-25"},
		{"boot id unreadable", State{MisfireDate: "2026-11-25", MisfireBoot: "boot0"}, "unknown", false, false, ""},
		{"boot id unread at the misfire", State{MisfireDate: "2026-11-25", MisfireBoot: "unknown"}, "boot1", false, false, "2026-11-25"},
		{"misfire yesterday, another boot", State{MisfireDate: "2026-11-24", MisfireBoot: "boot0"}, "boot1", true, true, "2026-11-25"},
		{"misfire today, day already spent", State{MisfireDate: "2026-11-25", MisfireBoot: "boot0", LastReboot: "2026-11-25"}, "boot1", false, true, "2026-11-25"},
		// A retry after the misfire, its mark standing: the new boot is its own.
		{"retry's mark stands", State{MisfireDate: "2026-11-25", MisfireBoot: "boot0", LastReboot: "2026-11-25", HasMark: true,
			Mark: state.Mark{Date: "2026-11-25", BootID: "boot0", Dated: true}}, "boot1", false, false, "2026-11-25"},
		// The same, hostcheck boot having confirmed the retry's mark; the
		// misfire's day counts even if the clock went back before the retry.
		{"retry's mark confirmed, dated the day before", State{MisfireDate: "2026-11-25", MisfireBoot: "boot0", LastReboot: "2026-11-24", HasMark: true,
			Mark: state.Mark{Date: "2026-11-24", BootID: "boot1", Dated: true}}, "boot1", false, false, "2026-11-25"},
		// Two days old, the host booted the day after it (a day's
		// uptime): its slow shutdown may have landed then; today is free.
		{"misfire two days ago, booted the day after", State{MisfireDate: "2026-11-23", MisfireBoot: "boot0"}, "boot1", true, true, "2026-11-25"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			st := tt.st
			st.DownSince = t0.Add(-time.Hour)
			s := Decide(cfg, st, full(func(o *Obs) { o.BootID = tt.boot }))
			if got := s.Action == HostReboot; got != tt.wantReboot {
				t.Errorf("Decide = %v (log: %s); want a host reboot %v", s.Action, msgs(s), tt.wantReboot)
			}
			if unread := strings.Contains(msgs(s), "无法读取开机 ID"); unread != (tt.boot == "unknown" || tt.st.MisfireBoot == "unknown") {
				t.Errorf("log %s; want the unreadable boot id told %v", msgs(s), !unread)
			}
			if got := strings.Contains(msgs(s), "【确认】上次判定未生效的物理机重启之后，物理机已经重启过"); got != tt.wantLog {
				t.Errorf("log %s; want the late reboot told %v", msgs(s), tt.wantLog)
			}
			if tt.boot != "unknown" && tt.st.MisfireBoot != tt.boot && s.Silent {
				t.Errorf("silent; want the step saved (said: %v)", tt.wantLog)
			}
			// Unread at the misfire, this boot may be its own: its id is
			// watched for a landing to come (TestUnreadMisfireLandsAfterMidnight).
			wantBoot := ""
			if tt.st.MisfireBoot == "unknown" {
				wantBoot = tt.boot
			}
			if tt.boot != "unknown" && tt.st.MisfireBoot != tt.boot && s.Next.MisfireBoot != wantBoot {
				t.Errorf("misfire boot %q after another boot; want %q", s.Next.MisfireBoot, wantBoot)
			}
			if s.Next.LastReboot != tt.wantLast {
				t.Errorf("last reboot %q; want %q", s.Next.LastReboot, tt.wantLast)
			}
		})
	}
	// The first run of the new boot reads a clock a day ahead; NTP then
	// sets it back: the misfire's day stays spent.
	ahead := Decide(cfg, State{MisfireDate: "2026-11-25", MisfireBoot: "boot0", DownSince: t0.Add(-time.Hour)},
		full(func(o *Obs) { o.BootID, o.Now, o.Router.SOS = "boot1", t0.Add(24*time.Hour), false }))
	back := Decide(cfg, ahead.Next, full(func(o *Obs) { o.BootID = "boot1" }))
	if back.Action == HostReboot {
		t.Errorf("clock a day ahead, then back, SOS: %v (log: %s); want no second reboot on 2026-11-25", back.Action, msgs(back))
	}
}

// TestUnreadMisfireLandsAfterMidnight: a misfire at 23:45 whose boot id
// was unread, then read at 23:55 in the same boot: counted as landed (the
// day spent), and still watched for by that id. The slow shutdown lands
// at 00:10: the new day's reboot, and none after it that day (the misfire
// was forgotten at 23:55, and the host rebooted again at 00:20).
func TestUnreadMisfireLandsAfterMidnight(t *testing.T) {
	cfg := config.Default(config.Host)
	dir := t.TempDir()
	s := Store{Mark: filepath.Join(dir, "mark"), StateDir: dir}
	at := func(day, h, m int) time.Time { return time.Date(2026, 11, day, h, m, 0, 0, cst) }
	boot0 := at(25, 8, 0)
	run := func(now time.Time, id string, booted time.Time) Step {
		t.Helper()
		s.Now = func() time.Time { return now }
		st, err := s.Load(cst)
		if err != nil {
			t.Fatal(err)
		}
		step := Decide(cfg, st, full(func(o *Obs) { o.Now, o.BootID, o.Uptime = now, id, now.Sub(booted) }))
		if !step.Silent {
			if err := s.Save(st, step.Next); err != nil {
				t.Fatal(err)
			}
		}
		return step
	}
	if step := run(at(25, 23, 45), "unknown", boot0); step.Action != HostReboot {
		t.Fatalf("23:45: %v; want the host reboot (%s)", step.Action, msgs(step))
	}
	if _, err := s.Misfire(cst, "", at(25, 23, 50), "", true); err != nil { // the boot id unread again
		t.Fatal(err)
	}
	if step := run(at(25, 23, 55), "boot0", boot0); step.Action == HostReboot {
		t.Fatalf("23:55, the same boot: %v; want the day counted as spent (%s)", step.Action, msgs(step))
	}
	if err := os.Remove(s.Mark); err != nil && !os.IsNotExist(err) { // midnight-reset
		t.Fatal(err)
	}
	boot1 := at(26, 0, 10) // the slow shutdown lands: the reboot of 11-26
	for now := at(26, 0, 15); now.Before(at(26, 12, 0)); now = now.Add(5 * time.Minute) {
		if step := run(now, "boot1", boot1); step.Action == HostReboot {
			t.Fatalf("11-26 %s: a second host reboot that day, after the landing at 00:10 (%s)", now.Format("15:04"), msgs(step))
		}
	}
}

// TestOldMisfireLaterBoot: a misfire stays on record until the host next
// boots, however many days later. A boot more than a day after the misfire
// (a reboot by hand once REBOOT_CMD was fixed, a power cut) is no slow
// shutdown landing: it used to spend the day of that boot without a word,
// and an SOS that afternoon got no host step ("a damaged record counts as
// one", said status). One 【重置】 line says it is not counted. A boot the
// day after a misfire may be its landing, and counts for the day it came;
// so does one two days after, which a clock stepped forward may show
// (SPEC §6: steps of up to a day): a landing dropped so allowed a second
// reboot minutes later.
func TestOldMisfireLaterBoot(t *testing.T) {
	cfg := config.Default(config.Host)
	for _, tt := range []struct {
		name       string
		misfire    string
		uptime     time.Duration // at t0, 14:00
		unknown    bool          // /proc/uptime unread
		wantReboot bool
		wantLine   string
		wantLast   string
	}{
		{"five days ago, booted this morning", "2026-11-20", 5 * time.Hour, false, true, "【重置】上次未生效的物理机重启之后，物理机到隔天以后才重启", "2026-11-25"},
		{"three days ago, uptime unread", "2026-11-22", 0, true, true, "【重置】上次未生效的物理机重启之后，物理机到隔天以后才重启", "2026-11-25"},
		// A boot two days after, by a clock that may have stepped a day
		// forward since the landing (SPEC §6): counted, on the safe side.
		{"two days ago, booted this morning", "2026-11-23", 5 * time.Hour, false, false, "【确认】上次判定未生效的物理机重启之后，物理机已经重启过", "2026-11-25"},
		{"yesterday, booted this morning: counted today", "2026-11-24", 5 * time.Hour, false, false, "【确认】上次判定未生效的物理机重启之后，物理机已经重启过", "2026-11-25"},
		{"yesterday, booted yesterday: today free", "2026-11-24", 20 * time.Hour, false, true, "【确认】上次判定未生效的物理机重启之后，物理机已经重启过", "2026-11-25"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			st := State{MisfireDate: tt.misfire, MisfireBoot: "boot0", DownSince: t0.Add(-time.Hour)}
			s := Decide(cfg, st, full(func(o *Obs) { o.BootID, o.Uptime, o.UptimeUnknown = "boot1", tt.uptime, tt.unknown }))
			if tt.unknown {
				// The host's reboot waits for an uptime it can read (SPEC §6
				// step 4); what the run saved is what counts.
				s = Decide(cfg, s.Next, full(func(o *Obs) { o.BootID, o.Uptime = "boot1", 5*time.Hour }))
			} else if !strings.Contains(msgs(s), tt.wantLine) {
				t.Errorf("log %s; want %q", msgs(s), tt.wantLine)
			}
			if got := s.Action == HostReboot; got != tt.wantReboot {
				t.Errorf("Decide = %v (log: %s); want a host reboot %v", s.Action, msgs(s), tt.wantReboot)
			}
			if s.Next.MisfireBoot != "" || s.Next.LastReboot != tt.wantLast {
				t.Errorf("misfire boot %q, last reboot %q; want it cleared, %q", s.Next.MisfireBoot, s.Next.LastReboot, tt.wantLast)
			}
		})
	}
}

// TestCancelledRetryKeepsMisfire: a misfire (boot0), then a retry that a
// person cancels during REBOOT_DELAY, then the misfired reboot lands after
// all (a slow shutdown): the new boot still counts the day, and a later
// SOS that day reboots nothing. The retry used to clear the misfire's boot.
func TestCancelledRetryKeepsMisfire(t *testing.T) {
	cfg := config.Default(config.Host)
	dir := t.TempDir()
	s := Store{Mark: filepath.Join(dir, "mark"), StateDir: dir}
	at := func(hhmm string) time.Time {
		tm, _ := time.Parse("15:04", hhmm)
		return time.Date(2026, 11, 25, tm.Hour(), tm.Minute(), 0, 0, cst)
	}
	run := func(now time.Time, boot string) Step {
		t.Helper()
		st, _ := s.Load(cst)
		step := Decide(cfg, st, full(func(o *Obs) { o.Now, o.BootID = now, boot }))
		if !step.Silent {
			if err := s.Save(st, step.Next); err != nil {
				t.Fatal(err)
			}
		}
		return step
	}
	if step := run(at("10:00"), "boot0"); step.Action != HostReboot {
		t.Fatalf("10:00: %v; want the host reboot", step.Action)
	}
	if _, err := s.Misfire(cst, "", at("10:02"), "boot0", true); err != nil {
		t.Fatal(err)
	}
	if step := run(at("10:30"), "boot0"); step.Action != HostReboot {
		t.Fatalf("10:30: %v (log: %s); want the retry", step.Action, msgs(step))
	}
	if _, err := s.Misfire(cst, "", at("10:30"), "", false); err != nil { // cancelled
		t.Fatal(err)
	}
	if step := run(at("10:40"), "boot1"); !strings.Contains(msgs(step), "【确认】上次判定未生效的物理机重启之后") {
		t.Errorf("10:40, a new boot: log %s; want the late reboot counted", msgs(step))
	}
	if step := run(at("12:00"), "boot1"); step.Action == HostReboot {
		t.Errorf("12:00, SOS: a second host reboot on 2026-11-25 (log: %s)", msgs(step))
	}
}

// TestMisfireStore: Store.Misfire tears the mark and records the day and
// the boot of a counted misfire; a second one that day (also when the
// clock was stepped back past midnight since) keeps the mark without its
// boot id. A damaged misfire_date reads as the day the record was written,
// and is reported.
func TestMisfireStore(t *testing.T) {
	dir := t.TempDir()
	s := Store{Mark: filepath.Join(dir, "mark"), StateDir: dir}
	now := time.Date(2026, 11, 25, 0, 10, 0, 0, time.UTC)
	mark := state.Mark{Date: "2026-11-25", Time: now, BootID: "b1", Reason: "SOS", Dated: true}
	save := func() {
		t.Helper()
		st, _ := s.Load(time.UTC)
		next := st
		next.HasMark, next.Mark, next.LastReboot = true, mark, "2026-11-25"
		if err := s.Save(st, next); err != nil {
			t.Fatal(err)
		}
	}
	save()
	if kept, err := s.Misfire(time.UTC, "2026-11-20", now, "b1", true); kept || err != nil {
		t.Fatalf("first misfire: kept %v, %v", kept, err)
	}
	st, _ := s.Load(time.UTC)
	if st.HasMark || st.LastReboot != "2026-11-20" || st.MisfireDate != "2026-11-25" || st.MisfireBoot != "b1" {
		t.Errorf("after the first misfire: %+v", st)
	}
	save()
	// The clock stepped back past midnight: still the same real day.
	if kept, err := s.Misfire(time.UTC, "2026-11-20", now.Add(-20*time.Minute), "b1", true); !kept || err != nil {
		t.Fatalf("second misfire, clock stepped back: kept %v, %v; want the mark kept", kept, err)
	}
	st, _ = s.Load(time.UTC)
	if !st.HasMark || st.Mark.BootID != "" || st.MisfireDate != "2026-11-25" {
		t.Errorf("after the second misfire: mark %v (boot %q), misfire_date %q; want the mark kept without a boot id",
			st.HasMark, st.Mark.BootID, st.MisfireDate)
	}
	// A person's cancel is not counted: the mark goes.
	if kept, _ := s.Misfire(time.UTC, "2026-11-20", now, "", false); kept {
		t.Errorf("a cancel kept the mark")
	}
	// Damage.
	p := filepath.Join(dir, RecordFile)
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	damaged := strings.Replace(string(b), "misfire_date=2026-11-25", "misfire_date=2026-11-2\x01", 1)
	if err := os.WriteFile(p, []byte(damaged), 0o644); err != nil {
		t.Fatal(err)
	}
	written := time.Date(2026, 11, 25, 0, 12, 0, 0, time.UTC)
	if err := os.Chtimes(p, written, written); err != nil {
		t.Fatal(err)
	}
	st, problems := s.Load(time.UTC)
	if st.MisfireDate != "2026-11-25" || len(problems) == 0 || !strings.Contains(problems[0].Error(), "misfire_date") {
		t.Errorf("damaged misfire_date: read %q, problems %v; want the day written and a problem", st.MisfireDate, problems)
	}
}

// TestForgetMisfires: `midnight-reset -force` (Store.Forget) is a person's
// override after fixing REBOOT_CMD: it forgets today's reboot and today's
// misfires with it. The next SOS reboots the host, also in a boot other
// than the misfire's (the person rebooted by hand, then ran -force: the
// misfire's boot must not make the day look spent again), and a misfire
// of that try is the day's first again: the mark is torn, not kept.
func TestForgetMisfires(t *testing.T) {
	dir := t.TempDir()
	s := Store{Mark: filepath.Join(dir, "mark"), StateDir: dir}
	now := time.Date(2026, 11, 25, 10, 0, 0, 0, time.UTC)
	// Two misfires today in boot b1: the second kept the mark.
	kept := State{HasMark: true, Mark: state.Mark{Date: "2026-11-25", Time: now, Reason: "SOS count=10", Dated: true},
		LastReboot: "2026-11-25", MisfireDate: "2026-11-25", MisfireBoot: "b1"}
	if err := s.Save(State{}, kept); err != nil {
		t.Fatal(err)
	}
	if changed, err := s.Forget(time.UTC); !changed || err != nil {
		t.Fatalf("Forget = %v, %v; want changed", changed, err)
	}
	st, problems := s.Load(time.UTC)
	if st.HasMark || st.LastReboot != "" || st.MisfireDate != "" || st.MisfireBoot != "" || len(problems) != 0 {
		t.Errorf("after -force: mark %v, last_reboot_date %q, misfire_date %q, misfire_boot %q, problems %v; want all forgotten",
			st.HasMark, st.LastReboot, st.MisfireDate, st.MisfireBoot, problems)
	}
	step := Decide(config.Default(config.Host), st, full(func(o *Obs) { o.Now, o.BootID = now.Add(30*time.Minute), "b2" }))
	if step.Action != HostReboot {
		t.Fatalf("after -force, SOS in boot b2: %v (log: %s); want the host reboot", step.Action, msgs(step))
	}
	if err := s.Save(st, step.Next); err != nil {
		t.Fatal(err)
	}
	if kept, err := s.Misfire(time.UTC, st.LastReboot, now.Add(31*time.Minute), "b2", true); kept || err != nil {
		t.Errorf("a misfire after -force: kept %v, %v; want the mark torn (the day's first misfire)", kept, err)
	}
}

// TestMisfireKeepsRouterClock: a host reboot for a hung router VM that
// misfires (【回退】, "在下个检测周期重试") is tried again at the next run
// of the same boot. The reboot's decision used to clear the clock of the
// router's silence, saved before the reboot: after the misfire the VM,
// still hung in the same boot, had to be silent ROUTER_HUNG_AFTER again,
// and the retry came 25 minutes late.
func TestMisfireKeepsRouterClock(t *testing.T) {
	cfg := config.Default(config.Host)
	cfg.VMID = "100"
	dir := t.TempDir()
	s := Store{Mark: filepath.Join(dir, "mark"), StateDir: dir}
	today := Today(t0)
	if err := s.Save(State{}, State{VMRestartDate: today, DownSince: t0.Add(-time.Hour),
		RouterDownSince: t0.Add(-30 * time.Minute), RouterErr: "timeout"}); err != nil {
		t.Fatal(err)
	}
	obs := func(now time.Time) Obs {
		return full(func(o *Obs) {
			o.Now, o.Router, o.LANUp = now, Router{Err: "timeout", ErrKind: "timeout"}, false
			o.VMConfigKnown, o.VMConfig = true, VMConfig{HostPCI: []string{"hostpci0"}}
		})
	}
	run := func(now time.Time) Step {
		t.Helper()
		st, _ := s.Load(cst)
		step := Decide(cfg, st, obs(now))
		if !step.Silent {
			if err := s.Save(st, step.Next); err != nil {
				t.Fatal(err)
			}
		}
		return step
	}
	if step := run(t0); step.Action != HostReboot {
		t.Fatalf("%s: %v (log: %s); want the host reboot", t0.Format("15:04"), step.Action, msgs(step))
	}
	if _, err := s.Misfire(cst, "", t0.Add(time.Minute), "boot1", true); err != nil {
		t.Fatal(err)
	}
	now := t0.Add(5 * time.Minute)
	if step := run(now); step.Action != HostReboot {
		t.Errorf("%s, the next run after the misfire (same boot): %v (log: %s); want the host reboot tried again",
			now.Format("15:04"), step.Action, msgs(step))
	}
}

// TestMisfireBootIDUnread: the boot id that tells a misfire from a slow
// shutdown that landed late, unread.
//   - At the misfire (hostcheck passes "" when sysinfo.BootID fails): the
//     record said no misfire at all, and the new boot's first run, the
//     slow shutdown having landed, rebooted the host a second time that
//     day. Recorded "unknown", the day counts as spent.
//   - Only at a later run: that run holds the reboot and saves nothing of
//     it; the day was committed as spent, and the run after, reading the
//     same boot id again (no reboot happened), never retried.
func TestMisfireBootIDUnread(t *testing.T) {
	cfg := config.Default(config.Host)
	at := func(hm string) time.Time {
		tm, _ := time.ParseInLocation("2006-01-02 15:04", "2026-11-25 "+hm, cst)
		return tm
	}
	for _, tc := range []struct {
		name             string
		misfireBoot      string // what hostcheck passes to Misfire
		runs             []string
		wantLastReboot   bool // a host reboot decided by the last run
		wantUnreadLogged bool
	}{
		{"unread at the misfire, the reboot landed late", "", []string{"boot1"}, false, true},
		{"unread once after the misfire, then read: the retry", "boot0", []string{"unknown", "boot0"}, true, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			s := Store{Mark: filepath.Join(dir, "mark"), StateDir: dir}
			st, _ := s.Load(cst)
			step := Decide(cfg, st, full(func(o *Obs) { o.Now, o.BootID = at("10:00"), "boot0" }))
			if step.Action != HostReboot {
				t.Fatalf("10:00: %v; want the host reboot", step.Action)
			}
			if err := s.Save(st, step.Next); err != nil {
				t.Fatal(err)
			}
			if _, err := s.Misfire(cst, "", at("10:02"), tc.misfireBoot, true); err != nil {
				t.Fatal(err)
			}
			logged := false
			for i, boot := range tc.runs {
				now := at("10:05").Add(time.Duration(i) * 5 * time.Minute)
				st, _ := s.Load(cst)
				step = Decide(cfg, st, full(func(o *Obs) { o.Now, o.BootID = now, boot }))
				logged = logged || strings.Contains(msgs(step), "无法读取开机 ID")
				if i < len(tc.runs)-1 && step.Action == HostReboot {
					t.Errorf("%s, boot id %s: a host reboot on a guess (log: %s)", now.Format("15:04"), boot, msgs(step))
				}
				if !step.Silent {
					if err := s.Save(st, step.Next); err != nil {
						t.Fatal(err)
					}
				}
			}
			if got := step.Action == HostReboot; got != tc.wantLastReboot {
				t.Errorf("the last run: %v (log: %s); want a host reboot %v", step.Action, msgs(step), tc.wantLastReboot)
			}
			if logged != tc.wantUnreadLogged {
				t.Errorf("the unread boot id told: %v; want %v", logged, tc.wantUnreadLogged)
			}
		})
	}
}

// TestBootClockKeptMark: with the uptime unread, a mark kept after a
// second misfire (no boot id: no reboot happened) is no boot: the clock of
// the router's silence is kept, and the hung VM's step is not put off by
// another ROUTER_HUNG_AFTER.
func TestBootClockKeptMark(t *testing.T) {
	cfg := config.Default(config.Host)
	cfg.VMID = "100"
	today := Today(t0)
	st := State{LastReboot: today, HasMark: true, Mark: state.Mark{Date: today, Time: t0.Add(-10 * time.Minute), Dated: true},
		DownSince: t0.Add(-time.Hour), RouterDownSince: t0.Add(-25 * time.Minute), RouterErr: "timeout"}
	s := Decide(cfg, st, full(func(o *Obs) {
		o.Uptime, o.UptimeUnknown = 0, true
		o.Router, o.LANUp = Router{Err: "timeout", ErrKind: "timeout"}, false
	}))
	if !s.Next.RouterDownSince.Equal(st.RouterDownSince) {
		t.Errorf("router_down_since %v; want %v kept (the kept mark is no boot)", s.Next.RouterDownSince, st.RouterDownSince)
	}
}

// TestMisfireLandsAfterMidnight: a reboot ordered at 23:45 misfires (its
// shutdown only slow) and lands at 00:10: the new day's first run counts
// that day as the reboot's too, not only the misfire's (counted the day
// before, the new day allowed a second host reboot at 10:00).
func TestMisfireLandsAfterMidnight(t *testing.T) {
	cfg := config.Default(config.Host)
	dir := t.TempDir()
	s := Store{Mark: filepath.Join(dir, "mark"), StateDir: dir}
	at := func(day int, hm string) time.Time {
		tm, _ := time.ParseInLocation("2006-01-02 15:04", fmt.Sprintf("2026-11-%02d %s", day, hm), cst)
		return tm
	}
	run := func(now time.Time, boot string, up time.Duration) Step {
		t.Helper()
		st, _ := s.Load(cst)
		step := Decide(cfg, st, full(func(o *Obs) { o.Now, o.BootID, o.Uptime = now, boot, up }))
		if !step.Silent {
			if err := s.Save(st, step.Next); err != nil {
				t.Fatal(err)
			}
		}
		return step
	}
	if step := run(at(25, "23:45"), "boot0", 48*time.Hour); step.Action != HostReboot {
		t.Fatalf("23:45: %v; want the host reboot", step.Action)
	}
	if _, err := s.Misfire(cst, "", at(25, "23:50"), "boot0", true); err != nil {
		t.Fatal(err)
	}
	_ = os.Remove(s.Mark)                        // midnight-reset, had a mark been left
	run(at(26, "00:15"), "boot1", 5*time.Minute) // the shutdown landed at 00:10
	if step := run(at(26, "10:00"), "boot1", 9*time.Hour+50*time.Minute); step.Action == HostReboot {
		t.Errorf("10:00 the day the misfire's reboot landed: a second host reboot that day (log: %s)", msgs(step))
	}
}

// TestLandingAfterClockStep: a misfire at 23:50 whose shutdown lands 20
// minutes later, the clock after the boot a day ahead (23h40m: the boot
// reads 00:10 two days after the misfire): the landing counts, and no
// second reboot comes that (clock) day.
func TestLandingAfterClockStep(t *testing.T) {
	cfg := config.Default(config.Host)
	st := State{MisfireDate: "2026-11-25", MisfireBoot: "boot0", DownSince: time.Date(2026, 11, 25, 23, 0, 0, 0, cst)}
	boot := time.Date(2026, 11, 27, 0, 10, 0, 0, cst)
	for up := 5 * time.Minute; up <= 30*time.Minute; up += 5 * time.Minute {
		s := Decide(cfg, st, full(func(o *Obs) { o.Now, o.BootID, o.Uptime = boot.Add(up), "boot1", up }))
		if s.Action == HostReboot {
			t.Fatalf("host reboot %v into the boot that a misfire's slow shutdown brought (log: %s)", up, msgs(s))
		}
		st = s.Next
	}
}

// TestBootIDUnreadAfterMidnightLanding: a misfire at 23:50 whose shutdown
// may have landed at 00:10, today's reboot then (landed): a run of the new
// day that cannot read the boot id holds the host's reboot, as a run of
// the misfire's own day does; it rebooted the host a second time that day.
// The hold lasts as long as a boot may count as the landing (couldLand:
// the day after the misfire's, and the day after that by a clock stepped
// forward), and no longer.
func TestBootIDUnreadAfterMidnightLanding(t *testing.T) {
	cfg := config.Default(config.Host)
	st := State{MisfireDate: "2026-11-25", MisfireBoot: "boot0", DownSince: time.Date(2026, 11, 25, 23, 0, 0, 0, cst)}
	for _, tc := range []struct {
		now  time.Time
		hold bool
	}{
		{time.Date(2026, 11, 26, 0, 40, 0, 0, cst), true},
		{time.Date(2026, 11, 27, 0, 40, 0, 0, cst), true}, // a clock a day ahead may show the landing so
		{time.Date(2026, 11, 28, 0, 40, 0, 0, cst), false},
	} {
		s := Decide(cfg, st, full(func(o *Obs) { o.Now, o.BootID, o.Uptime = tc.now, "unknown", 30*time.Minute }))
		held := strings.Contains(msgs(s), "【推迟】无法读取开机 ID")
		if held != tc.hold || held == (s.Action == HostReboot) {
			t.Errorf("%s, boot id unread, 11-25 23:50's misfire: %v (log: %s); want held %v", tc.now.Format("01-02 15:04"), s.Action, msgs(s), tc.hold)
		}
	}
}

// TestMisfireRecordUnread: a misfire while hostcheck.state cannot be read
// (EIO) records nothing (Save keeps an unread record as it is): the mark
// stays and Misfire says why. It tore the mark and returned no error, and
// the run said 【回退】, a retry that never came.
func TestMisfireRecordUnread(t *testing.T) {
	dir := t.TempDir()
	s := Store{Mark: filepath.Join(dir, "mark"), StateDir: dir}
	now := time.Date(2026, 11, 25, 10, 0, 0, 0, cst)
	mark := state.Mark{Date: Today(now), Time: now, BootID: "boot0", Dated: true, Reason: "SOS"}
	if err := s.Save(State{}, State{HasMark: true, Mark: mark, LastReboot: Today(now)}); err != nil {
		t.Fatal(err)
	}
	s.readRecord = func(p string) (state.Record, bool, error) {
		return nil, false, &fs.PathError{Op: "read", Path: p, Err: syscall.EIO}
	}
	kept, err := s.Misfire(cst, "", now.Add(2*time.Minute), "boot0", true)
	if err == nil || !strings.Contains(err.Error(), "could not be read, so the mark stays") {
		t.Errorf("Misfire with the record unread = %v, %v; want the error that keeps the mark", kept, err)
	}
	if _, err := os.Stat(s.Mark); err != nil {
		t.Errorf("the mark after it: %v; want it kept", err)
	}
}

// TestBootIDUnreadHoldEnds: with the boot id unread, the host's reboot is
// held only while a landing could still count against today (the
// misfire's day and the two after) and only for a boot the uptime cannot
// place before the misfire beyond a clock step of a day. It was held on
// every later day, the id unread, while status said the host may step
// in. A misfire whose boot id was unread, in a boot that began days
// before it, is that boot's: its id is learnt and the day keeps its
// retry (counted as landed, the day was lost).
func TestBootIDUnreadHoldEnds(t *testing.T) {
	cfg := config.Default(config.Host)
	at := func(d, h int) time.Time { return time.Date(2026, 11, d, h, 0, 0, 0, cst) }
	for _, tc := range []struct {
		name        string
		misfireBoot string
		now         time.Time
		boot        string
		uptime      time.Duration
		wantReboot  bool
	}{
		{"the misfire's day, a boot since", "boot0", at(25, 14), "unknown", 2 * time.Hour, false},
		{"the misfire's own boot, up 40 days", "boot0", at(25, 14), "unknown", 40 * 24 * time.Hour, true},
		{"three days on, the boot the misfire did not end", "boot0", at(28, 14), "unknown", 3*24*time.Hour + 6*time.Hour, true},
		{"a month on", "boot0", time.Date(2026, 12, 25, 14, 0, 0, 0, cst), "unknown", 30 * 24 * time.Hour, true},
		{"unread at the misfire, its own boot, up 40 days", "unknown", at(25, 14), "boot0", 40 * 24 * time.Hour, true},
		{"unread at the misfire, a boot since", "unknown", at(25, 14), "boot1", 2 * time.Hour, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			st := State{MisfireDate: "2026-11-25", MisfireBoot: tc.misfireBoot, DownSince: tc.now.Add(-time.Hour)}
			s := Decide(cfg, st, full(func(o *Obs) { o.Now, o.BootID, o.Uptime = tc.now, tc.boot, tc.uptime }))
			if got := s.Action == HostReboot; got != tc.wantReboot {
				t.Errorf("%v (log: %s); want a host reboot %v", s.Action, msgs(s), tc.wantReboot)
			}
			if tc.misfireBoot == "unknown" && tc.wantReboot && s.Next.MisfireBoot != tc.boot {
				t.Errorf("misfire boot %q; want %q learnt", s.Next.MisfireBoot, tc.boot)
			}
		})
	}
}
