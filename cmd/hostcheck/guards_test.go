package main

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/pve-op/network-rescue/internal/command"
	"github.com/pve-op/network-rescue/internal/config"
	"github.com/pve-op/network-rescue/internal/probe"
	"github.com/pve-op/network-rescue/internal/rescue"
	"github.com/pve-op/network-rescue/internal/runenv"
)

// TestQuorumGuard: on a cluster node (a corosync.conf present) the host
// defers when its reboot would break the quorum, or when pvecm cannot say;
// on a single node pvecm is not even asked. With pve-cluster down /etc/pve
// is an empty mount point (or ENOTCONN, crashed), but corosync still
// counts this node's votes from /etc/corosync/corosync.conf, which decides:
// when it cannot be read the guard defers rather than reboot a node that
// may hold the quorum; when it is not there, the node is a single one.
// (proxmox/pve-docs pmxcfs.adoc: pmxcfs makes "automatic updates of the
// corosync cluster configuration to all nodes"; separating a node removes
// both /etc/pve/corosync.conf and /etc/corosync/*.)
func TestQuorumGuard(t *testing.T) {
	pvecm := func(total, quorum int) string {
		// The shape of proxmox/pve-docs pvecm.adoc's `pvecm status` example.
		expected := max(total, 3)
		return "Quorum information\n------------------\nQuorate:          Yes\n\nVotequorum information\n----------------------\n" +
			"Expected votes:   " + itoa(expected) + "\nHighest expected: " + itoa(expected) + "\nTotal votes:      " + itoa(total) +
			"\nQuorum:           " + itoa(quorum) + "  \nFlags:            Quorate\n\nMembership information\n----------------------\n" +
			"    Nodeid      Votes Name\n0x00000001          1 192.168.1.10 (local)\n"
	}
	// Which conf exists; "broken…": /etc/pve (or /etc/corosync) cannot be
	// read (a crashed pmxcfs mount answers ENOTCONN; ENOTDIR here).
	const pve, local, broken, brokenSingle, brokenLocal = "pve", "local", "broken", "broken-single", "broken-local"
	tests := []struct {
		name  string
		conf  string // "" single node
		out   string
		fail  bool
		want  string // "" = no reason to wait
		vm    bool   // want holds the router VM's steps too, not only the host's reboot
		asked bool   // pvecm status asked
		text  string // corosync.conf's text; "" one without a nodelist
	}{
		{name: "single node"},
		{name: "three nodes up", conf: pve, out: pvecm(3, 2), asked: true},
		{name: "two of three up: we are needed", conf: pve, out: pvecm(2, 2), want: "重启本节点会使集群失去法定票数", asked: true},
		// pvecm failing is most often corosync down: no quorum, qm start
		// refuses, and a cold restart would leave the router VM stopped.
		{name: "pvecm fails", conf: pve, fail: true, want: "无法确认集群法定票数", vm: true, asked: true},
		// `pvecm create` on a lone host, as `pvecm status` (corosync-quorumtool
		// -siH) prints it: corosync.conf's nodelist has this node alone.
		{name: "one-node cluster", conf: local, text: corosyncConf("pve"), out: pvecmStatus(1, 1), asked: true},
		{name: "one-node cluster, pmxcfs's copy", conf: pve, text: corosyncConf("pve"), out: pvecmStatus(1, 1), asked: true},
		// `pvecm expected 1` on a two-node cluster whose peer died prints
		// what a one-node cluster prints; the node would boot with the
		// nodelist's two nodes' expected votes, without quorum (pmxcfs
		// read-only, the router VM not started). It used to reboot.
		{name: "pvecm expected 1 on two nodes, the peer dead", conf: local, text: corosyncConf("pve", "pve2"), out: pvecmStatus(1, 1),
			want: "重启本节点会使集群失去法定票数 (votes 1-1 < quorum 1)", asked: true},
		{name: "one node by pvecm, corosync.conf without a nodelist", conf: local, out: pvecmStatus(1, 1),
			want: "重启本节点会使集群失去法定票数 (votes 1-1 < quorum 1)", asked: true},
		// No quorum now: pmxcfs read-only, qm start refuses ("cluster not
		// ready - no quorum?"): the VM's cold restart waits too.
		{name: "cluster not quorate", conf: pve, out: strings.Replace(pvecmStatus(2, 2), "Quorate:          Yes", "Quorate:          No", 1),
			want: "集群当前没有法定票数 (Quorate: No)", vm: true, asked: true},
		// Output pvecm printed but that cannot confirm the quorum (cut
		// short, another version's layout): defer, never "no reason".
		{name: "no membership line marked (local)", conf: pve, out: strings.Replace(pvecm(3, 2), " (local)", "", 1),
			want: "无法确认集群法定票数: pvecm status: no membership line marked (local)", vm: true, asked: true},
		{name: "no Total votes line", conf: pve, out: strings.Replace(pvecm(3, 2), "Total votes:      3\n", "", 1),
			want: "无法确认集群法定票数: pvecm status: no \"Total votes\"", vm: true, asked: true},
		{name: "pmxcfs down, corosync still configured", conf: local, out: pvecm(2, 2), want: "重启本节点会使集群失去法定票数", asked: true},
		{name: "/etc/pve unreadable, corosync configured", conf: broken, out: pvecm(3, 2), asked: true},
		{name: "/etc/pve unreadable, no corosync: a single node", conf: brokenSingle},
		{name: "corosync.conf unreadable", conf: brokenLocal, want: "无法确认本机是否属于集群", vm: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			var asked []string
			h := &host{cfg: config.Default(config.Host), corosync: []string{filepath.Join(dir, "corosync", "corosync.conf"), filepath.Join(dir, "pve", "corosync.conf")},
				e: runenv.Env{Exec: func(_ context.Context, cmdline string, _ time.Duration) command.Result {
					asked = append(asked, cmdline)
					if tt.fail {
						return command.Result{Cmd: cmdline, Err: os.ErrPermission}
					}
					return command.Result{Cmd: cmdline, Stdout: tt.out}
				}}}
			text := tt.text
			if text == "" {
				text = "totem {}\n"
			}
			write := func(path string) {
				if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			switch tt.conf {
			case pve:
				write(h.corosync[1])
			case local:
				write(h.corosync[0])
			case broken:
				write(filepath.Join(dir, "pve")) // a file where the directory should be
				write(h.corosync[0])
			case brokenSingle:
				write(filepath.Join(dir, "pve"))
			case brokenLocal:
				write(filepath.Join(dir, "corosync"))
			}
			// A vzdump started by another package's test at the same moment
			// is not this test's business.
			var all []string
			var o rescue.Obs
			h.guards(context.Background(), &o)
			out, quorum := o.Deferred, o.Quorum
			for _, r := range out {
				if !strings.Contains(r, "vzdump") {
					all = append(all, r)
				}
			}
			// A reason of the quorum's holds the host's reboot only; one
			// that holds every step (the VM's too) is in out.
			got, gotAll := strings.Join(append(all, quorum...), " "), strings.Join(all, " ")
			if tt.want == "" && got != "" || tt.want != "" && !strings.Contains(got, tt.want) {
				t.Errorf("guards() = %q; want %q", got, tt.want)
			}
			if tt.vm && !strings.Contains(gotAll, tt.want) || !tt.vm && gotAll != "" {
				t.Errorf("guards() holding every step (the router VM's too) = %q; want %q", gotAll, map[bool]string{true: tt.want}[tt.vm])
			}
			if !tt.asked && len(asked) != 0 {
				t.Errorf("pvecm asked: %q; want not asked", asked)
			}
			if tt.asked && (len(asked) != 1 || asked[0] != "/usr/bin/pvecm status") {
				t.Errorf("asked %q; want /usr/bin/pvecm status once", asked)
			}
		})
	}
}

