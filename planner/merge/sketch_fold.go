package merge

import (
	"context"
	"fmt"
	"math/big"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/decimal128"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/fedmesh/fedmesh/planner"
)

// Site-side build steps of the sketch aggregates: never sent on the wire,
// only used by FoldSketches.
const (
	mergeHLLBuild      planner.MergeFunc = "hll_build"      // Inputs: [value]
	mergeQuantileBuild planner.MergeFunc = "quantile_build" // Inputs: [value, subgroup row count]
	mergeUnitSetBuild  planner.MergeFunc = "unit_set_build" // Inputs: [unit id]
)

// foldAggs says how each of sp's partials is computed from the inner
// plan's subgroups: sums of sums and counts, min of mins, variances merged
// from (count, sum, var_pop), sketches built from the extra keys.
func foldAggs(sp *planner.SubPlan, keyOf map[string]string) ([]planner.MergeAgg, error) {
	out := make([]planner.MergeAgg, 0, len(sp.Aggs))
	find := func(fn planner.AggFunc, arg *planner.Expr) string {
		for _, o := range sp.Aggs {
			if o.Agg != nil && o.Agg.Func == fn && planner.ExprKey(o.Agg.Arg) == planner.ExprKey(arg) {
				return o.Name
			}
		}
		return ""
	}
	for _, a := range sp.Aggs {
		m := planner.MergeAgg{Name: a.Name, Inputs: []string{a.Name}}
		switch a.Agg.Func {
		case planner.AggCountStar, planner.AggCount:
			m.Func = planner.MergeCount
		case planner.AggSum:
			m.Func = planner.MergeSum
		case planner.AggMin:
			m.Func = planner.MergeMin
		case planner.AggMax:
			m.Func = planner.MergeMax
		case planner.AggVarPop:
			n, sum := find(planner.AggCount, a.Agg.Arg), find(planner.AggSum, a.Agg.Arg)
			if n == "" || sum == "" {
				return nil, fmt.Errorf("var_pop partial %q has no count and sum of the same argument to be folded with", a.Name)
			}
			m.Func, m.Inputs = planner.MergeVarPop, []string{n, sum, a.Name}
		case planner.AggHLL:
			m.Func, m.Inputs = mergeHLLBuild, []string{keyOf[a.Name]}
		case planner.AggQuantileSketch:
			m.Func, m.Inputs = mergeQuantileBuild, []string{keyOf[a.Name], sp.CountColumn}
		case planner.AggUnitSet:
			m.Func, m.Inputs = mergeUnitSetBuild, []string{keyOf[a.Name]}
		default:
			return nil, fmt.Errorf("partial %q: aggregate %q cannot be folded into a sketch plan", a.Name, a.Agg.Func)
		}
		out = append(out, m)
	}
	return out, nil
}

// FoldSketches turns the engine's result for a sub-plan with sketches (the
// rows of its inner plan, see render.Render) into the sub-plan's own result: one
// row per group, with each sketch serialized in a Binary column and every
// other partial, the COUNT(*) group size included, re-aggregated over the
// group's subgroups. The site's obligations (minimum group size, maximum
// groups, rounding) then apply to these rows as to any other result. The
// argument values themselves never leave FoldSketches.
//
// It returns the input unchanged (retained) when sp has no sketch. The
// caller releases both the input and the output batches. A unit_set partial
// needs FoldSketchesWith and a UnitID.
func FoldSketches(ctx context.Context, sp *planner.SubPlan, schema *arrow.Schema, batches []arrow.RecordBatch) (*arrow.Schema, []arrow.RecordBatch, error) {
	return FoldSketchesWith(ctx, sp, schema, batches, FoldOptions{})
}

// FoldOptions carries what site-only partials need.
type FoldOptions struct {
	// UnitID maps a unit id as the fold reads it (int64, string or []byte)
	// to the id put in a unit_set bitmap, e.g. guard.UnitHasher.UnitID. A
	// plan with a unit_set partial and no UnitID is refused.
	UnitID func(v any) (uint64, error)
}

