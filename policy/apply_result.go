package policy

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/RoaringBitmap/roaring/v2/roaring64"
	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/compute"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/fedmesh/fedmesh/planner"
	"github.com/fedmesh/fedmesh/planner/merge"
)

// Differ is the durable difference-check window (privacy/guard.Store). It
// returns nil only when the export may leave and is recorded.
type Differ interface {
	CheckAndRecord(ctx context.Context, analyst, scope string, groups []*roaring64.Bitmap, k int, now time.Time) error
}

// ResultEnv is what result obligations need beyond the plan and the batches.
type ResultEnv struct {
	Analyst string
	Now     time.Time
	// Differ keeps the analyst's difference-check window; a result that
	// needs a difference check and has no Differ is refused.
	Differ Differ
}

// Report says what ApplyToResult did.
type Report struct {
	// Applied lists the obligations applied, in order.
	Applied []Obligation
	// Suppressed is the exact number of groups dropped: for the site's own
	// audit record only.
	Suppressed int64
	// Reported is what may leave the site about Suppressed, and Mode how it
	// was coarsened (report_suppressed).
	Reported int64
	Mode     SuppressedReport
	// Rows is the number of rows (groups) kept.
	Rows int64
	// UnitCounted says the minimum group size counted distinct units.
	UnitCounted bool
}

// ApplyToResult applies the obligations that act on an exact aggregate
// result, after the engine ran and sketches were folded, and before it is
// exported:
//
//  1. min_group_size drops groups below it — counting distinct units when
//     the plan carries a unit set (difference_check), rows otherwise;
//  2. max_groups refuses a result with more groups than it allows;
//  3. difference_check refuses the export if a kept group's unit set differs
//     by 1..k-1 units from a sibling or an earlier one (env.Differ), and
//     records the sets otherwise; the unit set column is then stripped;
//  4. round_to rounds every aggregate output.
//
// Rows plans pass unchanged. It returns the schema and batches to export
// (the caller releases them, and the inputs) and a Report. A refusal is a
// *RefusedError; any error means nothing may be exported. DP results are not
// handled here (see ApplyDP).
func ApplyToResult(ctx context.Context, schema *arrow.Schema, batches []arrow.RecordBatch, sp *planner.SubPlan, o Obligations, env ResultEnv) (_ *arrow.Schema, out []arrow.RecordBatch, rep Report, err error) {
	rep.Mode = o.ReportSuppressed.Mode()
	if sp.Kind != planner.KindAggregate {
		for _, b := range batches {
			b.Retain()
			rep.Rows += b.NumRows()
		}
		return schema, batches, rep, nil
	}
	defer func() {
		if err != nil {
			releaseBatches(out)
			out = nil
		}
	}()
	unitCol := ""
	for _, a := range sp.Aggs {
		if a.Agg != nil && a.Agg.Func == planner.AggUnitSet {
			unitCol = a.Name
		}
	}
	var sets []*roaring64.Bitmap
	if unitCol == "" {
		out, rep.Suppressed, err = Enforce(ctx, batches, sp.CountColumn, Obligations{MinGroupSize: o.MinGroupSize})
		if err != nil {
			return nil, nil, rep, err
		}
	} else {
		rep.UnitCounted = true
		out, sets, rep.Suppressed, err = enforceUnits(ctx, batches, unitCol, o.MinGroupSize)
		if err != nil {
			return nil, nil, rep, err
		}
	}
	if o.MinGroupSize > 1 {
		rep.Applied = append(rep.Applied, OblMinGroupSize)
		var dropped int64
		var kept []arrow.RecordBatch
		schema, kept, dropped, err = enforceConditions(ctx, schema, out, o.MinGroupSize)
		releaseBatches(out)
		out = kept
		if err != nil {
			return nil, nil, rep, err
		}
		rep.Suppressed += dropped
	}
	for _, b := range out {
		rep.Rows += b.NumRows()
	}
	if o.MaxGroups > 0 {
		rep.Applied = append(rep.Applied, OblMaxGroups)
		if rep.Rows > o.MaxGroups {
			return nil, out, rep, &RefusedError{Obligation: OblMaxGroups, Err: ErrTooManyGroups, Reason: fmt.Sprintf(
				"%v: %d groups after suppression, at most %d allowed; narrow the grouping or filter", ErrTooManyGroups, rep.Rows, o.MaxGroups)}
		}
	}
	if unitCol != "" {
		if o.DifferenceCheck == nil {
			return nil, out, rep, errors.New("result carries a unit set but the decision has no difference_check")
		}
		if env.Differ == nil {
			return nil, out, rep, &RefusedError{Obligation: OblDifferenceCheck, Reason: "the policy requires a difference check and this site keeps no guard store; nothing is exported"}
		}
		if err := env.Differ.CheckAndRecord(ctx, env.Analyst, DifferenceScope(sp), sets, int(o.DifferenceK()), env.Now); err != nil {
			return nil, out, rep, &RefusedError{Obligation: OblDifferenceCheck, Reason: "fedmesh.difference_check: " + err.Error(), Err: err}
		}
		rep.Applied = append(rep.Applied, OblDifferenceCheck)
		var stripped []arrow.RecordBatch
		schema, stripped = dropColumn(schema, out, unitCol)
		releaseBatches(out)
		out = stripped
	}
	if o.RoundTo > 1 {
		cols := make([]string, 0, len(sp.Aggs))
		for _, a := range sp.Aggs {
			if a.Name != unitCol {
				cols = append(cols, a.Name)
			}
		}
		rounded, err := Round(ctx, out, cols, o.RoundTo)
		releaseBatches(out)
		out = nil
		if err != nil {
			return nil, nil, rep, err
		}
		out = rounded
		rep.Applied = append(rep.Applied, OblRoundTo)
	}
	rep.Reported = rep.Mode.Reported(rep.Suppressed)
	if o.ReportSuppressed != "" {
		rep.Applied = append(rep.Applied, OblReportSuppressed)
	}
	return schema, out, rep, nil
}

