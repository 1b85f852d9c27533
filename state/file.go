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
	"sort"
	"strconv"
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

// minTempDigits is the fewest digits an earlier version's temp name
// (base+digits) is taken to have: 9 (a uint32's decimal has 9 or 10 in
// 97.7% of names, and older Go's 1e9+r%1e9 always 9). A name with 8 is a
// date, the owner's copy (known_hosts20261201, cp known_hosts
// known_hosts$(date +%Y%m%d)), never to be swept; a killed write of an
// earlier version that left one of fewer digits leaves a small file.
const minTempDigits = 9

// maxTempDigits is the most: a uint32's decimal. A name with more is a
// copy the owner stamped to the minute or the second (cp known_hosts
// known_hosts$(date +%Y%m%d%H%M), 12 digits; %Y%m%d%H%M%S, 14).
const maxTempDigits = 10

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
		// Theirs carry a random number of 9 or 10 digits, nearly always
		// (1e9+r%1e9 without its 1 in older Go, a uint32 since): at
		// least minTempDigits. A name with fewer, known_hosts2
		// (OpenSSH's) or a dated copy beside a KNOWN_HOSTS of root's
		// own, is the owner's; so is one with more (stamped to the
		// minute or the second).
		if !strings.HasPrefix(name, tempPrefix(base)) &&
			(digits == name || len(digits) < minTempDigits || len(digits) > maxTempDigits || strings.Trim(digits, "0123456789") != "") {
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

// MaxCount is the largest reboot count taken as real. A larger number is
// treated as corrupt rather than as a reason to raise SOS.
const MaxCount = 100000

// CorruptError reports a state file whose content cannot be understood. The
// caller logs it as 【严重错误】 and uses the safe value (SPEC §5 rule 4).
// A file that is not a regular file of ours, or is too large, has a Kind
// ("fifo", "directory", "symlink", "device", "too large"…) and no Content:
// it was not read (SPEC §15).
type CorruptError struct {
	Path    string
	Content string // what the file holds, shortened for the log
	Reason  string
	Kind    string // set when the file is damaged rather than garbled
}

func (e *CorruptError) Error() string {
	if e.Kind != "" {
		return fmt.Sprintf("%s is damaged (%s): %s", e.Path, e.Kind, e.Reason)
	}
	return fmt.Sprintf("state file %s holds %q: %s", e.Path, e.Content, e.Reason)
}

// corrupt is not inlined: its many callers would each carry a copy
// (SPEC §12: netcheck's size).
//
//go:noinline
func corrupt(path, content, reason string) *CorruptError {
	if len(content) > 64 {
		content = content[:64] + "…"
	}
	return &CorruptError{Path: path, Content: content, Reason: reason}
}

// read returns the file's content, whether it exists, and an error: a
// *CorruptError for a damaged file (see ReadBounded), which exists.
func read(path string) (string, bool, error) {
	b, err := ReadBounded(path, MaxStateBytes)
	var ce *CorruptError
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return "", false, nil
	case errors.As(err, &ce):
		return "", true, err
	case err != nil:
		return "", false, fmt.Errorf("read %s: %w", path, err)
	}
	return string(b), true, nil
}

// ReadCount reads a decimal count such as net_rb_count. A missing file is 0.
// Empty, non-numeric, negative or absurdly large content returns 0 and a
// *CorruptError.
func ReadCount(path string) (int, error) {
	s, ok, err := read(path)
	if err != nil || !ok {
		return 0, err
	}
	return ParseCount(path, s)
}

// ParseCount parses the content of a count file; path is only used in the error.
func ParseCount(path, s string) (int, error) {
	t := strings.TrimSpace(s)
	if t == "" {
		return 0, corrupt(path, s, "empty, expected a whole number")
	}
	n, err := strconv.Atoi(t)
	switch {
	case err != nil:
		return 0, corrupt(path, s, "not a whole number")
	case n < 0:
		return 0, corrupt(path, s, "negative")
	case n > MaxCount:
		return 0, corrupt(path, s, fmt.Sprintf("larger than %d", MaxCount))
	}
	return n, nil
}

// WriteCount writes n as a decimal line.
func WriteCount(path string, n int) error {
	return WriteFile(path, []byte(strconv.Itoa(n)+"\n"), 0o644)
}

