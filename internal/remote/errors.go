package remote

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"net"
	"strings"
	"syscall"

	"golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/knownhosts"
)

// Kind says why an SSH operation on the router failed, so that hostcheck can
// name the reason in its 【严重错误】 line (SPEC §6 step 3) and decide whether
// the router counts as unreachable.
type Kind int

// The kinds of failure. Other is the zero value, so KindOf of an error that
// did not come from this package is Other.
const (
	// Other is anything not covered below (a broken known_hosts file, a
	// cancelled context, unreadable output, a network error such as "no
	// route to host").
	Other Kind = iota
	// Refused: the router answered the TCP connect with a reset (no SSH
	// server on that port).
	Refused
	// Timeout: no answer within Config.Timeout or the context's deadline,
	// while connecting, during the handshake or while the command ran.
	Timeout
	// Auth: no usable key file, or the router rejected our key.
	Auth
	// HostUnknown: KNOWN_HOSTS holds no key for the router's address.
	HostUnknown
	// HostChanged: the router presented a key other than the pinned one.
	HostChanged
	// Command: the remote command ran and exited non-zero.
	Command
)

// String returns the kind as a short snake_case word for log keys.
func (k Kind) String() string {
	switch k {
	case Refused:
		return "refused"
	case Timeout:
		return "timeout"
	case Auth:
		return "auth"
	case HostUnknown:
		return "host_unknown"
	case HostChanged:
		return "host_changed"
	case Command:
		return "command"
	case Other:
		return "other"
	}
	return fmt.Sprintf("kind(%d)", int(k))
}

// Error is the error every SSH operation of this package returns when it
// fails: what went wrong (Kind), with which router (Addr), and the cause.
// Its message is one line that tells the owner what to do.
type Error struct {
	Kind Kind
	Addr string
	Err  error
	// Pin is the command that pins the router's key (Config.PinCmd),
	// named in the fix of HostUnknown and HostChanged; "" means
	// "hostcheck pin".
	Pin string
	// Sent: the command had been sent when the session failed; the
	// router may have run it (a reboot ends the session unanswered).
	Sent bool
}

// CommandSent reports whether err is an SSH failure that came after the
// command was sent to the router.
func CommandSent(err error) bool {
	var e *Error
	return errors.As(err, &e) && e.Sent
}

// NotSent reports whether err is an SSH failure that came before the
// router accepted the command (the connection refused or timed out, the
// key or host key rejected, the session or exec request refused): the
// command cannot have run. An error that is not an SSH failure (an exit
// status, an answer that could not be read) came after it ran, and is
// neither NotSent nor CommandSent.
func NotSent(err error) bool {
	var e *Error
	return errors.As(err, &e) && !e.Sent
}

// Error returns a one-line message naming the router, the cause and the fix.
func (e *Error) Error() string {
	var detail string
	if e.Err != nil {
		detail = " (" + oneLine(e.Err.Error()) + ")"
	}
	switch e.Kind {
	case Refused:
		return fmt.Sprintf("router %s refused the SSH connection%s: check that Dropbear runs on the router and OP_IP/OP_SSH_PORT are right", e.Addr, detail)
	case Timeout:
		return fmt.Sprintf("router %s did not answer over SSH in time%s: check that the router is up and reachable on the LAN", e.Addr, detail)
	case Auth:
		return fmt.Sprintf("router %s did not accept our SSH key%s: install this host's public key (SSH_KEY.pub) into the router's /etc/dropbear/authorized_keys", e.Addr, detail)
	case HostUnknown:
		return fmt.Sprintf("router host key for %s is not pinned%s: run: %s", e.Addr, detail, e.pinCmd())
	case HostChanged:
		return fmt.Sprintf("router host key changed for %s%s: if the router was reinstalled, run: %s", e.Addr, detail, e.pinCmd())
	case Command:
		return fmt.Sprintf("router command on %s failed%s", e.Addr, detail)
	}
	return fmt.Sprintf("ssh %s%s", e.Addr, detail)
}

func (e *Error) pinCmd() string {
	if e.Pin == "" {
		return "hostcheck pin"
	}
	return e.Pin
}

// Unwrap returns the cause.
func (e *Error) Unwrap() error { return e.Err }

// KindOf returns the Kind of the first *Error in err's chain, or Other when
// there is none (including for a nil err).
func KindOf(err error) Kind {
	var e *Error
	if errors.As(err, &e) {
		return e.Kind
	}
	return Other
}

