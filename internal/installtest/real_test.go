package installtest

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestWithRealBinaries installs both sides into --prefix trees in a
// sandbox (whatever the binaries wrote outside the tree would land in its
// overlays) and checks that under --prefix the installer only checks the
// config, offline: no probe of CHECK_TARGETS, no path outside the tree in
// what it prints (issue 9 item 4).
func TestWithRealBinaries(t *testing.T) {
	for _, l := range layouts {
		t.Run(string(l.role), func(t *testing.T) {
			s := newSandbox(t, shells(t)[1])
			s.path = os.Getenv("PATH")
			prefix := t.TempDir()
			write(t, l.cron(prefix), foreign, 0o600)
			out := s.mustRun("--role", string(l.role), "--prefix", prefix, "--bin", realBins(t))
			wantContains(t, "install output", out, "==> Checking the config: "+filepath.Join(prefix, "etc/netrescue.conf")+"\n",
				"config accepted by "+l.statusOf)
			wantNotContains(t, "install output", out, "internet", "reply from", "refuses", "flag provided but not defined")
			for _, line := range strings.Split(out, "\n") {
				if strings.Contains(line, "/root/") && !strings.Contains(line, prefix+"/root/") {
					t.Errorf("install output names a path outside the tree: %q", line)
				}
			}
			t.Logf("install output:\n%s", out)
		})
	}
}
