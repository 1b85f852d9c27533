package main

import (
	"context"
	"errors"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/ssh"

	"github.com/pve-op/network-rescue/internal/command"
	"github.com/pve-op/network-rescue/internal/probe"
	"github.com/pve-op/network-rescue/internal/remote"
	"github.com/pve-op/network-rescue/internal/rescue"
)

// TestQMStopRefusedByLockNoEscalation: the run decides the hung router
// VM's cold restart, and between its guards (no vzdump then) and its
// `qm stop` a backup (or a snapshot, a migration) takes the VM's config
// lock. qemu-server's _do_vm_stop (src/PVE/QemuServer.pm) runs
// check_lock before touching QEMU: qm stop dies "VM is locked (backup)"
// and the VM was never touched. That is no QEMU stuck in a stop: the
// day's cold restart was not made, and the run after the lock must make
// it, not reboot the host for "today's cold restart could not stop it"
// (SPEC §13 rule 4: a config lock is 【推迟】; rule 5 escalates a VM that
// will not start, not one a lock kept us from touching).
func TestQMStopRefusedByLockNoEscalation(t *testing.T) {
	var ran []string
	locked := false
	h := testHost(t, func(_ context.Context, cmdline string, _ time.Duration) command.Result {
		ran = append(ran, cmdline)
		switch {
		case strings.Contains(cmdline, "qm status "):
			return command.Result{Cmd: cmdline, Stdout: "name: openwrt\nqmpstatus: running\nstatus: running\nvmid: 100\n"}
		case strings.Contains(cmdline, "qm config "):
			return command.Result{Cmd: cmdline, Stdout: "name: openwrt\nnet0: virtio=BC:24:11:00:00:01,bridge=vmbr0\n"}
		case strings.Contains(cmdline, "qm stop ") && locked:
			return command.Result{Cmd: cmdline, Err: errors.New("exit status 255"), ExitCode: 255, Stderr: "VM is locked (backup)\n"}
		case strings.HasSuffix(cmdline, "is-system-running"):
			return command.Result{Cmd: cmdline, Stdout: "running\n"}
		}
		return command.Result{Cmd: cmdline}
	})
	defer func(g time.Duration) { vmStopGrace = g }(vmStopGrace)
	vmStopGrace = 0
	dir, log := checkable(t, h)
	h.cfg.RouterHungAfter, h.cfg.VMHungAfter, h.cfg.MinHostUptime, h.cfg.VMStopTimeout = 10*time.Minute, 10*time.Minute, 0, 0
	at := testNow
	h.e.Now = func() time.Time { return at }
	h.corosync, h.vzdumpLock, h.procRoot = []string{filepath.Join(dir, "no-corosync")}, filepath.Join(dir, "no-lock"), t.TempDir()
	h.e.Probe = func(context.Context, probe.Config) probe.Result { return probe.Result{Up: false} }
	h.e.Signals = func(parent context.Context) (context.Context, context.CancelFunc) { return context.WithCancel(parent) }

	h.check(context.Background()) // 10:00: the router's silence begins
	if slices.ContainsFunc(ran, func(c string) bool { return strings.Contains(c, "qm stop") }) {
		t.Fatalf("10:00: commands %q; want no cold restart before VM_HUNG_AFTER:\n%s", ran, log.String())
	}
	at = at.Add(10 * time.Minute)
	locked = true // the backup takes the lock after this run's guards
	h.check(context.Background())
	if !slices.ContainsFunc(ran, func(c string) bool { return strings.Contains(c, "qm stop") }) {
		t.Fatalf("10:10: commands %q; want the cold restart's qm stop:\n%s", ran, log.String())
	}
	if strings.Contains(log.String(), "今天的冷重启失败") {
		t.Errorf("10:10: a qm stop the lock refused is said as today's cold restart failing:\n%s", log.String())
	}
	locked = false // the backup (a short one) is over; the router still hangs
	restarted := ""
	for run := 0; run < 2 && restarted == ""; run++ {
		at = at.Add(5 * time.Minute)
		log.Reset()
		ran = nil
		h.check(context.Background())
		if slices.Contains(ran, "/usr/bin/systemctl reboot") {
			t.Fatalf("%s, after the backup: the host rebooted for a qm stop a lock refused; want the day's cold restart:\n%s", at.Format("15:04"), log.String())
		}
		if slices.ContainsFunc(ran, func(c string) bool { return strings.Contains(c, "qm stop") }) {
			restarted = at.Format("15:04")
		}
	}
	if restarted != "10:15" {
		t.Errorf("the day's cold restart after the lock at %q; want at 10:15 (the router silent since 10:00, VM_HUNG_AFTER 10m)", restarted)
	}
}

