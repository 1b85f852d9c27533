package config

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
	"net/url"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/pve-op/network-rescue/internal/logx"
)

// key describes one configuration key: the roles it belongs to, its
// default per role, how it is set and what a person may write.
type key struct {
	name    string
	alias   string // the original scripts' name, accepted too
	roles   []Role
	defs    defaults
	allowed string
	set     func(c *Config, v string) error
	doc     string
	secret  bool // its value may hold a token: never echoed in an error
}

// has is not inlined: a copy in each caller costs netcheck's size
// (SPEC §12).
//
//go:noinline
func (k *key) has(r Role) bool {
	for _, x := range k.roles {
		if x == r {
			return true
		}
	}
	return false
}

// defaults is a key's built-in value: one for both roles, or one per role.
// A struct, not a map, so that the table of keys is static data, not code
// that builds ~70 maps at every start of every binary (SPEC §12).
type defaults struct {
	all          string // both roles, unless perRole
	router, host string
	perRole      bool
}

// def is k's default for role r. (Not inlined: three callers, and
// netcheck's text segment is bytes from its page, SPEC §12's 5 MiB.)
//
//go:noinline
func (k *key) def(r Role) string {
	switch {
	case !k.defs.perRole:
		return k.defs.all
	case r == Router:
		return k.defs.router
	default:
		return k.defs.host
	}
}

var both = []Role{Router, Host}
var routerOnly = []Role{Router}
var hostOnly = []Role{Host}

// Default commands, the original scripts' own, with absolute paths (SPEC §2, §3).
const (
	DefaultL1Cmd = "/sbin/ifstatus wan >/dev/null 2>&1 || { echo 'Interface wan not found: set WAN_IFACE' >&2; exit 1; }; /sbin/ifdown wan; /bin/sleep 10; /sbin/ifup wan"
	DefaultL2Cmd = "/etc/init.d/network restart; /etc/init.d/firewall restart"
	DefaultL3Cmd = "/bin/sync; /sbin/reboot -f"
	// DefaultDNSCmd restarts OpenWrt's DNS forwarder (SPEC §14).
	DefaultDNSCmd = "/etc/init.d/dnsmasq restart"
)

// L1CmdFor is the default L1 command for the netifd interface iface,
// checked with ifstatus first. Upstream ifup prints "Interface X not found"
// and exits 0 for an interface netifd does not know (openwrt/openwrt
// package/network/config/netifd/files/sbin/ifup: `echo ...; exit`), so
// without the check a wrong name would log -> [成功] having done nothing;
// ifstatus exits 1 for it (…/sbin/ifstatus), which L1 reports as -> [错误].
func L1CmdFor(ifstatus, iface string) string {
	return fmt.Sprintf("%s %s >/dev/null 2>&1 || { echo 'Interface %s not found: set WAN_IFACE' >&2; exit 1; }; /sbin/ifdown %s; /bin/sleep 10; /sbin/ifup %s",
		ifstatus, iface, iface, iface, iface)
}

