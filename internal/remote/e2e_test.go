package remote

// End-to-end test against a real Dropbear, as root, in two network
// namespaces this test creates:
//
//	nrssh<PID>h  (host, 10.77.0.2) ──veth── nrssh<PID>r  (router, 10.77.0.1, Dropbear)
//
// Dropbear runs under `ip netns exec ROUTER unshare -m` with a temporary
// directory bind-mounted on /root, so the router's authorized_keys and state
// dir are temporary files and the machine's /root is never touched.
//
// The client side runs in this test process: a dedicated goroutine locks
// its OS thread and setns(2)es that thread into the host namespace before
// doing the whole SSH operation, then moves the thread back (see inNetns).
// Sockets belong to the namespace of the thread that creates them, and
// net.Dialer creates the socket on the calling goroutine for a single IP
// address, so every packet stays between the two namespaces; the goroutines
// the SSH library starts only read and write that socket. Since Go 1.10 the
// runtime never clones new threads from a locked one, so the namespace does
// not leak to other threads. (Chosen over re-executing the test binary under
// `ip netns exec` because results and errors stay ordinary Go values.)

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"golang.org/x/crypto/ssh"

	"github.com/pve-op/network-rescue/internal/assist"
	"golang.org/x/crypto/ssh/knownhosts"

	"github.com/pve-op/network-rescue/internal/testlab"
)

const (
	routerIP = "10.77.0.1"
	hostIP   = "10.77.0.2"
)

type lab struct {
	hostNS, routerNS string
	addr             string // Dropbear's host:port
	root             string // the router's /root: authorized_keys and state files
	client           string // client-side temp dir
	hostKey          ssh.PublicKey
	keyFile          string
	knownHosts       string
	dropbearLog      *testlab.Buffer
}

func requireE2E(t *testing.T) {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("end-to-end SSH test needs root (network namespaces, bind mounts)")
	}
	for _, tool := range []string{"dropbear", "dropbearkey", "ip", "nft", "unshare"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("end-to-end SSH test needs %s (Debian: dropbear-bin, iproute2, nftables, util-linux): %v", tool, err)
		}
	}
}

func command(t *testing.T, name string, args ...string) string {
	t.Helper()
	out, err := exec.Command(name, args...).CombinedOutput()
	if err != nil {
		t.Fatalf("%s %s: %v\n%s", name, strings.Join(args, " "), err, out)
	}
	return string(out)
}

// tempDir makes a directory named with our prefix and PID, removed at the end.
func tempDir(t *testing.T, what string) string {
	t.Helper()
	dir, err := os.MkdirTemp("", fmt.Sprintf("nrssh%d-%s-", os.Getpid(), what))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	return dir
}

// inNetns runs f with its OS thread in network namespace ns (testlab.InNetns).
func inNetns(t *testing.T, ns string, f func()) {
	t.Helper()
	if err := testlab.InNetns(ns, f); err != nil {
		t.Fatal(err)
	}
}

