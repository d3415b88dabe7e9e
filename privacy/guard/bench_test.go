package guard

import (
	"context"
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/RoaringBitmap/roaring/v2/roaring64"
)

// BenchmarkCheck measures Check of an export of 1,000 groups against a window
// of 1,000 recorded sets of 1,000–100,000 units each (k = 10). Cases:
//
//	independent: unrelated sets of random sizes (the cardinality index
//	             leaves few pairs);
//	same-size:   unrelated sets all of 50,000 ± 5 units (every pair passes
//	             the cardinality index; the partition bound must drop them);
//	near:        each group is a recorded set with k..2k units swapped, so
//	             every group needs a bitmap intersection (the export passes);
//
// for 40-bit hashed ids and for dense integer ids. Run with
//
//	go test -run '^$' -bench Check -benchtime 3x ./privacy/guard/
func BenchmarkCheck(b *testing.B) {
	const groupsN, sets, k = 1000, 1000, 10
	for _, ids := range []string{"hashed", "dense"} {
		for _, shape := range []string{"independent", "same-size", "near"} {
			b.Run(ids+"/"+shape, func(b *testing.B) {
				r := rand.New(rand.NewPCG(1, 2))
				size := func() int {
					if shape == "same-size" {
						return 49995 + r.IntN(11)
					}
					return 1000 + r.IntN(99001)
				}
				var next uint64 // dense ids: consecutive blocks
				set := func(n int) *roaring64.Bitmap {
					bm := roaring64.New()
					if ids == "dense" {
						bm.AddRange(next, next+uint64(n))
						next += uint64(n)
						return bm
					}
					buf := make([]uint64, n)
					for i := range buf {
						buf[i] = r.Uint64() & (1<<40 - 1)
					}
					bm.AddMany(buf)
					return bm
				}
				recorded := make([]*roaring64.Bitmap, sets)
				var units uint64
				for i := range recorded {
					recorded[i] = set(size())
					units += recorded[i].GetCardinality()
				}
				query := make([]*roaring64.Bitmap, groupsN)
				for i := range query {
					if shape != "near" {
						query[i] = set(size())
						continue
					}
					q := recorded[i].Clone()
					swap := k/2 + r.IntN(k/2+1) // removes and adds: Δ = 2·swap ≥ k
					it := recorded[i].Iterator()
					for range swap {
						q.Remove(it.Next())
					}
					q.Or(set(swap))
					query[i] = q
				}
				s, _ := openTemp(b, Options{Diff: DiffOptions{MaxSets: sets}})
				ctx := context.Background()
				start := time.Now()
				if err := s.Record(ctx, analyst, "t", recorded, t0); err != nil {
					b.Fatal(err)
				}
				recordMS := time.Since(start).Milliseconds()
				b.ResetTimer() // also drops metrics reported so far
				for range b.N {
					if err := s.Check(ctx, analyst, "t", query, k, t0); err != nil {
						b.Fatal(fmt.Errorf("check: %w", err))
					}
				}
				b.ReportMetric(float64(recordMS), "record-ms")
				b.ReportMetric(float64(units), "recorded-units")
			})
		}
	}
}

// BenchmarkUnitHasher measures hashing 1,000,000 integer unit ids into a
// bitmap, the caller's side of building one export's groups.
func BenchmarkUnitHasher(b *testing.B) {
	s, _ := openTemp(b, Options{})
	h := s.UnitHasher()
	const n = 1_000_000
	for range b.N {
		bm := roaring64.New()
		for i := range int64(n) {
			bm.Add(h.Int(i))
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*n), "ns/id")
}
