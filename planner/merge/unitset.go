package merge

import (
	"errors"
	"fmt"

	"github.com/RoaringBitmap/roaring/v2/roaring64"
	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
)

// unitSetBuild folds unit ids into one roaring64 bitmap per group (site
// side only, for the difference check): each subgroup of the inner plan
// carries one distinct unit id.
type unitSetBuild struct {
	id    func(any) (uint64, error)
	sets  []*roaring64.Bitmap
	first error
}

func (a *unitSetBuild) grow(n int) { a.sets = growSlice(a.sets, n) }

func (a *unitSetBuild) err() error { return a.first }

func (a *unitSetBuild) update(gids []int32, in []*colReader) {
	r := in[0]
	if r.allNull || a.first != nil {
		return
	}
	for i, g := range gids {
		if r.isNull(i) {
			continue // a row without a unit belongs to no one
		}
		var v any
		switch r.t.kind {
		case tInt:
			if x, b := r.exactAt(i); b == nil {
				v = x
			} else {
				a.first = errors.New("unit id outside 64 bits")
				return
			}
		default:
			v = r.value(i)
		}
		id, err := a.id(v)
		if err != nil {
			a.first = err
			return
		}
		if a.sets[g] == nil {
			a.sets[g] = roaring64.New()
		}
		a.sets[g].Add(id)
	}
}

func (a *unitSetBuild) finish(n int) []any {
	a.grow(n)
	out := make([]any, n)
	for g := range out {
		bm := a.sets[g]
		if bm == nil {
			bm = roaring64.New()
		}
		bm.RunOptimize()
		b, err := bm.MarshalBinary()
		if err != nil && a.first == nil {
			a.first = fmt.Errorf("serialize unit set: %w", err)
		}
		out[g] = b
	}
	return out
}

// UnitBitmaps reads a Binary column of serialized unit sets (a unit_set
// partial after FoldSketchesWith) back into bitmaps, one per row.
func UnitBitmaps(col arrow.Array) ([]*roaring64.Bitmap, error) {
	bin, ok := col.(*array.Binary)
	if !ok {
		return nil, fmt.Errorf("unit set column has type %s, want binary", col.DataType())
	}
	out := make([]*roaring64.Bitmap, bin.Len())
	for i := range out {
		bm := roaring64.New()
		if bin.IsValid(i) {
			if err := bm.UnmarshalBinary(bin.Value(i)); err != nil {
				return nil, fmt.Errorf("unit set row %d: %w", i, err)
			}
		}
		out[i] = bm
	}
	return out, nil
}