func itoa(n int) string { return strconv.Itoa(n) }

// corosyncConf is corosync.conf as PVE writes it, with one node section
// per name in its nodelist: the layout of proxmox/pve-cluster's
// src/test/corosync_configs/single-node.conf and multiple-nodes.conf
// (src/PVE/Corosync.pm writes it: sections sorted, two-space indent).
func corosyncConf(names ...string) string {
	s := "logging {\n  debug: off\n  to_syslog: yes\n}\n\nnodelist {\n"
	for i, n := range names {
		s += "  node {\n    name: " + n + "\n    nodeid: " + itoa(i+1) + "\n    quorum_votes: 1\n    ring0_addr: 192.168.10." + itoa(i+2) + "\n  }\n"
	}
	return s + "}\n\nquorum {\n  provider: corosync_votequorum\n}\n\n" +
		"totem {\n  cluster_name: home\n  config_version: 2\n  interface {\n    linknumber: 0\n  }\n  ip_version: ipv4-6\n  link_mode: passive\n  secauth: on\n  version: 2\n}\n"
}

// pvecmStatus is `pvecm status` (corosync-quorumtool -siH) of a quorate
// cluster of nodes nodes with one vote each and quorum q, this node
// 0x00000001 (local): the sections of proxmox/pve-docs pvecm.adoc's
// example, the Flags line as corosync tools/corosync-quorumtool.c prints it.
func pvecmStatus(nodes, q int) string {
	s := "Cluster information\n-------------------\nName:             home\nConfig Version:   2\nTransport:        knet\nSecure auth:      on\n\n" +
		"Quorum information\n------------------\nDate:             Mon Dec  7 20:00:00 2026\nQuorum provider:  corosync_votequorum\n" +
		"Nodes:            " + itoa(nodes) + "\nNode ID:          0x00000001\nRing ID:          1.5\nQuorate:          Yes\n\n" +
		"Votequorum information\n----------------------\nExpected votes:   " + itoa(nodes) + "\nHighest expected: " + itoa(nodes) +
		"\nTotal votes:      " + itoa(nodes) + "\nQuorum:           " + itoa(q) + "  \nFlags:            Quorate \n\n" +
		"Membership information\n----------------------\n    Nodeid      Votes Name\n0x00000001          1 192.168.10.2 (local)\n"
	for i := 2; i <= nodes; i++ {
		s += "0x0000000" + itoa(i) + "          1 192.168.10." + itoa(i+1) + "\n"
	}
	return s
}

