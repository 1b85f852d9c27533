package logx

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sync"
	"syscall"

	"github.com/pve-op/network-rescue/state"
)

// lazyFile is the log file as an io.Writer. It is opened on the first
// Write, so that a healthy run never touches it, and rotated at that moment
// if it is too big.
//
// Lines are appended with O_APPEND, one write(2) per record, and never
// synced: a log line lost in a power cut is acceptable, a sync per line on
// a router's flash is not (SPEC §8). This is the one file of the project
// that is not written with state.WriteFile: a log grows by appending, and
// rewriting it whole on every line is exactly what §8 rules out.
type lazyFile struct {
	path     string
	maxBytes int64
	warn     io.Writer // where the one failure report goes

	mu      sync.Mutex
	f       *os.File
	rotated bool // the size check ran (once per run)
	broken  bool // a failure was reported; drop further lines
}

// Write appends p, one record, to the file. It fails only for the record
// that met the failure; after that report the file is left alone and
// Write drops lines silently, so that a full disk cannot flood the
// terminal or slow the run.
func (l *lazyFile) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.broken {
		return len(p), nil
	}
	if l.f == nil {
		if err := l.open(); err != nil {
			l.fail(err)
			return 0, err
		}
	}
	n, err := l.f.Write(p)
	if err != nil {
		l.fail(err) // an *fs.PathError: "write PATH: reason"
	}
	return n, err
}

// open rotates the file if needed and opens it for appending, creating it
// and its directory if missing.
func (l *lazyFile) open() error {
	// A symlinked LOG_FILE's directory is its target's: a link from flash
	// into a RAM directory that no boot script recreates would otherwise
	// lose every line of the run.
	if err := os.MkdirAll(Dir(l.path), 0o755); err != nil {
		return fmt.Errorf("create log directory: %w", err)
	}
	if !l.rotated {
		l.rotated = true
		if err := l.rotate(); err != nil {
			// The cap is lost for this run, the log is not: report and
			// keep appending to the big file.
			l.report(err)
		}
	}
	// O_NONBLOCK: opening a FIFO for writing would block until a reader
	// came, hanging the run while it holds the lock (SPEC §15). A FIFO (or
	// socket) is refused by its kind; a character device such as /dev/null
	// is fine. A symlink is followed: LOG_FILE is the person's choice.
	f, err := os.OpenFile(l.path, os.O_WRONLY|os.O_APPEND|os.O_CREATE|syscall.O_NONBLOCK|syscall.O_CLOEXEC, 0o644)
	if errors.Is(err, syscall.ENXIO) { // a FIFO without a reader, or a socket
		if fi, serr := os.Stat(l.path); serr == nil {
			return notWritable(l.path, fi.Mode())
		}
	}
	if err != nil {
		return fmt.Errorf("open log file: %w", err)
	}
	if fi, serr := f.Stat(); serr == nil && fi.Mode()&(fs.ModeNamedPipe|fs.ModeSocket) != 0 {
		_ = f.Close()
		return notWritable(l.path, fi.Mode())
	}
	l.f = f
	return nil
}

// notWritable is the error for a log file that is a FIFO or a socket.
func notWritable(path string, m fs.FileMode) error {
	return fmt.Errorf("open log file: %s is a %s, not a regular file; fix: rm %s (it is recreated)", path, state.FileKind(m), path)
}

// Dir is the directory the file p is written in (by logx, and as status
// checks it): p's own, or for a symlink (a link to a link too, up to 40
// as the kernel allows) its last target's, a relative target read from
// the real directory of the link that names it (a link reached through a
// linked directory); a directory that is itself a link is its last target
// (/root/log linked to a RAM directory that no boot script recreates).
func Dir(p string) string {
	return lastTarget(filepath.Dir(lastTarget(p)))
}

// lastTarget is the path a chain of symlinks starting at p ends at: p
// itself when it is no link.
func lastTarget(p string) string {
	for range 40 {
		t, err := os.Readlink(p)
		if err != nil {
			break
		}
		if !filepath.IsAbs(t) {
			dir := filepath.Dir(p)
			if real, err := filepath.EvalSymlinks(dir); err == nil {
				dir = real
			}
			t = filepath.Join(dir, t)
		}
		p = t
	}
	return p
}

// Rotated is where rotation puts the older lines of the log file: FILE.1
// beside the file itself, which for a symlinked LOG_FILE is the link's
// target (a log kept in RAM through a link from flash stays in RAM, and the
// link stays a link).
func Rotated(file string) string {
	if p, err := filepath.EvalSymlinks(file); err == nil {
		file = p
	}
	return file + ".1"
}

// rotate renames the file to Rotated, replacing an older one, when it has
// reached maxBytes. Renaming, never copying, keeps the old lines intact
// even if the run dies half-way.
//
// Two runs that log at the same moment (an assist, a midnight-reset that
// gave up waiting for the lock, a person's run by hand) must not both
// rotate: the second would rename the first one's new file over Rotated,
// and the older lines would be gone. The run that rotates holds flock(2)
// on the file it renames; another run that finds it locked, or finds that
// the path names a new file by the time it holds the lock, leaves it.
func (l *lazyFile) rotate() error {
	if l.maxBytes <= 0 {
		return nil
	}
	old := Rotated(l.path)
	cur := old[:len(old)-2]
	// O_NONBLOCK: a FIFO there must not hang the run.
	f, err := os.OpenFile(cur, os.O_RDONLY|syscall.O_NONBLOCK|syscall.O_CLOEXEC, 0)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("rotate log file: %w", err)
	}
	defer f.Close() // and with it the lock
	fi, err := f.Stat()
	if err != nil || !fi.Mode().IsRegular() || fi.Size() < l.maxBytes {
		return nil
	}
	switch err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); {
	case errors.Is(err, syscall.EWOULDBLOCK):
		return nil // another run is rotating it
	case err != nil:
		return fmt.Errorf("rotate log file: lock %s: %w", cur, err)
	}
	if now, err := os.Stat(cur); err != nil || !os.SameFile(now, fi) {
		return nil // another run rotated it since we opened it
	}
	if err := os.Rename(cur, old); err != nil {
		return fmt.Errorf("rotate log file: %w", err)
	}
	return nil
}

// fail reports err once and stops using the file for this run.
func (l *lazyFile) fail(err error) {
	l.broken = true
	l.report(fmt.Errorf("%w; no more lines go to %s in this run", err, l.path))
	if l.f != nil {
		_ = l.f.Close()
		l.f = nil
	}
}

// report tells the person or the cron mail about a log file problem: the
// log itself cannot carry the news.
func (l *lazyFile) report(err error) {
	_, _ = fmt.Fprintf(l.warn, "log file: %v\n", err)
}

// Close closes the file if it was opened. Logging after Close opens it
// again (without a second size check).
func (l *lazyFile) Close() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.f == nil {
		return nil
	}
	err := l.f.Close()
	l.f = nil
	if err != nil {
		return fmt.Errorf("close %s: %w", l.path, err)
	}
	return nil
}
