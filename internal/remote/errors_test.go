package remote

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/knownhosts"
)

// seededKey returns a fixed ed25519 key pair, so fingerprints in expected
// messages are constants.
func seededKey(t testing.TB, seed byte) (ed25519.PrivateKey, ssh.PublicKey) {
	t.Helper()
	priv := ed25519.NewKeyFromSeed(bytes.Repeat([]byte{seed}, ed25519.SeedSize))
	pub, err := ssh.NewPublicKey(priv.Public())
	if err != nil {
		t.Fatal(err)
	}
	return priv, pub
}

const (
	fp1 = "SHA256:fe85JkIjo8VPe+XqXJGH5Mau1EMFdK1OdKvJUFicyA8" // seed 1
	fp2 = "SHA256:4A9jyZBOhnKZvcGQ6TRFbf5Gymb41AfYvYaVmWHD+G4" // seed 2
)

func TestErrorMessages(t *testing.T) {
	_, pinned := seededKey(t, 1)
	_, got := seededKey(t, 2)
	changed := &hostKeyChangedError{
		err: &knownhosts.KeyError{Want: []knownhosts.KnownKey{{Key: pinned, Filename: "kh", Line: 1}}},
		got: got,
	}
	const addr = "192.168.10.1:22"
	tests := []struct {
		name string
		err  *Error
		want string
	}{
		{
			name: "refused",
			err:  &Error{Kind: Refused, Addr: addr, Err: errors.New("ssh connect: dial tcp 192.168.10.1:22: connect: connection refused")},
			want: "router 192.168.10.1:22 refused the SSH connection (ssh connect: dial tcp 192.168.10.1:22: connect: connection refused): check that Dropbear runs on the router and OP_IP/OP_SSH_PORT are right",
		},
		{
			name: "timeout",
			err:  &Error{Kind: Timeout, Addr: addr, Err: &phaseTimeoutError{phase: "ssh connect", budget: "10s", cause: context.DeadlineExceeded}},
			want: "router 192.168.10.1:22 did not answer over SSH in time (ssh connect: no answer within 10s): check that the router is up and reachable on the LAN",
		},
		{
			name: "auth rejected",
			err:  &Error{Kind: Auth, Addr: addr, Err: errors.New("ssh handshake: ssh: handshake failed: ssh: unable to authenticate, attempted methods [none publickey], no supported methods remain")},
			want: "router 192.168.10.1:22 did not accept our SSH key (ssh handshake: ssh: handshake failed: ssh: unable to authenticate, attempted methods [none publickey], no supported methods remain): install this host's public key (SSH_KEY.pub) into the router's /etc/dropbear/authorized_keys",
		},
		{
			name: "no key file",
			err:  &Error{Kind: Auth, Addr: addr, Err: errors.New("no ssh key file: tried /root/.ssh/id_ed25519, /root/.ssh/id_rsa; create one with ssh-keygen -t ed25519")},
			want: "router 192.168.10.1:22 did not accept our SSH key (no ssh key file: tried /root/.ssh/id_ed25519, /root/.ssh/id_rsa; create one with ssh-keygen -t ed25519): install this host's public key (SSH_KEY.pub) into the router's /etc/dropbear/authorized_keys",
		},
		{
			name: "host unknown",
			err:  &Error{Kind: HostUnknown, Addr: addr, Err: errors.New("no key for 192.168.10.1 in /etc/netrescue/known_hosts")},
			want: "router host key for 192.168.10.1:22 is not pinned (no key for 192.168.10.1 in /etc/netrescue/known_hosts): run: hostcheck pin",
		},
		{
			name: "host changed",
			err:  &Error{Kind: HostChanged, Addr: addr, Err: changed},
			want: "router host key changed for 192.168.10.1:22 (pinned ssh-ed25519 " + fp1 + ", got ssh-ed25519 " + fp2 + "): if the router was reinstalled, run: hostcheck pin",
		},
		{
			name: "command",
			err: &Error{Kind: Command, Addr: addr, Err: &commandError{
				exit:   &ssh.ExitError{Waitmsg: ssh.Waitmsg{}},
				stderr: "rm: can't remove 'SOS_SYSTEM': Read-only file system",
			}},
			want: "router command on 192.168.10.1:22 failed (exit status 0: rm: can't remove 'SOS_SYSTEM': Read-only file system)",
		},
		{
			name: "other",
			err:  &Error{Kind: Other, Addr: addr, Err: errors.New("ssh connect: dial tcp 192.168.10.1:22: connect: no route to host")},
			want: "ssh 192.168.10.1:22 (ssh connect: dial tcp 192.168.10.1:22: connect: no route to host)",
		},
		{
			name: "multi-line cause is cut to one line",
			err:  &Error{Kind: Other, Addr: addr, Err: errors.New("first\nsecond")},
			want: "ssh 192.168.10.1:22 (first)",
		},
		{
			name: "no cause",
			err:  &Error{Kind: HostUnknown, Addr: addr},
			want: "router host key for 192.168.10.1:22 is not pinned: run: hostcheck pin",
		},
		{
			name: "host changed, config of its own",
			err:  &Error{Kind: HostChanged, Addr: addr, Pin: "hostcheck -config /srv/h.conf pin"},
			want: "router host key changed for 192.168.10.1:22: if the router was reinstalled, run: hostcheck -config /srv/h.conf pin",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.err.Error(); got != tt.want {
				t.Errorf("Error() = %q; want %q", got, tt.want)
			}
			wrapped := fmt.Errorf("read router state: %w", tt.err)
			if got := KindOf(wrapped); got != tt.err.Kind {
				t.Errorf("KindOf(wrapped) = %v; want %v", got, tt.err.Kind)
			}
			if tt.err.Err != nil && !errors.Is(wrapped, tt.err.Err) {
				t.Errorf("errors.Is(wrapped, cause) = false; want true (Unwrap)")
			}
		})
	}
}

