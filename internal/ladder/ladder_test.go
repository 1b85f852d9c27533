package ladder

import (
	"fmt"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/pve-op/network-rescue/internal/config"
)

var t0 = time.Date(2026, 11, 25, 10, 0, 0, 0, time.UTC)

func testConfig() config.Config {
	c := config.Default(config.Router)
	c.RecoveryStable = 30 * time.Minute
	return c
}

func msgs(s Step) string {
	var out []string
	for _, e := range s.Events {
		out = append(out, e.Msg)
	}
	return strings.Join(out, " | ")
}

// TestDecideRules checks every rule of SPEC §5 on a single run.
func TestDecideRules(t *testing.T) {
	up := func(d time.Duration) Input { return Input{Now: t0, Up: true, Uptime: d, BootID: "b"} }
	down := func(d time.Duration) Input { return Input{Now: t0, Up: false, Uptime: d, BootID: "b"} }
	long := time.Hour
	tests := []struct {
		name       string
		cfg        func(*config.Config)
		st         State
		in         Input
		wantAction Action
		wantMsg    []string // substrings, in order
		wantNoMsg  []string
		check      func(t *testing.T, n State)
	}{
		{name: "healthy run says nothing and changes nothing",
			st: State{Boot: "b"}, in: up(long), wantAction: None,
			check: func(t *testing.T, n State) {
				if n != (State{Boot: "b"}) {
					t.Errorf("state changed: %+v", n)
				}
			}},
		{name: "first run after boot logs 【启动】",
			st: State{Count: 3}, in: up(long), wantMsg: []string{"【启动】"}},
		{name: "boot id change is a boot",
			st: State{Boot: "old", Streak: 7}, in: down(long), wantMsg: []string{"【启动】", "第 1 次失败"}},
		{name: "first failure alarms",
			st: State{Boot: "b"}, in: down(long), wantMsg: []string{"【报警】网络断开 (第 1 次失败)。"},
			check: func(t *testing.T, n State) {
				if n.Streak != 1 || !n.Outage.Since.Equal(t0) {
					t.Errorf("streak %d since %v; want 1, %v", n.Streak, n.Outage.Since, t0)
				}
			}},
		{name: "L1 at L1_THRESHOLD", st: State{Boot: "b", Streak: 1}, in: down(long), wantAction: L1,
			wantMsg: []string{"第 2 次失败", "【L1-动作】重拨 WAN 接口 (ifdown/ifup wan)…"}},
		{name: "L1 names the configured WAN_IFACE", cfg: func(c *config.Config) { c.WanIface = "wan6" },
			st: State{Boot: "b", Streak: 1}, in: down(long), wantAction: L1,
			wantMsg: []string{"【L1-动作】重拨 WAN 接口 (ifdown/ifup wan6)…"}, wantNoMsg: []string{"ifup wan)"}},
		{name: "L2 at L2_THRESHOLD", st: State{Boot: "b", Streak: 4}, in: down(long), wantAction: L2,
			wantMsg: []string{"第 5 次失败", "【L2-动作】"}},
		{name: "nothing between L2 and L3", st: State{Boot: "b", Streak: 6}, in: down(long), wantAction: None,
			wantNoMsg: []string{"动作"}},
		{name: "L3 at L3_THRESHOLD counts the reboot", st: State{Boot: "b", Streak: 9}, in: down(long), wantAction: L3,
			wantMsg: []string{"【L3-动作】执行物理重启 (#1)…"},
			check: func(t *testing.T, n State) {
				if n.Count != 1 || !n.Cooling.IsZero() || n.Outage.LastAction != L3 {
					t.Errorf("count %d cooling %v last %v; want 1, none, L3", n.Count, n.Cooling, n.Outage.LastAction)
				}
			}},
		{name: "L3 under SAFE_UPTIME is locked", st: State{Boot: "b", Streak: 9}, in: down(5 * time.Minute),
			wantAction: None, wantMsg: []string{"【安全锁】"},
			check: func(t *testing.T, n State) {
				if n.Count != 0 {
					t.Errorf("count %d; want 0", n.Count)
				}
			}},
		// SAFE_UPTIME (600 s) at its edge: up exactly that long may reboot,
		// a second less is locked.
		{name: "L3 at exactly SAFE_UPTIME acts", st: State{Boot: "b", Streak: 9}, in: down(600 * time.Second), wantAction: L3,
			wantMsg: []string{"【L3-动作】"}},
		{name: "L3 a second under SAFE_UPTIME is locked", st: State{Boot: "b", Streak: 9}, in: down(599 * time.Second),
			wantAction: None, wantMsg: []string{"【安全锁】"}},
		{name: "7th reboot cools 1h", st: State{Boot: "b", Streak: 9, Count: 6}, in: down(long), wantAction: L3,
			wantMsg: []string{"(#7)"},
			check: func(t *testing.T, n State) {
				if want := t0.Add(time.Hour); !n.Cooling.Equal(want) {
					t.Errorf("cooling %v; want %v", n.Cooling, want)
				}
			}},
		{name: "9th reboot cools 3h (the max)", cfg: func(c *config.Config) { c.L4SOSThreshold = 15 },
			st: State{Boot: "b", Streak: 9, Count: 10}, in: down(long), wantAction: L3,
			check: func(t *testing.T, n State) {
				if want := t0.Add(3 * time.Hour); !n.Cooling.Equal(want) {
					t.Errorf("cooling %v; want %v", n.Cooling, want)
				}
			}},
		{name: "count reaching L4_SOS_THRESHOLD raises SOS instead of rebooting",
			st: State{Boot: "b", Streak: 9, Count: 9}, in: down(long), wantAction: None,
			wantMsg: []string{"【SOS】今日自愈已达 10 次上限。生成 SOS 信号，停止自救。"},
			check: func(t *testing.T, n State) {
				if !n.SOS || !strings.Contains(n.SOSContent, "count=10") {
					t.Errorf("sos %v %q; want raised with count=10", n.SOS, n.SOSContent)
				}
			}},
		{name: "PROFILE=aggressive raises SOS at 5", cfg: func(c *config.Config) { c.L4SOSThreshold = config.Profiles["aggressive"] },
			st: State{Boot: "b", Streak: 9, Count: 4}, in: down(long), wantAction: None, wantMsg: []string{"【SOS】"}},
		{name: "under SOS nothing is done", st: State{Boot: "b", Streak: 30, SOS: true, SOSLogged: t0.Add(-time.Minute)},
			in: down(long), wantAction: None,
			check: func(t *testing.T, n State) {
				if !n.SOSLogged.Equal(t0.Add(-time.Minute)) {
					t.Errorf("SOS waiting line logged again within 30 min")
				}
			}},
		{name: "under SOS the waiting line repeats after 30 min",
			st: State{Boot: "b", Streak: 30, SOS: true, SOSLogged: t0.Add(-SOSLogEvery)},
			in: down(long), wantAction: None, wantMsg: []string{"等待 PVE 介入"}},
		{name: "cooling: no action, streak frozen, 【冷却】 once",
			st: State{Boot: "b", Streak: 0, Count: 7, Cooling: t0.Add(time.Hour)}, in: down(long), wantAction: None,
			wantMsg: []string{"【冷却】"}, wantNoMsg: []string{"【报警】"},
			check: func(t *testing.T, n State) {
				if n.Streak != 0 || !n.CoolingLogged {
					t.Errorf("streak %d logged %v; want 0 true", n.Streak, n.CoolingLogged)
				}
			}},
		{name: "cooling already logged stays quiet",
			st: State{Boot: "b", Count: 7, Cooling: t0.Add(time.Hour), CoolingLogged: true}, in: down(long),
			wantNoMsg: []string{"【"}},
		{name: "cooling deadline passed: 【熔断解除】 and the ladder restarts at 1",
			st: State{Boot: "b", Streak: 0, Count: 7, Cooling: t0.Add(-time.Second), CoolingLogged: true}, in: down(long),
			wantMsg: []string{"【熔断解除】", "第 1 次失败"},
			check: func(t *testing.T, n State) {
				if n.Streak != 1 || !n.Cooling.IsZero() {
					t.Errorf("streak %d cooling %v; want 1, none", n.Streak, n.Cooling)
				}
			}},
		// The streak the cooling froze (an L3_CMD that did not reboot, or
		// a dry run, keeps it at L3_THRESHOLD) starts over too: L1 next,
		// not another L3 at once (SPEC §5 rule 3).
		{name: "cooling deadline passed with the streak at L3: the ladder restarts at 1, no L3",
			st: State{Boot: "b", Streak: 10, Count: 7, Cooling: t0.Add(-time.Second), CoolingLogged: true}, in: down(long),
			wantMsg: []string{"【熔断解除】", "第 1 次失败"}, wantNoMsg: []string{"【L3-动作】"},
			check: func(t *testing.T, n State) {
				if n.Streak != 1 || !n.Cooling.IsZero() || n.Count != 7 {
					t.Errorf("streak %d cooling %v count %d; want 1, none, 7", n.Streak, n.Cooling, n.Count)
				}
			}},
		{name: "recovery logs 【状态恢复】 with length and last action",
			st: State{Boot: "b", Streak: 5, Outage: Outage{Since: t0.Add(-5 * time.Minute), LastAction: L2}}, in: up(long),
			wantMsg: []string{"【状态恢复】网络已恢复"},
			check: func(t *testing.T, n State) {
				if n.Streak != 0 || n.Outage != (Outage{}) {
					t.Errorf("streak %d outage %+v; want cleared", n.Streak, n.Outage)
				}
			}},
		{name: "recovery withdraws SOS",
			st: State{Boot: "b", SOS: true, Count: 10, Outage: Outage{Since: t0.Add(-time.Hour)}}, in: up(long),
			wantMsg: []string{"【状态恢复】", "【SOS 撤回】"},
			check: func(t *testing.T, n State) {
				if n.SOS || n.Count != 10 || !n.Outage.UpSince.Equal(t0) {
					t.Errorf("sos %v count %d upsince %v; want false, 10 kept, now", n.SOS, n.Count, n.Outage.UpSince)
				}
			}},
		{name: "count kept until RECOVERY_STABLE",
			st: State{Boot: "b", Count: 3, Outage: Outage{UpSince: t0.Add(-29 * time.Minute)}}, in: up(long),
			wantNoMsg: []string{"清零"},
			check: func(t *testing.T, n State) {
				if n.Count != 3 {
					t.Errorf("count %d; want 3", n.Count)
				}
			}},
		// Up since 30 minutes of this boot's uptime ago (UpAt).
		{name: "count and cooling reset after RECOVERY_STABLE",
			st: State{Boot: "b", Count: 3, Cooling: t0.Add(time.Hour), Outage: Outage{UpSince: t0.Add(-30 * time.Minute)}, UpAt: long - 30*time.Minute},
			in: up(long), wantMsg: []string{"重启计数清零"},
			check: func(t *testing.T, n State) {
				if n.Count != 0 || !n.Cooling.IsZero() || n.Outage != (Outage{}) || n.UpAt != 0 {
					t.Errorf("state %+v; want count 0, no cooling, no outage", n)
				}
			}},
		// The wall clock says 30 minutes (NTP set it forward), the boot's
		// clock 2: no reset yet.
		{name: "RECOVERY_STABLE on the boot's clock, not the wall clock",
			st:        State{Boot: "b", Count: 3, Outage: Outage{UpSince: t0.Add(-30 * time.Minute)}, UpAt: long - 2*time.Minute},
			in:        up(long),
			wantNoMsg: []string{"重启计数清零"},
			check: func(t *testing.T, n State) {
				if n.Count != 3 || n.UpAt != long-2*time.Minute {
					t.Errorf("state %+v; want count 3 kept, UpAt as it was", n)
				}
			}},
		// The uptime unread this run, this boot's known: the run waits
		// (the wall clock, stepped, would reset at once) and keeps UpAt
		// (cleared, the wait would start over and RUN_DIR be rewritten).
		{name: "RECOVERY_STABLE waits out an uptime unread this run",
			st: State{Boot: "b", Count: 3, Outage: Outage{UpSince: t0.Add(-3 * time.Hour)}, UpAt: 40 * time.Minute}, in: up(0),
			wantNoMsg: []string{"重启计数清零"},
			check: func(t *testing.T, n State) {
				if n.Count != 3 || n.UpAt != 40*time.Minute {
					t.Errorf("state %+v; want count 3 and UpAt 40m kept", n)
				}
			}},
		// The uptime never read this boot (0): the wall clock, as before.
		{name: "RECOVERY_STABLE by the wall clock when the uptime is unknown",
			st: State{Boot: "b", Count: 3, Outage: Outage{UpSince: t0.Add(-30 * time.Minute)}}, in: up(0), wantMsg: []string{"重启计数清零"}},
		{name: "RECOVERY_STABLE=0 resets at once", cfg: func(c *config.Config) { c.RecoveryStable = 0 },
			st: State{Boot: "b", Count: 3, Outage: Outage{Since: t0.Add(-time.Hour), LastAction: L3}}, in: up(long),
			wantMsg: []string{"【状态恢复】网络已恢复", "重启计数清零"}},
		{name: "a failure cancels the pending reset",
			st: State{Boot: "b", Count: 3, Outage: Outage{UpSince: t0.Add(-10 * time.Minute)}}, in: down(long),
			check: func(t *testing.T, n State) {
				if !n.Outage.UpSince.IsZero() || n.Count != 3 {
					t.Errorf("upsince %v count %d; want cleared, 3", n.Outage.UpSince, n.Count)
				}
			}},
		{name: "L1 disabled with 0", cfg: func(c *config.Config) { c.L1Threshold = 0 },
			st: State{Boot: "b", Streak: 1}, in: down(long), wantAction: None},
		{name: "dry run prefixes 【演练】", cfg: func(c *config.Config) { c.DryRun = true },
			st: State{Boot: "b", Streak: 1}, in: down(long), wantAction: L1,
			wantMsg: []string{"【演练】【报警】", "【演练】【L1-动作】"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := testConfig()
			if tt.cfg != nil {
				tt.cfg(&cfg)
			}
			s := Decide(cfg, tt.st, tt.in)
			if s.Action != tt.wantAction {
				t.Errorf("Decide(%+v) action = %v; want %v (log: %s)", tt.st, s.Action, tt.wantAction, msgs(s))
			}
			got := msgs(s)
			rest := got
			for _, w := range tt.wantMsg {
				i := strings.Index(rest, w)
				if i < 0 {
					t.Errorf("log %q lacks %q (in order)", got, w)
					break
				}
				rest = rest[i+len(w):]
			}
			for _, w := range tt.wantNoMsg {
				if strings.Contains(got, w) {
					t.Errorf("log %q has %q", got, w)
				}
			}
			if tt.check != nil {
				tt.check(t, s.Next)
			}
		})
	}
}

