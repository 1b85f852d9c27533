package probe

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
)

// fakeResolver is a Resolver made of a function.
type fakeResolver struct {
	lookup func(ctx context.Context, host string) ([]net.IPAddr, error)
}

func (f fakeResolver) LookupIPAddr(ctx context.Context, host string) ([]net.IPAddr, error) {
	return f.lookup(ctx, host)
}

// hostsResolver answers from a table; other names do not exist. A name
// mapped to nil blocks until ctx is done, like a DNS server that never
// answers.
func hostsResolver(hosts map[string][]string) Resolver {
	return fakeResolver{lookup: func(ctx context.Context, host string) ([]net.IPAddr, error) {
		ips, ok := hosts[host]
		if !ok {
			return nil, &net.DNSError{Err: "no such host", Name: host, IsNotFound: true}
		}
		if ips == nil {
			<-ctx.Done()
			return nil, &net.DNSError{Err: "i/o timeout", Name: host, IsTimeout: true}
		}
		addrs := make([]net.IPAddr, len(ips))
		for i, s := range ips {
			addrs[i] = net.IPAddr{IP: net.ParseIP(s)}
		}
		return addrs, nil
	}}
}

// fakeNet answers pings and dials from tables keyed by address: a delay
// means "answers after that long", an error means "fails at once", anything
// else stays silent until the probe is cancelled. It counts probes still
// running so that tests can check that none outlives Run.
type fakeNet struct {
	replies map[string]time.Duration
	errs    map[string]error
	running atomic.Int32
	mu      sync.Mutex
	pinged  []string
}

func (f *fakeNet) network() network {
	return network{
		ping: func(ctx context.Context, ip netip.Addr, _ bool, replied func(time.Duration)) error {
			f.mu.Lock()
			f.pinged = append(f.pinged, ip.String())
			f.mu.Unlock()
			err := f.wait(ctx, ip.String())
			if err == nil && ctx.Err() == nil {
				replied(f.replies[ip.String()])
				return nil
			}
			if ctx.Err() != nil {
				return nil
			}
			return err
		},
		dial: func(ctx context.Context, address string) error {
			if err := f.wait(ctx, address); err != nil {
				return err
			}
			return ctx.Err()
		},
	}
}

