package nexthop

import (
	"encoding/binary"
	"net/netip"
	"strings"
	"syscall"
	"testing"
)

// addrMsg builds one RTM_NEWADDR message as the kernel sends it in an
// RTM_GETADDR dump (linux/netlink.h nlmsghdr, linux/if_addr.h ifaddrmsg and
// rtattrs, each padded to 4 bytes): what syscall.NetlinkRIB returns.
func addrMsg(index uint32, attrs map[uint16]netip.Addr) []byte {
	body := []byte{syscall.AF_INET, 32, 0, 0, 0, 0, 0, 0} // family, prefixlen, flags, scope, index
	binary.NativeEndian.PutUint32(body[4:8], index)
	for _, typ := range []uint16{syscall.IFA_ADDRESS, syscall.IFA_LOCAL} {
		a, ok := attrs[typ]
		if !ok {
			continue
		}
		v := a.AsSlice()
		rta := make([]byte, 4, 4+len(v))
		binary.NativeEndian.PutUint16(rta[0:2], uint16(4+len(v)))
		binary.NativeEndian.PutUint16(rta[2:4], typ)
		body = append(body, append(rta, v...)...)
	}
	hdr := make([]byte, syscall.NLMSG_HDRLEN)
	binary.NativeEndian.PutUint32(hdr[0:4], uint32(len(hdr)+len(body)))
	binary.NativeEndian.PutUint16(hdr[4:6], syscall.RTM_NEWADDR)
	return append(hdr, body...)
}

func doneMsg() []byte {
	hdr := make([]byte, syscall.NLMSG_HDRLEN+4)
	binary.NativeEndian.PutUint32(hdr[0:4], uint32(len(hdr)))
	binary.NativeEndian.PutUint16(hdr[4:6], syscall.NLMSG_DONE)
	return hdr
}

// TestPeerFromRIB: the peer of a point-to-point address is its IFA_ADDRESS
// when that differs from IFA_LOCAL (linux/if_addr.h); a broadcast
// interface's two are equal, and other interfaces are skipped.
func TestPeerFromRIB(t *testing.T) {
	a := netip.MustParseAddr
	lan := addrMsg(2, map[uint16]netip.Addr{syscall.IFA_ADDRESS: a("192.168.1.1"), syscall.IFA_LOCAL: a("192.168.1.1")})
	ppp := addrMsg(7, map[uint16]netip.Addr{syscall.IFA_ADDRESS: a("100.64.0.1"), syscall.IFA_LOCAL: a("100.64.12.34")})
	rib := append(append(append([]byte{}, lan...), ppp...), doneMsg()...)
	if got, err := PeerFromRIB(rib, 7); err != nil || got != a("100.64.0.1") {
		t.Errorf("PeerFromRIB(pppoe-wan) = %v, %v; want 100.64.0.1", got, err)
	}
	if _, err := PeerFromRIB(rib, 2); err == nil || !strings.Contains(err.Error(), "interface 2 has no point-to-point peer") {
		t.Errorf("PeerFromRIB(br-lan) = %v; want no peer", err)
	}
	if _, err := PeerFromRIB(rib, 9); err == nil || !strings.Contains(err.Error(), "interface 9 has no IPv4 address") {
		t.Errorf("PeerFromRIB(9) = %v; want no address", err)
	}
}

// FuzzPeerFromRIB: whatever bytes a netlink dump holds, no panic.
func FuzzPeerFromRIB(f *testing.F) {
	a := netip.MustParseAddr
	f.Add(append(addrMsg(7, map[uint16]netip.Addr{syscall.IFA_ADDRESS: a("100.64.0.1"), syscall.IFA_LOCAL: a("100.64.12.34")}), doneMsg()...), 7)
	f.Add(doneMsg(), 1)
	f.Add([]byte{0xff, 0xff, 0xff, 0xff, 20, 0}, 0)
	f.Fuzz(func(t *testing.T, rib []byte, index int) {
		if ip, err := PeerFromRIB(rib, index); err == nil && !ip.Is4() {
			t.Fatalf("PeerFromRIB = %v; want an IPv4 address or an error", ip)
		}
	})
}
