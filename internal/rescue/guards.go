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
// without that line the answer cannot be confirmed (an error: defer). A
// node that holds all the votes, expected and present, is a cluster of one:
// ok.
//
// quorate is false only when pvecm says so (Quorate: No, or Activity
// blocked): pmxcfs is then read-only and qm start refuses ("cluster not
// ready - no quorum?"), so no VM step can work either.
func QuorumAfterReboot(pvecmStatus string) (ok, quorate bool, detail string, err error) {
	total, quorum, own, expected := -1, -1, -1, -1
	state, flags := "", ""
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
		case "Expected votes":
			expected = num()
		case "Flags":
			flags = v
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
	if own >= total && own >= expected && expected > 0 && !strings.Contains(flags, "LastManStanding") {
		// This node holds every vote there is and every vote the cluster
		// expects: a one-node "cluster" (`pvecm create` on a lone host).
		// No other node's quorum hangs on it, and it regains its own as it
		// boots. Expected votes above its own (nodes configured but down,
		// two_node's wait_for_all) or last_man_standing, which lowers
		// them at run time while the node boots with corosync.conf's,
		// leave it rebooting into a node without quorum: deferred below.
		return true, true, "", nil
	}
	if total-own < quorum {
		return false, true, fmt.Sprintf("重启本节点会使集群失去法定票数 (votes %d-%d < quorum %d)", total, own, quorum), nil
	}
	return true, true, "", nil
}
