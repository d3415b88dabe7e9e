package merge

import (
	"context"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/google/go-cmp/cmp"
)

func TestGroupCountsByTypedKey(t *testing.T) {
	t.Parallel()
	dec := func(p, s int32) arrow.DataType { return &arrow.Decimal128Type{Precision: p, Scale: s} }
	tests := []struct {
		name  string
		parts []Partial
		want  []int64
	}{
		{
			// 1.50 at one site and 1.5 at another are one group: a string
			// key ("1.50" vs "1.5") would make two groups of 3 and 4.
			name: "decimal keys of different scales",
			parts: []Partial{
				{Site: "a", Batches: []arrow.RecordBatch{mbatch(t, mc("g0", dec(5, 2), "1.50", "2.00"), mc("n", arrow.PrimitiveTypes.Int64, 3, 9))}},
				{Site: "b", Batches: []arrow.RecordBatch{mbatch(t, mc("g0", dec(4, 1), "1.5"), mc("n", arrow.PrimitiveTypes.Int32, 4))}},
			},
			want: []int64{7, 9},
		},
		{
			name: "integer widths and NULL keys",
			parts: []Partial{
				{Site: "a", Batches: []arrow.RecordBatch{mbatch(t, mc("g0", arrow.PrimitiveTypes.Int16, 1, nil), mc("n", arrow.PrimitiveTypes.Int64, 2, 5))}},
				{Site: "b", Batches: []arrow.RecordBatch{mbatch(t, mc("g0", arrow.PrimitiveTypes.Int64, 1, nil), mc("n", arrow.PrimitiveTypes.Int64, 3, 1))}},
			},
			want: []int64{5, 6},
		},
		{name: "no rows anywhere", parts: []Partial{{Site: "a"}}, want: []int64{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := GroupCounts(context.Background(), []string{"g0"}, "n", tt.parts)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("counts (-want +got):\n%s", diff)
			}
		})
	}
}
