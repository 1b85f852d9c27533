package main

import (
	"context"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/pve-op/network-rescue/internal/cli"
	"github.com/pve-op/network-rescue/internal/command"
	"github.com/pve-op/network-rescue/internal/probe"
	"github.com/pve-op/network-rescue/internal/runenv"
	"github.com/pve-op/network-rescue/internal/testlab"
)

// TestHostLockedByHand: hostcheck run by hand while another run holds the
// lock (a rescue waiting out REBOOT_DELAY, a VM stop) used to print
// nothing and exit 0. It now says why nothing was done; nothing is probed
// or run.
func TestHostLockedByHand(t *testing.T) {
	ptm, pts := testlab.OpenPTY(t)
	dir := t.TempDir()
	stateDir, runDir := filepath.Join(dir, "state"), filepath.Join(dir, "run")
	conf := filepath.Join(dir, "host.conf")
	content := strings.Join([]string{"STATE_DIR=" + stateDir, "RUN_DIR=" + runDir, "PVE_MARK=" + filepath.Join(dir, "mark"),
		"LOG_FILE=" + filepath.Join(dir, "host.log"), "SYSLOG=0", "CHECK_TARGETS=198.51.100.1", "OP_IP=10.99.0.1",
		"SSH_KEY=" + filepath.Join(dir, "no-key"), "KNOWN_HOSTS=" + filepath.Join(dir, "known_hosts")}, "\n")
	if err := os.WriteFile(conf, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	release, held, err := cli.Lock(slog.New(slog.DiscardHandler), runDir, stateDir, "hostcheck.lock", 0)
	if err != nil || !held {
		t.Fatalf("take the lock: held %v, %v", held, err)
	}
	defer release()
	probed, ran := false, []string{}
	e := runenv.Env{Stdout: &strings.Builder{}, Stderr: pts, Now: func() time.Time { return time.Date(2026, 12, 6, 12, 0, 0, 0, time.UTC) },
		Probe: func(context.Context, probe.Config) probe.Result { probed = true; return probe.Result{} },
		Exec: func(_ context.Context, cmdline string, _ time.Duration) command.Result {
			ran = append(ran, cmdline)
			return command.Result{Cmd: cmdline}
		},
		Uptime: func() (time.Duration, error) { return time.Hour, nil }, BootID: func() (string, error) { return "boot-1", nil }}
	if err := run(context.Background(), []string{"-config", conf}, e); err != nil {
		t.Errorf("run = %v; want exit 0", err)
	}
	if got := testlab.ReadPTY(t, ptm, pts); !strings.Contains(got, "another hostcheck run holds the lock") || !strings.Contains(got, "nothing done") {
		t.Errorf("terminal shows %q; want why nothing was done", got)
	}
	if probed || len(ran) != 0 {
		t.Errorf("probed %v, ran %q while another run held the lock", probed, ran)
	}
}
