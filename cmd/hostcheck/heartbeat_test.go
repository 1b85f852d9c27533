package main

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"pgregory.net/rapid"

	"github.com/pve-op/network-rescue/internal/command"
	"github.com/pve-op/network-rescue/internal/config"
	"github.com/pve-op/network-rescue/internal/hook"
	"github.com/pve-op/network-rescue/internal/httpc"
	"github.com/pve-op/network-rescue/internal/remote"
	"github.com/pve-op/network-rescue/internal/runenv"
	"github.com/pve-op/network-rescue/state"
)

// TestHeartbeatDue: a request is due when none went since boot, when the
// last went HEARTBEAT_EVERY ago counted in the minutes cron starts runs
// on (a run a few milliseconds earlier in its minute than the last still
// counts), or when the clock was stepped back.
func TestHeartbeatDue(t *testing.T) {
	at := func(hms string) time.Time {
		tm, err := time.Parse("15:04:05.000", hms)
		if err != nil {
			t.Fatal(err)
		}
		return time.Date(2026, 12, 6, tm.Hour(), tm.Minute(), tm.Second(), tm.Nanosecond(), time.UTC)
	}
	for _, tc := range []struct {
		name      string
		last, now string
		every     time.Duration
		want      bool
	}{
		{"none since boot", "", "10:00:00.000", 5 * time.Minute, true},
		{"next cron run, a little earlier in its minute", "10:00:00.900", "10:05:00.020", 5 * time.Minute, true},
		{"next cron run, later in its minute", "10:00:00.020", "10:05:00.900", 5 * time.Minute, true},
		{"a run by hand in between", "10:00:00.020", "10:03:59.999", 5 * time.Minute, false},
		{"one minute short", "10:00:00.000", "10:04:00.000", 5 * time.Minute, false},
		{"15m: second cron run", "10:00:00.000", "10:10:00.000", 15 * time.Minute, false},
		{"15m: third cron run", "10:00:00.000", "10:15:00.000", 15 * time.Minute, true},
		{"clock stepped back", "10:00:00.000", "09:00:00.000", 5 * time.Minute, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var last time.Time
			if tc.last != "" {
				last = at(tc.last)
			}
			if got := heartbeatDue(last, at(tc.now), tc.every); got != tc.want {
				t.Errorf("heartbeatDue(%s, %s, %v) = %v; want %v", tc.last, tc.now, tc.every, got, tc.want)
			}
		})
	}
}

// TestHeartbeatAtMostOncePerInterval (property): whatever the times of
// the runs (increasing), two requests are never closer than
// HEARTBEAT_EVERY in cron's minutes and never closer than EVERY − 1m in
// real time; and with a run every minute of an up internet, no gap
// between requests exceeds HEARTBEAT_EVERY.
func TestHeartbeatAtMostOncePerInterval(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		every := time.Duration(rapid.IntRange(1, 90).Draw(t, "every_minutes")) * time.Minute
		now := time.Date(2026, 12, 6, 0, 0, 0, 0, time.UTC).Add(time.Duration(rapid.Int64Range(0, int64(time.Hour)).Draw(t, "start")))
		var b beat
		var sends []time.Time
		for i, n := 0, rapid.IntRange(1, 200).Draw(t, "runs"); i < n; i++ {
			now = now.Add(time.Duration(rapid.Int64Range(0, int64(20*time.Minute)).Draw(t, "gap")))
			up := rapid.Bool().Draw(t, "up")
			send, _, next := planBeat(b, now, every, up, rapid.Bool().Draw(t, "failed"))
			if send {
				if !up {
					t.Fatalf("a request while the internet is down")
				}
				next = next.sent(now, false, nil)
				sends = append(sends, now)
			}
			b = next
		}
		for i := 1; i < len(sends); i++ {
			if d := sends[i].Sub(sends[i-1]); d < every-time.Minute || sends[i].Truncate(time.Minute).Sub(sends[i-1].Truncate(time.Minute)) < every {
				t.Fatalf("requests at %v and %v: %v apart; HEARTBEAT_EVERY %v", sends[i-1], sends[i], d, every)
			}
		}
	})
	rapid.Check(t, func(t *rapid.T) {
		every := time.Duration(rapid.IntRange(1, 90).Draw(t, "every_minutes")) * time.Minute
		var b beat
		var last time.Time
		base := time.Date(2026, 12, 6, 0, 0, 0, 0, time.UTC)
		for i := 0; i < 300; i++ {
			// cron starts a run each minute, a run's clock reading a
			// few milliseconds to a few seconds into it.
			now := base.Add(time.Duration(i)*time.Minute + time.Duration(rapid.Int64Range(0, int64(5*time.Second)).Draw(t, "jitter")))
			send, _, next := planBeat(b, now, every, true, false)
			if send {
				if !last.IsZero() && now.Truncate(time.Minute).Sub(last.Truncate(time.Minute)) > every {
					t.Fatalf("requests at %v and %v; HEARTBEAT_EVERY %v with a run every minute", last, now, every)
				}
				next, last = next.sent(now, false, nil), now
			}
			b = next
		}
	})
}

