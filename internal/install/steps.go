package install

import (
	"context"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/pve-op/network-rescue/crontab"
	"github.com/pve-op/network-rescue/internal/cli"
	"github.com/pve-op/network-rescue/internal/config"
	"github.com/pve-op/network-rescue/internal/ladder"
	"github.com/pve-op/network-rescue/internal/pause"
	"github.com/pve-op/network-rescue/internal/rescue"
	"github.com/pve-op/network-rescue/state"
)

// commandTimeout bounds a command the installer runs (crontab, an init
// script); statusTimeout bounds the final status checklist.
const (
	commandTimeout = time.Minute
	statusTimeout  = 2 * time.Minute
	// CommandTimeout and StatusTimeout are the same bounds for package pair.
	CommandTimeout = commandTimeout
	StatusTimeout  = statusTimeout
)

// sourceDir is where the binaries to install are: --bin, else the
// directory of the running binary.
func (in *installer) sourceDir() (string, error) {
	dir := in.o.Bin
	if dir == "" {
		exe, err := in.env.Executable()
		if err != nil {
			return "", fail(fmt.Sprintf("cannot tell where this binary is: %v", err), "pass --bin DIR")
		}
		dir = filepath.Dir(exe)
	}
	abs, err := filepath.Abs(dir)
	if err != nil {
		return "", fail(fmt.Sprintf("--bin %s: %v", dir, err), "pass an absolute directory")
	}
	if missing := missingBinaries(abs, in.binaries()); len(missing) > 0 {
		arch := SelfArch()
		return "", fail(abs+" does not hold "+strings.Join(missing, " ")+" (for linux-"+arch+")",
			"build them (make dist) and pass the directory holding them: --bin dist/linux-"+arch)
	}
	return abs, nil
}

func missingBinaries(dir string, names []string) []string {
	var missing []string
	for _, n := range names {
		if fi, err := os.Stat(filepath.Join(dir, n)); err != nil || !fi.Mode().IsRegular() {
			missing = append(missing, n)
		}
	}
	return missing
}

// installBinaries copies the role's binaries from src into the bin
// directory; on the router midnight-reset becomes a link to netcheck.
func (in *installer) installBinaries(src string) error {
	dir := in.binDir()
	in.ui.say("Binaries into %s", dir)
	in.ui.info("from %s", src)
	for _, n := range in.binaries() {
		data, err := os.ReadFile(filepath.Join(src, n))
		if err != nil {
			return fail(fmt.Sprintf("cannot read %s: %v", filepath.Join(src, n), err), "check --bin")
		}
		dst := filepath.Join(dir, n)
		changed, err := in.put(dst, data, 0o755)
		if err != nil {
			return err
		}
		if !changed {
			in.ui.info("%s is up to date", dst)
			continue
		}
		if !in.o.DryRun {
			in.ui.info("installed %s", dst)
		}
		in.ui.note("installed %s", dst)
	}
	if in.role == crontab.Router {
		return in.linkReset(dir)
	}
	return nil
}

// linkReset: on the router midnight-reset is netcheck run under that
// name, a symlink busybox style, so the router carries one binary (SPEC
// §10). A separate midnight-reset binary of an earlier install is replaced.
func (in *installer) linkReset(dir string) error {
	p := filepath.Join(dir, "midnight-reset")
	what := "linked " + p + " -> netcheck"
	if fi, err := os.Lstat(p); err == nil && fi.Mode()&os.ModeSymlink == 0 {
		what += " (replaced the separate midnight-reset binary: netcheck is both now)"
	}
	already, err := in.symlink("netcheck", p)
	if err != nil {
		return err
	}
	switch {
	case already:
		in.ui.info("%s -> netcheck is up to date", p)
		return nil
	case in.o.DryRun:
		in.ui.info("would link %s -> netcheck", p)
	default:
		in.ui.info("%s", what)
	}
	in.ui.note("%s", what)
	return nil
}

// removeBinaries removes the role's binaries (and the router's link).
func (in *installer) removeBinaries() error {
	dir := in.binDir()
	in.ui.say("Removing binaries from %s", dir)
	names := in.binaries()
	if in.role == crontab.Router {
		names = append(names, "midnight-reset")
	}
	any := false
	for _, n := range names {
		removed, err := in.remove(filepath.Join(dir, n))
		if err != nil {
			return err
		}
		if removed {
			any = true
			in.ui.note("removed %s", filepath.Join(dir, n))
		}
	}
	if !any {
		in.ui.info("none installed")
	}
	return nil
}

// configStep writes the default config (config.Example, every key
// commented out with its default) only when there is none; an existing one
// is kept and checked for what would make the binaries refuse it.
func (in *installer) configStep() error {
	conf := in.confPath()
	in.ui.say("Configuration %s", conf)
	if fi, err := os.Lstat(conf); err == nil {
		in.ui.info("kept your existing file")
		t, err := os.Stat(conf) // a link: its target's owner and mode, as the binaries check them
		if err != nil {
			// A link to nothing: the binaries say so (config check).
			return nil
		}
		fi = t
		in.originalLeftOut()
		if in.env.Euid == 0 {
			if st, ok := fi.Sys().(*syscall.Stat_t); ok && st.Uid != 0 {
				in.ui.warn(fmt.Sprintf("%s is owned by uid %d, not root, so the binaries will refuse it", conf, st.Uid),
					"chown root:root "+config.DefaultPath)
			}
			if fi.Mode().Perm()&0o022 != 0 {
				in.ui.warn(conf+" is writable by group or others, so the binaries will refuse it",
					"chmod go-w "+config.DefaultPath)
			}
		}
		return nil // --router and --port: routerConfig, on the host
	}
	content := config.Example(config.Role(in.role))
	if in.role == crontab.Host {
		// A router that is not at the default address or port needs saying so.
		if in.o.Router != "" && in.o.Router != DefaultRouterIP {
			content += "\n# Set by the installer's --router.\nOP_IP=" + in.o.Router + "\n"
		}
		if in.o.Port != 0 && in.o.Port != 22 {
			content += "\n# Set by the installer's --port.\nOP_SSH_PORT=" + strconv.Itoa(in.o.Port) + "\n"
		}
	}
	if from, lines := in.originalSettings(); len(lines) > 0 {
		content += "\n# Carried over from the original " + from + ", which set them so.\n" + strings.Join(lines, "\n") + "\n"
		in.ui.info("carried over from the original %s: %s", from, strings.Join(lines, "; "))
	}
	if _, err := in.put(conf, []byte(content), 0o600); err != nil {
		return err
	}
	if !in.o.DryRun {
		in.ui.info("wrote the defaults, all commented out (mode 0600)")
		// What follows (the key, the router) reads the file just written.
		in.cfg, _ = in.readConfig()
	}
	in.ui.note("wrote the default %s (edit it to change a setting)", conf)
	return nil
}

