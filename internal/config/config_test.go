package config

import (
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"
)

func TestDefaults(t *testing.T) {
	r := Default(Router)
	if got, want := r.CheckTargets, []string{"223.5.5.5", "119.29.29.29", "1.1.1.1", "8.8.8.8"}; !reflect.DeepEqual(got, want) {
		t.Errorf("CHECK_TARGETS = %v; want %v", got, want)
	}
	checks := []struct {
		name      string
		got, want any
	}{
		{"PROBE_TIMEOUT", r.ProbeTimeout, 3 * time.Second},
		{"L1_THRESHOLD", r.L1Threshold, 2}, {"L2_THRESHOLD", r.L2Threshold, 5}, {"L3_THRESHOLD", r.L3Threshold, 10},
		{"L4_SOS_THRESHOLD", r.L4SOSThreshold, 10}, {"SAFE_UPTIME", r.SafeUptime, 600 * time.Second},
		{"COOLING_FREE_REBOOTS", r.CoolingFreeReboots, 6}, {"COOLING_STEP", r.CoolingStep, time.Hour},
		{"COOLING_MAX", r.CoolingMax, 3 * time.Hour}, {"RECOVERY_STABLE", r.RecoveryStable, 30 * time.Minute},
		{"STATE_DIR", r.StateDir, "/root"}, {"RUN_DIR", r.RunDir, "/tmp/netrescue"},
		{"LOG_FILE", r.LogFile, "/root/network_monitor.log"}, {"LOG_MAX_BYTES", r.LogMaxBytes, int64(256 << 10)},
		{"SYSLOG", r.Syslog, true}, {"DRY_RUN", r.DryRun, false},
		{"L3_CMD", r.L3Cmd, "/bin/sync; /sbin/reboot -f"},
		{"WAN_IFACE", r.WanIface, "wan"}, {"IFSTATUS", r.IFStatus, "/sbin/ifstatus"},
	}
	h := Default(Host)
	checks = append(checks, []struct {
		name      string
		got, want any
	}{
		{"OP_IP", h.OpIP, "192.168.10.1"}, {"OP_SSH_PORT", h.OpSSHPort, 22}, {"OP_SSH_USER", h.OpSSHUser, "root"},
		{"SSH_KEY", h.SSHKey, "/root/.ssh/id_ed25519"}, {"KNOWN_HOSTS", h.KnownHosts, "/etc/netrescue/known_hosts"},
		{"SSH_TIMEOUT", h.SSHTimeout, 10 * time.Second}, {"OP_STATE_DIR", h.OpStateDir, "/root"},
		{"PVE_MARK", h.PVEMark, "/root/pve_did_reboot_today"}, {"host LOG_FILE", h.LogFile, "/var/log/pve_host_monitor.log"},
		{"host LOG_MAX_BYTES", h.LogMaxBytes, int64(1 << 20)}, {"REBOOT_DELAY", h.RebootDelay, 10 * time.Second},
		{"REBOOT_CMD", h.RebootCmd, "/usr/bin/systemctl reboot"}, {"REBOOT_FALLBACK_CMD", h.RebootFallbackCmd, "/usr/sbin/reboot"},
		{"REBOOT_CONFIRM", h.RebootConfirm, 30 * time.Second}, {"MIN_HOST_UPTIME", h.MinHostUptime, 600 * time.Second},
		{"VM_ID", h.VMID, ""}, {"VM_RESTART_FIRST", h.VMRestartFirst, true}, {"ROUTER_HUNG_AFTER", h.RouterHungAfter, 20 * time.Minute},
		{"VM_HUNG_AFTER", h.VMHungAfter, 10 * time.Minute}, {"VM_STOP_TIMEOUT", h.VMStopTimeout, 30 * time.Second},
		{"host STATE_DIR", h.StateDir, "/var/lib/netrescue"},
	}...)
	for _, c := range checks {
		if c.got != c.want {
			t.Errorf("default %s = %v; want %v", c.name, c.got, c.want)
		}
	}
}

