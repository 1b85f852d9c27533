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
	"github.com/pve-op/network-rescue/internal/remote"
	"github.com/pve-op/network-rescue/internal/rescue"
	"github.com/pve-op/network-rescue/internal/runenv"
	"github.com/pve-op/network-rescue/internal/testlab"
	"github.com/pve-op/network-rescue/state"
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
	out := &testlab.Buffer{}
	e := runenv.Env{Stdout: out, Stderr: stderr, Now: func() time.Time { return now }}
	done := make(chan error, 1)
	go func() { done <- run(context.Background(), []string{"-config", conf, "pause", "2h"}, e) }()
	select {
	case err := <-done:
		t.Errorf("pause returned (%v) while a run held the lock", err)
	case <-time.After(300 * time.Millisecond):
	}
	// The person is told why nothing happens yet.
	if got := out.String(); !strings.Contains(got, "for the hostcheck run under way to finish") {
		t.Errorf("pause waiting for the run said %q; want that it waits, and how long", got)
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

// TestDrillWaitsForRun: `hostcheck drill` (and `boot`) take the cron
// run's lock, waiting for a run under way: a cron run that saw the
// drill's SOS on the router took it for real and rebooted the host. The
// run is played by the test holding hostcheck.lock; the router is not
// there (the drill then fails reading it, after the lock).
func TestDrillWaitsForRun(t *testing.T) {
	for _, sub := range []string{"drill", "boot"} {
		dir := t.TempDir()
		stateDir, runDir := filepath.Join(dir, "state"), filepath.Join(dir, "run")
		conf := filepath.Join(dir, "host.conf")
		lines := "STATE_DIR=" + stateDir + "\nRUN_DIR=" + runDir + "\nLOG_FILE=" + filepath.Join(dir, "host.log") +
			"\nPVE_MARK=" + filepath.Join(stateDir, "mark") + "\nSYSLOG=0\nOP_IP=127.0.0.1\nOP_SSH_PORT=9\nSSH_TIMEOUT=1s\n" +
			"SSH_KEY=" + filepath.Join(dir, "no-key") + "\nKNOWN_HOSTS=" + filepath.Join(dir, "known_hosts") + "\n"
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
		out := &testlab.Buffer{}
		e := runenv.Env{Stdout: out, Stderr: stderr, Now: func() time.Time { return time.Date(2026, 11, 25, 10, 0, 20, 0, time.UTC) },
			Uptime: func() (time.Duration, error) { return time.Hour, nil }, BootID: func() (string, error) { return "boot-1", nil }}
		done := make(chan error, 1)
		go func() { done <- run(context.Background(), []string{"-config", conf, sub}, e) }()
		select {
		case err := <-done:
			t.Errorf("%s returned (%v) while a run held the lock", sub, err)
		case <-time.After(300 * time.Millisecond):
		}
		// A person running the drill is told why nothing happens yet;
		// boot, run by cron at @reboot, says nothing of it.
		if got, said := out.String(), sub == "drill"; strings.Contains(got, "waiting up to") != said {
			t.Errorf("%s waiting for the run said %q; want the wait told: %v", sub, got, said)
		}
		release()
		select {
		case <-done:
		case <-time.After(20 * time.Second):
			t.Fatalf("%s hung after the lock was released", sub)
		}
		stderr.Close()
	}
	// -live acts for real: refused in a dry run.
	dir := t.TempDir()
	conf := filepath.Join(dir, "host.conf")
	if err := os.WriteFile(conf, []byte("DRY_RUN=1\nSTATE_DIR="+dir+"\nRUN_DIR="+dir+"/run\nLOG_FILE="+dir+"/log\nSYSLOG=0\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	e := runenv.Env{Stdout: &strings.Builder{}, Now: time.Now}
	if err := run(context.Background(), []string{"-config", conf, "drill", "-live", "-yes"}, e); cli.ExitCode(err) != cli.ExitUsage {
		t.Errorf("drill -live in a dry run: %v (exit %d); want a usage error", err, cli.ExitCode(err))
	}
}

// TestDrillWait: the drill's SOS stands between second 10 and about 50
// of a minute, away from the router's cron run at second 0, which reads
// SOS as it starts (one withdrew the drill's SOS: a false 【SOS 撤回】) and
// writes its state after a probe of up to PROBE_TIMEOUT (3 s).
func TestDrillWait(t *testing.T) {
	for _, tc := range []struct {
		at   time.Duration // into the minute
		want time.Duration
	}{
		{0, 10 * time.Second},
		{9500 * time.Millisecond, 500 * time.Millisecond},
		{10 * time.Second, 0},
		{45 * time.Second, 0},
		{46 * time.Second, 24 * time.Second},
		{59*time.Second + 900*time.Millisecond, 10100 * time.Millisecond},
	} {
		now := time.Date(2026, 11, 25, 10, 7, 0, 0, time.UTC).Add(tc.at)
		if got := drillWait(now); got != tc.want {
			t.Errorf("drillWait at :%02d.%03d = %v; want %v", now.Second(), now.Nanosecond()/1e6, got, tc.want)
		}
	}
}

// TestDrillTarget: the drill puts back, file by file, only what is still
// as it left it; what the router's own run wrote meanwhile stays and is
// named (it deleted a real SOS and lowered the count, or, after its
// acknowledgement, left count 0 behind for a change to net_outage alone).
func TestDrillTarget(t *testing.T) {
	const drill = "time=x count=drill reason=hostcheck drill"
	before := remote.RouterState{HasCount: true, Count: "3\n", HasCooling: true, Cooling: "1700000000"}
	raised := before
	raised.SOS, raised.SOSContent = true, drill
	acked := remote.RouterState{HasCount: true, Count: "0\n", HasRescuedBy: true, RescuedBy: "host\n"}
	for _, tc := range []struct {
		name        string
		expect, now remote.RouterState
		want        remote.RouterState
		theirs      string
	}{
		{"as the drill left it", raised, raised, withSOS(before, drill), ""},
		{"the router reached SOS meanwhile", raised,
			remote.RouterState{HasCount: true, Count: "10\n", HasCooling: true, Cooling: "1700000000", SOS: true, SOSContent: "count=10"},
			remote.RouterState{HasCount: true, Count: "10\n", HasCooling: true, Cooling: "1700000000", SOS: true, SOSContent: "count=10"},
			"net_rb_count, SOS_SYSTEM"},
		{"after the ack, only net_outage changed", acked,
			remote.RouterState{HasCount: true, Count: "0\n", HasRescuedBy: true, RescuedBy: "host\n", HasOutage: true, Outage: "since=1"},
			remote.RouterState{HasCount: true, Count: "3\n", HasCooling: true, Cooling: "1700000000", HasOutage: true, Outage: "since=1"}, ""},
		{"after the ack, the router raised SOS", acked,
			remote.RouterState{HasCount: true, Count: "10\n", HasRescuedBy: true, RescuedBy: "host\n", SOS: true, SOSContent: "count=10"},
			remote.RouterState{HasCount: true, Count: "10\n", HasCooling: true, Cooling: "1700000000", SOS: true, SOSContent: "count=10"},
			"net_rb_count, SOS_SYSTEM"},
		// The acknowledgement got through but its answer was lost (a
		// Ctrl-C, SSH_TIMEOUT): its count 0, no cooling and rescued_by
		// are the drill's, put back (they were left, blamed on the router).
		{"the ack's answer lost", raised, ackedState(raised), before, ""},
	} {
		mine := []remote.RouterState{tc.expect}
		if tc.name == "the ack's answer lost" {
			mine = append(mine, ackedState(tc.expect))
		}
		got, theirs := drillTarget(before, tc.now, mine...)
		if got != tc.want || strings.Join(theirs, ", ") != tc.theirs {
			t.Errorf("%s: target %+v, theirs %q; want %+v, %q", tc.name, got, theirs, tc.want, tc.theirs)
		}
	}
}

// withSOS is before with the drill's SOS still in it (drillTarget leaves
// SOS_SYSTEM as it is; DeleteSOSIf removes the drill's).
func withSOS(before remote.RouterState, sos string) remote.RouterState {
	before.SOS, before.SOSContent = true, sos
	return before
}

// TestPauseEndsOnSpentDay: a pause that runs out on a day whose host
// rescue is spent (the mark dated today) ends by itself as on any other
// day (SPEC §16): 【恢复自救】 when it runs out, the file removed. The
// spent day's silence dropped both, every run, until the next day's first
// run told it with yesterday's time.
func TestPauseEndsOnSpentDay(t *testing.T) {
	l := newObsLab(t)
	l.cfg.VMID = ""
	store := rescue.Store{Mark: l.cfg.PVEMark, StateDir: l.cfg.StateDir}
	today := rescue.Today(l.now)
	spent := rescue.State{HasMark: true, LastReboot: today,
		Mark: state.Mark{Date: today, Time: l.now.Add(-3 * time.Hour), Dated: true, Reason: "SOS", BootID: "boot-0"}}
	if err := store.Save(rescue.State{}, spent); err != nil {
		t.Fatal(err)
	}
	if err := pause.Write(l.cfg.StateDir, l.now.Add(-time.Minute)); err != nil {
		t.Fatal(err)
	}
	l.run()
	if !strings.Contains(l.log.String(), "【恢复自救】") {
		t.Errorf("a pause run out on a spent day: no 【恢复自救】:\n%s", l.log.String())
	}
	if _, err := os.Lstat(pause.Path(l.cfg.StateDir)); err == nil {
		t.Errorf("a pause run out on a spent day: %s still there", pause.Path(l.cfg.StateDir))
	}
}
