// Package remote is the host→router SSH layer of hostcheck (SPEC §3 host
// keys, §6 steps 3 and 6, §7 hostcheck pin and drill): it runs fixed
// commands on the OpenWrt router's Dropbear with key authentication and a
// pinned host key, reads and acknowledges the router's SOS state, and pins
// the router's host key.
//
// Every failure is an *Error whose Kind (refused, timeout, auth, host key
// unknown or changed, command) the caller logs, and whose message tells the
// owner what to do.
//
// Dropbear quirk: golang.org/x/crypto/ssh offers rsa-sha2-* host-key
// algorithms before ssh-ed25519. Dropbear 2022.83 (Debian's dropbear-bin,
// tested) holding only an ed25519 host key still agrees to rsa-sha2-*, then
// dies on "Failed assertion (rsa.c:164): `key != NULL'", and the client sees
// only "ssh: handshake failed: EOF" (reproduced by the end-to-end test). The
// client therefore offers exactly the algorithms of the key types pinned for
// the router's address, and ssh-ed25519 first when pinning.
package remote

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net"
	"slices"
	"strings"
	"sync"
	"syscall"
	"time"

	"golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/knownhosts"

	"github.com/pve-op/network-rescue/state"
)

// DefaultTimeout is used when Config.Timeout is zero (SPEC §3 SSH_TIMEOUT).
const DefaultTimeout = 10 * time.Second

// maxOutput bounds what a remote command may print. The read command sends
// at most MaxFileRead+1 bytes of each state file (SPEC §15), so more than
// this is an error, not a state, and never grows the host's memory.
const maxOutput = 64 << 10

// Config says how to reach the router over SSH.
type Config struct {
	// Addr is the router's host:port (OP_IP, OP_SSH_PORT).
	Addr string
	// User is the login name (OP_SSH_USER).
	User string
	// KeyFiles are private key files tried in order; the first one that
	// exists is used (SSH_KEY, then the id_rsa fallback). Keys protected by
	// a passphrase cannot be used by a cron job and are an Auth error.
	KeyFiles []string
	// KnownHosts is the file holding the pinned router host key
	// (KNOWN_HOSTS), written by Pin.
	KnownHosts string
	// Timeout bounds the TCP connect plus SSH handshake, and then again each
	// session; zero means DefaultTimeout. The context's deadline, when
	// earlier, wins.
	Timeout time.Duration
	// Password, when set, is offered after the key (password and
	// keyboard-interactive authentication); it is called at most once per
	// connection, only when the router asks. It is the installer's one
	// login that puts this host's key on the router (SPEC §10); hostcheck
	// never sets it. With a Password, no usable key file is no error.
	Password func() (string, error)
	// PinCmd is the command line that pins the router's key for this
	// configuration, named in the fix of a key not pinned or changed
	// (Error.Pin): `hostcheck -config FILE pin` when the cron line names a
	// config of its own. Empty means "hostcheck pin".
	PinCmd string
}

// Run runs cmd on the router in one connection and one session and returns
// what it wrote to stdout. A non-zero exit is an *Error of Kind Command
// carrying the exit status and the first line of stderr.
func (c Config) Run(ctx context.Context, cmd string) ([]byte, error) {
	client, err := c.dial(ctx)
	if err != nil {
		return nil, err
	}
	defer client.Close()
	return c.session(ctx, client, cmd)
}

func (c Config) timeout() time.Duration {
	if c.Timeout <= 0 {
		return DefaultTimeout
	}
	return c.Timeout
}

// dial connects and authenticates. Nothing is sent on the network when the
// host key is not pinned or no key file is usable.
func (c Config) dial(ctx context.Context) (*ssh.Client, error) {
	client, err := c.dialPinned(ctx)
	var e *Error
	if errors.As(err, &e) && (e.Kind == HostUnknown || e.Kind == HostChanged) {
		e.Pin = c.PinCmd
	}
	return client, err
}