var keys = []*key{
	{name: "CHECK_TARGETS", alias: "CHECK_IP", roles: both,
		defs: defaults{all: "223.5.5.5,119.29.29.29,1.1.1.1,8.8.8.8"}, allowed: "IP addresses or host names on the internet, separated by commas (,) or spaces",
		set: func(c *Config, v string) error { return setList(&c.CheckTargets, v, checkTarget, true) },
		doc: "what is pinged; the first reply from any of them means the internet is up"},
	{name: "CHECK_TCP", roles: both, defs: defaults{all: ""}, allowed: "comma-separated host:port, or empty",
		set: func(c *Config, v string) error { return setList(&c.CheckTCP, v, checkHostPort, false) },
		doc: "TCP connects that also count as up, for networks that drop ICMP"},
	{name: "PROBE_TIMEOUT", roles: both, defs: defaults{all: "3s"}, allowed: "a duration from 100ms to 60s (3s, 1500ms or bare seconds)",
		set: func(c *Config, v string) error {
			return setDuration(&c.ProbeTimeout, v, 100*time.Millisecond, time.Minute)
		}},
	{name: "STATE_DIR", roles: both, defs: defaults{router: "/root", host: "/var/lib/netrescue", perRole: true},
		allowed: "an absolute directory path", set: func(c *Config, v string) error { return setPath(&c.StateDir, v) }},
	{name: "RUN_DIR", roles: both, defs: defaults{router: "/tmp/netrescue", host: "/run/netrescue", perRole: true},
		allowed: "an absolute directory path on a tmpfs (emptied by a reboot)",
		set:     func(c *Config, v string) error { return setPath(&c.RunDir, v) }},
	{name: "LOG_FILE", roles: both, defs: defaults{router: "/root/network_monitor.log", host: "/var/log/pve_host_monitor.log", perRole: true},
		allowed: "an absolute file path", set: func(c *Config, v string) error { return setPath(&c.LogFile, v) }},
	{name: "LOG_MAX_BYTES", roles: both, defs: defaults{router: "256KiB", host: "1MiB", perRole: true},
		allowed: "a size from 4KiB to 1GiB (256KiB, 1MiB, or bytes)",
		set: func(c *Config, v string) error {
			n, err := logx.ParseSize(v)
			if err != nil {
				return invalid("is not a size")
			}
			if n < 4<<10 || n > 1<<30 {
				return invalid("is out of range")
			}
			c.LogMaxBytes = n
			return nil
		}},
	{name: "SYSLOG", roles: both, defs: defaults{all: "1"}, allowed: "1 or 0",
		set: func(c *Config, v string) error { return setBool(&c.Syslog, v) }},
	{name: "DRY_RUN", roles: both, defs: defaults{all: "0"}, allowed: "1 or 0",
		set: func(c *Config, v string) error { return setBool(&c.DryRun, v) }},

	// Router.
	{name: "L1_THRESHOLD", roles: routerOnly, defs: defaults{all: "2"}, allowed: "a whole number from 0 to 1000 (0 skips L1)",
		set: func(c *Config, v string) error { return setInt(&c.L1Threshold, v, 0, 1000) }},
	{name: "L2_THRESHOLD", roles: routerOnly, defs: defaults{all: "5"}, allowed: "a whole number from 0 to 1000 (0 skips L2)",
		set: func(c *Config, v string) error { return setInt(&c.L2Threshold, v, 0, 1000) }},
	{name: "L3_THRESHOLD", roles: routerOnly, defs: defaults{all: "10"}, allowed: "a whole number from 1 to 1000",
		set: func(c *Config, v string) error { return setInt(&c.L3Threshold, v, 1, 1000) }},
	{name: "L4_SOS_THRESHOLD", roles: routerOnly, defs: defaults{all: "10"}, allowed: "a whole number from 1 to 1000",
		set: func(c *Config, v string) error { return setInt(&c.L4SOSThreshold, v, 1, 1000) }},
	{name: "PROFILE", roles: routerOnly, defs: defaults{all: ""}, allowed: "conservative (15), balanced (10), aggressive (5) or empty",
		set: func(c *Config, v string) error {
			if _, ok := Profiles[v]; !ok && v != "" {
				return invalid("is not a profile")
			}
			c.Profile = v
			return nil
		}},
	{name: "SAFE_UPTIME", roles: routerOnly, defs: defaults{all: "600"}, allowed: "a duration from 0 to 24h (600, 10m)",
		set: func(c *Config, v string) error { return setDuration(&c.SafeUptime, v, 0, 24*time.Hour) }},
	{name: "COOLING_FREE_REBOOTS", roles: routerOnly, defs: defaults{all: "6"}, allowed: "a whole number from 0 to 1000",
		set: func(c *Config, v string) error { return setInt(&c.CoolingFreeReboots, v, 0, 1000) }},
	{name: "COOLING_STEP", roles: routerOnly, defs: defaults{all: "1h"}, allowed: "a duration from 1s to 24h",
		set: func(c *Config, v string) error { return setDuration(&c.CoolingStep, v, time.Second, 24*time.Hour) }},
	{name: "COOLING_MAX", roles: routerOnly, defs: defaults{all: "3h"}, allowed: "a duration from 0 to 24h",
		set: func(c *Config, v string) error { return setDuration(&c.CoolingMax, v, 0, 24*time.Hour) }},
	{name: "RECOVERY_STABLE", roles: routerOnly, defs: defaults{all: "30m"}, allowed: "a duration from 0 to 24h (0 resets at once)",
		set: func(c *Config, v string) error { return setDuration(&c.RecoveryStable, v, 0, 24*time.Hour) }},
	{name: "L1_CMD", roles: routerOnly, defs: defaults{all: DefaultL1Cmd}, allowed: "a shell command line (run as /bin/sh -c)",
		set: func(c *Config, v string) error { return setCmd(&c.L1Cmd, v) }},
	{name: "WAN_IFACE", roles: routerOnly, defs: defaults{all: "wan"},
		allowed: "a netifd interface name of /etc/config/network (letters, digits and _, up to 64)",
		set:     func(c *Config, v string) error { return setIface(&c.WanIface, v) },
		doc:     "the WAN interface that the default L1_CMD redials and status checks"},
	{name: "IFSTATUS", roles: routerOnly, defs: defaults{all: "/sbin/ifstatus"}, allowed: "the absolute path of OpenWrt's ifstatus" + exeChars,
		set: func(c *Config, v string) error { return setExe(&c.IFStatus, v) }},
	{name: "L2_CMD", roles: routerOnly, defs: defaults{all: DefaultL2Cmd}, allowed: "a shell command line (run as /bin/sh -c)",
		set: func(c *Config, v string) error { return setCmd(&c.L2Cmd, v) }},
	{name: "L3_CMD", roles: routerOnly, defs: defaults{all: DefaultL3Cmd}, allowed: "a shell command line (run as /bin/sh -c)",
		set: func(c *Config, v string) error { return setCmd(&c.L3Cmd, v) }},
	{name: "DNS_CMD", roles: routerOnly, defs: defaults{all: DefaultDNSCmd}, allowed: "a shell command line (run as /bin/sh -c)",
		set: func(c *Config, v string) error { return setCmd(&c.DNSCmd, v) },
		doc: "restarts the DNS forwarder when the host asks (netcheck assist dns)"},
	{name: "WAN_GATEWAY", roles: routerOnly, defs: defaults{all: "auto"},
		allowed: "auto (the default route's gateway, or the peer of a point-to-point WAN), off, or the next hop's IP address",
		set:     setWanGateway,
		doc:     "the next hop pinged on a down run: while it answers, the outage is the ISP's and the router does not reboot"},

	// Host.
	{name: "OP_IP", roles: hostOnly, defs: defaults{all: "192.168.10.1"}, allowed: "the router's LAN IP address or host name",
		set: func(c *Config, v string) error {
			if err := checkHost(v); err != nil {
				return err
			}
			c.OpIP = v
			return nil
		}},
	{name: "OP_SSH_PORT", roles: hostOnly, defs: defaults{all: "22"}, allowed: "a port from 1 to 65535",
		set: func(c *Config, v string) error { return setInt(&c.OpSSHPort, v, 1, 65535) }},
	{name: "OP_SSH_USER", roles: hostOnly, defs: defaults{all: "root"}, allowed: "a user name",
		set: func(c *Config, v string) error {
			if v == "" || strings.ContainsAny(v, " \t'\"@") {
				return invalid("is not a user name")
			}
			c.OpSSHUser = v
			return nil
		}},
	{name: "SSH_KEY", roles: hostOnly, defs: defaults{all: "/root/.ssh/id_ed25519"}, allowed: "an absolute path to a private key",
		set: func(c *Config, v string) error { return setPath(&c.SSHKey, v) }},
	{name: "KNOWN_HOSTS", roles: hostOnly, defs: defaults{all: "/etc/netrescue/known_hosts"}, allowed: "an absolute file path",
		set: func(c *Config, v string) error { return setPath(&c.KnownHosts, v) }},
	{name: "SSH_TIMEOUT", roles: hostOnly, defs: defaults{all: "10s"}, allowed: "a duration from 1s to 5m",
		set: func(c *Config, v string) error { return setDuration(&c.SSHTimeout, v, time.Second, 5*time.Minute) }},
	{name: "OP_NETCHECK", roles: hostOnly, defs: defaults{all: "/usr/bin/netcheck"}, allowed: "the absolute path of netcheck on the router" + exeChars,
		set: func(c *Config, v string) error { return setExe(&c.OpNetcheck, v) },
		doc: "run over SSH for a LAN-side step: OP_NETCHECK -config OP_CONFIG assist STEP"},
	{name: "OP_CONFIG", roles: hostOnly, defs: defaults{all: "/etc/netrescue.conf"}, allowed: "the absolute path of the router's config" + exeChars,
		set: func(c *Config, v string) error { return setExe(&c.OpConfig, v) }},
	{name: "DNS_CHECK", roles: hostOnly, defs: defaults{all: "www.baidu.com"}, allowed: "a host name the router's DNS forwarder must resolve, or empty to disable",
		set: func(c *Config, v string) error {
			if v != "" && !validHostname(v) {
				return invalid("is not a host name")
			}
			c.DNSCheck = v
			return nil
		},
		doc: "resolved against the router's resolver (OP_IP:53) on every run, beside the IP probe"},
	{name: "OP_STATE_DIR", roles: hostOnly, defs: defaults{all: "/root"}, allowed: "an absolute directory path on the router, without quotes",
		set: func(c *Config, v string) error {
			if strings.ContainsAny(v, "'\"\n") {
				return invalid("contains a quote")
			}
			return setPath(&c.OpStateDir, v)
		}},
	{name: "PVE_MARK", roles: hostOnly, defs: defaults{all: "/root/pve_did_reboot_today"}, allowed: "an absolute file path",
		set: func(c *Config, v string) error { return setPath(&c.PVEMark, v) }},
	{name: "REBOOT_DELAY", roles: hostOnly, defs: defaults{all: "10s"}, allowed: "a duration from 0 to 10m",
		set: func(c *Config, v string) error { return setDuration(&c.RebootDelay, v, 0, 10*time.Minute) }},
	{name: "REBOOT_CMD", roles: hostOnly, defs: defaults{all: "/usr/bin/systemctl reboot"}, allowed: "a shell command line (run as /bin/sh -c)",
		set: func(c *Config, v string) error { return setCmd(&c.RebootCmd, v) }},
	{name: "REBOOT_FALLBACK_CMD", roles: hostOnly, defs: defaults{all: "/usr/sbin/reboot"}, allowed: "a shell command line (run as /bin/sh -c)",
		set: func(c *Config, v string) error { return setCmd(&c.RebootFallbackCmd, v) }},
	{name: "REBOOT_CONFIRM", roles: hostOnly, defs: defaults{all: "30s"}, allowed: "a duration from 1s to 30m",
		set: func(c *Config, v string) error { return setDuration(&c.RebootConfirm, v, time.Second, 30*time.Minute) }},
	{name: "MIN_HOST_UPTIME", roles: hostOnly, defs: defaults{all: "600"}, allowed: "a duration from 0 to 24h (600, 10m)",
		set: func(c *Config, v string) error { return setDuration(&c.MinHostUptime, v, 0, 24*time.Hour) }},
	{name: "VM_ID", roles: hostOnly, defs: defaults{all: ""}, allowed: "a Proxmox VM id (a number from 100), or empty to disable VM actions",
		set: func(c *Config, v string) error {
			if v == "" {
				c.VMID = ""
				return nil
			}
			n, err := strconv.Atoi(v)
			if err != nil || n < 100 || n > 999999999 {
				return invalid("is not a VM id")
			}
			c.VMID = v
			return nil
		}},
	{name: "VM_RESTART_FIRST", roles: hostOnly, defs: defaults{all: "1"}, allowed: "1 or 0",
		set: func(c *Config, v string) error { return setBool(&c.VMRestartFirst, v) }},
	{name: "VM_START_MAX", roles: hostOnly, defs: defaults{all: "3"}, allowed: "a whole number from 0 to 20",
		set: func(c *Config, v string) error { return setInt(&c.VMStartMax, v, 0, 20) },
		doc: "starts (and resumes) a day of a router VM found stopped (or paused) that did not bring the internet back"},
	{name: "ROUTER_HUNG_AFTER", roles: hostOnly, defs: defaults{all: "20m"}, allowed: "a duration from 1m to 24h",
		set: func(c *Config, v string) error { return setDuration(&c.RouterHungAfter, v, time.Minute, 24*time.Hour) }},
	{name: "VM_HUNG_AFTER", roles: hostOnly, defs: defaults{all: "10m"}, allowed: "a duration from 1m to 24h",
		set: func(c *Config, v string) error { return setDuration(&c.VMHungAfter, v, time.Minute, 24*time.Hour) },
		doc: "a running router VM with no SSH, no LAN ping and a guest agent that does not answer is hung after this long"},
	{name: "HOST_REBOOT_HOURS", roles: hostOnly, defs: defaults{all: ""}, allowed: "FROM-TO in whole hours of the local day (1-6; 22-5 across midnight), or empty for any time",
		set: func(c *Config, v string) (err error) { c.HostRebootHours, err = ParseHours(v); return err },
		doc: "a host reboot waits for this window with 【推迟】; VM actions are not held"},
	{name: "VM_STOP_TIMEOUT", roles: hostOnly, defs: defaults{all: "30s"}, allowed: "a duration from 1s to 10m",
		set: func(c *Config, v string) error { return setDuration(&c.VMStopTimeout, v, time.Second, 10*time.Minute) },
		doc: "qm stop --timeout of a cold restart"},
	{name: "ON_EVENT_CMD", roles: both, defs: defaults{all: ""}, allowed: "a shell command line (run as /bin/sh -c), or empty",
		set: func(c *Config, v string) error { c.OnEventCmd = v; return nil },
		doc: "run once per transition with NETRESCUE_EVENT, NETRESCUE_DETAIL and NETRESCUE_OUTAGE_SECONDS"},
	{name: "NOTIFY_URL", roles: hostOnly, defs: defaults{all: ""}, allowed: "an http(s) URL, or empty", secret: true,
		set: func(c *Config, v string) error {
			// As HEARTBEAT_URL: a space or no host was accepted, and every
			// message failed to send.
			if err := checkURL(v); err != nil {
				return err
			}
			c.NotifyURL = v
			return nil
		}},
	{name: "METRICS_FILE", roles: hostOnly, defs: defaults{all: ""},
		allowed: "an absolute path of a file ending in .prom (in node_exporter's --collector.textfile.directory), or empty",
		set: func(c *Config, v string) error {
			if v == "" {
				c.MetricsFile = ""
				return nil
			}
			if err := setPath(&c.MetricsFile, v); err != nil {
				return err
			}
			if !strings.HasSuffix(v, ".prom") || strings.HasSuffix(v, "/.prom") {
				return invalid("does not end in .prom (node_exporter reads only *.prom files)")
			}
			if cl := filepath.Clean(v); cl != v {
				return fmt.Errorf("is not a clean path (write %s)", cl)
			}
			return nil
		},
		doc: "Prometheus metrics for node_exporter's textfile collector, rewritten only when a value changes"},
	{name: "HEARTBEAT_URL", roles: hostOnly, defs: defaults{all: ""}, allowed: "an http(s) URL, or empty", secret: true,
		set: func(c *Config, v string) error {
			if err := checkURL(v); err != nil {
				return err
			}
			c.HeartbeatURL = v
			return nil
		},
		doc: "a dead man's switch (healthchecks.io, Uptime Kuma push) pinged while the internet is up"},
	{name: "HEARTBEAT_EVERY", roles: hostOnly, defs: defaults{all: "5m"}, allowed: "whole minutes from 1m to 24h (5m, 1h, or bare seconds such as 300)",
		set: func(c *Config, v string) error {
			if err := setDuration(&c.HeartbeatEvery, v, time.Minute, 24*time.Hour); err != nil {
				return err
			}
			if c.HeartbeatEvery%time.Minute != 0 {
				return invalid("is not whole minutes (cron runs hostcheck on the minute)")
			}
			return nil
		},
		doc: "at most one HEARTBEAT_URL request this often"},
	{name: "QM", roles: hostOnly, defs: defaults{all: "/usr/sbin/qm"}, allowed: "the absolute path of Proxmox's qm" + exeChars,
		set: func(c *Config, v string) error { return setExe(&c.QM, v) }},
	{name: "SYSTEMCTL", roles: hostOnly, defs: defaults{all: "/usr/bin/systemctl"}, allowed: "the absolute path of systemctl" + exeChars,
		set: func(c *Config, v string) error { return setExe(&c.Systemctl, v) }},
	{name: "PVECM", roles: hostOnly, defs: defaults{all: "/usr/bin/pvecm"}, allowed: "the absolute path of Proxmox's pvecm" + exeChars,
		set: func(c *Config, v string) error { return setExe(&c.Pvecm, v) }},
}

