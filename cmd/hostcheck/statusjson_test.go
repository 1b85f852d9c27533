package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/pve-op/network-rescue/internal/cli"
	"github.com/pve-op/network-rescue/internal/command"
	"github.com/pve-op/network-rescue/internal/config"
	"github.com/pve-op/network-rescue/internal/notify"
	"github.com/pve-op/network-rescue/internal/pause"
	"github.com/pve-op/network-rescue/internal/probe"
	"github.com/pve-op/network-rescue/internal/rescue"
	"github.com/pve-op/network-rescue/internal/runenv"
	"github.com/pve-op/network-rescue/state"
)

// TestHostStatusJSON: `hostcheck status -json` is one JSON object — the
// same checks as the checklist and the host's state: the mark, the last
// reboot's day, down_since, router_down_since, the VM's days, the router
// as SSH read it (here it cannot: no key), the probe, the last action and
// the counts METRICS_FILE keeps, the heartbeat's RUN_DIR record — with
// exit 1 since a check failed. Decoded by field name, as a user's tool
// would, not through our own types.
func TestHostStatusJSON(t *testing.T) {
	dir := t.TempDir()
	now := time.Date(2026, 12, 6, 12, 0, 0, 0, time.UTC)
	stateDir, runDir, mark := filepath.Join(dir, "state"), filepath.Join(dir, "run"), filepath.Join(dir, "mark")
	for _, d := range []string{stateDir, runDir} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	down := now.Add(-40 * time.Minute)
	reboot := now.Add(-2 * time.Hour)
	files := map[string]string{
		// Kept by a second misfire today (Store.Misfire): no boot id.
		mark: "date=2026-12-06\nreason=SOS count=10\ntime=" + reboot.Format(time.RFC3339) + "\n",
		filepath.Join(stateDir, "hostcheck.state"): fmt.Sprintf("down_since=%d\nlast_reboot_date=2026-12-06\nrouter_down_since=%d\nvm_restart_date=2026-12-05\nvm_start_date=2026-12-06\nvm_starts=2\nvm_start_prev_date=\nvm_starts_prev=0\nheld_reboot=SOS count=10\nheld_sos=count=10\nheld_sos_count=10\nheld_sos_day=2026-12-06\nmisfire_date=2026-12-06\nmisfire_boot=boot-1\n",
			down.Unix(), now.Add(-10*time.Minute).Unix()),
		filepath.Join(stateDir, ActionsFile): fmt.Sprintf("host-reboot_last=%d\nhost-reboot_total=1\nvm-restart_last=%d\nvm-restart_total=2\nvm-resume_last=0\nvm-resume_total=0\nvm-start_last=0\nvm-start_total=0\n",
			reboot.Unix(), now.Add(-26*time.Hour).Unix()),
		filepath.Join(runDir, HeartbeatFile): fmt.Sprintf("fail_pending=1\nfailing=0\nlast=%d\n", now.Add(-5*time.Minute).Unix()),
		filepath.Join(stateDir, pause.File):  fmt.Sprintf("%d\n", now.Add(30*time.Minute).Unix()),
	}
	for p, c := range files {
		if err := os.WriteFile(p, []byte(c), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	conf := filepath.Join(dir, "host.conf")
	content := strings.Join([]string{"STATE_DIR=" + stateDir, "RUN_DIR=" + runDir, "PVE_MARK=" + mark,
		"LOG_FILE=" + filepath.Join(dir, "host.log"), "SYSLOG=0", "CHECK_TARGETS=198.51.100.1", "OP_IP=10.99.0.1",
		"OP_SSH_PORT=2222", "OP_SSH_USER=admin",
		"SSH_KEY=" + filepath.Join(dir, "no-key"), "KNOWN_HOSTS=" + filepath.Join(dir, "known_hosts"),
		"HEARTBEAT_URL=https://hc-ping.com/0f3e-SECRET", "HEARTBEAT_EVERY=10m"}, "\n")
	if err := os.WriteFile(conf, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	stderr, err := os.Create(filepath.Join(dir, "stderr"))
	if err != nil {
		t.Fatal(err)
	}
	defer stderr.Close()
	var out strings.Builder
	var ran []string
	e := runenv.Env{Stdout: &out, Stderr: stderr, Now: func() time.Time { return now },
		Probe: func(context.Context, probe.Config) probe.Result { return probe.Result{} },
		Exec: func(_ context.Context, cmdline string, _ time.Duration) command.Result {
			ran = append(ran, cmdline)
			return command.Result{Cmd: cmdline}
		},
		Uptime: func() (time.Duration, error) { return time.Hour, nil }, BootID: func() (string, error) { return "boot-1", nil }}
	err = run(context.Background(), []string{"-config", conf, "status", "-json", "-crontab", filepath.Join(dir, "crontab")}, e)
	if code := cli.ExitCode(err); code != 1 {
		t.Errorf("exit %d (%v); want 1 (no crontab, no SSH key)", code, err)
	}
	if strings.Contains(out.String(), "SECRET") {
		t.Errorf("status -json shows HEARTBEAT_URL's secret:\n%s", out.String())
	}
	var got map[string]any
	dec := json.NewDecoder(strings.NewReader(out.String()))
	if err := dec.Decode(&got); err != nil || dec.More() {
		t.Fatalf("stdout is not one JSON object (%v):\n%s", err, out.String())
	}
	if got["side"] != "host" || got["ok"] != false {
		t.Errorf("side, ok = %v, %v; want host, false", got["side"], got["ok"])
	}
	names, fixes := map[string]bool{}, map[string]string{}
	for _, c := range got["checks"].([]any) {
		m := c.(map[string]any)
		names[m["name"].(string)] = m["ok"].(bool)
		fixes[m["name"].(string)], _ = m["fix"].(string)
	}
	// A second misfire today (the mark kept): only midnight-reset -force
	// allows another try today; the fix said "until midnight-reset", and a
	// plain one by hand did not lift it.
	if fix := fixes["host reboot"]; !strings.Contains(fix, "midnight-reset -force") {
		t.Errorf("host reboot fix %q; want midnight-reset -force", fix)
	}
	// The pairing command reaches the router's Dropbear: without -p it
	// went to port 22 while OP_SSH_PORT said 2222.
	if fix := fixes["SSH key"]; !strings.Contains(fix, "ssh-copy-id -i "+filepath.Join(dir, "no-key")+" -p 2222 admin@10.99.0.1 ") {
		t.Errorf("SSH key fix %q; want ssh-copy-id with -p 2222 admin@10.99.0.1", fix)
	}
	for name, ok := range map[string]bool{"SSH key": false, "cron entries": false, "internet": false, "reboot mark": true, "heartbeat": true, "host reboot": false} {
		if v, present := names[name]; !present || v != ok {
			t.Errorf("check %q: present %v, ok %v; want ok %v (checks: %v)", name, present, v, ok, names)
		}
	}
	st := got["state"].(map[string]any)
	router := st["router"].(map[string]any)
	if router["read"] != false || router["error"] == "" || router["count"] != nil {
		t.Errorf("state.router = %v; want read false with the SSH error, count null", router)
	}
	want := map[string]any{
		"state_dir":         stateDir,
		"mark":              map[string]any{"date": "2026-12-06", "time": reboot.Format(time.RFC3339), "reason": "SOS count=10", "boot_id": ""},
		"last_reboot_date":  "2026-12-06",
		"down_since":        down.Format(time.RFC3339),
		"outage_seconds":    2400.0,
		"router_down_since": now.Add(-10 * time.Minute).Format(time.RFC3339),
		"vm_restart_date":   "2026-12-05",
		"vm_starts_today":   2.0,
		"internet":          map[string]any{"up": false, "detail": "no reply in 0s"},
		"last_action":       map[string]any{"action": "host-reboot", "time": reboot.Format(time.RFC3339)},
		"actions":           map[string]any{"host-reboot": 1.0, "vm-restart": 2.0, "vm-resume": 0.0, "vm-start": 0.0},
		"heartbeat": map[string]any{"host": "hc-ping.com", "every_seconds": 600.0, "last_sent": now.Add(-5 * time.Minute).Format(time.RFC3339),
			"last_failed": false, "fail_pending": true},
		"pause":         map[string]any{"until": now.Add(30 * time.Minute).Format(time.RFC3339), "left_seconds": 1800.0},
		"held_reboot":   "SOS count=10",
		"held_sos":      map[string]any{"sos": "count=10", "count": 10.0, "seen": "2026-12-06"},
		"misfire_date":  "2026-12-06",
		"record_unread": false,
		"notify":        nil, // no NOTIFY_URL
	}
	for k, w := range want {
		if !reflect.DeepEqual(st[k], w) {
			t.Errorf("state.%s = %#v; want %#v", k, st[k], w)
		}
	}
	if hr, _ := st["host_rescue"].(string); !strings.Contains(hr, "today's host rescue is spent") {
		t.Errorf("state.host_rescue = %q; want the outlook of the reboot mark check", hr)
	}
	if len(st) != len(want)+2 {
		t.Errorf("state has %d keys; want %d (update the README and this test together): %v", len(st), len(want)+2, st)
	}
	if len(ran) != 0 {
		t.Errorf("status ran %q; want nothing (VM_ID is empty)", ran)
	}
	// status reads, never writes: the RUN_DIR record is as it was.
	if b, _ := os.ReadFile(filepath.Join(runDir, HeartbeatFile)); string(b) != files[filepath.Join(runDir, HeartbeatFile)] {
		t.Errorf("status changed the heartbeat record: %q", b)
	}
}

// TestPackageCron: status checks the package's /etc/cron.d/netrescue only
// while the package's /usr/bin/hostcheck, which its lines run ("test -x
// /usr/bin/hostcheck && …", packaging/deb/cron.d), is there. After `dpkg -r`
// the conffile stays and the binary goes: root's crontab, where
// install.sh's copy puts its lines, is the one to check.
func TestPackageCron(t *testing.T) {
	dir := t.TempDir()
	cronD, bin := filepath.Join(dir, "cron.d-netrescue"), filepath.Join(dir, "hostcheck")
	if packageCron(cronD, bin) {
		t.Errorf("no cron.d file, no binary: packageCron = true")
	}
	if err := os.WriteFile(cronD, []byte("*/5 * * * * root test -x /usr/bin/hostcheck && /usr/bin/hostcheck # netrescue\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if packageCron(cronD, bin) {
		t.Errorf("cron.d file left by dpkg -r, no binary: packageCron = true; want root's crontab checked")
	}
	if err := os.WriteFile(bin, []byte("#!/bin/sh\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	if !packageCron(cronD, bin) {
		t.Errorf("package installed: packageCron = false; want its cron.d checked")
	}
}

// TestHostStatusDNSFault: during a DNS fault (the IP targets answer, the
// router's resolver does not) `status -json` gives the outage's length,
// as METRICS_FILE does (it gave 0), and status shows the LAN fault under
// way: its kind, how many runs saw it and the steps asked (SPEC §14).
func TestHostStatusDNSFault(t *testing.T) {
	dir := t.TempDir()
	now := time.Date(2026, 12, 6, 12, 0, 0, 0, time.UTC)
	stateDir, runDir := filepath.Join(dir, "state"), filepath.Join(dir, "run")
	for _, d := range []string{stateDir, runDir} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	rec := fmt.Sprintf("down_since=%d\nlast_reboot_date=\nrouter_down_since=\nvm_restart_date=\nlan_fault=dns\nlan_seen=3\nlan_steps=dns\nlan_held=0\n",
		now.Add(-40*time.Minute).Unix())
	if err := os.WriteFile(filepath.Join(stateDir, "hostcheck.state"), []byte(rec), 0o644); err != nil {
		t.Fatal(err)
	}
	conf := statusLabConf(t, dir, "STATE_DIR="+stateDir, "RUN_DIR="+runDir, "PVE_MARK="+filepath.Join(dir, "mark"), "SSH_KEY="+filepath.Join(dir, "no-key"))
	var out strings.Builder
	e := runenv.Env{Stdout: &out, Stderr: statusStderr(t, dir), Now: func() time.Time { return now },
		Probe:   func(context.Context, probe.Config) probe.Result { return probe.Result{Up: true} },
		Resolve: func(context.Context, string, string) error { return errors.New("SERVFAIL") },
		Exec: func(_ context.Context, cmdline string, _ time.Duration) command.Result {
			return command.Result{Cmd: cmdline}
		},
		Uptime: func() (time.Duration, error) { return time.Hour, nil }, BootID: func() (string, error) { return "boot-1", nil }}
	run(context.Background(), []string{"-config", conf, "status", "-json", "-crontab", filepath.Join(dir, "crontab")}, e)
	var got map[string]any
	if err := json.Unmarshal([]byte(out.String()), &got); err != nil {
		t.Fatalf("stdout is not JSON (%v):\n%s", err, out.String())
	}
	if v := got["state"].(map[string]any)["outage_seconds"]; v != 2400.0 {
		t.Errorf("state.outage_seconds = %v during a DNS fault; want 2400", v)
	}
	// internet.up agrees with outage_seconds and netrescue_internet_up: a
	// DNS fault is down for the family (it said up, beside an outage).
	if in, _ := got["state"].(map[string]any)["internet"].(map[string]any); in["up"] != false || !strings.Contains(fmt.Sprint(in["detail"]), "DNS via the router failed") {
		t.Errorf("state.internet = %v during a DNS fault; want up false, the DNS failure said", in)
	}
	found := false
	for _, c := range got["checks"].([]any) {
		m := c.(map[string]any)
		if m["name"] == "LAN fault" {
			found = true
			if d, _ := m["detail"].(string); !strings.Contains(d, "dns") || !strings.Contains(d, "seen by 3") || !strings.Contains(d, "steps asked of the router: dns") {
				t.Errorf("LAN fault check: %q; want the kind, the runs that saw it and the steps", d)
			}
		}
	}
	if !found {
		t.Errorf("status shows no LAN fault:\n%s", out.String())
	}
}

// TestHostStatusNotify: with NOTIFY_URL set, `hostcheck status` has a
// notifications line and `status -json` a "notify" object: nothing queued;
// messages waiting for the internet, since the oldest; and messages
// waiting while their delivery fails (the service answered HTTP 400: RUN_DIR's
// notify.failing), a ✗ naming the failure, never the URL's secret (SPEC §9).
func TestHostStatusNotify(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusBadRequest)
	}))
	defer srv.Close()
	t.Setenv("HTTP_PROXY", "")
	t.Setenv("http_proxy", "")
	now := time.Date(2026, 12, 6, 12, 0, 0, 0, time.UTC)
	first := now.Add(-40 * time.Minute)
	service := "webhook http://127.0.0.1" // the host only: notify.Service
	for _, tc := range []struct {
		name     string
		queue    int  // messages queued, 10 minutes apart from first
		deliver  bool // a run that finds the net up tried to send them
		fifo     bool // notify.queue is a FIFO: damaged, not read
		wantLine string
		wantFix  bool
		wantJSON map[string]any
	}{
		{name: "none queued", wantLine: "✓ notifications: " + service + ": none queued",
			wantJSON: map[string]any{"service": service, "queued": 0.0, "queued_since": nil, "failing": ""}},
		{name: "waiting for the internet", queue: 2,
			wantLine: "✓ notifications: " + service + ": 2 queued since 2026-12-06 11:20:00, sent by the first hostcheck run that finds the internet up",
			wantJSON: map[string]any{"service": service, "queued": 2.0, "queued_since": first.Format(time.RFC3339), "failing": ""}},
		{name: "delivery failing", queue: 2, deliver: true, wantFix: true,
			wantLine: "✗ notifications: " + service + ": 2 queued since 2026-12-06 11:20:00; delivery failing: HTTP 400 Bad Request",
			wantJSON: map[string]any{"service": service, "queued": 2.0, "queued_since": first.Format(time.RFC3339), "failing": "HTTP 400 Bad Request"}},
		{name: "queue damaged", fifo: true, wantFix: true,
			wantLine: "✗ notifications: " + service + ": STATE/notify.queue is damaged (fifo): fifo where a regular file was expected; not read",
			wantJSON: map[string]any{"service": service, "queued": 0.0, "queued_since": nil, "failing": ""}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			stateDir, runDir := filepath.Join(dir, "state"), filepath.Join(dir, "run")
			for _, d := range []string{stateDir, runDir} {
				if err := os.MkdirAll(d, 0o755); err != nil {
					t.Fatal(err)
				}
			}
			url := srv.URL + "/hook/SECRETKEY?token=SECRETTOKEN"
			h := testHost(t, nil)
			h.cfg.StateDir, h.cfg.RunDir, h.cfg.NotifyURL = stateDir, runDir, url
			for i := range tc.queue {
				at := first.Add(time.Duration(i) * 10 * time.Minute)
				h.e.Now = func() time.Time { return at }
				h.notify("sos", fmt.Sprintf("OpenWrt 发出 SOS：count=%d", 10+i), false)
			}
			if tc.fifo {
				if err := syscall.Mkfifo(filepath.Join(stateDir, notify.QueueFile), 0o600); err != nil {
					t.Fatal(err)
				}
			}
			if tc.deliver {
				h.flushNotifications(context.Background(), rescue.Obs{Now: now, NetKnown: true, NetUp: true})
			}
			conf := filepath.Join(dir, "host.conf")
			content := strings.Join([]string{"STATE_DIR=" + stateDir, "RUN_DIR=" + runDir, "PVE_MARK=" + filepath.Join(dir, "mark"),
				"LOG_FILE=" + filepath.Join(dir, "host.log"), "SYSLOG=0", "CHECK_TARGETS=198.51.100.1", "OP_IP=10.99.0.1",
				"SSH_KEY=" + filepath.Join(dir, "no-key"), "KNOWN_HOSTS=" + filepath.Join(dir, "known_hosts"), "NOTIFY_URL=" + url}, "\n")
			if err := os.WriteFile(conf, []byte(content), 0o600); err != nil {
				t.Fatal(err)
			}
			stderr, err := os.Create(filepath.Join(dir, "stderr"))
			if err != nil {
				t.Fatal(err)
			}
			defer stderr.Close()
			status := func(args ...string) string {
				t.Helper()
				var out strings.Builder
				e := runenv.Env{Stdout: &out, Stderr: stderr, Now: func() time.Time { return now },
					Probe: func(context.Context, probe.Config) probe.Result { return probe.Result{} },
					Exec: func(_ context.Context, cmdline string, _ time.Duration) command.Result {
						return command.Result{Cmd: cmdline}
					},
					Uptime: func() (time.Duration, error) { return time.Hour, nil }, BootID: func() (string, error) { return "boot-1", nil }}
				run(context.Background(), append([]string{"-config", conf, "status", "-crontab", filepath.Join(dir, "crontab")}, args...), e)
				if strings.Contains(out.String(), "SECRET") {
					t.Errorf("status %q shows NOTIFY_URL's secret:\n%s", args, out.String())
				}
				return out.String()
			}
			text := status()
			var line, fix string
			for i, l := range strings.Split(text, "\n") {
				if strings.Contains(l, " notifications") {
					line = l
					if rest := strings.Split(text, "\n")[i+1:]; len(rest) > 0 && strings.HasPrefix(rest[0], "    fix: ") {
						fix = rest[0]
					}
				}
			}
			if line = strings.ReplaceAll(line, stateDir, "STATE"); line != tc.wantLine || (fix != "") != tc.wantFix {
				t.Errorf("status: notifications line %q, fix %q; want %q, a fix %v:\n%s", line, fix, tc.wantLine, tc.wantFix, text)
			}
			var got map[string]any
			if err := json.Unmarshal([]byte(status("-json")), &got); err != nil {
				t.Fatalf("status -json is not JSON: %v", err)
			}
			if n := got["state"].(map[string]any)["notify"]; !reflect.DeepEqual(n, tc.wantJSON) {
				t.Errorf("state.notify = %#v; want %#v", n, tc.wantJSON)
			}
			found := false
			for _, c := range got["checks"].([]any) {
				if m := c.(map[string]any); m["name"] == "notifications" {
					found = true
					if m["ok"] != !tc.wantFix {
						t.Errorf("check notifications: ok %v; want %v", m["ok"], !tc.wantFix)
					}
				}
			}
			if !found {
				t.Errorf("status -json has no notifications check")
			}
		})
	}
}

