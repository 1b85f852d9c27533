package rescue

import (
	"testing"
	"time"

	"github.com/pve-op/network-rescue/internal/config"
)

// TestTransitions: ON_EVENT_CMD runs once per transition (SPEC §16): the
// first run that finds the internet down, the one that finds it back, and
// each action — never again for a run that finds things as they were.
func TestTransitions(t *testing.T) {
	cfg := config.Default(config.Host)
	cfg.VMID = "100"
	down := State{DownSince: t0.Add(-10 * time.Minute)}
	for _, tt := range []struct {
		name string
		st   State
		obs  Obs
		want string // "event/outage seconds" joined
	}{
		{"healthy", State{}, Obs{Now: t0, NetKnown: true, NetUp: true}, ""},
		{"first down run", State{}, full(func(o *Obs) { o.Router = Router{} }), "down/0"},
		{"still down, nothing done", down, full(func(o *Obs) { o.Router = Router{} }), ""},
		{"back up", down, Obs{Now: t0, NetKnown: true, NetUp: true}, "up/600"},
		{"down and a VM start", down, full(func(o *Obs) { o.VM = VMStatus{Status: "stopped"} }), "vm-start/600"},
		{"first down run restarts the VM", State{}, full(nil), "down/0 vm-restart/0"},
		{"host reboot", State{DownSince: t0.Add(-time.Hour), VMRestartDate: Today(t0)}, full(nil), "host-reboot/3600"},
		// SPEC §14: the IP targets answer but the router's DNS does not:
		// for the family the internet is down, and stays down until DNS
		// answers again (no "up" on every run of the fault).
		{"DNS fault, first run", State{}, full(dnsFault(false)), "down/0"},
		{"DNS fault persists", down, full(dnsFault(false)), ""},
		{"DNS back", down, full(dnsFault(true)), "up/600"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			s := Decide(cfg, tt.st, tt.obs)
			got := ""
			for i, ev := range Transitions(tt.st, tt.obs, s) {
				if i > 0 {
					got += " "
				}
				got += ev.Name + "/" + itoa(int(ev.Outage/time.Second))
			}
			if got != tt.want {
				t.Errorf("Transitions = %q; want %q (log: %s)", got, tt.want, msgs(s))
			}
		})
	}
}

// dnsFault is a run where the IP targets answer and DNS_CHECK through the
// router answered (ok) or not, the router reporting itself up, no SOS.
func dnsFault(ok bool) func(*Obs) {
	return func(o *Obs) {
		o.NetUp, o.DNSKnown, o.DNSOK, o.DNSDetail = true, true, ok, "SERVFAIL"
		o.Router = Router{SelfKnown: true, SelfUp: true}
	}
}
