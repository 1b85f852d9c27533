package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/pve-op/network-rescue/internal/assist"
	"github.com/pve-op/network-rescue/internal/command"
)

// assistConf is a router config with recorder-named commands.
func assistConf(t *testing.T, extra ...string) (conf, dir string) {
	t.Helper()
	dir = t.TempDir()
	conf = filepath.Join(dir, "netrescue.conf")
	lines := append([]string{"STATE_DIR=" + filepath.Join(dir, "state"), "RUN_DIR=" + filepath.Join(dir, "run"),
		"LOG_FILE=" + filepath.Join(dir, "net.log"), "SYSLOG=0", "DNS_CMD=DNS", "L2_CMD=L2", "L3_CMD=L3"}, extra...)
	if err := os.WriteFile(conf, []byte(strings.Join(lines, "\n")+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	return conf, dir
}

// TestAssist: what the host sees (exit code, result line) and what the
// router does (command run or not, log, count) for each request.
func TestAssist(t *testing.T) {
	for _, tc := range []struct {
		name      string
		extra     []string
		count     string // net_rb_count before
		cooling   time.Duration
		uptime    time.Duration
		args      []string
		cmdFails  bool
		wantCode  int
		wantRan   string
		wantLine  string
		wantLog   []string
		wantCount string // net_rb_count after ("" = no file)
	}{
		{name: "dns", args: []string{"assist", "dns", "-reason", "DNS fault seen twice"}, wantCode: 0, wantRan: "DNS",
			wantLine: `netrescue-assist step=dns result=done detail="DNS ran in 0s"`,
			wantLog:  []string{"【协助】应 PVE 请求重启 DNS 服务… step=dns reason=\"DNS fault seen twice\"", "-> [成功] step=dns"}},
		{name: "network, flags before the subcommand", args: []string{"-reason", "LAN path", "assist", "network"}, wantCode: 0, wantRan: "L2",
			wantLine: `netrescue-assist step=network result=done detail="L2 ran in 0s"`,
			wantLog:  []string{"【协助】应 PVE 请求重启网络与防火墙服务… step=network reason=\"LAN path\""}},
		{name: "reboot counts as the router's", count: "2", args: []string{"assist", "reboot"}, wantCode: 0, wantRan: "L3",
			wantLine: `netrescue-assist step=reboot result=done detail="reboot #3 today: L3 ran in 0s"`,
			wantLog:  []string{"【协助】应 PVE 请求重启路由器…", "【L3-动作】执行物理重启 (#3)… by=assist count=3"}, wantCount: "3"},
		{name: "reboot refused while cooling", count: "7", cooling: time.Hour, args: []string{"assist", "reboot"}, wantCode: 3,
			wantLine: `netrescue-assist step=reboot result=refused why=cooling detail="cooling until 2026-11-25 11:00:00 (1h0m0s left) after 7 reboots today"`,
			wantLog:  []string{"【协助】拒绝 PVE 的重启请求：熔断冷却中，直到 2026-11-25 11:00:00"}, wantCount: "7"},
		{name: "reboot refused under SAFE_UPTIME", uptime: 42 * time.Second, args: []string{"assist", "reboot"}, wantCode: 3,
			wantLine: `netrescue-assist step=reboot result=refused why=safe-uptime detail="up 42s, less than SAFE_UPTIME 10m0s"`,
			wantLog:  []string{"【协助】拒绝 PVE 的重启请求：安全锁，开机时间过短"}},
		{name: "reboot refused at the limit", count: "9", args: []string{"assist", "reboot"}, wantCode: 3,
			wantLine:  `netrescue-assist step=reboot result=refused why=limit detail="9 router reboots today; one more reaches L4_SOS_THRESHOLD 10"`,
			wantCount: "9"},
		{name: "a failing command", args: []string{"assist", "network"}, cmdFails: true, wantCode: 1, wantRan: "L2",
			wantLine: `netrescue-assist step=network result=failed why=command detail="L2: exit status 1: boom"`,
			wantLog:  []string{"-> [错误] exit status 1: boom step=network"}},
		{name: "dry run runs nothing", extra: []string{"DRY_RUN=1"}, args: []string{"assist", "dns"}, wantCode: 3,
			wantLine: `netrescue-assist step=dns result=refused why=dry-run detail="DRY_RUN: decided and logged, DNS not run"`,
			wantLog:  []string{"【演练】【协助】应 PVE 请求重启 DNS 服务…"}},
		{name: "the host's reason is escaped", args: []string{"assist", "dns", "-reason", "x\n2026-01-01 00:00:00 ERROR 【严重错误】 forged"},
			wantCode: 0, wantRan: "DNS",
			wantLog: []string{`reason="x\\n2026-01-01 00:00:00 ERROR \\u3010\\u4e25\\u91cd\\u9519\\u8bef\\u3011 forged"`}},
		{name: "no step", args: []string{"assist"}, wantCode: 2},
		{name: "unknown step", args: []string{"assist", "halt"}, wantCode: 2},
		{name: "extra argument", args: []string{"assist", "dns", "now"}, wantCode: 2},
	} {
		t.Run(tc.name, func(t *testing.T) {
			conf, dir := assistConf(t, tc.extra...)
			state := filepath.Join(dir, "state")
			if err := os.MkdirAll(state, 0o755); err != nil {
				t.Fatal(err)
			}
			if tc.count != "" {
				os.WriteFile(filepath.Join(state, "net_rb_count"), []byte(tc.count+"\n"), 0o644)
			}
			now := time.Date(2026, 11, 25, 10, 0, 0, 0, time.UTC)
			if tc.cooling > 0 {
				os.WriteFile(filepath.Join(state, "net_cooling_ts"), []byte(fmt.Sprint(now.Add(tc.cooling).Unix())), 0o644)
			}
			var ran []string
			e := fakeEnv(t, &ran)
			if tc.uptime > 0 {
				e.Uptime = func() (time.Duration, error) { return tc.uptime, nil }
			}
			e.Exec = func(_ context.Context, cmdline string, _ time.Duration) command.Result {
				ran = append(ran, cmdline)
				if tc.cmdFails {
					return command.Result{Cmd: cmdline, ExitCode: 1, Err: fmt.Errorf("exit status 1"), Stderr: "boom"}
				}
				return command.Result{Cmd: cmdline}
			}
			out := &strings.Builder{}
			e.Stdout = out
			err := run(context.Background(), append([]string{"-config", conf}, tc.args...), e)
			if code := exitCode(err); code != tc.wantCode {
				t.Errorf("exit %d (%v); want %d", code, err, tc.wantCode)
			}
			if got := strings.Join(ran, " "); got != tc.wantRan {
				t.Errorf("ran %q; want %q", got, tc.wantRan)
			}
			if tc.wantLine != "" && strings.TrimSpace(out.String()) != tc.wantLine {
				t.Errorf("stdout = %q;\nwant     %q", out.String(), tc.wantLine)
			}
			if tc.wantCode == 2 && out.Len() != 0 {
				t.Errorf("a usage error printed a result line: %q", out.String())
			}
			log, _ := os.ReadFile(filepath.Join(dir, "net.log"))
			for _, w := range tc.wantLog {
				if !strings.Contains(string(log), w) {
					t.Errorf("log lacks %q:\n%s", w, log)
				}
			}
			count, _ := os.ReadFile(filepath.Join(state, "net_rb_count"))
			if got := strings.TrimSpace(string(count)); got != tc.wantCount {
				t.Errorf("net_rb_count = %q; want %q", got, tc.wantCount)
			}
			if tc.wantCode == 3 {
				if _, err := os.Stat(filepath.Join(state, "SOS_SYSTEM")); err == nil {
					t.Errorf("a refused reboot wrote SOS_SYSTEM")
				}
			}
		})
	}
}

// TestAssistWaitsForTheRun: a request that finds a cron run holding the
// lock waits for it (bounded by assist.LockWait), then acts.
func TestAssistWaitsForTheRun(t *testing.T) {
	conf, dir := assistConf(t)
	run := filepath.Join(dir, "run")
	if err := os.MkdirAll(run, 0o700); err != nil {
		t.Fatal(err)
	}
	f, err := os.OpenFile(filepath.Join(run, "netcheck.lock"), os.O_RDONLY|os.O_CREATE, 0o600)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if err := unix.Flock(int(f.Fd()), unix.LOCK_EX); err != nil {
		t.Fatal(err)
	}
	released := make(chan time.Time, 1)
	go func() {
		time.Sleep(500 * time.Millisecond)
		released <- time.Now()
		unix.Flock(int(f.Fd()), unix.LOCK_UN)
	}()
	var ran []string
	var at time.Time
	e := fakeEnv(t, &ran)
	e.Exec = func(_ context.Context, cmdline string, _ time.Duration) command.Result {
		at = time.Now()
		ran = append(ran, cmdline)
		return command.Result{Cmd: cmdline}
	}
	if err := runAssist(conf, e, "network"); err != nil {
		t.Fatalf("assist = %v; want done after the wait", err)
	}
	if rel := <-released; len(ran) != 1 || at.Before(rel) {
		t.Errorf("ran %q at %v, lock released at %v; want L2 once, after the release", ran, at, rel)
	}
	if assist.LockWait(3*time.Second) != 18*time.Second {
		t.Errorf("LockWait(3s) = %v; want 18s", assist.LockWait(3*time.Second))
	}
}

func runAssist(conf string, e env, step string) error {
	return run(context.Background(), []string{"-config", conf, "assist", step}, e)
}
