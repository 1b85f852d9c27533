package main

import (
	"context"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/pve-op/network-rescue/internal/command"
	"github.com/pve-op/network-rescue/internal/config"
	"github.com/pve-op/network-rescue/internal/probe"
	"github.com/pve-op/network-rescue/internal/remote"
	"github.com/pve-op/network-rescue/internal/rescue"
	"github.com/pve-op/network-rescue/internal/runenv"
	"github.com/pve-op/network-rescue/state"
)

// signalDuring is a command runner that cancels the run's context (a
// SIGTERM or Ctrl-C reaching hostcheck) while the command whose line
// contains at names runs, and records for every command whether the
// context it was given had been cancelled by then.
//
// qm keeps the VM's state as the real one would: stop stops it, start
// starts it, and `qm status VMID --verbose` answers in the shape
// PVE/CLI/qm.pm prints (see qm.TestParseStatus).
func signalDuring(at string, cancelRun context.CancelFunc, ran *[]string) func(context.Context, string, time.Duration) command.Result {
	vm := "running"
	return func(ctx context.Context, cmdline string, _ time.Duration) command.Result {
		if strings.Contains(cmdline, at) {
			cancelRun()
		}
		if ctx.Err() != nil {
			*ran = append(*ran, cmdline+" (killed)")
			return command.Result{Cmd: cmdline, Err: ctx.Err()}
		}
		*ran = append(*ran, cmdline)
		switch {
		case strings.Contains(cmdline, "qm status "):
			return command.Result{Cmd: cmdline, Stdout: "qmpstatus: " + vm + "\nstatus: " + vm + "\n"}
		case strings.Contains(cmdline, "qm stop "):
			vm = "stopped"
		case strings.Contains(cmdline, "qm start "):
			vm = "running"
		}
		return command.Result{Cmd: cmdline}
	}
}

// testHost is a host whose SSH fails before any packet (no key, no
// known_hosts) and whose log is discarded.
// testNow is the clock of testHost: a fixed time, never the machine's (a
// test run across midnight would find a new day between two runs).
var testNow = time.Date(2026, 11, 25, 10, 0, 0, 0, time.UTC)

func testHost(t *testing.T, exec func(context.Context, string, time.Duration) command.Result) *host {
	dir := t.TempDir()
	cfg := config.Default(config.Host)
	cfg.OpIP = "127.0.0.1"
	cfg.SSHKey, cfg.KnownHosts = filepath.Join(dir, "no-key"), filepath.Join(dir, "no-known-hosts")
	cfg.QM, cfg.VMID, cfg.RebootDelay, cfg.RebootConfirm = "/usr/sbin/qm", "100", 0, time.Second
	return &host{cfg: cfg, loc: time.UTC, log: slog.New(slog.NewTextHandler(io.Discard, nil)),
		e: runenv.Env{Exec: exec, Now: func() time.Time { return testNow }, BootID: func() (string, error) { return "boot", nil }}}
}

