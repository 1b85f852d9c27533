package untrusted

import (
	"strings"
	"testing"
	"unicode/utf8"
)

func TestText(t *testing.T) {
	tests := []struct {
		name string
		in   string
		max  int
		want string
	}{
		{"plain line kept", "time=2025-01-01T03:04:05Z count=10 reason=ladder exhausted", 100,
			"time=2025-01-01T03:04:05Z count=10 reason=ladder exhausted"},
		{"empty", "", 10, ""},
		{"newline and CR escaped", "a\nb\r\nc", 100, `a\nb\r\nc`},
		{"tab escaped", "a\tb", 100, `a\tb`},
		{"ESC and other C0", "\x1b[31mred\x00\x07", 100, `\x1b[31mred\x00\x07`},
		{"DEL", "a\x7fb", 100, `a\x7fb`},
		{"C1 control", "a\u0085b\u009bc", 100, `a\u0085b\u009bc`},
		{"invalid UTF-8", "a\xffb\xc3", 100, `a\xffb\xc3`},
		{"backslash doubled so escapes are unambiguous", `a\nb`, 100, `a\\nb`},
		{"fake tag: brackets and words escaped", "【严重错误】检测到", 100,
			`\u3010\u4e25\u91cd\u9519\u8bef\u3011\u68c0\u6d4b\u5230`},
		{"fake log line", "x\n2026-01-01 00:00:00 ERROR 【回退】", 100,
			`x\n2026-01-01 00:00:00 ERROR \u3010\u56de\u9000\u3011`},
		{"bounded", strings.Repeat("a", 50), 10, "aaaaaaa..."},
		{"an escape is never cut in half", "aaaaa\n\n\n", 10, `aaaaa\n...`},
		{"tiny max", "abcdef", 2, ".."},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Text(tt.in, tt.max); got != tt.want {
				t.Errorf("Text(%q, %d) = %q; want %q", tt.in, tt.max, got, tt.want)
			}
		})
	}
}

// FuzzText: whatever the router sends, the output is printable ASCII (so no
// control character, no 【 】 and no Chinese tag word such as 严重错误 can
// reach a log line, the mark or a terminal), within the bound, and text
// that needs no escaping within the bound is kept as it is.
func FuzzText(f *testing.F) {
	f.Add("x\n2026-01-01 00:00:00 ERROR 【严重错误】检测到 PVE 未能成功重启！\x1b[31m", 512)
	f.Add("time=x count=10 reason=l3", 20)
	f.Add("\xff\xfe\u0085", 3)
	f.Fuzz(func(t *testing.T, s string, max int) {
		if max < 0 || max > 1<<16 {
			return
		}
		got := Text(s, max)
		if len(got) > max {
			t.Fatalf("Text(%q, %d) = %q: %d bytes, more than the bound", s, max, got, len(got))
		}
		for i := 0; i < len(got); i++ {
			if c := got[i]; c < 0x20 || c > 0x7e {
				t.Fatalf("Text(%q, %d) = %q: byte %#x at %d is not printable ASCII", s, max, got, c, i)
			}
		}
		if !utf8.ValidString(got) || strings.ContainsAny(got, "【】") {
			t.Fatalf("Text(%q, %d) = %q", s, max, got)
		}
		plain := true
		for i := 0; i < len(s); i++ {
			if c := s[i]; c < 0x20 || c > 0x7e || c == '\\' {
				plain = false
			}
		}
		if plain && len(s) <= max && got != s {
			t.Fatalf("Text(%q, %d) = %q; want it unchanged", s, max, got)
		}
	})
}
