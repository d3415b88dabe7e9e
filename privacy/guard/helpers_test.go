package guard

import (
	"path/filepath"
	"testing"
	"time"

	"github.com/RoaringBitmap/roaring/v2/roaring64"
)

// t0 is the injected clock's origin; tests add durations to it.
var t0 = time.Date(2026, 11, 21, 9, 0, 0, 0, time.UTC)

func openTemp(t testing.TB, opts Options) (*Store, string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "guard.db")
	s, err := Open(path, opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s, path
}

// rng returns the set {lo, …, hi-1}.
func rng(lo, hi uint64) *roaring64.Bitmap {
	b := roaring64.New()
	b.AddRange(lo, hi)
	return b
}

// with returns a copy of b plus add minus del.
func with(b *roaring64.Bitmap, add []uint64, del []uint64) *roaring64.Bitmap {
	c := b.Clone()
	c.AddMany(add)
	for _, x := range del {
		c.Remove(x)
	}
	return c
}

func groups(bs ...*roaring64.Bitmap) []*roaring64.Bitmap { return bs }
