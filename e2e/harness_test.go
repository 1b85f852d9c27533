// Package e2e runs the real binaries on real parts (SPEC §11): network
// namespaces joined by veth, nftables to cut links, Dropbear as the
// router's SSH server, busybox, and recorder scripts in place of every
// disruptive command. It needs root and the tools; without them each test
// skips and says why.
package e2e

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/crypto/ssh"

	"github.com/pve-op/network-rescue/internal/sysinfo"
	"github.com/pve-op/network-rescue/internal/testlab"
)

// binDir holds the binaries built once for the whole package.
var (
	buildOnce sync.Once
	binDir    string
	buildErr  error
)

func TestMain(m *testing.M) {
	// A run killed by `go test -timeout` runs no Cleanup: what it left
	// (its PID gone) goes now; a live run's is never touched.
	if os.Geteuid() == 0 {
		if gone := testlab.SweepStale("/run/netns", os.TempDir()); len(gone) > 0 {
			fmt.Fprintf(os.Stderr, "e2e: removed what killed test runs left: %s\n", strings.Join(gone, ", "))
		}
	}
	code := m.Run()
	if binDir != "" {
		os.RemoveAll(binDir)
	}
	if fakeDir != "" {
		os.RemoveAll(fakeDir)
	}
	os.Exit(code)
}

// bin returns the path of a freshly built binary.
func bin(t *testing.T, name string) string {
	t.Helper()
	buildOnce.Do(func() {
		binDir, buildErr = os.MkdirTemp("", fmt.Sprintf("nre%d-bin-", os.Getpid()))
		if buildErr != nil {
			return
		}
		for _, b := range []string{"netcheck", "hostcheck", "midnight-reset"} {
			if _, err := os.Stat(filepath.Join("..", "cmd", b)); err != nil {
				continue
			}
			cmd := exec.Command("go", "build", "-o", filepath.Join(binDir, b), "./cmd/"+b)
			cmd.Dir = ".."
			cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
			if out, err := cmd.CombinedOutput(); err != nil {
				buildErr = fmt.Errorf("go build %s: %v\n%s", b, err, out)
				return
			}
		}
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return filepath.Join(binDir, name)
}

// needRoot skips the test, saying why, unless it runs as root with tools.
func needRoot(t *testing.T, tools ...string) {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("SKIP e2e: needs root for network namespaces (CI runs as root)")
	}
	for _, tool := range append([]string{"ip", "nft", "unshare", "mount"}, tools...) {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("SKIP e2e: %s not installed (apt-get install iproute2 nftables dropbear-bin busybox-static openssh-client)", tool)
		}
	}
	ranInNamespaces(t)
}

// ranInNamespaces logs the marker that `make test` counts (with the test's
// PASS line) as one end-to-end test that really ran in namespaces: a test
// that skipped never logs it.
func ranInNamespaces(t *testing.T) {
	t.Helper()
	t.Log("E2E-RAN " + t.Name())
}

// sh runs a command on the machine itself (setup only: ip, nft) and fails the test on error.
func sh(t *testing.T, name string, args ...string) string {
	t.Helper()
	out, err := exec.Command(name, args...).CombinedOutput()
	if err != nil {
		t.Fatalf("%s %s: %v\n%s", name, strings.Join(args, " "), err, out)
	}
	return string(out)
}

// tag makes a name unique to this process and test, short enough for veth.
func tag(t *testing.T, suffix string) string {
	t.Helper()
	return fmt.Sprintf("nre%d%s", os.Getpid(), suffix)
}

// netns creates a namespace, with lo up, removed when the test ends.
func netns(t *testing.T, name string) string {
	t.Helper()
	sh(t, "ip", "netns", "add", name)
	t.Cleanup(func() { exec.Command("ip", "netns", "del", name).Run() })
	sh(t, "ip", "-n", name, "link", "set", "lo", "up")
	return name
}

// link joins two namespaces with a veth pair and addresses (CIDR).
func link(t *testing.T, nsA, ifA, addrA, nsB, ifB, addrB string) {
	t.Helper()
	sh(t, "ip", "link", "add", ifA, "netns", nsA, "type", "veth", "peer", "name", ifB, "netns", nsB)
	sh(t, "ip", "-n", nsA, "addr", "add", addrA, "dev", ifA)
	sh(t, "ip", "-n", nsB, "addr", "add", addrB, "dev", ifB)
	sh(t, "ip", "-n", nsA, "link", "set", ifA, "up")
	sh(t, "ip", "-n", nsB, "link", "set", ifB, "up")
}