func TestParseValues(t *testing.T) {
	tests := []struct {
		name    string
		role    Role
		content string
		check   func(c Config) bool
	}{
		{"bare seconds", Router, "SAFE_UPTIME=900", func(c Config) bool { return c.SafeUptime == 900*time.Second }},
		{"go duration", Router, "COOLING_STEP=1h30m", func(c Config) bool { return c.CoolingStep == 90*time.Minute }},
		{"double quotes", Router, `L1_CMD="/sbin/ifup wan # not a comment"`, func(c Config) bool { return c.L1Cmd == "/sbin/ifup wan # not a comment" }},
		{"single quotes", Router, `L2_CMD='echo "hi"'`, func(c Config) bool { return c.L2Cmd == `echo "hi"` }},
		{"trailing comment", Router, "L1_THRESHOLD=3 # three", func(c Config) bool { return c.L1Threshold == 3 }},
		{"export prefix", Router, "export L2_THRESHOLD=6", func(c Config) bool { return c.L2Threshold == 6 }},
		{"CHECK_IP alias", Router, "CHECK_IP=198.51.100.1", func(c Config) bool { return reflect.DeepEqual(c.CheckTargets, []string{"198.51.100.1"}) }},
		{"TARGET_IP alias on host", Host, "TARGET_IP=198.51.100.1,example.org", func(c Config) bool {
			return reflect.DeepEqual(c.CheckTargets, []string{"198.51.100.1", "example.org"})
		}},
		{"CHECK_TCP", Router, "CHECK_TCP=198.51.100.1:443,[2001:db8::1]:80", func(c Config) bool { return len(c.CheckTCP) == 2 }},
		// Names as people write them: a trailing dot, an underscore (a
		// name in /etc/hosts or a local zone), spaces between targets.
		{"target names", Router, "CHECK_TARGETS=www.baidu.com. my_dns.example  223.5.5.5", func(c Config) bool {
			return reflect.DeepEqual(c.CheckTargets, []string{"www.baidu.com.", "my_dns.example", "223.5.5.5"})
		}},
		{"OP_IP a local name", Host, "OP_IP=open_wrt", func(c Config) bool { return c.OpIP == "open_wrt" }},
		{"size KiB", Router, "LOG_MAX_BYTES=64KiB", func(c Config) bool { return c.LogMaxBytes == 64<<10 }},
		{"size bytes", Router, "LOG_MAX_BYTES=10000", func(c Config) bool { return c.LogMaxBytes == 10000 }},
		{"profile", Router, "PROFILE=aggressive", func(c Config) bool { return c.L4SOSThreshold == 5 }},
		{"explicit threshold wins over profile", Router, "L4_SOS_THRESHOLD=8\nPROFILE=conservative", func(c Config) bool { return c.L4SOSThreshold == 8 }},
		{"comments and blank lines", Router, "# c\n\n   # indented\nL3_THRESHOLD=12\r\n", func(c Config) bool { return c.L3Threshold == 12 }},
		{"dry run", Router, "DRY_RUN=1", func(c Config) bool { return c.DryRun }},
		{"syslog off", Host, "SYSLOG=0", func(c Config) bool { return !c.Syslog }},
		{"vm id", Host, "VM_ID=100", func(c Config) bool { return c.VMID == "100" }},
		{"empty VM_ID", Host, "VM_ID=", func(c Config) bool { return c.VMID == "" }},
		// A file saved by Windows Notepad starts with a UTF-8 BOM (SPEC §15).
		{"UTF-8 BOM ignored", Router, "\ufeffCHECK_TARGETS=198.51.100.1\n", func(c Config) bool {
			return reflect.DeepEqual(c.CheckTargets, []string{"198.51.100.1"})
		}},
		{"BOM before a comment", Host, "\ufeff# netrescue\nVM_ID=100", func(c Config) bool { return c.VMID == "100" }},
		{"tool path with + and -", Host, "QM=/opt/pve-tools/qm+wrap_1.2", func(c Config) bool { return c.QM == "/opt/pve-tools/qm+wrap_1.2" }},
		// The WAN interface names the default L1 command (issue 9 item 22);
		// an explicit L1_CMD wins, before or after it.
		{"WAN_IFACE default", Router, "", func(c Config) bool { return c.WanIface == "wan" && c.L1Cmd == DefaultL1Cmd }},
		{"WAN_IFACE builds L1", Router, "WAN_IFACE=wan_pppoe", func(c Config) bool {
			return c.L1Cmd == "/sbin/ifstatus wan_pppoe >/dev/null 2>&1 || { echo 'Interface wan_pppoe not found: set WAN_IFACE' >&2; exit 1; }; /sbin/ifdown wan_pppoe; /bin/sleep 10; /sbin/ifup wan_pppoe"
		}},
		{"IFSTATUS in the default L1", Router, "IFSTATUS=/opt/fake/ifstatus\nWAN_IFACE=wwan", func(c Config) bool {
			return strings.HasPrefix(c.L1Cmd, "/opt/fake/ifstatus wwan >/dev/null 2>&1 || ") && c.IFStatus == "/opt/fake/ifstatus"
		}},
		{"explicit L1_CMD wins", Router, "L1_CMD=/bin/true\nWAN_IFACE=wan6", func(c Config) bool { return c.L1Cmd == "/bin/true" && c.WanIface == "wan6" }},
		{"NOTIFY_URL https", Host, "NOTIFY_URL=https://ntfy.sh/x", func(c Config) bool { return c.NotifyURL == "https://ntfy.sh/x" }},
		// SPEC §3: the value sh reads (dash and busybox ash alike).
		{"escaped quotes in double quotes", Router, `L3_CMD="/usr/bin/logger \"going down\"; /sbin/reboot -f"`, func(c Config) bool {
			return c.L3Cmd == `/usr/bin/logger "going down"; /sbin/reboot -f`
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := Parse("/etc/netrescue.conf", tt.content, tt.role)
			if err != nil {
				t.Fatalf("Parse(%q) error: %v", tt.content, err)
			}
			if !tt.check(c) {
				t.Errorf("Parse(%q) = %+v; check failed", tt.content, c)
			}
		})
	}
}

