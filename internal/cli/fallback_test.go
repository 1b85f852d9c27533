package cli

import (
	"github.com/pve-op/network-rescue/internal/testlab"

	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestLockFallbackToStateDir: when RUN_DIR cannot take the lock file (a
// read-only tmpfs: EROFS; a tmpfs with no inode left: ENOSPC), Lock takes
// the flock on the STATE_DIR directory instead, creating nothing, logs
// 【严重错误】 naming RUN_DIR and the reason, and that lock still excludes a
// second holder (SPEC §15, issue 9 item 10). RUN_DIR is a tmpfs mounted
// inside `unshare -m`.
func TestLockFallbackToStateDir(t *testing.T) {
	for _, tc := range []struct{ name, mount string }{
		{"read-only", `mount -t tmpfs -o size=64k,mode=0700 tmpfs "$1/run" && mount -o remount,ro "$1/run"`},
		{"full", `mount -t tmpfs -o size=64k,mode=0700,nr_inodes=1 tmpfs "$1/run"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if dir, child := testlab.InMountNS(t, "NRT_LOCK_FALLBACK", "mkdir -p \"$1/run\"\n"+tc.mount, nil); child {
				lockFallbackChild(t, dir)
			}
		})
	}
}

func lockFallbackChild(t *testing.T, dir string) {
	run, stateDir := filepath.Join(dir, "run"), filepath.Join(dir, "state")
	log, buf := testLog()
	release, held, err := lockWithin(t, log, run, "x.lock", 0)
	if err != nil || !held {
		t.Fatalf("Lock on an unwritable RUN_DIR = %v, %v; want held (the ladder must still act)\n%s", held, err, buf)
	}
	if !strings.Contains(buf.String(), "【严重错误】") || !strings.Contains(buf.String(), run) {
		t.Errorf("log = %s; want 【严重错误】 naming RUN_DIR %s", buf, run)
	}
	if ents, _ := os.ReadDir(stateDir); len(ents) != 0 {
		t.Errorf("STATE_DIR has %d entries; the fallback lock must create nothing", len(ents))
	}
	if _, held, _ := lockWithin(t, log, run, "x.lock", 0); held {
		t.Fatal("a second Lock got the fallback lock while the first holds it")
	}
	release()
	rel2, held, err := lockWithin(t, log, run, "x.lock", 0)
	if err != nil || !held {
		t.Fatalf("Lock after release = %v, %v; want held", held, err)
	}
	rel2()

	// Held behind a holder, as a pause behind a cron run: the fallback is
	// said once, not once for its first try and again for its wait.
	holder, held, err := lockWithin(t, log, run, "x.lock", 0)
	if err != nil || !held {
		t.Fatalf("Lock for the holder = %v, %v", held, err)
	}
	go func() { time.Sleep(200 * time.Millisecond); holder() }()
	hlog, hbuf := testLog()
	var out strings.Builder
	if err := Held(hlog, run, stateDir, "x.lock", 5*time.Second, &out, func() error { return nil }); err != nil {
		t.Fatalf("Held behind a holder: %v", err)
	}
	if n := strings.Count(hbuf.String(), "【严重错误】"); n != 1 || !strings.Contains(out.String(), "waiting up to 5s") {
		t.Errorf("Held behind a holder logged 【严重错误】 %d times (want once) and said %q\n%s", n, out.String(), hbuf)
	}
}

// TestZoneFIFO: a TZ naming a FIFO (or /etc/TZ, /etc/localtime being one)
// does not hang every run reading the time zone: Zone falls back to UTC at
// once (SPEC §15, issue 9 item 11).
func TestZoneFIFO(t *testing.T) {
	fifo := filepath.Join(t.TempDir(), "zone")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	t.Setenv("TZ", ":"+fifo)
	ch := make(chan *time.Location, 1)
	go func() { ch <- Zone() }()
	select {
	case loc := <-ch:
		if loc != time.UTC {
			t.Errorf("Zone() with TZ a FIFO = %v; want UTC", loc)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Zone() blocked on a FIFO as the zone file")
	}
}
