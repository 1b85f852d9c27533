package rescue

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/pve-op/network-rescue/internal/assist"
	"github.com/pve-op/network-rescue/internal/config"
	"github.com/pve-op/network-rescue/state"
)

// TestDecideLAN: SPEC §14 on the host — a fault only the LAN sees (the
// router reports itself up, no SOS) is seen by two runs in a row, then one
// LAN-side step per run: dns (a DNS fault only) → network → reboot (the VM
// cold restart with VM_ID) → the host reboot under §6's rules.
func TestDecideLAN(t *testing.T) {
	selfUp := Router{SelfKnown: true, SelfUp: true, Count: "0"}
	path := func(mod func(o *Obs)) Obs {
		return full(func(o *Obs) {
			o.Router, o.DNSKnown, o.DNSOK = selfUp, true, false
			if mod != nil {
				mod(o)
			}
		})
	}
	dns := func(mod func(o *Obs)) Obs {
		return path(func(o *Obs) {
			o.NetUp, o.DNSDetail = true, "dns 10.78.1.1:53: read: connection refused"
			if mod != nil {
				mod(o)
			}
		})
	}
	vm := func(c *config.Config) { c.VMID = "100" }
	for _, tt := range []struct {
		name       string
		cfg        func(*config.Config)
		st         State
		obs        Obs
		wantAction Action
		wantAssist assist.Step
		wantMsg    string
		wantSteps  string
		wantSeen   int
	}{
		{name: "healthy with DNS: nothing", obs: Obs{Now: t0, NetKnown: true, NetUp: true, DNSKnown: true, DNSOK: true}},
		{name: "path fault, first run: watch", obs: path(nil), wantMsg: "【LAN】局域网侧故障", wantSeen: 1},
		{name: "path fault, second run: network", st: State{LANFault: LANPath, LANSeen: 1}, obs: path(nil),
			wantAction: Assist, wantAssist: assist.Network, wantMsg: "【LAN】请求 OpenWrt 协助。", wantSteps: "network", wantSeen: 2},
		{name: "path fault, network tried: reboot", st: State{LANFault: LANPath, LANSeen: 2, LANSteps: "network"}, obs: path(nil),
			wantAction: Assist, wantAssist: assist.Reboot, wantSteps: "network,reboot", wantSeen: 3},
		{name: "path fault, all tried: the host", st: State{LANFault: LANPath, LANSeen: 3, LANSteps: "network,reboot"}, obs: path(nil),
			wantAction: HostReboot, wantMsg: "【LAN】OpenWrt 侧的步骤都已尝试"}, // the LAN ladder starts over with the reboot
		{name: "path fault with VM_ID: cold restart for reboot", cfg: vm, st: State{LANFault: LANPath, LANSeen: 2, LANSteps: "network"},
			obs: path(nil), wantAction: VMRestart, wantSteps: "network,reboot", wantSeen: 3},
		// The day's cold restart spent (on a hang at 03:00): the router,
		// answering SSH, reboots itself before the host does. It was
		// skipped, and the host rebooted after the network step alone.
		{name: "VM restarted today: the router's own reboot", cfg: vm, st: State{LANFault: LANPath, LANSeen: 2, LANSteps: "network", VMRestartDate: Today(t0)},
			obs: path(nil), wantAction: Assist, wantAssist: assist.Reboot, wantSteps: "network,reboot", wantSeen: 3},
		{name: "VM restarted today, the router's reboot tried: the host", cfg: vm, st: State{LANFault: LANPath, LANSeen: 3, LANSteps: "network,reboot", VMRestartDate: Today(t0)},
			obs: path(nil), wantAction: HostReboot, wantMsg: "【LAN】OpenWrt 侧的步骤都已尝试"},
		// §6 step 4's guards hold the host's reboot after the LAN steps and
		// the VM's cold restart in their place: 【推迟】, nothing done, and
		// the step is not spent (the next run after the guards takes it).
		{name: "all tried, a backup runs: 推迟, no host reboot", st: State{LANFault: LANPath, LANSeen: 3, LANSteps: "network,reboot"},
			obs: path(func(o *Obs) {
				o.Deferred = []string{"备份任务正在运行 (/var/run/vzdump.lock 已被锁定)，等它结束再说。"}
			}),
			wantMsg: "【推迟】备份任务正在运行", wantSteps: "network,reboot", wantSeen: 4},
		{name: "all tried, host up 9m59s of MIN_HOST_UPTIME 10m: 推迟, no host reboot", st: State{LANFault: LANPath, LANSeen: 3, LANSteps: "network,reboot"},
			obs: path(func(o *Obs) { o.Uptime = 10*time.Minute - time.Second }), wantMsg: "【推迟】物理机开机时间过短。", wantSteps: "network,reboot", wantSeen: 4},
		{name: "VM_ID, network tried, a backup runs: 推迟, no cold restart", cfg: vm, st: State{LANFault: LANPath, LANSeen: 2, LANSteps: "network"},
			obs: path(func(o *Obs) {
				o.Deferred = []string{"备份任务 vzdump 正在运行 (pid 4242)，等它结束再说。"}
			}),
			wantMsg: "【推迟】备份任务 vzdump 正在运行", wantSteps: "network", wantSeen: 3},
		{name: "VM_ID, network tried, host just booted: 推迟, no cold restart", cfg: vm, st: State{LANFault: LANPath, LANSeen: 2, LANSteps: "network"},
			obs: path(func(o *Obs) { o.Uptime = 2 * time.Minute }), wantMsg: "【推迟】物理机开机时间过短。", wantSteps: "network", wantSeen: 3},
		{name: "dns fault, first run: watch", obs: dns(nil), wantMsg: "【检测】DNS 解析失败", wantSeen: 1},
		{name: "dns fault, second run: dns", st: State{LANFault: LANDNS, LANSeen: 1}, obs: dns(nil),
			wantAction: Assist, wantAssist: assist.DNS, wantMsg: "【LAN】DNS 故障", wantSteps: "dns", wantSeen: 2},
		{name: "dns fault, dns tried: network", st: State{LANFault: LANDNS, LANSeen: 2, LANSteps: "dns"}, obs: dns(nil),
			wantAction: Assist, wantAssist: assist.Network, wantSteps: "dns,network", wantSeen: 3},
		{name: "dns fault, all router steps tried: no host reboot", st: State{LANFault: LANDNS, LANSeen: 4, LANSteps: "dns,network,reboot"},
			obs: dns(nil), wantMsg: "不重启 PVE 物理机", wantSteps: "dns,network,reboot", wantSeen: 5},
		{name: "kind changes: seen afresh", st: State{LANFault: LANDNS, LANSeen: 3, LANSteps: "dns,network"}, obs: path(nil), wantSeen: 1},
		{name: "the router sees the outage too: its ladder", st: State{LANFault: LANPath, LANSeen: 3, LANSteps: "network"},
			obs: path(func(o *Obs) { o.Router.SelfUp = false }), wantMsg: "【观察】未发现 SOS 信号。"},
		{name: "router view unknown: no LAN step", obs: path(func(o *Obs) { o.Router.SelfKnown = false }), wantMsg: "【观察】"},
		{name: "paused: held", st: State{LANFault: LANPath, LANSeen: 1, PauseUntil: t0.Add(time.Hour)}, obs: path(nil),
			wantMsg: "【暂停】", wantSeen: 2},
		{name: "HOST_REBOOT_HOURS does not hold an assist", cfg: func(c *config.Config) { c.HostRebootHours, _ = config.ParseHours("1-6") },
			st: State{LANFault: LANPath, LANSeen: 1}, obs: path(nil), wantAction: Assist, wantAssist: assist.Network, wantSteps: "network", wantSeen: 2},
		{name: "back up: cleared", st: State{LANFault: LANPath, LANSeen: 3, LANSteps: "network", DownSince: t0.Add(-15 * time.Minute)},
			obs: Obs{Now: t0, NetKnown: true, NetUp: true, DNSKnown: true, DNSOK: true}, wantMsg: "【恢复】"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			cfg := config.Default(config.Host)
			if tt.cfg != nil {
				tt.cfg(&cfg)
			}
			s := Decide(cfg, tt.st, tt.obs)
			if s.Action != tt.wantAction || s.Assist != tt.wantAssist {
				t.Errorf("Decide = %v %q; want %v %q (log: %s)", s.Action, s.Assist, tt.wantAction, tt.wantAssist, msgs(s))
			}
			if !strings.Contains(msgs(s), tt.wantMsg) {
				t.Errorf("log %q lacks %q", msgs(s), tt.wantMsg)
			}
			if tt.wantSteps != "" && s.Next.LANSteps != tt.wantSteps {
				t.Errorf("steps done = %q; want %q", s.Next.LANSteps, tt.wantSteps)
			}
			if s.Next.LANSeen != tt.wantSeen {
				t.Errorf("seen = %d; want %d", s.Next.LANSeen, tt.wantSeen)
			}
		})
	}
}

