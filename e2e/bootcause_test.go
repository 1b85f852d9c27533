package e2e

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestRouterBootCause: the real netcheck, its boots made with a boot id
// and an uptime of their own (bind-mounted over /proc): the boot its L3
// brought logs 【启动】 with reboot=l3, and a power cut after it (RUN_DIR
// emptied, another boot id) reboot=other; before, both read alike (the
// count and the cooling the same).
func TestRouterBootCause(t *testing.T) {
	l := newRouterLab(t, "bc", "SAFE_UPTIME=0", "L1_THRESHOLD=0", "L2_THRESHOLD=0", "L3_THRESHOLD=1")
	boot := func(id string) map[string]string {
		dir := t.TempDir()
		for name, content := range map[string]string{"boot_id": id + "\n", "uptime": "120.00 100.00\n"} {
			if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o444); err != nil {
				t.Fatal(err)
			}
		}
		return map[string]string{filepath.Join(dir, "boot_id"): "/proc/sys/kernel/random/boot_id", filepath.Join(dir, "uptime"): "/proc/uptime"}
	}
	lastStart := func() string {
		last := ""
		for _, line := range lines(readFile(t, l.log)) {
			if strings.Contains(line, "【启动】") {
				last = line
			}
		}
		return last
	}
	if r := l.netcheck(t); r.code != 0 || !strings.Contains(lastStart(), "reboot=other") {
		t.Fatalf("first run: exit %d, 【启动】 %q; want reboot=other (%s)", r.code, lastStart(), r.stderr)
	}
	l.cut(t)
	if r := l.netcheck(t); r.code != 0 || len(l.actionLines(t)) != 1 || !strings.HasPrefix(l.actionLines(t)[0], "L3") {
		t.Fatalf("outage run: exit %d, actions %q; want the L3 (%s)", r.code, l.actionLines(t), r.stderr)
	}
	l.restore(t)
	// The L3's boot: RUN_DIR emptied by the recorder, a new boot id.
	r := inNS(t, l.ns, boot("b0000000-0000-4000-8000-00000000000b"), nil, bin(t, "netcheck"), "-config", l.conf)
	if r.code != 0 || !strings.Contains(lastStart(), "reboot=l3") {
		t.Errorf("the L3's boot: exit %d, 【启动】 %q; want reboot=l3 (%s)", r.code, lastStart(), r.stderr)
	}
	// A power cut: RUN_DIR (a tmpfs) gone, another boot id.
	if err := os.RemoveAll(l.run); err != nil {
		t.Fatal(err)
	}
	r = inNS(t, l.ns, boot("c0000000-0000-4000-8000-00000000000c"), nil, bin(t, "netcheck"), "-config", l.conf)
	if r.code != 0 || !strings.Contains(lastStart(), "reboot=other") {
		t.Errorf("the power cut's boot: exit %d, 【启动】 %q; want reboot=other (%s)", r.code, lastStart(), r.stderr)
	}
}
