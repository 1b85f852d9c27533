// Package health renders the `status` checklist of both binaries (SPEC §7)
// and holds the checks both sides share: config, cron lines and crond,
// the log file.
package health

import (
	"cmp"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
	"unicode/utf16"
	"unicode/utf8"

	"golang.org/x/sys/unix"

	"github.com/pve-op/network-rescue/crontab"
	"github.com/pve-op/network-rescue/internal/cli"
	"github.com/pve-op/network-rescue/internal/command"
	"github.com/pve-op/network-rescue/internal/config"
	"github.com/pve-op/network-rescue/internal/logx"
	"github.com/pve-op/network-rescue/internal/sysinfo"
	"github.com/pve-op/network-rescue/internal/tz"
	"github.com/pve-op/network-rescue/state"
)

// Check is one line of the checklist. Fix says what to do when !OK. As
// JSON (`status -json`, SPEC §16) it is {"name", "ok", "detail", "fix"},
// every field always present.
type Check struct {
	Name   string `json:"name"`
	OK     bool   `json:"ok"`
	Detail string `json:"detail"`
	Fix    string `json:"fix"`
}

// Info is a line that only informs (state files, last log lines).
// Not inlined, to keep the router's netcheck small (SPEC §12), as
// group.end in probe.
//
//go:noinline
func Info(name, detail string) Check { return Check{OK: true, Name: name, Detail: detail} }

// Render writes the checklist and reports whether every check passed.
func Render(w io.Writer, checks []Check) (allOK bool) {
	allOK = true
	for _, c := range checks {
		mark := "✓"
		if !c.OK {
			mark, allOK = "✗", false
		}
		fmt.Fprintf(w, "%s %s", mark, c.Name)
		if c.Detail != "" {
			fmt.Fprintf(w, ": %s", strings.ReplaceAll(c.Detail, "\n", "\n    "))
		}
		fmt.Fprintln(w)
		if !c.OK && c.Fix != "" {
			fmt.Fprintf(w, "    fix: %s\n", c.Fix)
		}
	}
	return allOK
}

// Cron checks that crontabPath holds our lines for role and that crond runs.
// A line of ours commented out is said so, with its fix: the installer
// keeps it so, and running it again changes nothing.
func Cron(crontabPath string, role crontab.Role, fix string) []Check {
	return cron(crontabPath, role, fix, func(s string) []string { return crontab.Check(s, role) }, crontab.DisabledLine)
}

// CronPackage is Cron for a host installed from the package: its lines are
// in /etc/cron.d/netrescue (crontab.PackageLines).
func CronPackage(path string) []Check {
	return cron(path, crontab.Role("host"), "apt-get install --reinstall netrescue (the package's "+path+" is a conffile: "+
		"dpkg asks before it replaces a changed one)", crontab.CheckPackage, nil)
}

// cron is Cron and CronPackage: check names the lines missing, off (when
// not nil) the commented-out lines that turn one of them off.
func cron(crontabPath string, role crontab.Role, fix string, check func(string) []string, off func(string, string) []string) []Check {
	var out []Check
	// The crontab may be a symlink the user manages; a FIFO there must not
	// hang `status` (SPEC §15).
	b, err := state.ReadBoundedFollow(crontabPath, maxCrontabBytes)
	var ce *state.CorruptError
	switch {
	case errors.As(err, &ce):
		out = append(out, Check{Name: "cron entries", Detail: fmt.Sprintf("%s is a %s, not a crontab file", crontabPath, ce.Kind),
			Fix: "give -crontab the crontab file (a regular file)"})
	case err != nil:
		// The fix adds "the lines above": they are named here too.
		out = append(out, Check{Name: "cron entries", Detail: fmt.Sprintf("cannot read %s: %v; it needs: %s", crontabPath, err,
			strings.Join(check(""), "; ")), Fix: fix})
	default:
		var lacks, disabled []string
		for _, l := range check(string(b)) {
			var d []string
			if off != nil {
				d = off(string(b), l)
			}
			if len(d) > 0 {
				disabled = append(disabled, d...)
			} else {
				lacks = append(lacks, l)
			}
		}
		c := Check{Name: "cron entries", Detail: crontabPath + " lacks: " + strings.Join(lacks, "; "), Fix: fix}
		if len(disabled) > 0 {
			c.Detail = crontabPath + ": the rescue is disabled, this line commented out: " + strings.Join(disabled, "; ")
			c.Fix = "remove the # at the start of that line: crontab -e (the installer keeps it commented out)"
			if len(lacks) > 0 {
				c.Detail += "; it lacks: " + strings.Join(lacks, "; ")
				c.Fix += "; for the rest: " + fix
			}
		}
		if len(lacks)+len(disabled) > 0 {
			out = append(out, c)
		} else {
			out = append(out, Check{OK: true, Name: "cron entries", Detail: crontabPath})
		}
	}
	names := []string{"crond", "cron"}
	if pid := sysinfo.FindProcess(names...); pid != "" {
		out = append(out, Check{OK: true, Name: "crond running", Detail: "pid " + pid})
	} else {
		f := "/etc/init.d/cron enable && /etc/init.d/cron start"
		if role == crontab.Role("host") {
			f = "systemctl enable --now cron"
		}
		out = append(out, Check{Name: "crond running", Detail: "no crond or cron process found", Fix: f})
	}
	return out
}

