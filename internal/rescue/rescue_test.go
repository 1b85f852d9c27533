package rescue

import (
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/pve-op/network-rescue/internal/config"
	"github.com/pve-op/network-rescue/state"
)

var cst = time.FixedZone("CST", 8*3600)
var t0 = time.Date(2026, 11, 25, 14, 0, 0, 0, cst)

func msgs(s Step) string {
	var out []string
	for _, e := range s.Events {
		out = append(out, e.Msg)
	}
	return strings.Join(out, " | ")
}

// full is an observation where every stage ran.
func full(mod func(*Obs)) Obs {
	o := Obs{Now: t0, Uptime: 24 * time.Hour, BootID: "boot1", NetKnown: true, NetUp: false, RouterKnown: true,
		Router: Router{SOS: true, SOSContent: "count=10"}, LANKnown: true, LANUp: true, GuardsKnown: true,
		VMKnown: true, VM: VMStatus{Status: "running", QMP: "running"}}
	if mod != nil {
		mod(&o)
	}
	return o
}

func TestDecideHost(t *testing.T) {
	today := Today(t0)
	tests := []struct {
		name       string
		cfg        func(*config.Config)
		st         State
		obs        Obs
		wantNeed   Need
		wantAction Action
		wantSilent bool
		wantMsg    []string
		check      func(t *testing.T, n State)
	}{
		{name: "mark dated today: silent", st: State{HasMark: true, Mark: state.Mark{Date: today}}, obs: full(nil), wantSilent: true},
		{name: "mark dated tomorrow (clock stepped back): silent", st: State{HasMark: true, Mark: state.Mark{Date: "2026-11-26"}},
			obs: full(nil), wantSilent: true},
		{name: "host rebooted today, mark deleted by hand: still silent", st: State{LastReboot: today}, obs: full(nil), wantSilent: true},
		// The host rebooted at 03:00 in an outage that began at 02:30; the
		// runs after it are silent, but the outage's end is seen when it
		// comes, not the next day with the hours between counted as outage.
		{name: "rebooted today, outage open: probe", st: State{LastReboot: today, DownSince: t0.Add(-90 * time.Minute)},
			obs: Obs{Now: t0}, wantNeed: NeedNet, wantSilent: true},
		{name: "rebooted today, outage open, still down: silent", st: State{LastReboot: today, DownSince: t0.Add(-90 * time.Minute)},
			obs: full(nil), wantSilent: true,
			check: func(t *testing.T, n State) {
				if !n.DownSince.Equal(t0.Add(-90 * time.Minute)) {
					t.Errorf("down_since = %v; want it kept", n.DownSince)
				}
			}},
		{name: "rebooted today, outage open, back up: 【恢复】 with the outage's length", st: State{LastReboot: today, HasMark: true,
			Mark: state.Mark{Date: today}, DownSince: t0.Add(-90 * time.Minute)},
			obs: full(func(o *Obs) { o.NetUp, o.NetDetail = true, "198.51.100.1 answered" }), wantMsg: []string{"【恢复】互联网已恢复。"},
			check: func(t *testing.T, n State) {
				if !n.DownSince.IsZero() || !n.HasMark {
					t.Errorf("down_since = %v, mark kept %v; want the outage closed and the mark kept", n.DownSince, n.HasMark)
				}
			}},
		{name: "rebooted today, no outage open: no probe", st: State{LastReboot: today}, obs: Obs{Now: t0}, wantSilent: true},
		{name: "stale mark deleted, then the run goes on", st: State{HasMark: true, Mark: state.Mark{Date: "2026-11-24"}},
			obs: full(func(o *Obs) { o.NetUp = true }), wantMsg: []string{"【重置】"},
			check: func(t *testing.T, n State) {
				if n.HasMark {
					t.Errorf("stale mark kept")
				}
			}},
		{name: "first stage is the probe", obs: Obs{Now: t0}, wantNeed: NeedNet},
		{name: "healthy: nothing, no SSH", obs: Obs{Now: t0, NetKnown: true, NetUp: true}},
		{name: "recovery after an outage", st: State{DownSince: t0.Add(-time.Hour)}, obs: Obs{Now: t0, NetKnown: true, NetUp: true},
			wantMsg: []string{"【恢复】"},
			check: func(t *testing.T, n State) {
				if !n.DownSince.IsZero() {
					t.Errorf("DownSince kept")
				}
			}},
		{name: "down asks for the router", obs: Obs{Now: t0, NetKnown: true}, wantNeed: NeedRouter, wantMsg: []string{"【检测】互联网断开，开始检索 OpenWrt SOS 信号..."}},
		{name: "no SOS: observe", obs: full(func(o *Obs) { o.Router.SOS = false }),
			wantMsg: []string{"【检测】", "【观察】未发现 SOS 信号。判定 OpenWrt 仍在尝试自愈或处于熔断期。"}},
		{name: "SSH fails: 严重错误 and the unreachable time starts", obs: full(func(o *Obs) { o.Router = Router{Err: "refused"} }),
			wantMsg: []string{"【严重错误】"},
			check: func(t *testing.T, n State) {
				if !n.RouterDownSince.Equal(t0) {
					t.Errorf("RouterDownSince = %v", n.RouterDownSince)
				}
			}},
		{name: "hung router VM restarted after ROUTER_HUNG_AFTER", cfg: func(c *config.Config) { c.VMID = "100" },
			st: State{RouterDownSince: t0.Add(-20 * time.Minute)}, obs: full(func(o *Obs) { o.Router, o.LANUp, o.VMConfigKnown = Router{Err: "timeout"}, false, true }),
			wantAction: VMRestart, wantMsg: []string{"【严重错误】", "【终极动作】"},
			check: func(t *testing.T, n State) {
				if n.VMRestartDate != today {
					t.Errorf("VMRestartDate = %q", n.VMRestartDate)
				}
			}},
		{name: "hung router, not long enough", cfg: func(c *config.Config) { c.VMID = "100" },
			st: State{RouterDownSince: t0.Add(-19 * time.Minute)}, obs: full(func(o *Obs) { o.Router = Router{Err: "timeout"} })},
		{name: "hung router VM restart once a day", cfg: func(c *config.Config) { c.VMID = "100" },
			st:  State{RouterDownSince: t0.Add(-time.Hour), VMRestartDate: today},
			obs: full(func(o *Obs) { o.Router, o.LANUp, o.VMConfigKnown = Router{Err: "timeout"}, false, true }), wantMsg: []string{"今天已冷重启过一次"}},
		{name: "SOS asks for the LAN ping", obs: full(func(o *Obs) { o.LANKnown = false }), wantNeed: NeedLAN, wantMsg: []string{"【确认】捕获 SOS 信号！OpenWrt 自救已穷尽。准备介入重启 PVE。"}},
		{name: "router silent on the LAN: wait", obs: full(func(o *Obs) { o.LANUp = false }), wantMsg: []string{"【等待】"}},
		{name: "uptime guard", cfg: func(c *config.Config) { c.MinHostUptime = time.Hour }, obs: full(func(o *Obs) { o.Uptime = time.Minute }),
			wantMsg: []string{"【推迟】物理机开机时间过短。"}},
		// MIN_HOST_UPTIME (default 10m) to the second: reached, the host acts.
		{name: "uptime exactly MIN_HOST_UPTIME: host reboot", obs: full(func(o *Obs) { o.Uptime = 10 * time.Minute }), wantAction: HostReboot},
		{name: "uptime a second short of MIN_HOST_UPTIME: 推迟", obs: full(func(o *Obs) { o.Uptime = 10*time.Minute - time.Second }),
			wantMsg: []string{"【推迟】物理机开机时间过短。"}},
		{name: "guards asked after the uptime", obs: full(func(o *Obs) { o.GuardsKnown = false }), wantNeed: NeedGuards},
		{name: "vzdump defers", obs: full(func(o *Obs) { o.Deferred = []string{"备份任务 vzdump 正在运行"} }),
			wantMsg: []string{"【推迟】备份任务 vzdump 正在运行"}},
		{name: "SOS: host reboot with the mark in the new state", obs: full(nil), wantAction: HostReboot,
			check: func(t *testing.T, n State) {
				if !n.HasMark || n.Mark.Date != today || n.LastReboot != today || n.Mark.BootID != "boot1" || !strings.Contains(n.Mark.Reason, "count=10") {
					t.Errorf("mark = %+v", n.Mark)
				}
			}},
		{name: "VM_RESTART_FIRST: VM before the host", cfg: func(c *config.Config) { c.VMID = "100" }, obs: full(nil), wantAction: VMRestart},
		{name: "VM_RESTART_FIRST spent today: host", cfg: func(c *config.Config) { c.VMID = "100" },
			st: State{VMRestartDate: today}, obs: full(nil), wantAction: HostReboot},
		{name: "VM_RESTART_FIRST=0: host", cfg: func(c *config.Config) { c.VMID = "100"; c.VMRestartFirst = false },
			obs: full(nil), wantAction: HostReboot},
		{name: "dry run prefixes 【演练】", cfg: func(c *config.Config) { c.DryRun = true }, obs: full(nil), wantAction: HostReboot,
			wantMsg: []string{"【演练】【检测】", "【演练】【确认】"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := config.Default(config.Host)
			if tt.cfg != nil {
				tt.cfg(&cfg)
			}
			s := Decide(cfg, tt.st, tt.obs)
			if s.Need != tt.wantNeed || s.Action != tt.wantAction || s.Silent != tt.wantSilent {
				t.Errorf("Decide = need %v action %v silent %v; want %v %v %v (log: %s)",
					s.Need, s.Action, s.Silent, tt.wantNeed, tt.wantAction, tt.wantSilent, msgs(s))
			}
			got, rest := msgs(s), msgs(s)
			for _, w := range tt.wantMsg {
				i := strings.Index(rest, w)
				if i < 0 {
					t.Errorf("log %q lacks %q (in order)", got, w)
					break
				}
				rest = rest[i+len(w):]
			}
			if tt.check != nil {
				tt.check(t, s.Next)
			}
		})
	}
}

