// Package install is `netcheck install` and `hostcheck install` (and
// `uninstall`), the one installer of PVE-Op-Network-Rescue (SPEC §10): it
// installs the router side on OpenWrt or the host side on Proxmox VE,
// migrates from the original scripts, merges the cron lines (package
// crontab), writes the default config (config.Example) only when there is
// none, keeps our files across OpenWrt firmware upgrades, creates the
// host's ed25519 key, pins the router's host key and deploys the router
// side over SSH (package remote). scripts/install.sh only finds the right
// binary for the machine and runs its `install`.
//
// Every step looks before it changes anything, so a second run changes
// nothing. Under --prefix DIR everything happens inside DIR: no command of
// the machine is run, nothing outside DIR is read and, without --router,
// nothing touches the network.
package install

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/pve-op/network-rescue/crontab"
	"github.com/pve-op/network-rescue/internal/config"
)

// DefaultRouterIP is the router's address the original scripts used (OP_IP).
const DefaultRouterIP = "192.168.10.1"

// BootstrapEnv names the environment variable through which
// scripts/install.sh tells the binary where it is: the fixes the installer
// prints then name it, and the router deploy asks it for the router's
// architecture and binaries.
const BootstrapEnv = "NETRESCUE_INSTALL_SH"

// Options is the installer's command line.
type Options struct {
	Role         crontab.Role // "" detects it
	Prefix       string       // install into this tree instead of /
	Bin          string       // where the binaries to install are; "" the running binary's directory
	Router       string       // host: also set up the router at this address over SSH
	RouterBin    string       // with Router: the router's binaries
	RouterPrefix string       // with Router: install into this tree on the router
	Port         int          // with Router: its SSH port; 0 the config's OP_SSH_PORT
	Identity     string       // with Router: a private key that already logs in to the router
	Yes          bool         // with Router: pin the router's host key without asking
	Uninstall    bool
	Purge        bool
	DryRun       bool
}

// The installer's help: usageHead, what this binary installs, then its
// flags. netcheck's help (no host steps linked) lists the router's flags
// only, since it refuses the host's (ParseArgs).
const usageHead = `usage: %[1]s install [flags]      (or: sh install.sh [flags])
       %[1]s uninstall [flags]    (the same as install --uninstall)

`

const usageBoth = usageHead + `Installs PVE-Op-Network-Rescue on this machine: the router side (OpenWrt:
netcheck every minute, midnight-reset, a link to netcheck, at 0:00) or the
host side (Proxmox VE: hostcheck every 5 minutes and at boot, midnight-reset
at 0:00), with their cron lines and a default /etc/netrescue.conf. It
migrates from the original scripts (network_monitor, pve_host_monitor.sh)
and keeps their state and logs. Running it again changes nothing.

flags:
  --role router|host   which side this machine is (default: router when
                       /etc/openwrt_release exists, host when pveversion runs)
` + usageWhere + `  --router IP          host only: also set up the router over SSH: pin its host
                       key, install this host's key (one password prompt) and
                       install the router side there
  --router-bin DIR     with --router: binaries for the router's architecture
  --router-prefix DIR  with --router: install into DIR on the router
  --port N             with --router: the router's SSH port (default OP_SSH_PORT)
  --identity FILE      with --router: a private key that already logs in to the
                       router, tried before asking for the password
  -y, --yes            with --router: pin the router's host key without asking
` + usageRest + `
Environment: NETRESCUE_ROUTER_PREFIX, NETRESCUE_ROUTER_BIN, NETRESCUE_SSH_PORT
and NETRESCUE_SSH_IDENTITY (as the flags).

Examples:
  on the OpenWrt router:  sh install.sh
  on the Proxmox host:    sh install.sh --router 192.168.10.1
  remove (keep logs):     sh install.sh --uninstall
`

const usageRouter = usageHead + `Installs the router side of PVE-Op-Network-Rescue on this OpenWrt router:
netcheck every minute and midnight-reset (a link to netcheck) at 0:00, with
their cron lines and a default /etc/netrescue.conf. It migrates from the
original script (network_monitor) and keeps its state and log. Running it
again changes nothing. The Proxmox host's side is hostcheck's: run
hostcheck install (or sh install.sh) there; it can also set up this router
over SSH (--router).

flags:
  --role router        this router: the only side this binary installs
` + usageWhere + usageRest + `
Examples:
  on the OpenWrt router:  sh install.sh
  remove (keep logs):     sh install.sh --uninstall
`

