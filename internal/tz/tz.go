// Package tz finds the local time zone of a one-shot binary (SPEC §8).
//
// Go's time package understands zone names ("Asia/Shanghai") and TZif files,
// but it ignores a POSIX rule in the TZ variable such as "CST-8" and silently
// falls back to UTC. OpenWrt configures exactly such a rule (in /etc/TZ and
// often in TZ), and usually ships no zoneinfo database, so without this
// package midnight and the dated marks of a Chinese router would be 8 h off.
//
// The trick: Go does evaluate the POSIX rule found in the footer of a TZif
// version 2 file. FromPOSIX wraps the rule in a minimal TZif blob with no
// transitions, so every instant is computed from the rule, and hands it to
// time.LoadLocationFromTZData.
package tz

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io/fs"
	"strings"
	"time"
)

// Paths read by Load, in the order they are consulted after TZ.
const (
	etcTZ        = "/etc/TZ"
	etcLocaltime = "/etc/localtime"
)

// maxRule bounds the length of a rule; real ones are under 50 bytes.
const maxRule = 256

// sentinelOffset is the UTC offset of the placeholder zone FromPOSIX uses to
// detect a rule Go rejects: Go then silently falls back to the TZif file's
// only zone. No valid rule can produce it, because Go bounds rule offsets to
// 24*7 hours (plus one hour of daylight saving).
const sentinelOffset = 1 << 30

// Load returns the local zone and says where it came from, for `status`.
//
// The sources, first match wins:
//   - the TZ variable: a zone name ("Asia/Shanghai", via time.LoadLocation),
//     a TZif file path (":/etc/localtime" or "/usr/share/zoneinfo/X", read
//     with readFile) or a POSIX rule ("CST-8", "CST6CDT,M3.2.0,M11.1.0");
//   - the first line of /etc/TZ, read the same way (OpenWrt writes a POSIX
//     rule there);
//   - the TZif file /etc/localtime;
//   - UTC.
//
// An empty TZ counts as unset. A source that exists but cannot be understood
// is an error, not a reason to try the next one, so that a typo is reported
// rather than hidden; the location returned with an error is UTC, never nil,
// so a caller can warn and go on.
//
// getenv and readFile are os.Getenv and os.ReadFile in production; tests
// inject fakes so that nothing under /etc is read.
func Load(getenv func(string) string, readFile func(string) ([]byte, error)) (*time.Location, string, error) {
	if v := getenv("TZ"); v != "" {
		src := "TZ=" + v
		loc, err := fromSetting(v, readFile)
		if err != nil {
			return time.UTC, src, errorf("time zone from TZ: %w", err)
		}
		return loc, src, nil
	}

	data, err := readFile(etcTZ)
	switch {
	case err == nil:
		if line := firstLine(data); line != "" {
			src := etcTZ + ": " + line
			loc, err := fromSetting(line, readFile)
			if err != nil {
				return time.UTC, src, errorf("time zone from %s: %w", etcTZ, err)
			}
			return loc, src, nil
		}
	case !errors.Is(err, fs.ErrNotExist):
		return time.UTC, etcTZ, errorf("read %s: %w", etcTZ, err)
	}

	data, err = readFile(etcLocaltime)
	switch {
	case err == nil:
		loc, err := time.LoadLocationFromTZData("Local", data)
		if err != nil {
			return time.UTC, etcLocaltime, errorf("load %s: %w", etcLocaltime, err)
		}
		return loc, etcLocaltime, nil
	case !errors.Is(err, fs.ErrNotExist):
		return time.UTC, etcLocaltime, errorf("read %s: %w", etcLocaltime, err)
	}

	return time.UTC, "default UTC", nil
}

// fromSetting interprets a TZ-style value: a file path, a zone name or a
// POSIX rule. A zone name is tried before the rule because names such as
// "EST5EDT" are both, and the database also knows the zone's history.
func fromSetting(v string, readFile func(string) ([]byte, error)) (*time.Location, error) {
	// POSIX leaves ":characters" to the implementation; like glibc and Go,
	// treat it as a path or zone name.
	name := strings.TrimPrefix(v, ":")
	if strings.HasPrefix(name, "/") {
		data, err := readFile(name)
		if err != nil {
			return nil, errorf("read %s: %w", name, err)
		}
		loc, err := time.LoadLocationFromTZData(name, data)
		if err != nil {
			return nil, errorf("load %s: %w", name, err)
		}
		return loc, nil
	}
	// "Local" would hand back time.Local, which is exactly the zone we
	// cannot trust; "" would mean UTC.
	if name != "" && name != "Local" {
		if loc, err := time.LoadLocation(name); err == nil {
			return loc, nil
		}
	}
	if name != v {
		return nil, errorf("zone %q: not found in the zoneinfo database", name)
	}
	loc, err := FromPOSIX(v)
	if err != nil {
		return nil, errorf("%w (nor a zone name known to the zoneinfo database)", err)
	}
	return loc, nil
}

