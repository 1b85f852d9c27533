package notify

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/pve-op/network-rescue/state"
)

// TestQueueDamaged: a queue linked to /dev/zero, a FIFO or a file beyond
// 64 KiB is not read (it killed hostcheck with "out of memory"): Load
// returns no messages and a *state.CorruptError naming the kind, at once,
// and Add replaces it with a sound queue (issue 9 item 18).
func TestQueueDamaged(t *testing.T) {
	plant := map[string]func(p string) error{
		"symlink":   func(p string) error { return os.Symlink("/dev/zero", p) },
		"fifo":      func(p string) error { return syscall.Mkfifo(p, 0o600) },
		"too large": func(p string) error { return os.WriteFile(p, make([]byte, state.MaxQueueBytes+1), 0o600) },
	}
	for kind, mk := range plant {
		t.Run(kind, func(t *testing.T) {
			q := Queue{Path: filepath.Join(t.TempDir(), QueueFile)}
			if err := mk(q.Path); err != nil {
				t.Fatal(err)
			}
			done := make(chan struct{})
			var msgs []Message
			var err error
			go func() { msgs, err = q.Load(); close(done) }()
			select {
			case <-done:
			case <-time.After(5 * time.Second):
				t.Fatal("Load hung")
			}
			var ce *state.CorruptError
			if len(msgs) != 0 || !errors.As(err, &ce) || ce.Kind != kind || !strings.Contains(err.Error(), q.Path) {
				t.Fatalf("Load = %d msgs, %v; want none and a damaged-%s error naming the queue", len(msgs), err, kind)
			}
			if err := q.Add(Message{Time: time.Unix(1, 0), Event: "sos", Text: "x"}); err != nil {
				t.Fatalf("Add over a damaged queue: %v", err)
			}
			if msgs, err := q.Load(); err != nil || len(msgs) != 1 {
				t.Errorf("after Add: %d msgs, %v; want the one message", len(msgs), err)
			}
		})
	}
}
