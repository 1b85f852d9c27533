package nexthop

import (
	"encoding/binary"
	"errors"
	"fmt"
	"net/netip"
	"os"
	"os/exec"
	"regexp"
	"strings"
	"testing"
)

// childEnv marks the test binary re-run inside the namespace, where Find
// reads that namespace's /proc/net/route and netlink: /proc/net follows
// the process, so the whole process must be in the namespace.
const childEnv = "NEXTHOP_TEST_CHILD"

// TestMain runs the child half of TestFindKernel when the test binary is
// re-run inside the namespace: it prints what Find returns and exits.
func TestMain(m *testing.M) {
	if os.Getenv(childEnv) == "" {
		os.Exit(m.Run())
	}
	hop, err := Find()
	switch {
	case errors.Is(err, ErrNoDefaultRoute):
		fmt.Println("FIND none")
	case err != nil:
		fmt.Println("FIND error", err)
	default:
		fmt.Printf("FIND %s %s %s\n", hop.Addr, hop.Dev, strings.ReplaceAll(hop.How, " ", "_"))
	}
	os.Exit(0)
}

// TestFindKernel checks Find, ParseRoutes and PeerFromRIB against a real
// kernel in a network namespace made for the test, and against what
// iproute2's `ip` prints for the same tables: a gateway (`default via`),
// two default routes of different metrics (checked against the kernel's
// own choice, `ip route get`), a point-to-point WAN (`ip addr add L peer
// P`, shown by `ip addr` as "inet L peer P/32", with "default dev X"), and
// no default route at all. No packet is sent.
func TestFindKernel(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("skipping: needs root to create a network namespace")
	}
	if _, err := exec.LookPath("ip"); err != nil {
		t.Skip("skipping: ip (iproute2) not installed")
	}
	ns := fmt.Sprintf("nrhop%d", os.Getpid())
	ip := func(args ...string) string {
		t.Helper()
		out, err := exec.Command("ip", append([]string{"-n", ns}, args...)...).CombinedOutput()
		if err != nil {
			t.Fatalf("ip -n %s %s: %v\n%s", ns, strings.Join(args, " "), err, out)
		}
		return string(out)
	}
	if out, err := exec.Command("ip", "netns", "add", ns).CombinedOutput(); err != nil {
		t.Fatalf("ip netns add: %v\n%s", err, out)
	}
	t.Cleanup(func() { exec.Command("ip", "netns", "del", ns).Run() })
	for _, l := range [][2]string{{"wan", "wanp"}, {"wwan", "wwanp"}, {"ppp0", "ppp0p"}} {
		ip("link", "add", l[0], "type", "veth", "peer", "name", l[1])
		ip("link", "set", l[0], "up")
		ip("link", "set", l[1], "up")
	}
	ip("addr", "add", "10.9.0.2/30", "dev", "wan")
	ip("addr", "add", "10.9.2.2/30", "dev", "wwan")
	ip("addr", "add", "10.9.1.2", "peer", "10.9.1.1/32", "dev", "ppp0")

	find := func() string {
		t.Helper()
		cmd := exec.Command("ip", "netns", "exec", ns, os.Args[0])
		cmd.Env = append(os.Environ(), childEnv+"=1")
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("child: %v\n%s", err, out)
		}
		m := regexp.MustCompile(`(?m)^FIND (.*)$`).FindStringSubmatch(string(out))
		if m == nil {
			t.Fatalf("child printed no FIND line:\n%s", out)
		}
		return m[1]
	}
	// viaOf reads the kernel's own choice for an internet address.
	viaOf := func() string {
		t.Helper()
		m := regexp.MustCompile(`via (\S+) dev (\S+)`).FindStringSubmatch(ip("-4", "route", "get", "198.51.100.1"))
		if m == nil {
			return ""
		}
		return m[1] + " " + m[2]
	}

	// A gateway.
	ip("route", "add", "default", "via", "10.9.0.1", "dev", "wan")
	if got := strings.TrimSpace(ip("-4", "route", "show", "default")); got != "default via 10.9.0.1 dev wan" {
		t.Fatalf("ip route show default = %q", got)
	}
	if got, want := find(), "10.9.0.1 wan gateway_of_the_default_route"; got != want {
		t.Errorf("Find with default via 10.9.0.1 = %q; want %q", got, want)
	}
	checkAgainstIP(t, ns, ip)

	// Two defaults: the lower metric is the kernel's choice, and Find's.
	ip("route", "add", "default", "via", "10.9.2.1", "dev", "wwan", "metric", "50")
	if got, want := find(), "10.9.0.1 wan gateway_of_the_default_route"; got != want || viaOf() != "10.9.0.1 wan" {
		t.Errorf("Find with two defaults = %q, kernel uses %q; want %q", got, viaOf(), want)
	}
	checkAgainstIP(t, ns, ip)
	ip("route", "del", "default", "via", "10.9.0.1", "dev", "wan")
	if got, want := find(), "10.9.2.1 wwan gateway_of_the_default_route"; got != want || viaOf() != "10.9.2.1 wwan" {
		t.Errorf("Find with the metric-50 default left = %q, kernel uses %q; want %q", got, viaOf(), want)
	}
	ip("route", "del", "default", "via", "10.9.2.1", "dev", "wwan", "metric", "50")

	// A point-to-point WAN, as pppd sets up pppoe-wan: a local address with
	// a peer, and a default route through the device without a gateway.
	if a := ip("-o", "-4", "addr", "show", "dev", "ppp0"); !strings.Contains(a, "inet 10.9.1.2 peer 10.9.1.1/32") {
		t.Fatalf("ip addr show dev ppp0 = %q; want inet 10.9.1.2 peer 10.9.1.1/32", a)
	}
	ip("route", "add", "default", "dev", "ppp0")
	if got := strings.TrimSpace(ip("-4", "route", "show", "default")); got != "default dev ppp0 scope link" {
		t.Fatalf("ip route show default = %q", got)
	}
	if got, want := find(), "10.9.1.1 ppp0 peer_of_the_point-to-point_WAN"; got != want {
		t.Errorf("Find with default dev ppp0 = %q; want %q", got, want)
	}
	checkAgainstIP(t, ns, ip)

	// A default through a device with no peer: no next hop to ask.
	ip("route", "del", "default", "dev", "ppp0")
	ip("route", "add", "default", "dev", "wan")
	if got := find(); !strings.HasPrefix(got, "error peer of wan: interface") || !strings.HasSuffix(got, "has no point-to-point peer") {
		t.Errorf("Find with default dev wan = %q; want an error: no point-to-point peer", got)
	}
	ip("route", "del", "default", "dev", "wan")

	// No default route: the WAN is down.
	if got := find(); got != "none" {
		t.Errorf("Find without a default route = %q; want none", got)
	}
}

