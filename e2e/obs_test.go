package e2e

// End-to-end tests of what the binaries tell the owner's other tools
// (SPEC §16): `status -json` on both sides, METRICS_FILE and HEARTBEAT_URL
// on the host, on the real binaries in the labs of host_test.go and
// router_test.go. The heartbeat's service is an HTTP server inside the
// router namespace, on 198.51.100.1 ("the internet"): cut with it, back
// with it. Nothing leaves the namespaces.

import (
	"encoding/json"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/pve-op/network-rescue/internal/testlab"
)

// metric reads name{action="…"} (action "" for none) from a Prometheus
// text file with the format's own parser; ok is false when it is absent.
func metric(t *testing.T, path, name, action string) (float64, bool) {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatalf("METRICS_FILE: %v", err)
	}
	defer f.Close()
	p := expfmt.NewTextParser(model.LegacyValidation)
	fams, err := p.TextToMetricFamilies(f)
	if err != nil {
		t.Fatalf("METRICS_FILE does not parse: %v\n%s", err, readFile(t, path))
	}
	fam := fams[name]
	if fam == nil {
		return 0, false
	}
	for _, m := range fam.GetMetric() {
		got := ""
		for _, lp := range m.GetLabel() {
			if lp.GetName() == "action" {
				got = lp.GetValue()
			}
		}
		if got == action {
			if m.GetCounter() != nil {
				return m.GetCounter().GetValue(), true
			}
			return m.GetGauge().GetValue(), true
		}
	}
	return 0, false
}

