package policy

import (
	"context"
	"fmt"
	"strings"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/compute"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/fedmesh/fedmesh/planner"
)

// A condition inside an aggregate's argument — SUM(CASE WHEN p THEN amount
// ELSE 0 END), COUNT(CASE WHEN p THEN 1 END), amount * CAST(p AS integer) —
// splits its group in two: the rows where p holds and the rows where it
// does not. Either part can be one person in a group of thousands, and the
// aggregate then reveals that person's value: the minimum group size
// bounds the group, not the part. So in exact mode the minimum group size
// applies to every such part too: for each condition the site counts both
// parts (site-only partials, never exported) and drops a group in which a
// non-empty part has fewer rows than the minimum, as it drops a small group.

// condPrefix names the site-only condition counts.
const condPrefix = "__fedmesh_cond"

// MaxAggregateConditions bounds the conditions inside one plan's aggregate
// arguments that a site checks; a plan with more is refused.
const MaxAggregateConditions = 32

// predicateOps are the ops whose value is a truth value.
var predicateOps = map[planner.Op]bool{
	planner.OpEq: true, planner.OpNe: true, planner.OpLt: true, planner.OpLe: true, planner.OpGt: true, planner.OpGe: true,
	planner.OpIn: true, planner.OpNotIn: true, planner.OpBetween: true, planner.OpLike: true, planner.OpNotLike: true,
	planner.OpIsNull: true, planner.OpIsNotNull: true, planner.OpAnd: true, planner.OpOr: true, planner.OpNot: true,
}

// aggregateConditions returns the distinct maximal conditions (predicate
// subtrees) inside sp's aggregate arguments, in plan order.
func aggregateConditions(sp *planner.SubPlan) []*planner.Expr {
	var out []*planner.Expr
	seen := map[string]bool{}
	var walk func(e *planner.Expr)
	walk = func(e *planner.Expr) {
		if e == nil {
			return
		}
		if predicateOps[e.Op] {
			if k := planner.ExprKey(e); !seen[k] {
				seen[k] = true
				out = append(out, e)
			}
			return
		}
		for _, a := range e.Args {
			walk(a)
		}
	}
	for _, a := range sp.Aggs {
		if a.Agg != nil && !strings.HasPrefix(a.Name, "__fedmesh") {
			walk(a.Agg.Arg)
		}
	}
	return out
}

// addConditionCounts adds, for each condition inside sp's aggregates, the
// site-only partials counting the rows where it holds and where it does
// not. It refuses a plan with more than MaxAggregateConditions.
func addConditionCounts(sp *planner.SubPlan) error {
	conds := aggregateConditions(sp)
	if len(conds) > MaxAggregateConditions {
		return &RefusedError{Obligation: OblMinGroupSize, Reason: fmt.Sprintf(
			"fedmesh.min_group_size: the aggregates hold %d conditions; a site checks at most %d (MaxAggregateConditions)", len(conds), MaxAggregateConditions)}
	}
	one := planner.Lit(planner.Value{Kind: planner.KindInt, Int: 1})
	for i, p := range conds {
		for _, part := range []struct {
			suffix string
			when   *planner.Expr
		}{{"_in", p.Clone()}, {"_out", planner.Call(planner.OpNot, p.Clone())}} {
			name := fmt.Sprintf("%s%d%s", condPrefix, i, part.suffix)
			if taken(sp, name) {
				return fmt.Errorf("%w: output name %q is reserved for the site", ErrPlanInvalid, name)
			}
			sp.Aggs = append(sp.Aggs, planner.OutputColumn{Name: name, Agg: &planner.PartialAgg{
				Func: planner.AggCount, Arg: planner.Call(planner.OpCase, part.when, one)}})
		}
	}
	return nil
}

// enforceConditions drops the groups in which a condition's part (the rows
// where it holds, or where it does not) is non-empty but has fewer than k
// rows, and strips the condition counts. It returns the kept batches (the
// caller releases them and the inputs) and how many groups it dropped.
func enforceConditions(ctx context.Context, schema *arrow.Schema, batches []arrow.RecordBatch, k int64) (*arrow.Schema, []arrow.RecordBatch, int64, error) {
	var idx []int
	for i, f := range schema.Fields() {
		if strings.HasPrefix(f.Name, condPrefix) {
			idx = append(idx, i)
		}
	}
	var dropped int64
	kept := make([]arrow.RecordBatch, 0, len(batches))
	for bi, b := range batches {
		n := int(b.NumRows())
		keep := make([]bool, n)
		for r := range keep {
			keep[r] = true
		}
		for _, j := range idx {
			counts, err := compute.CastToType(ctx, b.Column(j), arrow.PrimitiveTypes.Int64)
			if err != nil {
				releaseBatches(kept)
				return nil, nil, 0, fmt.Errorf("condition count %q of batch %d: %w", schema.Field(j).Name, bi, err)
			}
			c := counts.(*array.Int64)
			for r := 0; r < n; r++ {
				if v := c.Value(r); !c.IsNull(r) && v > 0 && v < k {
					keep[r] = false
				}
			}
			counts.Release()
		}
		mb := array.NewBooleanBuilder(memory.DefaultAllocator)
		mb.AppendValues(keep, nil)
		mask := mb.NewArray()
		mb.Release()
		out, err := compute.FilterRecordBatch(ctx, b, mask, compute.DefaultFilterOptions())
		mask.Release()
		if err != nil {
			releaseBatches(kept)
			return nil, nil, 0, fmt.Errorf("drop groups with small condition parts: %w", err)
		}
		dropped += b.NumRows() - out.NumRows()
		kept = append(kept, out)
	}
	names := make([]string, len(idx))
	for i, j := range idx {
		names[i] = schema.Field(j).Name
	}
	for _, name := range names {
		var stripped []arrow.RecordBatch
		schema, stripped = dropColumn(schema, kept, name)
		releaseBatches(kept)
		kept = stripped
	}
	return schema, kept, dropped, nil
}
