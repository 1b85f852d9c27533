package main

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/pve-op/network-rescue/internal/command"
	"github.com/pve-op/network-rescue/internal/config"
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
		return "Quorum information\n------------------\nQuorate:          Yes\n\nVotequorum information\n----------------------\n" +
			"Expected votes:   3\nHighest expected: 3\nTotal votes:      " + itoa(total) +
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
		asked bool   // pvecm status asked
	}{
		{name: "single node"},
		{name: "three nodes up", conf: pve, out: pvecm(3, 2), asked: true},
		{name: "two of three up: we are needed", conf: pve, out: pvecm(2, 2), want: "重启本节点会使集群失去法定票数", asked: true},
		{name: "pvecm fails", conf: pve, fail: true, want: "无法确认集群法定票数", asked: true},
		{name: "pmxcfs down, corosync still configured", conf: local, out: pvecm(2, 2), want: "重启本节点会使集群失去法定票数", asked: true},
		{name: "/etc/pve unreadable, corosync configured", conf: broken, out: pvecm(3, 2), asked: true},
		{name: "/etc/pve unreadable, no corosync: a single node", conf: brokenSingle},
		{name: "corosync.conf unreadable", conf: brokenLocal, want: "无法确认本机是否属于集群"},
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
			write := func(path string) {
				if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(path, []byte("totem {}\n"), 0o644); err != nil {
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
			var reasons []string
			for _, r := range h.guards(context.Background()) {
				if !strings.Contains(r, "vzdump") {
					reasons = append(reasons, r)
				}
			}
			got := strings.Join(reasons, " ")
			if tt.want == "" && got != "" || tt.want != "" && !strings.Contains(got, tt.want) {
				t.Errorf("guards() = %q; want %q", got, tt.want)
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
	if got := h.guards(context.Background()); len(got) != 0 {
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
	got := strings.Join(h.guards(context.Background()), " ")
	if !strings.Contains(got, "备份任务正在运行") || !strings.Contains(got, h.vzdumpLock) {
		t.Errorf("lock held: guards() = %q; want the backup named with its lock", got)
	}
	f.Close() // releases the lock
	worker := filepath.Join(h.procRoot, "4242")
	_ = os.MkdirAll(worker, 0o755)
	_ = os.WriteFile(filepath.Join(worker, "comm"), []byte("task UPID:pve:0\n"), 0o644)
	_ = os.WriteFile(filepath.Join(worker, "cmdline"), []byte("task UPID:pve:00001092:0012C3D4:6745A0F0:vzdump::root@pam:\x00"), 0o644)
	got = strings.Join(h.guards(context.Background()), " ")
	if !strings.Contains(got, "备份任务 vzdump 正在运行 (pid 4242)") {
		t.Errorf("worker: guards() = %q; want the worker's pid", got)
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
