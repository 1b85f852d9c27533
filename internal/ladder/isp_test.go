package ladder

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/pve-op/network-rescue/internal/assist"
	"github.com/pve-op/network-rescue/internal/config"
	"github.com/pve-op/network-rescue/internal/hook"
)

// TestDecideNextHop checks the rules of SPEC §14 on a single run: L1 and
// L2 as usual while the next hop answers, no L3 and no SOS, one 【诊断】
// per outage, and the ladder going on where it is once the hop is silent.
func TestDecideNextHop(t *testing.T) {
	down := func(h Hop) Input {
		return Input{Now: t0, Up: false, Uptime: time.Hour, BootID: "b", NextHop: h, NextHopAddr: "192.0.2.1"}
	}
	tests := []struct {
		name       string
		cfg        func(*config.Config)
		st         State
		in         Input
		wantAction Action
		wantMsg    []string
		wantNoMsg  []string
		wantISP    ISPState
		wantCount  int
	}{
		{name: "first failure, next hop answers: 【诊断】 once", st: State{Boot: "b"}, in: down(HopAnswers),
			wantMsg: []string{"【报警】网络断开 (第 1 次失败)。", "【诊断】运营商侧故障，本机链路正常"}, wantISP: ISPUpstream},
		{name: "diagnosed already: not again", st: State{Boot: "b", Streak: 2, Outage: Outage{Since: t0.Add(-3 * time.Minute), ISP: ISPUpstream}},
			in: down(HopAnswers), wantNoMsg: []string{"【诊断】"}, wantISP: ISPUpstream},
		{name: "L1 as usual while the next hop answers", st: State{Boot: "b", Streak: 1}, in: down(HopAnswers),
			wantAction: L1, wantMsg: []string{"【诊断】", "【L1-动作】"}, wantISP: ISPUpstream},
		{name: "L2 as usual while the next hop answers", st: State{Boot: "b", Streak: 4, Outage: Outage{ISP: ISPUpstream}},
			in: down(HopAnswers), wantAction: L2, wantMsg: []string{"【L2-动作】"}, wantISP: ISPUpstream},
		{name: "no L3 at L3_THRESHOLD while it answers", st: State{Boot: "b", Streak: 9, Outage: Outage{ISP: ISPUpstream}},
			in: down(HopAnswers), wantAction: None, wantNoMsg: []string{"【L3-动作】", "【安全锁】"}, wantISP: ISPUpstream},
		{name: "no SOS at the limit while it answers", st: State{Boot: "b", Streak: 30, Count: 9, Outage: Outage{ISP: ISPUpstream}},
			in: down(HopAnswers), wantAction: None, wantNoMsg: []string{"【SOS】"}, wantISP: ISPUpstream, wantCount: 9},
		{name: "the next hop stops answering: the ladder goes on at once", st: State{Boot: "b", Streak: 40, Outage: Outage{ISP: ISPUpstream}},
			in: down(HopSilent), wantAction: L3,
			wantMsg: []string{"第 41 次失败", "【诊断】下一跳不再响应，自救阶梯继续", "【L3-动作】执行物理重启 (#1)…"},
			wantISP: ISPResumed, wantCount: 1},
		{name: "no next hop known (default route gone) is no hold", st: State{Boot: "b", Streak: 9, Outage: Outage{ISP: ISPUpstream}},
			in: down(HopUnknown), wantAction: L3, wantMsg: []string{"【诊断】下一跳不再响应"}, wantISP: ISPResumed, wantCount: 1},
		{name: "answering again after resuming: no second 【诊断】, held again", st: State{Boot: "b", Streak: 9, Outage: Outage{ISP: ISPResumed}},
			in: down(HopAnswers), wantAction: None, wantNoMsg: []string{"【诊断】", "【L3-动作】"}, wantISP: ISPResumed},
		{name: "silent next hop: the plain ladder", st: State{Boot: "b", Streak: 9}, in: down(HopSilent), wantAction: L3,
			wantMsg: []string{"【L3-动作】"}, wantNoMsg: []string{"【诊断】"}, wantCount: 1},
		{name: "the SOS at the limit once it is silent", st: State{Boot: "b", Streak: 30, Count: 9, Outage: Outage{ISP: ISPUpstream}},
			in: down(HopSilent), wantAction: None, wantMsg: []string{"【诊断】下一跳不再响应", "【SOS】今日自愈已达 10 次上限。"},
			wantISP: ISPResumed, wantCount: 10},
		{name: "cooling holds everything anyway", st: State{Boot: "b", Count: 7, Cooling: t0.Add(time.Hour)},
			in: down(HopAnswers), wantAction: None, wantMsg: []string{"【冷却】"}, wantNoMsg: []string{"【诊断】"}, wantCount: 7},
		{name: "recovery names the diagnosis and forgets it", st: State{Boot: "b", Streak: 50, Outage: Outage{Since: t0.Add(-time.Hour), LastAction: L2, ISP: ISPUpstream}},
			in: Input{Now: t0, Up: true, Uptime: time.Hour, BootID: "b"}, wantMsg: []string{"【状态恢复】网络已恢复"}, wantISP: ISPNone},
		{name: "dry run prefixes 【演练】", cfg: func(c *config.Config) { c.DryRun = true }, st: State{Boot: "b"},
			in: down(HopAnswers), wantMsg: []string{"【演练】【诊断】运营商侧故障"}, wantISP: ISPUpstream},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := testConfig()
			if tt.cfg != nil {
				tt.cfg(&cfg)
			}
			s := Decide(cfg, tt.st, tt.in)
			if s.Action != tt.wantAction {
				t.Errorf("Decide(%+v, hop %v) = %v; want %v (log: %s)", tt.st, tt.in.NextHop, s.Action, tt.wantAction, msgs(s))
			}
			wantInOrder(t, msgs(s), tt.wantMsg, tt.wantNoMsg)
			if s.Next.Outage.ISP != tt.wantISP || s.Next.Count != tt.wantCount {
				t.Errorf("next ISP %v count %d; want %v %d", s.Next.Outage.ISP, s.Next.Count, tt.wantISP, tt.wantCount)
			}
			if s.Next.SOS && !tt.st.SOS && tt.in.NextHop == HopAnswers {
				t.Errorf("SOS raised while the next hop answers")
			}
		})
	}
}

