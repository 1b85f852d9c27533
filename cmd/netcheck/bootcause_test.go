package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/pve-op/network-rescue/internal/command"
	"github.com/pve-op/network-rescue/internal/ladder"
	"github.com/pve-op/network-rescue/internal/probe"
	"github.com/pve-op/network-rescue/internal/runenv"
	"github.com/pve-op/network-rescue/internal/testlab"
)

// bootRouter is a router of cmd/netcheck's run with a clock, an uptime, a
// boot id and the internet as the test sets them, for what its 【启动】
// line says rebooted it (reboot=).
type bootRouter struct {
	t                *testing.T
	conf, log        string
	stateDir, runDir string
	now              time.Time
	uptime           time.Duration
	boot             string
	bootErr          bool
	up               bool
	l3Fails          bool
	ran              []string
}

func newBootRouter(t *testing.T, extra ...string) *bootRouter {
	return newBootRouterIn(t, t.TempDir(), extra...)
}

func newBootRouterIn(t *testing.T, dir string, extra ...string) *bootRouter {
	r := &bootRouter{t: t, conf: filepath.Join(dir, "netrescue.conf"), log: filepath.Join(dir, "net.log"),
		stateDir: filepath.Join(dir, "state"), runDir: filepath.Join(dir, "run"),
		now: time.Date(2026, 11, 25, 10, 0, 0, 0, time.UTC), uptime: 24 * time.Hour, boot: "b1"}
	content := strings.Join(append([]string{
		"STATE_DIR=" + r.stateDir, "RUN_DIR=" + r.runDir, "LOG_FILE=" + r.log, "SYSLOG=0",
		"SAFE_UPTIME=0", "L1_THRESHOLD=0", "L2_THRESHOLD=0", "L3_THRESHOLD=1",
		"L3_CMD=/sbin/reboot", "RECOVERY_STABLE=30m", "WAN_GATEWAY=off",
	}, extra...), "\n")
	if err := os.WriteFile(r.conf, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return r
}

// env is the run's environment: this router's clock, uptime, boot id and
// net; L3_CMD recorded, failing with l3Fails.
func (r *bootRouter) env() runenv.Env {
	e := fakeEnv(r.t, &r.ran)
	e.Now = func() time.Time { return r.now }
	e.Uptime = func() (time.Duration, error) { return r.uptime, nil }
	e.BootID = func() (string, error) {
		if r.bootErr {
			return "", errors.New("boot_id: no such file")
		}
		return r.boot, nil
	}
	e.Probe = func(context.Context, probe.Config) probe.Result { return probe.Result{Up: r.up} }
	e.Exec = func(_ context.Context, cmdline string, _ time.Duration) command.Result {
		r.ran = append(r.ran, cmdline)
		if r.l3Fails && cmdline == "/sbin/reboot" {
			return command.Result{Cmd: cmdline, ExitCode: 1, Err: errors.New("exit status 1")}
		}
		return command.Result{Cmd: cmdline}
	}
	return e
}

// tick is one cron run, a minute after the last.
func (r *bootRouter) tick() {
	r.t.Helper()
	_ = run(context.Background(), []string{"-config", r.conf}, r.env())
	r.now, r.uptime = r.now.Add(time.Minute), r.uptime+time.Minute
}

// reboot empties RUN_DIR and starts boot id, now: the next run is two
// minutes into it.
func (r *bootRouter) reboot(id string) {
	r.t.Helper()
	if err := os.RemoveAll(r.runDir); err != nil {
		r.t.Fatal(err)
	}
	r.boot, r.uptime, r.now = id, 2*time.Minute, r.now.Add(2*time.Minute)
}

// lastStart is the log's last 【启动】 line.
func (r *bootRouter) lastStart() string {
	b, _ := os.ReadFile(r.log)
	last := ""
	for _, l := range strings.Split(string(b), "\n") {
		if strings.Contains(l, "【启动】") {
			last = l
		}
	}
	return last
}

// TestBootCauseFailedL3: an L3 whose L3_CMD fails (no reboot) left
// reboot_by=l3 in net_outage for good: the net came back and stayed up
// past RECOVERY_STABLE, net_outage was never removed, and the next boot,
// a power cut days later, was logged reboot=l3.
func TestBootCauseFailedL3(t *testing.T) {
	r := newBootRouter(t)
	r.up = true
	r.tick() // first run of b1: reboot=other
	r.up, r.l3Fails = false, true
	r.tick() // L3, its command fails: still boot b1
	if len(r.ran) != 1 {
		t.Fatalf("commands %q; want the one L3", r.ran)
	}
	r.up = true
	for i := 0; i < 45; i++ { // up, past RECOVERY_STABLE
		r.tick()
	}
	if b, _ := os.ReadFile(r.log); !strings.Contains(string(b), "网络已稳定") {
		t.Fatalf("no RECOVERY_STABLE reset in the log:\n%s", b)
	}
	if rec, err := os.ReadFile(filepath.Join(r.stateDir, ladder.OutageFile)); err == nil {
		t.Errorf("net_outage still there after the outage ended and the count was reset:\n%s", rec)
	}
	r.now = r.now.Add(48 * time.Hour)
	r.reboot("b2") // a power cut, days later
	r.tick()
	r.wantReboot("other", "the power cut's 【启动】", false)
}

// TestBootCauseHostAfterFailedL3: the L3's command fails, the ladder goes
// on to SOS in the same boot, and the host acknowledges it and reboots the
// router VM (net_rescued_by=vm): the boot was logged reboot=l3, not vm.
func TestBootCauseHostAfterFailedL3(t *testing.T) {
	r := newBootRouter(t, "L4_SOS_THRESHOLD=2")
	r.up = true
	r.tick()
	r.up, r.l3Fails = false, true
	r.tick() // L3 #1, fails
	r.tick() // count would reach 2: SOS
	if _, err := os.Stat(filepath.Join(r.stateDir, ladder.SOSFile)); err != nil {
		t.Fatalf("no SOS: %v (ran %q)", err, r.ran)
	}
	// The host's acknowledgement: net_rescued_by, SOS_SYSTEM gone, the VM rebooted.
	r.rescued("vm")
	if err := os.Remove(filepath.Join(r.stateDir, ladder.SOSFile)); err != nil {
		t.Fatal(err)
	}
	r.reboot("b2")
	r.tick()
	r.wantReboot("vm", "the host's VM reboot's 【启动】", false)
}

// TestBootCauseBootIDUnreadable: with /proc/sys/kernel/random/boot_id
// unreadable, every run without a boot in RUN_DIR is boot "unknown", and
// the L3 recorded that: the boot the L3 brought read as the boot it was
// ordered in, its 【启动】 had no reboot= at all, and the order stayed.
func TestBootCauseBootIDUnreadable(t *testing.T) {
	r := newBootRouter(t)
	r.bootErr = true
	r.up = true
	r.tick()
	r.up = false
	r.tick() // L3, lands
	if len(r.ran) != 1 {
		t.Fatalf("commands %q; want the one L3", r.ran)
	}
	r.reboot("b2")
	r.tick()
	r.wantReboot("l3", "the L3's boot's 【启动】", false)
}

// TestBootCauseFullFlashAtBoot: the first run of the boot an L3 brought
// names it (reboot=l3) and clears the order, but on a full flash
// net_outage cannot take the clearing; RUN_DIR records the boot as seen,
// so no later run retried it, also once the flash had room again, and a
// power cut a day later was logged reboot=l3. STATE_DIR is a tiny tmpfs
// inside unshare -m.
func TestBootCauseFullFlashAtBoot(t *testing.T) {
	script := `mkdir -p "$1/state"
mount -t tmpfs -o size=64k,mode=0755 tmpfs "$1/state"`
	dir, child := testlab.InMountNS(t, "NRS_BOOTCAUSE_FULL", script, nil)
	if !child {
		return
	}
	r := newBootRouterIn(t, dir)
	filler := filepath.Join(r.stateDir, "filler")
	r.up = true
	r.tick()
	r.up = false
	r.tick() // L3, lands
	r.reboot("b2")
	_ = exec.Command("dd", "if=/dev/zero", "of="+filler, "bs=4k").Run()
	if err := os.WriteFile(filepath.Join(r.stateDir, "probe"), []byte("x"), 0o644); err == nil {
		t.Fatal("STATE_DIR is not full: the test would prove nothing")
	}
	r.tick() // 【启动】 reboot=l3, the clearing not written
	if err := os.Remove(filler); err != nil {
		t.Fatal(err)
	}
	r.up = true
	for i := 0; i < 45; i++ { // the flash has room; up past RECOVERY_STABLE
		r.tick()
	}
	if rec, err := os.ReadFile(filepath.Join(r.stateDir, ladder.OutageFile)); err == nil {
		t.Errorf("net_outage still there after the outage ended and the count was reset:\n%s", rec)
	}
	r.now = r.now.Add(24 * time.Hour)
	r.reboot("b3") // a power cut
	r.tick()
	r.wantReboot("other", "the power cut's 【启动】", false)
}

// TestBootCauseFailedAssistReboot: the host's `netcheck assist reboot`
// whose L3_CMD fails (the host hears result=failed) left reboot_by=assist
// in net_outage; the router's next boot, a power cut the next day, was
// logged reboot=assist.
func TestBootCauseFailedAssistReboot(t *testing.T) {
	r := newBootRouter(t)
	r.up = true
	r.tick()
	r.l3Fails = true
	_ = run(context.Background(), []string{"-config", r.conf, "assist", "reboot"}, r.env())
	if len(r.ran) != 1 {
		t.Fatalf("commands %q; want the assist's L3_CMD", r.ran)
	}
	for i := 0; i < 10; i++ {
		r.tick()
	}
	r.now = r.now.Add(24 * time.Hour)
	r.reboot("b2") // a power cut the next day
	r.tick()
	r.wantReboot("other", "the power cut's 【启动】", false)
}

// TestBootCauseL3Lands: the plain case end to end: the L3 lands, its boot
// says reboot=l3, and a power cut after it reboot=other.
func TestBootCauseL3Lands(t *testing.T) {
	r := newBootRouter(t)
	r.up = true
	r.tick()
	r.up = false
	r.tick() // L3
	r.reboot("b2")
	r.up = true // the L3 fixed it
	r.tick()
	r.wantReboot("l3", "the L3's boot's 【启动】", false)
	r.tick()
	r.reboot("b3") // a power cut while cooling or not: none of ours
	r.tick()
	r.wantReboot("other", "the power cut's 【启动】", false)
}

// TestBootCauseNoRebootCame: L3_CMD returns (exit 0, or ended by our own
// ActionTimeout) and the router keeps running: the order stayed in
// net_outage for the whole boot, and a power cut two days later was
// logged reboot=l3. RebootGrace after the order a run of the same boot
// clears it.
func TestBootCauseNoRebootCame(t *testing.T) {
	for _, tt := range []struct {
		name string
		res  command.Result
	}{
		{"exit 0, no reboot", command.Result{Cmd: "/sbin/reboot"}},
		{"ended by ActionTimeout", command.Result{Cmd: "/sbin/reboot", ExitCode: -1,
			Err: errors.New("killed after 2m0s: context deadline exceeded")}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			r := newBootRouter(t)
			r.up = true
			r.tick()
			r.up = false
			e := r.env()
			e.Exec = func(_ context.Context, cmdline string, _ time.Duration) command.Result {
				r.ran = append(r.ran, cmdline)
				return tt.res
			}
			_ = run(context.Background(), []string{"-config", r.conf}, e) // L3; no reboot comes
			r.now, r.uptime = r.now.Add(time.Minute), r.uptime+time.Minute
			if len(r.ran) != 1 {
				t.Fatalf("commands %q; want the one L3", r.ran)
			}
			r.up = true
			for i := 0; i < 45; i++ { // still boot b1, up past RECOVERY_STABLE
				r.tick()
			}
			if rec, err := os.ReadFile(filepath.Join(r.stateDir, ladder.OutageFile)); err == nil {
				t.Errorf("net_outage still there 45 min into the same boot, the count reset:\n%s", rec)
			}
			r.now = r.now.Add(48 * time.Hour)
			r.reboot("b2") // a power cut, two days later
			r.tick()
			if last := r.lastStart(); !strings.Contains(last, "reboot=other") {
				t.Errorf("the power cut's 【启动】: %s\nwant reboot=other: the L3 of two days ago never rebooted the router", last)
			}
		})
	}
}

