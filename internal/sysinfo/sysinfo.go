// Package sysinfo reads the few facts about the running system that the
// decisions need: how long it has been up and which boot this is.
package sysinfo

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// Paths read by this package; tests fake them with bind mounts inside
// `unshare -m` rather than by changing these.
const (
	UptimePath = "/proc/uptime"
	BootIDPath = "/proc/sys/kernel/random/boot_id"
)

// Uptime returns the time since boot from /proc/uptime.
func Uptime() (time.Duration, error) {
	b, err := os.ReadFile(UptimePath)
	if err != nil {
		return 0, fmt.Errorf("read uptime: %w", err)
	}
	return ParseUptime(string(b))
}

// maxUptime is the longest uptime a time.Duration holds, in seconds.
const maxUptime = (1<<63 - 1) / uint64(time.Second)

// ParseUptime parses the content of /proc/uptime: the seconds since boot
// and the idle seconds, each as the kernel prints them, "%lu.%02lu"
// (fs/proc/uptime.c), e.g. "12345.67 2345.12\n". Only the first is read:
// decimal digits, optionally a point and more digits. Read exactly, not
// through a float: strconv.ParseFloat cost netcheck ~13 KB (SPEC §12,
// stripped netcheck ≤ 5 MiB), and it also took "NaN" and "1e3".
func ParseUptime(s string) (time.Duration, error) {
	f := strings.Fields(s)
	if len(f) == 0 {
		return 0, fmt.Errorf("parse uptime %q: empty", s)
	}
	whole, frac, _ := strings.Cut(f[0], ".")
	sec, err := strconv.ParseUint(whole, 10, 64)
	if err != nil || whole[0] == '+' || sec > maxUptime {
		return 0, fmt.Errorf("parse uptime %q: not seconds", s)
	}
	d := time.Duration(sec) * time.Second
	scale := time.Second
	for i := range len(frac) {
		c := frac[i]
		if c < '0' || c > '9' {
			return 0, fmt.Errorf("parse uptime %q: not seconds", s)
		}
		scale /= 10 // digits past nanoseconds add nothing
		d += time.Duration(c-'0') * scale
	}
	if d < 0 {
		return 0, fmt.Errorf("parse uptime %q: not seconds", s)
	}
	return d, nil
}

// BootID returns the kernel's random id of this boot.
func BootID() (string, error) {
	b, err := os.ReadFile(BootIDPath)
	if err != nil {
		return "", fmt.Errorf("read boot id: %w", err)
	}
	return strings.TrimSpace(string(b)), nil
}

// FindProcess returns the pid of a running process whose command name
// (/proc/PID/comm) is one of names, or "" when there is none.
func FindProcess(names ...string) string {
	comms, _ := filepath.Glob("/proc/[0-9]*/comm")
	for _, p := range comms {
		b, err := os.ReadFile(p)
		if err != nil {
			continue
		}
		comm := strings.TrimSpace(string(b))
		for _, n := range names {
			if comm == n {
				return filepath.Base(filepath.Dir(p))
			}
		}
	}
	return ""
}
