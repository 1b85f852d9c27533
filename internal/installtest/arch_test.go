package installtest

import (
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// Real /proc/cpuinfo dumps of ARM machines, as Linux's
// arch/arm/kernel/setup.c c_show() prints them ("Features" from hwcap_str[]):
//   - a Raspberry Pi 3 in 32-bit mode (lists vfpv3), from the repository
//     vortex314/zenoh-projects, proxy_rs/cross_compile.md;
//   - a Raspberry Pi 1 (ARMv6, VFPv2 only: "vfp" without "vfpv3"), same file;
//   - an ARMv7 LTE modem with no VFP at all, from SrzStephen/modem_stats,
//     docs/ignore_misc.md (its dump ends after "Features").
//
// Only the first processor block of the Pi 3 is kept.
const (
	cpuinfoPi3 = `processor	: 0
model name	: ARMv7 Processor rev 4 (v7l)
BogoMIPS	: 38.40
Features	: half thumb fastmult vfp edsp neon vfpv3 tls vfpv4 idiva idivt vfpd32 lpae evtstrm crc32 
CPU implementer	: 0x41
CPU architecture: 7
CPU variant	: 0x0
CPU part	: 0xd03
CPU revision	: 4

Hardware	: BCM2835
Revision	: a02082
Serial		: 000000006308540b
Model		: Raspberry Pi 3 Model B Rev 1.2
`
	cpuinfoPi1 = `processor	: 0
model name	: ARMv6-compatible processor rev 7 (v6l)
BogoMIPS	: 697.95
Features	: half thumb fastmult vfp edsp java tls 
CPU implementer	: 0x41
CPU architecture: 7
CPU variant	: 0x0
CPU part	: 0xb76
CPU revision	: 7

Hardware	: BCM2835
Revision	: 000e
Serial		: 0000000056fd29f5
Model		: Raspberry Pi Model B Rev 2
`
	cpuinfoModemNoVFP = `processor	: 0
model name	: ARMv7 Processor rev 1 (v7l)
BogoMIPS	: 398.13
Features	: half thumb fastmult edsp tls 
`
)

// TestArmBuildByCPUInfo: install.sh picks the armv7 build only when the
// kernel lists vfpv3 in /proc/cpuinfo, else the armv5 one (issue 9 item 23,
// SPEC §10), under busybox ash and dash. NETRESCUE_UNAME_M and
// NETRESCUE_CPUINFO stand in for uname -m and /proc/cpuinfo. --print-arch
// is the choice (the installer also runs it on the router over SSH), and
// --print-bin names the dist/linux-ARCH/ it leads to.
func TestArmBuildByCPUInfo(t *testing.T) {
	requireTools(t, "busybox", "dash")
	for _, c := range []struct{ name, machine, cpuinfo, want string }{
		{"Raspberry Pi 3 (vfpv3)", "armv7l", cpuinfoPi3, "armv7"},
		{"ARMv7 modem without VFP", "armv7l", cpuinfoModemNoVFP, "armv5"},
		{"Raspberry Pi 1 (ARMv6, VFPv2)", "armv6l", cpuinfoPi1, "armv5"},
	} {
		for _, sh := range shells(t) {
			t.Run(c.name+"/"+sh.name, func(t *testing.T) {
				repo := t.TempDir()
				sc := filepath.Join(repo, "scripts", "install.sh")
				write(t, sc, read(t, script(t)), 0o755)
				for _, a := range []string{"armv5", "armv7"} {
					write(t, filepath.Join(repo, "dist", "linux-"+a, "netcheck"), "netcheck for "+a+"\n", 0o755)
				}
				info := filepath.Join(t.TempDir(), "cpuinfo")
				write(t, info, c.cpuinfo, 0o444)
				run := func(args ...string) string {
					cmd := exec.Command(sh.argv[0], append(append(sh.argv[1:], sc), args...)...)
					cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "NETRESCUE_UNAME_M=" + c.machine, "NETRESCUE_CPUINFO=" + info}
					out, err := cmd.CombinedOutput()
					if err != nil {
						t.Fatalf("install.sh %q: %v\n%s", args, err, out)
					}
					return string(out)
				}
				if got := run("--print-arch"); got != c.want+"\n" {
					t.Errorf("install.sh --print-arch = %q; want %q", got, c.want+"\n")
				}
				if got, want := run("--print-bin", c.want), filepath.Join(repo, "dist", "linux-"+c.want)+"\n"; got != want {
					t.Errorf("install.sh --print-bin %s = %q; want %q", c.want, got, want)
				}
			})
		}
	}
}

// TestCDPATH: install.sh run by a relative path with CDPATH set (an
// interactive shell's setting, exported) finds its own directory: cd
// prints the directory it finds through CDPATH, and $(cd DIR && pwd) took
// that in as a second line of the path.
func TestCDPATH(t *testing.T) {
	requireTools(t, "busybox", "dash")
	for _, sh := range shells(t) {
		t.Run(sh.name, func(t *testing.T) {
			repo := t.TempDir()
			write(t, filepath.Join(repo, "scripts", "install.sh"), read(t, script(t)), 0o755)
			write(t, filepath.Join(repo, "dist", "linux-amd64", "netcheck"), "netcheck for amd64\n", 0o755)
			cmd := exec.Command(sh.argv[0], append(sh.argv[1:], "scripts/install.sh", "--print-bin", "amd64")...)
			cmd.Dir = repo
			cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "CDPATH=" + repo}
			out, err := cmd.CombinedOutput()
			if err != nil {
				t.Fatalf("install.sh --print-bin amd64 with CDPATH: %v\n%s", err, out)
			}
			if want := filepath.Join(repo, "dist", "linux-amd64") + "\n"; string(out) != want {
				t.Errorf("install.sh --print-bin amd64 with CDPATH = %q; want %q", out, want)
			}
		})
	}
}
