package installtest

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"

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
	shadow     string   // an /etc/shadow for Dropbear: root has a password
	stdin      *os.File // the installer's stdin (a pty), or nil
	noIdentity bool     // log in with the password, not the test's key
	out        *syncBuffer
}

// syncBuffer is what the installer printed so far, readable while it runs.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

func ipCmd(t *testing.T, args ...string) {
	t.Helper()
	if out, err := exec.Command("ip", args...).CombinedOutput(); err != nil {
		t.Fatalf("ip %s: %v\n%s", strings.Join(args, " "), err, out)
	}
}

func newLab(t *testing.T) *lab { return newLabWith(t, "") }

// newLabWith is newLab; a non-empty shadow line is root's entry in the
// router's /etc/shadow, and Dropbear then takes passwords.
func newLabWith(t *testing.T, shadow string) *lab {
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

	if shadow != "" {
		l.shadow = filepath.Join(l.dir, "shadow")
		write(t, l.shadow, shadow, 0o640)
	}
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
nopw=-s
if [ -n "$4" ]; then
	mount --bind "$4" /etc/shadow
	nopw=
fi
exec dropbear -F -E $nopw -p `+routerIP+`:22 -p `+routerIP+`:2222 -r /etc/dropbear/dropbear_ed25519_host_key`,
		"sh", l.routerRoot, l.dropbear, ov, l.shadow)
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
	cmd.Env = append(append(cmd.Env, l.env...), "TMPDIR="+tmp, "NETRESCUE_ROUTER_PREFIX="+routerPrefix)
	if !l.noIdentity {
		// The test's own key, authorized on the router, stands in for the
		// root password: Dropbear runs with -s (no password logins).
		cmd.Env = append(cmd.Env, "NETRESCUE_SSH_IDENTITY="+l.clientKey)
	}
	buf := &syncBuffer{}
	l.out = buf
	cmd.Stdout, cmd.Stderr = buf, buf
	if l.stdin != nil {
		cmd.Stdin = l.stdin
	}
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
// against Dropbear: the router's host key is pinned (x/crypto/ssh, the code
// of hostcheck pin), the host's key is authorized once even after two
// runs, netcheck is streamed over the session and checked by its SHA-256,
// and the router side's own `netcheck install` lands in its prefix.
func TestRouterDeployOverSSH(t *testing.T) {
	l := newLab(t)
	bin := realBins(t)
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
	wantContains(t, "output", r.out, "the router presents: ssh-ed25519 SHA256:", "pinned", "router architecture: linux-",
		"copied "+routerPrefix+"/usr/bin/netcheck (SHA-256 ", "==> Router side: netcheck install --role router --prefix "+routerPrefix,
		"==> Checking the config: "+routerPrefix+"/etc/netrescue.conf\n")
	wantNotContains(t, "output", r.out, "==> Checking: ")
	wantNotContains(t, "output", r.out, "192.168.10.1")

	// The router side.
	// One binary on the router: midnight-reset is a link to netcheck.
	p := filepath.Join(routerPrefix, "usr/bin", "netcheck")
	if got := read(t, p); got != binary(t, "netcheck") {
		t.Errorf("router netcheck is not the real netcheck")
	}
	if left, _ := filepath.Glob(filepath.Join(routerPrefix, "usr/bin/.*")); len(left) > 0 {
		t.Errorf("the copy left %q behind on the router", left)
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
		wantContains(t, "dry run output", r.out, "would read the host key of "+routerIP+":22", "dry run: nothing was changed")
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

// TestRouterKeyByPassword: the one password prompt (SPEC §10). Dropbear
// takes root's password here (a shadow file of the test bound over its
// /etc/shadow). On a terminal (a pty of the test) the installer asks
// whether to pin the router's host key, then for the password once, read
// without echo (x/term: the test sees ECHO off before it types, and the
// terminal never shows the password), logs in with it (x/crypto/ssh
// password auth) and puts the host's key on the router; a second run logs
// in with that key and asks for nothing.
func TestRouterKeyByPassword(t *testing.T) {
	requireTools(t, "openssl")
	const password = "router-secret 路由"
	hash, err := exec.Command("openssl", "passwd", "-6", password).Output()
	if err != nil {
		t.Fatalf("openssl passwd -6: %v", err)
	}
	l := newLabWith(t, "root:"+strings.TrimSpace(string(hash))+":19000:0:99999:7:::\n")
	l.noIdentity = true
	master, slave := openPTY(t)
	l.stdin = slave
	screen := &syncBuffer{} // what the terminal shows
	go func() { _, _ = io.Copy(screen, master) }()
	if _, err := master.Write([]byte("y\n")); err != nil {
		t.Fatal(err)
	}
	hostPrefix, routerPrefix := filepath.Join(l.dir, "hostprefix"), filepath.Join(l.dir, "routerprefix")
	akBefore := read(t, l.authorizedKeys())

	typed := make(chan error, 1)
	go func() {
		// Type the password once the prompt is out and echo is off.
		deadline := time.Now().Add(60 * time.Second)
		for time.Now().Before(deadline) {
			if l.out != nil && strings.Contains(l.out.String(), "root@"+routerIP+"'s password: ") {
				tio, err := unix.IoctlGetTermios(int(slave.Fd()), unix.TCGETS)
				if err == nil && tio.Lflag&unix.ECHO == 0 {
					_, err := master.Write([]byte(password + "\n"))
					typed <- err
					return
				}
			}
			time.Sleep(20 * time.Millisecond)
		}
		typed <- errors.New("no password prompt with echo off within 60s")
	}()
	r := l.install(hostPrefix, routerPrefix, realBins(t))
	if r.code != 0 {
		t.Fatalf("install.sh --router on a terminal exited %d; output:\n%s", r.code, r.out)
	}
	if err := <-typed; err != nil {
		t.Fatalf("typing the password: %v; output:\n%s", err, r.out)
	}
	wantContains(t, "output", r.out, "Pin it? [y/N] ", "pinned", "added /etc/dropbear/authorized_keys", "copied "+routerPrefix+"/usr/bin/netcheck")
	if n := strings.Count(r.out, "'s password: "); n != 1 {
		t.Errorf("asked for the password %d times; want once:\n%s", n, r.out)
	}
	if strings.Contains(screen.String(), "router-secret") {
		t.Errorf("the terminal echoed the password: %q", screen.String())
	}
	hostPub := strings.Join(strings.Fields(read(t, filepath.Join(hostPrefix, "root/.ssh/id_ed25519.pub")))[:2], " ")
	if ak := read(t, l.authorizedKeys()); count(ak, hostPub) != 1 || !strings.HasPrefix(ak, akBefore) {
		t.Errorf("authorized_keys = %q; want the old content and the host's key once", ak)
	}
	wantLink(t, filepath.Join(routerPrefix, "usr/bin/midnight-reset"), "netcheck")

	// Now the host's own key logs in: no question, no password.
	r = l.install(hostPrefix, routerPrefix, realBins(t))
	if r.code != 0 {
		t.Fatalf("second install.sh --router exited %d; output:\n%s", r.code, r.out)
	}
	wantContains(t, "second output", r.out, "already pinned", "already there")
	wantNotContains(t, "second output", r.out, "'s password: ", "Pin it?")
}

// openPTY opens a pseudo-terminal pair (/dev/ptmx); both ends are closed
// when the test ends.
func openPTY(t *testing.T) (master, slave *os.File) {
	t.Helper()
	m, err := os.OpenFile("/dev/ptmx", os.O_RDWR|syscall.O_NOCTTY, 0)
	if err != nil {
		t.Skipf("skipping: no pseudo-terminals here: %v", err)
	}
	if err := unix.IoctlSetPointerInt(int(m.Fd()), unix.TIOCSPTLCK, 0); err != nil {
		t.Fatalf("unlockpt: %v", err)
	}
	n, err := unix.IoctlGetInt(int(m.Fd()), unix.TIOCGPTN)
	if err != nil {
		t.Fatalf("ptsname: %v", err)
	}
	s, err := os.OpenFile(fmt.Sprintf("/dev/pts/%d", n), os.O_RDWR|syscall.O_NOCTTY, 0)
	if err != nil {
		t.Fatalf("open /dev/pts/%d: %v", n, err)
	}
	t.Cleanup(func() { s.Close(); m.Close() })
	return m, s
}
