// Package config reads /etc/netrescue.conf (SPEC §3): shell-style KEY=value
// lines that the original scripts' users can read and write. A missing file
// means all defaults (only at the default path: a file named with -config
// must exist); an unknown key, an invalid value or an unsafe file is
// an *Error, which the binaries turn into exit status 2 without acting.
package config

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"time"
	"unicode"

	"github.com/pve-op/network-rescue/state"
)

// DefaultPath is where the binaries look for their configuration.
const DefaultPath = "/etc/netrescue.conf"

// Role says which side of the rescue a configuration is for.
type Role string

// The two sides (SPEC §0).
const (
	Router Role = "router"
	Host   Role = "host"
)

// Config is the whole configuration of one side. Fields of the other side
// keep their zero values.
type Config struct {
	Path string // the file it came from; "" when built from defaults alone
	Role Role

	// Both sides.
	CheckTargets []string
	CheckTCP     []string
	ProbeTimeout time.Duration
	StateDir     string
	RunDir       string
	LogFile      string
	LogMaxBytes  int64
	Syslog       bool
	DryRun       bool
	DryRunFlag   bool   // DryRun came from -dry-run alone, not the file: no fault for status
	OnEventCmd   string // run once per transition (SPEC §16), both sides

	// Router (SPEC §3, §5).
	L1Threshold        int
	L2Threshold        int
	L3Threshold        int
	L4SOSThreshold     int
	Profile            string
	SafeUptime         time.Duration
	CoolingFreeReboots int
	CoolingStep        time.Duration
	CoolingMax         time.Duration
	RecoveryStable     time.Duration
	L1Cmd              string
	WanIface           string // netifd interface of the default L1_CMD and status (SPEC §14)
	IFStatus           string // OpenWrt's ifstatus, for status
	L2Cmd              string
	L3Cmd              string
	DNSCmd             string // restarts the DNS forwarder when the host asks (assist dns, SPEC §14)
	WanGateway         string // WAN_GATEWAY: "auto", "off" or the next hop's address (SPEC §14)

	// Host (SPEC §3, §6).
	OpIP              string
	OpSSHPort         int
	OpSSHUser         string
	SSHKey            string
	KnownHosts        string
	SSHTimeout        time.Duration
	OpStateDir        string
	OpNetcheck        string // the router's netcheck, run for `assist` (SPEC §14)
	OpConfig          string // the router's config, passed to it with -config
	DNSCheck          string // resolved against OP_IP:53 on every run; "" disables
	PVEMark           string
	RebootDelay       time.Duration
	RebootCmd         string
	RebootFallbackCmd string
	RebootConfirm     time.Duration
	MinHostUptime     time.Duration
	VMID              string
	VMRestartFirst    bool
	VMStartMax        int // starts a day of a VM found stopped (SPEC §13)
	RouterHungAfter   time.Duration
	VMHungAfter       time.Duration // SSH, LAN ping and the guest agent silent this long: hung (SPEC §13 rule 3)
	VMStopTimeout     time.Duration // qm stop --timeout (SPEC §13 rule 4)
	HostRebootHours   Hours         // the host reboots only in this daily window (SPEC §16)
	NotifyURL         string
	QM                string // Proxmox's qm, for VM_ID actions
	Systemctl         string // for is-system-running: during a reboot, and whether PVE still boots (SPEC §13 rule 1)
	Pvecm             string // for the cluster quorum guard

	// For the rest of the owner's tools (SPEC §16).
	MetricsFile    string        // node_exporter textfile; "" = off
	HeartbeatURL   string        // dead man's switch pinged while the internet is up; "" = off
	HeartbeatEvery time.Duration // at most one ping per this long (whole minutes)
}

// Profiles maps PROFILE values to L4_SOS_THRESHOLD (SPEC §3).
var Profiles = map[string]int{"conservative": 15, "balanced": 10, "aggressive": 5}

// ProfileNames lists the profiles in the order a person compares them.
var ProfileNames = []string{"conservative", "balanced", "aggressive"}

// Default returns the built-in configuration of role.
func Default(role Role) Config {
	c := Config{Role: role}
	for _, k := range keys {
		if k.has(role) {
			if err := k.set(&c, k.def(role)); err != nil {
				panic(fmt.Sprintf("config: default of %s: %v", k.name, err))
			}
		}
	}
	return c
}

// Error is a configuration error: the file, the line (0 for the whole
// file), the key and what is wrong and allowed.
type Error struct {
	Path string
	Line int
	Key  string
	Msg  string
	Err  error // the cause, when there is one: fs.ErrNotExist for a named file that is missing
	// alt is the same fault told from the other key of a pair (L3 too
	// low rather than L2 too high): Load gives it when the file set that
	// key and not Key.
	alt *Error
}