// checkable readies h for a whole run (h.check) in a temp dir of its own:
// state, RUN_DIR, mark and stderr there, a day's uptime, one boot. It
// returns the dir and the log the run writes.
func checkable(t *testing.T, h *host) (string, *strings.Builder) {
	t.Helper()
	dir := t.TempDir()
	h.cfg.StateDir, h.cfg.RunDir, h.cfg.PVEMark = filepath.Join(dir, "state"), filepath.Join(dir, "run"), filepath.Join(dir, "mark")
	log := &strings.Builder{}
	h.log = slog.New(slog.NewTextHandler(log, nil))
	stderr, err := os.Create(filepath.Join(dir, "stderr"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { stderr.Close() })
	h.e.Stderr = stderr
	h.e.Uptime = func() (time.Duration, error) { return 24 * time.Hour, nil }
	h.e.BootID = func() (string, error) { return "boot", nil }
	return dir, log
}

// TestVMRestartSurvivesSignal: a SIGTERM or Ctrl-C during `qm stop` must
// not leave the router VM stopped (the house offline): stop runs to
// completion and start still follows (SPEC §15, issue 9 item 12).
func TestVMRestartSurvivesSignal(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var ran []string
	h := testHost(t, signalDuring("qm stop", cancel, &ran))
	h.vmRestart(ctx, remote.RouterState{}, nil)
	if got, want := strings.Join(ran, "; "), "/usr/sbin/qm stop 100 --timeout 30; /usr/sbin/qm status 100 --verbose; /usr/sbin/qm start 100; /usr/sbin/qm status 100 --verbose"; got != want {
		t.Errorf("commands after a signal during qm stop: %q; want %q", got, want)
	}
}

// TestRebootCmdSurvivesSignal: REBOOT_CMD is not killed by a signal that
// arrives while it runs; the run then ends quietly, as when the shutdown
// reaches it (SPEC §6 step 6): no fallback, no misfire.
func TestRebootCmdSurvivesSignal(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var ran []string
	h := testHost(t, signalDuring("systemctl reboot", cancel, &ran))
	store := rescue.Store{Mark: filepath.Join(t.TempDir(), "mark"), StateDir: t.TempDir()}
	if err := h.reboot(ctx, store, state.Mark{Reason: "test"}, "", routerSync{SOS: true}); err != nil {
		t.Errorf("reboot after a signal = %v; want a quiet end", err)
	}
	if got, want := strings.Join(ran, "; "), "/usr/bin/systemctl reboot"; got != want {
		t.Errorf("commands: %q; want %q (run to completion, then nothing)", got, want)
	}
}

// TestSignalDuringProbeActsNot: a probe cut short by the caller's context
// is no outage: nothing is decided, written or run (an action, once
// started, runs to completion, so none may start from a cut-short probe).
// A real SIGTERM during the probe finds no handler and ends the process
// before it writes anything (SPEC §12; see TestHostSignalsCaughtOnlyToAct).
func TestSignalDuringProbeActsNot(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var ran []string
	h := testHost(t, signalDuring("never", cancel, &ran))
	_, log := checkable(t, h)
	h.e.Probe = func(context.Context, probe.Config) probe.Result {
		cancel() // the signal arrives mid-probe
		return probe.Result{Up: false}
	}
	if err := h.check(ctx); err != nil {
		t.Errorf("check = %v; want a quiet end", err)
	}
	if len(ran) != 0 || log.Len() != 0 {
		t.Errorf("after a signal during the probe: commands %q, log %q; want none", ran, log.String())
	}
	if entries, _ := os.ReadDir(h.cfg.StateDir); len(entries) != 0 {
		t.Errorf("state written after a signal during the probe: %v", entries)
	}
}

// TestHostSignalsCaughtOnlyToAct: hostcheck catches SIGTERM and SIGINT
// only once it has decided to act, before it persists (SPEC §12, §15): a
// healthy run installs no handler; a run that cold-restarts the router VM
// catches them first, and a signal arriving at once still lets qm stop and
// qm start run to completion.
func TestHostSignalsCaughtOnlyToAct(t *testing.T) {
	for _, tc := range []struct {
		name      string
		up        bool
		wantCatch bool
		wantRan   string
	}{
		{"healthy", true, false, ""},
		{"router VM hung", false, true, "/usr/sbin/qm status 100 --verbose; /usr/sbin/qm config 100; " +
			"/usr/sbin/qm stop 100 --timeout 30; /usr/sbin/qm status 100 --verbose; /usr/sbin/qm start 100; /usr/sbin/qm status 100 --verbose"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var ran []string
			h := testHost(t, signalDuring("never", func() {}, &ran))
			dir := t.TempDir()
			h.cfg.StateDir, h.cfg.RunDir, h.cfg.PVEMark = filepath.Join(dir, "state"), filepath.Join(dir, "run"), filepath.Join(dir, "mark")
			h.cfg.RouterHungAfter, h.cfg.MinHostUptime = 0, 0
			// Guards with nothing to find: no cluster, no backup.
			h.corosync, h.vzdumpLock, h.procRoot = []string{filepath.Join(dir, "no-corosync")}, filepath.Join(dir, "no-lock"), t.TempDir()
			stderr, err := os.Create(filepath.Join(dir, "stderr"))
			if err != nil {
				t.Fatal(err)
			}
			defer stderr.Close()
			h.e.Stderr = stderr
			h.e.Uptime = func() (time.Duration, error) { return 24 * time.Hour, nil }
			h.e.BootID = func() (string, error) { return "boot", nil }
			h.e.Probe = func(context.Context, probe.Config) probe.Result { return probe.Result{Up: tc.up} }
			caught := false
			h.e.Signals = func(parent context.Context) (context.Context, context.CancelFunc) {
				caught = true
				if entries, _ := os.ReadDir(h.cfg.StateDir); len(entries) != 0 {
					t.Errorf("state written before signals are caught: %v", entries)
				}
				ctx, cancel := context.WithCancel(parent)
				cancel() // the signal arrives at once
				return ctx, cancel
			}
			if err := h.check(context.Background()); err != nil {
				t.Errorf("check = %v", err)
			}
			if caught != tc.wantCatch {
				t.Errorf("signals caught %v; want %v", caught, tc.wantCatch)
			}
			if got := strings.Join(ran, "; "); got != tc.wantRan {
				t.Errorf("commands: %q; want %q", got, tc.wantRan)
			}
		})
	}
}

