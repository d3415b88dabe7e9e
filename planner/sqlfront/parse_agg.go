package sqlfront

import (
	"fmt"
	"strings"

	pg_query "github.com/pganalyze/pg_query_go/v6"

	"github.com/fedmesh/fedmesh/planner"
)

// aggregateQuery builds a KindAggregate plan: group keys and partial
// aggregates for the sites, merge aggregates and outputs for the coordinator.
func (p *parser) aggregateQuery(sel *pg_query.SelectStmt) error {
	q := p.q
	q.Kind = planner.KindAggregate
	targets, err := p.targets(sel.TargetList)
	if err != nil {
		return err
	}
	for _, rt := range targets {
		if isStar(rt) {
			return p.refuse(rt.Location, "*", "SELECT * cannot be combined with aggregates or GROUP BY", "list the group key columns and aggregates")
		}
	}
	if err := p.groupBy(sel.GroupClause, targets); err != nil {
		return err
	}
	// Every aggregate plan carries COUNT(*) so that a site can suppress small
	// groups whatever the analyst asked for; it is a0 so that an analyst's
	// own COUNT(*) reuses it.
	q.CountColumn = p.partial(planner.AggCountStar, nil)
	for _, rt := range targets {
		e, err := p.expr(rt.Val, p.mergeScope("SELECT", targets))
		if err != nil {
			return err
		}
		q.Merge.Outputs = append(q.Merge.Outputs, planner.Output{Name: outputName(rt), Expr: e})
	}
	if sel.HavingClause != nil {
		h, err := p.expr(sel.HavingClause, p.mergeScope("HAVING", targets))
		if err != nil {
			return err
		}
		q.Merge.Having = h
	}
	return p.orderBy(sel.SortClause, p.mergeScope("ORDER BY", targets))
}

// targets unwraps the select list, which must not be empty.
func (p *parser) targets(list []*pg_query.Node) ([]*pg_query.ResTarget, error) {
	if len(list) == 0 {
		return nil, p.refuse(p.tokenPos(pg_query.Token_SELECT), "select list", "the select list is empty", "name at least one column or aggregate")
	}
	out := make([]*pg_query.ResTarget, 0, len(list))
	for _, n := range list {
		rt := n.GetResTarget()
		if rt == nil || rt.Val == nil {
			return nil, p.refuse(nodeLoc(n), "select item", "this select item is not supported", "")
		}
		out = append(out, rt)
	}
	return out, nil
}

func isStar(rt *pg_query.ResTarget) bool {
	cr := rt.Val.GetColumnRef()
	return cr != nil && len(cr.Fields) > 0 && cr.Fields[len(cr.Fields)-1].GetAStar() != nil
}

// outputName is the column name PostgreSQL would give a select item.
func outputName(rt *pg_query.ResTarget) string {
	if rt.Name != "" {
		return rt.Name
	}
	switch x := rt.Val.Node.(type) {
	case *pg_query.Node_ColumnRef:
		if f := x.ColumnRef.Fields; len(f) > 0 && f[len(f)-1].GetString_() != nil {
			return f[len(f)-1].GetString_().Sval
		}
	case *pg_query.Node_FuncCall:
		if f := x.FuncCall.Funcname; len(f) > 0 {
			return f[len(f)-1].GetString_().GetSval()
		}
	}
	return "?column?"
}

// groupBy resolves GROUP BY items to expressions over table columns: an
// expression, a select-list position, or the alias of a select item.
// Without a catalog the planner cannot tell an alias from a table column of
// the same name; an alias is taken to mean its select item.
func (p *parser) groupBy(items []*pg_query.Node, targets []*pg_query.ResTarget) error {
	for _, item := range items {
		e, err := p.groupKey(item, targets)
		if err != nil {
			return err
		}
		key := planner.ExprKey(e)
		if keyIndex(p.keys, key) >= 0 {
			continue
		}
		name := fmt.Sprintf("g%d", len(p.keys))
		p.keys = append(p.keys, key)
		p.q.GroupBy = append(p.q.GroupBy, planner.OutputColumn{Name: name, Expr: e})
		p.q.Merge.Keys = append(p.q.Merge.Keys, name)
	}
	return nil
}

