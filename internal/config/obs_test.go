package config

import (
	"strings"
	"testing"
	"time"
)

// TestObservabilityKeys: METRICS_FILE, HEARTBEAT_URL and HEARTBEAT_EVERY
// (SPEC §16): their defaults, the values accepted, and the exact error a
// user reads for a bad one (file, line, key, what is allowed; a URL never
// echoed, since its path is the check's secret).
func TestObservabilityKeys(t *testing.T) {
	h := Default(Host)
	if h.MetricsFile != "" || h.HeartbeatURL != "" || h.HeartbeatEvery != 5*time.Minute {
		t.Errorf("defaults METRICS_FILE=%q HEARTBEAT_URL=%q HEARTBEAT_EVERY=%v; want off, off, 5m", h.MetricsFile, h.HeartbeatURL, h.HeartbeatEvery)
	}
	ok := []struct {
		name, content string
		check         func(Config) bool
	}{
		{"metrics file", "METRICS_FILE=/var/lib/prometheus/node-exporter/netrescue.prom",
			func(c Config) bool { return c.MetricsFile == "/var/lib/prometheus/node-exporter/netrescue.prom" }},
		{"metrics off", "METRICS_FILE=", func(c Config) bool { return c.MetricsFile == "" }},
		{"healthchecks", "HEARTBEAT_URL=https://hc-ping.com/0f3e1c2a-5b7d-4e8f-9a1b-2c3d4e5f6a7b",
			func(c Config) bool {
				return c.HeartbeatURL == "https://hc-ping.com/0f3e1c2a-5b7d-4e8f-9a1b-2c3d4e5f6a7b"
			}},
		{"uptime kuma", `HEARTBEAT_URL="http://kuma.lan:3001/api/push/AbC123?status=up&msg=OK&ping="`,
			func(c Config) bool { return strings.HasSuffix(c.HeartbeatURL, "status=up&msg=OK&ping=") }},
		{"every minutes", "HEARTBEAT_EVERY=15m", func(c Config) bool { return c.HeartbeatEvery == 15*time.Minute }},
		{"every bare seconds", "HEARTBEAT_EVERY=600", func(c Config) bool { return c.HeartbeatEvery == 10*time.Minute }},
	}
	for _, tt := range ok {
		t.Run(tt.name, func(t *testing.T) {
			c, err := Parse("/etc/netrescue.conf", tt.content, Host)
			if err != nil || !tt.check(c) {
				t.Errorf("Parse(%q) = %+v, %v; want accepted", tt.content, c, err)
			}
		})
	}
	bad := []struct{ name, content, want string }{
		{"relative metrics file", "METRICS_FILE=netrescue.prom",
			`/etc/netrescue.conf:1: METRICS_FILE: "netrescue.prom" is not an absolute path; allowed: an absolute path of a file ending in .prom (in node_exporter's --collector.textfile.directory), or empty`},
		{"metrics file not .prom", "METRICS_FILE=/var/lib/node-exporter/netrescue.txt",
			`/etc/netrescue.conf:1: METRICS_FILE: "/var/lib/node-exporter/netrescue.txt" does not end in .prom (node_exporter reads only *.prom files); allowed: an absolute path of a file ending in .prom (in node_exporter's --collector.textfile.directory), or empty`},
		{"unclean metrics file", "METRICS_FILE=/var/lib//x/netrescue.prom",
			`/etc/netrescue.conf:1: METRICS_FILE: "/var/lib//x/netrescue.prom" is not a clean path (write /var/lib/x/netrescue.prom); allowed: an absolute path of a file ending in .prom (in node_exporter's --collector.textfile.directory), or empty`},
		{"heartbeat other scheme", "HEARTBEAT_URL=ftp://hc-ping.com/T0KEN-s3cret",
			`/etc/netrescue.conf:1: HEARTBEAT_URL: must start with https:// or http://, not ftp:// (the value is not shown: it may hold a token); allowed: an http(s) URL, or empty`},
		{"heartbeat without host", "HEARTBEAT_URL=https:///T0KEN-s3cret",
			`/etc/netrescue.conf:1: HEARTBEAT_URL: is not a URL with a host (the value is not shown: it may hold a token); allowed: an http(s) URL, or empty`},
		{"heartbeat text after quote", `HEARTBEAT_URL="https://hc-ping.com/x" T0KEN-s3cret`,
			`/etc/netrescue.conf:1: HEARTBEAT_URL: text after the closing quote (the value is not shown: it may hold a token)`},
		{"every seconds", "HEARTBEAT_EVERY=90s",
			`/etc/netrescue.conf:3: HEARTBEAT_EVERY: "90s" is not whole minutes (cron runs hostcheck on the minute); allowed: whole minutes from 1m to 24h (5m, 1h, or bare seconds such as 300)`},
		{"every too short", "HEARTBEAT_EVERY=30",
			`/etc/netrescue.conf:3: HEARTBEAT_EVERY: "30" is out of range; allowed: whole minutes from 1m to 24h (5m, 1h, or bare seconds such as 300)`},
		{"every typo", "HEARTBEAT_EVREY=5m",
			"/etc/netrescue.conf:3: HEARTBEAT_EVREY: unknown key; did you mean HEARTBEAT_EVERY?"},
		{"metrics typo", "METRIC_FILE=/x.prom",
			"/etc/netrescue.conf:3: METRIC_FILE: unknown key; did you mean METRICS_FILE?"},
		{"on the router", "METRICS_FILE=/x.prom",
			"/etc/netrescue.conf:3: METRICS_FILE: not a router key (it belongs to the host side); allowed keys: " + strings.Join(Keys(Router), " ")},
	}
	for _, tt := range bad {
		t.Run(tt.name, func(t *testing.T) {
			content, role := tt.content, Host
			if strings.HasPrefix(tt.want, "/etc/netrescue.conf:3:") {
				content = "# two lines before\nSYSLOG=1\n" + content
			}
			if tt.name == "on the router" {
				role = Router
			}
			_, err := Parse("/etc/netrescue.conf", content, role)
			if err == nil || err.Error() != tt.want {
				t.Errorf("Parse(%q) error =\n  %v\nwant\n  %s", content, err, tt.want)
			}
			if err != nil && strings.Contains(err.Error(), "s3cret") {
				t.Errorf("error %q echoes the URL's secret", err)
			}
		})
	}
}