// TestBootCauseRescueNamedOnce: the host acknowledges SOS and reboots the
// router VM (net_rescued_by=vm); the net stays down and the ladder, at its
// limit, raises SOS again at once (no step clears net_rescued_by). A
// power cut then was logged reboot=vm, a second boot of the host's one
// rescue.
func TestBootCauseRescueNamedOnce(t *testing.T) {
	r := newBootRouter(t, "L4_SOS_THRESHOLD=3", "COOLING_FREE_REBOOTS=0", "COOLING_STEP=1h", "COOLING_MAX=3h")
	r.up = true
	r.tick()
	r.up = false
	r.tick() // L3 #1, cooling 1h
	r.reboot("b2")
	r.now = r.now.Add(2 * time.Hour)
	r.tick() // reboot=l3; cooling over: L3 #2, cooling 2h
	r.reboot("b3")
	r.now = r.now.Add(3 * time.Hour)
	r.tick() // count would reach 3: SOS
	if _, err := os.Stat(filepath.Join(r.stateDir, ladder.SOSFile)); err != nil {
		t.Fatalf("no SOS: %v (ran %q)", err, r.ran)
	}
	// The host's acknowledgement: net_rescued_by, SOS_SYSTEM gone, the VM rebooted.
	r.rescued("vm")
	if err := os.Remove(filepath.Join(r.stateDir, ladder.SOSFile)); err != nil {
		t.Fatal(err)
	}
	r.reboot("b4")
	r.tick()
	r.wantReboot("vm", "the host's VM reboot's 【启动】", true)
	for i := 0; i < 5; i++ {
		r.tick()
	}
	r.now = r.now.Add(time.Hour)
	r.reboot("b5") // a power cut an hour on, the net still down
	r.tick()
	r.wantReboot("other", "the power cut's 【启动】", false)
}