func (f *fakeNet) wait(ctx context.Context, key string) error {
	f.running.Add(1)
	defer f.running.Add(-1)
	if err, ok := f.errs[key]; ok {
		return err
	}
	d, ok := f.replies[key]
	if !ok {
		<-ctx.Done()
		return ctx.Err()
	}
	select {
	case <-time.After(d):
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

var (
	errUnreachable = &net.OpError{Op: "write", Net: "ip4", Err: os.NewSyscallError("sendto", syscall.ENETUNREACH)}
	errRefused     = &net.OpError{Op: "dial", Net: "tcp", Err: os.NewSyscallError("connect", syscall.ECONNREFUSED)}
)

func TestRun(t *testing.T) {
	// The fakes answer within tens of milliseconds; the budget is far
	// above that, so that "ended early" (≤ timeout/2) and "used the whole
	// budget" (≤ timeout + slack) hold on a loaded machine too: the bounds
	// tell the two apart, they time nothing (benchmarks are make bench's).
	const timeout = 2 * time.Second
	const slack = 500 * time.Millisecond
	tests := []struct {
		name       string
		cfg        Config
		replies    map[string]time.Duration
		errs       map[string]error
		want       Result // Elapsed is checked against minElapsed/maxElapsed
		minElapsed time.Duration
		maxElapsed time.Duration
	}{
		{
			name:       "first reply ends the others",
			cfg:        Config{Targets: []string{"203.0.113.1", "198.51.100.1", "203.0.113.2"}},
			replies:    map[string]time.Duration{"198.51.100.1": 20 * time.Millisecond},
			want:       Result{Up: true, By: "198.51.100.1", RTT: 20 * time.Millisecond},
			minElapsed: 20 * time.Millisecond,
			maxElapsed: timeout / 2,
		},
		{
			name:       "nothing answers",
			cfg:        Config{Targets: []string{"203.0.113.1", "203.0.113.2"}, TCP: []string{"203.0.113.3:443"}},
			want:       Result{},
			minElapsed: timeout,
			maxElapsed: timeout + slack,
		},
		{
			name: "names resolved, an unknown name reported",
			cfg: Config{
				Targets:  []string{"nx.example.test", "up.example.test", "203.0.113.1"},
				Resolver: hostsResolver(map[string][]string{"up.example.test": {"203.0.113.9", "198.51.100.7"}}),
			},
			replies:    map[string]time.Duration{"198.51.100.7": 10 * time.Millisecond},
			want:       Result{Up: true, By: "up.example.test (198.51.100.7)", RTT: 10 * time.Millisecond, Unresolved: []string{"nx.example.test: no such host"}},
			maxElapsed: timeout / 2,
		},
		{
			name: "unknown names and no answer",
			cfg: Config{
				Targets:  []string{"nx2.example.test", "203.0.113.1", "nx1.example.test"},
				Resolver: hostsResolver(nil),
			},
			want:       Result{Unresolved: []string{"nx1.example.test: no such host", "nx2.example.test: no such host"}},
			minElapsed: timeout,
			maxElapsed: timeout + slack,
		},
		{
			name: "a silent DNS server uses up the same budget",
			cfg: Config{
				Targets:  []string{"slow.example.test"},
				Resolver: hostsResolver(map[string][]string{"slow.example.test": nil}),
			},
			want:       Result{Unresolved: []string{"slow.example.test: timeout"}},
			minElapsed: timeout,
			maxElapsed: timeout + slack,
		},
		{
			name: "a lookup cut short by an answer is not a failure",
			cfg: Config{
				Targets:  []string{"slow.example.test", "198.51.100.1"},
				Resolver: hostsResolver(map[string][]string{"slow.example.test": nil}),
			},
			replies:    map[string]time.Duration{"198.51.100.1": 5 * time.Millisecond},
			want:       Result{Up: true, By: "198.51.100.1", RTT: 5 * time.Millisecond},
			maxElapsed: timeout / 2,
		},
		{
			name:       "every probe failing ends the run early",
			cfg:        Config{Targets: []string{"203.0.113.2", "203.0.113.1"}, TCP: []string{"198.51.100.1:443"}},
			errs:       map[string]error{"203.0.113.1": errUnreachable, "203.0.113.2": errUnreachable, "198.51.100.1:443": errRefused},
			want:       Result{Errors: []string{"203.0.113.1: sendto: network is unreachable", "203.0.113.2: sendto: network is unreachable", "tcp 198.51.100.1:443: connect: connection refused"}},
			maxElapsed: timeout / 2,
		},
		{
			name:       "a dial that times out is silence, not an error",
			cfg:        Config{TCP: []string{"203.0.113.3:443"}},
			errs:       map[string]error{"203.0.113.3:443": &net.OpError{Op: "dial", Net: "tcp", Err: os.ErrDeadlineExceeded}},
			want:       Result{},
			maxElapsed: timeout / 2,
		},
		{
			name:       "tcp connect is an answer",
			cfg:        Config{Targets: []string{"203.0.113.1"}, TCP: []string{"203.0.113.2:443", "198.51.100.1:443"}},
			replies:    map[string]time.Duration{"198.51.100.1:443": 15 * time.Millisecond},
			want:       Result{Up: true, By: "tcp 198.51.100.1:443", RTT: 15 * time.Millisecond},
			minElapsed: 15 * time.Millisecond,
			maxElapsed: timeout / 2,
		},
		{
			name: "tcp target by name",
			cfg: Config{
				TCP:      []string{"www.example.test:443", "[2001:db8::1]:80"},
				Resolver: hostsResolver(map[string][]string{"www.example.test": {"198.51.100.3"}}),
			},
			replies:    map[string]time.Duration{"198.51.100.3:443": time.Millisecond},
			want:       Result{Up: true, By: "tcp www.example.test:443 (198.51.100.3)", RTT: time.Millisecond},
			maxElapsed: timeout / 2,
		},
		{
			name:       "tcp over ipv6",
			cfg:        Config{TCP: []string{"[2001:db8::1]:443"}},
			replies:    map[string]time.Duration{"[2001:db8::1]:443": time.Millisecond},
			want:       Result{Up: true, By: "tcp [2001:db8::1]:443", RTT: time.Millisecond},
			maxElapsed: timeout / 2,
		},
		{
			name:       "tcp target without a port",
			cfg:        Config{TCP: []string{"198.51.100.1"}},
			want:       Result{Errors: []string{"tcp 198.51.100.1: not host:port"}},
			maxElapsed: timeout / 2,
		},
		{
			name:       "no budget",
			cfg:        Config{Targets: []string{"198.51.100.1"}, Timeout: -1},
			replies:    map[string]time.Duration{"198.51.100.1": 0},
			want:       Result{},
			maxElapsed: timeout / 2,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			fake := &fakeNet{replies: tt.replies, errs: tt.errs}
			cfg := tt.cfg
			if cfg.Timeout == 0 {
				cfg.Timeout = timeout
			}
			if cfg.Resolver == nil {
				cfg.Resolver = fakeResolver{lookup: func(_ context.Context, host string) ([]net.IPAddr, error) {
					t.Errorf("LookupIPAddr(%q) for an IP literal", host)
					return nil, errors.New("unexpected lookup")
				}}
			}
			got := run(context.Background(), cfg, fake.network())
			if n := fake.running.Load(); n != 0 {
				t.Errorf("%d probes still running after run returned", n)
			}
			if got.Elapsed < tt.minElapsed || got.Elapsed > tt.maxElapsed {
				t.Errorf("Elapsed = %v; want within [%v, %v]", got.Elapsed, tt.minElapsed, tt.maxElapsed)
			}
			// An echo's RTT comes from the fake as told; a TCP one is measured.
			rttOK := got.RTT >= tt.want.RTT && got.RTT < tt.want.RTT+slack
			if got.Up != tt.want.Up || got.By != tt.want.By || !rttOK ||
				!slices.Equal(got.Unresolved, tt.want.Unresolved) || !slices.Equal(got.Errors, tt.want.Errors) {
				t.Errorf("run(%+v) =\n %s\nwant\n %s", tt.cfg, dump(got), dump(tt.want))
			}
		})
	}
}

func dump(r Result) string {
	return fmt.Sprintf("Up=%v By=%q RTT=%v Unresolved=%q Errors=%q", r.Up, r.By, r.RTT, r.Unresolved, r.Errors)
}

func TestRunAddressFamilies(t *testing.T) {
	want := []string{"198.51.100.1", "198.51.100.2", "2001:db8::1", "2001:db8::5", "203.0.113.5", "fe80::1%nrpb0"}
	// Every address fails at once, so each target ends before the next
	// starts and the run ends when all have: no clock in it (a 10 ms budget
	// left the last target unstarted on a loaded machine).
	fake := &fakeNet{errs: map[string]error{}}
	for _, a := range want {
		fake.errs[a] = errors.New("network is unreachable")
	}
	cfg := Config{
		Targets:  []string{"198.51.100.1", "2001:db8::1", "::ffff:198.51.100.2", "fe80::1%nrpb0", "dual.example.test"},
		Timeout:  time.Minute,
		Resolver: hostsResolver(map[string][]string{"dual.example.test": {"203.0.113.5", "2001:db8::5"}}),
	}
	run(context.Background(), cfg, fake.network())
	slices.Sort(fake.pinged)
	if !slices.Equal(fake.pinged, want) {
		t.Errorf("pinged %q; want %q", fake.pinged, want)
	}
}

// TestRunPublic goes through the exported Run with names only, all of which
// fail to resolve, so that no packet leaves the machine.
func TestRunPublic(t *testing.T) {
	got := Run(context.Background(), Config{
		Targets:  []string{"www.baidu.com"},
		TCP:      []string{"www.example.test:443"},
		Timeout:  3 * time.Second,
		Resolver: hostsResolver(nil),
	})
	if got.Elapsed > time.Second {
		t.Errorf("Elapsed = %v; want an early end when every name fails", got.Elapsed)
	}
	got.Elapsed = 3 * time.Second
	want := "no reply from 2 targets in 3s; unresolved: www.baidu.com: no such host, www.example.test: no such host"
	if s := got.Summary(); s != want {
		t.Errorf("Summary() = %q; want %q", s, want)
	}
}

func TestSummary(t *testing.T) {
	tests := []struct {
		name string
		r    Result
		want string
	}{
		{
			name: "up",
			r:    Result{Up: true, By: "223.5.5.5", RTT: 12345 * time.Microsecond, Elapsed: 13 * time.Millisecond, targets: 4},
			want: "reply from 223.5.5.5 in 13ms (rtt 12.35ms)",
		},
		{
			name: "up by tcp with an unresolved name",
			r: Result{Up: true, By: "tcp 1.2.3.4:443", RTT: 87 * time.Microsecond, Elapsed: 2*time.Millisecond + 4*time.Microsecond,
				Unresolved: []string{"www.baidu.com: no such host"}, targets: 2},
			want: "reply from tcp 1.2.3.4:443 in 2ms (rtt 87µs); unresolved: www.baidu.com: no such host",
		},
		{
			name: "down",
			r:    Result{Elapsed: 3*time.Second + 2*time.Millisecond, Unresolved: []string{"www.baidu.com: no such host"}, targets: 4},
			want: "no reply from 4 targets in 3s; unresolved: www.baidu.com: no such host",
		},
		{
			name: "down, one target, errors",
			r: Result{Elapsed: 3087 * time.Millisecond, targets: 1,
				Errors: []string{"1.1.1.1: sendto: network is unreachable", "8.8.8.8: sendto: network is unreachable"}},
			want: "no reply from 1 target in 3.09s; errors: 1.1.1.1: sendto: network is unreachable, 8.8.8.8: sendto: network is unreachable",
		},
		{
			name: "zero value",
			r:    Result{},
			want: "no reply in 0s",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.r.Summary(); got != tt.want {
				t.Errorf("Summary() = %q; want %q", got, tt.want)
			}
		})
	}
}

