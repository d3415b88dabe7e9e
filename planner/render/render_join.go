package render

import (
	"fmt"

	"github.com/fedmesh/fedmesh/planner"
)

// column writes a column reference: in a join plan "table.column" becomes
// "table"."column" (the tables are not aliased, so the physical table name
// qualifies), elsewhere the name is one identifier.
func (r *renderer) column(name string) error {
	if r.qualified {
		if t, c, ok := planner.SplitQualified(name); ok {
			if err := r.ident(t); err != nil {
				return err
			}
			r.b.WriteString(".")
			return r.ident(c)
		}
	}
	return r.ident(name)
}

var joinSQL = map[planner.JoinKind]string{planner.JoinInner: " JOIN ", planner.JoinLeft: " LEFT JOIN "}

// from writes the FROM clause's source: the table, or the two joined
// tables with their key equalities.
func (r *renderer) from(sp *planner.SubPlan) error {
	if err := r.ident(sp.Table); err != nil {
		return fmt.Errorf("table: %w", err)
	}
	j := sp.Join
	if j == nil {
		return nil
	}
	kw, ok := joinSQL[j.Kind]
	if !ok {
		return fmt.Errorf("unknown join kind %q", j.Kind)
	}
	r.b.WriteString(kw)
	if err := r.ident(j.Table); err != nil {
		return fmt.Errorf("join table: %w", err)
	}
	r.b.WriteString(" ON ")
	for i, k := range j.Keys {
		if i > 0 {
			r.b.WriteString(" AND ")
		}
		r.b.WriteString("(")
		if err := r.column(planner.QualifiedColumn(sp.Table, k.Left)); err != nil {
			return err
		}
		r.b.WriteString(" = ")
		if err := r.column(planner.QualifiedColumn(j.Table, k.Right)); err != nil {
			return err
		}
		r.b.WriteString(")")
	}
	return nil
}
