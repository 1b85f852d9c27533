package main

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/pve-op/network-rescue/internal/runenv"
	"github.com/pve-op/network-rescue/internal/testlab"
	"github.com/pve-op/network-rescue/state"
)

// routerConf writes a config with RUN_DIR and STATE_DIR under dir and
// returns its path and the log file's.
func routerConf(t *testing.T, dir string, extra ...string) (conf, log string) {
	t.Helper()
	conf, log = filepath.Join(dir, "netrescue.conf"), filepath.Join(dir, "net.log")
	lines := append([]string{
		"STATE_DIR=" + filepath.Join(dir, "state"), "RUN_DIR=" + filepath.Join(dir, "run"),
		"LOG_FILE=" + log, "SYSLOG=0", "SAFE_UPTIME=0", "L1_THRESHOLD=0", "L2_THRESHOLD=0",
		"L3_THRESHOLD=3", "L3_CMD=/sbin/reboot -f", "COOLING_FREE_REBOOTS=1000", "L4_SOS_THRESHOLD=5",
	}, extra...)
	if err := os.WriteFile(conf, []byte(strings.Join(lines, "\n")+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	return conf, log
}

// runEnvWithin runs netcheck once in e and fails if it does not finish in 10 s.
func runEnvWithin(t *testing.T, conf string, e runenv.Env) error {
	t.Helper()
	return runEnvWithinArgs(t, e, "-config", conf)
}

// runEnvWithinArgs runs netcheck once with args and fails if it does not
// finish in 10 s.
func runEnvWithinArgs(t *testing.T, e runenv.Env, args ...string) error {
	t.Helper()
	done := make(chan error, 1)
	go func() { done <- run(context.Background(), args, e) }()
	select {
	case err := <-done:
		return err
	case <-time.After(10 * time.Second):
		t.Fatal("netcheck run hung")
	}
	return nil
}

// runWithin runs netcheck once and fails if it does not finish in 10 s.
func runWithin(t *testing.T, conf string, ran *[]string) error {
	t.Helper()
	return runEnvWithin(t, conf, fakeEnv(t, ran))
}

// TestPlantedRunDirStreak: a RUN_DIR another user created first, holding
// a planted streak of 99, is not trusted: 【严重错误】, it is recreated and
// the first failed probe is streak 1, no reboot (issue 9 item 15).
func TestPlantedRunDirStreak(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("skipping: planting another user's RUN_DIR needs root")
	}
	dir := t.TempDir()
	conf, log := routerConf(t, dir)
	rd := filepath.Join(dir, "run")
	if err := os.Mkdir(rd, 0o777); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(rd, "netcheck.state"), []byte("boot=boot\nstreak=99\n"), 0o666); err != nil {
		t.Fatal(err)
	}
	if err := os.Chown(rd, 65534, 65534); err != nil {
		t.Fatal(err)
	}
	var ran []string
	if err := runWithin(t, conf, &ran); err != nil {
		t.Fatal(err)
	}
	b, _ := os.ReadFile(log)
	if len(ran) != 0 {
		t.Errorf("commands run %q: the planted streak was trusted", ran)
	}
	if !strings.Contains(string(b), "【严重错误】RUN_DIR") || !strings.Contains(string(b), "第 1 次失败") {
		t.Errorf("log = %s; want 【严重错误】 about RUN_DIR and failure #1", b)
	}
	var st syscall.Stat_t
	if err := syscall.Lstat(rd, &st); err != nil || st.Uid != 0 || st.Mode&0o777 != 0o700 {
		t.Errorf("RUN_DIR uid %d mode %o, %v; want root's, 0700", st.Uid, st.Mode&0o777, err)
	}
}