func (p *parser) groupKey(item *pg_query.Node, targets []*pg_query.ResTarget) (*planner.Expr, error) {
	loc := nodeLoc(item)
	if item.GetGroupingSet() != nil {
		return nil, p.refuse(loc, constructName(item), "ROLLUP, CUBE and GROUPING SETS are not supported", "group by column names")
	}
	target := item
	if c := item.GetAConst(); c != nil {
		v, err := p.constant(c)
		if err != nil {
			return nil, err
		}
		if v.Kind != planner.KindInt {
			return nil, p.refuse(loc, "GROUP BY constant", "non-integer constant in GROUP BY", "group by column names or select-list positions")
		}
		if v.Int < 1 || v.Int > int64(len(targets)) {
			return nil, p.refuse(loc, fmt.Sprintf("GROUP BY position %d", v.Int), fmt.Sprintf("GROUP BY position %d is not in select list", v.Int), fmt.Sprintf("use a position from 1 to %d", len(targets)))
		}
		target = targets[v.Int-1].Val
	} else if cr := item.GetColumnRef(); cr != nil && len(cr.Fields) == 1 && cr.Fields[0].GetString_() != nil {
		name := cr.Fields[0].GetString_().Sval
		for _, rt := range targets {
			if rt.Name == name {
				target = rt.Val
				break
			}
		}
	}
	if hasAggregate([]*pg_query.Node{target}) {
		return nil, p.refuse(loc, "aggregate in GROUP BY", "aggregate functions are not allowed in GROUP BY", "group by columns and aggregate in the select list")
	}
	e, err := p.expr(target, p.siteScope("GROUP BY"))
	if err != nil {
		return nil, err
	}
	if e.Op == planner.OpLiteral {
		return nil, p.refuse(loc, "GROUP BY constant", "grouping by a constant is not supported", "group by column names or expressions over them")
	}
	if len(e.Columns(nil)) == 0 {
		return nil, p.refuse(loc, "GROUP BY constant", "a group key must use at least one column", "group by column names or expressions over them")
	}
	return e, nil
}

// matchGroupKey resolves n to a group key when n, read as a site-side
// expression, equals one. Refusals are not reported here: an expression that
// is not a key is translated (and refused if need be) by the caller.
func (p *parser) matchGroupKey(n *pg_query.Node) (*planner.Expr, bool) {
	switch n.Node.(type) {
	case *pg_query.Node_AConst:
		return nil, false
	}
	if len(p.keys) == 0 || hasAggregate([]*pg_query.Node{n}) {
		return nil, false
	}
	e, err := p.expr(n, p.siteScope("GROUP BY"))
	if err != nil {
		return nil, false
	}
	if i := keyIndex(p.keys, planner.ExprKey(e)); i >= 0 {
		return planner.Col(p.q.GroupBy[i].Name), true
	}
	return nil, false
}

// mergeScope resolves names over the merged result: group key columns
// become g<i>, aggregates become merge aggregates m<i>.
func (p *parser) mergeScope(clause string, targets []*pg_query.ResTarget) *scope {
	return &scope{
		clause:     clause,
		arithmetic: true,
		groupKey:   p.matchGroupKey,
		column: func(name string, loc int32) (*planner.Expr, error) {
			if i := keyIndex(p.keys, planner.ExprKey(planner.Col(name))); i >= 0 {
				return planner.Col(p.q.GroupBy[i].Name), nil
			}
			hint := "add it to GROUP BY or wrap it in an aggregate"
			if clause == "HAVING" {
				for _, rt := range targets {
					if rt.Name == name {
						hint = "HAVING cannot refer to select-list aliases; repeat the expression"
					}
				}
			}
			return nil, p.refuse(loc, fmt.Sprintf("column %q", name),
				fmt.Sprintf("column %q must appear in the GROUP BY clause or be used in an aggregate function", name), hint)
		},
		aggregate: p.aggregate,
	}
}

