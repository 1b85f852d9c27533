package main

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/pve-op/network-rescue/internal/command"
	"github.com/pve-op/network-rescue/internal/health"
	"github.com/pve-op/network-rescue/internal/rescue"
)

// fakeQMExec answers qm as proxmox/qemu-server does (formats in
// internal/qm's tests): status --verbose and config as sorted `key: value`
// lines, guest cmd ping by exit status and its stderr text
// (PVE::QemuServer::Agent::assert_agent_available).
func fakeQMExec(status, config string, pingCode int, pingErr string) func(context.Context, string, time.Duration) command.Result {
	return func(_ context.Context, cmdline string, _ time.Duration) command.Result {
		r := command.Result{Cmd: cmdline}
		switch {
		case strings.Contains(cmdline, " status "):
			r.Stdout = status
		case strings.Contains(cmdline, " config "):
			r.Stdout = config
		case strings.Contains(cmdline, " guest cmd "):
			if pingCode != 0 {
				r.ExitCode, r.Stderr, r.Err = pingCode, pingErr, errExit
			}
		}
		return r
	}
}

var errExit = errors.New("exit status 255")

// TestStatusVM: `hostcheck status` shows the router VM — status,
// qmpstatus, lock, guest agent, passthrough, today's starts — with a fix
// for every ✗ (SPEC §7, §13; issue 10 item 4).
func TestStatusVM(t *testing.T) {
	const running = "cpus: 1\nname: openwrt\npid: 4242\nqmpstatus: running\nstatus: running\nvmid: 100\n"
	const stopped = "cpus: 1\nqmpstatus: stopped\nstatus: stopped\nvmid: 100\n"
	now := time.Date(2026, 12, 6, 12, 0, 0, 0, time.UTC)
	for _, tt := range []struct {
		name     string
		status   string
		config   string
		pingCode int
		pingErr  string
		st       rescue.State
		want     []string // lines of the rendered checklist, in order
		ok       bool
		noStarts bool // VM_START_MAX=0
	}{
		{name: "running, agent answers", status: running, config: "agent: 1\ncores: 1\nname: openwrt\n",
			want: []string{"✓ router VM 100: status running, qmpstatus running", "✓ guest agent: enabled, answers", "✓ passthrough: none",
				"✓ router VM starts today: 0 of VM_START_MAX 3 (starts and resumes today that did not bring the internet back)"}, ok: true},
		// Right after a start, the VM running and the internet not back
		// yet: status said "router VM failed starts today: 1", a start
		// nobody had seen fail, under a name status -json's consumers no
		// longer found.
		{name: "running, right after a start", status: running, config: "agent: 1\n",
			st: rescue.State{VMStartDate: "2026-12-06", VMStarts: 1, VMStartUnproven: "2026-12-06"},
			want: []string{"✓ router VM 100: status running, qmpstatus running",
				"✓ router VM starts today: 1 of VM_START_MAX 3 (starts and resumes today that did not bring the internet back)"}, ok: true},
		{name: "stopped", status: "cpus: 1\nqmpstatus: stopped\nstatus: stopped\nvmid: 100\n", config: "cores: 1\n",
			want: []string{"✗ router VM 100: status stopped", "fix: qm start 100", "✓ guest agent: not enabled", "qm set 100 --agent enabled=1"}},
		{name: "paused by a backup", status: "lock: backup\nqmpstatus: paused\nstatus: running\n", config: "agent: enabled=1\nlock: backup\n",
			want: []string{"✗ router VM 100: status running, qmpstatus paused",
				"fix: wait for the lock (backup) to end: hostcheck starts, resumes or reboots nothing under it (a backup starts the VM again when done); if it is still not running after that, qm resume 100",
				"✗ router VM 100 lock: backup", "qm unlock 100"}},
		// No run acts under a lock: status said "hostcheck resumes it by
		// itself" for a VM a backup had paused.
		{name: "stopped by a backup, starts spent", status: "lock: backup\nqmpstatus: stopped\nstatus: stopped\n", config: "lock: backup\n",
			st:   rescue.State{VMStartDate: "2026-12-06", VMStarts: 3},
			want: []string{"fix: wait for the lock (backup) to end", "✗ router VM starts today: 3 of VM_START_MAX 3 (starts and resumes today that did not bring the internet back): spent; while the internet is down nothing is started, resumed or rebooted while the VM's lock holds"}},
		{name: "agent silent, passthrough", status: running, config: "agent: enabled=1,fstrim_cloned_disks=1\nhostpci0: 0000:01:00.0,pcie=1\n",
			pingCode: 255, pingErr: "QEMU guest agent is not running",
			want: []string{"✓ router VM 100", "✗ guest agent: enabled, does not answer", "opkg install qemu-ga", "✓ passthrough: hostpci0"}},
		{name: "starts spent", status: running, config: "agent: 1\n", st: rescue.State{VMStartDate: "2026-12-06", VMStarts: 3},
			want: []string{"✗ router VM starts today: 3 of VM_START_MAX 3 (starts and resumes today that did not bring the internet back): spent; while the internet is down the next step is the host reboot (once a day)", "fix: find why the VM does not start"}},
		// The day's host reboot taken because the VM would not start, and
		// it is still stopped: status said "hostcheck starts it by itself"
		// and "the next step is the host reboot", both false; it says what
		// the next run does (rescue.NextVMStep, Decide's rules).
		{name: "stopped, starts and host reboot spent", status: stopped, config: "cores: 1\n",
			st: rescue.State{LastReboot: "2026-12-06", VMStartDate: "2026-12-06", VMStarts: 3},
			want: []string{"✗ router VM 100: status stopped", "fix: qm start 100 (VM_START_MAX spent today; while the internet is down the next step is the day's VM cold restart (qm stop, then qm start))",
				"✗ router VM starts today: 3 of VM_START_MAX 3 (starts and resumes today that did not bring the internet back): spent; while the internet is down the next step is the day's VM cold restart"}},
		{name: "stopped, starts, host reboot and cold restart spent", status: stopped, config: "cores: 1\n",
			st: rescue.State{LastReboot: "2026-12-06", VMRestartDate: "2026-12-06", VMStartDate: "2026-12-06", VMStarts: 3},
			want: []string{"✗ router VM 100: status stopped", "fix: qm start 100 by hand: hostcheck has nothing more to try until midnight",
				"✗ router VM starts today: 3 of VM_START_MAX 3 (starts and resumes today that did not bring the internet back): spent; while the internet is down hostcheck has nothing more to try until midnight"}},
		{name: "stopped, starts spent, host reboot not: the host reboot", status: stopped, config: "cores: 1\n",
			st:   rescue.State{VMStartDate: "2026-12-06", VMStarts: 3},
			want: []string{"fix: qm start 100 (VM_START_MAX spent today; while the internet is down the next step is the host reboot (once a day))"}},
		{name: "paused, resumes spent: the cold restart first", status: "qmpstatus: paused\nstatus: running\n", config: "cores: 1\n",
			st:   rescue.State{VMStartDate: "2026-12-06", VMStarts: 3},
			want: []string{"fix: qm resume 100 (VM_START_MAX spent today; while the internet is down the next step is the day's VM cold restart"}},
		// A host reboot that misfired this morning landed late (the host
		// booted since: this boot is not the misfire's): the day is
		// spent, as the run finds (【确认】…计为那天的物理机重启), and the
		// cold restart comes next, not the host's reboot.
		{name: "stopped, starts spent, a misfired reboot landed late", status: stopped, config: "cores: 1\n",
			st:   rescue.State{VMStartDate: "2026-12-06", VMStarts: 3, MisfireDate: "2026-12-06", MisfireBoot: "boot0"},
			want: []string{"fix: qm start 100 (VM_START_MAX spent today; while the internet is down the next step is the day's VM cold restart (qm stop, then qm start))"}},
		// vm_start_date absurdly ahead: the run rewrites it as today with
		// its starts (SPEC §6), so they are spent today.
		{name: "stopped, vm_start_date three days ahead", status: stopped, config: "cores: 1\n",
			st: rescue.State{VMStartDate: "2026-12-09", VMStarts: 3},
			want: []string{"fix: qm start 100 (VM_START_MAX spent today; while the internet is down the next step is the host reboot (once a day))",
				"✗ router VM starts today: 3 of VM_START_MAX 3 (starts and resumes today that did not bring the internet back): spent"}},
		// VM_START_MAX=0 on a spent day: no start of its own, but the
		// day's cold restart's qm start starts it; status said "a stopped
		// router VM is not started" beside it.
		{name: "VM_START_MAX=0, stopped, host reboot spent", status: stopped, config: "cores: 1\n", noStarts: true,
			st: rescue.State{LastReboot: "2026-12-06"},
			want: []string{"fix: qm start 100 (VM_START_MAX=0: no start of its own; while the internet is down the next step is the day's VM cold restart (qm stop, then qm start))",
				"✓ router VM starts today: none (VM_START_MAX=0): a router VM found stopped or paused gets no start or resume of its own; while the internet is down the next step is the day's VM cold restart (qm stop, then qm start)"}},
		{name: "qm fails", status: "", config: "",
			want: []string{"✗ router VM 100: qm status", "fix: check VM_ID"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			h := testHost(t, fakeQMExec(tt.status, tt.config, tt.pingCode, tt.pingErr))
			if tt.noStarts {
				h.cfg.VMStartMax = 0
			}
			if tt.status == "" {
				h.e.Exec = func(_ context.Context, cmdline string, _ time.Duration) command.Result {
					return command.Result{Cmd: cmdline, ExitCode: 2, Stderr: "Configuration file 'nodes/pve/qemu-server/100.conf' does not exist", Err: errExit}
				}
			}
			var b strings.Builder
			ok := health.Render(&b, h.vmChecks(context.Background(), tt.st, now))
			out, rest := b.String(), b.String()
			for _, w := range tt.want {
				i := strings.Index(rest, w)
				if i < 0 {
					t.Fatalf("status lacks %q (in order):\n%s", w, out)
				}
				rest = rest[i+len(w):]
			}
			if ok != tt.ok {
				t.Errorf("all ok = %v; want %v:\n%s", ok, tt.ok, out)
			}
		})
	}
}

