// Package probe answers the one question both sides of the rescue ask every
// run (SPEC §4): does the internet answer right now?
//
// Every target is probed in parallel, ICMP echo for Config.Targets and a TCP
// connect for Config.TCP. The first answer from any of them means "up" and
// ends the probe at once, so a healthy run costs one round trip. "Down" means
// that nothing answered within Config.Timeout, a budget that includes name
// resolution: names are resolved inside it, in parallel with the probes of
// the IP targets, and a name that does not resolve is reported (DNS is part
// of the internet the family uses).
//
// The targets are started in order a moment apart, as Happy Eyeballs starts
// its connection attempts (RFC 8305 §5): the next one when the one before
// has not answered within a short stagger (at most 50 ms) or has failed
// outright, and all of them within the first half of the budget. Once
// started, they run side by side until the first answer. A healthy run whose
// first target answers within the stagger thus opens one socket, like the
// floor of SPEC §12, instead of one per target (measured paired, whole
// process: 7 % less CPU time on two CPUs, 11–12 % less wall time on one;
// BENCHMARKS.md); a silent first target costs the run one stagger.
//
// By default Run never returns before every probe it started has ended, so
// nothing it started outlives it: not a goroutine and not a socket. A
// one-shot process (a cron run that exits soon after) sets Config.OneShot
// instead: Run then returns at the first reply or at the deadline, and the
// probes still winding down die with the process (SPEC §12: pro-bing's
// receive loop notices a stop only at its next read deadline, ≈ 1 ms after
// the reply has arrived).
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
	"time"

	probing "github.com/prometheus-community/pro-bing"
)

// echoInterval spaces the echo requests sent to one address, so that one lost
// packet does not turn a working line into "down"; the first reply still ends
// the probe at once.
const echoInterval = 300 * time.Millisecond

// maxStagger is the longest Run waits for an answer before it starts the
// next target. An answer from a working line usually comes well within it
// (RFC 8305 §5 suggests 250 ms between connection attempts, with 10 ms as
// the least; a cron run's latency matters less than its cost, the budget
// more).
const maxStagger = 50 * time.Millisecond

// stagger is the wait between the starts of n targets within budget: at
// most maxStagger, and all of them started within the first half of the
// budget.
func stagger(budget time.Duration, n int) time.Duration {
	if n < 2 || budget <= 0 {
		return 0
	}
	return min(maxStagger, budget/time.Duration(2*(n-1)))
}

// Config says what to probe and for how long.
type Config struct {
	// Targets are IP addresses or host names that must answer an ICMP echo.
	Targets []string
	// TCP are host:port addresses; a completed TCP connect counts as an
	// answer (for networks that drop ICMP).
	TCP []string
	// Timeout is the whole budget of the probe, name resolution included.
	// Zero or negative leaves no time at all: Run reports "down" at once.
	Timeout time.Duration
	// Privileged selects raw ICMP sockets (root or CAP_NET_RAW) instead of
	// unprivileged datagram ICMP sockets (net.ipv4.ping_group_range).
	Privileged bool
	// Resolver resolves the host names among the targets; nil means
	// net.DefaultResolver.
	Resolver Resolver
	// OneShot returns at the first answer, at the deadline, or when every
	// probe has failed, without waiting for the other probes' goroutines
	// and sockets to wind down. Only for a process that exits soon after:
	// they end by themselves shortly, but they outlive Run.
	OneShot bool

	// gap replaces the stagger between the starts of the targets (tests).
	gap time.Duration
}

// Resolver resolves host names; *net.Resolver satisfies it.
type Resolver interface {
	LookupIPAddr(ctx context.Context, host string) ([]net.IPAddr, error)
}

// Result is what one probe found.
type Result struct {
	// Up is true when some target answered within the budget.
	Up bool
	// By names the target that answered first: an ICMP target as configured
	// ("223.5.5.5"), a TCP target as "tcp 1.2.3.4:443", and a target given by
	// name with the address that answered ("www.baidu.com (110.242.68.66)").
	By string
	// RTT is the round-trip time of that answer: the echo's round trip, or
	// the time the TCP handshake took.
	RTT time.Duration
	// Unresolved lists the names that did not resolve, each as
	// "name: reason", sorted.
	Unresolved []string
	// Errors lists failures other than "no reply", each as
	// "target: reason", sorted: a socket that could not be opened, a packet
	// the kernel would not send, a refused connection.
	Errors []string
	// Elapsed is how long the probe took.
	Elapsed time.Duration

	// targets is the number of configured targets, for Summary.
	targets int
}

