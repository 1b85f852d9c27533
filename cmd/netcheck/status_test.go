package main

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/pve-op/network-rescue/crontab"
	"github.com/pve-op/network-rescue/internal/command"
	"github.com/pve-op/network-rescue/internal/config"
)

// fakeIfstatus reproduces OpenWrt's /sbin/ifstatus for a router whose only
// WAN interface is "wan". The real script (openwrt/openwrt,
// package/network/config/netifd/files/sbin/ifstatus) is:
//
//	[ -n "$INTERFACE" ] || { echo "Usage: $0 <interface>"; exit 1; }
//	ubus -S list "network.interface.$INTERFACE" >/dev/null || {
//		echo "Interface $INTERFACE not found"; exit 1; }
//	ubus call network.interface status "{ \"interface\" : \"$INTERFACE\" }"
//
// so a missing interface prints "Interface X not found" on stdout and
// exits 1; an existing one prints netifd's status object, whose fields
// are those of netifd_dump_status in openwrt/netifd ubus.c (up, pending,
// available, autostart, dynamic, uptime and l3_device while up, proto,
// device, …), as ubus prints it: tab-indented JSON.
const fakeIfstatus = `#!/bin/sh
INTERFACE="$1"
[ -n "$INTERFACE" ] || {
	echo "Usage: $0 <interface>"
	exit 1
}
[ "$INTERFACE" = wan ] || {
	echo "Interface $INTERFACE not found"
	exit 1
}
cat <<'JSON'
{
	"up": true,
	"pending": false,
	"available": true,
	"autostart": true,
	"dynamic": false,
	"uptime": 86400,
	"l3_device": "pppoe-wan",
	"proto": "pppoe",
	"device": "eth1",
	"metric": 0,
	"dns_metric": 0,
	"delegation": true,
	"ipv4-address": [
		{
			"address": "203.0.113.7",
			"mask": 32,
			"ptpaddress": "203.0.113.1"
		}
	],
	"route": [
		{
			"target": "0.0.0.0",
			"mask": 0,
			"nexthop": "203.0.113.1",
			"source": "0.0.0.0/0"
		}
	],
	"dns-server": [
		"203.0.113.53"
	],
	"data": {
	}
}
JSON
`

// TestStatusWANIface: status says ✗ with the fix when WAN_IFACE names an
// interface netifd does not know, as `ifstatus` reports it, and ✓ with its
// state otherwise (SPEC §14, issue 9 item 22).
func TestStatusWANIface(t *testing.T) {
	dir := t.TempDir()
	ifstatus := filepath.Join(dir, "ifstatus")
	if err := os.WriteFile(ifstatus, []byte(fakeIfstatus), 0o755); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct{ iface, want, fix string }{
		{"wan", "✓ WAN interface: wan (pppoe on pppoe-wan): up\n", ""},
		{"wan6", "✗ WAN interface: wan6: Interface wan6 not found (" + ifstatus + " wan6)\n",
			"    fix: set WAN_IFACE to the WAN interface of /etc/config/network (ubus list 'network.interface.*' lists them): L1 redials WAN_IFACE\n"},
	} {
		t.Run(tc.iface, func(t *testing.T) {
			conf := filepath.Join(dir, tc.iface+".conf")
			content := strings.Join([]string{"STATE_DIR=" + filepath.Join(dir, "state"), "RUN_DIR=" + filepath.Join(dir, "run"),
				"LOG_FILE=" + filepath.Join(dir, "net.log"), "SYSLOG=0", "CHECK_TARGETS=203.0.113.1",
				"IFSTATUS=" + ifstatus, "WAN_IFACE=" + tc.iface}, "\n")
			if err := os.WriteFile(conf, []byte(content), 0o600); err != nil {
				t.Fatal(err)
			}
			var ran []string
			e := fakeEnv(t, &ran)
			e.Exec = command.Run // the fake ifstatus, for real
			out := &strings.Builder{}
			e.Stdout = out
			_ = run(context.Background(), []string{"-config", conf, "status", "-crontab", filepath.Join(dir, "crontab")}, e)
			if !strings.Contains(out.String(), tc.want+tc.fix) {
				t.Errorf("status:\n%s\nwant the line\n%s%s", out, tc.want, tc.fix)
			}
		})
	}
}

