package main

import (
	"net"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/pve-op/network-rescue/internal/cli"
	"github.com/pve-op/network-rescue/internal/logx"
)

// TestConfigErrorToSyslog: a cron run that cannot read its configuration
// exits 2 with the error on stderr, which a cron that mails nothing sends
// nowhere; so it is told to syslog (daemon.err, tagged netcheck), once an
// hour (the run at minute 0), and never by a subcommand a person runs.
// The syslog daemon is a unix datagram socket of the test's own.
func TestConfigErrorToSyslog(t *testing.T) {
	dir, err := os.MkdirTemp("", "nrsl")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	sock := filepath.Join(dir, "log")
	c, err := net.ListenUnixgram("unixgram", &net.UnixAddr{Name: sock, Net: "unixgram"})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	conf := filepath.Join(dir, "netrescue.conf")
	if err := os.WriteFile(conf, []byte("L1_THRESHOLD=abc\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		args []string
		at   time.Time
		want bool
	}{
		{"cron run at minute 0", []string{"-config", conf}, time.Date(2026, 11, 25, 10, 0, 0, 0, time.UTC), true},
		{"cron run at minute 1", []string{"-config", conf}, time.Date(2026, 11, 25, 10, 1, 0, 0, time.UTC), false},
		{"plan, by a person", []string{"-config", conf, "plan"}, time.Date(2026, 11, 25, 11, 0, 0, 0, time.UTC), false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var ran []string
			e := fakeEnv(t, &ran)
			e.Now = func() time.Time { return tc.at }
			e.Syslog = func(tag, msg string) { logx.SyslogError(sock, tag, msg) }
			err := run(t.Context(), tc.args, e)
			if cli.ExitCode(err) != cli.ExitUsage || !strings.Contains(err.Error(), "L1_THRESHOLD") {
				t.Fatalf("run = %v; want exit 2 naming L1_THRESHOLD", err)
			}
			buf := make([]byte, 4096)
			_ = c.SetReadDeadline(time.Now().Add(300 * time.Millisecond))
			n, _, rerr := c.ReadFrom(buf)
			got := string(buf[:max(n, 0)])
			if !tc.want {
				if rerr == nil {
					t.Errorf("syslog got %q; want nothing", got)
				}
				return
			}
			line := regexp.MustCompile(`^<27>[A-Z][a-z]{2} [ \d]\d \d\d:\d\d:\d\d netcheck\[\d+\]: 【严重错误】配置无法读取，本次不检测，直到修好 \(每小时提醒一次\): .*L1_THRESHOLD`)
			if rerr != nil || !line.MatchString(got) {
				t.Errorf("syslog got %q, %v; want a daemon.err line tagged netcheck naming L1_THRESHOLD", got, rerr)
			}
		})
	}
}
