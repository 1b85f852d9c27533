package main

import (
	"cmp"
	"context"
	"errors"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/pve-op/network-rescue/internal/command"
	"github.com/pve-op/network-rescue/internal/probe"
	"github.com/pve-op/network-rescue/internal/remote"
	"github.com/pve-op/network-rescue/internal/rescue"
	"github.com/pve-op/network-rescue/state"
)

// TestRebootConfirm: SPEC §6 step 6 after REBOOT_CMD. systemd answers
// `systemctl is-system-running` with "stopping" once a shutdown is under
// way (systemctl(1), the table of manager operational states). A shutdown
// that is only slow (PVE stopping its guests) keeps the mark and waits
// for the SIGTERM that ends the run; REBOOT_CMD that changed nothing is
// followed by REBOOT_FALLBACK_CMD; both without effect are a misfire:
// 【严重错误】, 【回退】, the mark torn.
func TestRebootConfirm(t *testing.T) {
	const (
		rebootCmd   = "/usr/bin/systemctl reboot" // REBOOT_CMD's default
		fallbackCmd = "/usr/sbin/reboot"          // REBOOT_FALLBACK_CMD's default
		isRunning   = "/usr/bin/systemctl is-system-running"
	)
	for _, tt := range []struct {
		name     string
		stops    string // the command after which systemd is stopping ("" none)
		wantRan  []string
		wantLog  []string
		wantMark bool
	}{
		{name: "REBOOT_CMD, a slow shutdown", stops: rebootCmd,
			wantRan:  []string{rebootCmd, isRunning, isRunning},
			wantLog:  []string{"系统正在关机，等待。"},
			wantMark: true},
		{name: "REBOOT_CMD without effect, REBOOT_FALLBACK_CMD works", stops: fallbackCmd,
			wantRan:  []string{rebootCmd, isRunning, fallbackCmd, isRunning},
			wantLog:  []string{"【警告】重启命令未生效，执行备用重启命令。", "系统正在关机，等待。"},
			wantMark: true},
		{name: "neither has an effect: misfire",
			wantRan: []string{rebootCmd, isRunning, fallbackCmd, isRunning},
			wantLog: []string{"【警告】重启命令未生效，执行备用重启命令。", "【严重错误】检测到 PVE 未能成功重启！命令执行失效。", "【回退】正在撕毁免死金牌"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			var ran []string
			system := "running"
			h := testHost(t, func(_ context.Context, cmdline string, _ time.Duration) command.Result {
				ran = append(ran, cmdline)
				if cmdline == isRunning {
					if system == "stopping" {
						// The shutdown's SIGTERM reaches the run a little
						// later, ending its wait.
						time.AfterFunc(100*time.Millisecond, cancel)
					}
					return command.Result{Cmd: cmdline, Stdout: system + "\n"}
				}
				if cmdline == tt.stops {
					system = "stopping"
				}
				return command.Result{Cmd: cmdline}
			})
			h.cfg.RebootConfirm = time.Millisecond
			var log strings.Builder
			h.log = slog.New(slog.NewTextHandler(&log, nil))
			now := time.Date(2026, 11, 25, 10, 0, 0, 0, time.UTC)
			h.e.Now = func() time.Time { return now }
			dir := t.TempDir()
			h.cfg.StateDir = dir
			store := rescue.Store{Mark: filepath.Join(dir, "mark"), StateDir: dir, Now: h.e.Now}
			mark := state.Mark{Date: "2026-11-25", Time: now, BootID: "boot", Reason: "SOS count=10", Dated: true}
			if err := store.Save(rescue.State{}, rescue.State{HasMark: true, Mark: mark, LastReboot: "2026-11-25"}); err != nil {
				t.Fatal(err)
			}
			err := h.reboot(ctx, store, mark, "2026-11-20", routerSync{SOS: true})
			if got, want := strings.Join(ran, "; "), strings.Join(tt.wantRan, "; "); got != want {
				t.Errorf("commands: %q; want %q", got, want)
			}
			rest := log.String()
			for _, w := range tt.wantLog {
				i := strings.Index(rest, w)
				if i < 0 {
					t.Errorf("log lacks %q (in order):\n%s", w, log.String())
					break
				}
				rest = rest[i+len(w):]
			}
			st, _ := store.Load(time.UTC)
			if tt.wantMark {
				if err != nil || !st.HasMark || st.LastReboot != "2026-11-25" || strings.Contains(log.String(), "【回退】") {
					t.Errorf("reboot = %v, mark %v, last_reboot_date %q; want a quiet end, the mark kept, no 【回退】:\n%s", err, st.HasMark, st.LastReboot, log.String())
				}
				return
			}
			if err == nil || st.HasMark || st.LastReboot != "2026-11-20" {
				t.Errorf("reboot = %v, mark %v, last_reboot_date %q; want an error, the mark torn, the day before back", err, st.HasMark, st.LastReboot)
			}
		})
	}
}

