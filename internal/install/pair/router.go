package pair

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"golang.org/x/crypto/ssh/knownhosts"

	"github.com/pve-op/network-rescue/internal/install"
	"github.com/pve-op/network-rescue/internal/remote"
)

// Bounds of the router deploy: sending the binary (a few MiB over the
// LAN), and the router side's own install, which ends with its status
// checklist (install.StatusTimeout) after a cron restart.
const (
	copyTimeout          = 5 * time.Minute
	routerInstallTimeout = install.StatusTimeout + 3*install.CommandTimeout
)

// routerSSH is how the host reaches the router: the config's user, key and
// known_hosts (in the tree), --router and --port.
type routerSSH struct {
	addr    string // host:port
	pattern string // how known_hosts names it: IP, or [IP]:PORT
	kh      string
	key     string
	prefix  string // --router-prefix, "" for /
}

func (in *pairer) routerSSH() routerSSH {
	port := in.Opts.Port
	if port == 0 {
		port = in.Cfg.OpSSHPort
	}
	addr := net.JoinHostPort(in.Opts.Router, strconv.Itoa(port))
	return routerSSH{addr: addr, pattern: knownhosts.Normalize(addr), kh: in.Path(in.Cfg.KnownHosts),
		key: in.keyFile(), prefix: strings.TrimRight(in.Opts.RouterPrefix, "/")}
}

// remote is the SSH client with our key and, when set, the one-time
// password prompt.
func (in *pairer) remote(r routerSSH, password func() (string, error)) remote.Config {
	return remote.Config{Addr: r.addr, User: in.Cfg.OpSSHUser, KeyFiles: []string{r.key},
		KnownHosts: r.kh, Timeout: in.Cfg.SSHTimeout, Password: password}
}

// deployRouter sets up the router from the host (--router): pins its
// host key, installs this host's key on it (one password prompt), sends
// netcheck for its architecture and runs its `netcheck install` there; or,
// uninstalling, runs its `netcheck uninstall`.
func (in *pairer) deployRouter(ctx context.Context) error {
	r := in.routerSSH()
	bin := r.prefix + "/usr/bin"
	routerArgs := " --role router"
	if r.prefix != "" {
		routerArgs += " --prefix " + install.ShellQuote(r.prefix)
	}
	if err := in.pinRouter(ctx, r); err != nil {
		return err
	}
	if in.Opts.Uninstall {
		if in.Opts.Purge {
			routerArgs += " --purge"
		}
		if in.Opts.DryRun {
			in.UI.Info("would run netcheck uninstall%s on %s over SSH", routerArgs, in.Opts.Router)
			return nil
		}
		nc := install.ShellQuote(bin + "/netcheck")
		cmd := fmt.Sprintf("if [ -x %s ]; then exec %s uninstall%s; else echo 'no %s/netcheck on the router: nothing to uninstall there'; fi", nc, nc, routerArgs, bin)
		if err := in.routerRun(ctx, r, "netcheck uninstall"+routerArgs, cmd); err != nil {
			return err
		}
		in.UI.Note("uninstalled the router side on %s", in.Opts.Router)
		return nil
	}
	if in.Opts.DryRun {
		in.UI.Info("would install this host's key on %s over SSH (one password prompt) and read its architecture", in.Opts.Router)
		in.UI.Info("would copy netcheck to %s on %s and run netcheck install%s there (it links midnight-reset to netcheck)", bin, in.Opts.Router, routerArgs)
		return nil
	}
	if err := in.authorizeKey(ctx, r); err != nil {
		return err
	}
	arch, err := in.routerArch(ctx, r)
	if err != nil {
		return err
	}
	in.UI.Info("router architecture: linux-%s", arch)
	src, cleanup, err := in.routerBinary(ctx, arch)
	defer cleanup()
	if err != nil {
		if !in.Pkg {
			return err
		}
		// The package carries the host side only: without the router's
		// binary at hand, pairing is all this run does.
		in.UI.Warn(fmt.Sprintf("the router side was not installed on %s: %v", in.Opts.Router, err),
			fmt.Sprintf("install it on the router from netrescue-VERSION-linux-%s.tar.gz (unpack it there and run sh install.sh), or run this again with --router-bin DIR (that archive unpacked here)", arch))
		in.UI.Note("paired with the router %s (host key pinned, this host's key installed)", in.Opts.Router)
		return nil
	}
	in.UI.Say("Router binary to %s:%s (from %s)", in.Opts.Router, bin, src)
	if err := in.sendBinary(ctx, r, filepath.Join(src, "netcheck"), bin); err != nil {
		return err
	}
	// The router side's own summary, shown above, lists its changes.
	return in.routerRun(ctx, r, "netcheck install"+routerArgs, install.ShellQuote(bin+"/netcheck")+" install"+routerArgs)
}

