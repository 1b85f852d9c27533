package install

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/pve-op/network-rescue/state"
)

// put makes path hold data with mode perm, replaced in one rename
// (state.WriteFile). It reports whether anything changed: a file that
// already is so is left alone, its mtime included.
func (in *installer) put(path string, data []byte, perm fs.FileMode) (bool, error) {
	if fi, err := os.Lstat(path); err == nil && fi.Mode().IsRegular() && fi.Mode().Perm() == perm {
		if old, err := os.ReadFile(path); err == nil && bytes.Equal(old, data) {
			return false, nil
		}
	}
	if in.o.DryRun {
		in.ui.info("would write %s (mode %o)", path, perm)
		return true, nil
	}
	if err := in.mkdir(filepath.Dir(path)); err != nil {
		return false, err
	}
	if err := state.WriteFile(path, data, perm); err != nil {
		return false, fail(fmt.Sprintf("cannot write %s: %v", path, err),
			"check that "+filepath.Dir(path)+" is writable and has free space (df -h; on OpenWrt the overlay: df -h /overlay)")
	}
	return true, nil
}

// mkdir creates dir and its parents unless it exists.
func (in *installer) mkdir(dir string) error {
	if isDir(dir) {
		return nil
	}
	if in.o.DryRun {
		in.ui.info("would create %s/", dir)
		return nil
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fail(fmt.Sprintf("cannot create %s: %v", dir, err),
			"check that its parent is writable and the disk is not full (df -h)")
	}
	return nil
}

// remove deletes path (a file or a link) if it is there, saying so. It
// reports whether there was something to remove.
func (in *installer) remove(path string) (bool, error) {
	if !exists(path) {
		return false, nil
	}
	if in.o.DryRun {
		in.ui.info("would remove %s", path)
		return true, nil
	}
	if err := state.Remove(path); err != nil {
		return false, fail(fmt.Sprintf("cannot remove %s: %v", path, err), "check the permissions of "+filepath.Dir(path))
	}
	in.ui.info("removed %s", path)
	return true, nil
}

// removeAll removes a directory of ours with what is in it.
func (in *installer) removeAll(dir string) error {
	if !exists(dir) {
		return nil
	}
	if in.o.DryRun {
		in.ui.info("would remove %s/", dir)
		return nil
	}
	if err := os.RemoveAll(dir); err != nil {
		return fail(fmt.Sprintf("cannot remove %s: %v", dir, err), "check the permissions of "+filepath.Dir(dir))
	}
	in.ui.info("removed %s/", dir)
	return nil
}

// symlink makes path a symbolic link to target, replacing what is there in
// one rename. It reports whether path was a link to target already.
func (in *installer) symlink(target, path string) (already bool, err error) {
	if got, err := os.Readlink(path); err == nil && got == target {
		return true, nil
	}
	if in.o.DryRun {
		return false, nil
	}
	tmp := path + ".netrescue-new"
	_ = os.Remove(tmp)
	err = os.Symlink(target, tmp)
	if err == nil {
		err = os.Rename(tmp, path)
	}
	if err != nil {
		_ = os.Remove(tmp)
		return false, fail(fmt.Sprintf("cannot link %s to %s: %v", path, target, err),
			"check that "+filepath.Dir(path)+" is writable and has free space (df -h /overlay)")
	}
	return false, nil
}

// readOptional reads path; a missing file is empty.
func readOptional(path string) (string, bool, error) {
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return "", false, nil
	}
	if err != nil {
		return "", false, fail(fmt.Sprintf("cannot read %s: %v", path, err), "check its permissions")
	}
	return string(b), true, nil
}