// Unwrap lets errors.Is(err, fs.ErrNotExist) tell a missing named file.
func (e *Error) Unwrap() error { return e.Err }

func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString(e.Path)
	if e.Line > 0 {
		fmt.Fprintf(&b, ":%d", e.Line)
	}
	if e.Key != "" {
		b.WriteString(": ")
		b.WriteString(e.Key)
	}
	b.WriteString(": ")
	b.WriteString(e.Msg)
	return b.String()
}

// Options change how Load checks the file.
type Options struct {
	// Euid is the effective user id of the process; when 0 the file must be
	// root's and not writable by group or others, since *_CMD runs as root.
	Euid int
	// Required is the flag that named path (-config, -router-config), or
	// "" for the default path, the only one that may be missing: a file
	// a person named and that is not there is a typo, never "run on the
	// built-in defaults" with their real reboot commands (SPEC §15).
	Required string
}

// Load reads path for role. A missing file gives the defaults, unless
// opt.Required says a person named it. The defaults are built once: by
// Parse when the file is read, here otherwise (SPEC §12: a healthy run
// does nothing twice).
func Load(path string, role Role, opt Options) (Config, error) {
	b, err := state.ReadBoundedFollow(path, state.MaxConfigBytes) // SPEC §15: no FIFO hang, bounded
	if errors.Is(err, fs.ErrNotExist) {
		if t, lerr := os.Readlink(path); lerr == nil {
			// A link to nothing (a config kept on a USB stick or an
			// extroot that is not mounted) is no "no file": the built-in
			// defaults would run the real reboot commands, and status
			// would say ✓.
			return Default(role), &Error{Path: path, Err: fs.ErrNotExist,
				Msg: "is a symlink to " + t + ", which does not exist; fix: mount or create " + t + ", or remove the link to run on the built-in defaults"}
		}
		if opt.Required != "" {
			return Default(role), &Error{Path: path, Err: fs.ErrNotExist, Msg: fmt.Sprintf(
				"does not exist (named by %s); fix: create it, or drop %s", opt.Required, opt.Required)}
		}
		return Default(role), nil
	}
	if err != nil {
		return Default(role), &Error{Path: path, Msg: fmt.Sprintf("cannot read: %v", unwrapPath(err))}
	}
	if err := checkOwner(path, opt.Euid); err != nil {
		return Default(role), err
	}
	return Parse(path, string(b), role)
}

// unwrapPath is not inlined: cold (SPEC §12: size).
//
//go:noinline
func unwrapPath(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}

// checkOwner refuses a file that someone other than root could have
// written, when root will run its commands.
func checkOwner(path string, euid int) error {
	if euid != 0 {
		return nil
	}
	fi, err := os.Stat(path)
	if err != nil {
		return &Error{Path: path, Msg: fmt.Sprintf("cannot stat: %v", unwrapPath(err))}
	}
	if st, ok := fi.Sys().(*syscall.Stat_t); ok && st.Uid != 0 {
		return &Error{Path: path, Msg: fmt.Sprintf(
			"owned by uid %d, but its *_CMD lines run as root; fix: chown root:root %s", st.Uid, path)}
	}
	if perm := fi.Mode().Perm(); perm&0o022 != 0 {
		return &Error{Path: path, Msg: fmt.Sprintf(
			"writable by group or others (mode %04o), but its *_CMD lines run as root; fix: chmod go-w %s", perm, path)}
	}
	return nil
}

