package render

import (
	"errors"
	"fmt"
	"math"
	"strconv"

	"github.com/fedmesh/fedmesh/planner"
)

// Names of the derived tables and columns a bounded query introduces. They
// live only inside the query; the base table's columns are read by their
// own names in the innermost level.
const (
	boundRows     = "fedmesh_rows"
	boundRanked   = "fedmesh_ranked"
	boundPerUnit  = "fedmesh_per_unit"
	boundUnits    = "fedmesh_units"
	boundUnit     = "fedmesh_unit"
	boundRowRank  = "fedmesh_rn"
	boundGroupNum = "fedmesh_gn"
)

// RenderBounded renders sp's aggregates with each privacy unit's
// contribution bounded as b says (see planner.Bound), for a differentially
// private answer. The engine picks, per unit, at most b.MaxRows random rows
// of each group and at most b.MaxGroups random groups, clamps every summed
// value into its bounds row by row, and returns per group the bounded
// statistics the site then adds noise to, under the sub-plan's output
// names:
//
//	SELECT g.., sum(c) AS a0, sum(n1) AS a1, sum(s2) AS a2, sum(q3) AS a3 FROM (
//	  SELECT *, row_number() OVER (PARTITION BY unit ORDER BY random()) AS gn FROM (
//	    SELECT g.., unit, count(*) AS c, count(x1) AS n1, sum(x2) AS s2, sum(x3*x3) AS q3 FROM (
//	      SELECT *, row_number() OVER (PARTITION BY unit, g.. ORDER BY random()) AS rn FROM (
//	        SELECT key AS g.., unit, arg AS x1, clamp(arg) AS x2, .. FROM t WHERE f AND unit IS NOT NULL
//	      ) WHERE ... ) WHERE rn <= M GROUP BY g.., unit) ) WHERE gn <= N GROUP BY g..
//
// Aggregates are count_star, count, sum and var_pop (which becomes the sum
// of squares); anything else is refused, as is a sum without clamp bounds.
// Rows whose unit is NULL belong to no one and are left out.
func RenderBounded(sp *planner.SubPlan, b planner.Bound, d Dialect) (sql string, args []any, err error) {
	if sp == nil || d == nil {
		return "", nil, errors.New("render bounded sub-plan: sub-plan and dialect must be set")
	}
	if err := sp.Validate(); err != nil {
		return "", nil, fmt.Errorf("render bounded sub-plan for site %q: %w", sp.Site, err)
	}
	rnd, err := randomFunc(d)
	if err != nil {
		return "", nil, fmt.Errorf("render bounded sub-plan for site %q: %w", sp.Site, err)
	}
	r := &renderer{d: d, qualified: sp.Join != nil}
	if err := r.bounded(sp, b, rnd, true); err != nil {
		return "", nil, fmt.Errorf("render bounded sub-plan for site %q (%s): %w", sp.Site, d.Name(), err)
	}
	return r.b.String(), r.args, nil
}

// RenderBoundedUnsampled is RenderBounded without the two random windows:
// every row of every (group, unit) is kept. It gives the same answer as
// RenderBounded exactly when no unit has more than b.MaxRows rows in a group
// or more than b.MaxGroups groups — which RenderBoundCheck tells — at the
// cost of two hash aggregations instead of two sorts by a random key.
func RenderBoundedUnsampled(sp *planner.SubPlan, b planner.Bound, d Dialect) (sql string, args []any, err error) {
	if sp == nil || d == nil {
		return "", nil, errors.New("render bounded sub-plan: sub-plan and dialect must be set")
	}
	if err := sp.Validate(); err != nil {
		return "", nil, fmt.Errorf("render bounded sub-plan for site %q: %w", sp.Site, err)
	}
	r := &renderer{d: d, qualified: sp.Join != nil}
	if err := r.bounded(sp, b, "", false); err != nil {
		return "", nil, fmt.Errorf("render bounded sub-plan for site %q (%s): %w", sp.Site, d.Name(), err)
	}
	return r.b.String(), r.args, nil
}

