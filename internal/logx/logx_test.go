package logx

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/pve-op/network-rescue/internal/testlab"
	"github.com/pve-op/network-rescue/internal/tz"
)

// alarm is a real message of the router side, logged verbatim.
const alarm = "【报警】网络断开 (第 3 次失败)。"

// tempDir is a scratch directory named after this helper's prefix and PID,
// removed when the test ends.
func tempDir(t *testing.T) string {
	t.Helper()
	dir, err := os.MkdirTemp("", fmt.Sprintf("nrlog%d-", os.Getpid()))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	return dir
}

func cst(t *testing.T) *time.Location {
	t.Helper()
	loc, err := tz.FromPOSIX("CST-8")
	if err != nil {
		t.Fatal(err)
	}
	return loc
}

func readFile(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// syncBuffer is a terminal that tests can read while handlers write.
type syncBuffer = testlab.Buffer

func TestFileLine(t *testing.T) {
	path := filepath.Join(tempDir(t), "network_monitor.log")
	log, closeLog := New(Options{File: path, MaxBytes: 1 << 20, Loc: cst(t)})
	log.Info(alarm, "streak", 3)
	if err := closeLog(); err != nil {
		t.Fatalf("close: %v", err)
	}

	got := readFile(t, path)
	want := regexp.MustCompile(`^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d INF 【报警】网络断开 \(第 3 次失败\)。 streak=3$`)
	lines := strings.Split(strings.TrimSuffix(got, "\n"), "\n")
	if len(lines) != 1 || !want.MatchString(lines[0]) || !strings.HasSuffix(got, "\n") {
		t.Errorf("log file = %q; want one line matching %s", got, want)
	}
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o644 {
		t.Errorf("log file mode = %v; want 0644", fi.Mode().Perm())
	}
}

// TestLocalTime hands records of known time to the logger's handler and
// checks the wall clock written to the file and the terminal.
func TestLocalTime(t *testing.T) {
	summer, err := tz.FromPOSIX("CST6CDT,M3.2.0,M11.1.0")
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		loc  *time.Location
		at   time.Time
		want string
	}{
		{"china midnight", cst(t), time.Date(2024, 1, 15, 16, 0, 0, 0, time.UTC), "2024-01-16 00:00:00 INF " + alarm + " streak=3\n"},
		{"utc", time.UTC, time.Date(2024, 1, 15, 16, 0, 0, 0, time.UTC), "2024-01-15 16:00:00 INF " + alarm + " streak=3\n"},
		{"us daylight saving", summer, time.Date(2024, 7, 1, 12, 0, 5, 0, time.UTC), "2024-07-01 07:00:05 INF " + alarm + " streak=3\n"},
		{"source zone ignored", cst(t), time.Date(2024, 1, 15, 10, 0, 0, 0, time.FixedZone("X", -6*3600)), "2024-01-16 00:00:00 INF " + alarm + " streak=3\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(tempDir(t), "net.log")
			var term syncBuffer
			log, closeLog := New(Options{File: path, Terminal: &term, Loc: tt.loc})
			r := slog.NewRecord(tt.at, slog.LevelInfo, alarm, 0)
			r.AddAttrs(slog.Int("streak", 3))
			if err := log.Handler().Handle(context.Background(), r); err != nil {
				t.Fatalf("Handle: %v", err)
			}
			closeLog()
			if got := readFile(t, path); got != tt.want {
				t.Errorf("file at %v = %q; want %q", tt.at, got, tt.want)
			}
			if got := term.String(); got != tt.want {
				t.Errorf("terminal at %v = %q; want %q", tt.at, got, tt.want)
			}
		})
	}
}

func TestLazyFile(t *testing.T) {
	tests := []struct {
		name string
		log  func(*slog.Logger)
	}{
		{"nothing logged", func(*slog.Logger) {}},
		{"below level", func(l *slog.Logger) { l.Debug("探测成功", "rtt_ms", 12) }},
		{"attrs but no record", func(l *slog.Logger) { l.With("host", "pve").WithGroup("ssh") }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := filepath.Join(tempDir(t), "var", "log")
			path := filepath.Join(dir, "pve_host_monitor.log")
			log, closeLog := New(Options{File: path, MaxBytes: 1, Level: slog.LevelInfo, Loc: time.UTC})
			tt.log(log)
			if err := closeLog(); err != nil {
				t.Fatalf("close: %v", err)
			}
			if _, err := os.Stat(dir); !errors.Is(err, fs.ErrNotExist) {
				t.Errorf("after a run that logged nothing, stat %s: %v; want not exist", dir, err)
			}
		})
	}
}

