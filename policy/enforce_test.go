package policy_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/compute"
	"github.com/apache/arrow-go/v18/arrow/decimal128"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/google/go-cmp/cmp"

	"github.com/fedmesh/fedmesh/policy"
)

// group is one row of a partial result: a nullable group key, a nullable
// SUM, and the group's COUNT(*) (nil for NULL).
type group struct {
	Region *string
	Sum    *float64
	N      *int64
}

func str(s string) *string                   { return &s }
func f64(f float64) *float64                 { return &f }
func i64(i int64) *int64                     { return &i }
func g(r *string, s *float64, n int64) group { return group{r, s, i64(n)} }

// Two batches of a site's partial result.
var (
	batch1 = []group{
		g(str("north"), f64(100), 12),
		g(str("south"), f64(5), 3),
		g(nil, f64(50), 10), // NULL group key, large enough: kept
		g(str("east"), nil, 9),
	}
	batch2 = []group{
		g(str("west"), f64(7), 1),
		g(nil, f64(1), 2), // NULL group key, too small: dropped
		g(str("central"), f64(300), 40),
	}
)

func makeBatch(t testing.TB, mem memory.Allocator, countType arrow.DataType, rows []group) arrow.RecordBatch {
	t.Helper()
	schema := arrow.NewSchema([]arrow.Field{
		{Name: "g0", Type: arrow.BinaryTypes.String, Nullable: true},
		{Name: "a0", Type: arrow.PrimitiveTypes.Float64, Nullable: true},
		{Name: "a1", Type: countType, Nullable: true},
	}, nil)
	b := array.NewRecordBuilder(mem, schema)
	defer b.Release()
	for _, r := range rows {
		if r.Region == nil {
			b.Field(0).AppendNull()
		} else {
			b.Field(0).(*array.StringBuilder).Append(*r.Region)
		}
		if r.Sum == nil {
			b.Field(1).AppendNull()
		} else {
			b.Field(1).(*array.Float64Builder).Append(*r.Sum)
		}
		if r.N == nil {
			b.Field(2).AppendNull()
			continue
		}
		switch fb := b.Field(2).(type) {
		case *array.Int64Builder:
			fb.Append(*r.N)
		case *array.Int32Builder:
			fb.Append(int32(*r.N))
		case *array.Uint64Builder:
			fb.Append(uint64(*r.N))
		case *array.Decimal128Builder:
			fb.Append(decimal128.FromI64(*r.N))
		case *array.Float64Builder: // not a valid count type: Enforce must refuse it
			fb.Append(float64(*r.N))
		default:
			t.Fatalf("no builder for count type %s", countType)
		}
	}
	return b.NewRecordBatch()
}

// groups reads batches back as rows, whatever the count column's type.
func groups(t *testing.T, batches []arrow.RecordBatch) []group {
	t.Helper()
	var out []group
	for _, b := range batches {
		keys := b.Column(0).(*array.String)
		sums := b.Column(1).(*array.Float64)
		counts, err := compute.CastToType(context.Background(), b.Column(2), arrow.PrimitiveTypes.Int64)
		if err != nil {
			t.Fatal(err)
		}
		n := counts.(*array.Int64)
		for i := range int(b.NumRows()) {
			var r group
			if keys.IsValid(i) {
				r.Region = str(keys.Value(i))
			}
			if sums.IsValid(i) {
				r.Sum = f64(sums.Value(i))
			}
			if n.IsValid(i) {
				r.N = i64(n.Value(i))
			}
			out = append(out, r)
		}
		counts.Release()
	}
	return out
}

