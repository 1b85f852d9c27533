package main

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/pve-op/network-rescue/internal/command"
	"github.com/pve-op/network-rescue/internal/health"
	"github.com/pve-op/network-rescue/internal/notify"
	"github.com/pve-op/network-rescue/internal/probe"
	"github.com/pve-op/network-rescue/internal/rescue"
)

// TestRefusedStartsNotSpent: a cluster node whose corosync is down.
// `pvecm status` fails (it execs corosync-quorumtool -siH: pve-cluster
// src/PVE/CLI/pvecm.pm), so no Obs.NoQuorum holds the router VM's start,
// and `qm start` refuses with pve-cluster src/PVE/Cluster.pm
// check_cfs_quorum's "cluster not ready - no quorum?" (called by
// qemu-server src/PVE/API2/Qemu.pm vm_start; see qm.TestClassifyRefusal).
// Each refusal used to spend one of the day's VM_START_MAX (the host's
// reboot waited, held by the unread quorum); the quorum back that day
// found them spent and took rule 5's host reboot. Now five runs try and
// are refused, each start given back (【推迟】, no 未能运行 told), status
// shows the day's starts unspent, no reboot or cold restart comes, and
// when the quorum is back later that day the run starts the VM, counted,
// where it rebooted the host.
// Every command is recorded by the fake Exec: no qm, pvecm or reboot
// runs.
func TestRefusedStartsNotSpent(t *testing.T) {
	lab := newRefusingLab(t)
	h, log, now := lab.h, lab.log, lab.now
	lab.pvecmFails = true
	for run := range 5 {
		lab.ran = nil
		log.Reset()
		if err := h.check(context.Background()); err != nil {
			t.Fatalf("%s: check = %v\n%s", now().Format("15:04"), err, log)
		}
		ran := lab.ran
		if !slices.Contains(ran, "/usr/sbin/qm start 100") {
			t.Errorf("run %d: commands %q; want qm start tried\n%s", run, ran, log)
		}
		for _, c := range ran {
			if strings.Contains(c, "reboot") || strings.Contains(c, "qm stop") {
				t.Errorf("run %d: %q ran; want no host reboot or cold restart", run, c)
			}
		}
		if !strings.Contains(log.String(), "【推迟】qm start 被拒绝 (集群没有法定票数)") || !strings.Contains(log.String(), "本次不计启动次数") {
			t.Errorf("run %d: log lacks the 【推迟】 of the refused start:\n%s", run, log)
		}
		st, _ := h.store().Load(time.UTC)
		if st.VMStarts != 0 || st.VMStartUnproven != "" {
			t.Errorf("run %d: vm_starts %d, vm_start_unproven %q; want 0 and none (refused, not counted)", run, st.VMStarts, st.VMStartUnproven)
		}
		lab.at = lab.at.Add(5 * time.Minute)
	}
	msgs, _ := h.queue().Load()
	for _, m := range msgs {
		if strings.Contains(m.Text, "未能运行") {
			t.Errorf("queued %q: a refusal told as a VM that failed to run", m.Text)
		}
	}
	told := map[string]int{}
	for _, m := range msgs {
		told[m.Event]++
	}
	if !slices.ContainsFunc(msgs, func(m notify.Message) bool {
		return m.Event == "vm-start-refused" && strings.Contains(m.Text, "集群没有法定票数")
	}) || told["vm-start-refused"] != 1 || told["vm-start"] != 0 {
		// Five runs, each "正在启动" then refused: the queue (at most
		// notify.MaxQueued) filled with the same two lines.
		t.Errorf("queue %+v; want the refusal told once, in place of the runs' 正在启动", msgs)
	}
	st, _ := h.store().Load(time.UTC)
	var checks strings.Builder
	health.Render(&checks, h.vmChecks(context.Background(), st, now()))
	if !strings.Contains(checks.String(), "0 of VM_START_MAX 3") || strings.Contains(checks.String(), "spent") {
		t.Errorf("status:\n%s\nwant the day's starts unspent (0 of VM_START_MAX 3)", checks.String())
	}
	// Corosync and the quorum back: the start works, and is taken (three
	// nodes: the host's reboot would not be held by the quorum).
	lab.pvecmFails, lab.refuse = false, false
	lab.ran = nil
	log.Reset()
	if err := h.check(context.Background()); err != nil {
		t.Fatalf("check = %v\n%s", err, log)
	}
	ran := lab.ran
	if !slices.Contains(ran, "/usr/sbin/qm start 100") || !strings.Contains(log.String(), "【确认】路由虚拟机已在运行") {
		t.Errorf("quorum back: commands %q; want the VM started and confirmed\n%s", ran, log)
	}
	for _, c := range ran {
		if strings.Contains(c, "reboot") || strings.Contains(c, "qm stop") {
			t.Errorf("quorum back: %q ran; want the start, no host reboot or cold restart", c)
		}
	}
	if st, _ := h.store().Load(time.UTC); st.VMStarts != 1 {
		t.Errorf("quorum back: vm_starts %d; want 1 (the start that ran)", st.VMStarts)
	}
	// The start that ran is told: a refusal waiting in the queue held
	// back every "正在启动" after it (b0f78a0), and the owner never heard
	// of the counted starts.
	if msgs, _ := h.queue().Load(); !slices.ContainsFunc(msgs, func(m notify.Message) bool {
		return m.Event == "vm-start" && strings.Contains(m.Text, "正在启动")
	}) {
		t.Errorf("quorum back: queue %+v; want the start told (正在启动)", msgs)
	}
}

