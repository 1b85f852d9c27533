package qm

import (
	"reflect"
	"strings"
	"testing"
)

// Formats from proxmox/qemu-server (commit e6352be6):
//   - src/PVE/CLI/qm.pm, sub status (registered method 'status'): verbose
//     prints every key of PVE::QemuServer::vmstatus($vmid, 1) sorted, skipping
//     cpu and relcpu, through print_recursive_hash (nested hash: "key:" then
//     "\tsub: value"); short form prints "status: " . ($stat->{qmpstatus} || 'unknown').
//   - src/PVE/QemuServer.pm, sub vmstatus: status is running|stopped by pid;
//     qmpstatus from QMP query-status, falling back to status; lock from the config.

// verboseRunning is `qm status 100 --verbose` of a running VM with balloon,
// blockstat and nics hashes as print_recursive_hash writes them.
const verboseRunning = "balloon: 2147483648\n" +
	"ballooninfo:\n" +
	"\tactual: 2147483648\n" +
	"\tfree_mem: 1700000000\n" +
	"\tmax_mem: 2147483648\n" +
	"blockstat:\n" +
	"\tscsi0:\n" +
	"\t\trd_bytes: 1234\n" +
	"\t\tstatus: ignored-nested\n" +
	"diskread: 1234\n" +
	"diskwrite: 0\n" +
	"lock: backup\n" +
	"maxdisk: 8589934592\n" +
	"maxmem: 2147483648\n" +
	"mem: 447483648\n" +
	"name: openwrt\n" +
	"netin: 100\n" +
	"netout: 200\n" +
	"nics:\n" +
	"\ttap100i0:\n" +
	"\t\tnetin: 100\n" +
	"\t\tnetout: 200\n" +
	"pid: 4242\n" +
	"proxmox-support:\n" +
	"\tpbs-dirty-bitmap: 1\n" +
	"qmpstatus: paused\n" +
	"running-machine: pc-i440fx-9.0+pve0\n" +
	"running-qemu: 9.0.2\n" +
	"status: running\n" +
	"tags: router;wan\n" +
	"uptime: 3600\n" +
	"vmid: 100\n"

func TestParseStatus(t *testing.T) {
	tests := []struct {
		name, out string
		want      Status // Raw not compared
		paused    bool
		wantErr   bool
	}{
		{"verbose running paused locked", verboseRunning, Status{Status: "running", QMPStatus: "paused", Lock: "backup"}, true, false},
		// vmstatus of a stopped VM: no pid, qmpstatus = status.
		{"verbose stopped", "cpus: 1\ndisk: 0\ndiskread: 0\nmaxdisk: 0\nmaxmem: 536870912\nmem: 0\nname: openwrt\nnetin: 0\nnetout: 0\nqmpstatus: stopped\nstatus: stopped\nuptime: 0\nvmid: 100\n",
			Status{Status: "stopped", QMPStatus: "stopped"}, false, false},
		// qemu-server src/PVE/QemuServer.pm vm_is_paused: "paused" or
		// "prelaunch" is paused, and qm resume lets it run (cont).
		{"verbose prelaunch", "qmpstatus: prelaunch\nstatus: running\nvmid: 100\n", Status{Status: "running", QMPStatus: "prelaunch"}, true, false},
		{"verbose io-error", "qmpstatus: io-error\nstatus: running\n", Status{Status: "running", QMPStatus: "io-error"}, true, false},
		// blockstats callback prints a stray line to stdout (vmstatus).
		{"stray line", "blockstats callback: unexpected missing drive ID\nqmpstatus: running\nstatus: running\n", Status{Status: "running", QMPStatus: "running"}, false, false},
		{"short running", "status: running\n", Status{Status: "running", QMPStatus: "running"}, false, false},
		{"short paused", "status: paused\n", Status{Status: "running", QMPStatus: "paused"}, true, false},
		{"short stopped", "status: stopped\n", Status{Status: "stopped", QMPStatus: "stopped"}, false, false},
		{"short unknown", "status: unknown\n", Status{Status: "unknown", QMPStatus: "unknown"}, false, false},
		{"crlf", "qmpstatus: running\r\nstatus: running\r\n", Status{Status: "running", QMPStatus: "running"}, false, false},
		{"empty", "", Status{}, false, true},
		{"error text", "Configuration file 'nodes/pve/qemu-server/100.conf' does not exist\n", Status{}, false, true},
		{"nested status only", "blockstat:\n\tstatus: running\n", Status{}, false, true},
		{"verbose bad status", "qmpstatus: running\nstatus: exploding\n", Status{}, false, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseStatus(tt.out)
			if (err != nil) != tt.wantErr {
				t.Fatalf("ParseStatus(%q) err = %v; wantErr %v", tt.out, err, tt.wantErr)
			}
			got.Raw = nil
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("ParseStatus(%q) = %+v; want %+v", tt.out, got, tt.want)
			}
			if got.Paused() != tt.paused {
				t.Errorf("ParseStatus(%q).Paused() = %v; want %v", tt.out, got.Paused(), tt.paused)
			}
		})
	}
}