const usageWhere = `  --bin DIR            where the binaries to install are (default: the
                       directory of this binary)
  --prefix DIR         install into the tree DIR instead of / (tests,
                       packages): nothing outside DIR is read or run
`

const usageRest = `  --uninstall          remove our cron lines and binaries; keep config, logs, state
  --purge              with --uninstall: also remove config, logs and state
  -n, --dry-run        print every step, change nothing
  -h, --help           show this help
`

// ParseArgs parses the arguments after `install` (uninstall is true for
// `uninstall`). Flags may be written -flag or --flag, with the value after
// a space or an =. -h prints the usage on stdout; getenv supplies the
// NETRESCUE_* defaults. Without host (the binary links no host steps:
// netcheck), -h prints the router's help. The host's flags still parse:
// on a host, install.sh hands over to netcheck when --bin holds no
// hostcheck, and the install then says that hostcheck is missing, which
// is the fix there; on a router, --router is refused as before.
func ParseArgs(prog string, args []string, uninstall, host bool, stdout io.Writer, getenv func(string) string) (Options, error) {
	o := Options{Uninstall: uninstall}
	fs := flag.NewFlagSet(prog+" install", flag.ContinueOnError)
	fs.SetOutput(io.Discard) // its usage too: a mistake is returned with its fix, -h prints the usage
	var role, port string
	// Tables, not a call each: every inlined flag definition costs the
	// router's netcheck (SPEC §12: ≤ 5 MiB).
	for _, f := range []struct {
		p          *string
		name, from string // from: the environment variable of the default
	}{{&role, "role", ""}, {&o.Prefix, "prefix", ""}, {&o.Bin, "bin", ""}, {&o.Router, "router", ""},
		{&o.RouterBin, "router-bin", "NETRESCUE_ROUTER_BIN"}, {&o.RouterPrefix, "router-prefix", "NETRESCUE_ROUTER_PREFIX"},
		{&port, "port", "NETRESCUE_SSH_PORT"}, {&o.Identity, "identity", "NETRESCUE_SSH_IDENTITY"}} {
		def := ""
		if f.from != "" {
			def = getenv(f.from)
		}
		fs.StringVar(f.p, f.name, def, "")
	}
	for _, f := range []struct {
		p    *bool
		name string
	}{{&o.Yes, "yes"}, {&o.Yes, "y"}, {&o.Uninstall, "uninstall"}, {&o.Purge, "purge"}, {&o.DryRun, "dry-run"}, {&o.DryRun, "n"}} {
		fs.BoolVar(f.p, f.name, *f.p, "")
	}
	fix := "see " + prog + " install -h"
	if s := getenv(BootstrapEnv); s != "" {
		fix = "see sh " + s + " -h" // what the person ran
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			usage := usageRouter
			if host {
				usage = usageBoth
			}
			fmt.Fprintf(stdout, usage, prog)
			return o, err
		}
		return o, usageError(err.Error(), fix)
	}
	if fs.NArg() > 0 {
		return o, usageError(fmt.Sprintf("unexpected argument %q", fs.Arg(0)), fix)
	}
	switch role {
	case "", "router", "host":
		o.Role = crontab.Role(role)
	default:
		return o, usageError("--role must be router or host, not "+role, fix)
	}
	if o.Purge && !o.Uninstall {
		return o, usageError("--purge only goes with --uninstall", fix)
	}
	if port != "" {
		n, err := strconv.Atoi(port)
		if err != nil || n < 1 || n > 65535 {
			return o, usageError("--port must be a number from 1 to 65535, not "+port, fix)
		}
		o.Port = n
	}
	if strings.Trim(o.Router, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.:_-") != "" || strings.HasPrefix(o.Router, "-") {
		return o, usageError("--router must be an IP address or host name, not "+o.Router, fix)
	}
	if o.Router != "" && o.Role == crontab.Router {
		return o, usageError("--router is for the Proxmox host (--role host); on the router run the installer without it", fix)
	}
	return o, nil
}

// Main is `PROG install ARGS` (or `PROG uninstall ARGS`): it parses the
// arguments and runs the installer.
func Main(ctx context.Context, prog, sub string, args []string, env Env) error {
	o, err := ParseArgs(prog, args, sub == "uninstall", env.Host.Key != nil, env.Stdout, env.Getenv)
	if err != nil {
		return err
	}
	return Run(ctx, o, env)
}

