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

// ParseUptime parses the content of /proc/uptime ("12345.67 2345.12").
func ParseUptime(s string) (time.Duration, error) {
	f := strings.Fields(s)
	if len(f) == 0 {
		return 0, fmt.Errorf("parse uptime %q: empty", s)
	}
	sec, err := strconv.ParseFloat(f[0], 64)
	if err != nil || sec < 0 || sec > 1e10 {
		return 0, fmt.Errorf("parse uptime %q: not seconds", s)
	}
	return time.Duration(sec * float64(time.Second)), nil
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
