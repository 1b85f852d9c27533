package config

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Hours is a daily window of whole hours, HOST_REBOOT_HOURS (SPEC §16):
// "1-6" is from 01:00 up to 06:00, "22-5" from 22:00 across midnight up to
// 05:00. The zero value (an empty key) is any time.
type Hours struct {
	From, To int // 0–23 and 1–24; From != To
	Set      bool
}

// ParseHours reads "FROM-TO" in whole hours of the local day.
func ParseHours(v string) (Hours, error) {
	v = strings.TrimSpace(v)
	if v == "" {
		return Hours{}, nil
	}
	a, b, ok := strings.Cut(v, "-")
	if !ok {
		return Hours{}, errors.New("is not FROM-TO")
	}
	from, err1 := strconv.Atoi(strings.TrimSpace(a))
	to, err2 := strconv.Atoi(strings.TrimSpace(b))
	switch {
	case err1 != nil || err2 != nil:
		return Hours{}, errors.New("is not FROM-TO in whole hours")
	case from < 0 || from > 23 || to < 0 || to > 24:
		return Hours{}, errors.New("has an hour out of range")
	case from == to:
		return Hours{}, errors.New("is an empty window (FROM equals TO)")
	}
	return Hours{From: from, To: to, Set: true}, nil
}

// Contains reports whether t (in its own zone) lies in the window.
func (h Hours) Contains(t time.Time) bool {
	if !h.Set {
		return true
	}
	hr := t.Hour()
	if h.From < h.To {
		return hr >= h.From && hr < h.To
	}
	return hr >= h.From || hr < h.To%24
}

// Next returns the first moment at or after t that lies in the window.
func (h Hours) Next(t time.Time) time.Time {
	if h.Contains(t) {
		return t
	}
	start := time.Date(t.Year(), t.Month(), t.Day(), h.From, 0, 0, 0, t.Location())
	if !start.After(t) {
		start = start.AddDate(0, 0, 1)
	}
	return start
}

func (h Hours) String() string {
	if !h.Set {
		return ""
	}
	return fmt.Sprintf("%d-%d", h.From, h.To)
}
