package main

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/pve-op/network-rescue/internal/config"
)

// TestNetrescueTime pins figures worked out by hand from SPEC §5/§6 under
// the default config: cron runs netcheck at every full minute, the acting
// run's probe waits PROBE_TIMEOUT (3 s) before the command starts.
func TestNetrescueTime(t *testing.T) {
	rcfg, hcfg := config.Default(config.Router), config.Default(config.Host)
	at := func(hms string) time.Time {
		d, err := time.ParseDuration(hms)
		if err != nil {
			t.Fatal(err)
		}
		return faultBase().Add(d)
	}
	tests := []struct {
		name  string
		fault fault
		at    time.Time
		want  time.Duration
	}{
		// Fault 08:00:30: failed runs at 08:01 and 08:02; L1 at the 2nd.
		{"L1, fault mid-minute", byL1, at("30s"), 1*time.Minute + 33*time.Second},
		// Fault right at a cron tick: that run still saw the net up.
		{"L1, fault at a tick", byL1, at("0s"), 2*time.Minute + 3*time.Second},
		{"L2 at the 5th failed run", byL2, at("30s"), 4*time.Minute + 33*time.Second},
		{"L3 at the 10th failed run", byRouterReboot, at("30s"), 9*time.Minute + 33*time.Second},
		// Reboot #1 at 08:10. Each later cycle: back 1 min after the
		// reboot, 10 failed runs, but the 10th finds uptime 9 min <
		// SAFE_UPTIME (10 min), so the reboot comes at the 11th: reboots
		// at 08:10, :21, :32, :43, :54, 09:05, 09:16 (#7, cooling 1 h to
		// 10:16), 10:25 (#8, 2 h to 12:25), 12:34 (#9, 3 h to 15:34); the
		// 10th failed run after that, 15:43, raises SOS; hostcheck at
		// 15:45 reboots the host, after its 3 s probe.
		{"host reboot after SOS", byHostReboot, at("30s"), 7*time.Hour + 44*time.Minute + 33*time.Second},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ok := netrescueTime(rcfg, hcfg, tt.fault, tt.at)
			if !ok || got != tt.want {
				t.Errorf("netrescueTime(%v, %s) = %v, %v; want %v", tt.fault, tt.at.Format("15:04:05"), got, ok, tt.want)
			}
		})
	}
}

// TestOriginalTime pins the model of the original scripts to figures
// worked out by hand: a failed pass takes 11 s of ping and 60 s of sleep
// (71 s), L1 adds 10 s, L2 10 s, a reboot 60 s, and after a reboot the
// loop starts at once.
func TestOriginalTime(t *testing.T) {
	tests := []struct {
		name        string
		fault       fault
		router, hst time.Duration
		want        time.Duration
	}{
		// Passes at 30 s and 101 s; L1 when the 2nd ping fails: 112 s.
		{"L1 at retry 2", byL1, 30 * time.Second, time.Hour, 112 * time.Second},
		// 30 + 4×71 + 10 (L1) + 11 = 335 s.
		{"L2 at retry 5", byL2, 30 * time.Second, time.Hour, 335 * time.Second},
		// 30 + 9×71 + 10 + 10 + 11 = 700 s.
		{"L3 at retry 10", byRouterReboot, 30 * time.Second, time.Hour, 700 * time.Second},
		// Reboot #1 at 700 s; each later cycle is 60 s of boot + 640 s
		// of passes (uptime 640 s ≥ 600: no safe lock) = 700 s, so #7 at
		// 700+6×700 = 4900 s; cooling 1/2/3 h after #7/#8/#9 adds 3600,
		// 7200, 10800 s plus 640 s each: SOS at 4900+4240+7840+11440 =
		// 28420 s. The host checks at 3600 s + k×7211 s; the first after
		// SOS is 32444 s, and it acts after its 11 s ping: 32455 s.
		{"host after SOS", byHostReboot, 30 * time.Second, time.Hour, 32455 * time.Second},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ok := originalTime(tt.fault, faultBase(), tt.router, tt.hst)
			if !ok || got != tt.want {
				t.Errorf("originalTime(%v, %v, %v) = %v, %v; want %v", tt.fault, tt.router, tt.hst, got, ok, tt.want)
			}
		})
	}
}

func TestRunPrintsTable(t *testing.T) {
	tests := []struct {
		name string
		args []string
		want []string
	}{
		{"text", nil, []string{"fault fixed by", "L1 (redial WAN)", "1.6 min (1.1–2.0)", "host reboot (after SOS)", "7h45m",
			// SPEC §13 goals: stopped ≤ 6 min, hung with an agent ≤ 16 min; the
			// original scripts never help a VM that raises no SOS.
			"router VM stopped               2.6 min (0.1–5.0)              never",
			"router VM hung (agent)          13.1 min (10.7–15.6)           never",
			"router VM hung (no agent)       22.8 min (20.4–25.3)           never",
			// SPEC §14 goals: DNS ≤ 11 min, LAN path ≤ 16 min; the originals never.
			"DNS forwarder dead              7.6 min (5.1–10.1)             never",
			"LAN path broken (L2 fixes)      7.6 min (5.1–10.1)             never",
			"LAN path broken (reboot fixes)  12.6 min (10.1–15.1)           never"}},
		{"markdown", []string{"-md"}, []string{"| fault fixed by |", "|---|", "| router reboot (L3) | 9.6 min (9.1–10.1) |"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out, errOut bytes.Buffer
			if err := run(tt.args, &out, &errOut); err != nil {
				t.Fatalf("run(%q) = %v; stderr %s", tt.args, err, errOut.String())
			}
			for _, w := range tt.want {
				if !strings.Contains(out.String(), w) {
					t.Errorf("run(%q) output lacks %q:\n%s", tt.args, w, out.String())
				}
			}
		})
	}
}