// ackAsHost is remote.AckSOS(resetCount=true) on the router's STATE_DIR:
// net_rb_count 0, no cooling, net_rescued_by, SOS_SYSTEM gone.
func (r *bootRouter) ackAsHost(by string) {
	r.t.Helper()
	if err := os.MkdirAll(r.stateDir, 0o755); err != nil {
		r.t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(r.stateDir, ladder.CountFile), []byte("0\n"), 0o644); err != nil {
		r.t.Fatal(err)
	}
	_ = os.Remove(filepath.Join(r.stateDir, ladder.CoolingFile))
	r.rescued(by)
	_ = os.Remove(filepath.Join(r.stateDir, ladder.SOSFile))
}

// rescued writes net_rescued_by as the host's sync does, at the router's
// clock (its mtime is when the rescue was).
func (r *bootRouter) rescued(by string) {
	r.t.Helper()
	p := filepath.Join(r.stateDir, ladder.RescuedFile)
	if err := os.WriteFile(p, []byte(by+"\n"), 0o644); err != nil {
		r.t.Fatal(err)
	}
	if err := os.Chtimes(p, r.now, r.now); err != nil {
		r.t.Fatal(err)
	}
}

// TestBootCauseRunBetweenAckAndReboot: the host acknowledges SOS and
// reboots (REBOOT_DELAY, then PVE's shutdown of its guests); a cron run of
// the router in between (the net still down) told the withdrawal, and the
// boot the host's reboot brought was logged reboot=other.
func TestBootCauseRunBetweenAckAndReboot(t *testing.T) {
	r := newBootRouter(t, "L4_SOS_THRESHOLD=1")
	r.up = true
	r.tick()
	r.up = false
	r.tick() // count would reach 1: SOS
	if _, err := os.Stat(filepath.Join(r.stateDir, ladder.SOSFile)); err != nil {
		t.Fatalf("no SOS: %v (ran %q)", err, r.ran)
	}
	r.ackAsHost("host")
	// Thresholds that take no step on the run between: only the naming.
	b, _ := os.ReadFile(r.conf)
	if err := os.WriteFile(r.conf, []byte(strings.Replace(string(b), "L3_THRESHOLD=1", "L3_THRESHOLD=5", 1)), 0o600); err != nil {
		t.Fatal(err)
	}
	r.tick() // a cron run during the host's shutdown, same boot b1
	if len(r.ran) != 0 {
		t.Fatalf("commands %q; want none", r.ran)
	}
	r.reboot("b2") // the host's reboot
	r.tick()
	r.wantReboot("host", "the host's rescue's 【启动】", false)
}

