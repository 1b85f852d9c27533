package install

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/pve-op/network-rescue/crontab"
)

// TestRunCommandBackgroundChild: a command that exits 0 but leaves a child
// holding its output (an init script starting a daemon) succeeds; exec's
// WaitDelay only stops the wait for that output. A failing one still fails.
func TestRunCommandBackgroundChild(t *testing.T) {
	out, err := runCommand(context.Background(), nil, "/bin/sh", "-c", "echo started; sleep 3 & echo $!; exit 0")
	if pid, perr := strconv.Atoi(strings.TrimSpace(strings.TrimPrefix(string(out), "started\n"))); perr == nil {
		defer func() { _ = syscall.Kill(pid, syscall.SIGKILL) }() // our own child
		if p, _ := os.FindProcess(pid); p.Signal(syscall.Signal(0)) != nil {
			t.Errorf("the background child %d is gone: runCommand waited for it", pid)
		}
	}
	if err != nil || !strings.HasPrefix(string(out), "started\n") {
		t.Errorf("runCommand = %q, %v; want its output and success", out, err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if _, err := runCommand(ctx, nil, "/bin/sh", "-c", "sleep 3 & exit 1"); err == nil {
		t.Errorf("exit 1 with a background child: success; want the failure")
	}
}

// TestOriginalLoop: only the original host script running is taken for
// its loop (and sent SIGTERM by the migration); a process that merely
// names it is left alone. argv as /proc/PID/cmdline holds it: the
// original's "@reboot /root/pve_host_monitor.sh" runs the script through
// its "#!/bin/bash" line, so the kernel makes argv "/bin/bash
// /root/pve_host_monitor.sh" (execve(2), "Interpreter scripts").
func TestOriginalLoop(t *testing.T) {
	tests := []struct {
		args []string
		want bool
	}{
		{[]string{"/bin/bash", "/root/pve_host_monitor.sh"}, true},
		{[]string{"bash", "-x", "/root/pve_host_monitor.sh"}, true},
		{[]string{"sh", "/root/pve_host_monitor.sh"}, true},
		{[]string{"/bin/sh", "-c", "/root/pve_host_monitor.sh"}, true},
		{[]string{"busybox", "sh", "/root/pve_host_monitor.sh"}, true},
		{[]string{"/root/pve_host_monitor.sh"}, true},
		{[]string{"tail", "-f", "/root/pve_host_monitor.sh"}, false},
		{[]string{"vim", "/root/pve_host_monitor.sh"}, false},
		{[]string{"grep", "pve_host_monitor.sh"}, false},
		{[]string{"sh", "-c", "ps -eo pid,cmd | grep pve_host_monitor.sh"}, false},
		{[]string{"sh", "-c", "tail -f /root/pve_host_monitor.sh"}, false},
		{[]string{"bash", "/root/backup-of-pve_host_monitor.sh"}, false},
		{[]string{"bash", "/root/pve_host_monitor.sh.orig"}, false},
		{[]string{"bash"}, false},
		{nil, false},
	}
	for _, tt := range tests {
		if got := originalLoop(tt.args); got != tt.want {
			t.Errorf("originalLoop(%q) = %v; want %v", tt.args, got, tt.want)
		}
	}
}

// TestProcsArgs: procs splits /proc/PID/cmdline at its NULs, keeping an
// argument with spaces whole.
func TestProcsArgs(t *testing.T) {
	dir := t.TempDir()
	if err := os.MkdirAll(filepath.Join(dir, "42"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "42", "cmdline"), []byte("sh\x00-c\x00tail -f /root/pve_host_monitor.sh\x00"), 0o644); err != nil {
		t.Fatal(err)
	}
	ps, err := procs(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(ps) != 1 || ps[0].PID != 42 || !slices.Equal(ps[0].Args, []string{"sh", "-c", "tail -f /root/pve_host_monitor.sh"}) {
		t.Errorf("procs = %+v; want PID 42 with 3 args", ps)
	}
}

// TestOutputCommandTooLong: what a command prints past the cap is not
// dropped quietly: a crontab read cut at 1 MiB would be written back cut
// (its later lines lost, the last one altered). It is an error; under
// the cap the output comes whole.
func TestOutputCommandTooLong(t *testing.T) {
	long := "i=0; while [ $i -lt 40000 ]; do echo '0 3 * * * /usr/local/bin/backup-job --with-a-long-option'; i=$((i+1)); done; echo LAST"
	out, _, err := outputCommand(context.Background(), "/bin/sh", "-c", long)
	if err == nil || !strings.Contains(err.Error(), "printed more than") {
		t.Errorf("%d bytes, err %v; want the cap named as an error", len(out), err)
	}
	out, _, err = outputCommand(context.Background(), "/bin/sh", "-c", "echo '0 3 * * * job'; echo LAST")
	if err != nil || string(out) != "0 3 * * * job\nLAST\n" {
		t.Errorf("short output: %q, %v", out, err)
	}
}

// TestCrontabTooLong: a root crontab over the read cap stops the install
// in a few words: it was read cut (and would have been written back cut),
// then the error quoted the whole 1 MiB as what crontab -l said.
func TestCrontabTooLong(t *testing.T) {
	in := &installer{role: crontab.Host, env: Env{
		LookPath: func(string) (string, error) { return "/usr/bin/crontab", nil },
		Getenv:   func(string) string { return "" },
		Output: func(ctx context.Context, name string, args ...string) ([]byte, []byte, error) {
			return outputCommand(ctx, "/bin/sh", "-c", "i=0; while [ $i -lt 40000 ]; do echo '0 3 * * * /usr/local/bin/job --with-a-long-option'; i=$((i+1)); done")
		},
	}}
	_, err := in.crontabList(context.Background())
	if err == nil || !strings.Contains(err.Error(), "root's crontab is over 1048576 bytes") || len(err.Error()) > 400 {
		t.Fatalf("crontabList = %.300v (%d bytes); want the crontab's size named, in a few words", err, len(fmt.Sprint(err)))
	}
}