// RenderBoundCheck renders the query that tells whether sp's rows need
// sampling under b: one row, the most rows one unit has in one group
// ("max_rows") and the most groups one unit is in ("max_groups"), both NULL
// over no rows.
func RenderBoundCheck(sp *planner.SubPlan, b planner.Bound, d Dialect) (sql string, args []any, err error) {
	if sp == nil || d == nil {
		return "", nil, errors.New("render bound check: sub-plan and dialect must be set")
	}
	if err := sp.Validate(); err != nil {
		return "", nil, fmt.Errorf("render bound check for site %q: %w", sp.Site, err)
	}
	r := &renderer{d: d, qualified: sp.Join != nil}
	keys := make([]string, len(sp.GroupBy))
	for i, g := range sp.GroupBy {
		keys[i] = g.Name
	}
	r.b.WriteString("SELECT max(\"fedmesh_n\") AS \"max_rows\", max(\"fedmesh_g\") AS \"max_groups\" FROM (SELECT ")
	if err := r.ident(boundUnit); err != nil {
		return "", nil, err
	}
	r.b.WriteString(", count(*) AS \"fedmesh_g\", max(\"fedmesh_n\") AS \"fedmesh_n\" FROM (SELECT ")
	if err := r.identList(append(append([]string{}, keys...), boundUnit), ", "); err != nil {
		return "", nil, err
	}
	r.b.WriteString(", count(*) AS \"fedmesh_n\" FROM ")
	if err := r.rowsLevel(sp, b, nil); err != nil {
		return "", nil, fmt.Errorf("render bound check for site %q (%s): %w", sp.Site, d.Name(), err)
	}
	r.b.WriteString(" GROUP BY ")
	if err := r.identList(append(append([]string{}, keys...), boundUnit), ", "); err != nil {
		return "", nil, err
	}
	r.b.WriteString(") AS ")
	if err := r.ident(boundPerUnit); err != nil {
		return "", nil, err
	}
	r.b.WriteString(" GROUP BY ")
	if err := r.ident(boundUnit); err != nil {
		return "", nil, err
	}
	r.b.WriteString(") AS ")
	if err := r.ident(boundUnits); err != nil {
		return "", nil, err
	}
	return r.b.String(), r.args, nil
}

// randomFunc is each dialect's uniform random number in [0, 1).
func randomFunc(d Dialect) (string, error) {
	switch d.Name() {
	case "duckdb", "postgres":
		return "random()", nil
	case "mysql", "spark", "flink":
		return "rand()", nil
	}
	return "", fmt.Errorf("dialect %q has no known random function, so contributions cannot be sampled; differential privacy is not available on it", d.Name())
}

// boundedArg is one aggregate's column in the innermost level.
type boundedArg struct {
	out  planner.OutputColumn
	col  string        // the innermost level's column name
	expr *planner.Expr // its value per row (clamped for sums)
	// edges, for a histogram, are its bins' edges over the clamp bounds.
	edges []float64
}

// binCol is the per-(group, unit) column of bin i of a histogram argument.
func (a boundedArg) binCol(i int) string { return a.col + "_b" + strconv.Itoa(i) }

