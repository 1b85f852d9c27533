package state

import (
	"github.com/pve-op/network-rescue/internal/testlab"

	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func write(t *testing.T, path, content string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

func TestReadCount(t *testing.T) {
	dir := t.TempDir()
	tests := []struct {
		name    string
		content *string
		want    int
		corrupt bool
	}{
		{name: "missing is zero", content: nil, want: 0},
		{name: "plain", content: ptr("7\n"), want: 7},
		{name: "spaces", content: ptr("  3  \n"), want: 3},
		{name: "empty (power cut during echo >)", content: ptr(""), corrupt: true},
		{name: "garbage", content: ptr("\x00\x01abc"), corrupt: true},
		{name: "negative", content: ptr("-4"), corrupt: true},
		{name: "absurd", content: ptr("99999999999"), corrupt: true},
		{name: "huge file", content: ptr(strings.Repeat("9", 10000)), corrupt: true},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := filepath.Join(dir, "count"+string(rune('a'+i)))
			if tt.content != nil {
				write(t, p, *tt.content)
			}
			got, err := ReadCount(p)
			var ce *CorruptError
			if tt.corrupt != errors.As(err, &ce) {
				t.Fatalf("ReadCount(%q) error = %v; want corrupt=%v", p, err, tt.corrupt)
			}
			if tt.corrupt && (ce.Path != p || !strings.Contains(ce.Error(), p)) {
				t.Errorf("corrupt error %q does not name %s", ce, p)
			}
			if got != tt.want {
				t.Errorf("ReadCount = %d; want %d", got, tt.want)
			}
		})
	}
}

func ptr(s string) *string { return &s }

func TestWriteAndReadBack(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "net_rb_count")
	if err := WriteCount(p, 5); err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(p); string(b) != "5\n" {
		t.Errorf("file holds %q; want \"5\\n\"", b)
	}
	ts := time.Unix(1790000000, 0)
	tp := filepath.Join(dir, "net_cooling_ts")
	if err := WriteTime(tp, ts); err != nil {
		t.Fatal(err)
	}
	if got, ok, err := ReadTime(tp); err != nil || !ok || !got.Equal(ts) {
		t.Errorf("ReadTime = %v %v %v; want %v", got, ok, err, ts)
	}
	fp := filepath.Join(dir, "SOS_SYSTEM")
	if err := WriteFlag(fp, "time=x count=10 reason=y"); err != nil {
		t.Fatal(err)
	}
	if f, err := ReadFlag(fp); err != nil || !f.Present || f.Content != "time=x count=10 reason=y\n" {
		t.Errorf("ReadFlag = %+v, %v", f, err)
	}
	write(t, fp, "") // the original scripts' empty SOS still counts
	if f, _ := ReadFlag(fp); !f.Present {
		t.Errorf("empty SOS not seen as present")
	}
	if err := Remove(fp); err != nil {
		t.Fatal(err)
	}
	if err := Remove(fp); err != nil {
		t.Errorf("Remove of a missing file: %v", err)
	}
	if f, _ := ReadFlag(fp); f.Present {
		t.Errorf("removed flag still present")
	}
	// No temporary files are left behind.
	ents, _ := os.ReadDir(dir)
	var names []string
	for _, e := range ents {
		names = append(names, e.Name())
	}
	if strings.Join(names, " ") != "net_cooling_ts net_rb_count" {
		t.Errorf("dir holds %v; want only the two state files", names)
	}
}

func TestWriteMissingDirectory(t *testing.T) {
	p := filepath.Join(t.TempDir(), "nope", "net_rb_count")
	err := WriteCount(p, 1)
	if err == nil || !errors.Is(err, os.ErrNotExist) || !strings.Contains(err.Error(), p) {
		t.Errorf("WriteCount into a missing dir = %v; want a not-exist error naming %s", err, p)
	}
}

func TestAtomicReplaceKeepsOldOnFailure(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "net_rb_count")
	if err := WriteCount(p, 3); err != nil {
		t.Fatal(err)
	}
	// A directory where the temp file would go makes the write fail midway:
	// the old content must survive whole.
	if err := WriteFile(filepath.Join(dir, "sub", "x"), []byte("1"), 0o644); err == nil {
		t.Fatal("write into missing dir succeeded")
	}
	if n, err := ReadCount(p); err != nil || n != 3 {
		t.Errorf("after failed write ReadCount = %d, %v; want 3", n, err)
	}
}

func TestRecordRoundTrip(t *testing.T) {
	r := Record{"since": "1790000000", "last_action": "L2", "reason": "SOS count=10 seen"}
	got, err := ParseRecord("p", r.Format())
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != len(r) || got["reason"] != r["reason"] || got["since"] != r["since"] {
		t.Errorf("ParseRecord(Format(%v)) = %v", r, got)
	}
	if _, err := ParseRecord("p", "no equals here"); err == nil {
		t.Errorf("ParseRecord accepted a line without =")
	}
}

