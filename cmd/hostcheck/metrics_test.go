package main

import (
	"bytes"
	"context"
	"errors"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/pve-op/network-rescue/internal/command"
	"github.com/pve-op/network-rescue/internal/config"
	"github.com/pve-op/network-rescue/internal/health"
	"github.com/pve-op/network-rescue/internal/probe"
	"github.com/pve-op/network-rescue/internal/remote"
	"github.com/pve-op/network-rescue/internal/rescue"
	"github.com/pve-op/network-rescue/internal/runenv"
)

// obsLab is a host whose runs are driven by a fake clock, a fake probe and
// a fake qm that keeps a router VM's state (answers in the shape
// PVE/CLI/qm.pm prints, see qm.TestParseStatus). SSH to the router fails
// before any packet (no key). Every file is in a temp dir.
type obsLab struct {
	t       *testing.T
	dir     string
	cfg     config.Config
	now     time.Time
	up      bool
	probes  int
	vm      string // running | stopped
	dnsFail bool   // DNS_CHECK through the router gets SERVFAIL
	dnsAsks int
	ran     []string
	log     bytes.Buffer
	metrics string
	atStart string // METRICS_FILE while qm start ran
	// uptime is the host's (24h unless set); onboot puts `onboot: 1` in qm
	// config; system is what `systemctl is-system-running` prints.
	uptime    time.Duration
	uptimeErr error // /proc/uptime unreadable
	onboot    bool
	system    string
	// startFails: qm start exits 1 and the VM stays stopped (a
	// passed-through NIC that will not attach).
	startFails bool
	// lanUp: the router answers ping on the LAN (OP_IP), whatever up says.
	lanUp bool
}

func newObsLab(t *testing.T, conf ...string) *obsLab {
	t.Helper()
	l := &obsLab{t: t, dir: t.TempDir(), now: time.Date(2026, 12, 6, 10, 0, 0, 0, time.UTC), up: true, vm: "running",
		uptime: 24 * time.Hour, system: "running"}
	l.metrics = filepath.Join(l.dir, "textfile", "netrescue.prom")
	if err := os.MkdirAll(filepath.Dir(l.metrics), 0o755); err != nil {
		t.Fatal(err)
	}
	lines := []string{"STATE_DIR=" + filepath.Join(l.dir, "state"), "RUN_DIR=" + filepath.Join(l.dir, "run"),
		"PVE_MARK=" + filepath.Join(l.dir, "mark"), "LOG_FILE=" + filepath.Join(l.dir, "host.log"), "SYSLOG=0",
		"SSH_KEY=" + filepath.Join(l.dir, "no-key"), "KNOWN_HOSTS=" + filepath.Join(l.dir, "known_hosts"), "OP_IP=10.99.0.1",
		"CHECK_TARGETS=198.51.100.1", "MIN_HOST_UPTIME=0", "VM_ID=100", "QM=/usr/sbin/qm"}
	cfg, err := config.Parse("/test.conf", strings.Join(append(lines, conf...), "\n"), config.Host)
	if err != nil {
		t.Fatal(err)
	}
	l.cfg = cfg
	return l
}

