package main

import (
	"bytes"
	"context"
	"errors"
	"io"
	"io/fs"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/pve-op/network-rescue/internal/command"
	"github.com/pve-op/network-rescue/internal/notify"
	"github.com/pve-op/network-rescue/internal/remote"
	"github.com/pve-op/network-rescue/internal/rescue"
)

// TestNotifyStepVM: the VM's own steps are told to the owner as their own
// events (SPEC §9, §13): the queue in STATE_DIR holds vm-start, vm-resume
// and vm-restart messages naming the VM.
func TestNotifyStepVM(t *testing.T) {
	for _, tt := range []struct {
		action rescue.Action
		event  string
	}{
		{rescue.VMStart, "vm-start"},
		{rescue.VMResume, "vm-resume"},
		{rescue.VMRestart, "vm-restart"},
	} {
		t.Run(tt.event, func(t *testing.T) {
			h := testHost(t, nil)
			h.cfg.StateDir, h.cfg.NotifyURL = t.TempDir(), "http://127.0.0.1:9/push"
			obs := rescue.Obs{Now: testNow, NetKnown: true}
			h.notifyStep(rescue.State{}, obs, rescue.Step{Action: tt.action})
			msgs, err := h.queue().Load()
			if err != nil || len(msgs) != 1 || msgs[0].Event != tt.event {
				t.Fatalf("queue = %+v, %v; want one %s message", msgs, err, tt.event)
			}
			if !strings.Contains(msgs[0].Text, "100") {
				t.Errorf("message %q does not name VM 100", msgs[0].Text)
			}
		})
	}
}

// TestNotifyVMStartFailed: a qm start or resume that fails is told to
// the owner after the "being started" message queued before it, and one
// that works adds nothing.
func TestNotifyVMStartFailed(t *testing.T) {
	for _, verb := range []string{"start", "resume"} {
		h := testHost(t, func(_ context.Context, cmdline string, _ time.Duration) command.Result {
			if strings.Contains(cmdline, " "+verb+" ") {
				return command.Result{Cmd: cmdline, Err: errors.New("exit status 2"), Stderr: "start failed: QEMU exited with code 1"}
			}
			return command.Result{Cmd: cmdline}
		})
		h.cfg.StateDir, h.cfg.NotifyURL = t.TempDir(), "http://127.0.0.1:9/push"
		if verb == "start" {
			h.vmStart(context.Background(), h.store(), rescue.Obs{}, nil)
		} else {
			h.vmResume(context.Background(), h.store(), rescue.Obs{}, nil)
		}
		msgs, err := h.queue().Load()
		if err != nil || len(msgs) != 1 || msgs[0].Event != "vm-"+verb || !strings.Contains(msgs[0].Text, "未能运行") || !strings.Contains(msgs[0].Text, "100") {
			t.Errorf("qm %s failed: queue %+v, %v; want one message saying VM 100 does not run", verb, msgs, err)
		}
	}
	h := testHost(t, func(_ context.Context, cmdline string, _ time.Duration) command.Result {
		return command.Result{Cmd: cmdline, Stdout: "qmpstatus: running\nstatus: running\n"}
	})
	h.cfg.StateDir, h.cfg.NotifyURL = t.TempDir(), "http://127.0.0.1:9/push"
	h.vmStart(context.Background(), h.store(), rescue.Obs{}, nil)
	if msgs, _ := h.queue().Load(); len(msgs) != 0 {
		t.Errorf("qm start worked: queue %+v; want nothing more", msgs)
	}
}

