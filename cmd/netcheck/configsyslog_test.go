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
	write := func(name, content string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	typo := write("typo.conf", "L1_THRESHOLD=abc\n")
	token := write("token.conf", "https://hooks.example/T0KENs3cret\n")
	off := write("off.conf", "SYSLOG=0\nL1_THRESHOLD=abc\n")
	hour := time.Date(2026, 11, 25, 10, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		name string
		args []string
		at   time.Time
		want string // the message's end after "…(每小时提醒一次): ", "" nothing sent
	}{
		{"cron run at minute 0", []string{"-config", typo}, hour, typo + ":1: L1_THRESHOLD; see: netcheck status"},
		{"cron run at minute 1", []string{"-config", typo}, hour.Add(time.Minute), ""},
		{"plan, by a person", []string{"-config", typo, "plan"}, hour, ""},
		{"a token on a line of its own: where, never what", []string{"-config", token}, hour, token + ":1: a URL; see: netcheck status"},
		{"SYSLOG=0 in the file", []string{"-config", off}, hour, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var ran []string
			e := fakeEnv(t, &ran)
			e.Now = func() time.Time { return tc.at }
			e.Syslog = func(tag, msg string, loc *time.Location) { logx.SyslogError(sock, tag, msg, loc) }
			if err := run(t.Context(), tc.args, e); cli.ExitCode(err) != cli.ExitUsage {
				t.Fatalf("run = %v; want exit 2", err)
			}
			buf := make([]byte, 4096)
			_ = c.SetReadDeadline(time.Now().Add(300 * time.Millisecond))
			n, _, rerr := c.ReadFrom(buf)
			got := string(buf[:max(n, 0)])
			if tc.want == "" {
				if rerr == nil {
					t.Errorf("syslog got %q; want nothing", got)
				}
				return
			}
			head := regexp.MustCompile(`^<27>[A-Z][a-z]{2} [ \d]\d \d\d:\d\d:\d\d netcheck\[\d+\]: `)
			want := "【严重错误】配置无法读取，本次不检测，直到修好 (每小时提醒一次): " + tc.want
			if rerr != nil || !head.MatchString(got) || got[len(head.FindString(got)):] != want {
				t.Errorf("syslog got %q, %v; want a daemon.err line tagged netcheck: %q", got, rerr, want)
			}
			if strings.Contains(got, "T0KEN") {
				t.Errorf("syslog got the token: %q", got)
			}
		})
	}
}