// pvecmStatus builds `pvecm status` output in its real shape: pvecm runs
// corosync-quorumtool, whose sections are shown in proxmox/pve-docs
// pvecm.adoc ("Cluster status after adding 4 nodes": Quorum information /
// Votequorum information with Expected votes, Highest expected, Total votes,
// Quorum, Flags / Membership information with "0x00000002          1
// 192.168.15.92 (local)"). A lost quorum prints "Quorum:           2
// Activity blocked" and "Quorate:          No"; two_node prints "Flags:
// 2Node Quorate WaitForAll" (corosync tools/corosync-quorumtool.c).
func pvecmStatus(quorate string, expected, total, quorum int, flags string, blocked bool, members ...string) string {
	q := itoa(quorum)
	if blocked {
		q += " Activity blocked"
	}
	s := "Cluster information\n-------------------\nName:             lab\nConfig Version:   4\nTransport:        knet\nSecure auth:      on\n\n" +
		"Quorum information\n------------------\nDate:             Tue Nov 25 14:00:00 2026\nQuorum provider:  corosync_votequorum\n" +
		"Nodes:            " + itoa(len(members)) + "\nNode ID:          0x00000001\nRing ID:          1.2c\nQuorate:          " + quorate + "\n\n" +
		"Votequorum information\n----------------------\nExpected votes:   " + itoa(expected) + "\nHighest expected: " + itoa(expected) +
		"\nTotal votes:      " + itoa(total) + "\nQuorum:           " + q + "  \nFlags:            " + flags + "\n\n" +
		"Membership information\n----------------------\n    Nodeid      Votes Name\n"
	for _, m := range members {
		s += m + "\n"
	}
	return s
}

