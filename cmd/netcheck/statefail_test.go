package main

import (
	"context"
	"github.com/pve-op/network-rescue/internal/command"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/pve-op/network-rescue/internal/cli"
	"github.com/pve-op/network-rescue/internal/probe"
	"github.com/pve-op/network-rescue/internal/report"
	"github.com/pve-op/network-rescue/internal/runenv"
	"github.com/pve-op/network-rescue/internal/testlab"
	"github.com/pve-op/network-rescue/state"
)

// TestFullStateDir: a full STATE_DIR (ENOSPC on the flash overlay) used to
// stop the whole ladder: the streak was never saved, so it never passed 1,
// and every run logged "本次不执行动作". Now the streak still climbs in
// RUN_DIR, L1 and L2 run (they change nothing on flash), and the L3, whose
// count cannot be persisted first, is withheld with a 【严重错误】 naming
// the file not written (SPEC §5, §15). The router then hands over: its
// outage record, written before the flash filled, tells the host it is
// down, so only SOS brings the host in. SOS_SYSTEM goes in empty (a name,
// no data block; empty is SOS, SPEC §5), once, with the `sos` event, and
// no later run withholds another L3 (it used to, every minute, with
// nothing stepping in). With no LOG_FILE.1 on STATE_DIR's filesystem,
// makeRoom has nothing to remove. STATE_DIR is a tiny tmpfs inside
// `unshare -m`, filled after the first run.
func TestFullStateDir(t *testing.T) {
	script := `mkdir -p "$1/state"
mount -t tmpfs -o size=64k,mode=0755 tmpfs "$1/state"`
	dir, child := testlab.InMountNS(t, "NRS_FULL_STATEDIR", script, func(dir string) {
		writeConf(t, dir, "L1_THRESHOLD=2", "L2_THRESHOLD=5", "L3_THRESHOLD=8",
			"L1_CMD=/bin/echo L1", "L2_CMD=/bin/echo L2", "L3_CMD=/bin/echo L3", "ON_EVENT_CMD=/bin/true")
		// A rotated log on another filesystem frees nothing there: kept.
		if err := os.WriteFile(filepath.Join(dir, "net.log.1"), []byte("old lines\n"), 0o644); err != nil {
			t.Fatal(err)
		}
	})
	if !child {
		return
	}
	conf, log := filepath.Join(dir, "netrescue.conf"), filepath.Join(dir, "net.log")
	var ran, events []string
	e := fakeEnv(t, &ran)
	e.ExecEnv = func(_ context.Context, cmdline string, _ time.Duration, env []string) command.Result {
		events = append(events, strings.TrimPrefix(env[0], "NETRESCUE_EVENT="))
		return command.Result{Cmd: cmdline}
	}
	for i := 1; i <= 12; i++ {
		if i == 2 {
			// The outage is on record (down); now the flash fills up.
			if o, _ := os.ReadFile(filepath.Join(dir, "state", "net_outage")); !strings.Contains(string(o), "since=") {
				t.Fatalf("run 1 did not record the outage: %q", o)
			}
			_ = exec.Command("dd", "if=/dev/zero", "of="+filepath.Join(dir, "state", "filler"), "bs=4k").Run()
			if err := os.WriteFile(filepath.Join(dir, "state", "probe"), []byte("x"), 0o644); err == nil {
				t.Fatal("STATE_DIR is not full: the test would prove nothing")
			}
		}
		before := len(ran)
		err := runEnvWithin(t, conf, e)
		got := strings.Join(ran[before:], "; ")
		want := map[int]string{2: "/bin/echo L1", 5: "/bin/echo L2"}[i]
		if got != want {
			t.Errorf("run %d ran %q; want %q", i, got, want)
		}
		// A run with something to write to STATE_DIR (an action's record)
		// fails: cron mails it.
		if (i == 2 || i == 5 || i == 8) && (err == nil || cli.ExitCode(err) != cli.ExitFailure) {
			t.Errorf("run %d = %v; want exit 1 (STATE_DIR cannot be written)", i, err)
		}
	}
	b, _ := os.ReadFile(log)
	var withheld []string
	for _, line := range strings.Split(string(b), "\n") {
		if strings.Contains(line, "【严重错误】") && strings.Contains(line, "action=L3") {
			withheld = append(withheld, line)
		}
	}
	if len(withheld) != 1 || !strings.Contains(withheld[0], "本次不执行动作") || !strings.Contains(withheld[0], "net_rb_count") ||
		!strings.Contains(withheld[0], "no space left on device") {
		t.Errorf("want one 【严重错误】 line withholding the L3, naming the count not written (ENOSPC); got %q:\n%s", withheld, b)
	}
	if !strings.Contains(string(b), "action=L1 not_written") {
		t.Errorf("no 【严重错误】 line saying L1 ran with STATE_DIR unwritable:\n%s", b)
	}
	if strings.Count(string(b), "【SOS】状态无法保存，路由器无法安全地重启自己。生成 SOS 信号，交给 PVE 主机。") != 1 ||
		!strings.Contains(string(b), "SOS 已发出，等待 PVE 介入") {
		t.Errorf("want the hand-over to the host logged once, then the runs waiting for it:\n%s", b)
	}
	if fi, err := os.Lstat(filepath.Join(dir, "state", "SOS_SYSTEM")); err != nil || fi.Size() != 0 {
		t.Errorf("SOS_SYSTEM: %v; want it raised, empty (all a full flash takes)", err)
	}
	if n := strings.Count(" "+strings.Join(events, " ")+" ", " sos "); n != 1 {
		t.Errorf("events %q; want one sos", events)
	}
	if _, err := os.Lstat(filepath.Join(dir, "state", "net_rb_count")); err == nil {
		t.Errorf("net_rb_count exists on a full STATE_DIR")
	}
	if _, err := os.Stat(filepath.Join(dir, "net.log.1")); err != nil {
		t.Errorf("the rotated log on another filesystem was removed: %v", err)
	}
}