// TestNotifyVMStartRefused: a qm start or resume refused before qm
// tried the VM (a lock taken since the observation: pve-guest-common
// src/PVE/AbstractConfig.pm check_lock's "VM is locked (LOCK)", see
// qm.TestClassifyRefusal) is told as a refusal, once, never as a VM that
// "未能运行", and logged as 【推迟】.
func TestNotifyVMStartRefused(t *testing.T) {
	for _, verb := range []string{"start", "resume"} {
		h := testHost(t, func(_ context.Context, cmdline string, _ time.Duration) command.Result {
			if strings.Contains(cmdline, " "+verb+" ") {
				return command.Result{Cmd: cmdline, Err: errors.New("exit status 255"), ExitCode: 255, Stderr: "VM is locked (migrate)"}
			}
			return command.Result{Cmd: cmdline}
		})
		log := &strings.Builder{}
		h.log = slog.New(slog.NewTextHandler(log, nil))
		h.cfg.StateDir, h.cfg.NotifyURL = t.TempDir(), "http://127.0.0.1:9/push"
		for range 2 {
			run := h.vmStart
			if verb == "resume" {
				run = h.vmResume
			}
			if !run(context.Background(), h.store(), rescue.Obs{}, nil) {
				t.Errorf("qm %s locked: not taken for a refusal", verb)
			}
		}
		msgs, err := h.queue().Load()
		if err != nil || len(msgs) != 1 || msgs[0].Event != "vm-"+verb+"-refused" || !strings.Contains(msgs[0].Text, "虚拟机被锁定") || strings.Contains(msgs[0].Text, "未能运行") {
			t.Errorf("qm %s locked: queue %+v, %v; want one message saying it was refused for the lock", verb, msgs, err)
		}
		if !strings.Contains(log.String(), "【推迟】qm "+verb+" 被拒绝 (虚拟机被锁定") {
			t.Errorf("qm %s locked: log lacks the 【推迟】:\n%s", verb, log)
		}
	}
}

// notifying is a host whose NOTIFY_URL is a test server answering with
// handler at path (no proxy between), with its state and RUN_DIR of its
// own, and the log it writes.
func notifying(t *testing.T, handler http.Handler, path string) (*host, *bytes.Buffer) {
	t.Helper()
	srv := httptest.NewServer(handler)
	t.Cleanup(srv.Close)
	t.Setenv("HTTP_PROXY", "")
	t.Setenv("http_proxy", "")
	log := &bytes.Buffer{}
	h := testHost(t, nil)
	h.log = slog.New(slog.NewTextHandler(log, nil))
	h.cfg.StateDir, h.cfg.RunDir, h.cfg.NotifyURL = t.TempDir(), t.TempDir(), srv.URL+path
	return h, log
}

// TestNotifyFailureRedacted: a service whose reason phrase echoes the
// secret (an ntfy-like "no such topic pve-x9k", whose words are all short)
// does not put it in the log or in status (notify.Redact).
func TestNotifyFailureRedacted(t *testing.T) {
	h, log := notifying(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		conn, buf, err := w.(http.Hijacker).Hijack()
		if err != nil {
			return
		}
		defer conn.Close()
		buf.WriteString("HTTP/1.1 403 no such topic pve-x9k\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
		buf.Flush()
	}), "/pve-x9k")
	h.notify("sos", "OpenWrt 发出 SOS：count=10", false)
	h.flushNotifications(context.Background(), rescue.Obs{Now: testNow, NetKnown: true, NetUp: true})
	if !strings.Contains(log.String(), "【通知】发送失败") || !strings.Contains(log.String(), "403") || strings.Contains(log.String(), "x9k") {
		t.Errorf("want the failure logged with its status and without the topic:\n%s", log.String())
	}
	v, err := h.notifyView()
	if err != nil || v.Failing == "" || strings.Contains(v.Failing, "x9k") {
		t.Errorf("status's failure %q, %v; want it said without the topic", v.Failing, err)
	}
}

// TestNotifyVMRestartFailed: a cold restart whose qm stop did not stop
// the VM is told as failed after the "being restarted" message queued
// before it (the owner read "已冷重启" and nothing else).
func TestNotifyVMRestartFailed(t *testing.T) {
	h := testHost(t, func(_ context.Context, cmdline string, _ time.Duration) command.Result {
		if strings.Contains(cmdline, " stop ") {
			return command.Result{Cmd: cmdline, Err: errors.New("exit status 255"), Stderr: "VM quit/powerdown failed"}
		}
		return command.Result{Cmd: cmdline, Stdout: "qmpstatus: running\nstatus: running\n"}
	})
	h.cfg.StateDir, h.cfg.NotifyURL, h.cfg.VMStopTimeout = t.TempDir(), "http://127.0.0.1:9/push", 0
	old := vmStopGrace
	vmStopGrace = 0
	defer func() { vmStopGrace = old }()
	if stopped, _ := h.vmRestart(context.Background(), remote.RouterState{}, nil); stopped {
		t.Fatal("vmRestart = true; want false (the VM did not stop)")
	}
	msgs, err := h.queue().Load()
	if err != nil || len(msgs) != 1 || msgs[0].Event != "vm-restart" || !strings.Contains(msgs[0].Text, "冷重启失败") {
		t.Errorf("queue %+v, %v; want one message saying the cold restart failed", msgs, err)
	}
}