func TestQuorumAfterReboot(t *testing.T) {
	const (
		local1  = "0x00000001          1 192.168.1.10 (local)"
		local2  = "0x00000001          2 192.168.1.10 (local)"
		other1  = "0x00000002          1 192.168.1.11"
		other1b = "0x00000003          1 192.168.1.12"
	)
	tests := []struct {
		name  string
		in    string
		nodes int // corosync.conf's nodelist; 0 unknown
		ok    bool
		err   bool
	}{
		{"three nodes, all up", pvecmStatus("Yes", 3, 3, 2, "Quorate", false, local1, other1, other1b), 3, true, false},
		{"two of three up: we are needed", pvecmStatus("Yes", 3, 2, 2, "Quorate", false, local1, other1), 3, false, false},
		{"two nodes without two_node: we are needed", pvecmStatus("Yes", 2, 2, 2, "Quorate", false, local1, other1), 2, false, false},
		{"two nodes with two_node: the other keeps quorum", pvecmStatus("Yes", 2, 2, 1, "2Node Quorate WaitForAll", false, local1, other1), 2, true, false},
		{"weighted: local has 2 of 4 votes, quorum 3", pvecmStatus("Yes", 4, 4, 3, "Quorate", false, local2, other1, other1b), 3, false, false},
		{"weighted: local has 1 of 5 votes, quorum 3", pvecmStatus("Yes", 5, 5, 3, "Quorate", false, local1,
			"0x00000002          2 192.168.1.11", "0x00000003          2 192.168.1.12"), 3, true, false},
		// `pvecm create` on a lone host: corosync.conf's nodelist has one
		// node; no other node's quorum hangs on it, and it boots back into
		// its own (it deferred for ever: votes 1-1 < quorum 1).
		{"one-node cluster", pvecmStatus("Yes", 1, 1, 1, "Quorate", false, local1), 1, true, false},
		{"one-node cluster, nodelist unread: the arithmetic", pvecmStatus("Yes", 1, 1, 1, "Quorate", false, local1), 0, false, false},
		// `pvecm expected 1` on a two-node cluster whose peer died, the
		// usual fix: pvecm status then reads as a one-node cluster's
		// (Expected votes 1, Total 1, Quorum 1, no LastManStanding), and
		// the reboot was let through; the node came back with
		// corosync.conf's expected votes (2), without quorum, pmxcfs
		// read-only, the router VM not started: offline until midnight.
		{"pvecm expected 1 on two nodes, the peer dead", pvecmStatus("Yes", 1, 1, 1, "Quorate", false, local1), 2, false, false},
		// All the votes present are ours, but not all those expected: a
		// two_node cluster with the other node down (wait_for_all: after a
		// reboot this node waits for both), or last_man_standing having
		// lowered the expected votes (the node boots with corosync.conf's).
		{"two_node, the other down: we are the quorum", pvecmStatus("Yes", 2, 1, 1, "2Node Quorate WaitForAll", false, local1), 2, false, false},
		{"last man standing of three", pvecmStatus("Yes", 1, 1, 1, "Quorate LastManStanding", false, local1), 3, false, false},
		{"activity blocked", pvecmStatus("No", 3, 1, 2, "", true, local1), 3, false, false},
		{"qdevice column", pvecmStatus("Yes", 3, 3, 2, "Quorate Qdevice", false,
			"0x00000001          1   A,V,NMW 192.168.1.10 (local)", "0x00000002          1   A,V,NMW 192.168.1.11",
			"0x00000000          1            Qdevice"), 2, true, false},
		{"no (local) line: cannot confirm", pvecmStatus("Yes", 3, 3, 2, "Quorate", false, other1, other1b), 3, false, true},
		{"garbage", "nothing useful", 1, false, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ok, quorate, detail, err := QuorumAfterReboot(tt.in, tt.nodes)
			if ok != tt.ok || (err != nil) != tt.err || quorate != !strings.Contains(tt.name, "activity blocked") {
				t.Errorf("QuorumAfterReboot(nodes %d) = %v, quorate %v, %q, %v; want ok=%v err=%v", tt.nodes, ok, quorate, detail, err, tt.ok, tt.err)
			}
		})
	}
}

