package e2e

// SPEC §14 on real parts: an ISP outage beyond the next hop in the closed
// loop (isp / router / host), and `netcheck assist` run in the router
// namespace, directly and over Dropbear as the host runs it. Every command
// is a recorder script in the test's temp dir; every config is the test's.

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// echoCounters counts, in the isp namespace, the echo requests that reach
// the next hop (the ISP's gateway) and each internet target, before any
// cut table drops them (priority -10).
func echoCounters(t *testing.T, ns string) func() map[string]int {
	t.Helper()
	nft(t, ns, fmt.Sprintf(`table inet echoes {
  counter hop {}
  counter t1 {}
  counter t2 {}
  chain in {
    type filter hook input priority -10; policy accept;
    ip daddr %s icmp type echo-request counter name "hop"
    ip daddr 198.51.100.1 icmp type echo-request counter name "t1"
    ip daddr 203.0.113.1 icmp type echo-request counter name "t2"
  }
}
`, loopGateway))
	packets := regexp.MustCompile(`packets (\d+)`)
	return func() map[string]int {
		out := map[string]int{}
		for _, c := range []string{"hop", "t1", "t2"} {
			o := sh(t, "ip", "netns", "exec", ns, "nft", "list", "counter", "inet", "echoes", c)
			m := packets.FindStringSubmatch(o)
			if m == nil {
				t.Fatalf("nft list counter %s: %q", c, o)
			}
			out[c], _ = strconv.Atoi(m[1])
		}
		return out
	}
}

// TestLoopISPOutageNextHop: the ISP's gateway (the router's next hop, found
// by WAN_GATEWAY=auto in the kernel's default route) keeps answering while
// the internet behind it (198.51.100.1, 203.0.113.1) is cut with nftables,
// for 60 router ticks with the loop's shrunk thresholds (L1 at 1, L2 at 2,
// L3 at 3, SOS at 2 reboots): L1 once, L2 once, no router reboot, no SOS,
// nothing from the host, and 【诊断】 once. Then the next hop stops
// answering too: the next tick reboots the router (the L3 recorder runs)
// and the ladder goes on to SOS and the host's reboot. Before the outage,
// healthy runs send at most one echo per target and none to the next hop.
func TestLoopISPOutageNextHop(t *testing.T) {
	// PROBE_TIMEOUT=600ms leaves the next hop 400 ms after hopDelay (200 ms):
	// with 300 ms, a tick on a loaded machine has been seen to send it none.
	l := newLoopLab(t, "i", []string{"WAN_GATEWAY=auto", "PROBE_TIMEOUT=600ms"}, nil)
	count := echoCounters(t, l.isp)
	l.healthy(t)

	// Healthy runs: one echo per target and nothing else.
	before := count()
	const healthy = 5
	for range healthy {
		if r := inNS(t, l.router, nil, nil, bin(t, "netcheck"), "-config", l.rConf); r.code != 0 {
			t.Fatalf("healthy run exit %d: %s", r.code, r.stderr)
		}
	}
	after := count()
	t.Logf("echo requests from %d healthy runs: next hop %d, 198.51.100.1 %d, 203.0.113.1 %d",
		healthy, after["hop"]-before["hop"], after["t1"]-before["t1"], after["t2"]-before["t2"])
	// The first reply ends a run (SPEC §4), so a target whose echo had not
	// left yet gets none: at most one per target, at least one per run.
	t1, t2 := after["t1"]-before["t1"], after["t2"]-before["t2"]
	if after["hop"] != before["hop"] || t1 > healthy || t2 > healthy || t1+t2 < healthy {
		t.Errorf("healthy runs sent next hop %d, targets %d and %d echo requests; want 0, at most %d each, at least %d in all",
			after["hop"]-before["hop"], t1, t2, healthy, healthy)
	}

	// The ISP's outage: its gateway answers, nothing behind it does.
	blockInternet(t, l.isp, "cut", "", "input")
	hopBefore := count()["hop"]
	const ticks = 60
	acts := l.run(t, ticks)
	wantActs(t, acts, "L1 L2")
	rlog := readFile(t, l.rLog)
	if n := strings.Count(rlog, "【诊断】运营商侧故障，本机链路正常"); n != 1 {
		t.Errorf("router log has 【诊断】运营商侧故障 %d times; want once", n)
	}
	if n := strings.Count(rlog, "【报警】"); n < ticks {
		t.Errorf("router logged %d 【报警】 lines over %d ticks; want every tick", n, ticks)
	}
	for _, no := range []string{"【L3-动作】", "【SOS】", "【安全锁】"} {
		if strings.Contains(rlog, no) {
			t.Errorf("router log has %s in an ISP outage:\n%s", no, rlog)
		}
	}
	if exists(filepath.Join(l.root, "SOS_SYSTEM")) || exists(filepath.Join(l.root, "net_rb_count")) && strings.TrimSpace(readFile(t, filepath.Join(l.root, "net_rb_count"))) != "0" {
		t.Errorf("SOS_SYSTEM exists or the count moved: %q", readFile(t, filepath.Join(l.root, "net_rb_count")))
	}
	hlog := readFile(t, l.hLog)
	if !strings.Contains(hlog, "【观察】") || strings.Contains(hlog, "【确认】") || strings.Contains(hlog, "【终极动作】") {
		t.Errorf("host log: want 【观察】 only, no action:\n%s", hlog)
	}
	n := count()["hop"] - hopBefore
	t.Logf("%d echo requests reached the next hop over %d down ticks", n, ticks)
	if n < ticks {
		t.Errorf("%d echo requests reached the next hop over %d down ticks; want at least one a tick", n, ticks)
	}

	// The next hop stops answering: the ladder goes on where it is.
	nft(t, l.isp, fmt.Sprintf("table inet hopcut {\n chain in { type filter hook input priority 0; ip daddr %s drop; }\n}\n", loopGateway))
	more := l.run(t, 1)
	wantActs(t, more, "L3")
	rlog = readFile(t, l.rLog)
	if !strings.Contains(rlog, "【诊断】下一跳不再响应，自救阶梯继续") || !strings.Contains(rlog, "【L3-动作】执行物理重启 (#1)…") {
		t.Errorf("router log lacks the ladder going on:\n%s", rlog)
	}
	// After the reboot the ladder starts over and, nothing fixing the
	// outage, reaches the SOS (at 2 reboots here) that the host acts on.
	wantActs(t, l.run(t, 3), "L1 L2 REBOOT")
	if !strings.Contains(readFile(t, l.rLog), "【SOS】今日自愈已达 2 次上限。") {
		t.Errorf("router log lacks 【SOS】 once the next hop is silent:\n%s", readFile(t, l.rLog))
	}
}

