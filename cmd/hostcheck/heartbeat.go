package main

// HEARTBEAT_URL (SPEC §16): a GET to a dead man's switch (healthchecks.io,
// an Uptime Kuma push monitor) while the internet is up, at most once per
// HEARTBEAT_EVERY, so that the owner hears when the whole house is
// offline: then the pings stop and the service raises the alarm. The time
// of the last request lives in RUN_DIR (tmpfs): a healthy run writes
// nothing persistent, and a reboot only makes the next ping come sooner.
//
// A rescue command that returned [错误] in a run makes the next ping a
// failure signal (/fail for healthchecks.io, status=down for Uptime Kuma).
// The host acts only while the internet is down, when no ping can leave,
// so that signal is owed until the first run that finds the internet up
// and a ping due. It is kept in STATE_DIR (FailPendingFile), since the
// step that follows a failed one is often the host's reboot, which
// empties RUN_DIR: the owner never heard that the cold restart failed.
// That file exists only while a signal is owed, so a healthy run still
// writes nothing persistent; RUN_DIR keeps a copy for a STATE_DIR that
// cannot be written.

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/pve-op/network-rescue/internal/cli"
	"github.com/pve-op/network-rescue/internal/httpc"
	"github.com/pve-op/network-rescue/state"
)

// HeartbeatFile in RUN_DIR remembers the last heartbeat request.
const HeartbeatFile = "heartbeat"

// FailPendingFile in STATE_DIR exists while a failure signal is owed:
// written by the run whose rescue step failed, removed once the signal
// went out. Its presence is what counts (state.ReadFlag).
const FailPendingFile = "heartbeat.fail"

// beat is what HeartbeatFile holds.
type beat struct {
	// Last is the minute of the last request; zero: none since boot.
	Last time.Time
	// FailPending: a rescue command returned [错误] and no failure signal
	// has gone out since (RUN_DIR's copy of FailPendingFile).
	FailPending bool
	// Failing: the last request failed (logged once, until one works).
	Failing bool
}

func loadBeat(runDir string) (beat, error) {
	rec, ok, err := state.ReadRecord(filepath.Join(runDir, HeartbeatFile))
	if err != nil || !ok {
		return beat{}, err
	}
	return beat{Last: state.RecordTime(rec["last"], time.UTC), FailPending: rec["fail_pending"] == "1", Failing: rec["failing"] == "1"}, nil
}

func (b beat) save(runDir string) error {
	bit := map[bool]string{false: "0", true: "1"}
	return state.WriteRecord(filepath.Join(runDir, HeartbeatFile), state.Record{
		"last": state.RecordTimeString(b.Last), "fail_pending": bit[b.FailPending], "failing": bit[b.Failing]})
}

// loadBeatOwed is the record with the failure signal STATE_DIR says is
// owed, as status shows it; damage of either file is returned, read as
// its safe value (FailPendingFile damaged is still a signal owed).
func loadBeatOwed(runDir, stateDir string) (beat, error) {
	b, err := loadBeat(runDir)
	if err != nil {
		b = beat{}
	}
	flag, ferr := state.ReadFlag(filepath.Join(stateDir, FailPendingFile))
	b.FailPending = b.FailPending || flag.Present
	return b, errors.Join(err, ferr)
}

func (b beat) same(o beat) bool {
	return b.Last.Equal(o.Last) && b.FailPending == o.FailPending && b.Failing == o.Failing
}

// heartbeatDue reports whether a request may go at now, the last having
// gone at last. Time is counted in the whole minutes cron starts hostcheck
// on, so that a run every 5 minutes pings every run with HEARTBEAT_EVERY=5m
// although each run starts a few milliseconds later or earlier than the
// one before; two requests are never less than every apart in those
// minutes. A last request in the future is a clock stepped back: due.
func heartbeatDue(last, now time.Time, every time.Duration) bool {
	if last.IsZero() || now.Before(last) {
		return true
	}
	return now.Truncate(time.Minute).Sub(last.Truncate(time.Minute)) >= every
}

// planBeat is one run's heartbeat: whether a request goes (send), whether
// it is the failure signal (fail), and the record as it stands before the
// request (next). Only a run that found the internet up sends.
func planBeat(b beat, now time.Time, every time.Duration, netUp, stepFailed bool) (send, fail bool, next beat) {
	next = b
	next.FailPending = b.FailPending || stepFailed
	if !netUp || !heartbeatDue(b.Last, now, every) {
		return false, false, next
	}
	return true, next.FailPending, next
}

// sent is the record after a request made at now; err is its outcome. A
// failure signal that did not get through stays pending.
func (b beat) sent(now time.Time, fail bool, err error) beat {
	b.Last, b.Failing = now.Truncate(time.Minute), err != nil
	if fail && err == nil {
		b.FailPending = false
	}
	return b
}

// pingURL is the URL requested: raw itself, or when fail its failure
// signal. healthchecks.io takes /fail after the ping URL, on hc-ping.com
// and on a self-hosted instance's /ping/ path (healthchecks.io/docs/
// signaling_failures); an Uptime Kuma push URL (/api/push/TOKEN) takes
// status=down, every other status meaning up
// (louislam/uptime-kuma server/routers/api-router.js). Any other service
// gets the plain ping: it has no failure signal we know.
func pingURL(raw string, fail bool) string {
	u, err := url.Parse(raw)
	if !fail || err != nil {
		return raw
	}
	switch host := strings.ToLower(u.Hostname()); {
	case host == "hc-ping.com" || strings.HasSuffix(host, ".hc-ping.com") || strings.HasPrefix(u.Path, "/ping/"):
		u.Path = strings.TrimSuffix(u.Path, "/") + "/fail"
		if u.RawPath != "" {
			u.RawPath = strings.TrimSuffix(u.RawPath, "/") + "/fail"
		}
	case strings.HasPrefix(u.Path, "/api/push/"):
		q := u.Query()
		q.Set("status", "down")
		q.Set("msg", "netrescue: a rescue step failed")
		u.RawQuery = q.Encode()
	default:
		return raw
	}
	return u.String()
}

