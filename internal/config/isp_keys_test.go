package config

import (
	"testing"
)

// TestISPKeys: DNS_CMD and WAN_GATEWAY (SPEC §14), their defaults, the
// values they take, and the exact error a person reads for a bad one.
func TestISPKeys(t *testing.T) {
	r := Default(Router)
	if r.DNSCmd != "/etc/init.d/dnsmasq restart" || r.WanGateway != "auto" {
		t.Errorf("defaults DNS_CMD=%q WAN_GATEWAY=%q; want /etc/init.d/dnsmasq restart, auto", r.DNSCmd, r.WanGateway)
	}
	for _, tc := range []struct {
		content, want string
	}{
		{"WAN_GATEWAY=auto", "auto"},
		{"WAN_GATEWAY=OFF", "off"},
		{"WAN_GATEWAY=192.0.2.1", "192.0.2.1"},
		{"WAN_GATEWAY=::ffff:192.0.2.1", "192.0.2.1"},
		{"WAN_GATEWAY='fe80::1%wan'", "fe80::1%wan"},
		{"WAN_GATEWAY=2001:db8::1", "2001:db8::1"},
	} {
		c, err := Parse("/etc/netrescue.conf", tc.content, Router)
		if err != nil || c.WanGateway != tc.want {
			t.Errorf("Parse(%q) WAN_GATEWAY = %q, %v; want %q", tc.content, c.WanGateway, err, tc.want)
		}
	}
	if c, err := Parse("/etc/netrescue.conf", "DNS_CMD=/etc/init.d/smartdns restart", Router); err != nil || c.DNSCmd != "/etc/init.d/smartdns restart" {
		t.Errorf("DNS_CMD = %q, %v", c.DNSCmd, err)
	}
	for _, tc := range []struct {
		name    string
		role    Role
		content string
		want    string
	}{
		{"typo", Router, "\nWAN_GATEWY=auto", "/etc/netrescue.conf:2: WAN_GATEWY: unknown key; did you mean WAN_GATEWAY?"},
		{"typo of DNS_CMD", Router, "DNS_CDM=/bin/true", "/etc/netrescue.conf:1: DNS_CDM: unknown key; did you mean DNS_CMD?"},
		{"a word", Router, "WAN_GATEWAY=yes",
			`/etc/netrescue.conf:1: WAN_GATEWAY: "yes" is not auto, off or an IP address; allowed: auto (the default route's gateway, or the peer of a point-to-point WAN), off, or the next hop's IP address`},
		{"a host name", Router, "WAN_GATEWAY=gw.lan",
			`/etc/netrescue.conf:1: WAN_GATEWAY: "gw.lan" is not auto, off or an IP address; allowed: auto (the default route's gateway, or the peer of a point-to-point WAN), off, or the next hop's IP address`},
		{"empty", Router, "WAN_GATEWAY=",
			`/etc/netrescue.conf:1: WAN_GATEWAY: "" is not auto, off or an IP address; allowed: auto (the default route's gateway, or the peer of a point-to-point WAN), off, or the next hop's IP address`},
		{"not unicast", Router, "WAN_GATEWAY=0.0.0.0",
			`/etc/netrescue.conf:1: WAN_GATEWAY: "0.0.0.0" is not a unicast address a next hop can have; allowed: auto (the default route's gateway, or the peer of a point-to-point WAN), off, or the next hop's IP address`},
		{"broadcast", Router, "WAN_GATEWAY=255.255.255.255",
			`/etc/netrescue.conf:1: WAN_GATEWAY: "255.255.255.255" is not a unicast address a next hop can have; allowed: auto (the default route's gateway, or the peer of a point-to-point WAN), off, or the next hop's IP address`},
		{"empty DNS_CMD", Router, "DNS_CMD=", `/etc/netrescue.conf:1: DNS_CMD: "" is empty; allowed: a shell command line (run as /bin/sh -c)`},
		{"host side", Host, "WAN_GATEWAY=auto", "/etc/netrescue.conf:1: WAN_GATEWAY: not a host key (it belongs to the router side); allowed keys: " + joinKeys(Host)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Parse("/etc/netrescue.conf", tc.content, tc.role)
			if err == nil || err.Error() != tc.want {
				t.Errorf("Parse(%q) = %v;\nwant %s", tc.content, err, tc.want)
			}
		})
	}
}

func joinKeys(r Role) string {
	s := ""
	for i, k := range Keys(r) {
		if i > 0 {
			s += " "
		}
		s += k
	}
	return s
}