// corosyncConf is corosync.conf as PVE writes it (proxmox/pve-cluster's
// src/PVE/Corosync.pm, its test files src/test/corosync_configs/
// single-node.conf and multiple-nodes.conf: sections sorted, two-space
// indent, one `node {` per node in `nodelist {`), with names nodes.
func corosyncConf(names ...string) string {
	s := "logging {\n  debug: off\n  to_syslog: yes\n}\n\nnodelist {\n"
	for i, n := range names {
		s += "  node {\n    name: " + n + "\n    nodeid: " + itoa(i+1) + "\n    quorum_votes: 1\n    ring0_addr: 10.0.0." + itoa(i+11) + "\n  }\n"
	}
	return s + "}\n\nquorum {\n  provider: corosync_votequorum\n}\n\n" +
		"totem {\n  cluster_name: home\n  config_version: 2\n  interface {\n    linknumber: 0\n  }\n  ip_version: ipv4-6\n  link_mode: passive\n  secauth: on\n  version: 2\n}\n"
}

func TestCorosyncNodes(t *testing.T) {
	for _, tt := range []struct {
		name string
		in   string
		want int
		err  bool
	}{
		{"one node (pvecm create)", corosyncConf("pve"), 1, false},
		{"two nodes", corosyncConf("pve", "pve2"), 2, false},
		{"four nodes", corosyncConf("a", "b", "c", "d"), 4, false},
		// pve-cluster's multiple-nodes.conf gives every node nodeid 1: the
		// sections count, not the ids.
		{"repeated nodeid", strings.ReplaceAll(corosyncConf("a", "b", "c"), "nodeid: 2", "nodeid: 1"), 3, false},
		{"comments and tabs", "# Please read the corosync.conf.5 manual page\nnodelist {\n\tnode { # the first\n\t\tnodeid: 1\n\t}\n}\n", 1, false},
		{"a node section elsewhere is not the nodelist's", "totem {\n  node {\n  }\n}\nnodelist {\n  node {\n  }\n}\n", 1, false},
		{"no nodelist", "totem {}\n", 0, false},
		{"cut short", strings.TrimSuffix(corosyncConf("pve"), "}\n"), 0, true},
		{"closed once too often", corosyncConf("pve") + "}\n", 0, true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			got, err := CorosyncNodes(tt.in)
			if got != tt.want || (err != nil) != tt.err {
				t.Errorf("CorosyncNodes = %d, %v; want %d (error %v)", got, err, tt.want, tt.err)
			}
		})
	}
}

func FuzzCorosyncNodes(f *testing.F) {
	f.Add(corosyncConf("pve"))
	f.Add(corosyncConf("a", "b"))
	f.Fuzz(func(t *testing.T, s string) {
		// Every node counted is a section of its own, opened by a
		// "node {" line inside "nodelist {": never more than those.
		n, err := CorosyncNodes(s)
		if n < 0 || err != nil && n != 0 || n > strings.Count(s, "{")-1 && n > 0 || n > strings.Count(s, "node") {
			t.Fatalf("CorosyncNodes = %d, %v", n, err)
		}
	})
}

func itoa(n int) string { return strconv.Itoa(n) }

