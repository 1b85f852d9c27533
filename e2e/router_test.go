package e2e

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// routerLab is a router namespace whose WAN reaches an "internet"
// namespace holding 198.51.100.1, with netcheck's files in a temp dir.
type routerLab struct {
	ns, isp                             string
	dir, conf, state, run, log, actions string
}

func newRouterLab(t *testing.T, suffix string, extraConf ...string) *routerLab {
	t.Helper()
	needRoot(t)
	l := &routerLab{ns: netns(t, tag(t, suffix+"r")), isp: netns(t, tag(t, suffix+"i"))}
	link(t, l.ns, "wan", "10.77.0.2/30", l.isp, "up0", "10.77.0.1/30")
	sh(t, "ip", "-n", l.isp, "addr", "add", "198.51.100.1/32", "dev", "lo")
	sh(t, "ip", "-n", l.ns, "route", "add", "default", "via", "10.77.0.1")
	l.dir = t.TempDir()
	l.conf = filepath.Join(l.dir, "netrescue.conf")
	l.state = filepath.Join(l.dir, "state")
	l.run = filepath.Join(l.dir, "run")
	l.log = filepath.Join(l.dir, "network_monitor.log")
	l.actions = filepath.Join(l.dir, "actions.log")
	conf := []string{
		"CHECK_TARGETS=198.51.100.1",
		"PROBE_TIMEOUT=300ms",
		"STATE_DIR=" + l.state,
		"RUN_DIR=" + l.run,
		"LOG_FILE=" + l.log,
		"SYSLOG=0",
		// The cut below leaves the ISP's gateway answering, which with
		// WAN_GATEWAY=auto is an ISP outage (no L3, no SOS: isp_test.go);
		// these tests walk the ladder of an outage the router may fix.
		"WAN_GATEWAY=off",
		"L1_CMD=" + recorder(t, l.dir, "L1", l.actions, ""),
		"L2_CMD=" + recorder(t, l.dir, "L2", l.actions, ""),
		// A reboot empties RUN_DIR (a tmpfs), which is all netcheck can see of it.
		"L3_CMD=" + recorder(t, l.dir, "L3", l.actions, fmt.Sprintf("rm -rf '%s'/*", l.run)),
	}
	writeConf(t, l.conf, append(conf, extraConf...)...)
	return l
}

func (l *routerLab) netcheck(t *testing.T, args ...string) result {
	t.Helper()
	return inNS(t, l.ns, nil, nil, append([]string{bin(t, "netcheck"), "-config", l.conf}, args...)...)
}

// cut black-holes the internet: the ISP silently drops what the router
// sends, so a probe waits its whole PROBE_TIMEOUT as in a real outage.
func (l *routerLab) cut(t *testing.T) {
	nft(t, l.isp, "table inet cut {\n chain in { type filter hook input priority 0; ip daddr 198.51.100.0/24 drop; }\n}\n")
}

func (l *routerLab) restore(t *testing.T) { nft(t, l.isp, "delete table inet cut\n") }

func (l *routerLab) actionLines(t *testing.T) []string { return lines(readFile(t, l.actions)) }