// TestSignalDuringRebootDelay: a signal during REBOOT_DELAY, before the
// reboot command ran, used to end the run quietly with the day's mark
// kept: a person's Ctrl-C cancelled the reboot, yet today's rescue was
// spent and `report` counted a reboot that never came. Now, unless the
// system is already shutting down (the reboot coming another way), the
// mark is torn as for a misfire and the log says so (SPEC §6 step 6).
func TestSignalDuringRebootDelay(t *testing.T) {
	for _, tc := range []struct {
		system   string
		wantTorn bool
	}{{"running", true}, {"degraded", true}, {"starting", true}, {"maintenance", true}, {"stopping", false}, {"offline", false}, {"", false},
		// systemd's answer when the manager does not answer its state
		// query, as late in a shutdown (systemctl-is-system-running.c:
		// puts("unknown") after "Failed to query system state"): no
		// person's cancel, the mark stays.
		{"unknown", false}} {
		t.Run("system "+tc.system, func(t *testing.T) {
			var ran []string
			h := testHost(t, func(_ context.Context, cmdline string, _ time.Duration) command.Result {
				ran = append(ran, cmdline)
				if strings.HasSuffix(cmdline, "is-system-running") {
					return command.Result{Cmd: cmdline, Stdout: tc.system + "\n"}
				}
				return command.Result{Cmd: cmdline}
			})
			h.cfg.RebootDelay = time.Hour
			var log strings.Builder
			h.log = slog.New(slog.NewTextHandler(&log, nil))
			dir := t.TempDir()
			h.cfg.StateDir, h.cfg.NotifyURL = dir, "http://127.0.0.1:9/push"
			store := rescue.Store{Mark: filepath.Join(dir, "mark"), StateDir: dir}
			now := time.Date(2026, 11, 25, 10, 0, 0, 0, time.UTC)
			mark := state.Mark{Date: "2026-11-25", Time: now, BootID: "b", Reason: "test", Dated: true}
			if err := store.Save(rescue.State{}, rescue.State{HasMark: true, Mark: mark, LastReboot: "2026-11-25"}); err != nil {
				t.Fatal(err)
			}
			ctx, cancel := context.WithCancel(context.Background())
			cancel() // Ctrl-C during the delay
			err := h.reboot(ctx, store, mark, "2026-11-20", routerSync{SOS: true})
			st, _ := store.Load(now.Location())
			if slices.ContainsFunc(ran, func(c string) bool { return strings.Contains(c, "systemctl reboot") }) {
				t.Errorf("ran %q: the reboot command after the signal", ran)
			}
			if tc.wantTorn {
				if err == nil || st.HasMark || st.LastReboot != "2026-11-20" || !strings.Contains(log.String(), "【回退】PVE 重启已取消") {
					t.Errorf("err %v, mark %v, last reboot %q; want an error, the mark torn, the last reboot back to 2026-11-20, 【回退】 logged:\n%s",
						err, st.HasMark, st.LastReboot, log.String())
				}
				// The owner, told of the reboot, is told it did not come.
				// No misfire: REBOOT_CMD never ran.
				if msgs, _ := h.queue().Load(); len(msgs) != 1 || msgs[0].Event != "reboot-cancelled" || !strings.Contains(msgs[0].Text, "PVE 重启已取消") {
					t.Errorf("notifications %+v; want one reboot-cancelled saying the reboot was cancelled", msgs)
				}
				return
			}
			if err != nil || !st.HasMark || strings.Contains(log.String(), "【回退】") {
				t.Errorf("err %v, mark %v; want a quiet end with the mark kept (the system is shutting down):\n%s", err, st.HasMark, log.String())
			}
		})
	}
}

