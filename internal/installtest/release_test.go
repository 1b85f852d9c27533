package installtest

import (
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/pve-op/network-rescue/crontab"
)

// relVersion is the version the tests release.
const relVersion = "1.2.3"

// release is one `make release` of this machine's architecture (archive
// and .deb), run in a copy of the repository.
type release struct {
	dir  string // the copy's release/
	arch string // amd64 or arm64
}

func (r release) archive() string {
	return filepath.Join(r.dir, "netrescue-"+relVersion+"-linux-"+r.arch+".tar.gz")
}

func (r release) deb() string {
	return filepath.Join(r.dir, "netrescue_"+relVersion+"_"+r.arch+".deb")
}

// makeRelease copies the repository (without .git and build output) to a
// new directory and runs `make release` there for this machine's
// architecture only. umask and TZ differ between calls of the tests, so
// that equal bytes prove the packaging fixes modes and times itself.
func makeRelease(t *testing.T, umask, tz string) release {
	t.Helper()
	arch := runtime.GOARCH
	repo, _ := filepath.Abs(filepath.Join("..", ".."))
	copyDir := filepath.Join(t.TempDir(), "src-"+umask)
	copyRepo(t, repo, copyDir)
	tmp := t.TempDir()
	cmd := exec.Command("sh", "-c", `umask "$0" && exec make release "$@"`, umask,
		"VERSION="+relVersion, "RELEASE_ARCHS="+arch, "DEB_ARCHS="+arch,
		"SOURCE_DATE_EPOCH=1700000000", "DEB_MAINTAINER=Release Test <release-test@example.org>")
	cmd.Dir = copyDir
	cmd.Env = append(os.Environ(), "TZ="+tz, "TMPDIR="+tmp, "GOFLAGS=", "GOPROXY=off", "GOTOOLCHAIN=local")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("make release in %s: %v\n%s", copyDir, err, out)
	}
	if left, _ := os.ReadDir(tmp); len(left) > 0 {
		t.Errorf("make release left %d entries in TMPDIR", len(left))
	}
	return release{dir: filepath.Join(copyDir, "release"), arch: arch}
}

// copyRepo copies the regular files and directories of the working tree,
// leaving out .git and what builds write.
func copyRepo(t *testing.T, src, dst string) {
	t.Helper()
	skip := map[string]bool{".git": true, "bin": true, "dist": true, "release": true, ".test.log": true, ".notes": true}
	err := filepath.WalkDir(src, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, p)
		if skip[rel] {
			if d.IsDir() {
				return filepath.SkipDir
			}
			return nil
		}
		target := filepath.Join(dst, rel)
		if d.IsDir() {
			return os.MkdirAll(target, 0o755)
		}
		if !d.Type().IsRegular() {
			return nil
		}
		fi, err := d.Info()
		if err != nil {
			return err
		}
		in, err := os.Open(p)
		if err != nil {
			return err
		}
		defer in.Close()
		o, err := os.OpenFile(target, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, fi.Mode().Perm())
		if err != nil {
			return err
		}
		if _, err := io.Copy(o, in); err != nil {
			o.Close()
			return err
		}
		return o.Close()
	})
	if err != nil {
		t.Fatalf("copy %s to %s: %v", src, dst, err)
	}
}

func requireRelease(t *testing.T) {
	t.Helper()
	requireTools(t, "go", "make", "tar", "gzip", "sha256sum", "dpkg-deb")
	if testing.Short() {
		t.Skip("skipping: builds a release twice")
	}
	if runtime.GOARCH != "amd64" && runtime.GOARCH != "arm64" {
		t.Skipf("skipping: the release test builds this machine's architecture, and %s has no .deb", runtime.GOARCH)
	}
}