// TestSimulateLANFault pins the time to rescue of the faults only the LAN
// sees (SPEC §14: DNS ≤ 11 min, LAN path ≤ 16 min) under the default config,
// worked out by hand: hostcheck runs at every fifth minute, the fault comes
// at 08:00:30, a run's probe waits PROBE_TIMEOUT (3 s).
func TestSimulateLANFault(t *testing.T) {
	cfg := config.Default(config.Host)
	at := time.Date(2026, 3, 5, 8, 0, 30, 0, cst)
	for _, tt := range []struct {
		f    LANFaultClass
		want time.Duration
	}{
		// 08:05 sees it, 08:10 sees it again and asks for dns.
		{LANDNSDead, 9*time.Minute + 33*time.Second},
		// 08:05 sees it, 08:10 asks for network.
		{LANPathByL2, 9*time.Minute + 33*time.Second},
		// 08:05, 08:10 network, 08:15 reboot.
		{LANPathByReboot, 14*time.Minute + 33*time.Second},
	} {
		got, _, ok := SimulateLANFault(cfg, tt.f, at, 24*time.Hour)
		if !ok || got != tt.want {
			t.Errorf("SimulateLANFault(%v) = %v, %v; want %v", tt.f, got, ok, tt.want)
		}
	}
}

// TestRefused: a router's "not now" takes the step just asked for off
// the steps done, so that the next run asks again; "never today" (the
// daily limit, SOS) and anything that is not the last step leave the
// state as it is (SPEC §14, §16).
func TestRefused(t *testing.T) {
	for _, tt := range []struct {
		steps string
		step  assist.Step
		why   string
		want  string
		ok    bool
	}{
		{"network", assist.Network, assist.WhyPause, "", true},
		{"network,reboot", assist.Reboot, assist.WhyCooling, "network", true},
		{"network,reboot", assist.Reboot, assist.WhySafeUptime, "network", true},
		{"dns", assist.DNS, assist.WhyBusy, "", true},
		// A router left in DRY_RUN never takes a step: the host goes on.
		{"dns,network", assist.Network, assist.WhyDryRun, "dns,network", false},
		{"network,reboot", assist.Reboot, assist.WhyLimit, "network,reboot", false},
		{"network,reboot", assist.Reboot, assist.WhySOS, "network,reboot", false},
		{"network,reboot", assist.Reboot, assist.WhyCommand, "network,reboot", false},
		{"network,reboot", assist.Network, assist.WhyPause, "network,reboot", false}, // not the step just asked
		{"", assist.Network, assist.WhyPause, "", false},
	} {
		back, ok := Refused(State{LANFault: LANPath, LANSeen: 3, LANSteps: tt.steps}, tt.step, tt.why, t0)
		if back.LANSteps != tt.want || ok != tt.ok || back.LANFault != LANPath || back.LANSeen != 3 {
			t.Errorf("Refused(%q, %s, %s) = %q (fault %q, seen %d), %v; want %q, %v",
				tt.steps, tt.step, tt.why, back.LANSteps, back.LANFault, back.LANSeen, ok, tt.want, tt.ok)
		}
	}
	// After LANHoldRuns "not now" answers in the fault, the next counts as
	// tried; a pause (the owner's, bounded by itself) always holds, and its
	// runs are not counted: a fault seen through a long pause still gets
	// its LANHoldRuns (a safe-uptime refusal after the pause used to be
	// counted as tried at once, and the host rebooted).
	for _, why := range []string{assist.WhyCooling, assist.WhySafeUptime, assist.WhyBusy} {
		if _, ok := Refused(State{LANFault: LANPath, LANSeen: 40, LANHeld: LANHoldRuns, LANSteps: "network,reboot"}, assist.Reboot, why, t0); ok {
			t.Errorf("Refused(%s) after %d holds still holds", why, LANHoldRuns)
		}
		back, ok := Refused(State{LANFault: LANPath, LANSeen: 40, LANHeld: 0, LANSteps: "network,reboot"}, assist.Reboot, why, t0)
		if !ok || back.LANHeld != 1 {
			t.Errorf("Refused(%s) 40 runs into the fault, none held before: ok %v, held %d; want it held, counted once", why, ok, back.LANHeld)
		}
	}
	if back, ok := Refused(State{LANFault: LANPath, LANSeen: 10 * LANHoldRuns, LANHeld: LANHoldRuns, LANSteps: "network"}, assist.Network, assist.WhyPause, t0); !ok || back.LANHeld != LANHoldRuns {
		t.Errorf("pause no longer holds after %d runs, or counts (held %d)", 10*LANHoldRuns, back.LANHeld)
	}
	// netcheck not on the router: no step taken, never the host's reboot;
	// and no LAN fault either, for NoNetcheckHold (NoNetcheckAt, dated by
	// the run): only netcheck's net_outage made it one.
	for _, tt := range []struct {
		steps string
		step  assist.Step
		fault string
	}{{"network", assist.Network, LANPath}, {"dns", assist.DNS, LANDNS}, {"network,reboot", assist.Reboot, LANPath}} {
		back, ok := Refused(State{LANFault: tt.fault, LANSeen: 10 * LANHoldRuns, LANHeld: LANHoldRuns, LANSteps: tt.steps}, tt.step, WhyNotRunnable, t0)
		if !ok || !back.NoNetcheckAt.Equal(t0) || back.LANFault != "" || back.LANSeen != 0 || back.LANSteps != "" || back.LANHeld != 0 {
			t.Errorf("Refused(%q, %s, not-runnable) = %+v, %v; want no LAN fault, no netcheck on the router", tt.steps, tt.step, back, ok)
		}
	}
}

