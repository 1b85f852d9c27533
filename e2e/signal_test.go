package e2e

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestRouterSignalDuringL1: a SIGTERM to netcheck (cron or a shutdown
// ending it), a Ctrl-C on the terminal (SIGINT to its whole process
// group) or a hang-up (SIGHUP to it) while L1 runs must not leave the WAN down: the action, in its
// own process group, runs to completion within its bound, then the run
// exits (SPEC §15, issue 9 item 12). The L1 recorder does what the real
// L1 does in the window that matters: "down", a pause, "up".
func TestRouterSignalDuringL1(t *testing.T) {
	needRoot(t)
	for _, tc := range []struct {
		name  string
		sig   syscall.Signal
		group bool // to the process group, as a terminal sends Ctrl-C
	}{{"SIGTERM", syscall.SIGTERM, false}, {"SIGINT to the group", syscall.SIGINT, true},
		// A by-hand run whose SSH session drops (over the very WAN that
		// L1 takes down): the terminal's SIGHUP killed netcheck, and the
		// action died at its next write to netcheck's pipe, before "up".
		{"SIGHUP to the group", syscall.SIGHUP, true}} {
		t.Run(tc.name, func(t *testing.T) {
			// An empty namespace (lo only, no route): the probe of a
			// documentation address fails at once and nothing leaves the machine.
			ns := netns(t, fmt.Sprintf("nrC%d%s", os.Getpid(), tc.sig))
			dir := t.TempDir()
			rec := filepath.Join(dir, "wan.rec")
			l1 := filepath.Join(dir, "L1")
			if err := os.WriteFile(l1, []byte(fmt.Sprintf("#!/bin/sh\necho down >> '%s'\nsleep 1\necho 'ifup: bringing up wan'\necho up >> '%s'\n", rec, rec)), 0o755); err != nil {
				t.Fatal(err)
			}
			conf := filepath.Join(dir, "netrescue.conf")
			log := filepath.Join(dir, "net.log")
			writeConf(t, conf, "CHECK_TARGETS=203.0.113.1", "PROBE_TIMEOUT=300ms",
				"STATE_DIR="+filepath.Join(dir, "state"), "RUN_DIR="+filepath.Join(dir, "run"),
				"LOG_FILE="+log, "SYSLOG=0", "L1_THRESHOLD=1", "L2_THRESHOLD=2", "L3_THRESHOLD=3",
				"L1_CMD="+l1, "L2_CMD="+recorder(t, dir, "L2", filepath.Join(dir, "actions"), ""),
				"L3_CMD="+recorder(t, dir, "L3", filepath.Join(dir, "actions"), ""))

			// ip netns exec execs netcheck itself: the PID is netcheck's.
			cmd := exec.Command("ip", "netns", "exec", ns, bin(t, "netcheck"), "-config", conf)
			cmd.Env = append(os.Environ(), "TZ=UTC0")
			cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
			var stderr strings.Builder
			cmd.Stderr = &stderr
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			done := make(chan error, 1)
			go func() { done <- cmd.Wait() }()
			t.Cleanup(func() {
				if cmd.ProcessState == nil {
					cmd.Process.Kill()
					<-done
				}
			})
			deadline := time.Now().Add(10 * time.Second)
			for !strings.Contains(readFile(t, rec), "down") {
				if time.Now().After(deadline) {
					t.Fatalf("L1 never started; log:\n%s\nstderr: %s", readFile(t, log), stderr.String())
				}
				time.Sleep(20 * time.Millisecond)
			}
			target := cmd.Process.Pid
			if tc.group {
				target = -target
			}
			if err := syscall.Kill(target, tc.sig); err != nil {
				t.Fatal(err)
			}
			start := time.Now()
			select {
			case <-done:
			case <-time.After(10 * time.Second):
				t.Fatalf("netcheck still running 10 s after %s", tc.sig)
			}
			if got := strings.Fields(readFile(t, rec)); strings.Join(got, " ") != "down up" {
				t.Errorf("after %s during L1 the recorder shows %q; want \"down up\" (the WAN left down)", tc.sig, got)
			}
			if waited := time.Since(start); waited > 5*time.Second {
				t.Errorf("netcheck took %v to exit after L1 ended", waited)
			}
			if l := readFile(t, log); !strings.Contains(l, "-> [成功]") {
				t.Errorf("log lacks L1's -> [成功]:\n%s", l)
			}
		})
	}
}

// TestRouterSignalDuringProbe: netcheck installs no signal handler until
// it decides to act (SPEC §12), so a SIGTERM while the probe waits for a
// reply that never comes kills it by the signal: nothing is written to
// STATE_DIR, RUN_DIR or the log, and no action runs, although this run
// would have reached L1 (SPEC §15: state is persisted only after the probe).
func TestRouterSignalDuringProbe(t *testing.T) {
	needRoot(t)
	// A black hole: "the internet" is on the namespace's lo and nftables
	// drops every packet arriving for it (silently, unlike an output drop), so the probe waits PROBE_TIMEOUT for
	// replies that never come.
	ns := netns(t, fmt.Sprintf("nrG%dprobe", os.Getpid()))
	sh(t, "ip", "-n", ns, "addr", "add", "203.0.113.1/32", "dev", "lo")
	nft(t, ns, "add table inet bh\nadd chain inet bh in { type filter hook input priority 0; policy accept; }\nadd rule inet bh in ip daddr 203.0.113.1 drop\n")
	dir := t.TempDir()
	stateDir, runDir, log, actions := filepath.Join(dir, "state"), filepath.Join(dir, "run"), filepath.Join(dir, "net.log"), filepath.Join(dir, "actions")
	lines := func(timeout string) []string {
		return []string{"CHECK_TARGETS=203.0.113.1", "CHECK_TCP=", "PROBE_TIMEOUT=" + timeout,
			"STATE_DIR=" + stateDir, "RUN_DIR=" + runDir, "LOG_FILE=" + log, "SYSLOG=0", "SAFE_UPTIME=0",
			"L1_THRESHOLD=2", "L2_THRESHOLD=3", "L3_THRESHOLD=4",
			"L1_CMD=" + recorder(t, dir, "L1", actions, ""), "L2_CMD=" + recorder(t, dir, "L2", actions, ""),
			"L3_CMD=" + recorder(t, dir, "L3", actions, "")}
	}
	quick, slow := filepath.Join(dir, "quick.conf"), filepath.Join(dir, "slow.conf")
	writeConf(t, quick, lines("300ms")...)
	writeConf(t, slow, lines("20s")...)
	// A first failing run: streak 1, so the next completed run would act.
	if out, err := exec.Command("ip", "netns", "exec", ns, bin(t, "netcheck"), "-config", quick).CombinedOutput(); err != nil {
		t.Fatalf("first run: %v\n%s", err, out)
	}
	before := tree(t, stateDir, runDir, log)
	if !strings.Contains(before, "第 1 次失败") {
		t.Fatalf("first run did not count a failure:\n%s", before)
	}

	cmd := exec.Command("ip", "netns", "exec", ns, bin(t, "netcheck"), "-config", slow)
	cmd.Env = append(os.Environ(), "TZ=UTC0")
	var stderr strings.Builder
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	t.Cleanup(func() {
		if cmd.ProcessState == nil {
			cmd.Process.Kill()
			<-done
		}
	})
	time.Sleep(time.Second) // well into the 20 s probe
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("netcheck still running 5 s after SIGTERM during the probe")
	}
	if ws := cmd.ProcessState.Sys().(syscall.WaitStatus); !ws.Signaled() || ws.Signal() != syscall.SIGTERM {
		t.Errorf("netcheck ended with %v (stderr %q); want killed by SIGTERM (no handler during the probe)", cmd.ProcessState, stderr.String())
	}
	if after := tree(t, stateDir, runDir, log); after != before {
		t.Errorf("SIGTERM during the probe changed STATE_DIR, RUN_DIR or the log:\n%s\nwas\n%s", after, before)
	}
	if a := readFile(t, actions); a != "" {
		t.Errorf("actions run after SIGTERM during the probe: %q", a)
	}
}

// tree is the names, modes and contents of the files at or under paths.
func tree(t *testing.T, paths ...string) string {
	t.Helper()
	var b strings.Builder
	for _, root := range paths {
		filepath.WalkDir(root, func(p string, de os.DirEntry, err error) error {
			if err != nil {
				return nil
			}
			info, ierr := de.Info()
			if ierr != nil {
				return nil
			}
			c := ""
			if de.Type().IsRegular() {
				c = readFile(t, p)
			}
			fmt.Fprintf(&b, "%s %v %q\n", p, info.Mode(), c)
			return nil
		})
	}
	return b.String()
}