// FoldSketchesWith is FoldSketches with options: each unit_set partial
// becomes a Binary column holding one serialized roaring64 bitmap of the
// group's unit ids (UnitBitmaps reads it back).
func FoldSketchesWith(ctx context.Context, sp *planner.SubPlan, schema *arrow.Schema, batches []arrow.RecordBatch, opts FoldOptions) (*arrow.Schema, []arrow.RecordBatch, error) {
	if !sp.HasSketches() {
		for _, b := range batches {
			b.Retain()
		}
		return schema, batches, nil
	}
	_, keyOf := planner.SketchInner(sp)
	aggs, err := foldAggs(sp, keyOf)
	if err != nil {
		return nil, nil, fmt.Errorf("fold sketches: %w", err)
	}
	parts := []Partial{{Site: sp.Site, Batches: batches}}
	// Types come from the engine's schema, so a result without rows still
	// has them.
	typeOf := func(name string) (ltype, error) {
		idx, err := columnIndex(sp.Site, schema, name)
		if err != nil {
			return ltype{}, err
		}
		t, ok := logicalOf(schema.Field(idx).Type)
		if !ok {
			return ltype{}, fmt.Errorf("column %q has type %s, which a sketch plan cannot fold", name, schema.Field(idx).Type)
		}
		return t, nil
	}
	keys := make([]string, len(sp.GroupBy))
	keyTypes := make([]ltype, len(keys))
	for i, g := range sp.GroupBy {
		keys[i] = g.Name
		if keyTypes[i], err = typeOf(g.Name); err != nil {
			return nil, nil, fmt.Errorf("fold sketches: %w", err)
		}
	}
	specs := make([]aggSpec, len(aggs))
	for i, a := range aggs {
		in := make([]ltype, len(a.Inputs))
		for j, name := range a.Inputs {
			if in[j], err = typeOf(name); err != nil {
				return nil, nil, fmt.Errorf("fold sketches: %w", err)
			}
		}
		if specs[i], err = planAgg(a, in); err != nil {
			return nil, nil, fmt.Errorf("fold sketches: %w", err)
		}
	}

	groups := newGroupTable(keyTypes, largestPartial(parts))
	keyReaders := newReaders(len(keys))
	accs := make([]accumulator, len(specs))
	inReaders := make([][]*colReader, len(specs))
	for i, s := range specs {
		if s.agg.Func == mergeUnitSetBuild {
			if opts.UnitID == nil {
				return nil, nil, fmt.Errorf("fold sketches: unit set %q needs a unit id function", s.agg.Name)
			}
			accs[i] = &unitSetBuild{id: opts.UnitID}
		} else {
			accs[i] = newAccumulator(s)
		}
		inReaders[i] = newReaders(len(s.read))
	}
	for _, rec := range batches {
		if err := ctx.Err(); err != nil {
			return nil, nil, err
		}
		n := int(rec.NumRows())
		if n == 0 {
			continue
		}
		load := func(r *colReader, name string, t ltype) error {
			idx, err := columnIndex(sp.Site, rec.Schema(), name)
			if err != nil {
				return err
			}
			if err := r.load(rec.Column(idx), t); err != nil {
				return fmt.Errorf("column %q: %w", name, err)
			}
			return nil
		}
		for k, name := range keys {
			if err := load(keyReaders[k], name, keyTypes[k]); err != nil {
				return nil, nil, fmt.Errorf("fold sketches: %w", err)
			}
		}
		gids := groups.assign(keyReaders, n)
		for i, s := range specs {
			for j, name := range s.agg.Inputs {
				if err := load(inReaders[i][j], name, s.read[j]); err != nil {
					return nil, nil, fmt.Errorf("fold sketches: %w", err)
				}
			}
			accs[i].grow(groups.n)
			accs[i].update(gids, inReaders[i])
			if se, ok := accs[i].(sketchErr); ok && se.err() != nil {
				return nil, nil, fmt.Errorf("fold sketches: partial %q: %w", s.agg.Name, se.err())
			}
		}
	}
	n := groups.n
	if len(keys) == 0 && n == 0 {
		n = 1 // a global aggregate has one row even over no rows
	}

	fields := make([]arrow.Field, 0, len(keys)+len(specs))
	cols := make([][]any, 0, cap(fields))
	for i, name := range keys {
		fields = append(fields, arrow.Field{Name: name, Type: arrowTypeOf(keyTypes[i]), Nullable: true})
		vals := make([]any, n)
		if i < len(groups.keyVals) {
			copy(vals, groups.keyVals[i])
		}
		cols = append(cols, vals)
	}
	for i, s := range specs {
		fields = append(fields, arrow.Field{Name: s.agg.Name, Type: arrowTypeOf(s.result), Nullable: true})
		accs[i].grow(n)
		cols = append(cols, accs[i].finish(n))
		if se, ok := accs[i].(sketchErr); ok && se.err() != nil {
			return nil, nil, fmt.Errorf("fold sketches: partial %q: %w", s.agg.Name, se.err())
		}
	}
	out := arrow.NewSchema(fields, nil)
	// A dense HyperLogLog sketch is 16 KiB: batches of foldBatchRows groups
	// stay well under the Flight message limit however many groups there are.
	var recs []arrow.RecordBatch
	for lo := 0; lo < n || (n == 0 && lo == 0); lo += foldBatchRows {
		hi := min(n, lo+foldBatchRows)
		part := make([][]any, len(cols))
		for j, c := range cols {
			part[j] = c[lo:hi]
		}
		rec, err := buildBatch(out, part, hi-lo)
		if err != nil {
			for _, r := range recs {
				r.Release()
			}
			return nil, nil, fmt.Errorf("fold sketches: %w", err)
		}
		recs = append(recs, rec)
		if n == 0 {
			break
		}
	}
	return out, recs, nil
}

