package installtest

import (
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/pve-op/network-rescue/crontab"
)

// TestHostcheckThatCannotRun: the amd64 and arm64 release archives hold a
// hostcheck built as PIE for glibc, which OpenWrt's musl cannot exec (the
// shell says "not found", status 127). On such a router install.sh must
// install the router side with the static netcheck beside it, and
// uninstall with it. A script whose interpreter does not exist fails
// exactly like an ELF whose dynamic loader does not.
func TestHostcheckThatCannotRun(t *testing.T) {
	for _, sh := range shells(t) {
		t.Run(sh.name, func(t *testing.T) {
			e := newEnv(t, sh)
			bin := t.TempDir()
			write(t, filepath.Join(bin, "netcheck"), binary(t, "netcheck"), 0o755)
			for _, n := range []string{"hostcheck", "midnight-reset"} {
				write(t, filepath.Join(bin, n), "#!/lib/ld-linux-nowhere.so.2\n", 0o755)
			}
			if out, err := exec.Command(filepath.Join(bin, "hostcheck"), "-version").CombinedOutput(); err == nil {
				t.Fatalf("the stand-in hostcheck ran here (%s); the test needs one that cannot", out)
			}
			prefix := t.TempDir()
			write(t, filepath.Join(prefix, "etc/openwrt_release"), "DISTRIB_ID='OpenWrt'\nDISTRIB_ARCH='x86_64'\n", 0o644)
			cron := filepath.Join(prefix, "etc/crontabs/root")
			write(t, cron, foreign, 0o600)

			out := e.mustRun("router", "--prefix", prefix, "--bin", bin)
			wantContains(t, "install output", out, "Role: router side", "config accepted by netcheck")
			if got := read(t, filepath.Join(prefix, "usr/bin/netcheck")); got != binary(t, "netcheck") {
				t.Errorf("usr/bin/netcheck is not the real netcheck (%d bytes)", len(got))
			}
			wantLink(t, filepath.Join(prefix, "usr/bin/midnight-reset"), "netcheck")
			if got, want := read(t, cron), foreign+strings.Join(crontab.Lines(crontab.Router), "\n")+"\n"; got != want {
				t.Errorf("crontab = %q; want %q", got, want)
			}

			out = e.mustRun("router", "--prefix", prefix, "--bin", bin, "--uninstall")
			wantContains(t, "uninstall output", out, "Done: the router side is uninstalled")
			if got := read(t, cron); got != foreign {
				t.Errorf("crontab after --uninstall = %q; want %q", got, foreign)
			}
			if exists(filepath.Join(prefix, "usr/bin/netcheck")) {
				t.Errorf("usr/bin/netcheck still there after --uninstall")
			}
		})
	}
}