// originalSettings are the lines of the original script of the role that
// set a key our config reads under the original's name (SPEC §3) to a
// value it accepts other than the default, and the script's name: its
// L4_SOS_THRESHOLD and SAFE_UPTIME on the router (owners lower the
// threshold, as the original's README advises), its OP_IP on the host
// (its router). The migration deletes the script, their only record. Not
// its probe target (one name behind DNS, a known defect, SPEC §2), nor
// VM_ID (the original never used it: set, it turns VM actions on); nor
// OP_IP when --router names the router. A line indented (in a function,
// a loop) is no setting of the script's.
func (in *installer) originalSettings() (string, []string) {
	file, keys := "/usr/bin/network_monitor_logic.sh", []string{"L4_SOS_THRESHOLD", "SAFE_UPTIME"}
	if in.role == crontab.Host {
		file, keys = "/root/pve_host_monitor.sh", nil
		if in.o.Router == "" {
			keys = []string{"OP_IP"}
		}
	}
	b, err := os.ReadFile(in.path(file))
	if err != nil || len(b) > 1<<20 {
		return filepath.Base(file), nil
	}
	def := fmt.Sprint(config.Default(config.Role(in.role)))
	last := map[string]string{}
	var order []string
	for _, l := range strings.Split(string(b), "\n") {
		l = strings.TrimSuffix(l, "\r")
		name, _, ok := strings.Cut(l, "=")
		if !ok || !slices.Contains(keys, name) {
			continue
		}
		if c, err := config.Parse(file, l, config.Role(in.role)); err != nil || fmt.Sprint(c) == def {
			continue
		}
		if _, seen := last[name]; !seen {
			order = append(order, name)
		}
		last[name] = l
	}
	var lines []string
	for _, n := range order {
		lines = append(lines, last[n])
	}
	return filepath.Base(file), lines
}

// originalLeftOut warns of each setting of the original script
// (originalSettings) that the existing config, kept as it is, does not
// carry: the migration deletes the script.
func (in *installer) originalLeftOut() {
	from, lines := in.originalSettings()
	if len(lines) == 0 || in.keep { // kept, the original keeps its own
		return
	}
	content, _, err := readOptional(in.confPath())
	if err != nil {
		return
	}
	now, err := config.Parse(in.confPath(), content, config.Role(in.role))
	if err != nil {
		return // the binaries refuse it: said elsewhere
	}
	for _, l := range lines {
		if c, err := config.Parse(in.confPath(), content+"\n"+l+"\n", config.Role(in.role)); err == nil && fmt.Sprint(c) != fmt.Sprint(now) {
			in.ui.warn("the original "+from+" sets "+l+", which "+in.confPath()+" leaves out: the migration removes "+from,
				"to keep it, add that line to "+config.DefaultPath)
		}
	}
}

// cronFile is the crontab file in the tree, or "" for root's crontab on a
// host without --prefix, which the crontab command reads and writes.
func (in *installer) cronFile() string {
	if in.role == crontab.Router {
		return in.path("/etc/crontabs/root")
	}
	if in.o.Prefix != "" {
		return in.path("/var/spool/cron/crontabs/root")
	}
	return ""
}

// cronWhere names the crontab for the installer's lines. Not inlined, to
// keep the router's netcheck small (SPEC §12), as group.end in probe.
//
//go:noinline
func (in *installer) cronWhere() string {
	if f := in.cronFile(); f != "" {
		return f
	}
	return "root's crontab (crontab -l)"
}

// mixedLegacy warns of each line of old that runs the original scripts
// beside a command of the user's: kept, not to lose the user's job, for
// the user to edit.
func (in *installer) mixedLegacy(old string) {
	for _, l := range crontab.Mixed(old) {
		in.ui.warn("kept this line of "+in.cronWhere()+", which runs the original scripts beside your own commands: "+l,
			"edit that line by hand ("+in.editCron()+"): take out the original scripts' commands, keep yours")
	}
}

// editCron is how a person edits the crontab of cronFile.
func (in *installer) editCron() string {
	if f := in.cronFile(); f != "" {
		return "edit " + f
	}
	return "crontab -e"
}

// readCrontab is the crontab now: the tree's file, or on a host without
// --prefix root's crontab (crontabList, host side only).
func (in *installer) readCrontab(ctx context.Context) (string, error) {
	if f := in.cronFile(); f != "" {
		s, _, err := readOptional(f)
		return s, err
	}
	if in.env.Host.side == nil {
		return "", errNoHostSide()
	}
	return in.env.Host.side.crontab(in, ctx)
}

// crontabList is root's crontab, read with crontab -l: its stdout only, so
// that a warning on stderr (ld.so's about LD_PRELOAD) never becomes a line
// of the crontab written back. Only crontab -l's own "there is none" is an
// empty one: any other failure stops the install, since writing our lines
// alone would wipe root's other jobs (SPEC §10: other lines untouched).
func (in *installer) crontabList(ctx context.Context) (string, error) {
	if _, err := in.env.LookPath("crontab"); err != nil {
		return "", fail("the crontab command is missing", "install cron: apt-get install cron")
	}
	ctx, cancel := context.WithTimeout(ctx, commandTimeout)
	defer cancel()
	output := in.env.Output
	if output == nil {
		output = in.env.Host.side.output
	}
	out, stderr, err := output(ctx, "crontab", "-l")
	if err != nil {
		if ctx.Err() != nil {
			return "", fail(fmt.Sprintf("crontab -l did not answer in %v", commandTimeout), "check the cron service: systemctl status cron")
		}
		if len(out) >= maxCommandOutput {
			return "", fail(fmt.Sprintf("root's crontab is over %d bytes: the installer does not read a crontab it would write back cut", maxCommandOutput),
				"nothing was changed; make root's crontab smaller (crontab -e), then run this again")
		}
		said := strings.TrimSpace(string(stderr))
		if noCrontab(said) {
			return "", nil
		}
		if said == "" {
			said = strings.TrimSpace(string(out))
		}
		return "", &Error{Msg: fmt.Sprintf("read root's crontab (crontab -l): %v: %s", err, said),
			Fix: "nothing was changed; make crontab -l work (check the disk and the cron service: systemctl status cron), then run " + in.selfCommand() + " again",
			Err: err}
	}
	return string(out), nil
}

