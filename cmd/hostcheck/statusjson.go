package main

import (
	"cmp"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"golang.org/x/sys/unix"

	"github.com/pve-op/network-rescue/internal/cli"
	"github.com/pve-op/network-rescue/internal/config"
	"github.com/pve-op/network-rescue/internal/health"
	"github.com/pve-op/network-rescue/internal/notify"
	"github.com/pve-op/network-rescue/internal/probe"
	"github.com/pve-op/network-rescue/internal/remote"
	"github.com/pve-op/network-rescue/internal/rescue"
	"github.com/pve-op/network-rescue/state"
)

// hostState is the "state" of `hostcheck status -json` (SPEC §16): the
// host's own files, the router as read over SSH, this run's probe, and
// what METRICS_FILE and HEARTBEAT_URL keep. README "status -json"
// documents it.
type hostState struct {
	StateDir        string          `json:"state_dir"`
	Mark            *hostMark       `json:"mark"`        // PVE_MARK; null when there is none
	HostRescue      string          `json:"host_rescue"` // may the host still step in today, in words (as the "reboot mark" check)
	LastRebootDate  string          `json:"last_reboot_date"`
	DownSince       *time.Time      `json:"down_since"` // first run that found the internet down; null while up
	OutageSeconds   int64           `json:"outage_seconds"`
	RouterDownSince *time.Time      `json:"router_down_since"` // first run that could not reach the router over SSH
	VMRestartDate   string          `json:"vm_restart_date"`
	VMStartsToday   int             `json:"vm_starts_today"`
	Router          hostRouter      `json:"router"`
	Internet        health.Internet `json:"internet"`
	LastAction      *hostAction     `json:"last_action"`   // from STATE_DIR/hostcheck.metrics (kept with METRICS_FILE); null when unknown
	Actions         map[string]int  `json:"actions"`       // counts from the same file: host-reboot, vm-restart, vm-start, vm-resume
	Heartbeat       *hostBeat       `json:"heartbeat"`     // null without HEARTBEAT_URL
	Pause           *health.Until   `json:"pause"`         // maintenance mode (SPEC §16); null when none
	HeldReboot      string          `json:"held_reboot"`   // the reason of a host reboot HOST_REBOOT_HOURS holds in this outage; "" none
	HeldSOS         *hostHeldSOS    `json:"held_sos"`      // an SOS seen and not answered yet in this outage; null none
	MisfireDate     string          `json:"misfire_date"`  // the last day a host reboot misfired (【回退】); "" none
	RecordUnread    bool            `json:"record_unread"` // hostcheck.state is there but could not be read: its dates, counts and held SOS are not known (empty, 0, null)
	Notify          *hostNotify     `json:"notify"`        // null without NOTIFY_URL
}

// hostNotify is what waits for NOTIFY_URL (SPEC §9): the queue in
// STATE_DIR and whether its delivery is failing (RUN_DIR). The URL holds
// the secret: the service is named instead.
type hostNotify struct {
	Service     string     `json:"service"`      // bark, telegram …, or "webhook https://HOST"
	Queued      int        `json:"queued"`       // messages waiting in notify.queue
	QueuedSince *time.Time `json:"queued_since"` // the oldest of them; null when none
	Failing     string     `json:"failing"`      // why the last delivery failed (notify.failing); "" when it did not
}

// notifyView reads the queue and the delivery's failure for status; err
// is the queue's, when it could not be read (damaged: the next run clears
// it).
func (h *host) notifyView() (hostNotify, error) {
	v := hostNotify{Service: notify.Service(h.cfg.NotifyURL)}
	msgs, err := h.queue().Load()
	v.Queued = len(msgs)
	var oldest time.Time
	for _, m := range msgs {
		if oldest.IsZero() || m.Time.Before(oldest) {
			oldest = m.Time
		}
	}
	v.QueuedSince = health.TimeOrNull(oldest)
	if b, ferr := state.ReadBounded(filepath.Join(cli.RunDir(h.cfg.RunDir), NotifyFailingFile), 4096); ferr == nil {
		// Written by a run with the URL taken out; still, what is shown
		// never holds a part of the URL but its host.
		v.Failing = shown(notify.Redact(strings.TrimSpace(string(b)), h.cfg.NotifyURL), maxShownErr)
	}
	return v, err
}