// TestLANHoldEnds: the host's whole LAN ladder against a router that
// answers every request "not now" (a cooling, or an uptime it cannot read)
// ends in the host reboot after LANHoldRuns runs of the fault, and against
// a router left in DRY_RUN at once, as if the steps had run (SPEC §14:
// "after that, the host reboot"); it used to ask for the network step
// every five minutes for ever.
func TestLANHoldEnds(t *testing.T) {
	cfg := config.Default(config.Host)
	for _, why := range []string{assist.WhySafeUptime, assist.WhyDryRun} {
		st := State{}
		reboot := -1
		for run := 0; run < 3*LANHoldRuns && reboot < 0; run++ {
			s := Decide(cfg, st, full(func(o *Obs) {
				o.Now = t0.Add(time.Duration(run) * 5 * time.Minute)
				o.Router, o.DNSKnown, o.DNSOK = Router{SelfKnown: true, SelfUp: true, Count: "0"}, true, false
			}))
			next := s.Next
			if s.Action == Assist {
				next, _ = Refused(next, s.Assist, why, t0)
			}
			if s.Action == HostReboot {
				reboot = run
			}
			st = next
		}
		if reboot < 0 || why == assist.WhyDryRun && reboot > 5 || reboot > LANHoldRuns+3 {
			t.Errorf("router refusing %s: host reboot at run %d; want one within the hold", why, reboot)
		}
	}
}

