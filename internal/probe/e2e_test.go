package probe

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"runtime"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

// The end-to-end test runs the real Run, with pro-bing and real sockets,
// inside a network namespace it creates. Sockets belong to the namespace of
// the thread that opens them and pro-bing opens them on goroutines of its
// own, so the probe runs in a child process started with `ip netns exec`:
// the test binary itself, told by childEnv what to probe.
const childEnv = "NRPB_PROBE_CHILD"

// childRequest is what the parent asks the child to probe.
type childRequest struct {
	Targets    []string
	TCP        []string
	Timeout    time.Duration
	Privileged bool
	Hosts      map[string][]string // the child's resolver; never the real DNS
	Listen     string              // a TCP address to listen on during the probe
	OneShot    bool
	// Late lists targets whose real ping starts LateBy after the others,
	// so that the others' pro-bing receive loops have backed off to a long
	// read deadline by the time the late one answers (the slow pinger of
	// issue 13: it notices the stop only at its next deadline).
	Late   []string
	LateBy time.Duration
}

// childReply is what the child found.
type childReply struct {
	Result           Result
	Summary          string
	GoroutinesBefore int
	GoroutinesAfter  int    // 20 ms after Run returned
	Stacks           string // of all goroutines, when some were left behind
	Mallocs          uint64 // heap allocations during Run
	AllocBytes       uint64 // bytes allocated during Run
	// RunningAtReturn lists the targets whose ping had not returned when
	// Run returned; the child then waits for them before counting
	// goroutines, so that GoroutinesAfter also shows they ended by
	// themselves.
	RunningAtReturn []string
}

func TestMain(m *testing.M) {
	if req := os.Getenv(childEnv); req != "" {
		os.Exit(child(req))
	}
	os.Exit(m.Run())
}

func child(req string) int {
	var r childRequest
	if err := json.Unmarshal([]byte(req), &r); err != nil {
		fmt.Fprintln(os.Stderr, "child request:", err)
		return 3
	}
	if r.Listen != "" {
		// The kernel completes handshakes into the backlog; no Accept needed.
		ln, err := net.Listen("tcp", r.Listen)
		if err != nil {
			fmt.Fprintln(os.Stderr, "child listen:", err)
			return 3
		}
		defer ln.Close()
	}
	var reply childReply
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	reply.GoroutinesBefore = runtime.NumGoroutine()
	// The real network (pro-bing, net.Dialer), watched: which pings are
	// still running, and a late start for the targets in r.Late.
	var mu sync.Mutex
	running := map[string]bool{}
	var pings sync.WaitGroup
	nw := network{dial: dial, ping: func(ctx context.Context, ip netip.Addr, privileged bool, replied func(time.Duration)) error {
		mu.Lock()
		running[ip.String()] = true
		mu.Unlock()
		pings.Add(1)
		defer pings.Done()
		defer func() {
			mu.Lock()
			delete(running, ip.String())
			mu.Unlock()
		}()
		if slices.Contains(r.Late, ip.String()) {
			select {
			case <-time.After(r.LateBy):
			case <-ctx.Done():
				return nil
			}
		}
		return ping(ctx, ip, privileged, replied)
	}}
	reply.Result = run(context.Background(), Config{
		Targets:    r.Targets,
		TCP:        r.TCP,
		Timeout:    r.Timeout,
		Privileged: r.Privileged,
		Resolver:   hostsResolver(r.Hosts),
		OneShot:    r.OneShot,
	}, nw)
	mu.Lock()
	for ip := range running {
		reply.RunningAtReturn = append(reply.RunningAtReturn, ip)
	}
	mu.Unlock()
	slices.Sort(reply.RunningAtReturn)
	pings.Wait() // one-shot: the leftovers end by themselves
	runtime.ReadMemStats(&after)
	reply.Mallocs = after.Mallocs - before.Mallocs
	reply.AllocBytes = after.TotalAlloc - before.TotalAlloc
	// A goroutine that has signalled its end may still be counted for a
	// moment; one that is still blocked is a leak.
	reply.GoroutinesAfter = runtime.NumGoroutine()
	for i := 0; i < 20 && reply.GoroutinesAfter > reply.GoroutinesBefore; i++ {
		time.Sleep(time.Millisecond)
		reply.GoroutinesAfter = runtime.NumGoroutine()
	}
	if reply.GoroutinesAfter > reply.GoroutinesBefore {
		buf := make([]byte, 1<<16)
		reply.Stacks = string(buf[:runtime.Stack(buf, true)])
	}
	reply.Summary = reply.Result.Summary()
	if err := json.NewEncoder(os.Stdout).Encode(reply); err != nil {
		fmt.Fprintln(os.Stderr, "child reply:", err)
		return 3
	}
	return 0
}