// run is one cron run of hostcheck at the lab's clock.
func (l *obsLab) run() {
	l.t.Helper()
	stderr, err := os.Create(filepath.Join(l.dir, "stderr"))
	if err != nil {
		l.t.Fatal(err)
	}
	defer stderr.Close()
	e := runenv.Env{Stdout: io.Discard, Stderr: stderr, Now: func() time.Time { return l.now },
		Probe: func(_ context.Context, c probe.Config) probe.Result {
			if l.lanUp && len(c.Targets) == 1 && c.Targets[0] == l.cfg.OpIP {
				return probe.Result{Up: true}
			}
			l.probes++
			return probe.Result{Up: l.up}
		},
		Exec: func(_ context.Context, cmdline string, _ time.Duration) command.Result {
			l.ran = append(l.ran, cmdline)
			switch {
			case strings.Contains(cmdline, " status "):
				return command.Result{Cmd: cmdline, Stdout: "qmpstatus: " + l.vm + "\nstatus: " + l.vm + "\n"}
			case strings.Contains(cmdline, " config "):
				out := "cores: 1\nname: openwrt\n"
				if l.onboot {
					out += "onboot: 1\n"
				}
				return command.Result{Cmd: cmdline, Stdout: out}
			case strings.HasSuffix(cmdline, " is-system-running"):
				// systemctl(1): the state on stdout, exit 0 only for "running".
				r := command.Result{Cmd: cmdline, Stdout: l.system + "\n"}
				if l.system != "running" {
					r.ExitCode, r.Err = 1, errors.New("exit status 1")
				}
				return r
			case strings.Contains(cmdline, " stop "):
				// qm stop of a VM that is not running does nothing and
				// exits 0 (qemu-server's _do_vm_stop returns when
				// check_running finds no pid).
				l.vm = "stopped"
			case strings.Contains(cmdline, " start ") && l.startFails:
				return command.Result{Cmd: cmdline, ExitCode: 1, Err: errors.New("exit status 1"), Stderr: "start failed: QEMU exited with code 1"}
			case strings.Contains(cmdline, " start "):
				l.vm = "running"
				// What a person (or node_exporter) would find on disk
				// while qm start runs.
				m, _ := os.ReadFile(l.cfg.MetricsFile)
				l.atStart = string(m)
			}
			return command.Result{Cmd: cmdline}
		},
		Resolve: func(context.Context, string, string) error {
			l.dnsAsks++
			if l.dnsFail {
				return errors.New("SERVFAIL")
			}
			return nil
		},
		Uptime: func() (time.Duration, error) { return l.uptime, l.uptimeErr },
		BootID: func() (string, error) { return "boot-1", nil }}
	h := &host{cfg: l.cfg, e: e, loc: time.UTC, log: slog.New(slog.NewTextHandler(&l.log, nil)),
		corosync: []string{filepath.Join(l.dir, "no-corosync")}, vzdumpLock: filepath.Join(l.dir, "no-vzdump-lock"), procRoot: filepath.Join(l.dir, "proc")}
	if err := h.check(context.Background()); err != nil {
		l.t.Fatalf("check at %s: %v\nlog:\n%s", l.now.Format(time.TimeOnly), err, l.log.String())
	}
}

// families parses METRICS_FILE with the Prometheus text-format parser
// (prometheus/common/expfmt), as node_exporter's textfile collector does.
func (l *obsLab) families() map[string]*dto.MetricFamily {
	l.t.Helper()
	f, err := os.Open(l.metrics)
	if err != nil {
		l.t.Fatalf("METRICS_FILE: %v", err)
	}
	defer f.Close()
	p := expfmt.NewTextParser(model.LegacyValidation)
	fams, err := p.TextToMetricFamilies(f)
	if err != nil {
		b, _ := os.ReadFile(l.metrics)
		l.t.Fatalf("METRICS_FILE does not parse as the Prometheus text format: %v\n%s", err, b)
	}
	for name, fam := range fams {
		if fam.GetHelp() == "" {
			l.t.Errorf("%s has no HELP line", name)
		}
	}
	return fams
}

// value is the value of name{action=label} ("" for no label); ok is false
// when the file lacks it.
func value(fams map[string]*dto.MetricFamily, name, action string) (v float64, typ dto.MetricType, ok bool) {
	fam := fams[name]
	if fam == nil {
		return 0, 0, false
	}
	for _, m := range fam.GetMetric() {
		got := ""
		for _, lp := range m.GetLabel() {
			if lp.GetName() == "action" {
				got = lp.GetValue()
			}
		}
		if got != action {
			continue
		}
		switch fam.GetType() {
		case dto.MetricType_COUNTER:
			return m.GetCounter().GetValue(), fam.GetType(), true
		default:
			return m.GetGauge().GetValue(), fam.GetType(), true
		}
	}
	return 0, 0, false
}

