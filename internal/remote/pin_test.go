package remote

import (
	"crypto/ed25519"
	"crypto/rand"
	"crypto/rsa"
	"encoding/pem"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/knownhosts"
)

func writePEM(t testing.TB, path string, block *pem.Block) {
	t.Helper()
	if err := os.WriteFile(path, pem.EncodeToMemory(block), 0o600); err != nil {
		t.Fatal(err)
	}
}

func TestPin(t *testing.T) {
	// The connection's remote address, which the knownhosts callback
	// ignores when it is given the host name.
	anyAddr := &net.TCPAddr{IP: net.IPv4zero, Port: 22}
	_, oldKey := seededKey(t, 1)
	_, newKey := seededKey(t, 2)
	oldLine := strings.TrimSuffix(string(ssh.MarshalAuthorizedKey(oldKey)), "\n") // "ssh-ed25519 AAAA…"
	newLine := strings.TrimSuffix(string(ssh.MarshalAuthorizedKey(newKey)), "\n")
	_, revokedKey := seededKey(t, 3)
	revokedLine := strings.TrimSuffix(string(ssh.MarshalAuthorizedKey(revokedKey)), "\n")
	_, wildKey := seededKey(t, 4)
	wildLine := strings.TrimSuffix(string(ssh.MarshalAuthorizedKey(wildKey)), "\n")
	hashed := knownhosts.HashHostname("192.168.10.1")
	hashedOther := knownhosts.HashHostname("192.168.10.2")

	tests := []struct {
		name string
		addr string
		old  string // "" with missing=true: no file
		none bool   // no file at all
		want string
	}{
		{
			name: "missing file",
			addr: "192.168.10.1:22",
			none: true,
			want: "192.168.10.1 " + newLine + "\n",
		},
		{
			name: "empty file",
			addr: "192.168.10.1:22",
			want: "192.168.10.1 " + newLine + "\n",
		},
		{
			name: "old pin replaced, other lines byte for byte",
			addr: "192.168.10.1:22",
			old: "# my hosts\n" +
				"nas.lan " + oldLine + " nas comment\r\n" +
				"192.168.10.1 " + oldLine + "\n" +
				"\n" +
				"  192.168.10.10\t" + oldLine + "\n",
			want: "# my hosts\n" +
				"nas.lan " + oldLine + " nas comment\r\n" +
				"\n" +
				"  192.168.10.10\t" + oldLine + "\n" +
				"192.168.10.1 " + newLine + "\n",
		},
		{
			name: "[host]:22 form and hashed form are the same address",
			addr: "192.168.10.1:22",
			old: "[192.168.10.1]:22 " + oldLine + "\n" +
				hashed + " " + oldLine + "\n" +
				hashedOther + " " + oldLine + "\n",
			want: hashedOther + " " + oldLine + "\n" +
				"192.168.10.1 " + newLine + "\n",
		},
		{
			name: "other port is another address",
			addr: "192.168.10.1:2222",
			old: "192.168.10.1 " + oldLine + "\n" +
				"[192.168.10.1]:2222 " + oldLine + "\n",
			want: "192.168.10.1 " + oldLine + "\n" +
				"[192.168.10.1]:2222 " + newLine + "\n",
		},
		{
			name: "shared line keeps the other names",
			addr: "192.168.10.1:22",
			old:  "openwrt.lan,192.168.10.1,router " + oldLine + " c\n",
			want: "openwrt.lan,router " + oldLine + " c\n" +
				"192.168.10.1 " + newLine + "\n",
		},
		{
			name: "markers, wildcards and negations are the owner's rules",
			addr: "192.168.10.1:22",
			old: "@revoked 192.168.10.1 " + revokedLine + "\n" +
				"@cert-authority 192.168.10.1 " + wildLine + "\n" +
				"192.168.10.* " + wildLine + "\n" +
				"!192.168.10.1,10.0.0.1 " + oldLine + "\n",
			want: "@revoked 192.168.10.1 " + revokedLine + "\n" +
				"@cert-authority 192.168.10.1 " + wildLine + "\n" +
				"192.168.10.* " + wildLine + "\n" +
				"!192.168.10.1,10.0.0.1 " + oldLine + "\n" +
				"192.168.10.1 " + newLine + "\n",
		},
		{
			name: "no final newline",
			addr: "192.168.10.1:22",
			old:  "nas.lan " + oldLine,
			want: "nas.lan " + oldLine + "\n" +
				"192.168.10.1 " + newLine + "\n",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "netrescue")
			path := filepath.Join(dir, "known_hosts")
			if !tt.none {
				if err := os.MkdirAll(dir, 0o755); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(path, []byte(tt.old), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			if err := Pin(path, tt.addr, newKey); err != nil {
				t.Fatalf("Pin() = %v", err)
			}
			got, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			if string(got) != tt.want {
				t.Errorf("Pin() wrote\n%s\nwant\n%s", got, tt.want)
			}
			fi, err := os.Stat(path)
			if err != nil {
				t.Fatal(err)
			}
			if fi.Mode().Perm() != 0o600 {
				t.Errorf("known_hosts mode = %v; want 0600", fi.Mode().Perm())
			}
			if tt.none {
				di, err := os.Stat(dir)
				if err != nil {
					t.Fatal(err)
				}
				if di.Mode().Perm() != 0o700 {
					t.Errorf("known_hosts dir mode = %v; want 0700", di.Mode().Perm())
				}
			}

			// What the client will then accept and offer.
			cfg := Config{Addr: tt.addr, KnownHosts: path}
			check, algos, err := cfg.hostKeyCheck()
			if err != nil {
				t.Fatalf("hostKeyCheck() after Pin = %v", err)
			}
			if strings.Join(algos, ",") != "ssh-ed25519" {
				t.Errorf("host key algorithms = %v; want [ssh-ed25519]", algos)
			}
			if err := check(tt.addr, anyAddr, newKey); err != nil {
				t.Errorf("new key after Pin: %v; want accepted", err)
			}
			err = check(tt.addr, anyAddr, oldKey)
			if err == nil || classify(tt.addr, err, nil).Kind != HostChanged {
				t.Errorf("old key after Pin: %v; want host changed", err)
			}
		})
	}
}

