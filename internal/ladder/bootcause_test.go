package ladder

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/pve-op/network-rescue/internal/assist"
)

// bootLine returns the reboot= of a step's 【启动】 line ("" when the line
// has none) and whether the step logged 【启动】 at all.
func bootLine(s Step) (reboot string, logged bool) {
	for _, e := range s.Events {
		if e.Msg != "【启动】netcheck 开始守护" {
			continue
		}
		logged = true
		for _, a := range e.Attrs {
			if a.Key == "reboot" {
				reboot = a.Value.String()
			}
		}
	}
	return reboot, logged
}

// TestBootCause: after a power cut in the hour after an L3, the router's
// 【启动】 line read as after the L3 itself (count=1, cooling_until= alike
// in both): the owner could not tell that the router lost power. The
// reboot ordered is recorded before it runs, and the first run of the boot
// it brings names it (reboot=l3, assist) and clears it, so that a later
// boot reads as none of ours (reboot=other), and the host's rescue as the
// host's (net_rescued_by).
func TestBootCause(t *testing.T) {
	cooling := t0.Add(40 * time.Minute)
	tests := []struct {
		name     string
		st       State
		want     string // reboot=; "" none
		wantMark string // RebootBy after the run
	}{
		{"the boot the ladder's L3 brought",
			State{Count: 1, Cooling: cooling, Boot: "b1", Outage: Outage{Since: t0.Add(-10 * time.Minute), LastAction: L3, RebootBy: "l3", RebootBoot: "b1"}},
			"l3", ""},
		{"the boot the host's assist brought",
			State{Count: 1, Boot: "b1", Outage: Outage{AssistDay: "2026-11-25", Assists: 1, RebootBy: "assist", RebootBoot: "b1"}},
			"assist", ""},
		{"an L3 ordered with the boot id unread",
			State{Count: 1, Cooling: cooling, Outage: Outage{LastAction: L3, RebootBy: "l3", RebootBoot: UnknownBoot}},
			"l3", ""},
		{"a power cut after the L3's own boot: count and cooling as after the L3",
			State{Count: 1, Cooling: cooling, Boot: "b2", Outage: Outage{Since: t0.Add(-10 * time.Minute), LastAction: L3}},
			"other", ""},
		{"the host's acknowledgement rebooted the router VM (its withdrawal owed)",
			State{Count: 3, Boot: "b1", RescuedBy: "vm", RescuedAt: t0.Add(-3 * time.Minute), Outage: Outage{Since: t0.Add(-time.Hour), LastAction: L2, SOS: true}},
			"vm", ""},
		{"net_rescued_by seen by the runs before (a power cut, the net still down): not the rescue's",
			State{Count: 3, Boot: "b1", RescuedBy: "vm", RescuedAt: t0.Add(-time.Hour), Outage: Outage{Since: t0.Add(-time.Hour), LastAction: L2, RescueSeen: t0.Add(-time.Hour)}},
			"other", ""},
		{"a writing of net_rescued_by not seen before (another rescue)",
			State{Count: 3, Boot: "b1", RescuedBy: "vm", RescuedAt: t0.Add(-3 * time.Minute), Outage: Outage{Since: t0.Add(-time.Hour), LastAction: L2}},
			"vm", ""},
		{"the host's rescue after an order of ours: the host's, the later",
			State{Count: 2, Boot: "b1", RescuedBy: "vm", RescuedAt: t0.Add(-3 * time.Minute), Outage: Outage{LastAction: L3, RebootBy: "l3", RebootBoot: "b1", SOS: true}},
			"vm", ""},
		{"the first run after an install",
			State{}, "other", ""},
		{"RUN_DIR emptied in the boot the L3 was ordered in: no reboot yet",
			State{Count: 1, Cooling: cooling, Outage: Outage{LastAction: L3, RebootBy: "l3", RebootBoot: "b3"}},
			"", "l3"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for _, up := range []bool{true, false} {
				s := Decide(testConfig(), tt.st, Input{Now: t0, Up: up, Uptime: 2 * time.Minute, BootID: "b3"})
				got, logged := bootLine(s)
				if !logged || got != tt.want {
					t.Errorf("net up %v: 【启动】 logged %v with reboot=%q; want reboot=%q\n%s", up, logged, got, tt.want, msgs(s))
				}
				if s.Next.Outage.RebootBy != tt.wantMark {
					t.Errorf("net up %v: the reboot ordered is %q after the run; want %q", up, s.Next.Outage.RebootBy, tt.wantMark)
				}
			}
		})
	}
}