func (c Config) dialPinned(ctx context.Context) (*ssh.Client, error) {
	hostKeyCallback, algos, err := c.hostKeyCheck()
	if err != nil {
		return nil, err
	}
	var auth []ssh.AuthMethod
	signer, err := c.signer()
	switch {
	case err == nil:
		auth = append(auth, ssh.PublicKeys(signer))
	case c.Password == nil:
		return nil, err
	}
	if c.Password != nil {
		auth = append(auth, passwordAuth(c.Password)...)
	}
	cfg := &ssh.ClientConfig{
		User:              c.User,
		Auth:              auth,
		HostKeyCallback:   hostKeyCallback,
		HostKeyAlgorithms: algos,
	}
	return connect(ctx, c.Addr, cfg, c.timeout())
}

// passwordAuth offers the password (asked once) as Dropbear takes it: the
// "password" method, and keyboard-interactive answering every prompt with
// it for servers that only offer that.
func passwordAuth(ask func() (string, error)) []ssh.AuthMethod {
	var once sync.Once
	var pw string
	var perr error
	get := func() (string, error) {
		once.Do(func() { pw, perr = ask() })
		return pw, perr
	}
	return []ssh.AuthMethod{
		ssh.PasswordCallback(get),
		ssh.KeyboardInteractive(func(_, _ string, questions []string, _ []bool) ([]string, error) {
			answers := make([]string, len(questions))
			for i := range questions {
				p, err := get()
				if err != nil {
					return nil, err
				}
				answers[i] = p
			}
			return answers, nil
		}),
	}
}

// connect dials addr and runs the SSH handshake within timeout (or ctx's
// deadline, if earlier). The deadline closes the connection, which is what
// unblocks the handshake; the error then says which limit was hit.
func connect(ctx context.Context, addr string, cfg *ssh.ClientConfig, timeout time.Duration) (*ssh.Client, error) {
	pctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	budget := budgetOf(pctx)

	var d net.Dialer
	conn, err := d.DialContext(pctx, "tcp", addr)
	if err != nil {
		return nil, phaseError(pctx, addr, "ssh connect", budget, err)
	}
	stop := context.AfterFunc(pctx, func() { conn.Close() })
	sconn, chans, reqs, err := ssh.NewClientConn(conn, addr, cfg)
	if !stop() {
		// The deadline fired and closed conn, perhaps just after a
		// successful handshake: the connection is unusable either way.
		if err == nil {
			sconn.Close()
			err = errors.New("connection closed at deadline")
		}
		return nil, phaseError(pctx, addr, "ssh handshake", budget, err)
	}
	if err != nil {
		conn.Close()
		return nil, phaseError(pctx, addr, "ssh handshake", budget, err)
	}
	return ssh.NewClient(sconn, chans, reqs), nil
}

// session runs cmd in a new session of client, bounded by the timeout.
func (c Config) session(ctx context.Context, client *ssh.Client, cmd string) ([]byte, error) {
	stdout := &limitedBuffer{max: maxOutput}
	if err := c.exec(ctx, client, cmd, nil, stdout, io.Discard, c.timeout()); err != nil {
		return nil, err
	}
	if stdout.overflow {
		return nil, &Error{Kind: Other, Addr: c.Addr, Err: fmt.Errorf("ssh command: output longer than %d bytes", maxOutput)}
	}
	return stdout.Bytes(), nil
}

// Stream runs cmd on the router in one connection and one session, with
// stdin read from in (nil: none) and its output copied to stdout and
// stderr as it comes, all within timeout (the context's deadline, when
// earlier, wins): the installer sends a binary this way and shows the
// router side's own install (SPEC §10). A non-zero exit is an *Error of
// Kind Command with the first line of stderr.
func (c Config) Stream(ctx context.Context, cmd string, in io.Reader, stdout, stderr io.Writer, timeout time.Duration) error {
	client, err := c.dial(ctx)
	if err != nil {
		return err
	}
	defer client.Close()
	return c.exec(ctx, client, cmd, in, stdout, stderr, timeout)
}

// exec runs cmd in a new session of client within timeout.
func (c Config) exec(ctx context.Context, client *ssh.Client, cmd string, in io.Reader, stdout, stderr io.Writer, timeout time.Duration) error {
	pctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	budget := budgetOf(pctx)
	stop := context.AfterFunc(pctx, func() { client.Close() })
	defer stop()

	sess, err := client.NewSession()
	if err != nil {
		return phaseError(pctx, c.Addr, "ssh session", budget, err)
	}
	defer sess.Close()
	tail := &limitedBuffer{max: 4096}
	sess.Stdin = in
	sess.Stdout = stdout
	sess.Stderr = io.MultiWriter(stderr, tail)
	err = sess.Run(cmd)
	if pctx.Err() != nil {
		if err == nil {
			err = errors.New("connection closed at deadline")
		}
		return phaseError(pctx, c.Addr, "ssh command", budget, err)
	}
	if err != nil {
		var exit *ssh.ExitError
		if errors.As(err, &exit) {
			err = &commandError{exit: exit, stderr: oneLine(tail.String())}
		}
		return phaseError(pctx, c.Addr, "ssh command", budget, err)
	}
	return nil
}

