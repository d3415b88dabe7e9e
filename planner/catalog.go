package planner

import (
	"fmt"
	"sort"
	"strings"
)

// TableMap is how one site stores a logical table: its physical table name
// and, for columns whose names differ, logical → physical column names.
// Columns not listed keep their logical name.
type TableMap struct {
	Physical string            `json:"physical" yaml:"physical"`
	Columns  map[string]string `json:"columns,omitempty" yaml:"columns,omitempty"`
}

// Catalog is a site's mapping of logical tables, by logical name.
type Catalog map[string]TableMap

// Tables lists the logical tables of c, sorted.
func (c Catalog) Tables() []string {
	out := make([]string, 0, len(c))
	for t := range c {
		out = append(out, t)
	}
	sort.Strings(out)
	return out
}

// ErrNoTable is wrapped when a sub-plan names a logical table the site's
// catalog lacks.
var ErrNoTable = fmt.Errorf("no such table at this site")

// ToPhysical returns a copy of sp whose table and column names are the
// site's physical ones, for rendering. Policy is evaluated on the logical
// sub-plan before this, so data officers write rules in the federation's
// names; only the engine sees the physical ones. Output names (g0, a1, ...)
// are unchanged, so the merge does not notice.
func (c Catalog) ToPhysical(sp *SubPlan) (*SubPlan, error) {
	tm, ok := c[sp.Table]
	if !ok {
		return nil, fmt.Errorf("table %q: %w (tables here: %s)", sp.Table, ErrNoTable, strings.Join(c.Tables(), ", "))
	}
	out := *sp
	out.Table = tm.Physical
	if out.Table == "" {
		out.Table = sp.Table
	}
	rename := func(e *Expr) *Expr { return renameColumns(e, tm.Columns) }
	out.Filter = rename(sp.Filter)
	out.GroupBy = make([]OutputColumn, len(sp.GroupBy))
	for i, g := range sp.GroupBy {
		out.GroupBy[i] = OutputColumn{Name: g.Name, Expr: rename(g.Expr)}
	}
	out.Aggs = make([]OutputColumn, len(sp.Aggs))
	for i, a := range sp.Aggs {
		out.Aggs[i] = OutputColumn{Name: a.Name, Expr: rename(a.Expr)}
		if a.Agg != nil {
			out.Aggs[i].Agg = &PartialAgg{Func: a.Agg.Func, Arg: rename(a.Agg.Arg)}
		}
	}
	if err := c.joinToPhysical(sp, &out); err != nil {
		return nil, err
	}
	if sp.Kind == KindRows && sp.Star && len(tm.Columns) > 0 {
		// SELECT * would show physical names; rows plans are refused by
		// default policy anyway, so refuse rather than leak the mapping.
		return nil, fmt.Errorf("table %q: SELECT * over a table with renamed columns is not supported", sp.Table)
	}
	return &out, nil
}

func renameColumns(e *Expr, cols map[string]string) *Expr {
	if e == nil {
		return nil
	}
	c := e.Clone()
	var walk func(*Expr)
	walk = func(x *Expr) {
		if x.Op == OpColumn {
			if p, ok := cols[x.Column]; ok && p != "" {
				x.Column = p
			}
		}
		for _, a := range x.Args {
			if a != nil {
				walk(a)
			}
		}
	}
	walk(c)
	return c
}

// ParticipantsByCatalog narrows sites to those whose catalog has q's table
// (has reports it), after the _site filter of Participants. It returns the
// participating sites and those left out for lacking the table.
func ParticipantsByCatalog(q *Query, sites []string, has func(site, table string) bool) (in, lacking []string) {
	for _, s := range Participants(q, sites) {
		if has == nil || (has(s, q.Table) && (q.Join == nil || has(s, q.Join.Table))) {
			in = append(in, s)
		} else {
			lacking = append(lacking, s)
		}
	}
	return in, lacking
}
