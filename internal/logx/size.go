package logx

import (
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
)

// sizeUnits are the units ParseSize knows, upper-cased. K, M and G alone
// and the IEC forms (KiB…) are powers of 1024, as sizes of files usually
// are; KB, MB and GB are the SI powers of 1000, as in `df -H`.
var sizeUnits = map[string]int64{
	"": 1, "B": 1,
	"K": 1 << 10, "KI": 1 << 10, "KIB": 1 << 10, "KB": 1e3,
	"M": 1 << 20, "MI": 1 << 20, "MIB": 1 << 20, "MB": 1e6,
	"G": 1 << 30, "GI": 1 << 30, "GIB": 1 << 30, "GB": 1e9,
}

// errSize names what a size may look like; it ends every ParseSize error.
var errSize = errors.New("want a whole number of bytes, optionally followed by " +
	"K, KiB, M, MiB, G, GiB (powers of 1024) or KB, MB, GB (powers of 1000), e.g. 256KiB")

// ParseSize reads a byte count such as "1048576", "256KiB", "64k", "2M",
// "1 MiB" or "5MB". Units are case-insensitive; K, M, G and KiB, MiB, GiB
// are powers of 1024, KB, MB, GB are powers of 1000. Fractions, signs and
// sizes beyond int64 are errors.
func ParseSize(s string) (int64, error) {
	t := strings.TrimSpace(s)
	i := 0
	for i < len(t) && t[i] >= '0' && t[i] <= '9' {
		i++
	}
	if i == 0 {
		return 0, fmt.Errorf("size %q: %w", s, errSize)
	}
	mult, ok := sizeUnits[asciiUpper(strings.TrimSpace(t[i:]))]
	if !ok {
		return 0, fmt.Errorf("size %q: %w", s, errSize)
	}
	n, err := strconv.ParseInt(t[:i], 10, 64)
	if err != nil || n > math.MaxInt64/mult {
		return 0, fmt.Errorf("size %q: larger than %d bytes", s, int64(math.MaxInt64))
	}
	return n * mult, nil
}

// asciiUpper upper-cases ASCII letters only: strings.ToUpper would also
// turn a Turkish dotless ı into I and so accept "1kıb".
func asciiUpper(s string) string {
	b := []byte(s)
	for i, c := range b {
		if 'a' <= c && c <= 'z' {
			b[i] = c - 'a' + 'A'
		}
	}
	return string(b)
}
