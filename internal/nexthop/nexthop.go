// Package nexthop finds the router's next hop toward the internet from
// the kernel (SPEC §14, WAN_GATEWAY=auto): the gateway of the default
// route, or, when the default route has none (a point-to-point WAN such as
// OpenWrt's pppoe-wan: "default dev pppoe-wan"), the peer address of that
// interface. A down run pings it: while it answers the outage lies beyond
// it, at the ISP, and no router reboot can fix it.
//
// The default route is read from /proc/net/route and the peer from an
// RTM_GETADDR netlink dump; both are parsed by pure functions tested
// against the kernel's own format.
package nexthop

import (
	"encoding/binary"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"strconv"
	"strings"
	"syscall"

	"github.com/pve-op/network-rescue/state"
)

// Hop is the next hop and how it was found.
type Hop struct {
	Addr netip.Addr
	Dev  string // the interface it is reached through; "" when configured
	How  string // "gateway of the default route", "peer of the point-to-point WAN", "WAN_GATEWAY"
}

// String describes the hop for `status`, `plan` and the log:
// "10.0.0.1 (gateway of the default route, dev wan)".
func (h Hop) String() string {
	if !h.Addr.IsValid() {
		return "none"
	}
	if h.Dev == "" {
		return fmt.Sprintf("%s (%s)", h.Addr, h.How)
	}
	return fmt.Sprintf("%s (%s, dev %s)", h.Addr, h.How, h.Dev)
}

// How a hop was found.
const (
	HowGateway = "gateway of the default route"
	HowPeer    = "peer of the point-to-point WAN"
	HowConfig  = "WAN_GATEWAY"
)

// ErrNoDefaultRoute means the kernel has no IPv4 default route: the WAN is
// down (a PPPoE session that is gone takes its route with it), so there is
// no next hop to ask and the ladder goes on as without WAN_GATEWAY.
var ErrNoDefaultRoute = errors.New("no IPv4 default route in /proc/net/route")

// RouteFile is the kernel's IPv4 main routing table.
const RouteFile = "/proc/net/route"

// maxRouteBytes bounds the read of RouteFile: a home router's table is a
// few lines of 128 bytes.
const maxRouteBytes = 256 << 10

// Find returns the next hop of the running system for WAN_GATEWAY=auto.
func Find() (Hop, error) {
	b, err := state.ReadBoundedFollow(RouteFile, maxRouteBytes)
	if err != nil {
		return Hop{}, errorf("read %s: %w", RouteFile, err)
	}
	routes, err := ParseRoutes(string(b), binary.NativeEndian)
	if err != nil {
		return Hop{}, errorf("%s: %w", RouteFile, err)
	}
	def, ok := Default(routes)
	if !ok {
		return Hop{}, ErrNoDefaultRoute
	}
	if def.Gateway.IsValid() {
		return Hop{Addr: def.Gateway, Dev: def.Iface, How: HowGateway}, nil
	}
	// "default dev pppoe-wan": the next hop is the link's other end.
	ifi, err := interfaceIndex(def.Iface)
	if err != nil {
		return Hop{}, err
	}
	rib, err := syscall.NetlinkRIB(syscall.RTM_GETADDR, syscall.AF_INET)
	if err != nil {
		return Hop{}, errorf("netlink RTM_GETADDR: %w", err)
	}
	peer, err := PeerFromRIB(rib, ifi)
	if err != nil {
		return Hop{}, errorf("peer of %s: %w", def.Iface, err)
	}
	return Hop{Addr: peer, Dev: def.Iface, How: HowPeer}, nil
}

// interfaceIndex asks the kernel (netlink, as net.InterfaceByName does)
// for the index of the interface the default route names.
func interfaceIndex(name string) (int, error) {
	ifi, err := net.InterfaceByName(name)
	if err != nil {
		return 0, errorf("interface %s: %w", name, err)
	}
	return ifi.Index, nil
}

// Route is one line of /proc/net/route.
type Route struct {
	Iface   string
	Dest    netip.Addr
	Gateway netip.Addr // invalid when the route has none (RTF_GATEWAY unset)
	Mask    netip.Addr
	Flags   uint16
	Metric  int
}

// Route flags (linux/route.h).
const (
	RTFUp      = 0x0001
	RTFGateway = 0x0002
	RTFReject  = 0x0200
)

// ParseRoutes reads /proc/net/route, as the kernel writes it in
// fib_route_seq_show (net/ipv4/fib_trie.c): a header line, then per route
// "%s\t%08X\t%08X\t%04X\t%d\t%u\t%d\t%08X\t%d\t%u\t%u" — Iface,
// Destination, Gateway, Flags, RefCnt, Use, Metric, Mask, MTU, Window,
// IRTT — each line space-padded to 127 characters (seq_setwidth/seq_pad).
// Destination, Gateway and Mask are __be32 values printed as host integers
// with %08X, so their digits depend on the machine's byte order: order is
// binary.NativeEndian for the running kernel (little-endian on x86 and
// most ARM, big-endian on many MIPS routers).
func ParseRoutes(text string, order binary.ByteOrder) ([]Route, error) {
	lines := strings.Split(text, "\n")
	if len(lines) == 0 || !strings.HasPrefix(lines[0], "Iface\tDestination\tGateway") {
		return nil, errors.New("no \"Iface Destination Gateway\" header")
	}
	var out []Route
	for i, l := range lines[1:] {
		f := strings.Fields(l)
		if len(f) == 0 {
			continue
		}
		if len(f) < 8 {
			return nil, errorf("line %d: %d fields, want 11", i+2, len(f))
		}
		var r Route
		var err error
		r.Iface = f[0]
		if r.Dest, err = hexAddr(f[1], order); err != nil {
			return nil, errorf("line %d: destination: %w", i+2, err)
		}
		gw, err := hexAddr(f[2], order)
		if err != nil {
			return nil, errorf("line %d: gateway: %w", i+2, err)
		}
		flags, err := strconv.ParseUint(f[3], 16, 16)
		if err != nil {
			return nil, errorf("line %d: flags %q", i+2, f[3])
		}
		r.Flags = uint16(flags)
		if r.Flags&RTFGateway != 0 && !gw.IsUnspecified() {
			r.Gateway = gw
		}
		if r.Metric, err = strconv.Atoi(f[6]); err != nil {
			return nil, errorf("line %d: metric %q", i+2, f[6])
		}
		if r.Mask, err = hexAddr(f[7], order); err != nil {
			return nil, errorf("line %d: mask: %w", i+2, err)
		}
		out = append(out, r)
	}
	return out, nil
}

