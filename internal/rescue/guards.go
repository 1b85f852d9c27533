package rescue

import (
	"bufio"
	"fmt"
	"strconv"
	"strings"
)

// QuorumAfterReboot reads `pvecm status` and reports whether the cluster
// keeps its quorum while this node is away (SPEC §6 step 4). A node that
// is not quorate now, or whose votes are needed for the quorum, must not
// reboot on its own.
func QuorumAfterReboot(pvecmStatus string) (ok bool, detail string, err error) {
	var total, quorum, own = -1, -1, 1
	quorate := ""
	sc := bufio.NewScanner(strings.NewReader(pvecmStatus))
	for sc.Scan() {
		k, v, found := strings.Cut(sc.Text(), ":")
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
		case "Quorate":
			quorate = v
		case "Node votes":
			if n := num(); n > 0 {
				own = n
			}
		}
	}
	if total < 0 || quorum < 0 {
		return false, "", fmt.Errorf("pvecm status: no \"Total votes\" and \"Quorum\" lines")
	}
	if !strings.EqualFold(quorate, "Yes") {
		return false, fmt.Sprintf("集群当前没有法定票数 (Quorate: %s)", quorate), nil
	}
	if total-own < quorum {
		return false, fmt.Sprintf("重启本节点会使集群失去法定票数 (votes %d-%d < quorum %d)", total, own, quorum), nil
	}
	return true, "", nil
}
