package main

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/pve-op/network-rescue/internal/config"
	"github.com/pve-op/network-rescue/internal/ladder"
	"github.com/pve-op/network-rescue/internal/midnight"
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

// TestSOSWithdrawnRaisedOnFullFlash: an SOS raised on a full flash goes in
// empty (SOS_SYSTEM needs no data block), but its withdrawal owed was
// net_outage's sos=1, which the flash could not take: after the host's
// acknowledgement (SOS_SYSTEM deleted) and the router's reboot, the hook
// that heard "sos" never heard "sos-withdrawn". Now the owed withdrawal is
// an empty file too, and it is told once: for the ladder's SOS at the
// day's limit and for the hand-over of a router that cannot count its
// reboots (ladder.OwedFile), which, still down and full, hands over again
// after it; the runs that withhold the L3 tell the outage's down (they
// told the hook nothing). STATE_DIR is a tiny tmpfs inside `unshare -m`, full from the
// start.
func TestSOSWithdrawnRaisedOnFullFlash(t *testing.T) {
	for _, tt := range []struct{ name, conf, want string }{
		{"limit", "L4_SOS_THRESHOLD=1", "sos sos-withdrawn"},
		{"hand-over", "L1_THRESHOLD=0\nL2_THRESHOLD=0\nL3_THRESHOLD=1", "sos sos-withdrawn sos"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			script := `mkdir -p "$1/state"
mount -t tmpfs -o size=64k,mode=0755 tmpfs "$1/state"
dd if=/dev/zero of="$1/state/filler" bs=4k 2>/dev/null || :`
			dir, child := testlab.InMountNS(t, "NRS_SOSW_RAISED_FULL", script, func(dir string) {
				writeConf(t, dir, tt.conf, "L1_CMD=/bin/echo L1", "L2_CMD=/bin/echo L2", "L3_CMD=/bin/echo L3", "ON_EVENT_CMD=/bin/true")
			})
			if !child {
				return
			}
			conf, e, events, boot, sos := sosBooted(t, dir)
			if err := os.WriteFile(filepath.Join(dir, "state", "probe"), []byte("x"), 0o644); err == nil {
				t.Fatal("STATE_DIR is not full: the test would prove nothing")
			}
			// The host's acknowledgement, the router rebooted.
			if err := os.Remove(sos); err != nil {
				t.Fatal(err)
			}
			if err := os.RemoveAll(filepath.Join(dir, "run")); err != nil {
				t.Fatal(err)
			}
			*boot = "boot2"
			for range 3 {
				_ = runEnvWithin(t, conf, e)
			}
			var got []string
			for _, ev := range *events {
				if strings.HasPrefix(ev, "sos") {
					got = append(got, ev)
				}
			}
			if strings.Join(got, " ") != tt.want {
				t.Errorf("events %q; want of the SOS %q", *events, tt.want)
			}
			if (*events)[0] != "down" {
				// The run that withholds its L3 told the hook nothing, not
				// even the outage's start, which RUN_DIR now holds told.
				t.Errorf("events %q; want the outage's down first", *events)
			}
		})
	}
}

// TestSOSFileStuckWithdrawalLogged: with SOS_SYSTEM immutable (chattr +i;
// root cannot remove it either) and the internet back, every run logged
// 【SOS 撤回】网络已恢复，撤回 SOS 信号。 while the file, and the SOS the
// host acts on, stayed. Now the runs say once that it cannot be removed,
// with the fix, and 【SOS 撤回】 comes from the run that removes it.
func TestSOSFileStuckWithdrawalLogged(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("skipping: chattr +i needs root (CI runs as root)")
	}
	dir := t.TempDir()
	conf, log := writeConf(t, dir, "L1_THRESHOLD=2", "L2_THRESHOLD=3", "L3_THRESHOLD=4", "L4_SOS_THRESHOLD=1",
		"L1_CMD=/bin/echo L1", "L2_CMD=/bin/echo L2", "L3_CMD=/bin/echo L3")
	var ran []string
	e := fakeEnv(t, &ran)
	sos := untilSOS(t, dir, conf, e)
	if out, err := exec.Command("chattr", "+i", sos).CombinedOutput(); err != nil {
		t.Skipf("skipping: chattr +i %s: %v %s (a file system without the immutable flag)", sos, err, out)
	}
	t.Cleanup(func() { _ = exec.Command("chattr", "-i", sos).Run() })
	e.Probe = func(context.Context, probe.Config) probe.Result { return probe.Result{Up: true} }
	lines := func(s string) int {
		b, _ := os.ReadFile(log)
		return strings.Count(string(b), s)
	}
	for range 3 {
		_ = runEnvWithin(t, conf, e)
	}
	if w, s := lines("【SOS 撤回】"), lines("【严重错误】SOS_SYSTEM 无法删除，SOS 信号仍在：请 chattr -i 后删除它"); w != 0 || s != 1 ||
		lines("【严重错误】状态无法保存") != 0 {
		t.Errorf("SOS_SYSTEM stuck, 3 healthy runs: 【SOS 撤回】 %d times, cannot be removed %d times; want 0 and 1, and no other 【严重错误】", w, s)
	}
	if out, err := exec.Command("chattr", "-i", sos).CombinedOutput(); err != nil {
		t.Fatalf("chattr -i: %v %s", err, out)
	}
	_ = runEnvWithin(t, conf, e)
	if _, err := os.Lstat(sos); err == nil || lines("【SOS 撤回】") != 1 {
		t.Errorf("then removable: SOS_SYSTEM %v, 【SOS 撤回】 %d times; want removed, once", err, lines("【SOS 撤回】"))
	}
}

