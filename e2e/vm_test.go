package e2e

// End-to-end tests of the router VM seen from the host (SPEC §13, issue
// 10 item 5) on the real hostcheck binary, in the host lab of host_test.go,
// with testlab.FakeQM as QM: a POSIX sh qm that keeps the VM's state and
// prints what proxmox/qemu-server's qm prints (testlab/fakeqm.go cites the
// subs). "The VM runs" means the router namespace has its LAN address
// (Dropbear listens on it, the LAN ping answers); "stopped" means the
// address is gone: the fake's start and stop hooks add and remove it.

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/pve-op/network-rescue/internal/testlab"
)

// vmLab is the host lab with a fake qm for VM 100.
type vmLab struct {
	*hostLab
	qm *testlab.FakeQM
}

// vmReset starts a subtest: the host lab reset with VM_ID=100 and a fresh
// fake qm whose VM runs (LAN address up), the internet cut, extra config.
func (l *vmLab) vmReset(t *testing.T, extra ...string) {
	t.Helper()
	q, err := testlab.NewFakeQM(hostTempDir(t, "qm"), "100", "/bin/sh")
	if err != nil {
		t.Fatal(err)
	}
	l.qm = q
	l.reset(t, append([]string{"VM_ID=100", "QM=" + q.Path, "VM_STOP_TIMEOUT=2s"}, extra...)...)
	addr := hostLabRouterIP + "/24"
	l.setHook(t, "start", fmt.Sprintf("ip -n %s addr add %s dev lan 2>/dev/null || true", l.router, addr))
	l.setHook(t, "stop", fmt.Sprintf("ip -n %s addr del %s dev lan 2>/dev/null || true", l.router, addr))
	l.setVM(t, "running")
	l.cut(t)
}

func (l *vmLab) setHook(t *testing.T, event, script string) {
	t.Helper()
	if err := l.qm.SetHook(event, script); err != nil {
		t.Fatal(err)
	}
}

// setVM puts the VM in a state, with the router's LAN address to match.
func (l *vmLab) setVM(t *testing.T, status string) {
	t.Helper()
	qmp := status
	if status == "paused" {
		status = "running"
	}
	for k, v := range map[string]string{"status": status, "qmpstatus": qmp} {
		if err := l.qm.Set(k, v); err != nil {
			t.Fatal(err)
		}
	}
	addr := hostLabRouterIP + "/24"
	if status == "stopped" {
		sh(t, "sh", "-c", fmt.Sprintf("ip -n %s addr del %s dev lan 2>/dev/null || true", l.router, addr))
	} else {
		sh(t, "sh", "-c", fmt.Sprintf("ip -n %s addr add %s dev lan 2>/dev/null || true", l.router, addr))
	}
}

func (l *vmLab) set(t *testing.T, field, value string) {
	t.Helper()
	if err := l.qm.Set(field, value); err != nil {
		t.Fatal(err)
	}
}

// run is one hostcheck run; its exit code must be want.
func (l *vmLab) run(t *testing.T, what string, want int) {
	t.Helper()
	if r := l.hostcheck(t); r.code != want {
		t.Errorf("%s: exit %d; want %d\n%s%s", what, r.code, want, r.stdout, r.stderr)
	}
}

// calls is what qm was asked, one line per call, joined with "; ".
func (l *vmLab) calls() string { return strings.Join(l.qm.Calls(), "; ") }

// lanAnswers reports whether the router answers ping on the LAN.
func (l *vmLab) lanAnswers(t *testing.T) bool {
	t.Helper()
	r := inNS(t, l.host, nil, nil, "busybox", "ping", "-c", "1", "-W", "1", hostLabRouterIP)
	return r.code == 0
}

// routerSilentSince rewrites the host's record as if the router had been
// unreachable (and the internet down) for d.
func (l *vmLab) routerSilentSince(t *testing.T, d time.Duration) {
	t.Helper()
	ago := strconv.FormatInt(time.Now().Add(-d).Unix(), 10)
	rec := filepath.Join(l.state, "hostcheck.state")
	if err := os.WriteFile(rec, []byte("down_since="+ago+"\nlast_reboot_date=\nrouter_down_since="+ago+"\nvm_restart_date=\n"), 0o644); err != nil {
		t.Fatal(err)
	}
}

