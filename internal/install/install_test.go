package install_test

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"

	"golang.org/x/crypto/ssh"

	"github.com/pve-op/network-rescue/crontab"
	"github.com/pve-op/network-rescue/internal/cli"
	"github.com/pve-op/network-rescue/internal/config"
	"github.com/pve-op/network-rescue/internal/install"
	"github.com/pve-op/network-rescue/internal/install/pair"
)

func TestParseArgs(t *testing.T) {
	env := map[string]string{"NETRESCUE_ROUTER_PREFIX": "/rp", "NETRESCUE_SSH_PORT": "2222"}
	getenv := func(k string) string { return env[k] }
	tests := []struct {
		name    string
		args    []string
		uninst  bool
		want    install.Options
		wantErr string
	}{
		{name: "defaults from the environment", args: nil,
			want: install.Options{RouterPrefix: "/rp", Port: 2222}},
		{name: "double dash, equals and short forms", args: []string{"--role=host", "-y", "-n", "--prefix", "/p", "--router", "10.0.0.1"},
			want: install.Options{Role: crontab.Host, Yes: true, DryRun: true, Prefix: "/p", Router: "10.0.0.1", RouterPrefix: "/rp", Port: 2222}},
		{name: "uninstall subcommand with purge", args: []string{"--purge"}, uninst: true,
			want: install.Options{Uninstall: true, Purge: true, RouterPrefix: "/rp", Port: 2222}},
		{name: "bad role", args: []string{"--role", "nas"}, wantErr: "--role must be router or host, not nas\n  fix: see netcheck install -h"},
		{name: "purge alone", args: []string{"--purge"}, wantErr: "--purge only goes with --uninstall\n  fix: see netcheck install -h"},
		{name: "missing value", args: []string{"--bin"}, wantErr: "flag needs an argument: -bin\n  fix: see netcheck install -h"},
		{name: "unknown flag", args: []string{"--frobnicate"}, wantErr: "flag provided but not defined: -frobnicate\n  fix: see netcheck install -h"},
		{name: "stray argument", args: []string{"now"}, wantErr: "unexpected argument \"now\"\n  fix: see netcheck install -h"},
		{name: "bad port", args: []string{"--port", "ssh"}, wantErr: "--port must be a number from 1 to 65535, not ssh\n  fix: see netcheck install -h"},
		{name: "router with a shell word", args: []string{"--router", "1.2.3.4;reboot"}, wantErr: "--router must be an IP address or host name, not 1.2.3.4;reboot\n  fix: see netcheck install -h"},
		{name: "router on the router", args: []string{"--role", "router", "--router", "10.0.0.1"},
			wantErr: "--router is for the Proxmox host (--role host); on the router run the installer without it\n  fix: see netcheck install -h"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out bytes.Buffer
			got, err := install.ParseArgs("netcheck", tt.args, tt.uninst, true, &out, getenv)
			if tt.wantErr != "" {
				var ue *cli.UsageError
				if err == nil || err.Error() != tt.wantErr || !errors.As(err, &ue) {
					t.Fatalf("install.ParseArgs(%q) = %v; want the usage error %q", tt.args, err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("install.ParseArgs(%q) = %v", tt.args, err)
			}
			if got != tt.want {
				t.Errorf("install.ParseArgs(%q) = %+v; want %+v", tt.args, got, tt.want)
			}
		})
	}
	// Run through install.sh, the fix names what the person ran.
	viaScript := func(k string) string { return map[string]string{install.BootstrapEnv: "./install.sh"}[k] }
	if _, err := install.ParseArgs("hostcheck", []string{"--frobnicate"}, false, true, io.Discard, viaScript); err == nil ||
		!strings.HasSuffix(err.Error(), "\n  fix: see sh ./install.sh -h") {
		t.Errorf("install.ParseArgs(--frobnicate) through install.sh = %v; want the fix to name sh ./install.sh -h", err)
	}
	var out bytes.Buffer
	if _, err := install.ParseArgs("hostcheck", []string{"-h"}, false, true, &out, getenv); !errors.Is(err, flag.ErrHelp) ||
		!strings.Contains(out.String(), "usage: hostcheck install [flags]") || !strings.Contains(out.String(), "--router IP") {
		t.Errorf("install.ParseArgs(-h) = %v, printed %q; want flag.ErrHelp and the usage with the host's flags", err, out.String())
	}
}

// TestParseArgsRouterOnly: `netcheck install -h` listed --router, --port,
// --identity and -y, the host's flags, which netcheck's installer (no host
// steps linked) refuses (TestRouterSideOnly). Its help is the router's.
func TestParseArgsRouterOnly(t *testing.T) {
	getenv := func(k string) string { return map[string]string{"NETRESCUE_SSH_PORT": "2222"}[k] }
	var out bytes.Buffer
	if _, err := install.ParseArgs("netcheck", []string{"-h"}, false, false, &out, getenv); !errors.Is(err, flag.ErrHelp) {
		t.Fatalf("netcheck install -h = %v; want flag.ErrHelp", err)
	}
	help := out.String()
	for _, want := range []string{"usage: netcheck install [flags]", "--role router", "--bin DIR", "--prefix DIR", "--uninstall", "--purge", "--dry-run", "hostcheck install (or sh install.sh) there"} {
		if !strings.Contains(help, want) {
			t.Errorf("netcheck install -h lacks %q:\n%s", want, help)
		}
	}
	for _, host := range []string{"--router IP", "--router-bin", "--router-prefix", "--port", "--identity", "--yes", "NETRESCUE_", "Proxmox host:    sh install.sh"} {
		if strings.Contains(help, host) {
			t.Errorf("netcheck install -h lists the host's %q, which it refuses:\n%s", host, help)
		}
	}
}

// strictEnv is the environment of an install under --prefix: any command,
// process list, signal or PATH lookup (everything outside the tree) fails
// the test.
func strictEnv(t *testing.T, exe string, out *bytes.Buffer) install.Env {
	return install.Env{
		Host:  pair.Steps(),
		Stdin: strings.NewReader(""), Stdout: out, Stderr: out, Euid: os.Geteuid(),
		Executable: func() (string, error) { return exe, nil },
		Getenv:     func(string) string { return "" },
		LookPath: func(name string) (string, error) {
			t.Errorf("under --prefix the installer looked up %s on PATH", name)
			return "", errors.New("not allowed")
		},
		Run: func(_ context.Context, _ []byte, name string, args ...string) ([]byte, error) {
			t.Errorf("under --prefix the installer ran %s %q", name, args)
			return nil, errors.New("not allowed")
		},
		Procs: func() ([]install.Proc, error) {
			t.Errorf("under --prefix the installer listed the processes")
			return nil, nil
		},
		Kill:         func(pid int) error { t.Errorf("killed %d", pid); return nil },
		Hostname:     func() (string, error) { return "pve1", nil },
		Terminal:     func() bool { return false },
		ReadPassword: func() ([]byte, error) { return nil, errors.New("no terminal") },
	}
}

// TestRouterSideOnly: netcheck's installer (no host side) refuses the
// host's SSH steps with a fix, and netcheck links no SSH stack (SPEC §12:
// the router's footprint).
func TestRouterSideOnly(t *testing.T) {
	var out bytes.Buffer
	env := strictEnv(t, filepath.Join(fakeBins(t), "netcheck"), &out)
	env.Host = install.HostSteps{}
	prefix := t.TempDir()
	err := install.Run(context.Background(), install.Options{Role: crontab.Host, Prefix: prefix}, env)
	if err == nil || !strings.Contains(err.Error(), "this binary installs the router side only") {
		t.Errorf("a host install without the host's steps = %v; want the router-side-only error", err)
	}
	if ents, _ := os.ReadDir(prefix); len(ents) != 0 {
		t.Errorf("the refused host install wrote %v into --prefix", ents)
	}
	// netcheck links no SSH client: its package graph holds neither
	// x/crypto/ssh nor internal/remote (SPEC §12: the router's footprint),
	// nor the terminal code that only pairing's password prompt needs.
	gobin, err := exec.LookPath("go")
	if err != nil {
		t.Skip("go is not on PATH: cannot list netcheck's packages")
	}
	deps, err := exec.Command(gobin, "list", "-deps", "github.com/pve-op/network-rescue/cmd/netcheck").CombinedOutput()
	if err != nil {
		t.Fatalf("go list: %v\n%s", err, deps)
	}
	for _, l := range strings.Split(string(deps), "\n") {
		switch l {
		case "golang.org/x/crypto/ssh", "github.com/pve-op/network-rescue/internal/remote":
			t.Errorf("netcheck depends on %s: the router would carry an SSH client", l)
		case "golang.org/x/term":
			t.Errorf("netcheck depends on %s: the router would carry the host's password prompt", l)
		}
	}
}

// fakeBins writes binaries (any bytes: under --prefix nothing runs them).
func fakeBins(t *testing.T) string {
	dir := t.TempDir()
	for _, n := range []string{"netcheck", "hostcheck", "midnight-reset"} {
		if err := os.WriteFile(filepath.Join(dir, n), []byte("binary "+n+"\n"), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func snapshot(t *testing.T, root string) map[string]string {
	t.Helper()
	s := map[string]string{}
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		fi, err := os.Lstat(p)
		if err != nil {
			return err
		}
		desc := fi.Mode().String() + " " + fi.ModTime().String()
		if fi.Mode().IsRegular() {
			b, _ := os.ReadFile(p)
			desc += " " + string(b)
		}
		if fi.Mode()&fs.ModeSymlink != 0 {
			l, _ := os.Readlink(p)
			desc += " -> " + l
		}
		s[p] = desc
		return nil
	})
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		t.Fatal(err)
	}
	return s
}

func diff(a, b map[string]string) []string {
	var d []string
	for k, v := range a {
		if b[k] != v {
			d = append(d, k)
		}
	}
	for k := range b {
		if _, ok := a[k]; !ok {
			d = append(d, k)
		}
	}
	return d
}

// TestPrefixStaysInTree installs, re-installs, dry-runs and uninstalls
// both sides in --prefix trees: nothing outside the tree is run or looked
// up, the second run changes no byte or mtime and says so, and a dry run
// changes nothing.
func TestPrefixStaysInTree(t *testing.T) {
	const foreign = "0 3 * * * /usr/bin/backup\n"
	for _, role := range []crontab.Role{crontab.Router, crontab.Host} {
		t.Run(string(role), func(t *testing.T) {
			bin := fakeBins(t)
			prefix := t.TempDir()
			cron := filepath.Join(prefix, "etc/crontabs/root")
			if role == crontab.Host {
				cron = filepath.Join(prefix, "var/spool/cron/crontabs/root")
			}
			if err := os.MkdirAll(filepath.Dir(cron), 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(cron, []byte(foreign+"@reboot /root/pve_host_monitor.sh &\n"), 0o600); err != nil {
				t.Fatal(err)
			}
			run := func(o install.Options) string {
				t.Helper()
				var out bytes.Buffer
				o.Role, o.Prefix = role, prefix
				if err := install.Run(context.Background(), o, strictEnv(t, filepath.Join(bin, "netcheck"), &out)); err != nil {
					t.Fatalf("Run(%+v) = %v; output:\n%s", o, err, out.String())
				}
				return out.String()
			}
			out := run(install.Options{})
			if got, want := readFile(t, cron), crontab.Merge(foreign, role); got != want {
				t.Errorf("crontab = %q; want %q", got, want)
			}
			if !strings.Contains(out, "removing the original scripts' cron lines:\n      - @reboot /root/pve_host_monitor.sh &\n") {
				t.Errorf("output does not name the original line it removed:\n%s", out)
			}
			conf := filepath.Join(prefix, "etc/netrescue.conf")
			if got := readFile(t, conf); got != config.Example(config.Role(role)) {
				t.Errorf("%s is not config.Example(%s):\n%s", conf, role, got)
			}
			if role == crontab.Router {
				if l, err := os.Readlink(filepath.Join(prefix, "usr/bin/midnight-reset")); err != nil || l != "netcheck" {
					t.Errorf("midnight-reset -> %q, %v; want -> netcheck", l, err)
				}
			} else {
				key, err := os.ReadFile(filepath.Join(prefix, "root/.ssh/id_ed25519"))
				if err != nil {
					t.Fatal(err)
				}
				signer, err := ssh.ParsePrivateKey(key)
				if err != nil {
					t.Fatalf("the created key does not parse: %v", err)
				}
				pub := readFile(t, filepath.Join(prefix, "root/.ssh/id_ed25519.pub"))
				if want := strings.TrimSuffix(string(ssh.MarshalAuthorizedKey(signer.PublicKey())), "\n") + " netrescue@pve1\n"; pub != want {
					t.Errorf("id_ed25519.pub = %q; want %q", pub, want)
				}
			}

			before := snapshot(t, prefix)
			out = run(install.Options{})
			if d := diff(before, snapshot(t, prefix)); d != nil {
				t.Errorf("second run changed %q", d)
			}
			for _, w := range []string{"is up to date", "kept your existing file", "already in place, nothing to change", "config accepted by"} {
				if !strings.Contains(out, w) {
					t.Errorf("second run does not say %q:\n%s", w, out)
				}
			}
			for _, o := range []install.Options{{DryRun: true}, {DryRun: true, Uninstall: true}, {DryRun: true, Uninstall: true, Purge: true}} {
				out = run(o)
				if d := diff(before, snapshot(t, prefix)); d != nil {
					t.Errorf("Run(%+v) changed %q", o, d)
				}
				if !strings.Contains(out, "dry run: nothing was changed") {
					t.Errorf("Run(%+v) does not say it changed nothing:\n%s", o, out)
				}
			}

			// The host's METRICS_FILE goes with hostcheck: node_exporter
			// would serve a stopped exporter's last values as current.
			prom := filepath.Join(prefix, "var/lib/node-exporter/netrescue.prom")
			if role == crontab.Host {
				if err := os.WriteFile(conf, []byte(readFile(t, conf)+"METRICS_FILE=/var/lib/node-exporter/netrescue.prom\n"), 0o600); err != nil {
					t.Fatal(err)
				}
				if err := os.MkdirAll(filepath.Dir(prom), 0o755); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(prom, []byte("netrescue_internet_up 1\n"), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			run(install.Options{Uninstall: true})
			if got := readFile(t, cron); got != foreign {
				t.Errorf("crontab after uninstall = %q; want %q", got, foreign)
			}
			if install.Exists(prom) {
				t.Errorf("uninstall kept METRICS_FILE %s", prom)
			}
			if !install.Exists(conf) {
				t.Errorf("uninstall removed %s; want it kept", conf)
			}
			run(install.Options{Uninstall: true, Purge: true})
			if install.Exists(conf) {
				t.Errorf("purge kept %s", conf)
			}
		})
	}
}

// TestDryRunIntoNothing: a dry run into a tree that does not exist says
// what it would write and creates nothing.
func TestDryRunIntoNothing(t *testing.T) {
	prefix := filepath.Join(t.TempDir(), "none")
	var out bytes.Buffer
	err := install.Run(context.Background(), install.Options{Role: crontab.Host, Prefix: prefix, DryRun: true}, strictEnv(t, filepath.Join(fakeBins(t), "hostcheck"), &out))
	if err != nil {
		t.Fatalf("Run = %v\n%s", err, out.String())
	}
	for _, w := range []string{"would write " + filepath.Join(prefix, "etc/netrescue.conf") + " (mode 600)",
		"would write " + filepath.Join(prefix, "var/spool/cron/crontabs/root") + " (mode 600)",
		"would create an ed25519 key " + filepath.Join(prefix, "root/.ssh/id_ed25519")} {
		if !strings.Contains(out.String(), w) {
			t.Errorf("dry run output lacks %q:\n%s", w, out.String())
		}
	}
	if install.Exists(prefix) {
		t.Errorf("dry run created %s", prefix)
	}
}

// TestErrors: what a person sees when the install cannot go on.
func TestErrors(t *testing.T) {
	empty := t.TempDir()
	tests := []struct {
		name  string
		o     install.Options
		euid  int
		want  string
		usage bool
	}{
		{"no role", install.Options{Prefix: "/nonexistent-tree"}, 0,
			"cannot tell which side this machine is: there is no /nonexistent-tree/etc/openwrt_release (OpenWrt) and no pveversion command (Proxmox VE)\n  fix: pass --role router on the OpenWrt router or --role host on the Proxmox host", true},
		{"not root", install.Options{Role: crontab.Router}, 1000,
			"installing into / needs root\n  fix: run it as root (sudo sh install.sh ...), or pass --prefix DIR", false},
		{"no binaries", install.Options{Role: crontab.Host, Prefix: t.TempDir(), Bin: empty}, 0,
			empty + " does not hold hostcheck midnight-reset (for linux-" + install.SelfArch() + ")\n  fix: build them (make dist) and pass the directory holding them: --bin dist/linux-" + install.SelfArch(), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out bytes.Buffer
			env := strictEnv(t, "/nonexistent/netcheck", &out)
			env.Euid = tt.euid
			err := install.Run(context.Background(), tt.o, env)
			var ue *cli.UsageError
			if err == nil || err.Error() != tt.want || errors.As(err, &ue) != tt.usage {
				t.Errorf("Run(%+v) = %v; want %q (usage error: %v)", tt.o, err, tt.want, tt.usage)
			}
		})
	}
}

// writeTree writes files (path under root → content) with mode, making
// their directories.
func writeTree(t *testing.T, root string, files map[string]string, mode os.FileMode) {
	t.Helper()
	for f, c := range files {
		p := filepath.Join(root, f)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(c), mode); err != nil {
			t.Fatal(err)
		}
	}
}

func readFile(t *testing.T, p string) string {
	t.Helper()
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// TestPurgeRouterState: --uninstall keeps every state file of the router
// in STATE_DIR (/root) and --purge removes them all, the outage record,
// the volatile fallback, the pause and a dry run's directory too; a file
// that is not ours stays, even one whose name starts like ours (the
// release tarball the README has the owner unpack in /root).
func TestPurgeRouterState(t *testing.T) {
	prefix := t.TempDir()
	state := []string{"net_rb_count", "net_cooling_ts", "SOS_SYSTEM", "net_outage", "net_rescued_by", "net_volatile",
		"network_monitor.log", "network_monitor.log.1", "netrescue.pause", "netrescue-dry-run/net_rb_count",
		"netrescue-dry-run/netcheck.state"}
	theirs := []string{"notes.txt", "netrescue-1.0.0-linux-mipsle.tar.gz", "netrescue.conf.bak-mine"}
	for _, f := range append(state, theirs...) {
		p := filepath.Join(prefix, "root", f)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte("x\n"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	run := func(o install.Options) {
		t.Helper()
		var out bytes.Buffer
		o.Role, o.Prefix = crontab.Router, prefix
		if err := install.Run(context.Background(), o, strictEnv(t, filepath.Join(fakeBins(t), "netcheck"), &out)); err != nil {
			t.Fatalf("Run(%+v) = %v; output:\n%s", o, err, out.String())
		}
	}
	run(install.Options{})
	run(install.Options{Uninstall: true})
	for _, f := range state {
		if !install.Exists(filepath.Join(prefix, "root", f)) {
			t.Errorf("--uninstall removed /root/%s; want it kept", f)
		}
	}
	run(install.Options{Uninstall: true, Purge: true})
	for _, f := range state {
		if install.Exists(filepath.Join(prefix, "root", f)) {
			t.Errorf("/root/%s still there after --purge", f)
		}
	}
	if install.Exists(filepath.Join(prefix, "root/netrescue-dry-run")) {
		t.Errorf("/root/netrescue-dry-run still there after --purge")
	}
	for _, f := range theirs {
		if !install.Exists(filepath.Join(prefix, "root", f)) {
			t.Errorf("--purge removed /root/%s, which is not ours", f)
		}
	}

	// RUN_DIR=/tmp: the run's files are in /tmp/netrescue (cli.RunDir);
	// purge takes that directory and leaves the rest of /tmp.
	run(install.Options{})
	conf := filepath.Join(prefix, "etc/netrescue.conf")
	b, err := os.ReadFile(conf)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(conf, append(b, "\nRUN_DIR=/tmp\n"...), 0o600); err != nil {
		t.Fatal(err)
	}
	tmp := filepath.Join(prefix, "tmp")
	for _, f := range []string{"netrescue/netcheck.state", "netrescue/netcheck.lock", "other.txt"} {
		if err := os.MkdirAll(filepath.Dir(filepath.Join(tmp, f)), 0o700); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(tmp, f), []byte("x\n"), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Chmod(tmp, 0o1777); err != nil {
		t.Fatal(err)
	}
	run(install.Options{Uninstall: true, Purge: true})
	if install.Exists(filepath.Join(tmp, "netrescue")) || !install.Exists(filepath.Join(tmp, "other.txt")) {
		t.Errorf("--purge with RUN_DIR=/tmp: /tmp/netrescue there %v, /tmp/other.txt there %v; want gone, kept",
			install.Exists(filepath.Join(tmp, "netrescue")), install.Exists(filepath.Join(tmp, "other.txt")))
	}
}

// TestPurgeKeptDirSaysWhatStays: --purge keeps a STATE_DIR or RUN_DIR not
// named netrescue (/root, the router's STATE_DIR as the original scripts
// had it), removes our files from it by name, keeps the owner's, and says
// so. The router's files in /root all went by name before, yet the output
// said "remove our files from it by hand"; the host's own files there
// (hostcheck's record, notify queue, heartbeat, lock) stayed, named to the
// owner to remove by hand.
func TestPurgeKeptDirSaysWhatStays(t *testing.T) {
	for _, tc := range []struct {
		name  string
		role  crontab.Role
		conf  string            // appended to the installed config
		files []string          // under --prefix, before the purge
		keep  []string          // of files, the owner's, there after the purge
		want  map[string]string // the line said of each kept directory, PREFIX for the prefix
	}{
		{name: "router, STATE_DIR=/root", role: crontab.Router,
			files: []string{"root/net_rb_count", "root/SOS_SYSTEM", "root/netrescue.pause", "root/notes.txt", "tmp/netrescue/netcheck.lock"},
			keep:  []string{"root/notes.txt"},
			want:  map[string]string{"/root": "    kept PREFIX/root (not ours alone); our files in it are removed\n"}},
		{name: "router, RUN_DIR its own", role: crontab.Router, conf: "RUN_DIR=/run/nc\n",
			files: []string{"root/net_rb_count", "run/nc/netcheck.state", "run/nc/netcheck.lock", "run/nc/other.pid"},
			keep:  []string{"run/nc/other.pid"},
			want: map[string]string{"/root": "    kept PREFIX/root (not ours alone); our files in it are removed\n",
				"/run/nc": "    kept PREFIX/run/nc (not ours alone); our files in it are removed\n"}},
		{name: "host, STATE_DIR and RUN_DIR the owner's", role: crontab.Host, conf: "STATE_DIR=/srv/state\nRUN_DIR=/run/hc\n",
			files: []string{"srv/state/hostcheck.state", "srv/state/notify.queue", "srv/state/netrescue.pause", "srv/state/mine.txt",
				"srv/state/hostcheck.metrics", "srv/state/heartbeat.fail", "srv/state/hostcheck.unread",
				"run/hc/heartbeat", "run/hc/hostcheck.lock", "run/hc/notify.sent", "run/hc/notify.failing", "run/hc/metrics.failing",
				"run/hc/hostcheck.unread", "run/hc/dnsmasq.pid"},
			keep: []string{"srv/state/mine.txt", "run/hc/dnsmasq.pid"},
			want: map[string]string{"/srv/state": "    kept PREFIX/srv/state (not ours alone); our files in it are removed\n",
				"/run/hc": "    kept PREFIX/run/hc (not ours alone); our files in it are removed\n"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			prefix := t.TempDir()
			var out bytes.Buffer
			env := strictEnv(t, filepath.Join(fakeBins(t), map[crontab.Role]string{crontab.Router: "netcheck", crontab.Host: "hostcheck"}[tc.role]), &out)
			o := install.Options{Role: tc.role, Prefix: prefix, Yes: true}
			if err := install.Run(context.Background(), o, env); err != nil {
				t.Fatalf("install: %v\n%s", err, out.String())
			}
			conf := filepath.Join(prefix, "etc/netrescue.conf")
			if err := os.WriteFile(conf, []byte(readFile(t, conf)+"\n"+tc.conf), 0o600); err != nil {
				t.Fatal(err)
			}
			files := map[string]string{}
			for _, f := range tc.files {
				files[f] = "x\n"
			}
			writeTree(t, prefix, files, 0o600)
			o.Uninstall, o.Purge = true, true
			for _, dry := range []bool{true, false} {
				out.Reset()
				o.DryRun = dry
				if err := install.Run(context.Background(), o, env); err != nil {
					t.Fatalf("purge (dry run %v): %v\n%s", dry, err, out.String())
				}
				for dir, w := range tc.want {
					w = strings.ReplaceAll(w, "PREFIX", prefix)
					if dry {
						w = strings.Replace(w, "    kept ", "    would keep ", 1)
						w = strings.Replace(w, "; our files in it are removed\n", "; our files in it would be removed\n", 1)
						w = strings.Replace(strings.Replace(w, " stays: ", " stay: ", 1), " stay: ", " would stay: ", 1)
					}
					if !strings.Contains(out.String(), w) {
						t.Errorf("purge (dry run %v) of %s: output lacks %q:\n%s", dry, dir, w, out.String())
					}
				}
				if strings.Contains(out.String(), "by hand") {
					t.Errorf("purge (dry run %v) leaves files of ours to remove by hand:\n%s", dry, out.String())
				}
				for _, f := range tc.files {
					want := dry || slices.Contains(tc.keep, f)
					if got := install.Exists(filepath.Join(prefix, f)); got != want {
						t.Errorf("purge (dry run %v): %s there %v, want %v", dry, f, got, want)
					}
				}
			}
		})
	}
}

// TestPackagedHostMigrates: on a host the netrescue package set up, the
// installer run after dpkg migrates from the original pve_host_monitor.sh
// (its script and its lines in root's crontab go, its mark and log stay)
// and adds none of our lines to root's crontab: the package's are in
// /etc/cron.d. Otherwise the original loop and hostcheck would both act on
// one SOS. With nothing left to migrate it refuses, as before.
func TestPackagedHostMigrates(t *testing.T) {
	const foreign = "30 6 * * * cp /root/network_monitor.log /mnt/usb/logs/\n"
	prefix := t.TempDir()
	files := map[string]string{
		"usr/bin/hostcheck":            "binary hostcheck\n",
		"usr/bin/midnight-reset":       "binary midnight-reset\n",
		"etc/cron.d/netrescue":         strings.Join(crontab.PackageLines(), "\n") + "\n",
		"etc/netrescue.conf":           config.Example(config.Host),
		"var/lib/dpkg/status":          "Package: netrescue\nStatus: install ok installed\nVersion: 1.2.3\n\n",
		"root/pve_host_monitor.sh":     "#!/bin/bash\nwhile true; do sleep 7200; done\n",
		"root/pve_did_reboot_today":    "",
		"var/log/pve_host_monitor.log": "[2024-01-01 00:00:00] 【回退】\n",
		"var/spool/cron/crontabs/root": "@reboot /root/pve_host_monitor.sh > /dev/null 2>&1 &\n" + foreign + "0 0 * * * rm -f /root/pve_did_reboot_today\n",
	}
	writeTree(t, prefix, files, 0o600)
	var out bytes.Buffer
	o := install.Options{Role: crontab.Host, Prefix: prefix}
	env := strictEnv(t, filepath.Join(fakeBins(t), "hostcheck"), &out)
	if err := install.Run(context.Background(), o, env); err != nil {
		t.Fatalf("Run(%+v) = %v; output:\n%s", o, err, out.String())
	}
	for _, w := range []string{"Host side: the netrescue package (dpkg) installed it", "Migrating from the original pve_host_monitor.sh",
		"      - @reboot /root/pve_host_monitor.sh > /dev/null 2>&1 &\n", "      - 0 0 * * * rm -f /root/pve_did_reboot_today\n",
		"--role host --router 192.168.10.1", "Done: the original pve_host_monitor.sh is migrated"} {
		if !strings.Contains(out.String(), w) {
			t.Errorf("output lacks %q:\n%s", w, out.String())
		}
	}
	if install.Exists(filepath.Join(prefix, "root/pve_host_monitor.sh")) {
		t.Errorf("/root/pve_host_monitor.sh still there")
	}
	if got := readFile(t, filepath.Join(prefix, "var/spool/cron/crontabs/root")); got != foreign {
		t.Errorf("root's crontab = %q; want only the user's line %q", got, foreign)
	}
	for _, k := range []string{"root/pve_did_reboot_today", "var/log/pve_host_monitor.log", "etc/cron.d/netrescue", "usr/bin/hostcheck"} {
		if got := readFile(t, filepath.Join(prefix, k)); got != files[k] {
			t.Errorf("/%s = %q; want it kept as %q", k, got, files[k])
		}
	}
	if install.Exists(filepath.Join(prefix, "usr/local/bin")) {
		t.Errorf("a second copy of the host side went to /usr/local/bin")
	}

	out.Reset()
	err := install.Run(context.Background(), o, env)
	if err == nil || !strings.Contains(err.Error(), "the netrescue package already installs the host side here") {
		t.Errorf("second Run = %v; want the refusal of a second copy; output:\n%s", err, out.String())
	}
}

// TestPurgeLogFile: --purge removes a symlinked LOG_FILE as a link and
// names the file it leads to, where logx writes and rotates, to remove by
// hand (a link may lead anywhere: resolving it, a purge removed a user's
// file); it said "purged … logs" of a log it left. It never removes a
// LOG_FILE that is not a regular file: LOG_FILE=/dev/null is a setting,
// and purge removed the device.
func TestPurgeLogFile(t *testing.T) {
	for _, tc := range []struct {
		name, logFile string
		setup         func(t *testing.T, prefix string) (gone, kept []string)
	}{
		{"a link to a RAM log", "/root/network_monitor.log", func(t *testing.T, prefix string) ([]string, []string) {
			writeTree(t, prefix, map[string]string{"tmp/log/network_monitor.log": "x\n", "tmp/log/network_monitor.log.1": "x\n", "tmp/log/other.txt": "x\n"}, 0o644)
			if err := os.Symlink("/tmp/log/network_monitor.log", filepath.Join(prefix, "root/network_monitor.log")); err != nil {
				t.Fatal(err)
			}
			return []string{"root/network_monitor.log"}, []string{"tmp/log/network_monitor.log", "tmp/log/network_monitor.log.1", "tmp/log/other.txt"}
		}},
		{"/dev/null", "/dev/null", func(t *testing.T, prefix string) ([]string, []string) {
			null := filepath.Join(prefix, "dev/null")
			if err := os.MkdirAll(filepath.Dir(null), 0o755); err != nil {
				t.Fatal(err)
			}
			// The device as on the machine (1, 3) where root may make one; a
			// FIFO, not a regular file either, elsewhere.
			if err := syscall.Mknod(null, syscall.S_IFCHR|0o666, 1<<8|3); err != nil {
				if err := syscall.Mkfifo(null, 0o666); err != nil {
					t.Fatal(err)
				}
			}
			return nil, []string{"dev/null"}
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			prefix := t.TempDir()
			var out bytes.Buffer
			env := strictEnv(t, filepath.Join(fakeBins(t), "netcheck"), &out)
			o := install.Options{Role: crontab.Router, Prefix: prefix}
			if err := install.Run(context.Background(), o, env); err != nil {
				t.Fatalf("install: %v\n%s", err, out.String())
			}
			if err := os.MkdirAll(filepath.Join(prefix, "root"), 0o755); err != nil {
				t.Fatal(err)
			}
			conf := filepath.Join(prefix, "etc/netrescue.conf")
			b, err := os.ReadFile(conf)
			if err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(conf, append(b, "\nLOG_FILE="+tc.logFile+"\n"...), 0o600); err != nil {
				t.Fatal(err)
			}
			gone, kept := tc.setup(t, prefix)
			out.Reset()
			o.Uninstall, o.Purge = true, true
			if err := install.Run(context.Background(), o, env); err != nil {
				t.Fatalf("purge: %v\n%s", err, out.String())
			}
			for _, f := range gone {
				if _, err := os.Lstat(filepath.Join(prefix, f)); err == nil {
					t.Errorf("/%s still there after --purge:\n%s", f, out.String())
				}
			}
			for _, f := range kept {
				if _, err := os.Lstat(filepath.Join(prefix, f)); err != nil {
					t.Errorf("--purge removed /%s: %v\n%s", f, err, out.String())
				}
			}
			if tc.logFile != "/dev/null" && !strings.Contains(out.String(), "kept /tmp/log/network_monitor.log and its .1, where the link /root/network_monitor.log leads: remove them by hand") {
				t.Errorf("--purge of a linked log does not name what it kept:\n%s", out.String())
			}
		})
	}
}

// TestPurgeRefusesConfigThatDoesNotLoad: with a config that does not load
// (a typo key), --purge cannot know where its STATE_DIR and LOG_FILE are:
// it refuses with the config's error and the fix, before it changes
// anything, rather than purge the built-in paths, delete the config and
// report the logs and state purged while the real ones stay.
func TestPurgeRefusesConfigThatDoesNotLoad(t *testing.T) {
	for _, role := range []crontab.Role{crontab.Router, crontab.Host} {
		t.Run(string(role), func(t *testing.T) {
			prefix := t.TempDir()
			bin := filepath.Join(fakeBins(t), "netcheck")
			run := func(o install.Options) (string, error) {
				var out bytes.Buffer
				o.Role, o.Prefix = role, prefix
				err := install.Run(context.Background(), o, strictEnv(t, bin, &out))
				return out.String(), err
			}
			if out, err := run(install.Options{}); err != nil {
				t.Fatalf("install = %v; output:\n%s", err, out)
			}
			conf := filepath.Join(prefix, "etc/netrescue.conf")
			content := readFile(t, conf) + "STATE_DIR=/srv/netrescue\nLOG_FILE=/srv/netrescue.log\nPROBE_TIMOUT=5s\n"
			if err := os.WriteFile(conf, []byte(content), 0o600); err != nil {
				t.Fatal(err)
			}
			line := strings.Count(content, "\n")
			// The real state and log, and files at the built-in paths.
			for _, f := range []string{"srv/netrescue/netrescue.pause", "srv/netrescue.log", "root/netrescue.pause", "var/lib/netrescue/netrescue.pause",
				"root/network_monitor.log", "var/log/pve_host_monitor.log"} {
				p := filepath.Join(prefix, f)
				if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(p, []byte("x\n"), 0o600); err != nil {
					t.Fatal(err)
				}
			}
			before := snapshot(t, prefix)
			for _, o := range []install.Options{{Uninstall: true, Purge: true}, {Uninstall: true, Purge: true, DryRun: true}} {
				out, err := run(o)
				want := fmt.Sprintf("--purge needs the config, to know where the logs and state are, and it does not load: %s:%d: PROBE_TIMOUT: ", conf, line)
				wantFix := "\n  fix: nothing was changed; fix " + conf + " and run this again, or remove the logs and state by hand and uninstall without --purge"
				var ue *cli.UsageError
				if err == nil || !strings.HasPrefix(err.Error(), want) || !strings.HasSuffix(err.Error(), wantFix) || !errors.As(err, &ue) {
					t.Errorf("Run(%+v) = %v; want the usage error %q…%q", o, err, want, wantFix)
				}
				if strings.Contains(out, "purged") || strings.Contains(out, "Done") {
					t.Errorf("Run(%+v) output tells of a purge:\n%s", o, out)
				}
				if d := diff(before, snapshot(t, prefix)); d != nil {
					t.Errorf("the refused Run(%+v) changed %q", o, d)
				}
			}
		})
	}
}

// TestRouterInExistingConfig: pairing a router at another address or port
// than the defaults, with a config already there (the package's conffile,
// every key commented out), writes OP_IP and OP_SSH_PORT into it, as into
// a fresh one, keeping every other byte, its mode and its owner: the
// pairing then reads them, as hostcheck will. A config that sets them to
// other values stops the install before anything changes, naming the
// line and both values; one that sets the same values is left alone.
func TestRouterInExistingConfig(t *testing.T) {
	requireRoot(t) // the config's group is kept
	example := config.Example(config.Host)
	tests := []struct {
		name    string
		conf    string // "" none
		o       install.Options
		want    string // the config after; "" unchanged
		wantOut []string
		wantErr string // the refusal, CONF for the config's path
	}{
		{name: "commented out: both appended", conf: example, o: install.Options{Router: "192.168.1.1", Port: 2222},
			want:    example + "\n# Set by the installer's --router.\nOP_IP=192.168.1.1\n\n# Set by the installer's --port.\nOP_SSH_PORT=2222\n",
			wantOut: []string{"    set OP_IP=192.168.1.1 and OP_SSH_PORT=2222 in CONF (it left them at their defaults)\n"}},
		{name: "no newline at the end, a key absent", conf: "SSH_TIMEOUT=20s", o: install.Options{Router: "router.lan"},
			want:    "SSH_TIMEOUT=20s\n\n# Set by the installer's --router.\nOP_IP=router.lan\n",
			wantOut: []string{"    set OP_IP=router.lan in CONF (it left it at its default)\n"}},
		{name: "the defaults: nothing to write", conf: example, o: install.Options{Router: install.DefaultRouterIP, Port: 22}},
		{name: "set to the same values", conf: "export OP_IP='192.168.1.1'\nOP_SSH_PORT=\"2222\"\n", o: install.Options{Router: "192.168.1.1", Port: 2222}},
		{name: "no --port: the port set stays", conf: "OP_SSH_PORT=2222\n", o: install.Options{Router: "192.168.1.1"},
			want: "OP_SSH_PORT=2222\n\n# Set by the installer's --router.\nOP_IP=192.168.1.1\n"},
		{name: "OP_IP set to another router", conf: example + "OP_IP=192.168.1.2\n", o: install.Options{Router: "192.168.1.1"},
			wantErr: "CONF:" + fmt.Sprint(strings.Count(example, "\n")+1) + " sets OP_IP=192.168.1.2, but --router is 192.168.1.1: hostcheck would watch another router than the one paired\n" +
				"  fix: nothing was changed; edit line " + fmt.Sprint(strings.Count(example, "\n")+1) + " of CONF to OP_IP=192.168.1.1, or pass --router 192.168.1.2"},
		{name: "the last line wins", conf: "OP_IP=192.168.1.1\n# OP_IP=192.168.1.1\nOP_IP=10.0.0.1\n", o: install.Options{Router: "192.168.1.1"},
			wantErr: "CONF:3 sets OP_IP=10.0.0.1, but --router is 192.168.1.1"},
		{name: "OP_SSH_PORT set to another port", conf: "OP_SSH_PORT=2222\n", o: install.Options{Router: "192.168.1.1", Port: 22},
			wantErr: "CONF:1 sets OP_SSH_PORT=2222, but --port is 22: hostcheck would watch another router than the one paired\n" +
				"  fix: nothing was changed; edit line 1 of CONF to OP_SSH_PORT=22, or pass --port 2222"},
		{name: "the default address set, another one paired", conf: "OP_IP=192.168.10.1\n", o: install.Options{Router: "192.168.1.1"},
			wantErr: "CONF:1 sets OP_IP=192.168.10.1, but --router is 192.168.1.1"},
		// A UTF-8 BOM (which config.Parse ignores) hid the first line's
		// key: OP_IP was appended and overrode it.
		{name: "set on a first line after a BOM", conf: "\ufeffOP_IP=10.0.0.2\nSSH_TIMEOUT=20s\n", o: install.Options{Router: "192.168.1.1"},
			wantErr: "CONF:1 sets OP_IP=10.0.0.2, but --router is 192.168.1.1"},
		// A line an earlier install wrote (a mistyped --router) is ours to
		// change: the corrected install was refused, and its fix said to
		// pass the typo.
		{name: "an earlier install's typo", conf: "SSH_TIMEOUT=20s\n\n# Set by the installer's --router.\nOP_IP=192.168.1.11\n", o: install.Options{Router: "192.168.1.1"},
			want:    "SSH_TIMEOUT=20s\n\n# Set by the installer's --router.\nOP_IP=192.168.1.1\n",
			wantOut: []string{"    set OP_IP=192.168.1.1 (was 192.168.1.11) in CONF\n"}},
		// Both at once, the port line an earlier install's: the appended
		// OP_IP was lost when the port line was replaced. Only OP_IP was
		// at its default: the output said both were.
		{name: "--router appended, our --port replaced", conf: "SSH_TIMEOUT=20s\n\n# Set by the installer's --port.\nOP_SSH_PORT=2200\n", o: install.Options{Router: "192.168.1.1", Port: 2222},
			want:    "SSH_TIMEOUT=20s\n\n# Set by the installer's --port.\nOP_SSH_PORT=2222\n\n# Set by the installer's --router.\nOP_IP=192.168.1.1\n",
			wantOut: []string{"    set OP_IP=192.168.1.1 and OP_SSH_PORT=2222 (was 2200) in CONF (it left OP_IP at its default)\n"}},
		{name: "our line replaced, a BOM kept", conf: "\ufeffSSH_TIMEOUT=20s\n\n# Set by the installer's --router.\nOP_IP=192.168.1.11\n", o: install.Options{Router: "192.168.1.1"},
			want: "\ufeffSSH_TIMEOUT=20s\n\n# Set by the installer's --router.\nOP_IP=192.168.1.1\n"},
		// --port alone names the port too (it was ignored on an existing
		// config, written into a fresh one).
		{name: "--port alone", conf: example, o: install.Options{Port: 2222},
			want: example + "\n# Set by the installer's --port.\nOP_SSH_PORT=2222\n"},
		// A config the binaries refuse: which router it names cannot be
		// told (the pairing dialled the default port beside OP_SSH_PORT=2222).
		{name: "a config that does not load", conf: "OP_SSH_PORT=2222\nBOGUS=1\n", o: install.Options{Router: "192.168.1.1"},
			wantErr: "CONF does not load, so the installer cannot tell which router it names: CONF:2: BOGUS"},
	}
	for _, pkg := range []bool{false, true} {
		for _, tt := range tests {
			if pkg && tt.o.Router == "" {
				continue // with the package, install only pairs: refused without --router
			}
			t.Run(fmt.Sprintf("%s/package %v", tt.name, pkg), func(t *testing.T) {
				prefix := t.TempDir()
				conf := filepath.Join(prefix, "etc/netrescue.conf")
				files := map[string]string{"etc/netrescue.conf": tt.conf}
				if pkg {
					files["usr/bin/hostcheck"] = "binary hostcheck\n"
					files["etc/cron.d/netrescue"] = strings.Join(crontab.PackageLines(), "\n") + "\n"
					files["var/lib/dpkg/status"] = "Package: netrescue\nStatus: install ok installed\nVersion: 1.2.3\n\n"
				}
				writeTree(t, prefix, files, 0o640)
				if err := os.Chown(conf, 0, 4); err != nil {
					t.Fatal(err)
				}
				var out bytes.Buffer
				env := strictEnv(t, filepath.Join(fakeBins(t), "hostcheck"), &out)
				deployed := ""
				env.Host.Deploy = func(_ context.Context, h install.Host) error {
					deployed = h.Cfg.OpIP + ":" + fmt.Sprint(h.Cfg.OpSSHPort)
					return nil
				}
				o := tt.o
				o.Role, o.Prefix, o.Yes = crontab.Host, prefix, true

				before := snapshot(t, prefix)
				dry := o
				dry.DryRun = true
				if err := install.Run(context.Background(), dry, env); (err != nil) != (tt.wantErr != "") {
					t.Fatalf("dry Run(%+v) = %v; output:\n%s", o, err, out.String())
				}
				if d := diff(before, snapshot(t, prefix)); d != nil {
					t.Errorf("the dry run changed %q", d)
				}
				if tt.want != "" && !strings.Contains(out.String(), "    would set ") {
					t.Errorf("the dry run does not say it would set the router in the config:\n%s", out.String())
				}

				out.Reset()
				err := install.Run(context.Background(), o, env)
				if tt.wantErr != "" {
					var ue *cli.UsageError
					if want := strings.ReplaceAll(tt.wantErr, "CONF", conf); err == nil || !strings.HasPrefix(err.Error(), want) || !errors.As(err, &ue) {
						t.Fatalf("Run(%+v) = %v; want the usage error %q", o, err, want)
					}
					if deployed != "" {
						t.Errorf("the router was contacted although the config names another")
					}
					if d := diff(before, snapshot(t, prefix)); d != nil {
						t.Errorf("the refused install changed %q", d)
					}
					return
				}
				if err != nil {
					t.Fatalf("Run(%+v) = %v; output:\n%s", o, err, out.String())
				}
				want := tt.want
				if want == "" {
					want = tt.conf
				}
				if got := readFile(t, conf); got != want {
					t.Errorf("%s = %q; want %q", conf, got, want)
				}
				fi, err := os.Stat(conf)
				if err != nil {
					t.Fatal(err)
				}
				if st := fi.Sys().(*syscall.Stat_t); fi.Mode().Perm() != 0o640 || st.Uid != 0 || st.Gid != 4 {
					t.Errorf("%s is mode %o owned by %d:%d; want them kept: 640, 0:4", conf, fi.Mode().Perm(), st.Uid, st.Gid)
				}
				for _, w := range tt.wantOut {
					if w = strings.ReplaceAll(w, "CONF", conf); !strings.Contains(out.String(), w) {
						t.Errorf("output lacks %q:\n%s", w, out.String())
					}
				}
				c, err := config.Parse(conf, want, config.Host)
				if err != nil {
					t.Fatal(err)
				}
				if wantPort := c.OpSSHPort; tt.o.Port != 0 {
					wantPort = tt.o.Port
					if c.OpSSHPort != wantPort {
						t.Errorf("the config's OP_SSH_PORT = %d; want --port %d", c.OpSSHPort, wantPort)
					}
				}
				if tt.o.Router == "" { // no pairing without --router
					if deployed != "" {
						t.Errorf("paired with %q without --router", deployed)
					}
					return
				}
				if c.OpIP != tt.o.Router {
					t.Errorf("the config's OP_IP = %s; want --router %s: hostcheck would watch another router", c.OpIP, tt.o.Router)
				}
				if wantDeployed := c.OpIP + ":" + fmt.Sprint(c.OpSSHPort); deployed != wantDeployed {
					t.Errorf("the pairing read the router %q from the config; want %q", deployed, wantDeployed)
				}
			})
		}
	}
}

func requireRoot(t *testing.T) {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("needs root")
	}
}

// TestUninstallBesidePackage: on a host where the netrescue package holds
// the host side, uninstall --router removes the router side and says that
// the host side is the package's, with the command that removes it,
// rather than "the host side is uninstalled" while the package's hostcheck
// runs on; install.sh's copy beside the package, when there is one, goes.
func TestUninstallBesidePackage(t *testing.T) {
	const pkgSide = "the host side is the netrescue package's (dpkg -r netrescue removes it)\n"
	tests := []struct {
		name    string
		router  string
		copied  bool // install.sh's binaries in /usr/local/bin too
		wantErr string
		want    string
	}{
		{name: "router, no copy", router: "192.168.1.1", want: "==> Done: the router side is removed; " + pkgSide},
		{name: "router and a copy", router: "192.168.1.1", copied: true, want: "==> Done: the router side and install.sh's copy of the host side are removed; " + pkgSide},
		{name: "a copy", copied: true, want: "==> Done: install.sh's copy of the host side is removed; " + pkgSide},
		{name: "nothing of ours", wantErr: "install.sh has no copy of it to remove\n  fix: dpkg -r netrescue"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			prefix := t.TempDir()
			pkgFiles := map[string]string{
				"usr/bin/hostcheck":      "binary hostcheck\n",
				"usr/bin/midnight-reset": "binary midnight-reset\n",
				"etc/cron.d/netrescue":   strings.Join(crontab.PackageLines(), "\n") + "\n",
				"etc/netrescue.conf":     config.Example(config.Host),
				"var/lib/dpkg/status":    "Package: netrescue\nStatus: install ok installed\nVersion: 1.2.3\n\n",
			}
			files := map[string]string{}
			for f, c := range pkgFiles {
				files[f] = c
			}
			if tt.copied {
				files["usr/local/bin/hostcheck"] = "binary hostcheck\n"
			}
			writeTree(t, prefix, files, 0o600)
			var out bytes.Buffer
			env := strictEnv(t, filepath.Join(fakeBins(t), "hostcheck"), &out)
			routerRemoved := false
			env.Host.Deploy = func(_ context.Context, h install.Host) error {
				routerRemoved = h.Opts.Uninstall && h.Opts.Router == tt.router
				return nil
			}
			o := install.Options{Role: crontab.Host, Prefix: prefix, Uninstall: true, Router: tt.router, Yes: true}
			err := install.Run(context.Background(), o, env)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Errorf("Run(%+v) = %v; want %q", o, err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("Run(%+v) = %v; output:\n%s", o, err, out.String())
			}
			if !strings.Contains(out.String(), tt.want) || strings.Contains(out.String(), "is uninstalled") {
				t.Errorf("output does not end with %q (and must not say \"uninstalled\"):\n%s", tt.want, out.String())
			}
			// --purge is refused beside the package: not the hint.
			if !strings.Contains(out.String(), "the logs and the state files (the package's: dpkg -P netrescue removes them)") || strings.Contains(out.String(), "add --purge") {
				t.Errorf("the kept files' hint is not the package's:\n%s", out.String())
			}
			if routerRemoved != (tt.router != "") {
				t.Errorf("the router side removed: %v; want %v", routerRemoved, tt.router != "")
			}
			if install.Exists(filepath.Join(prefix, "usr/local/bin/hostcheck")) {
				t.Errorf("install.sh's copy /usr/local/bin/hostcheck is still there")
			}
			for f, c := range pkgFiles {
				if got := readFile(t, filepath.Join(prefix, f)); got != c {
					t.Errorf("the package's /%s = %q; want it kept", f, got)
				}
			}
		})
	}
}

// TestExistingConfigChecks: an existing config is kept, and an install as
// root warns, with the fix, of what would make the binaries refuse it: an
// owner other than root, write access for group or others (SPEC §3:
// *_CMD runs as root). Not as root, the binaries do not check it, nor
// does the installer.
func TestExistingConfigChecks(t *testing.T) {
	requireRoot(t)
	const (
		owner    = "warning: CONF is owned by uid 1000, not root, so the binaries will refuse it\n  fix: chown root:root /etc/netrescue.conf\n"
		writable = "warning: CONF is writable by group or others, so the binaries will refuse it\n  fix: chmod go-w /etc/netrescue.conf\n"
	)
	tests := []struct {
		name string
		uid  int
		mode os.FileMode
		euid int
		want []string // the warnings
	}{
		{name: "root's, 0600", uid: 0, mode: 0o600, euid: 0},
		{name: "root's, 0644", uid: 0, mode: 0o644, euid: 0},
		{name: "a user's", uid: 1000, mode: 0o600, euid: 0, want: []string{owner}},
		{name: "group-writable", uid: 0, mode: 0o660, euid: 0, want: []string{writable}},
		{name: "world-writable and a user's", uid: 1000, mode: 0o646, euid: 0, want: []string{owner, writable}},
		{name: "not installing as root", uid: 1000, mode: 0o666, euid: 1000},
	}
	for _, role := range []crontab.Role{crontab.Router, crontab.Host} {
		for _, tt := range tests {
			t.Run(string(role)+"/"+tt.name, func(t *testing.T) {
				prefix := t.TempDir()
				conf := filepath.Join(prefix, "etc/netrescue.conf")
				const content = "SYSLOG=0\n"
				if err := os.MkdirAll(filepath.Dir(conf), 0o755); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(conf, []byte(content), 0o600); err != nil {
					t.Fatal(err)
				}
				if err := os.Chown(conf, tt.uid, 0); err != nil {
					t.Fatal(err)
				}
				if err := os.Chmod(conf, tt.mode); err != nil {
					t.Fatal(err)
				}
				var out bytes.Buffer
				env := strictEnv(t, filepath.Join(fakeBins(t), "netcheck"), &out)
				env.Euid = tt.euid
				o := install.Options{Role: role, Prefix: prefix}
				if err := install.Run(context.Background(), o, env); err != nil {
					t.Fatalf("Run(%+v) = %v; output:\n%s", o, err, out.String())
				}
				got := out.String()
				if !strings.Contains(got, "    kept your existing file\n") || readFile(t, conf) != content {
					t.Errorf("the existing config was not kept as it was; output:\n%s", got)
				}
				for _, w := range tt.want {
					if w = strings.ReplaceAll(w, "CONF", conf); !strings.Contains(got, w) {
						t.Errorf("output lacks the warning %q:\n%s", w, got)
					}
				}
				if n := strings.Count(got, "warning: "+conf); n != 2*len(tt.want) { // each warning and its line in the summary
					t.Errorf("output warns %d times of %s; want %d:\n%s", n, conf, 2*len(tt.want), got)
				}
			})
		}
	}
}

// TestRouterInLinkedConfig: a config that is a link (the loader follows
// it: a file the owner keeps elsewhere) is not edited; pairing a router at
// another address stops before any change, as a value set there does. It
// used to stop only after the binaries were installed, half done.
func TestRouterInLinkedConfig(t *testing.T) {
	prefix := t.TempDir()
	conf := filepath.Join(prefix, "etc/netrescue.conf")
	real := filepath.Join(prefix, "srv/netrescue.conf")
	for _, d := range []string{filepath.Dir(conf), filepath.Dir(real)} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.WriteFile(real, []byte("SSH_TIMEOUT=20s\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(real, conf); err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	env := strictEnv(t, filepath.Join(fakeBins(t), "hostcheck"), &out)
	env.Host.Deploy = func(context.Context, install.Host) error {
		t.Error("the router was contacted")
		return nil
	}
	before := snapshot(t, prefix)
	o := install.Options{Role: crontab.Host, Prefix: prefix, Yes: true, Router: "192.168.1.1"}
	err := install.Run(context.Background(), o, env)
	if err == nil || !strings.Contains(err.Error(), conf+" is not a regular file (a link?), so the installer does not write OP_IP=192.168.1.1 into it") ||
		!strings.Contains(err.Error(), "nothing was changed; add OP_IP=192.168.1.1 to it by hand") {
		t.Fatalf("Run = %v; want the refusal naming the link and the line to add\n%s", err, out.String())
	}
	if d := diff(before, snapshot(t, prefix)); d != nil {
		t.Errorf("the refused install changed %q", d)
	}
	// Without --router it is kept, and the link's own mode (0777) is not
	// the file's: no false warning.
	out.Reset()
	o.Router = ""
	if err := install.Run(context.Background(), o, env); err != nil {
		t.Fatalf("Run without --router = %v\n%s", err, out.String())
	}
	if !strings.Contains(out.String(), "kept your existing file") || strings.Contains(out.String(), "writable by group or others") {
		t.Errorf("a linked 0600 config: kept, no warning; got:\n%s", out.String())
	}
}

// TestDanglingLinkedConfig: a config that links to nothing gets no
// "writable by group or others" warning from the link's own 0777 mode
// (chmod cannot fix a link); the binaries say what is wrong with it.
func TestDanglingLinkedConfig(t *testing.T) {
	prefix := t.TempDir()
	conf := filepath.Join(prefix, "etc/netrescue.conf")
	if err := os.MkdirAll(filepath.Dir(conf), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(filepath.Join(prefix, "srv/gone.conf"), conf); err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	env := strictEnv(t, filepath.Join(fakeBins(t), "hostcheck"), &out)
	o := install.Options{Role: crontab.Host, Prefix: prefix, Yes: true}
	if err := install.Run(context.Background(), o, env); err != nil {
		t.Fatalf("Run = %v\n%s", err, out.String())
	}
	if !strings.Contains(out.String(), "kept your existing file") || strings.Contains(out.String(), "writable by group or others") {
		t.Errorf("a dangling linked config: kept, no chmod warning; got:\n%s", out.String())
	}
}

// TestUninstallRouterRefusesFirst: uninstall --router asks the router
// first. A router that refuses (its --purge with a config that does not
// load) used to come after this host's cron lines and binaries were
// gone: its "nothing was changed, run this again" was false, and the
// hostcheck to run it with was deleted. Now this host is left as it was.
func TestUninstallRouterRefusesFirst(t *testing.T) {
	prefix := t.TempDir()
	var out bytes.Buffer
	env := strictEnv(t, filepath.Join(fakeBins(t), "hostcheck"), &out)
	o := install.Options{Role: crontab.Host, Prefix: prefix, Yes: true}
	if err := install.Run(context.Background(), o, env); err != nil {
		t.Fatalf("install: %v\n%s", err, out.String())
	}
	refusal := errors.New("--purge needs the config to load; fix: nothing was changed (the router's)")
	env.Host.Deploy = func(_ context.Context, h install.Host) error {
		if !h.Opts.Uninstall || !h.Opts.Purge {
			t.Errorf("deploy with %+v; want the router's uninstall --purge", h.Opts)
		}
		return refusal
	}
	before := snapshot(t, prefix)
	o.Uninstall, o.Purge, o.Router = true, true, "192.168.1.1"
	if err := install.Run(context.Background(), o, env); !errors.Is(err, refusal) {
		t.Fatalf("uninstall = %v; want the router's refusal", err)
	}
	if d := diff(before, snapshot(t, prefix)); d != nil {
		t.Errorf("the host side changed before the router refused: %q", d)
	}
}

// TestPrintedCommandsQuoted: the command the installer prints to finish
// the pairing works when pasted into a shell, install.sh's path and
// --prefix holding blanks and quotes.
func TestPrintedCommandsQuoted(t *testing.T) {
	bin := fakeBins(t)
	prefix := filepath.Join(t.TempDir(), "my tree's root")
	const script = "/opt/net rescue/install.sh"
	var out bytes.Buffer
	env := strictEnv(t, filepath.Join(bin, "hostcheck"), &out)
	env.Getenv = func(k string) string { return map[string]string{install.BootstrapEnv: script}[k] }
	if err := install.Run(context.Background(), install.Options{Role: crontab.Host, Prefix: prefix, Bin: bin}, env); err != nil {
		t.Fatalf("Run = %v; output:\n%s", err, out.String())
	}
	_, cmd, ok := strings.Cut(out.String(), "to pair with the router, run: ")
	if !ok {
		t.Fatalf("no pairing command in the output:\n%s", out.String())
	}
	cmd, _, _ = strings.Cut(cmd, "\n")
	words, err := exec.Command("sh", "-c", "set -- "+cmd+"; printf '%s\\n' \"$@\"").Output()
	if err != nil {
		t.Fatalf("sh does not parse the printed command %q: %v", cmd, err)
	}
	want := strings.Join([]string{"sh", script, "--prefix", prefix, "--role", "host", "--router", install.DefaultRouterIP}, "\n") + "\n"
	if string(words) != want {
		t.Errorf("the printed command %q runs %q; want %q", cmd, words, want)
	}
}

// TestCommentedOutStaysOff: a line of ours that the user commented out
// stays commented out, run after run, and the installer says that the
// rescue is disabled in cron and how to turn it on again.
func TestCommentedOutStaysOff(t *testing.T) {
	bin := fakeBins(t)
	prefix := t.TempDir()
	cron := filepath.Join(prefix, "etc/crontabs/root")
	off := "#* * * * * /usr/bin/netcheck # netrescue"
	writeTree(t, prefix, map[string]string{"etc/crontabs/root": off + "\n0 0 * * * /usr/bin/midnight-reset # netrescue\n"}, 0o600)
	for run := 1; run <= 2; run++ {
		var out bytes.Buffer
		err := install.Run(context.Background(), install.Options{Role: crontab.Router, Prefix: prefix, Bin: bin},
			strictEnv(t, filepath.Join(bin, "netcheck"), &out))
		if err != nil {
			t.Fatalf("run %d: Run = %v; output:\n%s", run, err, out.String())
		}
		if got, want := readFile(t, cron), off+"\n0 0 * * * /usr/bin/midnight-reset # netrescue\n"; got != want {
			t.Errorf("run %d: crontab = %q; want %q (the commented-out line kept so)", run, got, want)
		}
		for _, w := range []string{"warning: the rescue is disabled in " + cron + ": kept commented out: " + off + "\n",
			"  fix: to re-enable it, remove the # at the start of that line: edit " + cron + "\n"} {
			if !strings.Contains(out.String(), w) {
				t.Errorf("run %d: output lacks %q:\n%s", run, w, out.String())
			}
		}
	}
}

// TestCommentedOutNotListed: "our lines are now:" lists the lines the
// crontab runs, not one the user keeps commented out (it listed every line
// of ours, a line not in the file among them).
func TestCommentedOutNotListed(t *testing.T) {
	bin := fakeBins(t)
	prefix := t.TempDir()
	off := "#* * * * * /usr/bin/netcheck # netrescue"
	writeTree(t, prefix, map[string]string{"etc/crontabs/root": off + "\n"}, 0o600)
	var out bytes.Buffer
	if err := install.Run(context.Background(), install.Options{Role: crontab.Router, Prefix: prefix, Bin: bin},
		strictEnv(t, filepath.Join(bin, "netcheck"), &out)); err != nil {
		t.Fatalf("Run = %v; output:\n%s", err, out.String())
	}
	_, listed, _ := strings.Cut(out.String(), "our lines are now:\n")
	listed, _, _ = strings.Cut(listed, "==>")
	if !strings.Contains(listed, "0 0 * * * /usr/bin/midnight-reset # netrescue") || strings.Contains(listed, "* * * * * /usr/bin/netcheck") {
		t.Errorf("our lines are now: %q; want midnight-reset's alone (netcheck's is kept commented out)\n%s", listed, out.String())
	}
}

// TestMixedLegacyLineKept: a cron line that resets the original script's
// mark and runs the user's own backup is kept, not taken out with the
// original scripts' lines, and the installer names the line to edit by
// hand.
func TestMixedLegacyLineKept(t *testing.T) {
	const mixed = "0 0 * * * rm -f /root/pve_did_reboot_today; /root/daily_backup.sh"
	bin := fakeBins(t)
	prefix := t.TempDir()
	cron := filepath.Join(prefix, "var/spool/cron/crontabs/root")
	writeTree(t, prefix, map[string]string{"var/spool/cron/crontabs/root": "@reboot /root/pve_host_monitor.sh &\n" + mixed + "\n",
		"root/pve_host_monitor.sh": "#!/bin/bash\n"}, 0o600)
	var out bytes.Buffer
	err := install.Run(context.Background(), install.Options{Role: crontab.Host, Prefix: prefix, Bin: bin},
		strictEnv(t, filepath.Join(bin, "hostcheck"), &out))
	if err != nil {
		t.Fatalf("Run = %v; output:\n%s", err, out.String())
	}
	if got, want := readFile(t, cron), mixed+"\n"+strings.Join(crontab.Lines(crontab.Host), "\n")+"\n"; got != want {
		t.Errorf("crontab = %q; want %q (the user's backup kept)", got, want)
	}
	for _, w := range []string{"      - @reboot /root/pve_host_monitor.sh &\n",
		"warning: kept this line of " + cron + ", which runs the original scripts beside your own commands: " + mixed + "\n",
		"  fix: edit that line by hand (edit " + cron + "): take out the original scripts' commands, keep yours\n"} {
		if !strings.Contains(out.String(), w) {
			t.Errorf("output lacks %q:\n%s", w, out.String())
		}
	}
}

// TestConfigFilesPackageWarns: install.sh on a host where the netrescue
// package is removed but not purged (dpkg's config-files state) warns
// that dpkg -P netrescue would delete the files this install uses too,
// and how to keep them; it installs the host side as usual.
func TestConfigFilesPackageWarns(t *testing.T) {
	bin := fakeBins(t)
	prefix := t.TempDir()
	writeTree(t, prefix, map[string]string{
		"var/lib/dpkg/status": "Package: cron\nStatus: install ok installed\n\nPackage: netrescue\nStatus: deinstall ok config-files\nVersion: 1.2.3\n\n",
		"etc/netrescue.conf":  config.Example(config.Host),
	}, 0o600)
	var out bytes.Buffer
	err := install.Run(context.Background(), install.Options{Role: crontab.Host, Prefix: prefix, Bin: bin},
		strictEnv(t, filepath.Join(bin, "hostcheck"), &out))
	if err != nil {
		t.Fatalf("Run = %v; output:\n%s", err, out.String())
	}
	for _, w := range []string{"warning: the netrescue package is removed but not purged (dpkg: config-files): dpkg -P netrescue would delete " +
		"/etc/netrescue.conf, /etc/netrescue/known_hosts and /var/lib/netrescue, which this install uses too\n",
		"  fix: run dpkg -P netrescue first, then this again; or back them up and restore them after the purge: " +
			"cp -a /etc/netrescue.conf /etc/netrescue /var/lib/netrescue /root/\n",
		"Done: the host side is installed in " + prefix} {
		if !strings.Contains(out.String(), w) {
			t.Errorf("output lacks %q:\n%s", w, out.String())
		}
	}
	if !install.Exists(filepath.Join(prefix, "usr/local/bin/hostcheck")) {
		t.Errorf("the host side was not installed beside the removed package")
	}
}

// TestRefusedConfigKeepsOriginal: with the original scripts there, a
// config that our binaries will refuse (a value out of range, a key of the
// other side, a mode root's runs refuse) stops the install before any
// change, saying why and that the original still runs: migrating removed
// the original, and ours refused the file every run, no rescue at all.
// Without the originals the install goes on and its last step reports the
// file, as before.
func TestRefusedConfigKeepsOriginal(t *testing.T) {
	requireRoot(t) // the mode check is root's
	const (
		routerCron = "*/5 * * * * /etc/init.d/network_monitor start\n0 3 * * * /usr/bin/backup\n"
		hostCron   = "@reboot /root/pve_host_monitor.sh > /dev/null 2>&1 &\n0 3 * * * /usr/bin/backup\n"
	)
	router := map[string]string{"etc/init.d/network_monitor": "#!/bin/sh /etc/rc.common\n", "etc/crontabs/root": routerCron}
	host := map[string]string{"root/pve_host_monitor.sh": "#!/bin/bash\n", "var/spool/cron/crontabs/root": hostCron}
	tests := []struct {
		name    string
		role    crontab.Role
		files   map[string]string
		conf    string
		mode    os.FileMode
		dry     bool
		wantErr string // "" for an install that goes on
		wantOut string
	}{
		{name: "router thresholds", role: crontab.Router, files: router, conf: "L3_THRESHOLD=10\nL2_THRESHOLD=12\n", mode: 0o600,
			wantErr: "netcheck would refuse its config, so the install stops before it removes the original: CONF:2: L2_THRESHOLD: 12 is not below L3_THRESHOLD 10; allowed: thresholds rising L1 < L2 < L3 (0 skips L1 or L2)\n"},
		{name: "router group-writable", role: crontab.Router, files: router, conf: "SYSLOG=0\n", mode: 0o660,
			wantErr: "netcheck would refuse its config, so the install stops before it removes the original: CONF: writable by group or others (mode 0660)"},
		{name: "host with a router key", role: crontab.Host, files: host, conf: "L3_THRESHOLD=10\n", mode: 0o600,
			wantErr: "hostcheck would refuse its config, so the install stops before it removes the original: CONF:1: L3_THRESHOLD: not a host key (it belongs to the router side); allowed keys: "},
		{name: "dry run", role: crontab.Router, files: router, conf: "L3_THRESHOLD=10\nL2_THRESHOLD=12\n", mode: 0o600, dry: true,
			wantErr: "dry run: a real install would stop here: netcheck would refuse its config"},
		{name: "no original: goes on", role: crontab.Router, files: map[string]string{"etc/crontabs/root": ""}, conf: "L3_THRESHOLD=10\nL2_THRESHOLD=12\n", mode: 0o600,
			wantOut: "warning: netcheck refuses CONF (the line above says why)\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			bin := fakeBins(t)
			prefix := t.TempDir()
			writeTree(t, prefix, tt.files, 0o755)
			writeTree(t, prefix, map[string]string{"etc/netrescue.conf": tt.conf}, tt.mode)
			conf := filepath.Join(prefix, "etc/netrescue.conf")
			if err := os.Chmod(conf, tt.mode); err != nil { // past the umask
				t.Fatal(err)
			}
			before := snapshot(t, prefix)
			var out bytes.Buffer
			env := strictEnv(t, filepath.Join(bin, string(tt.role)), &out)
			env.Euid = 0
			err := install.Run(context.Background(), install.Options{Role: tt.role, Prefix: prefix, Bin: bin, DryRun: tt.dry}, env)
			if tt.wantErr == "" {
				if err != nil || !strings.Contains(out.String(), strings.ReplaceAll(tt.wantOut, "CONF", conf)) {
					t.Errorf("Run = %v; want nil and %q in the output:\n%s", err, tt.wantOut, out.String())
				}
				return
			}
			var ie *install.Error
			if err == nil || !errors.As(err, &ie) || !strings.HasPrefix(err.Error(), strings.ReplaceAll(tt.wantErr, "CONF", conf)) {
				t.Fatalf("Run = %v; want the failure %q; output:\n%s", err, tt.wantErr, out.String())
			}
			orig := "network_monitor service"
			if tt.role == crontab.Host {
				orig = "pve_host_monitor.sh"
			}
			for _, w := range []string{"\n  the original " + orig + " is untouched and still runs: nothing of it was changed\n",
				"\n  fix: nothing was changed; fix " + conf + " (the first line says what is wrong), then run "} {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("Run = %q; want it to say %q", err, w)
				}
			}
			if d := diff(before, snapshot(t, prefix)); len(d) > 0 {
				t.Errorf("the refused install changed %q", d)
			}
		})
	}
}

// TestDisabledKeepsOriginal: over our main line commented out (the rescue
// off in cron), the install does not migrate: the original's files and
// cron lines stay, and the output says that it still runs and how to move
// to ours. The migration used to remove the original all the same, and
// nothing ran at all. A line of ours other than the main one commented
// out does not stop the migration.
func TestDisabledKeepsOriginal(t *testing.T) {
	const (
		routerOrig = "*/5 * * * * /etc/init.d/network_monitor start\n"
		hostOrig   = "@reboot /root/pve_host_monitor.sh > /dev/null 2>&1 &\n"
	)
	r2 := crontab.Lines(crontab.Router)[1] + "\n"
	h2, h3 := crontab.Lines(crontab.Host)[1]+"\n", crontab.Lines(crontab.Host)[2]+"\n"
	tests := []struct {
		name     string
		role     crontab.Role
		cron     string
		wantCron string // "" for a migration
	}{
		{name: "router", role: crontab.Router, cron: routerOrig + "#* * * * * /usr/bin/netcheck # netrescue\n",
			wantCron: routerOrig + "#* * * * * /usr/bin/netcheck # netrescue\n" + r2},
		{name: "router, commented out with a flag", role: crontab.Router, cron: "# * * * * * /usr/bin/netcheck -v # netrescue\n" + r2 + routerOrig,
			wantCron: "# * * * * * /usr/bin/netcheck -v # netrescue\n" + r2 + routerOrig},
		{name: "host", role: crontab.Host, cron: hostOrig + "#*/5 * * * * /usr/local/bin/hostcheck # netrescue\n" + h2 + h3,
			wantCron: hostOrig + "#*/5 * * * * /usr/local/bin/hostcheck # netrescue\n" + h2 + h3},
		{name: "host, its boot line commented out: migrated", role: crontab.Host, cron: hostOrig + "#" + h2},
		// Ours commented out and a copy without the marker runs in its
		// place: the rescue is on, and the original beside it would be a
		// second rescue acting on every outage.
		{name: "router, an unmarked copy runs it: migrated", role: crontab.Router,
			cron: routerOrig + "#* * * * * /usr/bin/netcheck # netrescue\n* * * * * /usr/bin/netcheck >/dev/null 2>&1\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			bin := fakeBins(t)
			prefix := t.TempDir()
			cron, script, orig := filepath.Join(prefix, "etc/crontabs/root"), "etc/init.d/network_monitor", "network_monitor service"
			if tt.role == crontab.Host {
				cron, script, orig = filepath.Join(prefix, "var/spool/cron/crontabs/root"), "root/pve_host_monitor.sh", "pve_host_monitor.sh"
			}
			writeTree(t, prefix, map[string]string{script: "#!/bin/sh\n"}, 0o755)
			writeTree(t, prefix, map[string]string{strings.TrimPrefix(cron, prefix+"/"): tt.cron}, 0o600)
			var out bytes.Buffer
			err := install.Run(context.Background(), install.Options{Role: tt.role, Prefix: prefix, Bin: bin},
				strictEnv(t, filepath.Join(bin, string(tt.role)), &out))
			if err != nil {
				t.Fatalf("Run = %v; output:\n%s", err, out.String())
			}
			kept := "warning: kept the original " + orig + " and its cron lines: it still runs, since our " +
				map[crontab.Role]string{crontab.Router: "netcheck", crontab.Host: "hostcheck"}[tt.role] +
				" line is commented out (the rescue is off in cron)\n  fix: to move to ours, remove the # at the start of that line (edit " + cron + ") and run "
			if tt.wantCron == "" {
				if install.Exists(filepath.Join(prefix, script)) || strings.Contains(out.String(), kept) {
					t.Errorf("the original was kept with only a line other than the main one commented out; output:\n%s", out.String())
				}
				return
			}
			if got := readFile(t, cron); got != tt.wantCron {
				t.Errorf("crontab = %q; want %q (the original's line kept)", got, tt.wantCron)
			}
			if !install.Exists(filepath.Join(prefix, script)) {
				t.Errorf("the install removed %s over our commented-out line", script)
			}
			if !strings.Contains(out.String(), kept) || strings.Contains(out.String(), "Migrating") {
				t.Errorf("output lacks %q, or migrates:\n%s", kept, out.String())
			}
		})
	}
}

// TestEditedLineKept: a line of ours the user edited stays as it is, run
// after run, and the installer says so; "our lines are now:" lists what
// the crontab runs. It used to be replaced by the stock line.
func TestEditedLineKept(t *testing.T) {
	const wan2 = "* * * * * /usr/bin/netcheck -config /etc/netrescue-wan2.conf # netrescue"
	bin := fakeBins(t)
	prefix := t.TempDir()
	cron := filepath.Join(prefix, "etc/crontabs/root")
	writeTree(t, prefix, map[string]string{"etc/crontabs/root": wan2 + "\n"}, 0o600)
	want := wan2 + "\n" + crontab.Lines(crontab.Router)[1] + "\n"
	for run := 1; run <= 2; run++ {
		var out bytes.Buffer
		if err := install.Run(context.Background(), install.Options{Role: crontab.Router, Prefix: prefix, Bin: bin},
			strictEnv(t, filepath.Join(bin, "netcheck"), &out)); err != nil {
			t.Fatalf("run %d: Run = %v; output:\n%s", run, err, out.String())
		}
		if got := readFile(t, cron); got != want {
			t.Errorf("run %d: crontab = %q; want %q (the edited line kept)", run, got, want)
		}
		w := []string{"    kept your edited line of ours: " + wan2 + "\n"}
		if run == 1 {
			w = append(w, "    our lines are now:\n      "+wan2+"\n      "+crontab.Lines(crontab.Router)[1]+"\n")
		}
		for _, w := range w {
			if !strings.Contains(out.String(), w) {
				t.Errorf("run %d: output lacks %q:\n%s", run, w, out.String())
			}
		}
	}
}

// TestOwnCopyReplaced: the owner's own copy of our line that only
// redirects its output ("* * * * * /usr/bin/netcheck >/dev/null 2>&1")
// is replaced by ours, as an exact copy is: it ran beside ours, netcheck
// twice a minute, the ladder climbed twice as fast, with status ✓. The
// owner's other jobs of netcheck (-dry-run into a file, hourly, chained
// with another command) are no copies: kept, ours added. Uninstall leaves
// them, and nothing else of the owner's.
func TestOwnCopyReplaced(t *testing.T) {
	const other = "0 3 * * * /sbin/reboot\n"
	r1, r2 := crontab.Lines(crontab.Router)[0]+"\n", crontab.Lines(crontab.Router)[1]+"\n"
	for _, c := range []struct{ name, line, want string }{
		{"redirected", "* * * * * /usr/bin/netcheck >/dev/null 2>&1\n", other + r1 + r2},
		{"a trial run", "* * * * * /usr/bin/netcheck -dry-run >>/tmp/trial.log 2>&1\n", other + "* * * * * /usr/bin/netcheck -dry-run >>/tmp/trial.log 2>&1\n" + r1 + r2},
		{"hourly", "0 * * * * /usr/bin/netcheck >/dev/null\n", other + "0 * * * * /usr/bin/netcheck >/dev/null\n" + r1 + r2},
		{"chained", "* * * * * /usr/bin/netcheck >/dev/null 2>&1; /root/sync-leases.sh\n", other + "* * * * * /usr/bin/netcheck >/dev/null 2>&1; /root/sync-leases.sh\n" + r1 + r2},
	} {
		t.Run(c.name, func(t *testing.T) {
			bin := fakeBins(t)
			prefix := t.TempDir()
			cron := filepath.Join(prefix, "etc/crontabs/root")
			writeTree(t, prefix, map[string]string{"etc/crontabs/root": other + c.line}, 0o600)
			for run := 1; run <= 2; run++ {
				var out bytes.Buffer
				if err := install.Run(context.Background(), install.Options{Role: crontab.Router, Prefix: prefix, Bin: bin},
					strictEnv(t, filepath.Join(bin, "netcheck"), &out)); err != nil {
					t.Fatalf("run %d: Run = %v; output:\n%s", run, err, out.String())
				}
				if got := readFile(t, cron); got != c.want {
					t.Errorf("run %d: crontab = %q; want %q", run, got, c.want)
				}
			}
			var out bytes.Buffer
			if err := install.Run(context.Background(), install.Options{Role: crontab.Router, Prefix: prefix, Bin: bin, Uninstall: true},
				strictEnv(t, filepath.Join(bin, "netcheck"), &out)); err != nil {
				t.Fatalf("uninstall: %v; output:\n%s", err, out.String())
			}
			if got, want := readFile(t, cron), strings.TrimSuffix(c.want, r1+r2); got != want {
				t.Errorf("after uninstall: crontab = %q; want %q (the owner's lines only)", got, want)
			}
		})
	}
}

// TestPurgeSharedRunDir: with RUN_DIR a directory others may write
// (RUN_DIR=/tmp, mode 1777), the runs keep their files in its private
// subdirectory netrescue (cli.RunDir), which purge removes whole. Files
// in /tmp itself with the names of ours (another tool's heartbeat,
// netcheck.state) are not ours: they stay.
func TestPurgeSharedRunDir(t *testing.T) {
	for _, tc := range []struct {
		name  string
		role  crontab.Role
		files []string // under PREFIX/tmp
		keep  []string
	}{
		{name: "host", role: crontab.Host,
			files: []string{"netrescue/heartbeat", "netrescue/hostcheck.lock", "heartbeat", "notify.sent", "hostcheck.lock", "netrescue-dry-run/x"},
			keep:  []string{"heartbeat", "notify.sent", "hostcheck.lock", "netrescue-dry-run/x"}},
		{name: "router", role: crontab.Router,
			files: []string{"netrescue/netcheck.state", "netrescue/netcheck.lock", "netcheck.state", "netcheck.lock"},
			keep:  []string{"netcheck.state", "netcheck.lock"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			prefix := t.TempDir()
			var out bytes.Buffer
			env := strictEnv(t, filepath.Join(fakeBins(t), map[crontab.Role]string{crontab.Router: "netcheck", crontab.Host: "hostcheck"}[tc.role]), &out)
			o := install.Options{Role: tc.role, Prefix: prefix, Yes: true}
			if err := install.Run(context.Background(), o, env); err != nil {
				t.Fatalf("install: %v\n%s", err, out.String())
			}
			conf := filepath.Join(prefix, "etc/netrescue.conf")
			if err := os.WriteFile(conf, []byte(readFile(t, conf)+"\nRUN_DIR=/tmp\n"), 0o600); err != nil {
				t.Fatal(err)
			}
			tmp := filepath.Join(prefix, "tmp")
			if err := os.MkdirAll(tmp, 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.Chmod(tmp, 0o1777); err != nil {
				t.Fatal(err)
			}
			files := map[string]string{}
			for _, f := range tc.files {
				files["tmp/"+f] = "x\n"
			}
			writeTree(t, prefix, files, 0o600)
			o.Uninstall, o.Purge = true, true
			if err := install.Run(context.Background(), o, env); err != nil {
				t.Fatalf("purge: %v\n%s", err, out.String())
			}
			for _, f := range tc.files {
				want := slices.Contains(tc.keep, f)
				if got := install.Exists(filepath.Join(tmp, f)); got != want {
					t.Errorf("purge with RUN_DIR=/tmp: /tmp/%s there %v, want %v", f, got, want)
				}
			}
		})
	}
}

// purgeHost installs the host side into a new prefix, appends conf to its
// config, writes files under it (and calls setup, when not nil, with the
// prefix), then runs uninstall --purge: the prefix, purge's output and
// its error.
func purgeHost(t *testing.T, conf string, files map[string]string, setup func(prefix string)) (prefix, output string, err error) {
	t.Helper()
	prefix = t.TempDir()
	var out bytes.Buffer
	env := strictEnv(t, filepath.Join(fakeBins(t), "hostcheck"), &out)
	o := install.Options{Role: crontab.Host, Prefix: prefix, Yes: true}
	if err := install.Run(context.Background(), o, env); err != nil {
		t.Fatalf("install: %v\n%s", err, out.String())
	}
	path := filepath.Join(prefix, "etc/netrescue.conf")
	if err := os.WriteFile(path, []byte(readFile(t, path)+"\n"+conf), 0o600); err != nil {
		t.Fatal(err)
	}
	writeTree(t, prefix, files, 0o600)
	if setup != nil {
		setup(prefix)
	}
	o.Uninstall, o.Purge = true, true
	out.Reset()
	err = install.Run(context.Background(), o, env)
	return prefix, out.String(), err
}

// TestPurgeKnownHostsShared: KNOWN_HOSTS may be the owner's own file
// (/root/.ssh/known_hosts), or, at its default /etc/netrescue/known_hosts,
// a link the owner made to it, through which pin writes (remote.Pin,
// writePath). Pin keeps every other line of it byte for byte, so purge
// removes our router's pin from it (and the link), never the file with the
// owner's other pins: it removed that file whole, and of a link, the link
// alone, the pin left in their file for good.
func TestPurgeKnownHostsShared(t *testing.T) {
	const theirs = "github.com ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl\n"
	const ours = "192.168.10.1 ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl\n"
	for _, tc := range []struct {
		name, conf string
		link       bool // /etc/netrescue/known_hosts a link to /root/.ssh/known_hosts
	}{
		{name: "KNOWN_HOSTS=/root/.ssh/known_hosts", conf: "OP_IP=192.168.10.1\nKNOWN_HOSTS=/root/.ssh/known_hosts\n"},
		{name: "KNOWN_HOSTS a link to it", conf: "OP_IP=192.168.10.1\n", link: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var link string
			prefix, out, err := purgeHost(t, tc.conf, map[string]string{"root/.ssh/known_hosts": theirs + ours}, func(prefix string) {
				if !tc.link {
					return
				}
				link = filepath.Join(prefix, "etc/netrescue/known_hosts")
				if err := os.MkdirAll(filepath.Dir(link), 0o755); err != nil {
					t.Fatal(err)
				}
				_ = os.Remove(link)
				if err := os.Symlink("../../root/.ssh/known_hosts", link); err != nil {
					t.Fatal(err)
				}
			})
			if err != nil {
				t.Fatalf("purge: %v\n%s", err, out)
			}
			b, err := os.ReadFile(filepath.Join(prefix, "root/.ssh/known_hosts"))
			if err != nil || string(b) != theirs {
				t.Errorf("purge: /root/.ssh/known_hosts is %q (%v); want the owner's line kept, the router's pin gone: %q\n%s", b, err, theirs, out)
			}
			if _, err := os.Lstat(link); link != "" && err == nil {
				t.Errorf("purge kept the link %s", link)
			}
		})
	}
}

// TestPurgeDirectoryAtOurName: PVE_MARK or KNOWN_HOSTS naming a directory
// (PVE_MARK=/root, KNOWN_HOSTS=/root/.ssh by mistake; status names the
// first as such) is not ours to remove or take a pin from: purge keeps it
// and what it holds, says so, and purges the rest. It stopped at "cannot
// remove PREFIX/root: directory not empty" or "cannot remove the pin of
// 192.168.10.1:22 from …/root/.ssh: … directory", config and state left
// (an empty directory at PVE_MARK went).
func TestPurgeDirectoryAtOurName(t *testing.T) {
	for _, tc := range []struct{ conf, owners string }{
		{"PVE_MARK=/root\n", "root/notes.txt"},
		{"KNOWN_HOSTS=/root/.ssh\n", "root/.ssh/authorized_keys"},
	} {
		prefix, out, err := purgeHost(t, tc.conf, map[string]string{tc.owners: "mine\n", "var/lib/netrescue/hostcheck.state": "x\n"}, nil)
		there := func(p string) bool { return install.Exists(filepath.Join(prefix, p)) }
		if err != nil || !there(tc.owners) || there("var/lib/netrescue") || there("etc/netrescue.conf") {
			t.Errorf("purge with %s: %v; %s there %v (want true), /var/lib/netrescue there %v, the config there %v (want false)\n%s",
				strings.TrimSpace(tc.conf), err, tc.owners, there(tc.owners), there("var/lib/netrescue"), there("etc/netrescue.conf"), out)
		}
	}
}