// clusterHost is a host on a cluster node (a corosync.conf of nodes
// present) whose pvecm status prints out, with no backup running.
func clusterHost(t *testing.T, nodes int, out string) *host {
	dir := t.TempDir()
	conf := filepath.Join(dir, "corosync.conf")
	names := []string{"pve", "pve2", "pve3", "pve4"}[:nodes]
	if err := os.WriteFile(conf, []byte(corosyncConf(names...)), 0o644); err != nil {
		t.Fatal(err)
	}
	return &host{cfg: config.Default(config.Host), corosync: []string{conf}, vzdumpLock: filepath.Join(dir, "none.lock"), procRoot: filepath.Join(dir, "proc"),
		e: runenv.Env{Exec: func(_ context.Context, cmdline string, _ time.Duration) command.Result {
			return command.Result{Cmd: cmdline, Stdout: out}
		}}}
}

// TestQuorumHoldsOnlyHostReboot: the cluster's quorum holds the host's
// reboot, never the router VM's steps: restarting one of this node's VMs
// leaves its votes as they are. On a two-node cluster without a qdevice
// (votes 2, quorum 2, own 1) a hung router VM, an SOS and a LAN fault
// each logged 【推迟】重启本节点会使集群失去法定票数 (votes 2-1 < quorum 2)。
// and did nothing all day. A cluster without quorum now holds the VM's
// cold restart too: qm start refuses then (qemu-server API2/Qemu.pm
// vm_start: check_cfs_quorum) while qm stop does not, and the restart
// would leave the router stopped.
func TestQuorumHoldsOnlyHostReboot(t *testing.T) {
	now := time.Date(2026, 12, 7, 14, 0, 0, 0, time.Local)
	today := rescue.Today(now)
	noQuorum := strings.Replace(pvecmStatus(2, 1), "Quorate:          Yes", "Quorate:          No", 1)
	hung := rescue.State{DownSince: now.Add(-30 * time.Minute), RouterDownSince: now.Add(-25 * time.Minute), RouterErr: "timeout"}
	silent := rescue.Router{Err: "router did not answer over SSH in time", ErrKind: "timeout"}
	sos := rescue.Router{SOS: true, SOSContent: "time=2026-12-07T13:55:00+08:00 count=10 reason=down", Count: "10"}
	lan := rescue.Router{SelfKnown: true, SelfUp: true, Count: "0"}
	for _, tt := range []struct {
		name    string
		nodes   int // in corosync.conf's nodelist
		pvecm   string
		st      rescue.State
		router  rescue.Router
		lanUp   bool
		vm      string // qm status; "" is running
		want    rescue.Action
		wantMsg string
	}{
		{name: "2 nodes, hung VM: cold restart", nodes: 2, pvecm: pvecmStatus(2, 2), st: hung, router: silent, want: rescue.VMRestart},
		{name: "2 nodes, SOS: cold restart first (§6 step 5)", nodes: 2, pvecm: pvecmStatus(2, 2), router: sos, lanUp: true, want: rescue.VMRestart},
		{name: "2 nodes, LAN fault past network: VM cold restart", nodes: 2, pvecm: pvecmStatus(2, 2),
			st:     rescue.State{DownSince: now.Add(-15 * time.Minute), LANFault: rescue.LANPath, LANSeen: 2, LANSteps: "network"},
			router: lan, lanUp: true, want: rescue.VMRestart},
		{name: "2 nodes, SOS, cold restart spent: the host's reboot waits", nodes: 2, pvecm: pvecmStatus(2, 2), st: rescue.State{VMRestartDate: today},
			router: sos, lanUp: true, wantMsg: "【推迟】重启本节点会使集群失去法定票数 (votes 2-1 < quorum 2)。"},
		{name: "3 nodes, SOS, cold restart spent: the host reboots", nodes: 3, pvecm: pvecmStatus(3, 2), st: rescue.State{VMRestartDate: today},
			router: sos, lanUp: true, want: rescue.HostReboot},
		{name: "1-node cluster, SOS, cold restart spent: the host reboots", nodes: 1, pvecm: pvecmStatus(1, 1), st: rescue.State{VMRestartDate: today},
			router: sos, lanUp: true, want: rescue.HostReboot},
		// `pvecm expected 1`, the usual fix when the peer of a two-node
		// cluster died: pvecm status reads as a one-node cluster's, and the
		// host rebooted into no quorum (corosync.conf's expected votes 2):
		// pmxcfs read-only, the router VM not started, offline until
		// midnight. The nodelist's two nodes hold the reboot.
		{name: "2 nodes given pvecm expected 1, SOS, cold restart spent: the host's reboot waits", nodes: 2, pvecm: pvecmStatus(1, 1),
			st: rescue.State{VMRestartDate: today}, router: sos, lanUp: true, wantMsg: "【推迟】重启本节点会使集群失去法定票数 (votes 1-1 < quorum 1)。"},
		{name: "no quorum now, hung VM: 推迟", nodes: 2, pvecm: noQuorum, st: hung, router: silent, wantMsg: "【推迟】集群当前没有法定票数 (Quorate: No)。"},
		// A stopped router VM is not started without quorum either (qm
		// start refuses), nor counted: tried, each failed start counted,
		// and the quorum back that day found them spent and rebooted the
		// host where a start would do.
		{name: "no quorum now, VM stopped: 推迟, no start counted", nodes: 2, pvecm: noQuorum, st: rescue.State{DownSince: now.Add(-10 * time.Minute)},
			router: silent, vm: "stopped", wantMsg: "【推迟】集群当前没有法定票数 (Quorate: No)：qm 此时无法启动路由虚拟机"},
		{name: "quorate, VM stopped: started", nodes: 2, pvecm: pvecmStatus(2, 2), st: rescue.State{DownSince: now.Add(-10 * time.Minute)},
			router: silent, vm: "stopped", want: rescue.VMStart},
	} {
		t.Run(tt.name, func(t *testing.T) {
			h := clusterHost(t, tt.nodes, tt.pvecm)
			var g rescue.Obs
			h.guards(context.Background(), &g)
			deferred, backup, quorum, noQuorum := g.Deferred, g.Backup, g.Quorum, g.NoQuorum
			cfg := config.Default(config.Host)
			cfg.VMID = "100"
			vm := rescue.VMStatus{Status: "running", QMP: "running"}
			if tt.vm != "" {
				vm = rescue.VMStatus{Status: tt.vm, QMP: tt.vm}
			}
			s := rescue.Decide(cfg, tt.st, rescue.Obs{Now: now, Uptime: 48 * time.Hour, BootID: "b", NetKnown: true,
				VMKnown: true, VM: vm, RouterKnown: true, Router: tt.router,
				LANKnown: true, LANUp: tt.lanUp, VMConfigKnown: true, GuardsKnown: true, Deferred: deferred, Backup: backup, Quorum: quorum, NoQuorum: noQuorum})
			if s.Action != tt.want || !strings.Contains(msgs(s), tt.wantMsg) {
				t.Errorf("Decide = %v (log: %s); want %v with %q", s.Action, msgs(s), tt.want, tt.wantMsg)
			}
			if tt.want != rescue.VMStart && s.Next.VMStarts != tt.st.VMStarts {
				t.Errorf("starts counted %d; want %d (no start taken)", s.Next.VMStarts, tt.st.VMStarts)
			}
		})
	}
}