// TestBootCauseHostRebootNoSOS: the host's reboot at the end of its assist
// ladder (SPEC §14: the router's own net up, no SOS) syncs the router
// (count 0, net_rescued_by=host), waits REBOOT_DELAY and PVE stops its
// guests, and reboots: the router's boot was logged reboot=other, also
// after a router run in between, its net up, removed net_rescued_by.
func TestBootCauseHostRebootNoSOS(t *testing.T) {
	for _, between := range []bool{false, true} {
		r := newBootRouter(t)
		r.up = true
		r.tick()
		r.tick()
		r.ackAsHost("host")
		if between {
			r.tick() // a cron run during REBOOT_DELAY / PVE's shutdown, same boot b1
		}
		r.reboot("b2")
		r.tick()
		r.wantReboot("host", fmt.Sprintf("the host's reboot's 【启动】 (a run between: %v)", between), false)
		for i := 0; i < 15; i++ {
			r.tick()
		}
		if _, err := os.Stat(filepath.Join(r.stateDir, ladder.RescuedFile)); err == nil {
			t.Errorf("net_rescued_by still there, the net up (a run between: %v)", between)
		}
	}
}

// TestBootCauseRescuedByRewritten: the host cold-restarts the router VM
// (net_rescued_by=vm), its boot names it, the net stays down; a `hostcheck
// drill` meanwhile puts net_rescued_by back as it was (the same content,
// written anew: a new mtime). A power cut an hour after that was logged
// reboot=vm, a second boot of the one rescue. (Within RescueGrace of it,
// a boot may still be the host's, and reads so.)
func TestBootCauseRescuedByRewritten(t *testing.T) {
	r := newBootRouter(t, "L1_THRESHOLD=0", "L2_THRESHOLD=0", "L3_THRESHOLD=1000")
	r.up = true
	r.tick()
	r.up = false
	r.tick()
	r.rescued("vm")
	r.reboot("b2")
	r.tick()
	r.wantReboot("vm", "the host's VM restart's 【启动】", true)
	for i := 0; i < 20; i++ {
		r.tick()
	}
	r.rescued("host")         // the drill's acknowledgement
	r.rescued("vm")           // its restore, a new mtime
	for i := 0; i < 61; i++ { // the runs of the hour after it (RescueGrace)
		r.tick()
	}
	r.reboot("b3") // a power cut, the net still down
	r.tick()
	r.wantReboot("other", "the power cut's 【启动】", false)
}

