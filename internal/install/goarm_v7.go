//go:build arm.7

package install

// goarm is the GOARM this binary was built for, from the architecture
// feature build tags the go command sets (GOARM=7: arm.5, arm.6, arm.7),
// rather than from the build info, whose parser costs ~12 KB.
const goarm = "7"
