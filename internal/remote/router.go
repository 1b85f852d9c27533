package remote

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"slices"
	"strings"
)

// The router's state files in its STATE_DIR (SPEC §5).
const (
	sosFile     = "SOS_SYSTEM"
	countFile   = "net_rb_count"
	coolingFile = "net_cooling_ts"
	// rescuedFile tells the router's next recovery who ended the outage:
	// "host" (the host rebooted) or "vm" (the host cold-restarted the VM).
	rescuedFile = "net_rescued_by"
	// outageFile is the router's own view of the internet (SPEC §14): a
	// record whose since= is set while its last run found it down.
	outageFile = "net_outage"
)

// maxCommandLen keeps a command inside one SSH packet as Dropbear accepts
// it (32 KiB payload).
const maxCommandLen = 30000

// MaxFileRead bounds what is read of each router state file (SPEC §15:
// SOS over SSH 4 KiB). The read command sends one byte more, so that the
// host can tell a file of exactly this size from a longer one.
const MaxFileRead = 4096

// RouterState is what the router's state files hold, read in one session.
// Contents are raw bytes as strings, untrusted: interpreting them, and
// making them safe to show (internal/untrusted), is the caller's job.
//
// A state file that is not a regular file (a directory, FIFO, symlink,
// device or socket) is present but never read: its XDamaged field names
// the kind and its content is empty (SPEC §15). A count, cooling or
// rescued-by file longer than MaxFileRead is damaged "oversized".
type RouterState struct {
	// SOS is true when SOS_SYSTEM exists in any form: any content, even
	// empty, even a SOS_SYSTEM that cannot be read, is SOS (SPEC §5).
	SOS bool
	// SOSContent is SOS_SYSTEM's content, at most MaxFileRead bytes.
	SOSContent string
	// SOSTruncated is true when SOS_SYSTEM was longer than MaxFileRead:
	// the rest was dropped.
	SOSTruncated bool
	// SOSDamaged is the kind of a SOS_SYSTEM that is not a regular file.
	SOSDamaged string
	// CountDamaged, CoolingDamaged and RescuedByDamaged are the kinds of
	// the other files when they are damaged.
	CountDamaged, CoolingDamaged, RescuedByDamaged string
	// HasCount is true when net_rb_count exists (it may still be empty).
	HasCount bool
	// Count is net_rb_count's content.
	Count string
	// HasCooling is true when net_cooling_ts exists.
	HasCooling bool
	// Cooling is net_cooling_ts's content.
	Cooling string
	// HasRescuedBy is true when net_rescued_by exists.
	HasRescuedBy bool
	// RescuedBy is net_rescued_by's content.
	RescuedBy string
	// HasOutage is true when net_outage exists; Outage is its content,
	// OutageDamaged its kind when it is not a regular file.
	HasOutage     bool
	Outage        string
	OutageDamaged string
}

// ReadRouterState reads SOS_SYSTEM, net_rb_count, net_cooling_ts and net_rescued_by in
// stateDir on the router with one command in one session (SPEC §6 step 3).
func (c Config) ReadRouterState(ctx context.Context, stateDir string) (RouterState, error) {
	if err := checkStateDir(stateDir); err != nil {
		return RouterState{}, fmt.Errorf("read router state: %w", err)
	}
	nonce, err := newNonce()
	if err != nil {
		return RouterState{}, fmt.Errorf("read router state: %w", err)
	}
	out, err := c.Run(ctx, readStateCommand(stateDir, nonce))
	if err != nil {
		return RouterState{}, fmt.Errorf("read router state: %w", err)
	}
	st, err := parseRouterState(out, nonce)
	if err != nil {
		return RouterState{}, fmt.Errorf("read router state: %w", &Error{Kind: Other, Addr: c.Addr, Err: err})
	}
	return st, nil
}

