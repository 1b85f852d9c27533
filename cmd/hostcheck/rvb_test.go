package main

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	"golang.org/x/crypto/ssh"

	"github.com/pve-op/network-rescue/internal/assist"
)

// TestLANAssistRefusedNotTold: a LAN step the router refuses for now (its
// maintenance pause, a cooling, a just-booted router, a run holding its
// lock) ran nothing: it is taken off the steps done and asked again at the
// next run. Told as an assist, ON_EVENT_CMD heard "assist" and the owner
// was queued "已请求 OpenWrt 执行 …" at every run of the fault (for a
// router paused for days, every five minutes) for a step that never ran.
func TestLANAssistRefusedNotTold(t *testing.T) {
	for _, tc := range []struct {
		why, done string
		step      assist.Step
	}{
		{assist.WhyPause, "", assist.Network},
		{assist.WhyBusy, "", assist.Network},
		{assist.WhyCooling, "network", assist.Reboot},
		{assist.WhySafeUptime, "network", assist.Reboot},
	} {
		why := tc.why
		t.Run(why, func(t *testing.T) {
			h, log, events := lanAssistHost(t)
			fakeRouter(t, h, func(cmd string, ch ssh.Channel) int {
				r := assist.Result{Step: tc.step, Outcome: assist.Refused, Why: why, Detail: "not now"}
				fmt.Fprintln(ch, r.Line())
				return r.ExitCode()
			})
			got := askLANStep(t, h, tc.done, 0, tc.step)
			if got.LANSteps != tc.done {
				t.Fatalf("lan_steps = %q after a refusal (%s); want the step not taken", got.LANSteps, why)
			}
			if !strings.Contains(log.String(), "【LAN】-> OpenWrt 拒绝执行。") {
				t.Errorf("log lacks the refusal:\n%s", log)
			}
			if slices.Contains(*events, "assist") {
				t.Errorf("ON_EVENT_CMD heard %q; want no assist for a step the router refused (%s)", *events, why)
			}
			queued, _ := h.queue().Load()
			for _, m := range queued {
				if m.Event == "assist" {
					t.Errorf("the owner is told %q; want no assist for a step the router refused (%s)", m.Text, why)
				}
			}
		})
	}
}