// setConf replaces old with repl in the router's config.
func (r *bootRouter) setConf(old, repl string) {
	r.t.Helper()
	b, _ := os.ReadFile(r.conf)
	if err := os.WriteFile(r.conf, []byte(strings.Replace(string(b), old, repl, 1)), 0o600); err != nil {
		r.t.Fatal(err)
	}
}

// count is how many times s is in the log.
func (r *bootRouter) count(s string) int {
	b, _ := os.ReadFile(r.log)
	return strings.Count(string(b), s)
}

// TestBootCauseHostRebootSlow: the host's reboot comes 13 minutes after its
// sync (REBOOT_DELAY up to 10 minutes, PVE's shutdown of its guests, a qm
// stop waiting VM_STOP_TIMEOUT): its boot was logged reboot=other.
func TestBootCauseHostRebootSlow(t *testing.T) {
	r := newBootRouter(t, "L4_SOS_THRESHOLD=1")
	r.raiseSOS() // with L4_SOS_THRESHOLD=1
	r.ackAsHost("host")
	r.now = r.now.Add(13 * time.Minute)
	r.reboot("b2")
	r.tick()
	r.wantReboot("host", "the host's reboot's 【启动】", false)
}

// TestBootCauseHostRebootAfterStep: after the host's acknowledgement the
// ladder starts over, and a run before the host's reboot came took L1
// (act clears net_rescued_by): the boot was logged reboot=other.
func TestBootCauseHostRebootAfterStep(t *testing.T) {
	r := newBootRouter(t, "L4_SOS_THRESHOLD=1")
	r.raiseSOS() // with L4_SOS_THRESHOLD=1
	r.ackAsHost("host")
	r.setConf("L1_THRESHOLD=0", "L1_THRESHOLD=2")
	r.setConf("L3_THRESHOLD=1", "L3_THRESHOLD=10")
	r.tick()
	r.tick() // L1, during PVE's shutdown of its guests
	if len(r.ran) == 0 {
		t.Fatalf("no step before the host's reboot: the test would prove nothing")
	}
	r.reboot("b2")
	r.tick()
	r.wantReboot("host", "the host's reboot's 【启动】", false)
}