func TestLazyFileLeavesExistingAlone(t *testing.T) {
	path := filepath.Join(tempDir(t), "net.log")
	old := time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC)
	if err := os.WriteFile(path, []byte("old line\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Chtimes(path, old, old); err != nil {
		t.Fatal(err)
	}
	// MaxBytes 1: a run that wrote would rotate it.
	_, closeLog := New(Options{File: path, MaxBytes: 1, Loc: time.UTC})
	closeLog()
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if !fi.ModTime().Equal(old) || fi.Mode().Perm() != 0o600 || readFile(t, path) != "old line\n" {
		t.Errorf("healthy run touched the log: mtime %v mode %v", fi.ModTime(), fi.Mode())
	}
	if _, err := os.Stat(path + ".1"); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("healthy run rotated the log: stat .1: %v", err)
	}
}

func TestRotation(t *testing.T) {
	const line = "2024-01-16 00:00:00 INF " + alarm + " streak=3\n"
	big := strings.Repeat("x", 99) + "\n" // 100 bytes
	tests := []struct {
		name     string
		maxBytes int64
		file     string // content before the run; "" = no file
		older    string // content of an older .1; "" = none
		records  int
		want     string
		want1    string // "" = no .1 expected
	}{
		{"no file yet", 100, "", "", 1, line, ""},
		{"below cap appends", 101, big, "", 1, big + line, ""},
		{"at cap rotates", 100, big, "", 1, line, big},
		{"above cap rotates", 10, big, "", 1, line, big},
		{"older .1 replaced", 100, big, "very old\n", 1, line, big},
		{"older .1 kept below cap", 1000, big, "very old\n", 1, big + line, "very old\n"},
		{"once per run", 10, big, "", 3, line + line + line, big},
		{"no cap", 0, big, "", 1, big + line, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(tempDir(t), "net.log")
			if tt.file != "" {
				if err := os.WriteFile(path, []byte(tt.file), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			if tt.older != "" {
				if err := os.WriteFile(path+".1", []byte(tt.older), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			var term syncBuffer
			log, closeLog := New(Options{File: path, MaxBytes: tt.maxBytes, Loc: cst(t)})
			at := time.Date(2024, 1, 15, 16, 0, 0, 0, time.UTC)
			for range tt.records {
				r := slog.NewRecord(at, slog.LevelInfo, alarm, 0)
				r.AddAttrs(slog.Int("streak", 3))
				log.Handler().Handle(context.Background(), r)
			}
			closeLog()
			if got := readFile(t, path); got != tt.want {
				t.Errorf("log file = %q; want %q", got, tt.want)
			}
			got1, err := os.ReadFile(path + ".1")
			switch {
			case tt.want1 == "" && !errors.Is(err, fs.ErrNotExist):
				t.Errorf("%s.1 = %q, %v; want no file", path, got1, err)
			case tt.want1 != "" && string(got1) != tt.want1:
				t.Errorf("%s.1 = %q, %v; want %q", path, got1, err, tt.want1)
			}
			if term.String() != "" {
				t.Errorf("terminal = %q; want nothing", term.String())
			}
		})
	}
}

// TestRotationSymlink: a LOG_FILE that is a symlink (an OpenWrt owner's
// /root/network_monitor.log linked to a file in /tmp, to spare the flash)
// is rotated at its target: the link itself was renamed to .1 and a new
// log file started on flash, every line from then on written there. The
// link stays, the old lines go to TARGET.1 beside the target, and report
// reads both (Rotated).
func TestRotationSymlink(t *testing.T) {
	dir := tempDir(t)
	ram, link := filepath.Join(dir, "ram", "net.log"), filepath.Join(dir, "net.log")
	if err := os.MkdirAll(filepath.Dir(ram), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(ram, []byte(strings.Repeat("y", 200)+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(ram, link); err != nil {
		t.Fatal(err)
	}
	log, closeLog := New(Options{File: link, MaxBytes: 100, Loc: time.UTC})
	log.Warn("【L1-动作】重启 WAN 接口")
	closeLog()
	if fi, err := os.Lstat(link); err != nil || fi.Mode()&os.ModeSymlink == 0 {
		t.Errorf("LOG_FILE after rotation: %v, %v; want the symlink kept", fi, err)
	}
	if b, err := os.ReadFile(ram); err != nil || !strings.Contains(string(b), "【L1-动作】") || strings.Contains(string(b), "yyy") {
		t.Errorf("the link's target after rotation: %q, %v; want the new line alone", b, err)
	}
	if b, err := os.ReadFile(ram + ".1"); err != nil || !strings.HasPrefix(string(b), "yyy") {
		t.Errorf("%s.1: %q, %v; want the old lines", ram, b, err)
	}
	if got := Rotated(link); got != ram+".1" {
		t.Errorf("Rotated(%s) = %s; want %s.1", link, got, ram)
	}
	if got := Rotated(filepath.Join(dir, "missing.log")); got != filepath.Join(dir, "missing.log.1") {
		t.Errorf("Rotated of a missing file = %s; want it .1", got)
	}
	// The link's target directory gone (a RAM directory after a reboot):
	// made again, not every line of the run lost.
	if err := os.RemoveAll(filepath.Dir(ram)); err != nil {
		t.Fatal(err)
	}
	log, closeLog = New(Options{File: link, MaxBytes: 100, Loc: time.UTC})
	log.Warn("【报警】网络断开 (第 1 次失败)。")
	closeLog()
	if b, err := os.ReadFile(ram); err != nil || !strings.Contains(string(b), "【报警】") {
		t.Errorf("a link whose target directory was gone: %q, %v; want the line in the target, its directory made", b, err)
	}
	// A link to a link, and a relative link reached through a linked
	// directory: the directory made is the one the kernel writes in.
	for _, tc := range []struct {
		name  string
		setup func(base string) (logFile, target string)
	}{
		{"a link to a link", func(base string) (string, string) {
			target := filepath.Join(base, "ram", "sub", "net.log")
			mustSymlink(t, target, filepath.Join(base, "current.log"))
			mustSymlink(t, "current.log", filepath.Join(base, "net.log"))
			return filepath.Join(base, "net.log"), target
		}},
		{"a file in a linked directory whose target is gone", func(base string) (string, string) {
			// /root/log linked to a RAM directory, after a reboot.
			mustSymlink(t, filepath.Join(base, "ram", "log"), filepath.Join(base, "log"))
			return filepath.Join(base, "log", "net.log"), filepath.Join(base, "ram", "log", "net.log")
		}},
		{"a relative link through a linked directory", func(base string) (string, string) {
			if err := os.MkdirAll(filepath.Join(base, "flash", "etc"), 0o755); err != nil {
				t.Fatal(err)
			}
			mustSymlink(t, filepath.Join(base, "flash", "etc"), filepath.Join(base, "alias"))
			mustSymlink(t, "../ram/net.log", filepath.Join(base, "flash", "etc", "net.log"))
			return filepath.Join(base, "alias", "net.log"), filepath.Join(base, "flash", "ram", "net.log")
		}},
	} {
		base := filepath.Join(dir, strings.ReplaceAll(tc.name, " ", "-"))
		if err := os.MkdirAll(base, 0o755); err != nil {
			t.Fatal(err)
		}
		logFile, target := tc.setup(base)
		log, closeLog := New(Options{File: logFile, Loc: time.UTC})
		log.Warn("【报警】网络断开 (第 1 次失败)。")
		closeLog()
		if b, err := os.ReadFile(target); err != nil || !strings.Contains(string(b), "【报警】") {
			t.Errorf("%s: %q, %v; want the line in %s, its directory made", tc.name, b, err, target)
		}
	}
}

func mustSymlink(t *testing.T, old, new string) {
	t.Helper()
	if err := os.Symlink(old, new); err != nil {
		t.Fatal(err)
	}
}

// TestRotationLockedByAnother: a run that finds the log locked by another
// run's rotation leaves it to that run and appends (the line lands in the
// file being rotated, not lost); it used to rename it too.
func TestRotationLockedByAnother(t *testing.T) {
	path := filepath.Join(tempDir(t), "net.log")
	big := strings.Repeat("y", 199) + "\n"
	if err := os.WriteFile(path, []byte(big), 0o644); err != nil {
		t.Fatal(err)
	}
	other, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	if err := syscall.Flock(int(other.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		t.Fatal(err)
	}
	log, closeLog := New(Options{File: path, MaxBytes: 100, Loc: time.UTC})
	log.Warn("【L1-动作】重启 WAN 接口")
	closeLog()
	if _, err := os.Stat(path + ".1"); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("rotated a log another run holds locked: stat .1: %v", err)
	}
	if got := readFile(t, path); !strings.HasPrefix(got, big) || !strings.Contains(got[len(big):], "【L1-动作】重启 WAN 接口") {
		t.Errorf("log = %q; want the old lines and the new one", got)
	}
}

// TestRotationConcurrent: runs that log at the same moment to a full log
// rotate it once between them. Each run here is a logger of its own (its
// own open file, as another process has); a second rotation renamed the
// first one's new file over FILE.1, and the older lines were gone.
func TestRotationConcurrent(t *testing.T) {
	const runs, rounds = 8, 200
	dir := tempDir(t)
	// The cap far above what the runs add: one rotation is right, a
	// second never is.
	big := strings.Repeat("o", 1999) + "\n"
	for round := range rounds {
		path := filepath.Join(dir, fmt.Sprintf("net%d.log", round))
		if err := os.WriteFile(path, []byte(big), 0o644); err != nil {
			t.Fatal(err)
		}
		var start, done sync.WaitGroup
		start.Add(1)
		for i := range runs {
			done.Add(1)
			go func() {
				defer done.Done()
				log, closeLog := New(Options{File: path, MaxBytes: 1000, Loc: time.UTC})
				start.Wait()
				log.Warn(fmt.Sprintf("run %d", i))
				closeLog()
			}()
		}
		start.Done()
		done.Wait()
		cur, older := readFile(t, path), readFile(t, path+".1")
		if !strings.HasPrefix(older, big) {
			t.Fatalf("round %d: %s.1 = %q; want the older lines first", round, path, older)
		}
		for i := range runs {
			if n := strings.Count(cur+older, fmt.Sprintf("run %d\n", i)); n != 1 {
				t.Fatalf("round %d: line of run %d found %d times in\n%s\n.1:\n%s", round, i, n, cur, older)
			}
		}
	}
}

// TestRotationIsRename checks that the old generation is the very same
// file, renamed, not a copy.
func TestRotationIsRename(t *testing.T) {
	path := filepath.Join(tempDir(t), "net.log")
	if err := os.WriteFile(path, []byte(strings.Repeat("y", 200)), 0o644); err != nil {
		t.Fatal(err)
	}
	before, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	log, closeLog := New(Options{File: path, MaxBytes: 100, Loc: time.UTC})
	log.Warn("【L1-动作】重启 WAN 接口")
	closeLog()
	after, err := os.Stat(path + ".1")
	if err != nil {
		t.Fatal(err)
	}
	if !os.SameFile(before, after) {
		t.Errorf("%s.1 is not the old file renamed", path)
	}
}

func TestUnwritableFile(t *testing.T) {
	dir := tempDir(t)
	notDir := filepath.Join(dir, "plain")
	if err := os.WriteFile(notDir, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		path string
		want string // the one report on the terminal
	}{
		// Root ignores permission bits, so a regular file stands in the
		// way of the directory instead.
		{"directory cannot be created", filepath.Join(notDir, "log", "net.log"),
			"log file: create log directory: mkdir " + notDir + ": not a directory; no more lines go to " + filepath.Join(notDir, "log", "net.log") + " in this run\n"},
		{"file is a directory", dir,
			"log file: open log file: open " + dir + ": is a directory; no more lines go to " + dir + " in this run\n"},
		{"disk full", "/dev/full",
			"log file: write /dev/full: no space left on device; no more lines go to /dev/full in this run\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.path == "/dev/full" {
				if _, err := os.Stat("/dev/full"); err != nil {
					t.Skip("no /dev/full on this machine")
				}
			}
			var term syncBuffer
			log, closeLog := New(Options{File: tt.path, MaxBytes: 1 << 20, Terminal: &term, Loc: time.UTC})
			log.Error("【严重错误】重启失败", "attempt", 1)
			log.Error("【严重错误】重启失败", "attempt", 2)
			if err := closeLog(); err != nil {
				t.Errorf("close: %v", err)
			}
			// The records still reach the terminal; the report comes once.
			lines := strings.SplitAfter(term.String(), "\n")
			var reports, records int
			for _, l := range lines {
				switch {
				case strings.HasPrefix(l, "log file: "):
					reports++
					if l != tt.want {
						t.Errorf("report = %q; want %q", l, tt.want)
					}
				case strings.Contains(l, "ERR 【严重错误】重启失败 attempt="):
					records++
				}
			}
			if reports != 1 || records != 2 {
				t.Errorf("terminal = %q; want 1 report and 2 records", term.String())
			}
		})
	}
}

func TestFanout(t *testing.T) {
	tests := []struct {
		name string
		log  func(*slog.Logger)
		want string // after the time
	}{
		{"plain", func(l *slog.Logger) { l.Info(alarm, "streak", 3) }, "INF " + alarm + " streak=3"},
		{"with attrs", func(l *slog.Logger) { l.With("side", "router").Warn("【L2-动作】重启网络服务", "streak", 5) },
			"WRN 【L2-动作】重启网络服务 side=router streak=5"},
		{"with group", func(l *slog.Logger) {
			l.With("host", "pve").WithGroup("ssh").Error("【回退】SSH 失败", "rc", 255, "err", "timeout")
		}, "ERR 【回退】SSH 失败 host=pve ssh.rc=255 ssh.err=timeout"},
		{"group then attrs", func(l *slog.Logger) { l.WithGroup("probe").With("target", "203.0.113.1").Info("探测", "lost", 2) },
			"INF 探测 probe.target=203.0.113.1 probe.lost=2"},
		{"quoting", func(l *slog.Logger) { l.Info("命令结果", "stderr", "ifdown: not found", "level", "L1") },
			`INF 命令结果 stderr="ifdown: not found" level=L1`},
	}
	line := regexp.MustCompile(`^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d (.*)\n$`)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(tempDir(t), "net.log")
			var term syncBuffer
			log, closeLog := New(Options{File: path, Terminal: &term, Level: slog.LevelDebug, Loc: cst(t)})
			tt.log(log)
			closeLog()
			for dest, got := range map[string]string{"file": readFile(t, path), "terminal": term.String()} {
				m := line.FindStringSubmatch(got)
				if m == nil || m[1] != tt.want {
					t.Errorf("%s = %q; want time then %q", dest, got, tt.want)
				}
			}
		})
	}
}

// TestDebugOnlyOnTerminal: with -v a person sees debug lines, but the log
// file never gets them (a healthy run leaves the file alone, SPEC §8).
func TestDebugOnlyOnTerminal(t *testing.T) {
	path := filepath.Join(tempDir(t), "net.log")
	var term syncBuffer
	log, closeLog := New(Options{File: path, Terminal: &term, Level: slog.LevelDebug, Loc: cst(t)})
	log.Debug("探测成功", "rtt_ms", 12)
	closeLog()
	if !strings.Contains(term.String(), "DBG 探测成功 rtt_ms=12") {
		t.Errorf("terminal = %q; want the debug line", term.String())
	}
	if _, err := os.Stat(path); !os.IsNotExist(err) {
		t.Errorf("log file exists after a debug line only (stat err %v)", err)
	}
}

func TestLevel(t *testing.T) {
	var term syncBuffer
	log, closeLog := New(Options{Terminal: &term, Level: slog.LevelWarn, Loc: time.UTC})
	defer closeLog()
	log.Debug("d")
	log.Info("i")
	log.Warn("w")
	log.Error("e")
	got := regexp.MustCompile(`(?m)^\S+ \S+ `).ReplaceAllString(term.String(), "")
	if want := "WRN w\nERR e\n"; got != want {
		t.Errorf("terminal at level Warn = %q; want %q", got, want)
	}
}

func TestNoDestinations(t *testing.T) {
	log, closeLog := New(Options{})
	if log.Enabled(context.Background(), slog.LevelError) {
		t.Errorf("logger without destinations is enabled")
	}
	log.Error("nowhere")
	if err := closeLog(); err != nil {
		t.Errorf("close: %v", err)
	}
}

func TestColor(t *testing.T) {
	tests := []struct {
		name  string
		color bool
		want  bool // escape sequences present
	}{
		{"tty", true, true},
		{"pipe", false, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var term syncBuffer
			path := filepath.Join(tempDir(t), "net.log")
			log, closeLog := New(Options{File: path, Terminal: &term, Color: tt.color, Loc: time.UTC})
			log.Error(alarm, "streak", 3)
			closeLog()
			if got := strings.Contains(term.String(), "\x1b["); got != tt.want {
				t.Errorf("Color=%v: terminal %q has escapes = %v; want %v", tt.color, term.String(), got, tt.want)
			}
			if strings.Contains(readFile(t, path), "\x1b") {
				t.Errorf("Color=%v: log file has escapes: %q", tt.color, readFile(t, path))
			}
		})
	}
}