// TestHostObservability: HEARTBEAT_URL, METRICS_FILE and `status -json` on
// the real hostcheck in the host lab.
func TestHostObservability(t *testing.T) {
	l := newHostLab(t)
	recorder(t, l.bin, "REBOOT_FAIL", l.actions, "echo 'reboot: permission denied' >&2\nexit 1")

	// The heartbeat service, on "the internet".
	var ln net.Listener
	if err := testlab.InNetns(l.router, func() { ln, _ = net.Listen("tcp", "198.51.100.1:8080") }); err != nil || ln == nil {
		t.Fatalf("listen in %s: %v", l.router, err)
	}
	var mu sync.Mutex
	var got []string
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		got = append(got, r.Method+" "+r.URL.String())
		mu.Unlock()
		w.Write([]byte("OK"))
	})}
	go srv.Serve(ln)
	defer srv.Close()
	requests := func() []string { mu.Lock(); defer mu.Unlock(); return append([]string(nil), got...) }
	const secret = "5f1e2d3c-SECRET-UUID"
	beatURL := "http://198.51.100.1:8080/ping/" + secret

	t.Run("heartbeat and metrics", func(t *testing.T) {
		textfile := filepath.Join(l.h, "textfile")
		prom := filepath.Join(textfile, "netrescue.prom")
		l.reset(t, "HEARTBEAT_URL="+beatURL, "HEARTBEAT_EVERY=5m", "METRICS_FILE="+prom)
		if err := os.MkdirAll(textfile, 0o755); err != nil {
			t.Fatal(err)
		}
		mu.Lock()
		got = nil
		mu.Unlock()

		// Healthy: one GET, the metrics written once, nothing persistent
		// besides METRICS_FILE, no SSH.
		conns := l.connections()
		if r := l.hostcheck(t); r.code != 0 {
			t.Fatalf("exit %d: %s", r.code, r.stderr)
		}
		if g := requests(); len(g) != 1 || g[0] != "GET /ping/"+secret {
			t.Fatalf("heartbeat service got %q; want one GET /ping/%s", g, secret)
		}
		if v, ok := metric(t, prom, "netrescue_internet_up", ""); !ok || v != 1 {
			t.Errorf("internet_up = %v (present %v); want 1", v, ok)
		}
		if exists(l.log) || exists(l.state) || exists(l.mark) || l.connections() != conns {
			t.Errorf("a healthy run wrote log %v, state %v, mark %v, or used SSH (%d)", exists(l.log), exists(l.state), exists(l.mark), l.connections()-conns)
		}
		if !exists(filepath.Join(l.run, "heartbeat")) {
			t.Errorf("RUN_DIR has no heartbeat record")
		}
		// The same again within HEARTBEAT_EVERY: no request, METRICS_FILE untouched.
		old := time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC)
		if err := os.Chtimes(prom, old, old); err != nil {
			t.Fatal(err)
		}
		if r := l.hostcheck(t); r.code != 0 {
			t.Fatalf("exit %d: %s", r.code, r.stderr)
		}
		if g := requests(); len(g) != 1 {
			t.Errorf("heartbeat service got %q; want still one request", g)
		}
		if fi, err := os.Stat(prom); err != nil || !fi.ModTime().Equal(old) {
			t.Errorf("METRICS_FILE rewritten by an identical run: %v", err)
		}

		// Down, SOS, a reboot command that fails: the host reboot is
		// counted before it runs, no request can leave, the failure is kept.
		l.configure(t, "HEARTBEAT_URL="+beatURL, "HEARTBEAT_EVERY=5m", "METRICS_FILE="+prom, "REBOOT_CMD="+filepath.Join(l.bin, "REBOOT_FAIL"))
		l.writeRouter(t, "SOS_SYSTEM", hostSOS)
		l.writeRouter(t, "net_rb_count", "10\n")
		l.cut(t)
		if r := l.hostcheck(t); r.code != 1 {
			t.Errorf("exit %d; want 1 (the host did not reboot): %s", r.code, r.stderr)
		}
		if !strings.Contains(readFile(t, l.log), "-> [错误]") {
			t.Fatalf("log lacks the failed reboot command:\n%s", readFile(t, l.log))
		}
		for _, w := range []struct {
			name, action string
			v            float64
		}{{"netrescue_internet_up", "", 0}, {"netrescue_host_reboots_total", "", 1}, {"netrescue_router_reboots_today", "", 10}, {"netrescue_router_sos", "", 1}} {
			if v, ok := metric(t, prom, w.name, w.action); !ok || v != w.v {
				t.Errorf("after the failed reboot: %s = %v (present %v); want %v", w.name, v, ok, w.v)
			}
		}
		if _, ok := metric(t, prom, "netrescue_last_action_timestamp_seconds", "host-reboot"); !ok {
			t.Errorf("no last_action_timestamp_seconds{action=\"host-reboot\"}:\n%s", readFile(t, prom))
		}
		if g := requests(); len(g) != 1 {
			t.Errorf("heartbeat service got %q while the internet was cut; want nothing new", g)
		}
		if rec := readFile(t, filepath.Join(l.run, "heartbeat")); !strings.Contains(rec, "fail_pending=1") {
			t.Errorf("RUN_DIR heartbeat record %q; want fail_pending=1", rec)
		}

		owed := filepath.Join(l.state, "heartbeat.fail")
		if !exists(owed) {
			t.Errorf("STATE_DIR has no heartbeat.fail after the failed reboot: a reboot would lose the /fail owed")
		}

		// The host reboots (a person, or the next day's try): RUN_DIR, a
		// tmpfs, is emptied. Back up: the next request is the failure
		// signal all the same (it was a plain GET, the owner never told).
		if err := os.Remove(filepath.Join(l.run, "heartbeat")); err != nil {
			t.Fatal(err)
		}
		// (The host acknowledged the SOS before its reboot command ran.)
		if exists(filepath.Join(l.root, "SOS_SYSTEM")) {
			t.Errorf("SOS_SYSTEM still on the router after the host's acknowledgement")
		}
		sh(t, "ip", "netns", "exec", l.router, "nft", "delete", "table", "inet", "hcut")
		if r := l.hostcheck(t); r.code != 0 {
			t.Fatalf("exit %d: %s", r.code, r.stderr)
		}
		if g := requests(); len(g) != 2 || g[1] != "GET /ping/"+secret+"/fail" {
			t.Errorf("heartbeat service got %q; want GET /ping/%s/fail second", g, secret)
		}
		log := readFile(t, l.log)
		if !strings.Contains(log, "【心跳】已报告救援步骤失败") || strings.Contains(log, secret) {
			t.Errorf("log must say 【心跳】已报告救援步骤失败 and never hold the URL's secret:\n%s", log)
		}
		if exists(owed) {
			t.Errorf("STATE_DIR/heartbeat.fail still there after the /fail went out")
		}
		if v, ok := metric(t, prom, "netrescue_internet_up", ""); !ok || v != 1 {
			t.Errorf("internet_up after the recovery = %v; want 1", v)
		}
		if v, ok := metric(t, prom, "netrescue_host_reboots_total", ""); !ok || v != 1 {
			t.Errorf("host_reboots_total after the recovery = %v; want 1 (kept in STATE_DIR)", v)
		}
	})

	t.Run("status -json", func(t *testing.T) {
		l.reset(t, "HEARTBEAT_URL="+beatURL)
		l.writeRouter(t, "net_rb_count", "4\n")
		l.writeRouter(t, "SOS_SYSTEM", hostSOS)
		r := l.hostcheck(t, "status", "-json", "-crontab", filepath.Join(l.h, "no-crontab"))
		if r.code != 1 {
			t.Errorf("exit %d; want 1 (the cron file is missing)", r.code)
		}
		var js struct {
			Side   string `json:"side"`
			OK     bool   `json:"ok"`
			Checks []struct {
				Name string `json:"name"`
				OK   bool   `json:"ok"`
				Fix  string `json:"fix"`
			} `json:"checks"`
			State struct {
				Router struct {
					Read  bool `json:"read"`
					Count *int `json:"count"`
					SOS   struct {
						Raised  bool   `json:"raised"`
						Content string `json:"content"`
					} `json:"sos"`
				} `json:"router"`
				Internet struct {
					Up bool `json:"up"`
				} `json:"internet"`
				Heartbeat struct {
					Host string `json:"host"`
				} `json:"heartbeat"`
			} `json:"state"`
		}
		if err := json.Unmarshal([]byte(r.stdout), &js); err != nil {
			t.Fatalf("stdout is not JSON: %v\n%s", err, r.stdout)
		}
		st := js.State
		if js.Side != "host" || js.OK || !st.Router.Read || st.Router.Count == nil || *st.Router.Count != 4 ||
			!st.Router.SOS.Raised || st.Router.SOS.Content != hostSOS || !st.Internet.Up || st.Heartbeat.Host != "198.51.100.1:8080" {
			t.Errorf("status -json = %+v\n%s", js, r.stdout)
		}
		failed := map[string]string{}
		for _, c := range js.Checks {
			if !c.OK {
				failed[c.Name] = c.Fix
			}
		}
		// crond runs or not on the machine that runs the test: not asserted.
		delete(failed, "crond running")
		if len(failed) != 1 || !strings.Contains(failed["cron entries"], "hostcheck install --role host") {
			t.Errorf("failed checks %v; want only the cron entries, with its fix", failed)
		}
		if strings.Contains(r.stdout, "SECRET") {
			t.Errorf("status -json shows HEARTBEAT_URL's secret")
		}
		if exists(l.log) || exists(l.state) || exists(l.mark) {
			t.Errorf("status wrote files")
		}
	})
}

