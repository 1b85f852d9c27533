package ladder

import (
	"testing"
	"time"

	"pgregory.net/rapid"

	"github.com/pve-op/network-rescue/internal/config"
)

// TestLadderInvariants drives Decide with random sequences of probe
// results, reboots, clock jumps and midnight resets, and checks the
// promises of SPEC §5: never L3 under SAFE_UPTIME, never an action while
// cooling or under SOS, and SOS only once the count reaches L4_SOS_THRESHOLD.
func TestLadderInvariants(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		cfg := config.Default(config.Router)
		cfg.L1Threshold = rapid.IntRange(0, 3).Draw(t, "l1")
		cfg.L2Threshold = rapid.IntRange(cfg.L1Threshold+1, 6).Draw(t, "l2")
		cfg.L3Threshold = rapid.IntRange(cfg.L2Threshold+1, 12).Draw(t, "l3")
		cfg.L4SOSThreshold = rapid.IntRange(1, 12).Draw(t, "l4")
		cfg.SafeUptime = time.Duration(rapid.IntRange(0, 20).Draw(t, "safe")) * time.Minute
		cfg.CoolingFreeReboots = rapid.IntRange(0, 4).Draw(t, "free")
		cfg.RecoveryStable = time.Duration(rapid.IntRange(0, 40).Draw(t, "stable")) * time.Minute

		now := t0
		boot := now.Add(-time.Hour)
		bootN := 0
		var st State
		for i, n := 0, rapid.IntRange(1, 400).Draw(t, "runs"); i < n; i++ {
			switch rapid.IntRange(0, 30).Draw(t, "event") {
			case 0: // a reboot for another reason (power cut)
				bootN++
				boot = now
				st.Boot, st.Streak, st.SOSLogged, st.CoolingLogged = "", 0, time.Time{}, false
			case 1: // midnight-reset
				st.Count, st.Cooling, st.SOS = 0, time.Time{}, false
			case 2: // clock step of up to ±1 day
				now = now.Add(time.Duration(rapid.IntRange(-1440, 1440).Draw(t, "step")) * time.Minute)
			}
			now = now.Add(time.Minute)
			in := Input{Now: now, Up: rapid.IntRange(0, 9).Draw(t, "up") == 0, Uptime: max(now.Sub(boot), 0),
				BootID: string(rune('a' + bootN%26))}
			s := Decide(cfg, st, in)
			cooling := !st.Cooling.IsZero() && now.Before(st.Cooling)
			switch {
			case s.Action != None && in.Up:
				t.Fatalf("run %d: action %v while the net is up", i, s.Action)
			case s.Action != None && st.SOS:
				t.Fatalf("run %d: action %v under SOS", i, s.Action)
			case s.Action != None && cooling:
				t.Fatalf("run %d: action %v while cooling until %v (now %v)", i, s.Action, st.Cooling, now)
			case s.Action == L3 && in.Uptime < cfg.SafeUptime:
				t.Fatalf("run %d: L3 at uptime %v < SAFE_UPTIME %v", i, in.Uptime, cfg.SafeUptime)
			case s.Next.SOS && !st.SOS && s.Next.Count < cfg.L4SOSThreshold:
				t.Fatalf("run %d: SOS raised at count %d < %d", i, s.Next.Count, cfg.L4SOSThreshold)
			case s.Next.Count > st.Count+1:
				t.Fatalf("run %d: count jumped %d -> %d", i, st.Count, s.Next.Count)
			}
			st = s.Next
			if s.Action == L3 {
				bootN++
				now = now.Add(RebootTime)
				boot = now
				st.Boot, st.Streak, st.SOSLogged, st.CoolingLogged = "", 0, time.Time{}, false
			}
		}
	})
}