// assistLab is a router namespace for `netcheck assist`: newRouterLab with
// a DNS_CMD recorder.
func assistLab(t *testing.T, suffix string, extra ...string) *routerLab {
	t.Helper()
	l := newRouterLab(t, suffix, extra...)
	writeConf(t, l.conf, strings.TrimRight(readFile(t, l.conf), "\n"), "DNS_CMD="+recorder(t, l.dir, "DNS", l.actions, ""))
	return l
}

// TestRouterAssist: `netcheck -config CONF assist STEP -reason …` in the
// router namespace, as the host runs it: the step's recorder runs, 【协助】
// is logged with the step and the escaped reason, the result line and the
// exit code say done; a reboot under SAFE_UPTIME (a faked /proc/uptime) is
// refused with exit 3 and runs nothing; an allowed reboot counts.
func TestRouterAssist(t *testing.T) {
	l := assistLab(t, "x", "SAFE_UPTIME=600")
	r := l.netcheck(t, "assist", "network", "-reason", "x")
	if r.code != 0 || !strings.HasPrefix(r.stdout, "netrescue-assist step=network result=done ") {
		t.Errorf("assist network: exit %d, stdout %q, stderr %q; want 0 and a done line", r.code, r.stdout, r.stderr)
	}
	if got := strings.Join(l.actionLines(t), ","); got != "L2 " {
		t.Errorf("actions = %q; want the L2 recorder once", got)
	}
	log := readFile(t, l.log)
	if !strings.Contains(log, `【协助】应 PVE 请求重启网络与防火墙服务… step=network reason=x`) || !strings.Contains(log, "-> [成功] step=network") {
		t.Errorf("log lacks 【协助】 with the step and reason, or the outcome:\n%s", log)
	}

	r = l.netcheck(t, "assist", "dns", "-reason", "forged\n【SOS】")
	if r.code != 0 || !strings.Contains(readFile(t, l.log), `reason=forged\n\u3010SOS\u3011`) {
		t.Errorf("assist dns: exit %d; log:\n%s", r.code, readFile(t, l.log))
	}

	// A router up for 42 s refuses the reboot: SAFE_UPTIME.
	uptime := filepath.Join(l.dir, "uptime")
	if err := os.WriteFile(uptime, []byte("42.00 40.00\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	r = inNS(t, l.ns, map[string]string{uptime: "/proc/uptime"}, nil, bin(t, "netcheck"), "-config", l.conf, "assist", "reboot", "-reason", "y")
	want := `netrescue-assist step=reboot result=refused why=safe-uptime detail="up 42s, less than SAFE_UPTIME 10m0s"`
	if r.code != 3 || strings.TrimSpace(r.stdout) != want || !strings.Contains(r.stderr, "assist reboot refused (safe-uptime)") {
		t.Errorf("assist reboot at uptime 42s: exit %d, stdout %q, stderr %q; want 3, %q", r.code, r.stdout, r.stderr, want)
	}
	if got := strings.Join(l.actionLines(t), ","); got != "L2 ,DNS " {
		t.Errorf("actions = %q; want no reboot", got)
	}
	if !strings.Contains(readFile(t, l.log), "【协助】拒绝 PVE 的重启请求：安全锁，开机时间过短") {
		t.Errorf("log lacks the refusal:\n%s", readFile(t, l.log))
	}
	if exists(filepath.Join(l.state, "net_rb_count")) {
		t.Errorf("a refused reboot wrote the count: %q", readFile(t, filepath.Join(l.state, "net_rb_count")))
	}

	// Up a day (the default fake uptime): the reboot runs and counts.
	r = l.netcheck(t, "assist", "reboot", "-reason", "z")
	if r.code != 0 || !strings.Contains(r.stdout, `result=done detail="reboot #1 today: `) {
		t.Errorf("assist reboot: exit %d, stdout %q, stderr %q", r.code, r.stdout, r.stderr)
	}
	if got := strings.Join(l.actionLines(t), ","); got != "L2 ,DNS ,L3 " {
		t.Errorf("actions = %q; want the L3 recorder last", got)
	}
	if c := strings.TrimSpace(readFile(t, filepath.Join(l.state, "net_rb_count"))); c != "1" {
		t.Errorf("net_rb_count = %q; want 1", c)
	}
	if !strings.Contains(readFile(t, l.log), "【L3-动作】执行物理重启 (#1)… by=assist count=1") {
		t.Errorf("log lacks the L3 line:\n%s", readFile(t, l.log))
	}

	// Usage errors: exit 2, no line, nothing run.
	for _, args := range [][]string{{"assist"}, {"assist", "halt"}} {
		if r := l.netcheck(t, args...); r.code != 2 || r.stdout != "" {
			t.Errorf("%v: exit %d, stdout %q; want 2 and nothing", args, r.code, r.stdout)
		}
	}
}

// TestRouterAssistWaitsForRun: a request arriving while a cron run holds
// the lock (its L1 recorder takes 2 s) waits for it, then runs its step:
// the same lock, never two steps at once.
func TestRouterAssistWaitsForRun(t *testing.T) {
	l := assistLab(t, "w", "SAFE_UPTIME=0", "L1_THRESHOLD=1")
	writeConf(t, l.conf, strings.Replace(readFile(t, l.conf), "L1_CMD="+filepath.Join(l.dir, "L1"),
		"L1_CMD="+recorder(t, l.dir, "L1slow", l.actions, "sleep 2; echo L1slow-done >> '"+l.actions+"'"), 1))
	l.cut(t)
	var wg sync.WaitGroup
	wg.Add(1)
	go func() { defer wg.Done(); l.netcheck(t) }()
	for deadline := time.Now().Add(10 * time.Second); !strings.Contains(readFile(t, l.actions), "L1slow"); time.Sleep(20 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("L1 never started; log:\n%s", readFile(t, l.log))
		}
	}
	r := l.netcheck(t, "assist", "network", "-reason", "while L1 runs")
	wg.Wait()
	if got := strings.Join(l.actionLines(t), ","); r.code != 0 || got != "L1slow ,L1slow-done,L2 " {
		t.Errorf("exit %d, actions %q; want 0 and L2 after L1 ended", r.code, got)
	}
}

// TestLoopAssistOverSSH: the host runs `netcheck -config CONF assist
// network` on the router over SSH (Dropbear, key login, the router's host
// key pinned by hostcheck pin), with the test's own binary and config: the
// L2 recorder runs in the router namespace, and the result line and exit
// status come back over the session.
func TestLoopAssistOverSSH(t *testing.T) {
	l := newLoopLab(t, "s", nil, nil)
	if _, err := exec.LookPath("ssh"); err != nil {
		t.Skip("SKIP e2e: ssh (openssh-client) not installed")
	}
	remote := fmt.Sprintf("'%s' -config '%s' assist network -reason 'LAN path fault seen twice'", bin(t, "netcheck"), l.rConf)
	r := inNS(t, l.host, nil, nil, "ssh", "-F", "/dev/null", "-o", "BatchMode=yes", "-o", "StrictHostKeyChecking=yes",
		"-o", "UserKnownHostsFile="+filepath.Join(l.dir, "known_hosts"), "-i", filepath.Join(l.dir, "id_ed25519"),
		"root@"+loopRouterLAN, remote)
	if r.code != 0 || !strings.HasPrefix(r.stdout, "netrescue-assist step=network result=done ") {
		t.Fatalf("ssh … assist network: exit %d\nstdout %q\nstderr %q\ndropbear:\n%s", r.code, r.stdout, r.stderr, l.dropbearLog.String())
	}
	if got := strings.Join(l.actionLines(t), ","); got != "L2 " {
		t.Errorf("actions = %q; want the L2 recorder once", got)
	}
	if !strings.Contains(readFile(t, l.rLog), `【协助】应 PVE 请求重启网络与防火墙服务… step=network reason="LAN path fault seen twice"`) {
		t.Errorf("router log lacks 【协助】:\n%s", readFile(t, l.rLog))
	}
}

// TestRouterNextHopFound: the real binary in a router namespace finds its
// next hop in the kernel, shows it in status and plan, and a down run
// diagnoses the ISP's outage through it — for a gateway ("default via"),
// and for a point-to-point WAN as PPPoE sets it up (a local address with a
// peer, "default dev wan").
func TestRouterNextHopFound(t *testing.T) {
	for _, tc := range []struct {
		name, suffix, hop string
		setup             func(l *routerLab)
	}{
		{"gateway", "g", "10.77.0.1 (gateway of the default route, dev wan)", func(*routerLab) {}},
		{"point-to-point peer", "p", "10.77.9.1 (peer of the point-to-point WAN, dev wan)", func(l *routerLab) {
			sh(t, "ip", "-n", l.ns, "addr", "add", "10.77.9.2", "peer", "10.77.9.1/32", "dev", "wan")
			sh(t, "ip", "-n", l.isp, "addr", "add", "10.77.9.1/32", "dev", "up0")
			sh(t, "ip", "-n", l.isp, "route", "add", "10.77.9.2/32", "dev", "up0")
			sh(t, "ip", "-n", l.ns, "route", "replace", "default", "dev", "wan")
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			l := newRouterLab(t, tc.suffix, "WAN_GATEWAY=auto", "SAFE_UPTIME=0", "L1_THRESHOLD=0", "L2_THRESHOLD=0", "L3_THRESHOLD=1")
			tc.setup(l)
			r := l.netcheck(t, "status", "-crontab", filepath.Join(l.dir, "no-crontab"))
			if want := "✓ next hop: WAN_GATEWAY=auto: " + tc.hop + " answers"; !strings.Contains(r.stdout, want) {
				t.Errorf("status lacks %q:\n%s", want, r.stdout)
			}
			r = l.netcheck(t, "plan", "-at", "09:00")
			if want := "(WAN_GATEWAY=auto; next hop: " + tc.hop + "):"; r.code != 0 || !strings.Contains(r.stdout, want) {
				t.Errorf("plan: exit %d, lacks %q:\n%s", r.code, want, r.stdout)
			}
			l.cut(t)
			for range 3 {
				if r := l.netcheck(t); r.code != 0 {
					t.Fatalf("exit %d: %s", r.code, r.stderr)
				}
			}
			log := readFile(t, l.log)
			addr, _, _ := strings.Cut(tc.hop, " ")
			if !strings.Contains(log, "【诊断】运营商侧故障，本机链路正常 next_hop="+addr) || exists(l.actions) {
				t.Errorf("3 down runs past L3_THRESHOLD with the next hop answering: actions %q, log:\n%s", readFile(t, l.actions), log)
			}
		})
	}
}
