package testlab

import (
	"bytes"
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/pve-op/network-rescue/internal/qm"
)

type qmRun struct {
	stdout, stderr string
	code           int
}

func runQM(t *testing.T, q *FakeQM, args ...string) qmRun {
	t.Helper()
	cmd := exec.Command(q.Path, args...)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	code := 0
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatalf("run fake qm %v: %v", args, err)
	}
	return qmRun{out.String(), errb.String(), code}
}

// TestFakeQMRoundTrip checks the fake against the parsers of internal/qm
// (whose tests cite proxmox/qemu-server) under dash and busybox ash.
func TestFakeQMRoundTrip(t *testing.T) {
	for _, shell := range []string{"/usr/bin/dash", "/usr/bin/busybox ash"} {
		t.Run(filepath.Base(strings.Fields(shell)[0]), func(t *testing.T) {
			if _, err := os.Stat(strings.Fields(shell)[0]); err != nil {
				t.Skipf("%s missing: %v", shell, err)
			}
			q, err := NewFakeQM(t.TempDir(), "100", shell)
			if err != nil {
				t.Fatal(err)
			}
			marker := filepath.Join(q.Dir, "lan-up")
			if err := q.SetHook("start", "touch '"+marker+"'"); err != nil {
				t.Fatal(err)
			}
			if err := q.SetHook("stop", "rm -f '"+marker+"'"); err != nil {
				t.Fatal(err)
			}

			st := runQM(t, q, "status", "100", "--verbose")
			s, err := qm.ParseStatus(st.stdout)
			if err != nil || st.code != 0 || s.Status != "stopped" || s.QMPStatus != "stopped" {
				t.Fatalf("status --verbose = %+v, %v, %+v; want stopped/stopped exit 0", s, err, st)
			}
			if r := runQM(t, q, "guest", "cmd", "100", "ping"); qm.ClassifyPing(r.code, r.stderr, false) != qm.PingNotRunning {
				t.Errorf("ping of stopped VM = %+v; want not running", r)
			}
			if r := runQM(t, q, "resume", "100"); r.code != 255 || r.stderr != "VM 100 not running\n" {
				t.Errorf("resume of stopped VM = %+v; want exit 255 \"VM 100 not running\"", r)
			}
			if r := runQM(t, q, "start", "100"); r.code != 0 {
				t.Fatalf("start = %+v; want exit 0", r)
			}
			if _, err := os.Stat(marker); err != nil {
				t.Errorf("start hook did not run: %v", err)
			}
			if r := runQM(t, q, "start", "100"); r.code != 255 || r.stderr != "VM 100 already running\n" {
				t.Errorf("start of running VM = %+v; want exit 255 \"VM 100 already running\"", r)
			}
			if r := runQM(t, q, "guest", "cmd", "100", "ping"); r.code != 0 || qm.ClassifyPing(r.code, r.stderr, false) != qm.PingAnswers {
				t.Errorf("ping = %+v; want answers", r)
			}
			_ = q.Set("agent_answers", "no")
			if r := runQM(t, q, "guest", "cmd", "100", "ping"); qm.ClassifyPing(r.code, r.stderr, false) != qm.PingNoAnswer {
				t.Errorf("ping of silent agent = %+v; want no answer", r)
			}
			_ = q.Unset("agent")
			if r := runQM(t, q, "guest", "cmd", "100", "ping"); qm.ClassifyPing(r.code, r.stderr, false) != qm.PingNotConfigured {
				t.Errorf("ping without agent = %+v; want not configured", r)
			}

			_ = q.Set("agent", "enabled=1,fstrim_cloned_disks=1")
			_ = q.Set("hostpci", "hostpci0: 0000:01:00.0,pcie=1")
			_ = q.Set("lock", "backup")
			_ = q.Set("qmpstatus", "paused")
			_ = q.Set("onboot", "1")
			c, err := qm.ParseConfig(runQM(t, q, "config", "100").stdout)
			if err != nil || !c.AgentEnabled || c.Lock != "backup" || !reflect.DeepEqual(c.HostPCI, []string{"hostpci0"}) || !c.OnBoot {
				t.Errorf("config = %+v, %v; want agent on, lock backup, hostpci0, onboot", c, err)
			}
			s, err = qm.ParseStatus(runQM(t, q, "status", "100", "--verbose").stdout)
			if err != nil || !s.Paused() || s.Lock != "backup" {
				t.Errorf("status --verbose = %+v, %v; want paused, lock backup", s, err)
			}
			if s, err := qm.ParseStatus(runQM(t, q, "status", "100").stdout); err != nil || !s.Paused() {
				t.Errorf("short status = %+v, %v; want paused", s, err)
			}
			if r := runQM(t, q, "stop", "100", "--timeout", "30"); r.code != 255 || r.stderr != "VM is locked (backup)\n" {
				t.Errorf("stop of locked VM = %+v; want exit 255 \"VM is locked (backup)\"", r)
			}
			if r := runQM(t, q, "resume", "100"); r.code != 0 || q.Get("qmpstatus") != "running" {
				t.Errorf("resume during backup = %+v, qmpstatus %s; want exit 0, running", r, q.Get("qmpstatus"))
			}
			_ = q.Unset("lock")
			if r := runQM(t, q, "stop", "100", "--timeout", "30"); r.code != 0 || q.Get("status") != "stopped" {
				t.Errorf("stop = %+v; want exit 0, stopped", r)
			}
			if _, err := os.Stat(marker); !os.IsNotExist(err) {
				t.Errorf("stop hook did not remove %s: %v", marker, err)
			}
			if r := runQM(t, q, "stop", "100"); r.code != 0 || r.stdout+r.stderr != "" {
				t.Errorf("stop of stopped VM = %+v; want silent exit 0", r)
			}
			_ = q.Set("fail_starts", "1")
			if r := runQM(t, q, "start", "100"); r.code != 255 || !strings.HasPrefix(r.stderr, "start failed: ") || q.Get("status") != "stopped" {
				t.Errorf("failing start = %+v; want exit 255 \"start failed: …\", stopped", r)
			}
			if r := runQM(t, q, "start", "100"); r.code != 0 || q.Get("status") != "running" {
				t.Errorf("start after one failure = %+v; want exit 0, running", r)
			}
			if r := runQM(t, q, "status", "999"); r.code == 0 || !strings.Contains(r.stderr, "999.conf' does not exist") {
				t.Errorf("status of unknown VM = %+v; want failure", r)
			}
			if got, want := q.Get("starts")+"/"+q.Get("stops")+"/"+q.Get("resumes"), "3/1/1"; got != want {
				t.Errorf("counters starts/stops/resumes = %s; want %s", got, want)
			}
			calls := q.Calls()
			if len(calls) != 18 || calls[0] != "status 100 --verbose" || calls[len(calls)-1] != "status 999" {
				t.Errorf("calls.log = %q; want 18 calls from \"status 100 --verbose\" to \"status 999\"", calls)
			}
		})
	}
}

// TestFakeQMStopHangs: an injected hanging stop blocks until the caller's
// deadline kills it, and the VM stays running (what a hostcheck bound sees).
func TestFakeQMStopHangs(t *testing.T) {
	q, err := NewFakeQM(t.TempDir(), "100", "")
	if err != nil {
		t.Fatal(err)
	}
	_ = q.Set("status", "running")
	_ = q.Set("qmpstatus", "running")
	_ = q.Set("stop_hangs", "1")
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	err = exec.CommandContext(ctx, q.Path, "stop", "100", "--timeout", "30").Run()
	if err == nil || ctx.Err() == nil {
		t.Fatalf("hanging stop returned %v before the deadline; want killed at the deadline", err)
	}
	if q.Get("status") != "running" || q.Get("stops") != "1" {
		t.Errorf("after a killed stop: status %s, stops %s; want running, 1", q.Get("status"), q.Get("stops"))
	}
}
