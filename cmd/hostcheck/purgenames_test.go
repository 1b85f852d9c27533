package main

import (
	"slices"
	"testing"

	"github.com/pve-op/network-rescue/crontab"
	"github.com/pve-op/network-rescue/internal/install"
	"github.com/pve-op/network-rescue/internal/notify"
	"github.com/pve-op/network-rescue/internal/rescue"
)

// TestPurgeNamesHostFiles: `uninstall --purge` names the files of
// hostcheck's that it leaves in a STATE_DIR or RUN_DIR not ours alone
// (internal/install's leftBehind, which cannot import this package). A
// file renamed here and not there would be left unsaid: the owner would
// read "our files in it are removed" beside it.
func TestPurgeNamesHostFiles(t *testing.T) {
	state := install.LeftBehind(crontab.Host, false)
	run := install.LeftBehind(crontab.Host, true)
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
			t.Errorf("install's purge does not name %s (run dir %v) among hostcheck's files it leaves: %q", f.name, f.runDir, list)
		}
	}
}