// pinRouter reads the router's host key, shows its fingerprint and pins
// it into KNOWN_HOSTS after a yes (or --yes), with the code of `hostcheck
// pin` (remote.FetchHostKey, remote.Pin); nothing to ask when that key is
// pinned already.
func (in *pairer) pinRouter(ctx context.Context, r routerSSH) error {
	in.UI.Say("Router host key for %s, pinned in %s", r.pattern, r.kh)
	if in.Opts.DryRun {
		in.UI.Info("would read the host key of %s over SSH, show its fingerprint and pin it", r.addr)
		return nil
	}
	key, err := remote.FetchHostKey(ctx, r.addr, in.Cfg.SSHTimeout)
	if err != nil {
		return install.Fail(fmt.Sprintf("cannot read the SSH host key of %s: %v", r.addr, err),
			fmt.Sprintf("check that the router is on and that %s is its LAN address (ping %s), and that Dropbear listens on port %s (on the router: uci show dropbear)",
				in.Opts.Router, in.Opts.Router, r.addr[strings.LastIndex(r.addr, ":")+1:]))
	}
	fp := key.Type() + " " + remote.Fingerprint(key)
	in.UI.Info("the router presents: %s", fp)
	pinned, err := remote.PinnedKeys(r.kh, r.addr)
	if err != nil {
		return install.Fail(fmt.Sprintf("cannot read %s: %v", r.kh, err), "fix or remove the file, then run this again")
	}
	for _, k := range pinned {
		if bytes.Equal(k.Marshal(), key.Marshal()) {
			in.UI.Info("already pinned")
			return nil
		}
	}
	if len(pinned) > 0 {
		in.UI.Warn(fmt.Sprintf("the router's host key changed since it was pinned in %s (was the router reinstalled?)", r.kh),
			"if you did not reinstall or reset the router, stop and find out why before answering yes")
	}
	if !in.Opts.Yes {
		if err := in.askPin(remote.CheckKeyCommand(key)); err != nil {
			return err
		}
	}
	if err := remote.Pin(r.kh, r.addr, key); err != nil {
		return install.Fail(fmt.Sprintf("cannot pin the router's host key: %v", err), "check that "+filepath.Dir(r.kh)+" is writable")
	}
	in.UI.Info("pinned")
	in.UI.Note("pinned the router's host key (%s) in %s", fp, r.kh)
	return nil
}

// askPin asks the person whether the fingerprint shown is their router's,
// which check prints on the router.
func (in *pairer) askPin(check string) error {
	if !in.Env.Terminal() {
		return install.Fail("cannot ask whether to trust the router's host key: no terminal",
			"compare the fingerprint above with the router's (on the router: "+check+") and re-run with --yes")
	}
	fmt.Fprintf(in.Env.Stdout, "Is this your router's key? Compare it on the router with\n  %s\nPin it? [y/N] ", check)
	line, _ := bufio.NewReader(in.Env.Stdin).ReadString('\n')
	switch strings.TrimSpace(line) {
	case "y", "Y", "yes", "Yes", "YES":
		return nil
	}
	return install.Fail("the router's host key was not accepted; nothing was changed on the router",
		"check the fingerprint on the router, then run this again")
}