func TestKindString(t *testing.T) {
	tests := []struct {
		kind Kind
		want string
	}{
		{Other, "other"}, {Refused, "refused"}, {Timeout, "timeout"}, {Auth, "auth"},
		{HostUnknown, "host_unknown"}, {HostChanged, "host_changed"}, {Command, "command"},
		{Kind(99), "kind(99)"},
	}
	for _, tt := range tests {
		if got := tt.kind.String(); got != tt.want {
			t.Errorf("Kind(%d).String() = %q; want %q", int(tt.kind), got, tt.want)
		}
	}
	if got := KindOf(nil); got != Other {
		t.Errorf("KindOf(nil) = %v; want other", got)
	}
	if got := KindOf(errors.New("x")); got != Other {
		t.Errorf("KindOf(plain error) = %v; want other", got)
	}
}

func TestClassify(t *testing.T) {
	_, pinned := seededKey(t, 1)
	tests := []struct {
		name     string
		err      error
		phaseErr error
		want     Kind
	}{
		{"refused", fmt.Errorf("dial: %w", syscall.ECONNREFUSED), nil, Refused},
		{"refused racing the deadline", fmt.Errorf("dial: %w", syscall.ECONNREFUSED), context.DeadlineExceeded, Refused},
		{"unknown host key", fmt.Errorf("ssh: handshake failed: %w", &knownhosts.KeyError{}), nil, HostUnknown},
		{"changed host key", fmt.Errorf("ssh: handshake failed: %w", &knownhosts.KeyError{Want: []knownhosts.KnownKey{{Key: pinned}}}), nil, HostChanged},
		{"auth", errors.New("ssh: handshake failed: ssh: unable to authenticate, attempted methods [none publickey], no supported methods remain"), nil, Auth},
		{"deadline closed the socket", errors.New("EOF"), context.DeadlineExceeded, Timeout},
		{"cancelled", errors.New("EOF"), context.Canceled, Other},
		{"kernel connect timeout", &os.SyscallError{Syscall: "connect", Err: syscall.ETIMEDOUT}, nil, Timeout},
		{"dial i/o timeout", os.ErrDeadlineExceeded, nil, Timeout},
		{"eof", errors.New("ssh: handshake failed: EOF"), nil, Other},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := classify("r:22", tt.err, tt.phaseErr).Kind; got != tt.want {
				t.Errorf("classify(%v, %v).Kind = %v; want %v", tt.err, tt.phaseErr, got, tt.want)
			}
		})
	}
}