// wantInOrder checks that got holds want in order and none of wantNo,
// including the key=value text of the attributes.
func wantInOrder(t *testing.T, got string, want, wantNo []string) {
	t.Helper()
	rest := got
	for _, w := range want {
		i := strings.Index(rest, w)
		if i < 0 {
			t.Errorf("log %q lacks %q (in order)", got, w)
			return
		}
		rest = rest[i+len(w):]
	}
	for _, w := range wantNo {
		if strings.Contains(got, w) {
			t.Errorf("log %q has %q", got, w)
		}
	}
}

// TestNextHopInAlarm: the alarm line says what the next hop did.
func TestNextHopInAlarm(t *testing.T) {
	s := Decide(testConfig(), State{Boot: "b"}, Input{Now: t0, Uptime: time.Hour, BootID: "b", NextHop: HopSilent, NextHopAddr: "192.0.2.1"})
	var got string
	for _, a := range s.Events[0].Attrs {
		if a.Key == "next_hop" {
			got = a.Value.String()
		}
	}
	if got != "192.0.2.1 silent" {
		t.Errorf("alarm next_hop = %q; want \"192.0.2.1 silent\"", got)
	}
}

// TestScenarioISPOutage walks an ISP outage on a simulated clock: the next
// hop answers for 3 hours (L1 once, L2 once, nothing else), then stops
// answering: the next run is an L3, and the ladder goes on from there.
func TestScenarioISPOutage(t *testing.T) {
	cfg := testConfig()
	r := NewRouter(cfg, t0)
	r.NextHop = HopAnswers
	var got []string
	now := t0
	for i := 0; i < 180; i++ {
		now = now.Add(RunEvery)
		s, ran, _ := r.Tick(now, false)
		if ran && s.Action != None {
			got = append(got, s.Action.String())
		}
	}
	if g := strings.Join(got, " "); g != "L1 L2" {
		t.Fatalf("3 h with the next hop answering: actions %q; want \"L1 L2\"", g)
	}
	if r.State.Count != 0 || r.State.SOS {
		t.Errorf("count %d SOS %v; want 0, none", r.State.Count, r.State.SOS)
	}
	r.NextHop = HopSilent
	got = nil
	for i := 0; i < 12; i++ {
		now = now.Add(RunEvery)
		if s, ran, _ := r.Tick(now, false); ran && s.Action != None {
			got = append(got, s.Action.String())
		}
	}
	// L3 at once; a minute to reboot; then streak 1 to 10: L1 at 2, L2 at 5, L3 at 10.
	if g := strings.Join(got, " "); g != "L3 L1 L2 L3" {
		t.Errorf("after the next hop went silent: %q; want \"L3 L1 L2 L3\" (L3 at once, then the ladder again)", g)
	}
}

