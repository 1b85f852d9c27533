package rescue

import (
	"time"

	"strings"
	"testing"

	"github.com/pve-op/network-rescue/internal/config"
	"github.com/pve-op/network-rescue/internal/ladder"
)

// TestDecideVM: SPEC §13 rule 1 — a VM found stopped while the internet
// is down is started in this run, at most VM_START_MAX a day, recorded
// before acting; a failing qm status means no VM action; a healthy run
// never asks for the VM.
func TestDecideVM(t *testing.T) {
	today := Today(t0)
	vm := func(c *config.Config) { c.VMID = "100" }
	for _, tt := range []struct {
		name       string
		st         State
		obs        Obs
		wantNeed   Need
		wantAction Action
		wantMsg    string
		starts     int
	}{
		{name: "healthy: no qm", obs: Obs{Now: t0, NetKnown: true, NetUp: true}},
		{name: "down: ask for the VM first", obs: Obs{Now: t0, NetKnown: true}, wantNeed: NeedVM},
		{name: "stopped: start it", obs: full(func(o *Obs) { o.VMKnown, o.VM = true, VMStatus{Status: "stopped"} }),
			wantAction: VMStart, wantMsg: "【终极动作】启动已停止的 OpenWrt 虚拟机", starts: 1},
		{name: "stopped after today's cold restart: start it anyway", st: State{VMRestartDate: today, VMStartDate: today, VMStarts: 2},
			obs: full(func(o *Obs) { o.VMKnown, o.VM = true, VMStatus{Status: "stopped"} }), wantAction: VMStart, starts: 3},
		{name: "stopped, VM_START_MAX spent", st: State{VMStartDate: today, VMStarts: 3},
			obs:     full(func(o *Obs) { o.VMKnown, o.VM = true, VMStatus{Status: "stopped"}; o.Router.SOS = false }),
			wantMsg: "VM_START_MAX", starts: 3},
		{name: "yesterday's starts do not count", st: State{VMStartDate: "2026-11-24", VMStarts: 3},
			obs: full(func(o *Obs) { o.VMKnown, o.VM = true, VMStatus{Status: "stopped"} }), wantAction: VMStart, starts: 1},
		{name: "qm status fails: 严重错误, no VM action", obs: full(func(o *Obs) { o.VMKnown, o.VM = true, VMStatus{Err: "exit 2: no such VM"} }),
			wantMsg: "【严重错误】"},
		{name: "paused: resume it", obs: full(func(o *Obs) { o.VMKnown, o.VM = true, VMStatus{Status: "running", QMP: "paused"} }),
			wantAction: VMResume, wantMsg: "【终极动作】恢复已暂停的 OpenWrt 虚拟机 (qm resume)。", starts: 1},
		{name: "stopped on an I/O error: resume it", obs: full(func(o *Obs) { o.VMKnown, o.VM = true, VMStatus{Status: "running", QMP: "io-error"} }),
			wantAction: VMResume, starts: 1},
		{name: "paused, VM_START_MAX spent: the SOS path", st: State{VMStartDate: today, VMStarts: 3},
			obs:     full(func(o *Obs) { o.VMKnown, o.VM = true, VMStatus{Status: "running", QMP: "paused"} }),
			wantMsg: "VM_START_MAX", wantAction: VMRestart, starts: 3},
		{name: "running: the SOS path as before", obs: full(func(o *Obs) { o.VMKnown, o.VM = true, VMStatus{Status: "running", QMP: "running"} }),
			wantAction: VMRestart},
	} {
		t.Run(tt.name, func(t *testing.T) {
			cfg := config.Default(config.Host)
			vm(&cfg)
			s := Decide(cfg, tt.st, tt.obs)
			if s.Need != tt.wantNeed || s.Action != tt.wantAction {
				t.Errorf("Decide = need %v action %v; want %v %v (log: %s)", s.Need, s.Action, tt.wantNeed, tt.wantAction, msgs(s))
			}
			if !strings.Contains(msgs(s), tt.wantMsg) {
				t.Errorf("log %q lacks %q", msgs(s), tt.wantMsg)
			}
			if tt.starts != 0 && (s.Next.VMStarts != tt.starts || s.Next.VMStartDate != today) {
				t.Errorf("starts = %d on %q; want %d today", s.Next.VMStarts, s.Next.VMStartDate, tt.starts)
			}
		})
	}
}

// TestSimulateJointVM: `hostcheck plan` with VM_ID runs the VM stage too
// (the simulated VM runs), so the cold restart still shows in the plan.
func TestSimulateJointVM(t *testing.T) {
	hcfg := config.Default(config.Host)
	hcfg.VMID = "100"
	res := SimulateJoint(config.Default(config.Router), hcfg, t0, ladder.PlanHorizon)
	if res.VMRestart.IsZero() || res.HostReboot.IsZero() {
		t.Errorf("VM restart at %v, host reboot at %v; want both within the plan", res.VMRestart, res.HostReboot)
	}
}

// TestVMStartsAcrossClockSteps: the starts of a day are found again after
// the clock stepped forward over midnight and back (SPEC §6 allows steps of
// up to a day; the property test found the case with one counter).
func TestVMStartsAcrossClockSteps(t *testing.T) {
	cfg := config.Default(config.Host)
	cfg.VMStartMax = 3
	d0 := time.Date(2026, 11, 25, 23, 0, 0, 0, time.UTC)
	d1 := d0.Add(2 * time.Hour)
	var st State
	for i := 0; i < 3; i++ {
		if !VMStartsLeft(cfg, st, d0) {
			t.Fatalf("start %d on %s refused; want allowed", i+1, Today(d0))
		}
		vmStartCount(&st, Today(d0))
		st.VMStarts++
	}
	if VMStartsLeft(cfg, st, d0) {
		t.Fatalf("a 4th start on %s allowed; want VM_START_MAX 3", Today(d0))
	}
	if !VMStartsLeft(cfg, st, d1) {
		t.Fatalf("the first start on %s refused; want allowed", Today(d1))
	}
	*vmStartCount(&st, Today(d1))++
	if VMStartsLeft(cfg, st, d0) {
		t.Errorf("after a start on %s, back on %s: another start allowed; want the 3 of %s remembered (state %+v)", Today(d1), Today(d0), Today(d0), st)
	}
	if VMStartsLeft(cfg, st, d0.AddDate(0, 0, -1)) {
		t.Errorf("a day before both remembered days: start allowed; want spent")
	}
}