// installer is one run: its options, environment and what it found.
type installer struct {
	o    Options
	env  Env
	ui   *ui
	role crontab.Role
	// pkg: the netrescue .deb holds the host side here.
	pkg bool
	// cfg is the config file's settings (the defaults when there is none
	// or it does not parse; the last step says why); cfgErr is why it
	// did not load.
	cfg    config.Config
	cfgErr error
	// keep: our main cron line is commented out (the rescue is off in
	// cron), so the original scripts stay, their cron lines too.
	keep bool
	// done, when set, is the last line of an uninstall (the host's,
	// when the package keeps the host side).
	done string
}

// Run installs or uninstalls according to o.
func Run(ctx context.Context, o Options, env Env) error {
	u := &ui{out: env.Stdout, errw: env.Stderr, dry: o.DryRun}
	in := &installer{o: o, env: env, ui: u}
	if err := in.prepare(); err != nil {
		return err
	}
	var err error
	if o.Uninstall {
		err = in.uninstall(ctx)
	} else {
		err = in.install(ctx)
	}
	if err != nil {
		return err
	}
	u.finish()
	return nil
}

// prepare checks the options against the machine, detects the role and
// reads the config.
func (in *installer) prepare() error {
	o := &in.o
	if o.Prefix != "" {
		abs, err := filepath.Abs(o.Prefix)
		if err != nil {
			return fail(fmt.Sprintf("--prefix %s: %v", o.Prefix, err), "pass an absolute directory")
		}
		o.Prefix = abs
		if o.Prefix == "/" {
			o.Prefix = ""
		}
	}
	if o.Prefix == "" && in.env.Euid != 0 && !o.DryRun {
		return fail("installing into / needs root", "run it as root (sudo sh install.sh ...), or pass --prefix DIR")
	}
	in.role = o.Role
	if in.role == "" {
		switch {
		case exists(in.path("/etc/openwrt_release")):
			in.role = crontab.Router
		case in.hasPveversion():
			in.role = crontab.Host
		default:
			return usageError("cannot tell which side this machine is: there is no "+in.path("/etc/openwrt_release")+" (OpenWrt) and no pveversion command (Proxmox VE)",
				"pass --role router on the OpenWrt router or --role host on the Proxmox host")
		}
	}
	if o.Router != "" && in.role != crontab.Host {
		return usageError("--router is for the Proxmox host (--role host); on the router run the installer without it", "")
	}
	if in.role == crontab.Host && in.env.Host.side != nil {
		in.env.Host.side.dpkg(in)
	}
	in.cfg, in.cfgErr = in.readConfig()
	if o.DryRun {
		in.ui.say("Dry run: nothing will be changed")
	}
	in.ui.say("Role: %s side, into %s", in.role, or(o.Prefix, "/"))
	return nil
}

// hasPveversion: Proxmox VE's pveversion is there. Under --prefix only the
// tree is looked at.
func (in *installer) hasPveversion() bool {
	if in.o.Prefix != "" {
		return exists(in.path("/usr/bin/pveversion"))
	}
	_, err := in.env.LookPath("pveversion")
	return err == nil
}

// path is abs inside the tree being installed. (Not inlined: see ui.go.)
//
//go:noinline
func (in *installer) path(abs string) string {
	if in.o.Prefix == "" {
		return abs
	}
	return filepath.Join(in.o.Prefix, abs)
}

// bare is p with the prefix taken off: the path on the installed machine.
// Not inlined, to keep the router's netcheck small (SPEC §12), as
// group.end in probe.
//
//go:noinline
func (in *installer) bare(p string) string {
	if in.o.Prefix == "" {
		return p
	}
	return strings.TrimPrefix(p, in.o.Prefix)
}

// confPath is the config file in the tree.
// confPath is the config file under --prefix. (Not inlined: netcheck's
// text segment is bytes from its page, SPEC §12's 5 MiB.)
//
//go:noinline
func (in *installer) confPath() string { return in.path(config.DefaultPath) }

// readConfig reads the settings the installer needs (SSH_KEY, OP_IP,
// STATE_DIR …): the defaults when the file does not load, and why. An
// install goes on with them (the last step reports the file); --purge
// refuses (uninstall).
func (in *installer) readConfig() (config.Config, error) {
	c, err := config.Load(in.confPath(), config.Role(in.role), config.Options{Euid: -1})
	if err != nil {
		return config.Default(config.Role(in.role)), err
	}
	return c, nil
}