// TestMidnightSOSClearedToldOnce: midnight-reset that removes an SOS
// tells ON_EVENT_CMD sos-withdrawn itself, and the next netcheck run is
// not to tell it again. Its rewrite of net_outage (sos=0) could fail
// (a full flash; net_outage immutable), unsaid, and the next run told
// "sos-withdrawn: cleared by hand" a second time. Now the withdrawal owed
// (ladder.OwedFile) goes by a removal, which a full flash allows; one that
// cannot be removed (chattr +i) is an error of the reset, logged, and its
// withdrawal is the next netcheck run's to tell, once, and not
// midnight-reset's as well. STATE_DIR is a tiny tmpfs inside
// `unshare -m`, filled after the SOS (where the SOS_SYSTEM removed frees
// a page: "full" checks the owed file's removal there, net_outage
// immutable shows the old rewrite's failure).
func TestMidnightSOSClearedToldOnce(t *testing.T) {
	for _, tt := range []struct{ name, immutable string }{
		{"full", ""}, {"record stuck", "net_outage"}, {"owed stuck", "net_sos_owed"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			script := `mkdir -p "$1/state"
mount -t tmpfs -o size=64k,mode=0755 tmpfs "$1/state"`
			dir, child := testlab.InMountNS(t, "NRS_MIDNIGHT_TOLD_ONCE", script, func(dir string) {
				rec := filepath.Join(dir, "midnight-events")
				hook := filepath.Join(dir, "hook.sh")
				if err := os.WriteFile(hook, []byte("#!/bin/sh\necho \"$NETRESCUE_EVENT\" >> "+rec+"\n"), 0o755); err != nil {
					t.Fatal(err)
				}
				writeConf(t, dir, "L1_THRESHOLD=2", "L2_THRESHOLD=3", "L3_THRESHOLD=4", "L4_SOS_THRESHOLD=1",
					"L1_CMD=/bin/echo L1", "L2_CMD=/bin/echo L2", "L3_CMD=/bin/echo L3", "ON_EVENT_CMD="+hook)
			})
			if !child {
				return
			}
			conf, log := filepath.Join(dir, "netrescue.conf"), filepath.Join(dir, "net.log")
			var ran []string
			e := fakeEnv(t, &ran)
			events := eventsOf(&e)
			untilSOS(t, dir, conf, e)
			stuck := tt.immutable == "net_sos_owed" // an error of the reset
			imm := filepath.Join(dir, "state", tt.immutable)
			if tt.immutable != "" {
				if out, err := exec.Command("chattr", "+i", imm).CombinedOutput(); err != nil {
					t.Fatalf("chattr +i %s: %v %s", imm, err, out)
				}
				t.Cleanup(func() { _ = exec.Command("chattr", "-i", imm).Run() })
			}
			_ = exec.Command("dd", "if=/dev/zero", "of="+filepath.Join(dir, "state", "filler"), "bs=4k").Run()
			*events = nil
			err := midnight.Run(context.Background(), []string{"-role", "router", "-config", conf}, &strings.Builder{}, os.Stderr, config.Router, nil)
			if b, _ := os.ReadFile(log); stuck != (err != nil) || stuck && !strings.Contains(string(b), "【严重错误】零点重置失败") {
				t.Errorf("midnight-reset = %v; want an error %v, logged\n%s", err, stuck, b)
			}
			for range 2 {
				_ = runEnvWithin(t, conf, e)
			}
			if tt.immutable != "" {
				if out, err := exec.Command("chattr", "-i", imm).CombinedOutput(); err != nil {
					t.Fatalf("chattr -i: %v %s", err, out)
				}
				for range 2 {
					_ = runEnvWithin(t, conf, e)
				}
			}
			told, _ := os.ReadFile(filepath.Join(dir, "midnight-events"))
			if n := strings.Count(string(told), "sos-withdrawn") + countOf(*events, "sos-withdrawn"); n != 1 {
				t.Errorf("sos-withdrawn told %d times (midnight-reset %q, netcheck %q); want once", n, told, *events)
			}
		})
	}
}

