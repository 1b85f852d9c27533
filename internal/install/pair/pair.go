// Package pair is the host's install steps that need SSH (SPEC §10): the
// host's ed25519 key, and pairing with the router — its host key pinned
// with hostcheck pin's code, this host's key in its authorized_keys (one
// password prompt), netcheck streamed to it and its own install run there.
// It is apart from package install so that netcheck, which installs the
// router side, links no SSH stack: hostcheck passes Steps() in.
package pair

import (
	"context"
	"io"
	"os"

	"golang.org/x/term"

	"github.com/pve-op/network-rescue/internal/install"
	"github.com/pve-op/network-rescue/internal/remote"
)

// RealEnv is the environment of `hostcheck install`: install.RealEnv with
// the host's steps, and the terminal that pairing asks the router's
// password on.
func RealEnv(stdin io.Reader, stdout, stderr io.Writer) install.Env {
	env := install.RealEnv(stdin, stdout, stderr)
	env.Host = Steps()
	fd := -1
	if f, ok := stdin.(*os.File); ok {
		fd = int(f.Fd())
	}
	env.Terminal = func() bool { return fd >= 0 && term.IsTerminal(fd) }
	env.ReadPassword = func() ([]byte, error) { return term.ReadPassword(fd) }
	return env
}

// pairer is one install run, as the host's steps see it.
type pairer struct{ install.Host }

// Steps are the host's steps for install.Env.Host: the SSH ones and the
// installer's host-only ones.
func Steps() install.HostSteps {
	return install.HostSteps{
		Key:    func(h install.Host) error { return (&pairer{h}).hostKey() },
		Deploy: func(ctx context.Context, h install.Host) error { return (&pairer{h}).deployRouter(ctx) },
		Unpin:  remote.Unpin,
	}.WithHostSide()
}
