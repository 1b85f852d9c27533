package health

import (
	"encoding/json"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/pve-op/network-rescue/internal/command"
)

// netifdStatus is `ifstatus wan` on an OpenWrt router dialling PPPoE: the
// members of netifd's status object as netifd_dump_status writes them
// (openwrt/netifd ubus.c: up, pending, available, autostart, dynamic,
// uptime, l3_device, proto, device, updated, metric, dns_metric,
// delegation, ipv4-address, ipv6-address, ipv6-prefix,
// ipv6-prefix-assignment, route, dns-server, dns-search, neighbors,
// inactive, data), in the layout of blobmsg_format_json_indent.
const netifdStatus = `{
	"up": true,
	"pending": false,
	"available": true,
	"autostart": true,
	"dynamic": false,
	"uptime": 86342,
	"l3_device": "pppoe-wan",
	"proto": "pppoe",
	"device": "eth1",
	"updated": [
		"addresses",
		"routes"
	],
	"metric": 0,
	"dns_metric": 0,
	"delegation": true,
	"ipv4-address": [
		{
			"address": "100.64.23.7",
			"mask": 32,
			"ptpaddress": "100.64.0.1"
		}
	],
	"ipv6-address": [
	],
	"ipv6-prefix": [
	],
	"ipv6-prefix-assignment": [
	],
	"route": [
		{
			"target": "0.0.0.0",
			"mask": 0,
			"nexthop": "100.64.0.1",
			"source": "0.0.0.0/0"
		}
	],
	"dns-server": [
		"203.0.113.53"
	],
	"dns-search": [
	],
	"neighbors": [
	],
	"inactive": {
		"ipv4-address": [
		],
		"ipv6-address": [
		],
		"route": [
		],
		"dns-server": [
		],
		"dns-search": [
		],
		"neighbors": [
		]
	},
	"data": {
	}
}
`

func TestObjectScalars(t *testing.T) {
	m, err := objectScalars(netifdStatus)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]jsonScalar{"up": {"true", true}, "pending": {"false", true}, "available": {"true", true},
		"autostart": {"true", true}, "dynamic": {"false", true}, "delegation": {"true", true},
		"l3_device": {Value: "pppoe-wan"}, "proto": {Value: "pppoe"}, "device": {Value: "eth1"}}
	if len(m) != len(want) {
		t.Errorf("objectScalars(netifd) = %v; want %v", m, want)
	}
	for k, v := range want {
		if m[k] != v {
			t.Errorf("member %q = %+v; want %+v", k, m[k], v)
		}
	}
	for _, tt := range []struct{ in, key, want string }{
		{`{"a":"x\"y\\z\/\b\f\n\r\t"}`, "a", "x\"y\\z/\b\f\n\r\t"},
		{`{"a":"\u00e9\u4e2d\ud83d\ude00"}`, "a", "é中😀"},
		{`{"a":"\ud83d"}`, "a", "\ufffd"},
		{`{"a":"\ud83d\u0041"}`, "a", "\ufffdA"},
		{`{"a":"\ude00x"}`, "a", "\ufffdx"},
		{"{\"a\":\"\xff\"}", "a", "\ufffd"},
		{`{"a":"first","a":"last"}`, "a", "last"},
		{` { "a" : "x" } ` + "\n", "a", "x"},
	} {
		m, err := objectScalars(tt.in)
		if err != nil || m[tt.key].Value != tt.want {
			t.Errorf("objectScalars(%q)[%q] = %q, %v; want %q", tt.in, tt.key, m[tt.key].Value, err, tt.want)
		}
	}
	for _, bad := range []string{"", "Interface wan not found", `["up"]`, `{"up": true`, `{"up" true}`, `{"up": tru}`,
		`{"a": 01}`, `{"a": 1.}`, `{"a": -}`, `{"a": 1e}`, `{"a": [1,]}`, `{"a": "x}`, "{\"a\": \"\t\"}", `{"a": "\x"}`,
		`{"a": "\u12"}`, `{"a": "\u+123"}`, `{} {}`, `{"a": 1,}`, `{a: 1}`, `{"a":` + strings.Repeat("[", 20000)} {
		if _, err := objectScalars(bad); err == nil {
			t.Errorf("objectScalars(%q): no error", bad)
		}
	}
}

// TestWANIfaceWrongTypes: an answer that is JSON but not netifd's status
// (a member of another type) is reported, not read as "down".
func TestWANIfaceWrongTypes(t *testing.T) {
	for _, tt := range []struct{ out, want string }{
		{netifdStatus, "wan (pppoe on pppoe-wan): up"},
		{`{"up": false, "proto": "dhcp", "device": "eth1"}`, "wan (dhcp on eth1): down"},
		{`{"up": false}`, "wan: down"},
		{`{"up": "yes"}`, "not netifd's status"},
		{`{"up": true, "proto": true}`, "not netifd's status"},
		{`{"up": true,`, "not netifd's status"},
	} {
		c := WANIface("wan", "ifstatus wan", command.Result{Stdout: tt.out})
		if !strings.Contains(c.Detail, tt.want) {
			t.Errorf("WANIface(%q) = %q; want %q", tt.out, c.Detail, tt.want)
		}
	}
}

// FuzzObjectScalars: objectScalars reads JSON as encoding/json does: an
// input is accepted exactly when it is a valid JSON object, and its string
// and boolean members have the values encoding/json decodes.
func FuzzObjectScalars(f *testing.F) {
	for _, s := range []string{netifdStatus, `{"a":"\ud83d\ude00","b":[1,{"c":null}],"d":-0.5e+3}`, `{"a":"\ud83d"}`, `{}`, `{"a":1,"a":"x"}`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		m, err := objectScalars(in)
		var ref map[string]any
		refErr := json.Unmarshal([]byte(in), &ref)
		if refErr == nil && ref == nil {
			refErr = json.Unmarshal([]byte("x"), &ref) // "null" is no object
		}
		if (err == nil) != (refErr == nil) {
			t.Fatalf("objectScalars(%q) error %v; encoding/json: %v", in, err, refErr)
		}
		if err != nil {
			return
		}
		for k, v := range ref {
			// encoding/json matches keys exactly in a map; invalid UTF-8
			// in keys is replaced alike.
			switch v := v.(type) {
			case string:
				if got := m[k]; got.IsBool || got.Value != v {
					t.Errorf("objectScalars(%q)[%q] = %+v; encoding/json: %q", in, k, got, v)
				}
			case bool:
				if got := m[k]; !got.IsBool || got.Value != map[bool]string{true: "true", false: "false"}[v] {
					t.Errorf("objectScalars(%q)[%q] = %+v; encoding/json: %v", in, k, got, v)
				}
			default:
				if _, ok := m[k]; ok {
					t.Errorf("objectScalars(%q)[%q] = %+v; encoding/json: %T", in, k, m[k], v)
				}
			}
		}
		if len(m) > len(ref) || !utf8.ValidString(strings.Join(keys(m), "")) {
			t.Errorf("objectScalars(%q) = %v; encoding/json: %v", in, m, ref)
		}
	})
}

func keys(m map[string]jsonScalar) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	return out
}
