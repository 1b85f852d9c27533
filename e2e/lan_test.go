package e2e

// Faults only the LAN sees (SPEC §14, issue 11 item 4), in the closed
// loop of loop_test.go: the router's own traffic works, so its own ladder
// sees nothing, while the host on the LAN has no internet (forwarding
// dropped) or no DNS (the router's forwarder dead). The host asks the
// router, over SSH, to run its own command: `netcheck -config ROUTERCONF
// assist STEP` with the test's own binary and config (OP_NETCHECK,
// OP_CONFIG), never defaults. The recorders repair what their step would:
// L2 flushes the "stuck" table, L3 also the "wedged" one, DNS restarts the
// forwarder.

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
)

// lanLab is the loop lab with the host's assist keys pointed at the
// test's netcheck and router config.
func lanLab(t *testing.T, id string, routerConf, hostConf []string) *loopLab {
	t.Helper()
	needRoot(t, "dropbear", "dropbearkey")
	// The router's config path is known only once the lab exists: the
	// host's OP_CONFIG is set with a second write of its config.
	l := newLoopLab(t, id, routerConf, hostConf)
	host := append(lines(readFile(t, l.hConf)), "OP_NETCHECK="+bin(t, "netcheck"), "OP_CONFIG="+l.rConf)
	writeConf(t, l.hConf, host...)
	return l
}

func (l *loopLab) wantHostLog(t *testing.T, wants ...string) {
	t.Helper()
	hostInOrder(t, "host log", readFile(t, l.hLog), wants...)
}

// TestLoopLANForwardingFixedByNetwork: forwarding is dropped on the router
// while its own traffic works; two host runs see it, the third asks for
// `assist network`, whose L2 recorder repairs it.
func TestLoopLANForwardingFixedByNetwork(t *testing.T) {
	l := lanLab(t, "n", nil, nil)
	l.healthy(t)
	blockInternet(t, l.router, "stuck", "", "forward")
	wantActs(t, l.run(t, 4), "L2")
	if strings.Contains(readFile(t, l.rLog), "【报警】") {
		t.Errorf("the router's own probe saw an outage:\n%s", readFile(t, l.rLog))
	}
	l.wantHostLog(t, "【检测】互联网断开", "【LAN】局域网侧故障", "seen=1",
		"【LAN】局域网侧故障", "seen=2", "【LAN】请求 OpenWrt 协助。 step=network", "【LAN】-> [成功] OpenWrt 已执行。")
	hostInOrder(t, "router log", readFile(t, l.rLog), "【协助】应 PVE 请求重启网络与防火墙服务…", "reason=", "-> [成功]")
	if acts := l.run(t, 2); len(acts) != 0 {
		t.Errorf("after the repair: ran %v", acts)
	}
	l.wantHostLog(t, "【LAN】-> [成功]", "【恢复】互联网已恢复。")
}

// TestLoopLANForwardingFixedByReboot: forwarding broken in a way L2 does
// not fix: network, then `assist reboot`, counted by the router as an L3.
func TestLoopLANForwardingFixedByReboot(t *testing.T) {
	l := lanLab(t, "w", nil, nil)
	l.healthy(t)
	blockInternet(t, l.router, "wedged", "", "forward")
	wantActs(t, l.run(t, 6), "L2 L3")
	l.wantHostLog(t, "【LAN】请求 OpenWrt 协助。 step=network", "【LAN】请求 OpenWrt 协助。 step=reboot")
	hostInOrder(t, "router log", readFile(t, l.rLog), "【协助】应 PVE 请求重启路由器…", "【L3-动作】执行物理重启 (#1)…", "by=assist")
	if c := strings.TrimSpace(readFile(t, filepath.Join(l.root, "net_rb_count"))); c != "1" {
		t.Errorf("net_rb_count = %q; want 1 (the assist reboot counts as an L3)", c)
	}
	if acts := l.run(t, 2); len(acts) != 0 {
		t.Errorf("after the reboot: ran %v", acts)
	}
	l.wantHostLog(t, "step=reboot", "【恢复】互联网已恢复。")
}

// TestLoopLANFixedByHostReboot: forwarding broken in a way only the host's
// reboot mends (its bridge, a passthrough NIC): network, the router's
// reboot, then the host's, under §6's rules. Its 【终极动作】 line says no
// "删除 SOS 成功" (the original's line for an SOS): there was none.
func TestLoopLANFixedByHostReboot(t *testing.T) {
	l := lanLab(t, "b", nil, nil)
	l.healthy(t)
	blockInternet(t, l.router, "hostonly", "", "forward")
	wantActs(t, l.run(t, 12), "L2 L3 REBOOT")
	l.wantHostLog(t, "step=network", "step=reboot", "【LAN】OpenWrt 侧的步骤都已尝试", "【同步】", "【终极动作】PVE 物理机将在 0 秒后执行优雅重启...")
	if hlog := readFile(t, l.hLog); strings.Contains(hlog, "删除 SOS") {
		t.Errorf("a host reboot with no SOS says it removed one:\n%s", hlog)
	}
}

