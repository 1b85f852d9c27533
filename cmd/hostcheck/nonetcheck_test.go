package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/crypto/ssh"

	"github.com/pve-op/network-rescue/internal/command"
	"github.com/pve-op/network-rescue/internal/health"
	"github.com/pve-op/network-rescue/internal/probe"
	"github.com/pve-op/network-rescue/internal/rescue"
	"github.com/pve-op/network-rescue/internal/runenv"
)

// noNetcheckRouter is a host whose router runs the original scripts
// (SPEC §2): no netcheck there, so no net_outage, and an assist ends in
// exit 127. The router's state is read by the real command, run by sh in
// a directory of the test's. run makes n whole hostcheck runs (h.check),
// five minutes apart, and returns what they logged; *up is the internet.
func noNetcheckRouter(t *testing.T) (h *host, log *strings.Builder, events *[]string, asks *atomic.Int32, up *bool, run func(n int) string) {
	h, log, events = lanAssistHost(t)
	h.cfg.NotifyURL = ""
	h.cfg.OpStateDir = t.TempDir() // the original scripts' /root: no SOS, no count, no net_outage
	asks = new(atomic.Int32)
	fakeRouter(t, h, func(cmd string, ch ssh.Channel) int {
		if strings.Contains(cmd, " assist ") {
			asks.Add(1)
			_, _ = ch.Stderr().Write([]byte("sh: /usr/bin/netcheck: not found\n"))
			return 127
		}
		c := exec.Command("sh", "-c", cmd)
		c.Stdout, c.Stderr = ch, ch.Stderr()
		if err := c.Run(); err != nil {
			var ee *exec.ExitError
			if errors.As(err, &ee) {
				return ee.ExitCode()
			}
			return 1
		}
		return 0
	})
	now := testNow
	up = new(bool)
	h.e.Now = func() time.Time { return now }
	h.e.Probe = func(context.Context, probe.Config) probe.Result { return probe.Result{Up: *up} }
	h.e.Signals = func(parent context.Context) (context.Context, context.CancelFunc) { return context.WithCancel(parent) }
	run = func(n int) string {
		t.Helper()
		before := log.Len()
		for range n {
			if err := h.check(context.Background()); err != nil {
				t.Fatalf("check at %s = %v:\n%s", now.Format("15:04"), err, log.String())
			}
			now = now.Add(5 * time.Minute)
		}
		return log.String()[before:]
	}
	return h, log, events, asks, up, run
}

// noNetcheckWarn is the 【LAN】 warning for a router without netcheck, up
// to the time it names.
const noNetcheckWarn = "【LAN】OpenWrt 上没有安装 netcheck (仍在运行原版脚本？)，无法分辨局域网侧故障："