// TestLANHoldAfterPause: the owner paused the router for two hours and
// rebooted it while working; after `resume` the router takes the network
// step and answers the reboot "just booted" (safe-uptime) for a few runs.
// Those runs are the first "not now" of the fault: they hold, and no host
// reboot comes (it used to come two runs after the pause, the fault's
// runs of the pause having spent the hold).
func TestLANHoldAfterPause(t *testing.T) {
	cfg := config.Default(config.Host)
	st := State{}
	for run := 0; run < 40 && !strings.Contains(st.LANSteps, "reboot"); run++ {
		s := Decide(cfg, st, full(func(o *Obs) {
			o.Now = t0.Add(time.Duration(run) * 5 * time.Minute)
			o.Router, o.DNSKnown, o.DNSOK = Router{SelfKnown: true, SelfUp: true, Count: "0"}, true, false
		}))
		if s.Action == HostReboot {
			t.Fatalf("host reboot at run %d (steps %q, held %d) while the router only said 'not now'", run, st.LANSteps, st.LANHeld)
		}
		next := s.Next
		switch {
		case s.Action != Assist:
		case run < 24: // paused
			next, _ = Refused(next, s.Assist, assist.WhyPause, t0)
		case s.Assist == assist.Reboot && run < 30: // just booted
			next, _ = Refused(next, s.Assist, assist.WhySafeUptime, t0)
		}
		st = next
	}
	if !strings.Contains(st.LANSteps, "reboot") || st.LANHeld != 5 {
		t.Errorf("steps done %q, held %d; want the router's reboot taken once it was accepted, after 5 holds", st.LANSteps, st.LANHeld)
	}
}

