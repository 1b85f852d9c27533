// Package qm reads the output of the Proxmox `qm` CLI about the router VM:
// `qm status VMID [--verbose]`, `qm config VMID` and the outcome of
// `qm guest cmd VMID ping` (SPEC §13). It only parses: running the commands,
// their deadlines and logging stay with the caller (internal/command).
//
// The formats are those of proxmox/qemu-server (src/PVE/CLI/qm.pm and the
// code it calls); the tests cite the subs. Two facts shape the API:
//   - `qm guest cmd VMID ping` checks only that an `agent:` key exists, so
//     with `agent: 0` it says "QEMU guest agent is not running". Whether a
//     silent agent confirms a hang is therefore Config.AgentEnabled AND
//     PingNoAnswer, never the ping alone.
//   - the exit code of a failing qm is Perl's die (255, or a leftover errno),
//     so a failure is classified by its stderr text, not by its number.
package qm

import (
	"errors"
	"fmt"
	"sort"
	"strings"
)

// Status is what `qm status VMID [--verbose]` reports.
type Status struct {
	// Status is "running" or "stopped": whether the QEMU process exists.
	Status string
	// QMPStatus is QEMU's run state (running, paused, prelaunch, io-error,
	// suspended, …); qm falls back to Status when QMP did not answer.
	QMPStatus string
	// Lock is the config lock (backup, migrate, snapshot, …), "" if none.
	Lock string
	// Raw holds every top-level `key: value` line (nested hashes omitted).
	Raw map[string]string
}

// Paused reports whether the VM's process runs but the guest is halted in a
// way `qm resume` undoes (SPEC §13 rule 2): paused by hand or by the
// monitor, stopped on an I/O error (werror=stop shows io-error), suspended
// to RAM (qemu-server's vm_resume sends system_wakeup then), or left in
// "prelaunch": QEMU started with -S whose guest was never let run (a start
// killed before its `cont`). qemu-server's own vm_is_paused
// (src/PVE/QemuServer.pm) counts "paused" and "prelaunch" as paused, and
// vm_resume (src/PVE/QemuServer/RunState.pm) sends `cont` for both. Taken
// for running, such a VM waited the whole hung delay and then spent the
// day's cold restart.
func (s Status) Paused() bool {
	if s.Status != "running" {
		return false
	}
	switch s.QMPStatus {
	case "paused", "prelaunch", "io-error", "suspended":
		return true
	}
	return false
}

// ErrNoStatus means the output had no `status:` line: not qm status output.
var ErrNoStatus = errors.New("qm status: no status line")

// ParseStatus reads `qm status VMID --verbose` or the short `qm status VMID`.
//
// Verbose prints every key of PVE::QemuServer::vmstatus sorted, one
// `key: value` per line; nested hashes (ballooninfo, blockstat, nics,
// proxmox-support) are a `key:` line followed by lines indented with tabs
// (print_recursive_hash), which are skipped here. The short form is one line
// `status: X` where X is the qmpstatus (or "unknown"), so a paused VM prints
// `status: paused`.
func ParseStatus(out string) (Status, error) {
	raw := map[string]string{}
	for _, line := range strings.Split(out, "\n") {
		line = strings.TrimSuffix(line, "\r")
		if line == "" || line[0] == '\t' || line[0] == ' ' {
			continue // nested hash/array item of print_recursive_hash
		}
		k, v, ok := splitKV(line)
		if !ok || v == "" {
			continue // a nested hash's header, or a stray print
		}
		if _, dup := raw[k]; !dup {
			raw[k] = v
		}
	}
	st, ok := raw["status"]
	if !ok {
		return Status{}, ErrNoStatus
	}
	s := Status{Status: st, QMPStatus: raw["qmpstatus"], Lock: raw["lock"], Raw: raw}
	if _, verbose := raw["qmpstatus"]; !verbose && len(raw) == 1 {
		// Short form: the value is the qmpstatus (qm.pm sub status).
		s.QMPStatus = st
		switch st {
		case "stopped", "unknown":
		default:
			s.Status = "running" // QMP answered, so the process exists
		}
	}
	if s.Status != "running" && s.Status != "stopped" && s.Status != "unknown" {
		return Status{}, fmt.Errorf("qm status: unexpected status %q", s.Status)
	}
	return s, nil
}

// Config is what `qm config VMID` reports that SPEC §13 needs.
type Config struct {
	// Agent is the raw `agent:` value; AgentSet whether the key exists.
	Agent    string
	AgentSet bool
	// AgentEnabled is the property string's `enabled` (its default key).
	AgentEnabled bool
	// HostPCI lists the passthrough keys present (hostpci0 … hostpci15), sorted.
	HostPCI []string
	// Lock is the config lock, "" if none.
	Lock string
	// OnBoot is `onboot:` (a boolean, default 0): PVE starts the VM itself
	// when the node boots (pve-guests.service, startall).
	OnBoot bool
	// Description is the decoded `description:` (qm prints it URL-encoded).
	Description string
	// Raw holds every `key: value` line as printed.
	Raw map[string]string
}

