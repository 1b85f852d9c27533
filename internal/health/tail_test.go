package health

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestLogTail: status shows the log's last lines, read from at most its
// last 64 KiB; a line that starts before that window is left out rather
// than shown cut, and a missing log is "none yet", not a ✗.
func TestLogTail(t *testing.T) {
	dir := t.TempDir()
	write := func(name, content string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	lastLines := func(p string, n int) string {
		t.Helper()
		for _, c := range Log(p, n) {
			if c.Name == "last log lines" {
				if !c.OK {
					t.Fatalf("Log(%s): ✗ %s", p, c.Detail)
				}
				return c.Detail
			}
		}
		t.Fatalf("Log(%s): no last log lines", p)
		return ""
	}
	var big strings.Builder
	for i := 1; big.Len() < 200<<10; i++ {
		fmt.Fprintf(&big, "2026-12-06 12:00:00 INFO 【检测】 line %06d\n", i)
	}
	bigLines := strings.Split(strings.TrimSuffix(big.String(), "\n"), "\n")
	// One line straddling the window's start: 64 KiB of it are read.
	long := "START" + strings.Repeat("y", 80<<10) + "\n"
	for _, tc := range []struct {
		name, content string
		n             int
		want          []string
	}{
		{"short", "a\nb\nc\n", 5, []string{"a", "b", "c"}},
		{"last five", "1\n2\n3\n4\n5\n6\n7\n", 5, []string{"3", "4", "5", "6", "7"}},
		{"no final newline", "1\n2\n3", 2, []string{"2", "3"}},
		{"empty", "", 5, []string{""}},
		{"bigger than the window", big.String(), 5, bigLines[len(bigLines)-5:]},
		{"a line across the window's start", long + "after 1\nafter 2\n", 5, []string{"after 1", "after 2"}},
		{"only one cut line", strings.Repeat("z", 100<<10), 5, []string{strings.Repeat("z", 64<<10)}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := write(strings.ReplaceAll(tc.name, " ", "_")+".log", tc.content)
			if got, want := lastLines(p, tc.n), "\n"+strings.Join(tc.want, "\n"); got != want {
				if len(got) > 300 {
					got = got[:300] + "…"
				}
				t.Errorf("last log lines = %q; want the lines %q", got, tc.want)
			}
		})
	}
	if got := lastLines(filepath.Join(dir, "missing.log"), 5); !strings.HasPrefix(got, "none yet") {
		t.Errorf("a missing log: %q; want none yet", got)
	}
}
