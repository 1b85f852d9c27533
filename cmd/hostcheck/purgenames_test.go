package main

import (
	"slices"
	"testing"

	"github.com/pve-op/network-rescue/crontab"
	"github.com/pve-op/network-rescue/internal/install"
	"github.com/pve-op/network-rescue/internal/notify"
	"github.com/pve-op/network-rescue/internal/rescue"
)

// TestPurgeNamesHostFiles: `uninstall --purge` removes by name the files
// of hostcheck's in a STATE_DIR or RUN_DIR not ours alone
// (internal/install's byName, which cannot import this package). A file
// renamed here and not there would be left behind, and the owner would
// read "our files in it are removed" beside it.
func TestPurgeNamesHostFiles(t *testing.T) {
	state := install.PurgedByName(crontab.Host, false)
	run := install.PurgedByName(crontab.Host, true)
	for _, f := range []struct {
		name   string
		runDir bool
	}{
		{rescue.RecordFile, false}, {rescue.UnreadFile, false}, {notify.QueueFile, false}, {FailPendingFile, false}, {ActionsFile, false},
		{"hostcheck.lock", true}, {rescue.UnreadFile, true}, {HeartbeatFile, true}, {NotifySentFile, true}, {NotifyFailingFile, true}, {MetricsFailingFile, true},
	} {
		list := state
		if f.runDir {
			list = run
		}
		if !slices.Contains(list, f.name) {
			t.Errorf("install's purge does not remove %s (run dir %v) by name; its names: %q", f.name, f.runDir, list)
		}
	}
}