// beatHost names the heartbeat's service in the log: the host only, as
// for NOTIFY_URL, since the path is the check's secret.
func beatHost(raw string) string {
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" {
		return "invalid URL"
	}
	return u.Host
}

// webClient sends notifications and heartbeats (internal/httpc: no
// net/http in hostcheck, SPEC §12).
func webClient() httpc.Client {
	return httpc.Client{UserAgent: cli.VersionString("netrescue-hostcheck")}
}

// sendBeat makes the request within ctx. The error never holds the URL.
func sendBeat(ctx context.Context, client httpc.Doer, raw string) error {
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") {
		return errors.New("HEARTBEAT_URL is not a valid http(s) URL")
	}
	resp, err := client.Do(ctx, httpc.Request{Method: "GET", URL: u})
	if err != nil {
		return err
	}
	if !resp.OK() {
		return fmt.Errorf("HTTP %s", resp.Status)
	}
	return nil
}

// heartbeat is the run's heartbeat (SPEC §16), after its step: netUp is
// this run's probe, or nil when the run did not probe (the day's rescue
// spent), in which case it probes only if a request is due.
func (h *host) heartbeat(ctx context.Context, client httpc.Doer, now time.Time, netUp func() bool) {
	b, err := loadBeat(cli.RunDir(h.cfg.RunDir))
	if err != nil {
		// Damaged (a FIFO, garbage): start afresh; the save below replaces it.
		h.logProblem(err)
		b = beat{}
	}
	owedPath := filepath.Join(h.cfg.StateDir, FailPendingFile)
	flag, ferr := state.ReadFlag(owedPath)
	if ferr != nil {
		// Damaged (a FIFO, a directory): still a signal owed, said once.
		// Cleared, a directory moved aside with what it holds: a rename
		// over a non-empty one fails, and read as owed at every run it
		// turned every heartbeat into /fail.
		h.logProblem(ferr)
		if _, err := state.ClearDamaged(owedPath, owedPath+".damaged-"+now.Format("20060102-150405")); err != nil {
			h.log.Warn("【心跳】STATE_DIR 中损坏的待报告标记无法移除", "file", owedPath, "err", err)
		}
	}
	cur := b
	cur.FailPending = b.FailPending || flag.Present
	up := false
	if heartbeatDue(cur.Last, now, h.cfg.HeartbeatEvery) && ctx.Err() == nil {
		up = netUp()
	}
	send, fail, next := planBeat(cur, now, h.cfg.HeartbeatEvery, up, h.failed)
	if send {
		u := pingURL(h.cfg.HeartbeatURL, fail)
		cctx, cancel := context.WithTimeout(ctx, h.cfg.ProbeTimeout)
		err := sendBeat(cctx, client, u)
		cancel()
		next = next.sent(now, fail, err)
		switch {
		case err != nil && !b.Failing:
			h.log.Warn("【心跳】发送失败，下个周期再试", "host", beatHost(h.cfg.HeartbeatURL), "fail", fail,
				"err", strings.ReplaceAll(strings.ReplaceAll(err.Error(), u, "HEARTBEAT_URL"), h.cfg.HeartbeatURL, "HEARTBEAT_URL"))
		case err == nil && b.Failing:
			h.log.Info("【心跳】已恢复", "host", beatHost(h.cfg.HeartbeatURL))
		case err == nil && fail:
			h.log.Info("【心跳】已报告救援步骤失败", "host", beatHost(h.cfg.HeartbeatURL))
		default:
			h.log.Debug("heartbeat", "host", beatHost(h.cfg.HeartbeatURL), "fail", fail, "err", err)
		}
	}
	if next.FailPending != flag.Present || ferr != nil {
		// Only when it changes: a healthy run writes nothing here.
		switch err := saveOwed(owedPath, next.FailPending, now); {
		case err != nil && next.FailPending:
			h.log.Warn("【心跳】STATE_DIR 无法写入：待报告的救援步骤失败只记在 RUN_DIR，重启后会丢失", "file", owedPath, "err", err)
		case err != nil:
			h.log.Warn("【心跳】STATE_DIR 无法写入：已报告的救援步骤失败下次会再报告", "file", owedPath, "err", err)
		}
	}
	if next.same(b) {
		return
	}
	if err := next.save(cli.RunDir(h.cfg.RunDir)); err != nil {
		h.log.Warn("【心跳】RUN_DIR 无法写入", "file", filepath.Join(cli.RunDir(h.cfg.RunDir), HeartbeatFile), "err", err)
	}
}

// saveOwed writes FailPendingFile (a rescue step failed at now, its
// signal owed) or removes it (the signal went out).
func saveOwed(path string, owed bool, now time.Time) error {
	if !owed {
		return state.Remove(path)
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return fmt.Errorf("create %s: %w", filepath.Dir(path), err)
	}
	return state.WriteFlag(path, "a rescue step failed at "+now.Format(time.RFC3339)+"; HEARTBEAT_URL's failure signal is owed")
}