func TestCoolingFor(t *testing.T) {
	const h = time.Hour
	for _, tc := range []struct {
		name      string
		step, max time.Duration
		want      map[int]time.Duration // count → cooling
	}{
		{"defaults (1h, 3h)", h, 3 * h, map[int]time.Duration{-1: 0, 0: 0, 1: 0, 6: 0, 7: h, 8: 2 * h, 9: 3 * h, 14: 3 * h, math.MaxInt: 3 * h}},
		// COOLING_MAX no multiple of the step: used to stop at 2h, a
		// multiple below it (SPEC §5: clamp(…, 0, COOLING_MAX)).
		{"step 2h, max 3h", 2 * h, 3 * h, map[int]time.Duration{6: 0, 7: 2 * h, 8: 3 * h, 9: 3 * h}},
		{"step 1h, max 90m", h, 90 * time.Minute, map[int]time.Duration{7: h, 8: 90 * time.Minute, 100: 90 * time.Minute}},
		{"step 0", 0, 3 * h, map[int]time.Duration{7: 0, 100: 0}},
	} {
		cfg := testConfig()
		cfg.CoolingStep, cfg.CoolingMax = tc.step, tc.max
		for count, w := range tc.want {
			if got := CoolingFor(cfg, count); got != w {
				t.Errorf("%s: CoolingFor(%d) = %v; want %v", tc.name, count, got, w)
			}
		}
	}
}