func newLab(t *testing.T) *lab {
	t.Helper()
	requireE2E(t)
	pid := os.Getpid()
	l := &lab{
		hostNS:      fmt.Sprintf("nrssh%dh", pid),
		routerNS:    fmt.Sprintf("nrssh%dr", pid),
		addr:        net.JoinHostPort(routerIP, "22"),
		dropbearLog: &testlab.Buffer{},
	}
	for _, ns := range []string{l.hostNS, l.routerNS} {
		command(t, "ip", "netns", "add", ns)
		t.Cleanup(func() {
			// Whatever still runs in the namespace was started by this
			// test (Dropbear's session children): end it by PID.
			testlab.KillNamespace(ns)
			if out, err := exec.Command("ip", "netns", "del", ns).CombinedOutput(); err != nil {
				t.Errorf("ip netns del %s: %v %s", ns, err, out)
			}
		})
	}
	command(t, "ip", "-n", l.hostNS, "link", "add", "veth0", "type", "veth", "peer", "name", "veth1", "netns", l.routerNS)
	command(t, "ip", "-n", l.hostNS, "addr", "add", hostIP+"/24", "dev", "veth0")
	command(t, "ip", "-n", l.routerNS, "addr", "add", routerIP+"/24", "dev", "veth1")
	for _, ns := range []string{l.hostNS, l.routerNS} {
		command(t, "ip", "-n", ns, "link", "set", "lo", "up")
	}
	command(t, "ip", "-n", l.hostNS, "link", "set", "veth0", "up")
	command(t, "ip", "-n", l.routerNS, "link", "set", "veth1", "up")

	// Router: host key, authorized_keys in the fake /root.
	etc := tempDir(t, "etc")
	hostKeyFile := filepath.Join(etc, "dropbear_ed25519_host_key")
	command(t, "dropbearkey", "-t", "ed25519", "-f", hostKeyFile)
	for _, line := range strings.Split(command(t, "dropbearkey", "-y", "-f", hostKeyFile), "\n") {
		if strings.HasPrefix(line, "ssh-ed25519 ") {
			k, _, _, _, err := ssh.ParseAuthorizedKey([]byte(line))
			if err != nil {
				t.Fatal(err)
			}
			l.hostKey = k
		}
	}
	if l.hostKey == nil {
		t.Fatal("dropbearkey -y printed no ssh-ed25519 line")
	}
	l.root = tempDir(t, "root")
	if err := os.Chmod(l.root, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.Mkdir(filepath.Join(l.root, ".ssh"), 0o700); err != nil {
		t.Fatal(err)
	}

	// Client: key and known_hosts in their own temp dir.
	l.client = tempDir(t, "client")
	l.keyFile = filepath.Join(l.client, "id_ed25519")
	pub := newClientKey(t, l.keyFile)
	if err := os.WriteFile(filepath.Join(l.root, ".ssh", "authorized_keys"), ssh.MarshalAuthorizedKey(pub), 0o600); err != nil {
		t.Fatal(err)
	}
	l.knownHosts = filepath.Join(l.client, "netrescue", "known_hosts")

	d, err := testlab.StartDropbear(l.routerNS, l.root, hostKeyFile, l.addr, l.dropbearLog)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		d.Stop()
		if t.Failed() {
			t.Logf("dropbear log:\n%s", l.dropbearLog.String())
		}
	})
	return l
}

func newClientKey(t *testing.T, path string) ssh.PublicKey {
	t.Helper()
	_, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	writeClientKey(t, path, priv)
	pub, err := ssh.NewPublicKey(priv.Public())
	if err != nil {
		t.Fatal(err)
	}
	return pub
}

func (l *lab) config() Config {
	return Config{Addr: l.addr, User: "root", KeyFiles: []string{filepath.Join(l.client, "id_missing"), l.keyFile}, KnownHosts: l.knownHosts, Timeout: 2 * time.Second}
}

// connections counts the authenticated SSH connections Dropbear has logged
// so far (the readiness probes never authenticate).
func (l *lab) connections() int {
	return strings.Count(l.dropbearLog.String(), "Pubkey auth succeeded")
}

// oneConnection checks that f made exactly one authenticated connection.
func (l *lab) oneConnection(t *testing.T, f func()) {
	t.Helper()
	before := l.connections()
	f()
	deadline := time.Now().Add(2 * time.Second)
	for l.connections() < before+1 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	time.Sleep(50 * time.Millisecond)
	if n := l.connections() - before; n != 1 {
		t.Errorf("SSH connections made = %d; want 1", n)
	}
}

