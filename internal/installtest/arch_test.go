package installtest

import (
	"os"
	"path/filepath"
	"testing"
)

// The /proc/cpuinfo of two ARM routers, in the layout that Linux's
// arch/arm/kernel/setup.c c_show() prints ("processor", "model name",
// "BogoMIPS", "Features" from hwcap_str[], then "CPU implementer" …
// "CPU revision", then "Hardware"/"Revision"/"Serial"). The values are
// those of a Cortex-A7 (part 0xc07, ARMv7 with VFPv4, so vfpv3 is listed)
// and of an ARM926EJ-S (part 0x926, ARMv5TEJ, VFP absent or VFPv2 only).
const (
	cpuinfoCortexA7 = `processor	: 0
model name	: ARMv7 Processor rev 5 (v7l)
BogoMIPS	: 48.00
Features	: half thumb fastmult vfp edsp neon vfpv3 tls vfpv4 idiva idivt vfpd32 lpae evtstrm
CPU implementer	: 0x41
CPU architecture: 7
CPU variant	: 0x0
CPU part	: 0xc07
CPU revision	: 5

Hardware	: Allwinner sun8i Family
Revision	: 0000
Serial		: 0000000000000000
`
	cpuinfoARM926 = `processor	: 0
model name	: ARM926EJ-S rev 5 (v5l)
BogoMIPS	: 226.09
Features	: swp half thumb fastmult edsp java
CPU implementer	: 0x41
CPU architecture: 5TEJ
CPU variant	: 0x0
CPU part	: 0x926
CPU revision	: 5

Hardware	: Generic DT based system
Revision	: 0000
Serial		: 0000000000000000
`
	// An ARMv7 whose kernel reports no VFPv3 (a Cortex-A9 without its
	// FPU, e.g. some Tegra 2 boards): the armv7 build would die there.
	cpuinfoA9NoVFP = `processor	: 0
model name	: ARMv7 Processor rev 0 (v7l)
BogoMIPS	: 1998.84
Features	: swp half thumb fastmult edsp tls
CPU implementer	: 0x41
CPU architecture: 7
CPU variant	: 0x1
CPU part	: 0xc09
CPU revision	: 0
`
)

// TestArmBuildByCPUInfo: install.sh installs the armv7 build only when the
// kernel lists vfpv3 in /proc/cpuinfo, else the armv5 one (issue 9 item 23,
// SPEC §10). NETRESCUE_UNAME_M and NETRESCUE_CPUINFO stand in for uname -m
// and /proc/cpuinfo.
func TestArmBuildByCPUInfo(t *testing.T) {
	for _, c := range []struct{ name, machine, cpuinfo, want string }{
		{"Cortex-A7 with vfpv3", "armv7l", cpuinfoCortexA7, "armv7"},
		{"ARMv7 without VFP", "armv7l", cpuinfoA9NoVFP, "armv5"},
		{"ARM926EJ-S", "armv5tejl", cpuinfoARM926, "armv5"},
	} {
		t.Run(c.name, func(t *testing.T) {
			repo := t.TempDir()
			write(t, filepath.Join(repo, "scripts", "install.sh"), read(t, script(t)), 0o755)
			for _, a := range []string{"armv5", "armv7"} {
				writeStandIns(t, filepath.Join(repo, "dist", "linux-"+a))
			}
			info := filepath.Join(t.TempDir(), "cpuinfo")
			write(t, info, c.cpuinfo, 0o444)
			e := newEnv(t, shells(t)[0])
			e.script = filepath.Join(repo, "scripts", "install.sh")
			e.extra = append(e.extra, "NETRESCUE_UNAME_M="+c.machine, "NETRESCUE_CPUINFO="+info)
			prefix := t.TempDir()
			out := e.mustRun("router", "--role", "router", "--prefix", prefix)
			wantContains(t, "output", out, "from "+filepath.Join(repo, "dist", "linux-"+c.want))
			other := map[string]string{"armv5": "armv7", "armv7": "armv5"}[c.want]
			wantNotContains(t, "output", out, filepath.Join(repo, "dist", "linux-"+other))
			if _, err := os.Stat(filepath.Join(prefix, "usr/bin/netcheck")); err != nil {
				t.Errorf("netcheck not installed: %v", err)
			}
		})
	}
}