// vmWontStart readies h for a whole run (h.check) whose one step left is
// the host's reboot: the internet down for 20 minutes, the router VM
// stopped (`qm status` in PVE/CLI/qm.pm's shape, see qm.TestParseStatus)
// with today's VM_START_MAX starts spent (SPEC §13 rule 5). Every command
// is recorded in ran; on answers the others (nil: success, no output).
// The run's clock reads *now (10:00 at first), and a SIGTERM reaches the
// run when stop is called.
func vmWontStart(t *testing.T, on func(cmdline string) command.Result) (h *host, now *time.Time, ran *[]string, stop *context.CancelFunc, log *strings.Builder) {
	t.Helper()
	now, ran, stop = new(time.Time), new([]string), new(context.CancelFunc)
	*now = time.Date(2026, 11, 25, 10, 0, 0, 0, time.UTC)
	h = testHost(t, func(_ context.Context, cmdline string, _ time.Duration) command.Result {
		*ran = append(*ran, cmdline)
		switch {
		case strings.HasSuffix(cmdline, "qm status 100 --verbose"):
			return command.Result{Cmd: cmdline, Stdout: "name: openwrt\nqmpstatus: stopped\nstatus: stopped\nvmid: 100\n"}
		case on != nil:
			return on(cmdline)
		}
		return command.Result{Cmd: cmdline}
	})
	dir, log := checkable(t, h)
	h.e.Now = func() time.Time { return *now }
	h.e.Probe = func(context.Context, probe.Config) probe.Result { return probe.Result{Up: false} }
	h.corosync, h.vzdumpLock, h.procRoot = []string{filepath.Join(dir, "no-corosync")}, filepath.Join(dir, "no-lock"), t.TempDir()
	h.e.Signals = func(parent context.Context) (context.Context, context.CancelFunc) {
		ctx, cancel := context.WithCancel(parent)
		*stop = cancel
		return ctx, cancel
	}
	if err := h.store().Save(rescue.State{}, rescue.State{DownSince: now.Add(-20 * time.Minute), VMStartDate: "2026-11-25", VMStarts: 3}); err != nil {
		t.Fatal(err)
	}
	return h, now, ran, stop, log
}

// immutable makes h's STATE_DIR immutable (chattr +i: root cannot write
// in it either), as a full or read-only disk refuses hostcheck.state, until
// the test ends; it skips the test where that cannot be done.
func immutable(t *testing.T, h *host) {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("skipping: chattr +i needs root (CI runs as root)")
	}
	if out, err := exec.Command("chattr", "+i", h.cfg.StateDir).CombinedOutput(); err != nil {
		t.Skipf("skipping: chattr +i %s: %v %s (a file system without the immutable flag)", h.cfg.StateDir, err, out)
	}
	t.Cleanup(func() { _ = exec.Command("chattr", "-i", h.cfg.StateDir).Run() })
}

