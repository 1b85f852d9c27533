package installtest

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/pve-op/network-rescue/crontab"
	"github.com/pve-op/network-rescue/internal/config"
)

const (
	routerIP = "10.213.0.1"
	hostIP   = "10.213.0.2"
)

// lab is a "router" namespace running Dropbear and a "host" namespace,
// joined by a veth pair; nothing else is reachable from either.
type lab struct {
	t          *testing.T
	dir        string
	routerNS   string
	hostNS     string
	routerRoot string   // bind-mounted on /root for Dropbear
	dropbear   string   // bind-mounted on /etc/dropbear: host key, authorized_keys
	hostRoot   string   // bind-mounted on /root for everything run on the host
	clientKey  string   // the test's own key, pre-authorized on the router
	hostKeyPub string   // "ssh-ed25519 AAAA..." of the router
	script     string   // the install.sh to run; "" is the repository's
	env        []string // more environment for install.sh
}

func ipCmd(t *testing.T, args ...string) {
	t.Helper()
	if out, err := exec.Command("ip", args...).CombinedOutput(); err != nil {
		t.Fatalf("ip %s: %v\n%s", strings.Join(args, " "), err, out)
	}
}

func newLab(t *testing.T) *lab {
	t.Helper()
	requireRoot(t)
	requireTools(t, "ip", "unshare", "mount", "dropbear", "dropbearkey", "ssh", "ssh-keygen", "ssh-keyscan", "busybox")
	pid := os.Getpid()
	l := &lab{t: t, dir: t.TempDir(),
		routerNS: fmt.Sprintf("nrin%d-r", pid), hostNS: fmt.Sprintf("nrin%d-h", pid)}
	for _, ns := range []string{l.routerNS, l.hostNS} {
		ipCmd(t, "netns", "add", ns)
		t.Cleanup(func() { _ = exec.Command("ip", "netns", "del", ns).Run() })
	}
	vr, vh := fmt.Sprintf("nrin%da", pid), fmt.Sprintf("nrin%db", pid)
	ipCmd(t, "-n", l.routerNS, "link", "add", vr, "type", "veth", "peer", "name", vh, "netns", l.hostNS)
	ipCmd(t, "-n", l.routerNS, "addr", "add", routerIP+"/30", "dev", vr)
	ipCmd(t, "-n", l.hostNS, "addr", "add", hostIP+"/30", "dev", vh)
	for _, x := range [][2]string{{l.routerNS, vr}, {l.routerNS, "lo"}, {l.hostNS, vh}, {l.hostNS, "lo"}} {
		ipCmd(t, "-n", x[0], "link", "set", x[1], "up")
	}

	l.routerRoot = filepath.Join(l.dir, "router-root")
	l.dropbear = filepath.Join(l.dir, "router-dropbear")
	l.hostRoot = filepath.Join(l.dir, "host-root")
	for _, d := range []string{filepath.Join(l.routerRoot, ".ssh"), l.dropbear, l.hostRoot, filepath.Join(l.dir, "client")} {
		if err := os.MkdirAll(d, 0o700); err != nil {
			t.Fatal(err)
		}
	}
	// Debian's Dropbear reads ~/.ssh/authorized_keys; OpenWrt's reads
	// /etc/dropbear/authorized_keys, where the installer writes. Join them.
	if err := os.Symlink("/etc/dropbear/authorized_keys", filepath.Join(l.routerRoot, ".ssh", "authorized_keys")); err != nil {
		t.Fatal(err)
	}
	hostKey := filepath.Join(l.dropbear, "dropbear_ed25519_host_key")
	if out, err := exec.Command("dropbearkey", "-t", "ed25519", "-f", hostKey).CombinedOutput(); err != nil {
		t.Fatalf("dropbearkey: %v\n%s", err, out)
	}
	out, err := exec.Command("dropbearkey", "-y", "-f", hostKey).Output()
	if err != nil {
		t.Fatalf("dropbearkey -y: %v", err)
	}
	for _, line := range strings.Split(string(out), "\n") {
		if f := strings.Fields(line); len(f) >= 2 && f[0] == "ssh-ed25519" {
			l.hostKeyPub = f[0] + " " + f[1]
		}
	}
	if l.hostKeyPub == "" {
		t.Fatalf("no ssh-ed25519 line in dropbearkey -y output:\n%s", out)
	}
	l.clientKey = filepath.Join(l.dir, "client", "id_ed25519")
	if out, err := exec.Command("ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "test-client", "-f", l.clientKey).CombinedOutput(); err != nil {
		t.Fatalf("ssh-keygen: %v\n%s", err, out)
	}
	write(t, l.authorizedKeys(), read(t, l.clientKey+".pub"), 0o600)

	l.startDropbear()
	return l
}