// FromPOSIX returns the location described by a POSIX TZ rule such as
// "CST-8" (UTC+8: the sign is inverted, as POSIX says),
// "CST6CDT,M3.2.0,M11.1.0" or "<+0530>-5:30". The location's name is the
// rule itself.
//
// The rule is judged by Go's own parser (the one it applies to TZif
// footers), so what FromPOSIX accepts is exactly what time will honour.
func FromPOSIX(rule string) (*time.Location, error) {
	if err := precheck(rule); err != nil {
		return nil, errorf("parse tz rule %q: %w", rule, err)
	}
	probe, err := time.LoadLocationFromTZData(rule, tzif(rule, "-", sentinelOffset))
	if err != nil {
		return nil, errorf("parse tz rule %q: %w", rule, err)
	}
	name, offset, ok := standardZone(probe)
	if !ok {
		return nil, errorf("parse tz rule %q: not a POSIX TZ rule (examples: CST-8, UTC0, CST6CDT,M3.2.0,M11.1.0)", rule)
	}
	// Rebuild with the standard zone as the file's only zone, so that the
	// location holds nothing but real zones (time.Parse looks names up in
	// that list). Lookups themselves all go through the rule.
	loc, err := time.LoadLocationFromTZData(rule, tzif(rule, name, offset))
	if err != nil {
		return nil, errorf("parse tz rule %q: %w", rule, err)
	}
	return loc, nil
}

// precheck rejects what Go's rule parser would accept but a TZ value must
// not hold: empty text, control characters (a newline would end the TZif
// footer early) and absurd lengths.
func precheck(rule string) error {
	if rule == "" {
		return errors.New("empty")
	}
	if len(rule) > maxRule {
		return errorf("longer than %d bytes", maxRule)
	}
	for _, r := range rule {
		if r < 0x20 || r == 0x7f {
			return errors.New("control character")
		}
	}
	return nil
}

// standardZone reports the standard-time abbreviation and offset of loc,
// and false if loc fell back to the sentinel zone, that is, if Go rejected
// the rule. January and July are probed so that both hemispheres' daylight
// saving seasons are covered.
func standardZone(loc *time.Location) (string, int, bool) {
	var name string
	var offset int
	for i, month := range []time.Month{time.January, time.July} {
		t := time.Date(2001, month, 1, 0, 0, 0, 0, time.UTC).In(loc)
		n, off := t.Zone()
		if off == sentinelOffset {
			return "", 0, false
		}
		if i == 0 || !t.IsDST() {
			name, offset = n, off
		}
	}
	return name, offset, true
}

// tzif builds a TZif version 2 file (RFC 8536) with no transitions, one
// local time type (name, offset) and the footer rule. Go reads only the
// 64-bit part of a version 2 file, so the version 1 part is left empty.
func tzif(rule, name string, offset int) []byte {
	var b bytes.Buffer
	header := func(typecnt, charcnt uint32) {
		b.WriteString("TZif2")
		b.Write(make([]byte, 15))
		// isutcnt, isstdcnt, leapcnt, timecnt, typecnt, charcnt
		for _, n := range []uint32{0, 0, 0, 0, typecnt, charcnt} {
			b.Write(binary.BigEndian.AppendUint32(nil, n))
		}
	}
	header(0, 0)
	header(1, uint32(len(name)+1))
	b.Write(binary.BigEndian.AppendUint32(nil, uint32(int32(offset))))
	b.WriteByte(0) // isdst
	b.WriteByte(0) // index of the abbreviation
	b.WriteString(name)
	b.WriteByte(0)
	b.WriteString("\n" + rule + "\n")
	return b.Bytes()
}

// firstLine returns the first line of data without surrounding blanks.
func firstLine(data []byte) string {
	line, _, _ := bytes.Cut(data, []byte("\n"))
	return string(bytes.TrimSpace(line))
}

// errorf is fmt.Errorf, not inlined: the package's error paths are cold,
// and fmt.Errorf inlined at each of them grows the router's binary (SPEC
// §12: stripped netcheck ≤ 5 MiB).
//
//go:noinline
func errorf(format string, a ...any) error { return fmt.Errorf(format, a...) }
