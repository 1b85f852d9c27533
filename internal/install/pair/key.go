package pair

import (
	"crypto/ed25519"
	"crypto/rand"
	"encoding/pem"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"golang.org/x/crypto/ssh"

	"github.com/pve-op/network-rescue/internal/install"
	"github.com/pve-op/network-rescue/state"
)

// keyFile is the private key hostcheck logs in to the router with, in the
// tree: SSH_KEY, or /root/.ssh/id_rsa where SSH_KEY is the default and only
// an RSA key exists (as hostcheck itself falls back, SPEC §3).
func (in *pairer) keyFile() string {
	k := in.Path(in.Cfg.SSHKey)
	if in.Cfg.SSHKey == "/root/.ssh/id_ed25519" && !install.Exists(k) && install.Exists(in.Path("/root/.ssh/id_rsa")) {
		return in.Path("/root/.ssh/id_rsa")
	}
	return k
}

// hostKey makes sure the host has its SSH key, creating an ed25519 key
// without a passphrase (a cron job cannot type one) when there is none.
func (in *pairer) hostKey() error {
	in.UI.Say("SSH key for the router")
	k := in.keyFile()
	if install.Exists(k) {
		in.UI.Info("using %s", k)
		return nil
	}
	if in.Opts.DryRun {
		in.UI.Info("would create an ed25519 key %s (and %s.pub)", k, k)
		in.UI.Note("created the SSH key %s", k)
		return nil
	}
	host, err := in.Env.Hostname()
	if err != nil || host == "" {
		host = "localhost"
	}
	priv, pub, err := newKey("netrescue@" + host)
	if err != nil {
		return install.Fail(fmt.Sprintf("cannot create an ed25519 key: %v", err), "create one by hand: ssh-keygen -t ed25519 -N '' -f "+in.Bare(k))
	}
	dir := filepath.Dir(k)
	if err := in.Mkdir(dir); err != nil {
		return err
	}
	if err := os.Chmod(dir, 0o700); err != nil {
		return install.Fail(fmt.Sprintf("cannot make %s private: %v", dir, err), "chmod 700 "+in.Bare(dir))
	}
	for _, f := range []struct {
		path string
		data []byte
		perm os.FileMode
	}{{k, priv, 0o600}, {k + ".pub", pub, 0o644}} {
		if err := state.WriteFile(f.path, f.data, f.perm); err != nil {
			return install.Fail(fmt.Sprintf("cannot write %s: %v", f.path, err), "check that "+dir+" is writable")
		}
	}
	in.UI.Info("created %s", k)
	in.UI.Note("created the SSH key %s", k)
	return nil
}

// newKey returns a new ed25519 key in OpenSSH's formats: the private key
// file (as ssh-keygen writes it, unencrypted) and the public key line.
func newKey(comment string) (private, public []byte, err error) {
	pub, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		return nil, nil, err
	}
	block, err := ssh.MarshalPrivateKey(priv, comment)
	if err != nil {
		return nil, nil, err
	}
	sshPub, err := ssh.NewPublicKey(pub)
	if err != nil {
		return nil, nil, err
	}
	line := strings.TrimSuffix(string(ssh.MarshalAuthorizedKey(sshPub)), "\n") + " " + comment + "\n"
	return pem.EncodeToMemory(block), []byte(line), nil
}
