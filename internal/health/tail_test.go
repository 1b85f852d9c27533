package health

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

// TestLogTail: status shows the log's last lines, read from at most its
// last 64 KiB; a line that starts before that window is left out rather
// than shown cut, and a missing log is "none yet", not a ✗.
func TestLogTail(t *testing.T) {
	dir := t.TempDir()
	write := func(name, content string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	lastLines := func(p string, n int) string {
		t.Helper()
		for _, c := range Log(p, dir, nil, n) {
			if c.Name == "last log lines" {
				if !c.OK {
					t.Fatalf("Log(%s): ✗ %s", p, c.Detail)
				}
				return c.Detail
			}
		}
		t.Fatalf("Log(%s): no last log lines", p)
		return ""
	}
	var big strings.Builder
	for i := 1; big.Len() < 200<<10; i++ {
		fmt.Fprintf(&big, "2026-12-06 12:00:00 INFO 【检测】 line %06d\n", i)
	}
	bigLines := strings.Split(strings.TrimSuffix(big.String(), "\n"), "\n")
	// One line straddling the window's start: 64 KiB of it are read.
	long := "START" + strings.Repeat("y", 80<<10) + "\n"
	for _, tc := range []struct {
		name, content string
		n             int
		want          []string
	}{
		{"short", "a\nb\nc\n", 5, []string{"a", "b", "c"}},
		{"last five", "1\n2\n3\n4\n5\n6\n7\n", 5, []string{"3", "4", "5", "6", "7"}},
		{"no final newline", "1\n2\n3", 2, []string{"2", "3"}},
		{"empty", "", 5, []string{""}},
		{"bigger than the window", big.String(), 5, bigLines[len(bigLines)-5:]},
		{"a line across the window's start", long + "after 1\nafter 2\n", 5, []string{"after 1", "after 2"}},
		{"only one cut line", strings.Repeat("z", 100<<10), 5, []string{strings.Repeat("z", 64<<10)}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := write(strings.ReplaceAll(tc.name, " ", "_")+".log", tc.content)
			if got, want := lastLines(p, tc.n), "\n"+strings.Join(tc.want, "\n"); got != want {
				if len(got) > 300 {
					got = got[:300] + "…"
				}
				t.Errorf("last log lines = %q; want the lines %q", got, tc.want)
			}
		})
	}
	if got := lastLines(filepath.Join(dir, "missing.log"), 5); !strings.HasPrefix(got, "none yet") {
		t.Errorf("a missing log: %q; want none yet", got)
	}
}