// AckSOS acknowledges the router's SOS in one session (SPEC §6 steps 5, 6):
// with resetCount it first sets net_rb_count to 0 (written to a temporary
// file in the same directory and renamed) and deletes net_cooling_ts, so
// that the router starts afresh; it writes net_rescued_by ("host" with
// resetCount, "vm" without) so that the router's 【状态恢复】 names who ended
// the outage; then it deletes SOS_SYSTEM. SOS goes last so that a failure
// half way leaves the strongest signal in place. A full flash (the router's
// overlay, where a new file finds no room) is no such failure: the count
// is then deleted instead (no net_rb_count reads as 0) and net_rescued_by,
// a courtesy, left out, so that SOS still goes; else the router came back
// from the host's reboot still in SOS, idle until midnight.
func (c Config) AckSOS(ctx context.Context, stateDir string, resetCount bool) error {
	if err := c.applyOps(ctx, stateDir, ackOps(resetCount)); err != nil {
		return fmt.Errorf("acknowledge router SOS: %w", err)
	}
	return nil
}

// ackOps are AckSOS's changes, in order.
func ackOps(resetCount bool) []fileOp {
	var ops []fileOp
	by := "vm\n"
	if resetCount {
		ops = append(ops, fileOp{name: countFile, write: true, content: "0\n", unwritten: removeIt}, fileOp{name: coolingFile})
		by = "host\n"
	}
	return append(ops, fileOp{name: rescuedFile, write: true, content: by, unwritten: skipIt}, fileOp{name: sosFile})
}

// ForgetRescue deletes net_rescued_by on the router: the host's reboot that
// AckSOS credited did not happen (a misfire or a cancel, SPEC §6 step 6),
// so the router's 【状态恢复】 must not name the host.
func (c Config) ForgetRescue(ctx context.Context, stateDir string) error {
	if err := c.applyOps(ctx, stateDir, []fileOp{{name: rescuedFile}}); err != nil {
		return fmt.Errorf("delete router net_rescued_by: %w", err)
	}
	return nil
}

// CreateSOS writes SOS_SYSTEM with content on the router, atomically
// (hostcheck drill, SPEC §7). content may hold any byte but NUL.
func (c Config) CreateSOS(ctx context.Context, stateDir, content string) error {
	if err := c.applyOps(ctx, stateDir, []fileOp{{name: sosFile, write: true, content: content}}); err != nil {
		return fmt.Errorf("create router SOS: %w", err)
	}
	return nil
}

// DeleteSOSIf deletes SOS_SYSTEM on the router only while it is a
// regular file holding exactly content (the drill's own SOS): one the
// router raised meanwhile, or wrote over the drill's, is left in place.
func (c Config) DeleteSOSIf(ctx context.Context, stateDir, content string) error {
	if err := checkStateDir(stateDir); err != nil {
		return err
	}
	// "$(…; echo x)" keeps the trailing newlines that $(…) would strip;
	// the size, that NUL bytes, which the shell drops, are no match.
	cmd := fmt.Sprintf("cd %s || exit 1\nif [ -f %s ] && [ ! -L %s ] && n=$(wc -c <%s) && [ $n -eq %d ] && [ \"$(head -c %d %s; echo x)\" = %s ]; then rm -f %s && sync; fi\n",
		ShellQuote(stateDir), sosFile, sosFile, sosFile, len(content), MaxFileRead+1, sosFile, ShellQuote(content+"x"), sosFile)
	if _, err := c.Run(ctx, cmd); err != nil {
		return fmt.Errorf("delete the drill's SOS: %w", err)
	}
	return nil
}

