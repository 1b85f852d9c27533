package rescue

import (
	"testing"
	"time"

	"github.com/pve-op/network-rescue/internal/config"
	"github.com/pve-op/network-rescue/internal/qm"
)

// TestHungDelayCronJitter: cron starts hostcheck at every fifth minute,
// and each run reads the clock a few milliseconds after its start; those
// milliseconds differ from run to run. The router's silence is counted
// from the first failing run's reading, so two cron ticks VM_HUNG_AFTER
// (10m) apart read 9m59.9s as often as 10m0.1s, and the hung VM waited a
// whole cycle more: cold-restarted 15 minutes after the first failing
// run, not 10, beyond SPEC §13's "hung VM ≤ 16 min" (hung at 09:55:01,
// seen at 10:00, restarted at 10:15). The same for ROUTER_HUNG_AFTER
// (no guest agent). The delays are counted in cron's ticks: the run
// whose tick is the delay after the first failing one acts.
func TestHungDelayCronJitter(t *testing.T) {
	base := time.Date(2026, 11, 25, 10, 0, 0, 0, cst)
	// Clock readings of the runs at 10:00, 10:05, … (ms after the tick).
	jitter := []time.Duration{212, 187, 151, 240, 98}
	for _, tt := range []struct {
		name  string
		agent bool
		want  string // the tick of the cold restart
	}{
		{"agent silent: VM_HUNG_AFTER", true, "10:10"},
		{"no agent: ROUTER_HUNG_AFTER", false, "10:20"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			cfg := config.Default(config.Host)
			cfg.VMID = "100"
			var st State
			got := ""
			for i, j := range jitter {
				now := base.Add(time.Duration(i)*HostEvery + j*time.Millisecond)
				o := Obs{Now: now, Uptime: 24 * time.Hour, BootID: "boot1", NetKnown: true, NetDetail: "down",
					VMKnown: true, VM: VMStatus{Status: "running", QMP: "running"},
					RouterKnown: true, Router: Router{Err: "dial tcp 192.168.10.1:22: i/o timeout", ErrKind: "timeout"},
					LANKnown: true, VMConfigKnown: true, VMConfig: VMConfig{AgentEnabled: tt.agent},
					AgentKnown: true, Agent: qm.PingNoAnswer, GuardsKnown: true, SystemKnown: true, SystemState: "running"}
				s := Decide(cfg, st, o)
				if s.Need != NeedNothing {
					t.Fatalf("%s: needs %v", now.Format("15:04:05.000"), s.Need)
				}
				st = s.Next
				if s.Action == VMRestart {
					got = now.Format("15:04")
					break
				}
			}
			if got != tt.want {
				t.Errorf("the hung router VM was cold-restarted at %q; want at the %s run (first failing run 10:00, the delay counted in cron ticks)", got, tt.want)
			}
		})
	}
}

// TestNoNetcheckHoldCronJitter: the router's answer that it cannot run
// netcheck holds LAN faults for NoNetcheckHold (an hour, LANHoldRuns
// runs), from the clock reading of the run it answered, 10:10:00.240.
// The 【LAN】 line says "11:10 前不按局域网故障处理", yet the run at the
// 11:10 tick reads 11:10:00.098, before the hold's end to the
// millisecond, and held the fault five minutes more, about half the time:
// counted in cron's ticks, as the hung delays are (cronSlack).
func TestNoNetcheckHoldCronJitter(t *testing.T) {
	answered := time.Date(2026, 11, 25, 10, 10, 0, 240e6, cst)
	st := State{NoNetcheckAt: answered}
	for _, tt := range []struct {
		now  time.Time
		hold bool
	}{
		{time.Date(2026, 11, 25, 11, 5, 0, 187e6, cst), true},
		{time.Date(2026, 11, 25, 11, 10, 0, 98e6, cst), false},
	} {
		if got := st.noNetcheck(tt.now); got != tt.hold {
			t.Errorf("answered at %s, the run at %s: held %v; want %v (said: until %s)", answered.Format("15:04:05.000"),
				tt.now.Format("15:04:05.000"), got, tt.hold, st.NoNetcheckUntil().Format("15:04"))
		}
	}
}
