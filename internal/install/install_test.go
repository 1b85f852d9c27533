package install

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/crypto/ssh"

	"github.com/pve-op/network-rescue/crontab"
	"github.com/pve-op/network-rescue/internal/cli"
	"github.com/pve-op/network-rescue/internal/config"
)

func TestParseArgs(t *testing.T) {
	env := map[string]string{"NETRESCUE_ROUTER_PREFIX": "/rp", "NETRESCUE_SSH_PORT": "2222"}
	getenv := func(k string) string { return env[k] }
	tests := []struct {
		name    string
		args    []string
		uninst  bool
		want    Options
		wantErr string
	}{
		{name: "defaults from the environment", args: nil,
			want: Options{RouterPrefix: "/rp", Port: 2222}},
		{name: "double dash, equals and short forms", args: []string{"--role=host", "-y", "-n", "--prefix", "/p", "--router", "10.0.0.1"},
			want: Options{Role: crontab.Host, Yes: true, DryRun: true, Prefix: "/p", Router: "10.0.0.1", RouterPrefix: "/rp", Port: 2222}},
		{name: "uninstall subcommand with purge", args: []string{"--purge"}, uninst: true,
			want: Options{Uninstall: true, Purge: true, RouterPrefix: "/rp", Port: 2222}},
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
			got, err := ParseArgs("netcheck", tt.args, tt.uninst, &out, getenv)
			if tt.wantErr != "" {
				var ue *cli.UsageError
				if err == nil || err.Error() != tt.wantErr || !errors.As(err, &ue) {
					t.Fatalf("ParseArgs(%q) = %v; want the usage error %q", tt.args, err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("ParseArgs(%q) = %v", tt.args, err)
			}
			if got != tt.want {
				t.Errorf("ParseArgs(%q) = %+v; want %+v", tt.args, got, tt.want)
			}
		})
	}
	var out bytes.Buffer
	if _, err := ParseArgs("hostcheck", []string{"-h"}, false, &out, getenv); !errors.Is(err, flag.ErrHelp) ||
		!strings.Contains(out.String(), "usage: hostcheck install [flags]") {
		t.Errorf("ParseArgs(-h) = %v, printed %q; want flag.ErrHelp and the usage", err, out.String())
	}
}