func (l *lab) authorizedKeys() string { return filepath.Join(l.dropbear, "authorized_keys") }

// startDropbear runs Dropbear in the router namespace, in a mount namespace
// of its own where the temp dirs stand in for /root and /etc/dropbear, and
// waits until it answers.
func (l *lab) startDropbear() {
	t := l.t
	var logBuf bytes.Buffer
	ov := filepath.Join(l.dir, "etc-overlay")
	for _, d := range []string{"upper", "work"} {
		if err := os.MkdirAll(filepath.Join(ov, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	// Where /etc/dropbear does not exist (Debian's dropbear-bin does not
	// make it), a throw-away overlay on /etc, private to this mount
	// namespace, gives the bind mount a place without touching the real /etc.
	cmd := exec.Command("ip", "netns", "exec", l.routerNS, "unshare", "-m", "sh", "-c", `set -e
mount --bind "$1" /root
if [ ! -d /etc/dropbear ]; then
	mount -t overlay overlay -o lowerdir=/etc,upperdir="$3/upper",workdir="$3/work" /etc
	mkdir /etc/dropbear
fi
mount --bind "$2" /etc/dropbear
exec dropbear -F -E -s -p `+routerIP+`:22 -p `+routerIP+`:2222 -r /etc/dropbear/dropbear_ed25519_host_key`,
		"sh", l.routerRoot, l.dropbear, ov)
	cmd.Stdout, cmd.Stderr = &logBuf, &logBuf
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		t.Fatalf("start dropbear: %v", err)
	}
	done := make(chan struct{})
	go func() { _ = cmd.Wait(); close(done) }()
	t.Cleanup(func() {
		// Dropbear and the session children it forked, by the process
		// group of the one process this test started.
		_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGTERM)
		select {
		case <-done:
		case <-time.After(5 * time.Second):
			_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
			<-done
		}
		if t.Failed() {
			t.Logf("dropbear log:\n%s", logBuf.String())
		}
	})
	deadline := time.Now().Add(10 * time.Second)
	for {
		out, _ := l.hostCmd("ssh-keyscan", "-T", "1", "-t", "ed25519", routerIP).Output()
		if bytes.Contains(out, []byte("ssh-ed25519")) {
			return
		}
		select {
		case <-done:
			t.Fatalf("dropbear exited:\n%s", logBuf.String())
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("dropbear did not answer on %s:22 within 10s:\n%s", routerIP, logBuf.String())
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// hostCmd runs a command in the host namespace with a temp dir on /root,
// so that ssh never sees or writes the machine's own ~/.ssh.
func (l *lab) hostCmd(args ...string) *exec.Cmd {
	argv := append([]string{"netns", "exec", l.hostNS, "unshare", "-m", "sh", "-c",
		`mount --bind "$0" /root && exec "$@"`, l.hostRoot}, args...)
	cmd := exec.Command("ip", argv...)
	cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "HOME=" + filepath.Join(l.dir, "home"), "LC_ALL=C"}
	return cmd
}

// install runs install.sh on the host under busybox ash.
func (l *lab) install(hostPrefix, routerPrefix, bin string, args ...string) result {
	l.t.Helper()
	bb, _ := exec.LookPath("busybox")
	tmp := filepath.Join(l.dir, "tmp")
	if err := os.MkdirAll(tmp, 0o755); err != nil {
		l.t.Fatal(err)
	}
	sc := l.script
	if sc == "" {
		sc = script(l.t)
	}
	argv := []string{bb, "ash", sc, "--role", "host", "--prefix", hostPrefix}
	if bin != "" {
		argv = append(argv, "--bin", bin)
	}
	argv = append(append(argv, "--router", routerIP), args...)
	cmd := l.hostCmd(argv...)
	cmd.Env = append(append(cmd.Env, l.env...), "TMPDIR="+tmp,
		"NETRESCUE_ROUTER_PREFIX="+routerPrefix,
		"NETRESCUE_SSH_OPTS=-F /dev/null -o IdentitiesOnly=yes -o BatchMode=yes -i "+l.clientKey)
	var buf bytes.Buffer
	cmd.Stdout, cmd.Stderr = &buf, &buf
	err := cmd.Start()
	if err != nil {
		l.t.Fatalf("start install.sh: %v", err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err = <-done:
	case <-time.After(90 * time.Second):
		_ = cmd.Process.Kill()
		<-done
		l.t.Fatalf("install.sh %q did not finish in 90s; output:\n%s", args, buf.String())
	}
	res := result{out: buf.String()}
	if ee, ok := err.(*exec.ExitError); ok {
		res.code = ee.ExitCode()
	} else if err != nil {
		l.t.Fatal(err)
	}
	return res
}

func count(s, sub string) int { return strings.Count(s, sub) }

// TestRouterDeployOverSSH runs `install.sh --role host --router IP --yes`
// against Dropbear: the router side lands in its prefix over SSH, the
// router's host key is pinned, and the host's key is authorized once even
// after two runs.
func TestRouterDeployOverSSH(t *testing.T) {
	l := newLab(t)
	bin := filepath.Join(l.dir, "bin")
	if err := os.MkdirAll(bin, 0o755); err != nil {
		t.Fatal(err)
	}
	writeStandIns(t, bin)
	hostPrefix := filepath.Join(l.dir, "hostprefix")
	routerPrefix := filepath.Join(l.dir, "routerprefix")

	// Without --yes and without a terminal nothing is trusted or changed.
	akBefore := read(t, l.authorizedKeys())
	r := l.install(hostPrefix, routerPrefix, bin)
	if r.code == 0 {
		t.Fatalf("install.sh --router without --yes and without a terminal exited 0; want a refusal; output:\n%s", r.out)
	}
	wantContains(t, "output", r.out, "SHA256:", "no terminal", "re-run with --yes")
	if got := read(t, l.authorizedKeys()); got != akBefore {
		t.Errorf("authorized_keys changed although the host key was not accepted: %q", got)
	}
	if exists(filepath.Join(routerPrefix, "usr/bin/netcheck")) {
		t.Errorf("router binaries installed although the host key was not accepted")
	}

	r = l.install(hostPrefix, routerPrefix, bin, "--yes")
	if r.code != 0 {
		t.Fatalf("install.sh --router --yes exited %d; want 0; output:\n%s", r.code, r.out)
	}
	wantContains(t, "output", r.out, "the router presents: 256 SHA256:", "pinned", "router architecture: linux-",
		"copied "+routerPrefix+"/usr/bin/netcheck", "Router side: install.sh --role router",
		"Checking the config: "+routerPrefix+"/usr/bin/netcheck -config "+routerPrefix+"/etc/netrescue.conf plan")
	wantNotContains(t, "output", r.out, "stand-in netcheck status")
	wantNotContains(t, "output", r.out, "192.168.10.1")

	// The router side.
	// One binary on the router: midnight-reset is a link to netcheck.
	p := filepath.Join(routerPrefix, "usr/bin", "netcheck")
	if got := read(t, p); got != standIn("netcheck") {
		t.Errorf("router netcheck = %q; want the stand-in", got)
	}
	if m := mode(t, p); m != 0o755 {
		t.Errorf("router netcheck mode %v; want 0755", m)
	}
	wantLink(t, filepath.Join(routerPrefix, "usr/bin", "midnight-reset"), "netcheck")
	if got, want := read(t, filepath.Join(routerPrefix, "etc/crontabs/root")), crontab.Merge("", crontab.Router); got != want {
		t.Errorf("router crontab = %q; want %q", got, want)
	}
	if _, err := config.Load(filepath.Join(routerPrefix, "etc/netrescue.conf"), config.Router, config.Options{Euid: 0}); err != nil {
		t.Errorf("router config: %v", err)
	}
	wantContains(t, "router sysupgrade.conf", read(t, filepath.Join(routerPrefix, "etc/sysupgrade.conf")), "/usr/bin/netcheck\n")

	// The host side: the pin, the key, the config pointing at the router.
	kh := filepath.Join(hostPrefix, "etc/netrescue/known_hosts")
	if got, want := read(t, kh), routerIP+" "+l.hostKeyPub+"\n"; got != want {
		t.Errorf("known_hosts = %q; want %q", got, want)
	}
	hostPub := strings.Join(strings.Fields(read(t, filepath.Join(hostPrefix, "root/.ssh/id_ed25519.pub")))[:2], " ")
	ak := read(t, l.authorizedKeys())
	if n := count(ak, hostPub); n != 1 {
		t.Errorf("authorized_keys holds the host key %d times; want 1:\n%s", n, ak)
	}
	if !strings.HasPrefix(ak, akBefore) {
		t.Errorf("authorized_keys lost its earlier content: %q", ak)
	}
	hostConf := filepath.Join(hostPrefix, "etc/netrescue.conf")
	c, err := config.Load(hostConf, config.Host, config.Options{Euid: 0})
	if err != nil {
		t.Errorf("host config: %v", err)
	} else if c.OpIP != routerIP {
		t.Errorf("host config OP_IP = %q; want %q", c.OpIP, routerIP)
	}
	if got, want := read(t, filepath.Join(hostPrefix, "var/spool/cron/crontabs/root")), crontab.Merge("", crontab.Host); got != want {
		t.Errorf("host crontab = %q; want %q", got, want)
	}

	// The installed key and pin work on their own, as hostcheck will use them.
	out, err := l.hostCmd("ssh", "-F", "/dev/null", "-o", "BatchMode=yes", "-o", "IdentitiesOnly=yes",
		"-i", filepath.Join(hostPrefix, "root/.ssh/id_ed25519"), "-o", "UserKnownHostsFile="+kh,
		"-o", "StrictHostKeyChecking=yes", "root@"+routerIP, "echo 通讯正常").CombinedOutput()
	if err != nil || !strings.Contains(string(out), "通讯正常") {
		t.Errorf("ssh with the installed key and pin: %v\n%s", err, out)
	}

	// A second run: nothing changes anywhere, nothing is added twice.
	hostBefore, routerBefore := snap(t, hostPrefix), snap(t, routerPrefix)
	r = l.install(hostPrefix, routerPrefix, bin, "--yes")
	if r.code != 0 {
		t.Fatalf("second install.sh --router exited %d; want 0; output:\n%s", r.code, r.out)
	}
	wantContains(t, "second output", r.out, "already pinned", "already there", "netcheck is up to date")
	if got := read(t, l.authorizedKeys()); got != ak {
		t.Errorf("second run changed authorized_keys:\n%s\nwant:\n%s", got, ak)
	}
	if d := hostBefore.diff(snap(t, hostPrefix)); d != "" {
		t.Errorf("second run changed the host tree:\n%s", d)
	}
	if d := routerBefore.diff(snap(t, routerPrefix)); d != "" {
		t.Errorf("second run changed the router tree:\n%s", d)
	}

	// A dry run contacts nothing and changes nothing.
	for _, args := range [][]string{{"--dry-run"}, {"--dry-run", "--uninstall", "--purge"}} {
		r = l.install(hostPrefix, routerPrefix, bin, args...)
		if r.code != 0 {
			t.Fatalf("install.sh --router %q exited %d; want 0; output:\n%s", args, r.code, r.out)
		}
		wantContains(t, "dry run output", r.out, "would run: ssh-keyscan", "dry run: nothing was changed")
		wantNotContains(t, "dry run output", r.out, "the router presents")
		if got := read(t, l.authorizedKeys()); got != ak {
			t.Errorf("dry run changed authorized_keys")
		}
		if d := hostBefore.diff(snap(t, hostPrefix)); d != "" {
			t.Errorf("dry run %q changed the host tree:\n%s", args, d)
		}
		if d := routerBefore.diff(snap(t, routerPrefix)); d != "" {
			t.Errorf("dry run %q changed the router tree:\n%s", args, d)
		}
	}

	// Uninstall both sides from the host, through the router's other port
	// (which is pinned as [IP]:PORT, the way ssh looks it up).
	r = l.install(hostPrefix, routerPrefix, bin, "--uninstall", "--port", "2222", "--yes")
	if r.code != 0 {
		t.Fatalf("install.sh --router --uninstall exited %d; want 0; output:\n%s", r.code, r.out)
	}
	if got, want := read(t, kh), routerIP+" "+l.hostKeyPub+"\n["+routerIP+"]:2222 "+l.hostKeyPub+"\n"; got != want {
		t.Errorf("known_hosts after --port 2222 = %q; want %q", got, want)
	}
	if got := read(t, filepath.Join(routerPrefix, "etc/crontabs/root")); got != "" {
		t.Errorf("router crontab after --uninstall = %q; want empty", got)
	}
	if exists(filepath.Join(routerPrefix, "usr/bin/netcheck")) {
		t.Errorf("router netcheck still there after --uninstall")
	}
	if !exists(filepath.Join(routerPrefix, "etc/netrescue.conf")) {
		t.Errorf("router config removed by --uninstall without --purge")
	}
	if got := read(t, filepath.Join(hostPrefix, "var/spool/cron/crontabs/root")); got != "" {
		t.Errorf("host crontab after --uninstall = %q; want empty", got)
	}
}
