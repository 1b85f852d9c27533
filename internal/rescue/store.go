package rescue

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"time"

	"github.com/pve-op/network-rescue/internal/ladder"
	"github.com/pve-op/network-rescue/internal/pause"
	"github.com/pve-op/network-rescue/state"
)

// RecordFile in STATE_DIR holds the host's outage and VM-restart memory.
const RecordFile = "hostcheck.state"

// Store reads and writes the host's State.
type Store struct {
	Mark     string // PVE_MARK
	StateDir string
	// Now is the clock a pause's deadline is judged by (time.Now when nil).
	Now func() time.Time
	// VMStartMax is VM_START_MAX: a damaged count of a day's VM starts
	// reads as one start left that day (0: as the limit spent).
	VMStartMax int
	// RunDir (RUN_DIR) keeps the day's VM starts while the record cannot
	// be read (UnreadFile), beside STATE_DIR's copy; "" keeps them in
	// STATE_DIR alone.
	RunDir string
	// readRecord is state.ReadRecord (when nil); tests fail it as a disk
	// does.
	readRecord func(path string) (state.Record, bool, error)
}

// UnreadFile, in STATE_DIR and in RUN_DIR, counts the VM starts of the
// days (two, as the record keeps them, for a clock that steps back and
// forth) on which hostcheck.state could not be read, and so could not
// count them: without it, every run of such a day found one start left
// and started a stopped VM again. Both are written, either may fail: the
// disk of STATE_DIR may be the one that fails, and RUN_DIR (a tmpfs) is
// emptied by every reboot. Both are read, the larger count kept.
const UnreadFile = "hostcheck.unread"

// damagedStarts is the count a damaged record's VM starts read as: one
// start left, so that a stopped router VM is still started (SPEC §13 rule
// 4: never left offline) and VM_START_MAX is passed by at most one.
func (s Store) damagedStarts() int {
	if s.VMStartMax <= 0 {
		return 1 << 10
	}
	return s.VMStartMax - 1
}