// TestRouterLadderTotalOutage walks the ladder on the real binary, one
// invocation per cron tick: L1 L2 L3, L1 L2 L3 (cooling starts), nothing
// while cooling, L1 L2, SOS; then recovery withdraws SOS and
// midnight-reset clears the day (issue 3, SPEC §5).
func TestRouterLadderTotalOutage(t *testing.T) {
	l := newRouterLab(t, "a", "SAFE_UPTIME=0", "L4_SOS_THRESHOLD=3", "COOLING_FREE_REBOOTS=1",
		"COOLING_STEP=2s", "COOLING_MAX=2s")

	// The first run after a boot logs 【启动】; a healthy run after it
	// writes nothing anywhere.
	r := l.netcheck(t)
	if r.code != 0 || !strings.Contains(readFile(t, l.log), "【启动】") {
		t.Fatalf("first run exit %d, log %q: %s", r.code, readFile(t, l.log), r.stderr)
	}
	snap := snapshot(t, l.state, l.run, l.log)
	if r = l.netcheck(t); r.code != 0 {
		t.Fatalf("healthy run exit %d: %s", r.code, r.stderr)
	}
	if exists(l.state) || snapshot(t, l.state, l.run, l.log) != snap {
		t.Errorf("healthy run wrote: state dir %v, files %s", exists(l.state), snapshot(t, l.state, l.run, l.log))
	}

	l.cut(t)
	var timeline []string
	logLen := 0
	for i := 0; i < 80 && !exists(filepath.Join(l.state, "SOS_SYSTEM")); i++ {
		before := len(l.actionLines(t))
		r := l.netcheck(t)
		if r.code != 0 {
			t.Fatalf("run %d exit %d: %s", i, r.code, r.stderr)
		}
		for _, a := range l.actionLines(t)[before:] {
			timeline = append(timeline, strings.Fields(a)[0])
		}
		newLog := readFile(t, l.log)[logLen:]
		logLen += len(newLog)
		if strings.Contains(newLog, "【冷却】") {
			timeline = append(timeline, "cool")
		}
		if strings.Contains(newLog, "【SOS】") {
			timeline = append(timeline, "SOS")
		}
		if strings.Contains(newLog, "【冷却】") || exists(filepath.Join(l.state, "net_cooling_ts")) {
			time.Sleep(250 * time.Millisecond) // let the 2 s cooling pass over a few runs
		}
	}
	if got, want := strings.Join(timeline, " "), "L1 L2 L3 L1 L2 L3 cool L1 L2 SOS"; got != want {
		t.Fatalf("timeline = %q; want %q\nlog:\n%s", got, want, readFile(t, l.log))
	}
	log := readFile(t, l.log)
	for _, want := range []string{
		"【报警】网络断开 (第 1 次失败)。",
		"【L1-动作】", "-> [成功]", "【L3-动作】执行物理重启 (#1)…", "【启动】", "【熔断解除】",
		"【SOS】今日自愈已达 3 次上限。生成 SOS 信号，停止自救。",
	} {
		if !strings.Contains(log, want) {
			t.Errorf("log lacks %q", want)
		}
	}
	if c := strings.TrimSpace(readFile(t, filepath.Join(l.state, "net_rb_count"))); c != "3" {
		t.Errorf("net_rb_count = %q; want 3", c)
	}
	if sos := readFile(t, filepath.Join(l.state, "SOS_SYSTEM")); !strings.Contains(sos, "count=3") {
		t.Errorf("SOS_SYSTEM = %q; want count=3", sos)
	}

	// Under SOS: no action, and the waiting line is rate-limited.
	actionsBefore, logBefore := len(l.actionLines(t)), len(readFile(t, l.log))
	for i := 0; i < 3; i++ {
		l.netcheck(t)
	}
	if n := len(l.actionLines(t)); n != actionsBefore {
		t.Errorf("actions under SOS: %v", l.actionLines(t)[actionsBefore:])
	}
	if extra := readFile(t, l.log)[logBefore:]; extra != "" {
		t.Errorf("log under SOS within 30 min: %q; want nothing", extra)
	}

	// Recovery withdraws SOS; the count waits for RECOVERY_STABLE (30m).
	l.restore(t)
	r = l.netcheck(t)
	log = readFile(t, l.log)[logBefore:]
	if r.code != 0 || !strings.Contains(log, "【状态恢复】网络已恢复") || !strings.Contains(log, "【SOS 撤回】") {
		t.Errorf("recovery run exit %d, log %q; want 【状态恢复】 and 【SOS 撤回】", r.code, log)
	}
	if exists(filepath.Join(l.state, "SOS_SYSTEM")) {
		t.Errorf("SOS_SYSTEM still exists after recovery")
	}
	if c := strings.TrimSpace(readFile(t, filepath.Join(l.state, "net_rb_count"))); c != "3" {
		t.Errorf("count after recovery = %q; want 3 kept until RECOVERY_STABLE", c)
	}
	// A healthy run after that writes nothing.
	snap = snapshot(t, l.state, l.run, l.log)
	l.netcheck(t)
	if after := snapshot(t, l.state, l.run, l.log); after != snap {
		t.Errorf("healthy run changed files:\nbefore %s\nafter  %s", snap, after)
	}

	// midnight-reset clears the day.
	r = inNS(t, l.ns, nil, nil, bin(t, "midnight-reset"), "-role", "router", "-config", l.conf)
	if r.code != 0 {
		t.Fatalf("midnight-reset exit %d: %s", r.code, r.stderr)
	}
	if c := strings.TrimSpace(readFile(t, filepath.Join(l.state, "net_rb_count"))); c != "0" {
		t.Errorf("count after midnight-reset = %q; want 0", c)
	}
	if !strings.Contains(readFile(t, l.log), "【重置】") {
		t.Errorf("log lacks 【重置】")
	}
}

// snapshot describes files (name, size, mtime) so that a test can assert
// nothing was written.
func snapshot(t *testing.T, paths ...string) string {
	t.Helper()
	var b strings.Builder
	for _, root := range paths {
		filepath.Walk(root, func(p string, fi os.FileInfo, err error) error {
			if err == nil {
				fmt.Fprintf(&b, "%s:%d:%d ", p, fi.Size(), fi.ModTime().UnixNano())
			}
			return nil
		})
	}
	return b.String()
}