// checkAgainstIP parses the namespace's /proc/net/route with ParseRoutes
// and checks every route against `ip -4 route show table main` (iproute2
// reads the same table over netlink): destination/prefix, gateway, device.
func checkAgainstIP(t *testing.T, ns string, ip func(...string) string) {
	t.Helper()
	raw, err := exec.Command("ip", "netns", "exec", ns, "cat", "/proc/net/route").Output()
	if err != nil {
		t.Fatal(err)
	}
	routes, err := ParseRoutes(string(raw), binary.NativeEndian)
	if err != nil {
		t.Fatalf("ParseRoutes(real /proc/net/route) = %v\n%s", err, raw)
	}
	var fromIP []string
	for _, l := range strings.Split(strings.TrimSpace(ip("-4", "route", "show", "table", "main")), "\n") {
		f := strings.Fields(l)
		dest, via, dev := f[0], "-", ""
		for i := 1; i+1 < len(f); i++ {
			switch f[i] {
			case "via":
				via = f[i+1]
			case "dev":
				dev = f[i+1]
			}
		}
		if dest == "default" {
			dest = "0.0.0.0/0"
		} else if !strings.Contains(dest, "/") {
			dest += "/32"
		}
		fromIP = append(fromIP, fmt.Sprintf("%s %s %s", dest, via, dev))
	}
	var fromProc []string
	for _, r := range routes {
		bits := 0
		for _, b := range r.Mask.As4() {
			for ; b != 0; b <<= 1 {
				bits++
			}
		}
		via := "-"
		if r.Gateway.IsValid() {
			via = r.Gateway.String()
		}
		fromProc = append(fromProc, fmt.Sprintf("%s %s %s", netip.PrefixFrom(r.Dest, bits), via, r.Iface))
	}
	if strings.Join(fromProc, "\n") != strings.Join(fromIP, "\n") {
		t.Errorf("routes parsed from /proc/net/route:\n%s\nip route shows:\n%s\nraw:\n%s",
			strings.Join(fromProc, "\n"), strings.Join(fromIP, "\n"), raw)
	}
}