// TestRebootRule: the one rule for every router reboot (SPEC §5, §14).
func TestRebootRule(t *testing.T) {
	cfg := testConfig()
	for _, tc := range []struct {
		name   string
		st     State
		uptime time.Duration
		want   Verdict
	}{
		{"allowed", State{Count: 3}, time.Hour, RebootOK},
		{"SOS", State{SOS: true}, time.Hour, RebootSOS},
		{"cooling", State{Count: 7, Cooling: t0.Add(time.Minute)}, time.Hour, RebootCooling},
		{"cooling passed", State{Count: 7, Cooling: t0}, time.Hour, RebootOK},
		{"safe uptime", State{}, 9 * time.Minute, RebootSafeUptime},
		{"limit", State{Count: 9}, time.Hour, RebootLimit},
		{"00:00, midnight-reset's minute", State{Count: 3}, time.Hour, RebootMidnight},
		{"00:00 at the limit", State{Count: 9}, time.Hour, RebootMidnight},
		{"00:00 under SOS", State{SOS: true}, time.Hour, RebootSOS},
	} {
		now := t0
		if strings.HasPrefix(tc.name, "00:00") {
			now = time.Date(2026, 11, 26, 0, 0, 59, 0, t0.Location())
		}
		if got := RebootRule(cfg, tc.st, now, tc.uptime); got != tc.want {
			t.Errorf("%s: RebootRule(%+v, uptime %v) = %v; want %v", tc.name, tc.st, tc.uptime, got, tc.want)
		}
	}
}