// TestNotifyDNSFault: while the router's DNS fails and the IP targets
// answer, the family has no internet (SPEC §14), so no run of the fault
// queues "互联网已恢复" (it left every five minutes before); the LAN-side
// steps the host asks for are told instead, and the recovery is queued
// once, when DNS answers again, with the whole outage.
func TestNotifyDNSFault(t *testing.T) {
	h := testHost(t, nil)
	h.cfg.VMID = ""
	h.cfg.StateDir, h.cfg.NotifyURL = t.TempDir(), "http://127.0.0.1:9/push"
	t0 := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	var st rescue.State
	for i := 0; i <= 4; i++ {
		dnsOK := i == 4
		obs := rescue.Obs{Now: t0.Add(time.Duration(i) * 5 * time.Minute), Uptime: 24 * time.Hour, NetKnown: true, NetUp: true,
			DNSKnown: true, DNSOK: dnsOK, DNSDetail: "SERVFAIL", RouterKnown: true, Router: rescue.Router{SelfKnown: true, SelfUp: true},
			LANKnown: true, LANUp: true, GuardsKnown: true}
		step := rescue.Decide(h.cfg, st, obs)
		h.notifyStep(st, obs, step)
		st = step.Next
	}
	got := queued(t, h)
	want := []string{
		"assist: 局域网侧故障 (dns)：已请求 OpenWrt 执行 dns。",
		"assist: 局域网侧故障 (dns)：已请求 OpenWrt 执行 network。",
		"assist: 局域网侧故障 (dns)：已请求 OpenWrt 执行 reboot。",
		"recovery: 互联网已恢复，断网约 20m0s。",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("queued over a DNS fault of four runs and the run that finds DNS back:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

// TestNotifyRecoveryAfterHostReboot: the internet went down at 02:30, the
// host rebooted at 03:00 (its mark), the net came back at 03:10. The first
// run that finds it up tells the owner of a 40-minute outage, not the
// first run after midnight of a 21-hour one.
func TestNotifyRecoveryAfterHostReboot(t *testing.T) {
	h := testHost(t, nil)
	h.cfg.VMID = ""
	h.cfg.StateDir, h.cfg.NotifyURL = t.TempDir(), "http://127.0.0.1:9/push"
	day := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	st := rescue.State{DownSince: day.Add(150 * time.Minute), LastReboot: rescue.Today(day), HasMark: true}
	st.Mark.Date = rescue.Today(day)
	for _, at := range []time.Duration{185 * time.Minute, 190 * time.Minute, 24*time.Hour + 5*time.Minute} {
		obs := rescue.Obs{Now: day.Add(at), Uptime: time.Hour}
		step := rescue.Decide(h.cfg, st, obs)
		if step.Need == rescue.NeedNet {
			obs.NetKnown, obs.NetUp = true, at >= 190*time.Minute
			step = rescue.Decide(h.cfg, st, obs)
		}
		h.notifyStep(st, obs, step)
		st = step.Next
	}
	got := queued(t, h)
	if want := "recovery: 互联网已恢复，断网约 40m0s。"; strings.Join(got, "\n") != want {
		t.Errorf("queued: %q; want %q", got, want)
	}
}

// TestNotifyRejectedLoggedOnce: a service that refuses the queue (a
// revoked Bark key: HTTP 400) is retried by every run that finds the net
// up, but logged once, not every five minutes (SPEC §8: a healthy run logs
// nothing); a different failure is logged once again; the first success
// after it is logged and ends the episode.
func TestNotifyRejectedLoggedOnce(t *testing.T) {
	status := http.StatusBadRequest
	requests := 0
	h, log := notifying(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		requests++
		w.WriteHeader(status)
	}), "/hook/SECRET")
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	h.notify("sos", "OpenWrt 发出 SOS：count=10", false)
	up := rescue.Obs{Now: now, NetKnown: true, NetUp: true}
	for range 12 { // an hour of runs
		h.flushNotifications(context.Background(), up)
	}
	if requests != 12 || strings.Count(log.String(), "【通知】发送失败") != 1 {
		t.Errorf("12 runs against HTTP 400: %d requests, log:\n%s\nwant 12 requests and one 【通知】发送失败", requests, log.String())
	}
	// Another failure is said again, once.
	status = http.StatusServiceUnavailable
	log.Reset()
	h.flushNotifications(context.Background(), up)
	h.flushNotifications(context.Background(), up)
	if strings.Count(log.String(), "【通知】发送失败") != 1 || !strings.Contains(log.String(), "503") {
		t.Errorf("the failure changed to HTTP 503: log\n%s\nwant one 【通知】发送失败 naming it", log.String())
	}
	status = http.StatusOK
	log.Reset()
	h.flushNotifications(context.Background(), up)
	h.flushNotifications(context.Background(), up)
	if !strings.Contains(log.String(), "【通知】已发送") || requests != 15 {
		t.Errorf("the service accepts again: %d requests, log:\n%s\nwant the queue sent once and 【通知】已发送", requests, log.String())
	}
	if strings.Contains(log.String(), "SECRET") {
		t.Errorf("the log holds NOTIFY_URL's secret:\n%s", log.String())
	}
	h.notify("sos", "again", false)
	status = http.StatusBadRequest
	log.Reset()
	h.flushNotifications(context.Background(), up)
	if !strings.Contains(log.String(), "【通知】发送失败") {
		t.Errorf("a new failure after a success is not logged:\n%s", log.String())
	}
}

// TestNotifySentNotRepeated: a queue sent whose removal fails (a read-only
// or full STATE_DIR; here the directory made immutable) is not sent again:
// the owner had the same messages every five minutes, each run logging an
// error and 【通知】已发送. Once the queue can be removed it goes, quietly,
// and a new message is sent.
func TestNotifySentNotRepeated(t *testing.T) {
	requests := 0
	h, log := notifying(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { requests++ }), "/hook/SECRET")
	h.notify("host-reboot", "PVE 物理机今天重启一次", false)
	immutable(t, h)
	up := rescue.Obs{Now: time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC), NetKnown: true, NetUp: true}
	for range 3 {
		h.flushNotifications(context.Background(), up)
	}
	if requests != 1 || strings.Count(log.String(), "【严重错误】通知已发送但无法清除队列") != 1 {
		t.Errorf("3 runs, the queue not removable: %d requests, log:\n%s\nwant 1 request and the error once", requests, log.String())
	}
	if out, err := exec.Command("chattr", "-i", h.cfg.StateDir).CombinedOutput(); err != nil {
		t.Fatalf("chattr -i: %v %s", err, out)
	}
	log.Reset()
	h.flushNotifications(context.Background(), up)
	if got := queued(t, h); requests != 1 || len(got) != 0 || log.Len() != 0 {
		t.Errorf("removable again: %d requests, queue %q, log %q; want the queue gone quietly, nothing sent", requests, got, log.String())
	}
	h.notify("recovery", "互联网已恢复", false)
	h.flushNotifications(context.Background(), up)
	if requests != 2 {
		t.Errorf("a new message: %d requests; want it sent", requests)
	}
}