// Summary describes the result in one line for the log, for example
// "no reply from 4 targets in 3s; unresolved: www.baidu.com: no such host".
func (r Result) Summary() string {
	var b strings.Builder
	switch {
	case r.Up:
		fmt.Fprintf(&b, "reply from %s in %s (rtt %s)", r.By, roundDuration(r.Elapsed), roundDuration(r.RTT))
	case r.targets == 1:
		fmt.Fprintf(&b, "no reply from 1 target in %s", roundDuration(r.Elapsed))
	case r.targets > 1:
		fmt.Fprintf(&b, "no reply from %d targets in %s", r.targets, roundDuration(r.Elapsed))
	default:
		fmt.Fprintf(&b, "no reply in %s", roundDuration(r.Elapsed))
	}
	if len(r.Unresolved) > 0 {
		b.WriteString("; unresolved: ")
		b.WriteString(strings.Join(r.Unresolved, ", "))
	}
	if len(r.Errors) > 0 {
		b.WriteString("; errors: ")
		b.WriteString(strings.Join(r.Errors, ", "))
	}
	return b.String()
}

// roundDuration keeps log lines short: "3.01s", "12.35ms", "87µs".
func roundDuration(d time.Duration) time.Duration {
	switch {
	case d >= time.Second:
		return d.Round(10 * time.Millisecond)
	case d >= time.Millisecond:
		return d.Round(10 * time.Microsecond)
	default:
		return d.Round(time.Microsecond)
	}
}

// Run probes every target of cfg in parallel, started a stagger apart (see
// the package doc), and returns as soon as one of them answers, or when
// cfg.Timeout (or ctx) runs out, or when every probe has failed for good (a
// socket that cannot be opened, a refused connection).
//
// When nothing answers, Run returns a little after cfg.Timeout: pro-bing's
// receive loop notices a stop only at the end of its current read, whose
// deadline backs off up to ~100 ms (measured: 20–90 ms over the budget).
func Run(ctx context.Context, cfg Config) Result {
	return run(ctx, cfg, network{ping: ping, dial: dial})
}

// network is the part of a probe that sends packets; tests replace it.
type network struct {
	// ping sends echo requests to ip until ctx is done and calls replied
	// for the first reply. It returns only errors other than "no reply".
	ping func(ctx context.Context, ip netip.Addr, privileged bool, replied func(rtt time.Duration)) error
	// dial connects to address (an IP and a port) and closes the connection.
	dial func(ctx context.Context, address string) error
}

// prober is the state of one Run.
type prober struct {
	ctx        context.Context
	cancel     context.CancelFunc
	nw         network
	resolver   Resolver
	privileged bool
	wg         sync.WaitGroup

	first chan struct{} // closed by the first answer
	once  sync.Once

	mu         sync.Mutex
	up         bool
	by         string
	rtt        time.Duration
	unresolved []string
	resolving  []string // names whose lookup has not ended
	errs       []string
}

func run(ctx context.Context, cfg Config, nw network) Result {
	start := time.Now()
	ctx, cancel := context.WithTimeout(ctx, cfg.Timeout)
	defer cancel()
	p := &prober{ctx: ctx, cancel: cancel, nw: nw, resolver: cfg.Resolver, privileged: cfg.Privileged,
		first: make(chan struct{})}
	if p.resolver == nil {
		p.resolver = net.DefaultResolver
	}
	var starts []func(*group)
	for _, t := range cfg.Targets {
		if t != "" {
			starts = append(starts, func(g *group) { p.icmp(g, t) })
		}
	}
	for _, t := range cfg.TCP {
		if t != "" {
			starts = append(starts, func(g *group) { p.tcp(g, t) })
		}
	}
	n := len(starts)
	gap := cfg.gap
	if gap == 0 {
		gap = stagger(cfg.Timeout, n)
	}
	p.launch(starts, gap)
	if cfg.OneShot {
		all := make(chan struct{})
		go func() { p.wg.Wait(); close(all) }()
		select {
		case <-all:
		case <-p.first:
		case <-ctx.Done():
		}
	} else {
		p.wg.Wait()
	}

	// Under OneShot the probes may still record a failure: copy under the
	// lock. A lookup still under way at the deadline is a name that did
	// not resolve in time (it would record just that a moment later).
	p.mu.Lock()
	defer p.mu.Unlock()
	unresolved, errs := slices.Clone(p.unresolved), slices.Clone(p.errs)
	if !p.up {
		for _, name := range p.resolving {
			unresolved = append(unresolved, name+": timeout")
		}
	}
	slices.Sort(unresolved)
	slices.Sort(errs)
	return Result{
		Up:         p.up,
		By:         p.by,
		RTT:        p.rtt,
		Unresolved: slices.Compact(unresolved),
		Errors:     slices.Compact(errs),
		Elapsed:    time.Since(start),
		targets:    n,
	}
}