// hostAliases are the host script's own names for shared keys.
var hostAliases = map[string]string{"TARGET_IP": "CHECK_TARGETS"}

// lookup finds the key named name (or its alias) for role. (Not inlined:
// a loop over the table at each caller costs netcheck's binary, SPEC §12.)
//
//go:noinline
func lookup(name string, role Role) *key {
	if role == Host {
		if n, ok := hostAliases[name]; ok {
			name = n
		}
	}
	for _, k := range keys {
		if (k.name == name || k.alias == name) && k.has(role) {
			return k
		}
	}
	return nil
}

// Keys lists the key names of role, in documentation order. (Not inlined:
// it serves error messages, from several places.)
//
//go:noinline
func Keys(role Role) []string {
	var out []string
	for _, k := range keys {
		if k.has(role) {
			out = append(out, k.name)
		}
	}
	return out
}

// DefaultValue returns the built-in value of a key for role, as written in a file.
func DefaultValue(role Role, name string) string {
	if k := lookup(name, role); k != nil {
		return k.def(role)
	}
	return ""
}

func unknownMsg(name string, role Role) string {
	for _, k := range keys {
		if k.name == name || k.alias == name {
			return fmt.Sprintf("not a %s key (it belongs to the %s side); allowed keys: %s",
				role, other(role), strings.Join(Keys(role), " "))
		}
	}
	if s := nearest(name, role); s != "" {
		return fmt.Sprintf("unknown key; did you mean %s?", s)
	}
	return fmt.Sprintf("unknown key; allowed keys: %s", strings.Join(Keys(role), " "))
}