func TestConcurrentLines(t *testing.T) {
	path := filepath.Join(tempDir(t), "net.log")
	log, closeLog := New(Options{File: path, Loc: cst(t)})
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Go(func() {
			l := log.With("worker", g)
			for i := range 50 {
				l.Info(alarm, "streak", i)
			}
		})
	}
	wg.Wait()
	closeLog()
	lines := strings.Split(strings.TrimSuffix(readFile(t, path), "\n"), "\n")
	re := regexp.MustCompile(`^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d INF 【报警】网络断开 \(第 3 次失败\)。 worker=\d streak=\d+$`)
	if len(lines) != 400 {
		t.Fatalf("%d lines; want 400", len(lines))
	}
	for _, l := range lines {
		if !re.MatchString(l) {
			t.Fatalf("torn line %q", l)
		}
	}
}

// listenSyslog is a syslog daemon of our own: a unix datagram socket.
func listenSyslog(t *testing.T) (string, *net.UnixConn) {
	t.Helper()
	addr := filepath.Join(tempDir(t), "log.sock")
	c, err := net.ListenUnixgram("unixgram", &net.UnixAddr{Name: addr, Net: "unixgram"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return addr, c
}

func readDatagram(t *testing.T, c *net.UnixConn) string {
	t.Helper()
	buf := make([]byte, 64<<10)
	c.SetReadDeadline(time.Now().Add(5 * time.Second))
	n, _, err := c.ReadFrom(buf)
	if err != nil {
		t.Fatalf("syslog read: %v", err)
	}
	return string(buf[:n])
}

func TestSyslog(t *testing.T) {
	addr, c := listenSyslog(t)
	log, closeLog := New(Options{Syslog: true, SyslogAddr: addr, Tag: "netcheck", Level: slog.LevelDebug, Loc: cst(t)})
	defer closeLog()

	tests := []struct {
		name string
		log  func()
		pri  int    // facility daemon (24) + severity
		want string // after "TAG[PID]: "
	}{
		{"error", func() { log.Error(alarm, "streak", 3) }, 27, alarm + " streak=3\n"},
		{"warn", func() { log.Warn("【L1-动作】重启 WAN 接口", "streak", 2) }, 28, "【L1-动作】重启 WAN 接口 streak=2\n"},
		{"info", func() { log.Info(alarm, "streak", 3) }, 30, alarm + " streak=3\n"},
		// Debug lines (-v) stay on the terminal: the next datagram is the info line.
		{"debug skipped", func() { log.Debug("探测成功", "rtt_ms", 12); log.Info("after") }, 30, "after\n"},
		{"above error", func() { log.Log(context.Background(), slog.LevelError+4, "x") }, 27, "x\n"},
		{"attrs and groups", func() { log.With("host", "pve").WithGroup("ssh").Info("m", "rc", 1) }, 30, "m host=pve ssh.rc=1\n"},
		{"our own level attr stays", func() { log.Info("m", "level", "L2") }, 30, "m level=L2\n"},
	}
	header := regexp.MustCompile(`^<(\d+)>[A-Z][a-z]{2} [ \d]\d \d\d:\d\d:\d\d netcheck\[(\d+)\]: `)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.log()
			got := readDatagram(t, c)
			m := header.FindStringSubmatch(got)
			if m == nil || m[1] != fmt.Sprint(tt.pri) || m[2] != fmt.Sprint(os.Getpid()) || got[len(m[0]):] != tt.want {
				t.Errorf("syslog got %q; want <%d>TIME netcheck[%d]: %q", got, tt.pri, os.Getpid(), tt.want)
			}
		})
	}
}

