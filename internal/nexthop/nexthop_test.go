package nexthop

import (
	"encoding/binary"
	"net/netip"
	"strings"
	"testing"
)

// pad writes a line as the kernel does: seq_setwidth(seq, 127) and
// seq_pad(seq, '\n') pad every line of /proc/net/route with spaces to 127
// characters (net/ipv4/fib_trie.c, fib_route_seq_show; the header is
// printed with "%-127s\n").
func pad(l string) string { return l + strings.Repeat(" ", max(127-len(l), 0)) + "\n" }

// header is fib_route_seq_show's header, verbatim.
var header = pad("Iface\tDestination\tGateway \tFlags\tRefCnt\tUse\tMetric\tMask\t\tMTU\tWindow\tIRTT")

// routeTable is /proc/net/route of an OpenWrt router with a DHCP WAN
// (default via 192.0.2.1 dev wan, metric 0), a backup default route of a
// higher metric, its LAN bridge and a blackhole route (RTN_BLACKHOLE has no
// flag; an unreachable route has RTF_REJECT). Each route is the kernel's
// "%s\t%08X\t%08X\t%04X\t%d\t%u\t%d\t%08X\t%d\t%u\t%u", on a little-endian
// machine (x86, most ARM): 192.0.2.1 is the __be32 bytes C0 00 02 01,
// printed as the host integer 010200C0.
var routeTable = header +
	pad("wan\t00000000\t010200C0\t0003\t0\t0\t0\t00000000\t0\t0\t0") +
	pad("wwan\t00000000\t0164A8C0\t0003\t0\t0\t20\t00000000\t0\t0\t0") +
	pad("wan\t000200C0\t00000000\t0001\t0\t0\t0\t00FFFFFF\t0\t0\t0") +
	pad("br-lan\t0001A8C0\t00000000\t0001\t0\t0\t0\t00FFFFFF\t0\t0\t0") +
	pad("*\t0064A8C0\t00000000\t0201\t0\t0\t0\t00FFFFFF\t0\t0\t0")

// bigEndian is the same table as a big-endian MIPS router (ath79, lantiq)
// prints it: the __be32 value is the host integer, so 192.0.2.1 is C0000201.
var bigEndian = header +
	pad("wan\t00000000\tC0000201\t0003\t0\t0\t0\t00000000\t0\t0\t0") +
	pad("wwan\t00000000\tC0A86401\t0003\t0\t0\t20\t00000000\t0\t0\t0") +
	pad("wan\tC0000200\t00000000\t0001\t0\t0\t0\tFFFFFF00\t0\t0\t0")

func TestParseRoutes(t *testing.T) {
	a := netip.MustParseAddr
	for _, tc := range []struct {
		name    string
		text    string
		order   binary.ByteOrder
		want    []Route
		wantDef string // gateway of Default
	}{
		{"little-endian", routeTable, binary.LittleEndian, []Route{
			{Iface: "wan", Dest: a("0.0.0.0"), Gateway: a("192.0.2.1"), Mask: a("0.0.0.0"), Flags: 3, Metric: 0},
			{Iface: "wwan", Dest: a("0.0.0.0"), Gateway: a("192.168.100.1"), Mask: a("0.0.0.0"), Flags: 3, Metric: 20},
			{Iface: "wan", Dest: a("192.0.2.0"), Mask: a("255.255.255.0"), Flags: 1},
			{Iface: "br-lan", Dest: a("192.168.1.0"), Mask: a("255.255.255.0"), Flags: 1},
			{Iface: "*", Dest: a("192.168.100.0"), Mask: a("255.255.255.0"), Flags: 0x201},
		}, "192.0.2.1"},
		{"big-endian", bigEndian, binary.BigEndian, []Route{
			{Iface: "wan", Dest: a("0.0.0.0"), Gateway: a("192.0.2.1"), Mask: a("0.0.0.0"), Flags: 3, Metric: 0},
			{Iface: "wwan", Dest: a("0.0.0.0"), Gateway: a("192.168.100.1"), Mask: a("0.0.0.0"), Flags: 3, Metric: 20},
			{Iface: "wan", Dest: a("192.0.2.0"), Mask: a("255.255.255.0"), Flags: 1},
		}, "192.0.2.1"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := ParseRoutes(tc.text, tc.order)
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != len(tc.want) {
				t.Fatalf("ParseRoutes = %+v; want %+v", got, tc.want)
			}
			for i := range got {
				if got[i] != tc.want[i] {
					t.Errorf("route %d = %+v; want %+v", i, got[i], tc.want[i])
				}
			}
			if def, ok := Default(got); !ok || def.Gateway.String() != tc.wantDef {
				t.Errorf("Default = %+v, %v; want gateway %s", def, ok, tc.wantDef)
			}
		})
	}
}