// TestScenarioTotalOutage walks the scenario on a simulated clock:
// L1 L2 L3, L1 L2 L3 (cooling starts), nothing while cooling, L1 L2, SOS.
func TestScenarioTotalOutage(t *testing.T) {
	cfg := testConfig()
	cfg.SafeUptime, cfg.L4SOSThreshold, cfg.CoolingFreeReboots, cfg.CoolingStep, cfg.CoolingMax = 0, 3, 1, 2*time.Minute, 3*time.Minute
	var st State
	var got []string
	now := t0
	boot := 0
	for i := 0; i < 60 && !st.SOS; i++ {
		now = now.Add(time.Minute)
		s := Decide(cfg, st, Input{Now: now, Up: false, Uptime: time.Hour, BootID: fmt.Sprint("b", boot)})
		st = s.Next
		switch {
		case s.Action != None:
			got = append(got, s.Action.String())
		case strings.Contains(msgs(s), "【冷却】"):
			got = append(got, "cool")
		case st.SOS:
			got = append(got, "SOS")
		}
		if s.Action == L3 {
			boot++
			st.Boot, st.Streak = "", 0 // the reboot empties RUN_DIR
		}
	}
	want := "L1 L2 L3 L1 L2 L3 cool L1 L2 SOS"
	if g := strings.Join(got, " "); g != want {
		t.Errorf("timeline = %q; want %q", g, want)
	}
}

