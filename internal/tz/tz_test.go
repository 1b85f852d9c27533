package tz

import (
	"io/fs"
	"strings"
	"testing"
	"time"

	// The zone-name cases must not depend on the machine's zoneinfo.
	_ "time/tzdata"
)

// wall formats an instant the way a log line shows it.
const wall = "2006-01-02 15:04:05 MST -0700"

func TestFromPOSIX(t *testing.T) {
	tests := []struct {
		name string
		rule string
		utc  time.Time
		want string
	}{
		{"china", "CST-8", date(2024, 1, 15, 16, 0), "2024-01-16 00:00:00 CST +0800"},
		{"china summer", "CST-8", date(2024, 7, 1, 4, 30), "2024-07-01 12:30:00 CST +0800"},
		{"us central winter", "CST6CDT,M3.2.0,M11.1.0", date(2024, 1, 15, 12, 0), "2024-01-15 06:00:00 CST -0600"},
		{"us central summer", "CST6CDT,M3.2.0,M11.1.0", date(2024, 7, 1, 12, 0), "2024-07-01 07:00:00 CDT -0500"},
		// 2024-03-10 is the second Sunday of March: 02:00 CST becomes 03:00 CDT.
		{"us central before switch", "CST6CDT,M3.2.0,M11.1.0", date(2024, 3, 10, 7, 59), "2024-03-10 01:59:00 CST -0600"},
		{"us central after switch", "CST6CDT,M3.2.0,M11.1.0", date(2024, 3, 10, 8, 0), "2024-03-10 03:00:00 CDT -0500"},
		{"default us rules", "EST5EDT", date(2024, 7, 1, 12, 0), "2024-07-01 08:00:00 EDT -0400"},
		{"india quoted", "<+0530>-5:30", date(2024, 1, 15, 18, 30), "2024-01-16 00:00:00 +0530 +0530"},
		{"nepal quoted", "<+0545>-5:45", date(2024, 1, 15, 0, 0), "2024-01-15 05:45:00 +0545 +0545"},
		{"utc", "UTC0", date(2024, 1, 15, 0, 0), "2024-01-15 00:00:00 UTC +0000"},
		{"southern hemisphere winter", "AEST-10AEDT,M10.1.0,M4.1.0/3", date(2024, 7, 1, 0, 0), "2024-07-01 10:00:00 AEST +1000"},
		{"southern hemisphere summer", "AEST-10AEDT,M10.1.0,M4.1.0/3", date(2024, 1, 1, 0, 0), "2024-01-01 11:00:00 AEDT +1100"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			loc, err := FromPOSIX(tt.rule)
			if err != nil {
				t.Fatalf("FromPOSIX(%q) error: %v", tt.rule, err)
			}
			if got := tt.utc.In(loc).Format(wall); got != tt.want {
				t.Errorf("FromPOSIX(%q): %v shows %q; want %q", tt.rule, tt.utc, got, tt.want)
			}
			if loc.String() != tt.rule {
				t.Errorf("FromPOSIX(%q).String() = %q; want the rule", tt.rule, loc.String())
			}
		})
	}
}

func TestFromPOSIXMidnight(t *testing.T) {
	// The day boundary a router uses for its daily mark: midnight in
	// Shanghai is 16:00 UTC of the day before.
	loc, err := FromPOSIX("CST-8")
	if err != nil {
		t.Fatal(err)
	}
	got := time.Date(2024, 1, 16, 0, 0, 0, 0, loc).UTC()
	if want := date(2024, 1, 15, 16, 0); !got.Equal(want) {
		t.Errorf("midnight 2024-01-16 CST-8 = %v UTC; want %v", got, want)
	}
}

