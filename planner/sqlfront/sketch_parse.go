package sqlfront

import (
	"fmt"
	"strings"

	pg_query "github.com/pganalyze/pg_query_go/v6"

	"github.com/fedmesh/fedmesh/planner"
)

// sketchAggregate translates the aggregates answered from sketches:
//
//	COUNT(DISTINCT x), APPROX_COUNT_DISTINCT(x)         → HyperLogLog of x
//	percentile_cont(q) WITHIN GROUP (ORDER BY x [DESC]) → DDSketch of x at q (1−q for DESC)
//	approx_quantile(x, q)                               → DDSketch of x at q
//
// It reports handled = false for every other call, which the caller
// translates (or refuses) as before.
func (p *parser) sketchAggregate(fc *pg_query.FuncCall, name string) (e *planner.Expr, handled bool, err error) {
	upper := strings.ToUpper(name)
	switch {
	case name == "count" && fc.AggDistinct, name == "approx_count_distinct":
	case name == "percentile_cont", name == "approx_quantile":
	case name == "percentile_disc":
		return nil, true, p.refuse(fc.Location, "PERCENTILE_DISC", "exact percentiles do not decompose across sites",
			"write percentile_cont(q) WITHIN GROUP (ORDER BY x) or approx_quantile(x, q) for an approximate answer")
	case fc.AggDistinct && (name == "min" || name == "max"):
		return nil, false, nil // MIN/MAX over distinct values are MIN/MAX
	case fc.AggDistinct:
		return nil, true, p.refuse(fc.Location, upper+"(DISTINCT …)", upper+"(DISTINCT …) does not decompose across sites",
			"COUNT(DISTINCT x) and APPROX_COUNT_DISTINCT(x) are supported (approximately); aggregate without DISTINCT")
	default:
		return nil, false, nil
	}
	switch {
	case fc.AggFilter != nil:
		return nil, true, p.refuse(fc.Location, "FILTER clause", "aggregate FILTER is not supported", "move the condition to WHERE")
	case fc.FuncVariadic:
		return nil, true, p.refuse(fc.Location, "VARIADIC", "VARIADIC is not supported", "")
	case fc.AggStar:
		return nil, true, p.refuse(fc.Location, upper+"(*)", "only COUNT accepts *", fmt.Sprintf("write %s(column)", upper))
	}
	var (
		argNode *pg_query.Node
		q       = -1.0
		desc    bool
	)
	switch name {
	case "percentile_cont":
		if !fc.AggWithinGroup || len(fc.AggOrder) != 1 || len(fc.Args) != 1 {
			return nil, true, p.refuse(fc.Location, "PERCENTILE_CONT", "percentile_cont takes one fraction and one ORDER BY column",
				"write percentile_cont(0.5) WITHIN GROUP (ORDER BY x)")
		}
		sb := fc.AggOrder[0].GetSortBy()
		if sb == nil || sb.SortbyDir == pg_query.SortByDir_SORTBY_USING {
			return nil, true, p.refuse(nodeLoc(fc.AggOrder[0]), "WITHIN GROUP", "this ordering is not supported", "order by a column, ASC or DESC")
		}
		argNode, desc = sb.Node, sb.SortbyDir == pg_query.SortByDir_SORTBY_DESC
		if q, err = p.fraction(fc.Args[0], upper); err != nil {
			return nil, true, err
		}
	case "approx_quantile":
		if len(fc.Args) != 2 || len(fc.AggOrder) > 0 || fc.AggWithinGroup || fc.AggDistinct {
			return nil, true, p.refuse(fc.Location, upper+"()", "approx_quantile takes a column and one fraction", "write approx_quantile(x, 0.5)")
		}
		argNode = fc.Args[0]
		if q, err = p.fraction(fc.Args[1], upper); err != nil {
			return nil, true, err
		}
	default: // distinct counts
		if len(fc.AggOrder) > 0 || fc.AggWithinGroup {
			return nil, true, p.refuse(fc.Location, "ordered aggregate", "ORDER BY inside an aggregate is not supported", "remove it")
		}
		if len(fc.Args) != 1 {
			return nil, true, p.refuse(fc.Location, upper+"()", upper+" takes exactly one argument", fmt.Sprintf("write %s(column)", upper))
		}
		argNode = fc.Args[0]
	}
	arg, err := p.expr(argNode, p.siteScope("an aggregate argument"))
	if err != nil {
		return nil, true, err
	}
	if len(arg.Columns(nil)) == 0 {
		return nil, true, p.refuse(nodeLoc(argNode), upper+" argument", "aggregate arguments must use a column", "aggregate a column or an expression over columns")
	}
	if q < 0 {
		return planner.Col(p.merge(planner.MergeApproxDistinct, p.partial(planner.AggHLL, arg))), true, nil
	}
	if desc {
		q = 1 - q
	}
	return planner.Col(p.mergeQuantile(p.partial(planner.AggQuantileSketch, arg), q)), true, nil
}

// fraction reads a quantile: a numeric constant from 0 to 1.
func (p *parser) fraction(n *pg_query.Node, fn string) (float64, error) {
	c := n.GetAConst()
	if c != nil {
		v, err := p.constant(c)
		if err != nil {
			return 0, err
		}
		f := -1.0
		switch v.Kind {
		case planner.KindInt:
			f = float64(v.Int)
		case planner.KindFloat:
			f = v.Float
		}
		if f >= 0 && f <= 1 {
			return f, nil
		}
	}
	return 0, p.refuse(nodeLoc(n), fn+" fraction", "the quantile must be a number from 0 to 1", "write e.g. 0.5 for the median")
}

// mergeQuantile returns the name of the quantile merge of sketch at q,
// adding it once.
func (p *parser) mergeQuantile(sketch string, q float64) string {
	key := fmt.Sprintf("%s\x00%s\x00%v", planner.MergeApproxQuantile, sketch, q)
	if name, ok := p.merges[key]; ok {
		return name
	}
	name := fmt.Sprintf("m%d", len(p.q.Merge.Aggs))
	p.merges[key] = name
	p.q.Merge.Aggs = append(p.q.Merge.Aggs, planner.MergeAgg{Name: name, Func: planner.MergeApproxQuantile, Inputs: []string{sketch}, Quantile: q})
	return name
}