// TestNotifyAfterSentNotCleared: a queue sent but not removed (STATE_DIR
// immutable then) is not where the next message goes once it can be
// removed: the next delivery holds the new message alone (the old ones
// went out again with it), and a second SOS is queued and sent (the first,
// already sent, had it taken for one still waiting).
func TestNotifyAfterSentNotCleared(t *testing.T) {
	for _, first := range []string{"host-reboot", "sos"} {
		t.Run(first, func(t *testing.T) {
			var bodies []string
			h, log := notifying(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				b, _ := io.ReadAll(r.Body)
				bodies = append(bodies, string(b))
			}), "/hook/SECRET")
			h.notify(first, "first message", first == "sos")
			immutable(t, h)
			up := rescue.Obs{Now: time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC), NetKnown: true, NetUp: true}
			h.flushNotifications(context.Background(), up)
			if out, err := exec.Command("chattr", "-i", h.cfg.StateDir).CombinedOutput(); err != nil {
				t.Fatalf("chattr -i: %v %s", err, out)
			}
			h.notify("sos", "second message", true)
			h.flushNotifications(context.Background(), up)
			if len(bodies) != 2 || strings.Contains(bodies[1], "first message") || !strings.Contains(bodies[1], "second message") {
				t.Errorf("deliveries %q; want the first, then the second message alone\n%s", bodies, log.String())
			}
			if got := queued(t, h); len(got) != 0 {
				t.Errorf("queue after the second delivery: %q; want none", got)
			}
		})
	}
}

