package main

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/pve-op/network-rescue/internal/probe"
	"github.com/pve-op/network-rescue/internal/testlab"
)

// TestOutageEdgesFullFlash: on a full flash net_outage can take neither
// an outage's start (since=) nor its end, so it told them again and
// again: every down run "down", every healthy run "up" and 【状态恢复】
// (each an outage for report), and a new outage over the record the last
// one left, none. Now each is told once, as RUN_DIR's record of the boot
// knows it: an outage that starts on the full flash, one recorded before
// the flash filled, and one after it over that record. A reboot today
// (count 1) keeps a reset pending, so that the healthy runs must rewrite
// net_outage, not remove it. STATE_DIR is a tiny tmpfs inside `unshare -m`.
func TestOutageEdgesFullFlash(t *testing.T) {
	script := `mkdir -p "$1/state"
mount -t tmpfs -o size=64k,mode=0755 tmpfs "$1/state"
printf '1\n' > "$1/state/net_rb_count"`
	dir, child := testlab.InMountNS(t, "NRS_EDGES_FULL", script, func(dir string) {
		writeConf(t, dir, "L1_THRESHOLD=50", "L2_THRESHOLD=60", "L3_THRESHOLD=70", "ON_EVENT_CMD=/bin/true")
	})
	if !child {
		return
	}
	conf, log := filepath.Join(dir, "netrescue.conf"), filepath.Join(dir, "net.log")
	filler := filepath.Join(dir, "state", "filler")
	fill := func() {
		_ = exec.Command("dd", "if=/dev/zero", "of="+filler, "bs=4k").Run()
		if err := os.WriteFile(filepath.Join(dir, "state", "probe"), []byte("x"), 0o644); err == nil {
			t.Fatal("STATE_DIR is not full: the test would prove nothing")
		}
	}
	var ran []string
	e := fakeEnv(t, &ran)
	events := eventsOf(&e)
	runs := func(up bool, n int) {
		e.Probe = func(context.Context, probe.Config) probe.Result { return probe.Result{Up: up} }
		for range n {
			_ = runEnvWithin(t, conf, e)
		}
	}
	check := func(phase string, want int) {
		t.Helper()
		b, _ := os.ReadFile(log)
		if d, u, r := countOf(*events, "down"), countOf(*events, "up"), strings.Count(string(b), "【状态恢复】网络已恢复"); d != want || u != want || r != want {
			t.Errorf("%s: down %d, up %d, 【状态恢复】网络已恢复 %d; want %d each (events %q)", phase, d, u, r, want, *events)
		}
	}
	fill()
	runs(false, 3)
	runs(true, 2)
	check("an outage on a full flash", 1)
	if err := os.Remove(filler); err != nil {
		t.Fatal(err)
	}
	runs(false, 1)
	if o, _ := os.ReadFile(filepath.Join(dir, "state", "net_outage")); !strings.Contains(string(o), "since=") {
		t.Fatalf("the outage is not on record: %q", o)
	}
	fill()
	runs(false, 1)
	runs(true, 3)
	check("an outage on record, ended on a full flash", 2)
	runs(false, 3)
	runs(true, 2)
	check("another outage over its record", 3)
}
