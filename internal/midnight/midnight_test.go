package midnight

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/pve-op/network-rescue/internal/cli"
	"github.com/pve-op/network-rescue/internal/config"
)

// TestInvoked: the base name of argv[0] decides, as busybox does, so the
// router's /usr/bin/midnight-reset -> netcheck and a relative call both run
// the reset, and netcheck under its own name never does.
func TestInvoked(t *testing.T) {
	for _, tt := range []struct {
		argv0 string
		want  bool
	}{
		{"/usr/bin/midnight-reset", true},
		{"midnight-reset", true},
		{"./midnight-reset", true},
		{"/usr/bin/netcheck", false},
		{"netcheck", false},
		{"/usr/bin/midnight-reset.old", false},
		{"/tmp/midnight-reset/netcheck", false},
		{"", false},
	} {
		if got := Invoked(tt.argv0); got != tt.want {
			t.Errorf("Invoked(%q) = %v; want %v", tt.argv0, got, tt.want)
		}
	}
}

// TestDetectRole: -role wins; without it netcheck's default (router) holds
// whatever the machine looks like.
func TestDetectRole(t *testing.T) {
	for _, tt := range []struct {
		flag string
		def  config.Role
		want config.Role
	}{
		{"router", "", config.Router},
		{"host", "", config.Host},
		{"host", config.Router, config.Host},
		{"", config.Router, config.Router},
	} {
		got, err := detectRole(tt.flag, tt.def)
		if err != nil || got != tt.want {
			t.Errorf("detectRole(%q, %q) = %q, %v; want %q", tt.flag, tt.def, got, err, tt.want)
		}
	}
	if _, err := detectRole("nas", config.Router); err == nil {
		t.Errorf("detectRole(\"nas\") = nil error; want a usage error")
	}
}

// TestRouterBinaryRefusesHostReset: the router's netcheck, run as
// midnight-reset -role host, carries no host reset (HostReset nil): a
// usage error (exit 2) that names the binary to use, before any config is
// read or anything touched.
func TestRouterBinaryRefusesHostReset(t *testing.T) {
	dir := t.TempDir()
	var out strings.Builder
	err := Run(context.Background(), []string{"-role", "host", "-config", filepath.Join(dir, "missing.conf")}, &out, os.Stderr, config.Router, nil)
	if cli.ExitCode(err) != cli.ExitUsage || err == nil || !strings.Contains(err.Error(), "the host's midnight-reset") {
		t.Errorf("Run(-role host) without the host side = %v (exit %d); want a usage error naming the host's midnight-reset", err, cli.ExitCode(err))
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 0 {
		t.Errorf("Run wrote %v", entries)
	}
}