// DryRun returns the store a dry run uses: its own directory, its own mark.
func (s Store) DryRun() Store {
	dir := filepath.Join(s.StateDir, ladder.DryRunDir)
	d := Store{Mark: filepath.Join(dir, filepath.Base(s.Mark)), StateDir: dir, Now: s.Now, VMStartMax: s.VMStartMax}
	if s.RunDir != "" {
		d.RunDir = dir
	}
	return d
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
	p := filepath.Join(s.StateDir, RecordFile)
	read := state.ReadRecord
	if s.readRecord != nil {
		read = s.readRecord
	}
	rec, ok, err := read(p)
	if err != nil {
		problems = append(problems, err)
	}
	st.DownSince = state.RecordTime(rec["down_since"], loc)
	st.RouterDownSince = state.RecordTime(rec["router_down_since"], loc)
	st.RouterErr = rec["router_err"] // optional, our own text
	st.QMFailSince = state.RecordTime(rec["qm_fail_since"], loc)
	vm, vmOK := date(rec, "vm_restart_date")
	last, lastOK := date(rec, "last_reboot_date")
	switch {
	case ok && (err != nil || !vmOK || !lastOK):
		// A damaged record may have held today's VM restart or host
		// reboot: protect the day it was last written, as a damaged mark
		// does; of its VM starts one is left (valid start keys below still
		// give the real count).
		if fi, serr := os.Lstat(p); serr == nil { // never a planted link's target
			day := fi.ModTime().In(loc).Format(state.DateLayout)
			st.VMRestartDate, st.LastReboot = max(vm, day), max(last, day)
			st.VMStartDate, st.VMStarts = day, s.damagedStarts()
		}
		if err == nil {
			problems = append(problems, &state.CorruptError{Path: p, Content: rec.Format(),
				Reason: "no valid vm_restart_date and last_reboot_date lines; the day it was written counts as having had its host reboot and VM cold restart, with one VM start left"})
		}
	case ok:
		st.VMRestartDate, st.LastReboot = vm, last
	case err != nil:
		// There, but not read (EIO, no file descriptor left): it may hold
		// today's VM restart or host reboot, and what this run does is not
		// recorded in it (Save skips it). Today counts as spent (a run
		// that read nothing took a second cold restart; with the day it
		// was last written, yesterday, one at every run).
		now := time.Now
		if s.Now != nil {
			now = s.Now
		}
		day := unreadDay(now().In(loc))
		st.VMRestartDate, st.LastReboot = day, day
		problems = append(problems, s.unreadStarts(&st)...)
		unreadDayStarts(&st, day, s.damagedStarts())
		st.RecordUnread = true
	}
	// A cold restart whose qm stop failed (SPEC §13): optional; damaged
	// reads as none (the VM's restart is spent all the same).
	st.VMStopFailDate, _ = date(rec, "vm_stop_fail_date")
	// The day a spent day's run said nothing is left for the router VM:
	// optional; damaged reads as none (said once more).
	st.VMGaveUpDate, _ = date(rec, "vm_gave_up_date")
	st.LeftLockDate, _ = date(rec, "vm_left_lock_date")
	// A misfire today (SPEC §6 step 6): optional; a damaged date reads as
	// the day the record was written, so a REBOOT_CMD that never works is
	// not tried a third time through the damage.
	if d, ok := date(rec, "misfire_date"); ok {
		st.MisfireDate = d
	} else if _, present := rec["misfire_date"]; present && err == nil {
		if fi, serr := os.Lstat(p); serr == nil {
			st.MisfireDate = fi.ModTime().In(loc).Format(state.DateLayout)
		}
		problems = append(problems, &state.CorruptError{Path: p, Content: rec.Format(),
			Reason: "misfire_date is not a date; a misfire on the day it was written counts"})
	}
	st.MisfireBoot = rec["misfire_boot"]
	// Today's starts of a stopped VM (SPEC §13): optional keys; a damaged
	// count reads as one start left that day, a damaged date as the day
	// the record was last written, with one start left.
	if _, present := rec["vm_start_date"]; present && err == nil {
		if _, startOK := date(rec, "vm_start_date"); !startOK {
			if fi, serr := os.Lstat(p); serr == nil {
				st.VMStartDate, st.VMStarts = fi.ModTime().In(loc).Format(state.DateLayout), s.damagedStarts()
			}
			problems = append(problems, &state.CorruptError{Path: p, Content: rec.Format(),
				Reason: "vm_start_date is not a date; one VM start is left on the day it was written"})
		}
	}
	if start, startOK := date(rec, "vm_start_date"); startOK && start != "" {
		n, cerr := strconv.Atoi(rec["vm_starts"])
		if cerr != nil || n < 0 {
			n = s.damagedStarts()
			problems = append(problems, &state.CorruptError{Path: p, Content: rec.Format(),
				Reason: "vm_starts is not a count; one VM start is left on " + start})
		}
		st.VMStartDate, st.VMStarts = start, n
	}
	if prev, prevOK := date(rec, "vm_start_prev_date"); prevOK && prev != "" {
		n, cerr := strconv.Atoi(rec["vm_starts_prev"])
		if cerr != nil || n < 0 {
			n = s.damagedStarts()
			problems = append(problems, &state.CorruptError{Path: p, Content: rec.Format(),
				Reason: "vm_starts_prev is not a count; one VM start is left on " + prev})
		}
		st.VMStartPrevDate, st.VMStartsPrev = prev, n
	}
	// The start still to be seen working (SPEC §13 rule 5): optional;
	// damaged reads as none, and that start stays counted as failed.
	st.VMStartUnproven, _ = date(rec, "vm_start_unproven")
	// A LAN fault in progress (SPEC §14): optional keys; damaged reads as
	// none, and the fault is seen afresh.
	if k := rec["lan_fault"]; k == LANDNS || k == LANPath {
		st.LANFault = k
		st.LANSeen, _ = strconv.Atoi(rec["lan_seen"])
		st.LANSteps = rec["lan_steps"]
		st.LANHeld, _ = strconv.Atoi(rec["lan_held"])
	}
	// When the router answered in this outage that it cannot run netcheck:
	// optional unix seconds; anything else reads as no such answer (a LAN
	// fault may then be asked for once more), as does the "1" that hostcheck
	// wrote when it held for the rest of the outage: expired, not damage.
	if v := rec["router_no_netcheck"]; v != "1" {
		st.NoNetcheckAt = state.RecordTime(v, loc)
	}
	// A host reboot HOST_REBOOT_HOURS held (SPEC §16): optional, our own text.
	st.HeldReboot = rec["held_reboot"]
	// An SOS seen and not answered yet: optional, our own text.
	if h := rec["held_sos"]; h != "" {
		day, dayOK := date(rec, "held_sos_day")
		count, err := strconv.Atoi(rec["held_sos_count"])
		if _, present := rec["held_sos_count"]; !present {
			count, err = -1, nil // a record from before the count was kept: unknown
		}
		if dayOK && day != "" && err == nil && count >= -1 {
			st.HeldSOS = HeldSOS{SOS: h, Count: count, Day: day}
		} else {
			// Damaged: none held (the SOS itself, if it lasts, is seen
			// again by the next run), and the record rewritten.
			problems = append(problems, &state.CorruptError{Path: p, Content: rec.Format(),
				Reason: "held_sos_count or held_sos_day is damaged; no SOS is held"})
		}
	}
	// Maintenance mode (SPEC §16): damaged is no pause.
	now := time.Now
	if s.Now != nil {
		now = s.Now
	}
	if until, err := pause.Read(s.StateDir, now()); err != nil {
		problems = append(problems, err)
	} else {
		st.PauseUntil = until
	}
	return st, problems
}

