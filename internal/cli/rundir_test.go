package cli

import (
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

// TestRunDirShared: a RUN_DIR that others may write (RUN_DIR=/tmp, mode
// 1777) used to be chmodded to 0700, turning /tmp into drwx------ and
// breaking every non-root daemon. Now its mode is left alone and the lock
// lands in a private 0700 subdirectory, said once (SPEC §15).
func TestRunDirShared(t *testing.T) {
	shared := filepath.Join(t.TempDir(), "tmp")
	must(t, os.Mkdir(shared, 0o777))
	must(t, os.Chmod(shared, 0o777|os.ModeSticky))
	log, buf := testLog()
	for i := 0; i < 2; i++ {
		release, held, err := lockWithin(t, log, shared, "netcheck.lock", 0)
		if err != nil || !held {
			t.Fatalf("Lock(%s) = %v, %v; want held", shared, held, err)
		}
		release()
	}
	fi, err := os.Lstat(shared)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o777 || fi.Mode()&os.ModeSticky == 0 {
		t.Errorf("RUN_DIR mode after Lock: %v; want drwxrwxrwt, untouched", fi.Mode())
	}
	if _, err := os.Lstat(filepath.Join(shared, "netcheck.lock")); err == nil {
		t.Errorf("lock file created in the shared directory itself")
	}
	sub := filepath.Join(shared, PrivateRunDir)
	if fi, err := os.Lstat(sub); err != nil || !fi.IsDir() || fi.Mode().Perm() != 0o700 {
		t.Errorf("private RUN_DIR %s: %v, %v; want a 0700 directory", sub, fi, err)
	}
	if _, err := os.Lstat(filepath.Join(sub, "netcheck.lock")); err != nil {
		t.Errorf("lock file not in the private subdirectory: %v", err)
	}
	if got := RunDir(shared); got != sub {
		t.Errorf("RunDir(%s) = %s; want %s", shared, got, sub)
	}
	if got := RunDir(sub); got != sub {
		t.Errorf("RunDir(%s) = %s; want itself", sub, got)
	}
	if n := strings.Count(buf.String(), "私有子目录"); n != 1 {
		t.Errorf("log = %s; want the private subdirectory said once, not %d times", buf, n)
	}
}

// TestRunDirOursKeptAsIs: an existing RUN_DIR of ours that only we may
// write is used as it is: the run did not create it, so its mode is not
// changed (the old code tightened anything to 0700).
func TestRunDirOursKeptAsIs(t *testing.T) {
	run := filepath.Join(t.TempDir(), "run")
	must(t, os.Mkdir(run, 0o755))
	must(t, os.Chmod(run, 0o755))
	log, _ := testLog()
	release, held, err := lockWithin(t, log, run, "netcheck.lock", 0)
	if err != nil || !held {
		t.Fatalf("Lock = %v, %v; want held", held, err)
	}
	release()
	fi, err := os.Lstat(run)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o755 {
		t.Errorf("RUN_DIR mode after Lock: %v; want 0755, untouched", fi.Mode())
	}
	if _, err := os.Lstat(filepath.Join(run, "netcheck.lock")); err != nil {
		t.Errorf("lock file not in RUN_DIR: %v", err)
	}
}

// TestRunDirOtherUserNotDeleted: another user's directory at RUN_DIR is
// not trusted (SPEC §15) but is never deleted either: it is moved aside,
// with what it holds, and the log says where; RUN_DIR is recreated as ours.
func TestRunDirOtherUserNotDeleted(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("skipping: planting another user's RUN_DIR needs root (chown to uid 65534)")
	}
	parent := t.TempDir()
	run := filepath.Join(parent, "run")
	must(t, os.Mkdir(run, 0o755))
	must(t, os.WriteFile(filepath.Join(run, "their-file"), []byte("keep me"), 0o644))
	must(t, os.Chown(run, 65534, 65534))
	log, buf := testLog()
	release, held, err := lockWithin(t, log, run, "netcheck.lock", 0)
	if err != nil || !held {
		t.Fatalf("Lock = %v, %v; want held (the rescue stays on)", held, err)
	}
	release()
	var st syscall.Stat_t
	if err := syscall.Lstat(run, &st); err != nil || st.Uid != 0 || st.Mode&0o777 != 0o700 {
		t.Errorf("RUN_DIR uid %d mode %o, %v; want root's, 0700", st.Uid, st.Mode&0o777, err)
	}
	kept, _ := filepath.Glob(filepath.Join(parent, ".run.untrusted-*", "their-file"))
	if len(kept) != 1 {
		t.Fatalf("the other user's directory was not kept aside: %v\n%s", kept, buf)
	}
	if b, _ := os.ReadFile(kept[0]); string(b) != "keep me" {
		t.Errorf("their file now holds %q", b)
	}
	if !strings.Contains(buf.String(), "【严重错误】") || !strings.Contains(buf.String(), filepath.Dir(kept[0])) {
		t.Errorf("log = %s; want 【严重错误】 naming where it was moved", buf)
	}
}