func other(r Role) Role {
	if r == Router {
		return Host
	}
	return Router
}

// nearest suggests the valid key closest to a typo, or "" when none is close.
func nearest(name string, role Role) string {
	up := strings.ToUpper(name)
	best, bestD := "", 1<<30
	cands := Keys(role)
	for _, k := range keys {
		if k.alias != "" && k.has(role) {
			cands = append(cands, k.alias)
		}
	}
	sort.Strings(cands)
	for _, k := range cands {
		if dd := distance(up, k); dd < bestD {
			best, bestD = k, dd
		}
	}
	if bestD <= 3 || bestD <= len(best)/3 {
		return best
	}
	return ""
}

// distance is the Levenshtein edit distance.
func distance(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}

func setInt(dst *int, v string, lo, hi int) error {
	n, err := strconv.Atoi(v)
	if err != nil {
		return invalid("is not a whole number")
	}
	if n < lo || n > hi {
		return invalid("is out of range")
	}
	*dst = n
	return nil
}

// ParseDuration accepts Go syntax (90s, 1h30m) or bare seconds (600).
func ParseDuration(v string) (time.Duration, error) {
	if v == "" {
		return 0, invalid("is empty")
	}
	if n, err := strconv.ParseInt(v, 10, 64); err == nil {
		if n < 0 || n > 1<<31 {
			return 0, invalid("is out of range")
		}
		return time.Duration(n) * time.Second, nil
	}
	dur, err := time.ParseDuration(v)
	if err != nil {
		return 0, invalid("is not a duration")
	}
	return dur, nil
}

