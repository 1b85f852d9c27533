package main

import (
	"path"
	"strconv"
	"strings"

	"github.com/pve-op/network-rescue/internal/remote"
	"github.com/pve-op/network-rescue/internal/rescue"
	"github.com/pve-op/network-rescue/internal/untrusted"
	"github.com/pve-op/network-rescue/state"
)

// Bounds of router text shown in a log line, the mark or `status` (SPEC
// §15): a SOS line as netcheck writes it is about 150 bytes.
const (
	maxShownSOS   = 512
	maxShownCount = 64
	maxShownErr   = 1024 // an SSH error quotes the router's stderr
)

// shown is router text made safe to show: the trailing newline netcheck
// writes dropped, the rest escaped and bounded (untrusted.Text).
func shown(s string, max int) string {
	return untrusted.Text(strings.TrimRight(s, "\n"), max)
}

// damagedText stands for the content of a router file that was not read.
func damagedText(kind string) string { return "(damaged: " + kind + ", not read)" }

// routerObs is the one place where what the router sent becomes what the
// decision, the log lines and the mark see (SPEC §15): every text escaped
// and bounded, a damaged file named by its kind. A SOS_SYSTEM present in
// any form stays SOS (SPEC §5).
func routerObs(rs remote.RouterState) rescue.Router {
	r := rescue.Router{SOS: rs.SOS, SOSContent: shown(rs.SOSContent, maxShownSOS), Count: shown(rs.Count, maxShownCount),
		NoCount: !rs.HasCount && rs.CountDamaged == ""}
	if rs.SOSDamaged != "" {
		r.SOSContent = damagedText(rs.SOSDamaged)
	}
	if rs.CountDamaged != "" {
		r.Count = damagedText(rs.CountDamaged)
	}
	r.SelfKnown, r.SelfUp = routerSelf(rs)
	return r
}

// routerDamage puts in r the router's state files that could not be read
// whole (SPEC §15), by their path in OP_STATE_DIR and kind: the decision
// says them, under its silence rules (a line logged beside it was said at
// every run, also the silent runs of a spent day).
func routerDamage(r *rescue.Router, rs remote.RouterState, opStateDir string) {
	for _, d := range rs.Damaged() {
		r.Damaged = append(r.Damaged, rescue.FileDamage{File: path.Join(opStateDir, d.File), Kind: d.Kind})
	}
	if rs.SOSTruncated {
		r.SOSTruncated, r.SOSLimit, r.SOSFile = true, remote.MaxFileRead, path.Join(opStateDir, "SOS_SYSTEM")
	}
}

// routerSelf is the router's own view of the internet (SPEC §14) from its
// net_outage: no file, or one without since=, means its last run found the
// internet up (a healthy run writes nothing); since= set means down. A
// damaged or unreadable record is unknown. Only the number is taken from
// the router's text.
func routerSelf(rs remote.RouterState) (known, up bool) {
	if !rs.HasOutage {
		return true, true
	}
	if rs.OutageDamaged != "" {
		return false, false
	}
	rec, err := state.ParseRecord("net_outage", rs.Outage)
	if err != nil {
		return false, false
	}
	since, ok := rec["since"]
	if !ok {
		return false, false
	}
	n, err := strconv.ParseInt(since, 10, 64)
	if err != nil || n < 0 {
		return false, false
	}
	return true, n == 0
}
