package installtest

import (
	"bytes"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

// TestArmBuildsUnderQemu runs the armv5 and armv7 builds of netcheck under
// qemu-user on an ARM926EJ-S (ARMv5, no VFPv3) and a Cortex-A7 (VFPv3):
// armv5 runs on both; armv7 dies on the ARM926, which is why install.sh
// picks armv7 only when /proc/cpuinfo lists vfpv3 (issue 9 item 23, SPEC
// §10). Only netcheck is built, with -trimpath, from the build cache.
func TestArmBuildsUnderQemu(t *testing.T) {
	qemu, err := exec.LookPath("qemu-arm-static")
	if err != nil {
		t.Skip("skipping: qemu-arm-static is not installed (apt-get install qemu-user-static; CI installs it)")
	}
	requireTools(t, "go")
	if testing.Short() {
		t.Skip("skipping: builds netcheck for two ARM variants")
	}
	repo, _ := filepath.Abs(filepath.Join("..", ".."))
	dir := t.TempDir()
	for _, goarm := range []string{"5", "7"} {
		cmd := exec.Command("go", "build", "-trimpath", "-o", filepath.Join(dir, "netcheck-armv"+goarm), "./cmd/netcheck")
		cmd.Dir = repo
		cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOOS=linux", "GOARCH=arm", "GOARM="+goarm)
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("go build GOARM=%s: %v\n%s", goarm, err, out)
		}
	}
	run := func(cpu, build string) (string, error) {
		var out bytes.Buffer
		cmd := exec.Command(qemu, "-cpu", cpu, filepath.Join(dir, "netcheck-"+build), "-version")
		cmd.Stdout, cmd.Stderr = &out, &out
		err := cmd.Run()
		return out.String(), err
	}
	for _, c := range []struct{ cpu, build string }{{"arm926", "armv5"}, {"cortex-a7", "armv5"}, {"cortex-a7", "armv7"}} {
		if out, err := run(c.cpu, c.build); err != nil || !strings.HasPrefix(out, "netcheck ") {
			t.Errorf("%s on %s: %v, output %q; want it to print its version", c.build, c.cpu, err, out)
		}
	}
	// Each build knows its own dist name (install.SelfArch, from the
	// arm.N build tags): the installer names it when --bin lacks binaries.
	empty := t.TempDir()
	for _, build := range []string{"armv5", "armv7"} {
		var out bytes.Buffer
		cmd := exec.Command(qemu, "-cpu", "cortex-a7", filepath.Join(dir, "netcheck-"+build),
			"install", "--role", "router", "--prefix", t.TempDir(), "--bin", empty)
		cmd.Stdout, cmd.Stderr = &out, &out
		if err := cmd.Run(); err == nil || !strings.Contains(out.String(), "--bin dist/linux-"+build+"\n") {
			t.Errorf("%s install with an empty --bin: %v, output %q; want it to ask for dist/linux-%s", build, err, out.String(), build)
		}
	}
	// The bug being guarded: the armv7 build cannot run without VFPv3. It
	// dies of SIGILL, or Go's runtime refuses it first (runtime.checkgoarm).
	out, err := run("arm926", "armv7")
	var ee *exec.ExitError
	if !errors.As(err, &ee) {
		t.Fatalf("armv7 on arm926: %v, output %q; want it to die", err, out)
	}
	ws, _ := ee.Sys().(syscall.WaitStatus)
	if !(ws.Signaled() && ws.Signal() == syscall.SIGILL) && !strings.Contains(out, "SIGILL") && !strings.Contains(out, "VFPv3") {
		t.Errorf("armv7 on arm926: %v, output %q; want SIGILL (or Go's no-VFPv3 refusal)", err, out)
	}
}
