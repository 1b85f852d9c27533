package install

import (
	"runtime"
	"strings"
)

// SelfArch is the dist/linux-ARCH name (amd64, arm64, armv7, armv5, mips,
// mipsle, SPEC §10) of the running binary's build, and so of the binaries
// beside it.
func SelfArch() string { return archName(runtime.GOARCH, goarm) }

// archName maps GOARCH and GOARM to the dist/linux-ARCH name. GOARM 5 and
// 6 builds run without VFPv3 and are our armv5; 7 (Go's default) is armv7.
func archName(goarch, arm string) string {
	if goarch != "arm" {
		return goarch
	}
	if strings.HasPrefix(arm, "5") || strings.HasPrefix(arm, "6") {
		return "armv5"
	}
	return "armv7"
}
