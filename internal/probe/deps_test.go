package probe

import (
	"os/exec"
	"slices"
	"strings"
	"testing"
)

// TestNoHTTPStackLinked guards what pro-bing's version buys (SPEC §12).
// From v0.4.0 on, pro-bing's package holds an HTTP pinger (http.go) that
// imports net/http: every binary that imports pro-bing then links and
// initialises net/http and crypto/tls, used or not. With v0.9.1 that was
// 5,238,946 bytes of stripped netcheck (4,169,890 with v0.3.0), the router's
// footprint on mipsle 5.63 MiB (4.38) and a healthy run ~9 % slower
// (BENCHMARKS.md). go.mod pins v0.3.0; an upgrade that brings net/http back
// fails here, so that it is a decision and not a surprise.
//
// No binary of ours links net/http (hostcheck speaks HTTP through
// internal/httpc), and the router's netcheck and midnight-reset link no TLS.
func TestNoHTTPStackLinked(t *testing.T) {
	goTool, err := exec.LookPath("go")
	if err != nil {
		t.Skip("no go tool in PATH to list the binaries' packages")
	}
	banned := map[string][]string{
		"netcheck":       {"net/http", "crypto/tls"},
		"midnight-reset": {"net/http", "crypto/tls"},
		"hostcheck":      {"net/http"},
	}
	for cmd, pkgs := range banned {
		out, err := exec.Command(goTool, "list", "-deps", "github.com/pve-op/network-rescue/cmd/"+cmd).Output()
		if err != nil {
			t.Fatalf("go list -deps ./cmd/%s: %v", cmd, err)
		}
		deps := strings.Fields(string(out))
		if !slices.Contains(deps, "github.com/prometheus-community/pro-bing") && cmd != "midnight-reset" {
			t.Errorf("%s does not link pro-bing: this test no longer guards what it was written for", cmd)
		}
		for _, p := range pkgs {
			if slices.Contains(deps, p) {
				t.Errorf("%s links %s; with pro-bing ≥ v0.4.0 (its HTTP pinger) that costs the router ~1 MB of flash and every run its initialisation: keep pro-bing at v0.3.0 or say why in go.mod", cmd, p)
			}
		}
	}
}
