package main

// METRICS_FILE (SPEC §16): the host's view as a Prometheus text file for
// node_exporter's textfile collector. The file is rewritten atomically
// (state.WriteFile: a temp file in the same directory, renamed over it, so
// node_exporter never reads half a file; the temp's name does not end in
// .prom, so the collector never reads the temp either) and only when its
// content changes: a healthy run, whose internet_up is 1 and outage 0 as
// before, writes nothing.
//
// The counters and last-action times are kept by hostcheck itself, in
// STATE_DIR/hostcheck.metrics (through state/), from the first action
// taken after METRICS_FILE was set: no other file records them, and the
// log rotates.

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"path/filepath"
	"strconv"
	"time"

	"github.com/pve-op/network-rescue/internal/cli"
	"github.com/pve-op/network-rescue/internal/remote"
	"github.com/pve-op/network-rescue/internal/rescue"
	"github.com/pve-op/network-rescue/state"
)

// ActionsFile in STATE_DIR counts the host's actions for METRICS_FILE.
const ActionsFile = "hostcheck.metrics"

// maxMetricsBytes bounds the read of METRICS_FILE before it is compared.
const maxMetricsBytes = 64 << 10

// metricActions are the host's actions in the order the file lists them,
// as their label values (rescue.Action.String).
var metricActions = []rescue.Action{rescue.HostReboot, rescue.VMRestart, rescue.VMStart, rescue.VMResume}

// actionTally is what ActionsFile holds: per action (its String), how many
// times hostcheck took it and when it last did.
type actionTally struct {
	Count map[string]int
	Last  map[string]time.Time
}

// loadTally reads ActionsFile; a missing file is no action yet. A damaged
// one is returned with the counts read as 0 and a *state.CorruptError.
func loadTally(dir string) (actionTally, bool, error) {
	t := actionTally{Count: map[string]int{}, Last: map[string]time.Time{}}
	p := filepath.Join(dir, ActionsFile)
	rec, ok, err := state.ReadRecord(p)
	if err != nil || !ok {
		return t, ok, err
	}
	for _, a := range metricActions {
		name := a.String()
		if v, present := rec[name+"_total"]; present {
			n, err := state.ParseCount(p, v)
			if err != nil {
				return actionTally{Count: map[string]int{}, Last: map[string]time.Time{}}, true, err
			}
			t.Count[name] = n
		}
		if last := state.RecordTime(rec[name+"_last"], time.UTC); !last.IsZero() {
			t.Last[name] = last
		}
	}
	return t, true, nil
}

// with is the tally after action a at now.
func (t actionTally) with(a rescue.Action, now time.Time) actionTally {
	out := actionTally{Count: map[string]int{}, Last: map[string]time.Time{}}
	for k, v := range t.Count {
		out.Count[k] = v
	}
	for k, v := range t.Last {
		out.Last[k] = v
	}
	out.Count[a.String()]++
	out.Last[a.String()] = now
	return out
}

func (t actionTally) save(dir string) error {
	rec := state.Record{}
	for _, a := range metricActions {
		name := a.String()
		rec[name+"_total"] = strconv.Itoa(t.Count[name])
		rec[name+"_last"] = state.RecordTimeString(t.Last[name])
	}
	return state.WriteRecord(filepath.Join(dir, ActionsFile), rec)
}

// latest is the most recent action in the tally, "" when none.
func (t actionTally) latest() (string, time.Time) {
	var name string
	var at time.Time
	for _, a := range metricActions {
		if l := t.Last[a.String()]; l.After(at) {
			name, at = a.String(), l
		}
	}
	return name, at
}

// metricsView is what one run knows that the file reports.
type metricsView struct {
	NetUp bool
	// Outage is how long the internet has been down (down_since to now);
	// HasOutage is false while it is up, or down since a time not recorded.
	Outage    time.Duration
	HasOutage bool
	// RouterRead is true when this run read the router over SSH; the
	// count is then RouterCount (net_rb_count, 0 when absent), unless
	// RouterCountBad (a damaged file), and SOS its SOS_SYSTEM.
	RouterRead     bool
	RouterCount    int
	RouterCountBad bool
	RouterSOS      bool
	Tally          actionTally
}