// TestPingURL: the failure signal of each service, from its own docs:
// healthchecks.io appends /fail to the ping URL (healthchecks.io/docs/
// signaling_failures: https://hc-ping.com/your-uuid-here/fail), on
// hc-ping.com and on a self-hosted instance's /ping/ path; an Uptime Kuma
// push URL takes status=down (any status but "up" is down:
// louislam/uptime-kuma server/routers/api-router.js, /api/push/:pushToken).
func TestPingURL(t *testing.T) {
	for _, tc := range []struct{ raw, fail string }{
		{"https://hc-ping.com/0f3e1c2a-5b7d-4e8f-9a1b-2c3d4e5f6a7b", "https://hc-ping.com/0f3e1c2a-5b7d-4e8f-9a1b-2c3d4e5f6a7b/fail"},
		{"https://hc-ping.com/0f3e1c2a-5b7d-4e8f-9a1b-2c3d4e5f6a7b/", "https://hc-ping.com/0f3e1c2a-5b7d-4e8f-9a1b-2c3d4e5f6a7b/fail"},
		{"https://hc-ping.com/PINGKEY/pve-host?rid=1", "https://hc-ping.com/PINGKEY/pve-host/fail?rid=1"},
		{"https://hc.example.org/ping/0f3e1c2a-5b7d-4e8f-9a1b-2c3d4e5f6a7b", "https://hc.example.org/ping/0f3e1c2a-5b7d-4e8f-9a1b-2c3d4e5f6a7b/fail"},
		{"http://kuma.lan:3001/api/push/AbC123?status=up&msg=OK&ping=", "http://kuma.lan:3001/api/push/AbC123?msg=netrescue%3A+a+rescue+step+failed&ping=&status=down"},
		{"https://example.org/beat/SECRET", "https://example.org/beat/SECRET"},
	} {
		if got := pingURL(tc.raw, false); got != tc.raw {
			t.Errorf("pingURL(%q, false) = %q; want it unchanged", tc.raw, got)
		}
		if got := pingURL(tc.raw, true); got != tc.fail {
			t.Errorf("pingURL(%q, true) = %q; want %q", tc.raw, got, tc.fail)
		}
	}
}

// fakeService is a heartbeat service reached without any network: an
// httpc.Doer that records each request and answers with status.
type fakeService struct {
	got    []string
	status int
	err    error
}

func (f *fakeService) Do(_ context.Context, r httpc.Request) (httpc.Response, error) {
	f.got = append(f.got, r.Method+" "+r.URL.String())
	if f.err != nil {
		return httpc.Response{}, f.err
	}
	return httpc.Response{StatusCode: f.status, Status: strconv.Itoa(f.status) + " " + http.StatusText(f.status)}, nil
}

