package rescue

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"pgregory.net/rapid"

	"github.com/pve-op/network-rescue/internal/config"
)

// TestAtMostOncePerDay is the invariant of SPEC §6: whatever the sequence
// of runs, probe results, SOS signals, SSH failures, crashes between any
// two steps, corrupt files and clock steps of up to a day, the host is
// rebooted at most once per local calendar day and the router VM
// cold-restarted at most once per day; a VM found stopped is started at most
// VM_START_MAX times a day, and a VM left stopped (a failed start, a run
// killed between qm stop and qm start) is started by the next run that finds
// the internet down (SPEC §13 rules 1 and 4).
//
// The runs use the real Decide and the real Store on disk, as hostcheck
// does. Each sequence has either clock steps (the clock stays within a day
// of the truth: its readings span at most a day, so no date it wrote is
// more than a day ahead of a later reading, which SPEC §6 calls absurd and
// counts as today only) or damaged files, not both: a damaged record written while
// the clock was a day behind can erase the only memory of a reboot, and no
// design can recall what was lost. A "day" is the calendar day of the host's own clock when the
// action happens (the only clock it has). midnight-reset deletes the mark
// when the host clock first reaches a new day, as cron does; its -force
// form is a person's override and is not part of the model.
func TestAtMostOncePerDay(t *testing.T) {
	base := t.TempDir()
	iter := 0
	rapid.Check(t, func(rt *rapid.T) {
		iter++
		dir := filepath.Join(base, itoa(iter))
		store := Store{Mark: filepath.Join(dir, "pve_did_reboot_today"), StateDir: filepath.Join(dir, "state")}
		cfg := config.Default(config.Host)
		if rapid.Bool().Draw(rt, "vm") {
			cfg.VMID = "100"
		}
		cfg.VMRestartFirst = rapid.Bool().Draw(rt, "vmFirst")
		cfg.MinHostUptime = time.Duration(rapid.IntRange(0, 30).Draw(rt, "minUptime")) * time.Minute
		cfg.RouterHungAfter = time.Duration(rapid.IntRange(1, 40).Draw(rt, "hung")) * time.Minute

		steps := rapid.Bool().Draw(rt, "steps") // else: damaged files
		trueNow := time.Date(2026, 11, 25, rapid.IntRange(0, 23).Draw(rt, "hour"), 0, 0, 0, cst)
		var offset time.Duration
		hostBoot := trueNow.Add(-time.Hour)
		bootN := 0
		lastDay := Today(trueNow)
		reboots := map[string]int{}
		vms := map[string]int{}
		starts := map[string]int{}
		vmRunning := true // the router VM, as qm status would report it

		for i, n := 0, rapid.IntRange(1, 200).Draw(rt, "runs"); i < n; i++ {
			trueNow = trueNow.Add(time.Duration(rapid.IntRange(1, 120).Draw(rt, "gap")) * time.Minute)
			switch rapid.IntRange(0, 19).Draw(rt, "event") {
			case 0:
				if steps {
					offset = time.Duration(rapid.IntRange(-720, 720).Draw(rt, "clockOffset")) * time.Minute
				}
			case 1:
				if !steps {
					corrupt(rt, store, trueNow)
				}
			}
			now := trueNow.Add(offset)
			if d := Today(now); d > lastDay {
				lastDay = d
				_ = os.Remove(store.Mark) // midnight-reset
			}
			st, _ := store.Load(cst)
			o := Obs{Now: now, Uptime: trueNow.Sub(hostBoot), BootID: itoa(bootN), NetKnown: true,
				NetUp: rapid.IntRange(0, 3).Draw(rt, "up") == 0, RouterKnown: true, LANKnown: true, GuardsKnown: true,
				LANUp: rapid.IntRange(0, 5).Draw(rt, "lan") > 0}
			switch rapid.IntRange(0, 3).Draw(rt, "router") {
			case 0:
				o.Router.Err = "timeout"
			case 1, 2:
				o.Router.SOS = true
			}
			if rapid.IntRange(0, 7).Draw(rt, "guard") == 0 {
				o.Deferred = []string{"vzdump"}
			}
			// qm status: the VM's real state, or a failing qm.
			o.VMKnown = true
			qmFails := rapid.IntRange(0, 9).Draw(rt, "qmFails") == 0
			switch {
			case qmFails:
				o.VM.Err = "exit 255: ipcc_send_rec failed"
			case vmRunning:
				o.VM = VMStatus{Status: "running", QMP: "running"}
			default:
				o.VM = VMStatus{Status: "stopped"}
				o.Router = Router{Err: "timeout"} // a stopped VM answers no SSH
			}
			step := Decide(cfg, st, o)
			// Liveness (SPEC §13 rule 1): a VM left stopped is started by the
			// next run that finds the internet down and can ask qm, unless
			// today's VM_START_MAX is spent or the day's rescue is spent.
			if cfg.VMID != "" && !vmRunning && !o.NetUp && !qmFails && !step.Silent && step.Action != VMStart {
				if VMStartsLeft(cfg, st, now) {
					if !strings.Contains(msgs(step), "严重错误】记录的日期在未来") {
						rt.Fatalf("run %d: the VM is stopped, the internet down, and it is not started: %s", i, msgs(step))
					}
				}
			}
			crash := rapid.IntRange(0, 9).Draw(rt, "crash") // 0: before saving, 1: after saving, before acting
			if crash == 0 {
				continue
			}
			if err := store.Save(st, step.Next); err != nil {
				continue // hostcheck does not act when it cannot save
			}
			if crash == 1 {
				continue
			}
			day := Today(now)
			switch step.Action {
			case VMRestart:
				vms[day]++
				if vms[day] > 1 {
					rt.Fatalf("run %d: second router VM cold restart on %s", i, day)
				}
				// qm stop, then qm start: the start may fail or the run be
				// killed between the two; the VM is then left stopped.
				vmRunning = rapid.IntRange(0, 2).Draw(rt, "restartOutcome") == 0
			case VMStart:
				starts[day]++
				if starts[day] > cfg.VMStartMax {
					rt.Fatalf("run %d: %d VM starts on %s (VM_START_MAX %d)", i, starts[day], day, cfg.VMStartMax)
				}
				vmRunning = rapid.IntRange(0, 2).Draw(rt, "startOutcome") != 0
			case HostReboot:
				switch rapid.IntRange(0, 2).Draw(rt, "outcome") {
				case 0: // rebooted
					reboots[day]++
					if reboots[day] > 1 {
						rt.Fatalf("run %d: second host reboot on %s", i, day)
					}
					trueNow = trueNow.Add(2 * time.Minute)
					hostBoot, bootN = trueNow, bootN+1
				case 1: // misfire: nothing happened, 【回退】 tears the mark
					_ = store.Misfire(cst, st.LastReboot)
				case 2: // slow shutdown that was then cancelled: the mark stays
				}
			}
		}
	})
}

// corrupt damages one of the host's state files at clock time now (a
// power cut during a write): the file's mtime is the host clock's.
func corrupt(rt *rapid.T, s Store, now time.Time) {
	junk := rapid.SampledFrom([]string{"", "garbage", "date=yesterday", "\x00\x01", "down_since=-5\nvm_restart_date=9999-99-99"}).Draw(rt, "junk")
	p := s.Mark
	if rapid.Bool().Draw(rt, "which") {
		p = filepath.Join(s.StateDir, RecordFile)
	}
	if _, err := os.Stat(p); err != nil {
		return
	}
	_ = os.WriteFile(p, []byte(junk), 0o644)
	_ = os.Chtimes(p, now, now)
}