// noCrontab: crontab -l failed saying that root has no crontab yet, in
// the words of Debian's cron and cronie ("no crontab for root") or of
// busybox ("crontab: can't open 'root': No such file or directory").
func noCrontab(said string) bool {
	if strings.Contains(said, "no crontab for ") {
		return true
	}
	return strings.Contains(said, "can't open '") && strings.HasSuffix(said, "': No such file or directory")
}

// cronStep merges our lines into the crontab (and takes the original
// scripts' lines out), or with remove takes ours out; every other line is
// kept byte for byte (package crontab). It reports whether it changed.
func (in *installer) cronStep(ctx context.Context, remove bool) (bool, error) {
	in.ui.say("Cron lines in %s", in.cronWhere())
	old, err := in.readCrontab(ctx)
	if err != nil {
		return false, err
	}
	var next string
	if remove {
		next = crontab.Remove(old)
	} else {
		next = old
		if legacy := crontab.Legacy(old); len(legacy) > 0 && !in.keep {
			in.ui.info("removing the original scripts' cron lines:")
			for _, l := range legacy {
				in.ui.info("  - %s", l)
			}
			in.ui.note("removed the original scripts' cron lines from %s", in.cronWhere())
		}
		if !in.keep {
			in.mixedLegacy(old)
			next = crontab.RemoveLegacy(old)
		}
		next = crontab.Merge(next, in.role)
		if off := crontab.Disabled(old, in.role); len(off) > 0 {
			// Yours to turn on: kept commented out, as you left it.
			in.ui.warn("the rescue is disabled in "+in.cronWhere()+": kept commented out: "+strings.Join(off, "; "),
				"to re-enable it, remove the # at the start of that line: "+in.editCron())
		}
		if in.keep && (in.original() || len(crontab.Legacy(old)) > 0 || len(crontab.Mixed(old)) > 0) {
			in.ui.warn("kept the original "+in.origName()+" and its cron lines: it still runs, since our "+in.binaries()[0]+
				" line is commented out (the rescue is off in cron)",
				"to move to ours, remove the # at the start of that line ("+in.editCron()+") and run "+in.selfCommand()+" again")
		}
		for _, l := range crontab.Edited(old, in.role) {
			in.ui.info("kept your edited line of ours: %s", l)
		}
	}
	changed, err := in.writeCrontab(ctx, old, next)
	if err != nil {
		return false, err
	}
	switch {
	case changed && remove:
		in.ui.info("removed our lines (marked '%s'); other lines untouched", crontab.Marker)
		in.ui.note("cron lines removed from %s", in.cronWhere())
	case changed:
		in.ui.info("our lines are now:") // those that run: one kept commented out is said above
		for _, l := range crontab.Edited(next, "") {
			in.ui.info("  %s", l)
		}
		in.ui.note("cron lines merged into %s", in.cronWhere())
	case remove:
		in.ui.info("none of our lines there, nothing to change")
	default:
		in.ui.info("already in place, nothing to change")
	}
	return changed, nil
}

func (in *installer) writeCrontab(ctx context.Context, old, next string) (bool, error) {
	f := in.cronFile()
	if f == "" {
		if next == old {
			return false, nil
		}
		if in.o.DryRun {
			in.ui.info("would run: crontab - (with the lines above)")
			return true, nil
		}
		ctx, cancel := context.WithTimeout(ctx, commandTimeout)
		defer cancel()
		if out, err := in.env.Run(ctx, []byte(next), "crontab", "-"); err != nil {
			return false, fail(fmt.Sprintf("crontab - refused the new crontab: %v %s", err, strings.TrimSpace(string(out))),
				"check the cron service: systemctl status cron")
		}
		return true, nil
	}
	if next == "" && !exists(f) {
		return false, nil
	}
	return in.put(f, []byte(next), 0o600)
}

// restartCron makes busybox crond on OpenWrt read the new crontab.
func (in *installer) restartCron(ctx context.Context, changed bool) {
	if in.role != crontab.Router || !changed {
		return
	}
	in.ui.say("Restarting cron")
	if in.o.Prefix != "" {
		in.ui.info("would run: /etc/init.d/cron enable; /etc/init.d/cron restart (not under --prefix)")
		return
	}
	const initCron = "/etc/init.d/cron"
	if fi, err := os.Stat(initCron); err != nil || fi.Mode()&0o111 == 0 {
		in.ui.warn(initCron+" is missing, so the new cron lines may not run",
			"install busybox crond (opkg install busybox) or restart your cron daemon by hand")
		return
	}
	if err := in.run(ctx, initCron, "enable"); err != nil {
		in.ui.warn(initCron+" enable failed: "+err.Error(), "run it by hand")
	}
	if err := in.run(ctx, initCron, "restart"); err != nil {
		in.ui.warn(initCron+" restart failed: "+err.Error(), "run it by hand and check: logread | grep cron")
	}
}

// run runs a command that changes the system, or shows it (--dry-run).
func (in *installer) run(ctx context.Context, name string, args ...string) error {
	if in.o.DryRun {
		in.ui.info("would run: %s", strings.Join(append([]string{name}, args...), " "))
		return nil
	}
	ctx, cancel := context.WithTimeout(ctx, commandTimeout)
	defer cancel()
	out, err := in.env.Run(ctx, nil, name, args...)
	if err != nil {
		if s := strings.TrimSpace(string(out)); s != "" {
			return fmt.Errorf("%w: %s", err, s)
		}
		return err
	}
	return nil
}