// phaseError classifies err; when the phase's context ended it reports the
// deadline or the cancellation instead of the EOF the closed socket caused.
func phaseError(pctx context.Context, addr, phase, budget string, err error) *Error {
	var e *Error
	if errors.As(err, &e) {
		return e
	}
	switch cerr := pctx.Err(); {
	case errors.Is(cerr, context.DeadlineExceeded):
		// A definite answer that raced the deadline is kept.
		if !isHostKeyError(err) && !errors.Is(err, syscall.ECONNREFUSED) {
			err = &phaseTimeoutError{phase: phase, budget: budget, cause: cerr}
		}
	case cerr != nil:
		err = fmt.Errorf("%s: %w", phase, cerr)
	default:
		err = fmt.Errorf("%s: %w", phase, err)
	}
	return classify(addr, err, pctx.Err())
}

func isHostKeyError(err error) bool {
	var keyErr *knownhosts.KeyError
	var changed *hostKeyChangedError
	return errors.As(err, &keyErr) || errors.As(err, &changed)
}

// budgetOf describes the time left in ctx, for messages: to 100 ms, so
// that a second's budget reads "1s" however long it took to get here
// ("999ms" on a busy machine), and to the millisecond below 100 ms.
func budgetOf(ctx context.Context) string {
	d, ok := ctx.Deadline()
	if !ok {
		return "the deadline"
	}
	left := time.Until(d)
	if left >= 100*time.Millisecond {
		left = left.Round(100 * time.Millisecond)
	} else {
		left = left.Round(time.Millisecond)
	}
	return left.String()
}

// Bounds of the SSH files read (SPEC §15): an OpenSSH private key is a few
// KiB, a known_hosts file a line per host.
const (
	maxKeyBytes        = 64 << 10
	maxKnownHostsBytes = 1 << 20
)

// signer loads the first existing key file.
func (c Config) signer() (ssh.Signer, error) {
	for _, path := range c.KeyFiles {
		// A key may be a symlink the user manages; a FIFO there must not
		// hang the run (SPEC §15): read without blocking, bounded.
		data, err := state.ReadBoundedFollow(path, maxKeyBytes)
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			return nil, &Error{Kind: Auth, Addr: c.Addr, Err: fmt.Errorf("read ssh key: %w", err)}
		}
		signer, err := ssh.ParsePrivateKey(data)
		var pp *ssh.PassphraseMissingError
		if errors.As(err, &pp) {
			return nil, &Error{Kind: Auth, Addr: c.Addr, Err: fmt.Errorf("ssh key %s is protected by a passphrase, which a cron job cannot type: %w", path, err)}
		}
		if err != nil {
			return nil, &Error{Kind: Auth, Addr: c.Addr, Err: fmt.Errorf("parse ssh key %s: %w", path, err)}
		}
		return signer, nil
	}
	if len(c.KeyFiles) == 0 {
		return nil, &Error{Kind: Auth, Addr: c.Addr, Err: errors.New("no ssh key file configured")}
	}
	return nil, &Error{Kind: Auth, Addr: c.Addr, Err: fmt.Errorf("no ssh key file: tried %s; create one with ssh-keygen -t ed25519", strings.Join(c.KeyFiles, ", "))}
}