func TestSocketReason(t *testing.T) {
	tests := []struct {
		name       string
		err        error
		privileged bool
		want       string
	}{
		{
			name: "unprivileged ICMP not allowed",
			err:  os.NewSyscallError("socket", syscall.EACCES), // as icmp.ListenPacket returns it
			want: "socket: permission denied (unprivileged ICMP needs the group in sysctl net.ipv4.ping_group_range)",
		},
		{
			name:       "raw ICMP without root",
			err:        os.NewSyscallError("socket", syscall.EPERM),
			privileged: true,
			want:       "socket: operation not permitted (raw ICMP needs root or CAP_NET_RAW)",
		},
		{
			name: "no route",
			err:  errUnreachable,
			want: "sendto: network is unreachable",
		},
		{
			name: "other",
			err:  errors.New("size 3 is less than minimum required size 24"),
			want: "size 3 is less than minimum required size 24",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := socketReason(tt.err, tt.privileged); got != tt.want {
				t.Errorf("socketReason(%v, %v) = %q; want %q", tt.err, tt.privileged, got, tt.want)
			}
		})
	}
}

// lingeringNet is a network whose ping, like pro-bing's, goes on for a while
// after the answer (or after the stop): it returns only once release is
// closed. ended counts the pings that have returned.
type lingeringNet struct {
	reply   bool
	release chan struct{}
	ended   atomic.Int32
}

