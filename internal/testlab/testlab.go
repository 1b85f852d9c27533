// Package testlab holds the parts the project's end-to-end tests share:
// running Go code inside a network namespace the test created, Dropbear
// (OpenWrt's SSH server) serving a router namespace with a temp dir as its
// /root, and a buffer tests can read while a server writes. Only tests
// import it.
package testlab

import (
	"bytes"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/pem"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"time"

	"golang.org/x/crypto/ssh"
	"golang.org/x/sys/unix"
)

// InNetns runs f on an OS thread moved into the named namespace, then
// moves the thread back. Sockets belong to the namespace of the thread that
// made them, so a listener or connection made in f stays in ns whatever
// goroutine serves it later. f must not call t.Fatal.
func InNetns(ns string, f func()) error {
	fd, err := unix.Open("/run/netns/"+ns, unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		return fmt.Errorf("open netns %s: %w", ns, err)
	}
	defer unix.Close(fd)
	done := make(chan error)
	go func() {
		runtime.LockOSThread()
		orig, err := unix.Open("/proc/thread-self/ns/net", unix.O_RDONLY|unix.O_CLOEXEC, 0)
		if err != nil {
			done <- fmt.Errorf("open own netns: %w", err)
			return
		}
		defer unix.Close(orig)
		if err := unix.Setns(fd, unix.CLONE_NEWNET); err != nil {
			done <- fmt.Errorf("setns %s: %w", ns, err)
			return
		}
		f()
		// Back home the thread may serve other goroutines; if that fails
		// it stays locked and the runtime ends it with this goroutine.
		if err := unix.Setns(orig, unix.CLONE_NEWNET); err == nil {
			runtime.UnlockOSThread()
		}
		done <- nil
	}()
	return <-done
}

// Buffer collects a server's or a handler's output while the test reads it.
type Buffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *Buffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *Buffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// Dropbear is the router's SSH server in a test namespace.
type Dropbear struct {
	cmd *exec.Cmd
	ns  string
}

// StartDropbear runs Dropbear in namespace ns with root bind-mounted on
// /root inside `unshare -m` — so authorized_keys and the state files it
// serves are the test's, never the machine's /root — with hostKey as its
// only host key and key logins only, and waits until it listens on addr
// (ip:port). Its output goes to log. The caller stops it.
func StartDropbear(ns, root, hostKey, addr string, log *Buffer) (*Dropbear, error) {
	cmd := exec.Command("ip", "netns", "exec", ns, "unshare", "-m", "--propagation", "private", "sh", "-c",
		`mount --bind "$1" /root && exec dropbear -F -E -s -r "$2" -p "$3" -P "$4"`,
		"sh", root, hostKey, addr, filepath.Join(filepath.Dir(hostKey), "dropbear.pid"))
	cmd.Stdout, cmd.Stderr = log, log
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	// ip netns exec, unshare and sh all exec: this PID is Dropbear's.
	d := &Dropbear{cmd: cmd, ns: ns}
	_, port, _ := strings.Cut(addr, ":")
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		out, _ := exec.Command("ip", "netns", "exec", ns, "ss", "-Hltn", "sport", "= :"+port).Output()
		if strings.Contains(string(out), addr) {
			return d, nil
		}
	}
	d.Stop()
	return nil, fmt.Errorf("dropbear does not listen on %s after 5s:\n%s", addr, log.String())
}

// Stop ends Dropbear and the session children it left in its namespace,
// by PID (never this process). Stopping twice is fine.
func (d *Dropbear) Stop() {
	if d == nil || d.cmd == nil {
		return
	}
	_ = d.cmd.Process.Kill()
	_ = d.cmd.Wait()
	d.cmd = nil
	KillNamespace(d.ns)
}

// KillNamespace ends what still runs in a test namespace, which the test
// started; never this process.
func KillNamespace(ns string) {
	out, _ := exec.Command("ip", "netns", "pids", ns).Output()
	for _, f := range strings.Fields(string(out)) {
		if p, err := strconv.Atoi(f); err == nil && p != os.Getpid() && p > 1 {
			_ = unix.Kill(p, unix.SIGKILL)
		}
	}
}

// ClientKey writes a new ed25519 key in OpenSSH format to path and, when
// root is not "", authorizes it in root/.ssh/authorized_keys.
func ClientKey(path, root string) (ssh.PublicKey, error) {
	_, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		return nil, err
	}
	block, err := ssh.MarshalPrivateKey(priv, "")
	if err != nil {
		return nil, err
	}
	if err := os.WriteFile(path, pem.EncodeToMemory(block), 0o600); err != nil {
		return nil, err
	}
	pub, err := ssh.NewPublicKey(priv.Public())
	if err != nil {
		return nil, err
	}
	if root == "" {
		return pub, nil
	}
	if err := os.MkdirAll(filepath.Join(root, ".ssh"), 0o700); err != nil {
		return nil, err
	}
	return pub, os.WriteFile(filepath.Join(root, ".ssh", "authorized_keys"), ssh.MarshalAuthorizedKey(pub), 0o600)
}