// Parse parses the content of a configuration file for role on top of the
// defaults. path is used in errors only.
func Parse(path, content string, role Role) (Config, error) {
	c := Default(role)
	c.Path = path
	explicitL4, explicitL1 := false, false
	lines := map[string]int{} // the line that set each key
	// A file saved by some Windows editors starts with a UTF-8 BOM: it is
	// not part of the first key (SPEC §15).
	content = strings.TrimPrefix(content, "\ufeff")
	for i, raw := range strings.Split(content, "\n") {
		line := strings.TrimSpace(strings.TrimSuffix(raw, "\r"))
		if line == "" || line[0] == '#' {
			continue
		}
		line = strings.TrimPrefix(line, "export ")
		name, rawVal, ok := strings.Cut(line, "=")
		name = strings.TrimSpace(name)
		// A secret key written without its "=" ("NOTIFY_URL https://…",
		// "HEARTBEAT_URL: https://…", a full-width "：" or "＝" from an
		// IME) is named, never quoted: the rest of the line is its token
		// (SPEC §9).
		before := line
		if ok {
			before = name
		}
		if !ok || !plainName(name) || lookup(name, role) == nil { // a known KEY=…, the common case, needs no search
			if w := secretIn(before); w != "" && !strings.EqualFold(before, w) {
				return c, &Error{Path: path, Line: i + 1, Key: w, Msg: "not KEY=value" + notShown}
			}
		}
		if !ok || name == "" {
			return c, &Error{Path: path, Line: i + 1, Msg: fmt.Sprintf("%q is not KEY=value", line)}
		}
		k := lookup(name, role)
		val, err := unquote(rawVal)
		if err != nil {
			msg := err.Error()
			var aq *afterQuoteError
			if secretName(name) && errors.As(err, &aq) {
				msg = "text after the closing quote" + notShown
			}
			return c, &Error{Path: path, Line: i + 1, Key: name, Msg: msg}
		}
		if k == nil {
			return c, &Error{Path: path, Line: i + 1, Key: name, Msg: unknownMsg(name, role)}
		}
		if err := k.set(&c, val); err != nil {
			msg := fmt.Sprintf("%q %v; allowed: %s", val, err, k.allowed)
			if k.secret {
				msg = fmt.Sprintf("%v%s; allowed: %s", err, notShown, k.allowed)
			}
			return c, &Error{Path: path, Line: i + 1, Key: name, Msg: msg}
		}
		lines[k.name] = i + 1
		if k.name == "L4_SOS_THRESHOLD" {
			explicitL4 = true
		}
		if k.name == "L1_CMD" {
			explicitL1 = true
		}
	}
	if role == Router && !explicitL1 {
		c.L1Cmd = L1CmdFor(c.IFStatus, c.WanIface)
	}
	if c.Profile != "" && !explicitL4 {
		c.L4SOSThreshold = Profiles[c.Profile]
	}
	if err := c.validate(); err != nil {
		if err.Key == "STATE_DIR" && lines[err.Key] == 0 {
			err.Key = "RUN_DIR" // the one the file set
		}
		if err.alt != nil && lines[err.Key] == 0 && lines[err.alt.Key] > 0 {
			err = err.alt // the key the file set, not a default
		}
		// The line of the key named, when the file set it (0: its default).
		err.Path, err.Line = path, lines[err.Key]
		return c, err
	}
	return c, nil
}

// notShown ends the error of a key whose value may hold a secret
// (NOTIFY_URL's token): the value is never echoed (issue 9 item 18).
const notShown = " (the value is not shown: it may hold a token)"

// SyslogOff reports whether content, a file Parse refused, sets SYSLOG to
// 0 (its last setting wins), so that what is told of the refusal keeps
// out of syslog as the owner asked (SPEC §8).
func SyslogOff(content string) bool {
	var c Config
	c.Syslog = true
	k := lookup("SYSLOG", Router)
	for _, raw := range strings.Split(content, "\n") {
		line := strings.TrimPrefix(strings.TrimSpace(strings.TrimSuffix(raw, "\r")), "export ")
		name, v, ok := strings.Cut(line, "=")
		if !ok || strings.TrimSpace(name) != k.name {
			continue
		}
		if val, err := unquote(v); err == nil {
			_ = k.set(&c, val) // a bad value leaves the last good one
		}
	}
	return !c.Syslog
}

// plainName reports whether s is a bare key name, [A-Za-z0-9_]+: a
// KEY=value line whose KEY is one is well formed (a secret key's own, or
// another key, whose value an error about its name never shows).
func plainName(s string) bool {
	for i := range len(s) {
		if c := s[i]; c != '_' && !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9') {
			return false
		}
	}
	return s != ""
}

// secretIn is the first mention in s of a secret key's name, in any case
// and as written there, "a URL" for a URL (a token of its own: that of a
// "NOTIFY_URL=" line, put on the next line), or "".
func secretIn(s string) string {
	for i := range len(s) {
		for _, k := range keys {
			if k.secret && i+len(k.name) <= len(s) && strings.EqualFold(s[i:i+len(k.name)], k.name) {
				return s[i : i+len(k.name)]
			}
		}
	}
	if strings.Contains(s, "://") {
		return "a URL"
	}
	return ""
}

// secretName reports whether name is a key whose value may hold a secret,
// in any case and for either role: a host key in a router's file is still
// the host's token.
func secretName(name string) bool {
	for _, k := range keys {
		if k.secret && strings.EqualFold(k.name, name) {
			return true
		}
	}
	return false
}

// afterQuoteError is text after a closing quote; its message quotes the
// text, which the error of a secret key must not.
type afterQuoteError struct{ rest string }

func (e *afterQuoteError) Error() string {
	return fmt.Sprintf("text %q after the closing quote", e.rest)
}

