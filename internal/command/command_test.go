package command

import (
	"context"
	"strings"
	"testing"
	"time"
)

// TestRunStderrLine: a failed command's Result carries the first non-blank
// line of its standard error (trimmed, at most 200 bytes), which the log
// shows after "-> [错误]"; standard output is kept whole. Real /bin/sh.
func TestRunStderrLine(t *testing.T) {
	long := strings.Repeat("x", 70<<10) // longer than bufio.Scanner's default token
	for _, tc := range []struct {
		name, cmdline, stderr string
		code                  int
	}{
		{"first non-blank line", `printf '\n  \r\n  ifup: Interface wan not found \r\nsecond\n' >&2; exit 1`, "ifup: Interface wan not found", 1},
		{"no newline at the end", `printf 'only line' >&2; exit 3`, "only line", 3},
		{"blank only", `printf '\n\n \n' >&2; exit 2`, "", 2},
		{"cut at 200 bytes", `printf '%0250d\n' 0 >&2; exit 1`, strings.Repeat("0", 200) + "…", 1},
		{"a first line past 64 KiB", `printf '` + long + `\nlater\n' >&2; exit 1`, strings.Repeat("x", 200) + "…", 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := Run(context.Background(), tc.cmdline, 10*time.Second)
			if r.OK() || r.ExitCode != tc.code || r.Stderr != tc.stderr {
				t.Errorf("Run = exit %d, stderr %q; want exit %d, stderr %q", r.ExitCode, r.Stderr, tc.code, tc.stderr)
			}
			if want := "[错误] exit status " + string(rune('0'+tc.code)); !strings.HasPrefix(r.Summary(), want) {
				t.Errorf("Summary = %q; want it to start %q", r.Summary(), want)
			}
		})
	}
	if r := Run(context.Background(), `echo out; echo err >&2`, 10*time.Second); !r.OK() || r.Stdout != "out\n" || r.Stderr != "err" || r.Summary() != "[成功]" {
		t.Errorf("a command that succeeds: %+v", r)
	}
}
