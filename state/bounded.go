package state

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"syscall"
)

// Bounds of the files the binaries read (SPEC §15).
const (
	MaxStateBytes  = 4096     // a state file holds one short line or a few key=value lines
	MaxQueueBytes  = 64 << 10 // notify.queue: MaxQueued JSON lines
	MaxConfigBytes = 64 << 10 // the configuration file
)

// ReadBounded reads a file that is ours to write (a state file, the queue)
// without blocking and without following a symlink (SPEC §15): it must be a
// regular file of at most max bytes. A missing file is an error wrapping
// fs.ErrNotExist. Anything else found there (FIFO, directory, symlink,
// device, socket, larger than max) is a *CorruptError naming the file and
// its Kind, with no content: what a planted symlink points to is never read.
func ReadBounded(path string, max int64) ([]byte, error) {
	return readBounded(path, max, false)
}

// ReadBoundedFollow is ReadBounded for a file a person owns and may link
// elsewhere (the configuration): a symlink is followed, the rest holds.
// Not inlined, to keep the router's netcheck small (SPEC §12), as
// group.end in probe.
//
//go:noinline
func ReadBoundedFollow(path string, max int64) ([]byte, error) {
	return readBounded(path, max, true)
}

func readBounded(path string, max int64, follow bool) ([]byte, error) {
	// A first look without opening: opening some devices has effects.
	stat, flags := os.Lstat, os.O_RDONLY|syscall.O_NONBLOCK|syscall.O_NOFOLLOW|syscall.O_CLOEXEC
	if follow {
		stat, flags = os.Stat, os.O_RDONLY|syscall.O_NONBLOCK|syscall.O_CLOEXEC
	}
	fi, err := stat(path)
	if err != nil {
		return nil, err
	}
	if err := checkRegular(path, fi, max); err != nil {
		return nil, err
	}
	f, err := os.OpenFile(path, flags, 0)
	if errors.Is(err, syscall.ELOOP) && !follow {
		return nil, damaged(path, "symlink") // swapped in since the look
	}
	if err != nil {
		return nil, err
	}
	defer f.Close()
	// The file opened may not be the one looked at: check it again.
	if fi, err = f.Stat(); err != nil {
		return nil, fmt.Errorf("read %s: %w", path, err)
	}
	if err := checkRegular(path, fi, max); err != nil {
		return nil, err
	}
	b, err := io.ReadAll(io.LimitReader(f, max+1))
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", path, err)
	}
	if int64(len(b)) > max {
		return nil, damagedSize(path, max) // it grew while we read
	}
	return b, nil
}

func checkRegular(path string, fi fs.FileInfo, max int64) error {
	switch {
	case !fi.Mode().IsRegular():
		return damaged(path, FileKind(fi.Mode()))
	case fi.Size() > max:
		return damagedSize(path, max)
	}
	return nil
}

// FileKind names the type of a file that is not a regular one, for a
// message: symlink, directory, fifo, device, socket; "" for a regular file.
//
// Not inlined: a copy in each caller costs netcheck's size (SPEC §12).
//
//go:noinline
func FileKind(m fs.FileMode) string {
	switch {
	case m.IsRegular():
		return ""
	case m&fs.ModeSymlink != 0:
		return "symlink"
	case m.IsDir():
		return "directory"
	case m&fs.ModeNamedPipe != 0:
		return "fifo"
	case m&fs.ModeDevice != 0:
		return "device"
	case m&fs.ModeSocket != 0:
		return "socket"
	}
	return "not a regular file"
}

func damaged(path, kind string) *CorruptError {
	return &CorruptError{Path: path, Kind: kind, Reason: kind + " where a regular file was expected; not read"}
}

// damagedSize is not inlined: cold (SPEC §12: size).
//
//go:noinline
func damagedSize(path string, max int64) *CorruptError {
	return &CorruptError{Path: path, Kind: KindTooLarge, Reason: fmt.Sprintf("larger than %d bytes; not read", max)}
}

// KindTooLarge is the Kind of a regular file beyond its bound.
const KindTooLarge = "too large"
