package main

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/knownhosts"

	"github.com/pve-op/network-rescue/internal/command"
	"github.com/pve-op/network-rescue/internal/probe"
	"github.com/pve-op/network-rescue/internal/runenv"
)

// TestFIFOSSHFiles: a FIFO as SSH_KEY or KNOWN_HOSTS does not hang a host
// run (opening it used to block forever, holding the lock): the run
// finishes within its bound and logs 【严重错误】 with the kind (SPEC §15,
// issue 9 item 11). Both fail before any connection is made; OP_IP is a
// documentation address all the same.
func TestFIFOSSHFiles(t *testing.T) {
	pub, _, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	hostKey, err := ssh.NewPublicKey(pub)
	if err != nil {
		t.Fatal(err)
	}
	for _, fifo := range []string{"SSH_KEY", "KNOWN_HOSTS"} {
		t.Run(fifo, func(t *testing.T) {
			dir := t.TempDir()
			st, key, kh := filepath.Join(dir, "state"), filepath.Join(dir, "id_ed25519"), filepath.Join(dir, "known_hosts")
			if err := os.Mkdir(st, 0o700); err != nil {
				t.Fatal(err)
			}
			// The file that is not the FIFO is sound: a pin for the router.
			line := knownhosts.Line([]string{"203.0.113.9:22"}, hostKey) + "\n"
			if err := os.WriteFile(kh, []byte(line), 0o600); err != nil {
				t.Fatal(err)
			}
			p := map[string]string{"SSH_KEY": key, "KNOWN_HOSTS": kh}[fifo]
			_ = os.Remove(p)
			if err := syscall.Mkfifo(p, 0o600); err != nil {
				t.Fatal(err)
			}
			conf, log := filepath.Join(dir, "host.conf"), filepath.Join(dir, "host.log")
			lines := "STATE_DIR=" + st + "\nRUN_DIR=" + filepath.Join(dir, "run") + "\nLOG_FILE=" + log +
				"\nSYSLOG=0\nPVE_MARK=" + filepath.Join(st, "pve_did_reboot_today") +
				"\nOP_IP=203.0.113.9\nSSH_KEY=" + key + "\nKNOWN_HOSTS=" + kh +
				"\nSSH_TIMEOUT=2\nCHECK_TARGETS=198.51.100.1\n"
			if err := os.WriteFile(conf, []byte(lines), 0o600); err != nil {
				t.Fatal(err)
			}
			stderr, _ := os.Create(filepath.Join(dir, "stderr"))
			defer stderr.Close()
			e := runenv.Env{Stdout: &strings.Builder{}, Stderr: stderr,
				Now: func() time.Time { return time.Date(2026, 11, 25, 10, 0, 0, 0, time.UTC) },
				// The internet is down: hostcheck asks the router over SSH.
				Probe: func(context.Context, probe.Config) probe.Result { return probe.Result{Up: false} },
				Exec: func(_ context.Context, cmdline string, _ time.Duration) command.Result {
					return command.Result{Cmd: cmdline}
				},
				Uptime: func() (time.Duration, error) { return 24 * time.Hour, nil },
				BootID: func() (string, error) { return "boot", nil },
			}
			done := make(chan error, 1)
			go func() { done <- run(context.Background(), []string{"-config", conf, "-dry-run"}, e) }()
			select {
			case <-done:
			case <-time.After(10 * time.Second):
				t.Fatal("hostcheck hung on a FIFO as " + fifo)
			}
			b, _ := os.ReadFile(log)
			if !strings.Contains(string(b), "【严重错误】") || !strings.Contains(string(b), "fifo") || !strings.Contains(string(b), p) {
				t.Errorf("log = %s; want 【严重错误】 naming %s and the kind fifo", b, p)
			}
		})
	}
}