func TestHostVMEndToEnd(t *testing.T) {
	needRoot(t, "busybox") // busybox ping: the LAN ping
	l := &vmLab{hostLab: newHostLab(t)}
	log := func() string { return readFile(t, l.log) }
	record := func() string { return readFile(t, filepath.Join(l.state, "hostcheck.state")) }

	// Rule 1: a VM found stopped is started by the next run that finds the
	// internet down; the run confirms it runs, and the router is back on
	// the LAN and SSH.
	t.Run("stopped VM is started", func(t *testing.T) {
		l.vmReset(t)
		l.setVM(t, "stopped")
		l.run(t, "run", 0)
		if got, want := l.calls(), "status 100 --verbose; start 100; status 100 --verbose"; got != want {
			t.Errorf("qm calls = %q; want %q", got, want)
		}
		hostInOrder(t, "log", log(), "【检测】", "【终极动作】启动已停止的 OpenWrt 虚拟机。", "vm_id=100", "failed_starts=0",
			"-> [成功]", "【确认】路由虚拟机已在运行。")
		if !l.lanAnswers(t) {
			t.Errorf("the router does not answer ping on the LAN after the start")
		}
		if !strings.Contains(record(), "vm_starts=1") {
			t.Errorf("record = %q; want vm_starts=1", record())
		}
		// The next run reaches the router over SSH again.
		l.run(t, "next run", 0)
		hostInOrder(t, "log", log(), "【确认】路由虚拟机已在运行。", "【检测】", "【观察】未发现 SOS 信号。")
	})

	// Rule 1 right after the host booted (a power cut, or the host's own
	// reboot): PVE starts a VM with onboot=1 itself (pve-guests.service,
	// part of the boot). While systemd still boots, the run leaves it to
	// PVE (【推迟】) and runs no qm start to race PVE's; once the boot is
	// done, a VM still stopped is started. /proc/uptime is faked (90 s).
	t.Run("booting host leaves the onboot VM to PVE", func(t *testing.T) {
		sysctl := filepath.Join(l.h, "SYSTEMCTL_BOOT")
		l.vmReset(t, "MIN_HOST_UPTIME=600", "SYSTEMCTL="+sysctl)
		answer, uptime := filepath.Join(l.h, "system_state"), filepath.Join(l.h, "uptime")
		// systemctl(1) is-system-running: the state on stdout, exit 0 only
		// when "running".
		recorder(t, l.h, "SYSTEMCTL_BOOT", filepath.Join(l.h, "systemctl.log"),
			fmt.Sprintf("s=$(cat '%s')\necho \"$s\"\n[ \"$s\" = running ]", answer))
		for p, v := range map[string]string{answer: "starting\n", uptime: "90.00 80.00\n"} {
			if err := os.WriteFile(p, []byte(v), 0o644); err != nil {
				t.Fatal(err)
			}
		}
		l.set(t, "onboot", "1")
		l.setVM(t, "stopped")
		young := func(what string) {
			t.Helper()
			if r := inNS(t, l.host, map[string]string{uptime: "/proc/uptime"}, nil, bin(t, "hostcheck"), "-config", l.conf); r.code != 0 {
				t.Errorf("%s: exit %d\n%s%s", what, r.code, r.stdout, r.stderr)
			}
		}
		young("run while PVE boots")
		if got, want := l.calls(), "status 100 --verbose; config 100"; got != want {
			t.Errorf("while PVE boots: qm calls = %q; want %q", got, want)
		}
		if got := readFile(t, filepath.Join(l.h, "systemctl.log")); got != "SYSTEMCTL_BOOT is-system-running\n" {
			t.Errorf("systemctl calls = %q; want one is-system-running", got)
		}
		hostInOrder(t, "log", log(), "【检测】", "【推迟】PVE 正在开机，按 onboot 自动启动虚拟机 (pve-guests)，本次不启动路由虚拟机。",
			"vm_id=100", "system=starting", "uptime=1m30s")
		if l.qm.Get("status") != "stopped" {
			t.Errorf("VM status %q; want still stopped (left to PVE)", l.qm.Get("status"))
		}

		if err := os.WriteFile(answer, []byte("running\n"), 0o644); err != nil {
			t.Fatal(err)
		}
		young("run after the boot")
		if got, want := l.calls(), "status 100 --verbose; config 100; status 100 --verbose; config 100; start 100; status 100 --verbose"; got != want {
			t.Errorf("after the boot: qm calls = %q; want %q", got, want)
		}
		hostInOrder(t, "log", log(), "【推迟】PVE 正在开机", "【终极动作】启动已停止的 OpenWrt 虚拟机。", "-> [成功]", "【确认】路由虚拟机已在运行。")
	})

	// SPEC §16: while a person's maintenance pause holds, the run observes
	// and logs but starts nothing; after `resume` the next run acts.
	t.Run("maintenance pause holds the VM start", func(t *testing.T) {
		l.vmReset(t)
		l.setVM(t, "stopped")
		if r := l.hostcheck(t, "pause", "30m"); r.code != 0 {
			t.Fatalf("pause: exit %d %s", r.code, r.stderr)
		}
		l.run(t, "paused run", 0)
		if got, want := l.calls(), "status 100 --verbose"; got != want {
			t.Errorf("paused: qm calls = %q; want only %q", got, want)
		}
		hostInOrder(t, "log", log(), "【暂停】维护模式开始", "【检测】", "【暂停】维护模式中，不执行动作。", "would=vm-start")
		if r := l.hostcheck(t, "resume"); r.code != 0 {
			t.Fatalf("resume: exit %d %s", r.code, r.stderr)
		}
		l.run(t, "run after resume", 0)
		if got, want := l.calls(), "status 100 --verbose; status 100 --verbose; start 100; status 100 --verbose"; got != want {
			t.Errorf("after resume: qm calls = %q; want %q", got, want)
		}
		hostInOrder(t, "log", log(), "【恢复自救】维护模式已结束", "【终极动作】启动已停止的 OpenWrt 虚拟机。")
	})

	// SPEC §16: ON_EVENT_CMD runs once per transition, with what happened
	// in its environment, after the step it reports: not again for a run
	// that finds things as they were.
	t.Run("ON_EVENT_CMD once per transition", func(t *testing.T) {
		events := filepath.Join(l.h, "events.log")
		hookCmd := fmt.Sprintf(`echo "$NETRESCUE_EVENT $NETRESCUE_OUTAGE_SECONDS $NETRESCUE_DETAIL" >> '%s'`, events)
		l.vmReset(t, "ON_EVENT_CMD="+hookCmd)
		l.setVM(t, "stopped")
		l.run(t, "first run", 0)
		got := readFile(t, events)
		if ls := lines(got); len(ls) != 2 || !strings.HasPrefix(ls[0], "down 0 ") || !strings.HasPrefix(ls[1], "vm-start 0 qm start") {
			t.Errorf("events after the first run = %q; want down, then vm-start", got)
		}
		hostInOrder(t, "log", log(), "【确认】路由虚拟机已在运行。", "-> [成功]", "event=down", "-> [成功]", "event=vm-start")
		l.run(t, "second run, still down", 0)
		if again := readFile(t, events); again != got {
			t.Errorf("a run with nothing new ran the hook: %q", again)
		}
		sh(t, "ip", "netns", "exec", l.router, "nft", "delete", "table", "inet", "hcut")
		l.run(t, "internet back", 0)
		if ls := lines(readFile(t, events)); len(ls) != 3 || !strings.HasPrefix(ls[2], "up ") {
			t.Errorf("events = %q; want up last", readFile(t, events))
		}
	})

	// Rule 2: a paused VM is resumed.
	t.Run("paused VM is resumed", func(t *testing.T) {
		l.vmReset(t)
		l.set(t, "qmpstatus", "paused")
		l.isolate(t) // a paused guest answers nothing
		l.run(t, "run", 0)
		if got, want := l.calls(), "status 100 --verbose; resume 100; status 100 --verbose"; got != want {
			t.Errorf("qm calls = %q; want %q", got, want)
		}
		hostInOrder(t, "log", log(), "【终极动作】恢复已暂停的 OpenWrt 虚拟机 (qm resume)。", "vm_id=100", "【确认】路由虚拟机已在运行。")
		if got := l.qm.Get("qmpstatus"); got != "running" {
			t.Errorf("qmpstatus = %q; want running", got)
		}
	})

	// Rule 3 and 4: a running VM with no SSH, no LAN ping and a silent
	// guest agent is hung after VM_HUNG_AFTER (ROUTER_HUNG_AFTER without
	// the agent); the cold restart is stop --timeout, a wait until qm says
	// stopped, start, and a wait until it runs.
	t.Run("hung VM is cold-restarted", func(t *testing.T) {
		l.vmReset(t, "VM_HUNG_AFTER=1m", "ROUTER_HUNG_AFTER=5m")
		l.set(t, "agent_answers", "no")
		l.isolate(t)
		// The guest comes back with the cold restart: its LAN works again.
		l.setHook(t, "start", fmt.Sprintf("ip -n %[1]s addr add %[2]s/24 dev lan 2>/dev/null; ip netns exec %[1]s nft delete table inet hlan 2>/dev/null; true",
			l.router, hostLabRouterIP))
		l.run(t, "first run", 0)
		if got, want := l.calls(), "status 100 --verbose"; got != want {
			t.Errorf("first run: qm calls = %q; want only %q", got, want)
		}
		if !strings.Contains(record(), "router_down_since=") || strings.Contains(record(), "router_down_since=\n") {
			t.Errorf("record after the first run = %q; want router_down_since", record())
		}

		// Two minutes without the agent's confirmation: not yet (5m).
		if err := l.qm.Unset("agent"); err != nil {
			t.Fatal(err)
		}
		l.routerSilentSince(t, 2*time.Minute)
		l.run(t, "no agent, 2m", 0)
		if got, want := l.calls(), "status 100 --verbose; status 100 --verbose; config 100"; got != want {
			t.Errorf("no agent: qm calls = %q; want %q", got, want)
		}
		hostInOrder(t, "log", log(), "【观察】路由虚拟机无 SSH、局域网无响应，等待确认卡死。", "agent=\"not configured\"", "hung_after=5m0s")

		// With the agent enabled and silent, two minutes is enough.
		l.set(t, "agent", "enabled=1,fstrim_cloned_disks=1")
		l.routerSilentSince(t, 2*time.Minute)
		l.run(t, "agent silent, 2m", 0)
		want := "status 100 --verbose; status 100 --verbose; config 100; " +
			"status 100 --verbose; config 100; guest cmd 100 ping; stop 100 --timeout 2; status 100 --verbose; start 100; status 100 --verbose"
		if got := l.calls(); got != want {
			t.Errorf("hung: qm calls =\n%q; want\n%q", got, want)
		}
		hostInOrder(t, "log", log(), "【严重错误】无法通过 SSH 读取", "【终极动作】冷重启 OpenWrt 虚拟机 (qm stop/start)。", "vm_id=100",
			"guest agent: does not answer", "-> [成功]", "-> [成功]", "【确认】路由虚拟机已在运行。")
		if !strings.Contains(record(), "vm_restart_date="+hostToday()) {
			t.Errorf("record = %q; want vm_restart_date=%s", record(), hostToday())
		}
		if !l.lanAnswers(t) {
			t.Errorf("the router does not answer ping on the LAN after the cold restart")
		}
		l.run(t, "after the restart", 0)
		hostInOrder(t, "log", log(), "【确认】路由虚拟机已在运行。", "【检测】", "【观察】未发现 SOS 信号。")
	})

	// Rule 5: qm start fails twice (VM_START_MAX=2): retried by the next
	// run, then the host reboots, once, with its mark.
	t.Run("VM that will not start escalates to the host", func(t *testing.T) {
		l.vmReset(t, "VM_START_MAX=2")
		l.setVM(t, "stopped")
		l.set(t, "fail_starts", "2")
		l.run(t, "first run", 0)
		l.run(t, "second run", 0)
		if got, want := l.calls(), "status 100 --verbose; start 100; status 100 --verbose; start 100"; got != want {
			t.Errorf("qm calls = %q; want %q", got, want)
		}
		hostInOrder(t, "log", log(), "failed_starts=0", "-> [错误]", "start failed: QEMU exited with code 1",
			"failed_starts=1", "-> [错误]")
		if exists(l.mark) || exists(l.actions) {
			t.Fatalf("host acted before VM_START_MAX starts failed: mark %v, calls %q", exists(l.mark), l.calls())
		}
		l.run(t, "third run", 0)
		if got := strings.Join(l.hostLab.calls(t, "REBOOT"), ","); got != "REBOOT" {
			t.Errorf("host reboot commands = %q; want REBOOT once", got)
		}
		hostInOrder(t, "log", log(), "【严重错误】路由虚拟机未运行，但今天的启动次数已用完 (VM_START_MAX)。",
			"【确认】路由虚拟机今天已多次启动仍未运行，只能重启 PVE 物理机。", "【终极动作】")
		if !strings.Contains(readFile(t, l.mark), "will not start") {
			t.Errorf("mark = %q; want the reason", readFile(t, l.mark))
		}
		if got := l.qm.Get("starts"); got != "2" {
			t.Errorf("qm start ran %s times; want 2", got)
		}
	})

	// Rule 4: `lock: backup` (a stop-mode backup stopped the VM) defers
	// while the backup runs: a vzdump worker as pvescheduler forks it
	// (pve-common PVE/RESTEnvironment.pm sets $0 = "task $upid"), here a
	// sleep under that name.
	t.Run("backup lock defers", func(t *testing.T) {
		l.vmReset(t)
		l.setVM(t, "stopped")
		l.set(t, "lock", "backup")
		sleep, err := exec.LookPath("sleep")
		if err != nil {
			t.Skip("SKIP: sleep not found")
		}
		// A copy of sleep named as the worker, run by that name from PATH
		// so that its argv[0] is the name, in hostcheck's PID namespace
		// (inNSBeside): no other hostcheck on the machine sees it.
		const upid = "task UPID:pve:00001092:0012C3D4:6745A0F0:vzdump::root@pam:"
		dir := t.TempDir()
		b, err := os.ReadFile(sleep)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, upid), b, 0o755); err != nil {
			t.Fatal(err)
		}
		env := []string{"PATH=" + dir + string(os.PathListSeparator) + os.Getenv("PATH")}
		if r, _ := inNSBeside(t, l.host, nil, env, []string{upid, "30"}, bin(t, "hostcheck"), "-config", l.conf); r.code != 0 {
			t.Errorf("run: exit %d; want 0\n%s%s", r.code, r.stdout, r.stderr)
		}
		if got, want := l.calls(), "status 100 --verbose"; got != want {
			t.Errorf("qm calls = %q; want only %q", got, want)
		}
		hostInOrder(t, "log", log(), "【检测】", "【推迟】路由虚拟机被锁定 (备份或迁移进行中)，本次不对虚拟机动作。", "lock=backup")
		if strings.Contains(record(), "vm_starts=1") {
			t.Errorf("a start was counted: %q", record())
		}
	})

	// Rule 4: hostcheck SIGKILLed between qm stop and qm start; the day's
	// restart was recorded before, and the next run starts the VM.
	t.Run("killed between stop and start", func(t *testing.T) {
		l.vmReset(t)
		l.writeRouter(t, "SOS_SYSTEM", hostSOS)
		l.setHook(t, "stop", fmt.Sprintf("ip -n %s addr del %s/24 dev lan 2>/dev/null\n%s[ \"$hc\" -gt 1 ] && kill -KILL \"$hc\"\ntrue",
			l.router, hostLabRouterIP, hostFindHostcheck))
		if r := l.hostcheck(t); r.code != -1 && r.code != 137 {
			t.Errorf("first run: exit %d; want killed by SIGKILL", r.code)
		}
		if got, want := l.calls(), "status 100 --verbose; stop 100 --timeout 2"; got != want {
			t.Errorf("first run: qm calls = %q; want %q", got, want)
		}
		if !strings.Contains(record(), "vm_restart_date="+hostToday()) {
			t.Errorf("record = %q; want the restart recorded before qm stop", record())
		}
		l.setHook(t, "stop", "true")
		l.run(t, "next run", 0)
		if got, want := l.calls(), "status 100 --verbose; stop 100 --timeout 2; status 100 --verbose; start 100; status 100 --verbose"; got != want {
			t.Errorf("qm calls = %q; want %q", got, want)
		}
		hostInOrder(t, "log", log(), "【终极动作】冷重启 OpenWrt 虚拟机", "【检测】", "【终极动作】启动已停止的 OpenWrt 虚拟机。", "【确认】路由虚拟机已在运行。")
		if l.qm.Get("status") != "running" || !l.lanAnswers(t) {
			t.Errorf("VM %q, LAN ping %v after the next run; want running and answering", l.qm.Get("status"), l.lanAnswers(t))
		}
	})
}
