package policy_test

import (
	"context"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/google/go-cmp/cmp"

	"github.com/fedmesh/fedmesh/policy"
)

func TestRoundAggregates(t *testing.T) {
	t.Parallel()
	schema := arrow.NewSchema([]arrow.Field{
		{Name: "g0", Type: arrow.BinaryTypes.String},
		{Name: "a0", Type: arrow.PrimitiveTypes.Float64, Nullable: true},
		{Name: "a1", Type: arrow.PrimitiveTypes.Int64},
		{Name: "k", Type: arrow.PrimitiveTypes.Int64},
	}, nil)
	b, _, err := array.RecordFromJSON(memory.DefaultAllocator, schema, strings.NewReader(`[
		{"g0": "north", "a0": 1234.5, "a1": 12, "k": 12},
		{"g0": "south", "a0": null,   "a1": 17, "k": 17},
		{"g0": "west",  "a0": 2.4,    "a1": 15, "k": 15}
	]`))
	if err != nil {
		t.Fatal(err)
	}
	defer b.Release()
	out, err := policy.Round(context.Background(), []arrow.RecordBatch{b}, []string{"a0", "a1", "g0"}, 5)
	if err != nil {
		t.Fatal(err)
	}
	defer out[0].Release()
	if !out[0].Schema().Equal(schema) {
		t.Errorf("schema changed: %s", out[0].Schema())
	}
	got, err := out[0].MarshalJSON()
	if err != nil {
		t.Fatal(err)
	}
	// a0 and a1 are rounded to multiples of 5 (ties to even: 12 → 10,
	// 17 → 15, 1234.5 → 1235); k is not an aggregate named for rounding.
	want := `[{"a0":1235,"a1":10,"g0":"north","k":12}
,{"a0":null,"a1":15,"g0":"south","k":17}
,{"a0":0,"a1":15,"g0":"west","k":15}
]`
	if diff := cmp.Diff(want, string(got)); diff != "" {
		t.Errorf("rounded batch (-want +got):\n%s", diff)
	}
}