// TestStatusFIFO: a FIFO as LOG_FILE, as the crontab or as SSH_KEY does
// not hang `hostcheck status`: each is a ✗ line naming the kind, followed
// by its fix (SPEC §15, issue 9 item 11).
func TestStatusFIFO(t *testing.T) {
	dir := t.TempDir()
	st, key, kh := filepath.Join(dir, "state"), filepath.Join(dir, "id_ed25519"), filepath.Join(dir, "known_hosts")
	logFile, tab := filepath.Join(dir, "host.log"), filepath.Join(dir, "crontab")
	if err := os.Mkdir(st, 0o700); err != nil {
		t.Fatal(err)
	}
	pub, _, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	hostKey, _ := ssh.NewPublicKey(pub)
	if err := os.WriteFile(kh, []byte(knownhosts.Line([]string{"203.0.113.9:22"}, hostKey)+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{logFile, tab, key} {
		if err := syscall.Mkfifo(p, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	conf := filepath.Join(dir, "host.conf")
	lines := "STATE_DIR=" + st + "\nRUN_DIR=" + filepath.Join(dir, "run") + "\nLOG_FILE=" + logFile +
		"\nSYSLOG=0\nPVE_MARK=" + filepath.Join(st, "pve_did_reboot_today") +
		"\nOP_IP=203.0.113.9\nSSH_KEY=" + key + "\nKNOWN_HOSTS=" + kh +
		"\nSSH_TIMEOUT=2\nCHECK_TARGETS=198.51.100.1\n"
	if err := os.WriteFile(conf, []byte(lines), 0o600); err != nil {
		t.Fatal(err)
	}
	stderr, _ := os.Create(filepath.Join(dir, "stderr"))
	defer stderr.Close()
	out := &strings.Builder{}
	e := runenv.Env{Stdout: out, Stderr: stderr,
		Now:   func() time.Time { return time.Date(2026, 11, 25, 10, 0, 0, 0, time.UTC) },
		Probe: func(context.Context, probe.Config) probe.Result { return probe.Result{Up: true} },
		Exec: func(_ context.Context, cmdline string, _ time.Duration) command.Result {
			return command.Result{Cmd: cmdline, Err: os.ErrNotExist}
		},
		Uptime: func() (time.Duration, error) { return 24 * time.Hour, nil },
		BootID: func() (string, error) { return "boot", nil },
	}
	done := make(chan struct{})
	go func() {
		_ = run(context.Background(), []string{"-config", conf, "status", "-crontab", tab}, e)
		close(done)
	}()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("hostcheck status hung on a FIFO")
	}
	for _, want := range []string{
		"✗ cron entries: " + tab + " is a fifo, not a crontab file\n    fix: ",
		"✗ last log lines: " + logFile + " is a fifo, not the log file\n    fix: ",
		"✗ SSH files: " + key + " is a fifo, not a regular file\n    fix: ",
	} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("status:\n%s\nwant\n%s", out, want)
		}
	}
}

// TestSSHFileDamageSpentDay: on a day whose host rescue is spent, with the
// router VM running and the internet down, every run reads the router (a
// hung VM still gets the day's cold restart). A FIFO as KNOWN_HOSTS (read
// before SSH_KEY) made each of them log 【严重错误】SSH 文件不是普通文件
// beside the decision, every five minutes, also on the runs the decision
// made silent. The decision says it now, with the file and its kind, on
// the runs that say the SSH failure: when it begins, or with something
// new (here the router answering ping on the LAN), not on the runs that
// would only repeat it.
func TestSSHFileDamageSpentDay(t *testing.T) {
	l := newObsLab(t)
	kh := filepath.Join(l.dir, "known_hosts")
	if err := syscall.Mkfifo(kh, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(l.cfg.PVEMark, []byte("boot_id=boot-0\ndate=2026-12-06\nreason=SOS\ntime=2026-12-06T09:00:00Z\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	l.up, l.lanUp = false, true
	// Runs at 0, 5, 10, 15 and 20 minutes: the 10th is the first past
	// VM_HUNG_AFTER and says that the router answers ping on the LAN.
	for i, want := range []bool{true, false, true, false, false} {
		l.log.Reset()
		l.run()
		said := strings.Count(l.log.String(), "【严重错误】SSH 文件不是普通文件，无法连接路由器")
		if said != map[bool]int{true: 1, false: 0}[want] || !want && l.log.Len() != 0 {
			t.Errorf("run %d: the SSH file line said %d times; want it said %v (and nothing on a run that only repeats)\nlog:\n%s", i+1, said, want, l.log.String())
		}
		if want && (!strings.Contains(l.log.String(), "file="+kh) || !strings.Contains(l.log.String(), "kind=fifo")) {
			t.Errorf("run %d: log lacks the file and its kind:\n%s", i+1, l.log.String())
		}
		l.now = l.now.Add(5 * time.Minute)
	}
}
