package remote

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha1"
	"encoding/base64"
	"errors"
	"fmt"
	"io/fs"
	"net"
	"os"
	"path/filepath"
	"strings"
	"time"

	"golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/knownhosts"

	"github.com/pve-op/network-rescue/state"
)

// pinAlgorithms are offered when nothing is pinned yet: ssh-ed25519 first,
// which Dropbear on OpenWrt generates by default, then the others so that an
// old router with only an RSA key can still be pinned.
func pinAlgorithms() []string {
	return []string{
		ssh.KeyAlgoED25519,
		ssh.KeyAlgoECDSA256, ssh.KeyAlgoECDSA384, ssh.KeyAlgoECDSA521,
		ssh.KeyAlgoRSASHA256, ssh.KeyAlgoRSASHA512, ssh.KeyAlgoRSA,
	}
}

// FetchHostKey connects to addr, takes the host key the server proves it
// holds during the key exchange, and hangs up before authenticating: the
// first half of `hostcheck pin` (SPEC §7). Failures are *Error values.
func FetchHostKey(ctx context.Context, addr string, timeout time.Duration) (ssh.PublicKey, error) {
	if timeout <= 0 {
		timeout = DefaultTimeout
	}
	got := make(chan ssh.PublicKey, 1)
	errCaptured := errors.New("host key captured")
	cfg := &ssh.ClientConfig{
		User: "root",
		HostKeyCallback: func(_ string, _ net.Addr, key ssh.PublicKey) error {
			select {
			case got <- key:
			default:
			}
			return errCaptured
		},
		HostKeyAlgorithms: pinAlgorithms(),
	}
	client, err := connect(ctx, addr, cfg, timeout)
	if err == nil {
		// Unreachable: the callback never accepts.
		client.Close()
	}
	select {
	case key := <-got:
		return key, nil
	default:
	}
	return nil, err
}

// Fingerprint returns the key's SHA256 fingerprint as OpenSSH and Dropbear
// print it ("SHA256:…"), for the owner to compare with the router's
// `dropbearkey -y -f` of CheckKeyCommand's file.
func Fingerprint(k ssh.PublicKey) string {
	return ssh.FingerprintSHA256(k)
}

// CheckKeyCommand is the command that prints, on the router, the
// fingerprint of the host key k: Dropbear keeps a key of each type in
// /etc/dropbear/dropbear_TYPE_host_key (OpenWrt's dropbear init script
// makes ed25519, ecdsa and rsa ones). An older router that offered only
// its RSA key was told to check the ed25519 file, which it lacked or which
// showed another fingerprint.
func CheckKeyCommand(k ssh.PublicKey) string {
	kind := "ed25519"
	switch t := k.Type(); {
	case strings.HasPrefix(t, "ecdsa-"):
		kind = "ecdsa"
	case t == ssh.KeyAlgoRSA:
		kind = "rsa"
	}
	return "dropbearkey -y -f /etc/dropbear/dropbear_" + kind + "_host_key"
}

// PinnedKeys returns the keys the known_hosts file at path pins for addr
// (host:port), as hostcheck's own check finds them; a missing file pins
// none. The installer uses it to tell "already pinned" from a changed key.
func PinnedKeys(path, addr string) ([]ssh.PublicKey, error) {
	if _, err := state.ReadBoundedFollow(path, maxKnownHostsBytes); errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	} else if err != nil {
		return nil, fmt.Errorf("known hosts: %w", err)
	}
	check, err := knownhosts.New(path)
	if err != nil {
		return nil, fmt.Errorf("known hosts %s: %w", path, err)
	}
	known, err := pinnedKeys(check, addr)
	if err != nil {
		return nil, err
	}
	keys := make([]ssh.PublicKey, 0, len(known))
	for _, k := range known {
		keys = append(keys, k.Key)
	}
	return keys, nil
}

