package main

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/pve-op/network-rescue/internal/pause"
	"github.com/pve-op/network-rescue/internal/testlab"
)

// TestResumeStartsLadderOver: the streak climbs while paused (the 【暂停】
// lines say what each rung would have done). `resume` used to remove the
// pause and keep that streak, so the next run jumped straight to an L3,
// skipping L1 and L2. Now it ends the pause at once, and the next run ends
// it as one that ran out: 【恢复自救】, the streak from 1, L1 first (SPEC
// §16, §0: the least disruptive step first).
func TestResumeStartsLadderOver(t *testing.T) {
	dir := t.TempDir()
	conf, log := writeConf(t, dir, "L1_THRESHOLD=2", "L2_THRESHOLD=5", "L3_THRESHOLD=8",
		"L1_CMD=/bin/echo L1", "L2_CMD=/bin/echo L2", "L3_CMD=/bin/echo L3")
	var ran []string
	e := fakeEnv(t, &ran)
	if err := runEnvWithinArgs(t, e, "-config", conf, "pause", "1h"); err != nil {
		t.Fatalf("pause: %v", err)
	}
	for i := 0; i < 11; i++ {
		if err := runEnvWithin(t, conf, e); err != nil {
			t.Fatalf("paused run %d: %v", i+1, err)
		}
	}
	if len(ran) != 0 {
		t.Fatalf("ran %q while paused", ran)
	}
	if err := runEnvWithinArgs(t, e, "-config", conf, "resume"); err != nil {
		t.Fatalf("resume: %v", err)
	}
	for i := 1; i <= 2; i++ {
		before := len(ran)
		if err := runEnvWithin(t, conf, e); err != nil {
			t.Fatalf("run %d after resume: %v", i, err)
		}
		if got, want := strings.Join(ran[before:], "; "), map[int]string{2: "/bin/echo L1"}[i]; got != want {
			t.Errorf("run %d after resume ran %q; want %q", i, got, want)
		}
	}
	b, _ := os.ReadFile(log)
	// The pause's end is told once, by the run that ends it.
	if n := strings.Count(string(b), "【恢复自救】"); n != 1 {
		t.Errorf("【恢复自救】 logged %d times; want once:\n%s", n, b)
	}
	after := string(b)[strings.Index(string(b), "【恢复自救】维护模式已结束"):]
	for _, want := range []string{"第 1 次失败", "第 2 次失败", "【L1-动作】"} {
		if !strings.Contains(after, want) {
			t.Errorf("after resume the log lacks %q:\n%s", want, after)
		}
	}
	if _, err := os.Stat(filepath.Join(dir, "state", "netrescue.pause")); err == nil {
		t.Errorf("the pause file is still there after the run that ended it")
	}
	// No pause under way: resume says so, leaves no file behind and logs
	// nothing (it used to log a 【恢复自救】 for a pause that never was).
	var out strings.Builder
	e.Stdout = &out
	if err := runEnvWithinArgs(t, e, "-config", conf, "resume"); err != nil {
		t.Fatalf("resume without a pause: %v", err)
	}
	if _, err := os.Stat(filepath.Join(dir, "state", "netrescue.pause")); err == nil {
		t.Errorf("resume without a pause wrote one")
	}
	if b2, _ := os.ReadFile(log); string(b2) != string(b) || !strings.Contains(out.String(), "no pause under way") {
		t.Errorf("resume without a pause: stdout %q, log grew by %q; want \"no pause under way\" and nothing logged", out.String(), string(b2)[len(b):])
	}
}

// TestResumeAfterDeadline: `resume` in the minute after the pause ran
// out, before any run ended it, used to delete the file: the next run saw
// no pause to end and jumped to an L3 with the streak of the pause. The
// pause now ends at its own deadline, and the next run ends it.
func TestResumeAfterDeadline(t *testing.T) {
	dir := t.TempDir()
	conf, log := writeConf(t, dir, "L1_THRESHOLD=2", "L2_THRESHOLD=5", "L3_THRESHOLD=8",
		"L1_CMD=/bin/echo L1", "L2_CMD=/bin/echo L2", "L3_CMD=/bin/echo L3")
	var ran []string
	e := fakeEnv(t, &ran)
	now := time.Date(2026, 11, 25, 10, 0, 0, 0, time.UTC)
	e.Now = func() time.Time { return now }
	if err := runEnvWithinArgs(t, e, "-config", conf, "pause", "1h"); err != nil {
		t.Fatalf("pause: %v", err)
	}
	for i := 0; i < 11; i++ {
		if err := runEnvWithin(t, conf, e); err != nil {
			t.Fatalf("paused run %d: %v", i+1, err)
		}
		now = now.Add(5 * time.Minute)
	}
	now = time.Date(2026, 11, 25, 11, 0, 20, 0, time.UTC) // the deadline passed 20 s ago
	if err := runEnvWithinArgs(t, e, "-config", conf, "resume"); err != nil {
		t.Fatalf("resume: %v", err)
	}
	if err := runEnvWithin(t, conf, e); err != nil {
		t.Fatalf("run after resume: %v", err)
	}
	b, _ := os.ReadFile(log)
	if len(ran) != 0 || !strings.Contains(string(b), "【恢复自救】维护模式已结束") {
		t.Errorf("after resume past the deadline: ran %q; want nothing, the pause ended by the run:\n%s", ran, b)
	}
}