// Save writes what changed, the mark first: a host reboot is recorded
// before anything can interrupt it (SPEC §6 step 6). A stale mark and an
// ended pause go last, after the record: removed by a Save whose record
// then failed, what the run said of them (【重置】, 【恢复自救】) was not
// said (a run that cannot save says only that), and the next run found
// nothing left to say.
func (s Store) Save(old, next State) error {
	if next.HasMark && (!old.HasMark || old.Mark.Format() != next.Mark.Format()) {
		if err := os.MkdirAll(filepath.Dir(s.Mark), 0o755); err != nil {
			return fmt.Errorf("mark dir: %w", err)
		}
		if err := state.WriteMark(s.Mark, next.Mark); err != nil {
			return err
		}
	}
	if err := s.saveRecord(old, next); err != nil {
		return err
	}
	if old.HasMark && !next.HasMark {
		if err := state.Remove(s.Mark); err != nil {
			return err
		}
	}
	if !old.PauseUntil.IsZero() && next.PauseUntil.IsZero() {
		if err := pause.Clear(s.StateDir); err != nil {
			return err
		}
	}
	return nil
}

// saveRecord is Save's hostcheck.state (or, while it cannot be read, the
// day's VM starts beside it).
func (s Store) saveRecord(old, next State) error {
	if old.RecordUnread || next.RecordUnread {
		// There but not read: not written over (it may hold today's VM
		// restart, the outage's start, a held SOS). The mark and the pause
		// are written (Save), and the day's VM starts in RUN_DIR, so that
		// VM_START_MAX holds through the runs that cannot read it.
		if next.VMStartDate == "" || old.VMStartDate == next.VMStartDate && old.VMStarts == next.VMStarts &&
			old.VMStartPrevDate == next.VMStartPrevDate && old.VMStartsPrev == next.VMStartsPrev {
			return nil
		}
		rec := state.Record{"day": next.VMStartDate, "vm_starts": strconv.Itoa(next.VMStarts),
			"prev_day": next.VMStartPrevDate, "prev_starts": strconv.Itoa(next.VMStartsPrev)}
		var errs []error
		wrote := false
		for _, dir := range []string{s.StateDir, s.RunDir} {
			if dir == "" {
				continue
			}
			err := os.MkdirAll(dir, 0o700)
			if err == nil {
				err = state.WriteRecord(filepath.Join(dir, UnreadFile), rec)
			}
			wrote = wrote || err == nil
			errs = append(errs, err)
		}
		if wrote {
			return nil // one is enough: the larger count is read
		}
		return fmt.Errorf("keep the VM starts of a day %s cannot count: %w", RecordFile, errors.Join(errs...))
	}
	if old.DownSince.Equal(next.DownSince) && old.RouterDownSince.Equal(next.RouterDownSince) && old.RouterErr == next.RouterErr &&
		old.VMRestartDate == next.VMRestartDate && old.LastReboot == next.LastReboot &&
		old.VMStartDate == next.VMStartDate && old.VMStarts == next.VMStarts &&
		old.VMStartPrevDate == next.VMStartPrevDate && old.VMStartsPrev == next.VMStartsPrev && old.VMStartUnproven == next.VMStartUnproven &&
		old.LANFault == next.LANFault && old.LANSeen == next.LANSeen && old.LANSteps == next.LANSteps && old.LANHeld == next.LANHeld && old.NoNetcheckAt.Equal(next.NoNetcheckAt) &&
		old.QMFailSince.Equal(next.QMFailSince) && old.HeldReboot == next.HeldReboot && old.HeldSOS == next.HeldSOS && old.VMStopFailDate == next.VMStopFailDate && old.VMGaveUpDate == next.VMGaveUpDate && old.LeftLockDate == next.LeftLockDate &&
		old.MisfireDate == next.MisfireDate && old.MisfireBoot == next.MisfireBoot {
		return nil
	}
	if err := os.MkdirAll(s.StateDir, 0o755); err != nil {
		return fmt.Errorf("state dir: %w", err)
	}
	p := filepath.Join(s.StateDir, RecordFile)
	if next.recordEmpty() {
		return state.Remove(p)
	}
	return state.WriteRecord(p, state.Record{
		"down_since":         state.RecordTimeString(next.DownSince),
		"router_down_since":  state.RecordTimeString(next.RouterDownSince),
		"router_err":         next.RouterErr,
		"vm_restart_date":    next.VMRestartDate,
		"last_reboot_date":   next.LastReboot,
		"vm_start_date":      next.VMStartDate,
		"vm_starts":          strconv.Itoa(next.VMStarts),
		"vm_start_prev_date": next.VMStartPrevDate,
		"vm_starts_prev":     strconv.Itoa(next.VMStartsPrev),
		"vm_start_unproven":  next.VMStartUnproven,
		"lan_fault":          next.LANFault,
		"lan_seen":           strconv.Itoa(next.LANSeen),
		"lan_steps":          next.LANSteps,
		"lan_held":           strconv.Itoa(next.LANHeld),
		"router_no_netcheck": state.RecordTimeString(next.NoNetcheckAt),
		"qm_fail_since":      state.RecordTimeString(next.QMFailSince),
		"held_reboot":        next.HeldReboot,
		"held_sos":           next.HeldSOS.SOS,
		"held_sos_count":     heldCount(next.HeldSOS),
		"held_sos_day":       next.HeldSOS.Day,
		"vm_stop_fail_date":  next.VMStopFailDate,
		"vm_gave_up_date":    next.VMGaveUpDate,
		"vm_left_lock_date":  next.LeftLockDate,
		"misfire_date":       next.MisfireDate,
		"misfire_boot":       next.MisfireBoot,
	})
}

