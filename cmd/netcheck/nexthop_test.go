package main

import (
	"context"
	"errors"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pve-op/network-rescue/internal/nexthop"
	"github.com/pve-op/network-rescue/internal/probe"
)

// hopEnv is fakeEnv with a next hop at 192.0.2.1 (found by the fake
// kernel lookup) that answers or not, and a record of every probe and
// lookup the run made.
type hopEnv struct {
	mu      sync.Mutex
	probes  [][]string // the targets of each probe, in order
	lookups int
}

func (h *hopEnv) env(t *testing.T, ran *[]string, internetUp, hopUp bool) env {
	e := fakeEnv(t, ran)
	e.Probe = func(_ context.Context, c probe.Config) probe.Result {
		h.mu.Lock()
		h.probes = append(h.probes, c.Targets)
		h.mu.Unlock()
		if len(c.Targets) == 1 && (c.Targets[0] == "192.0.2.1" || c.Targets[0] == "192.0.2.9") {
			return probe.Result{Up: hopUp, By: c.Targets[0]}
		}
		if internetUp {
			time.Sleep(20 * time.Millisecond) // a round trip to the internet
		}
		return probe.Result{Up: internetUp}
	}
	e.NextHop = func() (nexthop.Hop, error) {
		h.mu.Lock()
		h.lookups++
		h.mu.Unlock()
		return nexthop.Hop{Addr: netip.MustParseAddr("192.0.2.1"), Dev: "wan", How: nexthop.HowGateway}, nil
	}
	return e
}