func TestSyslogTimeIsLocal(t *testing.T) {
	addr, c := listenSyslog(t)
	loc := time.FixedZone("FAR", 13*3600+1800) // far from the machine's zone
	log, closeLog := New(Options{Syslog: true, SyslogAddr: addr, Tag: "hostcheck", Loc: loc})
	defer closeLog()
	before := time.Now().In(loc)
	log.Info("m")
	got := readDatagram(t, c)
	after := time.Now().In(loc)
	ok := false
	for _, at := range []time.Time{before, after} {
		ok = ok || strings.HasPrefix(got, "<30>"+at.Format(time.Stamp)+" hostcheck[")
	}
	if !ok {
		t.Errorf("syslog got %q; want the time %s in zone FAR", got, before.Format(time.Stamp))
	}
}

func TestSyslogUnreachable(t *testing.T) {
	dir := tempDir(t)
	path := filepath.Join(dir, "net.log")
	var term syncBuffer
	log, closeLog := New(Options{
		File: path, Syslog: true, SyslogAddr: filepath.Join(dir, "no.sock"),
		Tag: "netcheck", Terminal: &term, Loc: cst(t),
	})
	log.Error(alarm, "streak", 3)
	log.Error(alarm, "streak", 4)
	if err := closeLog(); err != nil {
		t.Errorf("close: %v", err)
	}
	if got := strings.Count(readFile(t, path), "\n"); got != 2 {
		t.Errorf("log file has %d lines; want 2", got)
	}
	if strings.Contains(term.String(), "syslog") || strings.Count(term.String(), "\n") != 2 {
		t.Errorf("terminal = %q; want the 2 records and no word about syslog", term.String())
	}
}

