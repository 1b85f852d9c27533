package rescue

import (
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"pgregory.net/rapid"

	"github.com/pve-op/network-rescue/internal/config"
	"github.com/pve-op/network-rescue/internal/pause"
	"github.com/pve-op/network-rescue/internal/qm"
	"github.com/pve-op/network-rescue/state"
)

// TestAtMostOncePerDay is the invariant of SPEC §6: whatever the sequence
// of runs, probe results, SOS signals, SSH failures, crashes between any
// two steps, corrupt files and clock steps of up to a day, the host is
// rebooted at most once per local calendar day and the router VM
// cold-restarted at most once per day; a VM found stopped is started at most
// VM_START_MAX times a day (starts and resumes together) with no run in
// between that saw the internet up (a start that brought it back is not
// counted against rule 5; a VM seen running is no such proof), no VM action is
// taken while the VM holds a backup's lock, and a VM left stopped (a failed
// start, a run killed between qm stop and qm start) is started by the next
// run that finds the internet down (SPEC §13 rules 1 and 4). The VM crashes,
// hangs and pauses at random; every qm call (status, config, the guest
// agent's ping) may fail or answer anything it really answers.
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
		store := Store{Mark: filepath.Join(dir, "pve_did_reboot_today"), StateDir: filepath.Join(dir, "state"), RunDir: filepath.Join(dir, "run")}
		// Damage to the record leaves one VM start (SPEC §13 rule 4: never
		// left offline): VM_START_MAX is passed by one at most for each
		// corruption, and for a day the record could not be read.
		damaged := map[string]int{}
		unreadDays := map[string]bool{}
		cfg := config.Default(config.Host)
		store.VMStartMax = cfg.VMStartMax // as hostcheck's store (realStore)
		if rapid.Bool().Draw(rt, "vm") {
			cfg.VMID = "100"
		}
		cfg.VMRestartFirst = rapid.Bool().Draw(rt, "vmFirst")
		cfg.MinHostUptime = time.Duration(rapid.IntRange(0, 30).Draw(rt, "minUptime")) * time.Minute
		cfg.RouterHungAfter = time.Duration(rapid.IntRange(1, 40).Draw(rt, "hung")) * time.Minute

		steps := rapid.Bool().Draw(rt, "steps") // else: damaged files
		// A boot id unread at one run in 16, or in 3: a host where it
		// often fails meets a misfire recorded "unknown" and the runs after.
		unreadRate := rapid.SampledFrom([]int{15, 2}).Draw(rt, "unreadRate")
		// A misfire's slow shutdown lands at the next run in 2, or in 9:
		// runs of its own boot come between, also past midnight.
		landRate := rapid.SampledFrom([]int{1, 8}).Draw(rt, "landRate")
		trueNow := time.Date(2026, 11, 25, rapid.IntRange(0, 23).Draw(rt, "hour"), 0, 0, 0, cst)
		var offset time.Duration
		hostBoot := trueNow.Add(-time.Hour)
		bootN := 0
		lastDay := Today(trueNow)
		reboots := map[string]int{}
		landings := map[string]int{} // misfires' slow shutdowns landed on a later day, by that day
		landedOf := ""               // the misfire's day of a landing in this iteration
		// The record was damaged since the misfire still pending: its
		// safe value counts the day it was written, and no misfire.
		pendingDamaged := false
		vms := map[string]int{}
		starts := map[string]int{}
		misfires := map[string]int{} // host reboots tried that did not happen, by day
		pending := ""                // the day of a misfired reboot whose slow shutdown may still land
		// The router VM as qm status would report it: running, hung (QEMU
		// runs, the guest does not), paused or stopped.
		vm := "running"
		passthrough := rapid.Bool().Draw(rt, "passthrough")
		cfg.VMHungAfter = time.Duration(rapid.IntRange(1, 40).Draw(rt, "vmHung")) * time.Minute
		cfg.HostRebootHours, _ = config.ParseHours(rapid.SampledFrom([]string{"", "1-6", "22-5"}).Draw(rt, "hours"))

		for i, n := 0, rapid.IntRange(1, 200).Draw(rt, "runs"); i < n; i++ {
			trueNow = trueNow.Add(time.Duration(rapid.IntRange(1, 120).Draw(rt, "gap")) * time.Minute)
			if pending != "" && rapid.IntRange(0, landRate).Draw(rt, "lands") == 0 {
				// A reboot taken for a misfire lands now, runs later: a
				// reboot of the day it was ordered. The clock may be
				// stepped as it lands (NTP at boot).
				landedOf = pending
				if pendingDamaged {
					landedOf = "" // its record damaged since: the day it was written counts, not the misfire
				}
				if steps && rapid.IntRange(0, 2).Draw(rt, "landStep") == 0 {
					offset = time.Duration(rapid.IntRange(-720, 720).Draw(rt, "landOffset")) * time.Minute
				}
				reboots[pending]++
				if reboots[pending] > 1 {
					rt.Fatalf("run %d: second host reboot on %s (a misfire that landed late)", i, pending)
				}
				hostBoot, bootN, pending = trueNow, bootN+1, ""
				_ = os.RemoveAll(store.RunDir) // a reboot empties RUN_DIR
			}
			switch rapid.IntRange(0, 19).Draw(rt, "event") {
			case 0:
				if steps {
					offset = time.Duration(rapid.IntRange(-720, 720).Draw(rt, "clockOffset")) * time.Minute
				}
			case 1:
				if !steps {
					corrupt(rt, store, trueNow)
					damaged[Today(trueNow.Add(offset))]++
					pendingDamaged = pending != ""
				}
			case 6:
				// The disk fails to read the record (EIO) for a spell of
				// runs, or reads it again.
				if !steps {
					if store.readRecord == nil {
						store.readRecord = func(p string) (state.Record, bool, error) {
							return nil, false, &fs.PathError{Op: "read", Path: p, Err: syscall.EIO}
						}
					} else {
						store.readRecord = nil
					}
				}
			case 2, 3:
				// The VM changes by itself: it crashes, hangs, is paused or
				// comes back.
				vm = rapid.SampledFrom([]string{"running", "hung", "paused", "stopped"}).Draw(rt, "vmFault")
			case 4:
				// A person pauses the rescue (SPEC §16) for up to 3 hours.
				_ = pause.Write(store.StateDir, trueNow.Add(offset).Add(time.Duration(rapid.IntRange(1, 180).Draw(rt, "pause"))*time.Minute))
			case 5:
				// A power cut: the host booted up to 10 minutes ago, and the
				// router VM is stopped until PVE's autostart starts it (or
				// runs already).
				hostBoot, bootN = trueNow.Add(-time.Duration(rapid.IntRange(0, 10).Draw(rt, "sinceBoot"))*time.Minute), bootN+1
				pending = "" // a power cut ends a shutdown under way: nothing lands after it
				_ = os.RemoveAll(store.RunDir)
				vm = rapid.SampledFrom([]string{"stopped", "running"}).Draw(rt, "vmAtBoot")
			}
			// A landing is also a reboot of the day it lands on: no other
			// host reboot that day (a misfire whose boot id was unread,
			// counted as landed within its own boot, was forgotten; its
			// landing after midnight then had a second reboot that day).
			// Only where the clock is never stepped: a step between the
			// landing and the run that learns of it makes its day
			// ambiguous, and the misfire's own day is checked above.
			if landDay := Today(trueNow.Add(offset)); !steps && landedOf != "" && landDay > landedOf {
				landings[landDay]++
				if reboots[landDay]+landings[landDay] > 1 {
					rt.Fatalf("run %d: a misfire of %s landed on %s, which had another host reboot", i, landedOf, landDay)
				}
			}
			landedOf = ""
			now := trueNow.Add(offset)
			if d := Today(now); d > lastDay {
				lastDay = d
				_ = os.Remove(store.Mark) // midnight-reset
			}
			store.Now = func() time.Time { return now }
			if store.readRecord != nil {
				unreadDays[Today(now)] = true
			}
			st, problems := store.Load(cst)
			if len(problems) > 0 {
				_ = store.Repair(st, problems) // as hostcheck's run does
			}
			o := Obs{Now: now, Uptime: trueNow.Sub(hostBoot), BootID: itoa(bootN), NetKnown: true,
				NetUp: rapid.IntRange(0, 3).Draw(rt, "up") == 0, RouterKnown: true, LANKnown: true, GuardsKnown: true,
				LANUp: rapid.IntRange(0, 5).Draw(rt, "lan") > 0}
			if rapid.IntRange(0, unreadRate).Draw(rt, "bootIDUnread") == 0 {
				o.BootID = "unknown" // /proc/sys/kernel/random/boot_id unread, as hostcheck's observeBasics says it
			}
			if rapid.IntRange(0, 11).Draw(rt, "uptimeUnread") == 0 {
				o.Uptime, o.UptimeUnknown = 0, true // /proc/uptime unread, as observeBasics says it
			}
			switch rapid.IntRange(0, 3).Draw(rt, "router") {
			case 0:
				o.Router.Err = "timeout"
			case 1, 2:
				o.Router.SOS = true
				o.Router.SOSContent = []string{"", "count=10", "time=x count=7 reason=y"}[rapid.IntRange(0, 2).Draw(rt, "sosText")]
			}
			// The router's count, which a held SOS is answered by (it
			// drops at midnight-reset), now and then none or damaged.
			o.Router.Count = []string{"", "0", "2", "9", "10", "11", "(damaged: fifo, not read)"}[rapid.IntRange(0, 6).Draw(rt, "count")]
			// The router's own view and the DNS check (SPEC §14): a fault
			// only the LAN sees, now and then.
			o.Router.SelfKnown = rapid.IntRange(0, 4).Draw(rt, "selfKnown") > 0
			o.Router.SelfUp = rapid.Bool().Draw(rt, "selfUp")
			o.DNSKnown = rapid.Bool().Draw(rt, "dnsKnown")
			o.DNSOK = rapid.Bool().Draw(rt, "dnsOK")
			if rapid.IntRange(0, 7).Draw(rt, "guard") == 0 {
				o.Deferred = []string{"vzdump"}
			}
			// qm status: the VM's real state, or a failing qm; a backup's
			// lock now and then; qm config and the guest agent as any of
			// their real answers, or failing.
			o.VMKnown = true
			qmFails := rapid.IntRange(0, 9).Draw(rt, "qmFails") == 0
			locked := rapid.IntRange(0, 9).Draw(rt, "locked") == 0
			switch {
			case qmFails:
				o.VM.Err = "exit 255: ipcc_send_rec failed"
			case vm == "running":
				o.VM = VMStatus{Status: "running", QMP: "running"}
			case vm == "hung": // QEMU runs, the guest does not: no SSH, no LAN
				o.VM = VMStatus{Status: "running", QMP: "running"}
				o.Router, o.LANUp = Router{Err: "timeout"}, false
			case vm == "paused":
				o.VM = VMStatus{Status: "running", QMP: "paused"}
				o.Router, o.LANUp = Router{Err: "timeout"}, false
			default:
				o.VM = VMStatus{Status: "stopped"}
				o.Router, o.LANUp = Router{Err: "timeout"}, false // a stopped VM answers no SSH
			}
			if locked && !qmFails {
				o.VM.Lock = "backup"
			}
			o.VMConfigKnown, o.AgentKnown = true, true
			o.VMConfig = VMConfig{AgentEnabled: rapid.Bool().Draw(rt, "agent"), Lock: o.VM.Lock}
			if passthrough {
				o.VMConfig.HostPCI = []string{"hostpci0"}
			}
			o.VMConfig.OnBoot = rapid.Bool().Draw(rt, "onboot")
			if rapid.IntRange(0, 9).Draw(rt, "configFails") == 0 {
				o.VMConfig = VMConfig{Err: "exit 255"}
			}
			// systemd: booting (PVE's startall not done) or not, or no answer.
			o.SystemKnown = true
			o.SystemState = rapid.SampledFrom([]string{"running", "degraded", "starting", "initializing", ""}).Draw(rt, "system")
			// PVE's autostart holds the VM: a young host, onboot=1, systemd
			// still booting (systemctl(1): initializing, starting).
			autostart := !o.UptimeUnknown && o.Uptime < cfg.MinHostUptime && o.VMConfig.Err == "" && o.VMConfig.OnBoot &&
				(o.SystemState == "starting" || o.SystemState == "initializing")
			o.Agent = qm.Ping(rapid.IntRange(int(qm.PingError), int(qm.PingNoAnswer)).Draw(rt, "agentPing"))
			step := Decide(cfg, st, o)
			if !st.PauseUntil.IsZero() && now.Before(st.PauseUntil) && step.Action != None {
				rt.Fatalf("run %d: %v while paused until %v", i, step.Action, st.PauseUntil)
			}
			if st.LANFault == step.Next.LANFault && lanSteps(step.Next.LANSteps) > lanSteps(st.LANSteps)+1 {
				rt.Fatalf("run %d: more than one LAN-side step in one run: %q -> %q", i, st.LANSteps, step.Next.LANSteps)
			}
			if step.Action == Assist && step.Assist == "" {
				rt.Fatalf("run %d: an assist without its step", i)
			}
			if step.Action == HostReboot && !cfg.HostRebootHours.Contains(now) {
				rt.Fatalf("run %d: host reboot at %s outside HOST_REBOOT_HOURS %v", i, now.Format("15:04"), cfg.HostRebootHours)
			}
			// Liveness (SPEC §13 rules 1 and 4): a VM left stopped is started
			// by the next run that finds the internet down and can ask qm,
			// unless today's VM_START_MAX is spent or PVE's autostart has it —
			// also on a day whose host rescue is spent (the VM may not have
			// come back after the reboot).
			// While PVE's own autostart runs (a young host still booting, the
			// VM onboot=1), no qm start races it (SPEC §13 rule 1).
			if autostart && step.Action == VMStart {
				rt.Fatalf("run %d: qm start while PVE still boots (uptime %v, %s) and starts the onboot VM itself", i, o.Uptime, o.SystemState)
			}
			paused := !st.PauseUntil.IsZero() && now.Before(st.PauseUntil)
			if cfg.VMID != "" && vm == "stopped" && !locked && !paused && !autostart && !o.NetUp && !qmFails && step.Action != VMStart {
				if VMStartsLeft(cfg, st, now) {
					if !strings.Contains(msgs(step), "严重错误】记录的日期在未来") {
						rt.Fatalf("run %d: the VM is stopped, the internet down, and it is not started: %s", i, msgs(step))
					}
				}
			}
			if o.Up() {
				// The internet up: the start before may be forgiven (SPEC
				// §13 rule 5 counts starts that did not bring it back),
				// whether or not this run's state is saved. Counted afresh
				// from here: Decide forgives no start taken after it. A VM
				// merely seen running forgives nothing (a crash loop).
				clear(starts)
			}
			if step.Silent {
				continue // hostcheck's check saves nothing of a silent step
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
			if o.VM.Lock != "" && (step.Action == VMStart || step.Action == VMResume || step.Action == VMRestart) {
				rt.Fatalf("run %d: %v of a VM locked by a backup", i, step.Action)
			}
			switch step.Action {
			case VMRestart:
				vms[day]++
				if vms[day] > 1 {
					rt.Fatalf("run %d: second router VM cold restart on %s", i, day)
				}
				// qm stop, then qm start: the stop may fail (the VM goes on as
				// it was), the start may fail or the run be killed between
				// the two; the VM is then left stopped.
				switch rapid.IntRange(0, 3).Draw(rt, "restartOutcome") {
				case 0:
					vm = "running"
				case 1: // qm stop failed: hostcheck records it
					_ = store.VMStopFailed(cst, step.Next.VMRestartDate)
				default:
					vm = "stopped"
				}
			case VMStart, VMResume:
				starts[day]++
				allowed := cfg.VMStartMax + damaged[day]
				if unreadDays[day] {
					allowed++
				}
				if starts[day] > allowed {
					rt.Fatalf("run %d: %d VM starts or resumes on %s (VM_START_MAX %d, record damaged %d times, unread %v)", i, starts[day], day, cfg.VMStartMax, damaged[day], unreadDays[day])
				}
				if rapid.IntRange(0, 2).Draw(rt, "startOutcome") != 0 {
					vm = "running"
				}
			case HostReboot:
				outcome := rapid.IntRange(0, 4).Draw(rt, "outcome")
				if outcome == 4 {
					// Taken for a misfire; its shutdown may land at a later
					// run, after more runs of this boot (a retry, a cancel).
					misfires[day]++
					if misfires[day] > 2 {
						rt.Fatalf("run %d: host reboot tried and misfired %d times on %s; want at most 2", i, misfires[day], day)
					}
					_, _ = store.Misfire(cst, st.LastReboot, now, misfireBoot(o.BootID), true)
					if pending == "" {
						pending, pendingDamaged = day, false
					}
					break
				}
				if outcome == 3 {
					// Taken for a misfire (【回退】), then the shutdown,
					// only slow, completes after all.
					_, _ = store.Misfire(cst, st.LastReboot, now, misfireBoot(o.BootID), true)
					outcome = 0
				}
				switch outcome {
				case 0: // rebooted
					pending = "" // a slow shutdown still pending is this reboot
					reboots[day]++
					if reboots[day]+landings[day] > 1 {
						rt.Fatalf("run %d: second host reboot on %s (landings of earlier misfires that day: %d)", i, day, landings[day])
					}
					trueNow = trueNow.Add(2 * time.Minute)
					hostBoot, bootN = trueNow, bootN+1
					_ = os.RemoveAll(store.RunDir)
					// The router VM after the boot: PVE's autostart (onboot)
					// may not have started it yet, or may never.
					if vm != "stopped" && rapid.Bool().Draw(rt, "vmAfterBoot") {
						vm = "stopped"
					}
				case 1: // misfire, or a person's cancel: nothing happened, 【回退】 tears the mark
					// A REBOOT_CMD that never works is tried at most twice a
					// day: the second misfire keeps the mark.
					counted := rapid.Bool().Draw(rt, "misfire")
					if counted {
						misfires[day]++
						if misfires[day] > 2 {
							rt.Fatalf("run %d: host reboot tried and misfired %d times on %s; want at most 2", i, misfires[day], day)
						}
					}
					_, _ = store.Misfire(cst, st.LastReboot, now, misfireBoot(o.BootID), counted)
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

func lanSteps(s string) int {
	if s == "" {
		return 0
	}
	return strings.Count(s, ",") + 1
}

// misfireBoot is the boot id hostcheck passes to Misfire: "" when
// sysinfo.BootID failed (the run's "unknown").
func misfireBoot(bootID string) string {
	if bootID == "unknown" {
		return ""
	}
	return bootID
}