// TestLANVMNotReadable: with VM_ID, a LAN path fault whose network step
// was tried reaches the VM's cold restart. A VM that holds a lock
// (migrate, backup) takes no action in that run, and a `qm status` that
// failed once is retried by the next run, as on the SOS path: neither
// sends the host to its reboot (it used to: three runs with `lock:
// migrate` ended in 【LAN】OpenWrt 侧的步骤都已尝试… and a host reboot
// with steps_done=network). Two failures of qm in a row skip the VM step.
func TestLANVMNotReadable(t *testing.T) {
	cfg := config.Default(config.Host)
	cfg.VMID = "100"
	lanRun := func(run int, vm VMStatus) Obs {
		return full(func(o *Obs) {
			o.Now = t0.Add(time.Duration(run) * 5 * time.Minute)
			o.Router, o.DNSKnown, o.DNSOK = Router{SelfKnown: true, SelfUp: true, Count: "0"}, true, false
			o.VM = vm
		})
	}
	t.Run("locked", func(t *testing.T) {
		st := State{}
		for run := range 6 {
			s := Decide(cfg, st, lanRun(run, VMStatus{Status: "running", QMP: "running", Lock: "migrate"}))
			if s.Action == HostReboot || s.Action == VMRestart || strings.Contains(msgs(s), "【LAN】OpenWrt 侧的步骤都已尝试") {
				t.Fatalf("run %d with lock: migrate: %v (log: %s); want no VM action and no host reboot", run, s.Action, msgs(s))
			}
			if run >= 2 && !strings.Contains(msgs(s), "【推迟】路由虚拟机被锁定") {
				t.Errorf("run %d: log %q lacks 【推迟】路由虚拟机被锁定", run, msgs(s))
			}
			st = s.Next
		}
		if st.LANSteps != "network" {
			t.Errorf("steps done %q; want network only (the VM step waits for the lock)", st.LANSteps)
		}
	})
	t.Run("locked, cold restart spent today", func(t *testing.T) {
		st := State{LANFault: LANPath, LANSeen: 3, LANSteps: "network", VMRestartDate: Today(t0)}
		s := Decide(cfg, st, lanRun(0, VMStatus{Status: "running", QMP: "running", Lock: "migrate"}))
		if s.Action != None {
			t.Errorf("lock: migrate, cold restart spent: %v (log: %s); want no host reboot under the lock", s.Action, msgs(s))
		}
	})
	t.Run("qm fails once, then answers", func(t *testing.T) {
		st := State{LANFault: LANPath, LANSeen: 2, LANSteps: "network"}
		s := Decide(cfg, st, lanRun(0, VMStatus{Err: "exit 255: ipcc_send_rec[1] failed"}))
		if s.Action != None || !strings.Contains(msgs(s), "【推迟】qm 无法读取路由虚拟机状态，下个周期再试") {
			t.Fatalf("qm failed once: %v (log: %s); want no action, 【推迟】", s.Action, msgs(s))
		}
		s = Decide(cfg, s.Next, lanRun(1, VMStatus{Status: "running", QMP: "running"}))
		if s.Action != VMRestart {
			t.Errorf("qm answers again: %v (log: %s); want the VM cold restart", s.Action, msgs(s))
		}
	})
	t.Run("qm fails twice in a row", func(t *testing.T) {
		st := State{LANFault: LANPath, LANSeen: 2, LANSteps: "network"}
		s := Decide(cfg, st, lanRun(0, VMStatus{Err: "exit 255: ipcc_send_rec[1] failed"}))
		s = Decide(cfg, s.Next, lanRun(1, VMStatus{Err: "exit 255: ipcc_send_rec[1] failed"}))
		if s.Action != Assist || s.Assist != assist.Reboot || !strings.Contains(msgs(s), "【确认】qm 无法读取路由虚拟机状态，改为请求 OpenWrt 自行重启") {
			t.Fatalf("qm failed twice: %v %q (log: %s); want the router asked to reboot itself after 【确认】", s.Action, s.Assist, msgs(s))
		}
		s = Decide(cfg, s.Next, lanRun(2, VMStatus{Err: "exit 255: ipcc_send_rec[1] failed"}))
		if s.Action != HostReboot || !strings.Contains(msgs(s), "【LAN】OpenWrt 侧的步骤都已尝试") {
			t.Errorf("qm failing, the router's reboot tried: %v (log: %s); want the host reboot", s.Action, msgs(s))
		}
	})
}

// TestLANFaultAfterHostReboot: the host reboots for a LAN path fault and
// the fault survives it. The reboot's state starts the LAN ladder over (it
// is saved with the mark, before the reboot), so the next day does not
// find every step done and reboot the host at its first run (00:00): it
// sees the fault twice, asks the router for network, then reboot, and only
// then reboots the host, once that day (SPEC §6, §14).
func TestLANFaultAfterHostReboot(t *testing.T) {
	cfg := config.Default(config.Host)
	lan := func(now time.Time) Obs {
		return full(func(o *Obs) {
			o.Now = now
			o.Router, o.DNSKnown, o.DNSOK = Router{SelfKnown: true, SelfUp: true, Count: "0"}, true, false
		})
	}
	s := Decide(cfg, State{LANFault: LANPath, LANSeen: 3, LANSteps: "network,reboot", DownSince: t0.Add(-20 * time.Minute)}, lan(t0))
	if s.Action != HostReboot {
		t.Fatalf("all LAN steps tried: %v; want the host reboot (log: %s)", s.Action, msgs(s))
	}
	if s.Next.LANSteps != LANHostStep || s.Next.LANSeen != 0 {
		t.Errorf("saved with the reboot: steps %q, seen %d; want the LAN ladder started over (steps %q)", s.Next.LANSteps, s.Next.LANSeen, LANHostStep)
	}
	st := s.Next
	st.HasMark, st.Mark = false, state.Mark{} // midnight-reset
	midnight := time.Date(t0.Year(), t0.Month(), t0.Day()+1, 0, 0, 0, 0, t0.Location())
	var got []string
	for run := range 5 {
		s := Decide(cfg, st, lan(midnight.Add(time.Duration(run)*5*time.Minute)))
		step := s.Action.String()
		if s.Action == Assist {
			step += " " + string(s.Assist)
		}
		got = append(got, step)
		st = s.Next
	}
	if want := "none, assist network, assist reboot, host-reboot, none"; strings.Join(got, ", ") != want {
		t.Errorf("runs from 00:00 the next day: %s; want %s", strings.Join(got, ", "), want)
	}
}

