package main

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/pve-op/network-rescue/internal/cli"
	"github.com/pve-op/network-rescue/internal/runenv"
)

// TestConfigErrorToSyslog: hostcheck's cron run that cannot read its
// configuration tells syslog too (netcheck's test reads the datagram from a
// socket; this one records the call): where, with the key, tagged
// hostcheck, at minute 0 only.
func TestConfigErrorToSyslog(t *testing.T) {
	dir := t.TempDir()
	conf := filepath.Join(dir, "host.conf")
	if err := os.WriteFile(conf, []byte("MIN_HOST_UPTIME=abc\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	stderr, err := os.Create(filepath.Join(dir, "stderr"))
	if err != nil {
		t.Fatal(err)
	}
	defer stderr.Close()
	for _, minute := range []int{0, 5} {
		var told []string
		e := runenv.Env{Stdout: &strings.Builder{}, Stderr: stderr,
			Now:    func() time.Time { return time.Date(2026, 11, 25, 10, minute, 0, 0, time.UTC) },
			Syslog: func(tag, msg string, _ *time.Location) { told = append(told, tag+": "+msg) }}
		if err := run(context.Background(), []string{"-config", conf}, e); cli.ExitCode(err) != cli.ExitUsage {
			t.Fatalf("run = %v; want exit 2", err)
		}
		want := []string(nil)
		if minute == 0 {
			want = []string{"hostcheck: 【严重错误】配置无法读取，本次不检测，直到修好 (每小时提醒一次): " + conf + ":1: MIN_HOST_UPTIME; see: hostcheck status"}
		}
		if strings.Join(told, "\n") != strings.Join(want, "\n") {
			t.Errorf("at minute %d told syslog %q; want %q", minute, told, want)
		}
	}
}