// TestBootCauseNoStaleRescueAfterBoot: the host's reboot after its assists
// (the net up, no SOS); its boot names it, then a blip of one run with no
// step: 【状态恢复】 must not name the host, whose rescue was the boot
// before it (net_rescued_by was kept ten minutes with the net up).
func TestBootCauseNoStaleRescueAfterBoot(t *testing.T) {
	r := newBootRouter(t, "L3_THRESHOLD=5")
	r.up = true
	r.tick()
	r.ackAsHost("host")
	r.reboot("b2")
	r.tick()
	r.wantReboot("host", "the host's reboot's 【启动】", true)
	r.up = false
	r.tick()
	r.up = true
	r.tick()
	b, _ := os.ReadFile(r.log)
	for _, l := range strings.Split(string(b), "\n") {
		if strings.Contains(l, "【状态恢复】网络已恢复") && strings.Contains(l, "last_action=host") {
			t.Errorf("a blip after the host's reboot was named, told as the host's rescue:\n%s", l)
		}
	}
}

// stuckSOS raises SOS, makes SOS_SYSTEM immutable (chattr +i) and brings
// the net back: 【状态恢复】 once, the withdrawal owed while the file stays.
func stuckSOS(t *testing.T, r *bootRouter) {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("skipping: chattr +i needs root (CI runs as root)")
	}
	r.raiseSOS() // with L4_SOS_THRESHOLD=1
	sos := filepath.Join(r.stateDir, ladder.SOSFile)
	if out, err := exec.Command("chattr", "+i", sos).CombinedOutput(); err != nil {
		t.Skipf("skipping: chattr +i %s: %v %s (a file system without the immutable flag)", sos, err, out)
	}
	t.Cleanup(func() { _ = exec.Command("chattr", "-i", sos).Run() })
	r.up = true
	for range 3 {
		r.tick()
	}
	if n := r.count("【状态恢复】网络已恢复"); n != 1 {
		t.Fatalf("【状态恢复】 %d times before the reboot; want 1", n)
	}
}

// TestStuckSOSRebootRecoveryOnce: with SOS_SYSTEM stuck (its withdrawal
// owed), a reboot's first run, the net up, told 【状态恢复】 a second time
// for the outage told over before it.
func TestStuckSOSRebootRecoveryOnce(t *testing.T) {
	r := newBootRouter(t, "L4_SOS_THRESHOLD=1")
	stuckSOS(t, r)
	r.now = r.now.Add(time.Hour)
	r.reboot("b2")
	r.tick()
	if n := r.count("【状态恢复】网络已恢复"); n != 1 {
		b, _ := os.ReadFile(r.log)
		t.Errorf("【状态恢复】 %d times; want 1 (the outage ended before the reboot):\n%s", n, b)
	}
}

// TestStuckSOSRebootNewOutageDown: the same, the net down at the boot's
// first run: a new outage, whose down ON_EVENT_CMD was not told.
func TestStuckSOSRebootNewOutageDown(t *testing.T) {
	r := newBootRouter(t, "L4_SOS_THRESHOLD=1", "ON_EVENT_CMD=/bin/true")
	stuckSOS(t, r)
	r.now = r.now.Add(time.Hour)
	r.reboot("b2")
	r.up = false
	e := r.env()
	events := eventsOf(&e)
	_ = run(context.Background(), []string{"-config", r.conf}, e)
	if countOf(*events, "down") != 1 {
		t.Errorf("events at the boot's first run, the net down after it was told up: %q; want down", *events)
	}
}

// TestBootCauseForgottenRescue: the host acknowledges SOS (net_rescued_by),
// a router run sees it, then the host's reboot misfires or is cancelled
// and hostcheck's forgetRescue deletes net_rescued_by: a power cut 20
// minutes later was logged reboot=host.
func TestBootCauseForgottenRescue(t *testing.T) {
	r := newBootRouter(t, "L4_SOS_THRESHOLD=1")
	r.raiseSOS() // with L4_SOS_THRESHOLD=1
	r.ackAsHost("host")
	r.tick()                                                                         // a router run sees the acknowledgement
	if err := os.Remove(filepath.Join(r.stateDir, ladder.RescuedFile)); err != nil { // remote.ForgetRescue
		t.Fatal(err)
	}
	for range 20 {
		r.tick()
	}
	r.reboot("b2") // a power cut
	r.tick()
	r.wantReboot("other", "the power cut's 【启动】", false)
}

