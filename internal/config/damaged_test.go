package config

import (
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestLoadDamagedFile: a FIFO, a /dev/zero link or a huge file as the
// config never hangs or exhausts memory: Load fails at once with a
// config error naming the file and its kind (SPEC §15, issue 9 item 11).
func TestLoadDamagedFile(t *testing.T) {
	for kind, mk := range map[string]func(p string) error{
		"fifo":      func(p string) error { return syscall.Mkfifo(p, 0o600) },
		"device":    func(p string) error { return os.Symlink("/dev/zero", p) },
		"too large": func(p string) error { return os.WriteFile(p, []byte(strings.Repeat("# a comment\n", 100000)), 0o600) },
	} {
		t.Run(kind, func(t *testing.T) {
			p := filepath.Join(t.TempDir(), "netrescue.conf")
			if err := mk(p); err != nil {
				t.Fatal(err)
			}
			done := make(chan error, 1)
			go func() { _, err := Load(p, Router, Options{Euid: os.Geteuid()}); done <- err }()
			select {
			case err := <-done:
				if _, ok := err.(*Error); !ok || !strings.Contains(err.Error(), p) || !strings.Contains(err.Error(), kind) {
					t.Errorf("Load = %v; want a config error naming %s and %q", err, p, kind)
				}
			case <-time.After(5 * time.Second):
				t.Fatal("Load hung")
			}
		})
	}
}