func setDuration(dst *time.Duration, v string, lo, hi time.Duration) error {
	dur, err := ParseDuration(v)
	if err != nil {
		return err
	}
	if dur < lo || dur > hi {
		return invalid("is out of range")
	}
	*dst = dur
	return nil
}

func setBool(dst *bool, v string) error {
	switch strings.ToLower(v) {
	case "1", "yes", "true", "on":
		*dst = true
	case "0", "no", "false", "off", "":
		*dst = false
	default:
		return invalid("is not 1 or 0")
	}
	return nil
}

func setPath(dst *string, v string) error {
	if !strings.HasPrefix(v, "/") {
		return invalid("is not an absolute path")
	}
	*dst = v
	return nil
}

// exeChars ends the allowed text of a command key (QM, SYSTEMCTL, PVECM).
const exeChars = " (letters, digits and . _ / + - only)"

// setExe takes a command key: a clean absolute path and nothing else
// (SPEC §15). The binaries append arguments and run it through /bin/sh,
// so a space, quote, redirection or $(…) would run as root.
func setExe(dst *string, v string) error {
	if !strings.HasPrefix(v, "/") {
		return invalid("is not an absolute path")
	}
	for _, r := range v {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("._/+-", r)) {
			return fmt.Errorf("has %q, which a tool path may not hold", r)
		}
	}
	if cl := filepath.Clean(v); cl != v {
		return fmt.Errorf("is not a clean path (write %s)", cl)
	}
	*dst = v
	return nil
}

