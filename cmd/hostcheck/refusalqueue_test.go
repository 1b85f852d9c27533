package main

import (
	"context"
	"fmt"
	"os"
	"slices"
	"testing"
	"time"

	"github.com/pve-op/network-rescue/internal/notify"
)

// TestRefusalKeepsQueuedMessages: the queue is full (notify.MaxQueued,
// a long outage: the owner's record of it), the refusal's message
// already waiting in it (told once a queue). A qm start refused again for
// an unread quorum adds nothing to tell. 3233dad queued this run's
// "正在启动" first (Add trims the full queue: an older, real message was
// dropped for it, the "省略了 N 条" line counted it), then took it back
// (DropLast): a message the owner should have read was gone, for one
// never told. The step's message now waits for qm's answer.
func TestRefusalKeepsQueuedMessages(t *testing.T) {
	lab := newRefusingLab(t)
	h, log := lab.h, lab.log
	lab.pvecmFails = true
	q := h.queue()
	if err := os.MkdirAll(h.cfg.StateDir, 0o700); err != nil {
		t.Fatal(err)
	}
	var want []string
	for i := range notify.MaxQueued - 1 {
		text := fmt.Sprintf("older message %d", i)
		want = append(want, text)
		if err := q.Add(notify.Message{Time: lab.at.Add(-time.Duration(notify.MaxQueued-i) * time.Minute), Event: "assist", Text: text}); err != nil {
			t.Fatal(err)
		}
	}
	if err := q.Add(notify.Message{Time: lab.at.Add(-time.Minute), Event: "vm-start-refused", Text: "OpenWrt 虚拟机 100 没有启动：qm start 被拒绝 (集群没有法定票数)。"}); err != nil {
		t.Fatal(err)
	}
	for run := range 1 {
		log.Reset()
		if err := h.check(context.Background()); err != nil {
			t.Fatalf("run %d: check = %v\n%s", run, err, log)
		}
		lab.at = lab.at.Add(5 * time.Minute)
	}
	msgs, _ := q.Load()
	var lost []string
	for _, w := range want {
		if !slices.ContainsFunc(msgs, func(m notify.Message) bool { return m.Text == w }) {
			lost = append(lost, w)
		}
	}
	if len(lost) > 0 {
		t.Errorf("a refused start, its refusal already queued (nothing new to tell), lost %q from the queue; queue now:", lost)
		for _, m := range msgs {
			t.Logf("  %s %s", m.Event, m.Text)
		}
	}
}