// TestRecoveryNamesTheHost: after the host acknowledged SOS and rebooted
// (net_rescued_by=host), the router's recovery names the host, not its own
// last step, and forgets the note.
func TestRecoveryNamesTheHost(t *testing.T) {
	st := State{Boot: "b", Count: 0, RescuedBy: "host", Outage: Outage{Since: t0.Add(-8 * time.Hour), LastAction: L2}}
	s := Decide(testConfig(), st, Input{Now: t0, Up: true, Uptime: time.Minute, BootID: "b"})
	var last string
	for _, e := range s.Events {
		for _, a := range e.Attrs {
			if a.Key == "last_action" {
				last = a.Value.String()
			}
		}
	}
	if last != "host" || s.Next.RescuedBy != "" {
		t.Errorf("Decide after a host rescue: last_action=%q, RescuedBy=%q; want host, cleared", last, s.Next.RescuedBy)
	}
}

// TestRecoveryAfterOwnStepAfterHost: after the host's rescue the outage
// went on and the router's own L1 then fixed it; the recovery used to
// still name the host (and `report` counted it as the host's). A step the
// router takes after the host's rescue is the last action again (SPEC §5
// rule 2).
func TestRecoveryAfterOwnStepAfterHost(t *testing.T) {
	cfg := testConfig()
	st := State{Boot: "b", Count: 0, RescuedBy: "host", Streak: cfg.L1Threshold - 1, Outage: Outage{Since: t0.Add(-8 * time.Hour), LastAction: L2}}
	s := Decide(cfg, st, Input{Now: t0, Up: false, Uptime: time.Hour, BootID: "b"})
	if s.Action != L1 || s.Next.RescuedBy != "" {
		t.Fatalf("the run after the host's rescue: action %v, RescuedBy %q; want L1, cleared", s.Action, s.Next.RescuedBy)
	}
	s = Decide(cfg, s.Next, Input{Now: t0.Add(time.Minute), Up: true, Uptime: time.Hour, BootID: "b"})
	if !strings.Contains(fmt.Sprint(s.Events), "last_action=L1") {
		t.Errorf("recovery after the router's own L1: %v; want last_action=L1", s.Events)
	}
}

