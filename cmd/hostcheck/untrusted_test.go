package main

import (
	"reflect"
	"strings"
	"testing"

	"github.com/pve-op/network-rescue/internal/remote"
	"github.com/pve-op/network-rescue/internal/rescue"
)

// TestRouterObs: what the router sent, as the decision, the log and the
// mark see it (SPEC §15). It runs as any user; the end-to-end
// TestHostUntrustedRouterText checks the same through the real binary.
func TestRouterObs(t *testing.T) {
	tests := []struct {
		name string
		rs   remote.RouterState
		want rescue.Router
	}{
		{"netcheck's SOS line, newline dropped",
			remote.RouterState{SOS: true, SOSContent: "time=2025-01-01T03:04:05Z count=10 reason=ladder exhausted\n", HasCount: true, Count: "10\n"},
			rescue.Router{SOS: true, SOSContent: "time=2025-01-01T03:04:05Z count=10 reason=ladder exhausted", Count: "10", SelfKnown: true, SelfUp: true}},
		{"forged log line and tag escaped",
			remote.RouterState{SOS: true, SOSContent: "x\n2026-01-01 00:00:00 ERROR 【严重错误】检测到 PVE 未能成功重启！\x1b[31m", HasCount: true, Count: "1\r【回退】"},
			rescue.Router{SOS: true,
				SOSContent: `x\n2026-01-01 00:00:00 ERROR \u3010\u4e25\u91cd\u9519\u8bef\u3011\u68c0\u6d4b\u5230 PVE \u672a\u80fd\u6210\u529f\u91cd\u542f\uff01\x1b[31m`,
				Count:      `1\r\u3010\u56de\u9000\u3011`, SelfKnown: true, SelfUp: true}},
		{"damaged SOS is SOS, named by its kind",
			remote.RouterState{SOS: true, SOSDamaged: "fifo", HasCount: true, CountDamaged: "directory"},
			rescue.Router{SOS: true, SOSContent: "(damaged: fifo, not read)", Count: "(damaged: directory, not read)", SelfKnown: true, SelfUp: true}},
		{"long SOS bounded",
			remote.RouterState{SOS: true, SOSContent: strings.Repeat("s", remote.MaxFileRead), SOSTruncated: true},
			rescue.Router{SOS: true, SOSContent: strings.Repeat("s", maxShownSOS-3) + "...", NoCount: true, SelfKnown: true, SelfUp: true}},
		// SPEC §14: the router's own view, from net_outage as netcheck's
		// ladder.Store writes it (since=0 while up, the unix time of the
		// first failed run while down).
		{"router sees the outage", remote.RouterState{HasOutage: true, Outage: "isp=none\nlast_action=L1\nsince=1764000000\nup_since=0\n"},
			rescue.Router{NoCount: true, SelfKnown: true}},
		{"router up, its count awaiting RECOVERY_STABLE", remote.RouterState{HasOutage: true, Outage: "isp=none\nlast_action=none\nsince=0\nup_since=1764000000\n"},
			rescue.Router{NoCount: true, SelfKnown: true, SelfUp: true}},
		{"damaged net_outage: unknown", remote.RouterState{HasOutage: true, OutageDamaged: "fifo"}, rescue.Router{NoCount: true}},
		{"garbage net_outage: unknown", remote.RouterState{HasOutage: true, Outage: "since=yesterday\n"}, rescue.Router{NoCount: true}},
		// No count file reads as 0 (SPEC §5); an empty one is damage: a
		// held SOS is answered on the first, not the second.
		{"empty count file", remote.RouterState{HasCount: true, Count: ""}, rescue.Router{SelfKnown: true, SelfUp: true}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := routerObs(tt.rs); !reflect.DeepEqual(got, tt.want) {
				t.Errorf("routerObs(%+v) =\n%+v; want\n%+v", tt.rs, got, tt.want)
			}
		})
	}
}

// TestDrillErrorEscapesRouterText: drill's "not as before" error shows
// the router's state, whose SOS text comes from the router: a terminal
// escape or a forged log tag in it is shown escaped (SPEC §15).
func TestDrillErrorEscapesRouterText(t *testing.T) {
	evil := "\x1b[2J\r【回退】forged\n"
	err := notAsBefore(remote.RouterState{SOS: true, SOSContent: evil}, remote.RouterState{}, nil)
	if strings.ContainsAny(err.Error(), "\x1b\r\n") {
		t.Errorf("drill error holds raw router text: %q", err.Error())
	}
}