// TestHeartbeatRuns drives h.heartbeat on a fake clock (steps as cron
// would run hostcheck) against a fake service: one GET per interval while
// up, none while down, /fail once after a run whose rescue command
// returned [错误], a failure logged once and its end once, RUN_DIR the
// only place a healthy run writes (STATE_DIR holds the /fail owed, and
// only while it is), and the URL's secret never in the log.
func TestHeartbeatRuns(t *testing.T) {
	h, log := newBeatHost(t)
	cfg := h.cfg
	svc := &fakeService{status: 200}
	client := svc
	start := time.Date(2026, 12, 6, 10, 0, 0, 300e6, time.UTC)
	for i, step := range []struct {
		after    time.Duration
		up       bool
		failed   bool // a rescue command returned [错误] in this run
		status   int
		want     string // the request made, "" none
		probed   bool   // the run asked netUp
		wantLog  string // a line the run logs, "" none
		pending  bool   // fail_pending afterwards
		lastSent time.Duration
	}{
		{after: 0, up: true, status: 200, want: "GET " + beatURL, probed: true},
		{after: 2 * time.Minute, up: true, status: 200, want: "", probed: false},
		{after: 5*time.Minute - 250*time.Millisecond, up: true, status: 200, want: "GET " + beatURL, probed: true},
		{after: 10 * time.Minute, up: false, failed: true, status: 200, want: "", probed: true, pending: true},
		{after: 15 * time.Minute, up: true, status: 200, want: "GET " + beatURL + "/fail", probed: true, wantLog: "【心跳】已报告救援步骤失败"},
		{after: 20 * time.Minute, up: true, status: 200, want: "GET " + beatURL, probed: true},
		{after: 25 * time.Minute, up: true, status: 500, want: "GET " + beatURL, probed: true, wantLog: "【心跳】发送失败，下个周期再试"},
		{after: 30 * time.Minute, up: true, status: 500, want: "GET " + beatURL, probed: true},
		{after: 35 * time.Minute, up: true, status: 200, want: "GET " + beatURL, probed: true, wantLog: "【心跳】已恢复"},
	} {
		svc.got, svc.status = nil, step.status
		log.Reset()
		h.failed = step.failed
		probed := false
		h.heartbeat(context.Background(), client, start.Add(step.after), func() bool { probed = true; return step.up })
		if got := strings.Join(svc.got, ", "); got != step.want {
			t.Errorf("step %d (+%v): requests %q; want %q", i, step.after, got, step.want)
		}
		if probed != step.probed {
			t.Errorf("step %d (+%v): asked whether the internet is up: %v; want %v", i, step.after, probed, step.probed)
		}
		if step.wantLog == "" && log.Len() > 0 && !strings.Contains(log.String(), "level=DEBUG") {
			t.Errorf("step %d (+%v): logged %q; want nothing", i, step.after, log.String())
		}
		if step.wantLog != "" && !strings.Contains(log.String(), step.wantLog) {
			t.Errorf("step %d (+%v): log %q; want %q", i, step.after, log.String(), step.wantLog)
		}
		if strings.Contains(log.String(), "SECRET") {
			t.Errorf("step %d: the log holds the URL's secret: %q", i, log.String())
		}
		b, err := loadBeat(cfg.RunDir)
		if err != nil || b.FailPending != step.pending {
			t.Errorf("step %d (+%v): RUN_DIR record %+v, %v; want fail_pending %v", i, step.after, b, err, step.pending)
		}
		if _, err := os.Stat(filepath.Join(cfg.StateDir, FailPendingFile)); (err == nil) != step.pending {
			t.Errorf("step %d (+%v): STATE_DIR/%s: %v; want it there: %v", i, step.after, FailPendingFile, err, step.pending)
		}
		if _, err := os.Stat(cfg.StateDir); i < 3 && !errors.Is(err, os.ErrNotExist) {
			t.Errorf("step %d (+%v): STATE_DIR touched by a healthy run's heartbeat: %v", i, step.after, err)
		}
	}
	if files, _ := os.ReadDir(cfg.StateDir); len(files) > 0 {
		t.Errorf("STATE_DIR after the /fail went out: %v; want nothing", files)
	}
}