// TestDefaultL1UnknownIface: the default L1 command for an interface that
// does not exist fails with the reason instead of "succeeding": upstream
// ifup only prints "Interface X not found" and exits 0 (openwrt/openwrt
// package/network/config/netifd/files/sbin/ifup). ifdown/ifup are
// recorders here: a test never runs the real ones.
func TestDefaultL1UnknownIface(t *testing.T) {
	dir := t.TempDir()
	ifstatus := filepath.Join(dir, "ifstatus")
	rec := filepath.Join(dir, "rec")
	if err := os.WriteFile(ifstatus, []byte(fakeIfstatus), 0o755); err != nil {
		t.Fatal(err)
	}
	for _, tool := range []string{"ifdown", "ifup"} {
		if err := os.WriteFile(filepath.Join(dir, tool), []byte("#!/bin/sh\necho \""+tool+" $*\" >> '"+rec+"'\n"), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	cmd := func(iface string) string {
		c := config.L1CmdFor(ifstatus, iface)
		c = strings.ReplaceAll(c, "/sbin/ifdown", filepath.Join(dir, "ifdown"))
		c = strings.ReplaceAll(c, "/sbin/ifup", filepath.Join(dir, "ifup"))
		return strings.ReplaceAll(c, "/bin/sleep 10", ":")
	}
	r := command.Run(context.Background(), cmd("wan6"), 0)
	if got, want := "-> "+r.Summary(), "-> [错误] exit status 1: Interface wan6 not found: set WAN_IFACE"; got != want {
		t.Errorf("L1 for a missing interface logs %q; want %q", got, want)
	}
	if b, _ := os.ReadFile(rec); len(b) != 0 {
		t.Errorf("ifdown/ifup ran for a missing interface: %q", b)
	}
	if r := command.Run(context.Background(), cmd("wan"), 0); !r.OK() {
		t.Errorf("L1 for wan: %s", r.Summary())
	}
	if b, _ := os.ReadFile(rec); string(b) != "ifdown wan\nifup wan\n" {
		t.Errorf("L1 for wan ran %q; want ifdown wan, ifup wan", b)
	}
}

// TestStatusFIFO: a FIFO as LOG_FILE or as the crontab file does not hang
// `netcheck status` (opening it for reading used to block until a writer
// came): each is a ✗ line naming the kind, followed by its fix (SPEC §15,
// issue 9 item 11).
func TestStatusFIFO(t *testing.T) {
	dir := t.TempDir()
	logFile, tab := filepath.Join(dir, "net.log"), filepath.Join(dir, "crontab")
	for _, p := range []string{logFile, tab} {
		if err := syscall.Mkfifo(p, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	conf := filepath.Join(dir, "net.conf")
	content := strings.Join([]string{"STATE_DIR=" + filepath.Join(dir, "state"), "RUN_DIR=" + filepath.Join(dir, "run"),
		"LOG_FILE=" + logFile, "SYSLOG=0", "CHECK_TARGETS=203.0.113.1"}, "\n")
	if err := os.WriteFile(conf, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	var ran []string
	e := fakeEnv(t, &ran)
	out := &strings.Builder{}
	e.Stdout = out
	done := make(chan struct{})
	go func() {
		_ = run(context.Background(), []string{"-config", conf, "status", "-crontab", tab}, e)
		close(done)
	}()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("netcheck status hung on a FIFO")
	}
	for _, want := range []string{
		"✗ cron entries: " + tab + " is a fifo, not a crontab file\n    fix: ",
		"✗ last log lines: " + logFile + " is a fifo, not the log file\n    fix: ",
	} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("status:\n%s\nwant\n%s", out, want)
		}
	}
}

// TestStatusCrontabUnreadable: a crontab that cannot be read is a ✗
// whose fix says "add the lines above": the lines are named above (they
// were not: the fix pointed at nothing).
func TestStatusCrontabUnreadable(t *testing.T) {
	dir := t.TempDir()
	conf, _ := writeConf(t, dir, "CHECK_TARGETS=203.0.113.1")
	var ran []string
	e := fakeEnv(t, &ran)
	out := &strings.Builder{}
	e.Stdout = out
	tab := filepath.Join(dir, "no-such-crontab")
	_ = run(context.Background(), []string{"-config", conf, "status", "-crontab", tab}, e)
	want := "✗ cron entries: cannot read " + tab + ": "
	line := ""
	for l := range strings.Lines(out.String()) {
		if strings.HasPrefix(l, want) {
			line = l
		}
	}
	for _, l := range crontab.Lines(crontab.Router) {
		if !strings.Contains(line, l) {
			t.Errorf("the ✗ for an unreadable crontab: %q; want it to name %q, the line its fix adds\n%s", line, l, out)
		}
	}
}