// nft runs an nft script inside a namespace.
func nft(t *testing.T, ns, script string) {
	t.Helper()
	cmd := exec.Command("ip", "netns", "exec", ns, "nft", "-f", "-")
	cmd.Stdin = strings.NewReader(script)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("nft in %s: %v\n%s\n%s", ns, err, script, out)
	}
}

// result is what a binary run left for a person to see.
type result struct {
	code    int
	stdout  string
	stderr  string
	elapsed time.Duration
}

// fakeBootID is the boot id every binary run by inNS sees unless a test
// mounts its own: no test may depend on the machine's boot id.
const fakeBootID = "e2e0e2e0-0000-4000-8000-00000000b007"

// The fake /proc files (fakeProc) are written once per package run.
var (
	fakeOnce sync.Once
	fakeDir  string
	fakeErr  error
)

// fakeProc returns the default bind mounts of inNS: a /proc/uptime of one
// day (past every SAFE_UPTIME and MIN_HOST_UPTIME, whenever the machine
// booted) and a fixed boot_id. A test that needs a fresh boot mounts its
// own file over the same path.
func fakeProc(t *testing.T) map[string]string {
	t.Helper()
	fakeOnce.Do(func() {
		fakeDir, fakeErr = os.MkdirTemp("", fmt.Sprintf("nre%d-proc-", os.Getpid()))
		if fakeErr != nil {
			return
		}
		for name, content := range map[string]string{"uptime": "86400.00 80000.00\n", "boot_id": fakeBootID + "\n", "nolog": "", "novzdump": ""} {
			if fakeErr = os.WriteFile(filepath.Join(fakeDir, name), []byte(content), 0o444); fakeErr != nil {
				return
			}
		}
	})
	if fakeErr != nil {
		t.Fatal(fakeErr)
	}
	m := map[string]string{
		"/proc/uptime":                    filepath.Join(fakeDir, "uptime"),
		"/proc/sys/kernel/random/boot_id": filepath.Join(fakeDir, "boot_id"),
	}
	// The machine's syslog is not the test's: a run that cannot read its
	// config tells syslog (SPEC §8), so /dev/log is covered by an empty
	// file, which no datagram can reach.
	if _, err := os.Stat("/dev/log"); err == nil {
		m["/dev/log"] = filepath.Join(fakeDir, "nolog")
	}
	// Nor is its backup: on a Proxmox host running the tests, a backup
	// holds vzdump's lock (SPEC §15), and every host test would defer.
	if _, err := os.Lstat(sysinfo.VzdumpLock); err == nil {
		m[sysinfo.VzdumpLock] = filepath.Join(fakeDir, "novzdump")
	}
	return m
}

// inNS runs argv inside namespace ns, always inside `unshare -m` with a
// fake /proc/uptime and boot_id bind-mounted (fakeProc), so that no run
// depends on when or which boot the machine is in. Extra mounts (src→dst
// bind mounts, e.g. a fresh-boot /proc/uptime) replace those defaults for
// their destination. The machine's own files are never touched.
//
// Each run also has a PID namespace of its own, with its /proc: hostcheck
// looks for a running backup among every process it sees (SPEC §15), and
// must see neither a real backup on the machine that runs the tests nor
// the fake one another test (or another `make test` beside this one)
// starts. A shell stays PID 1, so that the binary is signalled as it is
// anywhere else; a binary killed by a signal exits 128+N.
func inNS(t *testing.T, ns string, mounts map[string]string, env []string, argv ...string) result {
	t.Helper()
	r, _ := inNSBeside(t, ns, mounts, env, nil, argv...)
	return r
}

