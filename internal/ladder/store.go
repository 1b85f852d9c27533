package ladder

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
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
	// OwedFile, empty, is Outage.SOS: an SOS's withdrawal owed to
	// ON_EVENT_CMD. Empty, it needs no data block, as SOS_SYSTEM raised
	// on a full flash, where net_outage (it was its sos=1) could not take
	// it, and the hook that heard "sos" never heard it withdrawn.
	OwedFile = "net_sos_owed"
	// owedStuck is OwedFile's content while SOS_SYSTEM cannot be removed
	// (Outage.SOSStuck); empty otherwise, as a full flash takes it.
	owedStuck = "stuck"
	// StaleFile, empty, says net_outage's since= is stale (Outage.Stale):
	// an outage goes on that it does not record, or the one it records
	// ended, as a full flash could not rewrite it. Empty, it needs no
	// data block, and it tells the boot's first run whether the net was
	// down before the reboot, also once the SOS withdrawal owed (OwedFile)
	// was told: up and 【状态恢复】 once, no second down, and none again
	// for an outage that ended before the reboot.
	StaleFile = "net_outage_stale"
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

// StateFiles are the router's files in STATE_DIR, for purge and for
// status's check that each can be replaced (not chattr +i).
var StateFiles = []string{CountFile, CoolingFile, SOSFile, OutageFile, RescuedFile, FallbackFile, OwedFile, StaleFile}

// Store reads and writes the router's State.
type Store struct {
	StateDir string // persistent
	RunDir   string // volatile (tmpfs)
}

// DryRun returns the store a dry run uses.
func (s Store) DryRun() Store {
	return Store{StateDir: filepath.Join(s.StateDir, DryRunDir), RunDir: filepath.Join(s.RunDir, DryRunDir)}
}

