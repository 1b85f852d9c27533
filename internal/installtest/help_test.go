package installtest

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestHelpBuildsNothing: `sh install.sh -h` in a checkout without dist/
// built every binary with Go before printing the installer's help. With
// no binaries to ask, it now prints its own short help, exit 0, and Go is
// never run. A fake go on PATH records being run.
func TestHelpBuildsNothing(t *testing.T) {
	var argvs [][]string
	if p, err := exec.LookPath("dash"); err == nil {
		argvs = append(argvs, []string{p})
	}
	if p, err := exec.LookPath("busybox"); err == nil {
		argvs = append(argvs, []string{p, "ash"})
	}
	if len(argvs) == 0 {
		argvs = append(argvs, []string{"/bin/sh"})
	}
	for _, sh := range argvs {
		for _, flag := range []string{"-h", "--help"} {
			t.Run(filepath.Base(sh[0])+" "+flag, func(t *testing.T) {
				dir := t.TempDir()
				repo := filepath.Join(dir, "checkout")
				write(t, filepath.Join(repo, "go.mod"), "module example.com/netrescue\n", 0o644)
				write(t, filepath.Join(repo, "scripts", "install.sh"), read(t, script(t)), 0o755)
				ran := filepath.Join(dir, "go-ran")
				fake := filepath.Join(dir, "bin")
				write(t, filepath.Join(fake, "go"), "#!/bin/sh\necho \"$@\" >>"+ran+"\nexit 1\n", 0o755)
				cmd := exec.Command(sh[0], append(sh[1:], filepath.Join(repo, "scripts", "install.sh"), flag)...)
				cmd.Env = []string{"PATH=" + fake + ":/usr/sbin:/usr/bin:/sbin:/bin", "HOME=" + dir, "TMPDIR=" + dir, "LC_ALL=C"}
				out, err := cmd.CombinedOutput()
				if err != nil || !strings.Contains(string(out), "usage: sh ") || !strings.Contains(string(out), "--router IP") {
					t.Errorf("install.sh %s: %v\n%s\nwant exit 0 and the usage", flag, err, out)
				}
				if b, err := os.ReadFile(ran); err == nil {
					t.Errorf("install.sh %s ran go %q; want no build for a help", flag, b)
				}
			})
		}
	}
}