func TestEndToEnd(t *testing.T) {
	l := newLab(t)
	ver, _ := exec.Command("dropbear", "-V").CombinedOutput()
	t.Logf("dropbear -V: %s", strings.TrimSpace(string(ver)))
	ctx := context.Background()

	ok := t.Run("fetch host key and pin it", func(t *testing.T) {
		var key ssh.PublicKey
		var err error
		inNetns(t, l.hostNS, func() { key, err = FetchHostKey(ctx, l.addr, 2*time.Second) })
		if err != nil {
			t.Fatalf("FetchHostKey() = %v", err)
		}
		if Fingerprint(key) != Fingerprint(l.hostKey) {
			t.Fatalf("FetchHostKey() = %s; want Dropbear's %s", Fingerprint(key), Fingerprint(l.hostKey))
		}
		if err := Pin(l.knownHosts, l.addr, key); err != nil {
			t.Fatal(err)
		}
		got, err := os.ReadFile(l.knownHosts)
		if err != nil {
			t.Fatal(err)
		}
		if want := routerIP + " " + string(ssh.MarshalAuthorizedKey(l.hostKey)); string(got) != want {
			t.Errorf("known_hosts = %q; want %q", got, want)
		}
	})
	if !ok {
		t.FailNow()
	}

	t.Run("read with no state files", func(t *testing.T) {
		var st RouterState
		var err error
		l.oneConnection(t, func() {
			inNetns(t, l.hostNS, func() { st, err = l.config().ReadRouterState(ctx, "/root") })
		})
		if err != nil {
			t.Fatalf("ReadRouterState() = %v", err)
		}
		if st != (RouterState{}) {
			t.Errorf("ReadRouterState() = %+v; want nothing", st)
		}
	})

	sosLine := "time=2025-01-01T03:04:05+08:00 count=10 reason=it's \"down\" $(x)\n"
	t.Run("create SOS then read it", func(t *testing.T) {
		var st RouterState
		var err error
		inNetns(t, l.hostNS, func() {
			if err = l.config().CreateSOS(ctx, "/root", sosLine); err != nil {
				return
			}
			st, err = l.config().ReadRouterState(ctx, "/root")
		})
		if err != nil {
			t.Fatal(err)
		}
		if want := (RouterState{SOS: true, SOSContent: sosLine}); st != want {
			t.Errorf("ReadRouterState() = %+v; want %+v", st, want)
		}
		if got := routerFiles(t, l.root); got[sosFile] != sosLine {
			t.Errorf("router SOS_SYSTEM = %q; want %q", got[sosFile], sosLine)
		}
	})

	// The drill's restore keeps SOS_SYSTEM as it is (keepSOS): written
	// back from a read a moment old, it went over an SOS the router raised
	// in between, which DeleteSOSIf then took for the drill's.
	t.Run("restore keeps SOS when asked", func(t *testing.T) {
		writeState(t, l.root, ptr(sosLine), ptr("0\n"), nil)
		var err error
		inNetns(t, l.hostNS, func() {
			err = l.config().RestoreRouterState(ctx, "/root", RouterState{HasCount: true, Count: "3\n"}, true)
		})
		if err != nil {
			t.Fatal(err)
		}
		if got := routerFiles(t, l.root); got[sosFile] != sosLine || got[countFile] != "3\n" {
			t.Errorf("after a restore keeping SOS: %q; want SOS as it was, count 3", got)
		}
		// An SOS it keeps need not have been read whole (the router's,
		// truncated or a FIFO): the files written were.
		inNetns(t, l.hostNS, func() {
			err = l.config().RestoreRouterState(ctx, "/root", RouterState{HasCount: true, Count: "4\n", SOS: true, SOSDamaged: "fifo", SOSTruncated: true}, true)
		})
		if err != nil || routerFiles(t, l.root)[countFile] != "4\n" {
			t.Errorf("restore keeping a damaged SOS: %v, count %q; want the count written", err, routerFiles(t, l.root)[countFile])
		}
	})

	// The drill's SOS is deleted while it is the drill's; one the router
	// wrote over it (a real SOS, one more byte) stays.
	t.Run("delete the drill's SOS only", func(t *testing.T) {
		const drill = "time=2026-11-25T10:00:10+08:00 count=drill reason=hostcheck drill"
		for _, tc := range []struct {
			content string
			gone    bool
		}{{drill, true}, {drill + "\n", false}, {sosLine, false}, {drill + "\x00", false}, {"time=2026-11-25T10:00:10+08:00 count=drill\x00 reason=hostcheck drill", false}} {
			writeState(t, l.root, ptr(tc.content), ptr("10\n"), nil)
			var err error
			inNetns(t, l.hostNS, func() { err = l.config().DeleteSOSIf(ctx, "/root", drill) })
			if err != nil {
				t.Fatal(err)
			}
			got := routerFiles(t, l.root)
			if _, there := got[sosFile]; there == tc.gone || got[countFile] != "10\n" {
				t.Errorf("SOS_SYSTEM %q: after DeleteSOSIf the router has %q; want SOS gone %v, count kept", tc.content, got, tc.gone)
			}
		}
	})

	t.Run("changed host key touches nothing", func(t *testing.T) {
		writeState(t, l.root, ptr(sosLine), ptr("10\n"), ptr("1700000000\n"))
		before := routerFiles(t, l.root)
		_, fake := seededKey(t, 7)
		otherPins := filepath.Join(l.client, "known_hosts_changed")
		if err := Pin(otherPins, l.addr, fake); err != nil {
			t.Fatal(err)
		}
		cfg := l.config()
		cfg.KnownHosts = otherPins
		var err error
		inNetns(t, l.hostNS, func() { err = cfg.AckSOS(ctx, "/root", true) })
		if KindOf(err) != HostChanged {
			t.Fatalf("AckSOS() = %v; want kind host_changed", err)
		}
		want := "acknowledge router SOS: router host key changed for " + l.addr + " (pinned ssh-ed25519 " + Fingerprint(fake) +
			", got ssh-ed25519 " + Fingerprint(l.hostKey) + "): if the router was reinstalled, run: hostcheck pin"
		if err.Error() != want {
			t.Errorf("AckSOS() error = %q; want %q", err, want)
		}
		var keyErr *knownhosts.KeyError
		if !errors.As(err, &keyErr) {
			t.Errorf("errors.As(err, *knownhosts.KeyError) = false; want true")
		}
		if after := routerFiles(t, l.root); !equalMaps(after, before) {
			t.Errorf("router files after refused AckSOS = %q; want untouched %q", after, before)
		}
	})

	t.Run("ack SOS with reset", func(t *testing.T) {
		writeState(t, l.root, ptr(sosLine), ptr("10\n"), ptr("1700000000\n"))
		var err error
		l.oneConnection(t, func() {
			inNetns(t, l.hostNS, func() { err = l.config().AckSOS(ctx, "/root", true) })
		})
		if err != nil {
			t.Fatal(err)
		}
		if got, want := routerFiles(t, l.root), map[string]string{countFile: "0\n", rescuedFile: "host\n"}; !equalMaps(got, want) {
			t.Errorf("router files after AckSOS(reset) = %q; want %q", got, want)
		}
	})

	t.Run("ack SOS without reset", func(t *testing.T) {
		writeState(t, l.root, ptr(""), ptr("10\n"), ptr("1700000000\n"))
		var err error
		inNetns(t, l.hostNS, func() { err = l.config().AckSOS(ctx, "/root", false) })
		if err != nil {
			t.Fatal(err)
		}
		if got, want := routerFiles(t, l.root), map[string]string{countFile: "10\n", coolingFile: "1700000000\n", rescuedFile: "vm\n"}; !equalMaps(got, want) {
			t.Errorf("router files after AckSOS(keep) = %q; want %q", got, want)
		}
	})

	for _, tc := range []struct {
		name                string
		sos, count, cooling *string
	}{
		{"restore exotic bytes", ptr("a'b\n\xff\x01`c`$(d)\\"), ptr("9"), ptr(" 1700000000 \n\n")},
		{"restore empty SOS, empty count, no cooling", ptr(""), ptr(""), nil},
		{"restore nothing", nil, nil, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			writeState(t, l.root, tc.sos, tc.count, tc.cooling)
			before := routerFiles(t, l.root)
			var err error
			inNetns(t, l.hostNS, func() {
				c := l.config()
				var st RouterState
				if st, err = c.ReadRouterState(ctx, "/root"); err != nil {
					return
				}
				// The drill: SOS in, acknowledged, then the router put back.
				if err = c.CreateSOS(ctx, "/root", "time=x count=0 reason=drill\n"); err != nil {
					return
				}
				if err = c.AckSOS(ctx, "/root", true); err != nil {
					return
				}
				err = c.RestoreRouterState(ctx, "/root", st, false)
			})
			if err != nil {
				t.Fatal(err)
			}
			if after := routerFiles(t, l.root); !equalMaps(after, before) {
				t.Errorf("router files after drill and restore = %q; want %q", after, before)
			}
		})
	}

	// Issue 9 items 7 and 14: a SOS_SYSTEM the router cannot or should not
	// read whole. Each file is made in the router's /root, which is this
	// test's own temp dir (l.root).
	for _, tc := range []struct {
		name string
		make func(p string) error
		want RouterState
	}{
		{"50 MB SOS is read up to the bound", func(p string) error { return os.WriteFile(p, []byte(strings.Repeat("s", 50<<20)), 0o600) },
			RouterState{SOS: true, SOSContent: strings.Repeat("s", MaxFileRead), SOSTruncated: true}},
		{"SOS linked to /dev/zero is not followed", func(p string) error { return os.Symlink("/dev/zero", p) },
			RouterState{SOS: true, SOSDamaged: "symlink"}},
		{"SOS that is a directory is SOS", func(p string) error { return os.Mkdir(p, 0o700) },
			RouterState{SOS: true, SOSDamaged: "directory"}},
		{"SOS that is a FIFO is SOS, without blocking", func(p string) error { return syscall.Mkfifo(p, 0o600) },
			RouterState{SOS: true, SOSDamaged: "fifo"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			writeState(t, l.root, nil, nil, nil)
			if err := os.RemoveAll(filepath.Join(l.root, rescuedFile)); err != nil {
				t.Fatal(err)
			}
			p := filepath.Join(l.root, sosFile)
			if err := tc.make(p); err != nil {
				t.Fatal(err)
			}
			defer os.RemoveAll(p)
			cfg := l.config()
			var st RouterState
			var err error
			start := time.Now()
			inNetns(t, l.hostNS, func() { st, err = cfg.ReadRouterState(ctx, "/root") })
			took := time.Since(start)
			if err != nil {
				t.Fatalf("ReadRouterState() = %v; want the state, no error", err)
			}
			if st != tc.want {
				t.Errorf("ReadRouterState() = %+v; want %+v", abbrevState(st), abbrevState(tc.want))
			}
			if len(st.SOSContent) > MaxFileRead {
				t.Errorf("SOS content: %d bytes; want at most %d", len(st.SOSContent), MaxFileRead)
			}
			if took > cfg.Timeout {
				t.Errorf("ReadRouterState() took %v; want well within the %v timeout", took, cfg.Timeout)
			}
		})
	}

	t.Run("command exit status", func(t *testing.T) {
		var err error
		inNetns(t, l.hostNS, func() { _, err = l.config().Run(ctx, "echo first >&2; echo second >&2; exit 3") })
		if KindOf(err) != Command {
			t.Fatalf("Run() = %v; want kind command", err)
		}
		want := "router command on " + l.addr + " failed (ssh command: exit status 3: first)"
		if err.Error() != want {
			t.Errorf("Run() error = %q; want %q", err, want)
		}
		var exit *ssh.ExitError
		if !errors.As(err, &exit) || exit.ExitStatus() != 3 {
			t.Errorf("errors.As(err, *ssh.ExitError) = %v; want status 3", exit)
		}
	})

	t.Run("missing state dir", func(t *testing.T) {
		var err error
		inNetns(t, l.hostNS, func() { _, err = l.config().ReadRouterState(ctx, "/root/nope") })
		if KindOf(err) != Command || !strings.Contains(err.Error(), "/root/nope") {
			t.Errorf("ReadRouterState(/root/nope) = %v; want kind command naming the dir", err)
		}
	})

	t.Run("key not authorized", func(t *testing.T) {
		other := filepath.Join(l.client, "id_other")
		newClientKey(t, other)
		cfg := l.config()
		cfg.KeyFiles = []string{other}
		var err error
		inNetns(t, l.hostNS, func() { _, err = cfg.Run(ctx, "true") })
		if KindOf(err) != Auth {
			t.Fatalf("Run() = %v; want kind auth", err)
		}
		if !strings.Contains(err.Error(), "into the router's /etc/dropbear/authorized_keys") {
			t.Errorf("Run() error = %q; want the authorized_keys advice", err)
		}
	})

	t.Run("port closed", func(t *testing.T) {
		closed := net.JoinHostPort(routerIP, "2222")
		if err := Pin(l.knownHosts, closed, l.hostKey); err != nil {
			t.Fatal(err)
		}
		cfg := l.config()
		cfg.Addr = closed
		var err error
		inNetns(t, l.hostNS, func() { _, err = cfg.Run(ctx, "true") })
		if KindOf(err) != Refused {
			t.Fatalf("Run() = %v; want kind refused", err)
		}
		var fetchErr error
		inNetns(t, l.hostNS, func() { _, fetchErr = FetchHostKey(ctx, closed, time.Second) })
		if KindOf(fetchErr) != Refused {
			t.Errorf("FetchHostKey() = %v; want kind refused", fetchErr)
		}
	})

	t.Run("router behind a drop rule", func(t *testing.T) {
		nft := exec.Command("ip", "netns", "exec", l.routerNS, "nft", "-f", "-")
		nft.Stdin = strings.NewReader("table inet nrssh {\n chain input {\n  type filter hook input priority 0; policy accept;\n  tcp dport 22 drop\n }\n}\n")
		if out, err := nft.CombinedOutput(); err != nil {
			t.Fatalf("nft: %v %s", err, out)
		}
		defer command(t, "ip", "netns", "exec", l.routerNS, "nft", "delete", "table", "inet", "nrssh")
		cfg := l.config()
		cfg.Timeout = time.Second
		var err error
		start := time.Now()
		inNetns(t, l.hostNS, func() { _, err = cfg.ReadRouterState(ctx, "/root") })
		took := time.Since(start)
		if KindOf(err) != Timeout {
			t.Fatalf("ReadRouterState() = %v; want kind timeout", err)
		}
		if took > cfg.Timeout+time.Second {
			t.Errorf("ReadRouterState() took %v; want at most %v", took, cfg.Timeout+time.Second)
		}
		t.Logf("took %v: %v", took.Round(time.Millisecond), err)
	})

	t.Run("server that never speaks", func(t *testing.T) {
		silentAddr := net.JoinHostPort(hostIP, "2200")
		var ln net.Listener
		var err error
		inNetns(t, l.hostNS, func() { ln, err = net.Listen("tcp", silentAddr) })
		if err != nil {
			t.Fatal(err)
		}
		defer ln.Close()
		go func() {
			for {
				c, err := ln.Accept()
				if err != nil {
					return
				}
				defer c.Close()
			}
		}()
		if err := Pin(l.knownHosts, silentAddr, l.hostKey); err != nil {
			t.Fatal(err)
		}
		cfg := l.config()
		cfg.Addr = silentAddr
		cfg.Timeout = time.Second
		start := time.Now()
		inNetns(t, l.hostNS, func() { _, err = cfg.Run(ctx, "true") })
		took := time.Since(start)
		if KindOf(err) != Timeout {
			t.Fatalf("Run() = %v; want kind timeout", err)
		}
		want := "router " + silentAddr + " did not answer over SSH in time (ssh handshake: no answer within 1s): check that the router is up and reachable on the LAN"
		if err.Error() != want {
			t.Errorf("Run() error = %q; want %q", err, want)
		}
		if took > cfg.Timeout+time.Second {
			t.Errorf("Run() took %v; want at most %v", took, cfg.Timeout+time.Second)
		}

		// The context's deadline wins over a longer Timeout.
		cfg.Timeout = 10 * time.Second
		dctx, cancel := context.WithTimeout(ctx, 300*time.Millisecond)
		defer cancel()
		start = time.Now()
		inNetns(t, l.hostNS, func() { _, err = cfg.Run(dctx, "true") })
		took = time.Since(start)
		if KindOf(err) != Timeout || took > time.Second {
			t.Errorf("Run(ctx 300ms) = %v after %v; want kind timeout within 1s", err, took)
		}
	})

	t.Run("command longer than the timeout", func(t *testing.T) {
		cfg := l.config()
		cfg.Timeout = time.Second
		var err error
		start := time.Now()
		inNetns(t, l.hostNS, func() { _, err = cfg.Run(ctx, "sleep 5") })
		took := time.Since(start)
		if KindOf(err) != Timeout {
			t.Fatalf("Run(sleep 5) = %v; want kind timeout", err)
		}
		if !strings.Contains(err.Error(), "ssh command: no answer within") {
			t.Errorf("Run(sleep 5) error = %q; want it to name the command phase", err)
		}
		if took > 2*cfg.Timeout+time.Second {
			t.Errorf("Run(sleep 5) took %v; want at most %v", took, 2*cfg.Timeout+time.Second)
		}
	})

	// An assist whose command was sent and then went silent (a router
	// rebooting: the kernel gone before it closes the connection) is told
	// apart from one never sent (the port closed): CommandSent, which
	// hostcheck reads as "rebooting" for `assist reboot`, not as a failed
	// request.
	t.Run("assist cut after the command was sent", func(t *testing.T) {
		silent := filepath.Join(t.TempDir(), "netcheck")
		if err := os.WriteFile(silent, []byte("#!/bin/sh\nsleep 5\n"), 0o755); err != nil {
			t.Fatal(err)
		}
		var err error
		inNetns(t, l.hostNS, func() {
			_, err = l.config().Assist(ctx, silent, "/etc/netrescue.conf", assist.Reboot, "test", time.Second)
		})
		if KindOf(err) != Timeout || !CommandSent(err) {
			t.Errorf("Assist with a silent command = %v (sent %v); want a timeout after the command was sent", err, CommandSent(err))
		}
		// A command that ran and exited without an answer (a wrong
		// OP_NETCHECK: exit 127) is no reboot cutting the session short.
		wrong := filepath.Join(t.TempDir(), "netcheck")
		if err := os.WriteFile(wrong, []byte("#!/bin/sh\nexit 127\n"), 0o755); err != nil {
			t.Fatal(err)
		}
		inNetns(t, l.hostNS, func() {
			_, err = l.config().Assist(ctx, wrong, "/etc/netrescue.conf", assist.Reboot, "test", time.Second)
		})
		if err == nil || errors.Is(err, assist.ErrNoLine) || CommandSent(err) || !errors.Is(err, ErrNotRunnable) {
			t.Errorf("Assist with a command that exits 127 = %v (no line %v, sent %v); want ErrNotRunnable, read as neither", err, errors.Is(err, assist.ErrNoLine), CommandSent(err))
		}
		// netcheck refusing its config (group-writable, mistyped) or the
		// request (too old for assist): exit 2, no line, stderr says why.
		// Nothing ran, no reboot cut the session short.
		usage := filepath.Join(t.TempDir(), "netcheck")
		if err := os.WriteFile(usage, []byte("#!/bin/sh\necho 'netcheck: config /etc/netrescue.conf: writable by group or others (mode 0664); fix: chmod go-w /etc/netrescue.conf' >&2\nexit 2\n"), 0o755); err != nil {
			t.Fatal(err)
		}
		inNetns(t, l.hostNS, func() {
			_, err = l.config().Assist(ctx, usage, "/etc/netrescue.conf", assist.Reboot, "test", time.Second)
		})
		if !errors.Is(err, ErrRouterConfig) || errors.Is(err, assist.ErrNoLine) || CommandSent(err) || NotSent(err) || !strings.Contains(err.Error(), "fix: chmod go-w /etc/netrescue.conf") {
			t.Errorf("Assist with a command that exits 2 = %v; want ErrRouterConfig with the router's message, read as neither cut short nor not sent", err)
		}
		// OP_NETCHECK not there at all (netcheck not installed on the
		// router): Dropbear's shell says "not found", exit 127.
		inNetns(t, l.hostNS, func() {
			_, err = l.config().Assist(ctx, filepath.Join(t.TempDir(), "no-netcheck"), "/etc/netrescue.conf", assist.Network, "test", time.Second)
		})
		if !errors.Is(err, ErrNotRunnable) || CommandSent(err) {
			t.Errorf("Assist with no OP_NETCHECK on the router = %v; want ErrNotRunnable", err)
		}
		// Killed by a signal (a shutdown's KILL, Dropbear's exit-signal):
		// a session cut short, as a reboot's is.
		killed := filepath.Join(t.TempDir(), "netcheck")
		if err := os.WriteFile(killed, []byte("#!/bin/sh\nkill -KILL $$\n"), 0o755); err != nil {
			t.Fatal(err)
		}
		inNetns(t, l.hostNS, func() {
			_, err = l.config().Assist(ctx, killed, "/etc/netrescue.conf", assist.Reboot, "test", time.Second)
		})
		if !errors.Is(err, assist.ErrNoLine) {
			t.Errorf("Assist with a command killed by SIGKILL = %v; want it read as cut short (no line)", err)
		}
		closed := l.config()
		closed.Addr = net.JoinHostPort(routerIP, "2201")
		inNetns(t, l.hostNS, func() { _, err = closed.Assist(ctx, silent, "/etc/netrescue.conf", assist.Reboot, "test", time.Second) })
		if err == nil || CommandSent(err) || !NotSent(err) {
			t.Errorf("Assist to a closed port = %v (sent %v, not sent %v); want an error before any command", err, CommandSent(err), NotSent(err))
		}
	})

	// A router that refuses the exec request (an SSH server whose policy
	// forbids commands; Dropbear cannot be made to refuse one) never ran
	// the command: not CommandSent, so `assist reboot` is a failed request,
	// not a router rebooting. The server is x/crypto/ssh's, in the router's
	// namespace, on a port of its own.
	t.Run("assist whose exec the router refuses", func(t *testing.T) {
		srv, err := testlab.NewSSHServer()
		if err != nil {
			t.Fatal(err)
		}
		signer := srv.Signer
		addr := net.JoinHostPort(routerIP, "2203")
		var ln net.Listener
		inNetns(t, l.routerNS, func() { ln, err = net.Listen("tcp", addr) })
		if err != nil {
			t.Fatal(err)
		}
		defer ln.Close()
		execs := make(chan string, 4)
		srv.Serve(ln, func(cmd string) func(ssh.Channel) int {
			execs <- cmd
			return nil // no exec
		})
		known := filepath.Join(t.TempDir(), "known_hosts")
		if err := os.WriteFile(known, []byte(knownhosts.Line([]string{knownhosts.Normalize(addr)}, signer.PublicKey())+"\n"), 0o600); err != nil {
			t.Fatal(err)
		}
		cfg := l.config()
		cfg.Addr, cfg.KnownHosts = addr, known
		inNetns(t, l.hostNS, func() {
			_, err = cfg.Assist(ctx, "/usr/bin/netcheck", "/etc/netrescue.conf", assist.Reboot, "test", time.Second)
		})
		select {
		case cmd := <-execs:
			if !strings.Contains(cmd, "assist reboot") {
				t.Errorf("the exec request asked for %q", cmd)
			}
		default:
			t.Fatalf("Assist = %v, and no exec request reached the server", err)
		}
		if err == nil || CommandSent(err) || errors.Is(err, assist.ErrNoLine) {
			t.Errorf("Assist whose exec was refused = %v (sent %v, no line %v); want a failure before the command ran", err, CommandSent(err), errors.Is(err, assist.ErrNoLine))
		}
	})

	// The Dropbear quirk: what x/crypto's default host-key algorithm list
	// does against this ed25519-only Dropbear, for the record.
	t.Run("default host key algorithms", func(t *testing.T) {
		check, err := knownhosts.New(l.knownHosts)
		if err != nil {
			t.Fatal(err)
		}
		signer, err := l.config().signer()
		if err != nil {
			t.Fatal(err)
		}
		cfg := &ssh.ClientConfig{User: "root", Auth: []ssh.AuthMethod{ssh.PublicKeys(signer)}, HostKeyCallback: check}
		inNetns(t, l.hostNS, func() {
			var client *ssh.Client
			client, err = connect(ctx, l.addr, cfg, 2*time.Second)
			if err == nil {
				client.Close()
			}
		})
		if err != nil {
			time.Sleep(50 * time.Millisecond)
			log := strings.Split(strings.TrimSpace(l.dropbearLog.String()), "\n")
			t.Logf("without HostKeyAlgorithms the handshake fails: %v; Dropbear says: %s", err, log[len(log)-1])
		} else {
			t.Logf("without HostKeyAlgorithms the handshake also works against %s; the pinned-type list is kept for Dropbear builds that do not", strings.TrimSpace(string(ver)))
		}
	})
}

// routerFiles returns every file in the router's state dir except .ssh.
func routerFiles(t *testing.T, root string) map[string]string {
	t.Helper()
	m := dirState(t, root)
	delete(m, ".ssh")
	return m
}

// abbrevState shortens SOSContent for a readable failure message.
func abbrevState(st RouterState) RouterState {
	if len(st.SOSContent) > 40 {
		st.SOSContent = fmt.Sprintf("%s… (%d bytes)", st.SOSContent[:20], len(st.SOSContent))
	}
	return st
}