func FuzzQuorumAfterReboot(f *testing.F) {
	f.Add("Total votes: 3\nQuorum: 2\nQuorate: Yes\n", 3)
	f.Add(pvecmStatus("Yes", 4, 4, 3, "Quorate", false, "0x00000001          2 192.168.1.10 (local)"), 3)
	f.Add(pvecmStatus("Yes", 1, 1, 1, "Quorate", false, "0x00000001          1 192.168.1.10 (local)"), 1)
	f.Fuzz(func(t *testing.T, s string, nodes int) {
		ok, quorate, _, err := QuorumAfterReboot(s, nodes)
		if ok && err != nil || ok && !quorate {
			t.Fatalf("ok with error, or ok without quorum")
		}
	})
}

// TestFutureDates: SPEC §6 — a date more than one day ahead of today (a
// clock that once ran ahead) is absurd: 【严重错误】, it counts as today
// once and is rewritten as today, so it never blocks the rescue for longer
// than the current day. One day ahead is a clock stepped back: it still
// counts, silently.
func TestFutureDates(t *testing.T) {
	// t0 is 2026-11-25: tomorrow is a clock stepped back by up to a day,
	// the day after is the nearest date no such step explains.
	today, tomorrow, dayAfter, later := Today(t0), "2026-11-26", "2026-11-27", "2027-03-01"
	vm := func(c *config.Config) { c.VMID = "100" }
	tests := []struct {
		name       string
		cfg        func(*config.Config)
		st         State
		wantAction Action
		wantSilent bool
		wantMsg    string
		check      func(n State) bool
	}{
		{name: "last reboot tomorrow: silent", st: State{LastReboot: tomorrow}, wantSilent: true,
			check: func(n State) bool { return n.LastReboot == tomorrow }},
		{name: "last reboot months ahead: today once, rewritten", st: State{LastReboot: later},
			wantMsg: "【严重错误】", check: func(n State) bool { return n.LastReboot == today }},
		{name: "last reboot the day after tomorrow: today once, rewritten", st: State{LastReboot: dayAfter},
			wantMsg: "【严重错误】", check: func(n State) bool { return n.LastReboot == today }},
		{name: "mark tomorrow: silent", st: State{HasMark: true, Mark: state.Mark{Date: tomorrow, Dated: true}}, wantSilent: true,
			check: func(n State) bool { return n.HasMark && n.Mark.Date == tomorrow }},
		{name: "mark the day after tomorrow: today once, rewritten", st: State{HasMark: true, Mark: state.Mark{Date: dayAfter, Dated: true}},
			wantMsg: "【严重错误】", check: func(n State) bool { return n.HasMark && n.Mark.Date == today }},
		{name: "VM restart the day after tomorrow: today's is spent, the host steps in", cfg: vm, st: State{VMRestartDate: dayAfter},
			wantAction: HostReboot, wantMsg: "【严重错误】", check: func(n State) bool { return n.VMRestartDate == today }},
		{name: "mark months ahead: today once, rewritten", st: State{HasMark: true, Mark: state.Mark{Date: later, Dated: true}},
			wantMsg: "【严重错误】", check: func(n State) bool { return n.HasMark && n.Mark.Date == today }},
		{name: "mark months ahead without the record", st: State{HasMark: true, Mark: state.Mark{Date: later}, LastReboot: "2026-11-01"},
			wantMsg: "【严重错误】", check: func(n State) bool { return n.Mark.Date == today }},
		{name: "VM restart months ahead: today's is spent, the host steps in", cfg: vm, st: State{VMRestartDate: later},
			wantAction: HostReboot, wantMsg: "【严重错误】", check: func(n State) bool { return n.VMRestartDate == today }},
		{name: "VM restart tomorrow: spent, silently", cfg: vm, st: State{VMRestartDate: tomorrow},
			wantAction: HostReboot, check: func(n State) bool { return n.VMRestartDate == tomorrow }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := config.Default(config.Host)
			if tt.cfg != nil {
				tt.cfg(&cfg)
			}
			s := Decide(cfg, tt.st, full(nil))
			if s.Action != tt.wantAction || s.Silent != tt.wantSilent {
				t.Errorf("Decide = action %v silent %v; want %v %v (log: %s)", s.Action, s.Silent, tt.wantAction, tt.wantSilent, msgs(s))
			}
			if got := msgs(s); tt.wantMsg != "" && !strings.Contains(got, tt.wantMsg) || tt.wantMsg == "" && strings.Contains(got, "【严重错误】") {
				t.Errorf("log %q; want %q", got, tt.wantMsg)
			}
			if !tt.check(s.Next) {
				t.Errorf("next state %+v", s.Next)
			}
			if tt.wantMsg != "" {
				// Counted once: the run that follows is silent today (or, for
				// the VM, sees a normal spent day), with no second 【严重错误】.
				again := Decide(cfg, s.Next, full(nil))
				if strings.Contains(msgs(again), "【严重错误】") {
					t.Errorf("second run logs again: %s", msgs(again))
				}
				tomorrowObs := full(func(o *Obs) { o.Now = t0.Add(24 * time.Hour) })
				if s.Next.HasMark {
					s.Next.HasMark, s.Next.Mark = false, state.Mark{} // midnight-reset
				}
				if next := Decide(cfg, s.Next, tomorrowObs); next.Silent || next.Action == None {
					t.Errorf("tomorrow the rescue is still blocked: %s", msgs(next))
				}
			}
		})
	}
}