// setIface takes a netifd interface name: a UCI section name, letters,
// digits and _ (libuci's uci_validate_name), which is also safe to put
// into the L1 command line.
func setIface(dst *string, v string) error {
	if v == "" {
		return invalid("is empty")
	}
	for _, r := range v {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '_') {
			return fmt.Errorf("has %q, which a netifd interface name may not hold", r)
		}
	}
	if len(v) > 64 {
		return invalid("is too long")
	}
	*dst = v
	return nil
}

// WAN_GATEWAY's two words; anything else is an address (SPEC §14).
const (
	GatewayAuto = "auto"
	GatewayOff  = "off"
)

// setWanGateway takes auto, off or a unicast IP address, kept in its
// canonical form (an IPv4-mapped address as plain IPv4).
func setWanGateway(c *Config, v string) error {
	switch strings.ToLower(v) {
	case GatewayAuto, GatewayOff:
		c.WanGateway = strings.ToLower(v)
		return nil
	}
	ip, err := netip.ParseAddr(v)
	if err != nil {
		return invalid("is not auto, off or an IP address")
	}
	ip = ip.Unmap()
	if !unicast(ip) {
		return invalid("is not a unicast address a next hop can have")
	}
	c.WanGateway = ip.String()
	return nil
}

// scheme returns the scheme of a URL-like value when it is short and
// plain (lower-case letters before "://"), so an error may name it
// without showing any part of a token; "" otherwise.
func scheme(v string) string {
	sch, _, ok := strings.Cut(v, "://")
	if !ok || sch == "" || len(sch) > 8 {
		return ""
	}
	for _, r := range sch {
		if r < 'a' || r > 'z' {
			return ""
		}
	}
	return sch
}