// group counts the running probes of one target (its lookup and the probe
// of every address it resolved to); done is closed when the last ends.
type group struct {
	n    atomic.Int32
	done chan struct{}
}

// add counts one more probe of the target, in p.wg too. Not inlined: a
// call per probe started costs nothing to see, and saves 160 bytes of
// netcheck (SPEC §12: size).
//
//go:noinline
func (g *group) add(p *prober) {
	p.wg.Add(1)
	g.n.Add(1)
}

// end counts one probe of the target as ended, in p.wg too. Not inlined:
// with its deferred calls it cost the router's netcheck ~0.6 KB (SPEC §12:
// ≤ 5 MiB); a call costs nanoseconds against a round trip. The same holds
// for the few other //go:noinline helpers in the code linked into netcheck.
//
// A target answered has ended p.ctx (answered): its done stays open then,
// for launch to stop at p.first; of the ready cases a select takes any,
// and it started the next target after the answer.
//
//go:noinline
func (g *group) end(p *prober) {
	if g.n.Add(-1) == 0 && p.ctx.Err() == nil {
		close(g.done)
	}
	p.wg.Done()
}

// launch starts the targets in order, each one gap after the one before,
// or as soon as the one before has ended without an answer (its socket
// could not be opened, its name did not resolve). It stops starting at the
// first answer or when ctx is done: a target not started by then is not
// needed.
func (p *prober) launch(starts []func(*group), gap time.Duration) {
	var timer *time.Timer
	for i, start := range starts {
		// The launcher holds the group while it starts the target, so that
		// done closes only once everything the target started has ended,
		// or at once when it started nothing.
		g := &group{done: make(chan struct{})}
		g.add(p)
		start(g)
		g.end(p)
		if i == len(starts)-1 {
			return
		}
		if timer == nil {
			timer = time.NewTimer(gap)
			defer timer.Stop()
		} else {
			timer.Reset(gap)
		}
		select {
		case <-g.done:
		case <-timer.C:
		case <-p.first:
			return
		case <-p.ctx.Done():
			return
		}
	}
}

// icmp starts the echo probe of target, resolving it first when it is a name.
func (p *prober) icmp(g *group, target string) {
	if ip, err := netip.ParseAddr(target); err == nil {
		p.goPing(g, target, ip.Unmap())
		return
	}
	g.add(p)
	go func() {
		defer g.end(p)
		for _, ip := range p.resolve(target) {
			p.goPing(g, target+" ("+ip.String()+")", ip)
		}
	}()
}

func (p *prober) goPing(g *group, label string, ip netip.Addr) {
	g.add(p)
	go func() {
		defer g.end(p)
		err := p.nw.ping(p.ctx, ip, p.privileged, func(rtt time.Duration) { p.answered(label, rtt) })
		if err != nil {
			p.fail(label, socketReason(err, p.privileged))
		}
	}()
}

// tcp starts the connect probe of target (host:port), resolving the host
// first when it is a name.
func (p *prober) tcp(g *group, target string) {
	label := "tcp " + target
	host, port, err := net.SplitHostPort(target)
	if err != nil {
		p.fail(label, "not host:port")
		return
	}
	if ip, err := netip.ParseAddr(host); err == nil {
		p.goDial(g, label, ip.Unmap(), port)
		return
	}
	g.add(p)
	go func() {
		defer g.end(p)
		for _, ip := range p.resolve(host) {
			p.goDial(g, label+" ("+ip.String()+")", ip, port)
		}
	}()
}

func (p *prober) goDial(g *group, label string, ip netip.Addr, port string) {
	g.add(p)
	go func() {
		defer g.end(p)
		start := time.Now()
		err := p.nw.dial(p.ctx, net.JoinHostPort(ip.String(), port))
		switch {
		case err == nil:
			p.answered(label, time.Since(start))
		case p.ctx.Err() == nil && !errors.Is(err, os.ErrDeadlineExceeded):
			// A refusal or an unreachable network, not silence. (The dialer
			// may see the deadline a moment before ctx.Err reports it.)
			p.fail(label, socketReason(err, p.privileged))
		}
	}()
}