// TestRelease builds the release of this machine's architecture twice, from
// two copies of the repository at different paths, with different umasks,
// time zones and temp dirs, and checks what a user downloads (SPEC §10,
// issue 12 item 4): the same bytes both times; the archive's names, modes
// and binaries; SHA256SUMS; and an unpacked archive installing both sides
// with no Go and no git on PATH. `make release` of all six architectures
// is checked the same way by running it twice and comparing SHA256SUMS.
func TestRelease(t *testing.T) {
	requireRelease(t)
	a := makeRelease(t, "022", "UTC")
	b := makeRelease(t, "077", "Asia/Shanghai")

	t.Run("reproducible", func(t *testing.T) {
		files, err := os.ReadDir(a.dir)
		if err != nil {
			t.Fatal(err)
		}
		var names []string
		for _, f := range files {
			names = append(names, f.Name())
			x, y := read(t, filepath.Join(a.dir, f.Name())), read(t, filepath.Join(b.dir, f.Name()))
			if x != y {
				t.Errorf("release/%s differs between two builds of the same sources (%d and %d bytes)", f.Name(), len(x), len(y))
			}
		}
		want := []string{"SHA256SUMS", filepath.Base(a.archive()), filepath.Base(a.deb())}
		if strings.Join(names, " ") != strings.Join(want, " ") {
			t.Errorf("release/ holds %q; want %q", names, want)
		}
		if got, _ := os.ReadDir(b.dir); len(got) != len(files) {
			t.Errorf("the second build wrote %d files; the first %d", len(got), len(files))
		}
	})

	t.Run("SHA256SUMS", func(t *testing.T) {
		cmd := exec.Command("sha256sum", "-c", "SHA256SUMS")
		cmd.Dir = a.dir
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("sha256sum -c SHA256SUMS: %v\n%s", err, out)
		}
		wantContains(t, "sha256sum -c", string(out), filepath.Base(a.archive())+": OK", filepath.Base(a.deb())+": OK")
	})

	top := "netrescue-" + relVersion + "-linux-" + a.arch
	t.Run("archive", func(t *testing.T) {
		cmd := exec.Command("tar", "-tvzf", a.archive())
		cmd.Env = append(os.Environ(), "TZ=UTC")
		out, err := cmd.Output()
		if err != nil {
			t.Fatalf("tar -tvzf: %v", err)
		}
		var got []string
		for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
			f := strings.Fields(line)
			// mode owner size date time name
			got = append(got, f[0]+" "+f[1]+" "+f[3]+" "+f[4]+" "+f[5])
		}
		want := []string{
			"drwxr-xr-x 0/0 2023-11-14 22:13 " + top + "/",
			"-rw-r--r-- 0/0 2023-11-14 22:13 " + top + "/README.md",
			"-rw-r--r-- 0/0 2023-11-14 22:13 " + top + "/RELEASE",
			"-rwxr-xr-x 0/0 2023-11-14 22:13 " + top + "/hostcheck",
			"-rwxr-xr-x 0/0 2023-11-14 22:13 " + top + "/install.sh",
			"-rwxr-xr-x 0/0 2023-11-14 22:13 " + top + "/midnight-reset",
			"-rwxr-xr-x 0/0 2023-11-14 22:13 " + top + "/netcheck",
			"-rw-r--r-- 0/0 2023-11-14 22:13 " + top + "/netrescue.conf.example",
		}
		if strings.Join(got, "\n") != strings.Join(want, "\n") {
			t.Errorf("tar -tv (mode owner date name) =\n%s\nwant (sorted, 0/0, SOURCE_DATE_EPOCH 1700000000 in UTC):\n%s",
				strings.Join(got, "\n"), strings.Join(want, "\n"))
		}
	})

	unpacked := t.TempDir()
	if out, err := exec.Command("tar", "-xzf", a.archive(), "-C", unpacked).CombinedOutput(); err != nil {
		t.Fatalf("tar -xzf: %v\n%s", err, out)
	}
	dir := filepath.Join(unpacked, top)

	t.Run("versions", func(t *testing.T) {
		for _, b := range []string{"netcheck", "hostcheck", "midnight-reset"} {
			out, err := exec.Command(filepath.Join(dir, b), "-version").CombinedOutput()
			if err != nil || string(out) != b+" "+relVersion+"\n" {
				t.Errorf("%s -version = %q, %v; want %q", b, out, err, b+" "+relVersion+"\n")
			}
		}
		if got := read(t, filepath.Join(dir, "netrescue.conf.example")); !strings.Contains(got, "# OP_IP=192.168.10.1\n") || !strings.Contains(got, "# L3_THRESHOLD=10\n") {
			t.Errorf("netrescue.conf.example lacks the keys of both sides:\n%s", got)
		}
	})

	t.Run("deb", func(t *testing.T) { testDeb(t, a, dir) })
	t.Run("deb pairing", func(t *testing.T) { testDebPairing(t, a.deb()) })

	t.Run("installs without go and git", func(t *testing.T) {
		path := pathWithout(t, "go", "gofmt", "git")
		probe := exec.Command("/bin/sh", "-c", "command -v go || command -v git")
		probe.Env = []string{"PATH=" + path}
		if out, err := probe.CombinedOutput(); err == nil {
			t.Fatalf("go or git still on the stripped PATH: %s", out)
		}
		for _, sh := range shells(t) {
			for _, l := range layouts {
				t.Run(sh.name+"/"+string(l.role), func(t *testing.T) {
					e := newEnv(t, sh)
					e.script = filepath.Join(dir, "install.sh")
					if !(sh.busyboxPath && l.role == crontab.Router) {
						// (The router under busybox ash has busybox alone.)
						e.extra = append(e.extra, "PATH="+path)
					}
					prefix := t.TempDir()
					out := e.mustRun(string(l.role), "--role", string(l.role), "--prefix", prefix)
					wantContains(t, "install output", out, "from "+dir, "config accepted by "+l.statusOf)
					wantNotContains(t, "install output", out, "Building", "go build")
					for _, b := range l.bins {
						if read(t, filepath.Join(prefix, l.bindir, b)) != read(t, filepath.Join(dir, b)) {
							t.Errorf("%s is not the archive's %s", filepath.Join(l.bindir, b), b)
						}
					}
					for name, target := range l.links {
						wantLink(t, filepath.Join(prefix, l.bindir, name), target)
					}
					if miss := crontab.Check(read(t, l.cron(prefix)), l.role); miss != nil {
						t.Errorf("crontab lacks %q", miss)
					}
				})
			}
		}
	})
}