// TestMarkOnDiskBeforeReboot: the run saves the mark (and
// last_reboot_date) before REBOOT_CMD runs (SPEC §6 step 6: "write the
// mark … first"), so a host that goes down at once still finds today's
// reboot when it comes back. The router VM will not start, the host's
// reboot is all that is left; REBOOT_CMD here reads the mark as the
// booted host would, then the shutdown's SIGTERM ends the run.
func TestMarkOnDiskBeforeReboot(t *testing.T) {
	var (
		sawMark   state.Mark
		sawOK     bool
		sawRecord rescue.State
		h         *host
		stop      *context.CancelFunc
	)
	h, _, ran, stop, log := vmWontStart(t, func(cmdline string) command.Result {
		if cmdline == "/usr/bin/systemctl reboot" {
			var err error
			if sawMark, sawOK, err = state.ReadMark(h.store().Mark, time.UTC); err != nil {
				t.Errorf("REBOOT_CMD reads the mark: %v", err)
			}
			sawRecord, _ = h.store().Load(time.UTC)
			(*stop)() // the shutdown reaches the run
		}
		return command.Result{Cmd: cmdline}
	})
	if err := h.check(context.Background()); err != nil {
		t.Errorf("check = %v; want a quiet end (the shutdown reached the run)", err)
	}
	if !slices.Contains(*ran, "/usr/bin/systemctl reboot") {
		t.Fatalf("commands %q; want REBOOT_CMD:\n%s", *ran, log.String())
	}
	if !sawOK || sawMark.Date != "2026-11-25" || sawMark.BootID != "boot" || !strings.Contains(sawMark.Reason, "VM 100 will not start") {
		t.Errorf("mark seen by REBOOT_CMD: %v %+v; want today's mark with the boot id and the reason", sawOK, sawMark)
	}
	if sawRecord.LastReboot != "2026-11-25" {
		t.Errorf("last_reboot_date seen by REBOOT_CMD: %q; want 2026-11-25", sawRecord.LastReboot)
	}
	if _, err := os.Stat(h.store().Mark); err != nil {
		t.Errorf("the mark after the run: %v; want it kept", err)
	}
}

// TestRecordUnwritableStillReboots: the run writes today's mark, then
// hostcheck.state cannot be written (a full or read-only STATE_DIR; here
// the directory made immutable). The mark, the guard of one host reboot a
// day, is on disk: the run reboots and says the record failed. It used to
// stop there ("为防止重复重启，本次不执行动作") with the mark left standing:
// every later run of the day was silent, and the day's rescue gone
// without a reboot.
func TestRecordUnwritableStillReboots(t *testing.T) {
	var stop *context.CancelFunc
	h, _, ran, stop, log := vmWontStart(t, func(cmdline string) command.Result {
		if cmdline == "/usr/bin/systemctl reboot" {
			(*stop)() // the shutdown reaches the run
		}
		return command.Result{Cmd: cmdline}
	})
	immutable(t, h)
	err := h.check(context.Background())
	if err == nil || !strings.Contains(err.Error(), "save state") {
		t.Errorf("check = %v; want the record's failure (exit 1: cron mails it)", err)
	}
	if !slices.Contains(*ran, "/usr/bin/systemctl reboot") {
		t.Fatalf("commands %q; want REBOOT_CMD, the mark being on disk:\n%s", *ran, log.String())
	}
	if !strings.Contains(log.String(), "【严重错误】状态记录无法保存；今日重启标记已写入，照常重启 PVE 物理机") {
		t.Errorf("log lacks the record's failure:\n%s", log.String())
	}
	if m, ok, err := state.ReadMark(h.store().Mark, time.UTC); !ok || err != nil || m.Date != "2026-11-25" {
		t.Errorf("the mark after the run: %+v %v %v; want today's", m, ok, err)
	}
}

