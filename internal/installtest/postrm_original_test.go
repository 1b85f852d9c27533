package installtest

import (
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestPostrmPurgeKeepsOriginalsFiles: the package installed on a host
// where the original pve_host_monitor.sh is still set up (its postinst
// only warns; install.sh migrates), then purged. The daily mark and the
// log are the original's too, and it still runs: dpkg -P must not delete
// them (SPEC §10: the originals' state files and logs are kept). Deleting
// the mark let the original loop reboot the host a second time that day;
// the log is the one its users grep for 严重错误|回退. The package's own
// files (the pin, /var/lib/netrescue) still go.
func TestPostrmPurgeKeepsOriginalsFiles(t *testing.T) {
	requireTools(t, "chroot")
	r := debRoot(t)
	copyFile(t, filepath.Join("..", "..", "packaging", "deb", "postrm"), filepath.Join(r, "postrm"), 0o755)
	write(t, filepath.Join(r, "root/pve_host_monitor.sh"), "#!/bin/bash\n# the original loop\n", 0o755)
	for _, f := range []string{"root/pve_did_reboot_today", "var/log/pve_host_monitor.log", "etc/netrescue/known_hosts", "var/lib/netrescue/hostcheck.state"} {
		write(t, filepath.Join(r, f), "x\n", 0o600)
	}
	out, err := exec.Command("chroot", r, "/bin/sh", "/postrm", "purge").CombinedOutput()
	if err != nil {
		t.Fatalf("postrm purge: %v\n%s", err, out)
	}
	for _, f := range []string{"root/pve_did_reboot_today", "var/log/pve_host_monitor.log"} {
		if !exists(filepath.Join(r, f)) {
			t.Errorf("postrm purge with the original pve_host_monitor.sh still set up deleted its /%s", f)
		}
	}
	for _, f := range []string{"etc/netrescue/known_hosts", "var/lib/netrescue"} {
		if exists(filepath.Join(r, f)) {
			t.Errorf("postrm purge left the package's /%s", f)
		}
	}
	if !strings.Contains(string(out), "pve_host_monitor.sh") {
		t.Errorf("postrm purge said %q; want the kept files named, with why (the original is still set up)", out)
	}
}