// TestDecideAssist: what the host's request does to the router (SPEC §14).
func TestDecideAssist(t *testing.T) {
	in := func(step assist.Step, uptime time.Duration) AssistInput {
		return AssistInput{Now: t0, Uptime: uptime, Step: step, Reason: `LAN path fault seen twice\n`}
	}
	for _, tc := range []struct {
		name      string
		cfg       func(*config.Config)
		st        State
		in        AssistInput
		wantRun   bool
		wantWhy   string
		wantMsg   []string
		wantCount int
		wantCool  time.Duration
	}{
		{name: "dns runs", st: State{Boot: "b"}, in: in(assist.DNS, time.Hour), wantRun: true,
			wantMsg: []string{"【协助】应 PVE 请求重启 DNS 服务…"}},
		{name: "network runs even while cooling", st: State{Count: 7, Cooling: t0.Add(time.Hour)}, in: in(assist.Network, time.Hour),
			wantRun: true, wantMsg: []string{"【协助】应 PVE 请求重启网络与防火墙服务…"}, wantCount: 7, wantCool: time.Hour},
		{name: "reboot counts as an L3", st: State{Count: 2}, in: in(assist.Reboot, time.Hour), wantRun: true,
			wantMsg: []string{"【协助】应 PVE 请求重启路由器…", "【L3-动作】执行物理重启 (#3)…"}, wantCount: 3},
		{name: "the 7th reboot cools an hour, as an L3", st: State{Count: 6}, in: in(assist.Reboot, time.Hour), wantRun: true,
			wantMsg: []string{"【L3-动作】执行物理重启 (#7)…"}, wantCount: 7, wantCool: time.Hour},
		{name: "refused while cooling", st: State{Count: 7, Cooling: t0.Add(90 * time.Minute)}, in: in(assist.Reboot, time.Hour),
			wantWhy: assist.WhyCooling, wantMsg: []string{"【协助】拒绝 PVE 的重启请求：熔断冷却中，直到 2026-11-25 11:30:00"},
			wantCount: 7, wantCool: 90 * time.Minute},
		{name: "refused under SAFE_UPTIME", st: State{}, in: in(assist.Reboot, 42*time.Second),
			wantWhy: assist.WhySafeUptime, wantMsg: []string{"【协助】拒绝 PVE 的重启请求：安全锁，开机时间过短"}},
		{name: "refused at the limit, no SOS written", st: State{Count: 9}, in: in(assist.Reboot, time.Hour),
			wantWhy: assist.WhyLimit, wantMsg: []string{"今日已重启 9 次，再重启将达 SOS 上限 10"}, wantCount: 9},
		{name: "refused under SOS", st: State{Count: 10, SOS: true}, in: in(assist.Reboot, time.Hour),
			wantWhy: assist.WhySOS, wantMsg: []string{"SOS 已发出"}, wantCount: 10},
		{name: "dry run prefixes 【演练】", cfg: func(c *config.Config) { c.DryRun = true }, in: in(assist.Reboot, time.Hour),
			wantRun: true, wantMsg: []string{"【演练】【协助】", "【演练】【L3-动作】"}, wantCount: 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := testConfig()
			if tc.cfg != nil {
				tc.cfg(&cfg)
			}
			s := DecideAssist(cfg, tc.st, tc.in)
			var log []string
			for _, e := range s.Events {
				log = append(log, e.Msg)
			}
			if s.Run != tc.wantRun || s.Refusal.Why != tc.wantWhy {
				t.Errorf("DecideAssist(%+v, %s) run %v why %q; want %v %q (log %q)", tc.st, tc.in.Step, s.Run, s.Refusal.Why, tc.wantRun, tc.wantWhy, log)
			}
			if tc.wantWhy != "" && (s.Refusal.Outcome != assist.Refused || s.Refusal.Detail == "" || s.Action != None) {
				t.Errorf("refusal %+v action %v; want refused with a detail and no action", s.Refusal, s.Action)
			}
			if (tc.in.Step == assist.Reboot && tc.wantRun) != (s.Action == L3) {
				t.Errorf("action %v; want L3 exactly for an allowed reboot", s.Action)
			}
			wantInOrder(t, strings.Join(log, " | "), tc.wantMsg, nil)
			var cool time.Duration
			if !s.Next.Cooling.IsZero() {
				cool = s.Next.Cooling.Sub(t0)
			}
			if s.Next.Count != tc.wantCount || cool != tc.wantCool || s.Next.SOS != tc.st.SOS {
				t.Errorf("next count %d cooling %v SOS %v; want %d %v %v", s.Next.Count, cool, s.Next.SOS, tc.wantCount, tc.wantCool, tc.st.SOS)
			}
			// An assist reboot is counted among the day's assists (kept by
			// RECOVERY_STABLE's reset), and is no step of an outage; the
			// reboot ordered names the next boot (the boot id unread: UnknownBoot).
			wantOutage := tc.st.Outage
			if s.Action == L3 {
				wantOutage.AssistDay, wantOutage.Assists = "2026-11-25", tc.st.Outage.Assists+1
				if tc.cfg == nil { // a dry run orders no reboot: none follows it
					wantOutage.RebootBy, wantOutage.RebootBoot, wantOutage.RebootUp = "assist", UnknownBoot, tc.in.Uptime
				}
			}
			if s.Next.Streak != tc.st.Streak || s.Next.Boot != tc.st.Boot || s.Next.Outage != wantOutage {
				t.Errorf("an assist changed the ladder's volatile state or outage: %+v; want outage %+v", s.Next, wantOutage)
			}
		})
	}
}

// TestAssistReasonLogged: the host's reason reaches the log line as given
// (the caller escapes it first).
func TestAssistReasonLogged(t *testing.T) {
	s := DecideAssist(testConfig(), State{}, AssistInput{Now: t0, Uptime: time.Hour, Step: assist.Network, Reason: `x\n【SOS】`})
	for _, a := range s.Events[0].Attrs {
		if a.Key == "reason" && a.Value.String() == `x\n【SOS】` {
			return
		}
	}
	t.Errorf("event %+v lacks reason", s.Events[0])
}

// TestStoreKeepsDiagnosis: the diagnosis is persisted in net_outage, so
// that a reboot for another reason (a power cut) does not log 【诊断】
// twice in one outage.
func TestStoreKeepsDiagnosis(t *testing.T) {
	dir := t.TempDir()
	s := Store{StateDir: dir + "/state", RunDir: dir + "/run"}
	next := State{Boot: "b", Streak: 3, Outage: Outage{Since: t0.Add(-3 * time.Minute), ISP: ISPUpstream}}
	if err := s.Save(State{}, next, false); err != nil {
		t.Fatal(err)
	}
	got, problems := s.Load(t0, time.Hour)
	if len(problems) > 0 || got.Outage.ISP != ISPUpstream {
		t.Fatalf("Load after Save = %+v, %v; want ISP upstream", got.Outage, problems)
	}
	after := Decide(testConfig(), State{Outage: got.Outage, Count: got.Count}, Input{Now: t0, Uptime: time.Minute, BootID: "new",
		NextHop: HopAnswers, NextHopAddr: "192.0.2.1"})
	wantInOrder(t, msgs(after), []string{"【启动】", "【报警】"}, []string{"【诊断】"})
}