// TestLoopLANDNSForwarderDead: the router's DNS forwarder (dnsmasq on the
// LAN address) dies; the IP targets still answer the host. Two runs see a
// DNS fault, the third asks for `assist dns`, whose DNS_CMD starts the
// forwarder again.
func TestLoopLANDNSForwarderDead(t *testing.T) {
	needRoot(t, "dnsmasq")
	dir := hostTempDir(t, "dns")
	pidFile := filepath.Join(dir, "dnsmasq.pid")
	start := fmt.Sprintf("dnsmasq --conf-file=/dev/null --no-resolv --no-hosts --listen-address=%s --bind-interfaces --port=53 "+
		"--address=/www.example.test/198.51.100.1 --pid-file=%s --user=root", loopRouterLAN, pidFile)
	dnsCmd := recorder(t, dir, "DNS", filepath.Join(dir, "dns-actions.log"), start)
	l := lanLab(t, "d", []string{"DNS_CMD=" + dnsCmd}, []string{"DNS_CHECK=www.example.test"})
	// The recorder logs into the lab's action log like the others.
	if err := os.WriteFile(dnsCmd, []byte(fmt.Sprintf("#!/bin/sh\necho \"DNS $*\" >> '%s'\n%s\n", l.actions, start)), 0o755); err != nil {
		t.Fatal(err)
	}
	stop := func() {
		if b, err := os.ReadFile(pidFile); err == nil {
			if pid, err := strconv.Atoi(strings.TrimSpace(string(b))); err == nil && pid > 1 {
				_ = syscall.Kill(pid, syscall.SIGTERM) // the dnsmasq this test started
			}
			_ = os.Remove(pidFile)
		}
	}
	t.Cleanup(stop)
	sh(t, "ip", "netns", "exec", l.router, "sh", "-c", start)
	l.healthy(t)
	if strings.Contains(readFile(t, l.hLog), "【检测】") {
		t.Fatalf("the host saw a fault while the forwarder ran:\n%s", readFile(t, l.hLog))
	}
	stop() // the forwarder dies
	wantActs(t, l.run(t, 4), "DNS")
	l.wantHostLog(t, "【检测】DNS 解析失败 (经 OpenWrt)", "【LAN】DNS 故障", "seen=1", "【LAN】DNS 故障", "seen=2",
		"【LAN】请求 OpenWrt 协助。 step=dns", "【LAN】-> [成功] OpenWrt 已执行。")
	hostInOrder(t, "router log", readFile(t, l.rLog), "【协助】应 PVE 请求重启 DNS 服务…", "-> [成功]")
	if acts := l.run(t, 2); len(acts) != 0 {
		t.Errorf("after the repair: ran %v", acts)
	}
	l.wantHostLog(t, "step=dns", "【恢复】互联网已恢复。")
}

