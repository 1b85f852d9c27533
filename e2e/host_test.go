package e2e

// End-to-end tests of the host side (issue 4 item 7, SPEC §6 and §7) on the
// real hostcheck and midnight-reset binaries, in one lab shared by the
// subtests of TestHostEndToEnd:
//
//	nre<PID>hh (host, 10.78.0.2) ──veth── nre<PID>hr (router, 10.78.0.1, Dropbear;
//	                                               198.51.100.1 on its lo = "the internet")
//
// The host reaches "the internet" only through its default route via the
// router. Cutting it (hostLab.cut) black-holes 198.51.100.1 with an nft
// input rule in the router namespace, so a probe waits its whole
// PROBE_TIMEOUT as in a real outage, while the LAN (ping and SSH to
// 10.78.0.1) keeps working. A separate ISP namespace would add nothing:
// hostcheck only ever sees the router.
//
// Dropbear runs as `ip netns exec ROUTER unshare -m sh -c 'mount --bind
// ROOT /root && exec dropbear …'`, so the router's /root (authorized_keys,
// SOS_SYSTEM, net_rb_count, net_cooling_ts; OP_STATE_DIR=/root) is a temp
// dir the test reads and writes directly. Every disruptive host command
// (REBOOT_CMD, REBOOT_FALLBACK_CMD, QM, SYSTEMCTL, PVECM) is a recorder
// script. A recorder that plays a real shutdown finds the hostcheck that
// ran it by walking up /proc/PID/status from its parent to the first
// process named hostcheck (this test started it) and sends that one PID a
// SIGTERM, as systemd would.

import (
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/crypto/ssh"

	"github.com/pve-op/network-rescue/internal/testlab"
)

const (
	hostLabRouterIP = "10.78.0.1"
	hostLabHostIP   = "10.78.0.2"
	hostLabAddr     = hostLabRouterIP + ":22"
)

// hostFindHostcheck sets hc to the PID of the hostcheck that runs this
// script (its parent, or its grandparent when /bin/sh -c forks), or 1.
const hostFindHostcheck = `hc=$PPID
while [ "$hc" -gt 1 ] && [ "$(cat /proc/"$hc"/comm 2>/dev/null)" != hostcheck ]; do
	hc=$(sed -n 's/^PPid:[[:space:]]*//p' /proc/"$hc"/status 2>/dev/null)
	hc=${hc:-1}
done
`

// hostTermLater sends hostcheck a SIGTERM a moment after the command has
// returned, as a shutdown that systemd carries out would.
const hostTermLater = `( sleep 0.3; [ "$hc" -gt 1 ] && [ "$(cat /proc/"$hc"/comm 2>/dev/null)" = hostcheck ] && kill -TERM "$hc" ) >/dev/null 2>&1 &
`

// hostLab is the host and router namespaces, Dropbear, and the host's files.
type hostLab struct {
	host, router string
	root         string // the router's /root as Dropbear sees it
	etc          string // the router's host keys
	hostKey      string // the host key file Dropbear serves
	dir          string // host side: config, SSH key, known_hosts, recorders
	bin          string // recorder scripts
	conf, key    string
	known        string
	h            string // host files reset for every subtest:
	mark, state  string //   PVE_MARK, STATE_DIR
	run, log     string //   RUN_DIR, LOG_FILE
	actions      string //   what the recorders were called with
	dropbear     *testlab.Dropbear
	dbLog        *syncBuffer
	pinOut       string // stdout of the `hostcheck pin -yes` that set the lab up
}

func hostTempDir(t *testing.T, what string) string {
	t.Helper()
	d, err := os.MkdirTemp("", fmt.Sprintf("nre%dh-%s-", os.Getpid(), what))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(d) })
	return d
}