// TestHeartbeatFailSurvivesHostReboot: 10:00 qm stop fails ([错误]); 10:05
// the host reboots, which empties RUN_DIR; 10:10 the internet is up. The
// /fail the failed cold restart owes goes out then: it was kept in RUN_DIR
// alone, and the owner heard a plain ping.
func TestHeartbeatFailSurvivesHostReboot(t *testing.T) {
	h, log := newBeatHost(t)
	cfg := h.cfg
	svc := &fakeService{status: 200}
	at := time.Date(2026, 12, 6, 10, 0, 0, 0, time.UTC)
	h.failed = true
	h.heartbeat(context.Background(), svc, at, func() bool { return false })
	// The host's reboot at 10:05: RUN_DIR is a tmpfs.
	if err := os.RemoveAll(cfg.RunDir); err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(cfg.RunDir, 0o700); err != nil {
		t.Fatal(err)
	}
	h.failed = false
	h.heartbeat(context.Background(), svc, at.Add(10*time.Minute), func() bool { return true })
	if got := strings.Join(svc.got, ", "); got != "GET "+beatURL+"/fail" {
		t.Errorf("after the reboot: requests %q; want the /fail the failed cold restart owes", got)
	}
	if !strings.Contains(log.String(), "【心跳】已报告救援步骤失败") {
		t.Errorf("log %q; want 【心跳】已报告救援步骤失败", log.String())
	}
	if _, err := os.Stat(filepath.Join(cfg.StateDir, FailPendingFile)); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("STATE_DIR/%s after the /fail went out: %v; want it gone", FailPendingFile, err)
	}
	svc.got = nil
	h.heartbeat(context.Background(), svc, at.Add(15*time.Minute), func() bool { return true })
	if got := strings.Join(svc.got, ", "); got != "GET "+beatURL {
		t.Errorf("the run after: requests %q; want the plain ping", got)
	}
}

// TestHeartbeatTimeout: a service that does not answer is given
// PROBE_TIMEOUT, no more, and the run goes on.
func TestHeartbeatTimeout(t *testing.T) {
	dir := t.TempDir()
	cfg, err := config.Parse("/t.conf", "HEARTBEAT_URL=https://hc-ping.com/x\nPROBE_TIMEOUT=200ms\nRUN_DIR="+dir, config.Host)
	if err != nil {
		t.Fatal(err)
	}
	var log bytes.Buffer
	h := &host{cfg: cfg, loc: time.UTC, log: slog.New(slog.NewTextHandler(&log, nil))}
	hang := doFunc(func(ctx context.Context, _ httpc.Request) (httpc.Response, error) {
		<-ctx.Done()
		return httpc.Response{}, ctx.Err()
	})
	done := make(chan struct{})
	go func() {
		h.heartbeat(context.Background(), hang, time.Date(2026, 12, 6, 10, 0, 0, 0, time.UTC), func() bool { return true })
		close(done)
	}()
	select {
	case <-done:
	case <-time.After(30 * time.Second):
		t.Fatal("heartbeat did not give up on a service that does not answer")
	}
	if !strings.Contains(log.String(), "【心跳】发送失败") || !strings.Contains(log.String(), "deadline exceeded") {
		t.Errorf("log %q; want 【心跳】发送失败 with the deadline", log.String())
	}
}

type doFunc func(context.Context, httpc.Request) (httpc.Response, error)

func (f doFunc) Do(ctx context.Context, r httpc.Request) (httpc.Response, error) { return f(ctx, r) }

// TestHookFailureIsNoRescueFailure: a failing ON_EVENT_CMD (the owner's
// hook) is logged as -> [错误] with its event, but it is not a rescue
// step that failed: the next heartbeat is the plain GET, not /fail.
func TestHookFailureIsNoRescueFailure(t *testing.T) {
	dir := t.TempDir()
	const url = "https://hc-ping.com/0f3e1c2a-SECRET"
	cfg, err := config.Parse("/t.conf", "HEARTBEAT_URL="+url+"\nON_EVENT_CMD=/usr/local/bin/my-hook\nRUN_DIR="+filepath.Join(dir, "run")+
		"\nSTATE_DIR="+filepath.Join(dir, "state"), config.Host)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(cfg.RunDir, 0o700); err != nil {
		t.Fatal(err)
	}
	var log bytes.Buffer
	h := &host{cfg: cfg, loc: time.UTC, log: slog.New(slog.NewTextHandler(&log, nil)),
		e: runenv.Env{ExecEnv: func(_ context.Context, cmdline string, _ time.Duration, _ []string) command.Result {
			return command.Result{Cmd: cmdline, ExitCode: 1, Err: errors.New("exit status 1"), Stderr: "hook: cannot reach the NAS\n"}
		}}}
	h.fire(context.Background(), hook.Event{Name: "up", Detail: "198.51.100.1"})
	if !strings.Contains(log.String(), "-> [错误]") || !strings.Contains(log.String(), "event=up") {
		t.Errorf("log %q; want the hook's failure logged with its event", log.String())
	}
	svc := &fakeService{status: 200}
	h.heartbeat(context.Background(), svc, time.Date(2026, 12, 6, 10, 0, 0, 0, time.UTC), func() bool { return true })
	if got, want := strings.Join(svc.got, ", "), "GET "+url; got != want {
		t.Errorf("heartbeat after a failing hook: %q; want %q (a hook is not a rescue step)", got, want)
	}
}

