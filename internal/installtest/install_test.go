package installtest

import (
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"regexp"
	"runtime"
	"strings"
	"testing"

	"github.com/pve-op/network-rescue/crontab"
	"github.com/pve-op/network-rescue/internal/config"
)

// layout is where one role's files land in a --prefix tree (SPEC §10).
type layout struct {
	role     crontab.Role
	bindir   string
	bins     []string
	links    map[string]string // name -> symlink target in bindir
	cronDir  string            // busybox crontab -c reads cronDir/root
	statusOf string            // the binary whose status ends the install
}

var layouts = []layout{
	// The router carries one binary: midnight-reset is netcheck run under
	// that name (SPEC §10, issue 12 item 3).
	{role: crontab.Router, bindir: "usr/bin", bins: []string{"netcheck"},
		links: map[string]string{"midnight-reset": "netcheck"}, cronDir: "etc/crontabs", statusOf: "netcheck"},
	{role: crontab.Host, bindir: "usr/local/bin", bins: []string{"hostcheck", "midnight-reset"},
		cronDir: "var/spool/cron/crontabs", statusOf: "hostcheck"},
}

func (l layout) cron(prefix string) string { return filepath.Join(prefix, l.cronDir, "root") }

const foreign = "0 3 * * * /usr/bin/backup >/dev/null 2>&1\n"

// TestShellcheck keeps install.sh POSIX (SPEC §10: shellcheck -s sh clean).
func TestShellcheck(t *testing.T) {
	requireTools(t, "shellcheck")
	out, err := exec.Command("shellcheck", "-s", "sh", script(t)).CombinedOutput()
	if err != nil {
		t.Fatalf("shellcheck -s sh scripts/install.sh: %v\n%s", err, out)
	}
}

