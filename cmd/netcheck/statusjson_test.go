package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/pve-op/network-rescue/internal/cli"
)

// TestStatusJSON: `netcheck status -json` is one JSON object on stdout —
// side, time, ok, the checks (name, ok, detail, fix) and the state read
// from the files netcheck keeps — with the exit status of the checklist:
// 1 when a check failed (here the crontab is missing). It is decoded as a
// user's tool would, by field name, not through our own types.
func TestStatusJSON(t *testing.T) {
	dir := t.TempDir()
	stateDir, runDir := filepath.Join(dir, "state"), filepath.Join(dir, "run")
	for _, d := range []string{stateDir, runDir} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	now := time.Date(2026, 11, 25, 10, 0, 0, 0, time.UTC) // fakeEnv's clock
	cooling := now.Add(90 * time.Minute)
	files := map[string]string{
		filepath.Join(stateDir, "net_rb_count"):    "7\n",
		filepath.Join(stateDir, "net_cooling_ts"):  fmt.Sprintf("%d\n", cooling.Unix()),
		filepath.Join(stateDir, "SOS_SYSTEM"):      "SOS count=7\n",
		filepath.Join(stateDir, "net_outage"):      fmt.Sprintf("last_action=L3\nsince=%d\nup_since=0\n", now.Add(-20*time.Minute).Unix()),
		filepath.Join(runDir, "netcheck.state"):    "boot=boot\ncooling_logged=0\nsos_logged=0\nstreak=12\n",
		filepath.Join(stateDir, "netrescue.pause"): fmt.Sprintf("%d\n", now.Add(45*time.Minute).Unix()),
	}
	for p, c := range files {
		if err := os.WriteFile(p, []byte(c), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	conf := filepath.Join(dir, "net.conf")
	content := strings.Join([]string{"STATE_DIR=" + stateDir, "RUN_DIR=" + runDir, "LOG_FILE=" + filepath.Join(dir, "net.log"),
		"SYSLOG=0", "CHECK_TARGETS=203.0.113.1", "IFSTATUS=/nonexistent/ifstatus", "COOLING_MAX=3h"}, "\n")
	if err := os.WriteFile(conf, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	var ran []string
	e := fakeEnv(t, &ran)
	out := &strings.Builder{}
	e.Stdout = out
	err := run(context.Background(), []string{"-config", conf, "status", "-json", "-crontab", filepath.Join(dir, "crontab")}, e)
	if code := cli.ExitCode(err); code != 1 {
		t.Errorf("exit %d (%v); want 1: the crontab is missing", code, err)
	}
	var got map[string]any
	dec := json.NewDecoder(strings.NewReader(out.String()))
	if err := dec.Decode(&got); err != nil {
		t.Fatalf("stdout is not one JSON object: %v\n%s", err, out)
	}
	if dec.More() {
		t.Fatalf("stdout holds more than one JSON value:\n%s", out)
	}
	if got["side"] != "router" || got["ok"] != false || got["time"] != "2026-11-25T10:00:00Z" {
		t.Errorf("side, ok, time = %v, %v, %v; want router, false, 2026-11-25T10:00:00Z", got["side"], got["ok"], got["time"])
	}
	checks, _ := got["checks"].([]any)
	byName := map[string]map[string]any{}
	for _, c := range checks {
		m := c.(map[string]any)
		for _, k := range []string{"name", "ok", "detail", "fix"} {
			if _, ok := m[k]; !ok {
				t.Errorf("check %v lacks %q", m, k)
			}
		}
		byName[m["name"].(string)] = m
	}
	if c := byName["cron entries"]; c == nil || c["ok"] != false || !strings.Contains(c["fix"].(string), "netcheck install --role router") {
		t.Errorf("cron entries check = %v; want ✗ with the installer fix", c)
	}
	if c := byName["internet"]; c == nil || c["ok"] != false {
		t.Errorf("internet check = %v; want ok false (the fake probe is down)", c)
	}
	if c := byName["last log lines"]; c == nil || strings.HasPrefix(c["detail"].(string), "\n") {
		t.Errorf("last log lines = %v; want a detail without the checklist's leading newline", c)
	}
	st, _ := got["state"].(map[string]any)
	want := map[string]any{
		"state_dir": stateDir, "count": 7.0, "sos_threshold": 10.0, "streak": 12.0, "rescued_by": "",
		"cooling": map[string]any{"until": cooling.Format(time.RFC3339), "left_seconds": 5400.0},
		"sos":     map[string]any{"raised": true, "content": "SOS count=7"},
		"outage": map[string]any{"since": now.Add(-20 * time.Minute).Format(time.RFC3339), "seconds": 1200.0,
			"last_action": "L3", "up_since": nil},
		"internet": map[string]any{"up": false, "detail": "no reply in 0s"},
		"pause":    map[string]any{"until": now.Add(45 * time.Minute).Format(time.RFC3339), "left_seconds": 2700.0},
	}
	for k, w := range want {
		if !reflect.DeepEqual(st[k], w) {
			t.Errorf("state.%s = %#v; want %#v", k, st[k], w)
		}
	}
	if len(st) != len(want) {
		t.Errorf("state has %d keys; want %d (update the README and this test together): %v", len(st), len(want), st)
	}

	// The text form is unchanged by the JSON form's existence.
	out.Reset()
	_ = run(context.Background(), []string{"-config", conf, "status", "-crontab", filepath.Join(dir, "crontab")}, e)
	if !strings.Contains(out.String(), "✓ reboot count: 7 of 10 today") || strings.Contains(out.String(), "{") {
		t.Errorf("text status:\n%s", out)
	}
}

// TestStatusJSONConfigBroken: a configuration that does not load still
// answers with one JSON object, the ✗ and its fix, state null, exit 2 (a
// configuration error, SPEC §7: it was 1, as for a check that failed).
func TestStatusJSONConfigBroken(t *testing.T) {
	conf := filepath.Join(t.TempDir(), "net.conf")
	if err := os.WriteFile(conf, []byte("L1_THRESHOLDS=3\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	var ran []string
	e := fakeEnv(t, &ran)
	out := &strings.Builder{}
	e.Stdout = out
	err := run(context.Background(), []string{"-config", conf, "status", "-json"}, e)
	if code := cli.ExitCode(err); code != 2 {
		t.Errorf("exit %d (%v); want 2", code, err)
	}
	var got struct {
		OK     bool `json:"ok"`
		Checks []struct {
			Name, Detail, Fix string
			OK                bool
		} `json:"checks"`
		State any `json:"state"`
	}
	if err := json.Unmarshal([]byte(out.String()), &got); err != nil {
		t.Fatalf("stdout is not JSON: %v\n%s", err, out)
	}
	if got.OK || len(got.Checks) != 1 || got.Checks[0].Name != "config valid" || !strings.Contains(got.Checks[0].Detail, "did you mean L1_THRESHOLD?") ||
		got.Checks[0].Fix == "" || got.State != nil {
		t.Errorf("status -json of a broken config = %+v", got)
	}
	// The checklist for a person alike.
	out.Reset()
	if err := run(context.Background(), []string{"-config", conf, "status"}, e); cli.ExitCode(err) != 2 || !strings.Contains(out.String(), "✗ config valid") {
		t.Errorf("status of a broken config: %v (exit %d)\n%s; want the ✗ and exit 2", err, cli.ExitCode(err), out)
	}
	// A file that is not there: the same JSON for a script (it printed
	// nothing on stdout), the message alone for a person.
	for _, tc := range []struct {
		args     []string
		wantJSON bool
	}{{[]string{"status", "-json"}, true}, {[]string{"status"}, false}} {
		out.Reset()
		args := append([]string{"-config", filepath.Join(t.TempDir(), "missing.conf")}, tc.args...)
		err := run(context.Background(), args, e)
		got.Checks, got.State = nil, "unset"
		jerr := json.Unmarshal([]byte(out.String()), &got)
		if cli.ExitCode(err) != 2 || (jerr == nil) != tc.wantJSON ||
			tc.wantJSON && (got.OK || len(got.Checks) != 1 || got.Checks[0].Name != "config valid" || got.State != nil) {
			t.Errorf("%q of a missing config: %v (exit %d), stdout:\n%s\nwant exit 2, JSON %v (one config valid ✗, state null)",
				args, err, cli.ExitCode(err), out, tc.wantJSON)
		}
	}
	// -json belongs to status.
	if err := run(context.Background(), []string{"-config", conf, "plan", "-json"}, e); cli.ExitCode(err) != 2 {
		t.Errorf("plan -json: %v; want a usage error (exit 2)", err)
	}
}