// enforceUnits keeps the groups with at least k distinct units and returns
// the kept groups' unit sets in row order. k <= 1 keeps every group.
func enforceUnits(ctx context.Context, batches []arrow.RecordBatch, unitCol string, k int64) (kept []arrow.RecordBatch, sets []*roaring64.Bitmap, suppressed int64, err error) {
	defer func() {
		if err != nil {
			releaseBatches(kept)
			kept = nil
		}
	}()
	for i, b := range batches {
		if err := ctx.Err(); err != nil {
			return kept, nil, 0, err
		}
		idx := b.Schema().FieldIndices(unitCol)
		if len(idx) != 1 {
			return kept, nil, 0, fmt.Errorf("enforce obligations: batch %d: unit set column %q not found once", i, unitCol)
		}
		bms, err := merge.UnitBitmaps(b.Column(idx[0]))
		if err != nil {
			return kept, nil, 0, fmt.Errorf("enforce obligations: batch %d: %w", i, err)
		}
		mb := array.NewBooleanBuilder(memory.DefaultAllocator)
		for _, bm := range bms {
			keep := k <= 1 || bm.GetCardinality() >= uint64(k)
			mb.Append(keep)
			if keep {
				sets = append(sets, bm)
			} else {
				suppressed++
			}
		}
		mask := mb.NewBooleanArray()
		mb.Release()
		nb, err := compute.FilterRecordBatch(ctx, b, mask, compute.DefaultFilterOptions())
		mask.Release()
		if err != nil {
			return kept, nil, 0, fmt.Errorf("enforce obligations: batch %d: filter groups: %w", i, err)
		}
		kept = append(kept, nb)
	}
	return kept, sets, suppressed, nil
}

// dropColumn returns the batches without column name (new batches; the
// inputs stay the caller's).
func dropColumn(schema *arrow.Schema, batches []arrow.RecordBatch, name string) (*arrow.Schema, []arrow.RecordBatch) {
	keep := make([]int, 0, schema.NumFields())
	fields := make([]arrow.Field, 0, schema.NumFields())
	for i, f := range schema.Fields() {
		if f.Name != name {
			keep = append(keep, i)
			fields = append(fields, f)
		}
	}
	md := schema.Metadata()
	out := arrow.NewSchema(fields, &md)
	res := make([]arrow.RecordBatch, len(batches))
	for i, b := range batches {
		cols := make([]arrow.Array, len(keep))
		for j, c := range keep {
			cols[j] = b.Column(c)
		}
		res[i] = array.NewRecordBatch(out, cols, b.NumRows())
	}
	return out, res
}

func releaseBatches(bs []arrow.RecordBatch) {
	for _, b := range bs {
		b.Release()
	}
}