// path is not inlined: called for every file, it would be copied into
// each caller (SPEC §12: netcheck's size).
//
//go:noinline
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
	if st.Count > 0 {
		// The count's day: a first run after a boot that finds it
		// written before today makes up a missed midnight-reset.
		if fi, err := os.Lstat(s.path(CountFile)); err == nil {
			at := fi.ModTime()
			st.CountOld = !at.After(now) && at.In(loc).Format(time.DateOnly) != now.Format(time.DateOnly)
		}
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
		if fi, err := os.Lstat(s.path(RescuedFile)); err == nil {
			st.RescuedAt = fi.ModTime()
		}
	}

	rec, ok, err := state.ReadRecord(s.path(OutageFile))
	if err != nil {
		problems = append(problems, err)
		st.Outage.RescueSeen = st.RescuedAt // damaged: net_rescued_by seen, no new rescue
	} else if ok {
		st.Outage = Outage{Since: state.RecordTime(rec["since"], loc), LastAction: parseAction(rec["last_action"]),
			UpSince: state.RecordTime(rec["up_since"], loc), ISP: parseISP(rec["isp"])}
		if _, err := time.Parse(time.DateOnly, rec["assist_day"]); err == nil {
			st.Outage.AssistDay = rec["assist_day"] // else damaged: none
		}
		st.Outage.Assists, _ = strconv.Atoi(rec["assists"])       // damaged: none
		if by := rec["reboot_by"]; by == "l3" || by == "assist" { // damaged: none
			st.Outage.RebootBy, st.Outage.RebootBoot = by, rec["reboot_boot"]
			if up, err := strconv.ParseInt(rec["reboot_up"], 10, 64); err == nil && up > 0 && up < 1e9 { // damaged: 0
				st.Outage.RebootUp = time.Duration(up) * time.Second
			}
		}
		if by := rec["rescue_by"]; by == "host" || by == "vm" { // damaged: none
			st.Outage.RescueBy, st.Outage.RescueBoot = by, rec["rescue_boot"]
			if up, err := strconv.ParseInt(rec["rescue_up"], 10, 64); err == nil && up > 0 && up < 1e9 { // damaged: 0
				st.Outage.RescueUp = time.Duration(up) * time.Second
			}
		}
		st.Outage.RescueSeen = state.RecordTime(rec["rescue_seen"], loc)
		if v := rec["rescue_seen"]; st.Outage.RescueSeen.IsZero() && v != "" && v != "0" {
			st.Outage.RescueSeen = st.RescuedAt // damaged: seen, so that no old writing reads as a new rescue
		}
	}
	// Read as the other flags: one that is not a regular file (a
	// directory) is damage, moved aside once, not a removal that failed
	// at every run.
	// Its safe value: none owed (no sos-withdrawn for a directory).
	owed, err := state.ReadFlag(s.path(OwedFile))
	if err != nil {
		problems = append(problems, err)
	}
	st.Outage.SOS = owed.Present && err == nil
	st.Outage.Recorded = !st.Outage.Since.IsZero()
	// Read as the other flags: one that is not a regular file (a
	// directory) is damage, moved aside once (Save's repair), not a mark
	// whose removal failed at every run. Its safe value: no mark.
	stale, err := state.ReadFlag(s.path(StaleFile))
	if err != nil {
		problems = append(problems, err)
	}
	if stale.Present && err == nil {
		st.Outage.Stale = true
		if st.Outage.Recorded { // ended: the outage's own fields go with it
			st.Outage.Since, st.Outage.LastAction, st.Outage.ISP = time.Time{}, None, ISPNone
		} else {
			st.Outage.Open = true
		}
	}
	st.Outage.SOSStuck = st.Outage.SOS && strings.TrimSpace(owed.Content) == owedStuck

	// The fallback, when there is one, is newer than what RUN_DIR holds; a
	// damaged one gives way to RUN_DIR's. Of a garbled record the lines
	// that can be read are kept: the boot above all, which a stray line
	// lost (a false 【启动】, the streak started over).
	rec, vpath := state.Record(nil), ""
	for _, p := range []string{s.path(FallbackFile), filepath.Join(s.RunDir, VolatileFile)} {
		r, ok, err := state.ReadRecord(p)
		if err != nil {
			problems = append(problems, err)
			if b, rerr := state.ReadBounded(p, state.MaxStateBytes); rec == nil && rerr == nil {
				rec, _ = state.ParseRecord(p, string(b))
				vpath = p
			}
			continue
		}
		if ok {
			rec, vpath = r, p
			break
		}
	}
	if rec != nil {
		st.Boot = rec["boot"]
		if st.Streak, err = parseStreak(vpath, rec["streak"]); err != nil {
			problems = append(problems, err)
		}
		st.SOSLogged = state.RecordTime(rec["sos_logged"], loc)
		st.CoolingLogged = rec["cooling_logged"] == "1"
		if v := rec["net"]; v == "up" || v == "down" { // damaged: unknown
			st.Net = v
		}
		if ms, err := strconv.ParseInt(rec["up_at_ms"], 10, 64); err == nil && ms > 0 && ms < 1e12 { // damaged: none
			st.UpAt = time.Duration(ms) * time.Millisecond
		}
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
// after Load reported damage; what Load found there that is not a regular
// file is removed first, so that the damage is repaired once and not
// reported by every later run (SPEC §5 rule 4, §15).
//
// The volatile record (streak, boot) is written even when STATE_DIR could
// not be: a full flash must not freeze the streak, or L1 and L2, which
// change nothing on flash, would never run. The persistent failure is
// then a *PersistError naming the files not written, and the caller
// withholds only the steps that need them on flash first (L3, SOS).
func (s Store) Save(old, next State, dirty bool) error {
	var ops persistOps
	add := ops.add
	// An SOS_SYSTEM that could not be removed keeps its withdrawal owed
	// (Outage.SOS, OwedFile), whoever removes the file later: its removal
	// sets next.Outage.SOS when it fails (next is this call's own copy).
	removing := false
	if dirty || old.Count != next.Count {
		add(CountFile, func(p string) error { return state.WriteCount(p, next.Count) })
	}
	if dirty || !old.Cooling.Equal(next.Cooling) {
		if next.Cooling.IsZero() {
			add(CoolingFile, state.Remove)
		} else {
			add(CoolingFile, func(p string) error { return state.WriteTime(p, next.Cooling) })
		}
	}
	if dirty || old.SOS != next.SOS || old.SOSContent != next.SOSContent {
		if next.SOS {
			// On a full STATE_DIR (ENOSPC) SOS_SYSTEM goes in empty: an
			// empty file needs a name but no data block, and an empty
			// SOS_SYSTEM, as the original's `touch` made it, is SOS to the
			// host (SPEC §5). The call for help matters, not its line.
			add(SOSFile, func(p string) error {
				err := state.WriteFlag(p, next.SOSContent)
				if errors.Is(err, syscall.ENOSPC) {
					err = state.WriteFlag(p, "")
				}
				return err
			})
		} else {
			removing = true
			add(SOSFile, func(p string) error {
				err := state.Remove(p)
				next.Outage.SOS = next.Outage.SOS || err != nil
				// Owed because it stays, its outage told over: not an
				// outage at the next boot (outageEdge).
				next.Outage.SOSStuck = err != nil
				return err
			})
		}
	}
	if dirty || old.Outage.SOS != next.Outage.SOS || removing {
		// Also with the SOS going and none owed: an SOS_SYSTEM no run of
		// ours raised (the original's touch) is owed once it stays.
		// Each closure holds next alone, as the writes above: a closure
		// type less in netcheck, which must stay within 5 MiB.
		if old.Outage.SOS && !dirty {
			add(OwedFile, func(p string) error {
				switch {
				case next.Outage.SOS && next.Outage.SOSStuck && !old.Outage.SOSStuck:
					return owedStuckFlag(p) // once
				case next.Outage.SOS:
					return nil // there, and stays: no write a minute while SOS_SYSTEM stays
				}
				return state.Remove(p)
			})
		} else {
			add(OwedFile, func(p string) error {
				switch {
				case next.Outage.SOS && next.Outage.SOSStuck:
					return owedStuckFlag(p)
				case next.Outage.SOS:
					return state.WriteFlag(p, "")
				}
				return state.Remove(p)
			})
		}
	}
	if (dirty || old.RescuedBy != "") && next.RescuedBy == "" {
		// Also when Load could not read it (RescuedBy then ""): a damaged
		// acknowledgement goes, else every run would report it again.
		add(RescuedFile, state.Remove)
	}
	if (dirty || !old.PauseUntil.IsZero()) && next.PauseUntil.IsZero() {
		// An expired pause goes; so does a damaged one (read as none).
		add(pause.File, func(string) error { return pause.Clear(s.StateDir) })
	}
	o, was := next.Outage, old.Outage
	o.SOS, was.SOS, o.SOSStuck, was.SOSStuck = false, false, false, false // OwedFile's
	if dirty {
		// Repaired (persist's clearDamaged) before net_outage's write,
		// which sets or removes it (staleMark).
		add(StaleFile, func(string) error { return nil })
	}
	if dirty || o != was {
		add(OutageFile, func(p string) error {
			o := next.Outage // by the pointer the other writes hold: no closure type of its own
			o.SOS, o.SOSStuck, o.Open, o.Stale, o.Recorded = false, false, false, false, false
			if o == (Outage{}) {
				return staleMark(p, state.Remove(p), next.Outage)
			}
			return staleMark(p, state.WriteRecord(p, state.Record{
				"since": state.RecordTimeString(o.Since), "last_action": o.LastAction.String(),
				"up_since": state.RecordTimeString(o.UpSince), "isp": o.ISP.String(),
				"assist_day": o.AssistDay, "assists": strconv.Itoa(o.Assists),
				"reboot_by": o.RebootBy, "reboot_boot": o.RebootBoot, "reboot_up": strconv.FormatInt(int64(o.RebootUp/time.Second), 10),
				"rescue_by": o.RescueBy, "rescue_boot": o.RescueBoot, "rescue_up": strconv.FormatInt(int64(o.RescueUp/time.Second), 10),
				"rescue_seen": state.RecordTimeString(o.RescueSeen)}), next.Outage)
		})
	}
	perr := s.persist(ops, dirty)
	verr := s.saveVolatile(old, next, dirty)
	switch {
	case perr != nil && verr != nil:
		return errors.Join(perr, verr)
	case perr != nil:
		return perr
	case verr != nil:
		return verr
	}
	return nil
}

// staleMark follows net_outage's write at p, whose outcome is err, for
// the outage o: with the write done, net_outage tells and StaleFile goes;
// on a full flash (ENOSPC) StaleFile, empty, stands when net_outage, as it
// was, says otherwise than o whether an outage goes on (o.Recorded: its
// since= as loaded), and goes when it says the same. err is returned as
// it was: net_outage was not written.
func staleMark(p string, err error, o Outage) error {
	mark := filepath.Join(filepath.Dir(p), StaleFile)
	full := errors.Is(err, syscall.ENOSPC)
	switch {
	case err == nil || full && o.Recorded == !o.Since.IsZero():
		// Also one this run made: a Save again after makeRoom.
		if rerr := state.Remove(mark); err == nil {
			return rerr
		}
	case full:
		if _, serr := os.Lstat(mark); serr != nil {
			_ = state.WriteFlag(mark, "")
		}
	}
	return err
}

// owedStuckFlag marks the owed withdrawal at p as SOS_SYSTEM's that
// cannot be removed. A full flash cannot take the mark (a data block): the
// owed file stays as it is, empty, and no failure is reported for it,
// which would be logged every run while SOS_SYSTEM stays.
func owedStuckFlag(p string) error {
	err := state.WriteFlag(p, owedStuck)
	if errors.Is(err, syscall.ENOSPC) {
		return nil
	}
	return err
}

// persistOps are a Save's writes, in order.
type persistOps []persistOp

// add appends a write. Not inlined, to keep the router's netcheck small
// (SPEC §12), as group.end in probe.
//
//go:noinline
func (o *persistOps) add(name string, do func(path string) error) {
	*o = append(*o, persistOp{name, do})
}

// persistOp is one write or removal of a file in STATE_DIR.
type persistOp struct {
	name string
	do   func(path string) error
}

// persist runs ops in order, each one even when an earlier one failed, and
// reports those that failed. With repair, whatever is not a regular file
// is cleared from a path before it is written.
func (s Store) persist(ops []persistOp, repair bool) *PersistError {
	if len(ops) == 0 {
		return nil
	}
	if err := os.MkdirAll(s.StateDir, 0o755); err != nil {
		perr := &PersistError{Err: fmt.Errorf("state dir: %w", err)}
		for _, op := range ops {
			perr.Files = append(perr.Files, op.name)
		}
		return perr
	}
	var perr PersistError
	var errs []error
	for _, op := range ops {
		p := s.path(op.name)
		var err error
		if repair {
			err = clearDamaged(p)
		}
		if err == nil {
			err = op.do(p)
		}
		if err != nil {
			perr.Files = append(perr.Files, op.name)
			errs = append(errs, err)
		}
	}
	if len(errs) == 0 {
		return nil
	}
	perr.Err = errors.Join(errs...)
	return &perr
}

// saveVolatile writes the streak and the boot to RUN_DIR, or to the
// fallback in STATE_DIR while RUN_DIR cannot be written (SPEC §15).
func (s Store) saveVolatile(old, next State, dirty bool) *VolatileError {
	if !dirty && old.Boot == next.Boot && old.Streak == next.Streak && old.SOSLogged.Equal(next.SOSLogged) &&
		old.CoolingLogged == next.CoolingLogged && old.UpAt == next.UpAt && old.Net == next.Net {
		return nil
	}
	cl := "0"
	if next.CoolingLogged {
		cl = "1"
	}
	rec := state.Record{"boot": next.Boot, "streak": strconv.Itoa(next.Streak),
		"sos_logged": state.RecordTimeString(next.SOSLogged), "cooling_logged": cl, "up_at_ms": strconv.FormatInt(next.UpAt.Milliseconds(), 10), "net": next.Net}
	vpath := filepath.Join(s.RunDir, VolatileFile)
	err := os.MkdirAll(s.RunDir, 0o700)
	if err == nil && dirty {
		err = clearDamaged(vpath)
	}
	if err == nil {
		err = state.WriteRecord(vpath, rec)
	}
	if err == nil {
		if _, serr := os.Lstat(s.path(FallbackFile)); serr == nil {
			if dirty {
				_ = clearDamaged(s.path(FallbackFile))
			}
			_ = state.Remove(s.path(FallbackFile)) // RUN_DIR works again
		}
		return nil
	}
	// RUN_DIR cannot be written: keep the streak on flash instead, only
	// while that lasts, and let the run act (SPEC §15).
	ferr := error(nil)
	if dirty {
		ferr = clearDamaged(s.path(FallbackFile))
	}
	if ferr == nil {
		ferr = state.WriteRecord(s.path(FallbackFile), rec)
	}
	return &VolatileError{Err: err, Fallback: s.path(FallbackFile), FallbackErr: ferr}
}

// clearDamaged clears what Load reported damaged at p, anything but a
// regular file (SPEC §5 rule 4: "rewritten at the next change"). A
// directory there made every rewrite fail (a rename onto it is EISDIR)
// and so switched the rescue off for good: an empty one is removed, one
// that holds something is moved aside as NAME.damaged-TIME with what it
// holds, as the host does (state.ClearDamaged): nothing a person put in
// it is deleted. A FIFO or a symlink is unlinked, never opened or followed.
func clearDamaged(p string) error {
	fi, err := os.Lstat(p)
	if err != nil || fi.Mode().IsRegular() {
		return nil // missing, or the write itself says what is wrong
	}
	_, err = state.ClearDamaged(p, p+".damaged-"+time.Now().Format("20060102-150405"))
	return err
}

// PersistError is a Save that could not write some of STATE_DIR: a full
// or read-only flash, or a damaged file that could not be cleared. The
// volatile record was still written, so the streak climbs and L1 and L2,
// which change nothing on flash, still run. The steps whose record is on
// flash are withheld by the caller while a file they need is lost (SPEC §5:
// persist before acting): L3 its count and cooling, a new SOS its flag.
type PersistError struct {
	Files []string // names in STATE_DIR that were not written
	Err   error
}

func (e *PersistError) Error() string {
	return fmt.Sprintf("STATE_DIR: %s not written: %v", strings.Join(e.Files, ", "), e.Err)
}

func (e *PersistError) Unwrap() error { return e.Err }

// Lost reports whether any of the files names was not written.
func (e *PersistError) Lost(names ...string) bool {
	for _, n := range names {
		if slices.Contains(e.Files, n) {
			return true
		}
	}
	return false
}

// VolatileError is a Save whose volatile part could not be written to
// RUN_DIR. Unless it comes joined with a *PersistError, the count is on
// disk, so the run still acts: a full /tmp must not block the reboot that
// would fix it. The streak went to Fallback in STATE_DIR unless
// FallbackErr says not.
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
// (SPEC §5). It reports whether anything changed. The removals come
// first and each step is tried whatever the others did: on a full flash
// they need no room (and make some), and a count that cannot be written
// as 0 is removed, which reads as 0; else a full flash began the new day
// in SOS with yesterday's count.
func (s Store) Reset() (changed bool, err error) {
	var errs []error
	for _, name := range []string{CoolingFile, SOSFile} {
		if _, err := os.Lstat(s.path(name)); err == nil {
			if err := state.Remove(s.path(name)); err != nil {
				errs = append(errs, err)
				continue
			}
			changed = true
			if name != SOSFile {
				continue
			}
			// The SOS went: RUN_DIR's record starts the ladder over (the
			// streak, no SOS logged), as the next run would for an SOS
			// cleared while the net is down, and its withdrawal is no
			// longer owed: midnight-reset tells the hook itself. OwedFile
			// goes by a removal, which a full flash allows: the rewrite of
			// net_outage's sos=1 failed there unsaid, and the next run told
			// it again. Not removed, it stays owed, and the error says so.
			for _, p := range []string{s.path(FallbackFile), filepath.Join(s.RunDir, VolatileFile)} {
				if rec, ok, err := state.ReadRecord(p); err == nil && ok && rec["sos_logged"] != "" && rec["sos_logged"] != "0" {
					rec["sos_logged"], rec["streak"] = "0", "0"
					_ = state.WriteRecord(p, rec)
				}
			}
			errs = append(errs, state.Remove(s.path(OwedFile))) // nil: none (errors.Join)
		}
	}
	n, cerr := state.ReadCount(s.path(CountFile))
	_, statErr := os.Lstat(s.path(CountFile))
	if cerr != nil || (statErr == nil && n != 0) {
		err := state.WriteCount(s.path(CountFile), 0)
		if errors.Is(err, syscall.ENOSPC) {
			err = state.Remove(s.path(CountFile))
		}
		if err != nil {
			errs = append(errs, err)
		} else {
			changed = true
		}
	}
	return changed, errors.Join(errs...)
}

// MaxStreak is the largest streak taken as real: a run a minute for ten
// years. A streak grows by one every down run, also through SOS and an
// ISP fault, so a real one passes the count's bound (state.MaxCount)
// after ~69 days of outage.
const MaxStreak = 10 * 366 * 24 * 60

// parseStreak reads the streak of a volatile record. Garbage, a negative
// or an absurd number is damage like a bad count (SPEC §5 rule 4): it was
// trusted, and a streak of -1000 silenced the ladder for 1000 minutes.
func parseStreak(path, v string) (int, error) {
	n, err := strconv.Atoi(strings.TrimSpace(v))
	reason := ""
	switch {
	case err != nil:
		reason = "not a whole number"
	case n < 0:
		reason = "negative"
	case n > MaxStreak:
		reason = fmt.Sprintf("larger than %d", MaxStreak)
	default:
		return n, nil
	}
	return 0, &state.CorruptError{Path: path, Content: "streak=" + v, Reason: "streak " + reason}
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
