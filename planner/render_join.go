package planner

import "fmt"

// column writes a column reference: in a join plan "table.column" becomes
// "table"."column" (the tables are not aliased, so the physical table name
// qualifies), elsewhere the name is one identifier.
func (r *renderer) column(name string) error {
	if r.qualified {
		if t, c, ok := SplitQualified(name); ok {
			if err := r.ident(t); err != nil {
				return err
			}
			r.b.WriteString(".")
			return r.ident(c)
		}
	}
	return r.ident(name)
}

var joinSQL = map[JoinKind]string{JoinInner: " JOIN ", JoinLeft: " LEFT JOIN "}

// from writes the FROM clause's source: the table, or the two joined
// tables with their key equalities.
func (r *renderer) from(sp *SubPlan) error {
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
		if err := r.column(QualifiedColumn(sp.Table, k.Left)); err != nil {
			return err
		}
		r.b.WriteString(" = ")
		if err := r.column(QualifiedColumn(j.Table, k.Right)); err != nil {
			return err
		}
		r.b.WriteString(")")
	}
	return nil
}

// joinToPhysical maps a join plan's second table, keys and qualified
// column names to the site's physical names.
func (c Catalog) joinToPhysical(sp, out *SubPlan) error {
	if sp.Join == nil {
		return nil
	}
	right, ok := c[sp.Join.Table]
	if !ok {
		return fmt.Errorf("table %q: %w (tables here: %v)", sp.Join.Table, ErrNoTable, c.Tables())
	}
	left := c[sp.Table]
	phys := func(tm TableMap, logical string) string {
		if tm.Physical != "" {
			return tm.Physical
		}
		return logical
	}
	col := func(tm TableMap, name string) string {
		if p := tm.Columns[name]; p != "" {
			return p
		}
		return name
	}
	j := &Join{Table: phys(right, sp.Join.Table), Kind: sp.Join.Kind}
	for _, k := range sp.Join.Keys {
		j.Keys = append(j.Keys, JoinKey{Left: col(left, k.Left), Right: col(right, k.Right)})
	}
	out.Join = j
	// Qualified references: logical table.column → physical.
	rename := func(e *Expr) *Expr {
		if e == nil {
			return nil
		}
		x := e.Clone()
		var walk func(*Expr)
		walk = func(x *Expr) {
			if x.Op == OpColumn {
				if t, cn, ok := SplitQualified(x.Column); ok {
					if t == sp.Table {
						x.Column = QualifiedColumn(phys(left, t), col(left, cn))
					} else if t == sp.Join.Table {
						x.Column = QualifiedColumn(phys(right, t), col(right, cn))
					}
				}
			}
			for _, a := range x.Args {
				if a != nil {
					walk(a)
				}
			}
		}
		walk(x)
		return x
	}
	out.Filter = rename(sp.Filter)
	for i, g := range sp.GroupBy {
		out.GroupBy[i] = OutputColumn{Name: g.Name, Expr: rename(g.Expr)}
	}
	for i, a := range sp.Aggs {
		out.Aggs[i] = OutputColumn{Name: a.Name, Expr: rename(a.Expr)}
		if a.Agg != nil {
			out.Aggs[i].Agg = &PartialAgg{Func: a.Agg.Func, Arg: rename(a.Agg.Arg)}
		}
	}
	return nil
}