// TestFullStateDirMakesRoom: with STATE_DIR full (ENOSPC, an OpenWrt
// overlay filled up) and netcheck's own rotated log (LOG_FILE.1) on the
// same filesystem, the run removes that file, says so, and writes the
// reboot's count after all: the L3 runs (SPEC §15: a full flash must not
// block the step that would fix the internet). STATE_DIR is a tiny tmpfs
// inside `unshare -m`, filled after a 24 KiB rotated log.
func TestFullStateDirMakesRoom(t *testing.T) {
	dir, child := fullStateDir(t, "NRS_FULL_MAKES_ROOM")
	if !child {
		return
	}
	if err := os.WriteFile(filepath.Join(dir, "state", "probe"), []byte("x"), 0o644); err == nil {
		t.Fatal("STATE_DIR is not full: the test would prove nothing")
	}
	var ran []string
	if err := runWithin(t, filepath.Join(dir, "netrescue.conf"), &ran); err != nil {
		t.Errorf("run = %v; want the L3 taken after room was made", err)
	}
	b, _ := os.ReadFile(filepath.Join(dir, "state", "net.log"))
	if got := strings.Join(ran, "; "); got != "/bin/echo L3" {
		t.Errorf("ran %q; want the L3\n%s", got, b)
	}
	if c, _ := os.ReadFile(filepath.Join(dir, "state", "net_rb_count")); string(c) != "1\n" {
		t.Errorf("net_rb_count = %q; want 1", c)
	}
	if _, err := os.Stat(filepath.Join(dir, "state", "net.log.1")); err == nil {
		t.Errorf("the rotated log is still there")
	}
	if !strings.Contains(string(b), "【严重错误】STATE_DIR 已满，已删除旧日志以写入状态") || !strings.Contains(string(b), "freed=24576") {
		t.Errorf("the log does not say what was removed:\n%s", b)
	}
}

// fullStateDir sets up, in a mount namespace (testlab.InMountNS), a tiny
// tmpfs STATE_DIR holding a 24 KiB rotated log (LOG_FILE.1) and filled up,
// and a config whose first failed run takes an L3; extra lines are added
// to the config.
func fullStateDir(t *testing.T, marker string, extra ...string) (dir string, child bool) {
	script := `mkdir -p "$1/state"
mount -t tmpfs -o size=64k,mode=0755 tmpfs "$1/state"
dd if=/dev/zero of="$1/state/net.log.1" bs=4k count=6 2>/dev/null
dd if=/dev/zero of="$1/state/filler" bs=4k 2>/dev/null || :`
	return testlab.InMountNS(t, marker, script, func(dir string) {
		conf := strings.Join(append([]string{"STATE_DIR=" + filepath.Join(dir, "state"), "RUN_DIR=" + filepath.Join(dir, "run"),
			"LOG_FILE=" + filepath.Join(dir, "state", "net.log"), "SYSLOG=0", "SAFE_UPTIME=0",
			"L1_THRESHOLD=0", "L2_THRESHOLD=0", "L3_THRESHOLD=1", "L3_CMD=/bin/echo L3"}, extra...), "\n")
		if err := os.WriteFile(filepath.Join(dir, "netrescue.conf"), []byte(conf+"\n"), 0o600); err != nil {
			t.Fatal(err)
		}
	})
}

// TestFullStateDirDryRunKeepsLog: a dry run's save into its own state
// that finds STATE_DIR full deleted the owner's real rotated log, for
// trial state, in a line without 【演练】 (SPEC §5 rule 5: a dry run
// touches nothing real). It keeps the log.
func TestFullStateDirDryRunKeepsLog(t *testing.T) {
	dir, child := fullStateDir(t, "NRS_FULL_DRY_KEEPS_LOG", "DRY_RUN=1")
	if !child {
		return
	}
	var ran []string
	_ = runWithin(t, filepath.Join(dir, "netrescue.conf"), &ran) // its state cannot be saved: exit 1 is fine
	if len(ran) != 0 {
		t.Errorf("a dry run ran %q", ran)
	}
	if fi, err := os.Stat(filepath.Join(dir, "state", "net.log.1")); err != nil || fi.Size() != 24576 {
		t.Errorf("the owner's rotated log: %v, %v; want it kept, 24576 bytes", fi, err)
	}
}

// TestFullStateAndRunDir: with STATE_DIR and RUN_DIR both full, the streak
// can be saved nowhere. L1 is then withheld, with 【严重错误】: run, it
// would run again every minute (each run finding the same streak) and
// the ladder would never climb (SPEC §5: persist before acting).
func TestFullStateAndRunDir(t *testing.T) { fullStateAndRunDir(t, "NRS_FULL_BOTH", 1, "L1") }

// TestFullStateAndRunDirL2: the same for L2, whose network restart would
// otherwise cut the house off every minute.
func TestFullStateAndRunDirL2(t *testing.T) { fullStateAndRunDir(t, "NRS_FULL_BOTH_L2", 4, "L2") }

