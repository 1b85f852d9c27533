package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/pve-op/network-rescue/crontab"
	"github.com/pve-op/network-rescue/internal/cli"
	"github.com/pve-op/network-rescue/internal/config"
	"github.com/pve-op/network-rescue/internal/health"
	"github.com/pve-op/network-rescue/internal/ladder"
	"github.com/pve-op/network-rescue/internal/midnight"
	"github.com/pve-op/network-rescue/internal/nexthop"
	"github.com/pve-op/network-rescue/internal/pause"
	"github.com/pve-op/network-rescue/internal/probe"
)

// status is the router half of the health check (SPEC §7): the checks the
// original README asks a person to run by hand, as one checklist, or with
// -json as one JSON object with the state as data (SPEC §16).
func status(ctx context.Context, cfg config.Config, e env, crontabPath string, out health.Output) error {
	checks, loc := health.Basics(cfg, e.Now(), "set the zone in LuCI (System → Time zone) or write a POSIX rule such as CST-8 to /etc/TZ")
	now := e.Now().In(loc)
	out.Now = now
	checks = append(checks, health.Cron(crontabPath, crontab.Role("router"), "netcheck install --role router, or add the lines above to "+crontabPath+" and run /etc/init.d/cron restart")...)
	sc, st := stateChecks(cfg, now)
	checks = append(checks, sc...)
	if c, ok := health.Volatile(midnight.OpenWrtRelease, cfg.StateDir); !ok {
		checks = append(checks, c)
	}
	// Does netifd know WAN_IFACE? Upstream ifup exits 0 for an unknown one,
	// so only this check shows a wrong name (SPEC §14).
	ifstatus := cfg.IFStatus + " " + cfg.WanIface
	checks = append(checks, health.WANIface(cfg.WanIface, ifstatus, e.Exec(ctx, ifstatus, 5*time.Second)))

	pctx, cancel := context.WithTimeout(ctx, cfg.ProbeTimeout)
	hopc := make(chan health.Check, 1)
	go func() { hopc <- hopCheck(pctx, cfg, e) }() // in parallel, within the same budget
	res := e.Probe(pctx, probe.Config{Targets: cfg.CheckTargets, TCP: cfg.CheckTCP, Timeout: cfg.ProbeTimeout, Privileged: os.Geteuid() == 0})
	checks = append(checks, <-hopc)
	cancel()
	if res.Up {
		checks = append(checks, health.Check{OK: true, Name: "internet", Detail: res.Summary()})
	} else {
		checks = append(checks, health.Check{Name: "internet", Detail: res.Summary(),
			Fix: "the ladder is working on it if cron runs netcheck; see the log below, or check CHECK_TARGETS"})
	}
	var files []string
	for _, f := range append(ladder.StateFiles, pause.File) {
		files = append(files, filepath.Join(cfg.StateDir, f))
	}
	checks = append(checks, health.Log(cfg.LogFile, cfg.StateDir, files, 5)...)
	return out.Finish(e.Stdout, checks, newRouterState(cfg, st, now, res))
}

// routerState is the "state" of `netcheck status -json` (SPEC §16), as
// the state files hold it (a damaged file reads as its safe value and is a
// ✗ among the checks). README "status -json" documents it.
type routerState struct {
	StateDir     string          `json:"state_dir"`
	Count        int             `json:"count"`         // router reboots today (net_rb_count)
	SOSThreshold int             `json:"sos_threshold"` // L4_SOS_THRESHOLD: SOS at this count
	Cooling      *health.Until   `json:"cooling"`       // no L3 before this; null when not cooling
	SOS          health.SOS      `json:"sos"`
	Outage       routerOutage    `json:"outage"`
	Streak       int             `json:"streak"`     // failed runs in a row (RUN_DIR: a reboot forgets it)
	RescuedBy    string          `json:"rescued_by"` // "host" or "vm" once the host acknowledged SOS
	Internet     health.Internet `json:"internet"`   // this status run's probe
	Pause        *health.Until   `json:"pause"`      // maintenance mode (SPEC §16); null when none
}

// routerOutage is net_outage: the outage in progress (since), the last
// ladder step taken in it, and a recovery waiting for RECOVERY_STABLE.
type routerOutage struct {
	Since      *time.Time `json:"since"`       // null: the last run found the internet up
	Seconds    int64      `json:"seconds"`     // now − since; 0 without one
	LastAction string     `json:"last_action"` // L1, L2, L3 or "" (none yet)
	UpSince    *time.Time `json:"up_since"`    // up again since, the count not yet reset
}

