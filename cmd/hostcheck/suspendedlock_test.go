package main

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/pve-op/network-rescue/internal/command"
	"github.com/pve-op/network-rescue/internal/probe"
)

// TestResumeRefusedSuspendedLockCounted: a paused router VM whose config
// holds the lock "suspended" (qm suspend --todisk whose QEMU did not
// quit). hostcheck does not wait on that lock (rescue's lockHolds: qm
// start resumes it), so it takes rule 2's qm resume, which qemu-server
// refuses for as long as the lock stands (src/PVE/QemuServer/RunState.pm
// vm_resume: check_lock unless the lock is backup): "VM is locked
// (suspended)". Given back as a lock refusal (3233dad), it was tried
// every five minutes with nothing else ever taken. Counted, VM_START_MAX
// resumes lead to the day's cold restart (rule 5). Every command is
// recorded by the fake Exec.
func TestResumeRefusedSuspendedLockCounted(t *testing.T) {
	confirm := vmStartConfirm
	vmStartConfirm = 0
	t.Cleanup(func() { vmStartConfirm = confirm })
	at := time.Date(2026, 11, 25, 10, 0, 0, 0, time.UTC)
	var ran []string
	stopped := false
	h := testHost(t, func(_ context.Context, cmdline string, _ time.Duration) command.Result {
		ran = append(ran, cmdline)
		r := command.Result{Cmd: cmdline}
		switch {
		case strings.HasSuffix(cmdline, "qm status 100 --verbose") && stopped:
			r.Stdout = "name: openwrt\nqmpstatus: stopped\nstatus: stopped\nvmid: 100\n"
		case strings.HasSuffix(cmdline, "qm status 100 --verbose"):
			r.Stdout = "lock: suspended\nname: openwrt\nqmpstatus: paused\nstatus: running\nvmid: 100\n"
		case strings.HasSuffix(cmdline, "qm config 100"):
			r.Stdout = "lock: suspended\nname: openwrt\nonboot: 1\n"
		case strings.HasSuffix(cmdline, "qm resume 100"):
			r.Err, r.ExitCode, r.Stderr = errors.New("exit status 255"), 255, "VM is locked (suspended)"
		case strings.Contains(cmdline, "qm stop 100"):
			stopped = true
		}
		return r
	})
	_, log := checkable(t, h)
	h.e.Now = func() time.Time { return at }
	h.e.Probe = func(context.Context, probe.Config) probe.Result { return probe.Result{Up: false} }
	resumes, restarted := 0, ""
	for run := 0; run < 12 && restarted == ""; run++ { // an hour at most
		log.Reset()
		ran = nil
		_ = h.check(context.Background())
		for _, c := range ran {
			switch {
			case strings.HasSuffix(c, "qm resume 100"):
				resumes++
			case strings.Contains(c, "qm stop 100"):
				restarted = at.Format("15:04")
			}
		}
		if strings.Contains(log.String(), "不计启动次数") {
			t.Errorf("%s: a suspended lock's refusal given back:\n%s", at.Format("15:04"), log)
		}
		at = at.Add(5 * time.Minute)
	}
	if resumes != 3 || restarted != "10:15" {
		t.Errorf("qm resume refused for the lock suspended: %d resumes, the cold restart at %q; want VM_START_MAX (3) resumes counted, then the cold restart at 10:15", resumes, restarted)
	}
}
