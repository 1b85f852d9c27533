// Package untrusted makes text the host got from the router safe to show
// (SPEC §15): the SOS content, the count, a router's stderr. Such text
// reaches the host's log lines, the reboot mark and the `status` terminal,
// where a newline could forge a log line, an escape sequence could rewrite
// the terminal, and a 【严重错误】 or 【回退】 would be found by the grep the
// README recommends. Text turns it into printable ASCII, bounded.
package untrusted

import (
	"fmt"
	"strings"
	"unicode/utf8"
)

// ellipsis marks text cut at the bound.
const ellipsis = "..."

// Text returns s as at most max bytes of printable ASCII: printable ASCII
// stays as it is; a backslash is doubled; \n, \r and \t are written so;
// other control bytes, DEL and bytes that are not UTF-8 become \xNN; every
// other character (C1 controls, the tag brackets 【 】, any non-ASCII text)
// becomes \uNNNN or \UNNNNNNNN, so no router text can form a tag or match a
// tag's word. Text longer than max is cut between two escapes and ends in
// "...".
func Text(s string, max int) string {
	if max <= 0 {
		return ""
	}
	var b strings.Builder
	cut := -1 // length of b at the last unit that left room for the ellipsis
	for i := 0; i < len(s); {
		unit, n := escape(s[i:])
		i += n
		if b.Len()+len(unit) > max {
			if cut < 0 {
				return ellipsis[:min(max, len(ellipsis))]
			}
			return b.String()[:cut] + ellipsis
		}
		b.WriteString(unit)
		if b.Len()+len(ellipsis) <= max {
			cut = b.Len()
		}
	}
	return b.String()
}

// escape returns the escaped form of the first character (or invalid byte)
// of s and how many bytes of s it stands for.
func escape(s string) (string, int) {
	c := s[0]
	switch {
	case c == '\\':
		return `\\`, 1
	case c == '\n':
		return `\n`, 1
	case c == '\r':
		return `\r`, 1
	case c == '\t':
		return `\t`, 1
	case c >= 0x20 && c < 0x7f:
		return s[:1], 1
	case c < utf8.RuneSelf:
		return fmt.Sprintf(`\x%02x`, c), 1
	}
	r, n := utf8.DecodeRuneInString(s)
	switch {
	case r == utf8.RuneError && n == 1:
		return fmt.Sprintf(`\x%02x`, c), 1
	case r > 0xffff:
		return fmt.Sprintf(`\U%08x`, r), n
	}
	return fmt.Sprintf(`\u%04x`, r), n
}