// fullStateAndRunDir runs netcheck four times, down, with STATE_DIR and
// RUN_DIR full (tmpfs mounts in a mount namespace) and the streak at
// streak: each run withholds action.
func fullStateAndRunDir(t *testing.T, marker string, streak int, action string) {
	script := `for d in state run; do
  mkdir -p "$1/$d"
  mount -t tmpfs -o size=64k,mode=0700 tmpfs "$1/$d"
done
printf 'boot=boot\nstreak=` + strconv.Itoa(streak) + `\n' > "$1/run/netcheck.state"
: > "$1/run/netcheck.lock"
for d in state run; do dd if=/dev/zero of="$1/$d/filler" bs=4k 2>/dev/null || :; done`
	dir, child := testlab.InMountNS(t, marker, script, func(dir string) {
		writeConf(t, dir, "L1_THRESHOLD=2", "L2_THRESHOLD=5", "L3_THRESHOLD=8",
			"L1_CMD=/bin/echo L1", "L2_CMD=/bin/echo L2", "L3_CMD=/bin/echo L3")
	})
	if !child {
		return
	}
	conf, log := filepath.Join(dir, "netrescue.conf"), filepath.Join(dir, "net.log")
	var ran []string
	for i := 1; i <= 4; i++ {
		if err := runWithin(t, conf, &ran); err == nil || cli.ExitCode(err) != cli.ExitFailure {
			t.Errorf("run %d = %v; want exit 1 (nothing can be written)", i, err)
		}
	}
	b, _ := os.ReadFile(log)
	if len(ran) != 0 {
		t.Errorf("ran %q with the streak saved nowhere; want %s withheld\n%s", ran, action, b)
	}
	if strings.Count(string(b), "为防止每次运行重复同一步骤，本次不执行动作") != 4 || !strings.Contains(string(b), "action="+action) {
		t.Errorf("want a 【严重错误】 line withholding %s in each of the 4 runs:\n%s", action, b)
	}
}

// TestL3HalfWrittenPutBack: an L3 whose count was written but whose
// cooling was not (or the other way round) is withheld (no reboot), and
// the half written for it is put back: a count raised without a reboot
// would no longer equal the reboots performed (SPEC §15); a cooling moved
// on without one would hold the next L3 back for nothing. A router that
// cannot count its own reboots then hands over: SOS, naming the file, so
// that the host steps in (its reboot is counted on the host, once a day)
// instead of the L3 being withheld every minute with nothing stepping in.
// The host's `assist reboot` (SPEC §14) is refused the same way, without
// SOS: the refusal is the host's answer. The file not to be written is a
// bind mount of itself inside `unshare -m`, so that its atomic rename
// fails (EBUSY) while the files beside it are written. The seventh reboot
// is the first with a cooling to write (COOLING_FREE_REBOOTS=6: SPEC §2).
func TestL3HalfWrittenPutBack(t *testing.T) {
	for _, tt := range []struct{ lost, env, via, outage string }{
		{"net_cooling_ts", "NRS_L3_COOLING_LOST", "cron", ""},
		{"net_rb_count", "NRS_L3_COUNT_LOST", "cron", ""},
		{"net_cooling_ts", "NRS_ASSIST_COOLING_LOST", "assist", ""},
		// An outage whose start a clock set back put in the future
		// (2030): the hand-over's hook hears 0 seconds, never a negative
		// (the ladder restarts such an outage now, internal/ladder's
		// decider.run; run.go's clamp is a second guard).
		{"net_cooling_ts", "NRS_L3_FUTURE_OUTAGE", "cron", "since=1893456000\nlast_action=L2\nup_since=\nisp=\nassist_day=\nassists=0\n"},
	} {
		name := tt.via + "/" + tt.lost
		if tt.outage != "" {
			name = "outage_ahead/" + tt.lost // no run pattern of another row matches it
		}
		t.Run(name, func(t *testing.T) {
			script := `mkdir -p "$1/state"
printf '6\n' > "$1/state/net_rb_count"
printf '1000\n' > "$1/state/net_cooling_ts"
printf '` + tt.outage + `' > "$1/state/net_outage"
[ -s "$1/state/net_outage" ] || rm "$1/state/net_outage"
mount --bind "$1/state/` + tt.lost + `" "$1/state/` + tt.lost + `"`
			dir, child := testlab.InMountNS(t, tt.env, script, func(dir string) {
				writeConf(t, dir, "L1_THRESHOLD=0", "L2_THRESHOLD=0", "L3_THRESHOLD=1", "L3_CMD=/bin/echo L3", "ON_EVENT_CMD=/bin/true")
			})
			if !child {
				return
			}
			conf, log := filepath.Join(dir, "netrescue.conf"), filepath.Join(dir, "net.log")
			sos := filepath.Join(dir, "state", "SOS_SYSTEM")
			var ran, events []string
			for i := 1; i <= 3; i++ {
				e := fakeEnv(t, &ran)
				e.ExecEnv = func(_ context.Context, cmdline string, _ time.Duration, env []string) command.Result {
					events = append(events, strings.Join(env, " ")) // NETRESCUE_EVENT=… NETRESCUE_OUTAGE_SECONDS=…
					return command.Result{Cmd: cmdline}
				}
				if tt.via == "assist" {
					// The refusal is the answer to the host (exit 3 and JSON).
					_ = runEnvWithinArgs(t, e, "-config", conf, "assist", "reboot", "-reason", "LAN path")
					continue
				}
				err := runEnvWithin(t, conf, e)
				if i == 1 && (err == nil || cli.ExitCode(err) != cli.ExitFailure) {
					t.Errorf("run 1 = %v; want exit 1 (the L3's %s cannot be written)", err, tt.lost)
				}
			}
			b, _ := os.ReadFile(log)
			if len(ran) != 0 {
				t.Errorf("ran %q; want the L3 withheld\n%s", ran, b)
			}
			if !strings.Contains(string(b), "为防止无限重启，本次不执行动作") || !strings.Contains(string(b), tt.lost) {
				t.Errorf("no 【严重错误】 line withholding the L3 for %s:\n%s", tt.lost, b)
			}
			if strings.Contains(string(b), "无法恢复") {
				t.Errorf("what was written was put back, yet the log says it could not be:\n%s", b)
			}
			for name, want := range map[string]string{"net_rb_count": "6\n", "net_cooling_ts": "1000\n"} {
				if c, _ := os.ReadFile(filepath.Join(dir, "state", name)); string(c) != want {
					t.Errorf("%s = %q after the withheld L3s; want %q (no reboot was performed)\n%s", name, c, want, b)
				}
			}
			if o, _ := os.ReadFile(filepath.Join(dir, "state", "net_outage")); strings.Contains(string(o), "last_action=L3") ||
				regexp.MustCompile(`assists=[1-9]`).Match(o) {
				t.Errorf("net_outage credits an L3 or an assist reboot that never ran: %q", o)
			}
			content, err := os.ReadFile(sos)
			if tt.via == "assist" {
				if err == nil {
					t.Errorf("SOS raised for a refused assist: %q", content)
				}
				return
			}
			if err != nil || !strings.Contains(string(content), "reason=state not writable ("+tt.lost+")") || !strings.Contains(string(content), "count=6") {
				t.Errorf("SOS_SYSTEM = %q, %v; want raised, naming %s, count=6", content, err, tt.lost)
			}
			if !strings.Contains(string(b), "【SOS】状态无法保存，路由器无法安全地重启自己。生成 SOS 信号，交给 PVE 主机。") {
				t.Errorf("no 【SOS】 line for the hand-over:\n%s", b)
			}
			// SPEC §16: ON_EVENT_CMD hears the hand-over like any SOS, once.
			if got := strings.Join(events, " "); !strings.Contains(got, "NETRESCUE_EVENT=sos") || strings.Count(got, "NETRESCUE_EVENT=sos") != 1 {
				t.Errorf("ON_EVENT_CMD events %q; want one sos", got)
			}
			for _, ev := range events {
				if strings.Contains(ev, "NETRESCUE_EVENT=sos") && strings.Contains(ev, "NETRESCUE_OUTAGE_SECONDS=-") {
					t.Errorf("the hand-over's hook heard a negative outage: %q", ev)
				}
				if tt.outage != "" && strings.Contains(ev, "NETRESCUE_EVENT=sos") && !strings.Contains(ev, "NETRESCUE_OUTAGE_SECONDS=0") {
					t.Errorf("an outage starting in 2030: the hand-over's hook heard %q; want 0 seconds", ev)
				}
			}
			// Under SOS the ladder stops: one L3 decided and withheld, not one a minute.
			if n := strings.Count(string(b), "【L3-动作】"); n != 1 {
				t.Errorf("%d 【L3-动作】 lines in 3 runs; want 1 (then SOS)\n%s", n, b)
			}
		})
	}
}