// probeIn runs the probe in namespace ns and checks what every run must do:
// print nothing to stderr (pro-bing's logger is silenced) and leave no
// goroutine behind.
func probeIn(t *testing.T, ns string, req childRequest) childReply {
	t.Helper()
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	data, err := json.Marshal(req)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, "ip", "netns", "exec", ns, exe)
	// Under -race the child would otherwise sleep 1 s at exit.
	cmd.Env = append(os.Environ(), childEnv+"="+string(data), "GORACE=atexit_sleep_ms=0")
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("probe in %s: %v\nstderr: %s", ns, err, stderr.String())
	}
	if stderr.Len() > 0 {
		t.Errorf("probe wrote to stderr: %q", stderr.String())
	}
	var reply childReply
	if err := json.Unmarshal(stdout.Bytes(), &reply); err != nil {
		t.Fatalf("probe reply %q: %v", stdout.String(), err)
	}
	if reply.GoroutinesAfter > reply.GoroutinesBefore {
		t.Errorf("goroutines: %d before Run, %d after; want none left behind:\n%s", reply.GoroutinesBefore, reply.GoroutinesAfter, reply.Stacks)
	}
	t.Logf("Elapsed %v, %d allocations, %d bytes: %s", reply.Result.Elapsed, reply.Mallocs, reply.AllocBytes, reply.Summary)
	return reply
}

func run1(t *testing.T, name string, args ...string) {
	t.Helper()
	out, err := exec.Command(name, args...).CombinedOutput()
	if err != nil {
		t.Fatalf("%s %s: %v\n%s", name, strings.Join(args, " "), err, out)
	}
}

// setupNetns creates namespace ns: the "internet" 198.51.100.1, .2 and
// 2001:db8::1 are its own addresses (they answer through lo), the rest of
// 198.51.100.0/24, 203.0.113.0/24 and 2001:db8::/32 is routed out of one end
// of a veth pair whose other end drops everything (silence, like a dead
// uplink). The sending end does no ARP/ND, so a silent target never turns
// into a local "host unreachable". (A veth, not a dummy device: CI kernels
// may lack the dummy module.)
func setupNetns(t *testing.T, ns string) {
	t.Helper()
	run1(t, "ip", "netns", "add", ns)
	t.Cleanup(func() {
		if out, err := exec.Command("ip", "netns", "del", ns).CombinedOutput(); err != nil {
			t.Errorf("ip netns del %s: %v\n%s", ns, err, out)
		}
	})
	for _, args := range [][]string{
		{"link", "set", "lo", "up"},
		{"link", "add", "nrpb0", "type", "veth", "peer", "name", "nrpb1"},
		{"link", "set", "nrpb0", "arp", "off", "up"},
		{"link", "set", "nrpb1", "up"},
		{"addr", "add", "198.51.100.1/32", "dev", "nrpb0"},
		{"addr", "add", "198.51.100.2/32", "dev", "nrpb0"},
		{"addr", "add", "2001:db8::1/128", "dev", "nrpb0", "nodad"},
		{"route", "add", "198.51.100.0/24", "dev", "nrpb0"},
		{"route", "add", "203.0.113.0/24", "dev", "nrpb0"},
		{"-6", "route", "add", "2001:db8::/32", "dev", "nrpb0"},
	} {
		run1(t, "ip", append([]string{"-n", ns}, args...)...)
	}
}