// TestQueueDigest: two queues, one message whose text (the router's SOS
// content) reads as two messages under %v, and those two messages, have
// different digests: with one digest the second queue was cleared unsent.
func TestQueueDigest(t *testing.T) {
	at := time.Date(2026, 12, 7, 10, 0, 0, 0, time.FixedZone("CST", 8*3600))
	two := []notify.Message{{Time: at, Event: "sos", Text: "OpenWrt 发出 SOS：a"}, {Time: at, Event: "sos", Text: "b"}}
	one := []notify.Message{{Time: at, Event: "sos", Text: "OpenWrt 发出 SOS：a 0} {" + at.String() + " sos b"}}
	if queueDigest(two) == queueDigest(one) {
		t.Errorf("two different queues, one digest %s", queueDigest(one))
	}
	if queueDigest(two) != queueDigest(append([]notify.Message(nil), two...)) {
		t.Errorf("the same queue, two digests")
	}
}

// queued is the notification queue in STATE_DIR, "event: text" a message.
func queued(t *testing.T, h *host) []string {
	t.Helper()
	msgs, err := h.queue().Load()
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, m := range msgs {
		got = append(got, m.Event+": "+m.Text)
	}
	return got
}

// TestNotifyResetLoggedOnce: a failure whose text changes every run only
// by its numbers (a connection reset names a new local port each time) is
// one failure, logged once.
func TestNotifyResetLoggedOnce(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			c.(*net.TCPConn).SetLinger(0) // close with RST
			c.Close()
		}
	}()
	t.Setenv("HTTP_PROXY", "")
	t.Setenv("http_proxy", "")
	var log bytes.Buffer
	h := testHost(t, nil)
	h.log = slog.New(slog.NewTextHandler(&log, nil))
	h.cfg.StateDir, h.cfg.RunDir, h.cfg.NotifyURL = t.TempDir(), t.TempDir(), "http://"+ln.Addr().String()+"/hook/SECRET"
	h.notify("sos", "OpenWrt 发出 SOS：count=10", false)
	up := rescue.Obs{Now: time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC), NetKnown: true, NetUp: true}
	for range 6 {
		h.flushNotifications(context.Background(), up)
	}
	if n := strings.Count(log.String(), "【通知】发送失败"); n != 1 {
		t.Errorf("6 runs against a service that resets the connection: %d 【通知】发送失败 lines; want 1:\n%s", n, log.String())
	}
}

// TestNotifyHostRebootReason: the host-reboot message used to claim
// "OpenWrt 发出 SOS" for every host reboot, also one for a LAN fault or a
// VM that will not start (an empty SOS quoted after it). It now gives the
// mark's reason, and quotes the router's SOS only when there is one (SPEC
// §9: tell the owner what happened).
func TestNotifyHostRebootReason(t *testing.T) {
	for _, tt := range []struct {
		name, reason string
		sos          bool
		want, not    string
	}{
		{"LAN fault", "LAN fault (path) after network,reboot", false, "LAN fault (path)", "SOS"},
		{"SOS", "SOS count=10", true, "OpenWrt 的 SOS：time=x count=10", ""},
	} {
		t.Run(tt.name, func(t *testing.T) {
			h := testHost(t, nil)
			h.cfg.StateDir, h.cfg.NotifyURL = t.TempDir(), "http://127.0.0.1:9/push"
			obs := rescue.Obs{Now: testNow, NetKnown: true, RouterKnown: true}
			if tt.sos {
				obs.Router = rescue.Router{SOS: true, SOSContent: "time=x count=10"}
			}
			step := rescue.Step{Action: rescue.HostReboot}
			step.Next.Mark.Reason = tt.reason
			h.notifyStep(rescue.State{}, obs, step)
			msgs, err := h.queue().Load()
			if err != nil || len(msgs) != 1 || msgs[0].Event != "host-reboot" {
				t.Fatalf("queue = %+v, %v; want one host-reboot message", msgs, err)
			}
			if !strings.Contains(msgs[0].Text, tt.want) || tt.not != "" && strings.Contains(msgs[0].Text, tt.not) {
				t.Errorf("message %q; want %q in it and not %q", msgs[0].Text, tt.want, tt.not)
			}
		})
	}
}