// TestMidnightDefersL3: an L3 due in the minute of 00:00 waits one run.
// midnight-reset runs then and waits for the run's lock; a reboot with the
// lock held used to kill it, and the new day kept yesterday's count (SPEC
// §5: count := 0 at midnight). The streak is kept, so the next run, after
// the reset, reboots; the host's `assist reboot` is told to ask again
// (busy).
func TestMidnightDefersL3(t *testing.T) {
	cfg := testConfig()
	midnight := time.Date(2026, 11, 26, 0, 0, 30, 0, time.UTC)
	st := State{Boot: "b", Streak: cfg.L3Threshold - 1, Count: 8, Outage: Outage{Since: midnight.Add(-time.Hour)}}
	step := Decide(cfg, st, Input{Now: midnight, Up: false, Uptime: time.Hour, BootID: "b"})
	if step.Action != None || !strings.Contains(msgs(step), "【推迟】零点重置进行中") || step.Next.Count != 8 || step.Next.SOS {
		t.Errorf("at 00:00: action %v, count %d, SOS %v, log %q; want no reboot, no SOS, 【推迟】", step.Action, step.Next.Count, step.Next.SOS, msgs(step))
	}
	// The reset, then the next run.
	reset := step.Next
	reset.Count = 0
	step = Decide(cfg, reset, Input{Now: midnight.Add(time.Minute), Up: false, Uptime: time.Hour, BootID: "b"})
	if step.Action != L3 || step.Next.Count != 1 {
		t.Errorf("at 00:01 after the reset: action %v, count %d; want L3, count 1 (%q)", step.Action, step.Next.Count, msgs(step))
	}
	a := DecideAssist(cfg, State{Boot: "b", Count: 3}, AssistInput{Now: midnight, Uptime: time.Hour, Step: assist.Reboot})
	if a.Run || a.Refusal.Why != assist.WhyBusy {
		t.Errorf("assist reboot at 00:00: run %v, why %q; want refused busy", a.Run, a.Refusal.Why)
	}
}

// TestMissedMidnightReset: the first run after a boot makes up a
// midnight-reset the router missed while rebooting (State.CountOld, from
// net_rb_count's mtime): count 0, cooling and SOS cleared, 【重置】 logged,
// and SOS withdrawn for ON_EVENT_CMD. A later run of the same boot, or a
// count of this day, is left alone. `plan` shows it: an L3 at 23:59 reboots
// through 00:00, crond misses the reset, and the 00:00 run makes it up.
func TestMissedMidnightReset(t *testing.T) {
	cfg := testConfig()
	now := time.Date(2026, 11, 26, 0, 3, 0, 0, time.UTC)
	old := State{Count: 10, CountOld: true, SOS: true, SOSContent: "x", Cooling: now.Add(time.Hour)}
	in := Input{Now: now, Up: false, Uptime: time.Minute, BootID: "new"}
	step := Decide(cfg, old, in)
	if step.Next.Count != 0 || step.Next.SOS || !step.Next.Cooling.IsZero() || !strings.Contains(msgs(step), "【重置】补做零点重置") {
		t.Errorf("first run after boot: count %d, SOS %v, cooling %v, log %q; want all cleared and 【重置】",
			step.Next.Count, step.Next.SOS, step.Next.Cooling, msgs(step))
	}
	if evs := Transitions(old, in, step); !slices.ContainsFunc(evs, func(e hook.Event) bool { return e.Name == "sos-withdrawn" }) {
		t.Errorf("events %v; want sos-withdrawn", evs)
	}
	sameBoot := old
	sameBoot.Boot = "new"
	if step := Decide(cfg, sameBoot, in); step.Next.Count != 10 || strings.Contains(msgs(step), "【重置】") {
		t.Errorf("a later run of the boot: count %d, log %q; want the count kept", step.Next.Count, msgs(step))
	}
	today := old
	today.CountOld = false
	if step := Decide(cfg, today, in); step.Next.Count != 10 || strings.Contains(msgs(step), "【重置】") {
		t.Errorf("a count of today: count %d, log %q; want it kept", step.Next.Count, msgs(step))
	}

	res := Simulate(config.Default(config.Router), time.Date(2026, 11, 25, 23, 38, 0, 0, time.UTC), 2*time.Hour)
	var lines []string
	for _, l := range Timeline(res) {
		if strings.Contains(l, "Thu 00:00") || strings.Contains(l, "Wed 23:59") || strings.Contains(l, "Thu 00:10") {
			lines = append(lines, strings.Join(strings.Fields(l), " "))
		}
	}
	want := []string{"Wed 23:59 +21m L3 reboot router #2",
		"Thu 00:00 +22m midnight-reset missed while rebooting: made up now (count 0, cooling and SOS cleared)",
		"Thu 00:10 +32m L3 reboot router #1"}
	if !slices.Equal(lines, want) {
		t.Errorf("plan from 23:38:\n%s\nwant:\n%s", strings.Join(lines, "\n"), strings.Join(want, "\n"))
	}
}