// TestRouterStatusJSON: `netcheck status -json` on the real binary in the
// router lab, the internet up then cut: one JSON object with the checks
// and the state of the files, exit as the checklist's.
func TestRouterStatusJSON(t *testing.T) {
	l := newRouterLab(t, "j", "IFSTATUS=/nonexistent/ifstatus")
	if err := os.MkdirAll(l.state, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(l.state, "net_rb_count"), []byte("3\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	type report struct {
		Side   string `json:"side"`
		OK     bool   `json:"ok"`
		Checks []struct {
			Name   string `json:"name"`
			OK     bool   `json:"ok"`
			Detail string `json:"detail"`
		} `json:"checks"`
		State struct {
			Count    int `json:"count"`
			Internet struct {
				Up     bool   `json:"up"`
				Detail string `json:"detail"`
			} `json:"internet"`
			SOS struct {
				Raised bool `json:"raised"`
			} `json:"sos"`
		} `json:"state"`
	}
	for _, tc := range []struct {
		name string
		cut  bool
	}{{"up", false}, {"cut", true}} {
		if tc.cut {
			l.cut(t)
		}
		r := l.netcheck(t, "status", "-json", "-crontab", filepath.Join(l.dir, "no-crontab"))
		var js report
		if err := json.Unmarshal([]byte(r.stdout), &js); err != nil {
			t.Fatalf("%s: stdout is not JSON: %v\n%s", tc.name, err, r.stdout)
		}
		if r.code != 1 || js.OK || js.Side != "router" || js.State.Count != 3 || js.State.SOS.Raised || js.State.Internet.Up == tc.cut {
			t.Errorf("%s: exit %d, %+v", tc.name, r.code, js)
		}
		if tc.cut {
			continue
		}
		if !strings.Contains(js.State.Internet.Detail, "198.51.100.1") {
			t.Errorf("internet detail %q; want the reply from 198.51.100.1", js.State.Internet.Detail)
		}
	}
}