// TestLANPauseKeepsVMRestart: `hostcheck pause` during a LAN fault holds
// the VM's cold restart without spending it: the step is not recorded as
// done, and the first run after the pause takes it (it used to be
// recorded before the pause held it, and the host went on to its reboot).
func TestLANPauseKeepsVMRestart(t *testing.T) {
	cfg := config.Default(config.Host)
	cfg.VMID = "100"
	lan := func(now time.Time) Obs {
		return full(func(o *Obs) {
			o.Now = now
			o.Router, o.DNSKnown, o.DNSOK = Router{SelfKnown: true, SelfUp: true, Count: "0"}, true, false
		})
	}
	st := State{LANFault: LANPath, LANSeen: 2, LANSteps: "network", PauseUntil: t0.Add(time.Hour)}
	s := Decide(cfg, st, lan(t0))
	if s.Action != None || !strings.Contains(msgs(s), "【暂停】") || s.Next.LANSteps != "network" || s.Next.VMRestartDate != "" {
		t.Fatalf("paused: %v, steps %q, vm restart %q (log: %s); want 【暂停】, the VM step not spent", s.Action, s.Next.LANSteps, s.Next.VMRestartDate, msgs(s))
	}
	s = Decide(cfg, s.Next, lan(t0.Add(time.Hour+5*time.Minute)))
	if s.Action != VMRestart || s.Next.LANSteps != "network,reboot" {
		t.Errorf("after the pause: %v, steps %q (log: %s); want the VM cold restart", s.Action, s.Next.LANSteps, msgs(s))
	}
}

// TestLANHeldReboot: a host reboot for a LAN path fault that
// HOST_REBOOT_HOURS held is taken by the first run in the window while the
// fault lasts, not after the LAN ladder is climbed again.
func TestLANHeldReboot(t *testing.T) {
	cfg := config.Default(config.Host)
	st := State{HeldReboot: "LAN fault (path) after network,reboot", DownSince: t0.Add(-time.Hour)}
	s := Decide(cfg, st, full(func(o *Obs) {
		o.Router, o.DNSKnown, o.DNSOK = Router{SelfKnown: true, SelfUp: true, Count: "0"}, true, false
	}))
	if s.Action != HostReboot || !strings.Contains(msgs(s), "【确认】本次断网中被时间窗口推迟的物理机重启仍未执行") || s.Next.Mark.Reason != st.HeldReboot {
		t.Errorf("Decide = %v, reason %q (log: %s); want the held host reboot", s.Action, s.Next.Mark.Reason, msgs(s))
	}
}

// TestNoNetcheckNoLANFault: while the router's answer in this outage that
// it cannot run netcheck holds (State.NoNetcheckAt, NoNetcheckHold; here
// its last run), an absent net_outage says nothing of its own view: no
// LAN fault (path or DNS) is diagnosed, the
// host observes the SOS as with the original scripts, an SOS still leads
// to its step, a held SOS is not dropped as "the router's own net is
// back", and the outage's end clears it. The record keeps it.
func TestNoNetcheckNoLANFault(t *testing.T) {
	cfg := config.Default(config.Host)
	st := State{DownSince: t0.Add(-time.Hour), NoNetcheckAt: t0.Add(-NoNetcheckHold + 5*time.Minute)} // the hold's last run
	quiet := Router{SelfKnown: true, SelfUp: true, Count: "2"}                                        // no net_outage, as without netcheck
	for _, tc := range []struct {
		name string
		obs  Obs
	}{
		{"path", full(func(o *Obs) { o.Router = quiet })},
		{"dns", full(func(o *Obs) { o.Router, o.NetUp, o.DNSKnown, o.DNSOK = quiet, true, true, false })},
	} {
		s := Decide(cfg, st, tc.obs)
		if s.Action != None || s.Need != NeedNothing || strings.Contains(msgs(s), "【LAN】") ||
			!strings.Contains(msgs(s), "【观察】未发现 SOS 信号。判定 OpenWrt 仍在尝试自愈或处于熔断期。") {
			t.Errorf("%s: Decide = %v need %v (%s); want no LAN fault, the SOS observed", tc.name, s.Action, s.Need, msgs(s))
		}
		if !s.Next.NoNetcheckAt.Equal(st.NoNetcheckAt) || s.Next.LANFault != "" {
			t.Errorf("%s: next no_netcheck %v, lan_fault %q; want kept, none", tc.name, s.Next.NoNetcheckAt, s.Next.LANFault)
		}
	}
	if s := Decide(cfg, st, full(nil)); s.Action != HostReboot || !strings.Contains(msgs(s), SOSConfirmed) {
		t.Errorf("an SOS: Decide = %v (%s); want the host's reboot", s.Action, msgs(s))
	}
	held := st
	held.HeldSOS = HeldSOS{SOS: "count=10", Count: 10, Day: Today(t0)}
	if s := Decide(cfg, held, full(func(o *Obs) { o.Router = Router{SelfKnown: true, SelfUp: true, Count: "10"} })); s.Next.HeldSOS != held.HeldSOS {
		t.Errorf("held SOS %+v; want it kept (no net_outage is no sign the router's own net is back)", s.Next.HeldSOS)
	}
	if s := Decide(cfg, st, Obs{Now: t0, NetKnown: true, NetUp: true}); !s.Next.NoNetcheckAt.IsZero() {
		t.Error("the outage ended, no_netcheck kept; want it cleared")
	}
	store := Store{Mark: t.TempDir() + "/mark", StateDir: t.TempDir()}
	if err := store.Save(State{}, st); err != nil {
		t.Fatal(err)
	}
	if got, problems := store.Load(cst); !got.NoNetcheckAt.Equal(st.NoNetcheckAt) || len(problems) > 0 {
		t.Errorf("loaded no_netcheck %v (%v); want it kept", got.NoNetcheckAt, problems)
	}
}