// TestHostRescueOutlook is what `status` says about today's host rescue.
func TestHostRescueOutlook(t *testing.T) {
	for _, tt := range []struct {
		st     State
		ok     bool
		detail string
	}{
		{State{}, true, "the host may step in once today"},
		{State{LastReboot: Today(t0)}, true, "spent"},
		{State{HasMark: true, Mark: state.Mark{Date: Today(t0)}}, true, "spent"},
		{State{HasMark: true, Mark: state.Mark{Date: "2026-11-20"}, LastReboot: "2026-11-20"}, true, "stale"},
		{State{LastReboot: "2026-11-26"}, true, "spent"},
		{State{LastReboot: "2026-11-27"}, false, "in the future"},
		{State{LastReboot: "2027-03-01"}, false, "in the future"},
		{State{HasMark: true, Mark: state.Mark{Date: "2027-03-01"}}, false, "in the future"},
		// A misfire today: what the next run does with it (lateReboot).
		{State{MisfireDate: Today(t0), MisfireBoot: "boot0"}, true, "counts it as done if the host has booted since (boot id boot0); if not, the host reboot line says whether a run tries again today"},
		{State{MisfireDate: Today(t0), MisfireBoot: "unknown"}, true, "a run that cannot place this boot before the day before it (the uptime unread, or read and shorter) counts it as done"},
		// Read raw, a misfire dated days ahead passed "before the day
		// before it" for any boot, and a retry was promised.
		{State{MisfireDate: "2026-11-28", MisfireBoot: "unknown"}, false, "misfire_date 2026-11-28 is in the future"},
		// "if the host has booted since (boot id unknown) today": a run
		// with the uptime unread counts the landing as today.
		{State{MisfireDate: "2026-11-24", MisfireBoot: "unknown"}, true, "a run that cannot place this boot before the day before it (the uptime unread, or a boot since) counts its landing as today"},
		{State{MisfireDate: "2026-11-24", MisfireBoot: "boot0"}, true, "its slow shutdown landed today and the next run counts today as spent"},
		// Two days ago: a boot since may still count (couldLand), as the
		// next run takes it; it said the host may step in, and the run
		// counted today as spent.
		{State{MisfireDate: "2026-11-23", MisfireBoot: "boot0"}, true, "counts it against the day it came: today spent if it came today"},
		{State{MisfireDate: "2026-11-22", MisfireBoot: "boot0"}, true, "none: the host may step in once today"},
	} {
		ok, detail := HostRescueOutlook(tt.st, t0, 0)
		if ok != tt.ok || !strings.Contains(detail, tt.detail) {
			t.Errorf("HostRescueOutlook(%+v) = %v, %q; want %v, %q", tt.st, ok, detail, tt.ok, tt.detail)
		}
	}
	// A misfire with the boot id unread, by the uptime as the runs take
	// it (bootBeforeMisfire): a host up since before the day before the
	// misfire is the boot it did not end, and the runs retry; it said "no
	// more host reboots today" whatever the uptime.
	unread := State{MisfireDate: Today(t0), MisfireBoot: "unknown"}
	for uptime, want := range map[time.Duration]string{2 * time.Hour: "counts it as done (its slow shutdown may have landed)", 5 * 24 * time.Hour: "the boot the misfire did not end (the host reboot line says whether a run tries again today)"} {
		if _, detail := HostRescueOutlook(unread, t0, uptime); !strings.Contains(detail, want) {
			t.Errorf("HostRescueOutlook(boot id unread at the misfire, uptime %v) = %q; want %q", uptime, detail, want)
		}
	}
}

// TestRecoveryOutageClockBack: a clock set back during the outage logs
// the host's 【恢复】 with an outage of 0, never negative.
func TestRecoveryOutageClockBack(t *testing.T) {
	s := Decide(config.Default(config.Host), State{DownSince: t0.Add(time.Hour)}, Obs{Now: t0, NetKnown: true, NetUp: true})
	for _, ev := range s.Events {
		if !strings.HasPrefix(ev.Msg, "【恢复】") {
			continue
		}
		for _, a := range ev.Attrs {
			if a.Key == "outage" && a.Value.Duration() != 0 {
				t.Errorf("outage = %v; want 0", a.Value.Duration())
			}
		}
		return
	}
	t.Errorf("no 【恢复】 in %+v", s.Events)
}

