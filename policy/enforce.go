package policy

import (
	"context"
	"errors"
	"fmt"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/compute"
	"github.com/apache/arrow-go/v18/arrow/scalar"
)

// ErrTooManyGroups: a result has more groups than obligations.max_groups.
var ErrTooManyGroups = errors.New("result has more groups than the site's policy allows")

// Enforce applies result obligations to a site's partial result before it
// is exported. Rows (groups) whose countCol value is below o.MinGroupSize, or
// NULL, are dropped; MinGroupSize <= 1 keeps everything. It returns one
// output batch per input batch, in order (possibly with zero rows), and how
// many groups were dropped. If o.MaxGroups > 0 and more groups are kept, it
// returns ErrTooManyGroups and no batches: the whole result is refused.
//
// countCol must name exactly one column of every batch, of an integer type or
// decimal128 with scale 0. The caller releases both the inputs and the kept
// batches. Arrow memory comes from compute's allocator in ctx
// (exec.WithAllocator), the Go allocator by default. Errors never carry
// values from the batches.
func Enforce(ctx context.Context, batches []arrow.RecordBatch, countCol string, o Obligations) (kept []arrow.RecordBatch, suppressed int64, err error) {
	if o.MinGroupSize < 0 || o.MaxGroups < 0 {
		return nil, 0, fmt.Errorf("enforce obligations: min_group_size %d and max_groups %d must be >= 0", o.MinGroupSize, o.MaxGroups)
	}
	defer func() {
		if err != nil {
			for _, b := range kept {
				b.Release()
			}
			kept, suppressed = nil, 0
		}
	}()
	kept = make([]arrow.RecordBatch, 0, len(batches))
	var groups int64
	for i, b := range batches {
		if err := ctx.Err(); err != nil {
			return kept, 0, fmt.Errorf("enforce obligations: %w", err)
		}
		col, err := countColumn(b, countCol)
		if err != nil {
			return kept, 0, fmt.Errorf("enforce obligations: batch %d: %w", i, err)
		}
		if o.MinGroupSize <= 1 {
			b.Retain()
			kept = append(kept, b)
			groups += b.NumRows()
			continue
		}
		out, err := filterSmallGroups(ctx, b, col, o.MinGroupSize)
		if err != nil {
			return kept, 0, fmt.Errorf("enforce obligations: batch %d: %w", i, err)
		}
		kept = append(kept, out)
		suppressed += b.NumRows() - out.NumRows()
		groups += out.NumRows()
	}
	if o.MaxGroups > 0 && groups > o.MaxGroups {
		return kept, 0, fmt.Errorf("%w: %d groups after suppression, at most %d allowed; narrow the grouping or filter",
			ErrTooManyGroups, groups, o.MaxGroups)
	}
	return kept, suppressed, nil
}

// countColumn returns the group-size column of b, checking its type.
func countColumn(b arrow.RecordBatch, name string) (arrow.Array, error) {
	idx := b.Schema().FieldIndices(name)
	switch len(idx) {
	case 0:
		return nil, fmt.Errorf("count column %q not found in result schema", name)
	case 1:
	default:
		return nil, fmt.Errorf("count column %q appears %d times in result schema", name, len(idx))
	}
	col := b.Column(idx[0])
	switch dt := col.DataType().(type) {
	case *arrow.Int8Type, *arrow.Int16Type, *arrow.Int32Type, *arrow.Int64Type,
		*arrow.Uint8Type, *arrow.Uint16Type, *arrow.Uint32Type, *arrow.Uint64Type:
	case *arrow.Decimal128Type:
		if dt.Scale != 0 {
			return nil, fmt.Errorf("count column %q has type %s; a decimal count must have scale 0", name, dt)
		}
	default:
		return nil, fmt.Errorf("count column %q has type %s; want an integer or decimal128 with scale 0", name, dt)
	}
	return col, nil
}

// filterSmallGroups keeps the rows of b whose count is >= k: the count column
// is cast to int64, compared with k into a boolean mask (NULL where the count
// is NULL), and the batch filtered by it with NULLs dropped.
func filterSmallGroups(ctx context.Context, b arrow.RecordBatch, col arrow.Array, k int64) (arrow.RecordBatch, error) {
	counts, err := compute.CastToType(ctx, col, arrow.PrimitiveTypes.Int64)
	if err != nil {
		return nil, fmt.Errorf("cast count column to int64: %w", err)
	}
	defer counts.Release()

	countsDatum := compute.NewDatum(counts)
	defer countsDatum.Release()
	kDatum := compute.NewDatum(scalar.NewInt64Scalar(k))
	defer kDatum.Release()
	maskDatum, err := compute.CallFunction(ctx, "greater_equal", nil, countsDatum, kDatum)
	if err != nil {
		return nil, fmt.Errorf("compare counts with min_group_size: %w", err)
	}
	defer maskDatum.Release()
	ad, ok := maskDatum.(*compute.ArrayDatum)
	if !ok {
		return nil, fmt.Errorf("compare counts with min_group_size: got %s, want an array", maskDatum.Kind())
	}
	mask := ad.MakeArray()
	defer mask.Release()

	out, err := compute.FilterRecordBatch(ctx, b, mask, &compute.FilterOptions{NullSelection: compute.SelectionDropNulls})
	if err != nil {
		return nil, fmt.Errorf("filter groups: %w", err)
	}
	return out, nil
}
