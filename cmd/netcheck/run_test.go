package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/pve-op/network-rescue/internal/cli"
	"github.com/pve-op/network-rescue/internal/command"
	"github.com/pve-op/network-rescue/internal/ladder"
	"github.com/pve-op/network-rescue/internal/probe"
	"github.com/pve-op/network-rescue/internal/runenv"
)

// fakeEnv is a run with the internet down, a long uptime, and a command
// runner that only records.
func fakeEnv(t *testing.T, ran *[]string) runenv.Env {
	t.Helper()
	stderr, err := os.Create(filepath.Join(t.TempDir(), "stderr"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { stderr.Close() })
	return runenv.Env{
		Stdout: &strings.Builder{},
		Stderr: stderr,
		Now:    func() time.Time { return time.Date(2026, 11, 25, 10, 0, 0, 0, time.UTC) },
		Probe:  func(context.Context, probe.Config) probe.Result { return probe.Result{Up: false} },
		Exec: func(_ context.Context, cmdline string, _ time.Duration) command.Result {
			*ran = append(*ran, cmdline)
			return command.Result{Cmd: cmdline}
		},
		Uptime: func() (time.Duration, error) { return 24 * time.Hour, nil },
		BootID: func() (string, error) { return "boot", nil },
	}
}

// TestNoRebootWithoutState: when the count cannot be saved, the router
// must not reboot — a reboot whose count is lost would loop for ever,
// never reaching SOS (SPEC §5: persist before acting).
func TestNoRebootWithoutState(t *testing.T) {
	dir := t.TempDir()
	blocker := filepath.Join(dir, "not-a-dir")
	if err := os.WriteFile(blocker, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	conf := filepath.Join(dir, "netrescue.conf")
	log := filepath.Join(dir, "net.log")
	content := strings.Join([]string{
		"STATE_DIR=" + filepath.Join(blocker, "state"),
		"RUN_DIR=" + filepath.Join(dir, "run"),
		"LOG_FILE=" + log,
		"SYSLOG=0", "SAFE_UPTIME=0", "L1_THRESHOLD=0", "L2_THRESHOLD=0", "L3_THRESHOLD=1",
		"L3_CMD=/sbin/reboot -f",
	}, "\n")
	if err := os.WriteFile(conf, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	var ran []string
	err := run(context.Background(), []string{"-config", conf}, fakeEnv(t, &ran))
	if err == nil || cli.ExitCode(err) != cli.ExitFailure {
		t.Errorf("run = %v; want a runtime failure (exit 1)", err)
	}
	if len(ran) != 0 {
		t.Errorf("commands run: %q; want none", ran)
	}
	b, _ := os.ReadFile(log)
	if !strings.Contains(string(b), "【严重错误】状态无法保存，为防止无限重启，本次不执行动作") || !strings.Contains(string(b), "action=L3") {
		t.Errorf("log = %q; want 【严重错误】 naming the L3 not taken", b)
	}
}

// TestSignalsCaughtOnlyToAct: SIGTERM and SIGINT are caught only once a
// run has decided to act, before it persists the count, and a signal that
// arrives then neither stops the action nor the run's exit after it; a
// healthy run, or a failure below L1_THRESHOLD, installs no handler (SPEC
// §12, §15). A signal during the probe, with no handler, kills the process:
// e2e TestRouterSignalDuringProbe.
func TestSignalsCaughtOnlyToAct(t *testing.T) {
	for _, tc := range []struct {
		name      string
		up        bool
		streak    string // run_streak before the run
		wantCatch bool
		wantRan   string
	}{
		{"healthy", true, "", false, ""},
		{"first failure, below L1", false, "", false, ""},
		{"L1", false, "1", true, "/sbin/ifup wan"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			conf := filepath.Join(dir, "netrescue.conf")
			stateDir, runDir := filepath.Join(dir, "state"), filepath.Join(dir, "run")
			content := strings.Join([]string{
				"STATE_DIR=" + stateDir, "RUN_DIR=" + runDir,
				"LOG_FILE=" + filepath.Join(dir, "net.log"), "SYSLOG=0", "SAFE_UPTIME=0",
				"L1_THRESHOLD=2", "L2_THRESHOLD=3", "L3_THRESHOLD=4", "L1_CMD=/sbin/ifup wan",
			}, "\n")
			if err := os.WriteFile(conf, []byte(content), 0o600); err != nil {
				t.Fatal(err)
			}
			var ran []string
			e := fakeEnv(t, &ran)
			e.Probe = func(context.Context, probe.Config) probe.Result { return probe.Result{Up: tc.up} }
			if tc.streak != "" {
				// A first failing run leaves the streak at 1.
				if err := run(context.Background(), []string{"-config", conf}, e); err != nil {
					t.Fatal(err)
				}
			}
			before := snapshot(t, stateDir, runDir)
			caught, stopped := false, false
			e.Signals = func(parent context.Context) (context.Context, context.CancelFunc) {
				caught = true
				if got := snapshot(t, stateDir, runDir); got != before {
					t.Errorf("state written before signals are caught:\n%s\nwas\n%s", got, before)
				}
				ctx, cancel := context.WithCancel(parent)
				cancel() // the signal arrives at once
				return ctx, func() { stopped = true }
			}
			if err := run(context.Background(), []string{"-config", conf}, e); err != nil {
				t.Errorf("run = %v", err)
			}
			if caught != tc.wantCatch || stopped != tc.wantCatch {
				t.Errorf("signals caught %v, stopped %v; want %v", caught, stopped, tc.wantCatch)
			}
			if got := strings.Join(ran, "; "); got != tc.wantRan {
				t.Errorf("commands run: %q; want %q (a signal once acting does not stop the action)", got, tc.wantRan)
			}
		})
	}
}

// snapshot is the names and contents of the files under dirs.
func snapshot(t *testing.T, dirs ...string) string {
	t.Helper()
	var b strings.Builder
	for _, d := range dirs {
		filepath.WalkDir(d, func(p string, de os.DirEntry, err error) error {
			if err == nil && de.Type().IsRegular() {
				c, _ := os.ReadFile(p)
				fmt.Fprintf(&b, "%s=%q\n", p, c)
			}
			return nil
		})
	}
	return b.String()
}

// TestBootIDUnreadable: /proc failing (boot_id and the uptime unreadable)
// is no reboot. The run took "unknown" for a new boot: a false 【启动】, the
// streak started over (L1 a run late, each time the read failed), and
// RECOVERY_STABLE's wait went by the wall clock. A run that cannot read
// the boot id keeps the one RUN_DIR last saw.
func TestBootIDUnreadable(t *testing.T) {
	for _, tt := range []struct {
		name string
		id   func() (string, error)
	}{
		{"read fails", func() (string, error) {
			return "", errors.New("open /proc/sys/kernel/random/boot_id: too many open files")
		}},
		{"read empty", func() (string, error) { return "", nil }}, // every run was a boot: the ladder never climbed
	} {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			conf, log := writeConf(t, dir, "L1_THRESHOLD=2", "L2_THRESHOLD=5", "L3_THRESHOLD=8",
				"L1_CMD=/bin/echo L1", "L2_CMD=/bin/echo L2", "L3_CMD=/bin/echo L3")
			var ran []string
			e := fakeEnv(t, &ran)
			if err := runEnvWithin(t, conf, e); err != nil { // streak 1, boot "boot"
				t.Fatal(err)
			}
			e.BootID = tt.id
			e.Uptime = func() (time.Duration, error) { return 0, errors.New("open /proc/uptime: too many open files") }
			if err := runEnvWithin(t, conf, e); err != nil { // streak 2: L1
				t.Fatal(err)
			}
			b, _ := os.ReadFile(log)
			if got := strings.Join(ran, "; "); got != "/bin/echo L1" || strings.Count(string(b), "【启动】") != 1 {
				t.Errorf("ran %q, 【启动】 logged %d times; want L1 at the second run, one 【启动】:\n%s", got, strings.Count(string(b), "【启动】"), b)
			}
		})
	}
}