// TestBootCauseL3BeforeHostReboot: the host acknowledges SOS and reboots
// after REBOOT_DELAY; meanwhile the router's ladder, started over, takes
// an L3, whose boot names l3. The host's reboot then came, logged
// reboot=other: the L3's order had taken the host's place.
func TestBootCauseL3BeforeHostReboot(t *testing.T) {
	r := newBootRouter(t, "L4_SOS_THRESHOLD=2")
	r.up = true
	r.tick()
	r.up = false
	r.tick() // L3 #1
	r.reboot("b2")
	r.tick() // count would reach 2: SOS
	if _, err := os.Stat(filepath.Join(r.stateDir, ladder.SOSFile)); err != nil {
		t.Fatalf("no SOS: %v (ran %q)", err, r.ran)
	}
	r.ackAsHost("host") // count 0, SOS gone
	r.tick()            // the ladder starts over: L3 (count 1 < 2)
	if len(r.ran) != 2 {
		t.Fatalf("ran %q; want a second L3 after the acknowledgement", r.ran)
	}
	r.reboot("b3") // the router's L3 lands
	r.tick()
	r.wantReboot("l3", "the L3's 【启动】", true)
	r.now = r.now.Add(3 * time.Minute)
	r.reboot("b4") // the host's reboot
	r.tick()
	r.wantReboot("host", "the host's reboot's 【启动】", false)
}

// TestBootCauseDamagedRescueSeen: the host's reboot was named, the net
// stays down (net_rescued_by kept for 【状态恢复】), and net_outage's
// rescue_seen is damaged: the same writing became a new rescue, and a
// power cut 10 minutes later read reboot=host. Damaged is seen.
func TestBootCauseDamagedRescueSeen(t *testing.T) {
	r := newBootRouter(t, "L4_SOS_THRESHOLD=1")
	r.raiseSOS() // with L4_SOS_THRESHOLD=1
	r.ackAsHost("host")
	r.now = r.now.Add(5 * time.Minute)
	r.reboot("b2")
	r.tick()
	r.wantReboot("host", "the host's reboot's 【启动】", true)
	r.tick()
	p := filepath.Join(r.stateDir, ladder.OutageFile)
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(string(b), "\n")
	for i, l := range lines {
		if strings.HasPrefix(l, "rescue_seen=") {
			lines[i] = "rescue_seen=x"
		}
	}
	if err := os.WriteFile(p, []byte(strings.Join(lines, "\n")), 0o644); err != nil {
		t.Fatal(err)
	}
	for range 10 {
		r.tick()
	}
	r.reboot("b3") // a power cut, the net still down
	r.tick()
	r.wantReboot("other", "the power cut's 【启动】", false)
}

// raiseSOS runs the router up once, then down once: with
// L4_SOS_THRESHOLD=1 the down run raises SOS.
func (r *bootRouter) raiseSOS() {
	r.t.Helper()
	r.up = true
	r.tick()
	r.up = false
	r.tick()
	if _, err := os.Stat(filepath.Join(r.stateDir, ladder.SOSFile)); err != nil {
		r.t.Fatalf("no SOS: %v (ran %q)", err, r.ran)
	}
}

// wantReboot checks the log's last 【启动】 (the boot named what) says
// reboot=want; fatal stops the test there.
func (r *bootRouter) wantReboot(want, what string, fatal bool) {
	r.t.Helper()
	if last := r.lastStart(); !strings.Contains(last, "reboot="+want) {
		if fatal {
			r.t.Fatalf("%s: %s\nwant reboot=%s (ran %q)", what, last, want, r.ran)
		}
		r.t.Errorf("%s: %s\nwant reboot=%s (ran %q)", what, last, want, r.ran)
	}
}