// TestSystemState: `systemctl is-system-running` prints the manager's
// state as one word on stdout and exits 0 only for "running" (systemd
// src/systemctl/systemctl-is-system-running.c, commit 120746d: puts(state);
// "offline" when systemd is not PID 1 or in a chroot; "unknown" after
// "Failed to query system state: …" on stderr). A systemctl that cannot
// reach systemd prints nothing on stdout (acquire_bus fails: "Failed to
// connect to bus" on stderr): no state, so nothing waits for a boot.
func TestSystemState(t *testing.T) {
	for _, tt := range []struct {
		stdout, stderr string
		code           int
		want           string
		boots          bool
	}{
		{"running\n", "", 0, "running", false},
		{"degraded\n", "", 1, "degraded", false},
		{"starting\n", "", 1, "starting", true},
		{"initializing\n", "", 1, "initializing", true},
		{"offline\n", "", 1, "offline", false},
		{"unknown\n", "Failed to query system state: Connection timed out\n", 1, "unknown", false},
		{"", "Failed to connect to bus: No such file or directory\n", 1, "", false},
	} {
		h := testHost(t, func(_ context.Context, cmdline string, _ time.Duration) command.Result {
			if cmdline != "/usr/bin/systemctl is-system-running" {
				t.Errorf("ran %q; want /usr/bin/systemctl is-system-running", cmdline)
			}
			r := command.Result{Cmd: cmdline, Stdout: tt.stdout, Stderr: tt.stderr}
			if tt.code != 0 {
				r.ExitCode, r.Err = tt.code, errExit
			}
			return r
		})
		got := h.systemState(context.Background())
		if got != tt.want {
			t.Errorf("stdout %q: systemState = %q; want %q", tt.stdout, got, tt.want)
		}
		// What the decision makes of it: a young host, the VM stopped
		// with onboot=1.
		cfg := h.cfg
		cfg.MinHostUptime = 10 * time.Minute
		obs := rescue.Obs{Now: time.Date(2026, 12, 6, 10, 0, 0, 0, time.UTC), Uptime: time.Minute, NetKnown: true,
			VMKnown: true, VM: rescue.VMStatus{Status: "stopped"}, VMConfigKnown: true, VMConfig: rescue.VMConfig{OnBoot: true},
			SystemKnown: true, SystemState: got, GuardsKnown: true}
		if s := rescue.Decide(cfg, rescue.State{}, obs); (s.Action == rescue.None) != tt.boots {
			t.Errorf("system %q: action %v; want a wait for PVE's autostart %v", got, s.Action, tt.boots)
		}
	}
}