// TestCronLinesAgree: whatever the crontab held, the file install.sh (the
// bootstrap running the binary's install) leaves is exactly
// crontab.Merge(crontab.RemoveLegacy(old), role), and --uninstall leaves
// exactly crontab.Remove of that, under both shells.
func TestCronLinesAgree(t *testing.T) {
	tests := []struct {
		name string
		old  *string // nil: no crontab file at all
	}{
		{name: "no file"},
		{name: "empty", old: ptr("")},
		{name: "foreign line", old: ptr(foreign)},
		{name: "foreign line without final newline", old: ptr(strings.TrimSuffix(foreign, "\n"))},
		{name: "stale lines of ours in the middle", old: ptr("# m h dom mon dow cmd\n*/2 * * * * /old/netcheck # netrescue\n" + foreign + "0 1 * * * /old/x # netrescue  \n\n")},
		{name: "CRLF and blanks", old: ptr("a=b\r\n\t\n   \n" + foreign)},
		{name: "original scripts' lines", old: ptr("@reboot /root/pve_host_monitor.sh >/dev/null 2>&1 &\n0 0 * * * rm -f /root/pve_did_reboot_today\n" + foreign + "# @reboot /root/pve_host_monitor.sh\n*/5 * * * * /etc/init.d/network_monitor start\n")},
		{name: "marker text inside a foreign line", old: ptr("5 5 * * * echo '# netrescue' >/tmp/x\n")},
		{name: "backslashes and quotes", old: ptr(`1 1 * * * printf '%s\n' "a\\b" \` + "\n")},
		{name: "our lines only, last without newline", old: ptr("* * * * * /usr/bin/netcheck # netrescue")},
	}
	for _, sh := range shells(t) {
		e := newEnv(t, sh)
		for _, l := range layouts {
			for _, tt := range tests {
				t.Run(sh.name+"/"+string(l.role)+"/"+tt.name, func(t *testing.T) {
					e.t = t
					prefix := t.TempDir()
					old := ""
					if tt.old != nil {
						old = *tt.old
						write(t, l.cron(prefix), old, 0o600)
					}
					e.mustRun(string(l.role), "--role", string(l.role), "--prefix", prefix, "--bin", e.bin)
					got := read(t, l.cron(prefix))
					want := crontab.Merge(crontab.RemoveLegacy(old), l.role)
					if got != want {
						t.Errorf("crontab after install.sh --role %s = %q; want crontab.Merge(crontab.RemoveLegacy(%q)) = %q", l.role, got, old, want)
					}
					var ours []string
					for _, line := range strings.SplitAfter(got, "\n") {
						if crontab.IsOurs(line) {
							ours = append(ours, strings.TrimSuffix(line, "\n"))
						}
					}
					if !reflect.DeepEqual(ours, crontab.Lines(l.role)) {
						t.Errorf("our lines in the crontab = %q; want crontab.Lines(%s) = %q", ours, l.role, crontab.Lines(l.role))
					}
					if miss := crontab.Check(got, l.role); miss != nil {
						t.Errorf("crontab.Check after install = %q; want none missing", miss)
					}
					e.mustRun(string(l.role), "--role", string(l.role), "--prefix", prefix, "--bin", e.bin, "--uninstall")
					if got2, want2 := read(t, l.cron(prefix)), crontab.Remove(got); got2 != want2 {
						t.Errorf("crontab after --uninstall = %q; want crontab.Remove(%q) = %q", got2, got, want2)
					}
				})
			}
		}
	}
}

func ptr(s string) *string { return &s }

// TestInstall walks one tree through what a person does with the
// installer: install beside a foreign cron line, run again, edit the
// config and run again, dry-run, uninstall, purge.
func TestInstall(t *testing.T) {
	for _, sh := range shells(t) {
		for _, l := range layouts {
			t.Run(sh.name+"/"+string(l.role), func(t *testing.T) {
				testInstall(t, sh, l)
			})
		}
	}
}

func testInstall(t *testing.T, sh shell, l layout) {
	e := newEnv(t, sh)
	role := string(l.role)
	prefix := filepath.Join(t.TempDir(), "root")
	base := []string{"--role", role, "--prefix", prefix, "--bin", e.bin}
	write(t, l.cron(prefix), foreign, 0o600)
	sysup := filepath.Join(prefix, "etc/sysupgrade.conf")
	if l.role == crontab.Router {
		write(t, sysup, "/etc/dropbear", 0o644) // no final newline
	}
	// State and logs of a previous life, which everything but --purge keeps.
	var keep []string
	if l.role == crontab.Router {
		keep = []string{"root/net_rb_count", "root/net_cooling_ts", "root/SOS_SYSTEM", "root/net_rescued_by",
			"root/net_outage", "root/net_volatile", "root/network_monitor.log", "root/network_monitor.log.1"}
	} else {
		keep = []string{"var/lib/netrescue/outage", "var/log/pve_host_monitor.log", "root/pve_did_reboot_today"}
	}
	for _, k := range keep {
		write(t, filepath.Join(prefix, k), "kept "+k+"\n", 0o600)
	}

	// First install.
	out := e.mustRun(role, base...)
	// Under --prefix status is not run (it would probe the network from
	// this machine and read its /root): only the config, offline, inside
	// the tree (issue 9 item 4). The run is in an empty netns besides.
	wantContains(t, "install output", out,
		"==> ", "Summary:", "==> Checking the config: "+filepath.Join(prefix, "etc/netrescue.conf")+"\n",
		"status is not run under --prefix", "config accepted by "+l.statusOf)
	wantNotContains(t, "install output", out, "==> Checking: ", "status ended")
	for _, b := range l.bins {
		p := filepath.Join(prefix, l.bindir, b)
		if got := read(t, p); got != binary(t, b) {
			t.Errorf("%s is not the real %s (%d bytes)", p, b, len(got))
		}
		if m := mode(t, p); m != 0o755 {
			t.Errorf("mode of %s = %v; want 0755", p, m)
		}
	}
	for name, target := range l.links {
		wantLink(t, filepath.Join(prefix, l.bindir, name), target)
	}
	if l.role == crontab.Router {
		// --bin holds a midnight-reset too: it is not copied.
		wantContains(t, "install output", out, "linked "+filepath.Join(prefix, "usr/bin/midnight-reset")+" -> netcheck")
	}
	conf := filepath.Join(prefix, "etc/netrescue.conf")
	if m := mode(t, conf); m != 0o600 {
		t.Errorf("mode of %s = %v; want 0600", conf, m)
	}
	if got, want := read(t, l.cron(prefix)), foreign+strings.Join(crontab.Lines(l.role), "\n")+"\n"; got != want {
		t.Errorf("crontab = %q; want %q", got, want)
	}
	bb, _ := exec.LookPath("busybox")
	listed, err := exec.Command(bb, "crontab", "-c", filepath.Join(prefix, l.cronDir), "-l").CombinedOutput()
	if err != nil {
		t.Errorf("busybox crontab -c %s -l: %v\n%s", l.cronDir, err, listed)
	} else if string(listed) != read(t, l.cron(prefix)) {
		t.Errorf("busybox crontab -l = %q; want the file's content", listed)
	}
	if l.role == crontab.Router {
		want := "/etc/dropbear\n/etc/netrescue.conf\n/usr/bin/netcheck\n/usr/bin/midnight-reset\n"
		if got := read(t, sysup); got != want {
			t.Errorf("sysupgrade.conf = %q; want %q", got, want)
		}
		wantContains(t, "install output", out, "would run: /etc/init.d/cron enable; /etc/init.d/cron restart (not under --prefix)")
	} else {
		key := filepath.Join(prefix, "root/.ssh/id_ed25519")
		if m := mode(t, key); m != 0o600 {
			t.Errorf("mode of %s = %v; want 0600", key, m)
		}
		if !strings.HasPrefix(read(t, key+".pub"), "ssh-ed25519 ") {
			t.Errorf("%s.pub is not an ed25519 key", key)
		}
		wantContains(t, "install output", out, "--role host --router 192.168.10.1", "not contacting the router")
	}

	// A second run changes nothing at all.
	before := snap(t, prefix)
	out = e.mustRun(role, base...)
	if d := before.diff(snap(t, prefix)); d != "" {
		t.Errorf("second install changed the tree:\n%s", d)
	}
	wantContains(t, "second install output", out, "is up to date", "kept your existing file", "already in place")

	// An edited config survives.
	edited := read(t, conf) + "SYSLOG=0\n"
	write(t, conf, edited, 0o600)
	e.mustRun(role, base...)
	if got := read(t, conf); got != edited {
		t.Errorf("config after re-install = %q; want the edited one kept", got)
	}

	// A dry run of anything changes nothing.
	before = snap(t, prefix)
	for _, args := range [][]string{
		{"--dry-run"},
		{"--dry-run", "--uninstall"},
		{"--dry-run", "--uninstall", "--purge"},
	} {
		out = e.mustRun(role, append(append([]string{}, base...), args...)...)
		wantContains(t, "dry run output", out, "Dry run: nothing will be changed")
		if d := before.diff(snap(t, prefix)); d != "" {
			t.Errorf("install.sh %q changed the tree:\n%s", args, d)
		}
	}
	// A dry run into an empty tree says what it would do.
	empty := filepath.Join(t.TempDir(), "empty")
	out = e.mustRun(role, "--role", role, "--prefix", empty, "--bin", e.bin, "--dry-run")
	wantContains(t, "dry run output", out, "would write "+filepath.Join(empty, "etc/netrescue.conf"),
		"would write "+l.cron(empty))
	if exists(empty) {
		t.Errorf("dry run created %s", empty)
	}

	// Uninstall removes only ours.
	out = e.mustRun(role, "--role", role, "--prefix", prefix, "--bin", e.bin, "--uninstall")
	wantContains(t, "uninstall output", out, "add --purge")
	if got := read(t, l.cron(prefix)); got != foreign {
		t.Errorf("crontab after --uninstall = %q; want only the foreign line %q", got, foreign)
	}
	for _, b := range append(append([]string{}, l.bins...), keys(l.links)...) {
		if p := filepath.Join(prefix, l.bindir, b); exists(p) {
			t.Errorf("%s still there after --uninstall", p)
		}
	}
	if got := read(t, conf); got != edited {
		t.Errorf("config after --uninstall = %q; want it kept", got)
	}
	for _, k := range keep {
		if got := read(t, filepath.Join(prefix, k)); got != "kept "+k+"\n" {
			t.Errorf("%s after --uninstall = %q; want it kept", k, got)
		}
	}
	if l.role == crontab.Router {
		if got, want := read(t, sysup), "/etc/dropbear\n/etc/netrescue.conf\n"; got != want {
			t.Errorf("sysupgrade.conf after --uninstall = %q; want %q", got, want)
		}
	}

	// Purge removes config, logs and state, and still nothing foreign.
	e.mustRun(role, "--role", role, "--prefix", prefix, "--bin", e.bin, "--uninstall", "--purge")
	if got := read(t, l.cron(prefix)); got != foreign {
		t.Errorf("crontab after --purge = %q; want %q", got, foreign)
	}
	if exists(conf) {
		t.Errorf("%s still there after --purge", conf)
	}
	for _, k := range keep {
		if exists(filepath.Join(prefix, k)) {
			t.Errorf("%s still there after --purge", k)
		}
	}
	if l.role == crontab.Router {
		if got, want := read(t, sysup), "/etc/dropbear\n"; got != want {
			t.Errorf("sysupgrade.conf after --purge = %q; want %q", got, want)
		}
	} else if !exists(filepath.Join(prefix, "root/.ssh/id_ed25519")) {
		t.Errorf("--purge removed the SSH key; want it kept")
	}
}

// specKeys are the keys SPEC §3 names for each side; the default config
// lists each with its default.
var specKeys = map[crontab.Role][]string{
	crontab.Router: {"CHECK_TARGETS", "CHECK_TCP", "PROBE_TIMEOUT", "L1_THRESHOLD", "L2_THRESHOLD",
		"L3_THRESHOLD", "L4_SOS_THRESHOLD", "SAFE_UPTIME", "COOLING_FREE_REBOOTS", "COOLING_STEP",
		"COOLING_MAX", "RECOVERY_STABLE", "WAN_IFACE", "L1_CMD", "L2_CMD", "L3_CMD", "STATE_DIR", "RUN_DIR",
		"LOG_FILE", "LOG_MAX_BYTES", "SYSLOG", "DRY_RUN", "PROFILE"},
	crontab.Host: {"OP_IP", "OP_SSH_PORT", "OP_SSH_USER", "SSH_KEY", "KNOWN_HOSTS", "SSH_TIMEOUT",
		"OP_STATE_DIR", "CHECK_TARGETS", "CHECK_TCP", "PROBE_TIMEOUT", "PVE_MARK", "LOG_FILE",
		"LOG_MAX_BYTES", "REBOOT_DELAY", "REBOOT_CMD", "REBOOT_FALLBACK_CMD", "REBOOT_CONFIRM",
		"MIN_HOST_UPTIME", "VM_ID", "VM_RESTART_FIRST", "ROUTER_HUNG_AFTER", "STATE_DIR", "SYSLOG",
		"DRY_RUN", "NOTIFY_URL"},
}

// TestDefaultConfig checks that the config the installer writes is valid
// for the real binaries: only comments, every key of the role listed with
// its built-in default (every SPEC §3 key, nothing that is not a key), and
// what uncommenting all of them gives is exactly the defaults.
func TestDefaultConfig(t *testing.T) {
	sh := shells(t)[0]
	e := newEnv(t, sh)
	keyLine := regexp.MustCompile(`^# ([A-Z0-9_]+)=(.*)$`)
	for _, l := range layouts {
		t.Run(string(l.role), func(t *testing.T) {
			e.t = t
			prefix := t.TempDir()
			e.mustRun(string(l.role), "--role", string(l.role), "--prefix", prefix, "--bin", e.bin)
			path := filepath.Join(prefix, "etc/netrescue.conf")
			content := read(t, path)
			role := config.Role(l.role)
			if _, err := config.Load(path, role, config.Options{Euid: 0}); err != nil {
				t.Errorf("config.Load(%s) = %v; want the file accepted", path, err)
			}
			var keys []string
			var uncommented strings.Builder
			for i, line := range strings.Split(content, "\n") {
				if line != "" && !strings.HasPrefix(line, "#") {
					t.Errorf("line %d %q is not commented out; want every setting commented", i+1, line)
				}
				if m := keyLine.FindStringSubmatch(line); m != nil {
					keys = append(keys, m[1])
					uncommented.WriteString(strings.TrimPrefix(line, "# ") + "\n")
				}
			}
			valid := map[string]bool{}
			for _, k := range config.Keys(role) {
				valid[k] = true
			}
			listed := map[string]bool{}
			for _, k := range keys {
				if !valid[k] {
					t.Errorf("the default config lists %s, which is not a %s key (config.Keys)", k, role)
				}
				if listed[k] {
					t.Errorf("the default config lists %s twice", k)
				}
				listed[k] = true
			}
			for _, k := range specKeys[l.role] {
				if !listed[k] {
					t.Errorf("the default config does not list %s (SPEC §3)", k)
				}
			}
			for _, k := range config.Keys(role) {
				if !listed[k] {
					t.Errorf("the default config does not list %s (config.Keys)", k)
				}
			}
			got, err := config.Parse(path, uncommented.String(), role)
			if err != nil {
				t.Fatalf("config.Parse(uncommented defaults) = %v; want no error", err)
			}
			got.Path = ""
			if def := config.Default(role); !reflect.DeepEqual(got, def) {
				t.Errorf("uncommented defaults parse to %+v; want config.Default(%s) = %+v", got, role, def)
			}
		})
	}
}

// TestMigration installs over trees that hold the original scripts: they
// are stopped and removed with their cron lines, their state and logs stay.
func TestMigration(t *testing.T) {
	for _, sh := range shells(t) {
		t.Run(sh.name+"/router", func(t *testing.T) {
			e := newEnv(t, sh)
			prefix := t.TempDir()
			oldCron := "*/5 * * * * /etc/init.d/network_monitor start\n" + foreign +
				"0 0 * * * echo 0 > /root/net_rb_count && rm -f /root/net_cooling_ts /root/SOS_SYSTEM\n# network_monitor notes\n"
			write(t, filepath.Join(prefix, "etc/crontabs/root"), oldCron, 0o600)
			write(t, filepath.Join(prefix, "etc/init.d/network_monitor"), "#!/bin/sh /etc/rc.common\nSTART=99\n", 0o755)
			write(t, filepath.Join(prefix, "usr/bin/network_monitor_logic.sh"), "#!/bin/sh\nwhile :; do sleep 60; done\n", 0o755)
			if err := os.MkdirAll(filepath.Join(prefix, "etc/rc.d"), 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.Symlink("../init.d/network_monitor", filepath.Join(prefix, "etc/rc.d/S99network_monitor")); err != nil {
				t.Fatal(err)
			}
			state := map[string]string{"root/net_rb_count": "3", "root/net_cooling_ts": "1700000000",
				"root/SOS_SYSTEM": "", "root/network_monitor.log": "[2024-01-01 00:00:00] 【SOS】\n"}
			for k, v := range state {
				write(t, filepath.Join(prefix, k), v, 0o644)
			}
			out := e.mustRun("router", "--role", "router", "--prefix", prefix, "--bin", e.bin)
			wantContains(t, "migration output", out, "Migrating from the original network_monitor service",
				"would run: /etc/init.d/network_monitor stop; /etc/init.d/network_monitor disable",
				"kept "+filepath.Join(prefix, "root/net_rb_count"), "removing the original scripts' cron lines",
				"removed the original network_monitor service; would stop and disable it (not under --prefix)")
			// Under --prefix nothing was stopped: the summary said it was.
			wantNotContains(t, "migration output", out, "stopped and removed")
			for _, gone := range []string{"etc/init.d/network_monitor", "usr/bin/network_monitor_logic.sh", "etc/rc.d/S99network_monitor"} {
				if exists(filepath.Join(prefix, gone)) {
					t.Errorf("%s still there after migration", gone)
				}
			}
			for k, v := range state {
				if got := read(t, filepath.Join(prefix, k)); got != v {
					t.Errorf("%s after migration = %q; want %q kept", k, got, v)
				}
			}
			want := foreign + "# network_monitor notes\n" + strings.Join(crontab.Lines(crontab.Router), "\n") + "\n"
			if got := read(t, filepath.Join(prefix, "etc/crontabs/root")); got != want {
				t.Errorf("crontab after migration = %q; want %q", got, want)
			}
		})
		t.Run(sh.name+"/host", func(t *testing.T) {
			e := newEnv(t, sh)
			prefix := t.TempDir()
			cron := filepath.Join(prefix, "var/spool/cron/crontabs/root")
			write(t, cron, "@reboot /root/pve_host_monitor.sh > /dev/null 2>&1 &\n"+foreign+"0 0 * * * rm -f /root/pve_did_reboot_today\n", 0o600)
			write(t, filepath.Join(prefix, "root/pve_host_monitor.sh"), "#!/bin/bash\nwhile true; do sleep 7200; done\n", 0o755)
			state := map[string]string{"root/pve_did_reboot_today": "", "var/log/pve_host_monitor.log": "[2024-01-01 00:00:00] 【回退】\n"}
			for k, v := range state {
				write(t, filepath.Join(prefix, k), v, 0o644)
			}
			out := e.mustRun("host", "--role", "host", "--prefix", prefix, "--bin", e.bin)
			wantContains(t, "migration output", out, "Migrating from the original pve_host_monitor.sh",
				"would stop its running loop", "kept "+filepath.Join(prefix, "root/pve_did_reboot_today"),
				"removed the original pve_host_monitor.sh; would stop its running loop (not under --prefix)")
			wantNotContains(t, "migration output", out, "stopped and removed")
			if exists(filepath.Join(prefix, "root/pve_host_monitor.sh")) {
				t.Errorf("pve_host_monitor.sh still there after migration")
			}
			for k, v := range state {
				if got := read(t, filepath.Join(prefix, k)); got != v {
					t.Errorf("%s after migration = %q; want %q kept", k, got, v)
				}
			}
			want := foreign + strings.Join(crontab.Lines(crontab.Host), "\n") + "\n"
			if got := read(t, cron); got != want {
				t.Errorf("crontab after migration = %q; want %q", got, want)
			}
		})
	}
}

// TestHostKeepsExistingKey: an id_rsa (or id_ed25519) already there is used,
// no second key is made.
func TestHostKeepsExistingKey(t *testing.T) {
	e := newEnv(t, shells(t)[1])
	prefix := t.TempDir()
	write(t, filepath.Join(prefix, "root/.ssh/id_rsa"), "not really a key\n", 0o600)
	out := e.mustRun("host", "--role", "host", "--prefix", prefix, "--bin", e.bin)
	wantContains(t, "install output", out, "using "+filepath.Join(prefix, "root/.ssh/id_rsa"))
	if exists(filepath.Join(prefix, "root/.ssh/id_ed25519")) {
		t.Errorf("a new id_ed25519 was created beside the existing id_rsa")
	}
}

// TestRoleDetection: /etc/openwrt_release in the tree means router; with no
// sign of either side the installer stops and says how to choose.
func TestRoleDetection(t *testing.T) {
	for _, sh := range shells(t) {
		t.Run(sh.name, func(t *testing.T) {
			e := newEnv(t, sh)
			prefix := t.TempDir()
			write(t, filepath.Join(prefix, "etc/openwrt_release"), "DISTRIB_ID='OpenWrt'\nDISTRIB_ARCH='x86_64'\n", 0o644)
			out := e.mustRun("router", "--prefix", prefix, "--bin", e.bin)
			wantContains(t, "output", out, "Role: router side")
			if !exists(filepath.Join(prefix, "usr/bin/netcheck")) {
				t.Errorf("router binaries not installed after auto-detection")
			}
			r := e.run("host", "--prefix", t.TempDir(), "--bin", e.bin)
			if r.code != 2 {
				t.Errorf("install.sh without role signs exited %d; want 2", r.code)
			}
			wantContains(t, "output", r.out, "cannot tell which side", "fix: pass --role router")
		})
	}
}

// TestErrors: usage errors exit 2, missing binaries exit 1, each with a fix;
// none leaves anything behind.
func TestErrors(t *testing.T) {
	e := newEnv(t, shells(t)[0])
	emptyBin := t.TempDir()
	routerOnly := t.TempDir() // a mipsle archive's binaries: netcheck alone
	write(t, filepath.Join(routerOnly, "netcheck"), binary(t, "netcheck"), 0o755)
	tests := []struct {
		name     string
		args     []string
		wantCode int
		wantOut  []string
	}{
		{"help", []string{"-h"}, 0, []string{"usage: hostcheck install [flags]", "--uninstall", "--router IP"}},
		{"unknown option", []string{"--frobnicate"}, 2, []string{"flag provided but not defined: -frobnicate", "fix: see sh " + script(t) + " -h"}},
		{"bad role", []string{"--role", "nas"}, 2, []string{"--role must be router or host"}},
		{"purge alone", []string{"--role", "router", "--purge"}, 2, []string{"--purge only goes with --uninstall"}},
		{"router on the router", []string{"--role", "router", "--router", "10.0.0.1"}, 2, []string{"--router is for the Proxmox host"}},
		{"missing value", []string{"--bin"}, 2, []string{"--bin needs a value"}},
		// -flag as well as --flag, as the binary's installer reads them.
		{"missing value, one dash", []string{"-bin"}, 2, []string{"error: -bin needs a value"}},
		{"missing binaries, one dash", []string{"--role", "router", "-bin", emptyBin}, 1,
			[]string{emptyBin + " does not hold netcheck or hostcheck (for linux-", "fix: build them (make dist)"}},
		{"missing binaries, one dash and =", []string{"--role", "router", "-bin=" + emptyBin}, 1,
			[]string{emptyBin + " does not hold netcheck or hostcheck (for linux-", "fix: build them (make dist)"}},
		{"missing binaries", []string{"--role", "router", "--bin", emptyBin}, 1,
			[]string{"does not hold netcheck or hostcheck (for linux-", "fix: build them (make dist)"}},
		{"missing role binaries", []string{"--role", "host", "--bin", routerOnly}, 1,
			[]string{routerOnly + " does not hold hostcheck midnight-reset (for linux-", "fix: build them (make dist)"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e.t = t
			prefix := filepath.Join(t.TempDir(), "p")
			args := append([]string{"--prefix", prefix}, tt.args...)
			if !strings.Contains(strings.Join(tt.args, " "), "-bin") {
				args = append(args, "--bin", e.bin)
			}
			r := e.run("router", args...)
			if r.code != tt.wantCode {
				t.Errorf("install.sh %q exited %d; want %d; output:\n%s", tt.args, r.code, tt.wantCode, r.out)
			}
			wantContains(t, "output", r.out, tt.wantOut...)
			if tt.wantCode != 0 && len(snap(t, prefix)) > 1 {
				t.Errorf("install.sh %q failed but left files in %s: %v", tt.args, prefix, snap(t, prefix))
			}
		})
	}
}

// TestGoBuildFallback: without --bin and without dist/, a checkout with Go
// builds the binaries itself (SPEC §10) into a temp dir that is gone
// afterwards. The checkout is a copy of this one without dist/, built from
// the local toolchain and module cache (the namespace has no network).
func TestGoBuildFallback(t *testing.T) {
	requireTools(t, "go")
	if testing.Short() {
		t.Skip("skipping: builds the real binaries")
	}
	if runtime.GOARCH != "amd64" && runtime.GOARCH != "arm64" {
		t.Skipf("skipping: the test names dist/linux-%s, which install.sh may call otherwise", runtime.GOARCH)
	}
	arch := runtime.GOARCH
	goBin, _ := exec.LookPath("go")
	src, _ := filepath.Abs(filepath.Join("..", ".."))
	repo := filepath.Join(t.TempDir(), "checkout")
	copyRepo(t, src, repo)
	e := newEnv(t, shells(t)[1])
	e.script = filepath.Join(repo, "scripts", "install.sh")
	e.extra = append(e.extra, "GOPROXY=off", "GOTOOLCHAIN=local", "GOFLAGS=",
		"GOCACHE="+goEnv(t, "GOCACHE"), "GOMODCACHE="+goEnv(t, "GOMODCACHE"),
		"PATH="+filepath.Dir(goBin)+":"+os.Getenv("PATH"))
	prefix := t.TempDir()
	out := e.mustRun("host", "--role", "host", "--prefix", prefix)
	wantContains(t, "output", out, "==> Building netcheck hostcheck midnight-reset for linux-"+arch+" with Go",
		"from "+e.tmp+"/netrescue-build.", "config accepted by hostcheck")
	for _, b := range []string{"hostcheck", "midnight-reset"} {
		got := read(t, filepath.Join(prefix, "usr/local/bin", b))
		if !strings.HasPrefix(got, "\x7fELF") {
			t.Errorf("%s is not an ELF binary", b)
		}
	}
	// With dist/linux-ARCH present, that is used and nothing is built.
	copyBins(t, filepath.Join(repo, "dist", "linux-"+arch))
	out = e.mustRun("host", "--role", "host", "--prefix", prefix)
	wantNotContains(t, "output", out, "Building")
	wantContains(t, "output", out, "from "+filepath.Join(repo, "dist", "linux-"+arch))
	if got := read(t, filepath.Join(prefix, "usr/local/bin/hostcheck")); got != binary(t, "hostcheck") {
		t.Errorf("hostcheck is not the one from dist/linux-%s", arch)
	}
}

func goEnv(t *testing.T, name string) string {
	t.Helper()
	out, err := exec.Command("go", "env", name).Output()
	if err != nil {
		t.Fatalf("go env %s: %v", name, err)
	}
	return strings.TrimSpace(string(out))
}

// TestMigrationFullDisk: when the new binary cannot be written (a full
// disk: a small tmpfs over the bin directory, in a mount namespace), the
// install stops with the original scripts untouched — their files, links
// and cron lines — and says so: the house keeps its rescue.
func TestMigrationFullDisk(t *testing.T) {
	requireTools(t, "unshare", "mount")
	sh := shells(t)[1] // dash: unshare and mount from the machine's PATH
	for _, role := range []string{"router", "host"} {
		t.Run(role, func(t *testing.T) {
			e := newEnv(t, sh)
			prefix := t.TempDir()
			spare := t.TempDir() // what the tmpfs starts with
			var bindir, cron, orig, kept string
			files := map[string]string{}
			if role == "router" {
				bindir, cron, orig = "usr/bin", "etc/crontabs/root", "network_monitor service"
				files["etc/init.d/network_monitor"] = "#!/bin/sh /etc/rc.common\nSTART=99\n"
				files[cron] = "*/5 * * * * /etc/init.d/network_monitor start\n" + foreign
				kept = "network_monitor_logic.sh" // in the full bin directory
				write(t, filepath.Join(spare, kept), "#!/bin/sh\nwhile :; do sleep 60; done\n", 0o755)
				if err := os.MkdirAll(filepath.Join(prefix, "etc/rc.d"), 0o755); err != nil {
					t.Fatal(err)
				}
				if err := os.Symlink("../init.d/network_monitor", filepath.Join(prefix, "etc/rc.d/S99network_monitor")); err != nil {
					t.Fatal(err)
				}
			} else {
				bindir, cron, orig = "usr/local/bin", "var/spool/cron/crontabs/root", "pve_host_monitor.sh"
				files["root/pve_host_monitor.sh"] = "#!/bin/bash\nwhile true; do sleep 7200; done\n"
				files[cron] = "@reboot /root/pve_host_monitor.sh > /dev/null 2>&1 &\n" + foreign
			}
			for k, v := range files {
				write(t, filepath.Join(prefix, k), v, 0o700)
			}
			if err := os.MkdirAll(filepath.Join(prefix, bindir), 0o755); err != nil {
				t.Fatal(err)
			}
			before := snap(t, prefix)
			// 64 KiB holds the original's script, not our binary. What the
			// tmpfs holds at the end is said before it goes with the namespace.
			e.wrap = []string{"unshare", "-m", "sh", "-c", `mount -t tmpfs -o size=64k tmpfs "$0" || exit 1
cp -p "$1"/* "$0"/ 2>/dev/null
shift
"$@"; rc=$?; ls "$0" | sed 's/^/TMPFS: /'; exit $rc`, filepath.Join(prefix, bindir), spare}
			r := e.run(role, "--role", role, "--prefix", prefix, "--bin", e.bin)
			if r.code == 0 {
				t.Fatalf("install.sh into a full %s exited 0; want a failure; output:\n%s", bindir, r.out)
			}
			wantContains(t, "output", r.out, "cannot write "+filepath.Join(prefix, bindir), "no space left on device",
				"the original "+orig+" is untouched and still runs: nothing of it was changed")
			if d := before.diff(snap(t, prefix)); d != "" {
				t.Errorf("the failed install changed the tree:\n%s", d)
			}
			if kept != "" && !strings.Contains(r.out, "TMPFS: "+kept+"\n") {
				t.Errorf("the failed install removed %s from the full %s; output:\n%s", kept, bindir, r.out)
			}
		})
	}
}

// TestMigrationCronFull: with the crontab's directory full (a nearly full
// overlay: the binary fit, the crontab's temp file does not), the install
// stopped after the migration had removed the original, leaving no rescue
// at all. Our cron lines now go in before the migration: the original is
// still there, running, and the failure says so.
func TestMigrationCronFull(t *testing.T) {
	requireTools(t, "unshare", "mount")
	sh := shells(t)[1]
	for _, role := range []string{"router", "host"} {
		t.Run(role, func(t *testing.T) {
			e := newEnv(t, sh)
			prefix := t.TempDir()
			var cron, orig string
			var originals []string
			files := map[string]string{}
			if role == "router" {
				cron, orig = "etc/crontabs/root", "network_monitor service"
				files["etc/init.d/network_monitor"] = "#!/bin/sh /etc/rc.common\nSTART=99\n"
				files["usr/bin/network_monitor_logic.sh"] = "#!/bin/sh\nwhile :; do sleep 60; done\n"
				originals = []string{"etc/init.d/network_monitor", "usr/bin/network_monitor_logic.sh"}
			} else {
				cron, orig = "var/spool/cron/crontabs/root", "pve_host_monitor.sh"
				files["root/pve_host_monitor.sh"] = "#!/bin/bash\nwhile true; do sleep 7200; done\n"
				originals = []string{"root/pve_host_monitor.sh"}
			}
			legacy := "@reboot /root/pve_host_monitor.sh > /dev/null 2>&1 &\n"
			if role == "router" {
				legacy = "*/5 * * * * /etc/init.d/network_monitor start\n"
			}
			files[cron] = legacy + foreign
			for k, v := range files {
				write(t, filepath.Join(prefix, k), v, 0o700)
			}
			// The crontab's directory: a 4 KiB tmpfs holding the crontab,
			// the rest filled.
			e.wrap = []string{"unshare", "-m", "sh", "-c", `d=$(dirname "$0"); cp -p "$0" /tmp/nr-cron.$$ && mount -t tmpfs -o size=4k tmpfs "$d" || exit 1
cp -p /tmp/nr-cron.$$ "$0"; rm -f /tmp/nr-cron.$$; dd if=/dev/zero of="$d/filler" bs=1k 2>/dev/null
"$@"`, filepath.Join(prefix, cron)}
			r := e.run(role, "--role", role, "--prefix", prefix, "--bin", e.bin)
			if r.code == 0 {
				t.Fatalf("install.sh with a full crontab directory exited 0; want a failure; output:\n%s", r.out)
			}
			wantContains(t, "output", r.out, "the original "+orig+" is untouched and still runs")
			for _, f := range originals {
				if _, err := os.Stat(filepath.Join(prefix, f)); err != nil {
					t.Errorf("the failed install removed the original's %s: %v; output:\n%s", f, err, r.out)
				}
			}
		})
	}
}
