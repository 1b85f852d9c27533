package main

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/pve-op/network-rescue/internal/runenv"
)

// TestPlanRouterConfig: `hostcheck plan` runs the router's default ladder
// unless -router-config names the router's netrescue.conf; a newcomer who
// did not know the flag (it was in -h only) read a timeline that was not
// their router's. Without it, plan now says so and how to pass it.
func TestPlanRouterConfig(t *testing.T) {
	dir := t.TempDir()
	conf := filepath.Join(dir, "host.conf")
	router := filepath.Join(dir, "router.conf")
	if err := os.WriteFile(conf, []byte("VM_ID=100\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(router, []byte("PROFILE=aggressive\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	const hint = "-router-config FILE"
	for _, tc := range []struct {
		name     string
		args     []string
		wantHint bool
	}{
		{name: "router defaults", args: []string{"-config", conf, "plan", "-at", "09:00"}, wantHint: true},
		{name: "router config", args: []string{"-config", conf, "plan", "-at", "09:00", "-router-config", router}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			stderr, err := os.Create(filepath.Join(dir, "stderr"))
			if err != nil {
				t.Fatal(err)
			}
			defer stderr.Close()
			var out strings.Builder
			e := runenv.Env{Stdout: &out, Stderr: stderr,
				Now: func() time.Time { return time.Date(2026, 11, 25, 8, 0, 0, 0, time.UTC) }}
			if err := run(context.Background(), tc.args, e); err != nil {
				t.Fatalf("run %q = %v", tc.args, err)
			}
			if got := strings.Contains(out.String(), hint); got != tc.wantHint {
				t.Errorf("plan %q says %q: %v; want %v:\n%s", tc.args, hint, got, tc.wantHint, out.String())
			}
		})
	}
}