// TestWritable: status's "state writable" and "log writable" write a file
// where the runs will. A read-only STATE_DIR (a bind mount remounted
// read-only, in a mount namespace of its own) is a ✗: the router's L3 and
// SOS, which are written before they happen, can neither happen, and it
// was not checked. A STATE_DIR that is a link to nothing is a ✗ (the runs'
// MkdirAll fails on it). A directory not made yet is made by the first
// run that writes: ✓, and nothing is written outside it (a fresh
// install's log directory was a ✗; a temp file went to "/").
func TestWritable(t *testing.T) {
	dir := t.TempDir()
	fresh := filepath.Join(dir, "logs", "netrescue", "host.log")
	checks := Log(fresh, filepath.Join(dir, "state"), nil, 5)
	for _, name := range []string{"state writable", "log writable"} {
		if c, ok := failed(checks, name); ok {
			t.Errorf("%s of directories not made yet: ✗ %s", name, c.Detail)
		}
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 0 {
		t.Errorf("status left %d entries in %s; want none", len(entries), dir)
	}
	dangling := filepath.Join(dir, "state-link")
	if err := os.Symlink(filepath.Join(dir, "gone"), dangling); err != nil {
		t.Fatal(err)
	}
	if _, ok := failed(Log(fresh, dangling, nil, 5), "state writable"); !ok {
		t.Errorf("a STATE_DIR that links to nothing: ✓; want ✗")
	}
	if err := os.Remove(dangling); err != nil {
		t.Fatal(err)
	}
	// One the runs cannot make is a ✗; it was ✓ as "made by the first run
	// that writes". /proc takes no directory of ours (mkdir: ENOENT).
	unmakeable := filepath.Join("/proc", "netrescue-status-test", "state")
	if _, ok := failed(Log(fresh, unmakeable, nil, 5), "state writable"); !ok {
		t.Errorf("a STATE_DIR that cannot be made (%s): ✓; want ✗", unmakeable)
	}
	// A LOG_FILE linked to a file not written yet is checked where the
	// runs write it (logx.Dir), not beside the link: linked into a
	// directory that cannot be made, ✗; into one that can, ✓, and what
	// status made there goes again.
	link := filepath.Join(dir, "net.log")
	for _, tc := range []struct {
		target string
		ok     bool
	}{{filepath.Join("/proc", "netrescue-status-test", "net.log"), false}, {filepath.Join(dir, "ram", "log", "net.log"), true}} {
		if err := os.Symlink(tc.target, link); err != nil {
			t.Fatal(err)
		}
		if _, bad := failed(Log(link, filepath.Join(dir, "state"), nil, 5), "log writable"); bad == tc.ok {
			t.Errorf("a log linked to %s: ✓ %v; want %v", tc.target, !bad, tc.ok)
		}
		if err := os.Remove(link); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := os.Stat(filepath.Join(dir, "ram")); err == nil {
		t.Errorf("status left %s behind", filepath.Join(dir, "ram"))
	}
	// A STATE_DIR written with ".." through a directory not made yet: the
	// directory it names, which is there, stays, and status leaves nothing
	// behind (it removed "keep" and left "new").
	keep := filepath.Join(dir, "keep")
	if err := os.Mkdir(keep, 0o755); err != nil {
		t.Fatal(err)
	}
	Log(fresh, dir+"/new/../keep", nil, 5) // not filepath.Join, which cleans it
	if _, err := os.Stat(keep); err != nil {
		t.Errorf("status removed %s, there before it ran: %v", keep, err)
	}
	if _, err := os.Stat(filepath.Join(dir, "new")); err == nil {
		t.Errorf("status left %s behind", filepath.Join(dir, "new"))
	}
	if os.Geteuid() != 0 {
		// Root's runs make what this user may not: not checked, not a ✗.
		if c, bad := failed(Log(fresh, "/root/netrescue-status-test/state", nil, 5), "state writable"); bad {
			t.Errorf("status as uid %d, a STATE_DIR under /root: ✗ %s; want it not checked", os.Geteuid(), c.Detail)
		}
		t.Skip("skipping the read-only STATE_DIR: needs root for the mount (CI runs as root)")
	}
	if _, err := exec.LookPath("unshare"); err != nil {
		t.Skip("skipping the read-only STATE_DIR: no unshare")
	}
	// The read-only half in a child inside `unshare -m`: the mount stays
	// in its namespace.
	if os.Getenv("NRS_HEALTH_RO") == "" {
		state := filepath.Join(dir, "state")
		if err := os.MkdirAll(state, 0o755); err != nil {
			t.Fatal(err)
		}
		cmd := exec.Command("unshare", "-m", "--propagation", "private", "sh", "-c",
			`mount --bind "$1" "$1" && mount -o remount,bind,ro "$1" && exec "$2" -test.run '^TestWritable$' -test.count=1`, "sh", state, os.Args[0])
		cmd.Env = append(os.Environ(), "NRS_HEALTH_RO="+state)
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("child in unshare -m: %v\n%s", err, out)
		}
		return
	}
	state := os.Getenv("NRS_HEALTH_RO")
	c, ok := failed(Log(filepath.Join(dir, "net.log"), state, nil, 5), "state writable")
	if !ok || !strings.Contains(c.Detail, "read-only file system") || c.Fix == "" {
		t.Errorf("a read-only STATE_DIR: %+v; want a ✗ saying so, with a fix", c)
	}
}

// TestLogImmutable: "log writable" opens the log as the runs do. An
// immutable log (chattr +i) takes no line, though its directory takes
// files: a ✗ that says so (it was ✓). An append-only one (chattr +a) takes
// every line: ✓. A log not there yet is not made by status.
func TestLogImmutable(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("skipping: chattr needs root (CI runs as root)")
	}
	dir := t.TempDir()
	log := filepath.Join(dir, "net.log")
	if err := os.WriteFile(log, []byte("a line\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = exec.Command("chattr", "-i", "-a", log).Run() })
	for _, tc := range []struct {
		flag string
		ok   bool
	}{{"+i", false}, {"+a", true}} {
		if out, err := exec.Command("chattr", tc.flag, log).CombinedOutput(); err != nil {
			t.Skipf("skipping: chattr %s %s: %v %s (a file system without the flag)", tc.flag, log, err, out)
		}
		c, bad := failed(Log(log, dir, nil, 5), "log writable")
		if out, err := exec.Command("chattr", "-i", "-a", log).CombinedOutput(); err != nil {
			t.Fatalf("chattr -i -a %s: %v %s", log, err, out)
		}
		if bad == tc.ok || (bad && !strings.Contains(c.Detail, "operation not permitted")) {
			t.Errorf("a log with chattr %s: %+v; want ✓ %v", tc.flag, c, tc.ok)
		}
	}
	missing := filepath.Join(dir, "later.log")
	if _, bad := failed(Log(missing, dir, nil, 5), "log writable"); bad {
		t.Errorf("a log not written yet: ✗; want ✓")
	}
	if _, err := os.Lstat(missing); err == nil {
		t.Errorf("status made %s", missing)
	}
}

// TestStateFilesFrozen: "state writable" names every state file the runs
// replace or remove that is immutable or append-only (chattr +i, +a): a
// rename over either fails, though the directory takes files. Files not
// there, a FIFO in a file's place (not opened for long: the runs report
// damaged files themselves) and files not listed leave it ✓.
func TestStateFilesFrozen(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("skipping: chattr needs root (CI runs as root)")
	}
	dir := t.TempDir()
	state := filepath.Join(dir, "state")
	if err := os.MkdirAll(state, 0o755); err != nil {
		t.Fatal(err)
	}
	p := func(n string) string { return filepath.Join(state, n) }
	mark := filepath.Join(dir, "mark") // outside STATE_DIR, as the host's PVE_MARK
	for _, f := range []string{p("count"), p("sos"), p("other"), mark} {
		if err := os.WriteFile(f, []byte("1\n"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if err := syscall.Mkfifo(p("fifo"), 0o600); err != nil {
		t.Fatal(err)
	}
	files := []string{p("count"), p("sos"), p("absent"), p("fifo"), mark}
	chattr := func(flags ...string) {
		t.Helper()
		if out, err := exec.Command("chattr", flags...).CombinedOutput(); err != nil {
			t.Skipf("skipping: chattr %q: %v %s (a file system without the flag)", flags, err, out)
		}
	}
	t.Cleanup(func() { _ = exec.Command("chattr", "-i", "-a", p("sos"), p("other"), mark).Run() })
	log := filepath.Join(dir, "net.log")
	if _, bad := failed(Log(log, state, files, 5), "state writable"); bad {
		t.Errorf("no flags: ✗; want ✓")
	}
	chattr("+i", p("sos"))
	chattr("+a", mark)
	chattr("+i", p("other")) // not ours
	c, bad := failed(Log(log, state, files, 5), "state writable")
	want := p("sos") + ", " + mark + " are immutable or append-only (chattr +i or +a): the runs cannot replace or remove them"
	if !bad || c.Detail != want || c.Fix != "chattr -i -a "+p("sos")+" "+mark {
		t.Errorf("SOS immutable, the mark append-only: %+v; want ✗ %q, fix chattr -i -a both", c, want)
	}
	chattr("-i", p("sos"))
	chattr("-a", mark)
	if c, bad := failed(Log(log, state, files, 5), "state writable"); bad {
		t.Errorf("flags gone (a file not ours still immutable): %+v; want ✓", c)
	}
}

// TestDirAppendOnly: STATE_DIR made append-only (chattr +a on the
// directory) takes a new file, yet refuses every rename and removal in it:
// each state write (a temp file renamed over the old) fails, and so does
// the log's rotation where LOG_FILE is in it (the router's defaults, both
// /root). "state writable" and "log writable" are ✗, and status's own
// probe file, which it cannot remove there, is not left behind in the
// owner's directory: each status left a .netrescue-status-* file in /root.
func TestDirAppendOnly(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("skipping: chattr needs root (CI runs as root)")
	}
	for _, check := range []string{"state writable", "log writable"} {
		dir := t.TempDir()
		state := filepath.Join(dir, "state")
		if err := os.MkdirAll(state, 0o755); err != nil {
			t.Fatal(err)
		}
		log := filepath.Join(dir, "net.log")
		if check == "log writable" {
			log = filepath.Join(state, "network_monitor.log")
		}
		t.Cleanup(func() { _ = exec.Command("chattr", "-a", state).Run() })
		if out, err := exec.Command("chattr", "+a", state).CombinedOutput(); err != nil {
			t.Skipf("skipping: chattr +a %s: %v %s (a file system without the flag)", state, err, out)
		}
		if c, bad := failed(Log(log, state, nil, 5), check); !bad || c.Fix == "" {
			t.Errorf("%s, the directory append-only (every rename in it refused): %+v; want ✗ with a fix", check, c)
		}
		if out, err := exec.Command("chattr", "-a", state).CombinedOutput(); err != nil {
			t.Fatalf("chattr -a %s: %v %s", state, err, out)
		}
		if left, _ := os.ReadDir(state); len(left) > 0 {
			t.Errorf("%s: status left %s in the append-only directory", check, left[0].Name())
		}
	}
}