// TestErrors pins the exact text a person reads for each kind of mistake.
func TestErrors(t *testing.T) {
	const A = "allowed: IP addresses or host names on the internet, separated by commas (,) or spaces"
	tests := []struct {
		name    string
		role    Role
		content string
		want    string
	}{
		{"typo suggests the key", Router, "L1_THRESHOLDS=3",
			"/etc/netrescue.conf:1: L1_THRESHOLDS: unknown key; did you mean L1_THRESHOLD?"},
		{"lower case typo", Router, "\n\nsafe_uptime=10",
			"/etc/netrescue.conf:3: safe_uptime: unknown key; did you mean SAFE_UPTIME?"},
		{"key of the other side", Router, "OP_IP=192.168.10.1",
			"/etc/netrescue.conf:1: OP_IP: not a router key (it belongs to the host side); allowed keys: " + strings.Join(Keys(Router), " ")},
		{"not a number", Router, "L2_THRESHOLD=five",
			`/etc/netrescue.conf:1: L2_THRESHOLD: "five" is not a whole number; allowed: a whole number from 0 to 1000 (0 skips L2)`},
		{"out of range", Router, "PROBE_TIMEOUT=5m",
			`/etc/netrescue.conf:1: PROBE_TIMEOUT: "5m" is out of range; allowed: a duration from 100ms to 60s (3s, 1500ms or bare seconds)`},
		{"bad duration", Router, "COOLING_STEP=an hour",
			`/etc/netrescue.conf:1: COOLING_STEP: "an hour" is not a duration; allowed: a duration from 1s to 24h`},
		{"bad bool", Router, "SYSLOG=maybe", `/etc/netrescue.conf:1: SYSLOG: "maybe" is not 1 or 0; allowed: 1 or 0`},
		{"bad profile", Router, "PROFILE=wild",
			`/etc/netrescue.conf:1: PROFILE: "wild" is not a profile; allowed: conservative (15), balanced (10), aggressive (5) or empty`},
		{"bad target", Router, "CHECK_TARGETS=1.1.1.1,bad/host",
			`/etc/netrescue.conf:1: CHECK_TARGETS: "1.1.1.1,bad/host" has "bad/host" which is not an IP address or host name; allowed: IP addresses or host names on the internet, separated by commas (,) or spaces`},
		// Two targets run together by a full-width comma (a Chinese input
		// method's) or a semicolon, and a mistyped address, were taken for
		// names that never resolve: the internet down for ever, the router
		// rebooting all day.
		{"full-width comma", Router, "CHECK_TARGETS=223.5.5.5，119.29.29.29",
			`/etc/netrescue.conf:1: CHECK_TARGETS: "223.5.5.5，119.29.29.29" has "223.5.5.5，119.29.29.29" which is not an IP address or host name; ` + A},
		{"semicolon", Router, "CHECK_TARGETS=223.5.5.5;119.29.29.29",
			`/etc/netrescue.conf:1: CHECK_TARGETS: "223.5.5.5;119.29.29.29" has "223.5.5.5;119.29.29.29" which is not an IP address or host name; ` + A},
		{"five numbers", Router, "CHECK_TARGETS=1.1.1.1.1",
			`/etc/netrescue.conf:1: CHECK_TARGETS: "1.1.1.1.1" has "1.1.1.1.1" which is not an IP address or host name; ` + A},
		{"three numbers", Router, "CHECK_TARGETS=223.5.5",
			`/etc/netrescue.conf:1: CHECK_TARGETS: "223.5.5" has "223.5.5" which is not an IP address or host name; ` + A},
		{"trailing junk", Router, "CHECK_TARGETS=www.baidu.com|",
			`/etc/netrescue.conf:1: CHECK_TARGETS: "www.baidu.com|" has "www.baidu.com|" which is not an IP address or host name; ` + A},
		// Addresses that answer, or fail, without the internet: the rescue
		// would never act, or act on a working line.
		{"loopback target", Router, "CHECK_TARGETS=8.8.8.8 127.0.0.1",
			`/etc/netrescue.conf:1: CHECK_TARGETS: "8.8.8.8 127.0.0.1" has "127.0.0.1" which is not an address on the internet (loopback, 0.0.0.0, link-local, multicast or broadcast); ` + A},
		{"unspecified target", Host, "CHECK_TARGETS=0.0.0.0",
			`/etc/netrescue.conf:1: CHECK_TARGETS: "0.0.0.0" has "0.0.0.0" which is not an address on the internet (loopback, 0.0.0.0, link-local, multicast or broadcast); ` + A},
		{"broadcast target", Router, "CHECK_TARGETS=255.255.255.255",
			`/etc/netrescue.conf:1: CHECK_TARGETS: "255.255.255.255" has "255.255.255.255" which is not an address on the internet (loopback, 0.0.0.0, link-local, multicast or broadcast); ` + A},
		{"multicast target", Router, "CHECK_TARGETS=224.0.0.1",
			`/etc/netrescue.conf:1: CHECK_TARGETS: "224.0.0.1" has "224.0.0.1" which is not an address on the internet (loopback, 0.0.0.0, link-local, multicast or broadcast); ` + A},
		{"link-local v6 target", Router, "CHECK_TARGETS=fe80::1",
			`/etc/netrescue.conf:1: CHECK_TARGETS: "fe80::1" has "fe80::1" which is not an address on the internet (loopback, 0.0.0.0, link-local, multicast or broadcast); ` + A},
		{"loopback TCP target", Router, "CHECK_TCP=[::1]:443",
			`/etc/netrescue.conf:1: CHECK_TCP: "[::1]:443" has "[::1]:443" which is not an address on the internet (loopback, 0.0.0.0, link-local, multicast or broadcast); allowed: comma-separated host:port, or empty`},
		{"empty targets", Router, "CHECK_TARGETS=",
			`/etc/netrescue.conf:1: CHECK_TARGETS: "" is empty; allowed: IP addresses or host names on the internet, separated by commas (,) or spaces`},
		{"relative path", Router, "STATE_DIR=root",
			`/etc/netrescue.conf:1: STATE_DIR: "root" is not an absolute path; allowed: an absolute directory path`},
		{"unclosed quote", Router, `L1_CMD="ifup wan`, `/etc/netrescue.conf:1: L1_CMD: missing closing " quote`},
		{"not key=value", Router, "just words", `/etc/netrescue.conf:1: "just words" is not KEY=value`},
		{"thresholds out of order", Router, "L1_THRESHOLD=6",
			`/etc/netrescue.conf:1: L1_THRESHOLD: 6 is not below L2_THRESHOLD 5; allowed: thresholds rising L1 < L2 < L3 (0 skips L1 or L2)`},
		// An error between two keys names the line of the key it names
		// (it named none).
		{"threshold above L3, on line 3", Router, "# thresholds\nL1_THRESHOLD=2\nL2_THRESHOLD=12",
			`/etc/netrescue.conf:3: L2_THRESHOLD: 12 is not below L3_THRESHOLD 10; allowed: thresholds rising L1 < L2 < L3 (0 skips L1 or L2)`},
		{"cooling max below its step", Router, "COOLING_MAX=30m\nCOOLING_STEP=1h",
			`/etc/netrescue.conf:1: COOLING_MAX: 30m0s is shorter than COOLING_STEP 1h0m0s; allowed: 0 (no cooling) or at least COOLING_STEP`},
		// A set key against another's default: the error names the key
		// the file set, on its line, not the default it never wrote.
		{"cooling step above the default max", Router, "SYSLOG=0\nCOOLING_STEP=4h",
			`/etc/netrescue.conf:2: COOLING_STEP: 4h0m0s is longer than COOLING_MAX 3h0m0s; allowed: at most COOLING_MAX, or COOLING_MAX=0 (no cooling)`},
		{"L3 below the default L2", Router, "L3_THRESHOLD=3",
			`/etc/netrescue.conf:1: L3_THRESHOLD: 3 is not above L2_THRESHOLD 5; allowed: thresholds rising L1 < L2 < L3 (0 skips L1 or L2)`},
		{"L2 below the default L1, L3 set too", Router, "L3_THRESHOLD=12\nL2_THRESHOLD=2",
			`/etc/netrescue.conf:2: L2_THRESHOLD: 2 is not above L1_THRESHOLD 2; allowed: thresholds rising L1 < L2 < L3 (0 skips L1 or L2)`},
		// A STATE_DIR that a reboot empties: the counts would go with every
		// reboot, and the router reboot all day, never cooling, never SOS.
		{"STATE_DIR is RUN_DIR", Router, "STATE_DIR=/tmp/netrescue",
			`/etc/netrescue.conf:1: STATE_DIR: STATE_DIR /tmp/netrescue is inside RUN_DIR /tmp/netrescue, which a reboot empties; allowed: STATE_DIR outside RUN_DIR`},
		// RUN_DIR set onto STATE_DIR's default: the error names the key set.
		{"RUN_DIR onto STATE_DIR", Router, "SYSLOG=0\nRUN_DIR=/root",
			`/etc/netrescue.conf:2: RUN_DIR: STATE_DIR /root is inside RUN_DIR /root, which a reboot empties; allowed: STATE_DIR outside RUN_DIR`},
		{"STATE_DIR inside RUN_DIR", Host, "RUN_DIR=/run/x/\nSTATE_DIR=/run/x/state",
			`/etc/netrescue.conf:2: STATE_DIR: STATE_DIR /run/x/state is inside RUN_DIR /run/x/, which a reboot empties; allowed: STATE_DIR outside RUN_DIR`},
		{"bad size", Router, "LOG_MAX_BYTES=lots",
			`/etc/netrescue.conf:1: LOG_MAX_BYTES: "lots" is not a size; allowed: a size from 4KiB to 1GiB (256KiB, 1MiB, or bytes)`},
		{"bad vm id", Host, "VM_ID=router",
			`/etc/netrescue.conf:1: VM_ID: "router" is not a VM id; allowed: a Proxmox VM id (a number from 100), or empty to disable VM actions`},
		{"router key on host", Host, "L1_THRESHOLD=2",
			"/etc/netrescue.conf:1: L1_THRESHOLD: not a host key (it belongs to the router side); allowed keys: " + strings.Join(Keys(Host), " ")},
		// Command keys are plain absolute paths (SPEC §15): the binaries
		// append arguments to them, so shell syntax would run as root.
		{"shell syntax in QM", Host, "QM=/bin/echo>/tmp/x",
			`/etc/netrescue.conf:1: QM: "/bin/echo>/tmp/x" has '>', which a tool path may not hold; allowed: the absolute path of Proxmox's qm (letters, digits and . _ / + - only)`},
		{"space in SYSTEMCTL", Host, "SYSTEMCTL='/usr/bin/systemctl --force'",
			`/etc/netrescue.conf:1: SYSTEMCTL: "/usr/bin/systemctl --force" has ' ', which a tool path may not hold; allowed: the absolute path of systemctl (letters, digits and . _ / + - only)`},
		{"command substitution in PVECM", Host, "PVECM=/usr/bin/pvecm$(id)",
			`/etc/netrescue.conf:1: PVECM: "/usr/bin/pvecm$(id)" has '$', which a tool path may not hold; allowed: the absolute path of Proxmox's pvecm (letters, digits and . _ / + - only)`},
		{"relative QM", Host, "QM=qm",
			`/etc/netrescue.conf:1: QM: "qm" is not an absolute path; allowed: the absolute path of Proxmox's qm (letters, digits and . _ / + - only)`},
		{"unclean QM", Host, "QM=/usr/sbin/../sbin/qm",
			`/etc/netrescue.conf:1: QM: "/usr/sbin/../sbin/qm" is not a clean path (write /usr/sbin/qm); allowed: the absolute path of Proxmox's qm (letters, digits and . _ / + - only)`},
		// A netifd interface is a UCI section name: letters, digits and _
		// (libuci's uci_validate_name); it is put into the L1 command line.
		{"WAN_IFACE with shell syntax", Router, "WAN_IFACE='wan; reboot'",
			`/etc/netrescue.conf:1: WAN_IFACE: "wan; reboot" has ';', which a netifd interface name may not hold; allowed: a netifd interface name of /etc/config/network (letters, digits and _, up to 64)`},
		{"empty WAN_IFACE", Router, "WAN_IFACE=",
			`/etc/netrescue.conf:1: WAN_IFACE: "" is empty; allowed: a netifd interface name of /etc/config/network (letters, digits and _, up to 64)`},
		{"IFSTATUS with arguments", Router, "IFSTATUS='/sbin/ifstatus wan'",
			`/etc/netrescue.conf:1: IFSTATUS: "/sbin/ifstatus wan" has ' ', which a tool path may not hold; allowed: the absolute path of OpenWrt's ifstatus (letters, digits and . _ / + - only)`},
		{"BOM then a typo", Router, "\ufeffL1_THRESHOLDS=3",
			"/etc/netrescue.conf:1: L1_THRESHOLDS: unknown key; did you mean L1_THRESHOLD?"},
		// NOTIFY_URL may hold a token: its value is never echoed, at most
		// its scheme (SPEC §9, issue 9 item 18).
		{"NOTIFY_URL other scheme", Host, "NOTIFY_URL=ftp://hooks.example/T0KEN-s3cret",
			`/etc/netrescue.conf:1: NOTIFY_URL: must start with https:// or http://, not ftp:// (the value is not shown: it may hold a token); allowed: an http(s) URL, or empty`},
		{"NOTIFY_URL without scheme", Host, "NOTIFY_URL=hooks.example/T0KEN-s3cret",
			`/etc/netrescue.conf:1: NOTIFY_URL: must start with https:// or http:// (the value is not shown: it may hold a token); allowed: an http(s) URL, or empty`},
		{"NOTIFY_URL token-like prefix", Host, "NOTIFY_URL=T0KEN-s3cret://x",
			`/etc/netrescue.conf:1: NOTIFY_URL: must start with https:// or http:// (the value is not shown: it may hold a token); allowed: an http(s) URL, or empty`},
		{"NOTIFY_URL text after quote", Host, `NOTIFY_URL="https://hooks.example/x" T0KEN-s3cret`,
			`/etc/netrescue.conf:1: NOTIFY_URL: text after the closing quote (the value is not shown: it may hold a token)`},
		// A backslash escapes a double quote (SPEC §3: as sh reads the
		// line); in single quotes it escapes nothing.
		{"escaped closing quote", Router, `L1_CMD="ifup wan\"`, `/etc/netrescue.conf:1: L1_CMD: missing closing " quote`},
		{"text after escaped quotes", Router, `L3_CMD="logger \"down\"" now`,
			`/etc/netrescue.conf:1: L3_CMD: text "now" after the closing quote`},
		{"no escape in single quotes", Router, `L2_CMD='it\'s'`, `/etc/netrescue.conf:1: L2_CMD: text "s'" after the closing quote`},
		// A secret key without its "=" is named, its value never shown
		// (SPEC §9); any other key's line is quoted whole, as it helps.
		{"NOTIFY_URL without =", Host, "NOTIFY_URL https://api.day.app/T0KEN-s3cret",
			`/etc/netrescue.conf:1: NOTIFY_URL: not KEY=value (the value is not shown: it may hold a token)`},
		{"NOTIFY_URL with a colon", Host, "NOTIFY_URL: https://api.day.app/T0KEN-s3cret",
			`/etc/netrescue.conf:1: NOTIFY_URL: not KEY=value (the value is not shown: it may hold a token)`},
		{"HEARTBEAT_URL without =, = in the query", Host, "HEARTBEAT_URL https://hc-ping.com/T0KEN-s3cret?create=1",
			`/etc/netrescue.conf:1: HEARTBEAT_URL: not KEY=value (the value is not shown: it may hold a token)`},
		{"lower-case secret key without =", Host, "\theartbeat_url\thttps://hc-ping.com/T0KEN-s3cret",
			`/etc/netrescue.conf:1: heartbeat_url: not KEY=value (the value is not shown: it may hold a token)`},
		{"host secret in a router file without =", Router, "NOTIFY_URL https://api.day.app/T0KEN-s3cret",
			`/etc/netrescue.conf:1: NOTIFY_URL: not KEY=value (the value is not shown: it may hold a token)`},
		{"host secret in a router file, text after quote", Router, `NOTIFY_URL="https://hooks.example/x" T0KEN-s3cret`,
			`/etc/netrescue.conf:1: NOTIFY_URL: text after the closing quote (the value is not shown: it may hold a token)`},
		{"NOTIFY_URL with a full-width colon", Host, "NOTIFY_URL：https://api.day.app/T0KEN-s3cret/",
			`/etc/netrescue.conf:1: NOTIFY_URL: not KEY=value (the value is not shown: it may hold a token)`},
		{"NOTIFY_URL with a full-width equals sign", Host, "NOTIFY_URL＝https://api.day.app/T0KEN-s3cret/",
			`/etc/netrescue.conf:1: NOTIFY_URL: not KEY=value (the value is not shown: it may hold a token)`},
		{"export and two blanks", Host, "export  NOTIFY_URL https://api.day.app/T0KEN-s3cret/?a=b",
			`/etc/netrescue.conf:1: NOTIFY_URL: not KEY=value (the value is not shown: it may hold a token)`},
		{"an arrow", Host, "HEARTBEAT_URL→https://hc-ping.com/T0KEN-s3cret",
			`/etc/netrescue.conf:1: HEARTBEAT_URL: not KEY=value (the value is not shown: it may hold a token)`},
		{"glued to its value, then =", Host, "NOTIFY_URLT0KENs3cret=1",
			`/etc/netrescue.conf:1: NOTIFY_URL: not KEY=value (the value is not shown: it may hold a token)`},
		{"glued with _ , then =", Host, "NOTIFY_URL_T0KENs3cret=x",
			`/etc/netrescue.conf:1: NOTIFY_URL: not KEY=value (the value is not shown: it may hold a token)`},
		{"glued to its value", Host, "NOTIFY_URLT0KEN-s3cret",
			`/etc/netrescue.conf:1: NOTIFY_URL: not KEY=value (the value is not shown: it may hold a token)`},
		// NOTIFY_URL is checked as HEARTBEAT_URL is: a space or no host
		// was accepted, and every message failed to send.
		{"NOTIFY_URL with a space", Host, "NOTIFY_URL=https://api.day.app/S3CRET T0KEN",
			`/etc/netrescue.conf:1: NOTIFY_URL: holds a space (the value is not shown: it may hold a token); allowed: an http(s) URL, or empty`},
		{"NOTIFY_URL without a host", Host, "NOTIFY_URL=https:///T0KEN",
			`/etc/netrescue.conf:1: NOTIFY_URL: is not a URL with a host (the value is not shown: it may hold a token); allowed: an http(s) URL, or empty`},
		{"other key without =", Router, "L1_CMD /sbin/ifup wan", `/etc/netrescue.conf:1: "L1_CMD /sbin/ifup wan" is not KEY=value`},
		// A URL on a line of its own is a token (that of "NOTIFY_URL=" on
		// the line before): it was quoted whole, or up to its first "=" as
		// an unknown key's name, with a Telegram bot's token.
		{"a URL on a line of its own", Host, "NOTIFY_URL=\nhttps://api.day.app/BarkS3cretKey123/",
			`/etc/netrescue.conf:2: a URL: not KEY=value (the value is not shown: it may hold a token)`},
		{"a URL with = on a line of its own", Host, "NOTIFY_URL=\nhttps://api.telegram.org/bot123456:AAHs3cretT0ken/sendMessage?chat_id=42",
			`/etc/netrescue.conf:2: a URL: not KEY=value (the value is not shown: it may hold a token)`},
		// A command key that is only a comment is empty: refused, not run
		// as "# …" (which does nothing and succeeds).
		{"a command that is only a comment after a full-width blank", Router, "L3_CMD=\u3000# 禁用",
			`/etc/netrescue.conf:1: L3_CMD: "" is empty; allowed: a shell command line (run as /bin/sh -c)`},
		{"a command that is only a comment", Router, "L3_CMD=   # disabled for now",
			`/etc/netrescue.conf:1: L3_CMD: "" is empty; allowed: a shell command line (run as /bin/sh -c)`},
		{"unknown far key", Host, "WHATEVER_ELSE_ENTIRELY=1",
			"/etc/netrescue.conf:1: WHATEVER_ELSE_ENTIRELY: unknown key; allowed keys: " + strings.Join(Keys(Host), " ")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse("/etc/netrescue.conf", tt.content, tt.role)
			if err == nil {
				t.Fatalf("Parse(%q) = nil error; want %q", tt.content, tt.want)
			}
			if err.Error() != tt.want {
				t.Errorf("Parse(%q) error =\n  %s\nwant\n  %s", tt.content, err, tt.want)
			}
		})
	}
}

