package ladder

import (
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// TestVolatileFallback: while RUN_DIR cannot be written, Save keeps the
// streak in STATE_DIR and says so with a *VolatileError (the run still
// acts); Load reads it back; the first save that reaches RUN_DIR again
// removes it (SPEC §15, issue 9 item 10).
func TestVolatileFallback(t *testing.T) {
	dir := t.TempDir()
	blocker := filepath.Join(dir, "file")
	if err := os.WriteFile(blocker, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	now := time.Date(2026, 11, 25, 10, 0, 0, 0, time.UTC)
	broken := Store{StateDir: filepath.Join(dir, "state"), RunDir: filepath.Join(blocker, "run")}
	old := State{Boot: "b", Streak: 2}
	next := State{Boot: "b", Streak: 3, Count: 1}
	var verr *VolatileError
	if err := broken.Save(old, next, false); !errors.As(err, &verr) || verr.FallbackErr != nil {
		t.Fatalf("Save with RUN_DIR unwritable = %v; want a *VolatileError with the fallback written", err)
	}
	if st, problems := broken.Load(now, time.Hour); st.Streak != 3 || st.Count != 1 || len(problems) != 0 {
		t.Fatalf("Load = streak %d count %d, %v; want 3, 1", st.Streak, st.Count, problems)
	}
	good := Store{StateDir: broken.StateDir, RunDir: filepath.Join(dir, "run")}
	st, _ := good.Load(now, time.Hour)
	n := st
	n.Streak = 4
	if err := good.Save(st, n, false); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(good.StateDir, FallbackFile)); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("fallback still there after RUN_DIR works again: %v", err)
	}
	if st, _ := good.Load(now, time.Hour); st.Streak != 4 {
		t.Errorf("streak = %d; want 4 from RUN_DIR", st.Streak)
	}
}
