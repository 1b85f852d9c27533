package rescue

import (
	"strings"
	"testing"
	"time"

	"github.com/pve-op/network-rescue/internal/config"
	"github.com/pve-op/network-rescue/state"
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

// TestLANMisfireRetries: a host reboot for a LAN path fault that did not
// happen (【回退】: REBOOT_CMD and its fallback returned, the system never
// stopping) is tried again at the next run, as its line says ("以便在下个
// 检测周期重试") and as a misfired SOS reboot is; the LAN ladder it came
// after is not climbed again first (the router's network restart and a
// second reboot of the router for the same fault, 15 minutes more).
func TestLANMisfireRetries(t *testing.T) {
	cfg := config.Default(config.Host)
	lan := func(now time.Time) Obs {
		return full(func(o *Obs) {
			o.Now = now
			o.Router, o.DNSKnown, o.DNSOK = Router{SelfKnown: true, SelfUp: true, Count: "1"}, true, false
		})
	}
	s := Decide(cfg, State{LANFault: LANPath, LANSeen: 3, LANSteps: "network,reboot", DownSince: t0.Add(-20 * time.Minute)}, lan(t0))
	if s.Action != HostReboot {
		t.Fatalf("all LAN steps tried: %v; want the host reboot (log: %s)", s.Action, msgs(s))
	}
	// Store.Misfire, counted: the mark torn, the day given back, the misfire kept.
	st := s.Next
	st.HasMark, st.Mark, st.LastReboot = false, state.Mark{}, ""
	st.MisfireDate, st.MisfireBoot = Today(t0), "boot1"
	var got []string
	for run := 1; run <= 4; run++ {
		s = Decide(cfg, st, lan(t0.Add(time.Duration(run)*5*time.Minute)))
		step := s.Action.String()
		if s.Action == Assist {
			step += " " + string(s.Assist)
		}
		got = append(got, step)
		st = s.Next
		if s.Action == HostReboot {
			break
		}
	}
	if want := "host-reboot"; got[0] != want {
		t.Errorf("runs after the misfire: %s; want %s at the first (the 【回退】 line's retry)", strings.Join(got, ", "), want)
	}
}