// TestRouterDamageSaidByDecision: the router's state files that could not
// be read whole (SPEC §15) are said by the decision, before what it does
// with what it read; on a spent day, whose runs read the router only to
// watch a VM that may hang, a read that answers is silent, damage and
// all. Logged beside Decide, the line came every five minutes all day.
func TestRouterDamageSaidByDecision(t *testing.T) {
	today := Today(t0)
	damaged := func(o *Obs) {
		o.Router.SOSContent, o.Router.Damaged = "(damaged: fifo, not read)", []FileDamage{{File: "/root/SOS_SYSTEM", Kind: "fifo"}}
		o.Router.SOSTruncated, o.Router.SOSLimit, o.Router.SOSFile = true, 4096, "/root/SOS_SYSTEM"
	}
	cfg := config.Default(config.Host)
	s := Decide(cfg, State{}, full(damaged))
	want := "【检测】互联网断开，开始检索 OpenWrt SOS 信号... | 【严重错误】OpenWrt 的状态文件损坏，未读取 (不是普通文件或过大)，按存在处理 | 【严重错误】OpenWrt 的 SOS_SYSTEM 超过 4096 字节，其余部分已丢弃 | 【确认】捕获 SOS 信号！"
	if !strings.HasPrefix(msgs(s), want) || s.Action != HostReboot {
		t.Errorf("Decide(damaged SOS) = %v, log %q; want host-reboot, log starting %q", s.Action, msgs(s), want)
	}
	cfg.VMID = "100"
	s = Decide(cfg, State{LastReboot: today, HasMark: true, Mark: state.Mark{Date: today}}, full(func(o *Obs) { damaged(o); o.Router.SOS = false }))
	if !s.Silent || len(s.Events) != 0 {
		t.Errorf("spent day, the router read with damage: silent %v, log %q; want silent", s.Silent, msgs(s))
	}
}

// TestSOSConfirmedSaysTheStep: the 【确认】 line of an SOS ends with the
// step it leads to. It said "准备介入重启 PVE。" at every SOS, also when the
// step was the router VM's cold restart (VM_RESTART_FIRST=1, SPEC §13 rule
// 4), with the host's reboot only at a later SOS, if one came: the owner
// read of a host reboot that did not come. The original's line is kept
// whole when the host's reboot is the step; the prefix always.
func TestSOSConfirmedSaysTheStep(t *testing.T) {
	today := Today(t0)
	const pve = SOSConfirmed + "准备介入重启 PVE。"
	const vm = SOSConfirmed + "准备冷重启 OpenWrt 虚拟机。"
	// Under the VM's config lock sosStep takes no step at all: the line
	// named one that the lock forbids.
	const lockedVM = SOSConfirmed + "路由虚拟机被锁定，暂不动作：锁解除后再冷重启 OpenWrt 虚拟机。"
	const lockedPVE = SOSConfirmed + "路由虚拟机被锁定，暂不动作：锁解除后再介入重启 PVE。"
	lock := func(lock string, backup bool) func(*Obs) {
		return func(o *Obs) { o.VM.Lock, o.Backup = lock, backup }
	}
	for _, tt := range []struct {
		name       string
		cfg        func(*config.Config)
		st         State
		obs        Obs
		wantNeed   Need
		wantAction Action
		wantLine   string // the 【确认】 line, whole
	}{
		{name: "no VM_ID: the host's reboot", obs: full(nil), wantAction: HostReboot, wantLine: pve},
		{name: "VM_RESTART_FIRST: the VM's cold restart", cfg: func(c *config.Config) { c.VMID = "100" }, obs: full(nil),
			wantAction: VMRestart, wantLine: vm},
		{name: "VM_RESTART_FIRST, waiting for the LAN's ping", cfg: func(c *config.Config) { c.VMID = "100" },
			obs: full(func(o *Obs) { o.LANKnown = false }), wantNeed: NeedLAN, wantLine: vm},
		{name: "VM_RESTART_FIRST, the router silent on the LAN: waits for the VM's cold restart", cfg: func(c *config.Config) { c.VMID = "100" },
			obs: full(func(o *Obs) { o.LANUp = false }), wantLine: vm},
		{name: "VM_RESTART_FIRST, today's cold restart spent: the host's reboot", cfg: func(c *config.Config) { c.VMID = "100" },
			st: State{VMRestartDate: today}, obs: full(nil), wantAction: HostReboot, wantLine: pve},
		{name: "VM_RESTART_FIRST=0: the host's reboot", cfg: func(c *config.Config) { c.VMID = "100"; c.VMRestartFirst = false },
			obs: full(nil), wantAction: HostReboot, wantLine: pve},
		{name: "a reboot held by HOST_REBOOT_HOURS is due first", cfg: func(c *config.Config) { c.VMID = "100" },
			st: State{HeldReboot: "SOS count=10", DownSince: t0.Add(-time.Hour)}, obs: full(nil), wantAction: HostReboot, wantLine: pve},
		{name: "qm fails twice: the host's reboot instead", cfg: func(c *config.Config) { c.VMID = "100" },
			st:  State{QMFailSince: t0.Add(-5 * time.Minute)},
			obs: full(func(o *Obs) { o.VM = VMStatus{Err: "ipcc_send_rec failed"} }), wantAction: HostReboot, wantLine: pve},
		{name: "dry run: the VM's cold restart, prefixed", cfg: func(c *config.Config) { c.VMID = "100"; c.DryRun = true }, obs: full(nil),
			wantAction: VMRestart, wantLine: "【演练】" + vm},
		{name: "VM_RESTART_FIRST, a backup lock no backup holds (a crashed vzdump): no step", cfg: func(c *config.Config) { c.VMID = "100" },
			st: State{DownSince: t0.Add(-time.Hour)}, obs: full(lock("backup", false)), wantLine: lockedVM},
		{name: "VM_RESTART_FIRST, a backup running: no step", cfg: func(c *config.Config) { c.VMID = "100" },
			obs: full(lock("backup", true)), wantLine: lockedVM},
		{name: "VM_RESTART_FIRST, a migration: no step", cfg: func(c *config.Config) { c.VMID = "100" },
			obs: full(lock("migrate", false)), wantLine: lockedVM},
		{name: "VM_RESTART_FIRST, today's cold restart spent, locked: no host reboot under the lock", cfg: func(c *config.Config) { c.VMID = "100" },
			st: State{VMRestartDate: today}, obs: full(lock("backup", false)), wantLine: lockedPVE},
		{name: "VM_RESTART_FIRST=0, locked: no host reboot under the lock", cfg: func(c *config.Config) { c.VMID = "100"; c.VMRestartFirst = false },
			obs: full(lock("migrate", false)), wantLine: lockedPVE},
		{name: "a suspended lock is no lock: the VM's cold restart", cfg: func(c *config.Config) { c.VMID = "100" },
			obs: full(lock("suspended", false)), wantAction: VMRestart, wantLine: vm},
	} {
		t.Run(tt.name, func(t *testing.T) {
			cfg := config.Default(config.Host)
			if tt.cfg != nil {
				tt.cfg(&cfg)
			}
			s := Decide(cfg, tt.st, tt.obs)
			if s.Need != tt.wantNeed || s.Action != tt.wantAction {
				t.Errorf("Decide = need %v action %v; want %v %v (log: %s)", s.Need, s.Action, tt.wantNeed, tt.wantAction, msgs(s))
			}
			var lines []string
			for _, e := range s.Events {
				if strings.Contains(e.Msg, "【确认】捕获 SOS 信号！") {
					lines = append(lines, e.Msg)
				}
			}
			if len(lines) != 1 || lines[0] != tt.wantLine {
				t.Errorf("【确认】 lines %q; want exactly %q (log: %s)", lines, tt.wantLine, msgs(s))
			}
		})
	}
}

