package installtest

import (
	"os/exec"
	"strings"
	"testing"
)

// TestRouterLoopStopped: on OpenWrt the original network_monitor_logic.sh
// running as a loop of its own, not under its procd service (started from
// /etc/rc.local or by hand: there is no /etc/init.d/network_monitor to
// stop it). The migration removed the script and said "stopped and
// removed", and the loop ran on beside netcheck: two rescues acting on
// every outage, the original rebooting by its in-memory count. SPEC §10:
// it "stops and removes the old procd service / loop", as the host's
// migration stops pve_host_monitor.sh's (TestHostWithoutPrefix).
func TestRouterLoopStopped(t *testing.T) {
	sh := shells(t)[0] // busybox ash, with only busybox on PATH
	s := newSandbox(t, sh)
	bb, _ := exec.LookPath("busybox")
	s.path = s.up("fakebin")
	if out, err := exec.Command(bb, "--install", "-s", s.path).CombinedOutput(); err != nil {
		t.Fatalf("busybox --install: %v\n%s", err, out)
	}
	write(t, s.up("etc/upper/openwrt_release"), "DISTRIB_ID='OpenWrt'\nDISTRIB_ARCH='x86_64'\n", 0o644)
	write(t, s.up("etc/upper/init.d/cron"), s.recorder("cron"), 0o755)
	// The original loop, running: it leaves a mark when SIGTERM ends it.
	write(t, s.up("usrbin/upper/network_monitor_logic.sh"), "trap 'echo stopped > /root/loop.stopped; exit 0' TERM\nwhile :; do sleep 1 & wait; done\n", 0o755)
	s.loop = "/usr/bin/network_monitor_logic.sh"
	out := s.mustRun("--bin", s.up("bin"))
	wantContains(t, "output", out, "Migrating from the original network_monitor service", "stopped its loop (PID ")
	wantNotContains(t, "output", out, "BYSTANDER KILLED")
	if strings.Count(out, "stopped its loop (PID ") != 1 {
		t.Errorf("want one process stopped, the loop; output:\n%s", out)
	}
	if !exists(s.up("root/loop.stopped")) {
		t.Errorf("the original loop was not stopped: it runs on beside netcheck; output:\n%s", out)
	}
	if exists(s.up("usrbin/upper/network_monitor_logic.sh")) {
		t.Errorf("/usr/bin/network_monitor_logic.sh still there")
	}
}