// authorizeScript appends the public key in $k to the router's
// authorized_keys once: Dropbear's /etc/dropbear/authorized_keys on
// OpenWrt, else ~/.ssh/authorized_keys. It prints key=added FILE or
// key=present FILE.
const authorizeScript = `set -f
set -- $k
if [ -d /etc/dropbear ]; then
	f=/etc/dropbear/authorized_keys
else
	mkdir -p "$HOME/.ssh" && chmod 700 "$HOME/.ssh" || exit 1
	f=$HOME/.ssh/authorized_keys
fi
if grep -qF "$1 $2" "$f" 2>/dev/null; then
	echo "key=present $f"
else
	if [ -s "$f" ] && [ -n "$(tail -c 1 "$f")" ]; then echo >>"$f"; fi
	printf '%s\n' "$k" >>"$f" && chmod 600 "$f" && echo "key=added $f" || exit 1
fi`

// authorizeKey puts this host's public key into the router's
// authorized_keys. It logs in with our key when the router takes it
// already, else with --identity, else with the root password, asked once.
func (in *pairer) authorizeKey(ctx context.Context, r routerSSH) error {
	in.UI.Say("This host's key on the router (asks for the router's root password once, if the key is not there yet)")
	pub, err := os.ReadFile(r.key + ".pub")
	if err != nil {
		return install.Fail(fmt.Sprintf("%s.pub is missing", r.key), fmt.Sprintf("recreate it: ssh-keygen -y -f %s > %s.pub", in.Bare(r.key), in.Bare(r.key)))
	}
	line := strings.TrimSpace(strings.SplitN(string(pub), "\n", 2)[0])
	cmd := "k=" + install.ShellQuote(line) + "\n" + authorizeScript
	out, err := in.remote(r, nil).Run(ctx, cmd)
	if remote.KindOf(err) == remote.Auth && in.Opts.Identity != "" {
		c := in.remote(r, nil)
		c.KeyFiles = []string{in.Opts.Identity}
		out, err = c.Run(ctx, cmd)
	}
	if remote.KindOf(err) == remote.Auth {
		if !in.Env.Terminal() {
			return install.Fail(fmt.Sprintf("cannot log in to %s@%s to install this host's key, and there is no terminal to ask for the password: %v", in.Cfg.OpSSHUser, r.addr, err),
				fmt.Sprintf("run this again on a terminal, or add the key by hand: cat %s.pub | ssh %s@%s 'cat >> /etc/dropbear/authorized_keys'", in.Bare(r.key), in.Cfg.OpSSHUser, in.Opts.Router))
		}
		out, err = in.remote(r, in.askPassword(r)).Run(ctx, cmd)
	}
	if err != nil {
		return install.Fail(fmt.Sprintf("cannot log in to %s@%s to install this host's key: %v", in.Cfg.OpSSHUser, r.addr, err),
			fmt.Sprintf("check the router's root password (set one on the router with: passwd), or add the key by hand: cat %s.pub | ssh %s@%s 'cat >> /etc/dropbear/authorized_keys'", in.Bare(r.key), in.Cfg.OpSSHUser, in.Opts.Router))
	}
	result := strings.TrimSpace(string(out))
	if f, ok := strings.CutPrefix(result, "key=added "); ok {
		in.UI.Info("added %s", f)
		in.UI.Note("installed this host's key on the router")
		return nil
	}
	in.UI.Info("already there")
	return nil
}

// askPassword prompts for the router's password on the terminal, without
// echo.
func (in *pairer) askPassword(r routerSSH) func() (string, error) {
	return func() (string, error) {
		fmt.Fprintf(in.Env.Stdout, "%s@%s's password: ", in.Cfg.OpSSHUser, in.Opts.Router)
		pw, err := in.Env.ReadPassword()
		fmt.Fprintln(in.Env.Stdout)
		if err != nil {
			return "", fmt.Errorf("read password: %w", err)
		}
		return string(pw), nil
	}
}

