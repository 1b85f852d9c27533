package main

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/pve-op/network-rescue/internal/hook"
	"github.com/pve-op/network-rescue/internal/ladder"
	"github.com/pve-op/network-rescue/internal/midnight"
)

// TestMissedMidnight: busybox crond does not run a job whose minute passed
// while it was not running, so a router rebooting (or powered off, or its
// VM cold-restarted by the host) at 00:00 kept yesterday's count for the
// whole new day: with count 10 the first rung of the day raised SOS ("10
// router reboots today") after no reboot that day. The first run after a
// boot now makes the reset up when net_rb_count was last written on an
// earlier day; a count written today, a count "from the future" (a clock
// behind, no RTC before NTP) and a run that is not the first of its boot
// are left alone.
func TestMissedMidnight(t *testing.T) {
	now := time.Date(2026, 11, 25, 0, 5, 0, 0, time.UTC)
	tests := []struct {
		name      string
		written   time.Time // net_rb_count's mtime
		sameBoot  bool      // a run of this boot came before
		wantCount string
		wantReset bool
	}{
		{"written yesterday, first run after boot", time.Date(2026, 11, 24, 23, 58, 0, 0, time.UTC), false, "0\n", true},
		{"written today", time.Date(2026, 11, 25, 0, 1, 0, 0, time.UTC), false, "10\n", false},
		{"written in the future (clock behind)", time.Date(2026, 11, 26, 9, 0, 0, 0, time.UTC), false, "10\n", false},
		{"written yesterday, not the first run of the boot", time.Date(2026, 11, 24, 23, 58, 0, 0, time.UTC), true, "10\n", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			conf, log := writeConf(t, dir, "L1_THRESHOLD=2", "L2_THRESHOLD=5", "L3_THRESHOLD=8", "L4_SOS_THRESHOLD=10",
				"L1_CMD=/bin/echo L1", "L2_CMD=/bin/echo L2", "L3_CMD=/bin/echo L3")
			count := filepath.Join(dir, "state", "net_rb_count")
			cooling := filepath.Join(dir, "state", "net_cooling_ts")
			if err := os.MkdirAll(filepath.Dir(count), 0o700); err != nil {
				t.Fatal(err)
			}
			var ran []string
			e := fakeEnv(t, &ran)
			e.Now = func() time.Time { return now }
			write := func() {
				t.Helper()
				if err := os.WriteFile(count, []byte("10\n"), 0o644); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(cooling, []byte(strconv.FormatInt(now.Add(time.Hour).Unix(), 10)+"\n"), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			write()
			if tt.sameBoot {
				if err := runEnvWithin(t, conf, e); err != nil {
					t.Fatal(err)
				}
			}
			if err := os.Chtimes(count, tt.written, tt.written); err != nil {
				t.Fatal(err)
			}
			before, _ := os.ReadFile(log)
			if err := runEnvWithin(t, conf, e); err != nil {
				t.Fatal(err)
			}
			b, _ := os.ReadFile(log)
			got := strings.TrimPrefix(string(b), string(before))
			if c, _ := os.ReadFile(count); string(c) != tt.wantCount {
				t.Errorf("net_rb_count = %q; want %q", c, tt.wantCount)
			}
			reset := strings.Contains(got, "【重置】补做零点重置") && strings.Contains(got, "old_count=10")
			if reset != tt.wantReset {
				t.Errorf("make-up reset logged %v; want %v; log:\n%s", reset, tt.wantReset, got)
			}
			if _, err := os.Stat(cooling); (err == nil) == tt.wantReset {
				t.Errorf("net_cooling_ts there %v after the run; want %v", err == nil, !tt.wantReset)
			}
			if strings.Contains(got, "【SOS】") {
				t.Errorf("the run raised SOS:\n%s", got)
			}
		})
	}
}

// TestMidnightWaitCoversRun: midnight-reset waits for a run holding the
// lock as long as the run can hold it after its probe: its action
// (ActionTimeout) and then ON_EVENT_CMD, run with the lock held once per
// event, at most three a run (ladder.Transitions: up or down, the step, SOS
// raised or withdrawn). It used to wait for the action alone, and an L2
// of 80 s with a hook of 25 s made it log 【严重错误】零点重置等锁超时
// for a run that was only slow.
func TestMidnightWaitCoversRun(t *testing.T) {
	if need := ActionTimeout + time.Second + 3*hook.Timeout; midnight.ActionTime < need {
		t.Errorf("midnight-reset waits ActionTime %v beyond the probe; a run can hold the lock %v", midnight.ActionTime, need)
	}
	// The most events one run fires: down after up, an L3, SOS raised.
	now := time.Date(2026, 11, 25, 10, 0, 0, 0, time.UTC)
	evs := ladder.Transitions(ladder.State{}, ladder.Input{Now: now}, ladder.Step{Action: ladder.L3, Next: ladder.State{SOS: true, Count: 1}})
	if len(evs) != 3 {
		t.Errorf("a run with every transition fires %d events (%v); ActionTime allows for 3", len(evs), evs)
	}
}
