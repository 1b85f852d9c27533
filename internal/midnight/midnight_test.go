package midnight

import (
	"context"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/pve-op/network-rescue/internal/cli"
	"github.com/pve-op/network-rescue/internal/config"
	"github.com/pve-op/network-rescue/internal/rescue"
	"github.com/pve-op/network-rescue/internal/testlab"
	"github.com/pve-op/network-rescue/state"
)

// TestInvoked: the base name of argv[0] decides, as busybox does, so the
// router's /usr/bin/midnight-reset -> netcheck and a relative call both run
// the reset, and netcheck under its own name never does.
func TestInvoked(t *testing.T) {
	for _, tt := range []struct {
		argv0 string
		want  bool
	}{
		{"/usr/bin/midnight-reset", true},
		{"midnight-reset", true},
		{"./midnight-reset", true},
		{"/usr/bin/netcheck", false},
		{"netcheck", false},
		{"/usr/bin/midnight-reset.old", false},
		{"/tmp/midnight-reset/netcheck", false},
		{"", false},
	} {
		if got := Invoked(tt.argv0); got != tt.want {
			t.Errorf("Invoked(%q) = %v; want %v", tt.argv0, got, tt.want)
		}
	}
}

// TestDetectRole: -role wins; without it netcheck's default (router) holds
// whatever the machine looks like.
func TestDetectRole(t *testing.T) {
	for _, tt := range []struct {
		flag string
		def  config.Role
		want config.Role
	}{
		{"router", "", config.Router},
		{"host", "", config.Host},
		{"host", config.Router, config.Host},
		{"", config.Router, config.Router},
	} {
		got, err := detectRole(tt.flag, tt.def)
		if err != nil || got != tt.want {
			t.Errorf("detectRole(%q, %q) = %q, %v; want %q", tt.flag, tt.def, got, err, tt.want)
		}
	}
	if _, err := detectRole("nas", config.Router); err == nil {
		t.Errorf("detectRole(\"nas\") = nil error; want a usage error")
	}
}

// TestRouterHelp: the router's midnight-reset -h (netcheck through the
// symlink, no host side) listed -force and "-role host", both refused
// there; it offers neither now. The host's -h still has both.
func TestRouterHelp(t *testing.T) {
	for _, tc := range []struct {
		name     string
		host     HostReset
		wantHost bool
	}{{"router", nil, false}, {"host", ResetHost, true}} {
		t.Run(tc.name, func(t *testing.T) {
			stderr, err := os.Create(filepath.Join(t.TempDir(), "stderr"))
			if err != nil {
				t.Fatal(err)
			}
			defer stderr.Close()
			_ = Run(context.Background(), []string{"-h"}, &strings.Builder{}, stderr, config.Router, tc.host)
			help, _ := os.ReadFile(stderr.Name())
			for _, w := range []string{"-force", "or `host`"} {
				if got := strings.Contains(string(help), w); got != tc.wantHost {
					t.Errorf("-h has %q: %v; want %v:\n%s", w, got, tc.wantHost, help)
				}
			}
		})
	}
}