func newRouterState(cfg config.Config, st ladder.State, now time.Time, res probe.Result) routerState {
	out := routerState{StateDir: cfg.StateDir, Count: st.Count, SOSThreshold: cfg.L4SOSThreshold,
		Cooling: health.NewUntil(st.Cooling, now), SOS: health.SOS{Raised: st.SOS, Content: strings.TrimRight(st.SOSContent, "\n")},
		Streak: st.Streak, RescuedBy: st.RescuedBy, Internet: health.Internet{Up: res.Up, Detail: res.Summary()}}
	out.Outage.Since, out.Outage.UpSince = health.TimeOrNull(st.Outage.Since), health.TimeOrNull(st.Outage.UpSince)
	if !st.Outage.Since.IsZero() && now.After(st.Outage.Since) {
		out.Outage.Seconds = int64(now.Sub(st.Outage.Since) / time.Second)
	}
	if st.Outage.LastAction != ladder.None {
		out.Outage.LastAction = st.Outage.LastAction.String()
	}
	if st.PauseUntil.After(now) {
		out.Pause = health.NewUntil(st.PauseUntil, now)
	}
	return out
}

func stateChecks(cfg config.Config, now time.Time) ([]health.Check, ladder.State) {
	store := ladder.Store{StateDir: cfg.StateDir, RunDir: cli.RunDir(cfg.RunDir)}
	st, problems := store.Load(now, cfg.CoolingMax)
	var out []health.Check
	for _, p := range problems {
		out = append(out, health.Check{Name: "state file", Detail: p.Error(),
			Fix: "the next netcheck run logs 【严重错误】 and rewrites it with its safe value; or delete the file"})
	}
	out = append(out, health.Pause(st.PauseUntil, now, "netcheck resume"))
	out = append(out, health.Info("reboot count", fmt.Sprintf("%d of %d today (%s/%s); SOS at %d",
		st.Count, cfg.L4SOSThreshold, cfg.StateDir, ladder.CountFile, cfg.L4SOSThreshold)))
	switch {
	case st.Cooling.IsZero():
		out = append(out, health.Info("cooling", "none"))
	case now.Before(st.Cooling):
		out = append(out, health.Info("cooling", fmt.Sprintf("until %s (%v left): no reboot before then",
			st.Cooling.Format(time.DateTime), st.Cooling.Sub(now).Round(time.Second))))
	default:
		out = append(out, health.Info("cooling", "expired: the next run lifts it (【熔断解除】 when it finds the net down)"))
	}
	if st.SOS {
		out = append(out, health.Check{Name: "SOS", Detail: fmt.Sprintf("raised: %q — the router has stopped rescuing itself and waits for the host", st.SOSContent),
			Fix: "the host's hostcheck acts on it; midnight-reset clears it at 00:00; a recovery withdraws it"})
	} else {
		out = append(out, health.Info("SOS", "none"))
	}
	return out, st
}

func plan(cfg config.Config, e env, now time.Time) error {
	ladder.WritePlan(e.Stdout, cfg, now)
	fmt.Fprintln(e.Stdout)
	ladder.WriteISPPlan(e.Stdout, cfg, now, hopNow(cfg, e))
	return nil
}

// hopNow describes the next hop WAN_GATEWAY names now, for plan and status.
func hopNow(cfg config.Config, e env) string {
	if cfg.WanGateway == config.GatewayOff {
		return "not asked"
	}
	hop, err := findHop(cfg, e)
	if err != nil {
		return "none found now (" + err.Error() + ")"
	}
	return hop.String()
}

// hopCheck is status's line on WAN_GATEWAY (SPEC §14): which mode is on,
// what the next hop is, and whether it answers ping now.
func hopCheck(ctx context.Context, cfg config.Config, e env) health.Check {
	const name = "next hop"
	mode := "WAN_GATEWAY=" + cfg.WanGateway
	if cfg.WanGateway == config.GatewayOff {
		return health.Info(name, mode+": not asked; an ISP outage is handled as any outage (router reboots, SOS)")
	}
	hop, err := findHop(cfg, e)
	switch {
	case errors.Is(err, nexthop.ErrNoDefaultRoute):
		return health.Check{Name: name, Detail: mode + ": none: " + err.Error(),
			Fix: "the WAN is down (no default route): the ladder's L1 redials " + cfg.WanIface + "; or set WAN_GATEWAY to the next hop's address"}
	case err != nil:
		return health.Check{Name: name, Detail: mode + ": none found: " + err.Error(),
			Fix: "set WAN_GATEWAY to the next hop's address, or WAN_GATEWAY=off"}
	}
	deadline, _ := ctx.Deadline()
	r := e.Probe(ctx, probe.Config{Targets: []string{hop.Addr.String()}, Timeout: time.Until(deadline), Privileged: os.Geteuid() == 0})
	if r.Up {
		return health.Info(name, fmt.Sprintf("%s: %s answers (rtt %v): while it does in an outage, the outage is the ISP's: no router reboot, no SOS",
			mode, hop, r.RTT.Round(time.Microsecond)))
	}
	return health.Check{Name: name, Detail: fmt.Sprintf("%s: %s does not answer ping: %s", mode, hop, r.Summary()),
		Fix: "an ISP outage is then handled as any outage (router reboots, SOS); if the ISP's gateway drops ping, set WAN_GATEWAY to a nearby address that answers, or off"}
}