// TestMetricsFile: METRICS_FILE after a down run that starts the stopped
// router VM, a down run later, and an up run, read with the Prometheus
// text parser: internet_up, outage_seconds, the VM start counted and
// dated; the router's count is absent since SSH never answered. The
// count lives in STATE_DIR (hostcheck.metrics), written before qm start ran.
func TestMetricsFile(t *testing.T) {
	l := newObsLab(t, "METRICS_FILE="+filepath.Join(t.TempDir(), "unused.prom"))
	l.cfg.MetricsFile = l.metrics
	start := l.now

	// Down, the VM stopped: qm start.
	l.up, l.vm = false, "stopped"
	l.run()
	if !strings.Contains(strings.Join(l.ran, "\n"), "/usr/sbin/qm start 100") {
		t.Fatalf("the stopped VM was not started: %q\n%s", l.ran, l.log.String())
	}
	type want struct {
		name, action string
		typ          dto.MetricType
		v            float64
	}
	check := func(step string, wants []want, absent ...string) {
		t.Helper()
		fams := l.families()
		for _, w := range wants {
			v, typ, ok := value(fams, w.name, w.action)
			if !ok || v != w.v || typ != w.typ {
				t.Errorf("%s: %s{action=%q} = %v (%v, present %v); want %v (%v)", step, w.name, w.action, v, typ, ok, w.v, w.typ)
			}
		}
		for _, name := range absent {
			if fams[name] != nil {
				t.Errorf("%s: %s present; want it absent", step, name)
			}
		}
	}
	g, c := dto.MetricType_GAUGE, dto.MetricType_COUNTER
	check("down, VM started", []want{
		{"netrescue_internet_up", "", g, 0}, {"netrescue_outage_seconds", "", g, 0},
		{"netrescue_host_reboots_total", "", c, 0},
		{"netrescue_vm_actions_total", "vm-start", c, 1}, {"netrescue_vm_actions_total", "vm-restart", c, 0},
		{"netrescue_vm_actions_total", "vm-resume", c, 0},
		{"netrescue_last_action_timestamp_seconds", "vm-start", g, float64(start.Unix())},
	}, "netrescue_router_reboots_today")
	if !strings.Contains(l.atStart, `netrescue_vm_actions_total{action="vm-start"} 1`) {
		t.Errorf("METRICS_FILE while qm start ran:\n%s\nwant the start counted before it runs", l.atStart)
	}
	rec, err := os.ReadFile(filepath.Join(l.cfg.StateDir, ActionsFile))
	if err != nil || !strings.Contains(string(rec), "vm-start_total=1\n") {
		t.Errorf("%s = %q, %v; want vm-start_total=1", ActionsFile, rec, err)
	}

	// Still down 5 minutes later, the VM running, the router silent on SSH.
	l.now = l.now.Add(5 * time.Minute)
	l.run()
	check("still down", []want{{"netrescue_internet_up", "", g, 0}, {"netrescue_outage_seconds", "", g, 300},
		{"netrescue_vm_actions_total", "vm-start", c, 1}}, "netrescue_router_reboots_today", "netrescue_router_sos")

	// Up again.
	l.now, l.up = l.now.Add(5*time.Minute), true
	l.run()
	check("up", []want{{"netrescue_internet_up", "", g, 1}, {"netrescue_outage_seconds", "", g, 0},
		{"netrescue_vm_actions_total", "vm-start", c, 1},
		{"netrescue_last_action_timestamp_seconds", "vm-start", g, float64(start.Unix())}})
	if strings.Contains(l.log.String(), "【指标】") {
		t.Errorf("log has a metrics failure:\n%s", l.log.String())
	}
}

// TestMetricsUnchangedNoWrite: two identical healthy runs leave METRICS_FILE
// alone (its mtime, set far in the past after the first, does not move)
// and write nothing else; the runs cost one probe each.
func TestMetricsUnchangedNoWrite(t *testing.T) {
	l := newObsLab(t)
	l.cfg.MetricsFile = l.metrics
	l.run()
	old := time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC)
	if err := os.Chtimes(l.metrics, old, old); err != nil {
		t.Fatal(err)
	}
	before := snapshotDir(t, l.dir)
	l.now = l.now.Add(5 * time.Minute)
	l.run()
	fi, err := os.Stat(l.metrics)
	if err != nil {
		t.Fatal(err)
	}
	if !fi.ModTime().Equal(old) {
		t.Errorf("METRICS_FILE rewritten by an identical healthy run: mtime %v; want %v", fi.ModTime(), old)
	}
	if after := snapshotDir(t, l.dir); after != before {
		t.Errorf("a healthy run changed files:\nbefore\n%s\nafter\n%s", before, after)
	}
	if l.probes != 2 {
		t.Errorf("%d probes in two healthy runs; want 2", l.probes)
	}
	if v, _, ok := value(l.families(), "netrescue_internet_up", ""); !ok || v != 1 {
		t.Errorf("internet_up = %v (present %v); want 1", v, ok)
	}
}

