package testlab

import (
	_ "embed" // the fake qm script
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// fakeQMScript prints what proxmox/qemu-server's qm prints (SPEC §13):
//   - status / status --verbose: src/PVE/CLI/qm.pm sub status (keys sorted,
//     short form "status: <qmpstatus>");
//   - config: src/PVE/CLI/qm.pm cmddef config printer ("k: v" sorted);
//   - start: src/PVE/QemuServer.pm vm_start "VM N already running",
//     pve-guest-common AbstractConfig check_lock "VM is locked (backup)",
//     vm_start_nolock "start failed: …"; worker errors reach stderr through
//     pve-common RESTEnvironment fork_worker and exit(-1) = 255 ($upid_exit);
//   - stop: _do_vm_stop returns quietly for a stopped VM;
//   - resume: src/PVE/API2/Qemu.pm vm_resume "VM N not running";
//   - guest cmd ping: src/PVE/QemuServer/Agent.pm assert_agent_available.
//
//go:embed testdata/fakeqm.sh
var fakeQMScript string

// FakeQM is a fake `qm` for one VM whose state lives in Dir, one file per
// field (see testdata/fakeqm.sh). Every call is appended to Dir/calls.log.
type FakeQM struct {
	Path, Dir, VMID string
}

// NewFakeQM writes the fake as dir/qm, run by shell ("/bin/sh",
// "/usr/bin/dash", "/usr/bin/busybox ash"), for VM vmid, stopped, with the
// agent configured and answering.
func NewFakeQM(dir, vmid, shell string) (*FakeQM, error) {
	if shell == "" {
		shell = "/bin/sh"
	}
	q := &FakeQM{Path: filepath.Join(dir, "qm"), Dir: filepath.Join(dir, "qm.state"), VMID: vmid}
	if err := os.MkdirAll(q.Dir, 0o755); err != nil {
		return nil, fmt.Errorf("fake qm state dir: %w", err)
	}
	script := fmt.Sprintf("#!%s\nD='%s'\nVMID='%s'\n%s", shell, q.Dir, vmid, fakeQMScript)
	if err := os.WriteFile(q.Path, []byte(script), 0o755); err != nil {
		return nil, fmt.Errorf("write fake qm: %w", err)
	}
	for k, v := range map[string]string{"status": "stopped", "qmpstatus": "stopped", "agent": "1", "agent_answers": "yes"} {
		if err := q.Set(k, v); err != nil {
			return nil, err
		}
	}
	return q, nil
}

// Set writes one state field (status, qmpstatus, lock, agent, agent_answers,
// hostpci, onboot, fail_starts, stop_hangs).
func (q *FakeQM) Set(field, value string) error {
	if err := os.WriteFile(filepath.Join(q.Dir, field), []byte(value+"\n"), 0o644); err != nil {
		return fmt.Errorf("fake qm set %s: %w", field, err)
	}
	return nil
}

// Unset removes a field: no `lock:`, no `agent:` key, no hostpci.
func (q *FakeQM) Unset(field string) error {
	if err := os.Remove(filepath.Join(q.Dir, field)); err != nil && !os.IsNotExist(err) {
		return fmt.Errorf("fake qm unset %s: %w", field, err)
	}
	return nil
}

// Get reads a field ("" when absent), e.g. the counters starts, stops, resumes.
func (q *FakeQM) Get(field string) string {
	b, _ := os.ReadFile(filepath.Join(q.Dir, field))
	return strings.TrimSpace(string(b))
}

// SetHook installs a sh script run after a successful "start" or "stop",
// e.g. bringing the router namespace's LAN address and Dropbear up or down.
func (q *FakeQM) SetHook(event, script string) error {
	if err := os.WriteFile(filepath.Join(q.Dir, "hook-"+event), []byte("#!/bin/sh\n"+script+"\n"), 0o755); err != nil {
		return fmt.Errorf("fake qm hook %s: %w", event, err)
	}
	return nil
}

// Calls returns the recorded argument lines, oldest first.
func (q *FakeQM) Calls() []string {
	b, _ := os.ReadFile(filepath.Join(q.Dir, "calls.log"))
	s := strings.TrimSuffix(string(b), "\n")
	if s == "" {
		return nil
	}
	return strings.Split(s, "\n")
}
