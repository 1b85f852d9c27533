package ladder

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/pve-op/network-rescue/internal/assist"
	"github.com/pve-op/network-rescue/internal/pause"
)

// TestDecidePause: SPEC §16 on the router — while paused, probing and
// logging go on but no L1, L2 or L3 runs and no SOS is raised (said once
// per rung); when the pause has passed, 【恢复自救】 and the ladder starts
// over from L1; an assist the host asks for is refused with why=pause.
func TestDecidePause(t *testing.T) {
	cfg := testConfig()
	until := t0.Add(time.Hour)
	down := Input{Now: t0, Uptime: time.Hour, BootID: "b"}
	for _, tt := range []struct {
		name       string
		st         State
		in         Input
		wantAction Action
		wantMsg    string
		wantStreak int
		wantPause  bool
	}{
		{"L1 held", State{Boot: "b", Streak: 1, PauseUntil: until}, down, None, "【暂停】维护模式中，不执行动作。", 2, true},
		{"L2 held", State{Boot: "b", Streak: 4, PauseUntil: until}, down, None, "【暂停】", 5, true},
		{"L3 held, no count, no SOS", State{Boot: "b", Streak: 9, Count: 9, PauseUntil: until}, down, None, "【暂停】", 10, true},
		{"past L3: quiet", State{Boot: "b", Streak: 12, Count: 9, PauseUntil: until}, down, None, "【报警】网络断开 (第 13 次失败)。", 13, true},
		{"expired: the ladder starts over", State{Boot: "b", Streak: 30, PauseUntil: t0.Add(-time.Minute)}, down, None,
			"【恢复自救】维护模式已结束，恢复自救。 | 【报警】网络断开 (第 1 次失败)。", 1, false},
		{"expired while up", State{Boot: "b", PauseUntil: t0.Add(-time.Minute)}, Input{Now: t0, Up: true, BootID: "b"}, None,
			"【恢复自救】", 0, false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			s := Decide(cfg, tt.st, tt.in)
			if s.Action != tt.wantAction || !strings.Contains(msgs(s), tt.wantMsg) {
				t.Errorf("Decide = %v (log %q); want %v with %q", s.Action, msgs(s), tt.wantAction, tt.wantMsg)
			}
			if s.Next.Streak != tt.wantStreak || s.Next.Count != tt.st.Count || s.Next.SOS {
				t.Errorf("next = streak %d count %d SOS %v; want streak %d, count %d, no SOS", s.Next.Streak, s.Next.Count, s.Next.SOS, tt.wantStreak, tt.st.Count)
			}
			if got := !s.Next.PauseUntil.IsZero(); got != tt.wantPause {
				t.Errorf("pause kept = %v; want %v", got, tt.wantPause)
			}
			if strings.Count(msgs(s), "【暂停】") > 1 {
				t.Errorf("more than one 【暂停】 line: %q", msgs(s))
			}
			if tt.name == "past L3: quiet" && strings.Contains(msgs(s), "【暂停】") {
				t.Errorf("the held L3 is said again every minute: %q", msgs(s))
			}
		})
	}
	for _, step := range assist.Steps {
		a := DecideAssist(cfg, State{PauseUntil: until}, AssistInput{Now: t0, Uptime: time.Hour, Step: step, Reason: "test"})
		if a.Run || a.Refusal.Why != assist.WhyPause || a.Action != None {
			t.Errorf("assist %s while paused = %+v; want refused, why=pause", step, a)
		}
	}
}

// TestStorePause: the pause file is read as the deadline, damaged is none
// (and reported), and an expired pause's file is removed by Save.
func TestStorePause(t *testing.T) {
	dir := t.TempDir()
	s := Store{StateDir: dir, RunDir: filepath.Join(dir, "run")}
	if err := pause.Write(dir, t0.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	st, problems := s.Load(t0, 3*time.Hour)
	if len(problems) != 0 || !st.PauseUntil.Equal(t0.Add(time.Hour)) {
		t.Fatalf("Load = %v, %v; want the deadline", st.PauseUntil, problems)
	}
	next := Decide(testConfig(), st, Input{Now: t0.Add(2 * time.Hour), Up: true, BootID: "b"}).Next
	if err := s.Save(st, next, false); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(pause.Path(dir)); !os.IsNotExist(err) {
		t.Errorf("the expired pause file is still there: %v", err)
	}
	if err := os.WriteFile(pause.Path(dir), []byte("garbage\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if st, problems := s.Load(t0, 3*time.Hour); len(problems) != 1 || !st.PauseUntil.IsZero() {
		t.Errorf("damaged pause: Load = %v, %v; want no pause and one problem", st.PauseUntil, problems)
	}
	if err := pause.Write(dir, t0.Add(30*24*time.Hour)); err != nil {
		t.Fatal(err)
	}
	if st, problems := s.Load(t0, 3*time.Hour); len(problems) != 1 || !st.PauseUntil.IsZero() {
		t.Errorf("a pause 30 days ahead: Load = %v, %v; want no pause and one problem (at most %v)", st.PauseUntil, problems, pause.Max)
	}
}