// Log reports whether STATE_DIR and the log file's directory (its link's
// target's) take a file, a temp file written and removed (one not there
// yet is made by the first run that writes), and shows the log's last
// lines. A read-only or full STATE_DIR stops the router's L3 and its SOS,
// which must be written before they happen, and every step of the host:
// it was not checked, and access(2) on the log's directory misses a full
// disk. Of files, the state files the runs replace and remove (paths),
// one made immutable or append-only (chattr +i, +a) fails "state
// writable" too: the directory takes files, yet every run fails on that
// one (an SOS_SYSTEM that cannot be withdrawn, a count that stays).
func Log(path, stateDir string, files []string, lines int) []Check {
	var out []Check
	for _, w := range []struct{ name, dir, file, fix string }{
		{"state writable", stateDir, "", "free space or remount read-write (df -h; mount), or set STATE_DIR: L3, SOS and the host's mark are written there first"},
		{"log writable", logx.Dir(path), path, "free space or remount read-write (df -h; mount), or set LOG_FILE"},
	} {
		// Lstat: a dangling link there fails as the runs' MkdirAll does.
		// Not made yet, it is made as the first run that writes will make
		// it, tried, and removed again (empty): nothing is written outside
		// it (a temp file went to "/" for a STATE_DIR whose parents were
		// not there), and one the runs cannot make is a ✗ (it was ✓).
		made, dir := "", filepath.Clean(w.dir) // "a/new/../keep": the walk below is by clean names
		if _, lerr := os.Lstat(dir); errors.Is(lerr, fs.ErrNotExist) {
			for made = dir; ; made = filepath.Dir(made) {
				if _, lerr := os.Lstat(filepath.Dir(made)); !errors.Is(lerr, fs.ErrNotExist) || made == filepath.Dir(made) {
					break
				}
			}
		}
		err := os.MkdirAll(dir, 0o755)
		if err == nil && flagged(dir) {
			// An append-only (or immutable) directory takes a new file,
			// yet refuses every rename and removal in it: each state
			// write, a temp file renamed over the old, fails, the log's
			// rotation (a rename to .1) too, and the probe file below
			// could not be removed again. The log's directory is
			// STATE_DIR itself by the router's defaults (/root).
			detail := w.dir + " is append-only or immutable (chattr +a or +i): the runs cannot replace a file in it"
			if w.file != "" {
				detail = w.dir + " is append-only or immutable (chattr +a or +i): the log cannot be rotated (LOG_MAX_BYTES) in it"
			}
			out = append(out, Check{Name: w.name, Detail: detail, Fix: "chattr -i -a " + w.dir})
			continue
		}
		if err == nil {
			var f *os.File
			if f, err = os.CreateTemp(dir, ".netrescue-status-"); err == nil {
				_, err = f.Write([]byte{'\n'})
				if cerr := f.Close(); err == nil {
					err = cerr
				}
				_ = os.Remove(f.Name())
			}
		}
		if fz := frozen(files); err == nil && w.file == "" && len(fz) > 0 {
			out = append(out, Check{Name: w.name, Detail: strings.Join(fz, ", ") + plural(len(fz), " is", " are") +
				" immutable or append-only (chattr +i or +a): the runs cannot replace or remove " + plural(len(fz), "it", "them"),
				Fix: "chattr -i -a " + strings.Join(fz, " ")})
			continue
		}
		if err == nil && w.file != "" {
			// The log itself, opened as logx opens it but not made: an
			// immutable one (chattr +i) refuses every line, in a
			// directory that takes files (it was ✓).
			if f, oerr := os.OpenFile(w.file, os.O_WRONLY|os.O_APPEND|unix.O_NONBLOCK|unix.O_CLOEXEC, 0); oerr == nil {
				_ = f.Close()
			} else if !errors.Is(oerr, fs.ErrNotExist) {
				err = oerr
			}
		}
		for d := dir; made != ""; d = filepath.Dir(d) {
			_ = os.Remove(d) // empty, or a run's since: kept
			if d == made {
				break
			}
		}
		switch {
		case errors.Is(err, fs.ErrPermission) && os.Geteuid() != 0:
			// Root's runs may write where this user may not.
			out = append(out, Check{OK: true, Name: w.name, Detail: w.dir + " (not checked: status runs as uid " + strconv.Itoa(os.Geteuid()) + ", the runs as root)"})
		case err != nil:
			out = append(out, Check{Name: w.name, Detail: err.Error(), Fix: w.fix})
		default:
			out = append(out, Check{OK: true, Name: w.name, Detail: w.dir})
		}
	}
	last, err := tail(path, lines)
	switch {
	case err != nil && os.IsNotExist(err):
		out = append(out, Info("last log lines", "none yet (the log is written only when something happens)"))
	case errors.Is(err, errLogDevice):
		out = append(out, Info("last log lines", "none: LOG_FILE "+path+" is a character device, where the runs' lines are discarded"))
	case err != nil:
		out = append(out, Check{Name: "last log lines", Detail: err.Error(),
			Fix: fmt.Sprintf("check the permissions of %s; if it is not a regular file, remove it (the next run recreates it)", path)})
	default:
		out = append(out, Info("last log lines", "\n"+strings.Join(last, "\n")))
	}
	return out
}

