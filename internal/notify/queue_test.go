package notify

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
	"unicode/utf8"

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

// TestQueueBoundedInBytes: texts that quote a hostile router's SOS_SYSTEM
// (4 KiB of '<' and control bytes, six bytes each as JSON) took the queue
// past the 64 KiB Load reads in three messages: it read as damaged, every
// message in it lost, and 【严重错误】 logged. The queue keeps to the bound
// as it keeps to MaxQueued: the first, a line counting those dropped, the
// newest; a text is cut at MaxText.
func TestQueueBoundedInBytes(t *testing.T) {
	q := Queue{Path: filepath.Join(t.TempDir(), QueueFile)}
	hostile := strings.Repeat("<\x01", 2048) // the 4 KiB remote.MaxFileRead lets through
	for i := range 8 {
		if err := q.Add(Message{Time: time.Unix(int64(i), 0), Event: "host-reboot", Text: fmt.Sprintf("%d %s %s", i, hostile, hostile)}); err != nil {
			t.Fatal(err)
		}
		msgs, err := q.Load()
		if err != nil {
			t.Fatalf("Load after %d messages: %v", i+1, err)
		}
		if !strings.HasPrefix(msgs[0].Text, "0 ") || !strings.HasPrefix(msgs[len(msgs)-1].Text, fmt.Sprint(i)+" ") {
			t.Fatalf("after %d messages: first %.8q, newest %.8q; want message 0 and message %d", i+1, msgs[0].Text, msgs[len(msgs)-1].Text, i)
		}
		kept, dropped := len(msgs), 0
		if kept > 1 && msgs[1].Event == Dropped {
			kept, dropped = kept-1, msgs[1].Count
		}
		if kept+dropped != i+1 {
			t.Fatalf("after %d messages: %d kept, %d counted dropped; want every message kept or counted", i+1, kept, dropped)
		}
	}
	msgs, _ := q.Load()
	if last := msgs[len(msgs)-1].Text; len(last) > MaxText || !strings.HasSuffix(last, "…") || !utf8.ValidString(last) {
		t.Errorf("the newest text, %d bytes, ends %q; want it cut at %d bytes with …, valid UTF-8", len(last), last[max(0, len(last)-8):], MaxText)
	}
	if fi, err := os.Stat(q.Path); err != nil || fi.Size() > state.MaxQueueBytes {
		t.Errorf("queue file: %v; want at most %d bytes", err, state.MaxQueueBytes)
	}
}

// TestClip: a text is cut on a character's boundary (Chinese text is 3
// bytes a character), with an ellipsis, at most max bytes.
func TestClip(t *testing.T) {
	for _, tc := range []struct {
		text string
		max  int
		want string
	}{
		{"short", 10, "short"},
		{"exactly10!", 10, "exactly10!"},
		{"0123456789ab", 10, "0123456…"},
		{"断网约三十分钟", 12, "断网约…"}, // 7 characters, 21 bytes: 9 bytes and the ellipsis's 3
		{"断网约三十分钟", 10, "断网…"},
	} {
		if got := clip(tc.text, tc.max); got != tc.want || len(got) > tc.max {
			t.Errorf("clip(%q, %d) = %q; want %q", tc.text, tc.max, got, tc.want)
		}
	}
}

// TestTextBounded: one delivery carries at most MaxSent bytes (Telegram
// takes 4096 characters, Bark 4 KiB of payload): a queue of long texts
// (a hostile router's SOS quoted, MaxText each) went out whole, every
// delivery was refused the same way and the queue never cleared. The
// first message and the newest that fit are sent, with a line counting
// those left out; a short queue is sent as it is.
func TestTextBounded(t *testing.T) {
	at := func(i int) time.Time { return time.Date(2026, 12, 8, 10, i, 0, 0, time.UTC) }
	short := []Message{{Time: at(0), Text: "OpenWrt 发出 SOS：count=10"}, {Time: at(5), Text: "互联网已恢复，断网约 5m0s。"}}
	if got, want := Text(short, time.UTC), "12-08 10:00 OpenWrt 发出 SOS：count=10\n12-08 10:05 互联网已恢复，断网约 5m0s。"; got != want {
		t.Errorf("Text(two short) = %q; want %q", got, want)
	}
	var long []Message
	for i := range MaxQueued {
		long = append(long, Message{Time: at(i), Text: fmt.Sprintf("%d %s", i, strings.Repeat("<", MaxText))})
	}
	got := Text(long, time.UTC)
	lines := strings.Split(got, "\n")
	if len(got) > MaxSent || !strings.HasPrefix(lines[0], "12-08 10:00 0 ") || !strings.HasPrefix(lines[len(lines)-1], fmt.Sprintf("12-08 10:%02d %d ", MaxQueued-1, MaxQueued-1)) {
		t.Fatalf("Text(%d long) = %d bytes, first %.20q, last %.20q; want at most %d, the first and the newest", MaxQueued, len(got), lines[0], lines[len(lines)-1], MaxSent)
	}
	if want := fmt.Sprintf("(此处省略了 %d 条通知，详见日志。)", MaxQueued-(len(lines)-1)); lines[1] != want {
		t.Errorf("Text(%d long): second line %q; want %q", MaxQueued, lines[1], want)
	}
	// Bark's body, JSON: a '<' went as six bytes (\u003c), 18 KiB.
	req, err := Request("https://api.day.app/KEY/", got, long)
	if err != nil || len(req.Body) > 4096 {
		t.Errorf("Bark's request for it: %d bytes, %v; want at most 4096", len(req.Body), err)
	}
}
