package ladder

import (
	"testing"
	"time"

	"pgregory.net/rapid"

	"github.com/pve-op/network-rescue/internal/assist"
	"github.com/pve-op/network-rescue/internal/config"
)

// TestLadderInvariants drives Decide with random sequences of probe
// results, reboots, clock jumps and midnight resets, and checks the
// promises of SPEC §5: never L3 under SAFE_UPTIME, never an action while
// cooling or under SOS, and SOS only once the count reaches L4_SOS_THRESHOLD;
// and of SPEC §16: while paused, no action, no SOS raised, no count added.
// The host's acknowledgements and assist reboots (SPEC §6, §14) come in
// between: an assist reboot follows the rules of an L3, and the day's
// assists stay within the count. ON_EVENT_CMD hears each outage's down
// and up once, through reboots, coolings, SOS and pauses.
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
		told := false // down, as ON_EVENT_CMD heard it (SPEC §16): each outage's down and up once
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
			case 3: // a person pauses the rescue (SPEC §16), or resumes it
				st.PauseUntil = now.Add(time.Duration(rapid.IntRange(-10, 180).Draw(t, "pause")) * time.Minute)
			case 4: // the host acknowledges an SOS over SSH (SPEC §6 step 6)
				st.Count, st.Cooling, st.SOS = 0, time.Time{}, false
			case 5, 6: // the host asks for a reboot (a LAN fault, SPEC §14)
				up := max(now.Sub(boot), 0)
				a := DecideAssist(cfg, st, AssistInput{Now: now, Uptime: up, Step: assist.Reboot})
				if a.Action == L3 {
					paused := !st.PauseUntil.IsZero() && now.Before(st.PauseUntil)
					if st.SOS || coolingNow(st, now) || paused || up < cfg.SafeUptime || a.Next.Count >= cfg.L4SOSThreshold || a.Next.Count != st.Count+1 {
						t.Fatalf("run %d: assist reboot with SOS %v, cooling %v, paused %v, uptime %v, count %d -> %d (SOS at %d)",
							i, st.SOS, st.Cooling, paused, up, st.Count, a.Next.Count, cfg.L4SOSThreshold)
					}
					st = a.Next
					bootN++
					now = now.Add(RebootTime)
					boot = now
					st.Boot, st.Streak, st.SOSLogged, st.CoolingLogged = "", 0, time.Time{}, false
				}
			}
			now = now.Add(time.Minute)
			in := Input{Now: now, Up: rapid.IntRange(0, 9).Draw(t, "up") == 0, Uptime: max(now.Sub(boot), 0),
				BootID: string(rune('a' + bootN%26)), NextHop: Hop(rapid.IntRange(0, 2).Draw(t, "hop"))}
			s := Decide(cfg, st, in)
			for _, ev := range Transitions(st, in, s) {
				if ev.Name == "down" || ev.Name == "up" {
					if told == (ev.Name == "down") {
						t.Fatalf("run %d: %s told twice", i, ev.Name)
					}
					told = ev.Name == "down"
				}
			}
			if told == in.Up {
				t.Fatalf("run %d: net up %v, ON_EVENT_CMD told down %v: a transition not told", i, in.Up, told)
			}
			cooling := !st.Cooling.IsZero() && now.Before(st.Cooling)
			paused := !st.PauseUntil.IsZero() && now.Before(st.PauseUntil)
			switch {
			case paused && (s.Action != None || s.Next.SOS && !st.SOS || s.Next.Count > st.Count):
				t.Fatalf("run %d: paused until %v, yet action %v, SOS %v -> %v, count %d -> %d",
					i, st.PauseUntil, s.Action, st.SOS, s.Next.SOS, st.Count, s.Next.Count)
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
			case s.Next.Count < 0 || s.Next.Outage.Assists < 0 || s.Next.Outage.Assists > s.Next.Count:
				// The day's assists are reboots the count holds (SPEC §14).
				t.Fatalf("run %d: count %d, assists %d", i, s.Next.Count, s.Next.Outage.Assists)
			case !in.Up && in.NextHop == HopAnswers && (s.Action == L3 || s.Next.SOS && !st.SOS || s.Next.Count != st.Count):
				// SPEC §14: the next hop answers, nothing beyond it does.
				t.Fatalf("run %d: next hop answers, yet action %v, SOS %v -> %v, count %d -> %d",
					i, s.Action, st.SOS, s.Next.SOS, st.Count, s.Next.Count)
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

// TestISPOutageInvariant: an outage beyond the next hop, which answers on
// every run, never yields an L3 or an SOS and never changes the count,
// whatever the config, the state found, the reboots for other reasons,
// the midnight resets and the clock steps (SPEC §14). Without a reboot in
// between, L1 and L2 run exactly once each.
func TestISPOutageInvariant(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		cfg := config.Default(config.Router)
		cfg.L1Threshold = rapid.IntRange(0, 3).Draw(t, "l1")
		cfg.L2Threshold = rapid.IntRange(cfg.L1Threshold+1, 6).Draw(t, "l2")
		cfg.L3Threshold = rapid.IntRange(cfg.L2Threshold+1, 12).Draw(t, "l3")
		cfg.L4SOSThreshold = rapid.IntRange(1, 12).Draw(t, "l4")
		cfg.SafeUptime = time.Duration(rapid.IntRange(0, 20).Draw(t, "safe")) * time.Minute
		cfg.DryRun = rapid.Bool().Draw(t, "dry")
		now := t0
		boot := now.Add(-time.Duration(rapid.IntRange(0, 48*60).Draw(t, "uptime")) * time.Minute)
		bootN := 0
		// Whatever an earlier outage left, short of an SOS already raised.
		st := State{Count: rapid.IntRange(0, cfg.L4SOSThreshold-1).Draw(t, "count"), Boot: "a",
			Streak: rapid.IntRange(0, 30).Draw(t, "streak")}
		if rapid.Bool().Draw(t, "cooling") {
			st.Cooling = now.Add(time.Duration(rapid.IntRange(-120, 180).Draw(t, "cool")) * time.Minute)
		}
		count0, streak0, cooling0 := st.Count, st.Streak, !st.Cooling.IsZero()
		actions := map[Action]int{}
		rebooted := false
		for i, n := 0, rapid.IntRange(1, 600).Draw(t, "runs"); i < n; i++ {
			switch rapid.IntRange(0, 60).Draw(t, "event") {
			case 0: // a power cut
				rebooted = true
				bootN++
				boot = now
				st.Boot, st.Streak, st.SOSLogged, st.CoolingLogged = "", 0, time.Time{}, false
			case 1: // midnight-reset
				st.Count, st.Cooling, st.SOS = 0, time.Time{}, false
				count0 = 0
			case 2: // clock step of up to ±1 day
				now = now.Add(time.Duration(rapid.IntRange(-1440, 1440).Draw(t, "step")) * time.Minute)
			}
			now = now.Add(time.Minute)
			s := Decide(cfg, st, Input{Now: now, Up: false, Uptime: max(now.Sub(boot), 0),
				BootID: string(rune('a' + bootN%26)), NextHop: HopAnswers, NextHopAddr: "192.0.2.1"})
			if s.Action == L3 || s.Next.SOS || s.Next.Count != count0 {
				t.Fatalf("run %d: the next hop answers, yet action %v, SOS %v, count %d (was %d)", i, s.Action, s.Next.SOS, s.Next.Count, count0)
			}
			actions[s.Action]++
			st = s.Next
		}
		if !rebooted && !cooling0 {
			// No reboot and no cooling in the way: each threshold between the
			// streak found and the streak now was crossed exactly once.
			for a, th := range map[Action]int{L1: cfg.L1Threshold, L2: cfg.L2Threshold} {
				want := 0
				if th > streak0 && th <= st.Streak {
					want = 1
				}
				if actions[a] != want {
					t.Fatalf("%v ran %d times; want %d (threshold %d, streak %d -> %d)", a, actions[a], want, th, streak0, st.Streak)
				}
			}
		}
	})
}
