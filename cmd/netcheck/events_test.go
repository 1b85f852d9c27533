package main

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/pve-op/network-rescue/internal/command"
	"github.com/pve-op/network-rescue/internal/probe"
)

// TestOnEventCmd: ON_EVENT_CMD runs once per transition on the router
// (SPEC §16) — down at the first failed run, l1 after its step, nothing
// for a failed run that changes nothing, up with the outage's seconds —
// with the NETRESCUE_* variables, through the real /bin/sh.
func TestOnEventCmd(t *testing.T) {
	dir := t.TempDir()
	events := filepath.Join(dir, "events")
	conf := filepath.Join(dir, "netrescue.conf")
	content := strings.Join([]string{"STATE_DIR=" + filepath.Join(dir, "state"), "RUN_DIR=" + filepath.Join(dir, "run"),
		"LOG_FILE=" + filepath.Join(dir, "log"), "SYSLOG=0", "CHECK_TARGETS=203.0.113.1", "WAN_GATEWAY=off",
		`ON_EVENT_CMD='echo "$NETRESCUE_EVENT $NETRESCUE_OUTAGE_SECONDS $NETRESCUE_DETAIL" >> ` + events + `'`}, "\n")
	if err := os.WriteFile(conf, []byte(content+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	var ran []string
	e := fakeEnv(t, &ran)
	e.ExecEnv = command.RunEnv
	now := time.Date(2026, 11, 25, 10, 0, 0, 0, time.UTC)
	up := false
	e.Now = func() time.Time { return now }
	e.Probe = func(context.Context, probe.Config) probe.Result { return probe.Result{Up: up} }
	for i, want := range []string{
		"down 0 ",              // first failed run
		"down 0 |l1 60 redial", // second: L1
		"down 0 |l1 60 redial", // third: nothing new
		"down 0 |l1 60 redial|up 180 ",
	} {
		up = i == 3
		if err := run(context.Background(), []string{"-config", conf}, e); err != nil {
			t.Fatalf("run %d: %v", i, err)
		}
		b, _ := os.ReadFile(events)
		got := strings.Join(strings.Split(strings.TrimSpace(string(b)), "\n"), "|")
		for _, w := range strings.Split(want, "|") {
			if !strings.Contains(got, w) {
				t.Errorf("after run %d events = %q; want %q", i, got, want)
			}
		}
		if n := len(strings.Split(got, "|")); n != len(strings.Split(want, "|")) {
			t.Errorf("after run %d: %d events (%q); want %d", i, n, got, len(strings.Split(want, "|")))
		}
		now = now.Add(time.Minute)
	}
	if len(ran) != 1 || !strings.Contains(ran[0], "ifdown") {
		t.Errorf("actions run = %q; want the L1 command once", ran)
	}
}

// TestL3HookOutcomeLogged: ON_EVENT_CMD runs beside the reboot (SPEC
// §16). When L3_CMD returns (busybox `reboot` signals init and returns;
// a reboot that failed), the run used to exit at once: the hook ran on,
// orphaned, and its outcome line was never logged (SPEC §5 rule 3). The
// run now waits for it (bounded by hook.Timeout); the same for an
// `assist reboot`.
func TestL3HookOutcomeLogged(t *testing.T) {
	for _, via := range []string{"cron", "assist"} {
		t.Run(via, func(t *testing.T) {
			dir := t.TempDir()
			conf, log := writeConf(t, dir, "L1_THRESHOLD=0", "L2_THRESHOLD=0", "L3_THRESHOLD=1", "L3_CMD=/bin/true",
				"ON_EVENT_CMD=sleep 0.2; echo hooked")
			var ran []string
			e := fakeEnv(t, &ran)
			e.ExecEnv = command.RunEnv
			e.Exec = func(ctx context.Context, cmdline string, d time.Duration) command.Result {
				ran = append(ran, cmdline)
				return command.Run(ctx, cmdline, d)
			}
			var err error
			if via == "assist" {
				err = runEnvWithinArgs(t, e, "-config", conf, "assist", "reboot", "-reason", "LAN path")
			} else {
				err = runEnvWithin(t, conf, e)
			}
			if err != nil {
				t.Fatalf("run: %v", err)
			}
			b, _ := os.ReadFile(log)
			event := map[string]string{"cron": "event=l3", "assist": "event=assist"}[via]
			if strings.Join(ran, ";") != "/bin/true" || !strings.Contains(string(b), "-> [成功] "+event) {
				t.Errorf("ran %q; want the L3 and the hook's outcome (-> [成功] %s) in the log:\n%s", ran, event, b)
			}
		})
	}
}