func TestEnforce(t *testing.T) {
	t.Parallel()
	all := append(append([]group{}, batch1...), batch2...)
	keptAt10 := []group{batch1[0], batch1[2], batch2[2]}
	tests := []struct {
		name       string
		countType  arrow.DataType
		batches    [][]group
		obl        policy.Obligations
		want       []group
		wantSupp   int64
		wantErrIs  error
		wantErrSub string
	}{
		{name: "drops groups below k across batches", countType: arrow.PrimitiveTypes.Int64, obl: policy.Obligations{MinGroupSize: 10},
			want: keptAt10, wantSupp: 4},
		{name: "int32 counts", countType: arrow.PrimitiveTypes.Int32, obl: policy.Obligations{MinGroupSize: 10}, want: keptAt10, wantSupp: 4},
		{name: "uint64 counts", countType: arrow.PrimitiveTypes.Uint64, obl: policy.Obligations{MinGroupSize: 10}, want: keptAt10, wantSupp: 4},
		{name: "decimal128 scale 0 counts", countType: &arrow.Decimal128Type{Precision: 38, Scale: 0}, obl: policy.Obligations{MinGroupSize: 10}, want: keptAt10, wantSupp: 4},
		{name: "k = 1 keeps everything", countType: arrow.PrimitiveTypes.Int64, obl: policy.Obligations{MinGroupSize: 1}, want: all},
		{name: "k = 0 keeps everything", countType: arrow.PrimitiveTypes.Int64, obl: policy.Obligations{}, want: all},
		{name: "k above every count drops all", countType: arrow.PrimitiveTypes.Int64, obl: policy.Obligations{MinGroupSize: 1000}, wantSupp: 7},
		{name: "NULL count is dropped", countType: arrow.PrimitiveTypes.Int64, obl: policy.Obligations{MinGroupSize: 2},
			batches: [][]group{{{Region: str("x"), Sum: f64(1)}, g(str("y"), f64(2), 2)}}, want: []group{g(str("y"), f64(2), 2)}, wantSupp: 1},
		{name: "max groups respected", countType: arrow.PrimitiveTypes.Int64, obl: policy.Obligations{MinGroupSize: 10, MaxGroups: 3}, want: keptAt10, wantSupp: 4},
		{name: "too many groups refuses the result", countType: arrow.PrimitiveTypes.Int64, obl: policy.Obligations{MinGroupSize: 10, MaxGroups: 2},
			wantErrIs: policy.ErrTooManyGroups, wantErrSub: "3 groups after suppression, at most 2"},
		{name: "too many groups with k <= 1", countType: arrow.PrimitiveTypes.Int64, obl: policy.Obligations{MaxGroups: 6}, wantErrIs: policy.ErrTooManyGroups},
		{name: "decimal count with a scale", countType: &arrow.Decimal128Type{Precision: 38, Scale: 2}, obl: policy.Obligations{MinGroupSize: 10}, wantErrSub: "scale 0"},
		{name: "count column of the wrong type", countType: arrow.PrimitiveTypes.Float64, obl: policy.Obligations{MinGroupSize: 10}, wantErrSub: `count column "a1" has type float64`},
		{name: "negative obligations", countType: arrow.PrimitiveTypes.Int64, obl: policy.Obligations{MinGroupSize: -1}, wantErrSub: "must be >= 0"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
			defer mem.AssertSize(t, 0)
			ctx := compute.WithAllocator(context.Background(), mem)
			inputs := tt.batches
			if inputs == nil {
				inputs = [][]group{batch1, batch2}
			}
			var in []arrow.RecordBatch
			for _, rows := range inputs {
				in = append(in, makeBatch(t, mem, tt.countType, rows))
			}
			defer func() {
				for _, b := range in {
					b.Release()
				}
			}()

			kept, supp, err := policy.Enforce(ctx, in, "a1", tt.obl)
			defer func() {
				for _, b := range kept {
					b.Release()
				}
			}()
			if tt.wantErrIs != nil || tt.wantErrSub != "" {
				if err == nil {
					t.Fatalf("Enforce succeeded with %d groups, want error", len(groups(t, kept)))
				}
				if tt.wantErrIs != nil && !errors.Is(err, tt.wantErrIs) {
					t.Errorf("error %v is not %v", err, tt.wantErrIs)
				}
				if !strings.Contains(err.Error(), tt.wantErrSub) {
					t.Errorf("error %q does not contain %q", err, tt.wantErrSub)
				}
				if kept != nil || supp != 0 {
					t.Errorf("on error got %d batches and %d suppressed, want none", len(kept), supp)
				}
				return
			}
			if err != nil {
				t.Fatalf("Enforce: %v", err)
			}
			if len(kept) != len(in) {
				t.Errorf("got %d batches, want one per input (%d)", len(kept), len(in))
			}
			if diff := cmp.Diff(tt.want, groups(t, kept)); diff != "" {
				t.Errorf("kept groups (-want +got):\n%s", diff)
			}
			if supp != tt.wantSupp {
				t.Errorf("suppressed = %d, want %d", supp, tt.wantSupp)
			}
			for i, b := range kept {
				if !b.Schema().Equal(in[i].Schema()) {
					t.Errorf("batch %d schema changed: %s", i, b.Schema())
				}
			}
		})
	}
}

func TestEnforceMissingCountColumn(t *testing.T) {
	t.Parallel()
	rec := makeBatch(t, memory.DefaultAllocator, arrow.PrimitiveTypes.Int64, batch1)
	defer rec.Release()
	_, _, err := policy.Enforce(context.Background(), []arrow.RecordBatch{rec}, "n", policy.Obligations{MinGroupSize: 10})
	if err == nil || !strings.Contains(err.Error(), `batch 0: count column "n" not found`) {
		t.Errorf("err = %v, want it to name the missing column and batch", err)
	}
}

func BenchmarkEnforce(b *testing.B) {
	mem := memory.NewGoAllocator()
	rows := make([]group, 4096)
	for i := range rows {
		rows[i] = g(str("r"), f64(float64(i)), int64(i%20))
	}
	rec := makeBatch(b, mem, arrow.PrimitiveTypes.Int64, rows)
	defer rec.Release()
	b.ReportAllocs()
	for b.Loop() {
		kept, _, err := policy.Enforce(context.Background(), []arrow.RecordBatch{rec}, "a1", policy.Obligations{MinGroupSize: 10})
		if err != nil {
			b.Fatal(err)
		}
		for _, k := range kept {
			k.Release()
		}
	}
}
