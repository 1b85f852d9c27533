package install

import "testing"

func TestArchName(t *testing.T) {
	for _, tt := range []struct{ goarch, goarm, want string }{
		{"amd64", "", "amd64"}, {"arm64", "", "arm64"}, {"arm", "7", "armv7"}, {"arm", "", "armv7"},
		{"arm", "5", "armv5"}, {"arm", "6", "armv5"}, {"arm", "7,softfloat", "armv7"}, {"mipsle", "", "mipsle"}, {"mips", "", "mips"},
	} {
		if got := archName(tt.goarch, tt.goarm); got != tt.want {
			t.Errorf("archName(%q, %q) = %q; want %q", tt.goarch, tt.goarm, got, tt.want)
		}
	}
}