// strictEnv is the environment of an install under --prefix: any command,
// process list, signal or PATH lookup (everything outside the tree) fails
// the test.
func strictEnv(t *testing.T, exe string, out *bytes.Buffer) Env {
	return Env{
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
		Procs: func() ([]Proc, error) {
			t.Errorf("under --prefix the installer listed the processes")
			return nil, nil
		},
		Kill:         func(pid int) error { t.Errorf("killed %d", pid); return nil },
		Hostname:     func() (string, error) { return "pve1", nil },
		Terminal:     func() bool { return false },
		ReadPassword: func() ([]byte, error) { return nil, errors.New("no terminal") },
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
			run := func(o Options) string {
				t.Helper()
				var out bytes.Buffer
				o.Role, o.Prefix = role, prefix
				if err := Run(context.Background(), o, strictEnv(t, filepath.Join(bin, "netcheck"), &out)); err != nil {
					t.Fatalf("Run(%+v) = %v; output:\n%s", o, err, out.String())
				}
				return out.String()
			}
			out := run(Options{})
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
			out = run(Options{})
			if d := diff(before, snapshot(t, prefix)); d != nil {
				t.Errorf("second run changed %q", d)
			}
			for _, w := range []string{"is up to date", "kept your existing file", "already in place, nothing to change", "config accepted by"} {
				if !strings.Contains(out, w) {
					t.Errorf("second run does not say %q:\n%s", w, out)
				}
			}
			for _, o := range []Options{{DryRun: true}, {DryRun: true, Uninstall: true}, {DryRun: true, Uninstall: true, Purge: true}} {
				out = run(o)
				if d := diff(before, snapshot(t, prefix)); d != nil {
					t.Errorf("Run(%+v) changed %q", o, d)
				}
				if !strings.Contains(out, "dry run: nothing was changed") {
					t.Errorf("Run(%+v) does not say it changed nothing:\n%s", o, out)
				}
			}

			run(Options{Uninstall: true})
			if got := readFile(t, cron); got != foreign {
				t.Errorf("crontab after uninstall = %q; want %q", got, foreign)
			}
			if !exists(conf) {
				t.Errorf("uninstall removed %s; want it kept", conf)
			}
			run(Options{Uninstall: true, Purge: true})
			if exists(conf) {
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
	err := Run(context.Background(), Options{Role: crontab.Host, Prefix: prefix, DryRun: true}, strictEnv(t, filepath.Join(fakeBins(t), "hostcheck"), &out))
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
	if exists(prefix) {
		t.Errorf("dry run created %s", prefix)
	}
}

// TestErrors: what a person sees when the install cannot go on.
func TestErrors(t *testing.T) {
	empty := t.TempDir()
	tests := []struct {
		name  string
		o     Options
		euid  int
		want  string
		usage bool
	}{
		{"no role", Options{Prefix: "/nonexistent-tree"}, 0,
			"cannot tell which side this machine is: there is no /nonexistent-tree/etc/openwrt_release (OpenWrt) and no pveversion command (Proxmox VE)\n  fix: pass --role router on the OpenWrt router or --role host on the Proxmox host", true},
		{"not root", Options{Role: crontab.Router}, 1000,
			"installing into / needs root\n  fix: run it as root (sudo sh install.sh ...), or pass --prefix DIR", false},
		{"no binaries", Options{Role: crontab.Host, Prefix: t.TempDir(), Bin: empty}, 0,
			empty + " does not hold hostcheck midnight-reset (for linux-" + SelfArch() + ")\n  fix: build them (make dist) and pass the directory holding them: --bin dist/linux-" + SelfArch(), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out bytes.Buffer
			env := strictEnv(t, "/nonexistent/netcheck", &out)
			env.Euid = tt.euid
			err := Run(context.Background(), tt.o, env)
			var ue *cli.UsageError
			if err == nil || err.Error() != tt.want || errors.As(err, &ue) != tt.usage {
				t.Errorf("Run(%+v) = %v; want %q (usage error: %v)", tt.o, err, tt.want, tt.usage)
			}
		})
	}
}

// TestKeyReadByOpenSSH: ssh-keygen reads the key the installer makes and
// derives the same public key from it.
func TestKeyReadByOpenSSH(t *testing.T) {
	kg, err := exec.LookPath("ssh-keygen")
	if err != nil {
		t.Skip("skipping: ssh-keygen is not installed (apt-get install openssh-client)")
	}
	priv, pub, err := newKey("netrescue@test")
	if err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(t.TempDir(), "id_ed25519")
	if err := os.WriteFile(p, priv, 0o600); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(kg, "-y", "-f", p).CombinedOutput()
	if err != nil {
		t.Fatalf("ssh-keygen -y: %v\n%s", err, out)
	}
	if string(out) != string(pub) {
		t.Errorf("ssh-keygen -y = %q; want the installer's public line %q", out, pub)
	}
}

func TestArchName(t *testing.T) {
	for _, tt := range []struct{ goarch, goarm, want string }{
		{"amd64", "", "amd64"}, {"arm64", "", "arm64"}, {"arm", "7", "armv7"}, {"arm", "", "armv7"},
		{"arm", "5", "armv5"}, {"arm", "6", "armv5"}, {"arm", "7,softfloat", "armv7"}, {"mipsle", "", "mipsle"}, {"mips", "", "mips"},
	} {
		if got := archName(tt.goarch, tt.goarm); got != tt.want {
			t.Errorf("archName(%q, %q) = %q; want %q", tt.goarch, tt.goarm, got, tt.want)
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
