package sysinfo

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestLockHeld: a backup holds the global vzdump lock for its whole run.
// proxmox/pve-manager PVE/VZDump.pm: `my $lockfile = '/var/run/vzdump.lock';`
// taken with PVE::Tools::lock_file($lockfile, ...), an flock(LOCK_EX) on the
// open file. The holder here is a real flock(1) child with LOCK_EX.
func TestLockHeld(t *testing.T) {
	flock, err := exec.LookPath("flock")
	if err != nil {
		t.Skip("flock(1) not installed: cannot hold a real lock in another process")
	}
	dir := t.TempDir()
	lock := filepath.Join(dir, "vzdump.lock")

	if held, err := LockHeld(lock); held || err != nil {
		t.Fatalf("no lock file: LockHeld = %v, %v; want false, nil", held, err)
	}
	if _, err := os.Stat(lock); err == nil {
		t.Fatalf("LockHeld created %s", lock)
	}
	if err := os.WriteFile(lock, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if held, err := LockHeld(lock); held || err != nil {
		t.Fatalf("unlocked file: LockHeld = %v, %v; want false, nil", held, err)
	}
	ready := filepath.Join(dir, "ready")
	// -o: flock closes the locked descriptor in its child (sh, then sleep),
	// so only the flock process holds the lock and Wait on it proves the
	// lock is gone. Without it the SIGKILLed sleep, reparented and not
	// ours to wait for, may still hold the lock for a moment after Wait
	// returns (CI saw "holder gone: LockHeld = true").
	holder := exec.Command(flock, "-o", "-x", lock, "sh", "-c", "touch "+ready+"; exec sleep 30")
	// Its own process group: flock's child (sleep) is ended with it, by
	// the group of the pid this test started.
	holder.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := holder.Start(); err != nil {
		t.Fatal(err)
	}
	stop := func() { _ = syscall.Kill(-holder.Process.Pid, syscall.SIGKILL); _ = holder.Wait() }
	defer stop()
	waitFor(t, ready)
	if held, err := LockHeld(lock); !held || err != nil {
		t.Fatalf("locked by pid %d: LockHeld = %v, %v; want true, nil", holder.Process.Pid, held, err)
	}
	// The test released its probe: the holder still has it, and a second
	// probe sees the same.
	if held, _ := LockHeld(lock); !held {
		t.Fatalf("second probe: not held")
	}
	stop()
	if held, err := LockHeld(lock); held || err != nil {
		t.Fatalf("holder gone: LockHeld = %v, %v; want false, nil", held, err)
	}

	// A symlink is not followed; a FIFO does not hang.
	link := filepath.Join(dir, "link.lock")
	if err := os.Symlink(lock, link); err != nil {
		t.Fatal(err)
	}
	if _, err := LockHeld(link); err == nil {
		t.Errorf("symlink: no error")
	}
	fifo := filepath.Join(dir, "fifo.lock")
	if err := exec.Command("mkfifo", fifo).Run(); err == nil {
		done := make(chan struct{})
		go func() { _, _ = LockHeld(fifo); close(done) }()
		select {
		case <-done:
		case <-time.After(5 * time.Second):
			t.Errorf("FIFO as the lock: LockHeld hangs")
		}
	}
}

// TestFindVzdumpWorker: scheduled and GUI backups run in a forked worker
// that renames itself: pve-common src/PVE/RESTEnvironment.pm fork_worker
// sets `$0 = "task $upid";`, and PVE::Tools::upid_encode formats
// "UPID:$node:%08X(pid):%08X(pstart):%08X(starttime):$type:$id:$user:" —
// for a backup of all guests type "vzdump" and an empty id. Its comm is
// truncated to 15 bytes ("task UPID:pve:0"), so the cmdline is what tells.
func TestFindVzdumpWorker(t *testing.T) {
	bash, err := exec.LookPath("bash")
	if err != nil {
		t.Skip("bash not installed: exec -a is needed to rename a process")
	}
	for _, tt := range []struct {
		name string
		want bool
	}{
		{"task UPID:pve:0000A1B2:0012C3D4:6745A0F0:vzdump::root@pam:", true},
		{"task UPID:pve:0000A1B2:0012C3D4:6745A0F0:vzdump:100:root@pam:", true},
		{"task UPID:pve:0000A1B2:0012C3D4:6745A0F0:qmstart:100:root@pam:", false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			cmd := exec.Command(bash, "-c", `exec -a "$0" sleep 30`, tt.name)
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			defer func() { _ = cmd.Process.Kill(); _ = cmd.Wait() }()
			pid := fmt.Sprint(cmd.Process.Pid)
			deadline := time.Now().Add(5 * time.Second)
			for {
				b, _ := os.ReadFile("/proc/" + pid + "/cmdline")
				if strings.HasPrefix(string(b), "task UPID:") || time.Now().After(deadline) {
					break
				}
				time.Sleep(10 * time.Millisecond)
			}
			got := FindVzdumpWorker("/proc")
			found := false
			for _, p := range got {
				found = found || p == pid
			}
			if found != tt.want {
				t.Errorf("%q (pid %s): FindVzdumpWorker = %v; want found=%v", tt.name, pid, got, tt.want)
			}
		})
	}
	// A fake /proc: the root is configurable, and comm "vzdump" (the CLI
	// run by hand) counts too.
	root := t.TempDir()
	for pid, files := range map[string][2]string{
		"10": {"task UPID:pve:0\n", "task UPID:pve:0000000A:00000001:6745A0F0:vzdump::root@pam:\x00"},
		"11": {"vzdump\n", "/usr/bin/perl\x00-T\x00/usr/bin/vzdump\x00100\x00"},
		"12": {"sleep\n", "sleep\x0030\x00"},
	} {
		_ = os.MkdirAll(filepath.Join(root, pid), 0o755)
		_ = os.WriteFile(filepath.Join(root, pid, "comm"), []byte(files[0]), 0o644)
		_ = os.WriteFile(filepath.Join(root, pid, "cmdline"), []byte(files[1]), 0o644)
	}
	if got := strings.Join(FindVzdumpWorker(root), ","); got != "10,11" {
		t.Errorf("fake /proc: FindVzdumpWorker = %q; want 10,11", got)
	}
}

func waitFor(t *testing.T, path string) {
	t.Helper()
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		if _, err := os.Stat(path); err == nil {
			return
		}
	}
	t.Fatalf("%s never appeared", path)
}

// TestLockHeldNotRegular: something other than a file where vzdump's lock
// should be (a FIFO, a directory) cannot say whether a backup runs: an
// error, which the host's guard turns into 【推迟】 (SPEC §15: fail
// closed), never "no backup".
func TestLockHeldNotRegular(t *testing.T) {
	for _, tt := range []struct {
		name string
		make func(path string) error
	}{
		{"fifo", func(p string) error { return syscall.Mkfifo(p, 0o644) }},
		{"directory", func(p string) error { return os.Mkdir(p, 0o755) }},
	} {
		t.Run(tt.name, func(t *testing.T) {
			lock := filepath.Join(t.TempDir(), "vzdump.lock")
			if err := tt.make(lock); err != nil {
				t.Fatal(err)
			}
			held, err := LockHeld(lock)
			if held || err == nil || !strings.Contains(err.Error(), "not a regular file") {
				t.Errorf("LockHeld(%s) = %v, %v; want false and a \"not a regular file\" error", tt.name, held, err)
			}
		})
	}
}
