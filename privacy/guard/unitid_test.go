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
