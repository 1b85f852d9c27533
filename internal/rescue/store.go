package rescue

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"time"

	"github.com/pve-op/network-rescue/internal/ladder"
	"github.com/pve-op/network-rescue/state"
)

// RecordFile in STATE_DIR holds the host's outage and VM-restart memory.
const RecordFile = "hostcheck.state"

// Store reads and writes the host's State.
type Store struct {
	Mark     string // PVE_MARK
	StateDir string
}

// DryRun returns the store a dry run uses: its own directory, its own mark.
func (s Store) DryRun() Store {
	dir := filepath.Join(s.StateDir, ladder.DryRunDir)
	return Store{Mark: filepath.Join(dir, filepath.Base(s.Mark)), StateDir: dir}
}

// Load reads the state; damaged files are reported in problems and read
// as their safe value. A damaged mark still protects the day it was
// written (state.ReadMark dates it by its mtime).
func (s Store) Load(loc *time.Location) (st State, problems []error) {
	m, ok, err := state.ReadMark(s.Mark, loc)
	if err != nil {
		problems = append(problems, err)
	}
	st.Mark, st.HasMark = m, ok
	rec, _, err := state.ReadRecord(filepath.Join(s.StateDir, RecordFile))
	if err != nil {
		problems = append(problems, err)
	}
	st.DownSince = unix(rec["down_since"], loc)
	st.RouterDownSince = unix(rec["router_down_since"], loc)
	if d := rec["vm_restart_date"]; d != "" {
		if _, err := time.Parse(state.DateLayout, d); err == nil {
			st.VMRestartDate = d
		}
	}
	return st, problems
}

// Save writes what changed, the mark first: a host reboot is recorded
// before anything can interrupt it (SPEC §6 step 6).
func (s Store) Save(old, next State) error {
	if next.HasMark && (!old.HasMark || old.Mark.Format() != next.Mark.Format()) {
		if err := os.MkdirAll(filepath.Dir(s.Mark), 0o755); err != nil {
			return fmt.Errorf("mark dir: %w", err)
		}
		if err := state.WriteMark(s.Mark, next.Mark); err != nil {
			return err
		}
	}
	if old.HasMark && !next.HasMark {
		if err := state.Remove(s.Mark); err != nil {
			return err
		}
	}
	if old.DownSince.Equal(next.DownSince) && old.RouterDownSince.Equal(next.RouterDownSince) &&
		old.VMRestartDate == next.VMRestartDate {
		return nil
	}
	if err := os.MkdirAll(s.StateDir, 0o755); err != nil {
		return fmt.Errorf("state dir: %w", err)
	}
	p := filepath.Join(s.StateDir, RecordFile)
	if next.DownSince.IsZero() && next.RouterDownSince.IsZero() && next.VMRestartDate == "" {
		return state.Remove(p)
	}
	return state.WriteRecord(p, state.Record{
		"down_since":        unixString(next.DownSince),
		"router_down_since": unixString(next.RouterDownSince),
		"vm_restart_date":   next.VMRestartDate,
	})
}

// TearMark deletes the mark after a misfire (SPEC §6 step 6: 【回退】).
func (s Store) TearMark() error {
	if err := state.Remove(s.Mark); err != nil {
		return fmt.Errorf("tear mark: %w", err)
	}
	return nil
}

// ConfirmBoot rewrites the mark with the current boot id after
// `hostcheck boot` reported the reboot, so it is reported once.
func (s Store) ConfirmBoot(m state.Mark, bootID string) error {
	m.BootID = bootID
	if err := state.WriteMark(s.Mark, m); err != nil {
		return fmt.Errorf("confirm boot: %w", err)
	}
	return nil
}

// IsCorrupt reports whether err is a damaged state file.
func IsCorrupt(err error) bool {
	var ce *state.CorruptError
	return errors.As(err, &ce)
}

func unix(s string, loc *time.Location) time.Time {
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil || n <= 0 {
		return time.Time{}
	}
	return time.Unix(n, 0).In(loc)
}

func unixString(t time.Time) string {
	if t.IsZero() {
		return "0"
	}
	return strconv.FormatInt(t.Unix(), 10)
}