// TestQMNoSuchVMBehindPerlWarning: on a PVE host whose LANG names a locale
// not generated, qm prints perl's locale warnings before its own message.
// A router silent on SSH and the LAN with `qm status` saying the VM does
// not exist behind them reboots nothing (no reboot mends a VM_ID that is
// not there); the warning alone was read, and the host rebooted once a day.
func TestQMNoSuchVMBehindPerlWarning(t *testing.T) {
	qmPath := filepath.Join(t.TempDir(), "qm")
	script := "#!/bin/sh\n" +
		"echo 'perl: warning: Setting locale failed.' >&2\n" +
		"echo 'perl: warning: Please check that your locale settings:' >&2\n" +
		"printf '\\tLANG = \"de_DE.UTF-8\"\\n    are supported and installed on your system.\\n' >&2\n" +
		"echo \"Configuration file 'nodes/pve/qemu-server/100.conf' does not exist\" >&2\n" +
		"exit 2\n"
	if err := os.WriteFile(qmPath, []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	h := testHost(t, command.Run)
	h.cfg.QM = qmPath
	vm := h.vmStatus(context.Background())
	var st rescue.State
	for i := range 12 {
		now := testNow.Add(time.Duration(i) * 5 * time.Minute)
		o := rescue.Obs{Now: now, Uptime: 48 * time.Hour, BootID: "boot0", NetKnown: true, VMKnown: true, VM: vm,
			RouterKnown: true, Router: rescue.Router{Err: "timeout", ErrKind: "timeout"}, LANKnown: true, LANUp: false, GuardsKnown: true}
		step := rescue.Decide(h.cfg, st, o)
		if step.Action == rescue.HostReboot {
			t.Fatalf("%s: host reboot for VM_ID %s, which qm says does not exist behind perl's warning (%q)", now.Format("15:04"), h.cfg.VMID, vm.Err)
		}
		st = step.Next
	}
}