// TestRecordUnwritableMisfire: with hostcheck.state unwritable the day's
// reboot goes ahead on its mark, and misfires (systemd still running after
// REBOOT_CMD and its fallback). Misfire tore the mark first and could not
// record the try: the next run found a fresh day and tried again, every
// run, and a slow shutdown landing later left nothing to count it. The
// mark now stays (the record could not be written): one try that day,
// also when the shutdown lands.
func TestRecordUnwritableMisfire(t *testing.T) {
	h, now, ran, _, log := vmWontStart(t, func(cmdline string) command.Result {
		if strings.HasSuffix(cmdline, "is-system-running") {
			return command.Result{Cmd: cmdline, Stdout: "running\n"}
		}
		return command.Result{Cmd: cmdline}
	})
	immutable(t, h)
	var events []string
	h.cfg.OnEventCmd = "/usr/local/bin/my-hook"
	h.e.ExecEnv = func(_ context.Context, cmdline string, _ time.Duration, env []string) command.Result {
		events = append(events, strings.TrimPrefix(env[0], "NETRESCUE_EVENT="))
		return command.Result{Cmd: cmdline}
	}
	reboots := func() int { return strings.Count(strings.Join(*ran, "\n")+"\n", "/usr/bin/systemctl reboot\n") }
	for range 4 {
		_ = h.check(context.Background())
		*now = now.Add(5 * time.Minute)
	}
	if n := reboots(); n != 1 {
		t.Errorf("REBOOT_CMD ran %d times in 4 runs with the record unwritable; want once, the mark kept:\n%s", n, log.String())
	}
	if _, err := os.Stat(h.store().Mark); err != nil {
		t.Errorf("the mark after the misfire: %v; want it kept", err)
	}
	// Told as a misfire: ON_EVENT_CMD had heard host-reboot.
	if !strings.Contains(log.String(), "【严重错误】PVE 未能成功重启，且无法记录这次未生效的重启") || !slices.Equal(events, []string{"host-reboot", "misfire"}) {
		t.Errorf("the unrecorded misfire: ON_EVENT_CMD heard %q; want host-reboot, misfire, and the log to say it:\n%s", events, log.String())
	}
	// The slow shutdown lands: the new boot's runs that day reboot nothing.
	h.e.BootID = func() (string, error) { return "boot2", nil }
	h.e.Uptime = func() (time.Duration, error) { return 10 * time.Minute, nil }
	_ = os.RemoveAll(h.cfg.RunDir)
	for range 3 {
		_ = h.check(context.Background())
		*now = now.Add(5 * time.Minute)
	}
	if n := reboots(); n != 1 {
		t.Errorf("REBOOT_CMD ran %d times that day, with the first try's shutdown landed; want once", n)
	}
}