// inNSBeside is inNS with a process started first in the run's PID
// namespace (bg: its argv; a first word without a slash is looked up in
// PATH, so that a test can give the process the argv[0] it needs), and
// that process's PID as the run sees it. The process is running its own
// program before argv starts, and dies with the namespace when argv is
// done.
func inNSBeside(t *testing.T, ns string, mounts map[string]string, env, bg []string, argv ...string) (result, string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	byDst := fakeProc(t)
	for src, dst := range mounts {
		byDst[dst] = src
	}
	script := "set -e\n"
	var args []string
	for dst, src := range byDst {
		script += fmt.Sprintf("mount --bind \"$%d\" \"$%d\"\n", len(args)+1, len(args)+2)
		args = append(args, src, dst)
	}
	script += fmt.Sprintf("shift %d\n", len(args))
	pidFile := ""
	if len(bg) > 0 {
		pidFile = filepath.Join(t.TempDir(), "bg.pid")
		var words []string
		for i := range bg {
			words = append(words, fmt.Sprintf("\"${%d}\"", i+1))
		}
		// Wait for the exec: until then the child is still this shell.
		script += strings.Join(words, " ") + " &\n" +
			fmt.Sprintf("echo $! > \"${%d}\"\n", len(bg)+1) +
			"while [ \"$(readlink /proc/$!/exe)\" = \"$(readlink /proc/$$/exe)\" ]; do sleep 0.01; done\n" +
			fmt.Sprintf("shift %d\n", len(bg)+1)
		args = append(append(args, bg...), pidFile)
	}
	script += "\"$@\"\n"
	full := append([]string{"netns", "exec", ns, "unshare", "-m", "-p", "-f", "--mount-proc", "--propagation", "private", "sh", "-c", script, "sh"}, args...)
	full = append(full, argv...)
	cmd := exec.CommandContext(ctx, "ip", full...)
	cmd.Env = append(append(os.Environ(), "TZ=UTC0"), env...)
	var so, se bytes.Buffer
	cmd.Stdout, cmd.Stderr = &so, &se
	start := time.Now()
	err := cmd.Run()
	r := result{stdout: so.String(), stderr: se.String(), elapsed: time.Since(start)}
	if ee, ok := err.(*exec.ExitError); ok {
		r.code = ee.ExitCode()
	} else if err != nil {
		t.Fatalf("run %v: %v", argv, err)
	}
	pid := ""
	if pidFile != "" {
		b, err := os.ReadFile(pidFile)
		if err != nil {
			t.Fatalf("the process beside %v did not start: %v\n%s", argv, err, r.stderr)
		}
		pid = strings.TrimSpace(string(b))
	}
	return r, pid
}

// recorder writes an executable script that appends "NAME $*" to log and
// then runs extra shell (e.g. empty RUN_DIR as a reboot would). It stands
// in for every disruptive command in tests.
func recorder(t *testing.T, dir, name, log, extra string) string {
	t.Helper()
	p := filepath.Join(dir, name)
	body := fmt.Sprintf("#!/bin/sh\necho \"%s $*\" >> '%s'\n%s\n", name, log, extra)
	if err := os.WriteFile(p, []byte(body), 0o755); err != nil {
		t.Fatal(err)
	}
	return p
}

// writeConf writes a root-owned 0600 config file.
func writeConf(t *testing.T, path string, lines ...string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(strings.Join(lines, "\n")+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
}

func readFile(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil && !os.IsNotExist(err) {
		t.Fatal(err)
	}
	return string(b)
}

func exists(path string) bool {
	_, err := os.Stat(path)
	return err == nil
}

// lines returns the non-empty lines of s.
func lines(s string) []string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		if strings.TrimSpace(l) != "" {
			out = append(out, l)
		}
	}
	return out
}

// syncBuffer collects a server's output while the test reads it.
type syncBuffer = testlab.Buffer

// startDropbear serves the router's SSH in ns (testlab.StartDropbear); the
// caller stops it, e.g. in t.Cleanup of the test that owns the lab: a
// subtest that restarts it must not end it with the subtest.
func startDropbear(t *testing.T, ns, root, hostKey, addr string, log *syncBuffer) *testlab.Dropbear {
	t.Helper()
	d, err := testlab.StartDropbear(ns, root, hostKey, addr, log)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// killNamespace ends what the test left running in ns.
func killNamespace(ns string) { testlab.KillNamespace(ns) }

// clientKey writes a new key at path, authorized in root/.ssh (testlab.ClientKey).
func clientKey(t *testing.T, path, root string) ssh.PublicKey {
	t.Helper()
	pub, err := testlab.ClientKey(path, root)
	if err != nil {
		t.Fatal(err)
	}
	return pub
}