// frozen lists the regular files of paths whose inode flags (chattr +i,
// +a) refuse a rename over them and their removal, as every state write
// is (state.Write: a temp file renamed over the old).
func frozen(paths []string) []string {
	var out []string
	for _, p := range paths {
		if fi, err := os.Lstat(p); err != nil || !fi.Mode().IsRegular() {
			continue // absent, or damaged: the runs say so themselves
		}
		fd, err := unix.Open(p, unix.O_RDONLY|unix.O_NONBLOCK|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
		if err != nil {
			continue
		}
		flags, err := unix.IoctlGetUint32(fd, unix.FS_IOC_GETFLAGS)
		_ = unix.Close(fd)
		if err == nil && flags&(fsImmutable|fsAppend) != 0 {
			out = append(out, p)
		}
	}
	return out
}

// flagged reports whether the directory dir is append-only or immutable
// (chattr +a, +i).
func flagged(dir string) bool {
	fd, err := unix.Open(dir, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_NONBLOCK|unix.O_CLOEXEC, 0)
	if err != nil {
		return false
	}
	flags, err := unix.IoctlGetUint32(fd, unix.FS_IOC_GETFLAGS)
	_ = unix.Close(fd)
	return err == nil && flags&(fsImmutable|fsAppend) != 0
}

// The inode flags of FS_IOC_GETFLAGS that chattr +i and +a set
// (include/uapi/linux/fs.h: FS_IMMUTABLE_FL, FS_APPEND_FL).
const (
	fsImmutable = 0x10
	fsAppend    = 0x20
)

// plural is one when n is 1, else many.
func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

// maxCrontabBytes bounds the crontab read (SPEC §15).
const maxCrontabBytes = 1 << 20

// tailWindow is how much of the log's end `status` reads.
const tailWindow = 64 << 10

// errLogDevice is tail's answer for a LOG_FILE that is a character device
// (/dev/null): the runs write their lines there, and none can be read back.
var errLogDevice = errors.New("a character device")

// tail returns the last n lines of path, reading at most its last 64 KiB;
// a line that starts before that is left out, not shown cut.
func tail(path string, n int) ([]string, error) {
	// Without blocking (SPEC §15): a FIFO as LOG_FILE must not hang
	// `status`. A symlink is followed, as the log writer (logx) and
	// `report` follow it: LOG_FILE lives in root's directories, and a user
	// may link it to other storage.
	f, err := os.OpenFile(path, os.O_RDONLY|unix.O_NONBLOCK|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, err
	}
	if fi.Mode()&fs.ModeCharDevice != 0 {
		return nil, errLogDevice // LOG_FILE=/dev/null: a setting, which logx writes to
	}
	if !fi.Mode().IsRegular() {
		return nil, fmt.Errorf("%s is a %s, not the log file", path, state.FileKind(fi.Mode()))
	}
	cut := fi.Size() > tailWindow
	if cut {
		if _, err := f.Seek(-tailWindow, io.SeekEnd); err != nil {
			return nil, err
		}
	}
	b, err := io.ReadAll(io.LimitReader(f, tailWindow))
	if err != nil {
		return nil, err
	}
	text := strings.TrimSuffix(string(b), "\n")
	if text == "" {
		return nil, nil
	}
	lines := strings.Split(text, "\n")
	if cut && len(lines) > 1 {
		lines = lines[1:] // the end of a line that started before the window
	}
	return lines[max(0, len(lines)-n):], nil
}

// Volatile is the check, for the router on OpenWrt (release is
// /etc/openwrt_release), that STATE_DIR survives a reboot (SPEC §5): /tmp,
// and /var with it, are a tmpfs there. A count kept on one goes with every
// reboot, and the router reboots at every L3, never cooling, never raising
// SOS. ok is true elsewhere, and for a directory (or, not made yet, its
// nearest parent) on any other file system.
func Volatile(release, dir string) (c Check, ok bool) {
	if _, err := os.Stat(release); err != nil {
		return c, true
	}
	var st unix.Statfs_t
	for p := dir; unix.Statfs(p, &st) != nil; p = filepath.Dir(p) {
		if p == "/" {
			return c, true
		}
	}
	if t := uint32(st.Type); t != unix.TMPFS_MAGIC && t != unix.RAMFS_MAGIC {
		return c, true
	}
	return Check{Name: "state kept across reboots", Detail: "STATE_DIR " + dir + " is on a tmpfs, which every reboot empties: the reboot count and cooling go with it, and the router would reboot without end",
		Fix: "set STATE_DIR to a directory on flash, such as /root (the default)"}, false
}

// Basics are the first lines of both checklists: the binary, the
// configuration it loaded, and the time zone that dates marks and midnight.
func Basics(cfg config.Config, now time.Time, tzFix string) ([]Check, *time.Location) {
	exe, _ := os.Executable()
	src := "defaults (no " + config.DefaultPath + ")"
	if cfg.Path != "" {
		src = cfg.Path
	}
	conf := Info("config valid", src)
	if cfg.DryRun && !cfg.DryRunFlag {
		// Left on after a trial, the rescue never acts: said as a fault
		// (not -dry-run's, asked for this one run).
		conf = Check{Name: "config valid", Detail: src + ": DRY_RUN=1 decides and logs, never acts", Fix: "set DRY_RUN=0"}
	}
	out := []Check{Info("binary", cli.VersionString(exe)), conf}
	loc, zoneSrc, err := tz.Load(os.Getenv, cli.ReadSystemFile)
	if err != nil {
		return append(out, Check{Name: "time zone", Detail: err.Error(), Fix: tzFix}), time.UTC
	}
	return append(out, Info("time zone", fmt.Sprintf("%s (%s), now %s", loc, zoneSrc, now.In(loc).Format(time.DateTime)))), loc
}

// WANIface is the check of the netifd interface that L1 redials (SPEC
// §14), from the answer r of `ifstatus IFACE` (cmdline). OpenWrt's
// ifstatus prints "Interface X not found" and exits 1 when netifd does not
// know X, and netifd's status object (JSON) otherwise
// (openwrt/openwrt package/network/config/netifd/files/sbin/ifstatus).
func WANIface(iface, cmdline string, r command.Result) Check {
	const name = "WAN interface"
	out := strings.TrimSpace(r.Stdout)
	first, _, _ := strings.Cut(out, "\n")
	if !r.OK() {
		if strings.Contains(first, "not found") {
			return Check{Name: name, Detail: fmt.Sprintf("%s: %s (%s)", iface, first, cmdline),
				Fix: "set WAN_IFACE to the WAN interface of /etc/config/network (ubus list 'network.interface.*' lists them): L1 redials WAN_IFACE"}
		}
		return Check{Name: name, Detail: fmt.Sprintf("%s: cannot ask netifd: %s (%s)", iface, r.Summary(), cmdline),
			Fix: "IFSTATUS must be OpenWrt's ifstatus (/sbin/ifstatus), and netifd must run (/etc/init.d/network status)"}
	}
	// netifd's status object: "up" (true/false), "proto", "l3_device"
	// (pppoe-wan) and "device" (eth1), among members we skip.
	m, err := objectScalars(out)
	up, proto, l3, dev := m["up"], m["proto"], m["l3_device"], m["device"]
	if err != nil || (up.Value != "" && !up.IsBool) || proto.IsBool || l3.IsBool || dev.IsBool {
		return Check{Name: name, Detail: fmt.Sprintf("%s: %s answered %q, not netifd's status", iface, cmdline, first),
			Fix: "IFSTATUS must be OpenWrt's ifstatus (/sbin/ifstatus)"}
	}
	d := iface
	if on := cmp.Or(l3.Value, dev.Value); proto.Value != "" && on != "" {
		d += fmt.Sprintf(" (%s on %s)", proto.Value, on)
	} else if proto.Value != "" {
		d += " (" + proto.Value + ")"
	}
	if up.Value == "true" {
		return Info(name, d+": up")
	}
	return Info(name, d+": down (L1 redials it when the internet is down)")
}

// ConfigFailed renders the checklist of a configuration that does not load:
// `status` still answers, with the ✗ and the fix, and exits 2, a
// configuration error as for every other subcommand (SPEC §7), so that a
// script tells it from a check that failed (1). With out.JSON the
// checklist is the JSON object, its state null.
func ConfigFailed(w io.Writer, err error, out Output) error {
	checks := []Check{{Name: "config valid", Detail: err.Error(),
		Fix: "edit the file as the message says; every key and its default is in /etc/netrescue.conf as installed, and in the README"}}
	if out.JSON {
		if _, werr := RenderJSON(w, out.Side, out.Now, checks, nil); werr != nil {
			return werr
		}
		return &cli.UsageError{Msg: `status: the configuration does not load ("ok": false in the JSON)`}
	}
	Render(w, checks)
	return &cli.UsageError{Msg: "status: the configuration does not load (✗ above)"}
}

// Pause is the maintenance-mode line of `status` (SPEC §16): the time left,
// or none. A pause is no failure: it is what the person asked for.
func Pause(until, now time.Time, resume string) Check {
	if until.IsZero() || !now.Before(until) {
		return Info("maintenance pause", "none: the rescue acts")
	}
	return Info("maintenance pause", fmt.Sprintf("until %s (%s left): probing and logging only, no action; `%s` ends it",
		until.In(now.Location()).Format("2006-01-02 15:04"), until.Sub(now).Round(time.Minute), resume))
}

// Output says how `status` answers: the checklist for a person, or with
// -json one JSON object for the owner's other tools (SPEC §16).
type Output struct {
	JSON bool
	Side string    // "router" or "host"
	Now  time.Time // the time the report is for
}

// Report is the JSON form of `status` (SPEC §16): the same checks as the
// checklist and the side's state as data, one object on stdout. OK is true
// when every check passed, exactly when `status` exits 0.
type Report struct {
	Side   string    `json:"side"`
	Time   time.Time `json:"time"`
	OK     bool      `json:"ok"`
	Checks []Check   `json:"checks"`
	State  any       `json:"state"`
}

// RenderJSON writes checks and state as one indented JSON object (Report)
// and reports whether every check passed. The checklist's layout is not
// part of it: a detail that the text form starts on its own line (the
// last log lines) starts without that newline.
func RenderJSON(w io.Writer, side string, now time.Time, checks []Check, state any) (allOK bool, err error) {
	r := Report{Side: side, Time: now.Truncate(time.Second), OK: true, Checks: make([]Check, 0, len(checks)), State: state}
	for _, c := range checks {
		c.Detail = strings.TrimPrefix(c.Detail, "\n")
		r.OK = r.OK && c.OK
		r.Checks = append(r.Checks, c)
	}
	// Fixes are shell commands: "&&" stays "&&", not "\u0026\u0026".
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(r); err != nil {
		return false, fmt.Errorf("status -json: %w", err)
	}
	return r.OK, nil
}

// Finish writes the checklist in the form out asks for and returns the
// error that makes `status` exit 1 when a check failed.
func (out Output) Finish(w io.Writer, checks []Check, state any) error {
	if !out.JSON {
		if !Render(w, checks) {
			return errors.New("status: some checks failed (✗ above)")
		}
		return nil
	}
	ok, err := RenderJSON(w, out.Side, out.Now, checks, state)
	if err != nil {
		return err
	}
	if !ok {
		return errors.New(`status: some checks failed ("ok": false in the JSON)`)
	}
	return nil
}

// Internet is a probe's answer in `status -json`.
type Internet struct {
	Up     bool   `json:"up"`
	Detail string `json:"detail"` // the probe's one-line summary
}

// SOS is the router's SOS_SYSTEM in `status -json`: raised or not, and
// what it says (router text; on the host escaped as for the log).
type SOS struct {
	Raised  bool   `json:"raised"`
	Content string `json:"content"`
}

// Until is a deadline in `status -json`: when it ends and the whole
// seconds left (0 once it has passed).
type Until struct {
	Until       time.Time `json:"until"`
	LeftSeconds int64     `json:"left_seconds"`
}

// NewUntil is the deadline t seen at now; nil (JSON null) for none.
func NewUntil(t, now time.Time) *Until {
	if t.IsZero() {
		return nil
	}
	u := &Until{Until: t.Truncate(time.Second)}
	if t.After(now) {
		u.LeftSeconds = int64(t.Sub(now) / time.Second)
	}
	return u
}

// TimeOrNull is t for JSON: nil (null) when zero, else to the second.
func TimeOrNull(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	t = t.Truncate(time.Second)
	return &t
}

// objectScalars reads a JSON object (RFC 8259) and returns its top-level
// members whose values are strings or booleans, decoded ("true"/"false"
// for booleans, with isBool set); nested values are checked and skipped. A
// member that appears twice keeps its last value, as with encoding/json.
//
// netcheck reads one JSON document, netifd's interface status (`ifstatus`,
// for `status`); encoding/json's decoder cost netcheck's binary ~90 KB
// for it (SPEC §12: stripped netcheck ≤ 5 MiB, a router's flash).
func objectScalars(data string) (map[string]jsonScalar, error) {
	s := &jsonScanner{data: data}
	s.space()
	if !s.eat('{') {
		return nil, s.fail("not a JSON object")
	}
	out := map[string]jsonScalar{}
	s.space()
	if s.eat('}') {
		return out, s.end()
	}
	for {
		s.space()
		name, err := s.str()
		if err != nil {
			return nil, err
		}
		s.space()
		if !s.eat(':') {
			return nil, s.fail("want ':'")
		}
		s.space()
		switch {
		case s.peek() == '"':
			v, err := s.str()
			if err != nil {
				return nil, err
			}
			out[name] = jsonScalar{Value: v}
		case s.lit("true"):
			out[name] = jsonScalar{Value: "true", IsBool: true}
		case s.lit("false"):
			out[name] = jsonScalar{Value: "false", IsBool: true}
		default:
			delete(out, name) // a later member of another type replaces it
			if err := s.value(0); err != nil {
				return nil, err
			}
		}
		s.space()
		if s.eat('}') {
			return out, s.end()
		}
		if !s.eat(',') {
			return nil, s.fail("want ',' or '}'")
		}
	}
}

// jsonScalar is a string or boolean member of an object.
type jsonScalar struct {
	Value  string
	IsBool bool
}

// maxDepth bounds nesting, as encoding/json does (10000); netifd nests 3.
const maxDepth = 10000

type jsonScanner struct {
	data string
	i    int
}

func (s *jsonScanner) fail(why string) error {
	return fmt.Errorf("invalid JSON at byte %d: %s", s.i, why)
}

// peek is not inlined, for netcheck's size (SPEC §12).
//
//go:noinline
func (s *jsonScanner) peek() byte {
	if s.i < len(s.data) {
		return s.data[s.i]
	}
	return 0
}

// eat is called from a dozen places: a call there is smaller than its
// body (the router's binary is held to 5 MiB, SPEC §12).
//
//go:noinline
func (s *jsonScanner) eat(c byte) bool {
	if s.peek() == c && s.i < len(s.data) {
		s.i++
		return true
	}
	return false
}

// lit is not inlined, for netcheck's size (SPEC §12).
//
//go:noinline
func (s *jsonScanner) lit(word string) bool {
	if strings.HasPrefix(s.data[s.i:], word) {
		s.i += len(word)
		return true
	}
	return false
}

func (s *jsonScanner) space() {
	for s.i < len(s.data) && strings.IndexByte(" \t\n\r", s.data[s.i]) >= 0 {
		s.i++
	}
}

// end checks that only white space follows the top-level value.
func (s *jsonScanner) end() error {
	s.space()
	if s.i != len(s.data) {
		return s.fail("data after the object")
	}
	return nil
}

// value checks and skips one value of any type.
func (s *jsonScanner) value(depth int) error {
	if depth > maxDepth {
		return s.fail("nested too deep")
	}
	switch c := s.peek(); {
	case c == '"':
		_, err := s.str()
		return err
	case c == '{' || c == '[':
		closing := byte('}')
		if c == '[' {
			closing = ']'
		}
		s.i++
		s.space()
		if s.eat(closing) {
			return nil
		}
		for {
			s.space()
			if c == '{' {
				if _, err := s.str(); err != nil {
					return err
				}
				s.space()
				if !s.eat(':') {
					return s.fail("want ':'")
				}
				s.space()
			}
			if err := s.value(depth + 1); err != nil {
				return err
			}
			s.space()
			if s.eat(closing) {
				return nil
			}
			if !s.eat(',') {
				return s.fail("want ',' or '" + string(closing) + "'")
			}
		}
	case s.lit("true"), s.lit("false"), s.lit("null"):
		return nil
	case c == '-' || c >= '0' && c <= '9':
		return s.number()
	}
	return s.fail("want a value")
}

// number checks and skips a number: -?(0|[1-9]d*)(.d+)?([eE][+-]?d+)?
func (s *jsonScanner) number() error {
	s.eat('-')
	digits := func() int {
		n := 0
		for s.peek() >= '0' && s.peek() <= '9' && s.i < len(s.data) {
			s.i++
			n++
		}
		return n
	}
	if s.eat('0') {
		// no more digits may follow a leading zero
	} else if digits() == 0 {
		return s.fail("want a digit")
	}
	if s.eat('.') && digits() == 0 {
		return s.fail("want a digit after '.'")
	}
	if s.eat('e') || s.eat('E') {
		if !s.eat('+') {
			s.eat('-')
		}
		if digits() == 0 {
			return s.fail("want a digit in the exponent")
		}
	}
	return nil
}

// str reads a string and returns it decoded. Invalid UTF-8 and lone
// surrogates become U+FFFD, as with encoding/json.
func (s *jsonScanner) str() (string, error) {
	if !s.eat('"') {
		return "", s.fail("want a string")
	}
	var b strings.Builder
	for {
		if s.i >= len(s.data) {
			return "", s.fail("unterminated string")
		}
		c := s.data[s.i]
		switch {
		case c == '"':
			s.i++
			return b.String(), nil
		case c < 0x20:
			return "", s.fail("control character in a string")
		case c == '\\':
			if s.i+1 >= len(s.data) {
				return "", s.fail("unterminated escape")
			}
			e := s.data[s.i+1]
			s.i += 2
			if j := strings.IndexByte(`"\/bfnrt`, e); j >= 0 {
				b.WriteByte("\"\\/\b\f\n\r\t"[j])
				continue
			}
			if e != 'u' {
				return "", s.fail("invalid escape")
			}
			r, ok := s.hex4()
			if !ok {
				return "", s.fail("invalid \\u escape")
			}
			if utf16.IsSurrogate(r) {
				// A pair is two escapes; a lone half is U+FFFD.
				save := s.i
				if s.lit(`\u`) {
					if r2, ok := s.hex4(); ok {
						if dec := utf16.DecodeRune(r, r2); dec != utf8.RuneError {
							b.WriteRune(dec)
							continue
						}
					}
				}
				s.i = save
				r = utf8.RuneError
			}
			b.WriteRune(r)
		default:
			r, size := utf8.DecodeRuneInString(s.data[s.i:])
			b.WriteRune(r) // RuneError for an invalid byte
			s.i += size
		}
	}
}

func (s *jsonScanner) hex4() (rune, bool) {
	if s.i+4 > len(s.data) {
		return 0, false
	}
	h := s.data[s.i : s.i+4]
	if strings.ContainsAny(h, "+-_xX") {
		return 0, false
	}
	n, err := strconv.ParseUint(h, 16, 16)
	if err != nil {
		return 0, false
	}
	s.i += 4
	return rune(n), true
}