// unreadDay is the day an unread record spends: today. Not the day it
// was last written: earlier, every run while the read failed took another
// cold restart (never recorded); later (an mtime ahead), status and the
// log told of dates the record does not hold.
func unreadDay(now time.Time) string { return now.Format(state.DateLayout) }

// unreadStarts puts in st the VM starts that runs unable to read the
// record kept (UnreadFile, in STATE_DIR and RUN_DIR): the two latest days
// either remembers, the larger count of each. A damaged file counts for
// nothing (the record's one start left stands).
func (s Store) unreadStarts(st *State) (problems []error) {
	days := map[string]int{}
	for _, dir := range []string{s.StateDir, s.RunDir} {
		if dir == "" {
			continue
		}
		r, _, err := state.ReadRecord(filepath.Join(dir, UnreadFile))
		if ce := (*state.CorruptError)(nil); errors.As(err, &ce) {
			problems = append(problems, err) // told, and removed by Repair
		}
		if err != nil {
			continue
		}
		for _, k := range [][2]string{{"day", "vm_starts"}, {"prev_day", "prev_starts"}} {
			d, derr := time.Parse(state.DateLayout, r[k[0]])
			n, nerr := strconv.Atoi(r[k[1]])
			if derr == nil && nerr == nil && n >= 0 {
				day := d.Format(state.DateLayout)
				days[day] = max(days[day], n)
			}
		}
	}
	st.VMStartDate, st.VMStarts, st.VMStartPrevDate, st.VMStartsPrev = "", 0, "", 0
	for d, n := range days {
		switch {
		case d > st.VMStartDate:
			st.VMStartPrevDate, st.VMStartsPrev = st.VMStartDate, st.VMStarts
			st.VMStartDate, st.VMStarts = d, n
		case d > st.VMStartPrevDate:
			st.VMStartPrevDate, st.VMStartsPrev = d, n
		}
	}
	return problems
}

