// Package pause is maintenance mode (SPEC §16): `netcheck pause DURATION`
// or `hostcheck pause DURATION` writes a deadline into STATE_DIR; until it
// passes, probing and logging go on but neither side acts and the router
// raises no SOS. It expires by itself; `resume` ends it at once.
package pause

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"time"

	"github.com/pve-op/network-rescue/state"
)

// File is the pause file in STATE_DIR: the deadline in unix seconds.
const File = "netrescue.pause"

// Max is the longest pause: a deadline further ahead is damage (a clock
// that ran ahead, a hand edit), never a way to switch the rescue off for
// good.
const Max = 7 * 24 * time.Hour

// Path is the pause file of stateDir. Not inlined, to keep the router's
// netcheck small (SPEC §12), as group.end in probe.
//
//go:noinline
func Path(stateDir string) string { return filepath.Join(stateDir, File) }

// Read returns the deadline of the pause in stateDir, zero when there is
// none. A damaged file (not a regular file of ours, garbage, or a deadline
// more than Max after now) is no pause, and the error says why (SPEC §15:
// the safe value).
func Read(stateDir string, now time.Time) (time.Time, error) {
	p := Path(stateDir)
	until, ok, err := state.ReadTime(p)
	if err != nil || !ok {
		return time.Time{}, err
	}
	if until.After(now.Add(Max)) {
		return time.Time{}, &state.CorruptError{Path: p, Content: until.Format(time.RFC3339),
			Reason: fmt.Sprintf("a pause ends at most %v from now", Max)}
	}
	return until, nil
}

// ParseDuration reads the DURATION of `pause`: Go syntax or bare seconds,
// from one minute to Max.
func ParseDuration(s string) (time.Duration, error) {
	d, err := time.ParseDuration(s)
	if err != nil {
		// Bare seconds, digits only (strconv, not fmt's scanner: SPEC §12).
		n, serr := strconv.ParseUint(s, 10, 64)
		if serr != nil && !errors.Is(serr, strconv.ErrRange) || s[0] == '+' {
			return 0, fmt.Errorf("pause %q: want a duration such as 30m, 2h or 1h30m", s)
		}
		d = time.Duration(min(n, uint64(Max/time.Second)+1)) * time.Second
	}
	if d < time.Minute || d > Max {
		return 0, fmt.Errorf("pause %s: want from 1m to %v", s, Max)
	}
	return d, nil
}

// Write starts or extends a pause until the deadline.
func Write(stateDir string, until time.Time) error {
	if err := os.MkdirAll(stateDir, 0o755); err != nil {
		return fmt.Errorf("state dir: %w", err)
	}
	if err := state.WriteTime(Path(stateDir), until); err != nil {
		return fmt.Errorf("write pause: %w", err)
	}
	return nil
}

// Clear ends a pause; no pause is not an error.
func Clear(stateDir string) error {
	if err := state.Remove(Path(stateDir)); err != nil {
		return fmt.Errorf("remove pause: %w", err)
	}
	return nil
}
