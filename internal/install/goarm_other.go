//go:build !arm

package install

// goarm is empty for every other architecture (see goarm_v7.go).
const goarm = ""
