package main

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/pve-op/network-rescue/internal/command"
	"github.com/pve-op/network-rescue/internal/notify"
	"github.com/pve-op/network-rescue/internal/probe"
	"github.com/pve-op/network-rescue/internal/rescue"
	"github.com/pve-op/network-rescue/internal/runenv"
)

// TestDamagedHostFiles: a FIFO or a symlink in place of the mark, the
// host record or the notify queue never hangs hostcheck: the run
// finishes, logs 【严重错误】 with the kind, and never the content of what
// a symlink points to (SPEC §15, issue 9 items 11, 16, 18).
func TestDamagedHostFiles(t *testing.T) {
	secret := filepath.Join(t.TempDir(), "shadow")
	if err := os.WriteFile(secret, []byte("date=2026-11-25\nreason=SECRETHASH\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"pve_did_reboot_today", rescue.RecordFile, notify.QueueFile} {
		for _, kind := range []string{"fifo", "symlink"} {
			t.Run(name+"/"+kind, func(t *testing.T) {
				dir := t.TempDir()
				st := filepath.Join(dir, "state")
				if err := os.Mkdir(st, 0o700); err != nil {
					t.Fatal(err)
				}
				conf, log := filepath.Join(dir, "host.conf"), filepath.Join(dir, "host.log")
				// NOTIFY_URL is a documentation address: with the net "up"
				// only a sound, non-empty queue would be sent, and none is.
				lines := "STATE_DIR=" + st + "\nRUN_DIR=" + filepath.Join(dir, "run") + "\nLOG_FILE=" + log +
					"\nSYSLOG=0\nPVE_MARK=" + filepath.Join(st, "pve_did_reboot_today") +
					"\nNOTIFY_URL=http://127.0.0.1:9/hook\nCHECK_TARGETS=198.51.100.1\n"
				if err := os.WriteFile(conf, []byte(lines), 0o600); err != nil {
					t.Fatal(err)
				}
				p := filepath.Join(st, name)
				var err error
				if kind == "fifo" {
					err = syscall.Mkfifo(p, 0o644)
				} else {
					err = os.Symlink(secret, p)
				}
				if err != nil {
					t.Fatal(err)
				}
				stderr, _ := os.Create(filepath.Join(dir, "stderr"))
				defer stderr.Close()
				e := runenv.Env{Stdout: &strings.Builder{}, Stderr: stderr,
					Now:   func() time.Time { return time.Date(2026, 11, 25, 10, 0, 0, 0, time.UTC) },
					Probe: func(context.Context, probe.Config) probe.Result { return probe.Result{Up: true} },
					Exec: func(_ context.Context, cmdline string, _ time.Duration) command.Result {
						t.Errorf("command run: %s", cmdline)
						return command.Result{Cmd: cmdline}
					},
					Uptime: func() (time.Duration, error) { return 24 * time.Hour, nil },
					BootID: func() (string, error) { return "boot", nil },
				}
				done := make(chan error, 1)
				go func() { done <- run(context.Background(), []string{"-config", conf}, e) }()
				select {
				case <-done:
				case <-time.After(10 * time.Second):
					t.Fatal("hostcheck hung")
				}
				b, _ := os.ReadFile(log)
				if !strings.Contains(string(b), "【严重错误】") || !strings.Contains(string(b), kind) {
					t.Errorf("log = %s; want 【严重错误】 with the kind %s", b, kind)
				}
				if strings.Contains(string(b), "SECRET") {
					t.Errorf("log shows a symlink target's content: %s", b)
				}
			})
		}
	}
}