// TestDamagedFilesDoNotHang: a FIFO in place of each file netcheck reads
// (count, cooling, SOS, outage, volatile, lock) never hangs the run: it
// finishes, logs 【严重错误】 with the kind (issue 9 item 11), and a
// symlinked state file's target is never logged (item 16).
func TestDamagedFilesDoNotHang(t *testing.T) {
	secretFile := filepath.Join(t.TempDir(), "shadow")
	if err := os.WriteFile(secretFile, []byte("root:$6$SECRETHASH:"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"state/net_rb_count", "state/net_cooling_ts", "state/SOS_SYSTEM",
		"state/net_outage", "state/net_rescued_by", "run/netcheck.state", "run/netcheck.lock"} {
		for _, kind := range []string{"fifo", "symlink"} {
			t.Run(name+"/"+kind, func(t *testing.T) {
				dir := t.TempDir()
				conf, log := routerConf(t, dir)
				for _, d := range []string{"state", "run"} {
					if err := os.Mkdir(filepath.Join(dir, d), 0o700); err != nil {
						t.Fatal(err)
					}
				}
				p := filepath.Join(dir, name)
				var err error
				if kind == "fifo" {
					err = syscall.Mkfifo(p, 0o644)
				} else {
					err = os.Symlink(secretFile, p)
				}
				if err != nil {
					t.Fatal(err)
				}
				var ran []string
				if err := runWithin(t, conf, &ran); err != nil {
					t.Fatalf("run = %v", err)
				}
				b, _ := os.ReadFile(log)
				if !strings.Contains(string(b), "【严重错误】") || !strings.Contains(string(b), kind) {
					t.Errorf("log = %s; want 【严重错误】 with kind %s", b, kind)
				}
				if strings.Contains(string(b), "SECRET") {
					t.Errorf("log shows the symlink target's content: %s", b)
				}
			})
		}
	}
}

// TestReadOnlyRunDir: a RUN_DIR that cannot be written (a full /tmp, a
// read-only tmpfs) does not block the reboot that would fix it: over a
// sequence of down runs the ladder still climbs, L3 runs, and the count
// equals the L3 commands run (SPEC §15, issue 9 item 10). RUN_DIR is a
// tmpfs inside `unshare -m`, remounted read-only (with the lock file the
// runs before the failure created, or without) or filled up.
func TestReadOnlyRunDir(t *testing.T) {
	// With the lock file the runs before the failure created, and without
	// one (a /tmp read-only or full from boot): then the lock is taken on
	// STATE_DIR itself (SPEC §15).
	// And a tmpfs that is full: files can still be created (the lock
	// file), but no byte can be written (ENOSPC), as when /tmp fills up.
	for _, tc := range []struct{ name, then string }{
		{"lock file exists", `: > "$1/run/netcheck.lock"
mount -o remount,ro "$1/run"`},
		{"no lock file", `mount -o remount,ro "$1/run"`},
		{"full", `dd if=/dev/zero of="$1/run/filler" bs=4k 2>/dev/null || :`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			script := `mkdir -p "$1/run"
mount -t tmpfs -o size=64k,mode=0700 tmpfs "$1/run"
` + tc.then
			if dir, child := testlab.InMountNS(t, "NRS_RO_RUNDIR", script, func(dir string) { routerConf(t, dir) }); child {
				readOnlyRunDirChild(t, dir)
			}
		})
	}
}

func readOnlyRunDirChild(t *testing.T, dir string) {
	conf, log := filepath.Join(dir, "netrescue.conf"), filepath.Join(dir, "net.log")
	var ran []string
	for i := 0; i < 5; i++ {
		_ = runWithin(t, conf, &ran)
	}
	b, _ := os.ReadFile(log)
	n, err := state.ReadCount(filepath.Join(dir, "state", "net_rb_count"))
	if len(ran) != 3 || n != 3 || err != nil {
		t.Fatalf("after 5 down runs (L3 from the 3rd): commands %q, count %d (%v); want 3 L3 runs and count 3\n%s", ran, n, err, b)
	}
	if !strings.Contains(string(b), "【严重错误】") || !strings.Contains(string(b), "RUN_DIR") {
		t.Errorf("log = %s; want 【严重错误】 about RUN_DIR", b)
	}
}

// TestLogFileFIFO: a FIFO as LOG_FILE used to hang the run at its first
// log line, holding the lock, so that every later run exited silently and
// the router was never rescued (issue 9 item 11). Now each run finishes,
// says on stderr (cron's mail) what LOG_FILE is, and the ladder still
// climbs to L3 on the third failed probe.
func TestLogFileFIFO(t *testing.T) {
	dir := t.TempDir()
	conf, log := routerConf(t, dir)
	if err := syscall.Mkfifo(log, 0o644); err != nil {
		t.Fatal(err)
	}
	var ran []string
	e := fakeEnv(t, &ran)
	for i := 0; i < 3; i++ {
		done := make(chan error, 1)
		go func() { done <- run(context.Background(), []string{"-config", conf}, e) }()
		select {
		case err := <-done:
			if err != nil {
				t.Fatalf("run %d = %v", i+1, err)
			}
		case <-time.After(10 * time.Second):
			t.Fatalf("run %d hung on LOG_FILE as a FIFO", i+1)
		}
	}
	if strings.Join(ran, ",") != "/sbin/reboot -f" {
		t.Errorf("commands after 3 failed probes: %q; want L3 once", ran)
	}
	stderr, _ := os.ReadFile(e.Stderr.Name())
	if want := log + " is a fifo, not a regular file"; strings.Count(string(stderr), want) != 3 {
		t.Errorf("stderr = %s; want %q once per run", stderr, want)
	}
}
