package sqlfront

import (
	"fmt"

	pg_query "github.com/pganalyze/pg_query_go/v6"

	"github.com/fedmesh/fedmesh/planner"
)

// rowsQuery builds a KindRows plan: a projection of table rows. The planner
// accepts it so that each site's policy, which knows what may leave the
// site, is what refuses it.
func (p *parser) rowsQuery(sel *pg_query.SelectStmt) error {
	q := p.q
	q.Kind = planner.KindRows
	targets, err := p.targets(sel.TargetList)
	if err != nil {
		return err
	}
	for _, rt := range targets {
		if !isStar(rt) {
			continue
		}
		if len(targets) > 1 {
			return p.refuse(rt.Location, "*", "SELECT * cannot be combined with other select items", "write SELECT * alone or list the columns")
		}
		if p.join != nil {
			return p.refuse(rt.Location, "* over a join", "SELECT * over a join is not supported", "list the qualified columns")
		}
		if cr := rt.Val.GetColumnRef(); len(cr.Fields) == 2 && cr.Fields[0].GetString_().GetSval() != p.qualifier {
			return p.refuse(rt.Location, fmt.Sprintf("table %q", cr.Fields[0].GetString_().GetSval()), "missing FROM-clause entry for this table", fmt.Sprintf("write %s.* or *", p.qualifier))
		} else if len(cr.Fields) > 2 {
			return p.refuse(rt.Location, "qualified column name", "column names may have at most one qualifier", "write *")
		}
		if len(sel.SortClause) > 0 {
			return p.refuse(nodeLoc(sel.SortClause[0].GetSortBy().GetNode()), "ORDER BY with SELECT *", "ORDER BY needs named columns when selecting rows", "list the columns instead of *")
		}
		q.Star = true
		return nil
	}
	site := &scope{clause: "SELECT", column: func(name string, _ int32) (*planner.Expr, error) { return planner.Col(name), nil }}
	for _, rt := range targets {
		e, err := p.expr(rt.Val, site)
		if err != nil {
			return err
		}
		q.Merge.Outputs = append(q.Merge.Outputs, planner.Output{Name: outputName(rt), Expr: planner.Col(p.projection(e))})
	}
	return p.orderBy(sel.SortClause, &scope{clause: "ORDER BY", column: func(name string, loc int32) (*planner.Expr, error) {
		if proj, ok := p.projs[planner.ExprKey(planner.Col(name))]; ok {
			return planner.Col(proj), nil
		}
		return nil, p.refuse(loc, fmt.Sprintf("column %q", name),
			fmt.Sprintf("ORDER BY column %q must be in the select list of a row query", name), "add it to the select list")
	}})
}

// projection returns the name of the projected expression e, adding it once.
func (p *parser) projection(e *planner.Expr) string {
	key := planner.ExprKey(e)
	if name, ok := p.projs[key]; ok {
		return name
	}
	name := fmt.Sprintf("p%d", len(p.q.Partials))
	p.projs[key] = name
	p.q.Partials = append(p.q.Partials, planner.OutputColumn{Name: name, Expr: e})
	return name
}

// orderBy translates ORDER BY. A position or a bare name matching an output
// resolves to that output's expression, as in PostgreSQL; anything else is
// an expression in sc.
func (p *parser) orderBy(items []*pg_query.Node, sc *scope) error {
	outs := p.q.Merge.Outputs
	for _, item := range items {
		sb := item.GetSortBy()
		if sb == nil {
			return p.refuse(nodeLoc(item), "ORDER BY item", "this ORDER BY item is not supported", "")
		}
		loc := nodeLoc(sb.Node)
		if sb.SortbyDir == pg_query.SortByDir_SORTBY_USING {
			return p.refuse(loc, "ORDER BY USING", "ORDER BY ... USING is not supported", "use ASC or DESC")
		}
		e, err := p.orderExpr(sb.Node, loc, outs, sc)
		if err != nil {
			return err
		}
		o := planner.Order{Expr: e, Desc: sb.SortbyDir == pg_query.SortByDir_SORTBY_DESC}
		switch sb.SortbyNulls {
		case pg_query.SortByNulls_SORTBY_NULLS_FIRST:
			o.NullsFirst = nullsFirst(true)
		case pg_query.SortByNulls_SORTBY_NULLS_LAST:
			o.NullsFirst = nullsFirst(false)
		}
		p.q.Merge.OrderBy = append(p.q.Merge.OrderBy, o)
	}
	return nil
}

func (p *parser) orderExpr(n *pg_query.Node, loc int32, outs []planner.Output, sc *scope) (*planner.Expr, error) {
	if c := n.GetAConst(); c != nil {
		v, err := p.constant(c)
		if err != nil {
			return nil, err
		}
		if v.Kind != planner.KindInt {
			return nil, p.refuse(loc, "ORDER BY constant", "non-integer constant in ORDER BY", "order by an output name, position or expression")
		}
		if v.Int < 1 || v.Int > int64(len(outs)) {
			return nil, p.refuse(loc, fmt.Sprintf("ORDER BY position %d", v.Int), fmt.Sprintf("ORDER BY position %d is not in select list", v.Int), fmt.Sprintf("use a position from 1 to %d", len(outs)))
		}
		return outs[v.Int-1].Expr.Clone(), nil
	}
	if cr := n.GetColumnRef(); cr != nil && len(cr.Fields) == 1 && cr.Fields[0].GetString_() != nil {
		name := cr.Fields[0].GetString_().Sval
		var match *planner.Expr
		for _, o := range outs {
			if o.Name != name {
				continue
			}
			if match != nil && planner.ExprKey(match) != planner.ExprKey(o.Expr) {
				return nil, p.refuse(loc, fmt.Sprintf("ORDER BY %q", name), fmt.Sprintf("ORDER BY %q is ambiguous", name), "give the outputs distinct aliases")
			}
			match = o.Expr
		}
		if match != nil {
			return match.Clone(), nil
		}
	}
	return p.expr(n, sc)
}

func nullsFirst(b bool) *bool { return &b }