// TestRefusedPmxcfsCounted: qm start answers "cluster not ready - no
// quorum?" while pvecm status says the cluster is quorate: pmxcfs's own
// view of the quorum is lost (restarting pve-cluster or the host mends
// it). Given back, as a refusal for a quorum that pvecm could not read
// is, the start was tried every five minutes all day and the host's
// reboot never came; counted, VM_START_MAX starts fail and rule 5
// reboots the host.
func TestRefusedPmxcfsCounted(t *testing.T) {
	lab := newRefusingLab(t)
	h, log := lab.h, lab.log
	for run := range 4 {
		lab.ran = nil
		log.Reset()
		// The fourth run's reboot commands are recorders: "host did not
		// reboot" is the recorder's doing.
		if err := h.check(context.Background()); err != nil && run < 3 {
			t.Fatalf("run %d: check = %v\n%s", run, err, log)
		}
		st, _ := h.store().Load(time.UTC)
		if run < 3 {
			if st.VMStarts != run+1 || !strings.Contains(log.String(), "【严重错误】qm start 被拒绝 (集群没有法定票数)，但本次未见集群缺少法定票数") {
				t.Errorf("run %d: vm_starts %d; want %d, with the 【严重错误】 naming pmxcfs\n%s", run, st.VMStarts, run+1, log)
			}
		} else if !slices.ContainsFunc(lab.ran, func(c string) bool { return strings.Contains(c, "reboot") }) {
			t.Errorf("run %d: commands %q; want the host's reboot after VM_START_MAX refused starts\n%s", run, lab.ran, log)
		}
		lab.at = lab.at.Add(5 * time.Minute)
	}
}

// refusingLab is a three-node cluster's host whose router VM is stopped
// and whose qm start refuses with pve-cluster's "cluster not ready - no
// quorum?" while refuse is set; pvecm status fails while pvecmFails is
// set (corosync down), else says quorate. Every command is recorded by
// the fake Exec (ran): no qm, pvecm or reboot runs.
type refusingLab struct {
	h                  *host
	log                *strings.Builder
	at                 time.Time
	ran                []string
	pvecmFails, refuse bool
	running            bool
}

func (l *refusingLab) now() time.Time { return l.at }