// TestHXNoNetcheckStickyForOutage (the reviewer's, with NoNetcheckAt for
// the flag and Refused dated by the run): the LAN path fault (the
// router's own net up, the LAN's path broken: no SOS ever comes) whose
// first assist found netcheck not runnable on the router. The owner does
// what the 【LAN】 line and status say (install.sh --router), or the 127
// was passing. Held for the rest of the outage, as 3edcfb3 did, no assist
// and no host reboot ever came, a LAN path fault never ending by itself.
func TestHXNoNetcheckStickyForOutage(t *testing.T) {
	cfg := config.Default(config.Host)
	path := func(at time.Time) Obs {
		return full(func(o *Obs) { o.Now = at; o.Router = Router{SelfKnown: true, SelfUp: true, Count: "0"} })
	}
	st := State{}
	at := t0
	asked := 0
	for i := 0; i < 3; i++ {
		s := Decide(cfg, st, path(at))
		st = s.Next
		if s.Action == Assist {
			asked++
			back, ok := Refused(s.Next, s.Assist, WhyNotRunnable, at) // exit 127 once
			if !ok {
				t.Fatalf("Refused not-runnable: !ok")
			}
			st = back
			break
		}
		at = at.Add(5 * time.Minute)
	}
	if asked != 1 || st.NoNetcheckAt.IsZero() {
		t.Fatalf("setup: asked %d, NoNetcheck %v", asked, st.NoNetcheckAt)
	}
	// From now on netcheck runs on the router (installed, or the 127 was
	// transient): what the host observes is the same as before.
	var acts []string
	for i := 0; i < 12*6; i++ { // six hours
		at = at.Add(5 * time.Minute)
		s := Decide(cfg, st, path(at))
		st = s.Next
		if s.Action != None {
			acts = append(acts, s.Action.String())
		}
		if s.Action == Assist || s.Action == HostReboot {
			return
		}
	}
	t.Errorf("six hours of a LAN path fault after one not-runnable answer: actions %v, NoNetcheck still %v; no LAN step asked again and no host reboot (before: the step was asked again at the next run); last log: %s",
		acts, st.NoNetcheckAt, strings.ReplaceAll(msgs(Decide(cfg, st, path(at))), "\n", " | "))
}

// noNetcheckOutage runs six hours of a LAN path fault (the router's own
// net up, no SOS, no net_outage) at the default five minutes, the router
// answering the first assist not-runnable and the later ones as answer
// says (true: not-runnable again). It returns the run of each assist and
// of the host's reboot (-1: none).
func noNetcheckOutage(t *testing.T, cfg config.Config, answer func(ask int) bool) (asks []int, reboot int) {
	t.Helper()
	st, reboot := State{}, -1
	for run := 0; run < 12*6 && reboot < 0; run++ {
		at := t0.Add(time.Duration(run) * 5 * time.Minute)
		s := Decide(cfg, st, full(func(o *Obs) { o.Now = at; o.Router = Router{SelfKnown: true, SelfUp: true, Count: "0"} }))
		next := s.Next
		switch s.Action {
		case Assist:
			asks = append(asks, run)
			if len(asks) == 1 || answer(len(asks)) {
				back, ok := Refused(next, s.Assist, WhyNotRunnable, at)
				if !ok || !back.NoNetcheckAt.Equal(at) {
					t.Fatalf("run %d: Refused(not-runnable) = %+v, %v; want dated %v", run, back, ok, at)
				}
				next = back
			}
		case HostReboot:
			reboot = run
		case None:
		default:
			t.Fatalf("run %d: %v; want assists or the host's reboot", run, s.Action)
		}
		st = next
	}
	return asks, reboot
}

