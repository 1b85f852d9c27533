package main

import (
	"github.com/pve-op/network-rescue/internal/testlab"

	"bytes"
	"context"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/pve-op/network-rescue/internal/cli"
	"github.com/pve-op/network-rescue/state"
)

// TestResetWaitsForTheRun: cron starts netcheck and midnight-reset at
// 00:00 together. While netcheck holds its lock, midnight-reset waits; the
// run's L3 save lands first and the reset after it, so the new day starts
// at count 0 with no SOS (SPEC §15, issue 9 item 9).
func TestResetWaitsForTheRun(t *testing.T) { resetWaitsForTheRun(t, t.TempDir()) }

// TestResetWaitsReadOnlyRunDir: with a RUN_DIR that cannot take the lock
// file (a read-only tmpfs, no lock file in it), the run and midnight-reset
// both lock STATE_DIR, so the reset still waits for the run (SPEC §15,
// issue 9 items 9 and 10). RUN_DIR is mounted inside `unshare -m`.
func TestResetWaitsReadOnlyRunDir(t *testing.T) {
	script := `mkdir -p "$1/run"
mount -t tmpfs -o size=64k,mode=0700,ro tmpfs "$1/run"`
	if dir, child := testlab.InMountNS(t, "NRT_RO_RESET", script, nil); child {
		resetWaitsForTheRun(t, dir)
	}
}

func resetWaitsForTheRun(t *testing.T, dir string) {
	stateDir, runDir, log := filepath.Join(dir, "state"), filepath.Join(dir, "run"), filepath.Join(dir, "net.log")
	conf := filepath.Join(dir, "netrescue.conf")
	must(t, os.WriteFile(conf, []byte("STATE_DIR="+stateDir+"\nRUN_DIR="+runDir+"\nLOG_FILE="+log+"\nSYSLOG=0\n"), 0o600))
	must(t, os.MkdirAll(stateDir, 0o755))
	must(t, state.WriteCount(filepath.Join(stateDir, "net_rb_count"), 2))

	// The netcheck run, probing at 00:00: it holds the lock.
	release, held, err := cli.Lock(slog.New(slog.NewTextHandler(&bytes.Buffer{}, nil)), runDir, stateDir, "netcheck.lock", 0)
	if err != nil || !held {
		t.Fatalf("test's lock: %v %v", held, err)
	}
	stderr, _ := os.Create(filepath.Join(dir, "stderr"))
	defer stderr.Close()
	done := make(chan error, 1)
	go func() {
		done <- run(context.Background(), []string{"-role", "router", "-config", conf}, &bytes.Buffer{}, stderr)
	}()
	select {
	case err := <-done:
		t.Fatalf("midnight-reset finished (%v) while netcheck held the lock; want it to wait", err)
	case <-time.After(700 * time.Millisecond):
	}
	// The run saves its L3 and SOS, then ends.
	must(t, state.WriteCount(filepath.Join(stateDir, "net_rb_count"), 3))
	must(t, state.WriteFlag(filepath.Join(stateDir, "SOS_SYSTEM"), "time=x count=3 reason=y"))
	release()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("midnight-reset = %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("midnight-reset still waiting after the run released its lock")
	}
	if n, err := state.ReadCount(filepath.Join(stateDir, "net_rb_count")); n != 0 || err != nil {
		t.Errorf("count after the reset = %d, %v; want 0", n, err)
	}
	if _, err := os.Stat(filepath.Join(stateDir, "SOS_SYSTEM")); err == nil {
		t.Error("SOS survived the reset")
	}
	if b, _ := os.ReadFile(log); !strings.Contains(string(b), "【重置】") {
		t.Errorf("log = %s; want 【重置】", b)
	}
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}