// TestMisfireHookOutage: ON_EVENT_CMD's misfire event carries how long the
// internet has been down (SPEC §16: NETRESCUE_OUTAGE_SECONDS), as every
// other event of an outage does; it always said 0. Down since 07:00, the
// reboot misfires at 10:00: 10800 seconds, the first misfire of the day,
// the second, and a reboot cancelled by a signal alike; an outage start
// after now (a clock set back) is 0, never negative.
func TestMisfireHookOutage(t *testing.T) {
	now := time.Date(2026, 11, 25, 10, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		name      string
		downSince time.Time
		misfired  string // MisfireDate before: today makes it the second
		cancel    bool
		want      string
		detail    string // in NETRESCUE_DETAIL
		event     string // NETRESCUE_EVENT; misfire unless set
	}{
		{name: "misfire", downSince: now.Add(-3 * time.Hour), want: "NETRESCUE_OUTAGE_SECONDS=10800"},
		{name: "second misfire today", downSince: now.Add(-3 * time.Hour), misfired: "2026-11-25", want: "NETRESCUE_OUTAGE_SECONDS=10800", detail: "the second time today"},
		{name: "cancelled by a signal", downSince: now.Add(-3 * time.Hour), cancel: true, want: "NETRESCUE_OUTAGE_SECONDS=10800", event: "reboot-cancelled"},
		{name: "outage start after now", downSince: now.Add(time.Hour), want: "NETRESCUE_OUTAGE_SECONDS=0"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := testHost(t, func(_ context.Context, cmdline string, _ time.Duration) command.Result {
				if strings.HasSuffix(cmdline, "is-system-running") {
					return command.Result{Cmd: cmdline, Stdout: "running\n"}
				}
				return command.Result{Cmd: cmdline} // the reboot commands return and nothing happens
			})
			var events [][]string
			h.cfg.OnEventCmd = "/usr/local/bin/my-hook"
			h.e.ExecEnv = func(_ context.Context, cmdline string, _ time.Duration, env []string) command.Result {
				events = append(events, env)
				return command.Result{Cmd: cmdline}
			}
			dir := t.TempDir()
			h.cfg.StateDir, h.cfg.RebootConfirm = dir, time.Millisecond
			h.e.Now = func() time.Time { return now }
			store := rescue.Store{Mark: filepath.Join(dir, "mark"), StateDir: dir}
			mark := state.Mark{Date: "2026-11-25", Time: now, BootID: "b", Reason: "SOS count=10", Dated: true}
			before := rescue.State{DownSince: tc.downSince, MisfireDate: tc.misfired}
			after := before
			after.HasMark, after.Mark, after.LastReboot = true, mark, "2026-11-25"
			if err := store.Save(before, after); err != nil {
				t.Fatal(err)
			}
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			if tc.cancel {
				h.cfg.RebootDelay = time.Hour
				cancel() // Ctrl-C during REBOOT_DELAY
			}
			if err := h.reboot(ctx, store, mark, "", routerSync{SOS: true}); err == nil {
				t.Fatalf("reboot that did not happen = nil; want an error")
			}
			event := cmp.Or(tc.event, "misfire")
			if len(events) != 1 || !slices.Contains(events[0], "NETRESCUE_EVENT="+event) || !slices.Contains(events[0], tc.want) {
				t.Errorf("ON_EVENT_CMD's environments: %q; want one %s event with %s", events, event, tc.want)
			}
			if len(events) == 1 && !strings.Contains(strings.Join(events[0], "\n"), tc.detail) {
				t.Errorf("ON_EVENT_CMD's environment: %q; want NETRESCUE_DETAIL with %q", events[0], tc.detail)
			}
		})
	}
}

// TestMisfireBootIDFromTheRun: the misfire records the boot id the run
// read when it began (the mark's), not a second read at the misfire: one
// failed read there recorded "unknown", which counts the misfire's day as
// spent, and a reboot that never happened was not retried all day.
func TestMisfireBootIDFromTheRun(t *testing.T) {
	now := time.Date(2026, 11, 25, 10, 0, 0, 0, time.UTC)
	h := testHost(t, func(_ context.Context, cmdline string, _ time.Duration) command.Result {
		if strings.HasSuffix(cmdline, "is-system-running") {
			return command.Result{Cmd: cmdline, Stdout: "running\n"}
		}
		return command.Result{Cmd: cmdline} // the reboot commands return and nothing happens
	})
	dir := t.TempDir()
	h.cfg.StateDir, h.cfg.RebootConfirm = dir, time.Millisecond
	h.e.Now = func() time.Time { return now }
	h.e.BootID = func() (string, error) {
		return "", errors.New("read /proc/sys/kernel/random/boot_id: input/output error")
	}
	store := rescue.Store{Mark: filepath.Join(dir, "mark"), StateDir: dir}
	mark := state.Mark{Date: "2026-11-25", Time: now, BootID: "boot0", Reason: "SOS count=10", Dated: true}
	if err := store.Save(rescue.State{}, rescue.State{HasMark: true, Mark: mark, LastReboot: "2026-11-25"}); err != nil {
		t.Fatal(err)
	}
	_ = h.reboot(context.Background(), store, mark, "", routerSync{SOS: true})
	st, _ := store.Load(time.UTC)
	if st.MisfireBoot != "boot0" || st.LastReboot != "" {
		t.Errorf("after the misfire: misfire_boot %q, last_reboot_date %q; want boot0 (the run's own boot) and none, for the retry", st.MisfireBoot, st.LastReboot)
	}
}