// TestDryRunHalfWrittenLogged: in a dry run (SPEC §5 rule 5) whose own
// state cannot take an L3's cooling, every line the withheld L3 and its
// hand-over add is led by 【演练】, so that `report` counts no reboot and
// no SOS from it; the same for the host's `assist reboot`; the real state
// is untouched.
func TestDryRunHalfWrittenLogged(t *testing.T) {
	script := `d="$1/state/netrescue-dry-run"
mkdir -p "$d"
printf '6\n' > "$d/net_rb_count"
printf '1000\n' > "$d/net_cooling_ts"
mount --bind "$d/net_cooling_ts" "$d/net_cooling_ts"`
	dir, child := testlab.InMountNS(t, "NRS_DRY_HALF_WRITTEN", script, func(dir string) {
		writeConf(t, dir, "L1_THRESHOLD=0", "L2_THRESHOLD=0", "L3_THRESHOLD=1", "L3_CMD=/bin/echo L3", "DRY_RUN=1")
	})
	if !child {
		return
	}
	conf, log := filepath.Join(dir, "netrescue.conf"), filepath.Join(dir, "net.log")
	var ran []string
	// The host's `assist reboot` in the same dry run (SPEC §14), then cron's run.
	_ = runEnvWithinArgs(t, fakeEnv(t, &ran), "-config", conf, "assist", "reboot", "-reason", "LAN path")
	_ = runWithin(t, conf, &ran)
	b, _ := os.ReadFile(log)
	if len(ran) != 0 {
		t.Errorf("a dry run ran %q", ran)
	}
	if !strings.Contains(string(b), "【演练】【严重错误】状态无法保存，为防止无限重启，本次不执行动作 step=reboot") {
		t.Errorf("the dry-run assist's withheld reboot is not logged as such:\n%s", b)
	}
	for _, want := range []string{"【演练】【严重错误】状态无法保存，为防止无限重启，本次不执行动作", "【演练】【SOS】状态无法保存"} {
		if !strings.Contains(string(b), want) {
			t.Errorf("log lacks %q:\n%s", want, b)
		}
	}
	for _, line := range strings.Split(strings.TrimSpace(string(b)), "\n") {
		if (strings.Contains(line, "【严重错误】") || strings.Contains(line, "【SOS】") || strings.Contains(line, "【L3-动作】")) && !strings.Contains(line, "【演练】") {
			t.Errorf("dry-run line without 【演练】: %s", line)
		}
	}
	months, err := report.Summarize(strings.NewReader(string(b)))
	if err != nil || len(months) != 1 || months[0].Reboots != 0 || months[0].SOS != 0 {
		t.Errorf("report of the dry run = %+v, %v; want no reboot, no SOS", months, err)
	}
	if _, err := os.Stat(filepath.Join(dir, "state", "SOS_SYSTEM")); err == nil {
		t.Errorf("a dry run raised the real SOS")
	}
}