// TestMisfireNotRetriedAtOnce: after a reboot that did not happen
// (misfire, or Ctrl-C during REBOOT_DELAY) the mark is torn, and the log
// and the notification say what comes next without promising a retry at
// the next run: SOS was acknowledged on the router before the reboot, so
// the next run, finding no SOS, only observes. A retry at once would loop
// every run with a REBOOT_CMD that never works (each time resetting the
// router's count, so that it never cools down) and reboot a second time
// after a shutdown that was only slow. The router's next SOS brings the
// host again the same day.
func TestMisfireNotRetriedAtOnce(t *testing.T) {
	for _, tc := range []struct {
		name    string
		cancel  bool
		wantLog string
	}{
		{name: "misfire", wantLog: "【回退】正在撕毁免死金牌，以便在下个检测周期重试。"},
		{name: "cancelled", cancel: true, wantLog: "撕毁今日重启标记，故障仍在时物理机可再介入 (OpenWrt 的 SOS 已确认：走 SOS 的故障须等它再次发出；不想介入：hostcheck pause 时长)"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := testHost(t, func(_ context.Context, cmdline string, _ time.Duration) command.Result {
				if strings.HasSuffix(cmdline, "is-system-running") {
					return command.Result{Cmd: cmdline, Stdout: "running\n"}
				}
				return command.Result{Cmd: cmdline} // the reboot commands return and nothing happens
			})
			var log strings.Builder
			h.log = slog.New(slog.NewTextHandler(&log, nil))
			dir := t.TempDir()
			h.cfg.StateDir = dir
			store := rescue.Store{Mark: filepath.Join(dir, "mark"), StateDir: dir}
			now := time.Date(2026, 11, 25, 10, 0, 0, 0, time.UTC)
			h.e.Now = func() time.Time { return now }
			// The boot the run read when it began, as the next run reads it.
			mark := state.Mark{Date: "2026-11-25", Time: now, BootID: "boot", Reason: "SOS count=10", Dated: true}
			before := rescue.State{DownSince: now.Add(-3 * time.Hour)}
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
			if !strings.Contains(log.String(), tc.wantLog) {
				t.Errorf("log lacks %q:\n%s", tc.wantLog, log.String())
			}
			// The next run: the outage goes on, the router answers with no
			// SOS (acknowledged by the run that misfired): it observes.
			st, _ := store.Load(time.UTC)
			if st.HasMark || st.HeldReboot != "" {
				t.Errorf("after the reboot that did not happen: mark %v, held %q; want the mark torn and nothing held", st.HasMark, st.HeldReboot)
			}
			cfg := config.Default(config.Host)
			obs := rescue.Obs{Now: now.Add(5 * time.Minute), Uptime: 24 * time.Hour, BootID: "boot",
				NetKnown: true, RouterKnown: true, Router: rescue.Router{Count: "0"}, LANKnown: true, LANUp: true, GuardsKnown: true}
			if s := rescue.Decide(cfg, st, obs); s.Action != rescue.None || !strings.Contains(msgs(s), "【观察】未发现 SOS 信号") {
				t.Errorf("next run, no SOS: %v (log: %s); want it to observe", s.Action, msgs(s))
			}
			// The router's next SOS brings the host again today.
			obs.Router = rescue.Router{SOS: true, SOSContent: "time=x count=10 reason=y", Count: "10"}
			if s := rescue.Decide(cfg, st, obs); s.Action != rescue.HostReboot {
				t.Errorf("next run, SOS again: %v (log: %s); want the host reboot", s.Action, msgs(s))
			}
		})
	}
}