// TestStateUnwritableRecoveryOnce: the net comes back while STATE_DIR
// takes no write (immutable, as a root file system remounted read-only):
// nothing was to be done, so the runs say the failure and not what they
// found. They said 【恢复】 every five minutes, each counted by `report` as
// an outage, beside "为防止重复重启，本次不执行动作 action=none". Once
// STATE_DIR is writable again, the next run says 【恢复】 once.
func TestStateUnwritableRecoveryOnce(t *testing.T) {
	h, _, ran, _, log := vmWontStart(t, nil)
	h.e.Probe = func(context.Context, probe.Config) probe.Result { return probe.Result{Up: true, By: "198.51.100.1"} }
	h.cfg.DNSCheck = ""
	immutable(t, h)
	for range 3 {
		if err := h.check(context.Background()); err == nil || !strings.Contains(err.Error(), "save state") {
			t.Errorf("check = %v; want the record's failure (exit 1: cron mails it)", err)
		}
	}
	if n := strings.Count(log.String(), "【恢复】"); n != 0 || strings.Contains(log.String(), "为防止重复重启") ||
		strings.Count(log.String(), "【严重错误】状态无法保存：本次的检测结果待可写入时再记录") != 3 {
		t.Errorf("3 runs, STATE_DIR immutable: 【恢复】 %d times; want none, the failure each run:\n%s", n, log.String())
	}
	if out, err := exec.Command("chattr", "-i", h.cfg.StateDir).CombinedOutput(); err != nil {
		t.Fatalf("chattr -i: %v %s", err, out)
	}
	log.Reset()
	for range 2 {
		if err := h.check(context.Background()); err != nil {
			t.Errorf("check, writable again = %v", err)
		}
	}
	if n := strings.Count(log.String(), "【恢复】"); n != 1 || len(*ran) != 0 {
		t.Errorf("writable again, 2 runs: 【恢复】 %d times, ran %q; want once, nothing run:\n%s", n, *ran, log.String())
	}
}