// TestRouterBinaryRefusesHostReset: the router's netcheck, run as
// midnight-reset -role host, carries no host reset (HostReset nil): a
// usage error (exit 2) that names the binary to use, before any config is
// read or anything touched.
func TestRouterBinaryRefusesHostReset(t *testing.T) {
	dir := t.TempDir()
	var out strings.Builder
	err := Run(context.Background(), []string{"-role", "host", "-config", filepath.Join(dir, "missing.conf")}, &out, os.Stderr, config.Router, nil)
	if cli.ExitCode(err) != cli.ExitUsage || err == nil || !strings.Contains(err.Error(), "the host's midnight-reset") {
		t.Errorf("Run(-role host) without the host side = %v (exit %d); want a usage error naming the host's midnight-reset", err, cli.ExitCode(err))
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 0 {
		t.Errorf("Run wrote %v", entries)
	}
}

// TestRouterResetFullFlash: on a full STATE_DIR (ENOSPC) midnight-reset
// used to stop at the count it could not write, leaving cooling and SOS:
// the new day began in SOS with yesterday's count. Now the removals come
// first (they need no room), and a count that cannot be written as 0 is
// removed, which reads as 0 (SPEC §5: count := 0, delete cooling and SOS).
// STATE_DIR is a tiny tmpfs filled up inside `unshare -m`; with the count
// alone nothing is freed before it is written.
func TestRouterResetFullFlash(t *testing.T) {
	for _, tt := range []struct{ name, env, files string }{
		{"count_cooling_sos", "NRS_MIDNIGHT_FULL_ALL", `printf '1000\n' > "$1/state/net_cooling_ts"
printf 'time=x count=9 reason=y\n' > "$1/state/SOS_SYSTEM"`},
		{"count_alone", "NRS_MIDNIGHT_FULL_COUNT", ""},
	} {
		t.Run(tt.name, func(t *testing.T) {
			script := `mkdir -p "$1/state"
mount -t tmpfs -o size=64k,mode=0755 tmpfs "$1/state"
printf '9\n' > "$1/state/net_rb_count"
` + tt.files + `
dd if=/dev/zero of="$1/state/filler" bs=4k 2>/dev/null || :`
			dir, child := testlab.InMountNS(t, tt.env, script, func(dir string) {
				conf := "STATE_DIR=" + filepath.Join(dir, "state") + "\nRUN_DIR=" + filepath.Join(dir, "run") +
					"\nLOG_FILE=" + filepath.Join(dir, "net.log") + "\nSYSLOG=0\n"
				if err := os.WriteFile(filepath.Join(dir, "netrescue.conf"), []byte(conf), 0o600); err != nil {
					t.Fatal(err)
				}
			})
			if !child {
				return
			}
			if err := os.WriteFile(filepath.Join(dir, "state", "probe"), []byte("x"), 0o644); err == nil {
				t.Fatal("STATE_DIR is not full: the test would prove nothing")
			}
			var out strings.Builder
			if err := Run(context.Background(), []string{"-role", "router", "-config", filepath.Join(dir, "netrescue.conf")}, &out, os.Stderr, config.Router, nil); err != nil {
				t.Errorf("midnight-reset on a full STATE_DIR = %v; want the reset done", err)
			}
			for _, name := range []string{"net_cooling_ts", "SOS_SYSTEM"} {
				if _, err := os.Lstat(filepath.Join(dir, "state", name)); err == nil {
					t.Errorf("%s is still there after the reset", name)
				}
			}
			if n, err := state.ReadCount(filepath.Join(dir, "state", "net_rb_count")); err != nil || n != 0 {
				t.Errorf("count after the reset = %d, %v; want 0", n, err)
			}
			if b, _ := os.ReadFile(filepath.Join(dir, "net.log")); !strings.Contains(string(b), "【重置】新的一天") {
				t.Errorf("no 【重置】 line:\n%s", b)
			}
		})
	}
}

// TestRouterResetFiresSOSWithdrawn: the reset that deletes SOS runs
// ON_EVENT_CMD with sos-withdrawn, as netcheck does when it withdraws SOS
// itself (SPEC §16): a hook that heard "sos" used to never hear its end.
// No SOS, no event; a dry run runs no hook.
func TestRouterResetFiresSOSWithdrawn(t *testing.T) {
	for _, tt := range []struct {
		name     string
		sos      bool
		dryRun   bool
		want     string
		countDir bool // net_rb_count a directory: the reset fails after SOS went
	}{
		{"sos", true, false, "sos-withdrawn midnight-reset 3600\n", false},
		{"no sos", false, false, "", false},
		{"dry run", true, true, "", false},
		// The SOS went though the count could not be reset: its hook is
		// still told (the reset returned before it, and the next run,
		// RUN_DIR started over, told nothing either).
		{"sos, the count not written", true, false, "sos-withdrawn midnight-reset 3600\n", true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			stateDir := filepath.Join(dir, "state")
			if tt.dryRun {
				stateDir = filepath.Join(stateDir, "netrescue-dry-run")
			}
			if err := os.MkdirAll(stateDir, 0o700); err != nil {
				t.Fatal(err)
			}
			// The outage under way, an hour old: its length goes with the
			// event, as netcheck's own events carry it.
			files := map[string]string{"net_rb_count": "10\n",
				"net_outage": "since=" + state.RecordTimeString(time.Now().Add(-time.Hour)) + "\n"}
			if tt.sos {
				files["SOS_SYSTEM"] = "time=x count=10 reason=y\n"
			}
			if tt.countDir {
				delete(files, "net_rb_count")
				if err := os.Mkdir(filepath.Join(stateDir, "net_rb_count"), 0o700); err != nil {
					t.Fatal(err)
				}
			}
			for name, c := range files {
				if err := os.WriteFile(filepath.Join(stateDir, name), []byte(c), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			rec := filepath.Join(dir, "events")
			hook := filepath.Join(dir, "hook.sh")
			if err := os.WriteFile(hook, []byte("#!/bin/sh\necho \"$NETRESCUE_EVENT $NETRESCUE_DETAIL $(( NETRESCUE_OUTAGE_SECONDS / 100 * 100 ))\" >> "+rec+"\n"), 0o755); err != nil {
				t.Fatal(err)
			}
			conf := "STATE_DIR=" + filepath.Join(dir, "state") + "\nRUN_DIR=" + filepath.Join(dir, "run") +
				"\nLOG_FILE=" + filepath.Join(dir, "net.log") + "\nSYSLOG=0\nON_EVENT_CMD=" + hook + "\n"
			if tt.dryRun {
				conf += "DRY_RUN=1\n"
			}
			if err := os.WriteFile(filepath.Join(dir, "netrescue.conf"), []byte(conf), 0o600); err != nil {
				t.Fatal(err)
			}
			var out strings.Builder
			if err := Run(context.Background(), []string{"-role", "router", "-config", filepath.Join(dir, "netrescue.conf")}, &out, os.Stderr, config.Router, nil); (err != nil) != tt.countDir {
				t.Fatalf("midnight-reset = %v; want an error %v", err, tt.countDir)
			}
			if _, err := os.Lstat(filepath.Join(stateDir, "SOS_SYSTEM")); err == nil {
				t.Errorf("SOS_SYSTEM still there after the reset")
			}
			got, _ := os.ReadFile(rec)
			if string(got) != tt.want {
				t.Errorf("ON_EVENT_CMD heard %q; want %q", got, tt.want)
			}
		})
	}
}

// TestResetHost: the host's midnight-reset deletes the mark and nothing
// else; the day of the last reboot renews by itself when the date changes,
// so a reset run by hand the same afternoon leaves today's rescue spent
// (SPEC §6: no deletion makes a spent day look fresh). Only -force, a
// person's override, forgets today's reboot and its misfires.
func TestResetHost(t *testing.T) {
	now := time.Date(2026, 11, 25, 15, 0, 0, 0, time.UTC)
	for _, tt := range []struct {
		name       string
		force      bool
		wantLog    string
		wantLast   string
		wantAction rescue.Action
	}{
		{name: "plain", wantLog: "【重置】新的一天：已删除今日重启标记。", wantLast: "2026-11-25", wantAction: rescue.None},
		{name: "-force", force: true, wantLog: "【重置】已删除今日重启标记并忘记今天的物理机重启 (-force)", wantAction: rescue.HostReboot},
	} {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			cfg := config.Default(config.Host)
			cfg.PVEMark, cfg.StateDir = filepath.Join(dir, "pve_rebooted_today"), filepath.Join(dir, "state")
			store := rescue.Store{Mark: cfg.PVEMark, StateDir: cfg.StateDir, Now: func() time.Time { return now }}
			// The host rebooted at 03:00 today; a misfire before it.
			rebooted := rescue.State{HasMark: true, LastReboot: "2026-11-25", MisfireDate: "2026-11-25", MisfireBoot: "b0",
				Mark: state.Mark{Date: "2026-11-25", Time: now.Add(-12 * time.Hour), BootID: "b1", Reason: "SOS count=10", Dated: true}}
			if err := store.Save(rescue.State{}, rebooted); err != nil {
				t.Fatal(err)
			}
			var log strings.Builder
			if err := ResetHost(context.Background(), slog.New(slog.NewTextHandler(&log, nil)), cfg, time.UTC, "", tt.force); err != nil {
				t.Fatalf("ResetHost = %v", err)
			}
			if !strings.Contains(log.String(), tt.wantLog) {
				t.Errorf("log %q lacks %q", log.String(), tt.wantLog)
			}
			if _, err := os.Lstat(cfg.PVEMark); err == nil {
				t.Errorf("the mark is still there")
			}
			st, _ := store.Load(time.UTC)
			if st.LastReboot != tt.wantLast {
				t.Errorf("last_reboot_date = %q; want %q", st.LastReboot, tt.wantLast)
			}
			// The next run, SOS at 15:05 in the boot the reboot started.
			obs := rescue.Obs{Now: now.Add(5 * time.Minute), Uptime: 12 * time.Hour, BootID: "b1", NetKnown: true, RouterKnown: true,
				Router: rescue.Router{SOS: true, SOSContent: "count=10"}, LANKnown: true, LANUp: true, GuardsKnown: true}
			if s := rescue.Decide(cfg, st, obs); s.Action != tt.wantAction {
				t.Errorf("next run with SOS: %v; want %v", s.Action, tt.wantAction)
			}
		})
	}
}

