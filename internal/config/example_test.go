package config

import (
	"reflect"
	"regexp"
	"strings"
	"testing"
)

// TestExample: the generated example lists every key of the role once,
// commented out, with its default; nothing else is a setting; and what
// uncommenting all of them gives is exactly Default(role).
func TestExample(t *testing.T) {
	keyLine := regexp.MustCompile(`^# ([A-Z0-9_]+)=(.*)$`)
	for _, role := range []Role{Router, Host} {
		t.Run(string(role), func(t *testing.T) {
			ex := Example(role)
			if _, err := Parse("example", ex, role); err != nil {
				t.Fatalf("Parse(Example(%s)) = %v; want it accepted as is", role, err)
			}
			var listed []string
			var uncommented strings.Builder
			for i, line := range strings.Split(ex, "\n") {
				if line != "" && !strings.HasPrefix(line, "#") {
					t.Errorf("line %d %q is not commented out", i+1, line)
				}
				if m := keyLine.FindStringSubmatch(line); m != nil {
					listed = append(listed, m[1])
					uncommented.WriteString(strings.TrimPrefix(line, "# ") + "\n")
				}
			}
			if want := Keys(role); !reflect.DeepEqual(listed, want) {
				t.Errorf("Example(%s) lists %q; want Keys(%s) = %q", role, listed, role, want)
			}
			got, err := Parse("example", uncommented.String(), role)
			if err != nil {
				t.Fatalf("Parse(uncommented example) = %v", err)
			}
			got.Path = ""
			if def := Default(role); !reflect.DeepEqual(got, def) {
				t.Errorf("uncommented example parses to %+v; want Default(%s) = %+v", got, role, def)
			}
			// Each uncommented line alone sets its key to the default as written.
			for _, k := range Keys(role) {
				want := DefaultValue(role, k)
				re := regexp.MustCompile(`(?m)^# ` + k + `=(.*)$`)
				m := re.FindStringSubmatch(ex)
				if m == nil {
					continue
				}
				v, err := unquote(m[1])
				if err != nil || v != want {
					t.Errorf("%s=%s reads back as %q, %v; want %q", k, m[1], v, err, want)
				}
			}
		})
	}
}

// TestQuoteValue: every kind of value reads back as itself.
func TestQuoteValue(t *testing.T) {
	for _, v := range []string{"", "wan", "1.1.1.1,8.8.8.8", "a b", "/bin/sync; /sbin/reboot -f",
		"echo 'x' >&2", `it's $HOME\n`, "a#b", "x # y"} {
		q := quoteValue(v)
		got, err := unquote(q)
		if err != nil || got != v {
			t.Errorf("unquote(quoteValue(%q) = %s) = %q, %v; want %q", v, q, got, err, v)
		}
	}
}

// FuzzUnescape: the loop reads a double-quoted value as a POSIX shell
// does (\$ \` \" \\ and \newline, left to right, as a strings.Replacer
// would), every value quoteValue writes reads back as itself, and a
// single-quoted value is taken as it is.
func FuzzUnescape(f *testing.F) {
	for _, s := range []string{`a\"b`, `\\\\$`, `\\"`, `\$HOME`, `\n\x`, `\`, `it's $HOME\n`,
		"\\`id\\`", "a\\\nb", `it's "quoted"`, `/usr/bin/logger "going down"; /sbin/reboot -f`} {
		f.Add(s)
	}
	ref := strings.NewReplacer(`\"`, `"`, `\\`, `\`, `\$`, `$`, "\\`", "`", "\\\n", "")
	f.Fuzz(func(t *testing.T, v string) {
		if got, want := unescape(v), ref.Replace(v); got != want {
			t.Errorf("unescape(%q) = %q; strings.Replacer: %q", v, got, want)
		}
		if strings.ContainsAny(v, "\n\r") {
			return // not a value of one line
		}
		if got, err := unquote(quoteValue(v)); err != nil || got != v {
			t.Errorf("unquote(quoteValue(%q)) = %q, %v", v, got, err)
		}
		if !strings.Contains(v, "'") {
			if got, err := unquote("'" + v + "'"); err != nil || got != v {
				t.Errorf("unquote('%s') = %q, %v; want it as it is", v, got, err)
			}
		}
	})
}
