package health

import (
	"fmt"
	"strconv"
	"strings"
	"unicode/utf16"
	"unicode/utf8"
)

// objectScalars reads a JSON object (RFC 8259) and returns its top-level
// members whose values are strings or booleans, decoded ("true"/"false"
// for booleans, with isBool set); nested values are checked and skipped. A
// member that appears twice keeps its last value, as with encoding/json.
//
// netcheck reads one JSON document, netifd's interface status (`ifstatus`,
// for `status`); encoding/json's decoder cost netcheck's binary ~90 KB
// for it (SPEC §12: stripped netcheck ≤ 5 MiB, a router's flash).
func objectScalars(data string) (map[string]jsonScalar, error) {
	s := &jsonScanner{data: data}
	s.space()
	if !s.eat('{') {
		return nil, s.fail("not a JSON object")
	}
	out := map[string]jsonScalar{}
	s.space()
	if s.eat('}') {
		return out, s.end()
	}
	for {
		s.space()
		name, err := s.str()
		if err != nil {
			return nil, err
		}
		s.space()
		if !s.eat(':') {
			return nil, s.fail("want ':'")
		}
		s.space()
		switch {
		case s.peek() == '"':
			v, err := s.str()
			if err != nil {
				return nil, err
			}
			out[name] = jsonScalar{Value: v}
		case s.lit("true"):
			out[name] = jsonScalar{Value: "true", IsBool: true}
		case s.lit("false"):
			out[name] = jsonScalar{Value: "false", IsBool: true}
		default:
			delete(out, name) // a later member of another type replaces it
			if err := s.value(0); err != nil {
				return nil, err
			}
		}
		s.space()
		if s.eat('}') {
			return out, s.end()
		}
		if !s.eat(',') {
			return nil, s.fail("want ',' or '}'")
		}
	}
}

// jsonScalar is a string or boolean member of an object.
type jsonScalar struct {
	Value  string
	IsBool bool
}

// maxDepth bounds nesting, as encoding/json does (10000); netifd nests 3.
const maxDepth = 10000

type jsonScanner struct {
	data string
	i    int
}

func (s *jsonScanner) fail(why string) error {
	return fmt.Errorf("invalid JSON at byte %d: %s", s.i, why)
}

// peek is not inlined, for netcheck's size (SPEC §12).
//
//go:noinline
func (s *jsonScanner) peek() byte {
	if s.i < len(s.data) {
		return s.data[s.i]
	}
	return 0
}

// eat is called from a dozen places: a call there is smaller than its
// body (the router's binary is held to 5 MiB, SPEC §12).
//
//go:noinline
func (s *jsonScanner) eat(c byte) bool {
	if s.peek() == c && s.i < len(s.data) {
		s.i++
		return true
	}
	return false
}

// lit is not inlined, for netcheck's size (SPEC §12).
//
//go:noinline
func (s *jsonScanner) lit(word string) bool {
	if strings.HasPrefix(s.data[s.i:], word) {
		s.i += len(word)
		return true
	}
	return false
}

func (s *jsonScanner) space() {
	for s.i < len(s.data) && strings.IndexByte(" \t\n\r", s.data[s.i]) >= 0 {
		s.i++
	}
}

// end checks that only white space follows the top-level value.
func (s *jsonScanner) end() error {
	s.space()
	if s.i != len(s.data) {
		return s.fail("data after the object")
	}
	return nil
}

// value checks and skips one value of any type.
func (s *jsonScanner) value(depth int) error {
	if depth > maxDepth {
		return s.fail("nested too deep")
	}
	switch c := s.peek(); {
	case c == '"':
		_, err := s.str()
		return err
	case c == '{' || c == '[':
		closing := byte('}')
		if c == '[' {
			closing = ']'
		}
		s.i++
		s.space()
		if s.eat(closing) {
			return nil
		}
		for {
			s.space()
			if c == '{' {
				if _, err := s.str(); err != nil {
					return err
				}
				s.space()
				if !s.eat(':') {
					return s.fail("want ':'")
				}
				s.space()
			}
			if err := s.value(depth + 1); err != nil {
				return err
			}
			s.space()
			if s.eat(closing) {
				return nil
			}
			if !s.eat(',') {
				return s.fail("want ',' or '" + string(closing) + "'")
			}
		}
	case s.lit("true"), s.lit("false"), s.lit("null"):
		return nil
	case c == '-' || c >= '0' && c <= '9':
		return s.number()
	}
	return s.fail("want a value")
}

// number checks and skips a number: -?(0|[1-9]d*)(.d+)?([eE][+-]?d+)?
func (s *jsonScanner) number() error {
	s.eat('-')
	digits := func() int {
		n := 0
		for s.peek() >= '0' && s.peek() <= '9' && s.i < len(s.data) {
			s.i++
			n++
		}
		return n
	}
	if s.eat('0') {
		// no more digits may follow a leading zero
	} else if digits() == 0 {
		return s.fail("want a digit")
	}
	if s.eat('.') && digits() == 0 {
		return s.fail("want a digit after '.'")
	}
	if s.eat('e') || s.eat('E') {
		if !s.eat('+') {
			s.eat('-')
		}
		if digits() == 0 {
			return s.fail("want a digit in the exponent")
		}
	}
	return nil
}

// str reads a string and returns it decoded. Invalid UTF-8 and lone
// surrogates become U+FFFD, as with encoding/json.
func (s *jsonScanner) str() (string, error) {
	if !s.eat('"') {
		return "", s.fail("want a string")
	}
	var b strings.Builder
	for {
		if s.i >= len(s.data) {
			return "", s.fail("unterminated string")
		}
		c := s.data[s.i]
		switch {
		case c == '"':
			s.i++
			return b.String(), nil
		case c < 0x20:
			return "", s.fail("control character in a string")
		case c == '\\':
			if s.i+1 >= len(s.data) {
				return "", s.fail("unterminated escape")
			}
			e := s.data[s.i+1]
			s.i += 2
			if j := strings.IndexByte(`"\/bfnrt`, e); j >= 0 {
				b.WriteByte("\"\\/\b\f\n\r\t"[j])
				continue
			}
			if e != 'u' {
				return "", s.fail("invalid escape")
			}
			r, ok := s.hex4()
			if !ok {
				return "", s.fail("invalid \\u escape")
			}
			if utf16.IsSurrogate(r) {
				// A pair is two escapes; a lone half is U+FFFD.
				save := s.i
				if s.lit(`\u`) {
					if r2, ok := s.hex4(); ok {
						if dec := utf16.DecodeRune(r, r2); dec != utf8.RuneError {
							b.WriteRune(dec)
							continue
						}
					}
				}
				s.i = save
				r = utf8.RuneError
			}
			b.WriteRune(r)
		default:
			r, size := utf8.DecodeRuneInString(s.data[s.i:])
			b.WriteRune(r) // RuneError for an invalid byte
			s.i += size
		}
	}
}

func (s *jsonScanner) hex4() (rune, bool) {
	if s.i+4 > len(s.data) {
		return 0, false
	}
	h := s.data[s.i : s.i+4]
	if strings.ContainsAny(h, "+-_xX") {
		return 0, false
	}
	n, err := strconv.ParseUint(h, 16, 16)
	if err != nil {
		return 0, false
	}
	s.i += 4
	return rune(n), true
}