// TestNoEffectIsFailure: a rescue step whose commands all exit 0 but
// which changed nothing — a host reboot that did not happen (【回退】, and
// the day's second), a router VM that qm stop did not stop — is a step
// that failed: the next heartbeat once the internet is back, in a later
// run (a new process, the pending failure kept in RUN_DIR), is /fail.
func TestNoEffectIsFailure(t *testing.T) {
	const url = "https://hc-ping.com/0f3e1c2a-SECRET"
	for _, tc := range []struct {
		name string
		act  func(t *testing.T, h *host)
		want string // in the log
	}{
		{"misfire", func(t *testing.T, h *host) {
			if err := h.reboot(context.Background(), h.store(), state.Mark{Date: "2026-12-06", BootID: "boot"}, "", routerSync{SOS: true}); err == nil {
				t.Fatal("reboot returned nil; want the misfire's error")
			}
		}, "【回退】"},
		{"second misfire", func(t *testing.T, h *host) {
			store := h.store()
			if _, err := store.Misfire(time.UTC, "", time.Date(2026, 12, 6, 8, 0, 0, 0, time.UTC), "boot", true); err != nil {
				t.Fatal(err)
			}
			if err := h.reboot(context.Background(), store, state.Mark{Date: "2026-12-06", BootID: "boot"}, "", routerSync{SOS: true}); err == nil {
				t.Fatal("reboot returned nil; want the misfire's error")
			}
		}, "今天第二次重启未生效"},
		{"qm stop exit 0, VM still running", func(t *testing.T, h *host) {
			if stopped, _ := h.vmRestart(context.Background(), remote.RouterState{}, nil); stopped {
				t.Fatal("vmRestart reported the VM stopped")
			}
		}, "路由虚拟机没有停止"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			defer func(g time.Duration) { vmStopGrace = g }(vmStopGrace)
			vmStopGrace = 0
			exec := func(_ context.Context, cmdline string, _ time.Duration) command.Result {
				switch {
				case strings.HasSuffix(cmdline, "is-system-running"):
					return command.Result{Cmd: cmdline, Stdout: "running\n"}
				case strings.Contains(cmdline, "qm status "):
					return command.Result{Cmd: cmdline, Stdout: "qmpstatus: running\nstatus: running\n"}
				}
				return command.Result{Cmd: cmdline} // exit 0, and nothing happens
			}
			h := testHost(t, exec)
			_, log := checkable(t, h)
			h.cfg.HeartbeatURL, h.cfg.VMStopTimeout, h.cfg.RebootConfirm = url, 0, 10*time.Millisecond
			h.e.Now = func() time.Time { return time.Date(2026, 12, 6, 10, 0, 0, 0, time.UTC) }
			if err := os.MkdirAll(h.cfg.RunDir, 0o700); err != nil {
				t.Fatal(err)
			}
			tc.act(t, h)
			if !strings.Contains(log.String(), tc.want) {
				t.Fatalf("log lacks %q:\n%s", tc.want, log.String())
			}
			svc := &fakeService{status: 200}
			h.heartbeat(context.Background(), svc, time.Date(2026, 12, 6, 10, 0, 0, 0, time.UTC), func() bool { return false })
			// The next run, a new process, finds the internet back.
			next := testHost(t, exec)
			next.cfg = h.cfg
			next.heartbeat(context.Background(), svc, time.Date(2026, 12, 6, 10, 10, 0, 0, time.UTC), func() bool { return true })
			if got, want := strings.Join(svc.got, ", "), "GET "+url+"/fail"; got != want {
				t.Errorf("heartbeats: %q; want %q", got, want)
			}
		})
	}
}

