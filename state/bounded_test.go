package state

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// damagedCases plants, in dir, one file of every kind that is not a
// regular file of ours (SPEC §15), and returns name → expected kind.
// secret is the content of the file a planted symlink points to.
func damagedCases(t *testing.T, dir, secret string) map[string]string {
	t.Helper()
	target := filepath.Join(t.TempDir(), "shadow")
	write(t, target, secret)
	if err := syscall.Mkfifo(filepath.Join(dir, "fifo"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Mkdir(filepath.Join(dir, "directory"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(target, filepath.Join(dir, "symlink")); err != nil {
		t.Fatal(err)
	}
	write(t, filepath.Join(dir, "large"), strings.Repeat("9", MaxStateBytes+1))
	return map[string]string{"fifo": "fifo", "directory": "directory", "symlink": "symlink", "large": "too large"}
}

// TestReadBoundedDamaged: a FIFO, directory, symlink or oversized file
// never blocks, is never followed and is reported by its kind, without
// the content of what a symlink points to (issue 9 items 11, 16).
func TestReadBoundedDamaged(t *testing.T) {
	dir := t.TempDir()
	const secret = "root:$6$SECRETHASH"
	for name, kind := range damagedCases(t, dir, secret) {
		t.Run(name, func(t *testing.T) {
			p := filepath.Join(dir, name)
			done := make(chan error, 1)
			go func() { _, err := ReadBounded(p, MaxStateBytes); done <- err }()
			var err error
			select {
			case err = <-done:
			case <-time.After(5 * time.Second):
				t.Fatalf("ReadBounded(%s) still blocked after 5s", p)
			}
			var ce *CorruptError
			if !errors.As(err, &ce) || ce.Kind != kind {
				t.Fatalf("ReadBounded(%s) = %v; want a *CorruptError of kind %q", p, err, kind)
			}
			if !strings.Contains(err.Error(), p) || !strings.Contains(err.Error(), kind) || strings.Contains(err.Error(), "SECRET") {
				t.Errorf("error %q: want the path and the kind, never the target's content", err)
			}
		})
	}
	if _, err := ReadBounded("/dev/null", MaxStateBytes); err == nil || !strings.Contains(err.Error(), "device") {
		t.Errorf("ReadBounded(/dev/null) = %v; want damaged: device", err)
	}
	if _, err := ReadBounded(filepath.Join(dir, "missing"), MaxStateBytes); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("missing file: %v; want ErrNotExist", err)
	}
	ok := filepath.Join(dir, "ok")
	write(t, ok, "7\n")
	if b, err := ReadBounded(ok, MaxStateBytes); err != nil || string(b) != "7\n" {
		t.Errorf("regular file = %q, %v", b, err)
	}
}

// TestReadersTreatDamageAsSafe: every typed reader returns its safe value
// and a *CorruptError for a damaged file, and none of them hangs.
func TestReadersTreatDamageAsSafe(t *testing.T) {
	dir := t.TempDir()
	for name := range damagedCases(t, dir, "SECRET") {
		p := filepath.Join(dir, name)
		done := make(chan struct{})
		go func() {
			defer close(done)
			var ce *CorruptError
			if n, err := ReadCount(p); n != 0 || !errors.As(err, &ce) {
				t.Errorf("ReadCount(%s) = %d, %v", name, n, err)
			}
			if _, ok, err := ReadTime(p); ok || !errors.As(err, &ce) {
				t.Errorf("ReadTime(%s) = %v, %v", name, ok, err)
			}
			if _, _, err := ReadRecord(p); !errors.As(err, &ce) {
				t.Errorf("ReadRecord(%s) = %v", name, err)
			}
			// A damaged SOS is still a raised flag: its presence is what counts.
			if f, _ := ReadFlag(p); !f.Present || strings.Contains(f.Content, "SECRET") {
				t.Errorf("ReadFlag(%s) = %+v; want present, no target content", name, f)
			}
			// A damaged mark still protects today.
			if m, ok, err := ReadMark(p, time.UTC); !ok || m.Date == "" || !errors.As(err, &ce) {
				t.Errorf("ReadMark(%s) = %+v, %v, %v", name, m, ok, err)
			}
		}()
		select {
		case <-done:
		case <-time.After(5 * time.Second):
			t.Fatalf("a reader of %s blocked", name)
		}
	}
}

// TestWriteFileSweepsTemps: the temp files a killed write leaves behind
// (ours and the ones natefinch/atomic's ioutil.TempFile(dir, base) named
// base+digits) are swept by the next write of the same file; other files
// stay (issue 9 item 13).
func TestWriteFileSweepsTemps(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "net_rb_count")
	old := time.Now().Add(-2 * time.Minute)
	stale := []string{"net_rb_count123456789", tempPrefix("net_rb_count") + "42"}
	keep := []string{"net_rb_count_other", "SOS_SYSTEM", "net_rb_countx1", tempPrefix("SOS_SYSTEM") + "9"}
	for _, n := range append(append([]string{}, stale...), keep...) {
		write(t, filepath.Join(dir, n), "1")
		if err := os.Chtimes(filepath.Join(dir, n), old, old); err != nil {
			t.Fatal(err)
		}
	}
	fresh := tempPrefix("net_rb_count") + "7"
	write(t, filepath.Join(dir, fresh), "1") // a write under way right now
	if err := WriteCount(p, 3); err != nil {
		t.Fatal(err)
	}
	ents, _ := os.ReadDir(dir)
	var names []string
	for _, e := range ents {
		names = append(names, e.Name())
	}
	got := strings.Join(names, " ")
	for _, n := range stale {
		if strings.Contains(" "+got+" ", " "+n+" ") {
			t.Errorf("stale temp %s survived: %s", n, got)
		}
	}
	for _, n := range append(keep, fresh, "net_rb_count") {
		if !strings.Contains(" "+got+" ", " "+n+" ") {
			t.Errorf("%s was removed: %s", n, got)
		}
	}
	if n, err := ReadCount(p); n != 3 || err != nil {
		t.Errorf("count = %d, %v", n, err)
	}
}

// TestClearDamaged: every kind ReadBounded reports damaged is cleared so
// that a sound file can be written there: a symlink goes, never what it
// points to; an empty directory is removed; a directory holding something
// is moved aside whole.
func TestClearDamaged(t *testing.T) {
	dir := t.TempDir()
	cases := damagedCases(t, dir, "SECRET")
	if err := os.Mkdir(filepath.Join(dir, "full"), 0o700); err != nil {
		t.Fatal(err)
	}
	write(t, filepath.Join(dir, "full", "keep"), "mine")
	cases["full"] = "directory"
	for name := range cases {
		t.Run(name, func(t *testing.T) {
			p, aside := filepath.Join(dir, name), filepath.Join(dir, name+".aside")
			moved, err := ClearDamaged(p, aside)
			if err != nil || moved != (name == "full") {
				t.Fatalf("ClearDamaged(%s) = %v, %v; want moved %v", p, moved, err, name == "full")
			}
			if _, err := os.Lstat(p); !errors.Is(err, os.ErrNotExist) {
				t.Errorf("%s after ClearDamaged: %v; want it gone", p, err)
			}
			if err := WriteFile(p, []byte("7\n"), 0o600); err != nil {
				t.Errorf("write after ClearDamaged: %v", err)
			}
			if name == "full" {
				if b, err := os.ReadFile(filepath.Join(aside, "keep")); err != nil || string(b) != "mine" {
					t.Errorf("the directory's content after ClearDamaged: %q, %v; want it kept in %s", b, err, aside)
				}
			}
		})
	}
	if moved, err := ClearDamaged(filepath.Join(dir, "missing"), ""); moved || err != nil {
		t.Errorf("ClearDamaged(missing) = %v, %v; want nothing to do", moved, err)
	}
}