// ParseConfig reads `qm config VMID`: PVE::CLI::qm's config printer writes
// `$k: $v` for every key sorted, digest left out, and the description through
// PVE::Tools::encode_text (newlines, ':' and '%' as %XX), so every entry is
// one line.
func ParseConfig(out string) (Config, error) {
	c := Config{Raw: map[string]string{}}
	for _, line := range strings.Split(out, "\n") {
		line = strings.TrimSuffix(line, "\r")
		if line == "" {
			continue
		}
		k, v, ok := splitKV(line)
		if !ok {
			return Config{}, fmt.Errorf("qm config: line %q is not `key: value`", truncate(line))
		}
		if _, dup := c.Raw[k]; dup {
			return Config{}, fmt.Errorf("qm config: key %s twice", k)
		}
		c.Raw[k] = v
		switch {
		case k == "agent":
			c.Agent, c.AgentSet, c.AgentEnabled = v, true, AgentEnabled(v)
		case k == "lock":
			c.Lock = v
		case k == "onboot":
			c.OnBoot, _ = parseBoolean(v)
		case k == "description":
			c.Description = decodeText(v)
		case strings.HasPrefix(k, "hostpci") && len(k) > 7 && allDigits(k[7:]):
			c.HostPCI = append(c.HostPCI, k)
		}
	}
	sort.Slice(c.HostPCI, func(i, j int) bool { return pciIndex(c.HostPCI[i]) < pciIndex(c.HostPCI[j]) })
	return c, nil
}

// AgentEnabled parses an `agent:` property string as
// PVE::QemuServer::Agent::parse_guest_agent does: `enabled` is the default
// key ("1", "enabled=1,fstrim_cloned_disks=1", "1,type=virtio"), booleans are
// 1|on|yes|true / 0|off|no|false, absent means 0, and a string PVE rejects
// (duplicate key, bad boolean, a part without key) means disabled. Unknown
// keys are tolerated so a newer PVE's options do not turn the agent off.
func AgentEnabled(v string) bool {
	enabled, seen := false, false
	for _, part := range strings.Split(v, ",") {
		if strings.TrimSpace(part) == "" {
			continue
		}
		key, val, hasEq := strings.Cut(part, "=")
		if !hasEq {
			key, val = "enabled", part
		} else if key == "" || val == "" {
			return false
		}
		if key != "enabled" {
			continue
		}
		if seen {
			return false
		}
		seen = true
		b, ok := parseBoolean(val)
		if !ok {
			return false
		}
		enabled = b
	}
	return enabled
}

// Ping is the outcome of `qm guest cmd VMID ping`.
type Ping int

const (
	// PingError: qm failed for another reason (no such VM, permission, …).
	PingError Ping = iota
	// PingAnswers: exit 0, the guest agent answered.
	PingAnswers
	// PingNotConfigured: the config has no `agent:` key — unknown, not hung.
	PingNotConfigured
	// PingNotRunning: the VM's QEMU process is not running.
	PingNotRunning
	// PingNoAnswer: the agent did not answer (not running or timeout).
	PingNoAnswer
)

func (p Ping) String() string {
	switch p {
	case PingAnswers:
		return "answers"
	case PingNotConfigured:
		return "not configured"
	case PingNotRunning:
		return "VM not running"
	case PingNoAnswer:
		return "does not answer"
	}
	return "error"
}

// ClassifyPing maps the exit code and stderr of `qm guest cmd VMID ping` to
// its outcome; timedOut says the caller's own deadline ended the command,
// which counts as no answer (SPEC §13). The texts are those of
// PVE::QemuServer::Agent::assert_agent_available and PVE::QMPClient.
func ClassifyPing(exitCode int, stderr string, timedOut bool) Ping {
	if timedOut {
		return PingNoAnswer
	}
	if exitCode == 0 {
		return PingAnswers
	}
	switch {
	case strings.Contains(stderr, "No QEMU guest agent configured"):
		return PingNotConfigured
	case strings.Contains(stderr, "QEMU guest agent is not running"),
		strings.Contains(stderr, "got timeout"):
		return PingNoAnswer
	case isNotRunning(stderr):
		return PingNotRunning
	}
	return PingError
}

// isNotRunning matches "VM N is not running" (assert_agent_available) and
// "VM N not running" (PVE::QemuServer::Monitor::qmp_cmd, when the VM stopped
// between the checks).
func isNotRunning(stderr string) bool {
	for _, line := range strings.Split(stderr, "\n") {
		rest, ok := strings.CutPrefix(strings.TrimSpace(line), "VM ")
		if !ok {
			continue
		}
		id, tail, ok := strings.Cut(rest, " ")
		if ok && id != "" && allDigits(id) && (tail == "is not running" || tail == "not running") {
			return true
		}
	}
	return false
}