// sysupgrade adds paths to /etc/sysupgrade.conf, so that an OpenWrt
// firmware upgrade keeps them, or with add false takes them out.
func (in *installer) sysupgrade(add bool, paths ...string) error {
	file := in.path("/etc/sysupgrade.conf")
	in.ui.say("Firmware upgrades keep our files (%s)", file)
	old, _, err := readOptional(file)
	if err != nil {
		return err
	}
	lines := strings.SplitAfter(old, "\n")
	if lines[len(lines)-1] == "" {
		lines = lines[:len(lines)-1]
	}
	has := func(p string) int {
		for i, l := range lines {
			if strings.TrimSuffix(l, "\n") == p {
				return i
			}
		}
		return -1
	}
	changed := false
	for _, p := range paths {
		i := has(p)
		switch {
		case add && i < 0:
			if n := len(lines); n > 0 && !strings.HasSuffix(lines[n-1], "\n") {
				lines[n-1] += "\n"
			}
			lines = append(lines, p+"\n")
			in.ui.info("adding %s", p)
		case !add && i >= 0:
			for ; i >= 0; i = has(p) {
				lines = append(lines[:i], lines[i+1:]...)
			}
			in.ui.info("removing %s", p)
		default:
			continue
		}
		changed = true
	}
	if !changed {
		in.ui.info("nothing to change")
		return nil
	}
	if _, err := in.put(file, []byte(strings.Join(lines, "")), 0o644); err != nil {
		return err
	}
	if add {
		in.ui.note("listed our files in %s", file)
	} else {
		in.ui.note("unlisted our files in %s", file)
	}
	return nil
}

// originalFiles are the original scripts' state files and log of role
// (SPEC §2), which ours read and write at their default paths: a
// migration keeps them, and a purge while the original is still set up
// leaves them to it. Not inlined, to keep the router's netcheck small
// (SPEC §12).
//
//go:noinline
func originalFiles(role crontab.Role) []string {
	if role == crontab.Host {
		return []string{"/root/pve_did_reboot_today", "/var/log/pve_host_monitor.log"}
	}
	return []string{"/root/net_rb_count", "/root/net_cooling_ts", "/root/SOS_SYSTEM", "/root/network_monitor.log"}
}

// theirs reports whether f (a path on the machine) is a file of the
// original scripts that is still set up here (a purge that kept them,
// TestPurgeKeepsRunningOriginal), and says that it stays.
func (in *installer) theirs(f string) bool {
	if !in.original() || !slices.Contains(originalFiles(in.role), filepath.Clean(f)) {
		return false
	}
	in.ui.info("kept %s: the original %s is still set up here and uses it", in.path(f), in.origName())
	return true
}

// keptFiles tells which of the original scripts' files stay.
func (in *installer) keptFiles(paths ...string) {
	for _, p := range paths {
		if exists(in.path(p)) {
			in.ui.info("kept %s", in.path(p))
			in.ui.note("kept the original script's %s", p)
		}
	}
}

// migrateRouter stops and removes the original network_monitor procd
// service; its state files and log stay (SPEC §2, §10).
func (in *installer) migrateRouter(ctx context.Context) error {
	svc, logic := in.path("/etc/init.d/network_monitor"), in.path("/usr/bin/network_monitor_logic.sh")
	pids := in.loopPIDs(routerLoop, "network_monitor_logic.sh")
	if !exists(svc) && !exists(logic) && len(pids) == 0 {
		return nil
	}
	in.ui.say("Migrating from the original network_monitor service")
	if in.o.Prefix == "" {
		if fi, err := os.Stat(svc); err == nil && fi.Mode()&0o111 != 0 {
			if err := in.run(ctx, svc, "stop"); err != nil {
				in.ui.warn(svc+" stop failed: "+err.Error(), "stop it by hand: /etc/init.d/network_monitor stop")
			}
			if err := in.run(ctx, svc, "disable"); err != nil {
				in.ui.warn(svc+" disable failed: "+err.Error(), "remove its link: rm -f /etc/rc.d/S*network_monitor")
			}
			// What the service's stop ended is gone now; a loop it
			// did not start (/etc/rc.local, by hand) is not.
			pids = in.loopPIDs(routerLoop, "network_monitor_logic.sh")
		}
		switch {
		case len(pids) > 0 && in.o.DryRun:
			in.ui.info("would run: kill %s", strings.Join(pids, " "))
		case len(pids) > 0:
			in.stopLoop(pids)
		}
	} else {
		in.ui.info("would run: /etc/init.d/network_monitor stop; /etc/init.d/network_monitor disable (not under --prefix)")
		links, _ := filepath.Glob(in.path("/etc/rc.d/[SK][0-9]*network_monitor"))
		for _, l := range links {
			if _, err := in.remove(l); err != nil {
				return err
			}
		}
	}
	for _, p := range []string{svc, logic} {
		if _, err := in.remove(p); err != nil {
			return err
		}
	}
	if in.o.Prefix != "" {
		in.ui.note("removed the original network_monitor service; would stop and disable it (not under --prefix)")
	} else {
		in.ui.note("stopped and removed the original network_monitor service")
	}
	in.keptFiles(originalFiles(crontab.Router)...)
	return nil
}

// migrateHost stops the original pve_host_monitor.sh loop and removes the
// script; its mark and log stay.
func (in *installer) migrateHost(ctx context.Context) error {
	old := in.path("/root/pve_host_monitor.sh")
	pids := in.loopPIDs(originalLoop, "pve_host_monitor.sh")
	if !exists(old) && len(pids) == 0 {
		return nil
	}
	in.ui.say("Migrating from the original pve_host_monitor.sh")
	switch {
	case in.o.Prefix != "":
		in.ui.info("would stop its running loop: pkill -f 'sh /root/pve_host_monitor.sh' (not under --prefix)")
	case len(pids) > 0 && in.o.DryRun:
		in.ui.info("would run: kill %s", strings.Join(pids, " "))
	case len(pids) > 0:
		in.stopLoop(pids)
	}
	if _, err := in.remove(old); err != nil {
		return err
	}
	if in.o.Prefix != "" {
		in.ui.note("removed the original pve_host_monitor.sh; would stop its running loop (not under --prefix)")
	} else {
		in.ui.note("stopped and removed the original pve_host_monitor.sh")
	}
	in.keptFiles(originalFiles(crontab.Host)...)
	return nil
}