// TestHostStatusUnreadRecord: with hostcheck.state there but not read
// (here STATE_DIR through a file: ENOTDIR, as EIO would), status told of
// a host reboot and a VM restart "today" that Load made up to keep the
// day spent, and its fix said to delete the file, which may hold today's
// host rescue. Now the JSON says record_unread with those fields empty,
// and the checklist says to check the disk.
func TestHostStatusUnreadRecord(t *testing.T) {
	dir := t.TempDir()
	now := time.Date(2026, 12, 6, 12, 0, 0, 0, time.UTC)
	file := filepath.Join(dir, "file")
	if err := os.WriteFile(file, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	lines := []string{"STATE_DIR=" + filepath.Join(file, "state"), "RUN_DIR=" + filepath.Join(dir, "run"), "PVE_MARK=" + filepath.Join(dir, "mark"),
		"SSH_KEY=" + filepath.Join(dir, "no-key"), "VM_ID=100"}
	conf := statusLabConf(t, dir, lines...)
	stderr := statusStderr(t, dir)
	status := func(args ...string) string {
		var out strings.Builder
		e := runenv.Env{Stdout: &out, Stderr: stderr, Now: func() time.Time { return now },
			Probe: func(context.Context, probe.Config) probe.Result { return probe.Result{} },
			Exec: func(_ context.Context, cmdline string, _ time.Duration) command.Result {
				// qm status --verbose of a stopped VM (qemu-server's
				// PVE/CLI/qm.pm prints "key: value" lines); the rest answers
				// nothing.
				if strings.Contains(cmdline, "status 100") {
					return command.Result{Cmd: cmdline, Stdout: "name: openwrt\nqmpstatus: stopped\nstatus: stopped\nvmid: 100\n"}
				}
				return command.Result{Cmd: cmdline}
			},
			Uptime: func() (time.Duration, error) { return time.Hour, nil }, BootID: func() (string, error) { return "boot-1", nil }}
		_ = run(context.Background(), append([]string{"-config", conf, "status", "-crontab", filepath.Join(dir, "crontab")}, args...), e)
		return out.String()
	}
	// RUN_DIR's copy of the unread day's VM starts, damaged: told, with
	// what the next run does (it only removes it).
	if err := os.MkdirAll(filepath.Join(dir, "run", rescue.UnreadFile, "x"), 0o755); err != nil {
		t.Fatal(err)
	}
	text := status()
	if !strings.Contains(text, "hostcheck.unread is damaged") || !strings.Contains(text, "the next hostcheck run removes it") {
		t.Errorf("status with a damaged hostcheck.unread: want it told with what the next run does:\n%s", text)
	}
	if err := os.RemoveAll(filepath.Join(dir, "run", rescue.UnreadFile)); err != nil {
		t.Fatal(err)
	}
	text = status()
	if !strings.Contains(text, "state file") || !strings.Contains(text, "check the disk") || strings.Contains(text, "delete the file") {
		t.Errorf("status of an unread record: want the state file line telling to check the disk, not to delete it:\n%s", text)
	}
	if strings.Contains(text, "router VM restart") {
		t.Errorf("status tells of a VM restart the record may not hold:\n%s", text)
	}
	if !strings.Contains(text, "router VM starts today: not known (hostcheck.state could not be read): one start is left today") {
		t.Errorf("status of an unread record: want the VM starts told as not known:\n%s", text)
	}
	// With VM_START_MAX=0 no start is allowed, none was taken; the
	// unread day counts as having had its host reboot and cold restart,
	// so the run has nothing more to try, and status says so.
	statusLabConf(t, dir, append(lines, "VM_START_MAX=0")...)
	if text := status(); !strings.Contains(text, "✓ router VM starts today: none (VM_START_MAX=0): a router VM found stopped or paused gets no start or resume of its own; while the internet is down hostcheck has nothing more to try until midnight") ||
		!strings.Contains(text, "fix: qm start 100 by hand: hostcheck has nothing more to try until midnight") || strings.Contains(text, "was taken") {
		t.Errorf("status of an unread record, VM_START_MAX=0: want no starts, nothing more to try said (no start said taken):\n%s", text)
	}
	statusLabConf(t, dir, lines...)
	var got map[string]any
	if err := json.Unmarshal([]byte(status("-json")), &got); err != nil {
		t.Fatal(err)
	}
	st := got["state"].(map[string]any)
	for k, w := range map[string]any{"record_unread": true, "last_reboot_date": "", "vm_restart_date": "", "vm_starts_today": 0.0, "down_since": nil, "held_sos": nil} {
		if !reflect.DeepEqual(st[k], w) {
			t.Errorf("state.%s = %#v; want %#v", k, st[k], w)
		}
	}
	if hr, _ := st["host_rescue"].(string); !strings.Contains(hr, "could not be read") {
		t.Errorf("state.host_rescue = %q; want it said", hr)
	}
}

// TestMarkDirectory: PVE_MARK set to a directory by mistake (/root, with
// the SSH key in it) is never moved or deleted: a cron run renamed it
// away to /root.damaged-TIME, SSH key and all. The run says what to fix,
// and status's fix says to set PVE_MARK, not to delete the "file".
func TestMarkDirectory(t *testing.T) {
	dir := t.TempDir()
	root := filepath.Join(dir, "root")
	key := filepath.Join(root, ".ssh", "id_ed25519")
	if err := os.MkdirAll(filepath.Dir(key), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(key, []byte("key\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	conf := statusLabConf(t, dir, "STATE_DIR="+filepath.Join(dir, "state"), "RUN_DIR="+filepath.Join(dir, "run"), "PVE_MARK="+root, "SSH_KEY="+key)
	var out strings.Builder
	e := runenv.Env{Stdout: &out, Stderr: statusStderr(t, dir), Now: func() time.Time { return testNow },
		Probe: func(context.Context, probe.Config) probe.Result { return probe.Result{Up: true} },
		Exec: func(_ context.Context, cmdline string, _ time.Duration) command.Result {
			return command.Result{Cmd: cmdline}
		},
		Uptime: func() (time.Duration, error) { return 24 * time.Hour, nil }, BootID: func() (string, error) { return "boot-1", nil }}
	_ = run(context.Background(), []string{"-config", conf}, e)
	if b, err := os.ReadFile(key); err != nil || string(b) != "key\n" {
		t.Fatalf("a cron run moved the directory at PVE_MARK away: the SSH key reads %q, %v", b, err)
	}
	if aside, _ := filepath.Glob(root + ".damaged-*"); len(aside) != 0 {
		t.Errorf("moved aside: %q", aside)
	}
	if log, _ := os.ReadFile(filepath.Join(dir, "host.log")); !strings.Contains(string(log), "set PVE_MARK to a file") {
		t.Errorf("the run does not say to set PVE_MARK:\n%s", log)
	}
	out.Reset()
	_ = run(context.Background(), []string{"-config", conf, "status", "-crontab", filepath.Join(dir, "crontab")}, e)
	if !strings.Contains(out.String(), "PVE_MARK names a directory") || strings.Contains(out.String(), "delete the file") {
		t.Errorf("status: want the fix to set PVE_MARK, not to delete it:\n%s", out.String())
	}
}

// statusLabConf writes dir/host.conf for a status test: the lines these
// tests share (their log, no syslog, a documentation target, a router at
// 10.99.0.1 whose host key is not pinned), then the test's own.
func statusLabConf(t *testing.T, dir string, lines ...string) string {
	t.Helper()
	conf := filepath.Join(dir, "host.conf")
	all := append([]string{"LOG_FILE=" + filepath.Join(dir, "host.log"), "SYSLOG=0", "CHECK_TARGETS=198.51.100.1", "OP_IP=10.99.0.1",
		"KNOWN_HOSTS=" + filepath.Join(dir, "known_hosts")}, lines...)
	if err := os.WriteFile(conf, []byte(strings.Join(all, "\n")+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	return conf
}

// statusStderr is dir/stderr for a run's stderr, closed when the test ends.
func statusStderr(t *testing.T, dir string) *os.File {
	t.Helper()
	f, err := os.Create(filepath.Join(dir, "stderr"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	return f
}

// TestHostStatusJSONConfigMissing: `hostcheck status -json` with a -config
// file that is not there printed nothing on stdout; a script reads the
// one JSON object a config that does not load gives, exit 2.
func TestHostStatusJSONConfigMissing(t *testing.T) {
	dir := t.TempDir()
	stderr, err := os.Create(filepath.Join(dir, "stderr"))
	if err != nil {
		t.Fatal(err)
	}
	defer stderr.Close()
	var out strings.Builder
	e := runenv.Env{Stdout: &out, Stderr: stderr, Now: func() time.Time { return time.Date(2026, 12, 6, 12, 0, 0, 0, time.UTC) }}
	err = run(context.Background(), []string{"-config", filepath.Join(dir, "missing.conf"), "status", "-json"}, e)
	var got struct {
		OK     bool `json:"ok"`
		Checks []struct {
			Name string `json:"name"`
		} `json:"checks"`
		State any `json:"state"`
	}
	got.State = "unset"
	if jerr := json.Unmarshal([]byte(out.String()), &got); jerr != nil || cli.ExitCode(err) != 2 || got.OK ||
		len(got.Checks) != 1 || got.Checks[0].Name != "config valid" || got.State != nil {
		t.Errorf("status -json of a missing config: %v (exit %d), JSON %v, stdout:\n%s\nwant exit 2 and one config valid ✗, state null",
			err, cli.ExitCode(err), jerr, out.String())
	}
}

// TestMisfireCheck: status after a host reboot that misfired today, for
// each state Store.Misfire and the runs after it leave, and the uptime
// and boot id as this run reads them. The fix named midnight-reset
// -force after a first misfire too (the next run retries it by itself);
// "misfired twice" after a retry that had rebooted the host; and whether
// a later run retries was told by a copy of the runs' rules, which
// promised retries that the runs hold (the boot id or the uptime unread,
// a misfire dated ahead, one counted since as landed, a run after
// midnight) and denied one they take (a host up for days). A retry that
// HOST_REBOOT_HOURS or a pause holds is not "no retry" with -force, an
// unread record not a day -force can give back, and the runs' lines that
// say why are theirs, not the outage the check pretends (【检测】) or a
// dry run's 【演练】. Each row says whether the runs retry, and every cron
// run left that day, with an SOS, is asked too (cronToday).
func TestMisfireCheck(t *testing.T) {
	now := time.Date(2026, 12, 6, 12, 0, 0, 0, time.UTC)
	const day = "2026-12-06"
	mark := func(boot string) state.Mark {
		return state.Mark{Date: day, Time: now.Add(-time.Hour), BootID: boot, Dated: true, Reason: "SOS count=10"}
	}
	torn := rescue.State{MisfireDate: day, MisfireBoot: "boot-1"}
	window := func(hours string) func(*config.Config) {
		return func(c *config.Config) { c.HostRebootHours, _ = config.ParseHours(hours) }
	}
	for _, tt := range []struct {
		name    string
		st      rescue.State
		uptime  time.Duration // 0: unread
		boot    string        // "unknown": unread
		at      time.Time     // now when zero
		conf    func(*config.Config)
		retries bool
		force   bool
		want    string
		fix     string // in the fix, when set
	}{
		{name: "first misfire: the mark torn down", st: torn, uptime: 72 * time.Hour, boot: "boot-1", retries: true, want: "a later run retries it"},
		{name: "second misfire: the mark kept", st: rescue.State{MisfireDate: day, MisfireBoot: "boot-1", HasMark: true, Mark: state.Mark{Date: day}}, uptime: 72 * time.Hour, boot: "boot-1", force: true, want: "misfired twice today"},
		{name: "the boot id unread then, the host booted today", st: rescue.State{MisfireDate: day, MisfireBoot: "unknown"}, uptime: 2 * time.Hour, boot: "boot-1", force: true, want: "no retry today, as the runs decide: 【严重错误】无法读取开机 ID"},
		{name: "the boot id unread then, the host up for days", st: rescue.State{MisfireDate: day, MisfireBoot: "unknown"}, uptime: 5 * 24 * time.Hour, boot: "boot-1", retries: true, want: "a later run retries it"},
		// The next run, the uptime still unread, counts the misfire as
		// landed: reading it helps only before that run.
		{name: "the boot id unread then, the uptime unread now", st: rescue.State{MisfireDate: day, MisfireBoot: "unknown"}, boot: "boot-1",
			want: "no retry today, as the runs decide: 【严重错误】无法读取开机 ID", fix: "up since before 12-05, before the next run (12:00): a run that cannot read it counts the misfire as landed"},
		{name: "the retry's mark, confirmed by the next run", st: rescue.State{MisfireDate: day, HasMark: true, Mark: mark("boot-1"), LastReboot: day}, uptime: time.Hour, boot: "boot-2", want: "retry, ordered at 11:00, rebooted the host"},
		// hostcheck boot confirmed the retry (ConfirmBoot: the new boot's
		// id in the mark) before the first cron run of the new boot: it
		// read ✗ "stands", with -force as the fix.
		{name: "the retry's mark, confirmed at boot", st: rescue.State{MisfireDate: day, MisfireBoot: "boot-1", HasMark: true, Mark: mark("boot-2"), LastReboot: day}, uptime: 3 * time.Minute, boot: "boot-2", want: "rebooted the host"},
		{name: "a mark of the misfire's own boot", st: rescue.State{MisfireDate: day, MisfireBoot: "boot-1", HasMark: true, Mark: mark("boot-1")}, uptime: 72 * time.Hour, boot: "boot-1", force: true, want: "could not be removed"},
		{name: "the boot id unread now", st: torn, uptime: 3 * time.Hour, boot: "unknown", force: true, want: "无法读取开机 ID"},
		// -force would not help: the guard reads an unread uptime as 0.
		{name: "the uptime unread now", st: torn, boot: "boot-1", want: "no retry today, as the runs decide: 【推迟】物理机开机时间过短", fix: "(cat /proc/uptime)"},
		{name: "counted since as landed", st: rescue.State{MisfireDate: day, MisfireBoot: "boot-2", LastReboot: day}, uptime: 2 * time.Hour, boot: "boot-2", force: true, want: "today's host rescue counts as spent"},
		// Dated days ahead by a clock since put right, read raw: "before
		// the day before it" held for any boot, and a retry was promised.
		{name: "a misfire dated ahead", st: rescue.State{MisfireDate: "2026-12-09", MisfireBoot: "unknown"}, uptime: 2 * time.Hour, boot: "boot-2", force: true, want: "no retry today"},
		// The run after midnight was asked with the SOS still standing,
		// which midnight-reset clears; a reboot then is the new day's.
		// No cron run is left today: -force allows no retry either.
		{name: "at 23:57, counted as landed", st: rescue.State{MisfireDate: day, MisfireBoot: "boot-2", LastReboot: day}, uptime: 2 * time.Hour, boot: "boot-2",
			at: time.Date(2026, 12, 6, 23, 57, 0, 0, time.UTC), want: "no retry today, no cron run is left today"},
		// 23:58: the next cron run is at 00:00, the new day's; it was asked
		// at 23:58, and then said the day spent with -force as the fix.
		{name: "at 23:58, torn", st: torn, uptime: 72 * time.Hour, boot: "boot-1", at: time.Date(2026, 12, 6, 23, 58, 0, 0, time.UTC), want: "no retry today, no cron run is left today"},
		{name: "HOST_REBOOT_HOURS holds the retry", st: torn, uptime: 72 * time.Hour, boot: "boot-1", conf: window("2-5"),
			want: "HOST_REBOOT_HOURS=2-5 holds the retry; a run from 12-07 02:00 retries it"},
		// A reboot the window held earlier in the outage, the window open
		// now and the boot id unread: held by the boot id, not the window
		// (it said the window held it, from a time the runs still held it).
		{name: "held before, the boot id unread now", st: rescue.State{MisfireDate: day, MisfireBoot: "boot-1", HeldReboot: "SOS count=10"}, uptime: 3 * time.Hour, boot: "unknown",
			conf: window("10-14"), force: true, want: "无法读取开机 ID"},
		{name: "a pause holds the retry", st: rescue.State{MisfireDate: day, MisfireBoot: "boot-1", PauseUntil: now.Add(2 * time.Hour)}, uptime: 72 * time.Hour, boot: "boot-1",
			retries: true, want: "a pause holds every host step until 12-06 14:00; a later run retries it"},
		// Paused, on a day already spent: no retry after the pause either,
		// and hostcheck resume was the fix.
		{name: "a pause on a day spent", st: rescue.State{MisfireDate: day, MisfireBoot: "boot-2", LastReboot: day, PauseUntil: now.Add(2 * time.Hour)}, uptime: 2 * time.Hour, boot: "boot-2",
			force: true, want: "no retry today"},
		{name: "a pause past midnight", st: rescue.State{MisfireDate: day, MisfireBoot: "boot-1", PauseUntil: now.Add(13 * time.Hour)}, uptime: 72 * time.Hour, boot: "boot-1",
			want: "until 12-07 01:00; no retry today"},
		{name: "the record unread", st: rescue.State{MisfireDate: day, MisfireBoot: "boot-1", RecordUnread: true, LastReboot: day}, uptime: 72 * time.Hour, boot: "boot-1",
			want: "cannot be read, so today's host rescue counts as spent"},
		{name: "a dry run: the runs' lines without 【演练】", st: torn, uptime: 3 * time.Hour, boot: "unknown",
			conf: func(c *config.Config) { c.DryRun = true }, force: true, want: "as the runs decide: 【推迟】无法读取开机 ID"},
		// With VM_ID and VM_RESTART_FIRST, the router's next SOS takes the
		// day's VM cold restart first: it said the host's retry came then.
		{name: "VM_ID: the VM's cold restart first", st: torn, uptime: 72 * time.Hour, boot: "boot-1",
			conf: func(c *config.Config) { c.VMID, c.VMRestartFirst = "100", true }, retries: true, want: "takes the day's VM cold restart first"},
	} {
		h := testHost(t, nil)
		h.cfg.VMID = "" // the host's own reboot, unless the row sets one
		if tt.conf != nil {
			tt.conf(&h.cfg)
		}
		at := now
		if !tt.at.IsZero() {
			at = tt.at
		}
		o := rescue.Obs{Now: at, Uptime: tt.uptime, UptimeUnknown: tt.uptime == 0, BootID: tt.boot}
		c := h.misfireCheck(tt.st, o)
		if !strings.Contains(c.Detail, tt.want) || strings.Contains(c.Detail, "retries it") != (tt.retries || strings.Contains(tt.want, "retries it")) ||
			strings.Contains(c.Fix, "-force") != tt.force || c.OK != strings.Contains(tt.want, "rebooted the host") || !c.OK && !strings.Contains(c.Fix, "REBOOT_CMD") ||
			strings.Contains(c.Detail, "【检测】") || strings.Contains(c.Detail, "【演练】") || strings.Contains(c.Detail, "捕获 SOS") || !strings.Contains(c.Fix, tt.fix) {
			t.Errorf("%s: %+v; want %q, a retry promised: %v, -force: %v", tt.name, c, tt.want, tt.retries, tt.force)
		}
		// The runs themselves, that day: every cron run left, with an SOS
		// and the VM running.
		retried, _ := cronToday(h.cfg, tt.st, o, nil)
		if retried != tt.retries {
			t.Errorf("%s: the runs with an SOS reboot the host that day: %v; want %v", tt.name, retried, tt.retries)
		}
	}
}

// TestHostStatusLANMisfire: the host's reboot for a LAN path fault
// misfired in this boot (【回退】, the day given back): the next run
// retries that reboot (rescue.LANHostStep). status said of the fault
// "steps asked of the router: none yet since the host's reboot for it",
// a reboot that never happened, and a ladder that is not climbed again.
func TestHostStatusLANMisfire(t *testing.T) {
	dir := t.TempDir()
	now := time.Date(2026, 12, 6, 12, 0, 0, 0, time.UTC)
	stateDir, runDir := filepath.Join(dir, "state"), filepath.Join(dir, "run")
	for _, d := range []string{stateDir, runDir} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	rec := fmt.Sprintf("down_since=%d\nlast_reboot_date=\nrouter_down_since=\nvm_restart_date=\nlan_fault=path\nlan_seen=0\nlan_steps=host\nlan_held=0\nmisfire_date=2026-12-06\nmisfire_boot=boot-1\n",
		now.Add(-40*time.Minute).Unix())
	if err := os.WriteFile(filepath.Join(stateDir, "hostcheck.state"), []byte(rec), 0o644); err != nil {
		t.Fatal(err)
	}
	conf := statusLabConf(t, dir, "STATE_DIR="+stateDir, "RUN_DIR="+runDir, "PVE_MARK="+filepath.Join(dir, "mark"), "SSH_KEY="+filepath.Join(dir, "no-key"))
	var out strings.Builder
	e := runenv.Env{Stdout: &out, Stderr: statusStderr(t, dir), Now: func() time.Time { return now },
		Probe: func(context.Context, probe.Config) probe.Result { return probe.Result{Up: false} },
		Exec: func(_ context.Context, cmdline string, _ time.Duration) command.Result {
			return command.Result{Cmd: cmdline}
		},
		Uptime: func() (time.Duration, error) { return time.Hour, nil }, BootID: func() (string, error) { return "boot-1", nil }}
	run(context.Background(), []string{"-config", conf, "status", "-json", "-crontab", filepath.Join(dir, "crontab")}, e)
	var got map[string]any
	if err := json.Unmarshal([]byte(out.String()), &got); err != nil {
		t.Fatalf("stdout is not JSON (%v):\n%s", err, out.String())
	}
	found := false
	for _, c := range got["checks"].([]any) {
		m := c.(map[string]any)
		if m["name"] == "LAN fault" {
			found = true
			if d, _ := m["detail"].(string); strings.Contains(d, "since the host's reboot") || !strings.Contains(d, "misfired") {
				t.Errorf("LAN fault check: %q; want the host's reboot for it said misfired and retried, not done", d)
			}
		}
	}
	if !found {
		t.Errorf("status shows no LAN fault:\n%s", out.String())
	}
}
