package render

import (
	"fmt"
	"slices"

	"github.com/fedmesh/fedmesh/planner"
)

// derivedSource is the alias of the derived table derivedGroups renders.
const derivedSource = "fedmesh_src"

func groupKeysHaveLiterals(sp *planner.SubPlan) bool {
	for _, g := range sp.GroupBy {
		if len(exprLiterals(g.Expr, nil)) > 0 {
			return true
		}
	}
	return false
}

// derivedGroups renders an aggregate sub-plan whose group keys hold
// literals (CASE buckets, COALESCE defaults). Repeating such a key in GROUP
// BY would bind its parameters twice, and no engine can tell that $1 and $4
// are the same key; so the keys are computed once, in a derived table, and
// grouped by name:
//
//	SELECT "g0", agg... FROM (SELECT key AS "g0", col... FROM t WHERE f) AS "fedmesh_src" GROUP BY "g0"
func (r *renderer) derivedGroups(sp *planner.SubPlan) error {
	keyNames := map[string]bool{}
	for _, g := range sp.GroupBy {
		keyNames[g.Name] = true
	}
	var cols []string
	for _, a := range sp.Aggs {
		if a.Agg == nil {
			return fmt.Errorf("aggregate output %q has no aggregate", a.Name)
		}
		for _, c := range a.Agg.Arg.Columns(nil) {
			if keyNames[c] {
				return fmt.Errorf("column %q has the name of a group key output", c)
			}
			if slices.Index(cols, c) < 0 {
				cols = append(cols, c)
			}
		}
	}
	r.b.WriteString("SELECT ")
	for i, o := range sp.Outputs() {
		if i > 0 {
			r.b.WriteString(", ")
		}
		if o.Agg == nil {
			if err := r.ident(o.Name); err != nil {
				return err
			}
			continue
		}
		// The derived table's columns carry whole names, qualified or not.
		q := r.qualified
		r.qualified = false
		err := r.agg(o.Agg)
		r.qualified = q
		if err != nil {
			return fmt.Errorf("output %q: %w", o.Name, err)
		}
		r.b.WriteString(" AS ")
		if err := r.ident(o.Name); err != nil {
			return err
		}
	}
	r.b.WriteString(" FROM (SELECT ")
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
	for _, c := range cols {
		r.b.WriteString(", ")
		if err := r.column(c); err != nil {
			return err
		}
		if r.qualified {
			// The outer query refers to it by its whole name.
			r.b.WriteString(" AS ")
			if err := r.ident(c); err != nil {
				return err
			}
		}
	}
	r.b.WriteString(" FROM ")
	if err := r.from(sp); err != nil {
		return err
	}
	if sp.Filter != nil {
		r.b.WriteString(" WHERE ")
		if err := r.expr(sp.Filter); err != nil {
			return fmt.Errorf("filter: %w", err)
		}
	}
	r.b.WriteString(") AS ")
	if err := r.ident(derivedSource); err != nil {
		return err
	}
	r.b.WriteString(" GROUP BY ")
	for i, g := range sp.GroupBy {
		if i > 0 {
			r.b.WriteString(", ")
		}
		if err := r.ident(g.Name); err != nil {
			return err
		}
	}
	return nil
}
