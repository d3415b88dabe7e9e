package guard

import (
	"testing"
)

// TestSipHashVector checks the reference vector from the SipHash paper
// (Appendix A): key 00..0f, message 00..0e.
func TestSipHashVector(t *testing.T) {
	t.Parallel()
	msg := make([]byte, 15)
	for i := range msg {
		msg[i] = byte(i)
	}
	if got, want := sipHash24(0x0706050403020100, 0x0f0e0d0c0b0a0908, msg), uint64(0xa129ca6149be45e5); got != want {
		t.Fatalf("sipHash24 = %#x, want %#x", got, want)
	}
}

func TestUnitHasher(t *testing.T) {
	t.Parallel()
	s1, path := openTemp(t, Options{})
	s2, _ := openTemp(t, Options{})
	h1, h2 := s1.UnitHasher(), s2.UnitHasher()
	if h1.String("alice") == h2.String("alice") {
		t.Error("two sites hash the same id alike: the secret is not used")
	}
	if h1.String("alice") >= 1<<40 {
		t.Error("id wider than 40 bits")
	}
	want := h1.String("alice")
	if err := s1.Close(); err != nil {
		t.Fatal(err)
	}
	s3, err := Open(path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s3.Close()
	if got := s3.UnitHasher().String("alice"); got != want {
		t.Fatal("the site's ids changed across a reopen")
	}
	h := s3.UnitHasher()
	same := []any{int64(42), int(42), int8(42), uint16(42), uint64(42)}
	for _, v := range same {
		if got, err := h.UnitID(v); err != nil || got != h.Int(42) {
			t.Errorf("UnitID(%T 42) = %d, %v; want %d", v, got, err, h.Int(42))
		}
	}
	if h.String("42") == h.Int(42) {
		t.Error(`"42" and 42 hash alike`)
	}
	if a, _ := h.UnitID([]byte("x")); a != h.String("x") {
		t.Error("bytes and string of the same content differ")
	}
	for _, v := range []any{3.5, uint64(1 << 63), nil} {
		if _, err := h.UnitID(v); err == nil {
			t.Errorf("UnitID(%T) accepted", v)
		}
	}
	wide, _ := openTemp(t, Options{UnitIDBits: 64})
	hw := wide.UnitHasher()
	var high bool
	for i := range int64(64) {
		high = high || hw.Int(i) >= 1<<40
	}
	if !high {
		t.Error("64-bit ids never exceed 40 bits")
	}
}

// TestDenseIdsStayDense: small non-negative integer ids are permuted within
// their block of 65,536 — a bijection, so no two units collide, and as dense
// as the raw ids — never stored raw, and disjoint from hashed ids.
func TestDenseIdsStayDense(t *testing.T) {
	t.Parallel()
	s, _ := openTemp(t, Options{})
	h := s.UnitHasher()
	seen := make(map[uint64]bool, 1<<16)
	raw := 0
	for v := int64(3 << 16); v < 4<<16; v++ {
		id := h.Int(v)
		if id>>16 != 3 {
			t.Fatalf("id of %d left its block: %d", v, id)
		}
		if seen[id] {
			t.Fatalf("two ids of block 3 collide at %d", id)
		}
		seen[id] = true
		if id == uint64(v) {
			raw++
		}
	}
	if raw > 16 {
		t.Errorf("%d of 65,536 ids stored as they are; the permutation is not keyed", raw)
	}
	if h.String("alice") < 1<<39 || h.Int(-5) < 1<<39 || h.Int(1<<45) < 1<<39 {
		t.Error("a hashed id fell into the range of permuted dense ids")
	}
	other, _ := openTemp(t, Options{})
	if other.UnitHasher().Int(7) == h.Int(7) && other.UnitHasher().Int(8) == h.Int(8) {
		t.Error("two sites permute ids alike: the secret is not used")
	}
}
