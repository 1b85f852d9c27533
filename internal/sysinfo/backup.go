package sysinfo

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"syscall"
)

// VzdumpLock is the global lock every Proxmox backup holds while it runs
// (pve-manager PVE/VZDump.pm: `my $lockfile = '/var/run/vzdump.lock'`,
// taken with PVE::Tools::lock_file, an flock). Scheduled and GUI backups
// run inside pvescheduler or a `task UPID:…` worker, never as a process
// named vzdump, so the lock is the signal that sees them all (SPEC §15).
const VzdumpLock = "/var/run/vzdump.lock"

// LockHeld reports whether another process holds an flock on path. It
// never creates the file, follows a symlink or blocks (a FIFO there must
// not hang the run): the probe is a non-blocking shared flock, released
// at once. A missing file means no backup.
func LockHeld(path string) (bool, error) {
	fd, err := syscall.Open(path, syscall.O_RDONLY|syscall.O_NONBLOCK|syscall.O_NOFOLLOW|syscall.O_CLOEXEC, 0)
	if errors.Is(err, syscall.ENOENT) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("open %s: %w", path, err)
	}
	defer syscall.Close(fd)
	var st syscall.Stat_t
	if err := syscall.Fstat(fd, &st); err != nil {
		return false, fmt.Errorf("stat %s: %w", path, err)
	}
	if st.Mode&syscall.S_IFMT != syscall.S_IFREG {
		return false, fmt.Errorf("%s is not a regular file", path)
	}
	switch err := syscall.Flock(fd, syscall.LOCK_SH|syscall.LOCK_NB); {
	case errors.Is(err, syscall.EWOULDBLOCK):
		return true, nil
	case err != nil:
		return false, fmt.Errorf("flock %s: %w", path, err)
	}
	_ = syscall.Flock(fd, syscall.LOCK_UN)
	return false, nil
}

// FindVzdumpWorker returns the pids (sorted) under procRoot ("/proc") of
// backups: a process named vzdump (the CLI run by hand) or a Proxmox
// worker that renamed itself to its task's UPID with type vzdump.
// pve-common PVE/RESTEnvironment.pm fork_worker: `$0 = "task $upid"`;
// PVE::Tools::upid_encode: "UPID:node:pid:pstart:starttime:type:id:user:".
// The comm is cut to 15 bytes, so the worker is found by its cmdline.
func FindVzdumpWorker(procRoot string) []string {
	dirs, _ := filepath.Glob(filepath.Join(procRoot, "[0-9]*"))
	var out []string
	for _, d := range dirs {
		comm, _ := readSmall(filepath.Join(d, "comm"))
		cmdline, _ := readSmall(filepath.Join(d, "cmdline"))
		argv0, _, _ := strings.Cut(cmdline, "\x00")
		if strings.TrimSpace(comm) == "vzdump" || isVzdumpTask(argv0) || isVzdumpTask(comm) {
			out = append(out, filepath.Base(d))
		}
	}
	sort.Slice(out, func(i, j int) bool {
		a, _ := strconv.Atoi(out[i])
		b, _ := strconv.Atoi(out[j])
		return a < b
	})
	return out
}

func isVzdumpTask(name string) bool {
	return strings.HasPrefix(name, "task UPID:") && strings.Contains(name, ":vzdump:")
}

// readSmall reads the first 4 KiB of a /proc file: a cmdline can be long
// and only its start matters.
func readSmall(path string) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", err
	}
	defer f.Close()
	b := make([]byte, 4096)
	n, _ := f.Read(b)
	return string(b[:n]), nil
}