// TestNoKeysWritesNothing: with none of METRICS_FILE and HEARTBEAT_URL set
// a healthy run costs what it cost before: one probe, no file written.
func TestNoKeysWritesNothing(t *testing.T) {
	l := newObsLab(t)
	if err := os.MkdirAll(l.cfg.RunDir, 0o700); err != nil {
		t.Fatal(err)
	}
	l.run() // creates the run lock, as every run did before
	before := snapshotDir(t, l.dir)
	l.now = l.now.Add(5 * time.Minute)
	l.run()
	if after := snapshotDir(t, l.dir); after != before {
		t.Errorf("a healthy run changed files:\nbefore\n%s\nafter\n%s", before, after)
	}
	if l.probes != 2 || len(l.ran) != 0 {
		t.Errorf("two healthy runs: %d probes, commands %q; want 2 probes, no command", l.probes, l.ran)
	}
}

// snapshotDir lists every file under dir with its size and mtime, the
// stderr file of the runs aside.
func snapshotDir(t *testing.T, dir string) string {
	t.Helper()
	var b strings.Builder
	filepath.Walk(dir, func(p string, fi os.FileInfo, err error) error {
		if err != nil || fi.IsDir() || filepath.Base(p) == "stderr" {
			return nil
		}
		b.WriteString(p + " " + fi.ModTime().String() + " " + fi.Mode().String() + "\n")
		return nil
	})
	return b.String()
}

// TestRenderMetricsParses: every view renders to a file the Prometheus
// text parser reads, with the values put in (the router's count and SOS
// only when read, a damaged count left out).
func TestRenderMetricsParses(t *testing.T) {
	last := time.Date(2026, 12, 6, 3, 4, 5, 0, time.UTC)
	tally := actionTally{Count: map[string]int{"host-reboot": 2, "vm-restart": 1}, Last: map[string]time.Time{"host-reboot": last}}
	for _, tc := range []struct {
		name   string
		v      metricsView
		want   map[string]float64 // name or name/action → value
		absent []string
	}{
		{"up", metricsView{NetUp: true, Tally: tally},
			map[string]float64{"netrescue_internet_up": 1, "netrescue_outage_seconds": 0, "netrescue_host_reboots_total": 2,
				"netrescue_vm_actions_total/vm-restart": 1, "netrescue_last_action_timestamp_seconds/host-reboot": float64(last.Unix())},
			[]string{"netrescue_router_reboots_today", "netrescue_router_sos"}},
		{"down, router read", metricsView{Outage: 90 * time.Minute, HasOutage: true, RouterRead: true, RouterCount: 7, RouterSOS: true},
			map[string]float64{"netrescue_internet_up": 0, "netrescue_outage_seconds": 5400, "netrescue_router_reboots_today": 7,
				"netrescue_router_sos": 1, "netrescue_host_reboots_total": 0},
			[]string{"netrescue_last_action_timestamp_seconds"}},
		{"down since unknown, count damaged", metricsView{RouterRead: true, RouterCountBad: true},
			map[string]float64{"netrescue_internet_up": 0, "netrescue_router_sos": 0},
			[]string{"netrescue_outage_seconds", "netrescue_router_reboots_today"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := expfmt.NewTextParser(model.LegacyValidation)
			fams, err := p.TextToMetricFamilies(bytes.NewReader(renderMetrics(tc.v)))
			if err != nil {
				t.Fatalf("renderMetrics(%+v) does not parse: %v\n%s", tc.v, err, renderMetrics(tc.v))
			}
			for k, want := range tc.want {
				name, action, _ := strings.Cut(k, "/")
				if got, _, ok := value(fams, name, action); !ok || got != want {
					t.Errorf("%s = %v (present %v); want %v", k, got, ok, want)
				}
			}
			for _, name := range tc.absent {
				if fams[name] != nil {
					t.Errorf("%s present; want absent", name)
				}
			}
		})
	}
}

