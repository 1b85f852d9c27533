package cli

import (
	"bytes"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

func testLog() (*slog.Logger, *bytes.Buffer) {
	var b bytes.Buffer
	return slog.New(slog.NewTextHandler(&b, nil)), &b
}

// lockWithin takes the lock and fails the test if that hangs.
func lockWithin(t *testing.T, log *slog.Logger, dir, name string, wait time.Duration) (func(), bool, error) {
	t.Helper()
	type res struct {
		rel  func()
		held bool
		err  error
	}
	ch := make(chan res, 1)
	go func() {
		r, h, err := Lock(log, dir, filepath.Join(filepath.Dir(dir), "state"), name, wait)
		ch <- res{r, h, err}
	}()
	select {
	case r := <-ch:
		return r.rel, r.held, r.err
	case <-time.After(wait + 5*time.Second):
		t.Fatalf("Lock(%s/%s) hung", dir, name)
	}
	return nil, false, nil
}

// TestRunDirPlanted: a RUN_DIR that another user created first, a symlink
// or a file is logged as 【严重错误】, removed and recreated 0700 as ours;
// nothing planted is trusted or followed (SPEC §15, issue 9 item 15).
func TestRunDirPlanted(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("skipping: planting another user's RUN_DIR needs root (chown to uid 65534)")
	}
	elsewhere := t.TempDir() // stands for /etc: must be left alone
	if err := os.WriteFile(filepath.Join(elsewhere, "shadow"), []byte("x"), 0o600); err != nil {
		t.Fatal(err)
	}
	cases := map[string]func(run string){
		"another user's dir": func(run string) {
			must(t, os.Mkdir(run, 0o777))
			must(t, os.WriteFile(filepath.Join(run, "netcheck.state"), []byte("boot=b\nstreak=99\n"), 0o666))
			must(t, os.Chown(run, 65534, 65534))
		},
		"symlink":      func(run string) { must(t, os.Symlink(elsewhere, run)) },
		"regular file": func(run string) { must(t, os.WriteFile(run, nil, 0o644)) },
	}
	for name, plant := range cases {
		t.Run(name, func(t *testing.T) {
			run := filepath.Join(t.TempDir(), "netrescue")
			plant(run)
			log, buf := testLog()
			release, held, err := lockWithin(t, log, run, "netcheck.lock", 0)
			if err != nil || !held {
				t.Fatalf("Lock = %v, %v; want held (the rescue stays on)", held, err)
			}
			defer release()
			if !strings.Contains(buf.String(), "【严重错误】") || !strings.Contains(buf.String(), run) {
				t.Errorf("log = %q; want 【严重错误】 naming %s", buf, run)
			}
			fi, err := os.Lstat(run)
			if err != nil || !fi.IsDir() || fi.Mode().Perm() != 0o700 || fi.Sys().(*syscall.Stat_t).Uid != 0 {
				t.Fatalf("RUN_DIR after Lock: %v, %v; want a 0700 directory owned by root", fi, err)
			}
			if _, err := os.Stat(filepath.Join(run, "netcheck.state")); err == nil {
				t.Errorf("the planted netcheck.state survived")
			}
			ents, _ := os.ReadDir(elsewhere)
			if len(ents) != 1 {
				t.Errorf("the symlink's target was changed: %v", ents)
			}
		})
	}
}

// TestLockFileDamaged: a FIFO, symlink or directory as the lock file never
// hangs the run; it is logged with its kind and replaced (issue 9 item 11).
func TestLockFileDamaged(t *testing.T) {
	for kind, plant := range map[string]func(p string) error{
		"fifo":      func(p string) error { return syscall.Mkfifo(p, 0o644) },
		"symlink":   func(p string) error { return os.Symlink("/dev/zero", p) },
		"directory": func(p string) error { return os.Mkdir(p, 0o755) },
	} {
		t.Run(kind, func(t *testing.T) {
			run := filepath.Join(t.TempDir(), "run")
			must(t, os.Mkdir(run, 0o700))
			p := filepath.Join(run, "netcheck.lock")
			must(t, plant(p))
			log, buf := testLog()
			release, held, err := lockWithin(t, log, run, "netcheck.lock", 0)
			if err != nil || !held {
				t.Fatalf("Lock = %v, %v; want held", held, err)
			}
			defer release()
			if !strings.Contains(buf.String(), "【严重错误】") || !strings.Contains(buf.String(), kind) {
				t.Errorf("log = %q; want 【严重错误】 with the kind %s", buf, kind)
			}
			if fi, err := os.Lstat(p); err != nil || !fi.Mode().IsRegular() {
				t.Errorf("lock file now %v, %v; want a regular file", fi, err)
			}
		})
	}
}

// TestLockWait: with a wait, Lock waits for the holder (midnight-reset
// behind a cron run, SPEC §15) and gives up after the wait.
func TestLockWait(t *testing.T) {
	run := filepath.Join(t.TempDir(), "run")
	log, _ := testLog()
	release, held, err := Lock(log, run, filepath.Join(filepath.Dir(run), "state"), "x.lock", 0)
	if err != nil || !held {
		t.Fatalf("first Lock = %v, %v", held, err)
	}
	if _, held, _ := lockWithin(t, log, run, "x.lock", 0); held {
		t.Fatal("a second non-blocking Lock got the lock")
	}
	start := time.Now()
	if _, held, _ := lockWithin(t, log, run, "x.lock", 300*time.Millisecond); held || time.Since(start) < 300*time.Millisecond {
		t.Fatalf("Lock with a 300ms wait: held=%v after %v; want not held, after the wait", held, time.Since(start))
	}
	time.AfterFunc(200*time.Millisecond, release)
	rel2, held, err := lockWithin(t, log, run, "x.lock", 5*time.Second)
	if err != nil || !held {
		t.Fatalf("Lock waiting for the holder = %v, %v; want held once released", held, err)
	}
	rel2()
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}
