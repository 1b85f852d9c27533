package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/pve-op/network-rescue/internal/command"
	"github.com/pve-op/network-rescue/internal/config"
	"github.com/pve-op/network-rescue/internal/pause"
	"github.com/pve-op/network-rescue/internal/probe"
	"github.com/pve-op/network-rescue/internal/rescue"
	"github.com/pve-op/network-rescue/internal/runenv"
)

// statusOf runs `hostcheck status` on a fake host at now with
// hostcheck.state, a pause until pauseUntil (zero: none) and the config's
// extra lines; the uptime 72h, boot id boot-1, the internet down.
func statusOf(t *testing.T, now time.Time, record string, pauseUntil time.Time, extra ...string) string {
	t.Helper()
	dir := t.TempDir()
	stateDir, runDir := filepath.Join(dir, "state"), filepath.Join(dir, "run")
	for _, d := range []string{stateDir, runDir} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.WriteFile(filepath.Join(stateDir, rescue.RecordFile), []byte(record), 0o644); err != nil {
		t.Fatal(err)
	}
	if !pauseUntil.IsZero() {
		if err := os.WriteFile(filepath.Join(stateDir, pause.File), []byte(fmt.Sprintf("%d\n", pauseUntil.Unix())), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	conf := statusLabConf(t, dir, append([]string{"STATE_DIR=" + stateDir, "RUN_DIR=" + runDir, "PVE_MARK=" + filepath.Join(dir, "mark"),
		"SSH_KEY=" + filepath.Join(dir, "no-key"), "VM_ID="}, extra...)...)
	var out strings.Builder
	e := runenv.Env{Stdout: &out, Stderr: statusStderr(t, dir), Now: func() time.Time { return now },
		Probe: func(context.Context, probe.Config) probe.Result { return probe.Result{} },
		Exec: func(_ context.Context, cmdline string, _ time.Duration) command.Result {
			return command.Result{Cmd: cmdline}
		},
		Uptime: func() (time.Duration, error) { return 72 * time.Hour, nil }, BootID: func() (string, error) { return "boot-1", nil }}
	_ = run(context.Background(), []string{"-config", conf, "status", "-crontab", filepath.Join(dir, "crontab")}, e)
	return out.String()
}

// statusLine is status's line of the check named name, with its fix line
// when it has one ("" when none).
func statusLine(text, name string) string {
	ls := strings.Split(text, "\n")
	for i, l := range ls {
		if strings.Contains(l, "✓ "+name+":") || strings.Contains(l, "✗ "+name+":") {
			if i+1 < len(ls) && strings.Contains(ls[i+1], "fix:") {
				l += "\n" + ls[i+1]
			}
			return l
		}
	}
	return ""
}

// TestHostStatusHeldRebootPaused: a host reboot held by
// HOST_REBOOT_HOURS=2-5, a misfire earlier today and a pause until 06:00,
// status at 03:00. The "held host reboot" line said "taken from 12-06
// 03:00" (now), which the pause holds and after which the window has
// closed, beside the "host reboot" line's retry from 12-07 02:00; the
// runs take no host reboot today. And the window-held line offered no
// fix, where hostcheck resume lets the 03:05 run, inside the window,
// retry today.
func TestHostStatusHeldRebootPaused(t *testing.T) {
	now := time.Date(2026, 12, 6, 3, 0, 0, 0, time.UTC)
	down := now.Add(-3 * time.Hour)
	record := fmt.Sprintf("last_reboot_date=2026-12-04\nvm_restart_date=2026-12-04\ndown_since=%d\nheld_reboot=SOS count=10\nmisfire_date=2026-12-06\nmisfire_boot=boot-1\n", down.Unix())
	text := statusOf(t, now, record, now.Add(3*time.Hour), "HOST_REBOOT_HOURS=2-5")
	held, misfire := statusLine(text, "held host reboot"), statusLine(text, "host reboot")
	h := testHost(t, nil)
	h.cfg.VMID = ""
	h.cfg.HostRebootHours, _ = config.ParseHours("2-5")
	st := rescue.State{DownSince: down, HeldReboot: "SOS count=10", MisfireDate: "2026-12-06", MisfireBoot: "boot-1", PauseUntil: now.Add(3 * time.Hour)}
	o := rescue.Obs{Now: now, Uptime: 72 * time.Hour, BootID: "boot-1"}
	host, _ := cronToday(h.cfg, st, o, nil)
	if host || !strings.Contains(held, "taken from 12-07 02:00") || !strings.Contains(misfire, "a run from 12-07 02:00 retries it") {
		t.Errorf("one status output:\n  %s\n  %s\nthe cron runs reboot the host today: %v; want both from 12-07 02:00", held, misfire, host)
	}
	resumed := st
	resumed.PauseUntil = time.Time{}
	if host, _ := cronToday(h.cfg, resumed, o, nil); !host || !strings.Contains(misfire, "hostcheck resume ends the pause") {
		t.Errorf("resumed, the cron runs reboot the host today: %v; the host reboot line: %s; want hostcheck resume in its fix", host, misfire)
	}
}

// TestHostStatusHeldRebootWindowUnset: a reboot held earlier by a
// HOST_REBOOT_HOURS unset since read "HOST_REBOOT_HOURS= holds it".
func TestHostStatusHeldRebootWindowUnset(t *testing.T) {
	now := time.Date(2026, 12, 6, 12, 0, 0, 0, time.UTC)
	record := fmt.Sprintf("last_reboot_date=2026-12-04\ndown_since=%d\nheld_reboot=SOS count=10\n", now.Add(-time.Hour).Unix())
	held := statusLine(statusOf(t, now, record, time.Time{}), "held host reboot")
	if strings.Contains(held, "HOST_REBOOT_HOURS= ") || !strings.Contains(held, "unset since") {
		t.Errorf("held line %q; want it held by a window unset since", held)
	}
}

// TestHostStatusHeldRebootSpentDay: a held host reboot on a day already
// spent (a misfire's slow shutdown landed after the window held a later
// SOS): the held line said "taken from 12-06 22:00", which no run of a
// spent day takes; the runs reboot the host no earlier than tomorrow.
func TestHostStatusHeldRebootSpentDay(t *testing.T) {
	now := time.Date(2026, 12, 6, 12, 0, 0, 0, time.UTC)
	down := now.Add(-8 * time.Hour)
	record := fmt.Sprintf("last_reboot_date=2026-12-06\nvm_restart_date=2026-12-06\ndown_since=%d\nheld_reboot=SOS count=10\n", down.Unix())
	held := statusLine(statusOf(t, now, record, time.Time{}, "HOST_REBOOT_HOURS=22-5"), "held host reboot")
	h := testHost(t, nil)
	h.cfg.VMID = ""
	h.cfg.HostRebootHours, _ = config.ParseHours("22-5")
	st := rescue.State{LastReboot: "2026-12-06", VMRestartDate: "2026-12-06", DownSince: down, HeldReboot: "SOS count=10"}
	host, _ := cronToday(h.cfg, st, rescue.Obs{Now: now, Uptime: 6 * time.Hour, BootID: "boot-1"}, nil)
	if host || !strings.Contains(held, "taken from 12-07 00:00") {
		t.Errorf("held line:\n  %s\nthe cron runs reboot the host today: %v; want it taken from 12-07 00:00", held, host)
	}
}
