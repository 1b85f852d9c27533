package main

import (
	"strings"
	"testing"
	"time"

	"github.com/pve-op/network-rescue/internal/rescue"
)

// TestNotifyStepVM: the VM's own steps are told to the owner as their own
// events (SPEC §9, §13): the queue in STATE_DIR holds vm-start, vm-resume
// and vm-restart messages naming the VM.
func TestNotifyStepVM(t *testing.T) {
	for _, tt := range []struct {
		action rescue.Action
		event  string
	}{
		{rescue.VMStart, "vm-start"},
		{rescue.VMResume, "vm-resume"},
		{rescue.VMRestart, "vm-restart"},
	} {
		t.Run(tt.event, func(t *testing.T) {
			h := testHost(t, nil)
			h.cfg.StateDir, h.cfg.NotifyURL = t.TempDir(), "http://127.0.0.1:9/push"
			obs := rescue.Obs{Now: time.Now(), NetKnown: true}
			h.notifyStep(rescue.State{}, obs, rescue.Step{Action: tt.action})
			msgs, err := h.queue().Load()
			if err != nil || len(msgs) != 1 || msgs[0].Event != tt.event {
				t.Fatalf("queue = %+v, %v; want one %s message", msgs, err, tt.event)
			}
			if !strings.Contains(msgs[0].Text, "100") {
				t.Errorf("message %q does not name VM 100", msgs[0].Text)
			}
		})
	}
}
