package installtest

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/pve-op/network-rescue/crontab"
	"github.com/pve-op/network-rescue/internal/config"
)

// debRoot makes a throwaway root for `dpkg --root` (issue 12 item 5), the
// machine's own /etc, /usr and dpkg database never in reach: dpkg runs the
// maintainer scripts chrooted into it. It holds busybox as /bin/sh with
// its applets, /dev/null, ssh-keygen with the libraries ldd names, an
// /etc/passwd with root, and a dpkg database in which cron and
// openssh-client stand installed, so the package's Depends hold.
func debRoot(t *testing.T) string {
	t.Helper()
	requireRoot(t)
	requireTools(t, "dpkg", "busybox", "ssh-keygen", "ldd", "unshare", "mount")
	r := filepath.Join(t.TempDir(), "root")
	for _, d := range []string{"var/lib/dpkg/info", "var/lib/dpkg/updates", "var/log", "bin", "usr/bin",
		"root", "tmp", "dev", "etc", "run"} {
		if err := os.MkdirAll(filepath.Join(r, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	if err := unix.Mknod(filepath.Join(r, "dev/null"), syscall.S_IFCHR|0o666, int(unix.Mkdev(1, 3))); err != nil {
		t.Fatalf("mknod dev/null: %v", err)
	}
	bb, _ := exec.LookPath("busybox")
	copyFile(t, bb, filepath.Join(r, "bin/busybox"), 0o755)
	list, err := exec.Command(bb, "--list").Output()
	if err != nil {
		t.Fatalf("busybox --list: %v", err)
	}
	for _, a := range strings.Fields(string(list)) {
		if a == "busybox" || strings.ContainsRune(a, '/') {
			continue
		}
		if err := os.Symlink("busybox", filepath.Join(r, "bin", a)); err != nil && !os.IsExist(err) {
			t.Fatal(err)
		}
	}
	// ssh-keygen, dynamically linked, with what it loads.
	kg, _ := exec.LookPath("ssh-keygen")
	copyFile(t, kg, filepath.Join(r, "usr/bin/ssh-keygen"), 0o755)
	out, err := exec.Command("ldd", kg).Output()
	if err != nil {
		t.Fatalf("ldd ssh-keygen: %v", err)
	}
	for _, lib := range regexp.MustCompile(`(?m)(/\S+) \(0x`).FindAllStringSubmatch(string(out), -1) {
		copyFile(t, lib[1], filepath.Join(r, lib[1]), 0o755)
	}
	write(t, filepath.Join(r, "etc/passwd"), "root:x:0:0:root:/root:/bin/sh\n", 0o644)
	write(t, filepath.Join(r, "etc/group"), "root:x:0:\n", 0o644)
	var status strings.Builder
	for _, p := range []struct{ name, version string }{{"cron", "3.0pl1-162"}, {"openssh-client", "1:9.2p1-2+deb12u3"}} {
		status.WriteString("Package: " + p.name + "\nStatus: install ok installed\nPriority: optional\nSection: admin\n" +
			"Maintainer: installtest <installtest@example.org>\nArchitecture: all\nVersion: " + p.version +
			"\nDescription: stand-in entry of the installtest root\n\n")
		write(t, filepath.Join(r, "var/lib/dpkg/info", p.name+".list"), "", 0o644)
	}
	write(t, filepath.Join(r, "var/lib/dpkg/status"), status.String(), 0o644)
	return r
}

func copyFile(t *testing.T, src, dst string, perm os.FileMode) {
	t.Helper()
	b, err := os.ReadFile(src)
	if err != nil {
		t.Fatal(err)
	}
	write(t, dst, string(b), perm)
}

// dpkgIn runs dpkg --root=root ARGS in a mount namespace whose /var/log is
// a temp dir: dpkg's own log goes into the root (--log), and even a dpkg
// that ignored it could not write the machine's.
func dpkgIn(t *testing.T, root string, args ...string) result {
	t.Helper()
	argv := append([]string{"-m", "sh", "-c", `mount --bind "$0" /var/log && exec "$@"`, t.TempDir(),
		"dpkg", "--root=" + root, "--log=" + filepath.Join(root, "var/log/dpkg.log")}, args...)
	cmd := exec.Command("unshare", argv...)
	cmd.Env = []string{"PATH=/usr/sbin:/usr/bin:/sbin:/bin", "LC_ALL=C"}
	var buf bytes.Buffer
	cmd.Stdout, cmd.Stderr = &buf, &buf
	err := cmd.Run()
	res := result{out: buf.String()}
	if ee, ok := err.(*exec.ExitError); ok {
		res.code = ee.ExitCode()
	} else if err != nil {
		t.Fatalf("dpkg %q: %v", args, err)
	}
	return res
}

func mustDpkg(t *testing.T, root string, args ...string) string {
	t.Helper()
	r := dpkgIn(t, root, args...)
	if r.code != 0 {
		t.Fatalf("dpkg %q exited %d; output:\n%s", args, r.code, r.out)
	}
	return r.out
}

// dpkgStatus is the Status: line dpkg keeps for netrescue, or "" when it
// knows nothing of it.
func dpkgStatus(t *testing.T, root string) string {
	t.Helper()
	r := dpkgIn(t, root, "-s", "netrescue")
	if m := regexp.MustCompile(`(?m)^Status: (.*)$`).FindStringSubmatch(r.out); m != nil {
		return m[1]
	}
	return ""
}

// testDeb installs the release's .deb for real into throwaway roots and
// checks what dpkg -i, -r and -P leave (SPEC §10, issue 12 item 5), the
// refusal of a host set up twice, and lintian.
func testDeb(t *testing.T, rel release, unpacked string) {
	deb := rel.deb()

	t.Run("contents", func(t *testing.T) {
		requireTools(t, "dpkg-deb")
		out, err := exec.Command("dpkg-deb", "-c", deb).Output()
		if err != nil {
			t.Fatalf("dpkg-deb -c: %v", err)
		}
		var got []string
		for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
			f := strings.Fields(line)
			if !strings.HasSuffix(f[5], "/") {
				got = append(got, f[0]+" "+f[1]+" "+f[5])
			}
		}
		want := []string{
			"-rw-r--r-- root/root ./etc/cron.d/netrescue",
			"-rw------- root/root ./etc/netrescue.conf",
			"-rwxr-xr-x root/root ./usr/bin/hostcheck",
			"-rwxr-xr-x root/root ./usr/bin/midnight-reset",
			"-rw-r--r-- root/root ./usr/share/doc/netrescue/changelog.gz",
			"-rw-r--r-- root/root ./usr/share/doc/netrescue/copyright",
			"-rwxr-xr-x root/root ./usr/share/netrescue/install.sh",
		}
		if strings.Join(got, "\n") != strings.Join(want, "\n") {
			t.Errorf("dpkg-deb -c (files) =\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
		}
		for field, want := range map[string]string{"Package": "netrescue", "Version": relVersion, "Architecture": rel.arch,
			"Depends": "cron | cron-daemon, openssh-client"} {
			out, err := exec.Command("dpkg-deb", "-f", deb, field).Output()
			if err != nil || strings.TrimSpace(string(out)) != want {
				t.Errorf("dpkg-deb -f %s = %q, %v; want %q", field, out, err, want)
			}
		}
		out, err = exec.Command("dpkg-deb", "-I", deb, "conffiles").Output()
		if err != nil || string(out) != "/etc/cron.d/netrescue\n/etc/netrescue.conf\n" {
			t.Errorf("conffiles = %q, %v; want /etc/cron.d/netrescue and /etc/netrescue.conf", out, err)
		}
	})

	t.Run("lintian", func(t *testing.T) {
		requireTools(t, "lintian")
		cmd := exec.Command("lintian", "--allow-root", "--fail-on", "error", deb)
		// lintian leaves a cache file (mldbm-elf-*) in TMPDIR: the test's.
		cmd.Env = append(os.Environ(), "TMPDIR="+t.TempDir())
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Errorf("lintian --fail-on error %s: %v\n%s", filepath.Base(deb), err, out)
		}
		for _, line := range strings.Split(string(out), "\n") {
			if strings.HasPrefix(line, "E: ") {
				t.Errorf("lintian error: %s", line)
			}
		}
		t.Logf("lintian (warnings are allowed):\n%s", out)
	})

	t.Run("install remove purge", func(t *testing.T) {
		r := debRoot(t)
		out := mustDpkg(t, r, "-i", deb)
		if st := dpkgStatus(t, r); st != "install ok installed" {
			t.Errorf("status after dpkg -i = %q; want install ok installed", st)
		}
		// What the postinst told the person.
		wantContains(t, "dpkg -i output", out, "netrescue: created the SSH key /root/.ssh/id_ed25519",
			"to pair this host with the router at 192.168.10.1", "    sh /usr/share/netrescue/install.sh --router 192.168.10.1\n")
		for _, b := range []string{"hostcheck", "midnight-reset"} {
			if read(t, filepath.Join(r, "usr/bin", b)) != read(t, filepath.Join(unpacked, b)) {
				t.Errorf("/usr/bin/%s is not the archive's %s", b, b)
			}
		}
		conf := filepath.Join(r, "etc/netrescue.conf")
		if m := mode(t, conf); m != 0o600 {
			t.Errorf("/etc/netrescue.conf mode %v; want 0600", m)
		}
		if got := read(t, conf); got != config.Example(config.Host) {
			t.Errorf("/etc/netrescue.conf is not config.Example(host):\n%s", got)
		}
		if _, err := config.Load(conf, config.Host, config.Options{Euid: 0}); err != nil {
			t.Errorf("config.Load(/etc/netrescue.conf) = %v", err)
		}
		checkCronD(t, read(t, filepath.Join(r, "etc/cron.d/netrescue")))
		key := filepath.Join(r, "root/.ssh/id_ed25519")
		if m := mode(t, key); m != 0o600 {
			t.Errorf("key mode %v; want 0600", m)
		}
		if !strings.HasPrefix(read(t, key+".pub"), "ssh-ed25519 ") {
			t.Errorf("the postinst's key is not ed25519")
		}
		if m := mode(t, filepath.Join(r, "root/.ssh")); m != 0o700 {
			t.Errorf("/root/.ssh mode %v; want 0700", m)
		}

		// install.sh on the packaged host installs no second copy.
		e := newEnv(t, shells(t)[1])
		e.script = filepath.Join(r, "usr/share/netrescue/install.sh")
		before := snap(t, r)
		res := e.run("host", "--role", "host", "--prefix", r, "--bin", e.bin)
		if res.code != 1 {
			t.Errorf("install.sh on the packaged host exited %d; want 1; output:\n%s", res.code, res.out)
		}
		wantContains(t, "install.sh output", res.out, "the netrescue package already installs the host side",
			"fix: keep the package and pair the router with: sh "+e.script+" --prefix "+r+" --router IP")
		if d := before.diff(snap(t, r)); d != "" {
			t.Errorf("the refused install.sh changed the root:\n%s", d)
		}
		// Its pairing path installs nothing of the host side either (dry run:
		// no router here).
		out = e.mustRun("host", "--role", "host", "--prefix", r, "--router", "10.213.9.1", "--dry-run")
		wantContains(t, "install.sh --router output", out, "Host side: the netrescue package (dpkg) installed it",
			"this run only pairs the router", "would read the host key of 10.213.9.1:22")
		if d := before.diff(snap(t, r)); d != "" {
			t.Errorf("install.sh --router --dry-run changed the root:\n%s", d)
		}

		// Logs, state and the pin of a working host.
		kept := []string{"var/log/pve_host_monitor.log", "var/log/pve_host_monitor.log.1", "var/lib/netrescue/hostcheck.state",
			"root/pve_did_reboot_today", "etc/netrescue/known_hosts"}
		for _, k := range kept {
			write(t, filepath.Join(r, k), "kept "+k+"\n", 0o600)
		}
		// METRICS_FILE, quoted as a person may write it: a stopped
		// exporter's file goes with the package (node_exporter would serve
		// its last values as current).
		edited := read(t, conf) + "OP_IP=10.0.0.1\nMETRICS_FILE='/var/lib/prometheus/node-exporter/netrescue.prom'\n"
		write(t, conf, edited, 0o600)
		prom := filepath.Join(r, "var/lib/prometheus/node-exporter/netrescue.prom")
		write(t, prom, "netrescue_internet_up 1\n", 0o644)
		// install.sh --uninstall removes only its own copy, and there is
		// none here: it refuses, naming dpkg -r, and the package's
		// hostcheck, which still runs, keeps METRICS_FILE.
		if res := e.run("host", "--role", "host", "--prefix", r, "--bin", e.bin, "--uninstall"); res.code != 1 || !strings.Contains(res.out, "fix: dpkg -r netrescue") {
			t.Errorf("install.sh --uninstall on a host with only the package: exit %d; want 1 naming dpkg -r; output:\n%s", res.code, res.out)
		}
		if !exists(prom) {
			t.Errorf("install.sh --uninstall on the packaged host removed the package's METRICS_FILE")
		}

		mustDpkg(t, r, "-r", "netrescue")
		if st := dpkgStatus(t, r); st != "deinstall ok config-files" {
			t.Errorf("status after dpkg -r = %q; want deinstall ok config-files", st)
		}
		for _, gone := range []string{"usr/bin/hostcheck", "usr/bin/midnight-reset", "usr/share/netrescue/install.sh"} {
			if exists(filepath.Join(r, gone)) {
				t.Errorf("/%s still there after dpkg -r", gone)
			}
		}
		if got := read(t, conf); got != edited {
			t.Errorf("/etc/netrescue.conf after dpkg -r = %q; want the edited file kept", got)
		}
		if exists(prom) {
			t.Errorf("METRICS_FILE %s still there after dpkg -r", prom)
		}
		for _, k := range append(kept, "etc/cron.d/netrescue", "root/.ssh/id_ed25519") {
			if !exists(filepath.Join(r, k)) {
				t.Errorf("/%s removed by dpkg -r; want it kept", k)
			}
		}
		// The conffile cron lines stay, and do nothing without the binaries.
		checkCronD(t, read(t, filepath.Join(r, "etc/cron.d/netrescue")))
		// Removed, the package no longer holds the host side: install.sh may.
		e.script = script(t)
		e.mustRun("host", "--role", "host", "--prefix", r, "--bin", e.bin)
		e.mustRun("host", "--role", "host", "--prefix", r, "--bin", e.bin, "--uninstall")

		mustDpkg(t, r, "-P", "netrescue")
		if st := dpkgStatus(t, r); st != "" {
			t.Errorf("status after dpkg -P = %q; want the package unknown", st)
		}
		for _, k := range append(kept, "etc/cron.d/netrescue", "etc/netrescue.conf", "var/lib/netrescue", "etc/netrescue") {
			if exists(filepath.Join(r, k)) {
				t.Errorf("/%s still there after dpkg -P", k)
			}
		}
		if !exists(filepath.Join(r, "root/.ssh/id_ed25519")) {
			t.Errorf("dpkg -P removed the SSH key; want it kept (it may serve other logins)")
		}
	})

	t.Run("original host script", func(t *testing.T) {
		r := debRoot(t)
		cron := filepath.Join(r, "var/spool/cron/crontabs/root")
		user := "30 6 * * * cp /var/log/pve_host_monitor.log /mnt/usb/logs/\n"
		write(t, cron, "@reboot /root/pve_host_monitor.sh > /dev/null 2>&1 &\n"+user+"0 0 * * * rm -f /root/pve_did_reboot_today\n", 0o600)
		write(t, filepath.Join(r, "root/pve_host_monitor.sh"), "#!/bin/bash\nwhile true; do sleep 7200; done\n", 0o755)
		kept := map[string]string{"root/pve_did_reboot_today": "", "var/log/pve_host_monitor.log": "[2024-01-01 00:00:00] 【回退】\n"}
		for k, v := range kept {
			write(t, filepath.Join(r, k), v, 0o644)
		}
		out := mustDpkg(t, r, "-i", deb)
		wantContains(t, "dpkg -i output", out,
			"netrescue: warning: the original pve_host_monitor.sh is still set up here: /root/pve_host_monitor.sh; it and hostcheck would both act on one SOS",
			"  fix: sh /usr/share/netrescue/install.sh --router 192.168.10.1 (it also stops the original loop")
		// The package's install.sh, with the package's hostcheck, migrates.
		e := newEnv(t, shells(t)[1])
		e.script = filepath.Join(r, "usr/share/netrescue/install.sh")
		out = e.mustRun("host", "--role", "host", "--prefix", r)
		wantContains(t, "install.sh output", out, "Host side: the netrescue package (dpkg) installed it",
			"Migrating from the original pve_host_monitor.sh", "Done: the original pve_host_monitor.sh is migrated")
		if exists(filepath.Join(r, "root/pve_host_monitor.sh")) {
			t.Errorf("/root/pve_host_monitor.sh still there after install.sh")
		}
		if got := read(t, cron); got != user {
			t.Errorf("root's crontab = %q; want only the user's line %q", got, user)
		}
		for k, v := range kept {
			if got := read(t, filepath.Join(r, k)); got != v {
				t.Errorf("/%s = %q; want it kept as %q", k, got, v)
			}
		}
		if exists(filepath.Join(r, "usr/local/bin")) {
			t.Errorf("install.sh put a second copy of the host side in /usr/local/bin")
		}
		checkCronD(t, read(t, filepath.Join(r, "etc/cron.d/netrescue")))
		// Reconfigured, the package no longer warns.
		out = mustDpkg(t, r, "-i", deb)
		wantNotContains(t, "second dpkg -i output", out, "original pve_host_monitor.sh")
	})

	t.Run("a user's line naming the original is no warning", func(t *testing.T) {
		// The installer keeps such a line (crontab.IsLegacy), so the
		// warning's fix would have nothing to do: postinst must not warn.
		r := debRoot(t)
		write(t, filepath.Join(r, "var/spool/cron/crontabs/root"), "0 4 * * * cp /root/pve_host_monitor.sh.orig /mnt/usb/\n", 0o600)
		out := mustDpkg(t, r, "-i", deb)
		wantNotContains(t, "dpkg -i output", out, "original pve_host_monitor.sh")
	})

	t.Run("refused on a host set up by install.sh", func(t *testing.T) {
		r := debRoot(t)
		e := newEnv(t, shells(t)[1])
		e.mustRun("host", "--role", "host", "--prefix", r, "--bin", e.bin)
		// The conffile on disk is install.sh's: keep it without asking.
		res := dpkgIn(t, r, "--force-confdef", "--force-confold", "-i", deb)
		if res.code == 0 {
			t.Fatalf("dpkg -i on a host set up by install.sh exited 0; want the preinst to refuse; output:\n%s", res.out)
		}
		wantContains(t, "dpkg -i output", res.out, "install.sh already set up the host side here: /usr/local/bin/hostcheck /usr/local/bin/midnight-reset /var/spool/cron/crontabs/root",
			"so nothing was unpacked", "fix: /usr/local/bin/hostcheck uninstall, then dpkg -i this package again")
		// Refused before the unpack: no cron.d lines run the package's
		// hostcheck beside install.sh's.
		for _, f := range []string{"etc/cron.d/netrescue", "usr/bin/hostcheck", "usr/bin/midnight-reset"} {
			if exists(filepath.Join(r, f)) {
				t.Errorf("/%s unpacked although the preinst refused", f)
			}
		}
		if st := dpkgStatus(t, r); strings.HasSuffix(st, " installed") || strings.Contains(st, "half") || strings.Contains(st, "unpacked") {
			t.Errorf("status after the refusal = %q; want the package not installed", st)
		}
		// The fix the preinst named (install.sh's copy uninstalls
		// itself), then dpkg -i again.
		e.mustRun("host", "--role", "host", "--prefix", r, "--bin", e.bin, "--uninstall")
		for _, gone := range []string{"usr/local/bin/hostcheck", "usr/local/bin/midnight-reset"} {
			if exists(filepath.Join(r, gone)) {
				t.Errorf("/%s still there after install.sh --uninstall", gone)
			}
		}
		if got := read(t, filepath.Join(r, "var/spool/cron/crontabs/root")); crontab.Remove(got) != got {
			t.Errorf("root's crontab still holds our lines: %q", got)
		}
		mustDpkg(t, r, "--force-confdef", "--force-confold", "-i", deb)
		if st := dpkgStatus(t, r); st != "install ok installed" {
			t.Errorf("status after the fix = %q; want install ok installed", st)
		}

		// With only the package here, install.sh's uninstall has nothing
		// of its own to remove: it says so and names dpkg -r, rather than
		// report "uninstalled" while the package's cron lines run on.
		e.script = filepath.Join(r, "usr/share/netrescue/install.sh")
		res = e.run("host", "--role", "host", "--prefix", r, "--bin", e.bin, "--uninstall")
		if res.code != 1 {
			t.Errorf("install.sh --uninstall on a host with only the package exited %d; want 1; output:\n%s", res.code, res.out)
		}
		wantContains(t, "install.sh --uninstall output", res.out, "install.sh has no copy of it to remove", "fix: dpkg -r netrescue")
		wantNotContains(t, "install.sh --uninstall output", res.out, "is uninstalled")
		for _, f := range []string{"etc/cron.d/netrescue", "usr/bin/hostcheck", "usr/bin/midnight-reset"} {
			if !exists(filepath.Join(r, f)) {
				t.Errorf("install.sh --uninstall removed the package's /%s", f)
			}
		}
	})
}

// testDebPairing: on a host with the package, the one command the
// postinst prints pairs the router (against Dropbear in a namespace): the
// router's host key pinned, the postinst's key authorized there, the
// router's address (not the default) written into the package's conffile,
// whose keys are all commented out, so that hostcheck watches the router
// paired, and no second copy of the host side. Without the router's binary at hand that
// is all it does, with a warning that says how to install the router side;
// given it (--router-bin), it installs the router side too.
func testDebPairing(t *testing.T, deb string) {
	l := newLab(t)
	r := debRoot(t)
	mustDpkg(t, r, "-i", deb)
	routerPrefix := filepath.Join(l.dir, "routerprefix")
	l.script = filepath.Join(r, "usr/share/netrescue/install.sh")
	conf := filepath.Join(r, "etc/netrescue.conf")
	shipped := read(t, conf)
	fi, err := os.Stat(conf)
	if err != nil {
		t.Fatal(err)
	}
	res := l.install(r, routerPrefix, "", "--yes")
	if res.code != 0 {
		t.Fatalf("the postinst's pairing command exited %d; output:\n%s", res.code, res.out)
	}
	wantContains(t, "pairing output", res.out, "this run only pairs the router", "pinned",
		"set OP_IP="+routerIP+" in "+conf,
		"warning: the router side was not installed on "+routerIP,
		"fix: install it on the router from netrescue-VERSION-linux-", "Done: the router is paired")
	wantNotContains(t, "pairing output", res.out, "OP_IP=192.168.10.1")
	if got, want := read(t, conf), shipped+"\n# Set by the installer's --router.\nOP_IP="+routerIP+"\n"; got != want {
		t.Errorf("/etc/netrescue.conf after pairing = %q; want the package's with OP_IP=%s appended: %q", got, routerIP, want)
	}
	if c, err := config.Load(conf, config.Host, config.Options{Euid: 0}); err != nil || c.OpIP != routerIP {
		t.Errorf("hostcheck reads OP_IP=%s, %v from /etc/netrescue.conf; want the router paired, %s", c.OpIP, err, routerIP)
	}
	if fi2, err := os.Stat(conf); err != nil || fi2.Mode() != fi.Mode() {
		t.Errorf("/etc/netrescue.conf's mode after pairing: %v, %v; want the package's %v", fi2.Mode(), err, fi.Mode())
	}
	if got, want := read(t, filepath.Join(r, "etc/netrescue/known_hosts")), routerIP+" "+l.hostKeyPub+"\n"; got != want {
		t.Errorf("known_hosts = %q; want %q", got, want)
	}
	hostPub := strings.Join(strings.Fields(read(t, filepath.Join(r, "root/.ssh/id_ed25519.pub")))[:2], " ")
	if n := count(read(t, l.authorizedKeys()), hostPub); n != 1 {
		t.Errorf("the router's authorized_keys holds the postinst's key %d times; want 1", n)
	}
	for _, p := range []string{"usr/local/bin", "var/spool/cron"} {
		if exists(filepath.Join(r, p)) {
			t.Errorf("pairing created /%s: a second copy of the host side", p)
		}
	}
	if exists(filepath.Join(routerPrefix, "usr/bin/netcheck")) {
		t.Errorf("a router binary was installed although none was given")
	}

	res = l.install(r, routerPrefix, "", "--yes", "--router-bin", realBins(t))
	if res.code != 0 {
		t.Fatalf("pairing with --router-bin exited %d; output:\n%s", res.code, res.out)
	}
	wantContains(t, "pairing output", res.out, "already pinned", "copied "+routerPrefix+"/usr/bin/netcheck")
	wantNotContains(t, "pairing output", res.out, "set OP_IP=")
	wantLink(t, filepath.Join(routerPrefix, "usr/bin/midnight-reset"), "netcheck")
	if got, want := read(t, filepath.Join(routerPrefix, "etc/crontabs/root")), crontab.Merge("", crontab.Router); got != want {
		t.Errorf("router crontab = %q; want %q", got, want)
	}
}

// cronDLine is a line of /etc/cron.d: five time fields or @reboot, the
// user, the command. Debian cron's crontab(5): files in /etc/cron.d have
// the format of /etc/crontab, with a user name after the time fields.
var cronDLine = regexp.MustCompile(`^(@reboot|\S+ \S+ \S+ \S+ \S+) (\S+) (.*)$`)

// checkCronD checks the package's cron file: the host's three jobs (SPEC
// §10), each run as root, each a no-op once the binary is gone.
func checkCronD(t *testing.T, content string) {
	t.Helper()
	want := map[string]string{
		"*/5 * * * *": "test -x /usr/bin/hostcheck && /usr/bin/hostcheck # netrescue",
		"@reboot":     "test -x /usr/bin/hostcheck && /usr/bin/hostcheck boot # netrescue",
		"0 0 * * *":   "test -x /usr/bin/midnight-reset && /usr/bin/midnight-reset # netrescue",
	}
	got := map[string]string{}
	for _, line := range strings.Split(content, "\n") {
		if line == "" || strings.HasPrefix(line, "#") || regexp.MustCompile(`^[A-Z]+=`).MatchString(line) {
			continue
		}
		m := cronDLine.FindStringSubmatch(line)
		if m == nil {
			t.Errorf("/etc/cron.d/netrescue line %q is not TIME USER COMMAND", line)
			continue
		}
		if m[2] != "root" {
			t.Errorf("/etc/cron.d/netrescue line %q runs as %q; want root", line, m[2])
		}
		got[m[1]] = m[3]
	}
	for when, cmd := range want {
		if got[when] != cmd {
			t.Errorf("/etc/cron.d/netrescue at %q runs %q; want %q", when, got[when], cmd)
		}
	}
	if len(got) != len(want) {
		t.Errorf("/etc/cron.d/netrescue has %d jobs; want %d:\n%s", len(got), len(want), content)
	}
	if !strings.HasSuffix(content, "\n") {
		t.Errorf("/etc/cron.d/netrescue does not end in a newline (cron ignores such a last line)")
	}
}