// notifyCheck is status's notifications line, only with NOTIFY_URL: a
// queue waiting is no fault (the internet may be down), a delivery that
// fails while messages wait is, and so is a queue not read.
func notifyCheck(v hostNotify, err error, now time.Time) health.Check {
	const name = "notifications"
	if ce := (*state.CorruptError)(nil); errors.As(err, &ce) {
		return health.Check{Name: name, Detail: v.Service + ": " + err.Error(),
			Fix: "nothing to do: the next hostcheck run clears it (the messages in it are lost)"}
	}
	if err != nil {
		return health.Check{Name: name, Detail: v.Service + ": " + err.Error(), Fix: "check the disk and the permissions of STATE_DIR"}
	}
	queued := "none queued"
	if v.Queued > 0 {
		queued = fmt.Sprintf("%d queued since %s", v.Queued, v.QueuedSince.In(now.Location()).Format(time.DateTime))
	}
	switch {
	case v.Failing != "" && v.Queued > 0:
		return health.Check{Name: name, Detail: v.Service + ": " + queued + "; delivery failing: " + v.Failing,
			Fix: "check NOTIFY_URL (README: Notifications) and that this host reaches the service; every hostcheck run that finds the internet up tries again"}
	case v.Failing != "":
		return health.Info(name, v.Service+": "+queued+" (the last delivery failed: "+v.Failing+")")
	case v.Queued > 0:
		return health.Info(name, v.Service+": "+queued+", sent by the first hostcheck run that finds the internet up")
	}
	return health.Info(name, v.Service+": "+queued)
}

// hostHeldSOS is an SOS the host saw and took no step for: answered
// once midnight-reset cleared it (the router's count reset), while the
// outage lasts.
type hostHeldSOS struct {
	SOS   string `json:"sos"`
	Count int    `json:"count"` // the router's reboot count beside it
	Seen  string `json:"seen"`  // YYYY-MM-DD, the last day it was seen
}

type hostMark struct {
	Date   string     `json:"date"`
	Time   *time.Time `json:"time"` // null for a date-less mark (the original scripts' touch)
	Reason string     `json:"reason"`
	BootID string     `json:"boot_id"`
}

// hostRouter is the router's state files as this status run read them
// over SSH; router text is escaped as in the log (SPEC §15).
type hostRouter struct {
	Read      bool          `json:"read"`       // SSH answered
	Error     string        `json:"error"`      // why not, when it did not
	Count     *int          `json:"count"`      // net_rb_count (0 when absent); null when unread or damaged
	Cooling   *health.Until `json:"cooling"`    // net_cooling_ts; null when none or unread
	SOS       health.SOS    `json:"sos"`        // SOS_SYSTEM
	RescuedBy string        `json:"rescued_by"` // net_rescued_by: "host" or "vm" after the host acknowledged SOS
}

type hostAction struct {
	Action string    `json:"action"` // host-reboot, vm-restart, vm-start or vm-resume
	Time   time.Time `json:"time"`
}

type hostBeat struct {
	Host         string     `json:"host"` // HEARTBEAT_URL's host (its path is the secret)
	EverySeconds int64      `json:"every_seconds"`
	LastSent     *time.Time `json:"last_sent"`    // the minute of the last request since boot (RUN_DIR); null: none
	LastFailed   bool       `json:"last_failed"`  // that request failed
	FailPending  bool       `json:"fail_pending"` // the next request is the failure signal
}

// statusState is status -json's state; up is the internet as the family
// sees it (the probe, and DNS_CHECK through the router when asked).
func (h *host) statusState(st rescue.State, now time.Time, res probe.Result, up bool, rs remote.RouterState, routerErr error) hostState {
	js := hostState{StateDir: h.cfg.StateDir, LastRebootDate: st.LastReboot, DownSince: health.TimeOrNull(st.DownSince),
		RouterDownSince: health.TimeOrNull(st.RouterDownSince), VMRestartDate: st.VMRestartDate,
		Internet: health.Internet{Up: up, Detail: res.Summary()}, HeldReboot: st.HeldReboot,
		MisfireDate: st.MisfireDate}
	if h := st.HeldSOS; h.SOS != "" {
		js.HeldSOS = &hostHeldSOS{SOS: h.SOS, Count: h.Count, Seen: h.Day}
	}
	uptime, _ := h.e.Uptime() // as status's checklist reads it
	_, js.HostRescue = rescue.HostRescueOutlook(st, now, uptime)
	if st.RecordUnread {
		// Load's stand-ins (today spent, one start left) are no dates
		// the record holds.
		js.RecordUnread, js.LastRebootDate, js.VMRestartDate = true, "", ""
		st.VMStartDate = ""
	}
	if st.PauseUntil.After(now) {
		js.Pause = health.NewUntil(st.PauseUntil, now)
	}
	if st.HasMark {
		js.Mark = &hostMark{Date: st.Mark.Date, Reason: st.Mark.Reason, BootID: st.Mark.BootID}
		if st.Mark.Dated && !st.Mark.Time.IsZero() {
			js.Mark.Time = health.TimeOrNull(st.Mark.Time)
		}
	}
	if res.Up && !up {
		// The IP targets answer, the router's DNS does not: down for the
		// family, as in outage_seconds and netrescue_internet_up.
		js.Internet.Detail += "; DNS via the router failed"
	}
	if !up && !st.DownSince.IsZero() && now.After(st.DownSince) {
		js.OutageSeconds = int64(now.Sub(st.DownSince) / time.Second)
	}
	if st.VMStartDate == rescue.Today(now) {
		js.VMStartsToday = st.VMStarts
	}
	js.Router = routerJSON(rs, routerErr, now)
	if t, ok, err := loadTally(h.cfg.StateDir); ok && err == nil {
		js.Actions = t.Count
		if name, at := t.latest(); name != "" {
			js.LastAction = &hostAction{Action: name, Time: at.In(now.Location())}
		}
	}
	if h.cfg.HeartbeatURL != "" {
		b, _ := loadBeatOwed(cli.RunDir(h.cfg.RunDir), h.cfg.StateDir)
		js.Heartbeat = &hostBeat{Host: beatHost(h.cfg.HeartbeatURL), EverySeconds: int64(h.cfg.HeartbeatEvery / time.Second),
			LastFailed: b.Failing, FailPending: b.FailPending}
		if !b.Last.IsZero() {
			js.Heartbeat.LastSent = health.TimeOrNull(b.Last.In(now.Location()))
		}
	}
	return js
}