// TestBackupGuard: a backup defers the host's disruptive step whether it
// holds the global vzdump lock (scheduled and GUI backups inside
// pvescheduler: pve-manager PVE/VZDump.pm's flock on /var/run/vzdump.lock)
// or runs as a `task UPID:…:vzdump:` worker (pve-common
// PVE/RESTEnvironment.pm: `$0 = "task $upid"`). The lock path and the /proc
// root are the host's, pointed at temp files here.
func TestBackupGuard(t *testing.T) {
	dir := t.TempDir()
	h := &host{cfg: config.Default(config.Host), corosync: []string{filepath.Join(dir, "no-corosync.conf")},
		vzdumpLock: filepath.Join(dir, "vzdump.lock"), procRoot: filepath.Join(dir, "proc")}
	// guards joins the reasons, and fails the test when the backup flag
	// (a backup runs, or whether one does is unknown) is not want.
	guards := func(want bool) string {
		t.Helper()
		var o rescue.Obs
		h.guards(context.Background(), &o)
		out, backup := o.Deferred, o.Backup
		if backup != want {
			t.Errorf("guards() = %q, backup %v; want backup %v", out, backup, want)
		}
		return strings.Join(out, " ")
	}
	if got := guards(false); got != "" {
		t.Fatalf("no backup: guards() = %q", got)
	}
	if err := os.WriteFile(h.vzdumpLock, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(h.vzdumpLock)
	if err != nil {
		t.Fatal(err)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX); err != nil {
		t.Fatal(err)
	}
	got := guards(true)
	if !strings.Contains(got, "备份任务正在运行") || !strings.Contains(got, h.vzdumpLock) {
		t.Errorf("lock held: guards() = %q; want the backup named with its lock", got)
	}
	f.Close() // releases the lock
	worker := filepath.Join(h.procRoot, "4242")
	_ = os.MkdirAll(worker, 0o755)
	_ = os.WriteFile(filepath.Join(worker, "comm"), []byte("task UPID:pve:0\n"), 0o644)
	_ = os.WriteFile(filepath.Join(worker, "cmdline"), []byte("task UPID:pve:00001092:0012C3D4:6745A0F0:vzdump::root@pam:\x00"), 0o644)
	got = guards(true)
	if !strings.Contains(got, "备份任务 vzdump 正在运行 (pid 4242)") {
		t.Errorf("worker: guards() = %q; want the worker's pid", got)
	}
	// Something other than a file where the lock should be cannot say
	// whether a backup runs: the guard defers (SPEC §15).
	_ = os.RemoveAll(h.procRoot)
	for _, tt := range []struct {
		name string
		make func(path string) error
	}{
		{"fifo", func(p string) error { return syscall.Mkfifo(p, 0o644) }},
		{"directory", func(p string) error { return os.Mkdir(p, 0o755) }},
	} {
		h.vzdumpLock = filepath.Join(t.TempDir(), "vzdump.lock")
		if err := tt.make(h.vzdumpLock); err != nil {
			t.Fatal(err)
		}
		got := guards(true)
		if want := "无法确认是否有备份任务在运行 (" + h.vzdumpLock + " is not a regular file)"; !strings.Contains(got, want) {
			t.Errorf("%s as the lock: guards() = %q; want %q", tt.name, got, want)
		}
	}
}

// TestVMStatusStage: the qm stage runs `qm status VMID --verbose` and a
// failure carries qm's first stderr line (qemu-server's message for a VM
// that does not exist: "Configuration file 'nodes/pve/qemu-server/100.conf'
// does not exist").
func TestVMStatusStage(t *testing.T) {
	var asked string
	out, fail := "name: openwrt\nstatus: stopped\nvmid: 100\n", false
	h := &host{cfg: config.Default(config.Host), e: runenv.Env{
		Exec: func(_ context.Context, cmdline string, _ time.Duration) command.Result {
			asked = cmdline
			if fail {
				return command.Result{Cmd: cmdline, ExitCode: 2, Err: errors.New("exit status 2"), Stderr: "Configuration file 'nodes/pve/qemu-server/100.conf' does not exist"}
			}
			return command.Result{Cmd: cmdline, Stdout: out}
		}}}
	h.cfg.VMID = "100"
	if got := h.vmStatus(context.Background()); got.Status != "stopped" || got.Err != "" || asked != "/usr/sbin/qm status 100 --verbose" {
		t.Errorf("vmStatus = %+v (asked %q)", got, asked)
	}
	fail = true
	if got := h.vmStatus(context.Background()); !strings.Contains(got.Err, "does not exist") {
		t.Errorf("failing qm: vmStatus = %+v", got)
	}
}

// TestGuardsFailClosed: a whole run on a router VM hung for 25 minutes
// (SSH and the LAN silent, no guest agent: past ROUTER_HUNG_AFTER) takes
// the cold restart only when §6 step 4's guards can say that nothing
// forbids it. A vzdump lock that is a FIFO or a directory, or a `pvecm
// status` that fails or cannot confirm the quorum, defers: 【推迟】 with the
// reason, and no qm stop. Without a quorum known there may be none, and
// qm start refuses then while qm stop does not: the restart left the
// router VM stopped.
func TestGuardsFailClosed(t *testing.T) {
	const corosyncDown = "corosync down"
	// pvecm status as proxmox/pve-docs pvecm.adoc shows it (Votequorum
	// information, Membership information with the "(local)" node).
	const pvecmOut = "Quorum information\n------------------\nDate:             Wed Nov 25 10:00:00 2026\nQuorum provider:  corosync_votequorum\n" +
		"Nodes:            3\nNode ID:          0x00000001\nRing ID:          1.2c\nQuorate:          Yes\n\n" +
		"Votequorum information\n----------------------\nExpected votes:   3\nHighest expected: 3\nTotal votes:      3\n" +
		"Quorum:           2  \nFlags:            Quorate\n\nMembership information\n----------------------\n" +
		"    Nodeid      Votes Name\n0x00000001          1 192.168.1.10 (local)\n0x00000002          1 192.168.1.11\n0x00000003          1 192.168.1.12\n"
	for _, tt := range []struct {
		name    string
		lock    func(path string) error // nil: no lock file (no backup ever ran)
		pvecm   string                  // "": a single node, no corosync.conf
		wantLog string                  // "": the guards pass, the cold restart runs
	}{
		{name: "guards pass"},
		{name: "cluster keeps quorum", pvecm: pvecmOut},
		{name: "vzdump lock is a FIFO", lock: func(p string) error { return syscall.Mkfifo(p, 0o644) },
			wantLog: "【推迟】无法确认是否有备份任务在运行"},
		{name: "vzdump lock is a directory", lock: func(p string) error { return os.Mkdir(p, 0o755) },
			wantLog: "【推迟】无法确认是否有备份任务在运行"},
		{name: "pvecm status without the (local) line", pvecm: strings.Replace(pvecmOut, " (local)", "", 1),
			wantLog: "【推迟】无法确认集群法定票数: pvecm status: no membership line marked (local)"},
		{name: "pvecm status without Total votes", pvecm: strings.Replace(pvecmOut, "Total votes:      3\n", "", 1),
			wantLog: "【推迟】无法确认集群法定票数: pvecm status: no \\\"Total votes\\\""},
		// corosync down: no quorum, so qm start would refuse after qm stop
		// stopped the router VM; the cold restart ran and left it stopped.
		{name: "pvecm fails (corosync down)", pvecm: corosyncDown, wantLog: "【推迟】无法确认集群法定票数 (pvecm status"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			var ran []string
			vm := "running" // qm stop stops it, qm start starts it
			h := testHost(t, func(_ context.Context, cmdline string, _ time.Duration) command.Result {
				ran = append(ran, cmdline)
				switch {
				case strings.HasSuffix(cmdline, "qm status 100 --verbose"):
					// PVE/CLI/qm.pm's shape (see qm.TestParseStatus).
					return command.Result{Cmd: cmdline, Stdout: "cpus: 2\nname: openwrt\nqmpstatus: " + vm + "\nstatus: " + vm + "\nvmid: 100\n"}
				case strings.Contains(cmdline, "qm stop 100"):
					vm = "stopped"
				case strings.HasSuffix(cmdline, "qm start 100"):
					vm = "running"
				case strings.HasSuffix(cmdline, "qm config 100"):
					return command.Result{Cmd: cmdline, Stdout: "boot: order=scsi0\ncores: 2\nmemory: 512\nname: openwrt\nnet0: virtio=BC:24:11:00:00:01,bridge=vmbr0\nonboot: 1\n"}
				case strings.HasSuffix(cmdline, "pvecm status") && tt.pvecm == corosyncDown:
					// pvecm with corosync stopped (corosync-quorumtool's message).
					return command.Result{Cmd: cmdline, ExitCode: 1, Stderr: "Cannot initialize CMAP service", Err: errExit}
				case strings.HasSuffix(cmdline, "pvecm status"):
					return command.Result{Cmd: cmdline, Stdout: tt.pvecm}
				}
				return command.Result{Cmd: cmdline}
			})
			dir, log := checkable(t, h)
			now := time.Date(2026, 11, 25, 10, 0, 0, 0, time.UTC)
			h.e.Now = func() time.Time { return now }
			h.e.Probe = func(context.Context, probe.Config) probe.Result { return probe.Result{Up: false} }
			h.e.Signals = func(parent context.Context) (context.Context, context.CancelFunc) { return context.WithCancel(parent) }
			h.vzdumpLock, h.procRoot = filepath.Join(dir, "vzdump.lock"), t.TempDir()
			if tt.lock != nil {
				if err := tt.lock(h.vzdumpLock); err != nil {
					t.Fatal(err)
				}
			}
			h.corosync = []string{filepath.Join(dir, "corosync.conf")}
			if tt.pvecm != "" {
				if err := os.WriteFile(h.corosync[0], []byte("totem {}\n"), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			store := h.store()
			if err := store.Save(rescue.State{}, rescue.State{DownSince: now.Add(-30 * time.Minute), RouterDownSince: now.Add(-25 * time.Minute)}); err != nil {
				t.Fatal(err)
			}
			_ = h.check(context.Background())
			stopped := slices.Contains(ran, "/usr/sbin/qm stop 100 --timeout 30")
			if tt.wantLog == "" {
				if !stopped || strings.Contains(log.String(), "【推迟】") {
					t.Errorf("commands %q; want the cold restart, no 【推迟】:\n%s", ran, log.String())
				}
				return
			}
			if stopped || !strings.Contains(log.String(), tt.wantLog) {
				t.Errorf("commands %q; want no qm stop and %q:\n%s", ran, tt.wantLog, log.String())
			}
			if st, _ := store.Load(time.UTC); st.VMRestartDate != "" {
				t.Errorf("vm_restart_date = %q; want the day's cold restart not spent", st.VMRestartDate)
			}
		})
	}
}
