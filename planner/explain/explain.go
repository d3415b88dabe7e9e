package explain

import (
	"fmt"
	"strings"

	"github.com/fedmesh/fedmesh/planner"
	"github.com/fedmesh/fedmesh/planner/merge"
	"github.com/fedmesh/fedmesh/planner/render"
)

// Explanation is what EXPLAIN shows: the logical plan, each participating
// site's engine SQL (in its own dialect, with its bound arguments), the
// sites a filter on _site leaves out, and the coordinator's merge plan.
// Building it runs nothing.
type Explanation struct {
	Logical LogicalPlan   `json:"logical"`
	Sites   []SiteExplain `json:"sites"`
	// Skipped lists sites that are not contacted because a filter on
	// _site excludes them; Lacking those that do not hold the table.
	Skipped []string          `json:"skipped,omitempty"`
	Lacking []string          `json:"lacking,omitempty"`
	Merge   planner.MergePlan `json:"merge"`
	// MergeText is the merge plan in words, one step a line.
	MergeText []string `json:"merge_text"`
}

// LogicalPlan is the site-independent half of a query, with expressions
// written as readable SQL.
type LogicalPlan struct {
	Table    string           `json:"table"`
	Kind     planner.PlanKind `json:"kind"`
	Filter   string           `json:"filter,omitempty"`
	GroupBy  []string         `json:"group_by,omitempty"` // "g0 = region"
	Partials []string         `json:"partials,omitempty"` // "a1 = sum(amount)"
}

// SiteExplain is one site's rendered sub-plan.
type SiteExplain struct {
	Site    string `json:"site"`
	Dialect string `json:"dialect"`
	SQL     string `json:"sql,omitempty"`
	Args    []any  `json:"args,omitempty"`
	// Error says why the sub-plan cannot be rendered for this site's
	// engine (e.g. a cast its dialect lacks); the query would fail there.
	Error string `json:"error,omitempty"`
}

// SiteDialect names a site and its engine's SQL dialect.
type SiteDialect struct {
	Site    string
	Dialect string   // a DialectByName name; "" means duckdb
	Tables  []string // logical tables the site holds; nil means every table
}

// Explain plans q for sites without running anything.
func Explain(q *planner.Query, sites []SiteDialect, meta planner.SubPlanMeta) (*Explanation, error) {
	names := make([]string, 0, len(sites))
	dialectOf := map[string]string{}
	tablesOf := map[string][]string{}
	for _, s := range sites {
		names = append(names, s.Site)
		dialectOf[s.Site] = s.Dialect
		tablesOf[s.Site] = s.Tables
	}
	has := func(site, table string) bool {
		ts := tablesOf[site]
		if ts == nil {
			return true
		}
		for _, t := range ts {
			if t == table {
				return true
			}
		}
		return false
	}
	ex := &Explanation{Merge: q.Merge, Logical: LogicalPlan{Table: q.Table, Kind: q.Kind}}
	if q.Filter != nil {
		ex.Logical.Filter = render.Describe(q.Filter)
	}
	for _, g := range q.GroupBy {
		ex.Logical.GroupBy = append(ex.Logical.GroupBy, g.Name+" = "+render.Describe(g.Expr))
	}
	for _, p := range q.Partials {
		ex.Logical.Partials = append(ex.Logical.Partials, p.Name+" = "+render.DescribeOutput(p))
	}
	part, lacking := planner.ParticipantsByCatalog(q, names, has)
	ex.Lacking = lacking
	in := map[string]bool{}
	for _, s := range part {
		in[s] = true
	}
	for _, s := range lacking {
		in[s] = true
	}
	for _, s := range names {
		if !in[s] {
			ex.Skipped = append(ex.Skipped, s)
		}
	}
	for _, sp := range planner.Split(q, part, meta) {
		name := dialectOf[sp.Site]
		if name == "" {
			name = "duckdb"
		}
		se := SiteExplain{Site: sp.Site, Dialect: name}
		d, err := render.DialectByName(name)
		if err != nil {
			return nil, fmt.Errorf("explain: site %q: %w", sp.Site, err)
		}
		if se.SQL, se.Args, err = render.Render(sp, d); err != nil {
			se.Error = err.Error()
		}
		ex.Sites = append(ex.Sites, se)
	}
	ex.MergeText = describeMerge(q)
	return ex, nil
}

func describeMerge(q *planner.Query) []string {
	m := q.Merge
	var out []string
	if len(m.Keys) > 0 {
		out = append(out, "group the sites' partial rows by "+strings.Join(m.Keys, ", "))
	} else if q.Kind == planner.KindAggregate {
		out = append(out, "combine the sites' single partial rows")
	} else {
		out = append(out, "concatenate the sites' rows")
	}
	for _, a := range m.Aggs {
		switch a.Func {
		case planner.MergeApproxDistinct:
			out = append(out, fmt.Sprintf("%s = estimated distinct count of the merged HyperLogLog sketches %s (approximate, ±%.2f%%)", a.Name, strings.Join(a.Inputs, ", "), 200*merge.HLLStandardError))
		case planner.MergeApproxQuantile:
			out = append(out, fmt.Sprintf("%s = quantile %g of the merged DDSketches %s (approximate, ±%g%% of the value)", a.Name, a.Quantile, strings.Join(a.Inputs, ", "), 100*merge.QuantileAccuracy))
		default:
			out = append(out, fmt.Sprintf("%s = %s(%s)", a.Name, mergeWords[a.Func], strings.Join(a.Inputs, ", ")))
		}
	}
	if m.Having != nil {
		out = append(out, "HAVING "+render.Describe(m.Having))
	}
	var outs []string
	for _, o := range m.Outputs {
		outs = append(outs, render.Describe(o.Expr)+" AS "+render.DescribeIdent(o.Name))
	}
	out = append(out, "SELECT "+strings.Join(outs, ", "))
	if len(m.OrderBy) > 0 {
		var ob []string
		for _, o := range m.OrderBy {
			s := render.Describe(o.Expr)
			if o.Desc {
				s += " DESC"
			}
			if o.NullsFirst != nil {
				s += map[bool]string{true: " NULLS FIRST", false: " NULLS LAST"}[*o.NullsFirst]
			}
			ob = append(ob, s)
		}
		out = append(out, "ORDER BY "+strings.Join(ob, ", "))
	}
	if m.Offset > 0 {
		out = append(out, fmt.Sprintf("OFFSET %d", m.Offset))
	}
	if m.Limit != nil {
		out = append(out, fmt.Sprintf("LIMIT %d", *m.Limit))
	}
	return out
}

var mergeWords = map[planner.MergeFunc]string{
	planner.MergeSum: "sum of sums", planner.MergeCount: "sum of counts", planner.MergeMin: "min of mins", planner.MergeMax: "max of maxes",
	planner.MergeAvg: "sum / count", planner.MergeVarPop: "var_pop (Chan) of count, sum, var_pop", planner.MergeVarSamp: "var_samp (Chan) of count, sum, var_pop",
	planner.MergeStddevPop: "stddev_pop (Chan) of count, sum, var_pop", planner.MergeStddevSamp: "stddev_samp (Chan) of count, sum, var_pop",
}
