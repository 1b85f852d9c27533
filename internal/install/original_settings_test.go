package install_test

import (
	"bytes"
	"context"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/pve-op/network-rescue/crontab"
	"github.com/pve-op/network-rescue/internal/config"
	"github.com/pve-op/network-rescue/internal/install"
)

// TestOriginalSettingsCarried: the original scripts keep their settings
// in themselves (the seed README tells owners to lower
// L4_SOS_THRESHOLD from 15 to 8 or 10; the host script names the router,
// OP_IP). The migration deletes the scripts, and the new config had the
// defaults: an owner's threshold and router address were lost without a
// word, and the only copy of them with them. SPEC §3 keeps the original
// names as keys so that they carry over. A fresh config carries the
// settings of those names over (not the original's single DNS probe
// target, a known defect, SPEC §2); an existing config that leaves them
// at another value is kept, and the install names them.
func TestOriginalSettingsCarried(t *testing.T) {
	for _, tt := range []struct {
		role   crontab.Role
		script string
		body   string
		check  func(c config.Config) string
	}{
		{crontab.Router, "usr/bin/network_monitor_logic.sh",
			"#!/bin/sh\nCHECK_IP=\"www.baidu.com\"\nL4_SOS_THRESHOLD=8 # was 15\nSAFE_UPTIME=900\nwhile true; do\n\tretry_count=0\ndone\n",
			func(c config.Config) string {
				if c.L4SOSThreshold != 8 || c.SafeUptime != 900*time.Second || strings.Join(c.CheckTargets, ",") != "223.5.5.5,119.29.29.29,1.1.1.1,8.8.8.8" {
					return "L4_SOS_THRESHOLD, SAFE_UPTIME not carried over, or CHECK_IP was"
				}
				return ""
			}},
		{crontab.Host, "root/pve_host_monitor.sh",
			"#!/bin/bash\nOP_IP=\"192.168.1.1\"\nPVE_MARK=\"/root/pve_did_reboot_today\"\n",
			func(c config.Config) string {
				if c.OpIP != "192.168.1.1" {
					return "OP_IP not carried over"
				}
				return ""
			}},
	} {
		t.Run(string(tt.role), func(t *testing.T) {
			bin := fakeBins(t)
			prefix := t.TempDir()
			writeTree(t, prefix, map[string]string{tt.script: tt.body}, 0o755)
			var out bytes.Buffer
			if err := install.Run(context.Background(), install.Options{Role: tt.role, Prefix: prefix, Bin: bin},
				strictEnv(t, filepath.Join(bin, string(tt.role)), &out)); err != nil {
				t.Fatalf("Run = %v; output:\n%s", err, out.String())
			}
			if install.Exists(filepath.Join(prefix, tt.script)) {
				t.Fatalf("the original %s was not migrated", tt.script)
			}
			c, err := config.Load(filepath.Join(prefix, "etc/netrescue.conf"), config.Role(tt.role), config.Options{Euid: -1})
			if err != nil {
				t.Fatal(err)
			}
			if why := tt.check(c); why != "" {
				t.Errorf("%s; /etc/netrescue.conf:\n%s\noutput:\n%s", why, readFile(t, filepath.Join(prefix, "etc/netrescue.conf")), out.String())
			}

			// An existing config is kept as it is; the install names
			// the original's settings it leaves out.
			prefix = t.TempDir()
			writeTree(t, prefix, map[string]string{tt.script: tt.body}, 0o755)
			writeTree(t, prefix, map[string]string{"etc/netrescue.conf": "SYSLOG=1\n"}, 0o600)
			out.Reset()
			if err := install.Run(context.Background(), install.Options{Role: tt.role, Prefix: prefix, Bin: bin},
				strictEnv(t, filepath.Join(bin, string(tt.role)), &out)); err != nil {
				t.Fatalf("Run = %v; output:\n%s", err, out.String())
			}
			if got := readFile(t, filepath.Join(prefix, "etc/netrescue.conf")); got != "SYSLOG=1\n" {
				t.Errorf("the existing config was changed: %q", got)
			}
			want := map[crontab.Role]string{crontab.Router: "L4_SOS_THRESHOLD=8", crontab.Host: "OP_IP=\"192.168.1.1\""}[tt.role]
			if !strings.Contains(out.String(), "warning: the original") || !strings.Contains(out.String(), want) {
				t.Errorf("output does not name the original's %s left out of the existing config:\n%s", want, out.String())
			}
		})
	}
}
