package pause

import (
	"strings"
	"testing"
	"time"
)

// TestParseDuration: the DURATION of `netcheck pause` / `hostcheck pause`
// (SPEC §16): Go syntax or bare seconds, from one minute to Max.
func TestParseDuration(t *testing.T) {
	for _, tt := range []struct {
		in   string
		want time.Duration
		err  string
	}{
		{"30m", 30 * time.Minute, ""},
		{"1h30m", 90 * time.Minute, ""},
		{"2h", 2 * time.Hour, ""},
		{"60", time.Minute, ""},
		{"3600", time.Hour, ""},
		{"1m", time.Minute, ""},
		{Max.String(), Max, ""},
		{"59", 0, "want from 1m"},
		{"30s", 0, "want from 1m"},
		{"0", 0, "want from 1m"},
		{(Max + time.Second).String(), 0, "want from 1m"},
		{"99999999999999999999999", 0, "want from 1m"}, // not a wrap-around to a short pause
		{"18446744073709551615", 0, "want from 1m"},
		{"-60", 0, "want a duration"},
		{"+60", 0, "want a duration"},
		{"60 ", 0, "want a duration"},
		{"0x3c", 0, "want a duration"},
		{"", 0, "want a duration"},
		{"soon", 0, "want a duration"},
	} {
		got, err := ParseDuration(tt.in)
		if tt.err == "" && (err != nil || got != tt.want) {
			t.Errorf("ParseDuration(%q) = %v, %v; want %v", tt.in, got, err, tt.want)
		}
		if tt.err != "" && (err == nil || !strings.Contains(err.Error(), tt.err)) {
			t.Errorf("ParseDuration(%q) = %v, %v; want an error with %q", tt.in, got, err, tt.err)
		}
	}
}

// FuzzParseDuration: any argument is a pause within [1m, Max] or an error.
func FuzzParseDuration(f *testing.F) {
	for _, s := range []string{"30m", "60", "99999999999999999999", "-1", "1h30m"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if d, err := ParseDuration(s); err == nil && (d < time.Minute || d > Max) {
			t.Errorf("ParseDuration(%q) = %v", s, d)
		}
	})
}
