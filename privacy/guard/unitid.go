package guard

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"math/bits"
)

// UnitHasher turns a unit's id value (a person's key) into the id recorded in
// difference-check bitmaps: SipHash-2-4 keyed with the site's secret,
// truncated to Options.UnitIDBits. The file therefore never holds raw ids,
// and ids from different sites cannot be joined. A UnitHasher is a value;
// copy it freely, it is safe for concurrent use.
//
// Width: roaring64 keeps one 32-bit bitmap per distinct high 32 bits, so a
// full 64-bit hash puts every unit in its own bitmap (measured 4-9x slower and
// larger than 40 bits). The default of 40 bits keeps 256 high keys; the price
// is collisions: a given unit shares its id with one of n others with
// probability about n/2^40 (1e-7 for n = 100,000), in which case a 1-unit
// difference on it is not seen. Ids that are already small dense integers can
// be added to bitmaps directly and are far faster, but are then stored raw.
type UnitHasher struct {
	k0, k1 uint64
	mask   uint64
	// dense bounds the ids Int permutes instead of hashing (0: none);
	// hashed ids then take the upper half of the id space.
	dense uint64
}

// UnitHasher returns the hasher keyed with this site's secret.
func (s *Store) UnitHasher() UnitHasher {
	mac := hmac.New(sha256.New, s.secret[:])
	mac.Write([]byte("fedmesh guard unit id v1"))
	k := mac.Sum(nil)
	h := UnitHasher{k0: binary.LittleEndian.Uint64(k[0:8]), k1: binary.LittleEndian.Uint64(k[8:16]), mask: ^uint64(0)}
	if s.opts.UnitIDBits < 64 {
		h.mask = 1<<s.opts.UnitIDBits - 1
	}
	if s.opts.UnitIDBits >= 24 && s.opts.UnitIDBits < 64 {
		h.dense = 1 << (s.opts.UnitIDBits - 1)
	}
	return h
}

// String hashes a text (or binary) unit id.
func (h UnitHasher) String(v string) uint64 { return h.sum('s', []byte(v)) }

// Bytes hashes a binary unit id; equal to String of the same bytes.
func (h UnitHasher) Bytes(v []byte) uint64 { return h.sum('s', v) }

// Int maps an integer unit id. Integers of every width with the same value
// map alike, and differ from the same digits as text.
//
// Small non-negative ids (below 2^(UnitIDBits-1)) — the usual surrogate keys
// 1..N — are not hashed but permuted within their block of 65,536 (a keyed
// 4-round Feistel permutation of the low 16 bits): the file still holds no
// raw id, yet ids stay as dense as they were, which keeps roaring's
// containers compact (hashed ids are one sparse container each: the
// difference check over 1,000 groups of 1,000-100,000 units took 29 ms on
// dense ids and 3.9 s on hashed ones). The block (id / 65,536) is kept as it
// is. Other ids are hashed into the upper half of the id space, so the two
// kinds never collide.
func (h UnitHasher) Int(v int64) uint64 {
	if h.dense > 0 && v >= 0 && uint64(v) < h.dense {
		block, low := uint64(v)>>16, uint16(v)
		return block<<16 | uint64(h.permute16(block, low))
	}
	var b [8]byte
	binary.BigEndian.PutUint64(b[:], uint64(v))
	return h.sum('i', b[:])
}

// permute16 is a keyed permutation of the 16-bit value x, one per block:
// a balanced Feistel network on two bytes with SipHash rounds.
func (h UnitHasher) permute16(block uint64, x uint16) uint16 {
	l, r := uint8(x>>8), uint8(x)
	var msg [10]byte
	binary.LittleEndian.PutUint64(msg[:8], block)
	for round := byte(0); round < 4; round++ {
		msg[8], msg[9] = round, r
		f := uint8(sipHash24(h.k0^'p', h.k1, msg[:]))
		l, r = r, l^f
	}
	return uint16(l)<<8 | uint16(r)
}

// UnitID hashes v, which must be a string, []byte, [16]byte (a UUID) or any
// integer type. It returns an error for other types and for unsigned values
// above MaxInt64, rather than guessing an encoding.
func (h UnitHasher) UnitID(v any) (uint64, error) {
	switch x := v.(type) {
	case string:
		return h.String(x), nil
	case []byte:
		return h.Bytes(x), nil
	case [16]byte:
		return h.Bytes(x[:]), nil
	case int:
		return h.Int(int64(x)), nil
	case int8:
		return h.Int(int64(x)), nil
	case int16:
		return h.Int(int64(x)), nil
	case int32:
		return h.Int(int64(x)), nil
	case int64:
		return h.Int(x), nil
	case uint8:
		return h.Int(int64(x)), nil
	case uint16:
		return h.Int(int64(x)), nil
	case uint32:
		return h.Int(int64(x)), nil
	case uint:
		return h.uint(uint64(x))
	case uint64:
		return h.uint(x)
	default:
		return 0, fmt.Errorf("unit id of type %T: want a string, []byte, [16]byte or integer", v)
	}
}

func (h UnitHasher) uint(v uint64) (uint64, error) {
	if v > 1<<63-1 {
		return 0, fmt.Errorf("unit id %d: unsigned ids above 2^63-1 are not supported; pass them as bytes", v)
	}
	return h.Int(int64(v)), nil
}

func (h UnitHasher) sum(tag byte, v []byte) uint64 {
	x := sipHash24(h.k0^uint64(tag), h.k1, v) & h.mask
	if h.dense > 0 {
		x |= h.dense // the upper half: never a permuted dense id
	}
	return x
}

// sipHash24 is SipHash-2-4 (Aumasson and Bernstein, 2012) of msg under the
// key (k0, k1), both read little-endian from the 16-byte key.
func sipHash24(k0, k1 uint64, msg []byte) uint64 {
	v0 := k0 ^ 0x736f6d6570736575
	v1 := k1 ^ 0x646f72616e646f6d
	v2 := k0 ^ 0x6c7967656e657261
	v3 := k1 ^ 0x7465646279746573
	round := func() {
		v0 += v1
		v1 = bits.RotateLeft64(v1, 13)
		v1 ^= v0
		v0 = bits.RotateLeft64(v0, 32)
		v2 += v3
		v3 = bits.RotateLeft64(v3, 16)
		v3 ^= v2
		v0 += v3
		v3 = bits.RotateLeft64(v3, 21)
		v3 ^= v0
		v2 += v1
		v1 = bits.RotateLeft64(v1, 17)
		v1 ^= v2
		v2 = bits.RotateLeft64(v2, 32)
	}
	n := len(msg)
	for len(msg) >= 8 {
		m := binary.LittleEndian.Uint64(msg)
		v3 ^= m
		round()
		round()
		v0 ^= m
		msg = msg[8:]
	}
	last := uint64(n) << 56
	for i, c := range msg {
		last |= uint64(c) << (8 * i)
	}
	v3 ^= last
	round()
	round()
	v0 ^= last
	v2 ^= 0xff
	round()
	round()
	round()
	round()
	return v0 ^ v1 ^ v2 ^ v3
}
