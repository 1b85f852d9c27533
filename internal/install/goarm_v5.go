//go:build arm && !arm.7

package install

// goarm: a GOARM=5 or GOARM=6 build (tags arm.5, or arm.5 and arm.6),
// both without VFPv3: our armv5 (see goarm_v7.go).
const goarm = "5"
