package cli

import (
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/pve-op/network-rescue/internal/config"
)

// TestLoadConfigNamedFileMustExist: -config PATH that does not exist is a
// configuration error (exit 2), before or after the subcommand; without
// -config the missing default path means the built-in defaults (SPEC §15).
func TestLoadConfigNamedFileMustExist(t *testing.T) {
	missing := filepath.Join(t.TempDir(), "netresuce.conf")
	for _, args := range [][]string{{"-config", missing}, {"status", "-config", missing}, {"-config=" + missing, "plan"}} {
		fs, f := NewFlagSet("netcheck", "", io.Discard)
		if _, _, err := ParseArgs(fs, f, args, io.Discard, "status", "plan"); err != nil {
			t.Fatal(err)
		}
		_, err := LoadConfig(*f, config.Router)
		want := missing + ": does not exist (named by -config); fix: create it, or drop -config"
		if err == nil || err.Error() != want || ExitCode(err) != ExitUsage {
			t.Errorf("%q: LoadConfig error = %v (exit %d); want %s (exit 2)", args, err, ExitCode(err), want)
		}
	}
	fs, f := NewFlagSet("netcheck", "", io.Discard)
	if _, _, err := ParseArgs(fs, f, []string{"plan"}, io.Discard, "plan"); err != nil {
		t.Fatal(err)
	}
	if f.ConfigSet || f.Config != config.DefaultPath {
		t.Fatalf("without -config: ConfigSet %v, Config %q", f.ConfigSet, f.Config)
	}
	f.Config = missing // stands for a machine without /etc/netrescue.conf
	cfg, err := LoadConfig(*f, config.Router)
	if err != nil || cfg.Path != "" || !strings.HasPrefix(cfg.L3Cmd, "/bin/sync") {
		t.Errorf("default path missing: %v, path %q; want the built-in defaults", err, cfg.Path)
	}
}

// TestLoadConfigDryRunFlag: -dry-run sets DryRun for this run alone
// (DryRunFlag, no fault for status), and a file's DRY_RUN=1 stays the
// file's, flag or not (status says it as a fault: the rescue never acts).
func TestLoadConfigDryRunFlag(t *testing.T) {
	dir := t.TempDir()
	for _, tc := range []struct {
		file          string
		flag          bool
		dry, flagOnly bool
	}{
		{"", true, true, true},
		{"DRY_RUN=1\n", true, true, false},
		{"DRY_RUN=1\n", false, true, false},
		{"", false, false, false},
	} {
		p := filepath.Join(dir, "netrescue.conf")
		if err := os.WriteFile(p, []byte("SYSLOG=0\n"+tc.file), 0o600); err != nil {
			t.Fatal(err)
		}
		cfg, err := LoadConfig(Flags{Config: p, ConfigSet: true, DryRun: tc.flag}, config.Router)
		if err != nil || cfg.DryRun != tc.dry || cfg.DryRunFlag != tc.flagOnly {
			t.Errorf("file %q, -dry-run %v: DryRun %v, DryRunFlag %v, %v; want %v, %v", tc.file, tc.flag, cfg.DryRun, cfg.DryRunFlag, err, tc.dry, tc.flagOnly)
		}
	}
}