// TestDamagedVolatileKeepsBoot: a stray line in the volatile record (in
// RUN_DIR, or its fallback in STATE_DIR) is reported and repaired, but
// what can be read of it is kept: the boot and the streak. It was read as
// no record at all: a false 【启动】, the streak started over and L1 came
// a run late; a damaged fallback also hid RUN_DIR's intact record.
func TestDamagedVolatileKeepsBoot(t *testing.T) {
	for _, tt := range []struct{ name, file string }{
		{"RUN_DIR record", filepath.Join("run", ladder.VolatileFile)},
		{"STATE_DIR fallback", filepath.Join("state", ladder.FallbackFile)},
	} {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			conf, log := writeConf(t, dir, "L1_THRESHOLD=2", "L2_THRESHOLD=5", "L3_THRESHOLD=8",
				"L1_CMD=/bin/echo L1", "L2_CMD=/bin/echo L2", "L3_CMD=/bin/echo L3")
			var ran []string
			e := fakeEnv(t, &ran)
			if err := runEnvWithin(t, conf, e); err != nil { // streak 1
				t.Fatal(err)
			}
			run := filepath.Join(dir, "run", ladder.VolatileFile)
			b, err := os.ReadFile(run)
			if err != nil {
				t.Fatal(err)
			}
			p := filepath.Join(dir, tt.file)
			if err := os.WriteFile(p, append(b, "garbage\n"...), 0o600); err != nil {
				t.Fatal(err)
			}
			if err := runEnvWithin(t, conf, e); err != nil { // streak 2: L1
				t.Fatal(err)
			}
			l, _ := os.ReadFile(log)
			if got := strings.Join(ran, "; "); got != "/bin/echo L1" || strings.Count(string(l), "【启动】") != 1 ||
				!strings.Contains(string(l), "【严重错误】状态文件损坏") {
				t.Errorf("ran %q, 【启动】 %d times; want L1, one 【启动】, the damage logged:\n%s", got, strings.Count(string(l), "【启动】"), l)
			}
			if err := runEnvWithin(t, conf, e); err != nil { // streak 3: repaired, said once
				t.Fatal(err)
			}
			if l, _ := os.ReadFile(log); strings.Count(string(l), "【严重错误】") != 1 {
				t.Errorf("the damage was not repaired: logged again\n%s", l)
			}
		})
	}
}