// ReadTime reads a unix-seconds timestamp such as net_cooling_ts. A missing
// file returns ok=false. Unparsable content returns ok=false and a
// *CorruptError.
func ReadTime(path string) (t time.Time, ok bool, err error) {
	s, exists, err := read(path)
	if err != nil || !exists {
		return time.Time{}, false, err
	}
	t, err = ParseTime(path, s)
	if err != nil {
		return time.Time{}, false, err
	}
	return t, true, nil
}

// ParseTime parses unix seconds; path is only used in the error.
func ParseTime(path, s string) (time.Time, error) {
	t := strings.TrimSpace(s)
	if t == "" {
		return time.Time{}, corrupt(path, s, "empty, expected unix seconds")
	}
	n, err := strconv.ParseInt(t, 10, 64)
	if err != nil {
		return time.Time{}, corrupt(path, s, "not unix seconds")
	}
	if n <= 0 || n > 1<<40 {
		return time.Time{}, corrupt(path, s, "out of range for unix seconds")
	}
	return time.Unix(n, 0), nil
}

// WriteTime writes t as unix seconds.
func WriteTime(path string, t time.Time) error {
	return WriteFile(path, []byte(strconv.FormatInt(t.Unix(), 10)+"\n"), 0o644)
}

// Flag is a file whose existence is the signal (SOS_SYSTEM). Any content,
// including none, means the flag is raised.
type Flag struct {
	Present bool
	Content string
}

// ReadFlag reads a flag file. A damaged flag (not a regular file, too
// large) is still raised — its presence is what counts — and is also
// returned as a *CorruptError, without content, for the log.
func ReadFlag(path string) (Flag, error) {
	s, ok, err := read(path)
	if err != nil {
		return Flag{Present: ok}, err
	}
	return Flag{Present: ok, Content: s}, nil
}

// WriteFlag raises the flag with content (one line is customary).
func WriteFlag(path, content string) error {
	if content != "" && !strings.HasSuffix(content, "\n") {
		content += "\n"
	}
	return WriteFile(path, []byte(content), 0o644)
}

// Record is a small set of key=value pairs, one per line, used for state
// that has more than one field (an outage, the host's mark).
type Record map[string]string

// ReadRecord reads a record file. A missing file returns ok=false. A line
// without "=" makes the whole file corrupt.
func ReadRecord(path string) (r Record, ok bool, err error) {
	s, exists, err := read(path)
	if err != nil || !exists {
		return nil, exists, err
	}
	r, err = ParseRecord(path, s)
	if err != nil {
		return nil, true, err
	}
	return r, true, nil
}

// ParseRecord parses key=value lines; blank lines are skipped and a value
// runs to the end of its line, so it may hold spaces and "=". A line that
// is no key=value is an error naming the first such line; the record then
// holds the lines that are, for a caller that keeps what it can.
func ParseRecord(path, s string) (Record, error) {
	r := Record{}
	var err error
	for _, line := range strings.Split(s, "\n") {
		line = strings.TrimSpace(line)
		if line == "" {
			continue
		}
		k, v, found := strings.Cut(line, "=")
		if !found || k == "" || strings.ContainsAny(k, " \t") {
			if err == nil {
				err = corrupt(path, s, fmt.Sprintf("expected key=value, found %q", line))
			}
			continue
		}
		r[k] = v
	}
	return r, err
}

// Format renders the record one key=value a line, keys sorted, so that
// equal records give equal bytes. Newlines in values become spaces.
func (r Record) Format() string {
	keys := make([]string, 0, len(r))
	for k := range r {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var b strings.Builder
	for _, k := range keys {
		b.WriteString(k)
		b.WriteByte('=')
		v := []byte(r[k])
		for i, c := range v {
			if c == '\n' || c == '\r' { // one line per key
				v[i] = ' '
			}
		}
		b.Write(bytes.TrimSpace(v))
		b.WriteByte('\n')
	}
	return b.String()
}

// WriteRecord writes r atomically.
func WriteRecord(path string, r Record) error {
	return WriteFile(path, []byte(r.Format()), 0o644)
}

// RecordTime reads a unix-seconds field of a Record; "0", empty or
// damaged values are the zero time.
func RecordTime(s string, loc *time.Location) time.Time {
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil || n <= 0 {
		return time.Time{}
	}
	return time.Unix(n, 0).In(loc)
}

// RecordTimeString writes a time as a unix-seconds Record field ("0" for none).
func RecordTimeString(t time.Time) string {
	if t.IsZero() {
		return "0"
	}
	return strconv.FormatInt(t.Unix(), 10)
}
