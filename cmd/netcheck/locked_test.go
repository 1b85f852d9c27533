package main

import (
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/pve-op/network-rescue/internal/cli"
	"github.com/pve-op/network-rescue/internal/testlab"
)

// TestLockedByHand: a run by hand (on a terminal) while another run holds
// the lock used to print nothing and exit 0, as if it had checked and
// found the net fine. It now says why it did nothing; under cron (no
// terminal) it stays silent, and neither acts.
func TestLockedByHand(t *testing.T) {
	ptm, pts := testlab.OpenPTY(t)
	dir := t.TempDir()
	conf, log := writeConf(t, dir, "L1_THRESHOLD=1", "L1_CMD=/bin/echo L1")
	release, held, err := cli.Lock(slog.New(slog.DiscardHandler), filepath.Join(dir, "run"), filepath.Join(dir, "state"), "netcheck.lock", 0)
	if err != nil || !held {
		t.Fatalf("take the lock: held %v, %v", held, err)
	}
	defer release()
	var ran []string
	e := fakeEnv(t, &ran)
	e.Stderr = pts
	if err := runEnvWithin(t, conf, e); err != nil {
		t.Fatalf("run: %v", err)
	}
	if got := testlab.ReadPTY(t, ptm, pts); !strings.Contains(got, "another netcheck run holds the lock") || !strings.Contains(got, "nothing done") {
		t.Errorf("terminal shows %q; want why nothing was done", got)
	}
	// Under cron: nothing on stderr.
	e = fakeEnv(t, &ran)
	if err := runEnvWithin(t, conf, e); err != nil {
		t.Fatalf("run: %v", err)
	}
	if _, err := e.Stderr.Seek(0, io.SeekStart); err != nil {
		t.Fatal(err)
	}
	if b, _ := io.ReadAll(e.Stderr); len(b) != 0 {
		t.Errorf("cron run while locked wrote %q to stderr; want nothing", b)
	}
	if len(ran) != 0 {
		t.Errorf("ran %q while another run held the lock", ran)
	}
	if b, _ := os.ReadFile(log); strings.Contains(string(b), "L1") {
		t.Errorf("log while locked: %q", b)
	}
}