func (l *lingeringNet) network() network {
	return network{
		ping: func(ctx context.Context, _ netip.Addr, _ bool, replied func(time.Duration)) error {
			defer l.ended.Add(1)
			if l.reply {
				replied(time.Millisecond)
			}
			<-l.release
			return nil
		},
		dial: func(ctx context.Context, _ string) error { <-ctx.Done(); return ctx.Err() },
	}
}

// TestRunOneShot: with OneShot, Run hands back the result at the first
// reply (or at the deadline) while the probes are still winding down;
// without it, nothing Run started outlives it (SPEC §12, issue 13).
func TestRunOneShot(t *testing.T) {
	for _, tc := range []struct {
		name    string
		reply   bool
		timeout time.Duration
		wantUp  bool
	}{
		{name: "first reply", reply: true, timeout: time.Minute, wantUp: true},
		{name: "deadline", reply: false, timeout: 50 * time.Millisecond, wantUp: false},
	} {
		t.Run(tc.name+"/one-shot", func(t *testing.T) {
			l := &lingeringNet{reply: tc.reply, release: make(chan struct{})}
			defer close(l.release)
			res := make(chan Result, 1)
			go func() {
				res <- run(context.Background(), Config{Targets: []string{"198.51.100.1"}, Timeout: tc.timeout, OneShot: true}, l.network())
			}()
			var got Result
			select {
			case got = <-res:
			case <-time.After(10 * time.Second):
				t.Fatal("Run waited for the lingering ping; want it to return at the first reply or the deadline")
			}
			if got.Up != tc.wantUp {
				t.Errorf("Up = %v; want %v", got.Up, tc.wantUp)
			}
			if n := l.ended.Load(); n != 0 {
				t.Errorf("%d ping(s) ended before Run returned; want Run to return while they wind down", n)
			}
		})
		t.Run(tc.name+"/default", func(t *testing.T) {
			l := &lingeringNet{reply: tc.reply, release: make(chan struct{})}
			res := make(chan Result, 1)
			go func() {
				res <- run(context.Background(), Config{Targets: []string{"198.51.100.1"}, Timeout: tc.timeout}, l.network())
			}()
			time.Sleep(min(tc.timeout, 100*time.Millisecond) + 100*time.Millisecond)
			select {
			case <-res:
				t.Fatal("Run returned while a ping was still running; want it to wait (nothing outlives Run)")
			default:
			}
			close(l.release)
			got := <-res
			if got.Up != tc.wantUp {
				t.Errorf("Up = %v; want %v", got.Up, tc.wantUp)
			}
			if n := l.ended.Load(); n != 1 {
				t.Errorf("%d ping(s) ended when Run returned; want 1", n)
			}
		})
	}
}

