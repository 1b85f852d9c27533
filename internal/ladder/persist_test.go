package ladder

import (
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/pve-op/network-rescue/internal/testlab"
)

// TestSavePersistFailureKeepsStreak: when STATE_DIR cannot be written,
// Save still writes the streak to RUN_DIR and reports the files not
// written in a *PersistError, so that the caller withholds only what
// needs them (SPEC §5, §15).
func TestSavePersistFailureKeepsStreak(t *testing.T) {
	dir := t.TempDir()
	blocker := filepath.Join(dir, "file")
	if err := os.WriteFile(blocker, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	s := Store{StateDir: filepath.Join(blocker, "state"), RunDir: filepath.Join(dir, "run")}
	old := State{Boot: "b", Streak: 2}
	next := State{Boot: "b", Streak: 3, Count: 1}
	err := s.Save(old, next, false)
	var perr *PersistError
	if !errors.As(err, &perr) || !perr.Lost(CountFile) || perr.Lost(SOSFile) {
		t.Fatalf("Save with STATE_DIR unwritable = %v; want a *PersistError losing %s only", err, CountFile)
	}
	if st, _ := s.Load(t0, time.Hour); st.Streak != 3 {
		t.Errorf("streak after Save = %d; want 3 in RUN_DIR", st.Streak)
	}
}

// TestSaveRepairsDirectory: a directory Load reported damaged is cleared
// and the file rewritten by the next Save, once (SPEC §5 rule 4). One
// that holds something is moved aside with it (NAME.damaged-TIME), never
// deleted: it was removed with its contents, while the host's
// notify.queue and hostcheck.state were moved aside.
func TestSaveRepairsDirectory(t *testing.T) {
	dir := t.TempDir()
	s := Store{StateDir: dir, RunDir: filepath.Join(dir, "run")}
	for _, name := range []string{CountFile, CoolingFile, OutageFile, RescuedFile} {
		if err := os.MkdirAll(filepath.Join(dir, name, "x"), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	now := t0
	st, problems := s.Load(now, time.Hour)
	if len(problems) != 4 {
		t.Fatalf("Load = %v; want 4 damaged files", problems)
	}
	if err := s.Save(st, st, true); err != nil {
		t.Fatalf("Save = %v; want the damage repaired", err)
	}
	if _, problems := s.Load(now, time.Hour); len(problems) != 0 {
		t.Errorf("Load after the repair = %v; want none", problems)
	}
	for _, name := range []string{CountFile, CoolingFile, OutageFile, RescuedFile} {
		if kept, _ := filepath.Glob(filepath.Join(dir, name+".damaged-*", "x")); len(kept) != 1 {
			t.Errorf("%s/x after the repair: %q; want it kept in %s.damaged-TIME", name, kept, name)
		}
	}
}

// TestLoadLongOutageStreak: the streak grows by one every down run, also
// through SOS and an ISP fault, so an outage of months is a real streak
// above the count's bound: read as it is, not as damage. Past ten years of
// minutes (MaxStreak), or negative, it is damage: 【严重错误】 and 0.
func TestLoadLongOutageStreak(t *testing.T) {
	for _, tc := range []struct {
		streak  string
		want    int
		damaged bool
	}{
		{"100001", 100001, false},
		{strconv.Itoa(MaxStreak), MaxStreak, false},
		{strconv.Itoa(MaxStreak + 1), 0, true},
		{"-1", 0, true},
	} {
		dir := t.TempDir()
		s := Store{StateDir: filepath.Join(dir, "state"), RunDir: filepath.Join(dir, "run")}
		if err := os.MkdirAll(s.RunDir, 0o700); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(s.RunDir, VolatileFile), []byte("boot=b\nstreak="+tc.streak+"\n"), 0o600); err != nil {
			t.Fatal(err)
		}
		st, problems := s.Load(t0, time.Hour)
		if st.Streak != tc.want || (len(problems) > 0) != tc.damaged {
			t.Errorf("streak=%s: Load = %d, problems %v; want %d, damaged %v", tc.streak, st.Streak, problems, tc.want, tc.damaged)
		}
	}
}

// TestSaveSOSOnFullFlash: on a full STATE_DIR (ENOSPC) the SOS of the
// daily limit goes in empty: a name, no data block, and an empty
// SOS_SYSTEM is SOS to the host (SPEC §5). Only the count, which needs a
// block, is lost; the host is still called. STATE_DIR is a tiny tmpfs
// filled up inside `unshare -m`.
func TestSaveSOSOnFullFlash(t *testing.T) {
	script := `mkdir -p "$1/state"
mount -t tmpfs -o size=64k,mode=0755 tmpfs "$1/state"
dd if=/dev/zero of="$1/state/filler" bs=4k 2>/dev/null || :`
	dir, child := testlab.InMountNS(t, "NRS_LADDER_FULL_SOS", script, nil)
	if !child {
		return
	}
	s := Store{StateDir: filepath.Join(dir, "state"), RunDir: filepath.Join(dir, "run")}
	old := State{Boot: "b", Streak: 29, Count: 9}
	next := old
	next.Streak, next.Count, next.SOS, next.SOSContent = 30, 10, true, "time=2026-11-25T10:00:00Z count=10 reason=30 failed checks in a row"
	err := s.Save(old, next, false)
	var perr *PersistError
	if !errors.As(err, &perr) || !perr.Lost(CountFile) || perr.Lost(SOSFile) {
		t.Errorf("Save on a full STATE_DIR = %v; want the count lost, not the SOS", err)
	}
	if fi, err := os.Lstat(filepath.Join(dir, "state", SOSFile)); err != nil || fi.Size() != 0 {
		t.Fatalf("SOS_SYSTEM: %v; want it written empty", err)
	}
	if st, _ := s.Load(t0, time.Hour); !st.SOS {
		t.Errorf("Load after an empty SOS_SYSTEM: SOS = false; want true")
	}
}

// TestLoadAbsurdCooling: a cooling deadline further away than COOLING_MAX
// can set (a clock stepped back, a hand edit) would freeze the router — no
// L3, no SOS, the host never called — until midnight-reset. It is damage
// (SPEC §5 rule 4): reported, and no cooling. A deadline COOLING_MAX away
// is a cooling.
func TestLoadAbsurdCooling(t *testing.T) {
	for _, tc := range []struct {
		name    string
		away    time.Duration
		cooling bool
	}{
		{"COOLING_MAX away", 3 * time.Hour, true},
		{"hours beyond COOLING_MAX", 5 * time.Hour, false},
		{"years away", 20 * 365 * 24 * time.Hour, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := Store{StateDir: t.TempDir(), RunDir: t.TempDir()}
			deadline := t0.Add(tc.away)
			if err := os.WriteFile(filepath.Join(s.StateDir, CoolingFile), []byte(strconv.FormatInt(deadline.Unix(), 10)+"\n"), 0o644); err != nil {
				t.Fatal(err)
			}
			st, problems := s.Load(t0, 3*time.Hour)
			if got := !st.Cooling.IsZero(); got != tc.cooling {
				t.Errorf("cooling %v; want cooling %v", st.Cooling, tc.cooling)
			}
			if damaged := len(problems) == 1 && strings.Contains(problems[0].Error(), "more than COOLING_MAX"); damaged == tc.cooling {
				t.Errorf("problems %v; want the deadline reported as damage: %v", problems, !tc.cooling)
			}
		})
	}
}

// TestAssistsPersist: the day's assist reboots are kept in net_outage
// across runs and reboots (SPEC §14); a damaged number reads as none.
func TestAssistsPersist(t *testing.T) {
	s := Store{StateDir: t.TempDir(), RunDir: t.TempDir()}
	next := State{Count: 2, Outage: Outage{AssistDay: "2026-11-25", Assists: 2}}
	if err := s.Save(State{}, next, false); err != nil {
		t.Fatal(err)
	}
	st, problems := s.Load(t0, time.Hour)
	if st.Outage != next.Outage || len(problems) != 0 {
		t.Errorf("loaded outage %+v (problems %v); want %+v", st.Outage, problems, next.Outage)
	}
	if err := os.WriteFile(filepath.Join(s.StateDir, OutageFile), []byte("assist_day=2026-11-25\nassists=x\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if st, _ := s.Load(t0, time.Hour); st.Outage.Assists != 0 {
		t.Errorf("assists=x read as %d; want 0", st.Outage.Assists)
	}
	// A day that is no date is none (it compared after every real day).
	if err := os.WriteFile(filepath.Join(s.StateDir, OutageFile), []byte("assist_day=garbage\nassists=5\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if st, _ := s.Load(t0, time.Hour); st.Outage.AssistDay != "" || st.Outage.assistsOn(t0, 5) != 0 {
		t.Errorf("assist_day=garbage read as %q, %d assists; want none", st.Outage.AssistDay, st.Outage.assistsOn(t0, 5))
	}
	// The boot's uptime at the net's return is kept in RUN_DIR.
	if err := s.Save(State{}, State{Boot: "b", UpAt: 90 * time.Second}, false); err != nil {
		t.Fatal(err)
	}
	if st, _ := s.Load(t0, time.Hour); st.UpAt != 90*time.Second {
		t.Errorf("UpAt loaded as %v; want 1m30s", st.UpAt)
	}
	// Damaged: none (a number that overflowed read as 448µs, and the next
	// up run reset the count at once).
	for _, v := range []string{"18446744073710", "-5", "x"} {
		if err := os.WriteFile(filepath.Join(s.RunDir, VolatileFile), []byte("boot=b\nstreak=0\nup_at_ms="+v+"\n"), 0o644); err != nil {
			t.Fatal(err)
		}
		if st, _ := s.Load(t0, time.Hour); st.UpAt != 0 {
			t.Errorf("up_at_ms=%s loaded as %v; want none", v, st.UpAt)
		}
	}
}