// TestCancelledRebootNotCounted: a host reboot cancelled by a person's
// signal during REBOOT_DELAY, before REBOOT_CMD ran, is neither a reboot
// nor a misfire. METRICS_FILE's netrescue_host_reboots_total went +1
// (counted before the reboot) and stayed so, and ON_EVENT_CMD and
// NOTIFY_URL were told "misfire"; now the count is taken back and both
// hear reboot-cancelled.
func TestCancelledRebootNotCounted(t *testing.T) {
	h := testHost(t, func(_ context.Context, cmdline string, _ time.Duration) command.Result {
		if strings.HasSuffix(cmdline, "is-system-running") {
			return command.Result{Cmd: cmdline, Stdout: "running\n"}
		}
		return command.Result{Cmd: cmdline}
	})
	dir := t.TempDir()
	h.cfg.StateDir, h.cfg.RunDir, h.cfg.RebootDelay = dir, filepath.Join(dir, "run"), time.Hour
	h.cfg.MetricsFile, h.cfg.NotifyURL = filepath.Join(dir, "netrescue.prom"), "http://127.0.0.1:9/push"
	h.cfg.OnEventCmd = "/usr/local/bin/my-hook"
	var events []string
	h.e.ExecEnv = func(_ context.Context, cmdline string, _ time.Duration, env []string) command.Result {
		for _, kv := range env {
			if name, ok := strings.CutPrefix(kv, "NETRESCUE_EVENT="); ok {
				events = append(events, name)
			}
		}
		return command.Result{Cmd: cmdline}
	}
	now := testNow
	store := rescue.Store{Mark: filepath.Join(dir, "mark"), StateDir: dir}
	mark := state.Mark{Date: rescue.Today(now), Time: now, BootID: "boot", Reason: "test", Dated: true}
	next := rescue.State{HasMark: true, Mark: mark, LastReboot: rescue.Today(now)}
	if err := store.Save(rescue.State{}, next); err != nil {
		t.Fatal(err)
	}
	step := rescue.Step{Action: rescue.HostReboot, Next: next}
	obs := rescue.Obs{Now: now, NetKnown: true}
	ctx, cancel := context.WithCancel(context.Background())
	cancel() // Ctrl-C during REBOOT_DELAY
	if err := h.carryOut(ctx, store, rescue.State{}, obs, step, remote.RouterState{}); err == nil {
		t.Fatal("carryOut of a cancelled reboot = nil; want an error")
	}
	h.publish(context.Background(), step, obs, remote.RouterState{})
	prom, err := os.ReadFile(h.cfg.MetricsFile)
	if err != nil || !strings.Contains(string(prom), "\nnetrescue_host_reboots_total 0\n") {
		t.Errorf("METRICS_FILE = %v:\n%s\nwant netrescue_host_reboots_total 0 (no reboot was started)", err, prom)
	}
	if slices.Contains(events, "misfire") || !slices.Contains(events, "reboot-cancelled") {
		t.Errorf("ON_EVENT_CMD events %q; want reboot-cancelled, no misfire", events)
	}
	msgs, _ := h.queue().Load()
	for _, m := range msgs {
		if m.Event == "misfire" {
			t.Errorf("notification %+v; want no misfire", m)
		}
	}
}

// TestBootConfirmsOursOnly: `hostcheck boot` confirms the reboot the mark
// asked for once it comes (【确认】 with how long it took), and not a boot
// hours later the same day: a power cut after our reboot was confirmed,
// with a "took" of eleven hours, and so was a reboot by hand after a
// misfire that could not be recorded (its mark kept its boot id).
func TestBootConfirmsOursOnly(t *testing.T) {
	h := testHost(t, func(_ context.Context, c string, _ time.Duration) command.Result { return command.Result{Cmd: c} })
	_, log := checkable(t, h)
	day := time.Date(2026, 11, 25, 0, 0, 0, 0, time.UTC)
	mark := state.Mark{Date: "2026-11-25", Time: day.Add(3 * time.Hour), BootID: "bootA", Reason: "SOS", Dated: true}
	if err := state.WriteMark(h.cfg.PVEMark, mark); err != nil {
		t.Fatal(err)
	}
	boot := func(id string, now time.Time) string {
		h.e.Now = func() time.Time { return now }
		h.e.BootID = func() (string, error) { return id, nil }
		h.e.Uptime = func() (time.Duration, error) { return 3 * time.Minute, nil }
		log.Reset()
		if err := h.boot(context.Background()); err != nil {
			t.Fatal(err)
		}
		return log.String()
	}
	if got := boot("bootB", day.Add(3*time.Hour+5*time.Minute)); !strings.Contains(got, "【确认】物理机重启完成") || !strings.Contains(got, "took=2m0s") {
		t.Fatalf("our reboot, booted 2 minutes after it was asked: %s; want it confirmed, took=2m0s", got)
	}
	got := boot("bootC", day.Add(14*time.Hour+3*time.Minute))
	if strings.Contains(got, "【确认】") || !strings.Contains(got, "不是那次重启") {
		t.Errorf("a power cut at 14:00: %s; want it told as not our reboot", got)
	}
	if m, ok, err := state.ReadMark(h.cfg.PVEMark, time.UTC); !ok || err != nil || m.BootID != "bootB" {
		t.Errorf("the mark after the power cut: %+v %v %v; want it as our reboot's boot confirmed it", m, ok, err)
	}
}

