package installtest

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
)

// script is scripts/install.sh, found from this package's directory.
func script(t *testing.T) string {
	t.Helper()
	p, err := filepath.Abs(filepath.Join("..", "..", "scripts", "install.sh"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(p); err != nil {
		t.Fatalf("install.sh: %v", err)
	}
	return p
}

func requireRoot(t *testing.T) {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("skipping: needs root (network namespaces, chown root in --prefix trees)")
	}
}

func requireTools(t *testing.T, tools ...string) {
	t.Helper()
	for _, tool := range tools {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("skipping: %s is not installed (CI installs iproute2 dropbear-bin busybox-static openssh-client)", tool)
		}
	}
}

// shell is a POSIX shell the installer must run under.
type shell struct {
	name string
	argv []string
	// busyboxPath runs the script with only busybox applets on PATH, as on
	// OpenWrt (router side only: the host side needs ssh-keygen).
	busyboxPath bool
}

// shells returns busybox ash and dash, skipping when one is missing.
func shells(t *testing.T) []shell {
	t.Helper()
	requireTools(t, "busybox", "dash")
	bb, _ := exec.LookPath("busybox")
	dash, _ := exec.LookPath("dash")
	return []shell{
		{name: "busybox-ash", argv: []string{bb, "ash"}, busyboxPath: true},
		{name: "dash", argv: []string{dash}},
	}
}

var nsSeq atomic.Int32

// newNetns creates an empty network namespace named after the test's PID
// and removes it when the test ends, so that no address (192.168.10.1 or
// any other) is reachable from what runs inside.
func newNetns(t *testing.T) string {
	t.Helper()
	requireRoot(t)
	requireTools(t, "ip")
	name := fmt.Sprintf("nrin%d-%d", os.Getpid(), nsSeq.Add(1))
	if out, err := exec.Command("ip", "netns", "add", name).CombinedOutput(); err != nil {
		t.Fatalf("ip netns add %s: %v\n%s", name, err, out)
	}
	t.Cleanup(func() {
		if out, err := exec.Command("ip", "netns", "del", name).CombinedOutput(); err != nil {
			t.Errorf("ip netns del %s: %v\n%s", name, err, out)
		}
	})
	// The marker `make test` counts (with the PASS line) as an end-to-end run.
	t.Log("E2E-RAN " + t.Name())
	return name
}

// env is where one test's installs run.
type env struct {
	t      *testing.T
	ns     string
	sh     shell
	script string
	bin    string // the real binaries (realBins), read only
	tmp    string // TMPDIR of the script: must be empty again after each run
	home   string
	bbPath string
	extra  []string // more environment
	wrap   []string // runs the shell, inside the namespace (unshare -m …)
}

func newEnv(t *testing.T, sh shell) *env {
	t.Helper()
	root := t.TempDir()
	e := &env{t: t, ns: newNetns(t), sh: sh, script: script(t),
		tmp: filepath.Join(root, "tmp"), home: filepath.Join(root, "home")}
	for _, d := range []string{e.tmp, e.home} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	e.bin = realBins(t)
	if sh.busyboxPath {
		e.bbPath = filepath.Join(root, "bbpath")
		if err := os.MkdirAll(e.bbPath, 0o755); err != nil {
			t.Fatal(err)
		}
		if out, err := exec.Command(sh.argv[0], "--install", "-s", e.bbPath).CombinedOutput(); err != nil {
			t.Fatalf("busybox --install: %v\n%s", err, out)
		}
	}
	return e
}

// The real binaries, built once for the package: install.sh runs their
// `install`, so a test's --bin holds them.
var (
	buildOnce sync.Once
	builtDir  string
	buildErr  error
)

// realBins returns the directory holding the real netcheck, hostcheck and
// midnight-reset of this checkout (static, as make dist builds them).
func realBins(t *testing.T) string {
	t.Helper()
	buildOnce.Do(func() {
		if _, err := exec.LookPath("go"); err != nil {
			buildErr = err
			return
		}
		dir, err := os.MkdirTemp("", "installtest-bin.")
		if err != nil {
			buildErr = err
			return
		}
		builtDir = dir
		repo, _ := filepath.Abs(filepath.Join("..", ".."))
		cmd := exec.Command("go", "build", "-trimpath", "-o", dir+"/", "./cmd/netcheck", "./cmd/hostcheck", "./cmd/midnight-reset")
		cmd.Dir = repo
		cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
		if out, err := cmd.CombinedOutput(); err != nil {
			buildErr = fmt.Errorf("go build: %v\n%s", err, out)
		}
	})
	if buildErr != nil {
		t.Skipf("skipping: the binaries do not build here: %v", buildErr)
	}
	return builtDir
}

// binary is the bytes of the real binary name.
func binary(t *testing.T, name string) string {
	t.Helper()
	return read(t, filepath.Join(realBins(t), name))
}

// copyBins puts the real binaries into dir (a dist/linux-ARCH or an
// unpacked archive of a test).
func copyBins(t *testing.T, dir string) {
	t.Helper()
	for _, n := range []string{"netcheck", "hostcheck", "midnight-reset"} {
		write(t, filepath.Join(dir, n), binary(t, n), 0o755)
	}
}