func newHostLab(t *testing.T) *hostLab {
	t.Helper()
	needRoot(t, "dropbear", "dropbearkey", "ss", "sed", "sleep")
	l := &hostLab{host: netns(t, tag(t, "hh")), router: netns(t, tag(t, "hr")), dbLog: &syncBuffer{}}
	t.Cleanup(func() {
		// Whatever still runs in the namespaces was started by this test
		// (Dropbear's session children): end it by PID before the
		// namespaces go, never this process.
		l.stopDropbear()
		killNamespace(l.host)
		killNamespace(l.router)
		if t.Failed() {
			dl := lines(l.dbLog.String())
			t.Logf("dropbear log (last lines):\n%s", strings.Join(dl[max(0, len(dl)-30):], "\n"))
		}
	})
	link(t, l.host, "lan", hostLabHostIP+"/24", l.router, "lan", hostLabRouterIP+"/24")
	sh(t, "ip", "-n", l.router, "addr", "add", "198.51.100.1/32", "dev", "lo")
	sh(t, "ip", "-n", l.host, "route", "add", "default", "via", hostLabRouterIP)

	l.etc = hostTempDir(t, "etc")
	l.hostKey = filepath.Join(l.etc, "dropbear_ed25519_host_key")
	sh(t, "dropbearkey", "-t", "ed25519", "-f", l.hostKey)
	l.root = hostTempDir(t, "root")
	if err := os.Mkdir(filepath.Join(l.root, ".ssh"), 0o700); err != nil {
		t.Fatal(err)
	}

	l.dir = hostTempDir(t, "pve")
	l.bin = filepath.Join(l.dir, "bin")
	l.conf = filepath.Join(l.dir, "netrescue.conf")
	l.key = filepath.Join(l.dir, "id_ed25519")
	l.known = filepath.Join(l.dir, "netrescue", "known_hosts")
	l.h = filepath.Join(l.dir, "h")
	l.mark = filepath.Join(l.h, "pve_did_reboot_today")
	l.state = filepath.Join(l.h, "state")
	l.run = filepath.Join(l.h, "run")
	l.log = filepath.Join(l.h, "pve_host_monitor.log")
	l.actions = filepath.Join(l.h, "actions.log")
	if err := os.MkdirAll(l.bin, 0o755); err != nil {
		t.Fatal(err)
	}

	// The host's SSH key, in OpenSSH format, authorized on the router.
	clientKey(t, l.key, l.root)

	// Recorders. REBOOT plays a shutdown that works (SIGTERM to hostcheck
	// shortly after); REBOOT_DUD and FALLBACK do nothing. Each notes
	// whether the mark was already on disk when it ran.
	markSeen := fmt.Sprintf("[ -e '%s' ] && echo \"MARK-ON-DISK $0\" >> '%s'\n", l.mark, l.actions)
	recorder(t, l.bin, "REBOOT", l.actions, markSeen+hostFindHostcheck+hostTermLater)
	recorder(t, l.bin, "REBOOT_DUD", l.actions, markSeen)
	recorder(t, l.bin, "FALLBACK", l.actions, "")
	// QM is a fake qm that keeps the VM's state in h/qm_vm_state (running
	// when absent) and answers `status VMID --verbose` as the real one does:
	// proxmox/qemu-server PVE/CLI/qm.pm prints each key of the status hash,
	// sorted, as "key: value" (qmpstatus only while QEMU runs). Its actions
	// are recorded; its status answers are observations, not recorded.
	// h/qm_start_fails_once makes the next start fail, as a QEMU that exits.
	// State "paused" is a running QEMU whose guest is paused: status running,
	// qmpstatus paused (PVE::QemuServer::vmstatus). h/qm_lock holds the
	// config's lock ("backup"), printed as its "lock" key.
	qmState, failOnce := filepath.Join(l.h, "qm_vm_state"), filepath.Join(l.h, "qm_start_fails_once")
	qm := fmt.Sprintf(`#!/bin/sh
if [ "$1" = status ]; then
	st=$(cat '%[1]s' 2>/dev/null || echo running)
	printf 'cpus: 1
'
	if [ -e '%[4]s' ]; then printf 'lock: %%s
' "$(cat '%[4]s')"; fi
	printf 'maxmem: 268435456
name: openwrt
'
	case $st in
	running) printf 'qmpstatus: running
' ;;
	paused) printf 'qmpstatus: paused
'; st=running ;;
	esac
	printf 'status: %%s
uptime: 0
vmid: %%s
' "$st" "$2"
	exit 0
fi
if [ "$1" = config ]; then
	printf 'cores: 1
memory: 256
name: openwrt
'
	exit 0
fi
echo "QM $*" >> '%[2]s'
case "$1" in
stop) echo stopped > '%[1]s' ;;
resume) echo running > '%[1]s' ;;
start)
	if [ -e '%[3]s' ]; then rm -f '%[3]s'; echo "start failed: QEMU exited with code 1" >&2; exit 255; fi
	echo running > '%[1]s' ;;
esac
`, qmState, l.actions, failOnce, filepath.Join(l.h, "qm_lock"))
	if err := os.WriteFile(filepath.Join(l.bin, "QM"), []byte(qm), 0o755); err != nil {
		t.Fatal(err)
	}
	recorder(t, l.bin, "PVECM", l.actions, "exit 1")
	// SYSTEMCTL_* answer `is-system-running`.
	recorder(t, l.bin, "SYSTEMCTL_RUNNING", l.actions, "echo running")
	recorder(t, l.bin, "SYSTEMCTL_STOPPING", l.actions, "echo stopping\n"+hostFindHostcheck+hostTermLater)
	// SYSTEMCTL_TERM2: the shutdown's SIGTERM reaches hostcheck while it
	// asks systemd the second time (systemd is busy and answers late).
	recorder(t, l.bin, "SYSTEMCTL_TERM2", l.actions, fmt.Sprintf(
		"if [ \"$(grep -c '^SYSTEMCTL_TERM2 ' '%s')\" -ge 2 ]; then\n%s[ \"$hc\" -gt 1 ] && kill -TERM \"$hc\"\nsleep 3\nfi\necho running", l.actions, hostFindHostcheck))

	l.reset(t)
	// `hostcheck pin -yes` pins the router's key for every run after it.
	r := l.hostcheck(t, "pin", "-yes")
	if r.code != 0 {
		t.Fatalf("hostcheck pin -yes: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	l.pinOut = r.stdout
	return l
}

// startDropbear serves the router's SSH with l.hostKey and waits until it listens.
func (l *hostLab) startDropbear(t *testing.T) {
	t.Helper()
	l.dropbear = startDropbear(t, l.router, l.root, l.hostKey, hostLabAddr, l.dbLog)
}

func (l *hostLab) stopDropbear() {
	if l.dropbear != nil {
		l.dropbear.Stop()
		l.dropbear = nil
	}
}

// connections counts the SSH connections Dropbear has accepted.
func (l *hostLab) connections() int {
	return strings.Count(l.dbLog.String(), "connection from")
}

// reset starts a subtest afresh: the router's /root holds only .ssh, the
// host's files are gone, the internet and SSH are up, and the config is the
// base one with extra KEY=value lines replacing or adding keys.
func (l *hostLab) reset(t *testing.T, extra ...string) {
	t.Helper()
	entries, err := os.ReadDir(l.root)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		if e.Name() != ".ssh" {
			os.RemoveAll(filepath.Join(l.root, e.Name()))
		}
	}
	if err := os.RemoveAll(l.h); err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(l.h, 0o755); err != nil {
		t.Fatal(err)
	}
	for _, table := range []string{"hcut", "hcut2", "hssh", "hlan"} {
		exec.Command("ip", "netns", "exec", l.router, "nft", "delete", "table", "inet", table).Run()
	}
	if l.dropbear == nil {
		l.startDropbear(t)
	}
	l.configure(t, extra...)
}

func (l *hostLab) configure(t *testing.T, extra ...string) {
	t.Helper()
	conf := []string{
		"CHECK_TARGETS=198.51.100.1",
		"PROBE_TIMEOUT=300ms",
		"OP_IP=" + hostLabRouterIP,
		// The router namespace serves no DNS: DNS_CHECK (SPEC §14) is off
		// here; lan_test.go runs it against a real forwarder.
		"DNS_CHECK=",
		"OP_STATE_DIR=/root",
		"SSH_KEY=" + l.key,
		"KNOWN_HOSTS=" + l.known,
		"SSH_TIMEOUT=1s",
		"PVE_MARK=" + l.mark,
		"STATE_DIR=" + l.state,
		"RUN_DIR=" + l.run,
		"LOG_FILE=" + l.log,
		"SYSLOG=0",
		"MIN_HOST_UPTIME=0",
		"REBOOT_DELAY=0",
		"REBOOT_CONFIRM=1s",
		"REBOOT_CMD=" + filepath.Join(l.bin, "REBOOT"),
		"REBOOT_FALLBACK_CMD=" + filepath.Join(l.bin, "FALLBACK"),
		"QM=" + filepath.Join(l.bin, "QM"),
		"SYSTEMCTL=" + filepath.Join(l.bin, "SYSTEMCTL_RUNNING"),
		"PVECM=" + filepath.Join(l.bin, "PVECM"),
	}
	for _, e := range extra {
		k, _, _ := strings.Cut(e, "=")
		replaced := false
		for i, c := range conf {
			if strings.HasPrefix(c, k+"=") {
				conf[i], replaced = e, true
			}
		}
		if !replaced {
			conf = append(conf, e)
		}
	}
	writeConf(t, l.conf, conf...)
}

// cut black-holes "the internet" (198.51.100.1) for the host. The router
// sees the outage too, as its netcheck would: its net_outage says since
// when (the router's own view, SPEC §14), so the host does not take the
// outage for a fault only the LAN sees.
func (l *hostLab) cut(t *testing.T) {
	t.Helper()
	nft(t, l.router, "table inet hcut {\n chain in { type filter hook input priority 0; ip daddr 198.51.100.1 drop; }\n}\n")
	l.writeRouter(t, "net_outage", fmt.Sprintf("isp=none\nlast_action=none\nsince=%d\nup_since=0\n", time.Now().Add(-time.Minute).Unix()))
}

// fakeQM sets one of the fake qm's files in h (qm_vm_state, qm_lock) for
// the test, removed when it ends.
func (l *hostLab) fakeQM(t *testing.T, name, content string) {
	t.Helper()
	p := filepath.Join(l.h, name)
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.Remove(p) })
}

// blockSSH silently drops the router's SSH port.
func (l *hostLab) blockSSH(t *testing.T) {
	t.Helper()
	nft(t, l.router, "table inet hssh {\n chain in { type filter hook input priority 0; tcp dport 22 drop; }\n}\n")
}

// isolate drops everything the router receives on its LAN: no SSH, no
// ping, as a hung guest (SPEC §13 rule 3).
func (l *hostLab) isolate(t *testing.T) {
	t.Helper()
	nft(t, l.router, "table inet hlan {\n chain in { type filter hook input priority 0; iifname \"lan\" drop; }\n}\n")
}

func (l *hostLab) hostcheck(t *testing.T, args ...string) result {
	t.Helper()
	return inNS(t, l.host, nil, nil, append([]string{bin(t, "hostcheck"), "-config", l.conf}, args...)...)
}