func routerJSON(rs remote.RouterState, err error, now time.Time) hostRouter {
	if err != nil {
		return hostRouter{Error: shown(err.Error(), maxShownErr)}
	}
	r := routerObs(rs)
	out := hostRouter{Read: true, SOS: health.SOS{Raised: rs.SOS, Content: r.SOSContent}}
	if rs.HasRescuedBy {
		out.RescuedBy = shown(strings.TrimSpace(rs.RescuedBy), maxShownCount)
	}
	switch n, perr := state.ParseCount("net_rb_count", rs.Count); {
	case !rs.HasCount:
		out.Count = new(int)
	case perr == nil && rs.CountDamaged == "":
		out.Count = &n
	}
	if rs.HasCooling && rs.CoolingDamaged == "" {
		if t, perr := state.ParseTime("net_cooling_ts", rs.Cooling); perr == nil {
			out.Cooling = health.NewUntil(t.In(now.Location()), now)
		}
	}
	return out
}

// publishChecks are the status lines of METRICS_FILE and HEARTBEAT_URL,
// only when they are set.
func (h *host) publishChecks(now time.Time) []health.Check {
	var out []health.Check
	if p := h.cfg.MetricsFile; p != "" {
		dir := filepath.Dir(p)
		// What the last run that tried found (logged 【指标】 once): the
		// directory may take files while the file cannot be written (a
		// directory or an immutable file in its place, a full disk).
		failed, ferr := state.ReadBounded(filepath.Join(cli.RunDir(h.cfg.RunDir), MetricsFailingFile), 4096)
		switch fi, err := os.Stat(p); {
		case ferr == nil:
			out = append(out, health.Check{Name: "metrics file", Detail: fmt.Sprintf("%s: the runs cannot write it: %s", p, shown(strings.TrimSpace(string(failed)), maxShownErr)),
				Fix: "see the log's 【指标】METRICS_FILE 无法写入 line; make " + p + " a file hostcheck may replace, or set METRICS_FILE"})
		case unix.Access(dir, unix.W_OK) != nil:
			out = append(out, health.Check{Name: "metrics file", Detail: fmt.Sprintf("%s: directory %s missing or not writable", p, dir),
				Fix: "point METRICS_FILE into node_exporter's --collector.textfile.directory (Debian: /var/lib/prometheus/node-exporter), or create " + dir})
		case errors.Is(err, os.ErrNotExist):
			out = append(out, health.Info("metrics file", p+": not written yet (the next hostcheck run writes it)"))
		case err != nil:
			out = append(out, health.Check{Name: "metrics file", Detail: err.Error(), Fix: "check the permissions of " + p})
		default:
			out = append(out, health.Info("metrics file", fmt.Sprintf("%s, written %s (only when a value changes)", p, fi.ModTime().In(now.Location()).Format(time.DateTime))))
		}
	}
	if h.cfg.HeartbeatURL != "" {
		host := beatHost(h.cfg.HeartbeatURL)
		b, err := loadBeat(cli.RunDir(h.cfg.RunDir))
		switch {
		case err != nil:
			out = append(out, health.Check{Name: "heartbeat", Detail: err.Error(), Fix: "delete the file; the next hostcheck run rewrites it"})
		case b.Failing:
			out = append(out, health.Check{Name: "heartbeat", Detail: fmt.Sprintf("%s: the last request (%s) failed; see the log's 【心跳】 line", host, b.Last.In(now.Location()).Format(time.DateTime)),
				Fix: "check HEARTBEAT_URL by hand: curl -fsS -m 10 \"$URL\" (from " + cmp.Or(h.cfg.Path, config.DefaultPath) + ")"})
		case b.Last.IsZero():
			out = append(out, health.Info("heartbeat", fmt.Sprintf("%s every %s: none sent since boot", host, h.cfg.HeartbeatEvery)))
		default:
			out = append(out, health.Info("heartbeat", fmt.Sprintf("%s every %s: last sent %s", host, h.cfg.HeartbeatEvery, b.Last.In(now.Location()).Format(time.DateTime))))
		}
	}
	return out
}