// unreadDayStarts makes today the first of st's two VM start days, for a
// record that could not be read, keeping the other: its count is what
// the runs unable to read it kept, and at least floor (all but one of
// VM_START_MAX: the damage leaves one start). Load calls it with the
// store's clock, Decide with the run's.
func unreadDayStarts(st *State, today string, floor int) {
	switch today {
	case st.VMStartDate:
	case st.VMStartPrevDate:
		st.VMStartDate, st.VMStarts, st.VMStartPrevDate, st.VMStartsPrev = today, st.VMStartsPrev, st.VMStartDate, st.VMStarts
	default:
		st.VMStartPrevDate, st.VMStartsPrev = st.VMStartDate, st.VMStarts
		st.VMStartDate, st.VMStarts = today, 0
	}
	st.VMStarts = max(st.VMStarts, floor)
}

// recordEmpty reports a state whose record holds nothing: no file.
func (st State) recordEmpty() bool {
	return st.DownSince.IsZero() && st.RouterDownSince.IsZero() && st.RouterErr == "" && st.VMRestartDate == "" && st.LastReboot == "" &&
		st.VMStartDate == "" && st.VMStartUnproven == "" && st.LANFault == "" && st.NoNetcheckAt.IsZero() && st.QMFailSince.IsZero() && st.HeldReboot == "" && st.HeldSOS == (HeldSOS{}) &&
		st.VMStopFailDate == "" && st.VMGaveUpDate == "" && st.LeftLockDate == "" && st.MisfireDate == "" && st.MisfireBoot == ""
}