func newRefusingLab(t *testing.T) *refusingLab {
	t.Helper()
	confirm := vmStartConfirm
	vmStartConfirm = 0
	t.Cleanup(func() { vmStartConfirm = confirm })
	lab := &refusingLab{at: time.Date(2026, 11, 25, 10, 0, 0, 0, time.UTC), refuse: true}
	lab.h = testHost(t, func(_ context.Context, cmdline string, _ time.Duration) command.Result {
		lab.ran = append(lab.ran, cmdline)
		r := command.Result{Cmd: cmdline}
		switch {
		case strings.HasSuffix(cmdline, "qm status 100 --verbose") && lab.running:
			r.Stdout = "name: openwrt\nqmpstatus: running\nstatus: running\nvmid: 100\n"
		case strings.HasSuffix(cmdline, "qm status 100 --verbose"):
			r.Stdout = "name: openwrt\nqmpstatus: stopped\nstatus: stopped\nvmid: 100\n"
		case strings.HasSuffix(cmdline, "qm config 100"):
			r.Stdout = "name: openwrt\nonboot: 1\n"
		case strings.HasSuffix(cmdline, "pvecm status") && lab.pvecmFails:
			r.Err, r.ExitCode, r.Stderr = errors.New("exit status 1"), 1, "Cannot initialize QUORUM service"
		case strings.HasSuffix(cmdline, "pvecm status"):
			r.Stdout = pvecmStatus(3, 2)
		case strings.HasSuffix(cmdline, "qm start 100") && lab.refuse:
			r.Err, r.ExitCode, r.Stderr = errors.New("exit status 255"), 255, "cluster not ready - no quorum?"
		case strings.HasSuffix(cmdline, "qm start 100"):
			lab.running = true
		}
		return r
	})
	dir, log := checkable(t, lab.h)
	lab.log = log
	lab.h.e.Now = lab.now
	lab.h.e.Probe = func(context.Context, probe.Config) probe.Result { return probe.Result{Up: false} }
	conf := filepath.Join(dir, "corosync.conf")
	if err := os.WriteFile(conf, []byte(corosyncConf("pve", "pve2", "pve3")), 0o644); err != nil {
		t.Fatal(err)
	}
	lab.h.corosync, lab.h.vzdumpLock, lab.h.procRoot = []string{conf}, filepath.Join(dir, "no-lock"), t.TempDir()
	lab.h.cfg.NotifyURL = "http://127.0.0.1:9/push" // queued only: the internet is down
	return lab
}

// TestDrillLiveRefusalGivenBack: `hostcheck drill -live` decides as a
// cron run does (decide observes the guards) and carries the step out
// with drillCarry's observation. It carried it out with the basic one,
// without the guards: with pvecm failing (corosync down) a qm start
// refused for "no quorum" was counted, and its 【严重错误】 blamed pmxcfs,
// where a cron run gives it back.
func TestDrillLiveRefusalGivenBack(t *testing.T) {
	lab := newRefusingLab(t)
	h, log := lab.h, lab.log
	lab.pvecmFails = true
	ctx := context.Background()
	st, _ := h.realStore().Load(h.loc)
	obs := h.observeBasics()
	obs.NetKnown, obs.NetUp, obs.NetDetail = true, false, "drill: internet pretended down"
	step, rs, seen := h.decide(ctx, st, obs)
	if step.Action != rescue.VMStart || !seen.QuorumUnknown {
		t.Fatalf("decide = %v, quorum unknown %v; want a start with pvecm failing\n%s", step.Action, seen.QuorumUnknown, log)
	}
	store := h.store()
	if err := store.Save(st, step.Next); err != nil {
		t.Fatal(err)
	}
	if err := h.carryOut(ctx, store, st, drillCarry(obs, seen), step, rs); err != nil {
		t.Fatal(err)
	}
	if after, _ := store.Load(time.UTC); after.VMStarts != 0 || strings.Contains(log.String(), "pmxcfs") {
		t.Errorf("drill -live, pvecm failing: vm_starts %d; want 0 (given back as a cron run does), no pmxcfs blamed\n%s", after.VMStarts, log)
	}
}

// TestStartToldWhenQmAnswered: the owner's "正在启动" is queued once qm
// start has answered, before the wait for the VM to run (up to
// VMStartConfirm): queued only after that wait, a run killed in it (timeout
// -s KILL around the cron line, a host that hangs as the VM starts) left
// a start counted and never told.
func TestStartToldWhenQmAnswered(t *testing.T) {
	lab := newRefusingLab(t)
	h, log := lab.h, lab.log
	lab.refuse = false
	exec := h.e.Exec
	started, polled := false, false
	var queued []notify.Message
	h.e.Exec = func(ctx context.Context, cmdline string, d time.Duration) command.Result {
		switch {
		case cmdline == "/usr/sbin/qm start 100":
			started = true
		case started && !polled && strings.HasSuffix(cmdline, "qm status 100 --verbose"):
			polled = true // vmConfirm's first poll
			queued, _ = h.queue().Load()
		}
		return exec(ctx, cmdline, d)
	}
	if err := h.check(context.Background()); err != nil {
		t.Fatalf("check = %v\n%s", err, log)
	}
	if !polled || !slices.ContainsFunc(queued, func(m notify.Message) bool { return m.Event == "vm-start" && strings.Contains(m.Text, "正在启动") }) {
		t.Errorf("queue when the wait for the VM began (polled %v): %+v; want 正在启动 queued", polled, queued)
	}
}