// TestL3DamagedCoolingNotNeeded: a net_cooling_ts that is damaged (a
// directory) and cannot be cleared (a mount point, EBUSY) does not withhold
// an L3 that sets no cooling (the first COOLING_FREE_REBOOTS reboots): only
// a record the reboot changes must be written before it (SPEC §5).
func TestL3DamagedCoolingNotNeeded(t *testing.T) {
	script := `mkdir -p "$1/state/net_cooling_ts" "$1/empty"
printf '1\n' > "$1/state/net_rb_count"
mount --bind "$1/empty" "$1/state/net_cooling_ts"`
	dir, child := testlab.InMountNS(t, "NRS_L3_DAMAGED_COOLING", script, func(dir string) {
		writeConf(t, dir, "L1_THRESHOLD=0", "L2_THRESHOLD=0", "L3_THRESHOLD=1", "L3_CMD=/bin/echo L3")
	})
	if !child {
		return
	}
	conf, log := filepath.Join(dir, "netrescue.conf"), filepath.Join(dir, "net.log")
	var ran []string
	_ = runWithin(t, conf, &ran) // exit 1: the damaged file stays
	b, _ := os.ReadFile(log)
	if got := strings.Join(ran, "; "); got != "/bin/echo L3" {
		t.Errorf("ran %q; want the L3 (#2, no cooling)\n%s", got, b)
	}
	if c, _ := os.ReadFile(filepath.Join(dir, "state", "net_rb_count")); string(c) != "2\n" {
		t.Errorf("net_rb_count = %q; want 2", c)
	}
	if _, err := os.Stat(filepath.Join(dir, "state", "SOS_SYSTEM")); err == nil {
		t.Errorf("SOS raised for a cooling the L3 does not need\n%s", b)
	}
}