func (r *renderer) bounded(sp *planner.SubPlan, b planner.Bound, rnd string, sampled bool) error {
	if sp.Kind != planner.KindAggregate {
		return fmt.Errorf("a %s plan cannot be bounded", sp.Kind)
	}
	if b.Unit == "" || b.MaxGroups < 1 || b.MaxRows < 1 {
		return fmt.Errorf("contribution bound needs a unit column and limits >= 1 (got unit %q, %d groups, %d rows)", b.Unit, b.MaxGroups, b.MaxRows)
	}
	if err := checkOutputs(sp); err != nil {
		return err
	}
	args := make([]boundedArg, 0, len(sp.Aggs))
	for i, a := range sp.Aggs {
		ba := boundedArg{out: a, col: "fedmesh_x" + strconv.Itoa(i)}
		switch a.Agg.Func {
		case planner.AggCountStar:
		case planner.AggCount:
			ba.expr = a.Agg.Arg
		case planner.AggSum, planner.AggVarPop:
			bounds, ok := b.Clamp[a.Name]
			if !ok {
				return fmt.Errorf("%s output %q has no clamp bounds", a.Agg.Func, a.Name)
			}
			if err := checkClamp(a.Name, bounds); err != nil {
				return err
			}
			ba.expr = clampExpr(a.Agg.Arg, bounds)
			if c := b.Center[a.Name]; c != 0 {
				ba.expr = planner.Call(planner.OpSub, ba.expr, planner.Lit(planner.Value{Kind: planner.KindFloat, Float: c}))
			}
		case planner.AggQuantileSketch:
			bounds, ok := b.Clamp[a.Name]
			n := b.Histograms[a.Name]
			if !ok || n < 1 {
				return fmt.Errorf("quantile output %q needs clamp bounds and a number of histogram bins", a.Name)
			}
			ba.expr = clampExpr(a.Agg.Arg, bounds)
			ba.edges = planner.HistogramEdges(bounds[0], bounds[1], n)
		case planner.AggHLL:
			// COUNT(DISTINCT unit): one per (group, unit) pair kept.
			if a.Agg.Arg == nil || a.Agg.Arg.Op != planner.OpColumn || a.Agg.Arg.Column != b.Unit {
				return fmt.Errorf("a distinct count with bounded contributions counts only the privacy unit %q", b.Unit)
			}
		default:
			return fmt.Errorf("aggregate %s cannot be computed with bounded contributions", a.Agg.Func)
		}
		args = append(args, ba)
	}
	keys := make([]string, len(sp.GroupBy))
	for i, g := range sp.GroupBy {
		keys[i] = g.Name
	}

	// Level 4: the groups' bounded statistics.
	r.b.WriteString("SELECT ")
	if err := r.identList(keys, ", "); err != nil {
		return err
	}
	first := len(keys) == 0
	sumAs := func(col, name string) error {
		if !first {
			r.b.WriteString(", ")
		}
		first = false
		r.b.WriteString("sum(")
		if err := r.ident(col); err != nil {
			return err
		}
		r.b.WriteString(") AS ")
		return r.ident(name)
	}
	for _, a := range args {
		if a.edges == nil {
			if err := sumAs(a.col, a.out.Name); err != nil {
				return err
			}
			continue
		}
		for i := 0; i < len(a.edges)-1; i++ {
			if err := sumAs(a.binCol(i), planner.HistogramBin(a.out.Name, i)); err != nil {
				return err
			}
		}
	}
	// Level 3: number each unit's groups at random.
	if sampled {
		r.b.WriteString(" FROM (SELECT *, row_number() OVER (PARTITION BY ")
		if err := r.ident(boundUnit); err != nil {
			return err
		}
		r.b.WriteString(" ORDER BY " + rnd + ") AS ")
		if err := r.ident(boundGroupNum); err != nil {
			return err
		}
	}
	// Level 2: one row per (group, unit) with the unit's bounded statistics.
	r.b.WriteString(" FROM (SELECT ")
	if err := r.identList(append(append([]string{}, keys...), boundUnit), ", "); err != nil {
		return err
	}
	for _, a := range args {
		r.b.WriteString(", ")
		switch a.out.Agg.Func {
		case planner.AggCountStar:
			r.b.WriteString("count(*)")
		case planner.AggCount:
			r.b.WriteString("count(")
			if err := r.ident(a.col); err != nil {
				return err
			}
			r.b.WriteString(")")
		case planner.AggSum:
			r.b.WriteString("sum(")
			if err := r.ident(a.col); err != nil {
				return err
			}
			r.b.WriteString(")")
		case planner.AggVarPop:
			r.b.WriteString("sum(")
			if err := r.ident(a.col); err != nil {
				return err
			}
			r.b.WriteString(" * ")
			if err := r.ident(a.col); err != nil {
				return err
			}
			r.b.WriteString(")")
		case planner.AggHLL:
			r.b.WriteString("1") // one per (group, unit): their sum is the group's units
		case planner.AggQuantileSketch:
			// The unit's rows in each bin (the last bin includes its upper edge).
			for i := 0; i < len(a.edges)-1; i++ {
				if i > 0 {
					r.b.WriteString(", ")
				}
				upper := planner.OpLt
				if i == len(a.edges)-2 {
					upper = planner.OpLe
				}
				x := planner.Col(a.col)
				in := planner.Call(planner.OpAnd,
					planner.Call(planner.OpGe, x, planner.Lit(planner.Value{Kind: planner.KindFloat, Float: a.edges[i]})),
					planner.Call(upper, x, planner.Lit(planner.Value{Kind: planner.KindFloat, Float: a.edges[i+1]})))
				r.b.WriteString("count(")
				if err := r.expr(planner.Call(planner.OpCase, in, planner.Lit(planner.Value{Kind: planner.KindInt, Int: 1}))); err != nil {
					return err
				}
				r.b.WriteString(") AS ")
				if err := r.ident(a.binCol(i)); err != nil {
					return err
				}
			}
			continue
		}
		r.b.WriteString(" AS ")
		if err := r.ident(a.col); err != nil {
			return err
		}
	}
	// Level 1: number each unit's rows within a group at random.
	r.b.WriteString(" FROM ")
	if sampled {
		r.b.WriteString("(SELECT *, row_number() OVER (PARTITION BY ")
		if err := r.identList(append([]string{boundUnit}, keys...), ", "); err != nil {
			return err
		}
		r.b.WriteString(" ORDER BY " + rnd + ") AS ")
		if err := r.ident(boundRowRank); err != nil {
			return err
		}
		r.b.WriteString(" FROM ")
	}
	// Level 0: the rows, with group keys, unit and (clamped) arguments.
	if err := r.rowsLevel(sp, b, args); err != nil {
		return err
	}
	if sampled {
		r.b.WriteString(") AS ")
		if err := r.ident(boundRanked); err != nil {
			return err
		}
		r.b.WriteString(" WHERE ")
		if err := r.ident(boundRowRank); err != nil {
			return err
		}
		r.b.WriteString(" <= " + strconv.FormatInt(b.MaxRows, 10))
	}
	r.b.WriteString(" GROUP BY ")
	if err := r.identList(append(append([]string{}, keys...), boundUnit), ", "); err != nil {
		return err
	}
	r.b.WriteString(") AS ")
	if err := r.ident(boundPerUnit); err != nil {
		return err
	}
	if sampled {
		r.b.WriteString(") AS ")
		if err := r.ident(boundUnits); err != nil {
			return err
		}
		r.b.WriteString(" WHERE ")
		if err := r.ident(boundGroupNum); err != nil {
			return err
		}
		r.b.WriteString(" <= " + strconv.FormatInt(b.MaxGroups, 10))
	}
	if len(keys) > 0 {
		r.b.WriteString(" GROUP BY ")
		if err := r.identList(keys, ", "); err != nil {
			return err
		}
	}
	return nil
}