// hostKeyChangedError carries both keys of a mismatch, so that the message
// shows the owner which fingerprint was pinned and which one came back.
type hostKeyChangedError struct {
	err *knownhosts.KeyError // Want lists the pinned keys
	got ssh.PublicKey
}

func (e *hostKeyChangedError) Error() string {
	pinned := make([]string, 0, len(e.err.Want))
	for _, k := range e.err.Want {
		pinned = append(pinned, k.Key.Type()+" "+Fingerprint(k.Key))
	}
	got := "?"
	if e.got != nil {
		got = e.got.Type() + " " + Fingerprint(e.got)
	}
	return fmt.Sprintf("pinned %s, got %s", strings.Join(pinned, " or "), got)
}

func (e *hostKeyChangedError) Unwrap() error { return e.err }

// commandError is a non-zero exit of a remote command with the first line of
// what it wrote to stderr, the part the log shows as -> [错误] (SPEC §5).
type commandError struct {
	exit   *ssh.ExitError
	stderr string
}

func (e *commandError) Error() string {
	msg := fmt.Sprintf("exit status %d", e.exit.ExitStatus())
	if e.exit.Signal() != "" {
		msg = "killed by signal " + e.exit.Signal()
	}
	if e.stderr != "" {
		msg += ": " + e.stderr
	}
	return msg
}

func (e *commandError) Unwrap() error { return e.exit }

// phaseTimeoutError replaces the library's many ways of reporting a closed
// connection ("EOF", "use of closed network connection") by what happened.
type phaseTimeoutError struct {
	phase  string
	budget string
	cause  error
}

func (e *phaseTimeoutError) Error() string {
	return fmt.Sprintf("%s: no answer within %s", e.phase, e.budget)
}

func (e *phaseTimeoutError) Unwrap() error { return e.cause }

// classify turns an error of dial, handshake or session into an *Error.
// phaseErr is the phase context's error (nil while it is still running): a
// failure after that context ended is the deadline's doing, whatever the
// library reports, because the deadline closes the connection.
func classify(addr string, err error, phaseErr error) *Error {
	var e *Error
	if errors.As(err, &e) {
		return e
	}
	var changed *hostKeyChangedError
	var keyErr *knownhosts.KeyError
	var exitErr *commandError
	switch {
	case errors.As(err, &changed):
		// The handshake's wrapping adds nothing the owner needs.
		return &Error{Kind: HostChanged, Addr: addr, Err: changed}
	case errors.As(err, &keyErr):
		if len(keyErr.Want) > 0 {
			return &Error{Kind: HostChanged, Addr: addr, Err: err}
		}
		return &Error{Kind: HostUnknown, Addr: addr, Err: err}
	case errors.As(err, &exitErr):
		return &Error{Kind: Command, Addr: addr, Err: err}
	case errors.Is(err, syscall.ECONNREFUSED):
		return &Error{Kind: Refused, Addr: addr, Err: err}
	case strings.Contains(err.Error(), "ssh: unable to authenticate"):
		return &Error{Kind: Auth, Addr: addr, Err: err}
	case errors.Is(phaseErr, context.DeadlineExceeded):
		return &Error{Kind: Timeout, Addr: addr, Err: err}
	case phaseErr != nil:
		return &Error{Kind: Other, Addr: addr, Err: err}
	case errors.Is(err, context.DeadlineExceeded), isNetTimeout(err):
		return &Error{Kind: Timeout, Addr: addr, Err: err}
	}
	return &Error{Kind: Other, Addr: addr, Err: err}
}

func isNetTimeout(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}

// knownHostsError classifies a failure to load KNOWN_HOSTS: a missing file
// means nothing is pinned yet.
func knownHostsError(addr string, err error) *Error {
	if errors.Is(err, fs.ErrNotExist) {
		return &Error{Kind: HostUnknown, Addr: addr, Err: err}
	}
	return &Error{Kind: Other, Addr: addr, Err: fmt.Errorf("load known hosts: %w", err)}
}

// oneLine keeps a message on one log line.
func oneLine(s string) string {
	s = strings.TrimSpace(s)
	if i := strings.IndexAny(s, "\r\n"); i >= 0 {
		s = strings.TrimSpace(s[:i])
	}
	return s
}