// TestBootCauseL3BeforeHostRebootRunsBetween: as
// TestBootCauseL3BeforeHostReboot, with the L3's boot running a few
// minutes (the net back) before the host's reboot comes: the second run
// of the L3's boot took the host's order for one of an earlier boot that
// no boot will name (orderGone), and the host's reboot read
// reboot=other.
func TestBootCauseL3BeforeHostRebootRunsBetween(t *testing.T) {
	r := newBootRouter(t, "L4_SOS_THRESHOLD=2")
	r.up = true
	r.tick()
	r.up = false
	r.tick() // L3 #1
	r.reboot("b2")
	r.tick() // count would reach 2: SOS
	r.ackAsHost("host")
	r.tick() // the ladder starts over: L3 (count 1 < 2)
	if len(r.ran) != 2 {
		t.Fatalf("ran %q; want a second L3 after the acknowledgement", r.ran)
	}
	r.reboot("b3") // the router's L3 lands, and fixes the net
	r.up = true
	r.tick()
	r.wantReboot("l3", "the L3's 【启动】", true)
	for range 3 {
		r.tick() // the host still in REBOOT_DELAY / stopping its guests
	}
	r.reboot("b4") // the host's reboot
	r.tick()
	r.wantReboot("host", "the host's reboot's 【启动】", false)
}

// TestBootCauseForgottenRescueNetUp: the host's reboot at the end of its
// assist ladder (the router's net up, no SOS) syncs the router; the
// router's next run, its net up, removes net_rescued_by at once; the
// host's reboot then misfires and ForgetRescue finds nothing to delete.
// A reboot by hand 20 minutes later read reboot=host.
func TestBootCauseForgottenRescueNetUp(t *testing.T) {
	r := newBootRouter(t)
	r.up = true
	r.tick()
	r.ackAsHost("host")
	r.tick() // a router run during REBOOT_DELAY, the net up: it removed net_rescued_by
	// The host's reboot misfires: remote.ForgetRescue.
	_ = os.Remove(filepath.Join(r.stateDir, ladder.RescuedFile))
	for range 20 {
		r.tick()
	}
	r.reboot("b2") // a reboot by hand
	r.tick()
	r.wantReboot("other", "the reboot by hand's 【启动】", false)
}

// TestRescueNotNamedAfterGrace: the host acknowledges SOS, the ladder
// starts over and takes L1 while the host's reboot is awaited
// (net_rescued_by kept for it), and the reboot never comes, nor the
// host's withdrawal (its SSH failed too): once RescueGrace has passed,
// the recovery is the router's own, not the host's.
func TestRescueNotNamedAfterGrace(t *testing.T) {
	r := newBootRouter(t, "L4_SOS_THRESHOLD=1")
	r.raiseSOS() // with L4_SOS_THRESHOLD=1
	r.ackAsHost("host")
	r.setConf("L1_THRESHOLD=0", "L1_THRESHOLD=2")
	r.setConf("L3_THRESHOLD=1", "L3_THRESHOLD=1000")
	for range 70 { // L1, then past RescueGrace, the net down
		r.tick()
	}
	r.up = true
	r.tick()
	if n := r.count("last_action=host"); n != 0 {
		b, _ := os.ReadFile(r.log)
		t.Errorf("the recovery named the host, whose reboot never came:\n%s", b)
	}
}

// TestStatusStuckSOS: SOS_SYSTEM made immutable (chattr +i) stays after
// the net is back, and the runs log 【严重错误】 for it; `netcheck status`
// said ✓ state writable all the while (its directory takes files). Now
// that line is a ✗ naming the file, with chattr -i as the fix, and ✓
// again once the flag is gone.
func TestStatusStuckSOS(t *testing.T) {
	r := newBootRouter(t, "L4_SOS_THRESHOLD=1")
	stuckSOS(t, r)
	sos := filepath.Join(r.stateDir, ladder.SOSFile)
	status := func() string {
		e := r.env()
		var out strings.Builder
		e.Stdout = &out
		_ = run(context.Background(), []string{"-config", r.conf, "status", "-crontab", filepath.Join(r.stateDir, "crontab")}, e)
		return out.String()
	}
	want := "✗ state writable: " + sos + " is immutable or append-only (chattr +i or +a): the runs cannot replace or remove it\n" +
		"    fix: chattr -i -a " + sos + "\n"
	if out := status(); !strings.Contains(out, want) {
		t.Errorf("status with SOS_SYSTEM immutable:\n%s\nwant\n%s", out, want)
	}
	if out, err := exec.Command("chattr", "-i", sos).CombinedOutput(); err != nil {
		t.Fatalf("chattr -i %s: %v %s", sos, err, out)
	}
	if out := status(); !strings.Contains(out, "✓ state writable: "+r.stateDir+"\n") {
		t.Errorf("status with the flag gone:\n%s\nwant ✓ state writable", out)
	}
}