// procs lists the running processes (Env.Procs, else /proc).
func (in *installer) procs() ([]Proc, error) {
	if in.env.Procs != nil {
		return in.env.Procs()
	}
	if in.env.Host.side == nil { // netcheck's installer, on the router
		return procs("/proc")
	}
	return in.env.Host.side.procs()
}

// loopPIDs are the processes running the original script name as loop
// tells them; none under --prefix, where nothing of the machine is looked
// at.
func (in *installer) loopPIDs(loop func([]string) bool, name string) []string {
	if in.o.Prefix != "" {
		return nil
	}
	ps, err := in.procs()
	if err != nil {
		in.ui.warn("cannot list the running processes: "+err.Error(), "stop the original "+name+" loop by hand: pkill -f 'sh .*"+name+"'")
	}
	var pids []string
	for _, p := range ps {
		if loop(p.Args) {
			pids = append(pids, strconv.Itoa(p.PID))
		}
	}
	return pids
}

// stopLoop sends SIGTERM to the original loop's processes and waits (up
// to loopStopWait) until they are gone, so that the old loop cannot act
// once the new cron lines are in place.
func (in *installer) stopLoop(pids []string) {
	alive := map[int]bool{}
	for _, s := range pids {
		pid, _ := strconv.Atoi(s)
		if err := in.env.Kill(pid); err != nil {
			in.ui.warn(fmt.Sprintf("could not stop the old loop (PID %d): %v", pid, err), fmt.Sprintf("kill %d", pid))
			continue
		}
		alive[pid] = true
	}
	for deadline := time.Now().Add(loopStopWait); len(alive) > 0; time.Sleep(100 * time.Millisecond) {
		ps, _ := in.procs()
		still := map[int]bool{}
		for _, p := range ps {
			still[p.PID] = alive[p.PID]
		}
		for pid := range alive {
			if !still[pid] {
				in.ui.info("stopped its loop (PID %d)", pid)
				delete(alive, pid)
			}
		}
		if time.Now().After(deadline) {
			for pid := range alive {
				in.ui.warn(fmt.Sprintf("the old loop (PID %d) is still running after SIGTERM", pid), fmt.Sprintf("kill -9 %d", pid))
			}
			return
		}
	}
}

// loopStopWait is how long the original loop gets to end after SIGTERM.
const loopStopWait = 5 * time.Second

// byName are the files of ours that purge removes by name from a
// STATE_DIR (false) or RUN_DIR (true) it keeps, one not named netrescue
// (a directory not ours alone, such as /root): the lock (cli.Lock, named
// in cmd/netcheck, cmd/hostcheck and midnight-reset) and hostcheck's own
// files (named in cmd/hostcheck, which this package cannot import; its
// TestPurgeNamesHostFiles holds the two lists together). Never a pattern:
// the owner's files beside ours stay.
var byName = map[crontab.Role]map[bool][]string{
	crontab.Router: {true: {"netcheck.lock"}},
	crontab.Host: {
		false: {rescue.RecordFile, rescue.UnreadFile, "notify.queue", "heartbeat.fail", "hostcheck.metrics"},
		true:  {"hostcheck.lock", rescue.UnreadFile, "heartbeat", "notify.sent", "notify.failing", "metrics.failing"},
	},
}

// PurgedByName lists the files of ours that purge removes by name from a
// STATE_DIR (runDir false) or RUN_DIR it keeps (for cmd/hostcheck's test
// that its files are all named).
func PurgedByName(r crontab.Role, runDir bool) []string { return byName[r][runDir] }

// removeFile removes path, a file of ours by its name. Our files are
// files: a directory there (PVE_MARK=/root by mistake) is the owner's, and
// stays with what it holds.
func (in *installer) removeFile(path string) error {
	if fi, err := os.Lstat(path); err == nil && fi.IsDir() {
		in.ui.info("kept %s (a directory, not a file of ours)", path)
		return nil
	}
	_, err := in.remove(path)
	return err
}

// keptDir removes from dir, a STATE_DIR or RUN_DIR purge keeps (not ours
// alone), the files of ours named in names, and says so.
func (in *installer) keptDir(dir string, names []string) error {
	for _, n := range names {
		if err := in.removeFile(in.path(filepath.Join(dir, n))); err != nil {
			return err
		}
	}
	kept, removed := "kept", "are removed"
	if in.o.DryRun {
		kept, removed = "would keep", "would be removed"
	}
	in.ui.info("%s %s (not ours alone); our files in it %s", kept, in.path(dir), removed)
	return nil
}

// purgePin removes KNOWN_HOSTS where it is ours alone (in a directory
// named netrescue, as /etc/netrescue/known_hosts). Elsewhere
// (/root/.ssh/known_hosts) it is the owner's, with their other pins,
// which pin kept byte for byte: only the router's pin goes.
//
// A link there (/etc/netrescue/known_hosts -> /root/.ssh/known_hosts) is
// ours, the file it leads to the owner's: pin wrote the router's pin
// through it (remote.Pin), so the pin goes from that file, then the link.
func (in *installer) purgePin() error {
	c := in.cfg
	kh := in.path(c.KnownHosts)
	if filepath.Base(filepath.Dir(c.KnownHosts)) == "netrescue" {
		if fi, err := os.Lstat(kh); err == nil && fi.Mode()&os.ModeSymlink != 0 {
			if target, err := filepath.EvalSymlinks(kh); err == nil { // else it leads nowhere: nothing pinned
				if err := in.unpin(target); err != nil {
					return err
				}
			}
		}
		_, err := in.remove(kh)
		return err
	}
	return in.unpin(kh)
}

