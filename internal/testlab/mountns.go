package testlab

import (
	"os"
	"os/exec"
	"regexp"
	"strings"
	"testing"
)

// InMountNS runs the calling test (or subtest) again in a child process
// inside a mount namespace of its own (`unshare -m`, private propagation),
// after script has set up its mounts: script is POSIX sh, and $1 is a
// fresh temp dir of the test, which prepare (if not nil) fills first.
// In the child it returns that dir and true; the test then does its work
// there. In the parent it waits for the child, fails the test unless the
// child passed, and returns false. env is the variable that carries the
// dir to the child. It skips, saying why, unless root with unshare.
func InMountNS(t *testing.T, env, script string, prepare func(dir string)) (string, bool) {
	t.Helper()
	if dir := os.Getenv(env); dir != "" {
		return dir, true
	}
	if os.Geteuid() != 0 {
		t.Skip("skipping: needs root to mount a tmpfs inside unshare -m")
	}
	if _, err := exec.LookPath("unshare"); err != nil {
		t.Skip("skipping: unshare (util-linux) not installed")
	}
	dir := t.TempDir()
	if prepare != nil {
		prepare(dir)
	}
	parts := strings.Split(t.Name(), "/")
	for i, p := range parts {
		parts[i] = "^" + regexp.QuoteMeta(p) + "$"
	}
	cmd := exec.Command("unshare", "-m", "--propagation", "private", "sh", "-c", "set -e\n"+script+"\nshift\nexec \"$@\"", "sh", dir,
		os.Args[0], "-test.run="+strings.Join(parts, "/"), "-test.v")
	cmd.Env = append(os.Environ(), env+"="+dir)
	out, err := cmd.CombinedOutput()
	if err != nil || !strings.Contains(string(out), "--- PASS") {
		t.Fatalf("child in unshare -m failed: %v\n%s", err, out)
	}
	return "", false
}