func TestMark(t *testing.T) {
	loc := time.FixedZone("CST", 8*3600)
	dir := t.TempDir()
	p := filepath.Join(dir, "pve_did_reboot_today")
	now := time.Date(2026, 11, 25, 3, 0, 0, 0, loc)
	m := Mark{Date: now.Format(DateLayout), Time: now, BootID: "abc", Reason: "SOS count=10"}
	if err := WriteMark(p, m); err != nil {
		t.Fatal(err)
	}
	got, ok, err := ReadMark(p, loc)
	if err != nil || !ok || !got.Dated || got.Date != "2026-11-25" || got.BootID != "abc" || got.Reason != "SOS count=10" || !got.Time.Equal(now) {
		t.Errorf("ReadMark = %+v %v %v; want %+v", got, ok, err, m)
	}
	// The original `touch`: no content, dated by mtime.
	write(t, p, "")
	mt := time.Date(2026, 11, 24, 23, 30, 0, 0, loc)
	if err := os.Chtimes(p, mt, mt); err != nil {
		t.Fatal(err)
	}
	got, ok, err = ReadMark(p, loc)
	if err != nil || !ok || got.Dated || got.Date != "2026-11-24" {
		t.Errorf("ReadMark(touched) = %+v %v %v; want undated 2026-11-24", got, ok, err)
	}
	// Damaged content still protects its day and is reported.
	write(t, p, "garbage")
	if err := os.Chtimes(p, mt, mt); err != nil {
		t.Fatal(err)
	}
	got, ok, err = ReadMark(p, loc)
	var ce *CorruptError
	if !ok || got.Date != "2026-11-24" || !errors.As(err, &ce) {
		t.Errorf("ReadMark(garbage) = %+v %v %v; want dated by mtime and a CorruptError", got, ok, err)
	}
	if _, ok, _ := ReadMark(filepath.Join(dir, "none"), loc); ok {
		t.Errorf("missing mark reported present")
	}
}

// TestFullDiskAndReadOnly runs in a child process inside `unshare -m`,
// where a 16 KiB tmpfs stands for a full flash and a read-only tmpfs for a
// read-only overlay.
func TestFullDiskAndReadOnly(t *testing.T) {
	script := `mkdir -p "$1/full" "$1/ro"
mount -t tmpfs -o size=16k tmpfs "$1/full"
mount -t tmpfs tmpfs "$1/ro" && echo 7 > "$1/ro/net_rb_count" && mount -o remount,ro "$1/ro"`
	if dir, child := testlab.InMountNS(t, "NETRESCUE_STATE_MOUNTS", script, nil); child {
		fullDiskChild(t, dir)
	}
}

func fullDiskChild(t *testing.T, dir string) {
	full := filepath.Join(dir, "full")
	// Fill the tmpfs, keeping a count file that must survive.
	p := filepath.Join(full, "net_rb_count")
	if err := WriteCount(p, 4); err != nil {
		t.Fatal(err)
	}
	filler, _ := os.Create(filepath.Join(full, "filler"))
	buf := make([]byte, 4096)
	for {
		if _, err := filler.Write(buf); err != nil {
			break
		}
	}
	filler.Close()
	err := WriteFile(p, []byte(strings.Repeat("5", 8192)), 0o644)
	if err == nil {
		t.Fatalf("write to a full disk succeeded")
	}
	if n, rerr := ReadCount(p); rerr != nil || n != 4 {
		t.Errorf("after a full-disk write the count is %d, %v; want 4 intact", n, rerr)
	}
	ro := filepath.Join(dir, "ro", "net_rb_count")
	if err := WriteCount(ro, 8); err == nil || !strings.Contains(err.Error(), ro) {
		t.Errorf("write to read-only dir = %v; want an error naming %s", err, ro)
	}
	if n, _ := ReadCount(ro); n != 7 {
		t.Errorf("read-only count = %d; want 7", n)
	}
}

func FuzzParseCount(f *testing.F) {
	for _, s := range []string{"0", "12\n", "-1", "", "abc", "1e9"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		n, err := ParseCount("p", s)
		if err == nil && (n < 0 || n > MaxCount) {
			t.Fatalf("ParseCount(%q) = %d out of range", s, n)
		}
		if err != nil && n != 0 {
			t.Fatalf("ParseCount(%q) = %d with error; want safe value 0", s, n)
		}
	})
}

func FuzzParseTime(f *testing.F) {
	for _, s := range []string{"1790000000", "", "-5", "99999999999999999999"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		ts, err := ParseTime("p", s)
		if err == nil && ts.Unix() <= 0 {
			t.Fatalf("ParseTime(%q) = %v", s, ts)
		}
	})
}

func FuzzParseRecord(f *testing.F) {
	for _, s := range []string{"a=1 b=2", "date=2026-11-25 time=x boot_id=y reason=SOS count=3", "=", "x"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		r, err := ParseRecord("p", s)
		if err != nil {
			return
		}
		// What was parsed formats and parses back to the same record.
		r2, err := ParseRecord("p", r.Format())
		if err != nil {
			t.Fatalf("ParseRecord(Format(%v)) error %v", r, err)
		}
		if len(r2) != len(r) {
			t.Fatalf("round trip %v -> %v", r, r2)
		}
	})
}

func FuzzParseMark(f *testing.F) {
	f.Add("date=2026-11-25 time=2026-11-25T03:00:00+08:00 boot_id=a reason=b")
	f.Add("")
	f.Fuzz(func(t *testing.T, s string) {
		m, err := ParseMark("p", s, time.UTC)
		if err == nil && (!m.Dated || len(m.Date) != len(DateLayout)) {
			t.Fatalf("ParseMark(%q) = %+v", s, m)
		}
	})
}