// TestRouterConcurrentRunsActOnce: ten runs started together take one step.
func TestRouterConcurrentRunsActOnce(t *testing.T) {
	l := newRouterLab(t, "c", "SAFE_UPTIME=0", "L1_THRESHOLD=1")
	// The L1 recorder holds its run (and so the lock) for 2 s.
	writeConf(t, l.conf, strings.Replace(readFile(t, l.conf), "L1_CMD="+filepath.Join(l.dir, "L1"),
		"L1_CMD="+recorder(t, l.dir, "L1slow", l.actions, "sleep 2"), 1))
	l.cut(t)
	var wg sync.WaitGroup
	codes := make([]int, 10)
	for i := range codes {
		wg.Add(1)
		go func() {
			defer wg.Done()
			codes[i] = l.netcheck(t).code
		}()
	}
	wg.Wait()
	for i, c := range codes {
		if c != 0 {
			t.Errorf("run %d exit %d; want 0 (a run that finds the lock held exits 0)", i, c)
		}
	}
	if a := l.actionLines(t); len(a) != 1 || !strings.HasPrefix(a[0], "L1slow") {
		t.Errorf("actions = %q; want exactly one L1", a)
	}
}

// TestRouterCorruptCount: a damaged count logs 严重错误 naming the file and
// its content, is treated as 0, and the ladder goes on.
func TestRouterCorruptCount(t *testing.T) {
	l := newRouterLab(t, "k", "SAFE_UPTIME=0", "L3_THRESHOLD=3", "L2_THRESHOLD=2", "L1_THRESHOLD=1")
	if err := os.MkdirAll(l.state, 0o755); err != nil {
		t.Fatal(err)
	}
	countFile := filepath.Join(l.state, "net_rb_count")
	if err := os.WriteFile(countFile, []byte("\x00garbage"), 0o644); err != nil {
		t.Fatal(err)
	}
	l.cut(t)
	for i := 0; i < 3; i++ {
		if r := l.netcheck(t); r.code != 0 {
			t.Fatalf("run %d exit %d: %s", i, r.code, r.stderr)
		}
	}
	log := readFile(t, l.log)
	if !strings.Contains(log, "【严重错误】") || !strings.Contains(log, countFile) || !strings.Contains(log, `garbage`) {
		t.Errorf("log lacks 【严重错误】 naming %s and its content:\n%s", countFile, log)
	}
	if strings.Count(log, "【严重错误】") != 1 {
		t.Errorf("严重错误 logged %d times; want once (the file is rewritten)", strings.Count(log, "【严重错误】"))
	}
	if got := strings.Join(l.actionLines(t), ","); got != "L1 ,L2 ,L3 " {
		t.Errorf("actions = %q; want L1, L2, L3", got)
	}
	if c := strings.TrimSpace(readFile(t, countFile)); c != "1" {
		t.Errorf("count = %q; want 1 (safe 0, then one reboot)", c)
	}
}

// TestRouterConfigTypo: a typo'd key exits 2 naming it, and nothing acts.
func TestRouterConfigTypo(t *testing.T) {
	l := newRouterLab(t, "t", "L1_THRESHOLDD=1")
	l.cut(t)
	r := l.netcheck(t)
	if r.code != 2 {
		t.Errorf("exit %d; want 2", r.code)
	}
	want := l.conf + ":11: L1_THRESHOLDD: unknown key; did you mean L1_THRESHOLD?"
	if !strings.Contains(r.stderr, want) {
		t.Errorf("stderr = %q; want %q", r.stderr, want)
	}
	if exists(l.actions) || exists(l.state) || exists(l.log) {
		t.Errorf("a config error acted or wrote: actions %v state %v log %v", exists(l.actions), exists(l.state), exists(l.log))
	}
}