// bootstrap is scripts/install.sh, which knows the machine names (uname
// -m, VFP) and where the binaries of each architecture are: the one that
// started us (install.BootstrapEnv), else the one beside this binary (a release
// archive) or in ../share/netrescue (the .deb).
func (in *pairer) bootstrap() (string, error) {
	if s := in.Env.Getenv(install.BootstrapEnv); s != "" {
		return s, nil
	}
	exe, err := in.Env.Executable()
	if err == nil {
		for _, p := range []string{filepath.Join(filepath.Dir(exe), "install.sh"),
			filepath.Join(filepath.Dir(exe), "..", "share", "netrescue", "install.sh")} {
			if install.Exists(p) {
				return filepath.Clean(p), nil
			}
		}
	}
	return "", install.Fail("cannot find install.sh, which tells the router's architecture and finds its binary",
		"run the installer through install.sh (sh install.sh --router "+in.Opts.Router+")")
}

// routerArch runs install.sh --print-arch on the router (streamed over
// SSH to its sh): the same rule that picks this machine's binary picks
// the router's.
func (in *pairer) routerArch(ctx context.Context, r routerSSH) (string, error) {
	script, err := in.bootstrap()
	if err != nil {
		return "", err
	}
	data, err := os.ReadFile(script)
	if err != nil {
		return "", install.Fail(fmt.Sprintf("cannot read %s: %v", script, err), "check its permissions")
	}
	var out, errb bytes.Buffer
	err = in.remote(r, nil).Stream(ctx, "sh -s -- --print-arch", bytes.NewReader(data), &out, &errb, in.Cfg.SSHTimeout)
	arch := strings.TrimSpace(out.String())
	if err != nil || arch == "" || strings.ContainsAny(arch, " /\n") {
		return "", install.Fail(fmt.Sprintf("cannot tell the router's architecture: %v %s", err, strings.TrimSpace(errb.String())),
			"build netcheck for it and pass --router-bin DIR")
	}
	return arch, nil
}

// routerBinary is the directory holding netcheck for the router's arch:
// --router-bin; the binaries beside ours when the router is of our kind;
// else what install.sh --print-bin ARCH finds (the release archive for
// ARCH beside ours, dist/linux-ARCH, or a go build, into a temp directory
// that cleanup removes).
func (in *pairer) routerBinary(ctx context.Context, arch string) (dir string, cleanup func(), err error) {
	cleanup = func() {}
	if in.Opts.RouterBin != "" {
		d, err := filepath.Abs(in.Opts.RouterBin)
		if err == nil && len(install.MissingBinaries(d, []string{"netcheck"})) == 0 {
			return d, cleanup, nil
		}
		return "", cleanup, install.Fail(fmt.Sprintf("%s does not hold netcheck (for linux-%s)", in.Opts.RouterBin, arch),
			"build it (make dist) and pass the directory holding it: --router-bin dist/linux-"+arch)
	}
	if arch == install.SelfArch() {
		if d, err := in.sourceDirQuiet(); err == nil && len(install.MissingBinaries(d, []string{"netcheck"})) == 0 {
			return d, cleanup, nil
		}
	}
	script, err := in.bootstrap()
	if err != nil {
		return "", cleanup, err
	}
	tmp, err := os.MkdirTemp("", "netrescue-router.")
	if err != nil {
		return "", cleanup, install.Fail(fmt.Sprintf("cannot create a temporary directory: %v", err), "check that $TMPDIR (or /tmp) is writable")
	}
	cleanup = func() { _ = os.RemoveAll(tmp) }
	ctx, cancel := context.WithTimeout(ctx, 10*time.Minute)
	defer cancel()
	out, err := in.Env.Run(ctx, nil, "sh", "-c", `NETRESCUE_BUILD_DIR=$1 exec sh "$0" --print-bin "$2"`, script, tmp, arch)
	lines := strings.Split(strings.TrimSpace(string(out)), "\n")
	if err != nil {
		// install.sh says why on its "error: " line (its fix is ours to give).
		why := strings.TrimSpace(string(out))
		for _, l := range lines {
			if m, ok := strings.CutPrefix(l, "error: "); ok {
				why = m
			}
		}
		return "", cleanup, errors.New(why)
	}
	for _, l := range lines[:len(lines)-1] {
		in.UI.Info("%s", l) // what it did, such as a go build
	}
	return lines[len(lines)-1], cleanup, nil
}

