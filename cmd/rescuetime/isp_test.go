package main

import (
	"testing"
	"time"

	"github.com/pve-op/network-rescue/internal/config"
	"github.com/pve-op/network-rescue/internal/ladder"
)

// TestNetrescueISP: under the defaults, 12 h of an ISP outage with the next
// hop answering cost L1 once and L2 once and nothing disruptive; without
// the next hop (WAN_GATEWAY=off) the same decisions reboot the router each
// ladder cycle and, at SOS, the host (SPEC §14).
func TestNetrescueISP(t *testing.T) {
	rcfg, hcfg := config.Default(config.Router), config.Default(config.Host)
	at := faultBase().Add(30 * time.Second)
	if got, want := netrescueISP(rcfg, hcfg, ladder.HopAnswers, at), (ispCount{l1: 1, l2: 1}); got != want {
		t.Errorf("netrescueISP(next hop answers) = %+v; want %+v", got, want)
	}
	rcfg.WanGateway = config.GatewayOff
	// As in TestNetrescueTime: reboots #1–#9, SOS at 15:43, the host
	// reboots at 15:45 with the router; the router then starts over.
	got := netrescueISP(rcfg, hcfg, ladder.HopUnknown, at)
	if got.hostReboots != 1 || got.sos != 1 || got.routerReboots < 9 {
		t.Errorf("netrescueISP(WAN_GATEWAY=off) = %+v; want 1 host reboot, 1 SOS, at least 9 router reboots", got)
	}
}

// TestOriginalISP pins the model: as in TestOriginalTime, reboots #1–#9
// come before SOS and the host reboots at 32455 s; the router is back 60 s
// later with its count reset, and a failed ladder cycle takes 670 s of
// passes plus 60 s of boot: #1 at 33185 s, #7 at 33185+6×730 = 37565 s,
// then 1 h of cooling, and #8 one cycle after it ends (≈ 41900 s), before
// the 12 h window ends at 43200 s: 9 + 8 = 17 router reboots.
func TestOriginalISP(t *testing.T) {
	got := originalISP(faultBase(), 30*time.Second, time.Hour)
	if got.routerReboots != 17 || got.hostReboots != 1 || got.sos != 1 {
		t.Errorf("originalISP = %+v; want 17 router reboots, 1 host reboot, 1 SOS", got)
	}
}

func TestISPTable(t *testing.T) {
	r := ispTable(config.Default(config.Router), config.Default(config.Host))
	if r.netrescue.worst != 0 || r.original.best <= 1 || r.netrescueOff.best <= 1 {
		t.Errorf("ispTable = %+v; want netrescue 0/h in every case, the original and WAN_GATEWAY=off above 1/h", r)
	}
}