// RestoreRouterState puts the router's state files back exactly as st
// describes them: each file present with the same bytes, or absent. It is
// how `hostcheck drill` leaves the router as it found it.
// A state that was not read whole (a damaged file, a truncated SOS) cannot
// be put back and is refused before anything is changed.
//
// With keepSOS, SOS_SYSTEM is left as it is (the drill deletes its own
// with DeleteSOSIf, and never writes over one the router raised).
func (c Config) RestoreRouterState(ctx context.Context, stateDir string, st RouterState, keepSOS bool) error {
	if keepSOS {
		// Only the files written must have been read whole.
		if st.CountDamaged != "" || st.CoolingDamaged != "" || st.RescuedByDamaged != "" {
			return fmt.Errorf("restore router state: a file to write back was not read whole (count %q, cooling %q, rescued_by %q)", st.CountDamaged, st.CoolingDamaged, st.RescuedByDamaged)
		}
	} else if d := st.Damaged(); len(d) > 0 || st.SOSTruncated {
		return fmt.Errorf("restore router state: it was not read whole (damaged %v, SOS truncated %v)", d, st.SOSTruncated)
	}
	ops := []fileOp{
		{name: countFile, write: st.HasCount, content: st.Count},
		{name: coolingFile, write: st.HasCooling, content: st.Cooling},
		{name: rescuedFile, write: st.HasRescuedBy, content: st.RescuedBy},
	}
	if !keepSOS {
		ops = append(ops, fileOp{name: sosFile, write: st.SOS, content: st.SOSContent})
	}
	if err := c.applyOps(ctx, stateDir, ops); err != nil {
		return fmt.Errorf("restore router state: %w", err)
	}
	return nil
}

// fileOp writes content to name, or removes name when write is false.
// unwritten says what a write whose temporary file cannot be written (a
// full flash) does instead: fail the whole script (the default), remove
// name, or leave name as it is.
type fileOp struct {
	name      string
	write     bool
	content   string
	unwritten unwritten
}

type unwritten int

const (
	failAll  unwritten = iota // exit 1, nothing renamed
	removeIt                  // rm name instead: its absence means the same
	skipIt                    // leave name as it is: the write is a courtesy
)

func (c Config) applyOps(ctx context.Context, stateDir string, ops []fileOp) error {
	cmd, err := opsCommand(stateDir, ops)
	if err != nil {
		return err
	}
	_, err = c.Run(ctx, cmd)
	return err
}

// opsCommand renders ops as one POSIX sh script (busybox ash on OpenWrt):
// new contents go to temporary files in stateDir, are synced, then renamed
// over the old names in the order of ops, and the renames are synced, so a
// power cut of the router (a VM on the host that is about to reboot) leaves
// each file old or new, never empty.
func opsCommand(stateDir string, ops []fileOp) (string, error) {
	if err := checkStateDir(stateDir); err != nil {
		return "", err
	}
	var b strings.Builder
	b.WriteString("cd " + ShellQuote(stateDir) + " || exit 1\n")
	tmp := func(i int) string { return fmt.Sprintf(".netrescue.$$.%d", i) }
	for i, op := range ops {
		if !op.write {
			continue
		}
		if strings.IndexByte(op.content, 0) >= 0 {
			return "", fmt.Errorf("content of %s: contains a NUL byte", op.name)
		}
		if op.unwritten == failAll {
			fmt.Fprintf(&b, "printf '%%s' %s >%s || { rm -f .netrescue.$$.*; exit 1; }\n", ShellQuote(op.content), tmp(i))
			continue
		}
		// nr_unwritten_I marks a temp that could not be written.
		fmt.Fprintf(&b, "nr_unwritten_%d=\nprintf '%%s' %s >%s || { rm -f %s; nr_unwritten_%d=1; }\n", i, ShellQuote(op.content), tmp(i), tmp(i), i)
	}
	b.WriteString("sync\n")
	for i, op := range ops {
		switch {
		case op.write && op.unwritten == removeIt:
			fmt.Fprintf(&b, "if [ -n \"$nr_unwritten_%d\" ]; then rm -rf %s; else mv -f %s %s; fi || { rm -f .netrescue.$$.*; exit 1; }\n",
				i, op.name, tmp(i), op.name)
		case op.write && op.unwritten == skipIt:
			fmt.Fprintf(&b, "[ -n \"$nr_unwritten_%d\" ] || mv -f %s %s || { rm -f .netrescue.$$.*; exit 1; }\n", i, tmp(i), op.name)
		case op.write:
			fmt.Fprintf(&b, "mv -f %s %s || { rm -f .netrescue.$$.*; exit 1; }\n", tmp(i), op.name)
		default:
			// -r: a SOS_SYSTEM the router left as a directory is SOS
			// too, and acknowledging it must delete it (SPEC §15).
			fmt.Fprintf(&b, "rm -rf %s || { rm -f .netrescue.$$.*; exit 1; }\n", op.name)
		}
	}
	b.WriteString("sync\n")
	if b.Len() > maxCommandLen {
		return "", fmt.Errorf("router command: %d bytes, longer than the %d an SSH request carries", b.Len(), maxCommandLen)
	}
	return b.String(), nil
}