// TestReleaseArchiveOfAnotherArch: the install.sh of an archive made for
// another machine says which archive to download instead of installing
// (or building) anything. No build: a RELEASE file and stand-ins.
func TestReleaseArchiveOfAnotherArch(t *testing.T) {
	if runtime.GOARCH != "amd64" && runtime.GOARCH != "arm64" {
		t.Skipf("skipping: %s is not a machine install.sh maps", runtime.GOARCH)
	}
	dir := filepath.Join(t.TempDir(), "netrescue-"+relVersion+"-linux-mipsle")
	write(t, filepath.Join(dir, "netcheck"), "a mipsle netcheck\n", 0o755)
	write(t, filepath.Join(dir, "install.sh"), read(t, script(t)), 0o755)
	write(t, filepath.Join(dir, "RELEASE"), "version="+relVersion+"\narch=mipsle\n", 0o644)
	e := newEnv(t, shells(t)[0])
	e.script = filepath.Join(dir, "install.sh")
	prefix := filepath.Join(t.TempDir(), "p")
	r := e.run("router", "--role", "router", "--prefix", prefix)
	if r.code != 1 {
		t.Errorf("install.sh of a mipsle archive on %s exited %d; want 1; output:\n%s", runtime.GOARCH, r.code, r.out)
	}
	wantContains(t, "output", r.out, "is the release archive for linux-mipsle",
		"fix: download netrescue-"+relVersion+"-linux-"+runtime.GOARCH+".tar.gz and unpack it beside this one")
	if exists(prefix) {
		t.Errorf("install.sh of the wrong archive created %s", prefix)
	}
	// Unpacked beside it, the archive for this machine is used.
	mine := filepath.Join(filepath.Dir(dir), "netrescue-"+relVersion+"-linux-"+runtime.GOARCH)
	copyBins(t, mine)
	write(t, filepath.Join(mine, "RELEASE"), "version="+relVersion+"\narch="+runtime.GOARCH+"\n", 0o644)
	out := e.mustRun("router", "--role", "router", "--prefix", prefix)
	wantContains(t, "output", out, "from "+mine)
}

// pathWithout returns a PATH of one directory holding links to every
// command of this PATH except the named ones: the machine as a user without
// Go or git has it.
func pathWithout(t *testing.T, names ...string) string {
	t.Helper()
	drop := map[string]bool{}
	for _, n := range names {
		drop[n] = true
	}
	dir := filepath.Join(t.TempDir(), "path")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	for _, d := range filepath.SplitList(os.Getenv("PATH")) {
		entries, err := os.ReadDir(d)
		if err != nil {
			continue
		}
		for _, en := range entries {
			n := en.Name()
			if drop[n] || strings.HasPrefix(n, "git-") || strings.HasPrefix(n, "go1") {
				continue
			}
			p := filepath.Join(d, n)
			if fi, err := os.Stat(p); err != nil || fi.IsDir() || fi.Mode()&0o111 == 0 {
				continue
			}
			if exists(filepath.Join(dir, n)) {
				continue
			}
			if err := os.Symlink(p, filepath.Join(dir, n)); err != nil {
				t.Fatal(err)
			}
		}
	}
	return dir
}