// unquote handles an unquoted value (with an optional trailing " # comment",
// which is all there is of "KEY=  # comment"),
// or one wrapped in single or double quotes, as sh would read them: a
// single-quoted value ends at the next single quote and holds no escapes;
// a double-quoted one ends at the next double quote that no backslash
// escapes, and is unescaped as sh does (see unescape).
func unquote(raw string) (string, error) {
	s := strings.TrimSpace(raw)
	if s == "" {
		return "", nil
	}
	switch q := s[0]; q {
	case '\'', '"':
		end := closingQuote(s)
		if end < 0 {
			return "", fmt.Errorf("missing closing %c quote", q)
		}
		v, rest := s[1:end], strings.TrimSpace(s[end+1:])
		if rest != "" && rest[0] != '#' {
			return "", &afterQuoteError{rest: rest}
		}
		if q == '"' {
			v = unescape(v)
		}
		return v, nil
	}
	// The comment is looked for before the value is trimmed: "KEY=  # a
	// note" is, as sh reads it, an empty value and a comment. Any blank
	// counts, the full-width one an IME types too ("L3_CMD=　# 禁用": sh
	// would not set L3_CMD at all; the command "# 禁用" succeeded as a
	// reboot); "KEY=#x" is "#x", as sh reads it.
	s = raw
	prev := '='
	for i, r := range raw {
		if r == '#' && unicode.IsSpace(prev) {
			s = raw[:i]
			break
		}
		prev = r
	}
	return strings.TrimSpace(s), nil
}

func (c *Config) validate() *Error {
	if s, r := filepath.Clean(c.StateDir), filepath.Clean(c.RunDir); s == r || strings.HasPrefix(s, r+"/") {
		// The counts, the mark and the cooling would go with every reboot:
		// the ladder would never reach cooling or SOS (SPEC §5).
		return &Error{Key: "STATE_DIR", Msg: fmt.Sprintf(
			"STATE_DIR %s is inside RUN_DIR %s, which a reboot empties; allowed: STATE_DIR outside RUN_DIR", c.StateDir, c.RunDir)}
	}
	if c.Role != Router {
		return nil
	}
	l1 := c.L1Threshold
	if c.L2Threshold <= 0 {
		l1 = 0 // L2 skipped: L1 is compared with L3 only
	}
	for _, t := range []struct {
		lo, hi string
		a, b   int
	}{{"L1_THRESHOLD", "L2_THRESHOLD", l1, c.L2Threshold}, {"L1_THRESHOLD", "L3_THRESHOLD", c.L1Threshold, c.L3Threshold},
		{"L2_THRESHOLD", "L3_THRESHOLD", c.L2Threshold, c.L3Threshold}} {
		if t.a > 0 && t.a >= t.b {
			const allowed = "; allowed: thresholds rising L1 < L2 < L3 (0 skips L1 or L2)"
			return &Error{Key: t.lo, Msg: fmt.Sprintf("%d is not below %s %d"+allowed, t.a, t.hi, t.b),
				alt: &Error{Key: t.hi, Msg: fmt.Sprintf("%d is not above %s %d"+allowed, t.b, t.lo, t.a)}}
		}
	}
	if c.CoolingMax > 0 && c.CoolingMax < c.CoolingStep {
		return &Error{Key: "COOLING_MAX", Msg: fmt.Sprintf(
			"%v is shorter than COOLING_STEP %v; allowed: 0 (no cooling) or at least COOLING_STEP",
			c.CoolingMax, c.CoolingStep), alt: &Error{Key: "COOLING_STEP", Msg: fmt.Sprintf(
			"%v is longer than COOLING_MAX %v; allowed: at most COOLING_MAX, or COOLING_MAX=0 (no cooling)",
			c.CoolingStep, c.CoolingMax)}}
	}
	return nil
}

// closingQuote is the index of the quote that closes the one at s[0], or
// -1: in double quotes a backslash escapes the character after it (so
// "a \"b\"" is one value), in single quotes nothing does.
func closingQuote(s string) int {
	q := s[0]
	for i := 1; i < len(s); i++ {
		switch {
		case s[i] == q:
			return i
		case s[i] == '\\' && q == '"':
			i++
		}
	}
	return -1
}

// unescape undoes the escapes of a double-quoted value as a POSIX shell
// does (XCU 2.2.3): a backslash followed by $ ` " or \ gives that
// character, followed by a newline it joins the lines; any other backslash
// stays. (A loop, not a strings.Replacer: that one costs the router's
// binary ~10 KB, SPEC §12.)
func unescape(v string) string {
	if !strings.Contains(v, `\`) {
		return v
	}
	var b strings.Builder
	for i := 0; i < len(v); i++ {
		if v[i] == '\\' && i+1 < len(v) {
			switch v[i+1] {
			case '\n':
				i++
				continue
			case '$', '`', '"', '\\':
				i++
			}
		}
		b.WriteByte(v[i])
	}
	return b.String()
}