// Config format: src/PVE/CLI/qm.pm, cmddef config => the printer sub:
// `foreach my $k (sort keys %$config) { next if $k eq 'digest'; … $v =
// PVE::Tools::encode_text($v) if $k eq 'description'; print "$k: $v\n" }`.
// encode_text (proxmox/pve-common src/PVE/ParseUtils.pm) escapes all but
// \x20-\x24 \x26-\x39 \x3b-\x7e. The agent property string:
// src/PVE/QemuServer/Agent.pm $agent_fmt (enabled: default_key) and
// parse_guest_agent; booleans: pve-common src/PVE/JSONSchema.pm parse_boolean.
func TestParseConfig(t *testing.T) {
	out := "agent: enabled=1,fstrim_cloned_disks=1\n" +
		"boot: order=scsi0\n" +
		"cores: 2\n" +
		"description: WAN on hostpci0%0Alock%3A none here%0Aagent%3A 0%0A100%25 \xe4\xb8\xad\n" +
		"hostpci0: 0000:01:00.0,pcie=1\n" +
		"hostpci10: 0000:03:00.0\n" +
		"hostpci2: 0000:02:00.0\n" +
		"lock: backup\n" +
		"memory: 512\n" +
		"meta: creation-qemu=9.0.2,ctime=1700000000\n" +
		"name: openwrt\n" +
		"net0: virtio=BC:24:11:00:00:01,bridge=vmbr0\n" +
		"onboot: 1\n" +
		"scsi0: local-lvm:vm-100-disk-0,size=1G\n" +
		"smbios1: uuid=5f2b0c1e-0000-0000-0000-000000000000\n" +
		"vmgenid: 5f2b0c1e-0000-0000-0000-000000000001\n"
	c, err := ParseConfig(out)
	if err != nil {
		t.Fatalf("ParseConfig: %v", err)
	}
	if !c.AgentSet || !c.AgentEnabled || c.Lock != "backup" {
		t.Errorf("ParseConfig: agent set %v enabled %v lock %q; want true true backup", c.AgentSet, c.AgentEnabled, c.Lock)
	}
	if !c.OnBoot {
		t.Errorf("ParseConfig: OnBoot false; want true (onboot: 1)")
	}
	if want := []string{"hostpci0", "hostpci2", "hostpci10"}; !reflect.DeepEqual(c.HostPCI, want) {
		t.Errorf("ParseConfig HostPCI = %v; want %v", c.HostPCI, want)
	}
	if want := "WAN on hostpci0\nlock: none here\nagent: 0\n100% 中"; c.Description != want {
		t.Errorf("ParseConfig Description = %q; want %q", c.Description, want)
	}

	plain, err := ParseConfig("memory: 512\nname: openwrt\n")
	if err != nil || plain.AgentSet || plain.AgentEnabled || plain.Lock != "" || len(plain.HostPCI) != 0 || plain.OnBoot {
		t.Errorf("ParseConfig(no agent) = %+v, %v; want nothing set", plain, err)
	}
	for _, bad := range []string{"memory 512\n", "memory: 512\nmemory: 1024\n", "net0:virtio\n"} {
		if _, err := ParseConfig(bad); err == nil {
			t.Errorf("ParseConfig(%q) = nil error; want error", bad)
		}
	}
	// onboot is a PVE boolean (src/PVE/QemuServer.pm confdesc: `onboot =>
	// { type => 'boolean', default => 0 }`); pve-manager's startall
	// (PVE/API2/Nodes.pm get_start_stop_list) starts the VM at boot when it
	// is true. PVE writes 0 or 1; the JSON schema also takes on/off,
	// yes/no, true/false.
	for v, want := range map[string]bool{"1": true, "0": false, "on": true, "no": false, "maybe": false} {
		if c, err := ParseConfig("onboot: " + v + "\n"); err != nil || c.OnBoot != want {
			t.Errorf("ParseConfig(onboot: %s) OnBoot = %v, %v; want %v", v, c.OnBoot, err, want)
		}
	}
	// hostpci with a non-digit suffix is not a passthrough device.
	if c, _ := ParseConfig("hostpcix: 1\nhostpci: 2\n"); len(c.HostPCI) != 0 {
		t.Errorf("ParseConfig(hostpcix) HostPCI = %v; want none", c.HostPCI)
	}
}