func TestLoadMissingFileIsDefaults(t *testing.T) {
	c, err := Load(filepath.Join(t.TempDir(), "none.conf"), Router, Options{Euid: 0})
	if err != nil {
		t.Fatal(err)
	}
	if c.Path != "" || c.L3Threshold != 10 {
		t.Errorf("Load(missing) = path %q L3 %d; want defaults", c.Path, c.L3Threshold)
	}
}

// TestLoadMissingNamedFile: a file named on the command line that does not
// exist is a typo (in a cron line, say), never "run on the built-in
// defaults" with their real reboot commands (SPEC §15, issue 9 item 5).
func TestLoadMissingNamedFile(t *testing.T) {
	p := filepath.Join(t.TempDir(), "netresuce.conf")
	for _, flag := range []string{"-config", "-router-config"} {
		_, err := Load(p, Router, Options{Euid: 0, Required: flag})
		want := p + ": does not exist (named by " + flag + "); fix: create it, or drop " + flag
		if err == nil || err.Error() != want {
			t.Errorf("Load(missing, %s) error = %v; want %s", flag, err, want)
		}
		var ce *Error
		if !errors.As(err, &ce) {
			t.Errorf("Load(missing, %s) error is %T; want *Error (exit 2)", flag, err)
		}
	}
}