// configFirst stops the install before any change when the original
// scripts are there and our binaries will refuse the config (its owner and
// mode checked as root's runs check them): the migration would leave the
// house with no rescue running, ours refusing the file every run. Without
// the originals the install goes on, and its last step reports the file.
func (in *installer) configFirst() error {
	if !in.original() {
		return nil
	}
	_, err := config.Load(in.confPath(), config.Role(in.role), config.Options{Euid: in.env.Euid})
	if err == nil {
		return nil
	}
	msg := in.binaries()[0] + " would refuse its config, so the install stops before it removes the original: " + err.Error()
	if in.o.DryRun {
		msg = "dry run: a real install would stop here: " + msg
	}
	return in.untouched(fail(msg, "nothing was changed; fix "+in.confPath()+" (the first line says what is wrong), then run "+in.selfCommand()+" again"))
}

// untouched adds to err, a failure of the install before the migration,
// that the original scripts were left as they were: the house keeps its
// rescue.
func (in *installer) untouched(err error) error {
	var e *Error
	if errors.As(err, &e) && in.original() {
		e.Msg += "\n  the original " + in.origName() + " is untouched and still runs: nothing of it was changed"
	}
	return err
}

// origName names the original scripts of the role.
func (in *installer) origName() string {
	if in.role == crontab.Host {
		return "pve_host_monitor.sh"
	}
	return "network_monitor service"
}

// original reports whether the original scripts are there.
func (in *installer) original() bool {
	if in.role == crontab.Host {
		return exists(in.path("/root/pve_host_monitor.sh"))
	}
	return exists(in.path("/etc/init.d/network_monitor")) || exists(in.path("/usr/bin/network_monitor_logic.sh"))
}

// selfCommand is how a person runs the installer again, in fixes: the
// bootstrap script when it started us, else this binary; quoted, to be
// pasted into a shell.
func (in *installer) selfCommand() string {
	cmd := map[crontab.Role]string{crontab.Router: "netcheck install", crontab.Host: "hostcheck install"}[in.role]
	if s := in.env.Getenv(BootstrapEnv); s != "" {
		cmd = "sh " + ShellQuote(s)
	}
	if in.o.Prefix != "" {
		// Pasted, a fix without it would act on / instead of the tree.
		cmd += " --prefix " + ShellQuote(in.o.Prefix)
	}
	return cmd
}

// binaries installs for the role: the router carries netcheck alone
// (midnight-reset is a link to it, SPEC §10). Not inlined, to keep the
// router's netcheck small (SPEC §12), as group.end in probe.
//
//go:noinline
func (in *installer) binaries() []string {
	if in.role == crontab.Router {
		return []string{"netcheck"}
	}
	return []string{"hostcheck", "midnight-reset"}
}

func (in *installer) binDir() string {
	if in.role == crontab.Router {
		return in.path("/usr/bin")
	}
	return in.path("/usr/local/bin")
}

// install is the install, step by step.
func (in *installer) install(ctx context.Context) error {
	if err := in.configFirst(); err != nil {
		return err
	}
	var src string
	if in.pkg {
		if err := in.env.Host.side.pkg(in, ctx); err != nil {
			return err
		}
	} else {
		var err error
		if src, err = in.sourceDir(); err != nil {
			return err
		}
	}
	if in.role == crontab.Host && in.env.Host.side == nil {
		return errNoHostSide() // netcheck's installer, before any change
	}
	// The crontab is read before anything changes, so that one that cannot
	// be read stops the install with the machine as it was.
	if !in.pkg {
		cron, err := in.readCrontab(ctx)
		if err != nil {
			return err
		}
		// Kept only while nothing else runs our program in its place (an
		// unmarked copy of the line: the original beside it would be a
		// second rescue acting on every outage).
		main := crontab.Lines(in.role)[0]
		in.keep = len(crontab.DisabledLine(cron, main)) > 0 && !crontab.Runs(cron, main)
	}
	if in.o.Prefix != "" && !isDir(in.o.Prefix) {
		if err := in.mkdir(in.o.Prefix); err != nil {
			return err
		}
	}
	if in.role == crontab.Router {
		// The new binaries and config first, the migration after: a
		// full disk stops the install with the original still running.
		if err := in.installBinaries(src); err != nil {
			return in.untouched(err)
		}
		if err := in.configStep(); err != nil {
			return in.untouched(err)
		}
		// Our cron lines too: a crontab that cannot be written (a full
		// overlay) stops the install with the original still running.
		changed, err := in.cronStep(ctx, false)
		if err != nil {
			return in.untouched(err)
		}
		if in.keep {
			// Kept running: said in cronStep.
		} else if err := in.migrateRouter(ctx); err != nil {
			return err
		}
		in.restartCron(ctx, changed)
		if err := in.sysupgrade(true, config.DefaultPath, "/usr/bin/netcheck", "/usr/bin/midnight-reset"); err != nil {
			return err
		}
	} else if err := in.env.Host.side.install(in, ctx, src); err != nil {
		return err
	}
	in.statusStep(ctx)
	switch {
	case in.o.DryRun:
		in.ui.say("Done: dry run of installing the %s side in %s", in.role, or(in.o.Prefix, "/"))
	case in.pkg && in.o.Router == "":
		in.ui.say("Done: the original pve_host_monitor.sh is migrated; the host side is the netrescue package's")
	case in.pkg:
		in.ui.say("Done: the router is paired; the host side is the netrescue package's")
	default:
		in.ui.say("Done: the %s side is installed in %s", in.role, or(in.o.Prefix, "/"))
	}
	return nil
}