// TestHeldSOSConfirmedSaysTheStep: the 【确认】 line of an SOS that
// midnight-reset cleared in the outage ends with the step that follows,
// as a fresh SOS's does (sosPrepares): the VM's cold restart (the new
// day's), not the host's reboot, nor the original's SOS line; and under
// a config lock, that no step comes. It said "按 SOS 介入。" alone, which
// read as a step the lock then forbade.
func TestHeldSOSConfirmedSaysTheStep(t *testing.T) {
	cfg := config.Default(config.Host)
	cfg.VMID = "100"
	yday := yesterday(t0)
	st := State{DownSince: t0.Add(-3 * time.Hour), VMRestartDate: yday, HeldSOS: HeldSOS{SOS: "count=10", Count: 10, Day: yday}}
	s := Decide(cfg, st, full(func(o *Obs) { o.Router = Router{Count: "0"} }))
	if s.Action != VMRestart {
		t.Fatalf("Decide = %v; want the new day's VM cold restart (log: %s)", s.Action, msgs(s))
	}
	got := msgs(s)
	if !strings.Contains(got, "【确认】本次断网中未处理的 SOS 信号已被零点重置清除 (重启计数已归零)，断网仍在继续，按 SOS 介入：准备冷重启 OpenWrt 虚拟机。") ||
		strings.Contains(got, "重启 PVE") || strings.Contains(got, SOSConfirmed) {
		t.Errorf("log %q; want the held SOS's 【确认】 line, no host reboot announced", got)
	}
	cfg.VMRestartFirst = true
	st = State{DownSince: t0.Add(-3 * time.Hour), HeldSOS: HeldSOS{SOS: "count=10", Count: 10, Day: yday}}
	s = Decide(cfg, st, full(func(o *Obs) {
		o.Router = Router{Count: "0"}
		o.VM = VMStatus{Status: "running", QMP: "running", Lock: "migrate"}
	}))
	if got := msgs(s); s.Action != None || !strings.Contains(got, "按 SOS 介入：路由虚拟机被锁定，暂不动作：锁解除后再冷重启 OpenWrt 虚拟机。") {
		t.Errorf("the VM locked: Decide = %v, log %q; want no step, the line saying the lock holds it", s.Action, got)
	}
}