// nftIn replaces the namespace's ruleset; rules drop at input, so sending
// works and the echo request or SYN just goes unanswered.
func nftIn(t *testing.T, ns, rules string) {
	t.Helper()
	ruleset := "flush ruleset\n"
	if rules != "" {
		ruleset += "table inet nrpb {\n chain in {\n  type filter hook input priority 0; policy accept;\n" + rules + "\n }\n}\n"
	}
	cmd := exec.Command("ip", "netns", "exec", ns, "nft", "-f", "-")
	cmd.Stdin = strings.NewReader(ruleset)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("nft -f - in %s: %v\n%s%s", ns, err, ruleset, out)
	}
}

func TestRunInNetns(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("skipping end-to-end probe test: needs root to create network namespaces")
	}
	for _, tool := range []string{"ip", "nft"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("skipping end-to-end probe test: %s not installed (%v)", tool, err)
		}
	}
	ns := fmt.Sprintf("nrpb%d", os.Getpid())
	setupNetns(t, ns)

	// A fresh namespace allows no group unprivileged ICMP ("1 0"), root
	// included: the socket error is reported and the run ends at once.
	t.Run("unprivileged ICMP not allowed", func(t *testing.T) {
		got := probeIn(t, ns, childRequest{Targets: []string{"198.51.100.1"}, Timeout: 2 * time.Second})
		want := []string{"198.51.100.1: socket: permission denied (unprivileged ICMP needs the group in sysctl net.ipv4.ping_group_range)"}
		if got.Result.Up || !slices.Equal(got.Result.Errors, want) {
			t.Errorf("Up=%v Errors=%q; want down with %q", got.Result.Up, got.Result.Errors, want)
		}
		if got.Result.Elapsed > time.Second {
			t.Errorf("Elapsed = %v; want an early end when no socket opens", got.Result.Elapsed)
		}
	})
	run1(t, "ip", "netns", "exec", ns, "sh", "-c", "echo '0 2147483647' >/proc/sys/net/ipv4/ping_group_range")

	const timeout = time.Second
	tests := []struct {
		name   string
		nft    string
		req    childRequest
		wantUp bool
		wantBy string
		// wantUnresolved and wantErrors are compared exactly (nil = none).
		wantUnresolved []string
		wantErrors     []string
	}{
		{
			name:   "one reachable target among silent ones",
			req:    childRequest{Targets: []string{"203.0.113.50", "203.0.113.51", "198.51.100.1", "203.0.113.52"}},
			wantUp: true,
			wantBy: "198.51.100.1",
		},
		{
			name: "names resolved, an unknown name reported",
			req: childRequest{
				Targets: []string{"nx.example.test", "up.example.test", "203.0.113.50"},
				Hosts:   map[string][]string{"up.example.test": {"203.0.113.60", "198.51.100.2"}},
			},
			wantUp:         true,
			wantBy:         "up.example.test (198.51.100.2)",
			wantUnresolved: []string{"nx.example.test: no such host"},
		},
		{
			name:   "ipv6",
			req:    childRequest{Targets: []string{"2001:db8::50", "2001:db8::1", "203.0.113.50"}},
			wantUp: true,
			wantBy: "2001:db8::1",
		},
		{
			name: "everything black-holed",
			nft:  "ip daddr 198.51.100.0/24 drop\nip6 daddr 2001:db8::/32 drop",
			req: childRequest{
				Targets: []string{"198.51.100.1", "203.0.113.50", "2001:db8::1", "up.example.test"},
				TCP:     []string{"198.51.100.1:8443", "203.0.113.50:443"},
				Hosts:   map[string][]string{"up.example.test": {"198.51.100.2"}},
				Listen:  "198.51.100.1:8443",
			},
		},
		{
			name: "icmp dropped, tcp answers",
			nft:  "meta l4proto { icmp, ipv6-icmp } drop",
			req: childRequest{
				Targets: []string{"198.51.100.1", "2001:db8::1", "203.0.113.50"},
				TCP:     []string{"203.0.113.50:443", "198.51.100.1:8443"},
				Listen:  "198.51.100.1:8443",
			},
			wantUp: true,
			wantBy: "tcp 198.51.100.1:8443",
		},
	}
	for _, privileged := range []bool{true, false} {
		t.Run(fmt.Sprintf("privileged=%v", privileged), func(t *testing.T) {
			for _, tt := range tests {
				t.Run(tt.name, func(t *testing.T) {
					nftIn(t, ns, tt.nft)
					t.Cleanup(func() { nftIn(t, ns, "") })
					req := tt.req
					req.Timeout, req.Privileged = timeout, privileged
					got := probeIn(t, ns, req).Result
					if got.Up != tt.wantUp || got.By != tt.wantBy ||
						!slices.Equal(got.Unresolved, tt.wantUnresolved) || !slices.Equal(got.Errors, tt.wantErrors) {
						t.Errorf("Run(%+v) =\n %s\nwant Up=%v By=%q Unresolved=%q Errors=%q",
							req, dump(got), tt.wantUp, tt.wantBy, tt.wantUnresolved, tt.wantErrors)
					}
					if tt.wantUp {
						if got.Elapsed >= timeout/2 {
							t.Errorf("Elapsed = %v; want an answer well within the %v budget", got.Elapsed, timeout)
						}
					} else if got.Elapsed < timeout || got.Elapsed > timeout+time.Second {
						t.Errorf("Elapsed = %v; want within [%v, %v]", got.Elapsed, timeout, timeout+time.Second)
					}
				})
			}
		})
	}
}

