package installtest

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestWithRealBinaries installs the real netcheck, hostcheck and
// midnight-reset into --prefix trees and checks that they accept what the
// installer gives them: the default config and the status flags. A status
// exit of 1 (a ✗ such as "crond not running" in a test tree) is expected;
// 2 would mean the binary refused the config or the flags. The test skips
// while the commands do not build, since they are written elsewhere.
func TestWithRealBinaries(t *testing.T) {
	requireTools(t, "go")
	if testing.Short() {
		t.Skip("skipping: builds the real binaries")
	}
	repo, _ := filepath.Abs(filepath.Join("..", ".."))
	bin := t.TempDir()
	for _, c := range []string{"netcheck", "hostcheck", "midnight-reset"} {
		cmd := exec.Command("go", "build", "-o", filepath.Join(bin, c), "./cmd/"+c)
		cmd.Dir = repo
		cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Skipf("skipping: cmd/%s does not build yet: %v\n%s", c, err, out)
		}
	}
	for _, l := range layouts {
		t.Run(string(l.role), func(t *testing.T) {
			// The sandbox keeps whatever the real status may write (its
			// default paths are /root, /var/log, /var/lib) off the machine.
			s := newSandbox(t, shells(t)[1])
			s.path = os.Getenv("PATH")
			prefix := t.TempDir()
			write(t, l.cron(prefix), foreign, 0o600)
			out := s.mustRun("--role", string(l.role), "--prefix", prefix, "--bin", bin)
			// Under --prefix the real binary only checks the config
			// (plan): no probe of CHECK_TARGETS, no state read outside
			// the tree (issue 9 item 4).
			wantContains(t, "install output", out, "==> Checking the config: "+filepath.Join(prefix, l.bindir, l.statusOf)+" -config "+filepath.Join(prefix, "etc/netrescue.conf")+" plan",
				"config accepted by "+l.statusOf)
			wantNotContains(t, "install output", out, "internet", "reply from", "refused", "flag provided but not defined")
			for _, line := range strings.Split(out, "\n") {
				if strings.Contains(line, "/root/") && !strings.Contains(line, prefix+"/root/") {
					t.Errorf("install output names a path outside the tree: %q", line)
				}
			}
			t.Logf("install output:\n%s", out)
		})
	}
}
