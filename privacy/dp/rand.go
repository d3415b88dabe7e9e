package dp

import (
	"encoding/binary"
	"fmt"
	"io"
	"math/big"
	"math/bits"
)

// source turns an io.Reader into exactly uniform bits. All randomness of the
// samplers comes from [source.bits]; [source.uniform] and [source.uniformBig]
// are the only ways bits become integers, by rejection (never by modulo, which
// would bias small values).
//
// A source lives for one top-level sampler call. It reads the caller's reader
// 64 bytes at a time, so one call costs about one read of the reader; unused
// bytes are dropped when the call returns and are never reused.
type source struct {
	r     io.Reader
	buf   [64]byte
	pos   int    // next unread byte of buf
	end   int    // bytes of buf filled by the last read
	word  uint64 // unread random bits, low bits first
	nbits uint   // how many bits of word are unread
}

func newSource(r io.Reader) *source { return &source{r: r} }

func (s *source) refill() error {
	if s.pos == s.end {
		if _, err := io.ReadFull(s.r, s.buf[:]); err != nil {
			return fmt.Errorf("dp: read randomness: %w", err)
		}
		s.pos, s.end = 0, len(s.buf)
	}
	s.word = binary.LittleEndian.Uint64(s.buf[s.pos:])
	s.pos += 8
	s.nbits = 64
	return nil
}

// bits returns k ≤ 64 uniform random bits.
func (s *source) bits(k uint) (uint64, error) {
	var out uint64
	for k > 0 {
		if s.nbits == 0 {
			if err := s.refill(); err != nil {
				return 0, err
			}
		}
		take := min(k, s.nbits)
		// Shifts by 64 give 0 in Go, so take == 64 needs no special case.
		out = out<<take | s.word&(uint64(1)<<take-1)
		s.word >>= take
		s.nbits -= take
		k -= take
	}
	return out, nil
}

// uniform returns an exactly uniform integer in [0, m), m > 0: draw the
// fewest bits that can hold m-1 and reject draws ≥ m (accepts with
// probability > 1/2 per draw).
func (s *source) uniform(m uint64) (uint64, error) {
	if m == 1 {
		return 0, nil
	}
	k := uint(bits.Len64(m - 1))
	for {
		v, err := s.bits(k)
		if err != nil {
			return 0, err
		}
		if v < m {
			return v, nil
		}
	}
}

// uniformBig returns an exactly uniform integer in [0, m), m > 0, by the same
// rejection as uniform.
func (s *source) uniformBig(m *big.Int) (*big.Int, error) {
	if m.IsUint64() {
		v, err := s.uniform(m.Uint64())
		return new(big.Int).SetUint64(v), err
	}
	k := uint(new(big.Int).Sub(m, one).BitLen())
	v, chunk := new(big.Int), new(big.Int)
	for {
		v.SetUint64(0)
		for left := k; left > 0; {
			take := min(left, 64)
			b, err := s.bits(take)
			if err != nil {
				return nil, err
			}
			v.Lsh(v, take).Or(v, chunk.SetUint64(b))
			left -= take
		}
		if v.Cmp(m) < 0 {
			return v, nil
		}
	}
}

var (
	one = big.NewInt(1)
	two = big.NewInt(2)
)
