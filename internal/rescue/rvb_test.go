package rescue

import (
	"strings"
	"testing"

	"github.com/pve-op/network-rescue/internal/config"
)

// TestLANHostRebootUnderVMLock: with VM_ID, a LAN path fault whose
// router-side steps are all tried (network, then the VM's cold restart or
// the router's own reboot) must not reboot the host while the router VM
// holds a config lock (a migration, a snapshot, a backup lock left
// behind): the SOS path and a held reboot wait under it (sosStep,
// heldReboot), and the lock's own line says the host's reboot is held.
func TestLANHostRebootUnderVMLock(t *testing.T) {
	cfg := config.Default(config.Host)
	cfg.VMID = "100"
	for _, lock := range []string{"migrate", "snapshot", "backup"} {
		t.Run(lock, func(t *testing.T) {
			st := State{LANFault: LANPath, LANSeen: 3, LANSteps: "network,reboot", VMRestartDate: Today(t0), DownSince: t0.Add(-20 * 60e9)}
			s := Decide(cfg, st, full(func(o *Obs) {
				o.Router, o.DNSKnown, o.DNSOK = Router{SelfKnown: true, SelfUp: true, Count: "0"}, true, false
				o.VM.Lock = lock
			}))
			if s.Action == HostReboot {
				t.Errorf("Decide(lock: %s) = %v; want no host reboot under the VM's lock (log: %s)", lock, s.Action, msgs(s))
			}
			if lock == "backup" && !strings.Contains(msgs(s), "qm unlock") {
				t.Errorf("log %q lacks the left lock's qm unlock", msgs(s))
			}
		})
	}
}