func TestAgentEnabled(t *testing.T) {
	tests := []struct {
		v    string
		want bool
	}{
		{"1", true}, {"0", false}, {"enabled=1", true}, {"enabled=0", false},
		{"1,fstrim_cloned_disks=1", true}, {"enabled=1,fstrim_cloned_disks=1", true},
		{"fstrim_cloned_disks=1,enabled=1,type=isa", true},
		{"0,fstrim_cloned_disks=1", false},
		{"fstrim_cloned_disks=1", false}, // enabled defaults to 0
		{"on", true}, {"yes", true}, {"TRUE", true}, {"off", false},
		{"enabled=maybe", false}, // check_object rejects it: warn, {} in parse_guest_agent
		{"1,enabled=1", false},   // duplicate key dies
		{"1,0", false},           // duplicate default key dies
		{"enabled=", false},      // "missing key"/no value
		{"", false},
		{"1,freeze-fs=0,newer-option=x", true}, // unknown keys tolerated
	}
	for _, tt := range tests {
		if got := AgentEnabled(tt.v); got != tt.want {
			t.Errorf("AgentEnabled(%q) = %v; want %v", tt.v, got, tt.want)
		}
	}
}

// Texts: src/PVE/QemuServer/Agent.pm sub assert_agent_available:
//
//	die "No QEMU guest agent configured\n" if !defined($conf->{agent});
//	die "VM $vmid is not running\n" if !vm_running_locally($vmid);
//	die "QEMU guest agent is not running\n" if !qga_check_running($vmid, 1);
//
// then src/PVE/API2/Qemu/Agent.pm register_command: mon_cmd($vmid, "guest-ping"),
// whose timeout dies in src/PVE/QMPClient.pm sub cmd as
// "$peer->{name} $peer->{type} command '$cmd->{execute}' failed - got timeout"
// (mux_timeout sets "got timeout"); src/PVE/QemuServer/Monitor.pm qmp_cmd:
// "$peer->{name} not running". A success prints nothing ($print_agent_result
// of an empty hash).
func TestClassifyPing(t *testing.T) {
	tests := []struct {
		name     string
		code     int
		stderr   string
		timedOut bool
		want     Ping
	}{
		{"answers", 0, "", false, PingAnswers},
		{"not configured", 255, "No QEMU guest agent configured\n", false, PingNotConfigured},
		{"not running", 255, "VM 100 is not running\n", false, PingNotRunning},
		{"qmp not running", 2, "VM 100 not running\n", false, PingNotRunning},
		{"agent not running", 255, "QEMU guest agent is not running\n", false, PingNoAnswer},
		{"qga timeout", 255, "VM 100 qga command 'guest-ping' failed - got timeout\n", false, PingNoAnswer},
		{"our deadline", -1, "", true, PingNoAnswer},
		{"no such vm", 2, "Configuration file 'nodes/pve/qemu-server/100.conf' does not exist\n", false, PingError},
		{"vm name lookalike", 255, "VM 1x is not running\n", false, PingError},
		{"other", 1, "ipcc_send_rec[1] failed: Connection refused\n", false, PingError},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := ClassifyPing(tt.code, tt.stderr, tt.timedOut); got != tt.want {
				t.Errorf("ClassifyPing(%d, %q, %v) = %v; want %v", tt.code, tt.stderr, tt.timedOut, got, tt.want)
			}
		})
	}
}