func TestPinTwiceKeepsOneLine(t *testing.T) {
	_, key := seededKey(t, 1)
	path := filepath.Join(t.TempDir(), "known_hosts")
	for range 2 {
		if err := Pin(path, "192.168.10.1:22", key); err != nil {
			t.Fatal(err)
		}
	}
	got, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if n := strings.Count(string(got), "\n"); n != 1 {
		t.Errorf("known_hosts after two pins has %d lines; want 1:\n%s", n, got)
	}
}

func TestPinnedKeysHashedAndRSA(t *testing.T) {
	_, edKey := seededKey(t, 1)
	rsaPriv, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	rsaKey, err := ssh.NewPublicKey(&rsaPriv.PublicKey)
	if err != nil {
		t.Fatal(err)
	}
	rsaLine := strings.TrimSuffix(string(ssh.MarshalAuthorizedKey(rsaKey)), "\n")
	path := filepath.Join(t.TempDir(), "known_hosts")
	content := knownhosts.HashHostname("192.168.10.1") + " " + rsaLine + "\n" +
		"192.168.10.1 " + string(ssh.MarshalAuthorizedKey(edKey))
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	_, algos, err := Config{Addr: "192.168.10.1:22", KnownHosts: path}.hostKeyCheck()
	if err != nil {
		t.Fatal(err)
	}
	want := "ssh-ed25519,rsa-sha2-256,rsa-sha2-512,ssh-rsa"
	if got := strings.Join(algos, ","); got != want {
		t.Errorf("host key algorithms = %s; want %s", got, want)
	}
}

