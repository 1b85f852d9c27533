package installtest

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/pve-op/network-rescue/crontab"
	"github.com/pve-op/network-rescue/state"
)

// TestRouterOneBinary: the router carries one binary; midnight-reset is a
// symlink to netcheck (SPEC §10, issue 12 item 3). An earlier install's
// separate midnight-reset binary is replaced by the link, a second run
// leaves the link alone, the cron line still names /usr/bin/midnight-reset,
// and --uninstall removes the link with the binary.
func TestRouterOneBinary(t *testing.T) {
	for _, sh := range shells(t) {
		t.Run(sh.name, func(t *testing.T) {
			e := newEnv(t, sh)
			prefix := t.TempDir()
			link := filepath.Join(prefix, "usr/bin/midnight-reset")
			write(t, link, binary(t, "midnight-reset"), 0o755) // the two-binary install of before
			base := []string{"--role", "router", "--prefix", prefix, "--bin", e.bin}

			out := e.mustRun("router", append(append([]string{}, base...), "--dry-run")...)
			wantContains(t, "dry run output", out, "would link "+link+" -> netcheck")
			if got := read(t, link); got != binary(t, "midnight-reset") {
				t.Errorf("dry run changed %s", link)
			}

			out = e.mustRun("router", base...)
			wantLink(t, link, "netcheck")
			wantContains(t, "install output", out, "linked "+link+" -> netcheck (replaced the separate midnight-reset binary")
			if got := read(t, link); got != binary(t, "netcheck") {
				t.Errorf("%s does not run netcheck's bytes", link)
			}
			entries, err := os.ReadDir(filepath.Join(prefix, "usr/bin"))
			if err != nil {
				t.Fatal(err)
			}
			var names []string
			for _, en := range entries {
				names = append(names, en.Name())
			}
			if got := strings.Join(names, " "); got != "midnight-reset netcheck" {
				t.Errorf("usr/bin holds %q; want exactly \"midnight-reset netcheck\"", got)
			}
			if cron := read(t, filepath.Join(prefix, "etc/crontabs/root")); !strings.Contains(cron, "0 0 * * * /usr/bin/midnight-reset # netrescue\n") {
				t.Errorf("crontab = %q; want the midnight-reset line", cron)
			}

			before := snap(t, prefix)
			out = e.mustRun("router", base...)
			wantContains(t, "second install output", out, link+" -> netcheck is up to date")
			if d := before.diff(snap(t, prefix)); d != "" {
				t.Errorf("second install changed the tree:\n%s", d)
			}

			e.mustRun("router", "--role", "router", "--prefix", prefix, "--bin", e.bin, "--uninstall")
			for _, p := range []string{link, filepath.Join(prefix, "usr/bin/netcheck")} {
				if exists(p) {
					t.Errorf("%s still there after --uninstall", p)
				}
			}
		})
	}
}

// TestResetThroughSymlink installs the real netcheck into a --prefix tree
// and runs the tree's /usr/bin/midnight-reset, the symlink: it is the
// router reset (count 0, cooling and SOS gone, 【重置】 logged), with no
// -role and no /etc/openwrt_release needed, on a test config whose state
// lives in a temp dir.
func TestResetThroughSymlink(t *testing.T) {
	requireTools(t, "go")
	if testing.Short() {
		t.Skip("skipping: builds the real netcheck")
	}
	bin := realBins(t)
	e := newEnv(t, shells(t)[0])
	prefix := t.TempDir()
	e.mustRun("router", "--role", "router", "--prefix", prefix, "--bin", bin)
	link := filepath.Join(prefix, "usr/bin/midnight-reset")
	wantLink(t, link, "netcheck")
	if miss := crontab.Check(read(t, filepath.Join(prefix, "etc/crontabs/root")), crontab.Router); miss != nil {
		t.Errorf("crontab lacks %q", miss)
	}

	dir := t.TempDir()
	stateDir, runDir, logFile := filepath.Join(dir, "state"), filepath.Join(dir, "run"), filepath.Join(dir, "net.log")
	conf := filepath.Join(dir, "netrescue.conf")
	// Should the link ever run netcheck instead, it probes a documentation
	// address inside the test's empty namespace and its commands do nothing.
	write(t, conf, "STATE_DIR="+stateDir+"\nRUN_DIR="+runDir+"\nLOG_FILE="+logFile+"\nSYSLOG=0\n"+
		"CHECK_TARGETS=198.51.100.1\nL1_CMD=/bin/true\nL2_CMD=/bin/true\nL3_CMD=/bin/true\n", 0o600)
	if err := os.MkdirAll(stateDir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := state.WriteCount(filepath.Join(stateDir, "net_rb_count"), 7); err != nil {
		t.Fatal(err)
	}
	write(t, filepath.Join(stateDir, "net_cooling_ts"), "1700000000\n", 0o644)
	if err := state.WriteFlag(filepath.Join(stateDir, "SOS_SYSTEM"), "time=x count=7 reason=y"); err != nil {
		t.Fatal(err)
	}

	run := func(args ...string) (string, error) {
		c := exec.Command("ip", append([]string{"netns", "exec", e.ns, link}, args...)...)
		c.Env = []string{"PATH=/usr/bin:/bin", "TZ=UTC"}
		out, err := c.CombinedOutput()
		return string(out), err
	}
	if out, err := run("-version"); err != nil || !strings.HasPrefix(out, "midnight-reset ") {
		t.Errorf("midnight-reset -version: %v, %q; want it to name itself midnight-reset", err, out)
	}
	if out, err := run("-h"); !strings.Contains(out, "router, the only role here") || strings.Contains(out, "-force") {
		t.Errorf("midnight-reset -h: %v, %q; want router the only role, no host flag", err, out)
	}
	if out, err := run("-config", conf); err != nil {
		t.Fatalf("%s -config %s: %v\n%s", link, conf, err, out)
	}
	if n, err := state.ReadCount(filepath.Join(stateDir, "net_rb_count")); n != 0 || err != nil {
		t.Errorf("count after the reset through the symlink = %d, %v; want 0", n, err)
	}
	for _, f := range []string{"net_cooling_ts", "SOS_SYSTEM"} {
		if exists(filepath.Join(stateDir, f)) {
			t.Errorf("%s survived the reset through the symlink", f)
		}
	}
	if log := read(t, logFile); !strings.Contains(log, "【重置】新的一天：重启计数清零") {
		t.Errorf("log = %q; want the router's 【重置】 line", log)
	}
	// netcheck under its own name is still netcheck.
	c := exec.Command(filepath.Join(prefix, "usr/bin/netcheck"), "-version")
	if out, err := c.CombinedOutput(); err != nil || !strings.HasPrefix(string(out), "netcheck ") {
		t.Errorf("netcheck -version: %v, %q", err, out)
	}
}