// TestLANRouterWithoutNetcheckSaidOnce: whole hostcheck runs (h.check)
// against a router that runs the original scripts (SPEC §2): no netcheck
// there, so no net_outage, which read as "the router's own net is up".
// Every outage was a LAN fault, and every run of it, for as long as it
// lasted, logged 【LAN】局域网侧故障：OpenWrt 自身网络正常… (not known),
// 【LAN】请求 OpenWrt 协助。, the [错误] that netcheck cannot run and
// 【LAN】OpenWrt 暂不执行此步骤…. Now, once the router has answered that it
// cannot run netcheck, the next hour has no LAN fault: the host observes
// the SOS as with the original scripts, and one 【LAN】 warning with the
// fix says why and when it asks again; the next outage is diagnosed
// afresh.
func TestLANRouterWithoutNetcheckSaidOnce(t *testing.T) {
	h, _, events, asks, up, run := noNetcheckRouter(t)
	got := run(13) // an hour of the outage
	for _, c := range []struct {
		line string
		want int
	}{
		// Seen twice before the first ask (a blip is not a fault): said
		// before the router answered.
		{"【LAN】局域网侧故障：OpenWrt 自身网络正常，局域网却无法上网。", 2},
		{"【LAN】请求 OpenWrt 协助。", 1},
		{"【LAN】-> [错误] OpenWrt 上无法运行 netcheck", 1},
		// Asked at 10:05: held for an hour.
		{noNetcheckWarn + "11:05 前不按局域网故障处理，只看 OpenWrt 的 SOS (与原版脚本相同)；之后再判断并请求 OpenWrt。", 1},
		{"ask_again=11:05", 1},
		{"fix=\"在路由器上安装本项目: install.sh --role router (或在本机: install.sh --router 127.0.0.1)，或设置 OP_NETCHECK\"", 1},
		{"【LAN】OpenWrt 暂不执行此步骤", 0},
		{"【观察】未发现 SOS 信号。判定 OpenWrt 仍在尝试自愈或处于熔断期。", 11},
		{"【检测】互联网断开，开始检索 OpenWrt SOS 信号...", 13},
	} {
		if n := strings.Count(got, c.line); n != c.want {
			t.Errorf("%q said %d times in the hour; want %d:\n%s", c.line, n, c.want, got)
		}
	}
	if n := asks.Load(); n != 1 {
		t.Errorf("the router was asked for %d assists; want 1", n)
	}
	if slices.Contains(*events, "assist") {
		t.Errorf("ON_EVENT_CMD heard %q; want no assist for a step that could not run", *events)
	}
	st, _ := h.store().Load(h.loc)
	if !st.NoNetcheckAt.Equal(testNow.Add(5*time.Minute)) || st.LANFault != "" || st.LANSteps != "" {
		t.Errorf("state: no_netcheck %v, lan_fault %q, lan_steps %q; want netcheck known absent at 10:05, no LAN fault", st.NoNetcheckAt, st.LANFault, st.LANSteps)
	}

	// The internet back: the outage ends, and with it what this one knew.
	*up = true
	got = run(1)
	if !strings.Contains(got, "【恢复】互联网已恢复。") {
		t.Errorf("log lacks 【恢复】:\n%s", got)
	}
	if st, _ := h.store().Load(h.loc); !st.NoNetcheckAt.IsZero() {
		t.Error("no_netcheck kept after the outage; want it cleared with the outage")
	}
	if rec, err := filepath.Glob(filepath.Join(h.cfg.StateDir, rescue.RecordFile)); err != nil || len(rec) != 0 {
		t.Errorf("%s after the outage: %v %v; want none (a healthy host keeps nothing)", rescue.RecordFile, rec, err)
	}
	// The next outage is seen afresh (netcheck may have been installed since).
	*up = false
	got = run(2)
	if n := strings.Count(got, "【LAN】局域网侧故障"); n != 2 || asks.Load() != 2 {
		t.Errorf("the next outage: 【LAN】 fault said %d times, %d assists asked in all; want 2 and 2:\n%s", n, asks.Load(), got)
	}
}

// TestLANRouterWithoutNetcheckOncePerHour: six hours of an outage whose
// router never gets netcheck. Held for the rest of the outage (3edcfb3), a
// router that had it installed after the first answer was never asked
// again (rescue's TestNoNetcheckHoldExpires); held for an hour, a router
// still without it is asked once an hour, with one 【LAN】 warning naming
// when it is asked again: never an ask, an [错误] or a warning at every
// run, and never the host's reboot over steps that could not run.
func TestLANRouterWithoutNetcheckOncePerHour(t *testing.T) {
	_, _, events, asks, _, run := noNetcheckRouter(t)
	const runs = 12 * 6
	got := run(runs)
	n := int(asks.Load())
	period := int(rescue.NoNetcheckHold / (5 * time.Minute))
	if n < 2 || n > runs/period+1 {
		t.Errorf("the router was asked %d times in six hours; want asked again, at most once per %v (%d)", n, rescue.NoNetcheckHold, runs/period+1)
	}
	for _, line := range []string{noNetcheckWarn, "【LAN】-> [错误] OpenWrt 上无法运行 netcheck", "【LAN】请求 OpenWrt 协助。"} {
		if c := strings.Count(got, line); c != n {
			t.Errorf("%q said %d times for %d asks; want once per ask:\n%s", line, c, n, got)
		}
	}
	// The warnings' times: the hold after each ask, an hour at least apart.
	var at []string
	for _, line := range strings.Split(got, "\n") {
		if _, rest, ok := strings.Cut(line, noNetcheckWarn); ok {
			at = append(at, rest[:5])
		}
	}
	for i := 1; i < len(at); i++ {
		prev, _ := time.Parse("15:04", at[i-1])
		next, _ := time.Parse("15:04", at[i])
		if next.Sub(prev) < rescue.NoNetcheckHold {
			t.Errorf("warnings naming %v: two within %v", at, rescue.NoNetcheckHold)
		}
	}
	if strings.Contains(got, "【确认】") || strings.Contains(got, "step=reboot") || strings.Contains(got, "OpenWrt 侧的步骤都已尝试") {
		t.Errorf("the host climbed past steps the router could not run:\n%s", got)
	}
	if slices.Contains(*events, "assist") {
		t.Errorf("ON_EVENT_CMD heard %q; want no assist for a step that could not run", *events)
	}
}