// identList writes quoted names separated by sep.
func (r *renderer) identList(names []string, sep string) error {
	for i, n := range names {
		if i > 0 {
			r.b.WriteString(sep)
		}
		if err := r.ident(n); err != nil {
			return err
		}
	}
	return nil
}

// checkClamp refuses bounds that would not bound anything: a NaN or
// infinite bound, or a lower bound above the upper one.
func checkClamp(name string, bounds [2]float64) error {
	lo, hi := bounds[0], bounds[1]
	if math.IsNaN(lo) || math.IsNaN(hi) || math.IsInf(lo, 0) || math.IsInf(hi, 0) || lo > hi {
		return fmt.Errorf("clamp bounds [%v, %v] of output %q must be finite with lower <= upper", lo, hi, name)
	}
	return nil
}

// clampExpr is arg clamped into [lo, hi] row by row, as a double:
// CASE WHEN arg < lo THEN lo WHEN arg > hi THEN hi ELSE arg END (NULL
// stays NULL and is not summed).
func clampExpr(arg *planner.Expr, bounds [2]float64) *planner.Expr {
	lo := planner.Lit(planner.Value{Kind: planner.KindFloat, Float: bounds[0]})
	hi := planner.Lit(planner.Value{Kind: planner.KindFloat, Float: bounds[1]})
	x := planner.Call(planner.OpCast, arg, planner.Lit(planner.Value{Kind: planner.KindString, Str: string(planner.CastDouble)}))
	return planner.Call(planner.OpCase,
		planner.Call(planner.OpLt, x, lo), lo,
		planner.Call(planner.OpGt, x, hi), hi,
		x)
}

// rowsLevel writes the innermost derived table: the rows that pass the
// filter and have a unit, with their group keys, unit and (clamped)
// aggregate arguments (none for args nil).
func (r *renderer) rowsLevel(sp *planner.SubPlan, b planner.Bound, args []boundedArg) error {
	r.b.WriteString("(SELECT ")
	for i, g := range sp.GroupBy {
		if i > 0 {
			r.b.WriteString(", ")
		}
		if err := r.expr(g.Expr); err != nil {
			return fmt.Errorf("group key %q: %w", g.Name, err)
		}
		r.b.WriteString(" AS ")
		if err := r.ident(g.Name); err != nil {
			return err
		}
	}
	if len(sp.GroupBy) > 0 {
		r.b.WriteString(", ")
	}
	if err := r.column(b.Unit); err != nil {
		return fmt.Errorf("unit: %w", err)
	}
	r.b.WriteString(" AS ")
	if err := r.ident(boundUnit); err != nil {
		return err
	}
	for _, a := range args {
		if a.expr == nil {
			continue
		}
		r.b.WriteString(", ")
		if err := r.expr(a.expr); err != nil {
			return fmt.Errorf("output %q: %w", a.out.Name, err)
		}
		r.b.WriteString(" AS ")
		if err := r.ident(a.col); err != nil {
			return err
		}
	}
	r.b.WriteString(" FROM ")
	if err := r.from(sp); err != nil {
		return err
	}
	r.b.WriteString(" WHERE ")
	where := planner.Call(planner.OpIsNotNull, planner.Col(b.Unit))
	if sp.Filter != nil {
		where = planner.Call(planner.OpAnd, sp.Filter, where)
	}
	if err := r.expr(where); err != nil {
		return fmt.Errorf("filter: %w", err)
	}
	r.b.WriteString(") AS ")
	return r.ident(boundRows)
}