func TestSyslogDaemonGoesAway(t *testing.T) {
	addr, c := listenSyslog(t)
	log, closeLog := New(Options{Syslog: true, SyslogAddr: addr, Tag: "netcheck", Loc: time.UTC})
	defer closeLog()
	log.Info("first")
	if got := readDatagram(t, c); !strings.HasSuffix(got, ": first\n") {
		t.Fatalf("syslog got %q", got)
	}
	c.Close()
	os.Remove(addr)
	done := make(chan struct{})
	go func() {
		log.Info("second")
		log.Info("third")
		close(done)
	}()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("logging hung after the syslog daemon went away")
	}
}

// TestFIFOLogFile: a FIFO as LOG_FILE (planted, or left by a person) never
// hangs the run: opening it for writing used to block until a reader came,
// with the run holding its lock, so every later run exited silently (SPEC
// §15, issue 9 item 11). It is refused by its kind, once, on the terminal,
// whether or not a reader has it open; the records still reach the terminal.
func TestFIFOLogFile(t *testing.T) {
	for _, reader := range []bool{false, true} {
		t.Run(fmt.Sprintf("reader=%v", reader), func(t *testing.T) {
			fifo := filepath.Join(tempDir(t), "net.log")
			if err := syscall.Mkfifo(fifo, 0o644); err != nil {
				t.Fatal(err)
			}
			if reader {
				r, err := os.OpenFile(fifo, os.O_RDONLY|syscall.O_NONBLOCK, 0)
				if err != nil {
					t.Fatal(err)
				}
				defer r.Close()
			}
			var term syncBuffer
			done := make(chan struct{})
			go func() {
				log, closeLog := New(Options{File: fifo, MaxBytes: 1 << 20, Terminal: &term, Loc: time.UTC})
				log.Warn(alarm)
				log.Warn(alarm)
				_ = closeLog()
				close(done)
			}()
			select {
			case <-done:
			case <-time.After(5 * time.Second):
				t.Fatal("logging to a FIFO as LOG_FILE blocked")
			}
			want := "log file: open log file: " + fifo + " is a fifo, not a regular file; fix: rm " + fifo +
				" (it is recreated); no more lines go to " + fifo + " in this run\n"
			if got := term.String(); strings.Count(got, want) != 1 || strings.Count(got, alarm) != 2 {
				t.Errorf("terminal = %q; want the report %q once and both records", got, want)
			}
		})
	}
}
