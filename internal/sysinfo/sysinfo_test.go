package sysinfo

import (
	"fmt"
	"strconv"
	"strings"
	"testing"
	"time"
)

// TestParseUptime: /proc/uptime as the kernel prints it, seq_printf(m,
// "%lu.%02lu %lu.%02lu\n", uptime, hundredths, idle, hundredths) in
// torvalds/linux fs/proc/uptime.c, and what is not that.
func TestParseUptime(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want time.Duration
		ok   bool
	}{
		{"12345.67 2345.12\n", 12345*time.Second + 670*time.Millisecond, true},
		{"0.00 0.00\n", 0, true},
		{"59.99 110.40\n", 59*time.Second + 990*time.Millisecond, true},
		{"3600.05 7100.00", time.Hour + 50*time.Millisecond, true}, // without the newline
		{"86400", 24 * time.Hour, true},
		{"1.123456789123 0", time.Second + 123456789, true}, // past nanoseconds: dropped
		{"9223372036.00 0", 9223372036 * time.Second, true},
		{"9223372037.00 0", 0, false}, // more than a time.Duration holds
		{"", 0, false},
		{"\n", 0, false},
		{"-5.00 0.00", 0, false},
		{"+5.00 0.00", 0, false},
		{"NaN 0.00", 0, false},
		{"1e3 0.00", 0, false},
		{".5 0.00", 0, false},
		{"5.x 0.00", 0, false},
		{"12,5 0", 0, false},
	} {
		got, err := ParseUptime(tc.in)
		if (err == nil) != tc.ok || got != tc.want {
			t.Errorf("ParseUptime(%q) = %v, %v; want %v, ok %v", tc.in, got, err, tc.want, tc.ok)
		}
	}
}

// FuzzParseUptime: every line the kernel's format can print reads as its
// exact value, and whatever ParseUptime accepts is a plain decimal that
// strconv.ParseFloat reads alike (to the microsecond).
func FuzzParseUptime(f *testing.F) {
	f.Add(uint64(12345), uint8(67), "12345.67 2345.12\n")
	f.Add(uint64(0), uint8(0), "1.5")
	f.Fuzz(func(t *testing.T, sec uint64, hundredths uint8, in string) {
		sec %= maxUptime
		hundredths %= 100
		line := fmt.Sprintf("%d.%02d %d.%02d\n", sec, hundredths, sec/2, hundredths)
		want := time.Duration(sec)*time.Second + time.Duration(hundredths)*10*time.Millisecond
		if got, err := ParseUptime(line); err != nil || got != want {
			t.Errorf("ParseUptime(%q) = %v, %v; want %v", line, got, err, want)
		}
		got, err := ParseUptime(in)
		if err != nil {
			return
		}
		first := strings.Fields(in)[0]
		sf, ferr := strconv.ParseFloat(first, 64)
		if ferr != nil || got < 0 || strings.ContainsAny(first, "eEnNxX+-_") {
			t.Fatalf("ParseUptime(%q) = %v; ParseFloat: %v, %v", in, got, sf, ferr)
		}
		if diff := sf - got.Seconds(); diff > 1e-6*max(1, sf) || diff < -1e-6*max(1, sf) {
			t.Errorf("ParseUptime(%q) = %v; ParseFloat reads %v s", in, got, sf)
		}
	})
}
