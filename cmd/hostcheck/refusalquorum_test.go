package main

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestRefusedQuorumUnreadCorosyncStat: /etc/corosync/corosync.conf
// cannot be stat'ed (EIO, ENOTDIR, EACCES on a broken /etc): guards says
// "无法确认本机是否属于集群" (Deferred) and never runs pvecm. The quorum is
// as unknown as when pvecm fails (Obs.QuorumUnknown): a "no quorum"
// refusal is given back. 3233dad counted it, with a 【严重错误】 saying
// "pvecm status 显示集群有法定票数", which pvecm never said.
func TestRefusedQuorumUnreadCorosyncStat(t *testing.T) {
	lab := newRefusingLab(t)
	h, log := lab.h, lab.log
	notDir := filepath.Join(t.TempDir(), "file")
	if err := os.WriteFile(notDir, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	h.corosync = []string{filepath.Join(notDir, "corosync.conf"), filepath.Join(t.TempDir(), "pve-corosync.conf")}
	if err := h.check(context.Background()); err != nil {
		t.Fatalf("check = %v\n%s", err, log)
	}
	st, _ := h.store().Load(time.UTC)
	for _, c := range lab.ran {
		if strings.Contains(c, "pvecm") {
			t.Fatalf("setup: pvecm ran: %q", lab.ran)
		}
	}
	if st.VMStarts != 0 || strings.Contains(log.String(), "pvecm status 显示集群有法定票数") {
		t.Errorf("corosync.conf unreadable (pvecm never run): vm_starts %d (want 0, given back as with pvecm failing); log:\n%s", st.VMStarts, log)
	}
}

// TestRefusedNoClusterSaysWhatWasSeen: no corosync.conf (a standalone
// node, or /etc/pve not mounted and /etc/corosync/corosync.conf
// removed): pvecm is not run, and a "no quorum" refusal's line must not
// say that pvecm showed a quorum (3233dad's did).
func TestRefusedNoClusterSaysWhatWasSeen(t *testing.T) {
	lab := newRefusingLab(t)
	h, log := lab.h, lab.log
	h.corosync = []string{filepath.Join(t.TempDir(), "none.conf")}
	if err := h.check(context.Background()); err != nil {
		t.Fatalf("check = %v\n%s", err, log)
	}
	ranPvecm := false
	for _, c := range lab.ran {
		ranPvecm = ranPvecm || strings.Contains(c, "pvecm")
	}
	if !ranPvecm && strings.Contains(log.String(), "pvecm status 显示集群有法定票数") {
		t.Errorf("pvecm never ran (commands %q), the log says it showed quorum:\n%s", lab.ran, log)
	}
}
