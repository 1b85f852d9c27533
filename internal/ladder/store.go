package ladder

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/pve-op/network-rescue/internal/pause"
	"github.com/pve-op/network-rescue/state"
)

// File names in STATE_DIR, the original scripts' own where they had one
// (SPEC §2), so that an upgrade keeps the count, the cooling and the SOS.
const (
	CountFile   = "net_rb_count"
	CoolingFile = "net_cooling_ts"
	SOSFile     = "SOS_SYSTEM"
	OutageFile  = "net_outage"
	// RescuedFile is written by the host when it acknowledges SOS
	// ("host" or "vm"), so that the recovery names who ended the outage.
	RescuedFile = "net_rescued_by"
	// VolatileFile in RUN_DIR holds the streak and the boot last seen.
	VolatileFile = "netcheck.state"
	// FallbackFile in STATE_DIR holds the same while RUN_DIR cannot be
	// written (a full or read-only /tmp, SPEC §15), so that the ladder
	// still climbs; it is removed by the first volatile save that works.
	FallbackFile = "net_volatile"
	// DryRunDir is the subdirectory of STATE_DIR and RUN_DIR that a dry
	// run uses instead, so that it never changes the real state (SPEC §5 rule 5).
	DryRunDir = "netrescue-dry-run"
)

// Store reads and writes the router's State.
type Store struct {
	StateDir string // persistent
	RunDir   string // volatile (tmpfs)
}

// DryRun returns the store a dry run uses.
func (s Store) DryRun() Store {
	return Store{StateDir: filepath.Join(s.StateDir, DryRunDir), RunDir: filepath.Join(s.RunDir, DryRunDir)}
}

func (s Store) path(name string) string { return filepath.Join(s.StateDir, name) }

// Load reads the state. Damaged files never stop a run: each is returned in
// problems (a *state.CorruptError the caller logs as 【严重错误】) and
// replaced by its safe value, which Save then writes back. maxCooling is
// the longest cooling the configuration can set: a deadline further away
// than that from now is damaged too (a stepped clock, a hand edit).
func (s Store) Load(now time.Time, maxCooling time.Duration) (st State, problems []error) {
	loc := now.Location()
	var err error
	if st.Count, err = state.ReadCount(s.path(CountFile)); err != nil {
		problems = append(problems, err)
	}
	cool, ok, err := state.ReadTime(s.path(CoolingFile))
	switch {
	case err != nil:
		problems = append(problems, err)
	case ok && cool.After(now.Add(maxCooling+time.Minute)):
		problems = append(problems, &state.CorruptError{Path: s.path(CoolingFile), Content: strconv.FormatInt(cool.Unix(), 10),
			Reason: fmt.Sprintf("deadline %s is more than COOLING_MAX (%v) away", cool.In(loc).Format(time.DateTime), maxCooling)})
	case ok:
		st.Cooling = cool.In(loc)
	}
	flag, err := state.ReadFlag(s.path(SOSFile))
	if err != nil {
		problems = append(problems, err)
	}
	st.SOS, st.SOSContent = flag.Present, flag.Content

	by, err := state.ReadFlag(s.path(RescuedFile))
	if err != nil {
		problems = append(problems, err)
	} else if by.Present {
		st.RescuedBy = strings.TrimSpace(by.Content)
		if st.RescuedBy == "" {
			st.RescuedBy = "host"
		}
	}

	rec, ok, err := state.ReadRecord(s.path(OutageFile))
	if err != nil {
		problems = append(problems, err)
	} else if ok {
		st.Outage = Outage{Since: state.RecordTime(rec["since"], loc), LastAction: parseAction(rec["last_action"]),
			UpSince: state.RecordTime(rec["up_since"], loc), ISP: parseISP(rec["isp"])}
	}

	// The fallback, when there is one, is newer than what RUN_DIR holds.
	rec, ok, err = state.ReadRecord(s.path(FallbackFile))
	if err != nil {
		problems = append(problems, err)
	}
	if !ok {
		rec, ok, err = state.ReadRecord(filepath.Join(s.RunDir, VolatileFile))
		if err != nil {
			problems = append(problems, err)
		}
	}
	if ok && err == nil {
		st.Boot = rec["boot"]
		st.Streak, _ = strconv.Atoi(rec["streak"])
		st.SOSLogged = state.RecordTime(rec["sos_logged"], loc)
		st.CoolingLogged = rec["cooling_logged"] == "1"
	}
	// Maintenance mode (SPEC §16): damaged is no pause.
	if until, err := pause.Read(s.StateDir, now); err != nil {
		problems = append(problems, err)
	} else if !until.IsZero() {
		st.PauseUntil = until.In(loc)
	}
	return st, problems
}