// TestAssistRebootsBounded: a LAN fault that recurs all day (the host asks
// for a router reboot every 40 minutes) while the router's own probe is up
// but for the first run after each reboot (the WAN still dialling).
// RECOVERY_STABLE used to reset the count 30 minutes after each assist
// reboot, so every request was "reboot #1 today": 35 reboots a day, never
// cooling, never the limit. An assist reboot counts as any L3 (SPEC §14):
// the count keeps the day's assists, cooling from the 7th, refused before
// the one that would reach L4_SOS_THRESHOLD.
func TestAssistRebootsBounded(t *testing.T) {
	cfg := testConfig()
	var st State
	boots := 0
	reboots, refusals := 0, map[string]int{}
	start := time.Date(2026, 11, 25, 0, 1, 0, 0, time.UTC)
	firstRunDown := false
	for now := start; now.Before(start.Add(23 * time.Hour)); now = now.Add(time.Minute) {
		// netcheck's own run each minute.
		st = Decide(cfg, st, Input{Now: now, Up: !firstRunDown, Uptime: time.Hour, BootID: fmt.Sprint("b", boots)}).Next
		firstRunDown = false
		if now.Sub(start)%(40*time.Minute) != 0 {
			continue
		}
		s := DecideAssist(cfg, st, AssistInput{Now: now, Uptime: time.Hour, Step: assist.Reboot, Reason: "LAN path fault"})
		st = s.Next
		if s.Action == L3 {
			reboots, boots, firstRunDown = reboots+1, boots+1, true
		} else {
			refusals[s.Refusal.Why]++
		}
	}
	if max := cfg.L4SOSThreshold - 1; reboots != max || st.Count != max {
		t.Errorf("assist reboots in a day of requests: %d, count %d; want %d (refused at the limit)", reboots, st.Count, max)
	}
	if refusals[assist.WhyCooling] == 0 || refusals[assist.WhyLimit] == 0 {
		t.Errorf("refusals %v; want cooling and the limit among them", refusals)
	}
}

