package e2e

import (
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/sys/unix"
)

// TestRouterStatusVolatileState: on OpenWrt /tmp (and /var with it) is a
// tmpfs; a STATE_DIR there loses the reboot count and cooling at every
// reboot, and the router reboots at every L3 without end. `netcheck
// status` says so (✗, exit 1) on a router, that is where
// /etc/openwrt_release exists, and so does the first run of a boot
// (【严重错误】 beside its 【启动】). Played inside `unshare -m -n`: a tmpfs
// over /etc holding an openwrt_release, another as STATE_DIR, and no
// network at all (the status probe fails at once, nothing leaves).
func TestRouterStatusVolatileState(t *testing.T) {
	needRoot(t, "unshare", "mount")
	for _, tt := range []struct {
		name       string
		tmpfs, dry bool
	}{{"STATE_DIR on a tmpfs", true, false}, {"STATE_DIR on a tmpfs, dry run", true, true}, {"STATE_DIR on disk", false, false}} {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			var fs unix.Statfs_t
			if err := unix.Statfs(dir, &fs); !tt.tmpfs && (err != nil || uint32(fs.Type) == unix.TMPFS_MAGIC) {
				// /tmp is a tmpfs on many systems (Debian 13, Fedora, Arch).
				t.Skipf("SKIP: the temp dir %s is itself a tmpfs (or statfs failed: %v): no disk to compare with", dir, err)
			}
			state, conf := filepath.Join(dir, "state"), filepath.Join(dir, "netrescue.conf")
			writeConf(t, conf, "CHECK_TARGETS=203.0.113.1", "PROBE_TIMEOUT=300ms", "STATE_DIR="+state,
				"RUN_DIR="+filepath.Join(dir, "run"), "LOG_FILE="+filepath.Join(dir, "net.log"), "SYSLOG=0",
				"L1_CMD="+recorder(t, dir, "L1", filepath.Join(dir, "actions"), ""),
				"L2_CMD="+recorder(t, dir, "L2", filepath.Join(dir, "actions"), ""),
				"L3_CMD="+recorder(t, dir, "L3", filepath.Join(dir, "actions"), ""))
			script := `set -e
mount -t tmpfs nr-etc /etc
echo "DISTRIB_ID='OpenWrt'" > /etc/openwrt_release
mkdir -p "$1"
if [ "$2" = tmpfs ]; then mount -t tmpfs nr-state "$1"; fi
"$3" $5 -config "$4" || true
exec "$3" -config "$4" status`
			mode := map[bool]string{true: "tmpfs", false: "disk"}[tt.tmpfs]
			flag := map[bool]string{true: "-dry-run", false: "-v"}[tt.dry]
			out, err := exec.Command("unshare", "-m", "-n", "sh", "-c", script, "sh", state, mode, bin(t, "netcheck"), conf, flag).CombinedOutput()
			code := 0
			if ee, ok := err.(*exec.ExitError); ok {
				code = ee.ExitCode()
			} else if err != nil {
				t.Fatal(err)
			}
			got := strings.Contains(string(out), "✗ state kept across reboots") &&
				strings.Contains(string(out), "STATE_DIR "+state+" is on a tmpfs") &&
				strings.Contains(string(out), "set STATE_DIR to a directory on flash")
			if !strings.Contains(string(out), "config valid") {
				t.Fatalf("status did not run (exit %d):\n%s", code, out)
			}
			if got != tt.tmpfs || code != 1 {
				// Exit 1 both ways: no crond, no cron lines, the internet down.
				t.Errorf("exit %d, the tmpfs named: %v; want %v:\n%s", code, got, tt.tmpfs, out)
			}
			// The cron run before it, the first of this boot, logged it too.
			log := readFile(t, filepath.Join(dir, "net.log"))
			if logged := strings.Contains(log, "【严重错误】STATE_DIR 在 tmpfs 上") && strings.Contains(log, "state_dir="+state); logged != tt.tmpfs || !strings.Contains(log, "【启动】") {
				t.Errorf("the boot's run logged the tmpfs: %v; want %v:\n%s", logged, tt.tmpfs, log)
			}
			// A dry run's lines all begin with 【演练】 (SPEC §5 rule 5).
			if dry := strings.Contains(log, "【演练】【严重错误】STATE_DIR 在 tmpfs 上"); tt.tmpfs && dry != tt.dry {
				t.Errorf("the line under a dry run is marked 【演练】: %v; want %v:\n%s", dry, tt.dry, log)
			}
		})
	}
}