// TestLoadDanglingLink: a config that is a symlink to nothing (kept on a
// USB stick or an extroot that is not mounted) is a configuration error
// (exit 2), not the built-in defaults with the real reboot commands and a
// status that says ✓.
func TestLoadDanglingLink(t *testing.T) {
	dir := t.TempDir()
	p, target := filepath.Join(dir, "netrescue.conf"), filepath.Join(dir, "usb", "netrescue.conf")
	if err := os.Symlink(target, p); err != nil {
		t.Fatal(err)
	}
	for _, opt := range []Options{{Euid: 0}, {Euid: 0, Required: "-config"}} {
		_, err := Load(p, Router, opt)
		want := p + ": is a symlink to " + target + ", which does not exist; fix: mount or create " + target + ", or remove the link to run on the built-in defaults"
		if err == nil || err.Error() != want {
			t.Errorf("Load(dangling link, %+v) error = %v; want %s", opt, err, want)
		}
		var ce *Error
		if !errors.As(err, &ce) {
			t.Errorf("Load(dangling link) error is %T; want *Error (exit 2)", err)
		}
	}
	if err := os.MkdirAll(filepath.Dir(target), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(target, []byte("L3_THRESHOLD=12\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if c, err := Load(p, Router, Options{Euid: os.Geteuid()}); err != nil || c.L3Threshold != 12 { // a non-root run owns the file
		t.Errorf("Load(link to a file) = L3 %d, %v; want 12, nil", c.L3Threshold, err)
	}
}

func TestLoadRefusesUnsafeFile(t *testing.T) {
	p := filepath.Join(t.TempDir(), "netrescue.conf")
	if err := os.WriteFile(p, []byte("L1_CMD=/bin/true\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(p, 0o666); err != nil {
		t.Fatal(err)
	}
	// The same file is fine for a non-root run: its commands run as that user.
	if _, err := Load(p, Router, Options{Euid: 1000}); err != nil {
		t.Errorf("Load as non-root: %v", err)
	}
	if os.Geteuid() != 0 {
		// As non-root the file is ours, not root's, so a root run would
		// refuse it for its owner first: the mode check needs a root-owned file.
		t.Skip("skipping the root-run checks: needs root to own the file (CI runs as root)")
	}
	_, err := Load(p, Router, Options{Euid: 0})
	want := p + ": writable by group or others (mode 0666), but its *_CMD lines run as root; fix: chmod go-w " + p
	if err == nil || err.Error() != want {
		t.Errorf("Load(0666) error = %v; want %s", err, want)
	}
	if err := os.Chmod(p, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Chown(p, 1000, 1000); err != nil {
		t.Fatal(err)
	}
	_, err = Load(p, Router, Options{Euid: 0})
	want = p + ": owned by uid 1000, but its *_CMD lines run as root; fix: chown root:root " + p
	if err == nil || err.Error() != want {
		t.Errorf("Load(uid 1000) error = %v; want %s", err, want)
	}
}

func TestParseDuration(t *testing.T) {
	for in, want := range map[string]time.Duration{"600": 600 * time.Second, "90s": 90 * time.Second, "1h30m": 90 * time.Minute, "0": 0} {
		if got, err := ParseDuration(in); err != nil || got != want {
			t.Errorf("ParseDuration(%q) = %v, %v; want %v", in, got, err, want)
		}
	}
}

// TestUnquote: a value reads as sh reads the same assignment. Double
// quotes end at the first unescaped " and unescape \$ \` \" \\ only;
// single quotes hold no escapes. Each accepted case is checked against
// /bin/sh too when there is one.
func TestUnquote(t *testing.T) {
	tests := []struct {
		name, in, want string
	}{
		{"escaped quotes", `"/usr/bin/logger \"going down\"; /sbin/reboot -f"`, `/usr/bin/logger "going down"; /sbin/reboot -f`},
		{"only escaped quotes", `"\"quoted\""`, `"quoted"`},
		{"escaped backslash before the closing quote", `"a\\"`, `a\`},
		{"dollar, backtick, backslash", "\"\\$HOME \\`id\\` \\\\\"", "$HOME `id` \\"},
		{"other backslashes stay", `"a\nb \x \'"`, `a\nb \x \'`},
		{"escaped quote then comment", `"say \"hi\"" # greeting`, `say "hi"`},
		{"hash inside double quotes", `"a # b"`, `a # b`},
		{"single quotes keep backslashes", `'a\'`, `a\`},
		{"single quotes keep everything", `'say \"hi\" $HOME'`, `say \"hi\" $HOME`},
		{"double quotes in single quotes", `'echo "hi"' # c`, `echo "hi"`},
		{"bare with comment", `/sbin/ifup # c`, `/sbin/ifup`},
		{"empty double quotes", `""`, ``},
		// A value that is only a comment is empty, as sh reads it: "L3_CMD=
		// # disabled" was the command "# disabled", which does nothing and
		// exits 0, logged as a successful reboot and counted.
		{"blanks then a comment", `   # disabled for now`, ``},
		{"a tab then a comment", "\t# none", ``},
		{"a hash glued to the =", `#x`, `#x`},
	}
	var shells [][]string // dash on Debian, busybox ash as on OpenWrt
	for _, sh := range [][]string{{"/bin/sh"}, {"/bin/busybox", "sh"}} {
		if _, err := os.Stat(sh[0]); err == nil {
			shells = append(shells, sh)
		}
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got, err := unquote(tt.in); err != nil || got != tt.want {
				t.Errorf("unquote(%s) = %q, %v; want %q", tt.in, got, err, tt.want)
			}
			for _, sh := range shells {
				out, err := exec.Command(sh[0], append(sh[1:], "-c", "V="+tt.in+"\nprintf %s \"$V\"")...).Output()
				if err != nil || string(out) != tt.want {
					t.Errorf("%s reads V=%s as %q, %v; the test wants %q", sh, tt.in, out, err, tt.want)
				}
			}
		})
	}
}

// toolChars are the characters of a command key (SPEC §15).
const toolChars = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._/+-"

// FuzzParse: whatever the file holds, Parse returns a config or an *Error
// naming the file; it never panics, and an accepted config is usable.
func FuzzParse(f *testing.F) {
	f.Add("L1_THRESHOLD=2\nCHECK_IP=1.1.1.1\n", true)
	f.Add("PROFILE=aggressive # x\nL1_CMD='a b'\n", true)
	f.Add("OP_IP=\"10.0.0.1\"\nSSH_TIMEOUT=5s", false)
	f.Add("LOG_MAX_BYTES=1MiB\r\nexport X=1", false)
	// Issue 9 items 18, 19, 22: a BOM, shell syntax in command keys, a
	// secret that must never be echoed, the WAN interface name.
	f.Add("\ufeffCHECK_TARGETS=198.51.100.1\n", true)
	f.Add("\ufeffQM=/usr/sbin/qm\nSYSTEMCTL=/bin/echo>/tmp/x", false)
	f.Add("PVECM='/usr/bin/pvecm $(id)'\nQM=/usr/sbin/../sbin/qm", false)
	f.Add("NOTIFY_URLT0KEN_s3cret=1", false)
	f.Add("NOTIFY_URL=ftp://hooks.example/T0KEN-s3cret", false)
	f.Add("NOTIFY_URL=\"https://hooks.example/x\" T0KEN-s3cret", false)
	f.Add("WAN_IFACE=wan6\nIFSTATUS=/sbin/ifstatus", true)
	f.Add("WAN_IFACE='wan; reboot'\nL1_CMD=/sbin/ifup wan", true)
	// Escaped quotes; secret keys written without their "=".
	f.Add(`L3_CMD="/usr/bin/logger \"going down\"; /sbin/reboot -f"`, true)
	f.Add(`L1_CMD="a\\" b"`+"\nL2_CMD='c\\'", true)
	f.Add("NOTIFY_URL https://api.day.app/T0KEN-s3cret", false)
	f.Add("HEARTBEAT_URL: https://hc-ping.com/T0KEN-s3cret?create=1", false)
	f.Add("NOTIFY_URL=\"https://hooks.example/x\" T0KEN-s3cret", true)
	f.Fuzz(func(t *testing.T, content string, router bool) {
		role := Host
		if router {
			role = Router
		}
		c, err := Parse("/f.conf", content, role)
		if err != nil {
			if !strings.HasPrefix(err.Error(), "/f.conf") {
				t.Fatalf("error %q does not name the file", err)
			}
			var ce *Error
			if errors.As(err, &ce) && ce.Line > 0 {
				checkSecretNotShown(t, err, strings.Split(strings.TrimPrefix(content, "\ufeff"), "\n")[ce.Line-1])
			}
			return
		}
		for _, tool := range []string{c.QM, c.Systemctl, c.Pvecm} {
			if strings.ContainsFunc(tool, func(r rune) bool { return !strings.ContainsRune(toolChars, r) }) {
				t.Fatalf("accepted a command key with shell syntax: %q", tool)
			}
		}
		if len(c.CheckTargets) == 0 || c.ProbeTimeout <= 0 || c.LogMaxBytes <= 0 {
			t.Fatalf("accepted config unusable: %+v", c)
		}
		if role == Router && (c.L3Threshold < 1 || c.L4SOSThreshold < 1 || c.CoolingStep <= 0) {
			t.Fatalf("accepted router config unusable: %+v", c)
		}
	})
}

// checkSecretNotShown fails when err, the error of line, echoes a word of
// the value of a secret key (NOTIFY_URL, HEARTBEAT_URL in any case, with
// or without its "="). Only words of 8 bytes or more count, and none that
// the error's fixed text holds anyway (key names, what is allowed, the
// scheme the error may name).
func checkSecretNotShown(t *testing.T, err error, line string) {
	t.Helper()
	line = strings.TrimSpace(strings.TrimSuffix(line, "\r"))
	before, _, _ := strings.Cut(line, "=")
	w := secretIn(before)
	if w == "" {
		return
	}
	rest := line // "a URL": all of it is the value
	if i := strings.Index(line, w); i >= 0 {
		rest = line[i+len(w):]
	}
	fixed := strings.Join(append(Keys(Router), Keys(Host)...), " ") + notShown +
		" must start with https:// or http://, not " + scheme(strings.TrimLeft(rest, " \t:=\"'")) + ":// is not a URL with a host"
	for _, k := range keys {
		fixed += " " + k.allowed
	}
	for _, v := range strings.FieldsFunc(rest, func(r rune) bool { return strings.ContainsRune(" \t=:\"'#\\", r) }) {
		if len(v) >= 8 && strings.Contains(err.Error(), v) && !strings.Contains(fixed, v) {
			t.Fatalf("error %q echoes %q of the %s value", err, v, w)
		}
	}
}

// TestREADMEListsEveryKey keeps the README's key reference complete.
func TestREADMEListsEveryKey(t *testing.T) {
	b, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	for _, role := range []Role{Router, Host} {
		for _, k := range Keys(role) {
			if !strings.Contains(string(b), "`"+k) {
				t.Errorf("README.md does not document %s key %s", role, k)
			}
		}
	}
}

// TestSecretNameInAValue: a secret key's name inside another key's value
// is no malformed secret line.
func TestSecretNameInAValue(t *testing.T) {
	c, err := Parse("/etc/netrescue.conf", "L1_CMD=logger NOTIFY_URL is set\n", Router)
	if err != nil || c.L1Cmd != "logger NOTIFY_URL is set" {
		t.Errorf("Parse = %q, %v; want the line read as L1_CMD", c.L1Cmd, err)
	}
}