// TestSilentRunProbesForPublish: once the host rebooted today a run says
// nothing and, without VM_ID, METRICS_FILE or HEARTBEAT_URL, probes
// nothing; with METRICS_FILE it probes once, so that the file does not
// keep saying the internet is down for the rest of the day; with VM_ID it
// probes once (a router VM left stopped is still started: SPEC §13 rule
// 1, TestSpentDayStartsStoppedVM) and, the internet up, runs no qm.
func TestSilentRunProbesForPublish(t *testing.T) {
	for _, tc := range []struct {
		name       string
		vm         bool
		metrics    bool
		wantProbes int
	}{{"no keys", false, false, 0}, {"METRICS_FILE", false, true, 1}, {"VM_ID", true, false, 1}, {"VM_ID and METRICS_FILE", true, true, 1}} {
		t.Run(tc.name, func(t *testing.T) {
			l := newObsLab(t)
			if !tc.vm {
				l.cfg.VMID = ""
			}
			if tc.metrics {
				l.cfg.MetricsFile = l.metrics
			}
			if err := os.WriteFile(l.cfg.PVEMark, []byte("boot_id=boot-0\ndate=2026-12-06\nreason=SOS\ntime=2026-12-06T09:00:00Z\n"), 0o644); err != nil {
				t.Fatal(err)
			}
			l.run()
			if l.probes != tc.wantProbes || len(l.ran) != 0 {
				t.Errorf("a run with today's mark: %d probes, commands %q; want %d probes, no command", l.probes, l.ran, tc.wantProbes)
			}
			if l.log.Len() != 0 {
				t.Errorf("a run with today's mark logged:\n%s", l.log.String())
			}
			_, err := os.Stat(l.metrics)
			if tc.metrics {
				if v, _, ok := value(l.families(), "netrescue_internet_up", ""); !ok || v != 1 {
					t.Errorf("internet_up = %v (present %v); want 1", v, ok)
				}
			} else if !os.IsNotExist(err) {
				t.Errorf("METRICS_FILE written without the key: %v", err)
			}
		})
	}
}