// TestQMStopFailureEscalates: a cold restart whose `qm stop` fails (QEMU
// stuck, the VM goes on running) spent the day's restart and changed
// nothing; every run until midnight used to log 【观察】路由虚拟机今天已冷重启
// 过一次，不再重复. The failure is recorded and the next run reboots the
// host, under its guards (SPEC §13 rule 5).
func TestQMStopFailureEscalates(t *testing.T) {
	var ran []string
	h := testHost(t, func(_ context.Context, cmdline string, _ time.Duration) command.Result {
		ran = append(ran, cmdline)
		switch {
		case strings.Contains(cmdline, "qm status "):
			return command.Result{Cmd: cmdline, Stdout: "qmpstatus: running\nstatus: running\n"}
		case strings.Contains(cmdline, "qm stop "):
			return command.Result{Cmd: cmdline, ExitCode: 255, Stderr: "VM quit/powerdown failed - got timeout\n"}
		case strings.HasSuffix(cmdline, "is-system-running"):
			return command.Result{Cmd: cmdline, Stdout: "running\n"}
		}
		return command.Result{Cmd: cmdline}
	})
	defer func(g time.Duration) { vmStopGrace = g }(vmStopGrace)
	vmStopGrace = 0
	dir, log := checkable(t, h)
	h.cfg.RouterHungAfter, h.cfg.MinHostUptime, h.cfg.VMStopTimeout = 0, 0, 0
	h.corosync, h.vzdumpLock, h.procRoot = []string{filepath.Join(dir, "no-corosync")}, filepath.Join(dir, "no-lock"), t.TempDir()
	h.e.Probe = func(context.Context, probe.Config) probe.Result { return probe.Result{Up: false} }
	h.e.Signals = func(parent context.Context) (context.Context, context.CancelFunc) { return context.WithCancel(parent) }

	h.check(context.Background())
	if !slices.ContainsFunc(ran, func(c string) bool { return strings.Contains(c, "qm stop") }) ||
		!strings.Contains(log.String(), "【严重错误】路由虚拟机没有停止，今天的冷重启失败") {
		t.Fatalf("first run: commands %q; want the cold restart, its stop failing, logged:\n%s", ran, log.String())
	}
	ran = nil
	h.check(context.Background())
	if !slices.Contains(ran, "/usr/bin/systemctl reboot") {
		t.Errorf("run after the failed qm stop: commands %q; want the host reboot:\n%s", ran, log.String())
	}
	if !strings.Contains(log.String(), "【确认】路由虚拟机今天的冷重启没有停下它 (qm stop 失败)，只能重启 PVE 物理机。") {
		t.Errorf("log lacks the escalation:\n%s", log.String())
	}
	if strings.Contains(log.String(), "今天已冷重启过一次，不再重复") {
		t.Errorf("log says the restart was done:\n%s", log.String())
	}
}

// msgs joins a step's log lines, for a failure message.
func msgs(s rescue.Step) string {
	var lines []string
	for _, ev := range s.Events {
		lines = append(lines, ev.Msg)
	}
	return strings.Join(lines, " | ")
}