// renderMetrics is the file's content: the Prometheus text exposition
// format (version 0.0.4) with HELP and TYPE for each family. It depends
// only on v, so equal views give equal bytes.
func renderMetrics(v metricsView) []byte {
	var b bytes.Buffer
	family := func(name, typ, help string) {
		fmt.Fprintf(&b, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, typ)
	}
	bit := func(ok bool) int {
		if ok {
			return 1
		}
		return 0
	}
	family("netrescue_internet_up", "gauge", "1 if the internet was up at the host's last probe: a reply from CHECK_TARGETS and, with DNS_CHECK, a name resolved through the router; else 0.")
	fmt.Fprintf(&b, "netrescue_internet_up %d\n", bit(v.NetUp))
	if v.NetUp || v.HasOutage {
		family("netrescue_outage_seconds", "gauge", "Seconds the internet has been down as of the host's last run (since down_since); 0 while up.")
		secs := int64(0)
		if !v.NetUp {
			secs = int64(v.Outage / time.Second)
		}
		fmt.Fprintf(&b, "netrescue_outage_seconds %d\n", secs)
	}
	if v.RouterRead {
		if !v.RouterCountBad {
			family("netrescue_router_reboots_today", "gauge", "The router's reboot count today (net_rb_count), as the host's last run read it over SSH.")
			fmt.Fprintf(&b, "netrescue_router_reboots_today %d\n", v.RouterCount)
		}
		family("netrescue_router_sos", "gauge", "1 if the router's SOS_SYSTEM was raised when the host's last run read it over SSH, else 0.")
		fmt.Fprintf(&b, "netrescue_router_sos %d\n", bit(v.RouterSOS))
	}
	family("netrescue_host_reboots_total", "counter", "Host reboots hostcheck started, since METRICS_FILE was set (kept in STATE_DIR/"+ActionsFile+").")
	fmt.Fprintf(&b, "netrescue_host_reboots_total %d\n", v.Tally.Count[rescue.HostReboot.String()])
	family("netrescue_vm_actions_total", "counter", "Router VM actions hostcheck started, by action, since METRICS_FILE was set (kept in STATE_DIR/"+ActionsFile+").")
	for _, a := range metricActions[1:] {
		fmt.Fprintf(&b, "netrescue_vm_actions_total{action=%q} %d\n", a.String(), v.Tally.Count[a.String()])
	}
	var taken []rescue.Action
	for _, a := range metricActions {
		if !v.Tally.Last[a.String()].IsZero() {
			taken = append(taken, a)
		}
	}
	if len(taken) > 0 {
		family("netrescue_last_action_timestamp_seconds", "gauge", "Unix time hostcheck last started each action (taken at least once since METRICS_FILE was set).")
		for _, a := range taken {
			fmt.Fprintf(&b, "netrescue_last_action_timestamp_seconds{action=%q} %d\n", a.String(), v.Tally.Last[a.String()].Unix())
		}
	}
	return b.Bytes()
}

// writeMetrics replaces path with content unless it already holds exactly
// that; changed reports whether it wrote.
func writeMetrics(path string, content []byte) (changed bool, err error) {
	old, err := state.ReadBounded(path, maxMetricsBytes)
	var ce *state.CorruptError
	switch {
	case err == nil && bytes.Equal(old, content):
		return false, nil
	case err == nil, errors.Is(err, fs.ErrNotExist), errors.As(err, &ce) && ce.Kind != "directory":
		// Missing, different, or damaged (a FIFO, a link, too large): replaced.
	default:
		return false, err
	}
	if err := state.WriteFile(path, content, 0o644); err != nil {
		return false, err
	}
	return true, nil
}

// view builds this run's metricsView from the decision's state and what
// was observed: down_since from the state the run saved, the router from
// the SSH read when there was one.
func (h *host) metricsView(next rescue.State, obs rescue.Obs, rs remote.RouterState, tally actionTally) metricsView {
	v := metricsView{NetUp: obs.Up(), Tally: tally}
	if !v.NetUp && !next.DownSince.IsZero() {
		// A clock set back since (NTP) makes it 0, as status -json's
		// outage_seconds: recorded, it is not absent.
		v.Outage, v.HasOutage = max(obs.Now.Sub(next.DownSince), 0), true
	}
	if obs.RouterKnown && obs.Router.Err == "" {
		v.RouterRead, v.RouterSOS = true, rs.SOS
		if rs.HasCount {
			n, err := state.ParseCount("net_rb_count", rs.Count)
			v.RouterCount, v.RouterCountBad = n, err != nil || rs.CountDamaged != ""
		}
	}
	return v
}