func setCmd(dst *string, v string) error {
	if strings.TrimSpace(v) == "" {
		return invalid("is empty")
	}
	*dst = v
	return nil
}

func setList(dst *[]string, v string, check func(string) error, nonEmpty bool) error {
	var out []string
	for _, f := range strings.FieldsFunc(v, func(r rune) bool { return r == ',' || r == ' ' }) {
		if err := check(f); err != nil {
			return fmt.Errorf("has %q which %v", f, err)
		}
		out = append(out, f)
	}
	if nonEmpty && len(out) == 0 {
		return invalid("is empty")
	}
	*dst = out
	return nil
}

// checkHost accepts an IP address or a host name (validHostname, and not
// all digits in its last label: "1.1.1.1.1" and "223.5.5" are mistyped
// addresses, no names). A name with a full-width comma or a semicolon in
// it, two targets run together, used to be taken for one that never
// resolves: a router that saw the internet down all day and rebooted.
func checkHost(h string) error {
	if _, err := netip.ParseAddr(h); err == nil {
		return nil
	}
	if !validHostname(h) || strings.Trim(h[strings.LastIndexByte(strings.TrimSuffix(h, "."), '.')+1:], "0123456789.") == "" {
		return invalid("is not an IP address or host name")
	}
	return nil
}

// checkTarget is checkHost for what is probed as the internet (SPEC §4):
// an address that answers, or fails, without it — loopback, 0.0.0.0,
// link-local, multicast, broadcast — would hold the rescue off for ever,
// or keep it acting on a working line.
func checkTarget(h string) error {
	if ip, err := netip.ParseAddr(h); err == nil && (!unicast(ip) || ip.IsLinkLocalUnicast()) {
		return invalid("is not an address on the internet (loopback, 0.0.0.0, link-local, multicast or broadcast)")
	}
	return checkHost(h)
}

// unicast reports an address a host on a link can have.
func unicast(ip netip.Addr) bool {
	ip = ip.Unmap()
	return !(ip.IsUnspecified() || ip.IsMulticast() || ip.IsLoopback() || ip == netip.AddrFrom4([4]byte{255, 255, 255, 255}))
}