func splitKV(line string) (k, v string, ok bool) {
	k, v, ok = strings.Cut(line, ":")
	if !ok || k == "" {
		return "", "", false
	}
	for _, r := range k {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_') {
			return "", "", false
		}
	}
	if v != "" {
		if v[0] != ' ' {
			return "", "", false
		}
		v = v[1:]
	}
	return k, v, true
}

func parseBoolean(s string) (bool, bool) {
	switch strings.ToLower(s) {
	case "1", "on", "yes", "true":
		return true, true
	case "0", "off", "no", "false":
		return false, true
	}
	return false, false
}

// decodeText undoes PVE::Tools::encode_text (uri_escape): %XX becomes the
// byte; anything else, including a '%' older versions left plain, stays.
func decodeText(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '%' && i+2 < len(s) && isHex(s[i+1]) && isHex(s[i+2]) {
			b.WriteByte(unhex(s[i+1])<<4 | unhex(s[i+2]))
			i += 2
			continue
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

func isHex(c byte) bool {
	return c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F'
}

func unhex(c byte) byte {
	switch {
	case c >= 'a':
		return c - 'a' + 10
	case c >= 'A':
		return c - 'A' + 10
	}
	return c - '0'
}

func allDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return s != ""
}

func pciIndex(k string) int {
	n := 0
	for _, c := range k[7:] {
		n = n*10 + int(c-'0')
		if n > 1<<20 {
			break
		}
	}
	return n
}

func truncate(s string) string {
	if len(s) > 60 {
		return s[:60] + "…"
	}
	return s
}

// Refusal is why `qm start VMID` or `qm resume VMID` refused before it
// tried the VM: a refusal that says nothing about the VM's health, so
// that the start it cost is given back (SPEC §13 rule 1, rescue.GiveBackStart).
type Refusal int

const (
	// NotRefused: qm ran, or failed for a reason that may be the VM's own.
	NotRefused Refusal = iota
	// RefusedNoQuorum: the cluster has no quorum (pmxcfs read-only).
	RefusedNoQuorum
	// RefusedLocked: the VM's config holds a lock (backup, migrate, …).
	RefusedLocked
)

func (r Refusal) String() string {
	switch r {
	case RefusedNoQuorum:
		return "no quorum"
	case RefusedLocked:
		return "locked"
	}
	return "not refused"
}

// ClassifyRefusal reads the stderr of a failed `qm VERB VMID`, verb
// "start" or "resume", for a refusal that says nothing about the VM. A
// die of qm's own process (PVE::CLIHandler has no eval: Perl prints the
// message) and a task's error (PVE::RESTEnvironment's tee_worker prints
// "TASK ERROR: MSG"'s MSG) each come as one line on stderr; the exit code
// is no help (see the package comment). The texts:
//   - "cluster not ready - no quorum?": PVE::Cluster::check_cfs_quorum,
//     which qemu-server's API vm_start calls before its worker; vm_resume
//     never asks for the quorum.
//   - "VM is locked (LOCK)": PVE::AbstractConfig::check_lock, with
//     QemuConfig's guest_type "VM" and no VMID, from the worker of
//     QemuServer::vm_start and of RunState::vm_resume.
func ClassifyRefusal(verb, stderr string) Refusal {
	if verb != "start" && verb != "resume" {
		return NotRefused
	}
	for _, line := range strings.Split(stderr, "\n") {
		line = strings.TrimSpace(line)
		if verb == "start" && line == "cluster not ready - no quorum?" {
			return RefusedNoQuorum
		}
		if lockedLine(line) {
			return RefusedLocked
		}
	}
	return NotRefused
}

// StopLocked reports whether the stderr of a failed `qm stop VMID` is
// qemu-server's lock refusal: src/PVE/QemuServer.pm _do_vm_stop runs
// PVE::AbstractConfig::check_lock ("VM is locked (LOCK)") before it sends
// QEMU anything, so the VM was neither stopped nor tried. The lock
// "suspended" is left out as ClassifyRefusal leaves it out: hostcheck does
// not wait for it, and it refuses for as long as it stands.
func StopLocked(stderr string) bool {
	for _, line := range strings.Split(stderr, "\n") {
		if lockedLine(strings.TrimSpace(line)) {
			return true
		}
	}
	return false
}

// lockedLine reports whether line is check_lock's "VM is locked (LOCK)"
// for a lock hostcheck waits for.
func lockedLine(line string) bool {
	rest, ok := strings.CutPrefix(line, "VM is locked (")
	lock, closed := strings.CutSuffix(rest, ")")
	// "suspended" (a VM hibernated to disk) is no lock hostcheck waits
	// for (rescue's lockHolds: qm start resumes it), and vm_resume
	// refuses it for as long as it stands (qemu-server
	// src/PVE/QemuServer/RunState.pm: check_lock unless the lock is
	// backup): given back, a paused VM under it was resumed and
	// refused every run all day. A failure like any other.
	return ok && closed && lock != "" && lock != "suspended" && strings.Trim(lock, "abcdefghijklmnopqrstuvwxyz-") == ""
}
