package planner

import "math"

// Split returns one SubPlan per site: the site-side half of q (table,
// filter, group keys, partial aggregates or projections, with the virtual
// _site column bound to the site's name) plus the request metadata. Each SubPlan is a deep copy, so a site may rewrite its own (for
// example to add a policy row filter) without touching the others or q.
//
// For a rows query without ORDER BY, a LIMIT is pushed to the sites as
// LIMIT+OFFSET: any LIMIT+OFFSET rows of the union contain an answer. With
// ORDER BY every site must send every row, so nothing is pushed.
func Split(q *Query, sites []string, meta SubPlanMeta) []*SubPlan {
	out := make([]*SubPlan, 0, len(sites))
	for _, site := range sites {
		sp := &SubPlan{
			Version:  PlanVersion,
			QueryID:  meta.QueryID,
			Analyst:  meta.Analyst,
			Roles:    append([]string(nil), meta.Roles...),
			Purpose:  meta.Purpose,
			Deadline: meta.Deadline,
			Site:     site,

			Kind:        q.Kind,
			Table:       q.Table,
			Join:        q.Join.clone(),
			Star:        q.Star,
			Filter:      bindSite(q.Filter, site),
			Limit:       siteLimit(q),
			GroupBy:     copyOutputs(q.GroupBy, site),
			Aggs:        copyOutputs(q.Partials, site),
			CountColumn: q.CountColumn,
		}
		if len(meta.Roles) == 0 {
			sp.Roles = nil
		}
		out = append(out, sp)
	}
	return out
}

// siteLimit is the row limit a site may apply to a rows query, or nil.
func siteLimit(q *Query) *int64 {
	m := q.Merge
	if q.Kind != KindRows || m.Limit == nil || len(m.OrderBy) > 0 {
		return nil
	}
	n := *m.Limit
	if m.Offset > math.MaxInt64-n {
		return nil // too large to matter: let the site send everything
	}
	n += m.Offset
	return &n
}

// Clone returns a deep copy of e (nil for nil), so a site can rewrite its
// sub-plan without touching another site's or the query's.
func (e *Expr) Clone() *Expr {
	if e == nil {
		return nil
	}
	c := &Expr{Op: e.Op, Column: e.Column}
	if e.Value != nil {
		v := *e.Value
		c.Value = &v
	}
	if e.Args != nil {
		c.Args = make([]*Expr, len(e.Args))
		for i, a := range e.Args {
			c.Args[i] = a.Clone()
		}
	}
	return c
}

// copyOutputs deep-copies cols, binding the virtual _site column to site.
func copyOutputs(cols []OutputColumn, site string) []OutputColumn {
	if cols == nil {
		return nil
	}
	out := make([]OutputColumn, len(cols))
	for i, c := range cols {
		out[i] = OutputColumn{Name: c.Name, Expr: bindSite(c.Expr, site)}
		if c.Agg != nil {
			out[i].Agg = &PartialAgg{Func: c.Agg.Func, Arg: bindSite(c.Agg.Arg, site)}
		}
	}
	return out
}