// TestRecoveryOutageClockBack: a clock set back during the outage (NTP
// correcting a router that ran ahead, once the net is back) logs the
// outage's length as 0, never negative: `report` sums these lengths.
func TestRecoveryOutageClockBack(t *testing.T) {
	st := State{Boot: "b", Streak: 20, Outage: Outage{Since: t0.Add(time.Hour)}}
	s := Decide(config.Default(config.Router), st, Input{Now: t0, Up: true, Uptime: time.Hour, BootID: "b"})
	for _, ev := range s.Events {
		if !strings.HasPrefix(ev.Msg, "【状态恢复】网络已恢复") {
			continue
		}
		for _, a := range ev.Attrs {
			if a.Key == "outage" && a.Value.Duration() != 0 {
				t.Errorf("outage = %v; want 0", a.Value.Duration())
			}
		}
		return
	}
	t.Errorf("no 【状态恢复】 in %+v", s.Events)
}

// TestSOSClearedWhileDown: the host acknowledges SOS before it reboots
// (SPEC §6 step 6: SOS deleted, count 0, cooling deleted), or
// midnight-reset clears it, while the internet is still down. The streak
// grew under SOS; the next run took an L3 at once, rebooting the router VM
// in the middle of PVE's shutdown. The ladder starts over instead, as
// after a cooling: L1, L2, and L3 only L3_THRESHOLD runs later.
func TestSOSClearedWhileDown(t *testing.T) {
	cfg := testConfig()
	cfg.SafeUptime = 0
	// What the router's runs left under SOS: 50 failed runs, the last
	// "still waiting" line; what the host's acknowledgement left: no SOS,
	// count 0, no cooling, net_rescued_by.
	st := State{Boot: "b", Streak: 50, SOSLogged: t0.Add(-10 * time.Minute), RescuedBy: "host",
		Outage: Outage{Since: t0.Add(-time.Hour), LastAction: L3}}
	var actions []string
	for i := range cfg.L3Threshold {
		now := t0.Add(time.Duration(i) * time.Minute)
		s := Decide(cfg, st, Input{Now: now, Up: false, Uptime: time.Hour, BootID: "b"})
		if i == 0 && !strings.Contains(msgs(s), "(第 1 次失败)") {
			t.Errorf("first run after the SOS was cleared: %s; want the ladder started over (第 1 次失败)", msgs(s))
		}
		if s.Action != None {
			actions = append(actions, fmt.Sprintf("%s at run %d", s.Action, i+1))
		}
		st = s.Next
	}
	want := []string{"L1 at run 2", "L2 at run 5", "L3 at run 10"}
	if !slices.Equal(actions, want) {
		t.Errorf("steps after the SOS was cleared while down: %v; want %v", actions, want)
	}
	// A run under SOS still waits: the rule is for an SOS gone, not one
	// that stands.
	st = State{Boot: "b", Streak: 50, SOS: true, SOSLogged: t0.Add(-10 * time.Minute), Outage: Outage{Since: t0.Add(-time.Hour)}}
	if s := Decide(cfg, st, Input{Now: t0, Up: false, Uptime: time.Hour, BootID: "b"}); s.Action != None || s.Next.Streak != 51 {
		t.Errorf("a run under SOS: action %v, streak %d; want none, 51", s.Action, s.Next.Streak)
	}
}