// TestNoNetcheckHoldExpires: once the router answered not-runnable, its
// view is unknown for NoNetcheckHold only. netcheck installed after that
// first answer, the LAN path fault is diagnosed again when the hold ends,
// its step asked again (after LANSeenBefore runs, as any fault), and the
// steps climb to the host's reboot; 3edcfb3 asked nothing more and
// rebooted nothing for the rest of the outage.
func TestNoNetcheckHoldExpires(t *testing.T) {
	asks, reboot := noNetcheckOutage(t, config.Default(config.Host), func(int) bool { return false })
	runs := int(NoNetcheckHold / (5 * time.Minute))
	if len(asks) < 2 || asks[1] > asks[0]+runs+LANSeenBefore {
		t.Errorf("assists at runs %v; want the step asked again by run %d (the hold of %v, then the fault seen %d runs)", asks, asks[0]+runs+LANSeenBefore, NoNetcheckHold, LANSeenBefore)
	} else if asks[1] < asks[0]+runs {
		t.Errorf("assists at runs %v; want none within the hold (%d runs)", asks, runs)
	}
	if reboot < 0 || len(asks) < 2 {
		t.Errorf("assists at runs %v, host reboot at run %d; want the steps to climb to the host's reboot", asks, reboot)
	}
}

// TestNoNetcheckStillAbsent: a router that never gets netcheck answers
// every assist not-runnable. It is asked once per hold (each answer one
// 【LAN】 warning in hostcheck), never at every run, and no step counts as
// taken: no host reboot in six hours of a fault with no SOS.
func TestNoNetcheckStillAbsent(t *testing.T) {
	asks, reboot := noNetcheckOutage(t, config.Default(config.Host), func(int) bool { return true })
	runs := int(NoNetcheckHold / (5 * time.Minute))
	if reboot >= 0 {
		t.Errorf("host reboot at run %d over steps the router could not run (assists at %v)", reboot, asks)
	}
	if most := 12*6/runs + 1; len(asks) < 2 || len(asks) > most {
		t.Errorf("assists at runs %v in six hours; want asked again, at most %d times", asks, most)
	}
	for i := 1; i < len(asks); i++ {
		if asks[i]-asks[i-1] < runs {
			t.Errorf("assists at runs %v: two within %v", asks, NoNetcheckHold)
		}
	}
}

// TestNoNetcheckAtRecord: the answer's time is kept in hostcheck.state as
// unix seconds; the "1" that 3edcfb3 wrote (held for the rest of the
// outage) reads as no hold, without a problem; a time after now (the
// clock stepped back) does not hold; and a held SOS is not let go on the
// word of a router that answered not-runnable in this outage, also once
// the hold is over.
func TestNoNetcheckAtRecord(t *testing.T) {
	dir := t.TempDir()
	store := Store{Mark: filepath.Join(dir, "mark"), StateDir: dir}
	at := t0.Add(-10 * time.Minute)
	if err := store.Save(State{}, State{DownSince: t0.Add(-time.Hour), NoNetcheckAt: at}); err != nil {
		t.Fatal(err)
	}
	rec, _ := os.ReadFile(filepath.Join(dir, RecordFile))
	if !strings.Contains(string(rec), "router_no_netcheck="+strconv.FormatInt(at.Unix(), 10)+"\n") {
		t.Errorf("record:\n%s\nwant router_no_netcheck=%d", rec, at.Unix())
	}
	if got, problems := store.Load(cst); !got.NoNetcheckAt.Equal(at) || len(problems) > 0 {
		t.Errorf("loaded %v (%v); want %v", got.NoNetcheckAt, problems, at)
	}
	legacy := strings.Replace(string(rec), "router_no_netcheck="+strconv.FormatInt(at.Unix(), 10), "router_no_netcheck=1", 1)
	if err := os.WriteFile(filepath.Join(dir, RecordFile), []byte(legacy), 0o644); err != nil {
		t.Fatal(err)
	}
	if got, problems := store.Load(cst); !got.NoNetcheckAt.IsZero() || len(problems) > 0 || got.DownSince.IsZero() {
		t.Errorf("the flag 1 loaded as %v (%v); want no hold, no problem", got.NoNetcheckAt, problems)
	}
	for _, tc := range []struct {
		name string
		at   time.Time
		hold bool
	}{
		{"just answered", t0, true},
		{"the hold's last run", t0.Add(-NoNetcheckHold + 5*time.Minute), true},
		{"the hold over", t0.Add(-NoNetcheckHold), false},
		{"dated after now (the clock stepped back)", t0.Add(time.Hour), false},
	} {
		if got := (State{NoNetcheckAt: tc.at}).noNetcheck(t0); got != tc.hold {
			t.Errorf("%s: holds %v; want %v", tc.name, got, tc.hold)
		}
	}
	cfg := config.Default(config.Host)
	held := State{DownSince: t0.Add(-2 * time.Hour), NoNetcheckAt: t0.Add(-NoNetcheckHold), HeldSOS: HeldSOS{SOS: "count=10", Count: 10, Day: Today(t0)}}
	s := Decide(cfg, held, full(func(o *Obs) { o.Router = Router{SelfKnown: true, SelfUp: true, Count: "10"} }))
	if s.Next.HeldSOS != held.HeldSOS || s.Next.LANFault != LANPath {
		t.Errorf("the hold over: held SOS %+v, lan fault %q; want the SOS kept, the fault diagnosed again (log: %s)", s.Next.HeldSOS, s.Next.LANFault, msgs(s))
	}
}