// TestLoopLANRouterWithoutNetcheck: the host is installed, the router is
// not (yet): OP_NETCHECK is not there, so no run of ours writes the
// router's net_outage, and a fault seen from the LAN reads as the router
// being fine. The step the host asks for cannot run (exit 127, "not
// found"): it is said with the fix and is not a step taken, so the host
// never climbs to its own reboot (it rebooted the PVE host ~15 minutes
// into such an outage, with no SOS, logging "删除 SOS 成功"). Nor does it
// go on diagnosing a LAN fault on a view the router never gave: it used to
// ask again at every run, each saying "OpenWrt 自身网络正常" for the whole
// outage; now it says once that it cannot tell, and observes the SOS for
// the next hour (rescue.NoNetcheckHold, longer than this test's outage),
// as with the original scripts. Once netcheck is there, the next outage
// gets the LAN steps: its ask runs L2.
func TestLoopLANRouterWithoutNetcheck(t *testing.T) {
	l := lanLab(t, "x", nil, nil)
	// The host's hook records its events: no "assist" for a step that
	// could not be asked (one every run, for a step that never ran).
	hookLog := filepath.Join(l.root, "..", "host-events.log")
	hook := filepath.Join(l.root, "..", "host-hook")
	if err := os.WriteFile(hook, []byte("#!/bin/sh\necho \"$NETRESCUE_EVENT\" >> '"+hookLog+"'\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	host := []string{"ON_EVENT_CMD=" + hook}
	for _, line := range lines(readFile(t, l.hConf)) {
		if !strings.HasPrefix(line, "OP_NETCHECK=") {
			host = append(host, line)
		}
	}
	writeConf(t, l.hConf, append(host, "OP_NETCHECK="+filepath.Join(l.root, "no-netcheck"))...)
	l.healthy(t)
	blockInternet(t, l.router, "stuck", "", "forward")
	if acts := l.run(t, 20); len(acts) != 0 {
		t.Errorf("with no netcheck on the router: ran %v; want nothing on either side\n%s", acts, readFile(t, l.hLog))
	}
	hlog := readFile(t, l.hLog)
	if strings.Contains(hlog, "OpenWrt 侧的步骤都已尝试") || strings.Contains(hlog, "step=reboot") || strings.Contains(hlog, "终极动作") {
		t.Errorf("the host climbed past steps the router could not run:\n%s", hlog)
	}
	for _, c := range []struct {
		line string
		want int
	}{
		{"【LAN】局域网侧故障", 2}, // the two runs before the router's answer
		{"【LAN】-> [错误] OpenWrt 上无法运行 netcheck", 1},
		{"【LAN】OpenWrt 上没有安装 netcheck (仍在运行原版脚本？)，无法分辨局域网侧故障", 1},
		{"【LAN】OpenWrt 暂不执行此步骤", 0},
	} {
		if n := strings.Count(hlog, c.line); n != c.want {
			t.Errorf("%q said %d times in the outage; want %d:\n%s", c.line, n, c.want, hlog)
		}
	}
	if !strings.Contains(hlog, "exit status 127") || strings.Count(hlog, "【观察】未发现 SOS 信号。") < 5 {
		t.Errorf("want exit status 127 said, then the SOS observed at each run:\n%s", hlog)
	}
	if got := readFile(t, hookLog); strings.Contains(got, "assist") {
		t.Errorf("the host's hook heard %q; want no assist for a step that could not be asked", got)
	}
	// netcheck installed; the outage ends (forwarding back), another begins.
	writeConf(t, l.hConf, append(host, "OP_NETCHECK="+bin(t, "netcheck"))...)
	nft(t, l.router, "delete table inet stuck\n")
	if acts := l.run(t, 2); len(acts) != 0 {
		t.Errorf("the internet back: ran %v", acts)
	}
	blockInternet(t, l.router, "stuck", "", "forward")
	wantActs(t, l.run(t, 4), "L2")
	if got := readFile(t, hookLog); !strings.Contains(got, "assist") {
		t.Errorf("the host's hook heard %q; want the assist asked once netcheck is there", got)
	}
	l.wantHostLog(t, "not-runnable", "【恢复】互联网已恢复。", "【LAN】局域网侧故障", "【LAN】请求 OpenWrt 协助。 step=network", "【LAN】-> [成功] OpenWrt 已执行。")
}

// TestLoopLANRouterPaused: the owner pauses the router (`netcheck pause
// 2h`, SPEC §16: no action on either side) and its forwarding breaks
// while they work. The router refuses each step the host asks for
// (why=pause); a refused step is not a step taken, so the host asks again
// at its next run instead of climbing past it to its own reboot (it used
// to reboot the PVE host ~10 minutes in, logging that every router-side
// step had been tried). After `netcheck resume` the next ask runs L2.
func TestLoopLANRouterPaused(t *testing.T) {
	l := lanLab(t, "p", nil, nil)
	l.healthy(t)
	if r := inNS(t, l.router, nil, nil, bin(t, "netcheck"), "-config", l.rConf, "pause", "2h"); r.code != 0 {
		t.Fatalf("netcheck pause: exit %d: %s", r.code, r.stderr)
	}
	blockInternet(t, l.router, "stuck", "", "forward")
	if acts := l.run(t, 14); len(acts) != 0 {
		t.Errorf("with the router paused: ran %v; want nothing on either side\n%s", acts, readFile(t, l.hLog))
	}
	hlog := readFile(t, l.hLog)
	if strings.Contains(hlog, "OpenWrt 侧的步骤都已尝试") || strings.Contains(hlog, "step=reboot") {
		t.Errorf("the host climbed past steps the router refused:\n%s", hlog)
	}
	if n := strings.Count(hlog, "【LAN】OpenWrt 暂不执行此步骤，不算已尝试，下次运行再请求。 step=network why=pause"); n < 3 {
		t.Errorf("want the refused network step asked again at every run (≥ 3), got %d:\n%s", n, hlog)
	}
	if r := inNS(t, l.router, nil, nil, bin(t, "netcheck"), "-config", l.rConf, "resume"); r.code != 0 {
		t.Fatalf("netcheck resume: exit %d: %s", r.code, r.stderr)
	}
	wantActs(t, l.run(t, 2), "L2")
	l.wantHostLog(t, "why=pause", "【LAN】请求 OpenWrt 协助。 step=network", "【LAN】-> [成功] OpenWrt 已执行。")
}
