package pair

import (
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// TestKeyReadByOpenSSH: ssh-keygen reads the key the installer makes and
// derives the same public key from it.
func TestKeyReadByOpenSSH(t *testing.T) {
	kg, err := exec.LookPath("ssh-keygen")
	if err != nil {
		t.Skip("skipping: ssh-keygen is not installed (apt-get install openssh-client)")
	}
	priv, pub, err := newKey("netrescue@test")
	if err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(t.TempDir(), "id_ed25519")
	if err := os.WriteFile(p, priv, 0o600); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(kg, "-y", "-f", p).CombinedOutput()
	if err != nil {
		t.Fatalf("ssh-keygen -y: %v\n%s", err, out)
	}
	if string(out) != string(pub) {
		t.Errorf("ssh-keygen -y = %q; want the installer's public line %q", out, pub)
	}
}