// TestDryRunPause: `-dry-run pause` used to pause the real rescue (the
// file in STATE_DIR, no 【演练】 on its line) while the dry run itself went
// on rehearsing. It now pauses the dry run's own state (SPEC §5 rule 5):
// the real cron run still acts, and the line says it is a rehearsal.
func TestDryRunPause(t *testing.T) {
	dir := t.TempDir()
	conf, log := writeConf(t, dir, "L1_THRESHOLD=1", "L1_CMD=/bin/echo L1")
	var ran []string
	e := fakeEnv(t, &ran)
	if err := runEnvWithinArgs(t, e, "-config", conf, "-dry-run", "pause", "1h"); err != nil {
		t.Fatalf("pause: %v", err)
	}
	if _, err := os.Stat(filepath.Join(dir, "state", "netrescue.pause")); err == nil {
		t.Errorf("a dry run paused the real rescue")
	}
	if _, err := os.Stat(filepath.Join(dir, "state", "netrescue-dry-run", "netrescue.pause")); err != nil {
		t.Errorf("the dry run's own pause: %v", err)
	}
	if b, _ := os.ReadFile(log); !strings.Contains(string(b), "【演练】【暂停】维护模式开始") {
		t.Errorf("the pause line is not led by 【演练】:\n%s", b)
	}
	if err := runEnvWithin(t, conf, e); err != nil {
		t.Fatalf("real run: %v", err)
	}
	if strings.Join(ran, "; ") != "/bin/echo L1" {
		t.Errorf("the real run ran %q; want L1 (not paused)", ran)
	}
}

// TestPauseWaitsForRun: `pause` takes the cron run's lock, waiting for a
// run under way. It used to write the pause file at once, and a run that
// had loaded an expired pause before it saved its state with no pause,
// deleting the new one: the owner was told "paused" while the router
// went on climbing its ladder (SPEC §16).
func TestPauseWaitsForRun(t *testing.T) {
	dir := t.TempDir()
	conf, _ := writeConf(t, dir, "L1_THRESHOLD=1", "L2_THRESHOLD=2", "L3_THRESHOLD=3",
		"L1_CMD=/bin/echo L1", "L2_CMD=/bin/echo L2", "L3_CMD=/bin/echo L3")
	var ranRun, ranPause []string
	e := fakeEnv(t, &ranRun)
	now := e.Now()
	if err := pause.Write(filepath.Join(dir, "state"), now.Add(-time.Hour)); err != nil { // run out, not yet ended
		t.Fatal(err)
	}
	entered, gate := make(chan struct{}), make(chan struct{})
	var once sync.Once
	e.Uptime = func() (time.Duration, error) {
		once.Do(func() { close(entered) })
		<-gate // the run holds its lock, its state loaded
		return 24 * time.Hour, nil
	}
	runDone := make(chan error, 1)
	go func() { runDone <- run(context.Background(), []string{"-config", conf}, e) }()
	<-entered
	// The pause's clock: an hour later once the run ends. The pause counts
	// from when it got the lock, not from before its wait (up to minutes).
	var released atomic.Bool
	pe := fakeEnv(t, &ranPause)
	pe.Now = func() time.Time {
		if released.Load() {
			return now.Add(time.Hour)
		}
		return now
	}
	out := &testlab.Buffer{}
	pe.Stdout = out
	pauseDone := make(chan error, 1)
	go func() {
		pauseDone <- run(context.Background(), []string{"-config", conf, "pause", "2h"}, pe)
	}()
	select {
	case err := <-pauseDone:
		t.Errorf("pause returned (%v) while a run held the lock", err)
	case <-time.After(300 * time.Millisecond):
	}
	// The person is told why nothing happens yet (it was silent for up
	// to the run's probe and action, minutes).
	if got := out.String(); !strings.Contains(got, "for the netcheck run under way to finish") {
		t.Errorf("pause waiting for the run said %q; want that it waits, and how long", got)
	}
	released.Store(true)
	close(gate)
	for name, ch := range map[string]chan error{"run": runDone, "pause": pauseDone} {
		select {
		case err := <-ch:
			if err != nil {
				t.Errorf("%s: %v", name, err)
			}
		case <-time.After(10 * time.Second):
			t.Fatalf("%s hung", name)
		}
	}
	until, err := pause.Read(filepath.Join(dir, "state"), now)
	if want := now.Add(3 * time.Hour); err != nil || !until.Equal(want) {
		t.Errorf("after the run and the pause: pause until %v (%v); want %v (2h from when it got the lock)", until, err, want)
	}
}