// tally loads the action counts, rewriting a damaged file with the safe
// values just read so that the damage is logged once.
func (h *host) tally() actionTally {
	t, _, err := loadTally(h.cfg.StateDir)
	if err != nil {
		h.logProblem(err)
		if werr := t.save(h.cfg.StateDir); werr != nil {
			h.log.Error("【严重错误】状态文件无法重写", "file", filepath.Join(h.cfg.StateDir, ActionsFile), "err", werr)
		}
	}
	return t
}

// recordAction is called once the decision to act is saved and before the
// action runs: the count of the action is persisted, and METRICS_FILE
// says so, before anything can interrupt it (a host reboot).
func (h *host) recordAction(step rescue.Step, obs rescue.Obs, rs remote.RouterState) {
	if h.cfg.MetricsFile == "" || h.cfg.DryRun || step.Action == rescue.None {
		return
	}
	before := h.tally()
	t := before.with(step.Action, obs.Now)
	if err := t.save(h.cfg.StateDir); err != nil {
		h.log.Error("【严重错误】动作计数无法保存", "file", filepath.Join(h.cfg.StateDir, ActionsFile), "err", err)
	} else {
		h.uncounted = &before
	}
	if obs.NetKnown { // not in a drill, whose outage is pretended: the next run writes it
		h.writeMetricsFile(h.metricsView(step.Next, obs, rs, t))
	}
}

// uncount takes back the count of this run's action (recordAction): a
// host reboot cancelled before REBOOT_CMD ran is no reboot started. The
// run's METRICS_FILE write (publish) then reads the tally as it was.
func (h *host) uncount() {
	if h.uncounted == nil {
		return
	}
	if err := h.uncounted.save(h.cfg.StateDir); err != nil {
		h.log.Error("【严重错误】动作计数无法保存", "file", filepath.Join(h.cfg.StateDir, ActionsFile), "err", err)
	}
	h.uncounted = nil
}

// MetricsFailingFile in RUN_DIR records the kind of the last METRICS_FILE
// failure, logged once: a healthy run logs nothing (SPEC §8), so the same
// failure is not logged again until another kind comes or a write works.
const MetricsFailingFile = "metrics.failing"

func (h *host) writeMetricsFile(v metricsView) {
	changed, err := writeMetrics(h.cfg.MetricsFile, renderMetrics(v))
	failing := filepath.Join(cli.RunDir(h.cfg.RunDir), MetricsFailingFile)
	said, rerr := state.ReadBounded(failing, 4096)
	if err != nil {
		kind := failureKind(err.Error())
		if rerr == nil && string(said) == kind+"\n" {
			h.log.Debug("METRICS_FILE still unwritable", "file", h.cfg.MetricsFile, "err", err)
			return
		}
		h.log.Warn("【指标】METRICS_FILE 无法写入", "file", h.cfg.MetricsFile, "err", err)
		if werr := state.WriteFile(failing, []byte(kind+"\n"), 0o600); werr != nil {
			h.log.Debug("metrics failure not recorded", "file", failing, "err", werr)
		}
		return
	}
	if rerr == nil && changed {
		// Only a write that happened proves it works: an unchanged file
		// is not written at all.
		h.log.Info("【指标】METRICS_FILE 已恢复写入", "file", h.cfg.MetricsFile)
		_ = state.Remove(failing)
	}
	if changed {
		h.log.Debug("metrics written", "file", h.cfg.MetricsFile)
	}
}

// publish is what a run tells the owner's other tools after its step
// (SPEC §16): METRICS_FILE and the HEARTBEAT_URL ping; nothing when
// neither is set, or in a dry run. A run that did not probe (the day's
// rescue spent) probes once, and only when one of them needs to know.
func (h *host) publish(ctx context.Context, step rescue.Step, obs rescue.Obs, rs remote.RouterState) {
	if h.cfg.DryRun || (h.cfg.MetricsFile == "" && h.cfg.HeartbeatURL == "") {
		return
	}
	netUp := func() bool {
		if !obs.NetKnown && ctx.Err() == nil {
			h.observeNet(ctx, &obs) // with DNS_CHECK, as a run that decides
		}
		return obs.Up() // a DNS fault is no "internet up" for the dead man's switch
	}
	if h.cfg.MetricsFile != "" {
		if netUp(); obs.NetKnown {
			h.writeMetricsFile(h.metricsView(step.Next, obs, rs, h.tally()))
		}
	}
	if h.cfg.HeartbeatURL != "" {
		h.heartbeat(ctx, webClient(), obs.Now, netUp)
	}
}