// resolve looks name up within the budget. A failure is recorded, except
// when the lookup was cut short because another target already answered.
func (p *prober) resolve(name string) []netip.Addr {
	p.mu.Lock()
	p.resolving = append(p.resolving, name)
	p.mu.Unlock()
	addrs, err := p.resolver.LookupIPAddr(p.ctx, name)
	if err == nil && len(addrs) == 0 {
		err = errors.New("no addresses")
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	i := slices.Index(p.resolving, name)
	p.resolving = slices.Delete(p.resolving, i, i+1)
	if err != nil {
		if !p.up {
			p.unresolved = append(p.unresolved, name+": "+dnsReason(err))
		}
		return nil
	}
	ips := make([]netip.Addr, 0, len(addrs))
	for _, a := range addrs {
		ip, ok := netip.AddrFromSlice(a.IP)
		if !ok {
			continue
		}
		ips = append(ips, ip.Unmap().WithZone(a.Zone))
	}
	return ips
}

// answered records the first answer and ends every other probe.
func (p *prober) answered(label string, rtt time.Duration) {
	p.mu.Lock()
	if !p.up {
		p.up, p.by, p.rtt = true, label, rtt
	}
	p.mu.Unlock()
	p.once.Do(func() { close(p.first) })
	p.cancel()
}

func (p *prober) fail(label, reason string) {
	p.mu.Lock()
	p.errs = append(p.errs, label+": "+reason)
	p.mu.Unlock()
}

// dnsReason turns a lookup error into the short reason a log line shows.
func dnsReason(err error) string {
	var dnsErr *net.DNSError
	switch {
	case errors.Is(err, context.DeadlineExceeded), errors.As(err, &dnsErr) && dnsErr.IsTimeout:
		return "timeout"
	case errors.Is(err, context.Canceled):
		return "canceled"
	case dnsErr != nil:
		return dnsErr.Err
	default:
		return err.Error()
	}
}

// socketReason turns a socket error into a short reason ("sendto: network is
// unreachable") with a hint when the fix is a known setting.
func socketReason(err error, privileged bool) string {
	reason := err.Error()
	var sysErr *os.SyscallError
	if errors.As(err, &sysErr) {
		reason = sysErr.Error()
	}
	if sysErr != nil && sysErr.Syscall == "socket" {
		switch {
		case privileged && errors.Is(err, syscall.EPERM):
			reason += " (raw ICMP needs root or CAP_NET_RAW)"
		case !privileged && errors.Is(err, syscall.EACCES):
			reason += " (unprivileged ICMP needs the group in sysctl net.ipv4.ping_group_range)"
		}
	}
	return reason
}

// ping probes ip with pro-bing until the first reply or until ctx is done.
//
// pro-bing's edges: New defaults to Count=-1 and no timeout, so both are set
// from the budget; its own DNS is bypassed with SetIPAddr; it logs to stderr
// unless given a logger; its Run returns nil when nothing answered, and
// ctx.Err() when stopped through ctx. The first reply stops the pinger from
// inside OnRecv, and RunWithContext returns only after its goroutines ended
// and its socket is closed (its reader notices the stop at its next read
// deadline, at most ~100 ms later and usually within one round trip).
func ping(ctx context.Context, ip netip.Addr, privileged bool, replied func(rtt time.Duration)) error {
	deadline, ok := ctx.Deadline()
	if !ok {
		return errors.New("probe without deadline")
	}
	budget := time.Until(deadline)
	if budget <= 0 || ctx.Err() != nil {
		return nil
	}
	pinger := probing.New("")
	pinger.SetLogger(probing.NoopLogger{})
	pinger.SetPrivileged(privileged)
	pinger.SetIPAddr(&net.IPAddr{IP: ip.AsSlice(), Zone: ip.Zone()})
	pinger.Interval = echoInterval
	pinger.Count = int(budget/echoInterval) + 1
	pinger.Timeout = budget
	pinger.RecordRtts = false
	pinger.OnRecv = func(pkt *probing.Packet) {
		pinger.Stop()
		replied(pkt.Rtt)
	}
	err := pinger.RunWithContext(ctx)
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return nil
	}
	return err
}

// dial completes one TCP handshake with address and closes the connection.
func dial(ctx context.Context, address string) error {
	var d net.Dialer
	conn, err := d.DialContext(ctx, "tcp", address)
	if err != nil {
		return err
	}
	conn.Close() // the handshake is the answer; a close error changes nothing
	return nil
}