// Save writes what differs between old (as loaded) and next, persistent
// files first. Nothing is written when nothing changed: a healthy run
// touches no file (SPEC §5). dirty forces a rewrite of every file, used
// after Load reported damage.
func (s Store) Save(old, next State, dirty bool) error {
	persistent := dirty || old.Count != next.Count || !old.Cooling.Equal(next.Cooling) ||
		old.SOS != next.SOS || old.SOSContent != next.SOSContent || old.Outage != next.Outage ||
		old.RescuedBy != next.RescuedBy
	if persistent {
		if err := os.MkdirAll(s.StateDir, 0o755); err != nil {
			return fmt.Errorf("state dir: %w", err)
		}
	}
	var errs []error
	if dirty || old.Count != next.Count {
		errs = append(errs, state.WriteCount(s.path(CountFile), next.Count))
	}
	if dirty || !old.Cooling.Equal(next.Cooling) {
		if next.Cooling.IsZero() {
			errs = append(errs, state.Remove(s.path(CoolingFile)))
		} else {
			errs = append(errs, state.WriteTime(s.path(CoolingFile), next.Cooling))
		}
	}
	if old.SOS != next.SOS || old.SOSContent != next.SOSContent {
		if next.SOS {
			errs = append(errs, state.WriteFlag(s.path(SOSFile), next.SOSContent))
		} else {
			errs = append(errs, state.Remove(s.path(SOSFile)))
		}
	}
	if old.RescuedBy != "" && next.RescuedBy == "" {
		errs = append(errs, state.Remove(s.path(RescuedFile)))
	}
	if (dirty || !old.PauseUntil.IsZero()) && next.PauseUntil.IsZero() {
		// An expired pause goes; so does a damaged one (read as none).
		errs = append(errs, pause.Clear(s.StateDir))
	}
	if dirty || old.Outage != next.Outage {
		if next.Outage == (Outage{}) {
			errs = append(errs, state.Remove(s.path(OutageFile)))
		} else {
			errs = append(errs, state.WriteRecord(s.path(OutageFile), state.Record{
				"since": state.RecordTimeString(next.Outage.Since), "last_action": next.Outage.LastAction.String(),
				"up_since": state.RecordTimeString(next.Outage.UpSince), "isp": next.Outage.ISP.String()}))
		}
	}
	if err := errors.Join(errs...); err != nil {
		return err
	}
	if !dirty && old.Boot == next.Boot && old.Streak == next.Streak && old.SOSLogged.Equal(next.SOSLogged) &&
		old.CoolingLogged == next.CoolingLogged {
		return nil
	}
	cl := "0"
	if next.CoolingLogged {
		cl = "1"
	}
	rec := state.Record{"boot": next.Boot, "streak": strconv.Itoa(next.Streak),
		"sos_logged": state.RecordTimeString(next.SOSLogged), "cooling_logged": cl}
	err := os.MkdirAll(s.RunDir, 0o700)
	if err == nil {
		err = state.WriteRecord(filepath.Join(s.RunDir, VolatileFile), rec)
	}
	if err == nil {
		if _, serr := os.Lstat(s.path(FallbackFile)); serr == nil {
			_ = state.Remove(s.path(FallbackFile)) // RUN_DIR works again
		}
		return nil
	}
	// RUN_DIR cannot be written: keep the streak on flash instead, only
	// while that lasts, and let the run act (SPEC §15).
	ferr := state.WriteRecord(s.path(FallbackFile), rec)
	return &VolatileError{Err: err, Fallback: s.path(FallbackFile), FallbackErr: ferr}
}

// VolatileError is a Save whose persistent part succeeded but whose
// volatile part could not be written to RUN_DIR. The count is on disk, so
// the run still acts: a full /tmp must not block the reboot that would fix
// it. The streak went to Fallback in STATE_DIR unless FallbackErr says not.
type VolatileError struct {
	Err         error
	Fallback    string
	FallbackErr error
}

func (e *VolatileError) Error() string {
	if e.FallbackErr != nil {
		return fmt.Sprintf("RUN_DIR: %v; fallback %s: %v", e.Err, e.Fallback, e.FallbackErr)
	}
	return fmt.Sprintf("RUN_DIR: %v; streak kept in %s instead", e.Err, e.Fallback)
}

func (e *VolatileError) Unwrap() error { return e.Err }

// Reset is midnight-reset on the router: count 0, no cooling, no SOS
// (SPEC §5). It reports whether anything changed.
func (s Store) Reset() (changed bool, err error) {
	n, cerr := state.ReadCount(s.path(CountFile))
	_, statErr := os.Lstat(s.path(CountFile))
	if cerr != nil || (statErr == nil && n != 0) {
		if err := state.WriteCount(s.path(CountFile), 0); err != nil {
			return changed, err
		}
		changed = true
	}
	for _, name := range []string{CoolingFile, SOSFile} {
		if _, err := os.Lstat(s.path(name)); err == nil {
			if err := state.Remove(s.path(name)); err != nil {
				return changed, err
			}
			changed = true
		}
	}
	return changed, nil
}

func parseAction(s string) Action {
	switch s {
	case "L1":
		return L1
	case "L2":
		return L2
	case "L3":
		return L3
	}
	return None
}

func parseISP(s string) ISPState {
	switch s {
	case "upstream":
		return ISPUpstream
	case "resumed":
		return ISPResumed
	}
	return ISPNone
}
