package main

import (
	"context"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/pve-op/network-rescue/internal/cli"
	"github.com/pve-op/network-rescue/internal/pause"
	"github.com/pve-op/network-rescue/internal/runenv"
)

// TestPauseWaitsForRun: `hostcheck pause` takes the cron run's lock,
// waiting for a run under way, which would otherwise save its state (no
// pause) over the new pause file (SPEC §16). The run is played by the
// test holding hostcheck.lock.
func TestPauseWaitsForRun(t *testing.T) {
	dir := t.TempDir()
	stateDir, runDir := filepath.Join(dir, "state"), filepath.Join(dir, "run")
	conf := filepath.Join(dir, "host.conf")
	lines := "STATE_DIR=" + stateDir + "\nRUN_DIR=" + runDir + "\nLOG_FILE=" + filepath.Join(dir, "host.log") +
		"\nPVE_MARK=" + filepath.Join(stateDir, "mark") + "\nSYSLOG=0\n"
	if err := os.WriteFile(conf, []byte(lines), 0o600); err != nil {
		t.Fatal(err)
	}
	release, held, err := cli.Lock(slog.New(slog.NewTextHandler(io.Discard, nil)), runDir, stateDir, "hostcheck.lock", 0)
	if err != nil || !held {
		t.Fatalf("lock: held %v, %v", held, err)
	}
	stderr, err := os.Create(filepath.Join(dir, "stderr"))
	if err != nil {
		t.Fatal(err)
	}
	defer stderr.Close()
	now := time.Date(2026, 11, 25, 10, 0, 0, 0, time.UTC)
	e := runenv.Env{Stdout: &strings.Builder{}, Stderr: stderr, Now: func() time.Time { return now }}
	done := make(chan error, 1)
	go func() { done <- run(context.Background(), []string{"-config", conf, "pause", "2h"}, e) }()
	select {
	case err := <-done:
		t.Errorf("pause returned (%v) while a run held the lock", err)
	case <-time.After(300 * time.Millisecond):
	}
	release()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("pause: %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("pause hung after the lock was released")
	}
	if until, err := pause.Read(stateDir, now); err != nil || !until.Equal(now.Add(2*time.Hour)) {
		t.Errorf("pause until %v (%v); want %v", until, err, now.Add(2*time.Hour))
	}
}