func TestDefault(t *testing.T) {
	z := netip.AddrFrom4([4]byte{})
	gw := func(s string) netip.Addr { return netip.MustParseAddr(s) }
	for _, tc := range []struct {
		name   string
		routes []Route
		want   string // Iface of the chosen route, "" for none
	}{
		{"none", nil, ""},
		{"only a subnet", []Route{{Iface: "wan", Dest: gw("192.0.2.0"), Mask: gw("255.255.255.0"), Flags: RTFUp}}, ""},
		{"lowest metric wins, wherever listed", []Route{
			{Iface: "wwan", Dest: z, Mask: z, Gateway: gw("192.168.100.1"), Flags: RTFUp | RTFGateway, Metric: 20},
			{Iface: "wan", Dest: z, Mask: z, Gateway: gw("192.0.2.1"), Flags: RTFUp | RTFGateway, Metric: 10},
		}, "wan"},
		{"first among equals", []Route{
			{Iface: "a", Dest: z, Mask: z, Flags: RTFUp},
			{Iface: "b", Dest: z, Mask: z, Flags: RTFUp},
		}, "a"},
		{"an unreachable default is no route", []Route{{Iface: "*", Dest: z, Mask: z, Flags: RTFUp | RTFReject}}, ""},
		{"point-to-point: no gateway", []Route{{Iface: "pppoe-wan", Dest: z, Mask: z, Flags: RTFUp}}, "pppoe-wan"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, ok := Default(tc.routes)
			if (tc.want == "") == ok || got.Iface != tc.want {
				t.Errorf("Default(%+v) = %+v, %v; want %q", tc.routes, got, ok, tc.want)
			}
		})
	}
}

func TestParseRoutesErrors(t *testing.T) {
	for _, tc := range []struct{ name, text, want string }{
		{"empty", "", "header"},
		{"not the route file", "Inter-|   Receive\n", "header"},
		{"short line", header + "wan\t00000000\n", "line 2: 2 fields"},
		{"bad hex", header + pad("wan\t0000000G\t010200C0\t0003\t0\t0\t0\t00000000\t0\t0\t0"), "line 2: destination"},
		{"bad flags", header + pad("wan\t00000000\t010200C0\tzz\t0\t0\t0\t00000000\t0\t0\t0"), "line 2: flags"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := ParseRoutes(tc.text, binary.LittleEndian); err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("ParseRoutes = %v; want an error with %q", err, tc.want)
			}
		})
	}
}

func TestHopString(t *testing.T) {
	for _, tc := range []struct {
		h    Hop
		want string
	}{
		{Hop{}, "none"},
		{Hop{Addr: netip.MustParseAddr("10.0.0.1"), Dev: "pppoe-wan", How: HowPeer}, "10.0.0.1 (peer of the point-to-point WAN, dev pppoe-wan)"},
		{Hop{Addr: netip.MustParseAddr("192.0.2.1"), How: HowConfig}, "192.0.2.1 (WAN_GATEWAY)"},
	} {
		if got := tc.h.String(); got != tc.want {
			t.Errorf("%+v.String() = %q; want %q", tc.h, got, tc.want)
		}
	}
}

// FuzzParseRoutes: any content of /proc/net/route parses or fails without
// a panic, and the default route chosen is one of the parsed routes.
func FuzzParseRoutes(f *testing.F) {
	f.Add(routeTable)
	f.Add(bigEndian)
	f.Add(header)
	f.Add("Iface\tDestination\tGateway \n*\t00000000\t00000000\t0201\t0\t0\t0\t00000000\n")
	f.Fuzz(func(t *testing.T, text string) {
		routes, err := ParseRoutes(text, binary.LittleEndian)
		if err != nil {
			return
		}
		if def, ok := Default(routes); ok {
			for _, r := range routes {
				if r == def {
					return
				}
			}
			t.Fatalf("Default = %+v, not among %+v", def, routes)
		}
	})
}