// unpin removes the router's pin from kh, a known_hosts file not ours
// alone (or the owner's file a link of ours leads to): its other lines
// stay.
func (in *installer) unpin(kh string) error {
	c := in.cfg
	addr := net.JoinHostPort(c.OpIP, strconv.Itoa(c.OpSSHPort))
	if fi, err := os.Stat(kh); err == nil && fi.IsDir() {
		// KNOWN_HOSTS=/root/.ssh by mistake: no pin can be in it, and
		// it stays with what it holds, as a directory at PVE_MARK does.
		in.ui.info("kept %s (a directory, not a known_hosts file)", kh)
		return nil
	}
	switch {
	case !exists(kh):
		return nil
	case in.env.Host.Unpin == nil:
		in.ui.info("kept %s (not ours alone): remove the pin of %s from it by hand (ssh-keygen -R %s -f %s)", kh, addr, c.OpIP, kh)
		return nil
	case in.o.DryRun:
		in.ui.info("would remove the pin of %s from %s (not ours alone; its other lines stay)", addr, kh)
		return nil
	}
	removed, err := in.env.Host.Unpin(kh, addr)
	if err != nil {
		return fail(fmt.Sprintf("cannot remove the pin of %s from %s: %v", addr, kh, err), "check the permissions of "+kh)
	}
	if removed {
		in.ui.info("removed the pin of %s from %s (not ours alone; its other lines stay)", addr, kh)
	}
	return nil
}

// purge removes the config, the logs and the state files (the SSH key
// stays: it may serve other logins).
func (in *installer) purge() error {
	in.ui.say("Purging configuration, logs and state")
	c := in.cfg
	// A RUN_DIR others may write (/tmp) holds the run's files in a
	// private subdirectory (cli.RunDir): that one is ours alone, and
	// nothing of ours is in the directory itself.
	private := cli.RunDir(in.path(c.RunDir))
	sharedRun := private != in.path(c.RunDir)
	var files []string
	if in.role == crontab.Router {
		// Named by package ladder that writes them, so that purge
		// cannot miss one it adds.
		for _, f := range ladder.StateFiles {
			files = append(files, filepath.Join(c.StateDir, f))
		}
		// RUN_DIR may be the owner's (/run/nc): its file of ours goes
		// by name. One others may write (/tmp) holds it in the private
		// subdirectory, removed whole below.
		if !sharedRun {
			files = append(files, filepath.Join(c.RunDir, ladder.VolatileFile))
		}
	} else {
		files = append(files, c.PVEMark)
		if err := in.purgePin(); err != nil {
			return err
		}
	}
	// STATE_DIR may be the owner's own (/root): only names we write go,
	// never a pattern, which would take their netrescue-*.tar.gz too.
	files = append(files, filepath.Join(c.StateDir, pause.File))
	for _, f := range files {
		if in.theirs(f) {
			continue
		}
		if err := in.removeFile(in.path(f)); err != nil {
			return err
		}
	}
	// What a dry run wrote (-dry-run, SPEC §7) is a directory of ours.
	for _, d := range []string{c.StateDir, c.RunDir} {
		if d == c.RunDir && sharedRun {
			continue // in the private subdirectory, removed whole below
		}
		if err := in.removeAll(in.path(filepath.Join(d, ladder.DryRunDir))); err != nil {
			return err
		}
	}
	if in.role == crontab.Host {
		if dir := filepath.Dir(c.KnownHosts); filepath.Base(dir) == "netrescue" && !in.o.DryRun {
			_ = os.Remove(in.path(dir)) // only when empty
		}
		in.ui.info("kept the SSH key (%s); it may serve other logins", c.SSHKey)
	}
	if sharedRun {
		if err := in.removeAll(private); err != nil {
			return err
		}
	}
	for _, d := range []string{c.StateDir, c.RunDir} {
		if filepath.Base(d) != "netrescue" {
			names := byName[in.role][d == c.RunDir]
			if d == c.RunDir && sharedRun {
				names = nil // the same names there are another's
			}
			if err := in.keptDir(d, names); err != nil {
				return err
			}
			continue
		}
		if err := in.removeAll(in.path(d)); err != nil {
			return err
		}
	}
	// The log and its rotated lines, .1. A symlinked LOG_FILE goes as a
	// link: the file it leads to (where logx writes and rotates) is named,
	// not removed, for a link may lead anywhere. Only regular files and
	// links go: LOG_FILE=/dev/null is a setting, /dev/null not ours.
	if t, err := os.Readlink(in.path(c.LogFile)); err == nil {
		in.ui.info("kept %s and its .1, where the link %s leads: remove them by hand", t, c.LogFile)
	}
	for _, f := range []string{c.LogFile, c.LogFile + ".1", config.DefaultPath} {
		if in.theirs(f) {
			continue
		}
		if fi, err := os.Lstat(in.path(f)); err == nil && !fi.Mode().IsRegular() && fi.Mode()&os.ModeSymlink == 0 {
			in.ui.info("kept %s (a %s)", in.path(f), state.FileKind(fi.Mode()))
			continue
		}
		if _, err := in.remove(in.path(f)); err != nil {
			return err
		}
	}
	in.ui.note("purged configuration, logs and state")
	return nil
}

// statusBinary is the installed binary whose status ends the install.
func (in *installer) statusBinary() string {
	switch {
	case in.role == crontab.Router:
		return in.path("/usr/bin/netcheck")
	case in.pkg:
		return in.path("/usr/bin/hostcheck")
	}
	return in.path("/usr/local/bin/hostcheck")
}

