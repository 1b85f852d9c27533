package rescue

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/pve-op/network-rescue/internal/config"
	"github.com/pve-op/network-rescue/state"
)

// TestLateReboot: a host reboot taken for a misfire (【回退】) that then
// happened after all — a shutdown that was only slow — is today's reboot:
// the first run of the new boot says so and takes no second one, although
// SOS is raised again (or a LAN fault or a hung VM would ask for one). A
// misfire of another day, or a run of the same boot, changes nothing.
func TestLateReboot(t *testing.T) {
	cfg := config.Default(config.Host)
	for _, tt := range []struct {
		name       string
		date, boot string
		wantReboot bool
		wantLog    bool
	}{
		{"misfire today, another boot", "2026-11-25", "boot0", false, true},
		{"misfire today, same boot", "2026-11-25", "boot1", true, false},
		{"misfire yesterday, another boot", "2026-11-24", "boot0", true, false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			st := State{MisfireDate: tt.date, MisfireBoot: tt.boot, DownSince: t0.Add(-time.Hour)}
			s := Decide(cfg, st, full(nil))
			if got := s.Action == HostReboot; got != tt.wantReboot {
				t.Errorf("Decide = %v (log: %s); want a host reboot %v", s.Action, msgs(s), tt.wantReboot)
			}
			if got := strings.Contains(msgs(s), "【确认】上次判定未生效的物理机重启其实已完成"); got != tt.wantLog {
				t.Errorf("log %s; want the late reboot told %v", msgs(s), tt.wantLog)
			}
			if tt.wantLog && (s.Next.LastReboot != "2026-11-25" || s.Next.MisfireBoot != "") {
				t.Errorf("next: last reboot %q, misfire boot %q; want today and none", s.Next.LastReboot, s.Next.MisfireBoot)
			}
		})
	}
}

// TestMisfireStore: Store.Misfire tears the mark and records the day and
// the boot of a counted misfire; a second one that day (also when the
// clock was stepped back past midnight since) keeps the mark without its
// boot id. A damaged misfire_date reads as the day the record was written,
// and is reported.
func TestMisfireStore(t *testing.T) {
	dir := t.TempDir()
	s := Store{Mark: filepath.Join(dir, "mark"), StateDir: dir}
	now := time.Date(2026, 11, 25, 0, 10, 0, 0, time.UTC)
	mark := state.Mark{Date: "2026-11-25", Time: now, BootID: "b1", Reason: "SOS", Dated: true}
	save := func() {
		t.Helper()
		st, _ := s.Load(time.UTC)
		next := st
		next.HasMark, next.Mark, next.LastReboot = true, mark, "2026-11-25"
		if err := s.Save(st, next); err != nil {
			t.Fatal(err)
		}
	}
	save()
	if kept, err := s.Misfire(time.UTC, "2026-11-20", now, "b1", true); kept || err != nil {
		t.Fatalf("first misfire: kept %v, %v", kept, err)
	}
	st, _ := s.Load(time.UTC)
	if st.HasMark || st.LastReboot != "2026-11-20" || st.MisfireDate != "2026-11-25" || st.MisfireBoot != "b1" {
		t.Errorf("after the first misfire: %+v", st)
	}
	save()
	// The clock stepped back past midnight: still the same real day.
	if kept, err := s.Misfire(time.UTC, "2026-11-20", now.Add(-20*time.Minute), "b1", true); !kept || err != nil {
		t.Fatalf("second misfire, clock stepped back: kept %v, %v; want the mark kept", kept, err)
	}
	st, _ = s.Load(time.UTC)
	if !st.HasMark || st.Mark.BootID != "" || st.MisfireDate != "2026-11-25" {
		t.Errorf("after the second misfire: mark %v (boot %q), misfire_date %q; want the mark kept without a boot id",
			st.HasMark, st.Mark.BootID, st.MisfireDate)
	}
	// A person's cancel is not counted: the mark goes.
	if kept, _ := s.Misfire(time.UTC, "2026-11-20", now, "", false); kept {
		t.Errorf("a cancel kept the mark")
	}
	// Damage.
	p := filepath.Join(dir, RecordFile)
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	damaged := strings.Replace(string(b), "misfire_date=2026-11-25", "misfire_date=2026-11-2\x01", 1)
	if err := os.WriteFile(p, []byte(damaged), 0o644); err != nil {
		t.Fatal(err)
	}
	written := time.Date(2026, 11, 25, 0, 12, 0, 0, time.UTC)
	if err := os.Chtimes(p, written, written); err != nil {
		t.Fatal(err)
	}
	st, problems := s.Load(time.UTC)
	if st.MisfireDate != "2026-11-25" || len(problems) == 0 || !strings.Contains(problems[0].Error(), "misfire_date") {
		t.Errorf("damaged misfire_date: read %q, problems %v; want the day written and a problem", st.MisfireDate, problems)
	}
}
