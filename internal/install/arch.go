package install

import (
	"runtime"
	"runtime/debug"
	"strings"
)

// SelfArch is the dist/linux-ARCH name (amd64, arm64, armv7, armv5, mips,
// mipsle, SPEC §10) of the running binary's build, and so of the binaries
// beside it.
func SelfArch() string {
	goarm := ""
	if bi, ok := debug.ReadBuildInfo(); ok {
		for _, s := range bi.Settings {
			if s.Key == "GOARM" {
				goarm = s.Value
			}
		}
	}
	return archName(runtime.GOARCH, goarm)
}

// archName maps GOARCH and GOARM to the dist/linux-ARCH name. GOARM 5 and
// 6 builds run without VFPv3 and are our armv5; 7 (Go's default) is armv7.
func archName(goarch, goarm string) string {
	if goarch != "arm" {
		return goarch
	}
	if strings.HasPrefix(goarm, "5") || strings.HasPrefix(goarm, "6") {
		return "armv5"
	}
	return "armv7"
}
