package main

import (
	"context"
	"errors"
	"log/slog"
	"net/netip"
	"os"
	"time"

	"github.com/pve-op/network-rescue/internal/config"
	"github.com/pve-op/network-rescue/internal/ladder"
	"github.com/pve-op/network-rescue/internal/nexthop"
	"github.com/pve-op/network-rescue/internal/probe"
)

// hopDelay is how long a run waits for the targets before it also asks the
// next hop (SPEC §14): a healthy run, answered within it, sends one echo
// per target and nothing else; a down run asks the next hop in parallel
// with the targets for the rest of the same PROBE_TIMEOUT. 300 ms is the
// probe's own spacing of echo requests: a run not answered by then would
// send a second round of echoes anyway.
func hopDelay(probeTimeout time.Duration) time.Duration {
	return min(300*time.Millisecond, probeTimeout/3)
}

// errNoLookup is the next hop of an environment that cannot find one.
var errNoLookup = errors.New("no next-hop lookup in this environment")

// findHop resolves WAN_GATEWAY to the next hop: the configured address, or
// the kernel's for auto. off is errNoLookup's caller's business: never asked.
func findHop(cfg config.Config, e env) (nexthop.Hop, error) {
	if cfg.WanGateway != config.GatewayAuto {
		ip, err := netip.ParseAddr(cfg.WanGateway)
		if err != nil {
			return nexthop.Hop{}, err
		}
		return nexthop.Hop{Addr: ip, How: nexthop.HowConfig}, nil
	}
	if e.NextHop == nil {
		return nexthop.Hop{}, errNoLookup
	}
	return e.NextHop()
}

// hopResult is what a run learnt of the next hop.
type hopResult struct {
	hop   nexthop.Hop
	err   error // finding it; nil when not asked or found
	asked bool
	res   probe.Result
}

// observation is the result as the ladder takes it.
func (h hopResult) observation() (ladder.Hop, string) {
	switch {
	case !h.asked:
		return ladder.HopUnknown, ""
	case h.res.Up:
		return ladder.HopAnswers, h.hop.Addr.String()
	}
	return ladder.HopSilent, h.hop.Addr.String()
}

// hopProbe asks the next hop in the background of the targets' probe.
type hopProbe struct {
	stop chan struct{} // the targets answered: do not ask
	now  chan struct{} // the targets did not answer: ask at once
	done chan hopResult
}

// startHop starts asking the next hop within ctx's deadline (the run's
// PROBE_TIMEOUT), after hopDelay, unless WAN_GATEWAY=off; nil when off.
func startHop(ctx context.Context, cfg config.Config, e env) *hopProbe {
	if cfg.WanGateway == config.GatewayOff {
		return nil
	}
	p := &hopProbe{stop: make(chan struct{}), now: make(chan struct{}), done: make(chan hopResult, 1)}
	go func() {
		t := time.NewTimer(hopDelay(cfg.ProbeTimeout))
		defer t.Stop()
		select {
		case <-p.stop:
			p.done <- hopResult{}
			return
		case <-ctx.Done():
			p.done <- hopResult{}
			return
		case <-t.C:
		case <-p.now:
		}
		select {
		case <-p.stop: // the targets answered as the timer fired
			p.done <- hopResult{}
			return
		default:
		}
		hop, err := findHop(cfg, e)
		if err != nil {
			p.done <- hopResult{err: err}
			return
		}
		deadline, _ := ctx.Deadline()
		res := e.Probe(ctx, probe.Config{Targets: []string{hop.Addr.String()}, Timeout: time.Until(deadline),
			Privileged: os.Geteuid() == 0})
		p.done <- hopResult{hop: hop, asked: true, res: res}
	}()
	return p
}

// wait asks the next hop now if the timer has not yet fired (the targets
// failed before hopDelay, e.g. "network is unreachable") and returns the
// result once it answered or the budget ended.
func (p *hopProbe) wait() hopResult {
	if p == nil {
		return hopResult{}
	}
	close(p.now)
	return <-p.done
}

// abandon stops a probe that has not started; cancel (the probe's context)
// ends one under way. It waits for the goroutine, which is then quick.
func (p *hopProbe) abandon(cancel context.CancelFunc) {
	if p == nil {
		cancel()
		return
	}
	close(p.stop)
	cancel()
	<-p.done
}

// logHop says, in a verbose run, what the next hop did or why it was not
// asked; the ladder's own lines carry what it decided from it.
func logHop(log *slog.Logger, cfg config.Config, h hopResult) {
	switch {
	case cfg.WanGateway == config.GatewayOff:
		log.Debug("next hop not asked", "wan_gateway", "off")
	case h.err != nil:
		log.Debug("next hop unknown", "wan_gateway", cfg.WanGateway, "err", h.err)
	case h.asked:
		log.Debug("next hop", "hop", h.hop.String(), "answers", h.res.Up, "summary", h.res.Summary())
	}
}