func (l *hostLab) writeRouter(t *testing.T, name, content string) {
	t.Helper()
	if err := os.WriteFile(filepath.Join(l.root, name), []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

// routerFiles lists every file in the router's /root with its bytes.
func (l *hostLab) routerFiles(t *testing.T) string {
	t.Helper()
	var out []string
	filepath.Walk(l.root, func(p string, fi os.FileInfo, err error) error {
		if err == nil && !fi.IsDir() {
			rel, _ := filepath.Rel(l.root, p)
			out = append(out, fmt.Sprintf("%s %v %q", rel, fi.Mode(), readFile(t, p)))
		}
		return nil
	})
	sort.Strings(out)
	return strings.Join(out, "\n")
}

// calls returns the recorder calls whose name is one of names (all when none).
func (l *hostLab) calls(t *testing.T, names ...string) []string {
	t.Helper()
	var out []string
	for _, line := range lines(readFile(t, l.actions)) {
		name, _, _ := strings.Cut(line, " ")
		if len(names) == 0 {
			out = append(out, line)
		}
		for _, n := range names {
			if name == n {
				out = append(out, strings.TrimSpace(line))
			}
		}
	}
	return out
}

// hostInOrder checks that text holds each of wants, in this order.
func hostInOrder(t *testing.T, what, text string, wants ...string) {
	t.Helper()
	rest := text
	for _, w := range wants {
		i := strings.Index(rest, w)
		if i < 0 {
			t.Errorf("%s lacks %q (in this order: %q)\n%s", what, w, wants, text)
			return
		}
		rest = rest[i+len(w):]
	}
}

func hostToday() string     { return time.Now().UTC().Format("2006-01-02") }
func hostYesterday() string { return time.Now().UTC().Add(-24 * time.Hour).Format("2006-01-02") }

// hostSOS is the router's SOS, as netcheck writes it.
const hostSOS = "time=2025-01-01T03:04:05Z count=10 reason=ladder exhausted"

// TestHostEndToEnd runs hostcheck against a real router namespace with
// Dropbear: every case a user meets, in one shared lab.
func TestHostEndToEnd(t *testing.T) {
	l := newHostLab(t)

	t.Run("pin", func(t *testing.T) {
		out := sh(t, "dropbearkey", "-y", "-f", l.hostKey)
		var want string
		for _, line := range strings.Split(out, "\n") {
			if strings.HasPrefix(line, "ssh-ed25519 ") {
				k, _, _, _, err := ssh.ParseAuthorizedKey([]byte(line))
				if err != nil {
					t.Fatal(err)
				}
				want = ssh.FingerprintSHA256(k)
			}
		}
		if want == "" || !strings.Contains(l.pinOut, "pinned "+want+" for "+hostLabAddr+" in "+l.known) {
			t.Errorf("pin stdout = %q; want it to name fingerprint %q and %s", l.pinOut, want, l.known)
		}
		if got := lines(readFile(t, l.known)); len(got) != 1 || !strings.HasPrefix(got[0], hostLabRouterIP+" ssh-ed25519 ") {
			t.Errorf("known_hosts = %q; want one ssh-ed25519 line for %s", got, hostLabRouterIP)
		}
		// A dry run changes no file: KNOWN_HOSTS neither (it was rewritten).
		before := readFile(t, l.known)
		if r := l.hostcheck(t, "-dry-run", "pin", "-yes"); r.code != 1 || !strings.Contains(r.stderr, "not pinned: a dry run") || readFile(t, l.known) != before {
			t.Errorf("-dry-run pin -yes: exit %d, stderr %q, known_hosts changed %v; want exit 1, not pinned, unchanged", r.code, r.stderr, readFile(t, l.known) != before)
		}
	})

	t.Run("healthy", func(t *testing.T) {
		l.reset(t)
		l.writeRouter(t, "SOS_SYSTEM", hostSOS) // even with SOS: the internet is up
		conns := l.connections()
		r := l.hostcheck(t)
		if r.code != 0 {
			t.Fatalf("exit %d: %s", r.code, r.stderr)
		}
		if exists(l.log) || exists(l.state) || exists(l.mark) || exists(l.actions) {
			t.Errorf("a healthy run wrote: log %v state %v mark %v actions %v", exists(l.log), exists(l.state), exists(l.mark), exists(l.actions))
		}
		if n := l.connections() - conns; n != 0 {
			t.Errorf("a healthy run made %d SSH connection(s) to the router; want none", n)
		}
		if r.elapsed > time.Second {
			t.Errorf("a healthy run took %v; want one round trip", r.elapsed)
		}
	})

	t.Run("down without SOS", func(t *testing.T) {
		l.reset(t)
		l.writeRouter(t, "net_rb_count", "3\n")
		l.cut(t)
		r := l.hostcheck(t)
		if r.code != 0 {
			t.Fatalf("exit %d: %s", r.code, r.stderr)
		}
		log := readFile(t, l.log)
		hostInOrder(t, "log", log, "【检测】互联网断开，开始检索 OpenWrt SOS 信号...",
			"【观察】未发现 SOS 信号。判定 OpenWrt 仍在尝试自愈或处于熔断期。", `router_count=3`)
		if exists(l.mark) || exists(l.actions) {
			t.Errorf("no SOS, yet mark %v, actions %q", exists(l.mark), l.calls(t))
		}
		if strings.Contains(log, "严重错误") {
			t.Errorf("log has 严重错误:\n%s", log)
		}
	})

	t.Run("SOS reboots the host once a day", func(t *testing.T) {
		l.reset(t)
		l.writeRouter(t, "SOS_SYSTEM", hostSOS)
		l.writeRouter(t, "net_rb_count", "10\n")
		l.writeRouter(t, "net_cooling_ts", "1700000000\n")
		l.cut(t)
		r := l.hostcheck(t)
		// REBOOT's SIGTERM ends the run quietly.
		if r.code != 0 {
			t.Errorf("exit %d; want 0 (SIGTERM while waiting ends the run quietly): %s", r.code, r.stderr)
		}
		log := readFile(t, l.log)
		hostInOrder(t, "log", log,
			"【检测】互联网断开",
			"【确认】捕获 SOS 信号！OpenWrt 自救已穷尽。准备介入重启 PVE。",
			"【同步】",
			"【终极动作】删除 SOS 成功。PVE 物理机将在 0 秒后执行优雅重启...",
			"-> [成功]")
		if strings.Contains(log, "严重错误") || strings.Contains(log, "回退") {
			t.Errorf("log has 严重错误/回退:\n%s", log)
		}
		if got := l.calls(t, "REBOOT", "FALLBACK", "QM"); strings.Join(got, ",") != "REBOOT" {
			t.Errorf("calls = %q; want REBOOT exactly once", got)
		}
		if len(l.calls(t, "MARK-ON-DISK")) != 1 {
			t.Errorf("the mark was not on disk when REBOOT_CMD ran (calls %q)", l.calls(t))
		}
		// The router was acknowledged: it starts afresh after the reboot.
		if exists(filepath.Join(l.root, "SOS_SYSTEM")) || exists(filepath.Join(l.root, "net_cooling_ts")) {
			t.Errorf("router still has SOS or cooling:\n%s", l.routerFiles(t))
		}
		if c := strings.TrimSpace(readFile(t, filepath.Join(l.root, "net_rb_count"))); c != "0" {
			t.Errorf("router net_rb_count = %q; want 0", c)
		}
		mark := readFile(t, l.mark)
		for _, want := range []string{"date=" + hostToday(), "boot_id=" + fakeBootID, "reason=SOS " + hostSOS, "time=" + hostToday() + "T"} {
			if !strings.Contains(mark, want) {
				t.Errorf("mark lacks %q:\n%s", want, mark)
			}
		}

		// SOS again the same day: nothing at all.
		l.writeRouter(t, "SOS_SYSTEM", hostSOS)
		before := l.routerFiles(t)
		logBefore := readFile(t, l.log)
		if r := l.hostcheck(t); r.code != 0 {
			t.Errorf("second run exit %d: %s", r.code, r.stderr)
		}
		if got := readFile(t, l.log); got != logBefore {
			t.Errorf("second run logged %q; want nothing (the mark)", strings.TrimPrefix(got, logBefore))
		}
		if n := len(l.calls(t, "REBOOT")); n != 1 {
			t.Errorf("REBOOT called %d times; want still 1", n)
		}
		if after := l.routerFiles(t); after != before {
			t.Errorf("second run touched the router:\nbefore %s\nafter  %s", before, after)
		}

		// midnight-reset deletes the mark, as the original cron did. Run
		// on the same real day (the test cannot move the clock), the day of
		// the last reboot, kept in STATE_DIR, still holds: no second reboot.
		record := filepath.Join(l.state, "hostcheck.state")
		if rec := readFile(t, record); !strings.Contains(rec, "last_reboot_date="+hostToday()) {
			t.Errorf("state = %q; want last_reboot_date=%s", rec, hostToday())
		}
		midnight := func(args ...string) {
			t.Helper()
			mr := inNS(t, l.host, nil, nil, append([]string{bin(t, "midnight-reset"), "-role", "host", "-config", l.conf}, args...)...)
			if mr.code != 0 {
				t.Fatalf("midnight-reset %q exit %d: %s", args, mr.code, mr.stderr)
			}
		}
		midnight()
		if exists(l.mark) {
			t.Errorf("midnight-reset left the mark")
		}
		if !strings.Contains(strings.TrimPrefix(readFile(t, l.log), logBefore), "【重置】") {
			t.Errorf("midnight-reset did not log 【重置】")
		}
		if r := l.hostcheck(t); r.code != 0 || len(l.calls(t, "REBOOT")) != 1 {
			t.Errorf("run after midnight-reset the same day: exit %d, REBOOT calls %d; want 0 and still 1", r.code, len(l.calls(t, "REBOOT")))
		}

		// The next day: midnight-reset ran at 00:00 and the date moved on.
		if err := os.WriteFile(record, []byte("down_since=0\nlast_reboot_date="+hostYesterday()+"\nrouter_down_since=0\nvm_restart_date=\n"), 0o644); err != nil {
			t.Fatal(err)
		}
		if r := l.hostcheck(t); r.code != 0 {
			t.Errorf("run the next day exit %d: %s", r.code, r.stderr)
		}
		if n := len(l.calls(t, "REBOOT")); n != 2 {
			t.Errorf("REBOOT called %d times after a new day and SOS; want 2", n)
		}
		if !exists(l.mark) || exists(filepath.Join(l.root, "SOS_SYSTEM")) {
			t.Errorf("after the second reboot: mark %v, router SOS %v; want a mark and no SOS", exists(l.mark), exists(filepath.Join(l.root, "SOS_SYSTEM")))
		}

		// A person's override: midnight-reset -force allows one more today.
		l.writeRouter(t, "SOS_SYSTEM", hostSOS)
		logBefore = readFile(t, l.log)
		midnight("-force")
		if !strings.Contains(strings.TrimPrefix(readFile(t, l.log), logBefore), "【重置】") || exists(l.mark) {
			t.Errorf("midnight-reset -force: mark %v, log %q; want the mark gone and 【重置】", exists(l.mark), strings.TrimPrefix(readFile(t, l.log), logBefore))
		}
		if r := l.hostcheck(t); r.code != 0 || len(l.calls(t, "REBOOT")) != 3 {
			t.Errorf("run after midnight-reset -force: exit %d, REBOOT calls %d; want 0 and 3", r.code, len(l.calls(t, "REBOOT")))
		}
	})

	t.Run("SOS but router silent on the LAN", func(t *testing.T) {
		l.reset(t)
		l.writeRouter(t, "SOS_SYSTEM", hostSOS)
		l.cut(t)
		nft(t, l.router, "table inet hcut2 {\n chain in { type filter hook input priority 0; icmp type echo-request drop; }\n}\n")
		defer exec.Command("ip", "netns", "exec", l.router, "nft", "delete", "table", "inet", "hcut2").Run()
		if r := l.hostcheck(t); r.code != 0 {
			t.Errorf("exit %d: %s", r.code, r.stderr)
		}
		hostInOrder(t, "log", readFile(t, l.log), "【确认】", "【等待】OpenWrt 在局域网上没有响应 ping，下个周期重试。")
		if exists(l.actions) || exists(l.mark) || !exists(filepath.Join(l.root, "SOS_SYSTEM")) {
			t.Errorf("acted while the router is silent: calls %q, mark %v, SOS kept %v", l.calls(t), exists(l.mark), exists(filepath.Join(l.root, "SOS_SYSTEM")))
		}
	})

	t.Run("host just booted defers", func(t *testing.T) {
		l.reset(t, "MIN_HOST_UPTIME=600")
		l.writeRouter(t, "SOS_SYSTEM", hostSOS)
		l.cut(t)
		uptime := filepath.Join(l.h, "uptime")
		if err := os.WriteFile(uptime, []byte("30.00 20.00\n"), 0o444); err != nil {
			t.Fatal(err)
		}
		r := inNS(t, l.host, map[string]string{uptime: "/proc/uptime"}, nil, bin(t, "hostcheck"), "-config", l.conf)
		if r.code != 0 {
			t.Errorf("exit %d: %s", r.code, r.stderr)
		}
		hostInOrder(t, "log", readFile(t, l.log), "【确认】", "【推迟】物理机开机时间过短。", "uptime=30s")
		if exists(l.actions) || exists(l.mark) || !exists(filepath.Join(l.root, "SOS_SYSTEM")) {
			t.Errorf("acted on a fresh boot: calls %q, mark %v, SOS kept %v", l.calls(t), exists(l.mark), exists(filepath.Join(l.root, "SOS_SYSTEM")))
		}
	})

	t.Run("backup running defers", func(t *testing.T) {
		l.reset(t)
		l.writeRouter(t, "SOS_SYSTEM", hostSOS)
		l.cut(t)
		// A process named vzdump, as Proxmox's backup is: a copy of sleep.
		sleep, err := exec.LookPath("sleep")
		if err != nil {
			t.Skip("SKIP: sleep not found")
		}
		vzdump := filepath.Join(l.h, "vzdump")
		b, err := os.ReadFile(sleep)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(vzdump, b, 0o755); err != nil {
			t.Fatal(err)
		}
		// It runs in hostcheck's PID namespace (inNSBeside): no other
		// hostcheck on the machine sees it.
		r, pid := inNSBeside(t, l.host, nil, nil, []string{vzdump, "30"}, bin(t, "hostcheck"), "-config", l.conf)
		if r.code != 0 {
			t.Errorf("exit %d: %s", r.code, r.stderr)
		}
		hostInOrder(t, "log", readFile(t, l.log), "【确认】", fmt.Sprintf("【推迟】备份任务 vzdump 正在运行 (pid %s)", pid))
		if exists(l.actions) || exists(l.mark) {
			t.Errorf("acted during a backup: calls %q, mark %v", l.calls(t), exists(l.mark))
		}
	})

	t.Run("notifications wait for the internet", func(t *testing.T) {
		// A webhook on "the internet" (198.51.100.1 in the router's
		// namespace): cut with it, back with it.
		var ln net.Listener
		if err := testlab.InNetns(l.router, func() { ln, _ = net.Listen("tcp", "198.51.100.1:8080") }); err != nil || ln == nil {
			t.Fatalf("listen in %s: %v", l.router, err)
		}
		var mu sync.Mutex
		var got []string
		srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			b, _ := io.ReadAll(r.Body)
			mu.Lock()
			got = append(got, r.URL.String()+" "+string(b))
			mu.Unlock()
		})}
		go srv.Serve(ln)
		defer srv.Close()
		received := func() string { mu.Lock(); defer mu.Unlock(); return strings.Join(got, "\n") }

		l.reset(t, "NOTIFY_URL=http://198.51.100.1:8080/hook?key=SECRET")
		l.writeRouter(t, "SOS_SYSTEM", hostSOS)
		l.cut(t)
		if r := l.hostcheck(t); r.code != 0 {
			t.Fatalf("exit %d: %s", r.code, r.stderr)
		}
		queue := filepath.Join(l.state, "notify.queue")
		if !strings.Contains(readFile(t, queue), "host-reboot") || received() != "" {
			t.Fatalf("while down: queue %q, webhook got %q; want the message queued, nothing sent", readFile(t, queue), received())
		}
		// The net is back: the next run (the day's rescue spent) sends it.
		exec.Command("ip", "netns", "exec", l.router, "nft", "delete", "table", "inet", "hcut").Run()
		if r := l.hostcheck(t); r.code != 0 {
			t.Fatalf("exit %d: %s", r.code, r.stderr)
		}
		if g := received(); !strings.Contains(g, "/hook?key=SECRET") || !strings.Contains(g, "PVE 物理机今天重启一次") {
			t.Errorf("webhook got %q; want the host-reboot message", g)
		}
		log := readFile(t, l.log)
		if !strings.Contains(log, "【通知】已发送") || strings.Contains(log, "SECRET") {
			t.Errorf("log must say 【通知】已发送 and never hold the URL's secret:\n%s", log)
		}
		if exists(queue) {
			t.Errorf("queue still there after sending")
		}
	})

	t.Run("stale mark", func(t *testing.T) {
		for _, tt := range []struct {
			name, content string
		}{
			{name: "date-less, mtime yesterday", content: ""},
			{name: "dated yesterday", content: "date=" + hostYesterday() + "\n"},
		} {
			t.Run(tt.name, func(t *testing.T) {
				l.reset(t)
				if err := os.WriteFile(l.mark, []byte(tt.content), 0o644); err != nil {
					t.Fatal(err)
				}
				y := time.Now().Add(-24 * time.Hour)
				if err := os.Chtimes(l.mark, y, y); err != nil {
					t.Fatal(err)
				}
				l.cut(t)
				if r := l.hostcheck(t); r.code != 0 {
					t.Errorf("exit %d: %s", r.code, r.stderr)
				}
				hostInOrder(t, "log", readFile(t, l.log), "【重置】", "mark_date="+hostYesterday(), "【检测】", "【观察】")
				if exists(l.mark) {
					t.Errorf("the stale mark is still there")
				}
			})
		}
		t.Run("date-less, mtime today", func(t *testing.T) {
			l.reset(t)
			if err := os.WriteFile(l.mark, nil, 0o644); err != nil {
				t.Fatal(err)
			}
			l.writeRouter(t, "SOS_SYSTEM", hostSOS)
			l.cut(t)
			if r := l.hostcheck(t); r.code != 0 || exists(l.log) || exists(l.actions) {
				t.Errorf("exit %d, log %q, calls %q; want a silent exit 0 (the original touch counts as today)", r.code, readFile(t, l.log), l.calls(t))
			}
		})
	})

	t.Run("misfire", func(t *testing.T) {
		l.reset(t, "REBOOT_CMD="+filepath.Join(l.bin, "REBOOT_DUD"))
		l.writeRouter(t, "SOS_SYSTEM", hostSOS)
		l.cut(t)
		r := l.hostcheck(t)
		if r.code != 1 {
			t.Errorf("exit %d; want 1 (the host did not reboot): %s", r.code, r.stderr)
		}
		got := l.calls(t, "REBOOT_DUD", "SYSTEMCTL_RUNNING", "FALLBACK")
		want := "REBOOT_DUD,SYSTEMCTL_RUNNING is-system-running,FALLBACK,SYSTEMCTL_RUNNING is-system-running"
		if strings.Join(got, ",") != want {
			t.Errorf("calls = %q; want %q", got, want)
		}
		log := readFile(t, l.log)
		hostInOrder(t, "log", log, "【终极动作】删除 SOS 成功。",
			"【严重错误】检测到 PVE 未能成功重启！命令执行失效。",
			"【回退】正在撕毁免死金牌，以便在下个检测周期重试。")
		if exists(l.mark) {
			t.Errorf("the mark survived a misfire")
		}
		out, err := exec.Command("grep", "-E", "严重错误|回退", l.log).Output()
		if err != nil || len(lines(string(out))) != 2 {
			t.Errorf(`grep -E "严重错误|回退" found %q (err %v); want the two lines`, out, err)
		}
		if r.elapsed > 4*time.Second {
			t.Errorf("misfire run took %v; want about 2×REBOOT_CONFIRM (2s)", r.elapsed)
		}
		// The router no longer credits the host with a reboot that did
		// not happen.
		if exists(filepath.Join(l.root, "net_rescued_by")) {
			t.Errorf("net_rescued_by left on the router after the misfire:\n%s", l.routerFiles(t))
		}
		// 【回退】 means a later run may try again today, once the router
		// raises SOS again (the misfired run had acknowledged it): not the
		// next run on its own, which would loop with a REBOOT_CMD that
		// never works.
		l.configure(t)
		if r := l.hostcheck(t); r.code != 0 || len(l.calls(t, "REBOOT")) != 0 {
			t.Errorf("run after the misfire, no SOS: exit %d, calls %q; want no REBOOT\n%s", r.code, l.calls(t), readFile(t, l.log))
		}
		l.writeRouter(t, "SOS_SYSTEM", hostSOS)
		if r := l.hostcheck(t); r.code != 0 || len(l.calls(t, "REBOOT")) != 1 {
			t.Errorf("run after the misfire, SOS again: exit %d, calls %q; want a REBOOT", r.code, l.calls(t))
		}
	})

	t.Run("slow shutdown keeps the mark", func(t *testing.T) {
		l.reset(t, "REBOOT_CMD="+filepath.Join(l.bin, "REBOOT_DUD"), "SYSTEMCTL="+filepath.Join(l.bin, "SYSTEMCTL_STOPPING"))
		l.writeRouter(t, "SOS_SYSTEM", hostSOS)
		l.cut(t)
		r := l.hostcheck(t)
		if r.code != 0 {
			t.Errorf("exit %d; want 0: %s", r.code, r.stderr)
		}
		if f := l.calls(t, "FALLBACK"); len(f) != 0 {
			t.Errorf("fallback called during a slow shutdown: %q", f)
		}
		log := readFile(t, l.log)
		if strings.Contains(log, "严重错误") || strings.Contains(log, "回退") {
			t.Errorf("log has 严重错误/回退 during a slow shutdown:\n%s", log)
		}
		if !exists(l.mark) {
			t.Errorf("the mark was torn during a slow shutdown")
		}
		if !strings.Contains(log, "系统正在关机，等待。") || r.elapsed > 3*time.Second {
			t.Errorf("run took %v, log:\n%s\nwant it to wait for the shutdown and end at its SIGTERM", r.elapsed, log)
		}
	})

	t.Run("SIGTERM during the shutdown check keeps the mark", func(t *testing.T) {
		l.reset(t, "REBOOT_CMD="+filepath.Join(l.bin, "REBOOT_DUD"), "SYSTEMCTL="+filepath.Join(l.bin, "SYSTEMCTL_TERM2"))
		l.writeRouter(t, "SOS_SYSTEM", hostSOS)
		l.cut(t)
		r := l.hostcheck(t)
		log := readFile(t, l.log)
		if r.code != 0 || strings.Contains(log, "严重错误") || strings.Contains(log, "回退") || !exists(l.mark) {
			t.Errorf("exit %d, mark kept %v, log:\n%s\nwant exit 0, the mark kept and no 严重错误/回退: the SIGTERM is the shutdown reaching us (SPEC §6 step 6)",
				r.code, exists(l.mark), log)
		}
		want := "REBOOT_DUD,SYSTEMCTL_TERM2 is-system-running,FALLBACK,SYSTEMCTL_TERM2 is-system-running"
		if got := strings.Join(l.calls(t, "REBOOT_DUD", "SYSTEMCTL_TERM2", "FALLBACK"), ","); got != want {
			t.Errorf("calls = %q; want %q", got, want)
		}
	})

	t.Run("router SSH down", func(t *testing.T) {
		for _, tt := range []struct {
			name, want string
			down       func(t *testing.T)
		}{
			{name: "Dropbear stopped", want: "refused the SSH connection", down: func(t *testing.T) { l.stopDropbear() }},
			{name: "port 22 dropped", want: "did not answer over SSH in time", down: l.blockSSH},
		} {
			t.Run(tt.name, func(t *testing.T) {
				l.reset(t)
				l.writeRouter(t, "SOS_SYSTEM", hostSOS)
				l.cut(t)
				tt.down(t)
				r := l.hostcheck(t)
				if r.code != 0 {
					t.Errorf("exit %d: %s", r.code, r.stderr)
				}
				hostInOrder(t, "log", readFile(t, l.log), "【检测】", "【严重错误】无法通过 SSH 读取 OpenWrt 的 SOS 信号。", tt.want)
				if limit := time.Second + 300*time.Millisecond + time.Second; r.elapsed > limit {
					t.Errorf("run took %v; want at most SSH_TIMEOUT+PROBE_TIMEOUT+1s = %v", r.elapsed, limit)
				}
				if exists(l.actions) || exists(l.mark) {
					t.Errorf("acted without the router: calls %q, mark %v", l.calls(t), exists(l.mark))
				}
			})
		}
	})

	t.Run("hung router VM", func(t *testing.T) {
		l.reset(t, "VM_ID=100", "ROUTER_HUNG_AFTER=1m")
		l.cut(t)
		l.stopDropbear()
		l.isolate(t) // no SSH, no ping on the LAN: hung
		start := time.Now().Unix()
		if r := l.hostcheck(t); r.code != 0 {
			t.Errorf("first run exit %d: %s", r.code, r.stderr)
		}
		rec := readFile(t, filepath.Join(l.state, "hostcheck.state"))
		since := 0
		for _, line := range lines(rec) {
			if v, ok := strings.CutPrefix(line, "router_down_since="); ok {
				since, _ = strconv.Atoi(v)
			}
		}
		if int64(since) < start-1 || int64(since) > time.Now().Unix() {
			t.Errorf("state after the first failing run = %q; want router_down_since≈%d", rec, start)
		}
		if exists(l.actions) {
			t.Errorf("the first failing run acted: %q", l.calls(t))
		}

		// Two minutes later, as far as hostcheck can tell.
		ago := strconv.FormatInt(time.Now().Add(-2*time.Minute).Unix(), 10)
		if err := os.WriteFile(filepath.Join(l.state, "hostcheck.state"),
			[]byte("down_since="+ago+"\nlast_reboot_date=\nrouter_down_since="+ago+"\nvm_restart_date=\n"), 0o644); err != nil {
			t.Fatal(err)
		}
		if r := l.hostcheck(t); r.code != 0 {
			t.Errorf("second run exit %d: %s", r.code, r.stderr)
		}
		if got := strings.Join(l.calls(t), ","); got != "QM stop 100 --timeout 30,QM start 100" {
			t.Errorf("calls = %q; want QM stop 100, QM start 100", got)
		}
		hostInOrder(t, "log", readFile(t, l.log), "【严重错误】无法通过 SSH 读取", "【终极动作】冷重启 OpenWrt 虚拟机 (qm stop/start)。", "vm_id=100")
		if !strings.Contains(readFile(t, filepath.Join(l.state, "hostcheck.state")), "vm_restart_date="+hostToday()) {
			t.Errorf("state lacks vm_restart_date=%s: %q", hostToday(), readFile(t, filepath.Join(l.state, "hostcheck.state")))
		}

		// At once: the restarted VM boots on a hung clock of its own
		// (router_down_since is the restart), and nothing is done.
		if r := l.hostcheck(t); r.code != 0 {
			t.Errorf("third run exit %d: %s", r.code, r.stderr)
		}
		if n := len(l.calls(t)); n != 2 || strings.Contains(readFile(t, l.log), "今天已冷重启过一次") {
			t.Errorf("third run, right after the restart: calls %q; want still the two QM calls, no judgement yet\n%s", l.calls(t), readFile(t, l.log))
		}
		// Still silent two minutes after the restart, the same day: no
		// second cold restart.
		rec = readFile(t, filepath.Join(l.state, "hostcheck.state"))
		rec = regexp.MustCompile(`(?m)^router_down_since=.*$`).ReplaceAllString(rec, "router_down_since="+ago)
		if err := os.WriteFile(filepath.Join(l.state, "hostcheck.state"), []byte(rec), 0o644); err != nil {
			t.Fatal(err)
		}
		if r := l.hostcheck(t); r.code != 0 {
			t.Errorf("fourth run exit %d: %s", r.code, r.stderr)
		}
		if n := len(l.calls(t)); n != 2 {
			t.Errorf("calls after the fourth run = %q; want still the two QM calls", l.calls(t))
		}
		if !strings.Contains(readFile(t, l.log), "【观察】路由虚拟机今天已冷重启过一次，不再重复。") {
			t.Errorf("fourth run did not say the VM was restarted today:\n%s", readFile(t, l.log))
		}
	})

	t.Run("VM restart first", func(t *testing.T) {
		l.reset(t, "VM_ID=100", "VM_RESTART_FIRST=1")
		l.writeRouter(t, "SOS_SYSTEM", hostSOS)
		l.writeRouter(t, "net_rb_count", "10\n")
		l.cut(t)
		if r := l.hostcheck(t); r.code != 0 {
			t.Errorf("exit %d: %s", r.code, r.stderr)
		}
		if got := strings.Join(l.calls(t), ","); got != "QM stop 100 --timeout 30,QM start 100" {
			t.Errorf("calls = %q; want only QM stop 100, QM start 100", got)
		}
		hostInOrder(t, "log", readFile(t, l.log), "【确认】", "【终极动作】冷重启 OpenWrt 虚拟机", "vm_id=100",
			"【同步】已删除 OpenWrt 的 SOS (保留重启计数)。")
		if exists(filepath.Join(l.root, "SOS_SYSTEM")) {
			t.Errorf("router SOS not deleted")
		}
		if c := readFile(t, filepath.Join(l.root, "net_rb_count")); c != "10\n" {
			t.Errorf("router count = %q; want 10 kept", c)
		}
		if exists(l.mark) {
			t.Errorf("a VM restart wrote the host's mark")
		}

		// The router is still down and raises SOS again: the host reboots.
		l.writeRouter(t, "SOS_SYSTEM", hostSOS)
		if r := l.hostcheck(t); r.code != 0 {
			t.Errorf("second run exit %d: %s", r.code, r.stderr)
		}
		if got := strings.Join(l.calls(t, "QM", "REBOOT"), ","); got != "QM stop 100 --timeout 30,QM start 100,REBOOT" {
			t.Errorf("calls = %q; want the VM restart, then REBOOT", got)
		}
		if !exists(l.mark) {
			t.Errorf("no mark after the host reboot")
		}
	})

	// issue 9 item 6, SPEC §13 rule 4: the day's cold restart is recorded
	// before qm stop; a qm start that fails leaves the VM stopped, and the
	// next run that finds the internet down starts it (rule 1).
	t.Run("VM start fails during a cold restart", func(t *testing.T) {
		l.reset(t, "VM_ID=100", "VM_RESTART_FIRST=1")
		l.writeRouter(t, "SOS_SYSTEM", hostSOS)
		l.cut(t)
		if err := os.WriteFile(filepath.Join(l.h, "qm_start_fails_once"), nil, 0o644); err != nil {
			t.Fatal(err)
		}
		l.hostcheck(t)
		if got := strings.Join(l.calls(t, "QM"), ","); got != "QM stop 100 --timeout 30,QM start 100" {
			t.Fatalf("calls = %q; want the cold restart", got)
		}
		if st := readFile(t, filepath.Join(l.h, "qm_vm_state")); st != "stopped\n" {
			t.Fatalf("VM state after the failed start = %q", st)
		}
		l.stopDropbear() // a stopped VM answers no SSH
		if r := l.hostcheck(t); r.code != 0 {
			t.Errorf("second run exit %d: %s", r.code, r.stderr)
		}
		if got := strings.Join(l.calls(t, "QM"), ","); got != "QM stop 100 --timeout 30,QM start 100,QM start 100" {
			t.Errorf("calls = %q; want the stopped VM started by the next run", got)
		}
		hostInOrder(t, "log", readFile(t, l.log), "【终极动作】冷重启 OpenWrt 虚拟机", "【检测】", "【终极动作】启动已停止的 OpenWrt 虚拟机。", "vm_id=100")
		if st := readFile(t, filepath.Join(l.h, "qm_vm_state")); st != "running\n" {
			t.Errorf("VM state = %q; want running", st)
		}
		if rec := readFile(t, filepath.Join(l.state, "hostcheck.state")); !strings.Contains(rec, "vm_starts=1") {
			t.Errorf("state = %q; want vm_starts=1 recorded", rec)
		}
	})

	// A damaged hostcheck.state spends the day's host reboot and cold
	// restart (the once-a-day rules hold through it), but leaves one VM
	// start: a stopped router VM is started, the damage logged (SPEC §13
	// rule 4, §15).
	t.Run("damaged state, VM stopped", func(t *testing.T) {
		l.reset(t, "VM_ID=100")
		l.cut(t)
		if err := os.MkdirAll(l.state, 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(l.state, "hostcheck.state"), []byte("garbage!!\n"), 0o644); err != nil {
			t.Fatal(err)
		}
		l.fakeQM(t, "qm_vm_state", "stopped\n")
		l.stopDropbear() // a stopped VM answers no SSH
		if r := l.hostcheck(t); r.code != 0 {
			t.Errorf("exit %d: %s", r.code, r.stderr)
		}
		if got := strings.Join(l.calls(t, "QM"), ","); got != "QM start 100" {
			t.Errorf("calls = %q; want QM start 100", got)
		}
		hostInOrder(t, "log", readFile(t, l.log), "【严重错误】状态文件损坏", "garbage!!", "【终极动作】启动已停止的 OpenWrt 虚拟机。", "vm_id=100")
		if rec := readFile(t, filepath.Join(l.state, "hostcheck.state")); !strings.Contains(rec, "vm_start_date="+hostToday()) {
			t.Errorf("state = %q; want the start recorded today", rec)
		}
	})

	// A lock "backup" that no backup holds (no vzdump lock taken, no
	// vzdump worker: none in the run's PID namespace, whatever runs on the
	// machine) is told as a leftover with the
	// command that clears it; nothing acts under it.
	t.Run("leftover backup lock, VM stopped", func(t *testing.T) {
		l.reset(t, "VM_ID=100")
		l.cut(t)
		l.fakeQM(t, "qm_vm_state", "stopped\n")
		l.fakeQM(t, "qm_lock", "backup")
		l.stopDropbear()
		if r := l.hostcheck(t); r.code != 0 {
			t.Errorf("exit %d: %s", r.code, r.stderr)
		}
		if exists(l.actions) {
			t.Errorf("acted under the lock: %q", l.calls(t))
		}
		hostInOrder(t, "log", readFile(t, l.log), "【严重错误】路由虚拟机留有备份锁，但没有备份在运行", "请执行 qm unlock 100。", "lock=backup")
		if strings.Contains(readFile(t, l.log), "备份或迁移进行中") {
			t.Errorf("the log says a backup runs:\n%s", readFile(t, l.log))
		}
	})

	// SPEC §13 rule 2: a paused router VM (no SSH, no SOS) is resumed by the
	// next run that finds the internet down.
	t.Run("paused VM is resumed", func(t *testing.T) {
		l.reset(t, "VM_ID=100")
		l.cut(t)
		vmState := filepath.Join(l.h, "qm_vm_state")
		if err := os.WriteFile(vmState, []byte("paused\n"), 0o644); err != nil {
			t.Fatal(err)
		}
		defer os.Remove(vmState)
		l.stopDropbear() // a paused guest answers no SSH
		if r := l.hostcheck(t); r.code != 0 {
			t.Errorf("exit %d: %s", r.code, r.stderr)
		}
		if got := strings.Join(l.calls(t, "QM"), ","); got != "QM resume 100" {
			t.Errorf("calls = %q; want QM resume 100", got)
		}
		hostInOrder(t, "log", readFile(t, l.log), "【检测】", "【终极动作】恢复已暂停的 OpenWrt 虚拟机 (qm resume)。", "vm_id=100")
		if st := readFile(t, vmState); st != "running\n" {
			t.Errorf("VM state = %q; want running", st)
		}
	})

	t.Run("drill", func(t *testing.T) {
		for _, tt := range []struct {
			name  string
			files map[string]string
		}{
			{name: "clean router"},
			{name: "count and cooling", files: map[string]string{"net_rb_count": "3\n", "net_cooling_ts": "1700000000"}},
		} {
			t.Run(tt.name, func(t *testing.T) {
				l.reset(t)
				for n, c := range tt.files {
					l.writeRouter(t, n, c)
				}
				before := l.routerFiles(t)
				r := l.hostcheck(t, "drill")
				if r.code != 0 {
					t.Fatalf("drill exit %d:\n%s%s", r.code, r.stdout, r.stderr)
				}
				hostInOrder(t, "drill stdout", r.stdout,
					"1. router "+hostLabAddr+" reached over SSH",
					"2. drill SOS created on the router",
					"3. the real decision (dry run), internet pretended down",
					"read the router over SSH", "SOS=true",
					"ping the router on the LAN",
					"【确认】",
					"=> action: host-reboot",
					"4. SSH acknowledgement works",
					"5. router state put back exactly as before")
				if after := l.routerFiles(t); after != before {
					t.Errorf("drill changed the router's files:\nbefore:\n%s\nafter:\n%s", before, after)
				}
				if exists(l.actions) || exists(l.mark) {
					t.Errorf("drill acted: calls %q, mark %v", l.calls(t), exists(l.mark))
				}
				want := "count=3"
				if tt.files == nil {
					want = "count=none (0)" // no count file, as status says it
				}
				if strings.Count(r.stdout, want) != 2 { // step 1, and the trace of step 3
					t.Errorf("drill stdout lacks %q twice:\n%s", want, r.stdout)
				}
			})
		}
		// The router's own run writes its state while the drill's SOS
		// stands (here: it reaches SOS, count 10, writing over the
		// drill's): the drill shows no decision, puts nothing back over
		// the router's files (it deleted a real SOS and lowered the count),
		// and says so.
		t.Run("router changes its state during the drill", func(t *testing.T) {
			l.reset(t)
			l.writeRouter(t, "net_rb_count", "9\n")
			const real = "time=2026-11-25T10:00:03+08:00 count=10 reason=L4"
			done := make(chan struct{})
			go func() {
				defer close(done)
				for deadline := time.Now().Add(time.Minute); time.Now().Before(deadline); time.Sleep(2 * time.Millisecond) {
					if b, err := os.ReadFile(filepath.Join(l.root, "SOS_SYSTEM")); err == nil && strings.Contains(string(b), "count=drill") {
						_ = os.WriteFile(filepath.Join(l.root, "net_rb_count"), []byte("10\n"), 0o644)
						_ = os.WriteFile(filepath.Join(l.root, "SOS_SYSTEM"), []byte(real), 0o644)
						return
					}
				}
			}()
			r := l.hostcheck(t, "drill")
			<-done
			if r.code != 1 || !strings.Contains(r.stderr, "the router changed its state during the drill") || strings.Contains(r.stdout, "=> action") {
				t.Errorf("drill with the router writing meanwhile: exit %d; want 1, the change said, no decision shown\n%s%s", r.code, r.stdout, r.stderr)
			}
			if got := l.routerFiles(t); !strings.Contains(got, real) || !strings.Contains(got, `net_rb_count -rw-r--r-- "10\n"`) {
				t.Errorf("the router's own SOS and count were not left as it wrote them:\n%s", got)
			}
		})
		// The router stops answering once the drill's SOS is raised: the
		// drill cannot put it back, and says so with the fix by hand (the
		// error of the deferred restore was dropped).
		t.Run("router gone after the SOS", func(t *testing.T) {
			l.reset(t)
			done := make(chan struct{})
			go func() {
				defer close(done)
				for deadline := time.Now().Add(time.Minute); time.Now().Before(deadline); time.Sleep(2 * time.Millisecond) {
					if b, err := os.ReadFile(filepath.Join(l.root, "SOS_SYSTEM")); err == nil && strings.Contains(string(b), "count=drill") {
						l.stopDropbear()
						return
					}
				}
			}()
			r := l.hostcheck(t, "drill")
			<-done
			if r.code != 1 || !strings.Contains(r.stderr, "fix by hand: rm /root/SOS_SYSTEM") {
				t.Errorf("drill, router gone after its SOS: exit %d; want 1 and the fix by hand\n%s%s", r.code, r.stdout, r.stderr)
			}
			_ = os.Remove(filepath.Join(l.root, "SOS_SYSTEM"))
		})
		// The drill decides from the real state, as a cron run would:
		// today's mark means no host step today (not the dry run's own
		// state, which has no mark).
		for _, args := range [][]string{{"drill"}, {"-dry-run", "drill"}} {
			t.Run("mark dated today "+strings.Join(args, " "), func(t *testing.T) {
				l.reset(t)
				mark := "date=" + hostToday() + "\nreason=SOS earlier today\n"
				if err := os.WriteFile(l.mark, []byte(mark), 0o644); err != nil {
					t.Fatal(err)
				}
				r := l.hostcheck(t, args...)
				if r.code != 0 {
					t.Fatalf("drill exit %d:\n%s%s", r.code, r.stdout, r.stderr)
				}
				hostInOrder(t, "drill stdout", r.stdout,
					"3. the real decision (dry run)",
					"(the mark says today's host rescue is spent: a real run would do nothing)",
					"=> action: none",
					"5. router state put back exactly as before")
				if got := readFile(t, l.mark); got != mark || exists(l.actions) {
					t.Errorf("drill changed the mark (%q) or acted (%q)", got, l.calls(t))
				}
			})
		}
	})

	// drill -live carries the decision out as a cron run would (SPEC §7,
	// §16): ON_EVENT_CMD hears the host reboot and its misfire, the reboot
	// is counted in METRICS_FILE, and the pretended outage is not recorded
	// (the next run tells no recovery).
	// A real step taken by drill -live answers an SOS held from yesterday
	// (as a cron run's does); the drill's own SOS, pretended, holds none.
	// It used to put the held one back, and the next cron run without SOS
	// took a step for it again.
	t.Run("drill -live answers a held SOS", func(t *testing.T) {
		l.reset(t, "REBOOT_CMD="+filepath.Join(l.bin, "REBOOT_DUD"))
		if err := os.MkdirAll(l.state, 0o755); err != nil {
			t.Fatal(err)
		}
		// router_down_since from a run before the drill that could not
		// reach the router: the host's reboot restarts the VM, and its
		// clock is not put back (the next run judged the booting VM hung).
		rec := fmt.Sprintf("down_since=%d\nheld_sos=count=10\nheld_sos_count=10\nheld_sos_day=%s\nlast_reboot_date=\nrouter_down_since=%d\nrouter_err=timeout\nvm_restart_date=\n",
			time.Now().Add(-2*time.Hour).Unix(), hostYesterday(), time.Now().Add(-time.Hour).Unix())
		if err := os.WriteFile(filepath.Join(l.state, "hostcheck.state"), []byte(rec), 0o644); err != nil {
			t.Fatal(err)
		}
		r := l.hostcheck(t, "drill", "-live", "-yes")
		hostInOrder(t, "drill stdout", r.stdout, "=> action: host-reboot", "4. LIVE: carrying it out now")
		if st := readFile(t, filepath.Join(l.state, "hostcheck.state")); strings.Contains(st, "held_sos=count") {
			t.Errorf("after drill -live's host reboot the state still holds yesterday's SOS:\n%s", st)
		}
		if st := readFile(t, filepath.Join(l.state, "hostcheck.state")); !strings.Contains(st, "router_down_since=0\n") || !strings.Contains(st, "router_err=\n") {
			t.Errorf("after drill -live's host reboot the clock of the router's silence came back:\n%s", st)
		}
	})

	t.Run("drill -live", func(t *testing.T) {
		events, prom := filepath.Join(l.h, "drill-events.log"), filepath.Join(l.h, "drill.prom")
		for _, f := range []string{events, prom} {
			if err := os.Remove(f); err != nil && !os.IsNotExist(err) {
				t.Fatal(err)
			}
		}
		hookCmd := fmt.Sprintf(`echo "$NETRESCUE_EVENT" >> '%s'`, events)
		l.reset(t, "REBOOT_CMD="+filepath.Join(l.bin, "REBOOT_DUD"), "ON_EVENT_CMD="+hookCmd, "METRICS_FILE="+prom)
		r := l.hostcheck(t, "drill", "-live", "-yes")
		// Written by the drill itself, from the real internet's state (up
		// here), with the host reboot counted.
		if v, ok := metric(t, prom, "netrescue_internet_up", ""); !ok || v != 1 {
			t.Errorf("internet_up after drill -live = %v (present %v); want 1 (the drill's outage is pretended)", v, ok)
		}
		if r.code != 1 {
			t.Errorf("drill -live exit %d; want 1 (REBOOT_DUD: the host did not reboot):\n%s%s", r.code, r.stdout, r.stderr)
		}
		hostInOrder(t, "drill stdout", r.stdout, "=> action: host-reboot", "4. LIVE: carrying it out now")
		if got := l.calls(t, "REBOOT_DUD"); len(got) != 1 {
			t.Errorf("REBOOT_DUD calls %q; want one", got)
		}
		got := lines(readFile(t, events))
		sort.Strings(got)
		if strings.Join(got, ",") != "host-reboot,misfire" {
			t.Errorf("ON_EVENT_CMD heard %q; want host-reboot and misfire", got)
		}
		if r := l.hostcheck(t); r.code != 0 {
			t.Fatalf("the run after the drill: exit %d: %s", r.code, r.stderr)
		}
		if log := readFile(t, l.log); strings.Contains(log, "【恢复】") {
			t.Errorf("the run after the drill told a recovery from the drill's pretended outage:\n%s", log)
		}
		if v, ok := metric(t, prom, "netrescue_host_reboots_total", ""); !ok || v != 1 {
			t.Errorf("host_reboots_total after drill -live = %v (present %v); want 1:\n%s", v, ok, readFile(t, prom))
		}
	})

	t.Run("boot confirms the reboot", func(t *testing.T) {
		l.reset(t)
		requested := time.Now().Add(-3 * time.Minute).UTC()
		mark := fmt.Sprintf("boot_id=bbbbbbbb-0000-4000-8000-000000000000\ndate=%s\nreason=SOS %s\ntime=%s\n",
			hostToday(), hostSOS, requested.Format(time.RFC3339))
		if err := os.WriteFile(l.mark, []byte(mark), 0o644); err != nil {
			t.Fatal(err)
		}
		fake := filepath.Join(l.h, "boot_id")
		uptime := filepath.Join(l.h, "uptime")
		const newBoot = "aaaaaaaa-0000-4000-8000-000000000000"
		if err := os.WriteFile(fake, []byte(newBoot+"\n"), 0o444); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(uptime, []byte("60.00 50.00\n"), 0o444); err != nil {
			t.Fatal(err)
		}
		mounts := map[string]string{fake: "/proc/sys/kernel/random/boot_id", uptime: "/proc/uptime"}
		argv := []string{bin(t, "hostcheck"), "-config", l.conf, "boot"}
		if r := inNS(t, l.host, mounts, nil, argv...); r.code != 0 {
			t.Fatalf("boot exit %d: %s", r.code, r.stderr)
		}
		log := readFile(t, l.log)
		hostInOrder(t, "log", log, "【启动】", "【确认】物理机重启完成", "took=")
		if !strings.Contains(log, "took=2m") && !strings.Contains(log, "took=1m59s") {
			t.Errorf("log does not say the reboot took about 2m (requested 3m ago, up 60s):\n%s", log)
		}
		if m := readFile(t, l.mark); !strings.Contains(m, "boot_id="+newBoot) || !strings.Contains(m, "date="+hostToday()) {
			t.Errorf("mark after boot = %q; want boot_id=%s and the date kept", m, newBoot)
		}
		// A second boot run of the same boot reports nothing new.
		if r := inNS(t, l.host, mounts, nil, argv...); r.code != 0 {
			t.Fatalf("second boot exit %d: %s", r.code, r.stderr)
		}
		if n := strings.Count(readFile(t, l.log), "【确认】物理机重启完成"); n != 1 {
			t.Errorf("【确认】物理机重启完成 logged %d times; want once", n)
		}
	})

	t.Run("status", func(t *testing.T) {
		l.reset(t)
		l.writeRouter(t, "net_rb_count", "4\n")
		r := l.hostcheck(t, "status", "-crontab", filepath.Join(l.h, "no-crontab"))
		if r.code != 1 {
			t.Errorf("exit %d; want 1 (the cron file is missing)", r.code)
		}
		for _, want := range []string{
			"✓ SSH key: " + l.key,
			"✓ host key pinned: " + l.known,
			"✓ SSH without password: root@" + hostLabAddr,
			"✓ router reboot count: 4",
			"✓ router SOS: none",
			"✓ internet:",
			"✗ cron entries: cannot read " + filepath.Join(l.h, "no-crontab"),
			"    fix: hostcheck install --role host",
		} {
			if !strings.Contains(r.stdout, want) {
				t.Errorf("status lacks %q:\n%s", want, r.stdout)
			}
		}
		if exists(l.log) || exists(l.mark) || exists(l.state) {
			t.Errorf("status wrote files: log %v mark %v state %v", exists(l.log), exists(l.mark), exists(l.state))
		}
	})

	t.Run("host key changed", func(t *testing.T) {
		l.reset(t)
		oldKey, oldKnown := l.hostKey, readFile(t, l.known)
		t.Cleanup(func() {
			l.stopDropbear()
			l.hostKey = oldKey
			os.WriteFile(l.known, []byte(oldKnown), 0o600)
		})
		// The router was reinstalled: a new host key.
		l.stopDropbear()
		l.hostKey = filepath.Join(l.etc, "dropbear_ed25519_host_key.new")
		sh(t, "dropbearkey", "-t", "ed25519", "-f", l.hostKey)
		l.startDropbear(t)
		l.writeRouter(t, "SOS_SYSTEM", hostSOS)
		l.writeRouter(t, "net_rb_count", "10\n")
		l.cut(t)
		before := l.routerFiles(t)
		if r := l.hostcheck(t); r.code != 0 {
			t.Errorf("exit %d: %s", r.code, r.stderr)
		}
		hostInOrder(t, "log", readFile(t, l.log), "【严重错误】无法通过 SSH 读取 OpenWrt 的 SOS 信号。",
			"router host key changed for "+hostLabAddr, "run: hostcheck -config '"+l.conf+"' pin")
		if after := l.routerFiles(t); after != before {
			t.Errorf("router files changed:\nbefore %s\nafter  %s", before, after)
		}
		if exists(l.actions) || exists(l.mark) {
			t.Errorf("acted on an unverified router: calls %q, mark %v", l.calls(t), exists(l.mark))
		}
		// `hostcheck pin -yes` replaces the old pin; the next run reads SOS.
		if r := l.hostcheck(t, "pin", "-yes"); r.code != 0 || !strings.Contains(r.stdout, "pinned SHA256:") {
			t.Fatalf("re-pin exit %d: %s%s", r.code, r.stdout, r.stderr)
		}
		if got := lines(readFile(t, l.known)); len(got) != 1 || got[0] == strings.TrimSpace(oldKnown) {
			t.Errorf("known_hosts after re-pin = %q; want one new line", got)
		}
		if r := l.hostcheck(t); r.code != 0 {
			t.Errorf("run after re-pin exit %d: %s", r.code, r.stderr)
		}
		if got := l.calls(t, "REBOOT"); len(got) != 1 || exists(filepath.Join(l.root, "SOS_SYSTEM")) {
			t.Errorf("after re-pin: calls %q, router SOS %v; want one REBOOT and SOS acknowledged", got, exists(filepath.Join(l.root, "SOS_SYSTEM")))
		}
	})
}