// TestFlagIsDirectory: a directory at net_sos_owed or net_outage_stale
// (made by hand, or left by a tool) is damage, said and moved aside by one
// run. It was read as the flag (a withdrawal owed; an outage going on that
// net_outage does not record) whose removal failed at every healthy run,
// each a 【严重错误】 and exit 1 (cron mail a minute), and the hook heard
// "up" for an outage there never was.
func TestFlagIsDirectory(t *testing.T) {
	for _, name := range []string{ladder.OwedFile, ladder.StaleFile} {
		t.Run(name, func(t *testing.T) {
			dir := t.TempDir()
			conf, log := writeConf(t, dir, "ON_EVENT_CMD=/bin/true")
			if err := os.MkdirAll(filepath.Join(dir, "state", name, "sub"), 0o755); err != nil {
				t.Fatal(err)
			}
			var ran []string
			e := fakeEnv(t, &ran)
			events := eventsOf(&e)
			e.Probe = func(context.Context, probe.Config) probe.Result { return probe.Result{Up: true} }
			for range 4 {
				_ = runEnvWithin(t, conf, e)
			}
			if len(*events) != 0 {
				t.Errorf("hook told %q; want nothing (no SOS stood, no outage was)", *events)
			}
			b, err := os.ReadFile(log)
			if err != nil {
				t.Fatal(err)
			}
			if n := strings.Count(string(b), "【严重错误】"); n != 1 || !strings.Contains(string(b), name) {
				t.Errorf("4 healthy runs, %s a directory: 【严重错误】 %d times; want once, naming it:\n%s", name, n, b)
			}
			if fi, err := os.Lstat(filepath.Join(dir, "state", name)); err == nil && fi.IsDir() {
				t.Errorf("%s is still a directory", name)
			}
		})
	}
}

// TestRecoveryAfterRebootOnFullFlash: an outage that lives entirely on a
// full flash (net_outage's since= never written) and spans a reboot, the
// host's acknowledgement's or a power cut under the standing SOS: the
// boot's first run had only net_outage to tell an outage by, and told no
// `up` and no 【状态恢复】 when the net was back, and a second `down`
// when it was not. The SOS withdrawal owed (net_sos_owed, an empty file a
// full flash takes) tells it was in an outage. With a router run between
// the host's acknowledgement and its reboot (REBOOT_DELAY, PVE stopping
// its guests), that run told the withdrawal and removed net_sos_owed, the
// outage's one trace on the full flash: net_outage_stale keeps it.
// STATE_DIR is a tiny tmpfs inside `unshare -m`, full from the start.
func TestRecoveryAfterRebootOnFullFlash(t *testing.T) {
	for _, tt := range []struct {
		name             string
		ack, between, up bool
	}{
		{"the host's acknowledgement, net back", true, false, true},
		{"the host's acknowledgement, net still down", true, false, false},
		{"the host's acknowledgement, a run before its reboot, net back", true, true, true},
		{"the host's acknowledgement, a run before its reboot, net still down", true, true, false},
		{"a power cut under the SOS, net back", false, false, true},
		{"a power cut under the SOS, net still down", false, false, false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			script := `mkdir -p "$1/state"
mount -t tmpfs -o size=64k,mode=0755 tmpfs "$1/state"
dd if=/dev/zero of="$1/state/filler" bs=4k 2>/dev/null || :`
			dir, child := testlab.InMountNS(t, "NRS_RECOVERY_FULL", script, func(dir string) {
				writeConf(t, dir, "L4_SOS_THRESHOLD=1", "L1_CMD=/bin/echo L1", "L2_CMD=/bin/echo L2", "L3_CMD=/bin/echo L3", "ON_EVENT_CMD=/bin/true")
			})
			if !child {
				return
			}
			conf, e, events, boot, sos := sosBooted(t, dir)
			if err := os.WriteFile(filepath.Join(dir, "state", "probe"), []byte("x"), 0o644); err == nil {
				t.Fatal("STATE_DIR is not full: the test would prove nothing")
			}
			if tt.ack { // the host's acknowledgement
				if err := os.Remove(sos); err != nil {
					t.Fatal(err)
				}
			}
			if tt.between {
				_ = runEnvWithin(t, conf, e) // a router run before the host's reboot, the net down
			}
			if err := os.RemoveAll(filepath.Join(dir, "run")); err != nil { // the reboot
				t.Fatal(err)
			}
			*boot = "boot2"
			e.Probe = func(context.Context, probe.Config) probe.Result { return probe.Result{Up: tt.up} }
			for range 3 {
				_ = runEnvWithin(t, conf, e)
			}
			b, _ := os.ReadFile(filepath.Join(dir, "net.log"))
			recovered := strings.Count(string(b), "【状态恢复】网络已恢复")
			want := map[bool][3]int{true: {1, 1, 1}, false: {1, 0, 0}}[tt.up] // down, up, 【状态恢复】
			if got := [3]int{countOf(*events, "down"), countOf(*events, "up"), recovered}; got != want {
				t.Errorf("down, up, 【状态恢复】 = %v; want %v (events %q)", got, want, *events)
			}
		})
	}
}