// TestOrderGone: an order no boot will name is cleared by a later run
// that is not a boot's first: one of an earlier boot (its boot's first run
// could not clear it on a full flash), or one of this boot RebootGrace
// after it, no reboot having come (the command returned 0, or
// ActionTimeout ended it). Within RebootGrace it waits for its reboot.
func TestOrderGone(t *testing.T) {
	order := func(boot string, up time.Duration) State {
		return State{Boot: "b2", Net: "up", Outage: Outage{RebootBy: "l3", RebootBoot: boot, RebootUp: up}}
	}
	for _, tt := range []struct {
		name   string
		st     State
		uptime time.Duration
		want   string
	}{
		{"an earlier boot's", order("b1", time.Hour), 3 * time.Minute, ""},
		{"this boot's, 5 minutes on: the reboot may be slow", order("b2", time.Hour), time.Hour + 5*time.Minute, "l3"},
		{"this boot's, RebootGrace on: none came", order("b2", time.Hour), time.Hour + RebootGrace, ""},
		{"this boot's, the uptime unread", order("b2", time.Hour), 0, "l3"},
	} {
		s := Decide(testConfig(), tt.st, Input{Now: t0, Up: true, Uptime: tt.uptime, BootID: "b2"})
		if s.Next.Outage.RebootBy != tt.want {
			t.Errorf("%s: the order after the run %q; want %q", tt.name, s.Next.Outage.RebootBy, tt.want)
		}
	}
}

// TestRebootOrderedBeforeIt: the ladder's L3 and an assist reboot record
// the reboot, with the boot it was ordered in, in the state saved before
// the command runs; a refused assist records none.
func TestRebootOrderedBeforeIt(t *testing.T) {
	cfg := testConfig()
	cfg.SafeUptime = 0
	st := State{Boot: "b1", Streak: cfg.L3Threshold - 1, Outage: Outage{Since: t0.Add(-time.Hour), LastAction: L2}}
	s := Decide(cfg, st, Input{Now: t0, Up: false, Uptime: time.Hour, BootID: "b1"})
	if s.Action != L3 || s.Next.Outage.RebootBy != "l3" || s.Next.Outage.RebootBoot != "b1" {
		t.Fatalf("L3: action %v, reboot ordered %q in %q; want L3, l3 in b1\n%s", s.Action, s.Next.Outage.RebootBy, s.Next.Outage.RebootBoot, msgs(s))
	}
	a := DecideAssist(cfg, State{Boot: "b1"}, AssistInput{Now: t0, Uptime: time.Hour, BootID: "b1", Step: assist.Reboot})
	if a.Action != L3 || a.Next.Outage.RebootBy != "assist" || a.Next.Outage.RebootBoot != "b1" {
		t.Errorf("assist reboot: action %v, reboot ordered %q in %q; want L3, assist in b1", a.Action, a.Next.Outage.RebootBy, a.Next.Outage.RebootBoot)
	}
	a = DecideAssist(cfg, State{Boot: "b1", SOS: true}, AssistInput{Now: t0, Uptime: time.Hour, BootID: "b1", Step: assist.Reboot})
	if a.Next.Outage.RebootBy != "" {
		t.Errorf("a refused assist reboot recorded one ordered: %q", a.Next.Outage.RebootBy)
	}
}

// TestBootCauseSimulated walks it on the simulated router of `plan`: a
// whole outage's L3, its boot, then a power cut while cooling.
func TestBootCauseSimulated(t *testing.T) {
	cfg := testConfig()
	r := NewRouter(cfg, t0)
	var causes []string
	l3 := false
	for now := t0.Add(RunEvery); now.Before(t0.Add(6*time.Hour)) && len(causes) < 3; now = now.Add(RunEvery) {
		step, ran, _ := r.Tick(now, false)
		if !ran {
			continue
		}
		if why, ok := bootLine(step); ok {
			causes = append(causes, why)
			if l3 && len(causes) == 2 {
				r.Reboot(now.Add(RunEvery)) // the power cut, a minute later
			}
		}
		l3 = l3 || step.Action == L3
	}
	if len(causes) != 3 || causes[0] != "other" || causes[1] != "l3" || causes[2] != "other" {
		t.Errorf("the boots' reboot= = %q; want other (the start), l3, other (the power cut)", causes)
	}
}

// TestStoreRebootOrdered: the reboot ordered survives the reboot in
// net_outage, and a damaged one reads as none.
func TestStoreRebootOrdered(t *testing.T) {
	dir := t.TempDir()
	s := Store{StateDir: filepath.Join(dir, "state"), RunDir: filepath.Join(dir, "run")}
	next := State{Count: 1, Outage: Outage{LastAction: L3, RebootBy: "l3", RebootBoot: "b1"}}
	if err := s.Save(State{}, next, false); err != nil {
		t.Fatal(err)
	}
	got, problems := s.Load(t0, time.Hour)
	if len(problems) > 0 || got.Outage.RebootBy != "l3" || got.Outage.RebootBoot != "b1" {
		t.Errorf("loaded reboot ordered %q in %q (%v); want l3 in b1", got.Outage.RebootBy, got.Outage.RebootBoot, problems)
	}
	writeFile(t, filepath.Join(dir, "state", OutageFile), "last_action=L3\nreboot_by=reboot now\nreboot_boot=b1\n")
	if got, _ := s.Load(t0, time.Hour); got.Outage.RebootBy != "" {
		t.Errorf("a damaged reboot_by loaded as %q; want none", got.Outage.RebootBy)
	}
}

func writeFile(t *testing.T, path, content string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}
