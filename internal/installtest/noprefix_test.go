package installtest

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/pve-op/network-rescue/crontab"
)

// sandbox runs install.sh WITHOUT --prefix, as on a real router or host, in
// a network namespace, a PID namespace (the installer looks for the
// original loop among the processes it sees) and a mount namespace of its
// own where /etc, /usr/bin, /usr/local/bin and /var are throw-away overlays
// and /root is a temp dir: what the installer (and any binary it runs)
// writes lands in the overlays' upper dirs, which the test reads, and the
// machine's own files are never touched.
type sandbox struct {
	t    *testing.T
	ns   string
	dir  string
	sh   shell
	path string // PATH inside
	rec  string // what the recorder stand-ins (/etc/init.d/*) were asked to do
	loop string // a script started in the sandbox before the installer (the original loop)
}

func newSandbox(t *testing.T, sh shell) *sandbox {
	t.Helper()
	requireTools(t, "unshare", "mount")
	s := &sandbox{t: t, ns: newNetns(t), dir: t.TempDir(), sh: sh}
	for _, d := range []string{"etc/upper", "etc/work", "usrbin/upper", "usrbin/work",
		"usrlocalbin/upper", "usrlocalbin/work", "var/upper", "var/work", "root", "fakebin", "tmp", "home"} {
		if err := os.MkdirAll(s.up(d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	s.rec = filepath.Join(s.dir, "recorded")
	copyBins(t, s.up("bin"))
	// The overlays need a kernel and file system that allow them.
	probe := exec.Command("unshare", "-m", "sh", "-c", `mount -t overlay overlay -o lowerdir=/etc,upperdir="$0/etc/upper",workdir="$0/etc/work" /etc`, s.dir)
	if out, err := probe.CombinedOutput(); err != nil {
		t.Skipf("skipping: overlay mounts are not possible here: %v %s", err, out)
	}
	return s
}

// up is a path in the sandbox's directory.
func (s *sandbox) up(rel string) string { return filepath.Join(s.dir, rel) }

// recorder is a stand-in for an init script: it records its arguments.
func (s *sandbox) recorder(name string) string {
	return "#!/bin/sh\necho \"" + name + " $*\" >> " + s.rec + "\n"
}

func (s *sandbox) run(args ...string) result {
	s.t.Helper()
	setup := `set -e
d=$0
mount -t overlay overlay -o lowerdir=/etc,upperdir="$d/etc/upper",workdir="$d/etc/work" /etc
mount -t overlay overlay -o lowerdir=/usr/bin,upperdir="$d/usrbin/upper",workdir="$d/usrbin/work" /usr/bin
mkdir -p /usr/local/bin
mount -t overlay overlay -o lowerdir=/usr/local/bin,upperdir="$d/usrlocalbin/upper",workdir="$d/usrlocalbin/work" /usr/local/bin
mount -t overlay overlay -o lowerdir=/var,upperdir="$d/var/upper",workdir="$d/var/work" /var
mount --bind "$d/root" /root
if [ -z "$LOOP" ]; then exec "$@"; fi
sh "$LOOP" &
# A bystander that only names the loop's script must outlive the install.
tail -f "$LOOP" >/dev/null 2>&1 &
by=$!
rc=0
"$@" || rc=$?
kill -0 "$by" 2>/dev/null || echo "BYSTANDER KILLED: tail -f $LOOP"
exit "$rc"`
	argv := append([]string{"netns", "exec", s.ns, "unshare", "-m", "-p", "-f", "--mount-proc", "sh", "-c", setup, s.dir}, s.sh.argv...)
	argv = append(argv, script(s.t))
	argv = append(argv, args...)
	cmd := exec.Command("ip", argv...)
	cmd.Env = []string{"PATH=" + s.path, "HOME=" + s.up("home"), "TMPDIR=" + s.up("tmp"), "LC_ALL=C",
		"FAKE_CRONTAB=" + s.up("crontab"), "LOOP=" + s.loop}
	var buf bytes.Buffer
	cmd.Stdout, cmd.Stderr = &buf, &buf
	err := cmd.Run()
	res := result{out: buf.String()}
	if ee, ok := err.(*exec.ExitError); ok {
		res.code = ee.ExitCode()
	} else if err != nil {
		s.t.Fatal(err)
	}
	return res
}

// wantSecondRunQuiet runs the installer again and asserts it changes no
// file and calls no recorded command (init scripts, crontab -); what names
// the command in the failure.
func (s *sandbox) wantSecondRunQuiet(t *testing.T, what string) {
	t.Helper()
	if err := os.Remove(s.rec); err != nil {
		t.Fatal(err)
	}
	before := snap(t, s.dir)
	s.mustRun("--bin", s.up("bin"))
	if exists(s.rec) {
		t.Errorf("second run %s: %q", what, read(t, s.rec))
	}
	if d := before.diff(snap(t, s.dir)); d != "" {
		t.Errorf("second run changed files:\n%s", d)
	}
}

func (s *sandbox) mustRun(args ...string) string {
	s.t.Helper()
	r := s.run(args...)
	if r.code != 0 {
		s.t.Fatalf("install.sh %q exited %d; want 0; output:\n%s", args, r.code, r.out)
	}
	return r.out
}

// TestRouterWithoutPrefix: on "OpenWrt" (auto-detected), the original
// service is stopped and disabled through its init script, cron is
// restarted, and the files land in /usr/bin, /etc/crontabs/root,
// /etc/netrescue.conf and /etc/sysupgrade.conf.
func TestRouterWithoutPrefix(t *testing.T) {
	sh := shells(t)[0] // busybox ash, with only busybox on PATH
	s := newSandbox(t, sh)
	bb, _ := exec.LookPath("busybox")
	s.path = s.up("fakebin")
	if out, err := exec.Command(bb, "--install", "-s", s.path).CombinedOutput(); err != nil {
		t.Fatalf("busybox --install: %v\n%s", err, out)
	}
	write(t, s.up("etc/upper/openwrt_release"), "DISTRIB_ID='OpenWrt'\nDISTRIB_ARCH='x86_64'\n", 0o644)
	write(t, s.up("etc/upper/init.d/cron"), s.recorder("cron"), 0o755)
	write(t, s.up("etc/upper/init.d/network_monitor"), s.recorder("network_monitor"), 0o755)
	write(t, s.up("usrbin/upper/network_monitor_logic.sh"), "#!/bin/sh\n", 0o755)
	write(t, s.up("etc/upper/crontabs/root"), foreign+"0 0 * * * echo 0 > /root/net_rb_count\n", 0o600)
	write(t, s.up("root/net_rb_count"), "4", 0o644)

	out := s.mustRun("--bin", s.up("bin"))
	// The router's real status checklist ends the install.
	wantContains(t, "output", out, "Role: router side, into /", "kept /root/net_rb_count",
		"==> Checking: /usr/bin/netcheck status\n", "    ✓ cron entries: /etc/crontabs/root\n", "    ✗ crond running: no crond or cron process found\n", "status ended with exit status 1")
	if got, want := read(t, s.rec), "network_monitor stop\nnetwork_monitor disable\ncron enable\ncron restart\n"; got != want {
		t.Errorf("init scripts were asked: %q; want %q", got, want)
	}
	if exists(s.up("etc/upper/init.d/network_monitor")) || exists(s.up("usrbin/upper/network_monitor_logic.sh")) {
		t.Errorf("the original service's files are still there")
	}
	if got := read(t, s.up("root/net_rb_count")); got != "4" {
		t.Errorf("/root/net_rb_count = %q; want it kept", got)
	}
	if got, want := read(t, s.up("etc/upper/crontabs/root")), crontab.Merge(foreign, crontab.Router); got != want {
		t.Errorf("/etc/crontabs/root = %q; want %q", got, want)
	}
	if got := read(t, s.up("usrbin/upper/netcheck")); got != binary(t, "netcheck") {
		t.Errorf("/usr/bin/netcheck is not the real netcheck")
	}
	wantLink(t, s.up("usrbin/upper/midnight-reset"), "netcheck")
	if mode(t, s.up("etc/upper/netrescue.conf")) != 0o600 {
		t.Errorf("/etc/netrescue.conf is not mode 0600")
	}
	if got, want := read(t, s.up("etc/upper/sysupgrade.conf")), "/etc/netrescue.conf\n/usr/bin/netcheck\n/usr/bin/midnight-reset\n"; got != want {
		t.Errorf("/etc/sysupgrade.conf = %q; want %q", got, want)
	}

	// Again: nothing changes and cron is not restarted.
	s.wantSecondRunQuiet(t, "ran init scripts")

	// Uninstall restarts cron once more and leaves the foreign line.
	s.mustRun("--bin", s.up("bin"), "--uninstall")
	if got := read(t, s.up("etc/upper/crontabs/root")); got != foreign {
		t.Errorf("/etc/crontabs/root after --uninstall = %q; want %q", got, foreign)
	}
	if got, want := read(t, s.rec), "cron enable\ncron restart\n"; got != want {
		t.Errorf("init scripts were asked: %q; want %q", got, want)
	}
}

// TestHostWithoutPrefix: on "Proxmox" (pveversion on PATH), the crontab is
// read with crontab -l and written with crontab -, the key goes to
// /root/.ssh, and status runs without -config.
func TestHostWithoutPrefix(t *testing.T) {
	sh := shells(t)[1] // dash, as on PVE
	s := newSandbox(t, sh)
	s.path = s.up("fakebin") + ":" + os.Getenv("PATH")
	write(t, s.up("fakebin/pveversion"), "#!/bin/sh\necho pve-manager/8.2.2\n", 0o755)
	write(t, s.up("fakebin/crontab"), `#!/bin/sh
case $1 in
-l) if [ -f "$FAKE_CRONTAB" ]; then cat "$FAKE_CRONTAB"; else echo "no crontab for root" >&2; exit 1; fi ;;
-) cat > "$FAKE_CRONTAB"; echo "crontab -" >> `+s.rec+` ;;
*) echo "fake crontab: $*" >&2; exit 2 ;;
esac
`, 0o755)
	// The original loop, running: it leaves a mark when SIGTERM ends it.
	write(t, s.up("root/pve_host_monitor.sh"), "trap 'echo stopped > /root/loop.stopped; exit 0' TERM\nwhile :; do sleep 1 & wait; done\n", 0o755)
	s.loop = "/root/pve_host_monitor.sh"
	write(t, s.up("crontab"), "@reboot /root/pve_host_monitor.sh &\n"+foreign+"0 0 * * * rm -f /root/pve_did_reboot_today\n", 0o600)

	out := s.mustRun("--bin", s.up("bin"))
	wantContains(t, "output", out, "Role: host side, into /", "Cron lines in root's crontab (crontab -l)",
		"Migrating from the original pve_host_monitor.sh", "stopped its loop (PID ",
		"==> Checking: /usr/local/bin/hostcheck status\n", "sh "+script(t)+" --role host --router 192.168.10.1\n")
	wantNotContains(t, "output", out, "BYSTANDER KILLED")
	if strings.Count(out, "stopped its loop (PID ") != 1 {
		t.Errorf("want one process stopped, the loop; output:\n%s", out)
	}
	if got := read(t, s.up("root/loop.stopped")); got != "stopped\n" {
		t.Errorf("the original loop was not stopped by SIGTERM: /root/loop.stopped = %q", got)
	}
	s.loop = ""
	if got, want := read(t, s.up("crontab")), crontab.Merge(foreign, crontab.Host); got != want {
		t.Errorf("crontab = %q; want %q", got, want)
	}
	if exists(s.up("root/pve_host_monitor.sh")) {
		t.Errorf("/root/pve_host_monitor.sh still there")
	}
	if !exists(s.up("root/.ssh/id_ed25519")) {
		t.Errorf("no /root/.ssh/id_ed25519 created")
	}
	for _, b := range []string{"hostcheck", "midnight-reset"} {
		if got := read(t, s.up("usrlocalbin/upper/"+b)); got != binary(t, b) {
			t.Errorf("/usr/local/bin/%s is not the real %s", b, b)
		}
	}
	if !strings.HasPrefix(read(t, s.up("etc/upper/netrescue.conf")), "# /etc/netrescue.conf: PVE-Op-Network-Rescue, host side") {
		t.Errorf("/etc/netrescue.conf is not the host default")
	}

	// Again: crontab - is not run, nothing changes.
	s.wantSecondRunQuiet(t, "wrote the crontab again")

	// Without --bin (and no dist/ or Go for the checkout's script to use),
	// the installed hostcheck on PATH removes itself.
	out = s.mustRun("--uninstall")
	wantContains(t, "uninstall output", out, "removed /usr/local/bin/hostcheck\n", "removed /usr/local/bin/midnight-reset\n")
	if got := read(t, s.up("crontab")); got != foreign {
		t.Errorf("crontab after --uninstall = %q; want %q", got, foreign)
	}
}

// TestHostCrontabUnreadable: only "no crontab for root" (Debian cron,
// cronie) or busybox's "can't open 'root': No such file or directory"
// means an empty crontab. Any other failure of crontab -l stops the
// install with crontab's own words and a fix before anything changes:
// writing a crontab of our lines alone would wipe root's other jobs. A
// crontab -l that works is read from its stdout alone: what it says on
// stderr (ld.so's warning about LD_PRELOAD) is no line of the crontab.
func TestHostCrontabUnreadable(t *testing.T) {
	tests := []struct {
		name     string
		stderr   string
		list     string // crontab -l, when it is not: say stderr, exit 1
		wantCode int
		wantOut  []string
		wantCron string // what crontab - is given, when wantCode is 0
	}{
		{name: "input/output error", stderr: "crontab: /var/spool/cron/crontabs/root: Input/output error", wantCode: 1,
			wantOut: []string{"hostcheck: read root's crontab (crontab -l): exit status 1: crontab: /var/spool/cron/crontabs/root: Input/output error\n", "  fix: nothing was changed; make crontab -l work"}},
		{name: "permission denied", stderr: "crontab: cannot open /var/spool/cron/crontabs: Permission denied", wantCode: 1,
			wantOut: []string{"Permission denied", "  fix: "}},
		{name: "debian: no crontab", stderr: "no crontab for root", wantOut: []string{"our lines are now:"},
			wantCron: crontab.Merge("", crontab.Host)},
		{name: "busybox: no crontab", stderr: "crontab: can't open 'root': No such file or directory", wantOut: []string{"our lines are now:"},
			wantCron: crontab.Merge("", crontab.Host)},
		{name: "a warning on stderr and exit 0",
			list:    `echo "ERROR: ld.so: object '/usr/lib/libfaketime.so' from LD_PRELOAD cannot be preloaded: ignored." >&2; printf '` + foreign + `'`,
			wantOut: []string{"our lines are now:"}, wantCron: crontab.Merge(foreign, crontab.Host)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newSandbox(t, shells(t)[1]) // dash, as on PVE
			s.path = s.up("fakebin") + ":" + os.Getenv("PATH")
			write(t, s.up("fakebin/pveversion"), "#!/bin/sh\necho pve-manager/8.2.2\n", 0o755)
			list := tt.list
			if list == "" {
				list = `echo "` + tt.stderr + `" >&2; exit 1`
			}
			write(t, s.up("fakebin/crontab"), `#!/bin/sh
case $1 in
-l) `+list+` ;;
-) cat > "$FAKE_CRONTAB"; echo "crontab -" >> `+s.rec+` ;;
*) echo "fake crontab: $*" >&2; exit 2 ;;
esac
`, 0o755)
			write(t, s.up("root/pve_host_monitor.sh"), "#!/bin/sh\n", 0o755)
			r := s.run("--bin", s.up("bin"))
			if r.code != tt.wantCode {
				t.Fatalf("install.sh exited %d; want %d; output:\n%s", r.code, tt.wantCode, r.out)
			}
			wantContains(t, "output", r.out, tt.wantOut...)
			if tt.wantCode == 0 {
				if got, want := read(t, s.up("crontab")), tt.wantCron; got != want {
					t.Errorf("crontab - was given %q; want %q", got, want)
				}
				return
			}
			if exists(s.rec) || exists(s.up("crontab")) {
				t.Errorf("crontab - was run after crontab -l failed; it was given %q", read(t, s.up("crontab")))
			}
			// Nothing else changed either: the original script is still
			// there and nothing of ours was installed.
			if !exists(s.up("root/pve_host_monitor.sh")) {
				t.Errorf("/root/pve_host_monitor.sh was removed by the install that failed")
			}
			for _, p := range []string{"usrlocalbin/upper/hostcheck", "etc/upper/netrescue.conf", "root/.ssh/id_ed25519"} {
				if exists(s.up(p)) {
					t.Errorf("%s was written by the install that failed", p)
				}
			}
		})
	}
}