// foldBatchRows is the most groups one folded batch holds.
const foldBatchRows = 1024

// arrowTypeOf is the Arrow type a folded column of logical type t is sent
// as; the coordinator's merge reads it back as t.
func arrowTypeOf(t ltype) arrow.DataType {
	switch t.kind {
	case tBool:
		return arrow.FixedWidthTypes.Boolean
	case tInt:
		return arrow.PrimitiveTypes.Int64
	case tHuge:
		return &arrow.Decimal128Type{Precision: 38, Scale: 0}
	case tFloat:
		return arrow.PrimitiveTypes.Float64
	case tDec:
		return &arrow.Decimal128Type{Precision: min(max(t.prec, 1), 38), Scale: t.scale}
	case tStr:
		return arrow.BinaryTypes.String
	case tDate:
		return arrow.FixedWidthTypes.Date32
	case tTS:
		return arrow.FixedWidthTypes.Timestamp_us
	case tBin:
		return arrow.BinaryTypes.Binary
	default:
		return arrow.Null
	}
}

// buildBatch builds one record batch from per-column Go values in the
// representation of Result.
func buildBatch(schema *arrow.Schema, cols [][]any, n int) (arrow.RecordBatch, error) {
	b := array.NewRecordBuilder(memory.DefaultAllocator, schema)
	defer b.Release()
	for j, col := range cols {
		fb := b.Field(j)
		for i := range n {
			if err := appendValue(fb, col[i]); err != nil {
				return nil, fmt.Errorf("column %q row %d: %w", schema.Field(j).Name, i, err)
			}
		}
	}
	return b.NewRecordBatch(), nil
}

func appendValue(fb array.Builder, v any) error {
	if v == nil {
		fb.AppendNull()
		return nil
	}
	switch bld := fb.(type) {
	case *array.BooleanBuilder:
		bld.Append(v.(bool))
	case *array.Int64Builder:
		bld.Append(v.(int64))
	case *array.Float64Builder:
		bld.Append(v.(float64))
	case *array.StringBuilder:
		bld.Append(v.(string))
	case *array.BinaryBuilder:
		bld.Append(v.([]byte))
	case *array.Date32Builder:
		bld.Append(arrow.Date32FromTime(v.(time.Time)))
	case *array.TimestampBuilder:
		ts, err := arrow.TimestampFromTime(v.(time.Time), arrow.Microsecond)
		if err != nil {
			return err
		}
		bld.Append(ts)
	case *array.Decimal128Builder:
		var u *big.Int
		switch x := v.(type) {
		case int64:
			u = big.NewInt(x)
		case *big.Int:
			u = x
		case Decimal:
			u = x.Unscaled
		default:
			return fmt.Errorf("value of type %T for a decimal column", v)
		}
		if u.BitLen() > 126 {
			return fmt.Errorf("value %s does not fit DECIMAL(38)", u)
		}
		bld.Append(decimal128.FromBigInt(u))
	default:
		return fmt.Errorf("no builder for %T", v)
	}
	return nil
}