// TestHostStatusNoNetcheck: in an outage whose router could not run
// netcheck, `hostcheck status` says so with the fix and when the router
// is asked again (a ✗ while the hold lasts: LAN faults cannot be told
// apart); after the hold, an ✓ info that it is asked again; the "1" an
// older hostcheck wrote holds nothing.
func TestHostStatusNoNetcheck(t *testing.T) {
	dir := t.TempDir()
	now := time.Date(2026, 12, 6, 12, 0, 0, 0, time.UTC)
	stateDir, runDir := filepath.Join(dir, "state"), filepath.Join(dir, "run")
	for _, d := range []string{stateDir, runDir} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	record := func(noNetcheck string) {
		t.Helper()
		rec := fmt.Sprintf("down_since=%d\nlast_reboot_date=\nvm_restart_date=\nrouter_no_netcheck=%s\n", now.Add(-40*time.Minute).Unix(), noNetcheck)
		if err := os.WriteFile(filepath.Join(stateDir, rescue.RecordFile), []byte(rec), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	conf := statusLabConf(t, dir, "STATE_DIR="+stateDir, "RUN_DIR="+runDir, "PVE_MARK="+filepath.Join(dir, "mark"), "SSH_KEY="+filepath.Join(dir, "no-key"), "OP_IP=192.168.10.1")
	status := func() (health.Check, bool) {
		t.Helper()
		var out strings.Builder
		e := runenv.Env{Stdout: &out, Stderr: statusStderr(t, dir), Now: func() time.Time { return now },
			Probe: func(context.Context, probe.Config) probe.Result { return probe.Result{} },
			Exec: func(_ context.Context, cmdline string, _ time.Duration) command.Result {
				return command.Result{Cmd: cmdline}
			},
			Uptime: func() (time.Duration, error) { return time.Hour, nil }, BootID: func() (string, error) { return "boot-1", nil }}
		run(context.Background(), []string{"-config", conf, "status", "-json", "-crontab", filepath.Join(dir, "crontab")}, e)
		var got struct{ Checks []health.Check }
		if err := json.Unmarshal([]byte(out.String()), &got); err != nil {
			t.Fatalf("stdout is not JSON (%v):\n%s", err, out.String())
		}
		i := slices.IndexFunc(got.Checks, func(c health.Check) bool { return c.Name == "router netcheck" })
		if i < 0 {
			return health.Check{}, false
		}
		return got.Checks[i], true
	}
	// Asked at 11:50: held until 12:50, when the router is asked again.
	record(strconv.FormatInt(now.Add(-10*time.Minute).Unix(), 10))
	c, ok := status()
	if !ok || c.OK || !strings.Contains(c.Detail, "at 11:50") || !strings.Contains(c.Detail, "until 12:50 LAN faults cannot be told apart") ||
		!strings.Contains(c.Detail, "then a LAN fault is diagnosed again and the router asked again") ||
		!strings.Contains(c.Fix, "install.sh --role router") || !strings.Contains(c.Fix, "install.sh --router 192.168.10.1") {
		t.Errorf("held: router netcheck %+v (found %v); want a ✗ saying until when, with the install fix", c, ok)
	}
	// Asked at 10:50: the hold is over, the next LAN fault asks again.
	record(strconv.FormatInt(now.Add(-70*time.Minute).Unix(), 10))
	if c, ok := status(); !ok || !c.OK || !strings.Contains(c.Detail, "could not run") || !strings.Contains(c.Detail, "the router asked again (held until 11:50)") {
		t.Errorf("the hold over: router netcheck %+v (found %v); want an ✓ info that the router is asked again", c, ok)
	}
	// The "1" of the binary that held for the rest of the outage: no hold.
	record("1")
	if c, ok := status(); ok {
		t.Errorf("router_no_netcheck=1: router netcheck %+v; want none (no hold: the router is asked again)", c)
	}
}
