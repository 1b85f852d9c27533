package config

import (
	"testing"
	"time"
)

func TestParseHours(t *testing.T) {
	for _, tt := range []struct {
		in      string
		want    Hours
		wantErr string
	}{
		{"", Hours{}, ""},
		{"1-6", Hours{1, 6, true}, ""},
		{"22-5", Hours{22, 5, true}, ""},
		{" 0 - 24 ", Hours{0, 24, true}, ""},
		{"6", Hours{}, "is not FROM-TO"},
		{"a-b", Hours{}, "is not FROM-TO in whole hours"},
		{"1-25", Hours{}, "has an hour out of range"},
		{"24-2", Hours{}, "has an hour out of range"},
		{"3-3", Hours{}, "is an empty window (FROM equals TO)"},
		{"0-24x", Hours{}, "is not FROM-TO in whole hours"},
	} {
		got, err := ParseHours(tt.in)
		if got != tt.want || (err == nil) != (tt.wantErr == "") || (err != nil && err.Error() != tt.wantErr) {
			t.Errorf("ParseHours(%q) = %+v, %v; want %+v, %q", tt.in, got, err, tt.want, tt.wantErr)
		}
	}
}

func TestHoursContainsNext(t *testing.T) {
	at := func(h, m int) time.Time { return time.Date(2026, 12, 6, h, m, 0, 0, time.UTC) }
	night, _ := ParseHours("1-6")
	across, _ := ParseHours("22-5")
	for _, tt := range []struct {
		h    Hours
		t    time.Time
		in   bool
		next time.Time
	}{
		{Hours{}, at(14, 0), true, at(14, 0)},
		{night, at(0, 59), false, at(1, 0)},
		{night, at(1, 0), true, at(1, 0)},
		{night, at(5, 59), true, at(5, 59)},
		{night, at(6, 0), false, at(1, 0).AddDate(0, 0, 1)},
		{across, at(21, 30), false, at(22, 0)},
		{across, at(23, 0), true, at(23, 0)},
		{across, at(4, 59), true, at(4, 59)},
		{across, at(5, 0), false, at(22, 0)},
	} {
		if got := tt.h.Contains(tt.t); got != tt.in {
			t.Errorf("%v.Contains(%s) = %v; want %v", tt.h, tt.t.Format("15:04"), got, tt.in)
		}
		if got := tt.h.Next(tt.t); !got.Equal(tt.next) {
			t.Errorf("%v.Next(%s) = %v; want %v", tt.h, tt.t.Format("15:04"), got, tt.next)
		}
	}
}

// TestHoursNextSkippedHour: on the day clocks go forward (Europe/Berlin,
// 2026-03-29: 02:00 is 03:00) a window of that hour alone ("2-3") has no
// moment: Next is the next day's 02:00, a moment in the window, never
// the 03:00 that time.Date makes of 02:00, where the reboot still waits
// (【推迟】 and plan said "from 03-29 03:00").
func TestHoursNextSkippedHour(t *testing.T) {
	berlin, err := time.LoadLocation("Europe/Berlin")
	if err != nil {
		t.Skip("no Europe/Berlin zone:", err)
	}
	h, _ := ParseHours("2-3")
	now := time.Date(2026, 3, 29, 1, 30, 0, 0, berlin)
	got := h.Next(now)
	if want := time.Date(2026, 3, 30, 2, 0, 0, 0, berlin); !got.Equal(want) || !h.Contains(got) {
		t.Errorf("%v.Next(%s) = %s (in the window: %v); want %s", h, now, got, h.Contains(got), want)
	}
}