// statusStep ends the install with the side's status checklist. Under
// --prefix status would probe the network from this machine and read its
// own state, so only the config is checked, offline, in the tree.
func (in *installer) statusStep(ctx context.Context) {
	bin := in.statusBinary()
	name := filepath.Base(bin)
	if in.o.Prefix != "" {
		conf := in.confPath()
		in.ui.say("Checking the config: %s", conf)
		in.ui.info("status is not run under --prefix: it would probe the network from this machine and read its own state; on the target run: %s status", in.bare(bin))
		if in.o.DryRun {
			return
		}
		if _, err := config.Load(conf, config.Role(in.role), config.Options{Euid: in.env.Euid}); err != nil {
			in.ui.info("%v", err)
			in.ui.warn(name+" refuses "+conf+" (the line above says why)", "edit "+config.DefaultPath)
			return
		}
		in.ui.note("config accepted by %s", name)
		return
	}
	in.ui.say("Checking: %s status", bin)
	if in.o.DryRun {
		in.ui.info("would run: %s status", bin)
		return
	}
	ctx, cancel := context.WithTimeout(ctx, statusTimeout)
	defer cancel()
	out, err := in.env.Run(ctx, nil, bin, "status")
	for _, l := range strings.Split(strings.TrimRight(string(out), "\n"), "\n") {
		in.ui.info("%s", l)
	}
	if err == nil {
		in.ui.note("status: all checks passed")
		return
	}
	in.ui.info("(status ended with %v: the ✗ lines above say what is not right yet; the install itself is complete)", err)
	in.ui.note("status reported problems (%v); run %s status to see them again", err, bin)
}

// packageHost: the netrescue package holds the host side. A copy from
// the installer beside it is refused (the fix removes it); without
// --router there is nothing to do but say so; with it this run only pairs
// the router.
func (in *installer) packageHost(ctx context.Context) error {
	in.ui.say("Host side: the netrescue package (dpkg) installed it")
	var dup []string
	for _, n := range in.binaries() {
		if p := filepath.Join(in.binDir(), n); exists(p) {
			dup = append(dup, p)
		}
	}
	cron, err := in.readCrontab(ctx)
	if err != nil {
		return err
	}
	for _, l := range strings.Split(cron, "\n") {
		if crontab.IsOurs(l) {
			dup = append(dup, in.cronWhere())
			break
		}
	}
	if len(dup) > 0 {
		return fail(fmt.Sprintf("this host is set up twice, by the netrescue package and by install.sh (%s), so every rescue would run twice", strings.Join(dup, " ")),
			"remove install.sh's copy: "+in.selfCommand()+" --role host --uninstall")
	}
	if in.o.Router == "" && in.originalHost(cron) {
		// The package's cron jobs run beside the original loop until it
		// goes: this run migrates from it (and pairs nothing).
		in.ui.info("kept as it is: this run only migrates from the original pve_host_monitor.sh")
		return nil
	}
	if in.o.Router == "" {
		return fail(fmt.Sprintf("the netrescue package already installs the host side here (%s, %s); a second copy from install.sh would run every rescue twice",
			in.path("/usr/bin/hostcheck"), in.path(crontab.PackageFile)),
			"keep the package and pair the router with: "+in.selfCommand()+" --router IP (with the package it only pairs), or remove the package first: dpkg -r netrescue")
	}
	in.ui.info("kept as it is: this run only pairs the router")
	if err := in.routerConfig(false); err != nil {
		return err
	}
	if err := in.configStep(); err != nil {
		return err
	}
	if err := in.routerConfig(true); err != nil {
		return err
	}
	return in.key()
}

// routerConfig makes the host's config name the router that --router and
// --port pair, so that hostcheck watches the router it is paired with
// (SPEC §3, §10). A key the file leaves at its default (absent, or only
// commented out, as in the package's conffile) is appended as to a fresh
// config, the rest of the file kept byte for byte, its mode and owner
// too; a key the file sets to another value stops the install, naming the
// line. Without write it only checks, so that a conflict stops the install
// before anything changes. Host side only: reached from installHost and
// packageHost, so netcheck links none of it (SPEC §12).
func (in *installer) routerConfig(write bool) error {
	conf := in.confPath()
	fi, err := os.Lstat(conf)
	if in.o.Router == "" && in.o.Port == 0 || err != nil {
		return nil // no file: configStep writes --router and --port into the new one
	}
	content, _, err := readOptional(conf)
	if err != nil {
		return err
	}
	if _, err := in.readConfig(); err != nil {
		// Its keys cannot be told (a line the binaries refuse), and
		// hostcheck would not run on it anyway: pairing waits for it.
		return usageError(fmt.Sprintf("%s does not load, so the installer cannot tell which router it names: %v", conf, err),
			"nothing was changed; fix "+conf+", then run this again")
	}
	// What the file sets: the last line of a key wins, as in config.Parse.
	type setting struct {
		line int
		val  string
		ours bool // right under our "# Set by the installer's …" line
	}
	set := map[string]setting{}
	lines := strings.Split(strings.TrimPrefix(content, "\ufeff"), "\n") // a BOM, as config.Parse
	prev := ""
	for i, raw := range lines {
		line := strings.TrimPrefix(strings.TrimSpace(strings.TrimSuffix(raw, "\r")), "export ")
		above := prev
		prev = line
		name, val, ok := strings.Cut(line, "=")
		name = strings.TrimSpace(name)
		if !ok || (name != "OP_IP" && name != "OP_SSH_PORT") {
			continue
		}
		val = strings.TrimSpace(val)
		if c, err := config.Parse(conf, line, config.Host); err == nil { // its quotes taken off
			val = c.OpIP
			if name == "OP_SSH_PORT" {
				val = strconv.Itoa(c.OpSSHPort)
			}
		}
		set[name] = setting{i + 1, val, strings.HasPrefix(above, "# Set by the installer's ")}
	}
	type want struct{ key, flag, val, def string }
	var wants []want
	if in.o.Router != "" {
		wants = append(wants, want{"OP_IP", "--router", in.o.Router, DefaultRouterIP})
	}
	if in.o.Port != 0 {
		wants = append(wants, want{"OP_SSH_PORT", "--port", strconv.Itoa(in.o.Port), "22"})
	}
	var add []string
	var appended string
	replaced := false
	// What the output says of each: a replaced value with the one it
	// replaced; an appended key was absent or commented out, at its default.
	var said, defaulted []string
	for _, w := range wants {
		s, ok := set[w.key]
		switch {
		case ok && s.val != w.val && s.ours:
			// An earlier install's --router or --port (a typo, a router
			// since moved): ours to change, the line in place.
			lines[s.line-1] = w.key + "=" + w.val
			replaced = true
			add = append(add, w.key+"="+w.val)
			said = append(said, w.key+"="+w.val+" (was "+s.val+")")
		case ok && s.val != w.val:
			return usageError(fmt.Sprintf("%s:%d sets %s=%s, but %s is %s: hostcheck would watch another router than the one paired", conf, s.line, w.key, s.val, w.flag, w.val),
				fmt.Sprintf("nothing was changed; edit line %d of %s to %s=%s, or pass %s %s", s.line, conf, w.key, w.val, w.flag, s.val))
		case !ok && w.val != w.def:
			add = append(add, w.key+"="+w.val)
			said = append(said, w.key+"="+w.val)
			defaulted = append(defaulted, w.key)
			appended += "\n# Set by the installer's " + w.flag + ".\n" + w.key + "=" + w.val + "\n"
		}
	}
	if replaced { // the lines changed in place, a BOM kept
		bom := content[:len(content)-len(strings.TrimPrefix(content, "\ufeff"))]
		content = bom + strings.Join(lines, "\n")
	}
	if appended != "" {
		content = strings.TrimSuffix(content, "\n") + "\n" + appended
	}
	if len(add) == 0 {
		return nil
	}
	if !fi.Mode().IsRegular() {
		// Refused by the check before any change, as a value set there.
		return fail(fmt.Sprintf("%s is not a regular file (a link?), so the installer does not write %s into it", conf, strings.Join(add, " and ")),
			"nothing was changed; add "+strings.Join(add, " and ")+" to it by hand, then run this again")
	}
	if !write {
		return nil
	}
	if strings.HasPrefix(content, "\n\n") { // an empty file
		content = content[2:]
	}
	if _, err := in.put(conf, []byte(content), fi.Mode().Perm()); err != nil {
		return err
	}
	if st, ok := fi.Sys().(*syscall.Stat_t); ok && !in.o.DryRun && (int(st.Uid) != os.Geteuid() || int(st.Gid) != os.Getegid()) {
		if err := os.Lchown(conf, int(st.Uid), int(st.Gid)); err != nil {
			return fail(fmt.Sprintf("cannot give %s back to uid %d gid %d: %v", conf, st.Uid, st.Gid, err), fmt.Sprintf("chown %d:%d %s", st.Uid, st.Gid, conf))
		}
	}
	what := "set " + strings.Join(said, " and ") + " in " + conf
	switch {
	case len(defaulted) == 0:
	case len(defaulted) < len(said):
		what += " (it left " + strings.Join(defaulted, " and ") + " at " + plural(len(defaulted), "its default", "their defaults") + ")"
	default:
		what += " (it left " + plural(len(defaulted), "it at its default", "them at their defaults") + ")"
	}
	if in.o.DryRun {
		in.ui.info("would %s", what)
	} else {
		in.ui.info("%s", what)
		in.cfg, _ = in.readConfig() // the pairing reads them
	}
	in.ui.note("%s", what)
	return nil
}

