// Package state holds the small files that carry the rescue's memory between
// one-shot runs (SPEC §5, §6): counts, deadlines, flags and dated marks.
//
// Every persistent write in the project goes through WriteFile, which uses
// natefinch/atomic: the new content is written to a temporary file in the
// same directory, synced and renamed over the old one, so a power cut leaves
// either the old file or the new one, never an empty one (a defect of the
// original scripts' `echo > file`).
package state

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/natefinch/atomic"
)

// WriteFile atomically replaces path with data and sets its mode to perm.
// The temporary file is written, synced and then renamed over path with
// atomic.ReplaceFile; it is named tempPrefix(base)+random so that the temp
// of a write killed half-way is recognised and swept by the next write of
// the same file (SPEC §15), instead of piling up on a router's flash. The
// directory is synced after the rename so that the new name survives a
// power cut too.
func WriteFile(path string, data []byte, perm fs.FileMode) error {
	dir, base := filepath.Split(path)
	if dir == "" {
		dir = "."
	}
	sweepTemps(dir, base)
	f, err := os.CreateTemp(dir, tempPrefix(base)+"*")
	if err != nil {
		return fmt.Errorf("write %s: %w", path, unwrapPathError(err, path))
	}
	tmp := f.Name()
	err = writeSync(f, data, perm)
	if err == nil {
		err = atomic.ReplaceFile(tmp, path)
	}
	if err != nil {
		_ = os.Remove(tmp)
		return fmt.Errorf("write %s: %w", path, err)
	}
	syncDir(dir)
	return nil
}

func writeSync(f *os.File, data []byte, perm fs.FileMode) error {
	_, err := f.Write(data)
	if err == nil {
		err = f.Chmod(perm)
	}
	if err == nil {
		err = f.Sync() // else the rename could publish an empty file
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}

// tempPrefix starts the name of the temporary file of a write of base.
func tempPrefix(base string) string { return "." + base + ".tmp-" }

// staleTemp is the age after which a temp file is a killed write's: a
// write takes milliseconds, and writes of one file are under the run lock.
const staleTemp = time.Minute

// sweepTemps removes what killed writes of base left in dir: our temps and
// those of earlier versions, which natefinch/atomic named base followed by
// ioutil.TempFile's random digits. Only regular files older than
// staleTemp go; a failure is ignored (the write itself matters more).
func sweepTemps(dir, base string) {
	// Names only, unsorted (os.ReadDir's sort cost netcheck's binary
	// ~12 KB, SPEC §12; the order does not matter here).
	d, err := os.Open(dir)
	if err != nil {
		return
	}
	names, _ := d.Readdirnames(-1)
	d.Close()
	for _, name := range names {
		digits := strings.TrimPrefix(name, base)
		if !strings.HasPrefix(name, tempPrefix(base)) &&
			(digits == name || digits == "" || strings.Trim(digits, "0123456789") != "") {
			continue
		}
		p := filepath.Join(dir, name)
		if fi, err := os.Lstat(p); err == nil && fi.Mode().IsRegular() && time.Since(fi.ModTime()) > staleTemp {
			_ = os.Remove(p)
		}
	}
}

// Remove deletes path; a file that is already gone is not an error.
func Remove(path string) error {
	err := os.Remove(path)
	if err == nil || errors.Is(err, fs.ErrNotExist) {
		if err == nil {
			syncDir(filepath.Dir(path))
		}
		return nil
	}
	return fmt.Errorf("remove %s: %w", path, err)
}

// syncDir makes a rename or unlink in dir durable. It is best effort: some
// file systems (tmpfs, overlay on old kernels) refuse to sync a directory,
// and the data itself is already safe.
func syncDir(dir string) {
	d, err := os.Open(dir)
	if err != nil {
		return
	}
	_ = d.Sync()
	_ = d.Close()
}

// unwrapPathError keeps the reason of a failed atomic write readable: the
// library formats its errors with %v, so the cause is recovered from the
// file system where it can be (missing directory, read-only, full disk).
func unwrapPathError(err error, path string) error {
	dir := filepath.Dir(path)
	if _, serr := os.Stat(dir); serr != nil {
		return serr
	}
	return err
}

// ClearDamaged clears path, where ReadBounded found damage (SPEC §15), so
// that a sound file can be written there again and the damage is reported
// once. A FIFO, a symlink, a device, a socket or a file too large is
// unlinked, never opened or followed; an empty directory is removed. A
// directory that holds something is renamed to aside instead (moved
// reports it), so that nothing a person put in it is deleted: what it
// holds is never ours (we write regular files only). A path already gone
// is cleared.
func ClearDamaged(path, aside string) (moved bool, err error) {
	fi, err := os.Lstat(path)
	if errors.Is(err, fs.ErrNotExist) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("clear %s: %w", path, err)
	}
	err = os.Remove(path) // rmdir(2) for a directory: only an empty one goes
	if fi.IsDir() && err != nil && !errors.Is(err, fs.ErrNotExist) {
		if rerr := os.Rename(path, aside); rerr != nil {
			return false, fmt.Errorf("move the damaged %s aside to %s: %w", path, aside, rerr)
		}
		syncDir(filepath.Dir(path))
		return true, nil
	}
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return false, fmt.Errorf("remove the damaged %s (%s): %w", path, damagedKind(fi), err)
	}
	syncDir(filepath.Dir(path))
	return false, nil
}

// damagedKind names what ClearDamaged found: FileKind, or "too large".
func damagedKind(fi fs.FileInfo) string {
	if k := FileKind(fi.Mode()); k != "" {
		return k
	}
	return KindTooLarge
}