// installHost is install's host side (hostcheck only, through
// WithHostSide, so that netcheck links none of it: SPEC §12): the
// migration, the binaries from src, the config, the key and the cron
// lines, or with the netrescue package only the migration; then the
// router's pairing, or the command that does it.
func (in *installer) installHost(ctx context.Context, src string) error {
	if !in.pkg {
		// A config that names another router stops the install before
		// any change (routerConfig).
		if err := in.routerConfig(false); err != nil {
			return err
		}
		// The new binaries, config and key first, the migration after: a
		// full disk stops the install with the original still running.
		if err := in.installBinaries(src); err != nil {
			return in.untouched(err)
		}
		if err := in.configStep(); err != nil {
			return in.untouched(err)
		}
		if err := in.routerConfig(true); err != nil {
			return in.untouched(err)
		}
		if err := in.key(); err != nil {
			return in.untouched(err)
		}
		if _, err := in.cronStep(ctx, false); err != nil {
			return in.untouched(err)
		}
		if in.keep {
			// Kept running: said in cronStep.
		} else if err := in.env.Host.side.migrate(in, ctx); err != nil {
			return err
		}
	} else if err := in.migratePackaged(ctx); err != nil {
		return err
	}
	if in.o.Router != "" {
		if err := in.deploy(ctx); err != nil {
			return err
		}
	} else {
		in.ui.say("Pairing with the router")
		cmd := in.selfCommand() + " --role host --router " + or(in.cfg.OpIP, DefaultRouterIP)
		in.ui.info("not contacting the router now. To finish, run (it asks for the router's root password once):")
		in.ui.info("  %s", cmd)
		in.ui.note("to pair with the router, run: %s", cmd)
	}
	return nil
}

// uninstall removes what install put, and with --purge the config, logs
// and state too.
func (in *installer) uninstall(ctx context.Context) error {
	if in.o.Purge && in.cfgErr != nil {
		// The built-in paths are not where this config keeps its logs
		// and state: purging them would delete the config and leave those.
		return usageError(fmt.Sprintf("--purge needs the config, to know where the logs and state are, and it does not load: %v", in.cfgErr),
			"nothing was changed; fix "+in.confPath()+" and run this again, or remove the logs and state by hand and uninstall without --purge")
	}
	if in.role == crontab.Router {
		changed, err := in.cronStep(ctx, true)
		if err != nil {
			return err
		}
		in.restartCron(ctx, changed)
		if err := in.removeBinaries(); err != nil {
			return err
		}
		paths := []string{"/usr/bin/netcheck", "/usr/bin/midnight-reset"}
		if in.o.Purge {
			paths = append([]string{config.DefaultPath}, paths...)
		}
		if err := in.sysupgrade(false, paths...); err != nil {
			return err
		}
	} else if in.env.Host.side == nil {
		return errNoHostSide() // netcheck's installer, before any change
	} else if err := in.env.Host.side.remove(in, ctx); err != nil {
		return err
	}
	if in.o.Purge {
		if err := in.purge(); err != nil {
			return err
		}
	} else {
		hint := "add --purge to remove them too"
		if in.pkg {
			hint = "the package's: dpkg -P netrescue removes them" // --purge is refused here
		}
		in.ui.info("kept %s, the logs and the state files (%s)", in.confPath(), hint)
		in.ui.note("kept configuration, logs and state")
	}
	switch {
	case in.o.DryRun:
		in.ui.say("Done: dry run of uninstalling the %s side from %s", in.role, or(in.o.Prefix, "/"))
	case in.done != "":
		in.ui.say("%s", in.done)
	default:
		in.ui.say("Done: the %s side is uninstalled from %s", in.role, or(in.o.Prefix, "/"))
	}
	return nil
}