// Repair rewrites what Load found damaged (problems) with the safe values
// it read (st), so that the damage is reported once: the mark, and the
// record, removed when those values hold nothing (Save, from a state as
// empty, would change nothing) and the record was read and found garbled;
// a record that could not be read (EIO, no file descriptor left) is left
// as it is: it may hold today's VM restart.
//
// The mark is rewritten only when a problem names it: an unread record
// is reported at every run, and its repair rewrote an unchanged mark,
// fsynced, every five minutes on the disk that fails. A directory where
// the record, the pause or hostcheck.unread goes (names of ours in
// STATE_DIR and RUN_DIR), which no write could replace (every Save
// failed, and with it every step, even a stopped VM's start), is removed
// when empty, else moved aside as NAME.damaged-TIME (state.ClearDamaged);
// a damaged hostcheck.unread is removed (its counts are lost; the record's
// one start left stands). A directory at PVE_MARK, a path the owner
// chose, is removed only when empty: one with files in it is PVE_MARK set
// to a directory by mistake (/root, say), never moved, and an error.
func (s Store) Repair(st State, problems []error) error {
	p := filepath.Join(s.StateDir, RecordFile)
	old := State{HasMark: st.HasMark, Mark: st.Mark}
	if st.RecordUnread {
		// Nothing of the VM starts to repair: kept as Load read them.
		old.VMStartDate, old.VMStarts, old.VMStartPrevDate, old.VMStartsPrev = st.VMStartDate, st.VMStarts, st.VMStartPrevDate, st.VMStartsPrev
	}
	for _, e := range problems {
		if names(e, s.Mark) {
			old.HasMark, old.Mark = false, state.Mark{}
		}
		ce := (*state.CorruptError)(nil)
		if !errors.As(e, &ce) {
			continue
		}
		switch ours := ce.Path == p || ce.Path == filepath.Join(s.StateDir, pause.File) || filepath.Base(ce.Path) == UnreadFile; {
		case ce.Path == s.Mark && ce.Kind == "directory":
			if err := os.Remove(ce.Path); err != nil && !errors.Is(err, fs.ErrNotExist) {
				return fmt.Errorf("PVE_MARK %s is a directory with files in it, not the mark: set PVE_MARK to a file's path (the default is /root/pve_did_reboot_today): %w", ce.Path, err)
			}
		case ours && (ce.Kind != "" || filepath.Base(ce.Path) == UnreadFile):
			now := time.Now
			if s.Now != nil {
				now = s.Now
			}
			if _, err := state.ClearDamaged(ce.Path, ce.Path+".damaged-"+now().Format("20060102-150405")); err != nil {
				return err
			}
		}
	}
	if err := s.Save(old, st); err != nil {
		return err
	}
	for _, e := range problems {
		if ce := (*state.CorruptError)(nil); errors.As(e, &ce) && ce.Path == p && st.recordEmpty() {
			return state.Remove(p)
		}
	}
	return nil
}

// names reports whether err is about the file at path.
func names(err error, path string) bool {
	if ce := (*state.CorruptError)(nil); errors.As(err, &ce) {
		return ce.Path == path
	}
	if pe := (*fs.PathError)(nil); errors.As(err, &pe) {
		return pe.Path == path
	}
	return false
}

// heldCount is held_sos_count: empty when no SOS is held.
func heldCount(h HeldSOS) string {
	if h.SOS == "" {
		return ""
	}
	return strconv.Itoa(h.Count)
}

// date reads a YYYY-MM-DD field of a record that exists: empty is valid
// (no such event yet), absent is not (Save always writes every field).
func date(r state.Record, key string) (string, bool) {
	d, present := r[key]
	if !present {
		return "", false
	}
	if d == "" {
		return "", true
	}
	if _, err := time.Parse(state.DateLayout, d); err != nil {
		return "", false
	}
	return d, true
}

