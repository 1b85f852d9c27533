package state

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"strings"
	"time"
)

// DateLayout is the layout of a mark's date: a local calendar day.
const DateLayout = "2006-01-02"

// Mark is the host's "rebooted today" mark (pve_did_reboot_today, SPEC §6).
// The original scripts `touch` it, leaving it empty; ours holds the local
// date, the time, the boot id of the boot that wrote it and the reason.
type Mark struct {
	Date   string    // local calendar day, DateLayout
	Time   time.Time // when it was written
	BootID string    // /proc/sys/kernel/random/boot_id of the boot that wrote it
	Reason string
	Dated  bool // false: an original date-less mark, Date comes from its mtime
}

// Format renders the mark's file content.
func (m Mark) Format() string {
	return Record{
		"date":    m.Date,
		"time":    m.Time.Format(time.RFC3339),
		"boot_id": m.BootID,
		"reason":  m.Reason,
	}.Format()
}

// ReadMark reads the mark at path. A missing file returns ok=false. A file
// without a readable date (the original `touch`, or damaged content) is
// dated by its modification time in loc, so that it still protects the day
// it was written; damaged content is also reported as a *CorruptError.
func ReadMark(path string, loc *time.Location) (m Mark, ok bool, err error) {
	s, exists, err := read(path)
	if !exists {
		return Mark{}, false, err
	}
	var ce *CorruptError
	if err != nil && !errors.As(err, &ce) {
		return Mark{}, true, err
	}
	if err == nil {
		if m, perr := ParseMark(path, s, loc); perr == nil {
			return m, true, nil
		} else if strings.TrimSpace(s) != "" {
			err = perr
		}
	}
	fi, serr := os.Lstat(path) // never the target of a planted symlink
	if serr != nil {
		if errors.Is(serr, fs.ErrNotExist) {
			return Mark{}, false, nil
		}
		return Mark{}, true, fmt.Errorf("stat %s: %w", path, serr)
	}
	mt := fi.ModTime().In(loc)
	return Mark{Date: mt.Format(DateLayout), Time: mt, Dated: false}, true, err
}

// ParseMark parses a dated mark's content.
func ParseMark(path, s string, loc *time.Location) (Mark, error) {
	r, err := ParseRecord(path, s)
	if err != nil {
		return Mark{}, err
	}
	d, err := time.ParseInLocation(DateLayout, r["date"], loc)
	if err != nil {
		return Mark{}, corrupt(path, s, "no valid date=YYYY-MM-DD")
	}
	m := Mark{Date: d.Format(DateLayout), BootID: r["boot_id"], Reason: r["reason"], Dated: true}
	if t, err := time.Parse(time.RFC3339, r["time"]); err == nil {
		m.Time = t.In(loc)
	}
	return m, nil
}

// WriteMark writes the mark atomically.
func WriteMark(path string, m Mark) error {
	return WriteFile(path, []byte(m.Format()), 0o644)
}