// readStateCommand prints each state file framed by nonce lines:
//
//	NONCE NAME missing
//	NONCE NAME damaged KIND
//	NONCE NAME present
//	<content>
//	NONCE end
//
// and "NONCE done" last. The nonce is fresh per call, so no file content can
// fake a frame. Each file's type is tested first (busybox ash's test
// builtin): only a regular file is read, a symlink is never followed, and
// anything else is reported by its KIND without opening it (SPEC §15), so a
// FIFO cannot block the read and a directory cannot fail it. A regular file
// is read by a single head -c, at most MaxFileRead+1 bytes (OpenWrt's
// busybox has FEATURE_FANCY_HEAD, and so head -c, on by default:
// openwrt/openwrt package/utils/busybox/Config-defaults.in), so a 50 MB SOS
// is not even sent; a rename by netcheck at the same moment yields the old
// or the new content, not a mix.
func readStateCommand(stateDir, nonce string) string {
	return "cd " + ShellQuote(stateDir) + " || exit 1\n" +
		"for f in " + sosFile + " " + countFile + " " + coolingFile + " " + rescuedFile + " " + outageFile + "; do\n" +
		"\tif [ -L \"$f\" ]; then k=symlink\n" +
		"\telif [ ! -e \"$f\" ]; then k=missing\n" +
		"\telif [ -f \"$f\" ]; then k=file\n" +
		"\telif [ -d \"$f\" ]; then k=directory\n" +
		"\telif [ -p \"$f\" ]; then k=fifo\n" +
		"\telif [ -S \"$f\" ]; then k=socket\n" +
		"\telif [ -b \"$f\" ] || [ -c \"$f\" ]; then k=device\n" +
		"\telse k=other\n" +
		"\tfi\n" +
		"\tcase $k in\n" +
		"\tmissing) printf '%s %s missing\\n' " + nonce + " \"$f\" ;;\n" +
		"\tfile)\n" +
		"\t\tprintf '%s %s present\\n' " + nonce + " \"$f\"\n" +
		fmt.Sprintf("\t\thead -c %d \"$f\" || exit 1\n", MaxFileRead+1) +
		"\t\tprintf '\\n%s end\\n' " + nonce + " ;;\n" +
		"\t*) printf '%s %s damaged %s\\n' " + nonce + " \"$f\" \"$k\" ;;\n" +
		"\tesac\n" +
		"done\n" +
		"printf '%s done\\n' " + nonce + "\n"
}

// damagedKinds are the KINDs the read command reports.
var damagedKinds = []string{"symlink", "directory", "fifo", "socket", "device", "other"}