// TestRunOneShotInNetns runs the real Run, pro-bing and raw sockets, with
// black-holed targets beside one that answers (issue 13, SPEC §12). The
// answering target starts late, so that the silent targets' pro-bing
// receive loops have backed off to read deadlines drawn from [0, ~100 ms):
// a loop notices the stop only when its current read times out. One-shot,
// Run hands the reply back while those pingers are still running (two of
// them, so that both ending within the moment Run takes to return, each
// of their reads timing out just then, is out of reach), and they end by
// themselves afterwards; by default, nothing Run started outlives it
// (probeIn also checks that no goroutine is left).
func TestRunOneShotInNetns(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("skipping end-to-end probe test: needs root to create network namespaces")
	}
	if _, err := exec.LookPath("ip"); err != nil {
		t.Skipf("skipping end-to-end probe test: ip not installed (%v)", err)
	}
	ns := fmt.Sprintf("nrpo%d", os.Getpid())
	setupNetns(t, ns)
	const answers = "198.51.100.1"
	silent := []string{"203.0.113.50", "203.0.113.51"}
	for _, tc := range []struct {
		oneShot bool
		// wantSilentRunning: a silent target's ping was still running
		// when Run returned. (The answering one's may be too: it stops
		// itself at its reply, but winds down at its own next deadline.)
		wantSilentRunning bool
	}{
		{oneShot: true, wantSilentRunning: true},
		{oneShot: false, wantSilentRunning: false},
	} {
		t.Run(fmt.Sprintf("OneShot=%v", tc.oneShot), func(t *testing.T) {
			got := probeIn(t, ns, childRequest{
				Targets:    append(slices.Clone(silent), answers),
				Timeout:    5 * time.Second,
				Privileged: true,
				OneShot:    tc.oneShot,
				Late:       []string{answers},
				LateBy:     300 * time.Millisecond,
			})
			if !got.Result.Up || got.Result.By != answers {
				t.Errorf("Run = %s; want up, answered by %s", dump(got.Result), answers)
			}
			silentRunning := slices.ContainsFunc(got.RunningAtReturn, func(ip string) bool { return slices.Contains(silent, ip) })
			if silentRunning != tc.wantSilentRunning {
				t.Errorf("pings still running when Run returned: %q; want one of %q among them: %v", got.RunningAtReturn, silent, tc.wantSilentRunning)
			}
			if !tc.oneShot && len(got.RunningAtReturn) > 0 {
				t.Errorf("pings still running when Run returned: %q; want none (nothing outlives Run)", got.RunningAtReturn)
			}
		})
	}
}