// aggregate splits one aggregate call into partials and a merge aggregate,
// and returns a reference to the merge aggregate.
func (p *parser) aggregate(fc *pg_query.FuncCall, name string) (*planner.Expr, error) {
	upper := strings.ToUpper(name)
	if e, handled, err := p.sketchAggregate(fc, name); handled {
		return e, err
	}
	switch {
	case fc.AggFilter != nil:
		return nil, p.refuse(fc.Location, "FILTER clause", "aggregate FILTER is not supported", "move the condition to WHERE")
	case len(fc.AggOrder) > 0 || fc.AggWithinGroup:
		return nil, p.refuse(fc.Location, "ordered aggregate", "ORDER BY inside an aggregate is not supported", "remove it")
	case fc.FuncVariadic:
		return nil, p.refuse(fc.Location, "VARIADIC", "VARIADIC is not supported", "")
	case fc.AggStar && name != "count":
		return nil, p.refuse(fc.Location, upper+"(*)", "only COUNT accepts *", fmt.Sprintf("write %s(column)", upper))
	case fc.AggStar:
		return planner.Col(p.merge(planner.MergeCount, p.partial(planner.AggCountStar, nil))), nil
	case len(fc.Args) != 1:
		return nil, p.refuse(fc.Location, upper+"()", upper+" takes exactly one argument", fmt.Sprintf("write %s(column)", upper))
	}
	arg, err := p.expr(fc.Args[0], p.siteScope("an aggregate argument"))
	if err != nil {
		return nil, err
	}
	if name == "count" && arg.Op == planner.OpLiteral && arg.Value.Kind != planner.KindNull {
		// COUNT(1) counts rows, like COUNT(*).
		return planner.Col(p.merge(planner.MergeCount, p.partial(planner.AggCountStar, nil))), nil
	}
	if len(arg.Columns(nil)) == 0 {
		return nil, p.refuse(nodeLoc(fc.Args[0]), upper+" argument", "aggregate arguments must use a column", fmt.Sprintf("write %s(column) or %s(expression over columns)", upper, upper))
	}
	if mf, ok := varianceMerges[name]; ok {
		// Every site computes over doubles, so integer columns cannot
		// overflow a sum of squares and every engine's var_pop agrees.
		x := planner.Call(planner.OpCast, arg, planner.Lit(planner.Value{Kind: planner.KindString, Str: string(planner.CastDouble)}))
		n := p.partial(planner.AggCount, x)
		sum := p.partial(planner.AggSum, x.Clone())
		vp := p.partial(planner.AggVarPop, x.Clone())
		return planner.Col(p.merge(mf, n, sum, vp)), nil
	}
	switch name {
	case "count":
		return planner.Col(p.merge(planner.MergeCount, p.partial(planner.AggCount, arg))), nil
	case "sum":
		return planner.Col(p.merge(planner.MergeSum, p.partial(planner.AggSum, arg))), nil
	case "min":
		return planner.Col(p.merge(planner.MergeMin, p.partial(planner.AggMin, arg))), nil
	case "max":
		return planner.Col(p.merge(planner.MergeMax, p.partial(planner.AggMax, arg))), nil
	default: // avg: exact as ΣSUM / ΣCOUNT over all sites
		sum := p.partial(planner.AggSum, arg)
		count := p.partial(planner.AggCount, arg.Clone())
		return planner.Col(p.merge(planner.MergeAvg, sum, count)), nil
	}
}

// partial returns the name of the partial aggregate fn(arg), adding it once.
func (p *parser) partial(fn planner.AggFunc, arg *planner.Expr) string {
	key := string(fn) + "\x00" + planner.ExprKey(arg)
	if name, ok := p.partials[key]; ok {
		return name
	}
	name := fmt.Sprintf("a%d", len(p.q.Partials))
	p.partials[key] = name
	p.q.Partials = append(p.q.Partials, planner.OutputColumn{Name: name, Agg: &planner.PartialAgg{Func: fn, Arg: arg}})
	return name
}

// merge returns the name of the merge aggregate fn(inputs), adding it once.
func (p *parser) merge(fn planner.MergeFunc, inputs ...string) string {
	key := string(fn) + "\x00" + strings.Join(inputs, "\x00")
	if name, ok := p.merges[key]; ok {
		return name
	}
	name := fmt.Sprintf("m%d", len(p.q.Merge.Aggs))
	p.merges[key] = name
	p.q.Merge.Aggs = append(p.q.Merge.Aggs, planner.MergeAgg{Name: name, Func: fn, Inputs: inputs})
	return name
}

func keyIndex(list []string, s string) int {
	for i, x := range list {
		if x == s {
			return i
		}
	}
	return -1
}
