package merge

import (
	"context"
	"math/rand/v2"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/decimal128"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/fedmesh/fedmesh/planner"
)

// benchPartial is one site's 1M groups (keys 0..n-1 in a site-specific
// order) in batches of 64Ki rows, shaped as DuckDB sends them: g0 BIGINT,
// a0 COUNT(*) BIGINT, a1 SUM as HUGEINT (Decimal128(38,0)), a2 MIN BIGINT.
func benchPartial(b *testing.B, site string, n int, seed uint64) Partial {
	b.Helper()
	keys := make([]int64, n)
	for i := range keys {
		keys[i] = int64(i)
	}
	rng := rand.New(rand.NewPCG(seed, seed))
	rng.Shuffle(n, func(i, j int) { keys[i], keys[j] = keys[j], keys[i] })
	schema := arrow.NewSchema([]arrow.Field{
		{Name: "g0", Type: arrow.PrimitiveTypes.Int64},
		{Name: "a0", Type: arrow.PrimitiveTypes.Int64},
		{Name: "a1", Type: &arrow.Decimal128Type{Precision: 38, Scale: 0}},
		{Name: "a2", Type: arrow.PrimitiveTypes.Int64, Nullable: true},
	}, nil)
	mem := memory.NewGoAllocator()
	p := Partial{Site: site}
	const chunk = 1 << 16
	for lo := 0; lo < n; lo += chunk {
		hi := min(lo+chunk, n)
		bld := array.NewRecordBuilder(mem, schema)
		for _, k := range keys[lo:hi] {
			bld.Field(0).(*array.Int64Builder).Append(k)
			bld.Field(1).(*array.Int64Builder).Append(k%7 + 1)
			bld.Field(2).(*array.Decimal128Builder).Append(decimal128.FromI64(k * 3))
			bld.Field(3).(*array.Int64Builder).Append(k - int64(seed))
		}
		rec := bld.NewRecordBatch()
		bld.Release()
		b.Cleanup(rec.Release)
		p.Batches = append(p.Batches, rec)
	}
	return p
}

func BenchmarkMerge1MGroups(b *testing.B) {
	const groups = 1_000_000
	parts := []Partial{
		benchPartial(b, "a", groups, 1),
		benchPartial(b, "b", groups, 2),
		benchPartial(b, "c", groups, 3),
	}
	q := mquery([]string{"g0"}, []planner.MergeAgg{
		magg("n", planner.MergeCount, "a0"), magg("s", planner.MergeSum, "a1"), magg("m", planner.MergeMin, "a2"),
	})
	ctx := context.Background()
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		r, err := Merge(ctx, q, parts)
		if err != nil {
			b.Fatal(err)
		}
		if len(r.Rows) != groups {
			b.Fatalf("got %d groups, want %d", len(r.Rows), groups)
		}
	}
}
