package policy

import (
	"context"
	"fmt"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/compute"
	"github.com/apache/arrow-go/v18/arrow/scalar"
)

// Round applies the round_to obligation: every numeric column of each batch
// named in cols is rounded to the nearest multiple of multiple (ties to
// even), vectorised with arrow compute's round_to_multiple; integer columns
// keep their type. Columns of other types (strings, dates) are left alone,
// since only numbers can be rounded. multiple <= 1 returns the batches
// unchanged (retained). The caller releases inputs and outputs.
func Round(ctx context.Context, batches []arrow.RecordBatch, cols []string, multiple int64) (out []arrow.RecordBatch, err error) {
	defer func() {
		if err != nil {
			for _, b := range out {
				b.Release()
			}
			out = nil
		}
	}()
	want := make(map[string]bool, len(cols))
	for _, c := range cols {
		want[c] = true
	}
	for i, b := range batches {
		if multiple <= 1 {
			b.Retain()
			out = append(out, b)
			continue
		}
		arrs := make([]arrow.Array, b.NumCols())
		for j := range arrs {
			f := b.Schema().Field(j)
			if !want[f.Name] || !numeric(f.Type.ID()) {
				arrs[j] = b.Column(j)
				arrs[j].Retain()
				continue
			}
			r, err := roundColumn(ctx, b.Column(j), multiple)
			if err != nil {
				for _, a := range arrs[:j] {
					a.Release()
				}
				return out, fmt.Errorf("round_to obligation: batch %d column %q: %w", i, f.Name, err)
			}
			arrs[j] = r
		}
		nb := array.NewRecordBatch(b.Schema(), arrs, b.NumRows())
		for _, a := range arrs {
			a.Release()
		}
		out = append(out, nb)
	}
	return out, nil
}

func roundColumn(ctx context.Context, col arrow.Array, multiple int64) (arrow.Array, error) {
	in := compute.NewDatum(col)
	defer in.Release()
	opts := compute.RoundToMultipleOptions{Multiple: scalar.NewFloat64Scalar(float64(multiple)), Mode: compute.RoundHalfToEven}
	rd, err := compute.RoundToMultiple(ctx, opts, in)
	if err != nil {
		return nil, err
	}
	defer rd.Release()
	rounded := rd.(*compute.ArrayDatum).MakeArray()
	defer rounded.Release()
	if arrow.TypeEqual(rounded.DataType(), col.DataType()) {
		rounded.Retain()
		return rounded, nil
	}
	// Integers come back as float64: cast back, so the schema the
	// coordinator merges is unchanged.
	return compute.CastArray(ctx, rounded, compute.SafeCastOptions(col.DataType()))
}

func numeric(t arrow.Type) bool {
	return arrow.IsInteger(t) || arrow.IsFloating(t) || arrow.IsDecimal(t)
}