func TestStagger(t *testing.T) {
	tests := []struct {
		budget time.Duration
		n      int
		want   time.Duration
	}{
		{budget: 3 * time.Second, n: 4, want: maxStagger},
		{budget: 100 * time.Millisecond, n: 4, want: 100 * time.Millisecond / 6}, // all started by 50 ms
		{budget: 100 * time.Millisecond, n: 2, want: maxStagger},
		{budget: 3 * time.Second, n: 1, want: 0},
		{budget: 0, n: 4, want: 0},
	}
	for _, tt := range tests {
		if got := stagger(tt.budget, tt.n); got != tt.want {
			t.Errorf("stagger(%v, %d) = %v; want %v", tt.budget, tt.n, got, tt.want)
		}
	}
}

// TestRunStaggered: the targets start in order; the next one only when the
// one before has not answered within the stagger or has failed outright
// (SPEC §4, §12).
func TestRunStaggered(t *testing.T) {
	tests := []struct {
		name       string
		cfg        Config
		replies    map[string]time.Duration
		errs       map[string]error
		wantBy     string
		wantPinged []string
	}{
		{
			// The stagger is an hour: had the launcher waited for it, the
			// run would end at its 2 s budget with nothing but the first.
			name:       "an answer within the stagger: the other targets never start",
			cfg:        Config{Targets: []string{"198.51.100.1", "198.51.100.2", "203.0.113.1"}, TCP: []string{"198.51.100.3:443"}, gap: time.Hour},
			replies:    map[string]time.Duration{"198.51.100.1": 0, "198.51.100.2": 0, "203.0.113.1": 0, "198.51.100.3:443": 0},
			wantBy:     "198.51.100.1",
			wantPinged: []string{"198.51.100.1"},
		},
		{
			name:       "a failure starts the next target at once",
			cfg:        Config{Targets: []string{"203.0.113.1", "nx.example.test", "198.51.100.1", "198.51.100.2"}, gap: time.Hour},
			errs:       map[string]error{"203.0.113.1": errUnreachable},
			replies:    map[string]time.Duration{"198.51.100.1": 0, "198.51.100.2": 0},
			wantBy:     "198.51.100.1",
			wantPinged: []string{"198.51.100.1", "203.0.113.1"},
		},
		{
			name:       "a silent target: the next starts after the stagger",
			cfg:        Config{Targets: []string{"203.0.113.1", "198.51.100.1"}, gap: 10 * time.Millisecond},
			replies:    map[string]time.Duration{"198.51.100.1": 0},
			wantBy:     "198.51.100.1",
			wantPinged: []string{"198.51.100.1", "203.0.113.1"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fake := &fakeNet{replies: tt.replies, errs: tt.errs}
			cfg := tt.cfg
			cfg.Timeout = 2 * time.Second
			cfg.Resolver = hostsResolver(nil)
			got := run(context.Background(), cfg, fake.network())
			slices.Sort(fake.pinged)
			if got.By != tt.wantBy || !slices.Equal(fake.pinged, tt.wantPinged) {
				t.Errorf("run(%+v): By %q, pinged %q; want By %q, pinged %q", tt.cfg, got.By, fake.pinged, tt.wantBy, tt.wantPinged)
			}
		})
	}
}