// TestRecoveryStableReset: what RECOVERY_STABLE's reset keeps (SPEC §5
// rule 2): the day's assist reboots, and nothing else.
func TestRecoveryStableReset(t *testing.T) {
	cfg := testConfig()
	var log []string
	up := func(st State, from time.Time, minutes int) State {
		for i := 0; i <= minutes; i++ {
			now := from.Add(time.Duration(i) * time.Minute)
			s := Decide(cfg, st, Input{Now: now, Up: true, Uptime: time.Hour + now.Sub(t0), BootID: "b"})
			st, log = s.Next, append(log, msgs(s))
		}
		return st
	}
	for _, tc := range []struct {
		name      string
		st        State
		wantCount int
		wantCool  bool
	}{
		{"an outage's L3s, after its recovery", State{Boot: "b", Count: 3, Outage: Outage{Since: t0.Add(-time.Hour), LastAction: L3}}, 0, false},
		{"an outage's L3s and today's assist", State{Boot: "b", Count: 4, Outage: Outage{Since: t0.Add(-time.Hour), LastAction: L3, AssistDay: "2026-11-25", Assists: 1}}, 1, false},
		{"yesterday's assists count no more", State{Boot: "b", Count: 4, Outage: Outage{Since: t0.Add(-time.Hour), AssistDay: "2026-11-24", Assists: 4}}, 0, false},
		{"the host acknowledged (count 0): nothing kept", State{Boot: "b", Count: 0, Outage: Outage{AssistDay: "2026-11-25", Assists: 3}}, 0, false},
		// A damaged or missing net_outage (migrated from the original
		// scripts) reads as no outage: the count still goes.
		{"no outage record", State{Boot: "b", Count: 3}, 0, false},
		// The outage's cooling goes with its reboots, also beside a kept
		// assist: a new outage must not wait for it with a count of 1.
		{"an outage's L3s and cooling beside today's assist", State{Boot: "b", Count: 9, Cooling: t0.Add(3 * time.Hour),
			Outage: Outage{Since: t0.Add(-2 * time.Hour), LastAction: L3, AssistDay: "2026-11-25", Assists: 1}}, 1, false},
		// A damaged net_outage: assists below 0 or above the count never
		// make the count negative, nor keep more than it holds.
		{"assists below 0", State{Boot: "b", Count: 3, Outage: Outage{AssistDay: "2026-11-25", Assists: -20}}, 0, false},
		{"assists above the count", State{Boot: "b", Count: 2, Outage: Outage{Since: t0.Add(-time.Hour), AssistDay: "2026-11-25", Assists: 999999}}, 2, false},
		// An assist's cooling runs to its end, then goes without a word.
		{"today's 7th assist reboot, cooling 1h", State{Boot: "b", Count: 7, Cooling: t0.Add(time.Hour), Outage: Outage{AssistDay: "2026-11-25", Assists: 7}}, 7, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			log = nil
			st := up(tc.st, t0, 31)
			if st.Count != tc.wantCount || !st.Cooling.IsZero() != tc.wantCool {
				t.Errorf("after 31 minutes up: count %d cooling %v; want %d, cooling %v", st.Count, st.Cooling, tc.wantCount, tc.wantCool)
			}
			// The reset says what it did: zeroed, or kept the host's.
			if all := strings.Join(log, " | "); tc.st.Count > tc.wantCount &&
				!strings.Contains(all, map[bool]string{true: "重启计数只保留今日应 PVE 请求的重启", false: "重启计数清零"}[tc.wantCount > 0]) {
				t.Errorf("log %q; want the reset told as it was", all)
			}
			// Hours later, then an outage: no cooling is told lifted that
			// ran out while the net was up.
			st = up(st, t0.Add(32*time.Minute), 300)
			s := Decide(cfg, st, Input{Now: t0.Add(6 * time.Hour), Up: false, Uptime: time.Hour, BootID: "b"})
			if m := msgs(s); strings.Contains(m, "【熔断解除】") || s.Next.Count != tc.wantCount {
				t.Errorf("an outage hours later: count %d, log %q; want count %d and no 【熔断解除】", s.Next.Count, m, tc.wantCount)
			}
		})
	}
}

// TestAssistsFollowTheCount: the host's acknowledgement of an SOS (count 0
// over SSH) or a midnight-reset by hand zero the count behind the
// ladder's back; the assists go with it at the next run, or the outage's
// own L3s after it would be kept as if the host had asked for them.
func TestAssistsFollowTheCount(t *testing.T) {
	cfg := testConfig()
	st := State{Boot: "b", Count: 0, Outage: Outage{AssistDay: "2026-11-25", Assists: 3}} // as the acknowledgement leaves it
	st = Decide(cfg, st, Input{Now: t0, Up: false, Uptime: time.Hour, BootID: "b"}).Next
	if st.Outage.Assists != 0 || st.Outage.AssistDay != "" {
		t.Fatalf("after the acknowledgement, a run: assists %d on %q; want none", st.Outage.Assists, st.Outage.AssistDay)
	}
	st.Count = 3 // the outage's own L3s
	for i := 1; i <= 31; i++ {
		st = Decide(cfg, st, Input{Now: t0.Add(time.Duration(i) * time.Minute), Up: true, Uptime: time.Hour + time.Duration(i)*time.Minute, BootID: "b"}).Next
	}
	if st.Count != 0 {
		t.Errorf("count %d after the outage's recovery; want 0", st.Count)
	}
	// A damaged count of assists: the next assist reboot is the day's first.
	s := DecideAssist(cfg, State{Count: 2, Outage: Outage{AssistDay: "2026-11-25", Assists: -50}}, AssistInput{Now: t0, Uptime: time.Hour, Step: assist.Reboot})
	if s.Action != L3 || s.Next.Count != 3 || s.Next.Outage.Assists != 1 {
		t.Errorf("assist reboot on assists=-50: action %v count %d assists %d; want L3, 3, 1", s.Action, s.Next.Count, s.Next.Outage.Assists)
	}
}