func TestFromPOSIXErrors(t *testing.T) {
	tests := []struct {
		name string
		rule string
		want string
	}{
		{"empty", "", `parse tz rule "": empty`},
		{"garbage", "garbage", `parse tz rule "garbage": not a POSIX TZ rule`},
		{"no offset", "CST", `parse tz rule "CST": not a POSIX TZ rule`},
		{"short name", "C-8", `parse tz rule "C-8": not a POSIX TZ rule`},
		{"hours out of range", "CST-800", `parse tz rule "CST-800": not a POSIX TZ rule`},
		{"bad month", "CST6CDT,M13.2.0,M11.1.0", `not a POSIX TZ rule`},
		{"one transition", "CST6CDT,M3.2.0", `not a POSIX TZ rule`},
		{"trailing junk", "CST-8 x", `not a POSIX TZ rule`},
		{"unclosed quote", "<+0530-5:30", `not a POSIX TZ rule`},
		{"newline", "CST-8\nUTC0", `control character`},
		{"too long", "CST-8" + strings.Repeat("x", 300), `longer than 256 bytes`},
		{"zone name", "Asia/Shanghai", `not a POSIX TZ rule`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			loc, err := FromPOSIX(tt.rule)
			if err == nil {
				t.Fatalf("FromPOSIX(%q) = %v; want error containing %q", tt.rule, loc, tt.want)
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("FromPOSIX(%q) error = %q; want it to contain %q", tt.rule, err, tt.want)
			}
		})
	}
}

// fakeFS is a readFile over a map; missing names are fs.ErrNotExist.
type fakeFS map[string]string

func (m fakeFS) readFile(name string) ([]byte, error) {
	if s, ok := m[name]; ok {
		return []byte(s), nil
	}
	return nil, &fs.PathError{Op: "open", Path: name, Err: fs.ErrNotExist}
}

func env(tz string) func(string) string {
	return func(k string) string {
		if k == "TZ" {
			return tz
		}
		return ""
	}
}

func TestLoad(t *testing.T) {
	shanghai := string(tzif("CST-8", "CST", 8*3600))
	instant := date(2024, 1, 15, 16, 0)
	tests := []struct {
		name    string
		tz      string
		files   fakeFS
		want    string // instant formatted in the loaded zone
		wantSrc string
	}{
		{"posix in TZ", "CST-8", nil, "2024-01-16 00:00:00 CST +0800", "TZ=CST-8"},
		{"TZ wins over /etc/TZ", "UTC0", fakeFS{"/etc/TZ": "CST-8\n"}, "2024-01-15 16:00:00 UTC +0000", "TZ=UTC0"},
		{"zone name in TZ", "Asia/Shanghai", nil, "2024-01-16 00:00:00 CST +0800", "TZ=Asia/Shanghai"},
		{"colon zone name", ":America/Chicago", nil, "2024-01-15 10:00:00 CST -0600", "TZ=:America/Chicago"},
		{"colon path", ":/etc/localtime", fakeFS{"/etc/localtime": shanghai}, "2024-01-16 00:00:00 CST +0800", "TZ=:/etc/localtime"},
		{"bare path", "/zones/sh", fakeFS{"/zones/sh": shanghai}, "2024-01-16 00:00:00 CST +0800", "TZ=/zones/sh"},
		{"UTC name", "UTC", nil, "2024-01-15 16:00:00 UTC +0000", "TZ=UTC"},
		{"openwrt /etc/TZ", "", fakeFS{"/etc/TZ": "CST-8\n", "/etc/localtime": string(tzif("UTC0", "UTC", 0))}, "2024-01-16 00:00:00 CST +0800", "/etc/TZ: CST-8"},
		{"/etc/TZ with blanks", "", fakeFS{"/etc/TZ": "  <+0530>-5:30  \r\nignored\n"}, "2024-01-15 21:30:00 +0530 +0530", "/etc/TZ: <+0530>-5:30"},
		{"empty /etc/TZ falls through", "", fakeFS{"/etc/TZ": "\n", "/etc/localtime": shanghai}, "2024-01-16 00:00:00 CST +0800", "/etc/localtime"},
		{"/etc/localtime", "", fakeFS{"/etc/localtime": shanghai}, "2024-01-16 00:00:00 CST +0800", "/etc/localtime"},
		{"nothing", "", fakeFS{}, "2024-01-15 16:00:00 UTC +0000", "default UTC"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			loc, src, err := Load(env(tt.tz), tt.files.readFile)
			if err != nil {
				t.Fatalf("Load(TZ=%q) error: %v", tt.tz, err)
			}
			if got := instant.In(loc).Format(wall); got != tt.want {
				t.Errorf("Load(TZ=%q): %v shows %q; want %q", tt.tz, instant, got, tt.want)
			}
			if src != tt.wantSrc {
				t.Errorf("Load(TZ=%q) source = %q; want %q", tt.tz, src, tt.wantSrc)
			}
		})
	}
}

