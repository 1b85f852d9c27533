package installtest

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// summaryModule is a throwaway module whose tests stand for the kinds
// `make test` meets: end-to-end tests that skip unless "root"
// (NR_SUMMARY_ROOT=1), at the top level or in a subtest, one that runs and
// fails, and unit tests whose names look like end-to-end ones.
const summaryModule = `package x

import (
	"os"
	"testing"
)

// needRoot is e2e's: skip with a reason, else log the marker.
func needRoot(t *testing.T) {
	if os.Getenv("NR_SUMMARY_ROOT") != "1" {
		t.Skip("SKIP e2e: needs root for network namespaces (CI runs as root)")
	}
	t.Log("E2E-RAN " + t.Name())
}

func TestRouterLadder(t *testing.T) { needRoot(t) }

func TestHostEndToEnd(t *testing.T) {
	needRoot(t)
	t.Run("SOS reboots the host", func(t *testing.T) {})
}

func TestInstall(t *testing.T) {
	t.Run("dash/router", func(t *testing.T) { needRoot(t) })
}

func TestLoopFails(t *testing.T) {
	needRoot(t)
	t.Error("the loop broke")
}

func TestScripts(t *testing.T)          {}
func TestHostRescueOutlook(t *testing.T) {}
`

// TestTestSummary: the summary of `make test` (scripts/test-summary.sh)
// counts an end-to-end test only when it logged E2E-RAN and passed. As a
// non-root user every end-to-end test skips, and the summary says so
// instead of counting unit tests such as TestScripts (issue 9 item 3: the
// old count, `grep -c '^--- PASS: Test(Router|Host|Loop|Scripts)'`, said
// "2 end-to-end tests passed" for the same log). The log is the real
// output of `go test -v` on summaryModule.
func TestTestSummary(t *testing.T) {
	requireTools(t, "go", "awk", "sh")
	summary, err := filepath.Abs(filepath.Join("..", "..", "scripts", "test-summary.sh"))
	if err != nil {
		t.Fatal(err)
	}
	mod := t.TempDir()
	write(t, filepath.Join(mod, "go.mod"), "module summarytest\n\ngo 1.21\n", 0o644)
	write(t, filepath.Join(mod, "x_test.go"), summaryModule, 0o644)

	for _, tc := range []struct {
		root string
		want []string
	}{
		{"0", []string{
			"e2e: 0 end-to-end tests ran: they all skipped (they need root and the tools; see SKIPPED above)",
			"SKIPPED: --- SKIP: TestRouterLadder", "SKIPPED: --- SKIP: TestInstall/dash/router",
			"ok  \tsummarytest", "3 passed, 0 failed, 4 skipped"}},
		{"1", []string{
			"e2e: 3 end-to-end tests passed in network namespaces",
			"FAIL\tsummarytest", "7 passed, 1 failed, 0 skipped"}},
	} {
		t.Run("root="+tc.root, func(t *testing.T) {
			cmd := exec.Command("go", "test", "-count=1", "-v", ".")
			cmd.Dir = mod
			cmd.Env = append(os.Environ(), "NR_SUMMARY_ROOT="+tc.root, "GOFLAGS=", "GOWORK=off", "GOTOOLCHAIN=local")
			out, _ := cmd.CombinedOutput() // the root run fails: TestLoopFails
			log := filepath.Join(t.TempDir(), "test.log")
			write(t, log, string(out), 0o644)
			got, err := exec.Command("sh", summary, log).CombinedOutput()
			if err != nil {
				t.Fatalf("test-summary.sh: %v\n%s", err, got)
			}
			for _, w := range tc.want {
				if !strings.Contains(string(got), w) {
					t.Errorf("summary lacks %q:\n%s\n--- go test -v output:\n%s", w, got, out)
				}
			}
		})
	}
}
