package main

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/pve-op/network-rescue/internal/config"
)

// TestPinCmd: the fix for a router key not pinned or changed names the
// command that pins into this run's KNOWN_HOSTS: with a config of its own,
// `hostcheck pin` alone would read the default config and pin into the
// default KNOWN_HOSTS, and the next cron run would fail the same way.
func TestPinCmd(t *testing.T) {
	wd, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for path, want := range map[string]string{
		// A relative -config, made absolute: the fix is run from anywhere.
		"lab/b.conf":              "hostcheck -config '" + filepath.Join(wd, "lab/b.conf") + "' pin",
		"":                        "hostcheck pin",
		config.DefaultPath:        "hostcheck pin",
		"/etc/netrescue-lab.conf": "hostcheck -config '/etc/netrescue-lab.conf' pin",
		"/srv/it's here.conf":     `hostcheck -config '/srv/it'\''s here.conf' pin`,
	} {
		h := testHost(t, nil)
		h.cfg.Path = path
		if got := h.pinCmd(); got != want {
			t.Errorf("config %q: pinCmd() = %q; want %q", path, got, want)
		}
		if got := h.remote().PinCmd; got != want {
			t.Errorf("config %q: remote().PinCmd = %q; want %q", path, got, want)
		}
	}
}
