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
				installSh, ran, env := checkoutWithFakeGo(t)
				cmd := exec.Command(sh[0], append(sh[1:], installSh, flag)...)
				cmd.Env = env
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

// TestValueLeftOut: `sh install.sh --prefix -h` printed the help, while
// the installer it hands over to reads -h as the directory; and
// `--prefix --uninstall` uninstalled. A flag whose value is the next
// argument takes it as a value, and one that starts with - is a value
// left out: exit 2 with the fix, nothing built, nothing run.
func TestValueLeftOut(t *testing.T) {
	sh := "/bin/sh"
	if p, err := exec.LookPath("busybox"); err == nil {
		sh = p
	}
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"--prefix", "-h"}, "error: --prefix needs a value, not -h"},
		{[]string{"-prefix", "--uninstall"}, "error: -prefix needs a value, not --uninstall"},
		{[]string{"--role", "host", "--router", "--dry-run"}, "error: --router needs a value, not --dry-run"},
		{[]string{"-n", "--identity"}, "error: --identity needs a value\n"},
		{[]string{"--bin"}, "error: --bin needs a value\n"},
	} {
		t.Run(strings.Join(c.args, " "), func(t *testing.T) {
			installSh, ran, env := checkoutWithFakeGo(t)
			argv := []string{installSh}
			if filepath.Base(sh) == "busybox" {
				argv = append([]string{"ash"}, argv...)
			}
			cmd := exec.Command(sh, append(argv, c.args...)...)
			cmd.Env = env
			out, err := cmd.CombinedOutput()
			code := -1
			if ee, ok := err.(*exec.ExitError); ok {
				code = ee.ExitCode()
			}
			if code != 2 || !strings.Contains(string(out), c.want) || strings.Contains(string(out), "usage:") {
				t.Errorf("install.sh %q: exit %d (%v)\n%s\nwant exit 2 and %q, no usage", c.args, code, err, out, c.want)
			}
			if b, err := os.ReadFile(ran); err == nil {
				t.Errorf("install.sh %q ran go %q; want nothing built", c.args, b)
			}
		})
	}
}

// checkoutWithFakeGo is a checkout without dist/ holding install.sh, and
// the environment of a machine whose go records being run into ran and
// fails: a test of install.sh sees whether it built anything.
func checkoutWithFakeGo(t *testing.T) (installSh, ran string, env []string) {
	t.Helper()
	dir := t.TempDir()
	repo := filepath.Join(dir, "checkout")
	write(t, filepath.Join(repo, "go.mod"), "module example.com/netrescue\n", 0o644)
	installSh = filepath.Join(repo, "scripts", "install.sh")
	write(t, installSh, read(t, script(t)), 0o755)
	ran = filepath.Join(dir, "go-ran")
	fake := filepath.Join(dir, "bin")
	write(t, filepath.Join(fake, "go"), "#!/bin/sh\necho \"$@\" >>"+ran+"\nexit 1\n", 0o755)
	return installSh, ran, []string{"PATH=" + fake + ":/usr/sbin:/usr/bin:/sbin:/bin", "HOME=" + dir, "TMPDIR=" + dir, "LC_ALL=C"}
}