// TestSpentDayStartsStoppedVM: the host rebooted today (its mark), and the
// router VM did not come back (onboot=0, a passed-through NIC that failed
// to attach): the next run starts it (SPEC §13 rules 1 and 4: a failed
// restart never leaves the house offline), logged and counted, and does
// nothing else: no cold restart until it hangs, no second reboot. With
// the VM running and the internet still down, runs ask qm and read the
// router (a hung VM gets the day's cold restart); VM_START_MAX still
// bounds the day's starts.
func TestSpentDayStartsStoppedVM(t *testing.T) {
	l := newObsLab(t, "VM_START_MAX=2")
	if err := os.WriteFile(l.cfg.PVEMark, []byte("boot_id=boot-0\ndate=2026-12-06\nreason=SOS\ntime=2026-12-06T09:00:00Z\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	l.up, l.vm = false, "stopped"
	l.run()
	if got, want := strings.Join(l.ran, "; "), "/usr/sbin/qm status 100 --verbose; /usr/sbin/qm start 100"; !strings.HasPrefix(got, want) {
		t.Fatalf("commands: %q; want %q first\nlog:\n%s", got, want, l.log.String())
	}
	for _, want := range []string{"【检测】互联网断开，路由虚拟机未运行 (今天的物理机救援已用过，只启动虚拟机)。", "【终极动作】启动已停止的 OpenWrt 虚拟机。"} {
		if !strings.Contains(l.log.String(), want) {
			t.Errorf("log lacks %q:\n%s", want, l.log.String())
		}
	}
	for _, c := range l.ran {
		if strings.Contains(c, " stop ") || strings.Contains(c, "reboot") {
			t.Errorf("ran %q on a day whose host rescue is spent", c)
		}
	}

	// Running now, the internet still down: qm is asked and the router
	// read over SSH (rule 3 holds on a spent day: a VM that hangs gets the
	// day's cold restart). This lab's router answers no SSH: said, with
	// its reason (a run of the same silence and reason is silent:
	// TestSpentDayClearsSilence); no step yet (not hung for its delay).
	l.ran, l.now = nil, l.now.Add(5*time.Minute)
	l.log.Reset()
	l.run()
	if got := strings.Join(l.ran, "; "); got != "/usr/sbin/qm status 100 --verbose" || !strings.Contains(l.log.String(), "无法通过 SSH 读取 OpenWrt") {
		t.Errorf("VM running, internet down, no SSH: commands %q, log %q; want qm status only, the SSH failure said", got, l.log.String())
	}

	// It stops again: the second start of the day, VM_START_MAX=2.
	l.vm, l.ran, l.now = "stopped", nil, l.now.Add(5*time.Minute)
	l.run()
	if got := strings.Join(l.ran, "; "); !strings.Contains(got, "qm start") {
		t.Errorf("second stop: commands %q; want qm start", got)
	}

	// It stops again, and now will not start (a passed-through NIC that
	// does not attach). Its starts are spent — the run that saw the VM
	// running between them, the internet still down, proved nothing (SPEC
	// §13 rule 5: starts that did not bring the internet back): the day's
	// cold restart (qm stop of a stopped VM does nothing, then qm start),
	// never a second host reboot. It used to be `qm status` and silence
	// until midnight.
	l.vm, l.startFails, l.ran, l.now = "stopped", true, nil, l.now.Add(5*time.Minute)
	l.log.Reset()
	l.run()
	if got, want := strings.Join(l.ran, "; "), "/usr/sbin/qm status 100 --verbose; /usr/sbin/qm stop 100 --timeout 30; /usr/sbin/qm status 100 --verbose; /usr/sbin/qm start 100"; got != want {
		t.Errorf("third stop, starts spent: commands %q; want %q\nlog:\n%s", got, want, l.log.String())
	}
	if !strings.Contains(l.log.String(), "【终极动作】冷重启 OpenWrt 虚拟机 (qm stop/start)。") {
		t.Errorf("log lacks the cold restart:\n%s", l.log.String())
	}

	// Still stopped, nothing left today: said once, saved, then silence.
	for i, wantSaid := range []bool{true, false, false} {
		l.ran, l.now = nil, l.now.Add(5*time.Minute)
		l.log.Reset()
		l.run()
		if got := strings.Join(l.ran, "; "); got != "/usr/sbin/qm status 100 --verbose" {
			t.Errorf("run %d after the cold restart: commands %q; want qm status only", i+1, got)
		}
		said := strings.Contains(l.log.String(), "【严重错误】路由虚拟机仍未运行，今天的启动次数 (VM_START_MAX)、冷重启和物理机重启都已用过：零点前不再自动处理，请手动执行 qm start 100 查看原因。")
		if said != wantSaid || !wantSaid && l.log.Len() != 0 {
			t.Errorf("run %d after the cold restart: log %q; want the line said %v (once), nothing else", i+1, l.log.String(), wantSaid)
		}
	}
}

// TestYoungHostLeavesVMToPVE: right after the host booted, PVE starts the
// router VM itself when it has onboot=1 (pve-guests.service, part of the
// boot). While systemd still boots, a run that finds the VM stopped asks
// qm config and systemctl, logs 【推迟】 and runs no qm start that would
// race PVE's; once the boot is done, a VM still stopped is started (SPEC
// §13 rule 1). The same after the host's own reboot, on a spent day.
func TestYoungHostLeavesVMToPVE(t *testing.T) {
	for _, spentDay := range []bool{false, true} {
		l := newObsLab(t)
		l.cfg.MinHostUptime = 10 * time.Minute
		if spentDay {
			if err := os.WriteFile(l.cfg.PVEMark, []byte("boot_id=boot-0\ndate=2026-12-06\nreason=SOS\ntime=2026-12-06T09:00:00Z\n"), 0o644); err != nil {
				t.Fatal(err)
			}
		}
		l.up, l.vm, l.uptime, l.onboot, l.system = false, "stopped", 90*time.Second, true, "starting"
		l.run()
		if got, want := strings.Join(l.ran, "; "), "/usr/sbin/qm status 100 --verbose; /usr/sbin/qm config 100; /usr/bin/systemctl is-system-running"; got != want {
			t.Errorf("spent day %v, PVE still booting: commands %q; want %q\nlog:\n%s", spentDay, got, want, l.log.String())
		}
		if want := "【推迟】PVE 正在开机，按 onboot 自动启动虚拟机 (pve-guests)，本次不启动路由虚拟机。"; !strings.Contains(l.log.String(), want) ||
			!strings.Contains(l.log.String(), "system=starting") {
			t.Errorf("spent day %v: log lacks %q with system=starting:\n%s", spentDay, want, l.log.String())
		}

		// Five minutes on the boot is done and the VM is still stopped
		// (PVE's start failed): rule 1 starts it.
		l.ran, l.now, l.uptime, l.system = nil, l.now.Add(5*time.Minute), l.uptime+5*time.Minute, "degraded"
		l.log.Reset()
		l.run()
		if got := strings.Join(l.ran, "; "); !strings.Contains(got, "/usr/bin/systemctl is-system-running; /usr/sbin/qm start 100") {
			t.Errorf("spent day %v, boot done: commands %q; want qm start after systemctl\nlog:\n%s", spentDay, got, l.log.String())
		}
		if !strings.Contains(l.log.String(), "【终极动作】启动已停止的 OpenWrt 虚拟机。") {
			t.Errorf("spent day %v: log lacks the start:\n%s", spentDay, l.log.String())
		}
	}
}

// TestUnknownUptimeStartsVM: with /proc/uptime unreadable the host's age
// is unknown, and no wait for PVE's autostart may last for ever (a systemd
// stuck in "starting"): a stopped router VM is started (SPEC §13 rule 1),
// while the host's own reboot stays held (SPEC §6 step 4).
func TestUnknownUptimeStartsVM(t *testing.T) {
	l := newObsLab(t)
	l.cfg.MinHostUptime = 10 * time.Minute
	l.up, l.vm, l.uptime, l.uptimeErr, l.onboot, l.system = false, "stopped", 0, errors.New("open /proc/uptime: permission denied"), true, "starting"
	l.run()
	if got := strings.Join(l.ran, "; "); !strings.Contains(got, "/usr/sbin/qm start 100") || strings.Contains(got, "is-system-running") {
		t.Errorf("commands %q; want qm start, systemd not asked\nlog:\n%s", got, l.log.String())
	}
	if !strings.Contains(l.log.String(), "【严重错误】无法读取开机时间，物理机动作被推迟") {
		t.Errorf("log lacks the unreadable uptime:\n%s", l.log.String())
	}
}

// TestSilentRunDNSFault: on a day whose host rescue is spent, a run that
// probes only for METRICS_FILE asks DNS_CHECK too, so a DNS fault later
// that day reads as the internet down there (and for the heartbeat, which
// publish hands the same look), not as up.
func TestSilentRunDNSFault(t *testing.T) {
	l := newObsLab(t, "DNS_CHECK=example.com")
	l.cfg.VMID, l.cfg.MetricsFile, l.dnsFail = "", l.metrics, true
	if err := os.WriteFile(l.cfg.PVEMark, []byte("boot_id=boot-0\ndate=2026-12-06\nreason=SOS\ntime=2026-12-06T09:00:00Z\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	l.run()
	if v, _, ok := value(l.families(), "netrescue_internet_up", ""); !ok || v != 0 || l.dnsAsks != 1 {
		t.Errorf("internet_up = %v (present %v), DNS asked %d times; want 0, asked once", v, ok, l.dnsAsks)
	}
}

// TestMetricsDNSFault: with the IP targets answering and DNS through the
// router failing, the family has no internet (SPEC §14): METRICS_FILE says
// netrescue_internet_up 0 with the outage's length (publish hands the
// heartbeat the same Obs.Up).
func TestMetricsDNSFault(t *testing.T) {
	h := testHost(t, nil)
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	obs := rescue.Obs{Now: now, NetKnown: true, NetUp: true, DNSKnown: true, DNSOK: false}
	next := rescue.State{DownSince: now.Add(-10 * time.Minute)}
	out := string(renderMetrics(h.metricsView(next, obs, remote.RouterState{}, actionTally{})))
	for _, want := range []string{"netrescue_internet_up 0\n", "netrescue_outage_seconds 600\n"} {
		if !strings.Contains(out, want) {
			t.Errorf("METRICS_FILE during a DNS fault:\n%s\nwant %q", out, want)
		}
	}
	obs.DNSOK = true
	if out := string(renderMetrics(h.metricsView(rescue.State{}, obs, remote.RouterState{}, actionTally{}))); !strings.Contains(out, "netrescue_internet_up 1\n") {
		t.Errorf("METRICS_FILE with DNS answering:\n%s\nwant netrescue_internet_up 1", out)
	}
}

// TestMetricsFailureLoggedOnce: an unwritable METRICS_FILE is logged once
// per kind of failure, not at every healthy run (SPEC §8: a healthy run
// logs nothing), and once more when it works again.
func TestMetricsFailureLoggedOnce(t *testing.T) {
	l := newObsLab(t)
	parent := filepath.Join(l.dir, "textfile-dir")
	if err := os.WriteFile(parent, nil, 0o644); err != nil { // a file where the directory should be
		t.Fatal(err)
	}
	l.cfg.MetricsFile = filepath.Join(parent, "netrescue.prom")
	count := func(s string) int { return strings.Count(l.log.String(), s) }
	for range 3 {
		l.run()
		l.now = l.now.Add(5 * time.Minute)
	}
	if n := count("【指标】METRICS_FILE 无法写入"); n != 1 {
		t.Errorf("three healthy runs with METRICS_FILE unwritable: %d 【指标】 lines; want 1:\n%s", n, l.log.String())
	}
	// Another kind of failure is said again.
	if err := os.Remove(parent); err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(l.cfg.MetricsFile, 0o755); err != nil { // a directory where the file should be
		t.Fatal(err)
	}
	l.run()
	l.now = l.now.Add(5 * time.Minute)
	l.run()
	if n := count("【指标】METRICS_FILE 无法写入"); n != 2 {
		t.Errorf("a new kind of failure: %d 【指标】 lines in all; want 2:\n%s", n, l.log.String())
	}
	// Fixed: said once, then quiet.
	if err := os.Remove(l.cfg.MetricsFile); err != nil {
		t.Fatal(err)
	}
	for range 2 {
		l.now = l.now.Add(5 * time.Minute)
		l.run()
	}
	if n := count("【指标】METRICS_FILE 已恢复写入"); n != 1 {
		t.Errorf("METRICS_FILE writable again: %d recovery lines; want 1:\n%s", n, l.log.String())
	}
	if _, err := os.Stat(l.cfg.MetricsFile); err != nil {
		t.Errorf("METRICS_FILE not written once writable: %v", err)
	}
	// A run whose metrics are unchanged writes nothing, so it proves
	// nothing: a failure recorded stays, and no recovery is claimed.
	failing := filepath.Join(l.dir, "run", MetricsFailingFile)
	if err := os.WriteFile(failing, []byte("some failure\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	l.run() // same clock, same metrics: unchanged
	if n := count("【指标】METRICS_FILE 已恢复写入"); n != 1 {
		t.Errorf("an unchanged METRICS_FILE claimed a recovery: %d recovery lines; want still 1:\n%s", n, l.log.String())
	}
	if _, err := os.Stat(failing); err != nil {
		t.Errorf("the recorded failure was dropped by a run that wrote nothing: %v\n%s", err, l.log.String())
	}
}

// TestMetricsFileStatusFailing: a METRICS_FILE the runs cannot write (a
// directory in its place; its directory takes files) is a ✗ in status,
// with what the runs found: the runs log 【指标】METRICS_FILE 无法写入 once
// and record it in RUN_DIR/metrics.failing, while status read ✓ "written"
// with the directory's time.
func TestMetricsFileStatusFailing(t *testing.T) {
	l := newObsLab(t)
	l.cfg.MetricsFile = l.metrics
	if err := os.MkdirAll(filepath.Join(l.cfg.MetricsFile, "x"), 0o755); err != nil { // not empty: no rename over it
		t.Fatal(err)
	}
	l.run()
	if !strings.Contains(l.log.String(), "【指标】METRICS_FILE 无法写入") {
		t.Fatalf("a directory at METRICS_FILE: no 【指标】 line:\n%s", l.log.String())
	}
	h := testHost(t, nil)
	h.cfg = l.cfg
	var c health.Check
	for _, x := range h.publishChecks(l.now) {
		if x.Name == "metrics file" {
			c = x
		}
	}
	if c.Name == "" || c.OK || c.Fix == "" {
		t.Errorf("status of a METRICS_FILE every run fails to write: %+v; want ✗ with a fix", c)
	}
}

// TestMetricsOutageClockBack: down since 12:00, the clock then set back
// an hour (NTP): netrescue_outage_seconds is 0, as status -json's
// outage_seconds, not absent, which README keeps for a down_since not
// recorded (an alert on it went stale for the rest of the outage).
func TestMetricsOutageClockBack(t *testing.T) {
	h := testHost(t, nil)
	down := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	obs := rescue.Obs{Now: down.Add(-time.Hour), NetKnown: true, NetUp: false}
	v := h.metricsView(rescue.State{DownSince: down}, obs, remote.RouterState{}, actionTally{})
	if got := string(renderMetrics(v)); !strings.Contains(got, "\nnetrescue_outage_seconds 0\n") {
		t.Errorf("down since a recorded time after the clock's now: metrics lack netrescue_outage_seconds 0:\n%s", got)
	}
}