// uninstallHost is uninstall's host side (hostcheck only, through
// WithHostSide, as installHost): the cron lines, the binaries and
// METRICS_FILE, and with --router the router side. Where the netrescue
// package holds the host side, only install.sh's copy beside it is ours
// to remove: the package's hostcheck runs on, and the last line says so
// rather than "uninstalled".
func (in *installer) uninstallHost(ctx context.Context) error {
	if in.pkg && in.o.Purge {
		return fail("the netrescue package owns the configuration, logs and state here, so --purge leaves them to it",
			in.selfCommand()+" --role host --uninstall removes install.sh's copy; dpkg -P netrescue purges the package")
	}
	copied := true
	if in.pkg {
		var err error
		if copied, err = in.scriptCopyThere(ctx); err != nil {
			return err
		}
		const pkgSide = "the host side is the netrescue package's (dpkg -r netrescue removes it)"
		switch {
		case !copied && in.o.Router == "":
			// "Uninstalled" while the package's cron lines run on
			// would be a lie.
			return fail("the netrescue package set up the host side here ("+in.path("/usr/bin/hostcheck")+", "+in.path(crontab.PackageFile)+"), and install.sh has no copy of it to remove",
				"dpkg -r netrescue (dpkg -P netrescue removes the configuration, logs and state too)")
		case !copied:
			in.ui.say("Host side: the netrescue package's, left to it")
			in.ui.info("install.sh has no copy of it here to remove; this run removes the router side only")
			in.done = "Done: the router side is removed; " + pkgSide
		case in.o.Router != "":
			in.done = "Done: the router side and install.sh's copy of the host side are removed; " + pkgSide
		default:
			in.done = "Done: install.sh's copy of the host side is removed; " + pkgSide
		}
	}
	// The router first: a router that refuses (its --purge, a config of
	// its own that does not load) leaves this host as it was, and its
	// "run this again" is true; a second run finds the router's side gone
	// and says so (pair: "nothing to uninstall there").
	if in.o.Router != "" {
		if err := in.deploy(ctx); err != nil {
			return err
		}
	}
	if copied {
		if _, err := in.cronStep(ctx, true); err != nil {
			return err
		}
		if err := in.removeBinaries(); err != nil {
			return err
		}
	}
	// A stopped exporter's last values would be read as current (the
	// package's hostcheck, when there is one, still runs and keeps it).
	if f := in.cfg.MetricsFile; f != "" && !in.pkg {
		if _, err := in.remove(in.path(f)); err != nil {
			return err
		}
	}
	return nil
}

// scriptCopyThere reports whether the host has a copy of install.sh's
// (binaries in /usr/local/bin or our lines in root's crontab) beside the
// package's.
func (in *installer) scriptCopyThere(ctx context.Context) (bool, error) {
	old, err := in.readCrontab(ctx)
	if err != nil {
		return false, err
	}
	if crontab.Remove(old) != old {
		return true, nil
	}
	for _, n := range in.binaries() {
		if exists(filepath.Join(in.binDir(), n)) {
			return true, nil
		}
	}
	return false, nil
}

func or(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

// exists reports whether p is there, a link not followed. (Not inlined:
// see ui.go.)
//
//go:noinline
func exists(p string) bool {
	_, err := os.Lstat(p)
	return err == nil
}

func isDir(p string) bool {
	fi, err := os.Stat(p)
	return err == nil && fi.IsDir()
}

// ShellQuote quotes s for a POSIX shell command line: the commands the
// installer prints to be pasted, and those package pair runs on the router.
func ShellQuote(s string) string {
	if s != "" && strings.Trim(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_./=:@+-") == "" {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

// Exists reports whether p exists (for package pair).
func Exists(p string) bool { return exists(p) }
