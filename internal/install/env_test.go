package install

import (
	"context"
	"os"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
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