// TestStuckSOSOnFullFlash: an SOS raised on a full flash (SOS_SYSTEM and
// net_sos_owed empty, net_outage never written), SOS_SYSTEM then immutable
// (chattr +i), the net back. net_sos_owed could not take its "stuck"
// mark: every run retried the write and logged 【严重错误】状态无法保存,
// and after a reboot the owed withdrawal read as an outage at every run:
// up and 【状态恢复】 each minute. Now the unwritable mark is let go, and
// an edge told sets the boot's record (net=up): after the reboot, once.
func TestStuckSOSOnFullFlash(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("skipping: chattr +i needs root (CI runs as root)")
	}
	script := `mkdir -p "$1/state"
mount -t tmpfs -o size=64k,mode=0755 tmpfs "$1/state"
dd if=/dev/zero of="$1/state/filler" bs=4k 2>/dev/null || :`
	dir, child := testlab.InMountNS(t, "NRS_STUCK_SOS_FULL", script, func(dir string) {
		writeConf(t, dir, "L4_SOS_THRESHOLD=1", "L1_CMD=/bin/echo L1", "L2_CMD=/bin/echo L2", "L3_CMD=/bin/echo L3", "ON_EVENT_CMD=/bin/true")
	})
	if !child {
		return
	}
	conf, e, events, boot, sos := sosBooted(t, dir)
	if out, err := exec.Command("chattr", "+i", sos).CombinedOutput(); err != nil {
		t.Skipf("skipping: chattr +i %s: %v %s (a file system without the immutable flag)", sos, err, out)
	}
	t.Cleanup(func() { _ = exec.Command("chattr", "-i", sos).Run() })
	if err := os.WriteFile(filepath.Join(dir, "state", "probe"), []byte("x"), 0o644); err == nil {
		t.Fatal("STATE_DIR is not full: the test would prove nothing")
	}
	e.Probe = func(context.Context, probe.Config) probe.Result { return probe.Result{Up: true} }
	lines := func(s string) int {
		b, _ := os.ReadFile(filepath.Join(dir, "net.log"))
		return strings.Count(string(b), s)
	}
	s0, o0 := lines("SOS_SYSTEM 无法删除"), lines("【严重错误】状态无法保存")
	for range 3 {
		_ = runEnvWithin(t, conf, e)
	}
	if s, o := lines("SOS_SYSTEM 无法删除")-s0, lines("【严重错误】状态无法保存")-o0; s != 1 || o != 0 {
		t.Errorf("3 healthy runs, SOS_SYSTEM stuck on a full flash: cannot be removed %d, other 【严重错误】 %d; want 1, 0", s, o)
	}
	if err := os.RemoveAll(filepath.Join(dir, "run")); err != nil {
		t.Fatal(err)
	}
	*boot = "boot2"
	for range 5 {
		_ = runEnvWithin(t, conf, e)
	}
	// The boot's first run cannot tell the stuck SOS from a standing one
	// (its mark unwritten): one 【状态恢复】 at most, not one a minute.
	if u, r := countOf(*events, "up"), lines("【状态恢复】网络已恢复"); u > 2 || r > 2 {
		t.Errorf("after the reboot, 5 runs: up %d, 【状态恢复】 %d; want at most one more each: %q", u, r, *events)
	}
}

