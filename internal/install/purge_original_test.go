package install_test

import (
	"bytes"
	"context"
	"path/filepath"
	"strings"
	"testing"

	"github.com/pve-op/network-rescue/crontab"
	"github.com/pve-op/network-rescue/internal/install"
)

// TestPurgeKeepsRunningOriginal: an install that kept the original scripts
// (our main line commented out: they still run, TestDisabledKeepsOriginal),
// then uninstall --purge. The state files and log the original shares
// with ours are its own, and it still runs: the purge must leave them
// (SPEC §10: the originals' state files and logs are kept; a purge removes
// what is ours). Deleting them reset the original router loop's reboot
// count and took its SOS, and took the host loop's daily mark, which let
// it reboot the host a second time that day.
func TestPurgeKeepsRunningOriginal(t *testing.T) {
	for _, tt := range []struct {
		role   crontab.Role
		script string
		cron   string
		theirs []string
	}{
		{crontab.Router, "etc/init.d/network_monitor", "etc/crontabs/root",
			[]string{"root/net_rb_count", "root/net_cooling_ts", "root/SOS_SYSTEM", "root/network_monitor.log"}},
		{crontab.Host, "root/pve_host_monitor.sh", "var/spool/cron/crontabs/root",
			[]string{"root/pve_did_reboot_today", "var/log/pve_host_monitor.log"}},
	} {
		t.Run(string(tt.role), func(t *testing.T) {
			bin := fakeBins(t)
			prefix := t.TempDir()
			writeTree(t, prefix, map[string]string{tt.script: "#!/bin/sh\n"}, 0o755)
			writeTree(t, prefix, map[string]string{tt.cron: "#" + crontab.Lines(tt.role)[0] + "\n"}, 0o600)
			run := func(o install.Options) string {
				t.Helper()
				var out bytes.Buffer
				o.Role, o.Prefix, o.Bin = tt.role, prefix, bin
				if err := install.Run(context.Background(), o, strictEnv(t, filepath.Join(bin, string(tt.role)), &out)); err != nil {
					t.Fatalf("Run(%+v) = %v; output:\n%s", o, err, out.String())
				}
				return out.String()
			}
			run(install.Options{})
			if !install.Exists(filepath.Join(prefix, tt.script)) {
				t.Fatalf("the install removed %s over our commented-out line", tt.script)
			}
			for _, f := range tt.theirs {
				writeTree(t, prefix, map[string]string{f: "1\n"}, 0o600)
			}
			out := run(install.Options{Uninstall: true, Purge: true})
			for _, f := range tt.theirs {
				if !install.Exists(filepath.Join(prefix, f)) {
					t.Errorf("--purge removed /%s while the original %s is still set up; output:\n%s", f, tt.script, out)
				}
			}
			if !install.Exists(filepath.Join(prefix, tt.script)) {
				t.Errorf("--purge removed the original %s", tt.script)
			}
			if install.Exists(filepath.Join(prefix, "etc/netrescue.conf")) {
				t.Errorf("--purge left /etc/netrescue.conf")
			}
			if !strings.Contains(out, "the original") {
				t.Errorf("--purge did not say why it kept the original's files; output:\n%s", out)
			}
		})
	}
}
