package main

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/ssh"

	"github.com/pve-op/network-rescue/internal/assist"
	"github.com/pve-op/network-rescue/internal/remote"
	"github.com/pve-op/network-rescue/internal/rescue"
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

// TestLANVMRestartTellsRouter: the router VM's cold restart for a LAN
// fault (the router answering SSH) is the host's rescue, as the one for
// SOS is: net_rescued_by=vm is written on the router before qm stop, so
// that its 【启动】 names the boot reboot=vm. It wrote nothing, and the
// router's first run logged reboot=other, "none of ours: a power cut, a
// reboot by hand", for every LAN-fault cold restart.
func TestLANVMRestartTellsRouter(t *testing.T) {
	h, _, _ := lanAssistHost(t)
	var ran []string
	h.e.Exec = signalDuring("never", func() {}, &ran)
	h.cfg.VMID = "100"
	var router []string
	fakeRouter(t, h, func(cmd string, ch ssh.Channel) int {
		router = append(router, cmd)
		return 0
	})
	store := h.store()
	now := testNow.In(h.loc)
	st := rescue.State{LANFault: rescue.LANPath, LANSeen: 2, LANSteps: "network", DownSince: now.Add(-10 * time.Minute)}
	obs := rescue.Obs{Now: now, Uptime: 24 * time.Hour, BootID: "boot", NetKnown: true, NetDetail: "all down",
		VMKnown: true, VM: rescue.VMStatus{Status: "running", QMP: "running"},
		RouterKnown: true, Router: rescue.Router{SelfKnown: true, SelfUp: true, Count: "0"}, GuardsKnown: true}
	step := rescue.Decide(h.cfg, st, obs)
	if step.Action != rescue.VMRestart {
		t.Fatalf("setup: %v; want the VM's cold restart (%s)", step.Action, msgs(step))
	}
	if err := store.Save(st, step.Next); err != nil {
		t.Fatal(err)
	}
	h.carryOut(context.Background(), store, st, obs, step, remote.RouterState{})
	if !strings.Contains(strings.Join(ran, "; "), "qm start 100") {
		t.Fatalf("qm commands %q; want the cold restart", ran)
	}
	told := false
	for _, c := range router {
		told = told || strings.Contains(c, "net_rescued_by") && strings.Contains(c, "vm")
	}
	if !told {
		t.Errorf("the router was sent %q; want net_rescued_by=vm before the LAN fault's cold restart (its 【启动】 says reboot=other)", router)
	}
}