// TestRunOneShotUnresolved: a name whose lookup is still under way at the
// deadline is reported unresolved with OneShot too. Run returned at the
// deadline before the lookup recorded its own timeout, so a DNS outage
// was logged, run by run, with or without its "unresolved: NAME" (SPEC §4:
// "the log says which").
func TestRunOneShotUnresolved(t *testing.T) {
	slow := fakeResolver{lookup: func(ctx context.Context, host string) ([]net.IPAddr, error) {
		<-ctx.Done()
		time.Sleep(100 * time.Millisecond) // the resolver's own timeout, a moment after ours
		return nil, &net.DNSError{Err: "i/o timeout", Name: host, IsTimeout: true}
	}}
	f := &fakeNet{}
	got := run(context.Background(), Config{Targets: []string{"198.51.100.1", "www.example.net"}, Timeout: 50 * time.Millisecond,
		Resolver: slow, OneShot: true, gap: time.Millisecond}, f.network())
	if got.Up || strings.Join(got.Unresolved, ",") != "www.example.net: timeout" {
		t.Errorf("Up %v, Unresolved %q; want down with www.example.net: timeout", got.Up, got.Unresolved)
	}
	if s := got.Summary(); !strings.Contains(s, "unresolved: www.example.net: timeout") {
		t.Errorf("Summary = %q; want the name", s)
	}
}

// TestLaunchStopsAtAnswer: a target that answered ends its group with
// p.first closed and p.ctx ended (answered); its done must stay open, or
// launch's select, finding done, first and ctx all ready, took done one
// time in three and started the next target after the answer (seen as
// TestRunStaggered's "the other targets never start" pinging two under
// load). A target that ended without an answer still closes done, so the
// next one starts at once. Each case is run as launch sees it: the group
// ended before its select.
func TestLaunchStopsAtAnswer(t *testing.T) {
	for _, answer := range []bool{true, false} {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		p := &prober{ctx: ctx, cancel: cancel, first: make(chan struct{})}
		g := &group{done: make(chan struct{})}
		g.add(p)
		if answer {
			p.answered("198.51.100.1", time.Millisecond)
		} else {
			p.fail("203.0.113.1", "unreachable")
		}
		g.end(p)
		select {
		case <-g.done:
			if answer {
				t.Errorf("answered: done closed beside first; want launch to see first alone")
			}
		default:
			if !answer {
				t.Errorf("no answer: done still open; want the next target started at once")
			}
		}
		p.wg.Wait()
		cancel()
	}
}
