package testlab

import (
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
)

// stalePrefixes are how this project's tests and `make bench` name their
// network namespaces and temp dirs: a prefix, then the PID of the process
// that made them (DEVELOPERS.md: unique per run).
var stalePrefixes = []string{"nrbench", "nrdemo", "nrhop", "nrlog", "nrssh", "nre", "nrin", "nrpb", "nrpo"}

// ownerPID is the PID in a name made by this project's tests ("nre2134lsr"
// → 2134), or 0 when the name is not one of theirs.
func ownerPID(name string) int {
	for _, p := range stalePrefixes {
		rest, ok := strings.CutPrefix(name, p)
		if !ok {
			continue
		}
		end := 0
		for end < len(rest) && rest[end] >= '0' && rest[end] <= '9' {
			end++
		}
		if pid, err := strconv.Atoi(rest[:end]); err == nil && pid > 0 {
			return pid
		}
	}
	return 0
}

// SweepStale removes the network namespaces (netnsDir, /run/netns) and
// temp dirs (tmpDir) that a test run of this project made and could not
// remove because it was killed (a `go test -timeout` panic runs no
// Cleanup): those whose owner PID is no longer alive. What a live run owns
// is never touched, so runs side by side are safe. It returns what it
// removed.
func SweepStale(netnsDir, tmpDir string) []string {
	var removed []string
	dead := func(name string) bool {
		pid := ownerPID(name)
		if pid == 0 || pid == os.Getpid() {
			return false
		}
		_, err := os.Stat(filepath.Join("/proc", strconv.Itoa(pid)))
		return os.IsNotExist(err)
	}
	if ents, err := os.ReadDir(netnsDir); err == nil {
		for _, e := range ents {
			if dead(e.Name()) && exec.Command("ip", "netns", "del", e.Name()).Run() == nil {
				removed = append(removed, "netns "+e.Name())
			}
		}
	}
	if ents, err := os.ReadDir(tmpDir); err == nil {
		for _, e := range ents {
			if e.IsDir() && dead(e.Name()) && os.RemoveAll(filepath.Join(tmpDir, e.Name())) == nil {
				removed = append(removed, filepath.Join(tmpDir, e.Name()))
			}
		}
	}
	return removed
}