// writeConf writes a router config with STATE_DIR and RUN_DIR under dir,
// no SAFE_UPTIME and the lines given.
func writeConf(t *testing.T, dir string, lines ...string) (conf, log string) {
	t.Helper()
	conf, log = filepath.Join(dir, "netrescue.conf"), filepath.Join(dir, "net.log")
	lines = append([]string{"STATE_DIR=" + filepath.Join(dir, "state"), "RUN_DIR=" + filepath.Join(dir, "run"),
		"LOG_FILE=" + log, "SYSLOG=0", "SAFE_UPTIME=0"}, lines...)
	if err := os.WriteFile(conf, []byte(strings.Join(lines, "\n")+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	return conf, log
}

// TestCountIsDirectory: a directory at net_rb_count used to switch the
// rescue off for good: every Save renamed its temp file onto it (EISDIR).
// Now it is reported once, cleared and rewritten, and the ladder climbs
// as with count 0: L3 on the third failed probe, count 1 (SPEC §5 rule 4,
// §15).
func TestCountIsDirectory(t *testing.T) {
	dir := t.TempDir()
	conf, log := routerConf(t, dir)
	count := filepath.Join(dir, "state", "net_rb_count")
	if err := os.MkdirAll(filepath.Join(count, "sub"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(count, "sub", "f"), []byte("7\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	var ran []string
	for i := 1; i <= 3; i++ {
		if err := runWithin(t, conf, &ran); err != nil {
			t.Fatalf("run %d = %v", i, err)
		}
	}
	b, _ := os.ReadFile(log)
	if got := strings.Join(ran, "; "); got != "/sbin/reboot -f" {
		t.Errorf("commands after 3 failed probes: %q; want L3 once\n%s", got, b)
	}
	if n, err := state.ReadCount(count); n != 1 || err != nil {
		t.Errorf("net_rb_count = %d, %v; want 1 in a regular file", n, err)
	}
	if c := strings.Count(string(b), "【严重错误】"); c != 1 || !strings.Contains(string(b), "kind=directory") {
		t.Errorf("log has %d 【严重错误】; want one, naming the directory:\n%s", c, b)
	}
}

// TestRescuedByDamagedRepaired: a FIFO at net_rescued_by used to be
// reported by every healthy run, each rewriting net_rb_count and the rest
// on flash. Now the first run reports it once and repairs it; the next
// healthy runs log nothing and write nothing (SPEC §5: a healthy run
// writes nothing anywhere).
func TestRescuedByDamagedRepaired(t *testing.T) {
	dir := t.TempDir()
	conf, log := routerConf(t, dir)
	stateDir := filepath.Join(dir, "state")
	if err := os.Mkdir(stateDir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(stateDir, "net_rb_count"), []byte("0\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	rescued := filepath.Join(stateDir, "net_rescued_by")
	if err := syscall.Mkfifo(rescued, 0o644); err != nil {
		t.Fatal(err)
	}
	var ran []string
	e := fakeEnv(t, &ran)
	e.Probe = func(context.Context, probe.Config) probe.Result { return probe.Result{Up: true} }
	if err := runEnvWithin(t, conf, e); err != nil {
		t.Fatal(err)
	}
	first, _ := os.ReadFile(log)
	if c := strings.Count(string(first), "【严重错误】"); c != 1 || !strings.Contains(string(first), "kind=fifo") {
		t.Fatalf("first run logged %d 【严重错误】; want one naming the fifo:\n%s", c, first)
	}
	if _, err := os.Lstat(rescued); err == nil {
		t.Errorf("the damaged net_rescued_by is still there")
	}
	ino := inode(t, filepath.Join(stateDir, "net_rb_count"))
	for i := 2; i <= 4; i++ {
		if err := runEnvWithin(t, conf, e); err != nil {
			t.Fatalf("run %d = %v", i, err)
		}
		if b, _ := os.ReadFile(log); string(b) != string(first) {
			t.Errorf("healthy run %d logged:\n%s", i, strings.TrimPrefix(string(b), string(first)))
		}
		if got := inode(t, filepath.Join(stateDir, "net_rb_count")); got != ino {
			t.Errorf("healthy run %d rewrote net_rb_count (inode %d, was %d)", i, got, ino)
		}
	}
	if len(ran) != 0 {
		t.Errorf("commands run on a healthy net: %q", ran)
	}
}

func inode(t *testing.T, p string) uint64 {
	t.Helper()
	var st syscall.Stat_t
	if err := syscall.Lstat(p, &st); err != nil {
		t.Fatal(err)
	}
	return st.Ino
}

// TestStreakDamaged: a negative, garbage or absurd streak in RUN_DIR's
// netcheck.state, or in its fallback on flash, used to be trusted
// silently (streak -1000: "第 -999 次失败" and no action for 1000 minutes).
// Now it is 【严重错误】 naming the file and its content, the streak
// starts at 0, and L3 comes on the third failed probe (SPEC §5 rule 4).
func TestStreakDamaged(t *testing.T) {
	for _, file := range []string{"run/netcheck.state", "state/net_volatile"} {
		for _, streak := range []string{"-1000", "abc", "999999999"} {
			t.Run(file+"/"+streak, func(t *testing.T) {
				dir := t.TempDir()
				conf, log := routerConf(t, dir)
				p := filepath.Join(dir, file)
				if err := os.MkdirAll(filepath.Dir(p), 0o700); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(p, []byte("boot=boot\nstreak="+streak+"\n"), 0o644); err != nil {
					t.Fatal(err)
				}
				var ran []string
				if err := runWithin(t, conf, &ran); err != nil {
					t.Fatal(err)
				}
				b, _ := os.ReadFile(log)
				if !strings.Contains(string(b), "【严重错误】") || !strings.Contains(string(b), p) ||
					!strings.Contains(string(b), "streak="+streak) || !strings.Contains(string(b), "第 1 次失败") {
					t.Errorf("log = %s; want 【严重错误】 naming %s and streak=%s, then failure #1", b, p, streak)
				}
				for i := 2; i <= 3; i++ {
					if err := runWithin(t, conf, &ran); err != nil {
						t.Fatal(err)
					}
				}
				if got := strings.Join(ran, "; "); got != "/sbin/reboot -f" {
					b, _ := os.ReadFile(log)
					t.Errorf("commands after 3 failed probes: %q; want L3 once\n%s", got, b)
				}
			})
		}
	}
}

// TestRunDirSharedTmp: RUN_DIR=/tmp (a directory others may write, mode
// 1777) used to be chmodded to 0700 by every run, breaking every non-root
// daemon. Now its mode stays 1777 and the lock and the streak live in a
// private 0700 subdirectory, where the next run finds them (SPEC §15).
func TestRunDirSharedTmp(t *testing.T) {
	dir := t.TempDir()
	shared := filepath.Join(dir, "tmp")
	if err := os.Mkdir(shared, 0o777); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(shared, 0o777|os.ModeSticky); err != nil {
		t.Fatal(err)
	}
	conf, log := writeConf(t, dir, "L1_THRESHOLD=2", "L2_THRESHOLD=0", "L3_THRESHOLD=100", "L1_CMD=/bin/echo L1")
	b, _ := os.ReadFile(conf)
	if err := os.WriteFile(conf, []byte(strings.Replace(string(b), "RUN_DIR="+filepath.Join(dir, "run"), "RUN_DIR="+shared, 1)), 0o600); err != nil {
		t.Fatal(err)
	}
	var ran []string
	for i := 1; i <= 2; i++ {
		if err := runWithin(t, conf, &ran); err != nil {
			t.Fatalf("run %d = %v", i, err)
		}
	}
	if got := strings.Join(ran, "; "); got != "/bin/echo L1" {
		out, _ := os.ReadFile(log)
		t.Errorf("commands after 2 failed probes: %q; want L1 (the streak was kept)\n%s", got, out)
	}
	if fi, err := os.Lstat(shared); err != nil {
		t.Fatal(err)
	} else if fi.Mode().Perm() != 0o777 || fi.Mode()&os.ModeSticky == 0 {
		t.Errorf("RUN_DIR after the runs: %v; want drwxrwxrwt, untouched", fi.Mode())
	}
	sub := filepath.Join(shared, cli.PrivateRunDir)
	if fi, err := os.Lstat(sub); err != nil || !fi.IsDir() || fi.Mode().Perm() != 0o700 {
		t.Errorf("private RUN_DIR %s: %v, %v; want a 0700 directory", sub, fi, err)
	}
	for _, name := range []string{"netcheck.lock", "netcheck.state"} {
		if _, err := os.Lstat(filepath.Join(sub, name)); err != nil {
			t.Errorf("%s not in the private subdirectory: %v", name, err)
		}
		if _, err := os.Lstat(filepath.Join(shared, name)); err == nil {
			t.Errorf("%s created in the shared directory itself", name)
		}
	}
}

// TestSOSNotWrittenIsRetried: an SOS that STATE_DIR could not take (a
// flash remounted read-only) is retried at the next run, as its
// 【严重错误】 line says. The run had saved RUN_DIR's "SOS logged" time
// all the same, and the next run took it for an SOS that stood and was
// cleared (the host's acknowledgement): it started the ladder over, L1
// and L2 again, and the SOS only came L3_THRESHOLD runs later, every
// cycle. STATE_DIR is a tmpfs made read-only after the first run.
func TestSOSNotWrittenIsRetried(t *testing.T) {
	script := `mkdir -p "$1/state"
mount -t tmpfs -o size=1m,mode=0755 tmpfs "$1/state"`
	dir, child := testlab.InMountNS(t, "NRS_SOS_NOT_WRITTEN", script, func(dir string) {
		writeConf(t, dir, "L1_THRESHOLD=2", "L2_THRESHOLD=3", "L3_THRESHOLD=4", "L4_SOS_THRESHOLD=1",
			"L1_CMD=/bin/echo L1", "L2_CMD=/bin/echo L2", "L3_CMD=/bin/echo L3")
	})
	if !child {
		return
	}
	conf, log := filepath.Join(dir, "netrescue.conf"), filepath.Join(dir, "net.log")
	var ran []string
	e := fakeEnv(t, &ran)
	for i := 1; i <= 8; i++ {
		if i == 2 {
			if err := syscall.Mount("tmpfs", filepath.Join(dir, "state"), "", syscall.MS_REMOUNT|syscall.MS_RDONLY, ""); err != nil {
				t.Fatal(err)
			}
		}
		_ = runEnvWithin(t, conf, e)
	}
	b, _ := os.ReadFile(log)
	if n := strings.Count(string(b), "SOS 未能写入，下次运行重试"); n != 5 {
		t.Errorf("runs 4 to 8 each retry the SOS: %d 【严重错误】 SOS lines; want 5\n%s", n, b)
	}
	if got := strings.Join(ran, "; "); got != "/bin/echo L1; /bin/echo L2" {
		t.Errorf("ran %q; want L1 and L2 once, nothing after the SOS that could not be written\n%s", got, b)
	}
}

// TestSOSWithdrawnFullFlash: the host acknowledges an SOS (SOS_SYSTEM
// deleted) and reboots the router while its flash is full, so net_outage
// cannot take the SOS's end as told. ON_EVENT_CMD hears sos-withdrawn
// once, from the first run that can write it; it heard it every minute,
// each run finding sos=1 still on flash. STATE_DIR is a tiny tmpfs inside
// `unshare -m`, filled after the SOS.
func TestSOSWithdrawnFullFlash(t *testing.T) {
	script := `mkdir -p "$1/state"
mount -t tmpfs -o size=64k,mode=0755 tmpfs "$1/state"`
	dir, child := testlab.InMountNS(t, "NRS_SOSW_FULL", script, func(dir string) {
		writeConf(t, dir, "L1_THRESHOLD=2", "L2_THRESHOLD=3", "L3_THRESHOLD=4", "L4_SOS_THRESHOLD=1",
			"L1_CMD=/bin/echo L1", "L2_CMD=/bin/echo L2", "L3_CMD=/bin/echo L3", "ON_EVENT_CMD=/bin/true")
	})
	if !child {
		return
	}
	conf, e, events, boot, sos := sosBooted(t, dir)
	// The host's acknowledgement, a full flash, the router rebooted.
	if err := os.Remove(sos); err != nil {
		t.Fatal(err)
	}
	filler := filepath.Join(dir, "state", "filler")
	_ = exec.Command("dd", "if=/dev/zero", "of="+filler, "bs=4k").Run()
	if err := os.RemoveAll(filepath.Join(dir, "run")); err != nil {
		t.Fatal(err)
	}
	*boot, *events = "boot2", nil
	count := func() int { return countOf(*events, "sos-withdrawn") }
	for range 3 {
		_ = runEnvWithin(t, conf, e)
	}
	if n := count(); n > 1 {
		t.Errorf("full flash, 3 runs: events %q, sos-withdrawn %d times; want at most once", *events, n)
	}
	if err := os.Remove(filler); err != nil {
		t.Fatal(err)
	}
	for range 3 {
		_ = runEnvWithin(t, conf, e)
	}
	if n := count(); n != 1 {
		t.Errorf("full flash, then room: events %q, sos-withdrawn %d times; want once", *events, n)
	}
}

// TestSOSWithdrawnSOSFileStuck: the internet comes back under an SOS whose
// file cannot be removed (SOS_SYSTEM immutable; root cannot remove it
// either): ON_EVENT_CMD hears sos-withdrawn once, from the run that
// removes it, or after someone else removed it; it heard it every run,
// each finding the SOS still there, and then, its flag written off with
// the SOS, not at all when removed by hand.
func TestSOSWithdrawnSOSFileStuck(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("skipping: chattr +i needs root (CI runs as root)")
	}
	for _, byHand := range []bool{false, true} {
		dir := t.TempDir()
		conf, _ := writeConf(t, dir, "L1_THRESHOLD=2", "L2_THRESHOLD=3", "L3_THRESHOLD=4", "L4_SOS_THRESHOLD=1",
			"L1_CMD=/bin/echo L1", "L2_CMD=/bin/echo L2", "L3_CMD=/bin/echo L3", "ON_EVENT_CMD=/bin/true")
		var ran []string
		e := fakeEnv(t, &ran)
		events := eventsOf(&e)
		sos := untilSOS(t, dir, conf, e)
		if out, err := exec.Command("chattr", "+i", sos).CombinedOutput(); err != nil {
			t.Skipf("skipping: chattr +i %s: %v %s (a file system without the immutable flag)", sos, err, out)
		}
		t.Cleanup(func() { _ = exec.Command("chattr", "-i", sos).Run() })
		e.Probe = func(context.Context, probe.Config) probe.Result { return probe.Result{Up: true} }
		*events = nil
		outage := filepath.Join(dir, "state", "net_outage")
		inode := func() syscall.Timespec { // its change time: an inode number may be reused by the next write
			fi, err := os.Stat(outage)
			if err != nil {
				t.Fatal(err)
			}
			return fi.Sys().(*syscall.Stat_t).Ctim
		}
		count := func() int { return countOf(*events, "sos-withdrawn") }
		_ = runEnvWithin(t, conf, e)
		first := inode() // the run that found the internet back wrote its record
		for range 2 {
			_ = runEnvWithin(t, conf, e)
		}
		if n := count(); n > 1 {
			t.Errorf("SOS_SYSTEM stuck, net up, 3 runs: events %q, sos-withdrawn %d times; want at most once", *events, n)
		}
		if inode() != first {
			t.Errorf("SOS_SYSTEM stuck, net up: net_outage rewritten by runs with nothing new to write (a flash write a minute)")
		}
		if out, err := exec.Command("chattr", "-i", sos).CombinedOutput(); err != nil {
			t.Fatalf("chattr -i: %v %s", err, out)
		}
		if byHand {
			// Someone else removes it (a person, the host's acknowledgement):
			// still told, once.
			if err := os.Remove(sos); err != nil {
				t.Fatal(err)
			}
		}
		for range 2 {
			_ = runEnvWithin(t, conf, e)
		}
		if n := count(); n != 1 {
			t.Errorf("then removable (by hand %v): events %q, sos-withdrawn %d times; want once", byHand, *events, n)
		}
	}
}

// TestSOSWithdrawnTouchedStuck: an SOS_SYSTEM that no run of ours raised
// (the original scripts' touch, one made by hand: no sos=1 in net_outage)
// and that cannot be removed, then removed by hand: ON_EVENT_CMD hears
// sos-withdrawn once; the run that found it stuck wrote nothing that kept
// it owed, and nothing told it.
func TestSOSWithdrawnTouchedStuck(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("skipping: chattr +i needs root (CI runs as root)")
	}
	dir := t.TempDir()
	conf, _ := writeConf(t, dir, "ON_EVENT_CMD=/bin/true")
	var ran []string
	e := fakeEnv(t, &ran)
	events := eventsOf(&e)
	e.Probe = func(context.Context, probe.Config) probe.Result { return probe.Result{Up: true} }
	sos := filepath.Join(dir, "state", "SOS_SYSTEM")
	if err := os.MkdirAll(filepath.Dir(sos), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(sos, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command("chattr", "+i", sos).CombinedOutput(); err != nil {
		t.Skipf("skipping: chattr +i %s: %v %s (a file system without the immutable flag)", sos, err, out)
	}
	t.Cleanup(func() { _ = exec.Command("chattr", "-i", sos).Run() })
	_ = runEnvWithin(t, conf, e)
	if out, err := exec.Command("chattr", "-i", sos).CombinedOutput(); err != nil {
		t.Fatalf("chattr -i: %v %s", err, out)
	}
	if err := os.Remove(sos); err != nil {
		t.Fatal(err)
	}
	for range 2 {
		_ = runEnvWithin(t, conf, e)
	}
	if n := countOf(*events, "sos-withdrawn"); n != 1 {
		t.Errorf("a touched SOS_SYSTEM, stuck, then removed by hand: events %q, sos-withdrawn %d times; want once", *events, n)
	}
}

// eventsOf records, by name, the ON_EVENT_CMD events the runs of e fire.
func eventsOf(e *runenv.Env) *[]string {
	events := new([]string)
	e.ExecEnv = func(_ context.Context, cmdline string, _ time.Duration, env []string) command.Result {
		*events = append(*events, strings.TrimPrefix(env[0], "NETRESCUE_EVENT="))
		return command.Result{Cmd: cmdline}
	}
	return events
}

// untilSOS runs netcheck with conf (its STATE_DIR in dir) until it raises
// SOS, ten runs at most, and returns SOS_SYSTEM's path.
func untilSOS(t *testing.T, dir, conf string, e runenv.Env) string {
	t.Helper()
	sos := filepath.Join(dir, "state", "SOS_SYSTEM")
	for i := 0; ; i++ {
		if _, err := os.Lstat(sos); err == nil {
			return sos
		}
		if i == 10 {
			t.Fatalf("no SOS after 10 runs")
		}
		_ = runEnvWithin(t, conf, e)
	}
}

// sosBooted runs netcheck on dir's netrescue.conf until SOS (untilSOS),
// in a boot whose id the caller may change (*boot), the events fired
// recorded (eventsOf).
func sosBooted(t *testing.T, dir string) (conf string, e runenv.Env, events *[]string, boot *string, sos string) {
	t.Helper()
	conf = filepath.Join(dir, "netrescue.conf")
	var ran []string
	e = fakeEnv(t, &ran)
	events = eventsOf(&e)
	boot = new(string)
	*boot = "boot1"
	e.BootID = func() (string, error) { return *boot, nil }
	return conf, e, events, boot, untilSOS(t, dir, conf, e)
}

// countOf is how many of events are name.
func countOf(events []string, name string) (n int) {
	for _, ev := range events {
		if ev == name {
			n++
		}
	}
	return n
}
