package testlab

import (
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
)

func TestOwnerPID(t *testing.T) {
	for _, tt := range []struct {
		name string
		want int
	}{
		{"nre2134lsr", 2134}, {"nre2134-bin-123", 2134}, {"nrssh77h", 77}, {"nrin9-r", 9}, {"nrbench41i", 41},
		{"nrhop5", 5}, {"nrdemo24647.p9ALRj", 24647}, {"nrlog12-abc", 12}, {"nrpb3", 3}, {"nrpo8", 8},
		{"nre", 0}, {"nrex12", 0}, {"nr12", 0}, {"other123", 0}, {"nre0x", 0}, {"", 0},
	} {
		if got := ownerPID(tt.name); got != tt.want {
			t.Errorf("ownerPID(%q) = %d; want %d", tt.name, got, tt.want)
		}
	}
}

// deadPID is a PID no process can have: above the kernel's pid_max.
func deadPID(t *testing.T) int {
	b, err := os.ReadFile("/proc/sys/kernel/pid_max")
	if err != nil {
		t.Skipf("no /proc/sys/kernel/pid_max: %v", err)
	}
	n, err := strconv.Atoi(strings.TrimSpace(string(b)))
	if err != nil {
		t.Fatal(err)
	}
	return n + 1
}

// TestSweepStale: what a killed run left (its PID gone) is removed; what a
// live process owns, this one or another, and names not ours stay.
func TestSweepStale(t *testing.T) {
	tmp := t.TempDir()
	dead := strconv.Itoa(deadPID(t))
	live := strconv.Itoa(os.Getppid())
	for _, d := range []string{"nre" + dead + "-bin-1", "nrlog" + dead + "-x", "nre" + live + "-bin-2", "nre" + strconv.Itoa(os.Getpid()) + "-bin-3", "keep" + dead} {
		if err := os.Mkdir(filepath.Join(tmp, d), 0o700); err != nil {
			t.Fatal(err)
		}
	}
	netnsDir := t.TempDir() // no namespaces here without root: only dirs are swept
	var made []string
	if os.Geteuid() == 0 {
		if _, err := exec.LookPath("ip"); err == nil {
			netnsDir = "/run/netns"
			for _, ns := range []string{"nrpb" + dead + "z", "nrpb" + live + "z"} {
				if out, err := exec.Command("ip", "netns", "add", ns).CombinedOutput(); err != nil {
					t.Fatalf("ip netns add %s: %v %s", ns, err, out)
				}
				made = append(made, ns)
				t.Cleanup(func() { exec.Command("ip", "netns", "del", ns).Run() })
			}
		}
	}
	removed := SweepStale(netnsDir, tmp)
	want := []string{filepath.Join(tmp, "nre"+dead+"-bin-1"), filepath.Join(tmp, "nrlog"+dead+"-x")}
	if len(made) > 0 {
		want = append(want, "netns nrpb"+dead+"z")
	}
	for _, w := range want {
		if !slices.Contains(removed, w) {
			t.Errorf("SweepStale removed %q; want %q among them", removed, w)
		}
	}
	for _, r := range removed {
		// Anything else it removed (/run/netns is the machine's) must be a
		// killed run's: its PID gone.
		pid := ownerPID(filepath.Base(strings.TrimPrefix(r, "netns ")))
		if _, err := os.Stat(filepath.Join("/proc", strconv.Itoa(pid))); pid == 0 || err == nil {
			t.Errorf("SweepStale removed %s, whose owner %d is alive or unknown", r, pid)
		}
	}
	for _, d := range []string{"nre" + live + "-bin-2", "nre" + strconv.Itoa(os.Getpid()) + "-bin-3", "keep" + dead} {
		if _, err := os.Stat(filepath.Join(tmp, d)); err != nil {
			t.Errorf("%s was removed: %v", d, err)
		}
	}
	if len(made) > 0 {
		if _, err := os.Stat("/run/netns/nrpb" + live + "z"); err != nil {
			t.Errorf("the live run's namespace was removed: %v", err)
		}
	} else {
		t.Log("not root or no ip: namespaces not exercised (dirs only)")
	}
}