func TestLoadErrors(t *testing.T) {
	denied := func(name string) ([]byte, error) {
		return nil, &fs.PathError{Op: "open", Path: name, Err: fs.ErrPermission}
	}
	tests := []struct {
		name     string
		tz       string
		readFile func(string) ([]byte, error)
		want     string
		wantSrc  string
	}{
		{"garbage TZ", "garbage", fakeFS{}.readFile,
			`time zone from TZ: parse tz rule "garbage": not a POSIX TZ rule (examples: CST-8, UTC0, CST6CDT,M3.2.0,M11.1.0) (nor a zone name known to the zoneinfo database)`,
			"TZ=garbage"},
		{"unknown colon name", ":Mars/Olympus", fakeFS{}.readFile,
			`time zone from TZ: zone "Mars/Olympus": not found in the zoneinfo database`, "TZ=:Mars/Olympus"},
		{"missing path", ":/nonexistent", fakeFS{}.readFile,
			`time zone from TZ: read /nonexistent: open /nonexistent: file does not exist`, "TZ=:/nonexistent"},
		{"not tzif", "/zones/bad", fakeFS{"/zones/bad": "CST-8\n"}.readFile,
			`time zone from TZ: load /zones/bad: malformed time zone information`, "TZ=/zones/bad"},
		{"garbage /etc/TZ", "", fakeFS{"/etc/TZ": "8 hours ahead\n"}.readFile,
			`time zone from /etc/TZ: parse tz rule "8 hours ahead": not a POSIX TZ rule`, "/etc/TZ: 8 hours ahead"},
		{"unreadable /etc/TZ", "", denied,
			`read /etc/TZ: open /etc/TZ: permission denied`, "/etc/TZ"},
		{"corrupt /etc/localtime", "", fakeFS{"/etc/localtime": "TZif2"}.readFile,
			`load /etc/localtime: malformed time zone information`, "/etc/localtime"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			loc, src, err := Load(env(tt.tz), tt.readFile)
			if err == nil {
				t.Fatalf("Load(TZ=%q) = %v; want error %q", tt.tz, loc, tt.want)
			}
			if !strings.HasPrefix(err.Error(), tt.want) {
				t.Errorf("Load(TZ=%q) error = %q; want %q", tt.tz, err, tt.want)
			}
			if loc != time.UTC {
				t.Errorf("Load(TZ=%q) location = %v; want UTC alongside the error", tt.tz, loc)
			}
			if src != tt.wantSrc {
				t.Errorf("Load(TZ=%q) source = %q; want %q", tt.tz, src, tt.wantSrc)
			}
		})
	}
}

func FuzzFromPOSIX(f *testing.F) {
	for _, s := range []string{
		"CST-8", "UTC0", "CST6CDT,M3.2.0,M11.1.0", "<+0530>-5:30", "EST5EDT",
		"AEST-10AEDT,M10.1.0,M4.1.0/3", "IST-2IDT,M3.4.4/26,M10.5.0", "<-03>3<-02>,M3.5.0/-2,M10.5.0/-1",
		"WART4WARST,J1/0,J365/25", "XXX3YYY,0/0,365/25", "", "garbage", "<>0", "CST-8\n",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, rule string) {
		loc, err := FromPOSIX(rule)
		if err != nil {
			return
		}
		if loc.String() != rule {
			t.Errorf("FromPOSIX(%q).String() = %q", rule, loc.String())
		}
		// Every accepted rule gives a real offset all year round: within
		// Go's bounds (24*7 h, plus an hour of daylight saving), never the
		// placeholder used to detect rejection.
		for _, m := range []time.Month{time.January, time.April, time.July, time.October} {
			_, off := time.Date(2030, m, 1, 0, 0, 0, 0, time.UTC).In(loc).Zone()
			if off > 170*3600 || off < -170*3600 {
				t.Fatalf("FromPOSIX(%q): offset %d s in month %v", rule, off, m)
			}
		}
	})
}

func date(y int, m time.Month, d, hh, mm int) time.Time {
	return time.Date(y, m, d, hh, mm, 0, 0, time.UTC)
}