// TestSOSClearedWhileDownHook: an SOS cleared while the net is down (the
// host's acknowledgement, by hand) is an sos-withdrawn event for
// ON_EVENT_CMD, as the hook that had "sos" must hear whoever withdraws it;
// the run that starts the ladder over was silent. midnight-reset, which
// tells the hook itself, leaves RUN_DIR's record started over too, and the
// next run tells it no second time.
func TestSOSClearedWhileDownHook(t *testing.T) {
	cfg := testConfig()
	// As a run under SOS saved it, the SOS then deleted.
	old := State{Boot: "b", Streak: 50, SOSLogged: t0.Add(-10 * time.Minute), Outage: Outage{Since: t0.Add(-time.Hour), SOS: true}}
	in := Input{Now: t0, Up: false, Uptime: time.Hour, BootID: "b"}
	s := Decide(cfg, old, in)
	var names []string
	for _, ev := range Transitions(old, in, s) {
		names = append(names, ev.Name)
	}
	if !slices.Contains(names, "sos-withdrawn") {
		t.Errorf("events of the run after an SOS cleared while down: %v; want sos-withdrawn", names)
	}

	dir := t.TempDir()
	store := Store{StateDir: filepath.Join(dir, "state"), RunDir: filepath.Join(dir, "run")}
	withSOS := old
	withSOS.SOS, withSOS.SOSContent, withSOS.Count = true, "time=x count=10 reason=y", 10
	withSOS.Outage.SOS = true
	if err := store.Save(State{}, withSOS, false); err != nil {
		t.Fatal(err)
	}
	if _, err := store.Reset(); err != nil { // midnight-reset
		t.Fatal(err)
	}
	st, _ := store.Load(t0, cfg.CoolingMax)
	if st.SOS || st.Streak != 0 || !st.SOSLogged.IsZero() || st.Outage.SOS {
		t.Errorf("after midnight-reset: SOS %v, streak %d, SOS logged %v, its withdrawal untold %v; want none, 0, none, false", st.SOS, st.Streak, st.SOSLogged, st.Outage.SOS)
	}
	s = Decide(cfg, st, in)
	for _, ev := range Transitions(st, in, s) {
		if ev.Name == "sos-withdrawn" {
			t.Errorf("the run after midnight-reset told sos-withdrawn again (midnight-reset told it)")
		}
	}
	if s.Next.Streak != 1 {
		t.Errorf("the run after midnight-reset: streak %d; want 1, the ladder started over", s.Next.Streak)
	}
}

