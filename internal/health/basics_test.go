package health

import (
	"strings"
	"testing"
	"time"

	"github.com/pve-op/network-rescue/internal/config"
)

// TestBasicsDryRun: DRY_RUN=1 left on after a trial means the rescue
// never acts: both checklists say so as a fault with its fix (they said
// "the rescue acts" under the pause line, all ✓).
func TestBasicsDryRun(t *testing.T) {
	for _, dry := range []bool{false, true} {
		cfg := config.Default(config.Router)
		cfg.DryRun = dry
		checks, _ := Basics(cfg, time.Date(2026, 11, 25, 10, 0, 0, 0, time.UTC), "fix the zone")
		var conf Check
		for _, c := range checks {
			if c.Name == "config valid" {
				conf = c
			}
		}
		if dry && (conf.OK || !strings.Contains(conf.Detail, "DRY_RUN=1") || conf.Fix != "set DRY_RUN=0") {
			t.Errorf("DRY_RUN=1: config check %+v; want ✗ saying it never acts, fix DRY_RUN=0", conf)
		}
		if !dry && (!conf.OK || strings.Contains(conf.Detail, "DRY_RUN")) {
			t.Errorf("DRY_RUN=0: config check %+v; want ✓", conf)
		}
	}
	// -dry-run asked for this one run (status of the dry run's state):
	// no fault, the file does not set it.
	cfg := config.Default(config.Router)
	cfg.DryRun, cfg.DryRunFlag = true, true
	checks, _ := Basics(cfg, time.Date(2026, 11, 25, 10, 0, 0, 0, time.UTC), "fix the zone")
	for _, c := range checks {
		if c.Name == "config valid" && !c.OK {
			t.Errorf("-dry-run status: %+v; want ✓ (DRY_RUN=0 in the file)", c)
		}
	}
}