// TestMisfireTwiceADay: a REBOOT_CMD that never works is tried at most
// twice a day. Each try acknowledges SOS on the router first (count 0, no
// cooling), so on a LAN fault or a hung VM a torn mark every time meant a
// new try every few runs and a router whose own reboots were never
// limited. The second misfire of the day keeps the mark: 【严重错误】 says
// so and names the commands, and the next run, SOS or not, takes no host
// reboot. midnight-reset's new day allows a try again.
func TestMisfireTwiceADay(t *testing.T) {
	var reboots int
	h := testHost(t, func(_ context.Context, cmdline string, _ time.Duration) command.Result {
		if strings.HasSuffix(cmdline, "is-system-running") {
			return command.Result{Cmd: cmdline, Stdout: "running\n"}
		}
		reboots++
		return command.Result{Cmd: cmdline} // nothing happens
	})
	var log strings.Builder
	h.log = slog.New(slog.NewTextHandler(&log, nil))
	now := time.Date(2026, 11, 25, 10, 0, 0, 0, time.UTC)
	h.e.Now = func() time.Time { return now }
	dir := t.TempDir()
	h.cfg.StateDir, h.cfg.VMID = dir, ""
	store := rescue.Store{Mark: filepath.Join(dir, "mark"), StateDir: dir}
	cfg := config.Default(config.Host)
	sos := rescue.Obs{Uptime: 24 * time.Hour, BootID: "boot", NetKnown: true, RouterKnown: true,
		Router: rescue.Router{SOS: true, SOSContent: "time=x count=10 reason=y", Count: "10"}, LANKnown: true, LANUp: true, GuardsKnown: true}
	try := func(what string) (rescue.Action, error) {
		t.Helper()
		st, _ := store.Load(time.UTC)
		sos.Now = now
		s := rescue.Decide(cfg, st, sos)
		if s.Action != rescue.HostReboot {
			return s.Action, nil
		}
		if err := store.Save(st, s.Next); err != nil {
			t.Fatal(err)
		}
		return s.Action, h.reboot(context.Background(), store, s.Next.Mark, st.LastReboot, routerSync{SOS: true})
	}
	for i, want := range []string{"【回退】正在撕毁免死金牌", "【严重错误】今天第二次重启未生效：保留今日重启标记，今天不再尝试重启物理机，请检查 REBOOT_CMD 与 REBOOT_FALLBACK_CMD。"} {
		if a, err := try("misfire"); a != rescue.HostReboot || err == nil {
			t.Fatalf("try %d: %v, %v; want a host reboot that misfires", i+1, a, err)
		}
		if !strings.Contains(log.String(), want) {
			t.Errorf("try %d: log lacks %q:\n%s", i+1, want, log.String())
		}
		now = now.Add(30 * time.Minute)
	}
	before := reboots
	if a, _ := try("third"); a != rescue.None || reboots != before {
		t.Errorf("third SOS the same day: %v, reboot commands run %d; want none", a, reboots-before)
	}
	if _, err := os.Stat(store.Mark); err != nil {
		t.Errorf("the mark is gone after the second misfire: %v", err)
	}
	// A new day: midnight-reset deletes the mark, and the host may try again.
	if err := os.Remove(store.Mark); err != nil {
		t.Fatal(err)
	}
	now = time.Date(2026, 11, 26, 9, 0, 0, 0, time.UTC)
	if a, _ := try("next day"); a != rescue.HostReboot {
		t.Errorf("the next day: %v; want the host reboot tried again", a)
	}
}

// TestVMStartFailedSaysNextStep: a qm start that leaves the router VM
// stopped says what the next run does, from the state saved for the
// step (rescue.NextVMStep). After a spent day's cold restart (starts,
// the cold restart and the host's reboot all used) that is nothing until
// midnight; the line said "用完后重启 PVE 物理机", a second reboot no run
// takes.
func TestVMStartFailedSaysNextStep(t *testing.T) {
	defer func(g, c time.Duration) { vmStopGrace, vmStartConfirm = g, c }(vmStopGrace, vmStartConfirm)
	vmStopGrace, vmStartConfirm = 0, 0
	h := testHost(t, func(_ context.Context, cmdline string, _ time.Duration) command.Result {
		r := command.Result{Cmd: cmdline}
		if strings.Contains(cmdline, " status ") {
			r.Stdout = "qmpstatus: stopped\nstatus: stopped\n"
		}
		return r
	})
	_, log := checkable(t, h)
	today := rescue.Today(testNow)
	st := rescue.State{LastReboot: today, VMStartDate: today, VMStarts: 3, DownSince: testNow.Add(-time.Hour)}
	next := st
	next.VMRestartDate = today
	store := h.store()
	if err := store.Save(st, next); err != nil {
		t.Fatal(err)
	}
	step := rescue.Step{Action: rescue.VMRestart, Next: next}
	if err := h.carryOut(context.Background(), store, st, rescue.Obs{Now: testNow, NetKnown: true, BootID: "boot"}, step, remote.RouterState{}); err != nil {
		t.Fatal(err)
	}
	got := log.String()
	if !strings.Contains(got, "【严重错误】路由虚拟机启动后没有运行") || !strings.Contains(got, "零点前不再自动处理") || strings.Contains(got, "重启 PVE 物理机") {
		t.Errorf("log after a spent day's cold restart that left the VM stopped:\n%s\nwant it to say nothing is left until midnight, no host reboot", got)
	}
}