func hexAddr(s string, order binary.ByteOrder) (netip.Addr, error) {
	if len(s) != 8 {
		return netip.Addr{}, errorf("%q is not 8 hex digits", s)
	}
	v, err := strconv.ParseUint(s, 16, 32)
	if err != nil {
		return netip.Addr{}, errorf("%q is not 8 hex digits", s)
	}
	var b [4]byte
	order.PutUint32(b[:], uint32(v))
	return netip.AddrFrom4(b), nil
}

// Default picks the default route the kernel uses: up, not a reject
// route, destination and mask 0.0.0.0, and the lowest metric (the first
// one listed among equals, as the kernel's lookup takes the first alias).
func Default(routes []Route) (Route, bool) {
	var best Route
	found := false
	zero := netip.AddrFrom4([4]byte{})
	for _, r := range routes {
		if r.Flags&RTFUp == 0 || r.Flags&RTFReject != 0 || r.Dest != zero || r.Mask != zero || r.Iface == "*" {
			continue
		}
		if !found || r.Metric < best.Metric {
			best, found = r, true
		}
	}
	return best, found
}

// PeerFromRIB finds, in an RTM_GETADDR dump (syscall.NetlinkRIB), the peer
// of the IPv4 address on interface index: per linux/if_addr.h, "for
// point-to-point IFA_ADDRESS is DESTINATION address, local address is
// supplied in IFA_LOCAL attribute", so a peer is an IFA_ADDRESS that
// differs from its IFA_LOCAL (what `ip addr` shows as "inet L peer P/32").
func PeerFromRIB(rib []byte, index int) (netip.Addr, error) {
	msgs, err := syscall.ParseNetlinkMessage(rib)
	if err != nil {
		return netip.Addr{}, errorf("parse netlink dump: %w", err)
	}
	sawAddr := false
	for i := range msgs {
		m := &msgs[i]
		if m.Header.Type == syscall.NLMSG_DONE {
			break
		}
		if m.Header.Type != syscall.RTM_NEWADDR || len(m.Data) < syscall.SizeofIfAddrmsg {
			continue
		}
		family := m.Data[0]
		ifindex := binary.NativeEndian.Uint32(m.Data[4:8])
		if family != syscall.AF_INET || int(ifindex) != index {
			continue
		}
		local, addr, err := addrAttrs(m.Data[syscall.SizeofIfAddrmsg:])
		if err != nil {
			return netip.Addr{}, errorf("parse netlink address: %w", err)
		}
		sawAddr = sawAddr || addr.IsValid()
		if local.IsValid() && addr.IsValid() && local != addr {
			return addr, nil
		}
	}
	if sawAddr {
		return netip.Addr{}, errorf("interface %d has no point-to-point peer", index)
	}
	return netip.Addr{}, errorf("interface %d has no IPv4 address", index)
}

// addrAttrs reads IFA_LOCAL and IFA_ADDRESS from the rtattrs of an
// RTM_NEWADDR message (linux/rtnetlink.h: struct rtattr {rta_len;
// rta_type}, each attribute padded to 4 bytes). syscall.ParseNetlinkRouteAttr
// does the same but panics on an attribute shorter than its header, which
// a fuzz test found; the kernel never sends one, and this never panics.
func addrAttrs(b []byte) (local, addr netip.Addr, err error) {
	for len(b) >= syscall.SizeofRtAttr {
		l := int(binary.NativeEndian.Uint16(b[0:2]))
		typ := binary.NativeEndian.Uint16(b[2:4])
		if l < syscall.SizeofRtAttr || l > len(b) {
			return local, addr, errorf("attribute length %d of %d bytes", l, len(b))
		}
		if ip, ok := netip.AddrFromSlice(b[syscall.SizeofRtAttr:l]); ok {
			switch typ {
			case syscall.IFA_LOCAL:
				local = ip.Unmap()
			case syscall.IFA_ADDRESS:
				addr = ip.Unmap()
			}
		}
		b = b[min((l+3)&^3, len(b)):]
	}
	return local, addr, nil
}

// errorf is fmt.Errorf, not inlined: the package's error paths are cold,
// and fmt.Errorf inlined at each of them grows the router's binary (SPEC
// §12: stripped netcheck ≤ 5 MiB).
//
//go:noinline
func errorf(format string, a ...any) error { return fmt.Errorf(format, a...) }