// TestRunFailsBeforeDialing covers the failures found before any packet is
// sent. The address is loopback port 1: should a bug dial anyway, nothing
// leaves the machine and the kind comes out wrong.
func TestRunFailsBeforeDialing(t *testing.T) {
	dir := t.TempDir()
	priv, pub := seededKey(t, 1)
	keyFile := filepath.Join(dir, "id_ed25519")
	writeClientKey(t, keyFile, priv)
	pinned := filepath.Join(dir, "known_hosts")
	if err := Pin(pinned, "127.0.0.1:1", pub); err != nil {
		t.Fatal(err)
	}
	otherPin := filepath.Join(dir, "known_hosts_other")
	if err := Pin(otherPin, "127.0.0.2:1", pub); err != nil {
		t.Fatal(err)
	}
	locked := filepath.Join(dir, "id_locked")
	block, err := ssh.MarshalPrivateKeyWithPassphrase(priv, "", []byte("secret"))
	if err != nil {
		t.Fatal(err)
	}
	writePEM(t, locked, block)

	tests := []struct {
		name string
		cfg  Config
		want Kind
		msg  string
	}{
		{
			name: "no known_hosts file",
			cfg:  Config{Addr: "127.0.0.1:1", User: "root", KeyFiles: []string{keyFile}, KnownHosts: filepath.Join(dir, "missing")},
			want: HostUnknown,
			msg:  "router host key for 127.0.0.1:1 is not pinned (open " + filepath.Join(dir, "missing") + ": no such file or directory): run: hostcheck pin",
		},
		{
			name: "no pin for this address",
			cfg:  Config{Addr: "127.0.0.1:1", User: "root", KeyFiles: []string{keyFile}, KnownHosts: otherPin},
			want: HostUnknown,
			msg:  "router host key for 127.0.0.1:1 is not pinned (no key for [127.0.0.1]:1 in " + otherPin + "): run: hostcheck pin",
		},
		{
			// A cron line with -config of its own: the fix names it, or
			// `hostcheck pin` would pin into the default KNOWN_HOSTS.
			name: "no pin, config of its own",
			cfg: Config{Addr: "127.0.0.1:1", User: "root", KeyFiles: []string{keyFile}, KnownHosts: otherPin,
				PinCmd: "hostcheck -config '/etc/netrescue-lab.conf' pin"},
			want: HostUnknown,
			msg:  "router host key for 127.0.0.1:1 is not pinned (no key for [127.0.0.1]:1 in " + otherPin + "): run: hostcheck -config '/etc/netrescue-lab.conf' pin",
		},
		{
			name: "no key file",
			cfg:  Config{Addr: "127.0.0.1:1", User: "root", KeyFiles: []string{filepath.Join(dir, "a"), filepath.Join(dir, "b")}, KnownHosts: pinned},
			want: Auth,
			msg: "router 127.0.0.1:1 did not accept our SSH key (no ssh key file: tried " + filepath.Join(dir, "a") + ", " + filepath.Join(dir, "b") +
				"; create one with ssh-keygen -t ed25519): install this host's public key (SSH_KEY.pub) into the router's /etc/dropbear/authorized_keys",
		},
		{
			name: "passphrase",
			cfg:  Config{Addr: "127.0.0.1:1", User: "root", KeyFiles: []string{filepath.Join(dir, "a"), locked, keyFile}, KnownHosts: pinned},
			want: Auth,
			msg: "router 127.0.0.1:1 did not accept our SSH key (ssh key " + locked + " is protected by a passphrase, which a cron job cannot type: ssh: this private key is passphrase protected)" +
				": install this host's public key (SSH_KEY.pub) into the router's /etc/dropbear/authorized_keys",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := tt.cfg.Run(context.Background(), "true")
			if got := KindOf(err); got != tt.want {
				t.Fatalf("Run() kind = %v (%v); want %v", got, err, tt.want)
			}
			if err.Error() != tt.msg {
				t.Errorf("Run() error = %q; want %q", err.Error(), tt.msg)
			}
		})
	}
}

func TestHostKeyAlgorithms(t *testing.T) {
	tests := []struct {
		name  string
		types []string
		want  []string
	}{
		{"ed25519 only", []string{"ssh-ed25519"}, []string{"ssh-ed25519"}},
		{"rsa then ed25519: ed25519 first", []string{"ssh-rsa", "ssh-ed25519"}, []string{"ssh-ed25519", "rsa-sha2-256", "rsa-sha2-512", "ssh-rsa"}},
		{"ecdsa twice", []string{"ecdsa-sha2-nistp256", "ecdsa-sha2-nistp256"}, []string{"ecdsa-sha2-nistp256"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := hostKeyAlgorithms(tt.types); fmt.Sprint(got) != fmt.Sprint(tt.want) {
				t.Errorf("hostKeyAlgorithms(%v) = %v; want %v", tt.types, got, tt.want)
			}
		})
	}
}

func writeClientKey(t testing.TB, path string, priv ed25519.PrivateKey) {
	t.Helper()
	block, err := ssh.MarshalPrivateKey(priv, "")
	if err != nil {
		t.Fatal(err)
	}
	writePEM(t, path, block)
}

// TestBudgetOf: the budget a timeout message names is what the run had,
// to 100 ms: a second's budget read "999ms" when a millisecond had passed
// before the phase began (a busy machine), and a test wanting "1s" failed.
func TestBudgetOf(t *testing.T) {
	for _, tc := range []struct {
		left time.Duration
		want string
	}{
		{999 * time.Millisecond, "1s"},
		{960 * time.Millisecond, "1s"},
		{2460 * time.Millisecond, "2.5s"},
		{40 * time.Millisecond, "40ms"},
	} {
		ctx, cancel := context.WithDeadline(context.Background(), time.Now().Add(tc.left))
		if got := budgetOf(ctx); got != tc.want {
			t.Errorf("budgetOf with %v left = %q; want %q", tc.left, got, tc.want)
		}
		cancel()
	}
	if got := budgetOf(context.Background()); got != "the deadline" {
		t.Errorf("budgetOf without a deadline = %q", got)
	}
}