// TestRecoveryNotToldAgainAfterRebootOnFullFlash: an outage recorded on
// flash (since=) ends while the flash is full, with a reset pending (a
// reboot today: net_outage must be rewritten, not removed, and cannot
// be); up and 【状态恢复】 are told once (RUN_DIR's record). A reboot
// then, the net up all along (a power cut, an upgrade): the boot's first
// run read the stale since= as an outage across the reboot and told up
// and 【状态恢复】 a second time.
func TestRecoveryNotToldAgainAfterRebootOnFullFlash(t *testing.T) {
	script := `mkdir -p "$1/state"
mount -t tmpfs -o size=64k,mode=0755 tmpfs "$1/state"
printf '1\n' > "$1/state/net_rb_count"`
	dir, child := testlab.InMountNS(t, "NRS_RECOVERY_AGAIN_FULL", script, func(dir string) {
		writeConf(t, dir, "L1_THRESHOLD=50", "L2_THRESHOLD=60", "L3_THRESHOLD=70", "ON_EVENT_CMD=/bin/true")
	})
	if !child {
		return
	}
	conf := filepath.Join(dir, "netrescue.conf")
	var ran []string
	e := fakeEnv(t, &ran)
	events := eventsOf(&e)
	boot := "boot1"
	e.BootID = func() (string, error) { return boot, nil }
	runs := func(up bool, n int) {
		e.Probe = func(context.Context, probe.Config) probe.Result { return probe.Result{Up: up} }
		for range n {
			_ = runEnvWithin(t, conf, e)
		}
	}
	runs(false, 2) // the outage, on record
	if o, _ := os.ReadFile(filepath.Join(dir, "state", "net_outage")); !strings.Contains(string(o), "since=") {
		t.Fatalf("the outage is not on record: %q", o)
	}
	_ = exec.Command("dd", "if=/dev/zero", "of="+filepath.Join(dir, "state", "filler"), "bs=4k").Run()
	if err := os.WriteFile(filepath.Join(dir, "state", "probe"), []byte("x"), 0o644); err == nil {
		t.Fatal("STATE_DIR is not full: the test would prove nothing")
	}
	runs(true, 2)                                                   // the net back: up, 【状态恢复】
	if err := os.RemoveAll(filepath.Join(dir, "run")); err != nil { // a reboot
		t.Fatal(err)
	}
	boot = "boot2"
	runs(true, 2)
	b, _ := os.ReadFile(filepath.Join(dir, "net.log"))
	if u, r := countOf(*events, "up"), strings.Count(string(b), "【状态恢复】网络已恢复"); u != 1 || r != 1 {
		t.Errorf("up %d, 【状态恢复】 %d; want 1 each: the outage ended before the reboot (events %q)", u, r, *events)
	}
}

// TestOutageAcrossPowerCutOnFullFlash: an outage that starts on a full
// flash (since= never written) and no SOS yet, then a power cut: the
// boot's first run found no trace of it, and told a second down with
// the net still down, and neither up nor 【状态恢复】 with the net back.
func TestOutageAcrossPowerCutOnFullFlash(t *testing.T) {
	for _, up := range []bool{true, false} {
		t.Run(map[bool]string{true: "net back", false: "net still down"}[up], func(t *testing.T) {
			script := `mkdir -p "$1/state"
mount -t tmpfs -o size=64k,mode=0755 tmpfs "$1/state"
dd if=/dev/zero of="$1/state/filler" bs=4k 2>/dev/null || :`
			dir, child := testlab.InMountNS(t, "NRS_POWERCUT_FULL", script, func(dir string) {
				writeConf(t, dir, "L1_THRESHOLD=50", "L2_THRESHOLD=60", "L3_THRESHOLD=70", "ON_EVENT_CMD=/bin/true")
			})
			if !child {
				return
			}
			conf := filepath.Join(dir, "netrescue.conf")
			var ran []string
			e := fakeEnv(t, &ran)
			events := eventsOf(&e)
			boot := "boot1"
			e.BootID = func() (string, error) { return boot, nil }
			for range 3 {
				_ = runEnvWithin(t, conf, e)
			}
			if err := os.RemoveAll(filepath.Join(dir, "run")); err != nil { // a power cut
				t.Fatal(err)
			}
			boot = "boot2"
			e.Probe = func(context.Context, probe.Config) probe.Result { return probe.Result{Up: up} }
			for range 3 {
				_ = runEnvWithin(t, conf, e)
			}
			b, _ := os.ReadFile(filepath.Join(dir, "net.log"))
			want := map[bool][3]int{true: {1, 1, 1}, false: {1, 0, 0}}[up] // down, up, 【状态恢复】
			if got := [3]int{countOf(*events, "down"), countOf(*events, "up"), strings.Count(string(b), "【状态恢复】网络已恢复")}; got != want {
				t.Errorf("down, up, 【状态恢复】 = %v; want %v (events %q)", got, want, *events)
			}
		})
	}
}
