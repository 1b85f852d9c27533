package remote

import (
	"io"
	"testing"
)

// endless is an io.Reader that never ends, like a SOS_SYSTEM linked to
// /dev/zero on the router (issue 9 item 7).
type endless struct{ n int64 }

func (e *endless) Read(p []byte) (int, error) {
	clear(p)
	e.n += int64(len(p))
	return len(p), nil
}

// TestLimitedBufferBoundsIOCopy: io.Copy into a limitedBuffer keeps at
// most max bytes however much the reader offers. Before the fix the
// buffer embedded bytes.Buffer, whose promoted ReadFrom bypassed Write and
// its cap: hostcheck grew to ~1 GiB in 3 s.
func TestLimitedBufferBoundsIOCopy(t *testing.T) {
	b := &limitedBuffer{max: 4096}
	src := &endless{}
	n, err := io.Copy(b, io.LimitReader(src, 64<<20))
	if err != nil {
		t.Fatal(err)
	}
	if n != 64<<20 {
		t.Errorf("io.Copy consumed %d bytes; want all %d (the rest is dropped, not refused)", n, 64<<20)
	}
	if got := len(b.Bytes()); got != 4096 {
		t.Errorf("buffer holds %d bytes after copying 64 MiB; want the cap 4096", got)
	}
	if !b.overflow {
		t.Error("overflow = false after dropping bytes; want true")
	}
}