// TestMisfireBootIDUnreadNoRetryPromised: a misfire whose boot id cannot
// be read, at the run or after the reboot commands, counts its day as
// spent (the next run cannot tell whether its slow shutdown lands yet):
// the 【回退】 line and the owner's message say so. They promised a retry
// at the next cycle, which never came.
func TestMisfireBootIDUnreadNoRetryPromised(t *testing.T) {
	h := testHost(t, func(_ context.Context, cmdline string, _ time.Duration) command.Result {
		if strings.HasSuffix(cmdline, "is-system-running") {
			return command.Result{Cmd: cmdline, Stdout: "running\n"}
		}
		return command.Result{Cmd: cmdline}
	})
	_, log := checkable(t, h)
	h.cfg.RebootConfirm, h.cfg.VMID, h.cfg.NotifyURL = time.Millisecond, "", "http://127.0.0.1:9/push"
	h.e.BootID = func() (string, error) { return "", errors.New("read boot_id: EIO") }
	store := h.store()
	mark := state.Mark{Date: "2026-11-25", Time: testNow, BootID: "unknown", Reason: "SOS count=10", Dated: true}
	if err := store.Save(rescue.State{}, rescue.State{HasMark: true, Mark: mark, LastReboot: "2026-11-25"}); err != nil {
		t.Fatal(err)
	}
	if err := h.reboot(context.Background(), store, mark, "", routerSync{SOS: true}); err == nil {
		t.Fatal("reboot = nil; want the misfire's error")
	}
	if !strings.Contains(log.String(), "【回退】正在撕毁免死金牌；但开机 ID 无法读取") || strings.Contains(log.String(), "以便在下个检测周期重试") {
		t.Errorf("log:\n%s\nwant the 【回退】 line saying no retry today", log.String())
	}
	if got := strings.Join(queued(t, h), "\n"); !strings.Contains(got, "今天按已重启计，不再重试") {
		t.Errorf("queued %q; want the owner told no retry today", got)
	}
}

// TestStaleMarkResetSaid: yesterday's mark with hostcheck.state that cannot
// be written (STATE_DIR immutable), the net back: the run says the save
// failed and leaves the mark, and the first run that can save removes it
// and says 【重置】. Removed first by the Save that then failed, it went
// unsaid for good.
func TestStaleMarkResetSaid(t *testing.T) {
	h, now, _, _, log := vmWontStart(t, nil)
	h.e.Probe = func(context.Context, probe.Config) probe.Result { return probe.Result{Up: true, By: "198.51.100.1"} }
	h.cfg.DNSCheck = ""
	y := now.AddDate(0, 0, -1)
	if err := state.WriteMark(h.cfg.PVEMark, state.Mark{Date: y.Format(state.DateLayout), Time: y, BootID: "boot", Reason: "x", Dated: true}); err != nil {
		t.Fatal(err)
	}
	immutable(t, h)
	if err := h.check(context.Background()); err == nil {
		t.Errorf("check with STATE_DIR immutable = nil; want the save's failure")
	}
	if _, err := os.Stat(h.cfg.PVEMark); err != nil {
		t.Errorf("the stale mark after a run that could not save: %v; want it kept for the run that can", err)
	}
	if out, err := exec.Command("chattr", "-i", h.cfg.StateDir).CombinedOutput(); err != nil {
		t.Fatalf("chattr -i: %v %s", err, out)
	}
	*now = now.Add(5 * time.Minute)
	if err := h.check(context.Background()); err != nil {
		t.Errorf("check, writable again = %v", err)
	}
	if n := strings.Count(log.String(), "【重置】"); n != 1 {
		t.Errorf("【重置】 said %d times; want once:\n%s", n, log.String())
	}
}