// TestDryRunL3AsAfterReboot: a dry run reboots nothing, so its boot and
// streak stayed and every run after L3_THRESHOLD decided another L3, one
// a minute (L3 #1…#7 and a cooling in seven minutes), a ladder no router
// climbs. Its state is left as the reboot would leave it: the next L3 is
// L3_THRESHOLD runs later, as for a real router.
func TestDryRunL3AsAfterReboot(t *testing.T) {
	dir := t.TempDir()
	conf := filepath.Join(dir, "netrescue.conf")
	lines := "DRY_RUN=1\nSTATE_DIR=" + filepath.Join(dir, "state") + "\nRUN_DIR=" + filepath.Join(dir, "run") +
		"\nLOG_FILE=" + filepath.Join(dir, "net.log") + "\nSYSLOG=0\nSAFE_UPTIME=0\nL3_CMD=/bin/echo L3\n"
	if err := os.WriteFile(conf, []byte(lines), 0o600); err != nil {
		t.Fatal(err)
	}
	var ran []string
	e := fakeEnv(t, &ran)
	start := time.Date(2026, 11, 25, 10, 0, 0, 0, time.UTC)
	for i := range 25 {
		now := start.Add(time.Duration(i) * time.Minute)
		e.Now = func() time.Time { return now }
		if err := run(context.Background(), []string{"-config", conf}, e); err != nil {
			t.Fatalf("run %d: %v", i+1, err)
		}
	}
	b, _ := os.ReadFile(filepath.Join(dir, "net.log"))
	if n := strings.Count(string(b), "【演练】【L3-动作】"); n != 2 {
		t.Errorf("25 dry runs down: %d L3s; want 2 (at runs 10 and 20, L3_THRESHOLD apart)\n%s", n, b)
	}
	if len(ran) != 0 {
		t.Errorf("a dry run ran %q", ran)
	}
}