// TestQMStopRefusedTellsNoRestart: a qm stop a config lock refused made no
// cold restart, and the hook hears none (the event taken back). The owner
// was told "正在冷重启" all the same, queued before qm stop, then "没有冷
// 重启", and once the lock was gone "正在冷重启" again for the one restart
// made: two cold restarts told for one, as a start queued before qm's
// refusal was (vmCounted waits for qm's answer).
func TestQMStopRefusedTellsNoRestart(t *testing.T) {
	locked, vm := false, "running"
	h := testHost(t, func(_ context.Context, cmdline string, _ time.Duration) command.Result {
		switch {
		case strings.Contains(cmdline, "qm status "):
			return command.Result{Cmd: cmdline, Stdout: "name: openwrt\nqmpstatus: " + vm + "\nstatus: " + vm + "\nvmid: 100\n"}
		case strings.Contains(cmdline, "qm config "):
			return command.Result{Cmd: cmdline, Stdout: "name: openwrt\nnet0: virtio=BC:24:11:00:00:01,bridge=vmbr0\n"}
		case strings.Contains(cmdline, "qm stop ") && locked:
			return command.Result{Cmd: cmdline, Err: errors.New("exit status 255"), ExitCode: 255, Stderr: "VM is locked (snapshot)\n"}
		case strings.Contains(cmdline, "qm stop "):
			vm = "stopped"
		case strings.Contains(cmdline, "qm start "):
			vm = "running"
		case strings.HasSuffix(cmdline, "is-system-running"):
			return command.Result{Cmd: cmdline, Stdout: "running\n"}
		}
		return command.Result{Cmd: cmdline}
	})
	defer func(g, c time.Duration) { vmStopGrace, vmStartConfirm = g, c }(vmStopGrace, vmStartConfirm)
	vmStopGrace, vmStartConfirm = 0, 0
	dir, log := checkable(t, h)
	h.cfg.NotifyURL = "http://127.0.0.1:9/push" // never sent: the internet is down throughout
	h.cfg.RouterHungAfter, h.cfg.VMHungAfter, h.cfg.MinHostUptime, h.cfg.VMStopTimeout = 10*time.Minute, 10*time.Minute, 0, 0
	at := testNow
	h.e.Now = func() time.Time { return at }
	h.corosync, h.vzdumpLock, h.procRoot = []string{filepath.Join(dir, "no-corosync")}, filepath.Join(dir, "no-lock"), t.TempDir()
	h.e.Probe = func(context.Context, probe.Config) probe.Result { return probe.Result{Up: false} }
	h.e.Signals = func(parent context.Context) (context.Context, context.CancelFunc) { return context.WithCancel(parent) }
	restarts := func() (n int) {
		msgs, _ := h.queue().Load()
		for _, m := range msgs {
			if m.Event == "vm-restart" && strings.Contains(m.Text, "正在冷重启") {
				n++
			}
		}
		return n
	}

	h.check(context.Background()) // 10:00: the router's silence begins
	at = at.Add(10 * time.Minute)
	locked = true
	h.check(context.Background()) // 10:10: the cold restart, refused by the lock
	if n := restarts(); n != 0 {
		msgs, _ := h.queue().Load()
		t.Errorf("10:10, qm stop refused by a lock: %d \"正在冷重启\" messages queued (%v); want none, no cold restart was made:\n%s", n, msgs, log.String())
	}
	locked = false
	at = at.Add(5 * time.Minute)
	h.check(context.Background()) // 10:15: the day's cold restart
	if n := restarts(); n != 1 {
		msgs, _ := h.queue().Load()
		t.Errorf("10:15, after the day's one cold restart: %d \"正在冷重启\" messages queued (%v); want 1:\n%s", n, msgs, log.String())
	}
}

// TestLANVMRestartRefusedByLock: a LAN path fault's reboot step with the
// router as a VM is the VM's cold restart (lanVMRestart), recorded in
// lan_steps before qm stop. A config lock refused the stop: the day's
// cold restart was given back (84cf78b), but lan_steps kept "reboot",
// so the run after the lock found every router-side step tried and
// rebooted the host ("LAN fault (path) after network,reboot") for a cold
// restart that was never made. The step goes back with the day's.
func TestLANVMRestartRefusedByLock(t *testing.T) {
	h, log, _ := lanAssistHost(t)
	var ran []string
	locked := true
	h.e.Exec = func(_ context.Context, cmdline string, _ time.Duration) command.Result {
		ran = append(ran, cmdline)
		if strings.Contains(cmdline, "qm stop ") && locked {
			return command.Result{Cmd: cmdline, Err: errors.New("exit status 255"), ExitCode: 255, Stderr: "VM is locked (backup)\n"}
		}
		return command.Result{Cmd: cmdline}
	}
	h.cfg.VMID = "100"
	fakeRouter(t, h, func(string, ssh.Channel) int { return 0 })
	store := h.store()
	now := testNow.In(h.loc)
	st := rescue.State{LANFault: rescue.LANPath, LANSeen: 2, LANSteps: "network", DownSince: now.Add(-10 * time.Minute)}
	obs := func(now time.Time) rescue.Obs {
		return rescue.Obs{Now: now, Uptime: 24 * time.Hour, BootID: "boot", NetKnown: true, NetDetail: "all down",
			VMKnown: true, VM: rescue.VMStatus{Status: "running", QMP: "running"},
			RouterKnown: true, Router: rescue.Router{SelfKnown: true, SelfUp: true, Count: "0"}, GuardsKnown: true}
	}
	step := rescue.Decide(h.cfg, st, obs(now))
	if step.Action != rescue.VMRestart {
		t.Fatalf("setup: %v; want the VM's cold restart (%s)", step.Action, msgs(step))
	}
	if err := store.Save(st, step.Next); err != nil {
		t.Fatal(err)
	}
	h.carryOut(context.Background(), store, st, obs(now), step, remote.RouterState{})
	if !strings.Contains(log.String(), "【推迟】qm stop 被拒绝") {
		t.Fatalf("setup: the lock's refusal not said (qm %q):\n%s", ran, log)
	}
	locked = false
	st, _ = store.Load(h.loc)
	later := now.Add(5 * time.Minute)
	step = rescue.Decide(h.cfg, st, obs(later))
	if step.Action != rescue.VMRestart {
		t.Errorf("the run after the lock (lan_steps %q, vm_restart_date %q): %v; want the LAN fault's cold restart, never made (%s)",
			st.LANSteps, st.VMRestartDate, step.Action, msgs(step))
	}
}
