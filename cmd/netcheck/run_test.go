package main

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/pve-op/network-rescue/internal/cli"
	"github.com/pve-op/network-rescue/internal/command"
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

// TestSignalDuringProbeActsNot: a SIGTERM or Ctrl-C that arrives while the
// probe runs cuts the probe short, which must not count as "down": no
// streak, no action (an action, once started, runs to completion: SPEC
// §15), nothing written.
func TestSignalDuringProbeActsNot(t *testing.T) {
	dir := t.TempDir()
	conf := filepath.Join(dir, "netrescue.conf")
	content := strings.Join([]string{
		"STATE_DIR=" + filepath.Join(dir, "state"), "RUN_DIR=" + filepath.Join(dir, "run"),
		"LOG_FILE=" + filepath.Join(dir, "net.log"), "SYSLOG=0", "SAFE_UPTIME=0",
		"L1_THRESHOLD=1", "L2_THRESHOLD=2", "L3_THRESHOLD=3", "L1_CMD=/sbin/ifup wan",
	}, "\n")
	if err := os.WriteFile(conf, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	var ran []string
	e := fakeEnv(t, &ran)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	e.Probe = func(context.Context, probe.Config) probe.Result {
		cancel() // the signal arrives mid-probe
		return probe.Result{Up: false}
	}
	if err := run(ctx, []string{"-config", conf}, e); err != nil {
		t.Errorf("run = %v; want a quiet end", err)
	}
	if len(ran) != 0 {
		t.Errorf("commands run after a signal during the probe: %q; want none", ran)
	}
	if b, _ := os.ReadFile(filepath.Join(dir, "net.log")); strings.Contains(string(b), "【报警】") || strings.Contains(string(b), "L1") {
		t.Errorf("log counts the cut-short probe as a failure:\n%s", b)
	}
}