// TestSOSWithdrawnAfterAckAndReboot: the usual end of an SOS is the host's
// acknowledgement (SOS_SYSTEM deleted, net_rescued_by written), then the
// host's reboot or the router VM's cold restart, which empties RUN_DIR.
// The router's first run after it tells ON_EVENT_CMD sos-withdrawn, the
// net down or already back, and the runs after it tell it no second time;
// the hook that had "sos" heard nothing of its end before (it was keyed on
// RUN_DIR's "SOS logged").
func TestSOSWithdrawnAfterAckAndReboot(t *testing.T) {
	cfg := testConfig()
	for _, up := range []bool{false, true} {
		dir := t.TempDir()
		store := Store{StateDir: filepath.Join(dir, "state"), RunDir: filepath.Join(dir, "run")}
		// Runs until the SOS, each saved as netcheck saves it.
		st, now := State{}, t0
		var told []string
		run := func(in Input) {
			t.Helper()
			s := Decide(cfg, st, in)
			for _, ev := range Transitions(st, in, s) {
				told = append(told, ev.Name+" ("+ev.Detail+")")
			}
			if err := store.Save(st, s.Next, false); err != nil {
				t.Fatal(err)
			}
			st, _ = store.Load(in.Now, cfg.CoolingMax)
		}
		// The day's last reboot taken.
		if err := store.Save(State{}, State{Count: cfg.L4SOSThreshold - 1}, false); err != nil {
			t.Fatal(err)
		}
		st, _ = store.Load(now, cfg.CoolingMax)
		for !st.SOS {
			now = now.Add(time.Minute)
			run(Input{Now: now, Up: false, Uptime: 2 * time.Hour, BootID: "b1", Detail: "no reply"})
			if now.Sub(t0) > time.Hour {
				t.Fatalf("no SOS after an hour down: %+v", st)
			}
		}
		// The host acknowledges (remote.AckSOS's files), then cold-restarts
		// the router VM.
		if err := os.Remove(filepath.Join(store.StateDir, SOSFile)); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(store.StateDir, RescuedFile), []byte("vm\n"), 0o644); err != nil {
			t.Fatal(err)
		}
		if err := os.RemoveAll(store.RunDir); err != nil {
			t.Fatal(err)
		}
		st, _ = store.Load(now, cfg.CoolingMax)
		told = nil
		for i := range 3 {
			now = now.Add(time.Minute)
			run(Input{Now: now, Up: up, Uptime: time.Duration(i+1) * time.Minute, BootID: "b2", Detail: "reply"})
		}
		n := 0
		for _, ev := range told {
			if strings.HasPrefix(ev, "sos-withdrawn ") {
				n++
				if ev != "sos-withdrawn (acknowledged by the host: vm)" {
					t.Errorf("up %v: %s; want the host's acknowledgement named", up, ev)
				}
			}
		}
		if n != 1 {
			t.Errorf("up %v: events after the acknowledgement and the reboot: %q; want sos-withdrawn once", up, told)
		}
	}
}