// TestForceDamagedStarts: -force on a hostcheck.state whose VM start count
// is damaged leaves one start that day, as a cron run reads it; it wrote
// the damage's old reading (1024, every start spent) back as the count.
func TestForceDamagedStarts(t *testing.T) {
	dir := t.TempDir()
	cfg := config.Default(config.Host)
	cfg.PVEMark, cfg.StateDir = filepath.Join(dir, "pve_rebooted_today"), filepath.Join(dir, "state")
	if err := os.MkdirAll(cfg.StateDir, 0o755); err != nil {
		t.Fatal(err)
	}
	rec := "last_reboot_date=2026-11-25\nvm_restart_date=\nvm_start_date=2026-11-25\nvm_starts=-4\n"
	if err := os.WriteFile(filepath.Join(cfg.StateDir, rescue.RecordFile), []byte(rec), 0o644); err != nil {
		t.Fatal(err)
	}
	var log strings.Builder
	if err := ResetHost(context.Background(), slog.New(slog.NewTextHandler(&log, nil)), cfg, time.UTC, "", true); err != nil {
		t.Fatalf("ResetHost = %v", err)
	}
	// The rewrite of the damage is said, as a cron run says it.
	if !strings.Contains(log.String(), "【严重错误】状态文件损坏") || !strings.Contains(log.String(), "vm_starts") {
		t.Errorf("-force rewrote a damaged record without a word:\n%s", log.String())
	}
	st, problems := rescue.Store{Mark: cfg.PVEMark, StateDir: cfg.StateDir, VMStartMax: cfg.VMStartMax}.Load(time.UTC)
	day := time.Date(2026, 11, 25, 15, 0, 0, 0, time.UTC)
	if len(problems) != 0 || !rescue.VMStartsLeft(cfg, st, day) || st.LastReboot != "" {
		t.Errorf("after -force: problems %v, %d starts on %q, last reboot %q; want a start left, no reboot", problems, st.VMStarts, st.VMStartDate, st.LastReboot)
	}
}