// FuzzHeartbeatURL: whatever HEARTBEAT_URL holds, an error never echoes it
// (its path is the check's secret), and an accepted value is an http(s)
// URL with a host.
func FuzzHeartbeatURL(f *testing.F) {
	f.Add("https://hc-ping.com/T0KEN-s3cret")
	f.Add("ftp://hc-ping.com/T0KEN-s3cret")
	f.Add(`"https://hc-ping.com/x" T0KEN-s3cret`)
	f.Add("https:///T0KEN-s3cret")
	f.Add("http://[::1]:namedport/T0KEN-s3cret")
	f.Fuzz(func(t *testing.T, v string) {
		if strings.ContainsAny(v, "\n\r") {
			return
		}
		c, err := Parse("/f.conf", "HEARTBEAT_URL="+v, Host)
		if err != nil {
			raw := strings.Trim(strings.TrimSpace(v), `"'`)
			// Only a plain scheme may be named ("not ftp://").
			if len(raw) >= 8 && raw != scheme(raw)+"://" && strings.Contains(err.Error(), raw) {
				t.Fatalf("error %q echoes the HEARTBEAT_URL value %q", err, raw)
			}
			return
		}
		if u := c.HeartbeatURL; u != "" && !strings.HasPrefix(u, "http://") && !strings.HasPrefix(u, "https://") {
			t.Fatalf("accepted HEARTBEAT_URL %q", u)
		}
	})
}