// TestRouterSafeUptimeAndDryRun: a freshly booted router (faked
// /proc/uptime) never reboots; -dry-run logs 【演练】 and runs nothing.
func TestRouterSafeUptimeAndDryRun(t *testing.T) {
	l := newRouterLab(t, "s", "L1_THRESHOLD=0", "L2_THRESHOLD=0", "L3_THRESHOLD=1")
	uptime := filepath.Join(l.dir, "uptime")
	if err := os.WriteFile(uptime, []byte("42.00 40.00\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	l.cut(t)
	r := inNS(t, l.ns, map[string]string{uptime: "/proc/uptime"}, nil, bin(t, "netcheck"), "-config", l.conf)
	if r.code != 0 || !strings.Contains(readFile(t, l.log), "【安全锁】") || exists(l.actions) {
		t.Errorf("exit %d, log %q, actions %q; want 【安全锁】 and no reboot", r.code, readFile(t, l.log), readFile(t, l.actions))
	}
	r = l.netcheck(t, "-dry-run")
	log := readFile(t, l.log)
	if r.code != 0 || !strings.Contains(log, "【演练】【L3-动作】") || exists(l.actions) {
		t.Errorf("dry run exit %d, actions %q, log:\n%s", r.code, readFile(t, l.actions), log)
	}
	if exists(filepath.Join(l.state, "net_rb_count")) {
		t.Errorf("dry run wrote the real count")
	}
}

// TestRouterStatus: the checklist shows ✗ with a fix for what is missing
// and exits 1; once cron lines and crond are there, all ✓ and exit 0.
func TestRouterStatus(t *testing.T) {
	needRoot(t, "busybox")
	// status asks netifd about WAN_IFACE with ifstatus: a stand-in with the
	// real script's behaviour (openwrt/openwrt package/network/config/
	// netifd/files/sbin/ifstatus: "Interface X not found" and exit 1, or
	// netifd's status JSON); see cmd/netcheck/status_test.go.
	ifstatus := filepath.Join(t.TempDir(), "ifstatus")
	const fake = `#!/bin/sh
[ "$1" = wan ] || { echo "Interface $1 not found"; exit 1; }
cat <<'JSON'
{
	"up": true,
	"pending": false,
	"available": true,
	"autostart": true,
	"dynamic": false,
	"uptime": 600,
	"l3_device": "wan",
	"proto": "dhcp",
	"device": "wan"
}
JSON
`
	if err := os.WriteFile(ifstatus, []byte(fake), 0o755); err != nil {
		t.Fatal(err)
	}
	l := newRouterLab(t, "u", "IFSTATUS="+ifstatus)
	crontabFile := filepath.Join(l.dir, "crontabs", "root")
	r := l.netcheck(t, "status", "-crontab", crontabFile)
	if r.code != 1 || !strings.Contains(r.stdout, "✗ cron entries") || !strings.Contains(r.stdout, "fix: netcheck install --role router") {
		t.Errorf("status without cron: exit %d\n%s", r.code, r.stdout)
	}
	if !strings.Contains(r.stdout, "✓ internet: reply from 198.51.100.1") || !strings.Contains(r.stdout, "reboot count: 0 of 10") ||
		!strings.Contains(r.stdout, "✓ WAN interface: wan (dhcp on wan): up") {
		t.Errorf("status lacks the probe or the count:\n%s", r.stdout)
	}
	// busybox crond on an empty spool of ours, named crond as on OpenWrt.
	spool := filepath.Join(l.dir, "spool")
	if err := os.MkdirAll(filepath.Dir(crontabFile), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(spool, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(crontabFile, []byte("* * * * * /usr/bin/netcheck # netrescue\n0 0 * * * /usr/bin/midnight-reset # netrescue\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	crond := filepath.Join(l.dir, "crond")
	bb, _ := exec.LookPath("busybox")
	if err := os.Symlink(bb, crond); err != nil {
		t.Fatal(err)
	}
	// In netcheck's PID namespace (inNSBeside), as status sees no other.
	r, _ = inNSBeside(t, l.ns, nil, nil, []string{crond, "-f", "-c", spool}, bin(t, "netcheck"), "-config", l.conf, "status", "-crontab", crontabFile)
	if r.code != 0 || strings.Contains(r.stdout, "✗") {
		t.Errorf("status with cron and crond: exit %d\n%s", r.code, r.stdout)
	}
}

// TestRouterLocalTime: OpenWrt keeps its zone as a POSIX rule (CST-8); the
// log must be in that zone, not UTC by accident.
func TestRouterLocalTime(t *testing.T) {
	l := newRouterLab(t, "z")
	r := inNS(t, l.ns, nil, []string{"TZ=CST-8"}, bin(t, "netcheck"), "-config", l.conf)
	if r.code != 0 {
		t.Fatalf("exit %d: %s", r.code, r.stderr)
	}
	log := readFile(t, l.log)
	if len(log) < 19 {
		t.Fatalf("log = %q; want a 【启动】 line", log)
	}
	stamp, err := time.Parse(time.DateTime, log[:19])
	if err != nil {
		t.Fatalf("log line %q: %v", log, err)
	}
	if d := stamp.Sub(time.Now().UTC().Add(8 * time.Hour)); d > time.Minute || d < -time.Minute {
		t.Errorf("log time %s is %v away from UTC+8 now", log[:19], d)
	}
}