// Pin makes key the only pinned key for addr in the known_hosts file at
// path: lines naming addr (as "host", "[host]:port" or a hashed name) lose
// that name, lines left with no name are dropped, every other line is kept
// byte for byte, and one line for addr is appended. The directory is created
// (0700) when missing; the file is written atomically with mode 0600.
func Pin(path, addr string, key ssh.PublicKey) error {
	if key == nil {
		return fmt.Errorf("pin host key %s: no key", addr)
	}
	// Without blocking, bounded; a symlink the user made is followed (SPEC §15).
	old, err := state.ReadBoundedFollow(path, maxKnownHostsBytes)
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("pin host key %s: %w", addr, err)
	}
	data := unpin(old, knownhosts.Normalize(addr))
	if len(data) > 0 && data[len(data)-1] != '\n' {
		data = append(data, '\n')
	}
	data = append(data, knownhosts.Line([]string{addr}, key)+"\n"...)
	path = writePath(path)
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return fmt.Errorf("pin host key %s: %w", addr, err)
	}
	if err := state.WriteFile(path, data, 0o600); err != nil {
		return fmt.Errorf("pin host key %s: %w", addr, err)
	}
	return nil
}

// Unpin removes addr (host:port) from the known_hosts file at path, as Pin
// replaces it: every other line is kept byte for byte. It reports whether
// a pin was there; a file left with no line is removed. For a KNOWN_HOSTS
// that is the owner's own file (/root/.ssh/known_hosts), where purge may
// not remove their other pins.
func Unpin(path, addr string) (bool, error) {
	old, err := state.ReadBoundedFollow(path, maxKnownHostsBytes)
	if errors.Is(err, fs.ErrNotExist) {
		return false, nil
	} else if err != nil {
		return false, fmt.Errorf("unpin host key %s: %w", addr, err)
	}
	data := unpin(old, knownhosts.Normalize(addr))
	switch {
	case bytes.Equal(data, old):
		return false, nil
	case len(bytes.TrimSpace(data)) == 0 && writePath(path) == path:
		err = os.Remove(path) // only our pin was in it (a link's file stays, emptied)
	default:
		err = state.WriteFile(writePath(path), data, 0o600)
	}
	if err != nil {
		return false, fmt.Errorf("unpin host key %s: %w", addr, err)
	}
	return true, nil
}

// writePath is where a write of the known_hosts file at path goes: the
// file a link the owner made leads to, as it was read (a write to path
// itself replaced their link by a copy, and their file never had the
// pin); path itself when it is no link or leads nowhere yet.
func writePath(path string) string {
	if t, err := filepath.EvalSymlinks(path); err == nil {
		return t
	}
	return path
}

// unpin removes host (in knownhosts.Normalize form) from the host lists of
// the plain (marker-less) lines of a known_hosts file.
func unpin(data []byte, host string) []byte {
	out := make([]byte, 0, len(data))
	for len(data) > 0 {
		line := data
		if i := bytes.IndexByte(data, '\n'); i >= 0 {
			line = data[:i+1]
		}
		data = data[len(line):]
		out = append(out, unpinLine(line, host)...)
	}
	return out
}

// unpinLine returns line unchanged unless its host list names host.
func unpinLine(line []byte, host string) []byte {
	body := bytes.TrimLeft(line, " \t")
	indent := line[:len(line)-len(body)]
	if len(body) == 0 || body[0] == '#' || body[0] == '@' {
		return line
	}
	end := bytes.IndexAny(body, " \t\r\n")
	if end < 0 {
		return line
	}
	patterns, rest := strings.Split(string(body[:end]), ","), body[end:]
	var kept []string
	for _, pattern := range patterns {
		if !namesHost(pattern, host) {
			kept = append(kept, pattern)
		}
	}
	switch len(kept) {
	case len(patterns):
		return line
	case 0:
		return nil
	}
	out := append([]byte{}, indent...)
	out = append(out, strings.Join(kept, ",")...)
	return append(out, rest...)
}

// namesHost says whether a known_hosts host pattern names exactly host (a
// knownhosts.Normalize form). Wildcards and negations are left alone: they
// are the owner's own rules, not a pin for this address.
func namesHost(pattern, host string) bool {
	if strings.HasPrefix(pattern, "|1|") {
		parts := strings.Split(pattern[len("|1|"):], "|")
		if len(parts) != 2 {
			return false
		}
		salt, err1 := base64.StdEncoding.DecodeString(parts[0])
		want, err2 := base64.StdEncoding.DecodeString(parts[1])
		if err1 != nil || err2 != nil {
			return false
		}
		mac := hmac.New(sha1.New, salt)
		mac.Write([]byte(host))
		return hmac.Equal(mac.Sum(nil), want)
	}
	if strings.ContainsAny(pattern, "*?!") {
		return false
	}
	return knownhosts.Normalize(pattern) == host
}
