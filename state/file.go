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
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/natefinch/atomic"
)

// WriteFile atomically replaces path with data and sets its mode to perm.
// The directory is synced after the rename so that the new name survives a
// power cut too.
func WriteFile(path string, data []byte, perm fs.FileMode) error {
	if err := atomic.WriteFile(path, bytes.NewReader(data)); err != nil {
		return fmt.Errorf("write %s: %w", path, unwrapPathError(err, path))
	}
	if err := os.Chmod(path, perm); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	syncDir(filepath.Dir(path))
	return nil
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