// TestRecoveryStableUptime: RECOVERY_STABLE is time the net stayed up, so
// it is bounded by the uptime: a router without a hardware clock boots
// days behind until NTP sets it forward; the up_since its first run
// stamped made the reset's "stable" days long, and the count went at the
// run after NTP (after an L3 of the router's own, or an assist reboot,
// whose assist_day the clock behind also took for another day's). An
// assist reboot between is no time the net stayed up either.
func TestRecoveryStableUptime(t *testing.T) {
	cfg := testConfig()
	behind := t0.AddDate(0, 0, -5) // sysfixtime: the newest file in /etc
	for _, tc := range []struct {
		name      string
		st        State
		wantCount int
	}{
		{"an outage's L3", State{Count: 3, Outage: Outage{Since: t0.Add(-time.Hour), LastAction: L3}}, 0},
		{"the day's 7th assist reboot", State{Count: 7, Cooling: t0.Add(time.Hour), Outage: Outage{AssistDay: "2026-11-25", Assists: 7}}, 7},
	} {
		t.Run(tc.name, func(t *testing.T) {
			st := tc.st
			// The boot: two runs before NTP, then NTP; the count stays
			// until the net has been up RECOVERY_STABLE since the boot.
			var log []string
			for i, now := range []time.Time{behind.Add(time.Minute), behind.Add(2 * time.Minute), t0.Add(3 * time.Minute), t0.Add(10 * time.Minute)} {
				s := Decide(cfg, st, Input{Now: now, Up: true, Uptime: time.Duration(i+1) * time.Minute, BootID: "new"})
				st, log = s.Next, append(log, msgs(s))
			}
			if st.Count != tc.st.Count {
				t.Errorf("4 minutes after the boot: count %d; want %d kept (log %q)", st.Count, tc.st.Count, log)
			}
			for i := 11; i <= 40; i++ {
				st = Decide(cfg, st, Input{Now: t0.Add(time.Duration(i) * time.Minute), Up: true, Uptime: time.Duration(i-6) * time.Minute, BootID: "new"}).Next
			}
			if st.Count != tc.wantCount {
				t.Errorf("34 minutes after the boot: count %d; want %d", st.Count, tc.wantCount)
			}
		})
	}
}

// TestRecoveryStableClockSteps: the stable time is the boot's own (its
// uptime since the run that found the net up), so that a clock step while
// up — NTP after an outage late in a boot that started days behind, or
// any step forward — does not count as time the net stayed up; and an
// assist reboot taken while the clock is behind dates the day's assists
// no earlier than they were.
func TestRecoveryStableClockSteps(t *testing.T) {
	cfg := testConfig()
	boot := 48 * time.Hour
	st := State{Boot: "b", Count: 2, Outage: Outage{Since: t0.Add(-time.Hour), LastAction: L3}}
	for i, step := range []time.Duration{0, 3 * time.Hour, 0} { // a clock step of 3 h at the second run
		now := t0.Add(time.Duration(i)*time.Minute + step)
		st = Decide(cfg, st, Input{Now: now, Up: true, Uptime: boot + time.Duration(i)*time.Minute, BootID: "b"}).Next
	}
	if st.Count != 2 {
		t.Errorf("2 minutes after the recovery, the clock stepped 3 h: count %d; want 2 kept", st.Count)
	}
	for i := 3; i <= 31; i++ {
		st = Decide(cfg, st, Input{Now: t0.Add(3*time.Hour + time.Duration(i)*time.Minute), Up: true, Uptime: boot + time.Duration(i)*time.Minute, BootID: "b"}).Next
	}
	if st.Count != 0 {
		t.Errorf("31 minutes up on the boot's clock: count %d; want 0", st.Count)
	}

	behind := time.Date(2026, 11, 20, 9, 0, 0, 0, time.UTC)
	a := DecideAssist(cfg, State{Count: 2, Outage: Outage{AssistDay: "2026-11-25", Assists: 2}}, AssistInput{Now: behind, Uptime: time.Hour, Step: assist.Reboot})
	if a.Action != L3 || a.Next.Outage.AssistDay != "2026-11-25" || a.Next.Outage.Assists != 3 {
		t.Errorf("an assist reboot at a clock behind: %v, assists %d on %q; want L3, 3 on 2026-11-25", a.Action, a.Next.Outage.Assists, a.Next.Outage.AssistDay)
	}
}
