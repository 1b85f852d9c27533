package logx

import (
	"strconv"
	"strings"
	"testing"
)

func TestParseSize(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want int64
	}{
		{"bytes", "1048576", 1048576},
		{"zero", "0", 0},
		{"B", "512B", 512},
		{"KiB", "256KiB", 256 << 10},
		{"MiB", "1MiB", 1 << 20},
		{"GiB", "2GiB", 2 << 30},
		{"k", "64k", 64 << 10},
		{"M", "2M", 2 << 20},
		{"G", "1G", 1 << 30},
		{"Ki", "8Ki", 8 << 10},
		{"lower kib", "256kib", 256 << 10},
		{"upper MIB", "1MIB", 1 << 20},
		{"KB is SI", "64KB", 64000},
		{"MB is SI", "5MB", 5000000},
		{"GB is SI", "1gb", 1000000000},
		{"spaces", "  1 MiB \n", 1 << 20},
		{"leading zeros", "0010K", 10 << 10},
		{"largest", "9223372036854775807", 9223372036854775807},
		{"largest GiB", "8589934591GiB", 8589934591 << 30},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseSize(tt.in)
			if err != nil || got != tt.want {
				t.Errorf("ParseSize(%q) = %d, %v; want %d", tt.in, got, err, tt.want)
			}
		})
	}
}

func TestParseSizeErrors(t *testing.T) {
	const allowed = "want a whole number of bytes, optionally followed by K, KiB, M, MiB, G, GiB (powers of 1024) or KB, MB, GB (powers of 1000), e.g. 256KiB"
	tests := []struct {
		name string
		in   string
		want string
	}{
		{"empty", "", `size "": ` + allowed},
		{"unit only", "MiB", `size "MiB": ` + allowed},
		{"negative", "-1", `size "-1": ` + allowed},
		{"plus", "+1K", `size "+1K": ` + allowed},
		{"fraction", "1.5MiB", `size "1.5MiB": ` + allowed},
		{"unknown unit", "1T", `size "1T": ` + allowed},
		{"bits", "1Mb!", `size "1Mb!": ` + allowed},
		{"word", "lots", `size "lots": ` + allowed},
		{"two numbers", "1 2", `size "1 2": ` + allowed},
		{"dotless i", "1kıb", `size "1kıb": ` + allowed},
		{"overflow", "9223372036854775808", `size "9223372036854775808": larger than 9223372036854775807 bytes`},
		{"overflow with unit", "8589934592GiB", `size "8589934592GiB": larger than 9223372036854775807 bytes`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseSize(tt.in)
			if err == nil || err.Error() != tt.want {
				t.Errorf("ParseSize(%q) = %d, %v; want error %q", tt.in, got, err, tt.want)
			}
		})
	}
}

func FuzzParseSize(f *testing.F) {
	for _, s := range []string{"256KiB", "1MiB", "1048576", "64k", "2M", "5MB", " 1 GiB ", "", "-1", "1.5M", "99999999999999999999"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		n, err := ParseSize(s)
		if err != nil {
			if !strings.HasPrefix(err.Error(), "size ") {
				t.Errorf("ParseSize(%q) error %q does not name the size", s, err)
			}
			return
		}
		if n < 0 {
			t.Fatalf("ParseSize(%q) = %d; want >= 0", s, n)
		}
		// Every accepted size is also accepted, unchanged, in bytes.
		if back, err := ParseSize(strconv.FormatInt(n, 10)); err != nil || back != n {
			t.Errorf("ParseSize(%q) = %d, but ParseSize(%d) = %d, %v", s, n, n, back, err)
		}
	})
}
