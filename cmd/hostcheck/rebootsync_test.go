package main

import (
	"context"
	"net"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/pve-op/network-rescue/internal/command"
	"github.com/pve-op/network-rescue/internal/rescue"
	"github.com/pve-op/network-rescue/state"
)

// countingRouter gives h an SSH key of its own and points it at a port of
// 127.0.0.1 that accepts connections, counts them and closes them at once:
// an SSH attempt is seen (*n), and fails as one to a router that is down.
func countingRouter(t *testing.T, h *host) *atomic.Int32 {
	t.Helper()
	giveKey(t, h, t.TempDir())
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	h.cfg.OpIP, h.cfg.OpSSHPort, h.cfg.SSHTimeout = "127.0.0.1", ln.Addr().(*net.TCPAddr).Port, 2*time.Second
	pinSomeKey(t, h, ln.Addr().String())
	n := new(atomic.Int32)
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			n.Add(1)
			c.Close()
		}
	}()
	return n
}

// TestRebootVMDownNoSync: the host's reboot for a router VM that will
// not run (SPEC §13 rule 5: stopped after VM_START_MAX failed starts, or
// paused with resume and the day's cold restart spent). The router is
// off: SSH could only fail, and its 【严重错误】无法在 OpenWrt 上删除 SOS
// sent the owner to debug Dropbear on a router that was simply off (and
// there was no SOS); report counted it as an error. Now SSH is not tried,
// and one INFO line says there is nothing to sync and what the router
// does with its count when it boots.
func TestRebootVMDownNoSync(t *testing.T) {
	for _, tc := range []struct {
		name, qm, status string
		st               func(*rescue.State)
		misfire          bool // REBOOT_CMD and its fallback have no effect: 【回退】, and no SSH for net_rescued_by either
	}{
		{name: "stopped", qm: "name: openwrt\nqmpstatus: stopped\nstatus: stopped\nvmid: 100\n", status: "stopped"},
		{name: "stopped, the reboot misfires", qm: "name: openwrt\nqmpstatus: stopped\nstatus: stopped\nvmid: 100\n", status: "stopped", misfire: true},
		{name: "paused", qm: "name: openwrt\nqmpstatus: paused\nstatus: running\nvmid: 100\n", status: "running/paused",
			st: func(s *rescue.State) { s.VMRestartDate = "2026-11-25" }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var stop *context.CancelFunc
			h, now, ran, stop, log := vmWontStart(t, func(cmdline string) command.Result {
				if cmdline == "/usr/bin/systemctl reboot" && !tc.misfire {
					(*stop)() // the shutdown reaches the run
				}
				return command.Result{Cmd: cmdline}
			})
			h.cfg.RebootConfirm = time.Millisecond
			exec := h.e.Exec
			h.e.Exec = func(ctx context.Context, cmdline string, d time.Duration) command.Result {
				if strings.HasSuffix(cmdline, "qm status 100 --verbose") {
					*ran = append(*ran, cmdline)
					return command.Result{Cmd: cmdline, Stdout: tc.qm}
				}
				return exec(ctx, cmdline, d)
			}
			if tc.st != nil {
				st := rescue.State{DownSince: now.Add(-20 * time.Minute), VMStartDate: "2026-11-25", VMStarts: 3}
				tc.st(&st)
				if err := h.store().Save(rescue.State{}, st); err != nil {
					t.Fatal(err)
				}
			}
			dials := countingRouter(t, h)
			err := h.check(context.Background())
			switch {
			case tc.misfire && (err == nil || !strings.Contains(log.String(), "【回退】")):
				t.Errorf("check = %v; want the misfire's error and 【回退】:\n%s", err, log.String())
			case !tc.misfire && err != nil:
				t.Errorf("check = %v; want a quiet end (the shutdown reached the run)", err)
			}
			if !slices.Contains(*ran, "/usr/bin/systemctl reboot") {
				t.Fatalf("commands %q; want REBOOT_CMD:\n%s", *ran, log.String())
			}
			if n := dials.Load(); n != 0 {
				t.Errorf("%d SSH connection(s) to the router; want none (its VM is %s)", n, tc.status)
			}
			got := log.String()
			if strings.Contains(got, "无法在 OpenWrt 上删除 SOS") || strings.Contains(got, "Dropbear") || strings.Contains(got, "删除 SOS 成功") ||
				strings.Contains(got, "net_rescued_by") {
				t.Errorf("log has the sync's 严重错误, a Dropbear hint, an SOS removed or net_rescued_by; want none (the router VM is off):\n%s", got)
			}
			want := `level=INFO msg="` + vmDownSync + `" vm_id=100 vm_status=` + tc.status
			if strings.Count(got, "【同步】") != 1 || !strings.Contains(got, want) {
				t.Errorf("log lacks the one 【同步】 line %q:\n%s", want, got)
			}
			if !strings.Contains(got, "【终极动作】PVE 物理机将在 0 秒后执行优雅重启...") {
				t.Errorf("log lacks 【终极动作】:\n%s", got)
			}
			if m, ok, err := state.ReadMark(h.store().Mark, time.UTC); !tc.misfire && (!ok || err != nil || m.Date != "2026-11-25") {
				t.Errorf("the mark: %+v %v %v; want today's", m, ok, err)
			}
		})
	}
}

// TestRebootSyncFailedNoSOS: a host reboot with no SOS read (a hung VM, a
// LAN fault, qm failing) whose sync fails anyway is no 【严重错误】 (there
// was no SOS to remove; nothing the owner must fix for this reboot): a
// 【警告】 says what was not done. With an SOS read and not removed, the
// original's 【严重错误】 line stays.
func TestRebootSyncFailedNoSOS(t *testing.T) {
	for _, tc := range []struct {
		name   string
		router routerSync
		want   string
		not    string
	}{
		{name: "no SOS", router: routerSync{},
			want: `level=WARN msg="【警告】未能在 OpenWrt 上清零重启计数、清除冷却 (本次没有 SOS)，仍然重启：路由器沿用原有计数，网络稳定后或零点时自行清零。" reason=`, not: "严重错误"},
		{name: "SOS read", router: routerSync{SOS: true},
			want: `level=ERROR msg="【严重错误】无法在 OpenWrt 上删除 SOS 并清零计数，仍然重启" reason=`, not: "【警告】未能"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			var ran []string
			h := testHost(t, func(_ context.Context, cmdline string, _ time.Duration) command.Result {
				ran = append(ran, cmdline)
				if cmdline == "/usr/bin/systemctl reboot" {
					cancel() // the shutdown reaches the run
				}
				return command.Result{Cmd: cmdline}
			})
			_, log := checkable(t, h)
			dials := countingRouter(t, h)
			store := h.store()
			mark := state.Mark{Date: "2026-11-25", Time: testNow, BootID: "boot", Reason: "router VM 100 hung", Dated: true}
			if err := h.reboot(ctx, store, mark, "", tc.router); err != nil {
				t.Errorf("reboot = %v; want a quiet end", err)
			}
			if !slices.Contains(ran, "/usr/bin/systemctl reboot") || dials.Load() != 1 {
				t.Errorf("commands %q, %d SSH connection(s); want the sync tried once, then REBOOT_CMD", ran, dials.Load())
			}
			got := log.String()
			if !strings.Contains(got, tc.want) || strings.Contains(got, tc.not) || strings.Contains(got, "【同步】") {
				t.Errorf("log lacks %q, or has %q or 【同步】:\n%s", tc.want, tc.not, got)
			}
		})
	}
}