// TestDamagedQueueRepairedOnce: a notify.queue that is not a sound file
// (too large, a FIFO, a symlink, a directory) was logged as 【严重错误】 by
// every healthy run, forever. The first healthy run clears it and says so
// in one line, naming the kind and that its messages are lost; the next
// healthy run logs nothing and writes nothing (SPEC §8, §15). A directory
// with something in it is moved aside, its content kept.
func TestDamagedQueueRepairedOnce(t *testing.T) {
	for _, tc := range []struct {
		name, kind string
		plant      func(t *testing.T, p string)
		aside      bool // moved aside, not removed
	}{
		{name: "too large", kind: `kind="too large"`, plant: func(t *testing.T, p string) {
			if err := os.WriteFile(p, bytes.Repeat([]byte("x"), 70000), 0o600); err != nil {
				t.Fatal(err)
			}
		}},
		{name: "fifo", kind: "kind=fifo", plant: func(t *testing.T, p string) {
			if err := syscall.Mkfifo(p, 0o600); err != nil {
				t.Fatal(err)
			}
		}},
		{name: "symlink", kind: "kind=symlink", plant: func(t *testing.T, p string) {
			if err := os.Symlink("/dev/zero", p); err != nil {
				t.Fatal(err)
			}
		}},
		{name: "empty directory", kind: "kind=directory", plant: func(t *testing.T, p string) {
			if err := os.Mkdir(p, 0o700); err != nil {
				t.Fatal(err)
			}
		}},
		{name: "directory with a file", kind: "kind=directory", aside: true, plant: func(t *testing.T, p string) {
			if err := os.MkdirAll(filepath.Join(p, "keep"), 0o700); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(filepath.Join(p, "keep", "notes"), []byte("mine"), 0o600); err != nil {
				t.Fatal(err)
			}
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			l := newObsLab(t, "NOTIFY_URL=http://127.0.0.1:9/hook/SECRET")
			if err := os.MkdirAll(l.cfg.StateDir, 0o700); err != nil {
				t.Fatal(err)
			}
			queue := filepath.Join(l.cfg.StateDir, notify.QueueFile)
			tc.plant(t, queue)
			l.run()
			lines := strings.Split(strings.TrimSpace(l.log.String()), "\n")
			if len(lines) != 1 || !strings.Contains(lines[0], "level=ERROR") || !strings.Contains(lines[0], "【严重错误】通知队列损坏") ||
				!strings.Contains(lines[0], "通知已丢失") || !strings.Contains(lines[0], tc.kind) || !strings.Contains(lines[0], "file="+queue) {
				t.Errorf("first healthy run with a damaged queue (%s) logged:\n%s\nwant one 【严重错误】 line naming the file, %s and the messages lost", tc.name, l.log.String(), tc.kind)
			}
			if strings.Contains(l.log.String(), "SECRET") {
				t.Errorf("the log holds NOTIFY_URL's secret:\n%s", l.log.String())
			}
			if _, err := os.Lstat(queue); !errors.Is(err, fs.ErrNotExist) {
				t.Errorf("the damaged queue after the run: %v; want it cleared", err)
			}
			if tc.aside {
				aside := queue + ".damaged-20261206-100000"
				if b, err := os.ReadFile(filepath.Join(aside, "keep", "notes")); err != nil || string(b) != "mine" || !strings.Contains(lines[0], "moved_to="+aside) {
					t.Errorf("the directory's content after the run: %q, %v (log %s); want it kept in %s, named in the log", b, err, lines[0], aside)
				}
			}
			before := snapshotDir(t, l.dir)
			l.log.Reset()
			l.now = l.now.Add(5 * time.Minute)
			l.run()
			if l.log.Len() != 0 {
				t.Errorf("second healthy run logged:\n%s\nwant nothing", l.log.String())
			}
			if after := snapshotDir(t, l.dir); after != before {
				t.Errorf("second healthy run changed files:\nbefore\n%s\nafter\n%s", before, after)
			}
		})
	}
}

// TestNotifyRecoveryClockBack: the internet went down at 12:00, the clock
// was then set back an hour (NTP), and the net is back at 11:30 by it.
// The recovery message tells no negative outage: as the log's 【恢复】
// outage= and ON_EVENT_CMD's NETRESCUE_OUTAGE_SECONDS, a clock set back
// makes it 0 (it said "断网约 -30m0s").
func TestNotifyRecoveryClockBack(t *testing.T) {
	h := testHost(t, nil)
	h.cfg.VMID = ""
	h.cfg.StateDir, h.cfg.NotifyURL = t.TempDir(), "http://127.0.0.1:9/push"
	down := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	st := rescue.State{DownSince: down}
	obs := rescue.Obs{Now: down.Add(-30 * time.Minute), Uptime: 24 * time.Hour, NetKnown: true, NetUp: true}
	h.notifyStep(st, obs, rescue.Decide(h.cfg, st, obs))
	got := strings.Join(queued(t, h), "\n")
	if want := "recovery: 互联网已恢复，断网约 0s。"; got != want {
		t.Errorf("queued after a clock set back: %q; want %q", got, want)
	}
}