// sourceDirQuiet is sourceDir without its check of the role's binaries.
func (in *pairer) sourceDirQuiet() (string, error) {
	if in.Opts.Bin != "" {
		return filepath.Abs(in.Opts.Bin)
	}
	exe, err := in.Env.Executable()
	if err != nil {
		return "", err
	}
	return filepath.Dir(exe), nil
}

// sendBinary puts the local file at dir/netcheck on the router: streamed
// over the session into a temporary name in dir, checked against its
// SHA-256 there, made executable and renamed over the old one. An
// identical binary is left alone.
func (in *pairer) sendBinary(ctx context.Context, r routerSSH, local, dir string) error {
	f, err := os.Open(local)
	if err != nil {
		return install.Fail(fmt.Sprintf("cannot read %s: %v", local, err), "check --router-bin")
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return install.Fail(fmt.Sprintf("cannot read %s: %v", local, err), "check --router-bin")
	}
	sum := hex.EncodeToString(h.Sum(nil))
	dst := dir + "/netcheck"
	c := in.remote(r, nil)
	out, err := c.Run(ctx, "sha256sum "+install.ShellQuote(dst)+" 2>/dev/null; true")
	if err != nil {
		return install.Fail(fmt.Sprintf("cannot log in to the router with this host's key: %v", err),
			fmt.Sprintf("check that key login works: ssh -i %s %s@%s true", in.Bare(r.key), in.Cfg.OpSSHUser, in.Opts.Router))
	}
	if f := strings.Fields(string(out)); len(f) > 0 && f[0] == sum {
		in.UI.Info("%s is up to date", dst)
		return nil
	}
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		return install.Fail(fmt.Sprintf("cannot read %s: %v", local, err), "check --router-bin")
	}
	tmp := install.ShellQuote(dir + "/.netcheck.netrescue-new")
	cmd := fmt.Sprintf(`set -e
mkdir -p %[1]s
trap 'rm -f %[2]s' EXIT
cat > %[2]s
s=$(sha256sum %[2]s)
if [ "${s%%%% *}" != %[3]s ]; then echo "the copy's SHA-256 is ${s%%%% *}, not %[3]s" >&2; exit 1; fi
chmod 755 %[2]s
mv -f %[2]s %[4]s
trap - EXIT`, install.ShellQuote(dir), tmp, sum, install.ShellQuote(dst))
	var errb bytes.Buffer
	if err := c.Stream(ctx, cmd, f, io.Discard, &errb, copyTimeout); err != nil {
		return install.Fail(fmt.Sprintf("cannot copy netcheck to the router's %s: %v", dir, err),
			fmt.Sprintf("check free space on the router (df -h /overlay) and that key login works: ssh -i %s %s@%s true", in.Bare(r.key), in.Cfg.OpSSHUser, in.Opts.Router))
	}
	in.UI.Info("copied %s (SHA-256 %s checked on the router)", dst, sum[:16])
	in.UI.Note("copied netcheck to the router's %s", dir)
	return nil
}

// routerRun runs the router side's own install (or uninstall) there, its
// output shown as it comes.
func (in *pairer) routerRun(ctx context.Context, r routerSSH, what, cmd string) error {
	in.UI.Say("Router side: %s on %s (its output follows)", what, in.Opts.Router)
	if err := in.remote(r, nil).Stream(ctx, cmd, nil, in.Env.Stdout, in.Env.Stderr, routerInstallTimeout); err != nil {
		return install.Fail(fmt.Sprintf("the router side failed (its messages are above): %v", err),
			"fix what it says, then run this again; or run sh install.sh on the router itself")
	}
	return nil
}