func FuzzParseStatus(f *testing.F) {
	for _, s := range []string{verboseRunning, "status: paused\n", "qmpstatus: stopped\nstatus: stopped\n", "", "status:\n\tstatus: x\n"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, out string) {
		s, err := ParseStatus(out)
		if err != nil {
			return
		}
		if s.Status != "running" && s.Status != "stopped" && s.Status != "unknown" {
			t.Fatalf("ParseStatus(%q).Status = %q", out, s.Status)
		}
		if s.Paused() && s.Status != "running" {
			t.Fatalf("ParseStatus(%q) paused but not running", out)
		}
	})
}

func FuzzParseConfig(f *testing.F) {
	f.Add("agent: 1\nhostpci0: 0000:01:00.0\nlock: backup\n")
	f.Add("description: a%0Ab%3A c%25\n")
	f.Add("agent: enabled=0,fstrim_cloned_disks=1\n")
	f.Fuzz(func(t *testing.T, out string) {
		c, err := ParseConfig(out)
		if err != nil {
			return
		}
		if c.AgentEnabled && !c.AgentSet {
			t.Fatalf("ParseConfig(%q): agent enabled without an agent key", out)
		}
		for _, k := range c.HostPCI {
			if _, ok := c.Raw[k]; !ok || !strings.HasPrefix(k, "hostpci") {
				t.Fatalf("ParseConfig(%q): HostPCI %q not a key", out, k)
			}
		}
		if strings.Contains(c.Description, "%") && !strings.Contains(c.Raw["description"], "%") {
			t.Fatalf("ParseConfig(%q): decoding invented a %%", out)
		}
	})
}

func FuzzClassifyPing(f *testing.F) {
	f.Add(0, "", false)
	f.Add(255, "VM 100 is not running\n", false)
	f.Add(255, "QEMU guest agent is not running\n", false)
	f.Fuzz(func(t *testing.T, code int, stderr string, timedOut bool) {
		p := ClassifyPing(code, stderr, timedOut)
		if p == PingAnswers && (code != 0 || timedOut) {
			t.Fatalf("ClassifyPing(%d, %q, %v) = answers", code, stderr, timedOut)
		}
		if timedOut && p != PingNoAnswer {
			t.Fatalf("ClassifyPing timed out = %v", p)
		}
	})
}