func TestMain(m *testing.M) {
	code := m.Run()
	if builtDir != "" {
		_ = os.RemoveAll(builtDir)
	}
	os.Exit(code)
}

// result is what a person sees from one run of install.sh.
type result struct {
	out  string // stdout and stderr, interleaved
	code int
}

// run runs install.sh with args inside the test's namespace.
func (e *env) run(role string, args ...string) result {
	e.t.Helper()
	path := os.Getenv("PATH")
	if e.bbPath != "" && role == "router" {
		path = e.bbPath
	}
	argv := append(append([]string{"netns", "exec", e.ns}, e.wrap...), e.sh.argv...)
	argv = append(argv, e.script)
	argv = append(argv, args...)
	cmd := exec.Command("ip", argv...)
	cmd.Env = append([]string{"PATH=" + path, "HOME=" + e.home, "TMPDIR=" + e.tmp, "LC_ALL=C"}, e.extra...)
	cmd.Stdin = nil
	var buf bytes.Buffer
	cmd.Stdout, cmd.Stderr = &buf, &buf
	done := make(chan error, 1)
	if err := cmd.Start(); err != nil {
		e.t.Fatalf("start install.sh: %v", err)
	}
	go func() { done <- cmd.Wait() }()
	var err error
	select {
	case err = <-done:
	case <-time.After(60 * time.Second):
		_ = cmd.Process.Kill()
		<-done
		e.t.Fatalf("install.sh %q did not finish in 60s; output:\n%s", args, buf.String())
	}
	res := result{out: buf.String()}
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		res.code = ee.ExitCode()
	} else if err != nil {
		e.t.Fatalf("run install.sh: %v", err)
	}
	left, _ := os.ReadDir(e.tmp)
	for _, l := range left {
		e.t.Errorf("install.sh %q left %s behind in TMPDIR", args, l.Name())
	}
	return res
}

// mustRun runs install.sh and fails the test unless it exits 0.
func (e *env) mustRun(role string, args ...string) string {
	e.t.Helper()
	r := e.run(role, args...)
	if r.code != 0 {
		e.t.Fatalf("install.sh %q exited %d; want 0; output:\n%s", args, r.code, r.out)
	}
	return r.out
}

// snapshot is everything about a tree that a second run must not change:
// names, types, modes, owners, file bytes and mtimes, link targets.
type snapshot map[string]string

func snap(t *testing.T, root string) snapshot {
	t.Helper()
	s := snapshot{}
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, p)
		fi, err := os.Lstat(p)
		if err != nil {
			return err
		}
		st := fi.Sys().(*syscall.Stat_t)
		desc := fmt.Sprintf("%v uid=%d", fi.Mode(), st.Uid)
		switch {
		case fi.Mode()&fs.ModeSymlink != 0:
			target, _ := os.Readlink(p)
			desc += " -> " + target
		case fi.Mode().IsRegular():
			b, err := os.ReadFile(p)
			if err != nil {
				return err
			}
			desc += fmt.Sprintf(" mtime=%d %q", fi.ModTime().UnixNano(), b)
		}
		s[rel] = desc
		return nil
	})
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		t.Fatal(err)
	}
	return s
}

// diff describes how b differs from a, or "" when it does not.
func (a snapshot) diff(b snapshot) string {
	var keys []string
	seen := map[string]bool{}
	for k := range a {
		keys, seen[k] = append(keys, k), true
	}
	for k := range b {
		if !seen[k] {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	var out strings.Builder
	for _, k := range keys {
		if a[k] != b[k] {
			fmt.Fprintf(&out, "%s:\n  before: %s\n  after:  %s\n", k, a[k], b[k])
		}
	}
	return out.String()
}

func read(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func write(t *testing.T, path, content string, perm fs.FileMode) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(content), perm); err != nil {
		t.Fatal(err)
	}
}

func exists(path string) bool {
	_, err := os.Lstat(path)
	return err == nil
}

func mode(t *testing.T, path string) fs.FileMode {
	t.Helper()
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	return fi.Mode().Perm()
}

func wantContains(t *testing.T, what, got string, wants ...string) {
	t.Helper()
	for _, w := range wants {
		if !strings.Contains(got, w) {
			t.Errorf("%s does not contain %q; got:\n%s", what, w, got)
		}
	}
}

func wantNotContains(t *testing.T, what, got string, nots ...string) {
	t.Helper()
	for _, w := range nots {
		if strings.Contains(got, w) {
			t.Errorf("%s contains %q; want it absent; got:\n%s", what, w, got)
		}
	}
}

// wantLink checks that path is a symlink to target (as readlink prints it).
func wantLink(t *testing.T, path, target string) {
	t.Helper()
	got, err := os.Readlink(path)
	if err != nil {
		t.Errorf("%s: %v; want a symlink to %s", path, err, target)
		return
	}
	if got != target {
		t.Errorf("%s -> %s; want -> %s", path, got, target)
	}
}

func keys(m map[string]string) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