func hopConf(t *testing.T, extra ...string) (conf, log string) {
	t.Helper()
	dir := t.TempDir()
	conf, log = filepath.Join(dir, "netrescue.conf"), filepath.Join(dir, "net.log")
	lines := append([]string{"CHECK_TARGETS=198.51.100.1", "STATE_DIR=" + filepath.Join(dir, "state"),
		"RUN_DIR=" + filepath.Join(dir, "run"), "LOG_FILE=" + log, "SYSLOG=0", "SAFE_UPTIME=0",
		"L1_THRESHOLD=1", "L2_THRESHOLD=2", "L3_THRESHOLD=3", "L1_CMD=L1", "L2_CMD=L2", "L3_CMD=L3"}, extra...)
	if err := os.WriteFile(conf, []byte(strings.Join(lines, "\n")+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	return conf, log
}

// TestHealthyRunAsksNoNextHop: a run whose targets answer at once asks the
// next hop nothing, not even the kernel where it is (SPEC §14 bar: one echo
// per target and nothing else).
func TestHealthyRunAsksNoNextHop(t *testing.T) {
	conf, _ := hopConf(t)
	var h hopEnv
	var ran []string
	for range 3 {
		if err := run(context.Background(), []string{"-config", conf}, h.env(t, &ran, true, true)); err != nil {
			t.Fatal(err)
		}
	}
	if len(h.probes) != 3 || h.lookups != 0 {
		t.Errorf("healthy runs probed %q and looked the next hop up %d times; want the targets 3 times, no lookup", h.probes, h.lookups)
	}
}

// TestISPOutageRun: with the next hop answering, the runs take L1 and L2
// and then nothing, logging 【诊断】 once; once it stops answering, the next
// run reboots (SPEC §14).
func TestISPOutageRun(t *testing.T) {
	conf, log := hopConf(t)
	var h hopEnv
	var ran []string
	for range 8 {
		if err := run(context.Background(), []string{"-config", conf}, h.env(t, &ran, false, true)); err != nil {
			t.Fatal(err)
		}
	}
	if got := strings.Join(ran, " "); got != "L1 L2" {
		t.Errorf("8 runs with the next hop answering ran %q; want \"L1 L2\"", got)
	}
	b, _ := os.ReadFile(log)
	if n := strings.Count(string(b), "【诊断】运营商侧故障，本机链路正常"); n != 1 || !strings.Contains(string(b), "next_hop=\"192.0.2.1 answers\"") {
		t.Errorf("log has 【诊断】 %d times (want 1) or lacks next_hop=192.0.2.1 answers:\n%s", n, b)
	}
	if len(h.probes) != 16 || h.lookups != 8 {
		t.Errorf("%d probes, %d lookups; want 16 (targets and next hop each run), 8", len(h.probes), h.lookups)
	}
	if err := run(context.Background(), []string{"-config", conf}, h.env(t, &ran, false, false)); err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(ran, " "); got != "L1 L2 L3" {
		t.Errorf("the run after the next hop went silent: ran %q; want L3 at once", got)
	}
	b, _ = os.ReadFile(log)
	if !strings.Contains(string(b), "【诊断】下一跳不再响应，自救阶梯继续") {
		t.Errorf("log lacks the line that the ladder goes on:\n%s", b)
	}
}

// TestWanGatewayModes: off asks nothing; an address is pinged as it is,
// without a kernel lookup; auto without a lookup is the plain ladder.
func TestWanGatewayModes(t *testing.T) {
	for _, tc := range []struct {
		name        string
		conf        string
		noLookup    bool // the Env has no kernel lookup
		wantProbes  string
		wantLookups int
		wantRan     string
	}{
		{"off", "WAN_GATEWAY=off", false, "[198.51.100.1] [198.51.100.1] [198.51.100.1]", 0, "L1 L2 L3"},
		{"fixed address", "WAN_GATEWAY=192.0.2.9", false,
			"[198.51.100.1] [192.0.2.9] [198.51.100.1] [192.0.2.9] [198.51.100.1] [192.0.2.9]", 0, "L1 L2"},
		{"auto, no lookup", "WAN_GATEWAY=auto", true, "[198.51.100.1] [198.51.100.1] [198.51.100.1]", 0, "L1 L2 L3"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			conf, _ := hopConf(t, tc.conf)
			var h hopEnv
			var ran []string
			for range 3 {
				e := h.env(t, &ran, false, true)
				if tc.noLookup {
					e.NextHop = nil
				}
				if err := run(context.Background(), []string{"-config", conf}, e); err != nil {
					t.Fatal(err)
				}
			}
			var got []string
			for _, p := range h.probes {
				got = append(got, "["+strings.Join(p, " ")+"]")
			}
			if g := strings.Join(got, " "); g != tc.wantProbes || h.lookups != tc.wantLookups || strings.Join(ran, " ") != tc.wantRan {
				t.Errorf("probes %s, lookups %d, ran %q; want %s, %d, %q", g, h.lookups, ran, tc.wantProbes, tc.wantLookups, tc.wantRan)
			}
		})
	}
}

// TestNextHopWithinBudget: the next hop is asked within the run's
// PROBE_TIMEOUT, in parallel with the targets: when the targets take the
// whole budget, the next hop's probe gets the rest after hopDelay, and the
// run is not longer for it.
func TestNextHopWithinBudget(t *testing.T) {
	conf, _ := hopConf(t, "PROBE_TIMEOUT=900ms")
	var ran []string
	var mu sync.Mutex
	var hopStart time.Duration
	var hopBudget time.Duration
	e := fakeEnv(t, &ran)
	start := time.Now()
	e.NextHop = func() (nexthop.Hop, error) {
		return nexthop.Hop{Addr: netip.MustParseAddr("192.0.2.1"), How: nexthop.HowGateway}, nil
	}
	e.Probe = func(ctx context.Context, c probe.Config) probe.Result {
		if c.Targets[0] == "192.0.2.1" {
			mu.Lock()
			hopStart, hopBudget = time.Since(start), c.Timeout
			mu.Unlock()
		}
		<-ctx.Done() // nothing answers
		return probe.Result{}
	}
	if err := run(context.Background(), []string{"-config", conf}, e); err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	defer mu.Unlock()
	if hopStart < 300*time.Millisecond || hopBudget <= 0 || hopBudget > 600*time.Millisecond {
		t.Errorf("next hop asked at %v with a budget of %v; want after 300ms, with the rest of the 900ms", hopStart, hopBudget)
	}
}

func TestHopDelay(t *testing.T) {
	for _, tc := range []struct{ timeout, want time.Duration }{
		{3 * time.Second, 300 * time.Millisecond}, {300 * time.Millisecond, 100 * time.Millisecond}, {100 * time.Millisecond, 33333333},
	} {
		if got := hopDelay(tc.timeout); got != tc.want {
			t.Errorf("hopDelay(%v) = %v; want %v", tc.timeout, got, tc.want)
		}
	}
}

// TestPlanShowsNextHop: plan says which mode is on and what the next hop
// is, and the ISP outage's timeline from the real decision.
func TestPlanShowsNextHop(t *testing.T) {
	for _, tc := range []struct {
		name, conf string
		lookupErr  error
		want       []string
	}{
		{"auto", "WAN_GATEWAY=auto", nil, []string{
			"ISP outage beyond the next hop (WAN_GATEWAY=auto; next hop: 192.0.2.1 (gateway of the default route, dev wan)):",
			"L1  redial WAN", "L2  restart network + firewall", "0 router reboots, no SOS"}},
		{"auto, WAN down", "WAN_GATEWAY=auto", nexthop.ErrNoDefaultRoute, []string{
			"next hop: none found now (no IPv4 default route in /proc/net/route)"}},
		{"fixed", "WAN_GATEWAY=192.0.2.9", nil, []string{"(WAN_GATEWAY=192.0.2.9; next hop: 192.0.2.9 (WAN_GATEWAY))"}},
		{"off", "WAN_GATEWAY=off", nil, []string{"(WAN_GATEWAY=off; next hop: not asked)", "WAN_GATEWAY=off: the next hop is not asked"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			conf, _ := hopConf(t, tc.conf)
			var h hopEnv
			var ran []string
			e := h.env(t, &ran, false, true)
			if tc.lookupErr != nil {
				e.NextHop = func() (nexthop.Hop, error) { return nexthop.Hop{}, tc.lookupErr }
			}
			out := &strings.Builder{}
			e.Stdout = out
			if err := run(context.Background(), []string{"-config", conf, "plan", "-at", "09:00"}, e); err != nil {
				t.Fatal(err)
			}
			for _, w := range tc.want {
				if !strings.Contains(out.String(), w) {
					t.Errorf("plan lacks %q:\n%s", w, out)
				}
			}
			if len(h.probes) != 0 || len(ran) != 0 {
				t.Errorf("plan probed %q or ran %q", h.probes, ran)
			}
		})
	}
}

// TestStatusShowsNextHop: status says the mode, the next hop and whether
// it answers now, with a fix for every ✗.
func TestStatusShowsNextHop(t *testing.T) {
	for _, tc := range []struct {
		name, conf string
		hopUp      bool
		lookupErr  error
		want       string
	}{
		{"answers", "WAN_GATEWAY=auto", true, nil,
			"✓ next hop: WAN_GATEWAY=auto: 192.0.2.1 (gateway of the default route, dev wan) answers"},
		{"silent", "WAN_GATEWAY=auto", false, nil,
			"✗ next hop: WAN_GATEWAY=auto: 192.0.2.1 (gateway of the default route, dev wan) does not answer ping"},
		{"no default route", "WAN_GATEWAY=auto", false, nexthop.ErrNoDefaultRoute,
			"✗ next hop: WAN_GATEWAY=auto: none: no IPv4 default route in /proc/net/route\n    fix: the WAN is down (no default route): the ladder's L1 redials wan"},
		{"lookup error", "WAN_GATEWAY=auto", false, errors.New("peer of wan: interface 3 has no point-to-point peer"),
			"✗ next hop: WAN_GATEWAY=auto: none found: peer of wan: interface 3 has no point-to-point peer\n    fix: set WAN_GATEWAY to the next hop's address, or WAN_GATEWAY=off"},
		{"off", "WAN_GATEWAY=off", false, nil, "✓ next hop: WAN_GATEWAY=off: not asked"},
		{"fixed", "WAN_GATEWAY=192.0.2.9", true, nil, "✓ next hop: WAN_GATEWAY=192.0.2.9: 192.0.2.9 (WAN_GATEWAY) answers"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			conf, _ := hopConf(t, tc.conf)
			var h hopEnv
			var ran []string
			e := h.env(t, &ran, true, tc.hopUp)
			if tc.lookupErr != nil {
				e.NextHop = func() (nexthop.Hop, error) { return nexthop.Hop{}, tc.lookupErr }
			}
			out := &strings.Builder{}
			e.Stdout = out
			_ = run(context.Background(), []string{"-config", conf, "status", "-crontab", filepath.Join(t.TempDir(), "none")}, e)
			if !strings.Contains(out.String(), tc.want) {
				t.Errorf("status lacks %q:\n%s", tc.want, out)
			}
		})
	}
}