// TestPinFIFO: a FIFO as KNOWN_HOSTS makes `hostcheck pin` fail at once
// naming the kind, instead of blocking on the open (SPEC §15, issue 9
// item 11).
func TestPinFIFO(t *testing.T) {
	path := filepath.Join(t.TempDir(), "known_hosts")
	if err := syscall.Mkfifo(path, 0o600); err != nil {
		t.Fatal(err)
	}
	pub, _, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	key, _ := ssh.NewPublicKey(pub)
	done := make(chan error, 1)
	go func() { done <- Pin(path, "203.0.113.9:22", key) }()
	select {
	case err := <-done:
		if err == nil || !strings.Contains(err.Error(), "fifo") {
			t.Errorf("Pin(FIFO) = %v; want an error naming the fifo", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Pin blocked on a FIFO as known_hosts")
	}
}

// TestPinnedKeys: what the installer reads to tell "already pinned" from a
// changed key: the keys a known_hosts file pins for an address, by the
// same matching as hostcheck's check ([host]:port for a port other than
// 22, hashed names), none for a missing file.
func TestPinnedKeys(t *testing.T) {
	_, k1 := seededKey(t, 1)
	_, k2 := seededKey(t, 2)
	line := func(k ssh.PublicKey) string { return strings.TrimSuffix(string(ssh.MarshalAuthorizedKey(k)), "\n") }
	dir := t.TempDir()
	kh := filepath.Join(dir, "known_hosts")
	content := "192.168.10.1 " + line(k1) + "\n[192.168.10.1]:2222 " + line(k2) + "\n" +
		knownhosts.HashHostname("10.0.0.9") + " " + line(k2) + "\n"
	if err := os.WriteFile(kh, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		path, addr string
		want       []ssh.PublicKey
	}{
		{kh, "192.168.10.1:22", []ssh.PublicKey{k1}},
		{kh, "192.168.10.1:2222", []ssh.PublicKey{k2}},
		{kh, "10.0.0.9:22", []ssh.PublicKey{k2}},
		{kh, "192.168.10.2:22", nil},
		{filepath.Join(dir, "missing"), "192.168.10.1:22", nil},
	} {
		got, err := PinnedKeys(tt.path, tt.addr)
		if err != nil {
			t.Errorf("PinnedKeys(%s, %s) = %v", tt.path, tt.addr, err)
			continue
		}
		if len(got) != len(tt.want) {
			t.Errorf("PinnedKeys(%s, %s) = %d keys; want %d", tt.path, tt.addr, len(got), len(tt.want))
			continue
		}
		for i := range got {
			if string(got[i].Marshal()) != string(tt.want[i].Marshal()) {
				t.Errorf("PinnedKeys(%s, %s)[%d] = %s; want %s", tt.path, tt.addr, i, Fingerprint(got[i]), Fingerprint(tt.want[i]))
			}
		}
	}
}

// TestCheckKeyCommand: the command `hostcheck pin` and the installer tell
// the owner to run on the router names the file of the key type the router
// presented. Keys made by Dropbear's own dropbearkey (Debian's
// dropbear-bin, as OpenWrt's dropbear init script makes them: -t ed25519,
// ecdsa, rsa into /etc/dropbear/dropbear_TYPE_host_key); its `-y` prints
// "Public key portion is:", the authorized_keys line and "Fingerprint:
// SHA256:…", which must match ours. An RSA-only router was told to check
// the ed25519 file.
func TestCheckKeyCommand(t *testing.T) {
	if _, err := exec.LookPath("dropbearkey"); err != nil {
		t.Skip("skipping: dropbearkey not installed (apt-get install dropbear-bin)")
	}
	dir := t.TempDir()
	for _, typ := range []string{"ed25519", "ecdsa", "rsa"} {
		file := filepath.Join(dir, "dropbear_"+typ+"_host_key")
		args := []string{"-t", typ, "-f", file}
		if typ == "rsa" {
			args = append(args, "-s", "1024") // quick; the type is what counts
		}
		if out, err := exec.Command("dropbearkey", args...).CombinedOutput(); err != nil {
			t.Fatalf("dropbearkey %q: %v\n%s", args, err, out)
		}
		out, err := exec.Command("dropbearkey", "-y", "-f", file).Output()
		if err != nil {
			t.Fatalf("dropbearkey -y -f %s: %v", file, err)
		}
		var key ssh.PublicKey
		fp := ""
		for _, l := range strings.Split(string(out), "\n") {
			if k, _, _, _, err := ssh.ParseAuthorizedKey([]byte(l)); err == nil {
				key = k
			}
			if f, ok := strings.CutPrefix(l, "Fingerprint: "); ok {
				fp = strings.TrimSpace(f)
			}
		}
		if key == nil {
			t.Fatalf("no public key line in dropbearkey -y:\n%s", out)
		}
		want := "dropbearkey -y -f /etc/dropbear/dropbear_" + typ + "_host_key"
		if got := CheckKeyCommand(key); got != want {
			t.Errorf("%s key (%s): %q; want %q", typ, key.Type(), got, want)
		}
		if got := Fingerprint(key); got != fp {
			t.Errorf("%s key: fingerprint %q; dropbearkey prints %q", typ, got, fp)
		}
	}
}

// TestPinKeepsOwnersFiles: KNOWN_HOSTS may be root's own
// (/root/.ssh/known_hosts, SPEC §3 allows it), beside OpenSSH's other
// default file, known_hosts2, and a copy the owner dated
// (cp known_hosts known_hosts$(date +%Y%m%d)). Pin's write swept each as
// a temp file a killed write of known_hosts left (natefinch/atomic's
// base + random digits, 9 or 10 of them nearly always): the owner's pins
// in it were gone.
func TestPinKeepsOwnersFiles(t *testing.T) {
	_, key := seededKey(t, 1)
	for _, name := range []string{"known_hosts2", "known_hosts20261201"} {
		dir := t.TempDir()
		theirs := filepath.Join(dir, name)
		if err := os.WriteFile(theirs, []byte("github.com ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl\n"), 0o600); err != nil {
			t.Fatal(err)
		}
		old := time.Now().Add(-time.Hour)
		if err := os.Chtimes(theirs, old, old); err != nil {
			t.Fatal(err)
		}
		if err := Pin(filepath.Join(dir, "known_hosts"), "192.168.10.1:22", key); err != nil {
			t.Fatal(err)
		}
		if _, err := os.Stat(theirs); err != nil {
			t.Errorf("pin into %s/known_hosts removed the owner's %s: %v", dir, name, err)
		}
	}
}

// TestPinThroughLink: a KNOWN_HOSTS the owner linked to their own file
// (/etc/netrescue/known_hosts -> /root/.ssh/known_hosts) is read through
// the link (SPEC §15: a symlink the user made is followed), and written
// through it too: the pin lands in the file it leads to, and the link
// stays. It was replaced by a regular file, a copy, and the owner's file
// never had the pin.
func TestPinThroughLink(t *testing.T) {
	_, key := seededKey(t, 1)
	dir := t.TempDir()
	target := filepath.Join(dir, "root-known_hosts")
	const theirs = "github.com ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl\n"
	if err := os.WriteFile(target, []byte(theirs), 0o600); err != nil {
		t.Fatal(err)
	}
	link := filepath.Join(dir, "known_hosts")
	if err := os.Symlink(target, link); err != nil {
		t.Fatal(err)
	}
	if err := Pin(link, "192.168.10.1:22", key); err != nil {
		t.Fatal(err)
	}
	if fi, err := os.Lstat(link); err != nil || fi.Mode()&os.ModeSymlink == 0 {
		t.Errorf("KNOWN_HOSTS, a link, after pin: %v, %v; want the link kept", fi.Mode(), err)
	}
	b, _ := os.ReadFile(target)
	if !strings.HasPrefix(string(b), theirs) || !strings.Contains(string(b), "192.168.10.1") {
		t.Errorf("the file the link leads to after pin: %q; want the owner's line and the pin", b)
	}
}

// TestPinKeepsTimestampedBackup: a copy the owner stamped to the minute or
// the second (cp known_hosts known_hosts$(date +%Y%m%d%H%M), 12 digits, or
// %Y%m%d%H%M%S, 14) is theirs as much as one dated to the day: an earlier
// version's temp carried at most 10 digits (a uint32's decimal, or
// 1e9+r%1e9 less its 1), never 12 or 14.
func TestPinKeepsTimestampedBackup(t *testing.T) {
	_, key := seededKey(t, 1)
	dir := t.TempDir()
	var theirs []string
	for _, name := range []string{"known_hosts202612011030", "known_hosts20261201103000"} {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte("github.com ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl\n"), 0o600); err != nil {
			t.Fatal(err)
		}
		old := time.Now().Add(-time.Hour)
		if err := os.Chtimes(p, old, old); err != nil {
			t.Fatal(err)
		}
		theirs = append(theirs, p)
	}
	if err := Pin(filepath.Join(dir, "known_hosts"), "192.168.10.1:22", key); err != nil {
		t.Fatal(err)
	}
	for _, p := range theirs {
		if _, err := os.Stat(p); err != nil {
			t.Errorf("pin into %s/known_hosts removed the owner's stamped copy %s: %v", dir, filepath.Base(p), err)
		}
	}
}