// TestClassifyRefusal: the refusals of `qm start` and `qm resume` that
// say nothing about the VM, in the texts of the sources (read at
// proxmox/pve-cluster 7091d92, proxmox/pve-guest-common 4a8f6cb,
// proxmox/qemu-server e6352be6, proxmox/pve-common f665029):
//   - pve-cluster src/PVE/Cluster.pm check_cfs_quorum:
//     die "cluster not ready - no quorum?\n", called by qemu-server
//     src/PVE/API2/Qemu.pm vm_start in qm's own process (before
//     fork_worker). pve-common src/PVE/CLIHandler.pm run_cli_handler has
//     no eval: Perl prints the message as it is (it ends in "\n", so no
//     "at … line …") and exits with $! or 255.
//   - pve-guest-common src/PVE/AbstractConfig.pm check_lock:
//     die $class->guest_type() . " is locked ($conf->{lock})\n", with
//     qemu-server src/PVE/QemuConfig.pm guest_type "VM" (no VMID), called
//     in the worker by src/PVE/QemuServer.pm vm_start and
//     src/PVE/QemuServer/RunState.pm vm_resume (which skips it for the lock
//     "backup"); pve-common src/PVE/RESTEnvironment.pm's tee_worker
//     prints "TASK ERROR: MSG"'s MSG alone on stderr, and qm.pm's
//     $upid_exit exits -1 (255).
//   - qemu-server src/PVE/API2/Qemu.pm vm_resume and RunState.pm
//     vm_resume never call check_cfs_quorum: a resume is not refused for
//     the quorum, and its text there is not taken for a refusal.
func TestClassifyRefusal(t *testing.T) {
	tests := []struct {
		name   string
		verb   string
		stderr string
		want   Refusal
	}{
		{"start, no quorum", "start", "cluster not ready - no quorum?\n", RefusedNoQuorum},
		{"start, backup lock", "start", "VM is locked (backup)\n", RefusedLocked},
		{"start, migrate lock", "start", "VM is locked (migrate)\n", RefusedLocked},
		{"start, snapshot-delete lock", "start", "VM is locked (snapshot-delete)\n", RefusedLocked},
		{"start, after a warning line", "start", "WARN: something else\nVM is locked (clone)\n", RefusedLocked},
		{"resume, migrate lock", "resume", "VM is locked (migrate)\n", RefusedLocked},
		// vm_resume refuses "suspended" for as long as it stands; hostcheck
		// does not wait on it (rescue.lockHolds): counted, or the refusal
		// came back every run with nothing else tried.
		{"resume, suspended lock: no lock hostcheck waits for", "resume", "VM is locked (suspended)\n", NotRefused},
		{"resume, no quorum text: resume never asks", "resume", "cluster not ready - no quorum?\n", NotRefused},
		{"stop, lock text: not a start", "stop", "VM is locked (backup)\n", NotRefused},
		{"start, already running", "start", "VM 100 already running\n", NotRefused},
		{"start, qemu failed", "start", "start failed: QEMU exited with code 1\n", NotRefused},
		{"start, flock timeout", "start", "can't lock file '/var/lock/qemu-server/lock-100.conf' - got timeout\n", NotRefused},
		{"start, no such VM", "start", "Configuration file 'nodes/pve/qemu-server/100.conf' does not exist\n", NotRefused},
		{"start, task log's prefix is not qm's stderr", "start", "TASK ERROR: VM is locked (backup)\n", NotRefused},
		{"start, empty lock", "start", "VM is locked ()\n", NotRefused},
		{"start, lookalike with a VMID", "start", "VM 100 is locked (backup)\n", NotRefused},
		{"start, quorum text inside a line", "start", "xx cluster not ready - no quorum? yy\n", NotRefused},
		{"start, nothing", "start", "", NotRefused},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := ClassifyRefusal(tt.verb, tt.stderr); got != tt.want {
				t.Errorf("ClassifyRefusal(%q, %q) = %v; want %v", tt.verb, tt.stderr, got, tt.want)
			}
		})
	}
}

// TestStopLocked: qemu-server src/PVE/QemuServer.pm _do_vm_stop runs
// check_lock ("VM is locked (LOCK)", printed alone on stderr by the task's
// tee_worker) before it sends QEMU `quit`: such a qm stop touched nothing.
// QEMU's own failures, and the lock "suspended" (which hostcheck does not
// wait for), are failures of the stop.
func TestStopLocked(t *testing.T) {
	for _, tt := range []struct {
		stderr string
		want   bool
	}{
		{"VM is locked (backup)\n", true},
		{"VM is locked (snapshot)\n", true},
		{"VM is locked (migrate)\n", true},
		{"VM is locked (suspended)\n", false},
		{"VM quit/powerdown failed - got timeout\n", false},
		{"can't lock file '/var/lock/qemu-server/lock-100.conf' - got timeout\n", false},
		{"VM 100 is locked (backup)\n", false},
		{"", false},
	} {
		if got := StopLocked(tt.stderr); got != tt.want {
			t.Errorf("StopLocked(%q) = %v; want %v", tt.stderr, got, tt.want)
		}
	}
}