// Misfire undoes a reboot that did not happen (SPEC §6 step 6: 【回退】):
// the mark is torn and the day of the last reboot goes back to what it was
// before (prev), so that a later run may try again today. It is not
// retried at once: SOS was acknowledged on the router before the reboot,
// so the SOS path needs a new SOS, as with the original script (SPEC §2).
// An immediate retry would loop every run with a REBOOT_CMD that never
// works, resetting the router's count each time so that it never cools
// down, and would reboot a second time the same day after a shutdown
// that was only slow (the misfire check cannot tell it from a failed one).
//
// A misfire (counted; not a person's cancel) on a day that already had
// one keeps the mark instead (kept): a REBOOT_CMD that never works would
// otherwise be tried again and again all day — on a LAN fault or a hung VM
// every few runs, each try resetting the router's count so that its own
// reboots are never limited. Tomorrow (midnight-reset) it may try again.
// The kept mark loses its boot id: `hostcheck boot` after a reboot by
// hand later that day must not confirm it as ours. A counted misfire
// also records bootID, the boot it did not end (decider.lateReboot).
func (s Store) Misfire(loc *time.Location, prev string, now time.Time, bootID string, counted bool) (kept bool, err error) {
	if bootID == "" {
		// Unread (sysinfo.BootID failed): said as the runs say it, so that
		// the next run cannot take "" for "no misfire" (lateReboot).
		bootID = "unknown"
	}
	st, _ := s.Load(loc)
	if st.RecordUnread {
		// Nothing of the try could be recorded (Save keeps an unread
		// record): torn, the mark went with no misfire kept, and the run
		// said 【回退】, a retry that never came. The mark stays.
		return false, fmt.Errorf("tear mark: %s could not be read, so the mark stays", RecordFile)
	}
	now = now.In(loc)
	next := st
	if counted && spent(st.MisfireDate, now) {
		next.Mark.BootID, next.MisfireBoot = "", bootID
		if err := s.Save(st, next); err != nil {
			return true, fmt.Errorf("keep mark: %w", err)
		}
		return true, nil
	}
	next.HasMark, next.Mark, next.LastReboot = false, state.Mark{}, prev
	if counted {
		next.MisfireDate, next.MisfireBoot = Today(now), bootID
	}
	// The record first, the mark after: torn first, a record that could
	// not be written (a full or read-only STATE_DIR) left nothing of the
	// day's try, and every later run tried again (a slow shutdown landing
	// then was a second reboot that day). Not written, the mark stays and
	// the day is spent.
	staged := next
	staged.HasMark, staged.Mark = st.HasMark, st.Mark
	if err := s.Save(st, staged); err != nil {
		return false, fmt.Errorf("tear mark: %s could not be written, so the mark stays: %w", RecordFile, err)
	}
	if err := s.Save(staged, next); err != nil {
		return false, fmt.Errorf("tear mark: %w", err)
	}
	return false, nil
}

// VMStopFailed records that the cold restart of day did not stop the
// router VM (SPEC §13 rule 4: qm stop failed, QEMU stuck), so that the
// next run escalates to the host's reboot instead of observing until
// midnight.
func (s Store) VMStopFailed(loc *time.Location, day string) error {
	st, _ := s.Load(loc)
	next := st
	next.VMStopFailDate = day
	if err := s.Save(st, next); err != nil {
		return fmt.Errorf("record failed qm stop: %w", err)
	}
	return nil
}

// Forget is `midnight-reset -force` on the host: a person allows another
// host rescue today. Plain midnight-reset only deletes the mark; the day
// of the last reboot renews by itself when the date changes.
func (s Store) Forget(loc *time.Location) (changed bool, err error) {
	st, _ := s.Load(loc)
	if st.RecordUnread {
		// Its day cannot be forgotten in a record that cannot be read.
		return false, fmt.Errorf("forget today's reboot: %s could not be read: check the disk, then run this again", filepath.Join(s.StateDir, RecordFile))
	}
	next := Forgotten(st)
	if err := s.Save(st, next); err != nil {
		return false, fmt.Errorf("forget today's reboot: %w", err)
	}
	return st.HasMark || st.LastReboot != "" || st.MisfireDate != "", nil
}

// Forgotten is st after `midnight-reset -force` (Forget): a person's
// override forgets today's host reboot, its mark and the day's misfires.
func Forgotten(st State) State {
	st.HasMark, st.Mark, st.LastReboot, st.MisfireDate, st.MisfireBoot = false, state.Mark{}, "", "", ""
	return st
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
