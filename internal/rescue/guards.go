package rescue

import (
	"bufio"
	"fmt"
	"strconv"
	"strings"
)

// QuorumAfterReboot reads `pvecm status` and reports whether the cluster
// keeps its quorum while this node is away (SPEC §6 step 4, §15). A node
// that is not quorate now, or whose votes are needed for the quorum, must
// not reboot on its own. This node's votes are those of the membership
// line marked "(local)" — a node may carry more than one vote — and
// without that line the answer cannot be confirmed (an error: defer).
//
// nodes is the count of nodes in corosync.conf's nodelist (CorosyncNodes;
// 0 unknown). One node, holding every vote present, is a one-node cluster
// (`pvecm create` on a lone host): it boots back into its own quorum, from
// the expected votes of that same file: ok. pvecm's numbers cannot tell
// that apart: `pvecm expected 1` on a two-node cluster whose peer died
// shows Expected votes 1, Total 1, Quorum 1 and no LastManStanding flag,
// as a one-node cluster does, and that node boots with corosync.conf's
// expected votes (2), inquorate: pmxcfs read-only, the router VM not
// started. Any other count keeps the arithmetic.
//
// quorate is false only when pvecm says so (Quorate: No, or Activity
// blocked): pmxcfs is then read-only and qm start refuses ("cluster not
// ready - no quorum?"), so no VM step can work either.
func QuorumAfterReboot(pvecmStatus string, nodes int) (ok, quorate bool, detail string, err error) {
	total, quorum, own := -1, -1, -1
	state := ""
	sc := bufio.NewScanner(strings.NewReader(pvecmStatus))
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if f := strings.Fields(line); len(f) >= 3 && f[len(f)-1] == "(local)" {
			// "0x00000001          1 192.168.1.10 (local)", with an optional
			// Qdevice column before the name: the votes are the second field.
			if n, err := strconv.Atoi(f[1]); err == nil && n >= 0 {
				own = n
			}
			continue
		}
		k, v, found := strings.Cut(line, ":")
		if !found {
			continue
		}
		k, v = strings.TrimSpace(k), strings.TrimSpace(v)
		num := func() int {
			f := strings.Fields(v)
			if len(f) == 0 {
				return -1
			}
			n, err := strconv.Atoi(f[0])
			if err != nil {
				return -1
			}
			return n
		}
		switch k {
		case "Total votes":
			total = num()
		case "Quorum":
			quorum = num()
			if strings.Contains(v, "Activity blocked") {
				state = "No (Activity blocked)"
			}
		case "Quorate":
			if state == "" || !strings.EqualFold(v, "Yes") {
				state = v
			}
		}
	}
	if total < 0 || quorum < 0 {
		return false, true, "", fmt.Errorf("pvecm status: no \"Total votes\" and \"Quorum\" lines")
	}
	if !strings.EqualFold(state, "Yes") {
		return false, false, fmt.Sprintf("集群当前没有法定票数 (Quorate: %s)", state), nil
	}
	if own < 0 {
		return false, true, "", fmt.Errorf("pvecm status: no membership line marked (local), this node's votes are unknown")
	}
	if nodes == 1 && own >= total {
		return true, true, "", nil
	}
	if total-own < quorum {
		return false, true, fmt.Sprintf("重启本节点会使集群失去法定票数 (votes %d-%d < quorum %d)", total, own, quorum), nil
	}
	return true, true, "", nil
}

// CorosyncNodes counts the nodes of corosync.conf's nodelist: the `node {`
// sections inside the top-level `nodelist {` (corosync.conf(5); PVE writes
// it so, proxmox/pve-cluster's src/test/corosync_configs hold real ones).
// The sections are counted, not the nodeid values, which a hand-edited
// file may repeat. A file whose braces do not balance is an error.
func CorosyncNodes(conf string) (int, error) {
	var path []string // the sections open at this line
	nodes := 0
	sc := bufio.NewScanner(strings.NewReader(conf))
	for sc.Scan() {
		line := sc.Text()
		if i := strings.IndexByte(line, '#'); i >= 0 {
			line = line[:i]
		}
		line = strings.TrimSpace(line)
		switch {
		case strings.HasSuffix(line, "{"):
			name := strings.TrimSpace(strings.TrimSuffix(line, "{"))
			path = append(path, name)
			if len(path) == 2 && path[0] == "nodelist" && name == "node" {
				nodes++
			}
		case line == "}":
			if len(path) == 0 {
				return 0, fmt.Errorf("corosync.conf: unbalanced }")
			}
			path = path[:len(path)-1]
		}
	}
	if err := sc.Err(); err != nil {
		return 0, fmt.Errorf("corosync.conf: %w", err)
	}
	if len(path) != 0 {
		return 0, fmt.Errorf("corosync.conf: section %s not closed", path[len(path)-1])
	}
	return nodes, nil
}