func checkHostPort(hp string) error {
	h, p, err := net.SplitHostPort(hp)
	if err != nil {
		return invalid("is not host:port")
	}
	if n, err := strconv.Atoi(p); err != nil || n < 1 || n > 65535 {
		return invalid("has no valid port")
	}
	return checkTarget(h)
}

// checkURL accepts "" or an http(s) URL with a host. Its errors never
// quote the value: a URL key may hold a token (HEARTBEAT_URL's check id).
func checkURL(v string) error {
	if v == "" {
		return nil
	}
	if !strings.HasPrefix(v, "http://") && !strings.HasPrefix(v, "https://") {
		if sch := scheme(v); sch != "" {
			return fmt.Errorf("must start with https:// or http://, not %s://", sch)
		}
		return invalid("must start with https:// or http://")
	}
	u, err := url.Parse(v)
	if err != nil || u.Host == "" || u.Hostname() == "" {
		return invalid("is not a URL with a host")
	}
	if strings.ContainsAny(v, " \t") {
		return invalid("holds a space")
	}
	return nil
}

// validHostname reports a DNS name of letters, digits, hyphens and
// underscores (a name in /etc/hosts or a local zone may have them) in
// dot-separated labels of 1 to 63 characters, at most 253 in all.
func validHostname(v string) bool {
	v = strings.TrimSuffix(v, ".")
	if v == "" || len(v) > 253 {
		return false
	}
	for _, l := range strings.Split(v, ".") {
		if l == "" || len(l) > 63 || l[0] == '-' || l[len(l)-1] == '-' {
			return false
		}
		for _, r := range l {
			if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_') {
				return false
			}
		}
	}
	return true
}

// invalid is a value's error, what is wrong with it. Not inlined: errors.New
// inlined at each of the table's ~30 checks cost the router's netcheck ~2 KB
// (SPEC §12: ≤ 5 MiB); a config is read once a run.
//
//go:noinline
func invalid(msg string) error { return errors.New(msg) }

// Hours is a daily window of whole hours, HOST_REBOOT_HOURS (SPEC §16):
// "1-6" is from 01:00 up to 06:00, "22-5" from 22:00 across midnight up to
// 05:00. The zero value (an empty key) is any time.
type Hours struct {
	From, To int // 0–23 and 1–24; From != To
	Set      bool
}

// ParseHours reads "FROM-TO" in whole hours of the local day.
func ParseHours(v string) (Hours, error) {
	v = strings.TrimSpace(v)
	if v == "" {
		return Hours{}, nil
	}
	a, b, ok := strings.Cut(v, "-")
	if !ok {
		return Hours{}, errors.New("is not FROM-TO")
	}
	from, err1 := strconv.Atoi(strings.TrimSpace(a))
	to, err2 := strconv.Atoi(strings.TrimSpace(b))
	switch {
	case err1 != nil || err2 != nil:
		return Hours{}, errors.New("is not FROM-TO in whole hours")
	case from < 0 || from > 23 || to < 0 || to > 24:
		return Hours{}, errors.New("has an hour out of range")
	case from == to:
		return Hours{}, errors.New("is an empty window (FROM equals TO)")
	}
	return Hours{From: from, To: to, Set: true}, nil
}

// Contains reports whether t (in its own zone) lies in the window.
func (h Hours) Contains(t time.Time) bool {
	if !h.Set {
		return true
	}
	hr := t.Hour()
	if h.From < h.To {
		return hr >= h.From && hr < h.To
	}
	return hr >= h.From || hr < h.To%24
}

// Next returns the first moment at or after t that lies in the window.
func (h Hours) Next(t time.Time) time.Time {
	if h.Contains(t) {
		return t
	}
	start := time.Date(t.Year(), t.Month(), t.Day(), h.From, 0, 0, 0, t.Location())
	if !start.After(t) {
		start = start.AddDate(0, 0, 1)
	}
	// A window of the hour a clock skips (02:00 on the day it goes
	// forward) has no moment that day: time.Date made 03:00 of its
	// start, outside it. The next day's start is.
	for i := 0; i < 3 && !h.Contains(start); i++ {
		start = time.Date(start.Year(), start.Month(), start.Day()+1, h.From, 0, 0, 0, t.Location())
	}
	return start
}

func (h Hours) String() string {
	if !h.Set {
		return ""
	}
	return fmt.Sprintf("%d-%d", h.From, h.To)
}
