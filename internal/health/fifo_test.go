package health

import (
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/pve-op/network-rescue/crontab"
)

// within runs f and fails the test if it does not return in 5s: opening a
// FIFO for reading blocks until a writer comes.
func within(t *testing.T, what string, f func() []Check) []Check {
	t.Helper()
	ch := make(chan []Check, 1)
	go func() { ch <- f() }()
	select {
	case c := <-ch:
		return c
	case <-time.After(5 * time.Second):
		t.Fatalf("%s hung (blocked opening a FIFO?)", what)
	}
	return nil
}

// failed returns the ✗ check named name, if any.
func failed(cs []Check, name string) (Check, bool) {
	for _, c := range cs {
		if c.Name == name && !c.OK && c.Fix != "" {
			return c, true
		}
	}
	return Check{}, false
}

// TestFIFOLogAndCrontab: a FIFO as LOG_FILE or as the crontab file does
// not hang `status`: it is a ✗ line naming the kind, with a fix (SPEC §15,
// issue 9 item 11).
func TestFIFOLogAndCrontab(t *testing.T) {
	dir := t.TempDir()
	fifo := filepath.Join(dir, "fifo")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	c, ok := failed(within(t, "Log", func() []Check { return Log(fifo, dir, nil, 5) }), "last log lines")
	if !ok || !strings.Contains(c.Detail, "fifo") {
		t.Errorf("Log(FIFO): %+v; want a ✗ naming the fifo, with a fix", c)
	}
	c, ok = failed(within(t, "Cron", func() []Check { return Cron(fifo, crontab.Role("router"), "install.sh") }), "cron entries")
	if !ok || !strings.Contains(c.Detail, "fifo") {
		t.Errorf("Cron(FIFO): %+v; want a ✗ naming the fifo, with a fix", c)
	}
	// `status -crontab /dev/null` was told "remove /dev/null and
	// reinstall": a fix never removes what is not a regular file.
	for _, p := range []string{fifo, os.DevNull, dir} {
		c, ok = failed(within(t, "Cron", func() []Check { return Cron(p, crontab.Role("host"), "install.sh") }), "cron entries")
		if !ok || strings.Contains(c.Fix, "remove") {
			t.Errorf("Cron(%s): %+v; want a ✗ whose fix removes nothing", p, c)
		}
	}
}

// TestPause: the maintenance-pause line of status (SPEC §16).
func TestPause(t *testing.T) {
	now := time.Date(2026, 12, 6, 12, 0, 0, 0, time.UTC)
	for _, tt := range []struct {
		until time.Time
		want  string
	}{
		{time.Time{}, "✓ maintenance pause: none: the rescue acts"},
		{now.Add(-time.Minute), "✓ maintenance pause: none: the rescue acts"},
		{now.Add(90 * time.Minute), "✓ maintenance pause: until 2026-12-06 13:30 (1h30m0s left): probing and logging only, no action; `hostcheck resume` ends it"},
	} {
		var b strings.Builder
		Render(&b, []Check{Pause(tt.until, now, "hostcheck resume")})
		if got := strings.TrimSpace(b.String()); got != tt.want {
			t.Errorf("Pause(%v) = %q; want %q", tt.until, got, tt.want)
		}
	}
}

// TestCronPackage: on a host installed from the package, status checks the
// package's /etc/cron.d file (packaging/deb/cron.d), not root's crontab.
func TestCronPackage(t *testing.T) {
	deb, err := os.ReadFile("../../packaging/deb/cron.d")
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	good, bad := filepath.Join(dir, "good"), filepath.Join(dir, "bad")
	if err := os.WriteFile(good, deb, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(bad, []byte("*/5 * * * * root /usr/bin/hostcheck\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if c := CronPackage(good)[0]; !c.OK || c.Detail != good {
		t.Errorf("CronPackage(package file) = %+v; want ✓", c)
	}
	if c := CronPackage(bad)[0]; c.OK || !strings.Contains(c.Detail, "lacks") || !strings.Contains(c.Fix, "--reinstall netrescue") {
		t.Errorf("CronPackage(edited file) = %+v; want ✗ with the reinstall fix", c)
	}
}

// TestLogDevNull: LOG_FILE=/dev/null is a setting (the runs write to it,
// logx takes a character device, and purge keeps it): status's "last log
// lines" is no ✗ for it, and no fix tells to remove the device, which
// said "if it is not a regular file, remove it (the next run recreates
// it)" of /dev/null.
func TestLogDevNull(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("skipping: mknod needs root (CI runs as root)")
	}
	dir := t.TempDir()
	null := filepath.Join(dir, "null")
	if err := syscall.Mknod(null, syscall.S_IFCHR|0o666, 1<<8|3); err != nil { // /dev/null's (1, 3)
		t.Skip("skipping: mknod:", err)
	}
	for _, c := range within(t, "Log", func() []Check { return Log(null, dir, nil, 5) }) {
		if !c.OK || strings.Contains(c.Fix, "remove") {
			t.Errorf("Log(LOG_FILE a character device, as /dev/null): %+v; want ✓, no fix that removes it", c)
		}
	}
}
