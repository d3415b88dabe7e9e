package guard

import (
	"encoding/binary"

	"github.com/RoaringBitmap/roaring/v2/roaring64"
)

// A profile counts a set's units in each of 64 partitions of the id space.
// For sets A and B, |A Δ B| = Σ_p |A_p Δ B_p| ≥ Σ_p ||A_p| - |B_p||, so the
// L1 distance of two profiles is a lower bound on the symmetric difference:
// when it is ≥ k the pair needs no bitmap work. Sets of similar size that
// share few units have distances of order √(64n), far above small k;
// sets that differ by d one-sidedly have distance exactly d.
//
// The partition is the top 6 bits of id × a Fibonacci-hash constant, so it
// splits both hashed ids and small dense integers evenly.
type profile [profileParts]uint32

const (
	profileParts = 64
	profileBytes = profileParts * 4
)

func partOf(id uint64) uint64 { return (id * 0x9e3779b97f4a7c15) >> 58 }

func profileOf(bm *roaring64.Bitmap) *profile {
	var p profile
	buf := make([]uint64, 512)
	it := bm.ManyIterator()
	for n := it.NextMany(buf); n > 0; n = it.NextMany(buf) {
		for _, id := range buf[:n] {
			p[partOf(id)]++
		}
	}
	return &p
}

// distance returns the profiles' L1 distance, or a value ≥ stop as soon as
// it reaches stop.
func (p *profile) distance(q *profile, stop uint64) uint64 {
	var d uint64
	for i := 0; i < profileParts; i += 16 {
		for j := i; j < i+16; j++ {
			a, b := p[j], q[j]
			if a > b {
				d += uint64(a - b)
			} else {
				d += uint64(b - a)
			}
		}
		if d >= stop {
			return d
		}
	}
	return d
}

func (p *profile) encode(b []byte) {
	for i, v := range p {
		binary.LittleEndian.PutUint32(b[4*i:], v)
	}
}

func (p *profile) decode(b []byte) {
	for i := range p {
		p[i] = binary.LittleEndian.Uint32(b[4*i:])
	}
}