// hostKeyCheck loads KnownHosts and returns the host key callback and the
// host-key algorithms to offer: those of the key types pinned for c.Addr,
// ssh-ed25519 first. No pin for the address is a HostUnknown error.
func (c Config) hostKeyCheck() (ssh.HostKeyCallback, []string, error) {
	if c.KnownHosts == "" {
		return nil, nil, &Error{Kind: Other, Addr: c.Addr, Err: errors.New("no known_hosts file configured")}
	}
	// knownhosts.New opens the file itself, blocking on a FIFO: look at it
	// first without blocking (SPEC §15). A symlink the user made is fine.
	if _, err := state.ReadBoundedFollow(c.KnownHosts, maxKnownHostsBytes); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return nil, nil, &Error{Kind: Other, Addr: c.Addr, Err: fmt.Errorf("known hosts: %w", err)}
	}
	check, err := knownhosts.New(c.KnownHosts)
	if err != nil {
		return nil, nil, knownHostsError(c.Addr, err)
	}
	pinned, err := pinnedKeys(check, c.Addr)
	if err != nil {
		return nil, nil, &Error{Kind: Other, Addr: c.Addr, Err: err}
	}
	if len(pinned) == 0 {
		return nil, nil, &Error{Kind: HostUnknown, Addr: c.Addr, Err: fmt.Errorf("no key for %s in %s", knownhosts.Normalize(c.Addr), c.KnownHosts)}
	}
	var types []string
	for _, k := range pinned {
		types = append(types, k.Key.Type())
	}
	algos := hostKeyAlgorithms(types)
	wrapped := func(hostname string, remote net.Addr, key ssh.PublicKey) error {
		err := check(hostname, remote, key)
		var keyErr *knownhosts.KeyError
		if errors.As(err, &keyErr) && len(keyErr.Want) > 0 {
			return &hostKeyChangedError{err: keyErr, got: key}
		}
		return err
	}
	return wrapped, algos, nil
}

// pinnedKeys asks the knownhosts callback which keys it holds for addr by
// presenting a key that cannot be pinned (the all-zero ed25519 key): the
// resulting KeyError lists every matching line, with the library's own
// matching of hashed names, wildcards and [host]:port forms.
func pinnedKeys(check ssh.HostKeyCallback, addr string) ([]knownhosts.KnownKey, error) {
	probe, err := ssh.NewPublicKey(ed25519.PublicKey(make([]byte, ed25519.PublicKeySize)))
	if err != nil {
		return nil, fmt.Errorf("probe known hosts: %w", err)
	}
	if _, _, err := net.SplitHostPort(addr); err != nil {
		return nil, fmt.Errorf("router address %q: %w", addr, err)
	}
	// The remote address is only used when the hostname is empty.
	err = check(addr, &net.TCPAddr{IP: net.IPv4zero, Port: 22}, probe)
	var keyErr *knownhosts.KeyError
	switch {
	case err == nil:
		return nil, errors.New("probe known hosts: the all-zero probe key is pinned")
	case errors.As(err, &keyErr):
		return keyErr.Want, nil
	}
	return nil, fmt.Errorf("probe known hosts: %w", err)
}

// hostKeyAlgorithms maps pinned key types to the algorithms to offer,
// ed25519 first, without duplicates.
func hostKeyAlgorithms(types []string) []string {
	var algos []string
	add := func(a ...string) {
		for _, x := range a {
			if !slices.Contains(algos, x) {
				algos = append(algos, x)
			}
		}
	}
	if slices.Contains(types, ssh.KeyAlgoED25519) {
		add(ssh.KeyAlgoED25519)
	}
	for _, t := range types {
		if t == ssh.KeyAlgoRSA {
			add(ssh.KeyAlgoRSASHA256, ssh.KeyAlgoRSASHA512, ssh.KeyAlgoRSA)
			continue
		}
		add(t)
	}
	return algos
}

// limitedBuffer keeps at most max bytes and remembers that it dropped some.
// It holds its bytes.Buffer in a field rather than embedding it: an
// embedded buffer's promoted ReadFrom is what io.Copy (and so the SSH
// session's stdout copy) uses, and it bypasses Write and the cap (SPEC §15).
type limitedBuffer struct {
	buf      bytes.Buffer
	max      int
	overflow bool
}

func (b *limitedBuffer) Write(p []byte) (int, error) {
	n := len(p)
	if room := b.max - b.buf.Len(); len(p) > room {
		b.overflow = true
		p = p[:max(room, 0)]
	}
	b.buf.Write(p)
	return n, nil
}

// Bytes returns the bytes kept.
func (b *limitedBuffer) Bytes() []byte { return b.buf.Bytes() }

// String returns the bytes kept as a string.
func (b *limitedBuffer) String() string { return b.buf.String() }