// TestHeartbeatFixNamesConfig: the ✗ of a failing heartbeat tells where
// HEARTBEAT_URL is: the file this status read, not /etc/netrescue.conf
// whatever -config said.
func TestHeartbeatFixNamesConfig(t *testing.T) {
	for _, tc := range []struct{ path, want string }{
		{"/srv/other.conf", "(from /srv/other.conf)"},
		{"", "(from /etc/netrescue.conf)"},
	} {
		h := testHost(t, nil)
		h.cfg.Path, h.cfg.RunDir, h.cfg.HeartbeatURL = tc.path, t.TempDir(), "https://hc-ping.com/0f3e"
		if err := os.WriteFile(filepath.Join(h.cfg.RunDir, HeartbeatFile), []byte("failing=1\nlast=1764000000\n"), 0o600); err != nil {
			t.Fatal(err)
		}
		var fix string
		for _, c := range h.publishChecks(testNow) {
			if c.Name == "heartbeat" {
				fix = c.Fix
			}
		}
		if !strings.Contains(fix, tc.want) {
			t.Errorf("config %q: heartbeat fix %q; want %q", tc.path, fix, tc.want)
		}
	}
}

// TestHeartbeatFailFlagDirectory: a directory that holds something at
// STATE_DIR/heartbeat.fail is damage: said once, moved aside (what it
// holds kept), and its /fail sent once. It was read as "owed" at every
// run and could not be replaced (a rename over a non-empty directory
// fails): a healthy day sent 288 /fail and logged three lines a run.
func TestHeartbeatFailFlagDirectory(t *testing.T) {
	h, log := newBeatHost(t)
	cfg := h.cfg
	flag := filepath.Join(cfg.StateDir, FailPendingFile)
	if err := os.MkdirAll(flag, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(flag, "note"), []byte("mine\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	svc := &fakeService{status: 200}
	at := time.Date(2026, 12, 6, 0, 0, 0, 0, time.UTC)
	for i := 0; i < 288; i++ { // a healthy day, every five minutes
		h.heartbeat(context.Background(), svc, at.Add(time.Duration(i)*5*time.Minute), func() bool { return true })
	}
	fails := 0
	for _, r := range svc.got {
		if strings.HasSuffix(r, "/fail") {
			fails++
		}
	}
	if fails > 1 || strings.Count(log.String(), "\n") > 3 {
		t.Errorf("a healthy day: %d /fail sent, %d log lines; want the damage said and its /fail sent once:\n%.2000s", fails, strings.Count(log.String(), "\n"), log.String())
	}
	if _, err := os.Stat(flag); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("%s after the day: %v; want it moved aside", flag, err)
	}
	aside, _ := filepath.Glob(flag + ".damaged-*/note")
	if len(aside) != 1 {
		t.Errorf("moved aside: %q; want what the directory held kept beside it", aside)
	}
}

// beatURL is HEARTBEAT_URL in the heartbeat tests: a secret in its path.
const beatURL = "https://hc-ping.com/0f3e1c2a-SECRET"

// newBeatHost is a host with HEARTBEAT_URL=beatURL, RUN_DIR made and
// STATE_DIR not yet, in a temp dir, logging into the buffer returned.
func newBeatHost(t *testing.T) (*host, *bytes.Buffer) {
	t.Helper()
	dir := t.TempDir()
	cfg, err := config.Parse("/t.conf", "HEARTBEAT_URL="+beatURL+"\nRUN_DIR="+filepath.Join(dir, "run")+"\nSTATE_DIR="+filepath.Join(dir, "state"), config.Host)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(cfg.RunDir, 0o700); err != nil {
		t.Fatal(err)
	}
	log := &bytes.Buffer{}
	return &host{cfg: cfg, loc: time.UTC, log: slog.New(slog.NewTextHandler(log, nil))}, log
}