// originalHost: the original pve_host_monitor.sh is still set up here:
// the script, its lines in root's crontab (cron), or its running loop.
func (in *installer) originalHost(cron string) bool {
	if exists(in.path("/root/pve_host_monitor.sh")) || len(crontab.Legacy(cron)) > 0 || len(crontab.Mixed(cron)) > 0 {
		return true
	}
	if in.o.Prefix != "" {
		return false
	}
	ps, _ := in.procs()
	for _, p := range ps {
		if originalLoop(p.Args) {
			return true
		}
	}
	return false
}

// originalLoop reports whether args (a process's argv) is the original
// pve_host_monitor.sh running: a shell given the script (its @reboot line
// runs it by its #!/bin/bash line, so argv is "/bin/bash
// /root/pve_host_monitor.sh"), or the script itself. Any other process
// that only names it — tail -f, an editor, the original README's
// `ps … | grep pve_host_monitor.sh` — is not, and is never sent SIGTERM.
func originalLoop(args []string) bool { return scriptLoop(args, "pve_host_monitor.sh") }

// routerLoop is originalLoop for the router's original loop,
// network_monitor_logic.sh (busybox sh given the script).
func routerLoop(args []string) bool { return scriptLoop(args, "network_monitor_logic.sh") }

// scriptLoop reports whether args is a shell running the script name, or
// the script itself (originalLoop).
func scriptLoop(args []string, name string) bool {
	if len(args) == 0 {
		return false
	}
	script := func(a string) bool { return filepath.Base(a) == name && !strings.ContainsAny(a, " \t;&|") }
	if script(args[0]) {
		return true
	}
	switch filepath.Base(args[0]) {
	case "sh", "bash", "dash", "ash", "ksh", "zsh", "busybox":
	default:
		return false
	}
	for i, a := range args[1:] {
		switch {
		case strings.HasPrefix(a, "-"):
		case i == 0 && filepath.Base(args[0]) == "busybox" && (a == "sh" || a == "ash"):
		default:
			return script(a)
		}
	}
	return false
}

// migratePackaged migrates from the original pve_host_monitor.sh on a host
// the netrescue package set up (SPEC §10): the loop stopped, the script
// removed, its lines taken out of root's crontab and none of ours put
// there (ours are the package's, in /etc/cron.d). Otherwise it and
// hostcheck would both act on one SOS.
func (in *installer) migratePackaged(ctx context.Context) error {
	in.originalLeftOut() // the package's conffile, kept as it is
	if err := in.env.Host.side.migrate(in, ctx); err != nil {
		return err
	}
	old, err := in.readCrontab(ctx)
	if err != nil {
		return err
	}
	in.mixedLegacy(old)
	legacy := crontab.Legacy(old)
	if len(legacy) == 0 {
		return nil
	}
	in.ui.say("Cron lines in %s", in.cronWhere())
	in.ui.info("removing the original scripts' cron lines (ours are the package's, in %s):", crontab.PackageFile)
	for _, l := range legacy {
		in.ui.info("  - %s", l)
	}
	if _, err := in.writeCrontab(ctx, old, crontab.RemoveLegacy(old)); err != nil {
		return err
	}
	in.ui.note("removed the original scripts' cron lines from %s", in.cronWhere())
	return nil
}

// MissingBinaries lists the names not in dir (for package pair).
func MissingBinaries(dir string, names []string) []string { return missingBinaries(dir, names) }

// plural is one when n is 1, else many.
func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}