// parseRouterState parses readStateCommand's output. Anything a login shell
// prints before the first frame is ignored; anything else out of place is an
// error, so that a truncated or mangled answer is never taken for "no SOS".
func parseRouterState(out []byte, nonce string) (RouterState, error) {
	if nonce == "" || strings.ContainsAny(nonce, " \n") {
		return RouterState{}, errors.New("parse router state: bad nonce")
	}
	first := []byte(nonce + " " + sosFile + " ")
	i := bytes.Index(out, first)
	if i < 0 {
		return RouterState{}, fmt.Errorf("parse router state: no %s frame in %q", sosFile, abbrev(out))
	}
	rest := out[i:]
	var st RouterState
	for _, f := range []struct {
		name    string
		present *bool
		content *string
		damaged *string
	}{
		{sosFile, &st.SOS, &st.SOSContent, &st.SOSDamaged},
		{countFile, &st.HasCount, &st.Count, &st.CountDamaged},
		{coolingFile, &st.HasCooling, &st.Cooling, &st.CoolingDamaged},
		{rescuedFile, &st.HasRescuedBy, &st.RescuedBy, &st.RescuedByDamaged},
		{outageFile, &st.HasOutage, &st.Outage, &st.OutageDamaged},
	} {
		missing := []byte(nonce + " " + f.name + " missing\n")
		present := []byte(nonce + " " + f.name + " present\n")
		damaged := []byte(nonce + " " + f.name + " damaged ")
		switch {
		case bytes.HasPrefix(rest, missing):
			rest = rest[len(missing):]
		case bytes.HasPrefix(rest, damaged):
			rest = rest[len(damaged):]
			j := bytes.IndexByte(rest, '\n')
			if j < 0 {
				return RouterState{}, fmt.Errorf("parse router state: %s: no end of kind", f.name)
			}
			kind := string(rest[:j])
			if !slices.Contains(damagedKinds, kind) {
				return RouterState{}, fmt.Errorf("parse router state: %s: unknown kind %q", f.name, abbrev(rest[:j]))
			}
			*f.present, *f.damaged = true, kind
			rest = rest[j+1:]
		case bytes.HasPrefix(rest, present):
			rest = rest[len(present):]
			end := []byte("\n" + nonce + " end\n")
			j := bytes.Index(rest, end)
			if j < 0 {
				return RouterState{}, fmt.Errorf("parse router state: %s: no end of content", f.name)
			}
			*f.present = true
			switch {
			case j > MaxFileRead+1:
				return RouterState{}, fmt.Errorf("parse router state: %s: %d bytes, more than the %d the read command sends", f.name, j, MaxFileRead+1)
			case j <= MaxFileRead:
				*f.content = string(rest[:j])
			case f.name == sosFile:
				// SPEC §15: the rest of a long SOS is dropped and logged.
				*f.content, st.SOSTruncated = string(rest[:MaxFileRead]), true
			default:
				*f.damaged = "oversized"
			}
			rest = rest[j+len(end):]
		default:
			return RouterState{}, fmt.Errorf("parse router state: want %s frame, got %q", f.name, abbrev(rest))
		}
	}
	if string(rest) != nonce+" done\n" {
		return RouterState{}, fmt.Errorf("parse router state: want end of output, got %q", abbrev(rest))
	}
	return st, nil
}

// FileDamage is a router state file that was not read as it is.
type FileDamage struct {
	File string // SOS_SYSTEM, net_rb_count, ...
	Kind string // directory, fifo, symlink, device, socket, other, oversized
}

// Damaged lists the router state files that are damaged, in file order.
func (st RouterState) Damaged() []FileDamage {
	var out []FileDamage
	for _, d := range []FileDamage{{sosFile, st.SOSDamaged}, {countFile, st.CountDamaged}, {coolingFile, st.CoolingDamaged}, {rescuedFile, st.RescuedByDamaged}, {outageFile, st.OutageDamaged}} {
		if d.Kind != "" {
			out = append(out, d)
		}
	}
	return out
}

func abbrev(b []byte) string {
	const n = 60
	if len(b) > n {
		return string(b[:n]) + "…"
	}
	return string(b)
}

func newNonce() (string, error) {
	var b [16]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", fmt.Errorf("nonce: %w", err)
	}
	return "netrescue-" + hex.EncodeToString(b[:]), nil
}

// checkStateDir accepts the absolute paths that can be single-quoted in a
// command as they are.
func checkStateDir(dir string) error {
	switch {
	case !strings.HasPrefix(dir, "/"):
		return fmt.Errorf("router state dir %q: must be an absolute path", dir)
	case strings.ContainsAny(dir, "'\x00"):
		return fmt.Errorf("router state dir %q: must not contain a single quote or NUL", dir)
	}
	return nil
}

// ShellQuote returns s as one POSIX sh word: inside single quotes every
// byte but NUL stands for itself, and each single quote in s closes the
// quoted part, adds an escaped quote and reopens it:
//
//	it's  →  'it'\''s'
func ShellQuote(s string) string {
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}
