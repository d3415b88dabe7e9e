package planner

import (
	"fmt"
	"strings"
)

// JoinKind is how a sub-plan's two tables are joined.
type JoinKind string

// Join kinds.
const (
	JoinInner JoinKind = "inner"
	JoinLeft  JoinKind = "left"
)

// Join is an equi-join of a sub-plan's table (the left side) with a second
// table at the same site. Each site joins its own rows and only aggregates
// leave it; no row ever meets a row of another site. In a plan with a Join,
// every column reference except _site is qualified as "table.column" with
// the logical table name (see QualifiedColumn).
type Join struct {
	Table string    `json:"table"` // the right table's logical name
	Kind  JoinKind  `json:"kind"`
	Keys  []JoinKey `json:"keys"`
}

// JoinKey is one equality of the join condition: a column of the left
// table equals a column of the right one (unqualified names).
type JoinKey struct {
	Left  string `json:"left"`
	Right string `json:"right"`
}

// UseJoinKey is the column use of a join key. A site joining on an
// identifier inside itself reveals nothing by that alone, so a policy may
// allow it for columns it denies elsewhere.
const UseJoinKey = "join_key"

// QualifiedColumn names column of table in a join plan.
func QualifiedColumn(table, column string) string { return table + "." + column }

// SplitQualified splits a join plan's column reference into table and
// column; ok is false for an unqualified name (such as _site).
func SplitQualified(name string) (table, column string, ok bool) {
	i := strings.IndexByte(name, '.')
	if i <= 0 || i == len(name)-1 {
		return "", name, false
	}
	return name[:i], name[i+1:], true
}

// validateJoin checks a join plan: a second, different table, a known kind,
// at least one key, and every column qualified with one of the two tables.
func (s *SubPlan) validateJoin() error {
	j := s.Join
	if j.Table == "" || j.Table == s.Table {
		return fmt.Errorf("sub-plan: join needs a second table other than %q", s.Table)
	}
	if j.Kind != JoinInner && j.Kind != JoinLeft {
		return fmt.Errorf("sub-plan: unknown join kind %q", j.Kind)
	}
	if len(j.Keys) == 0 {
		return fmt.Errorf("sub-plan: join of %s and %s has no keys", s.Table, j.Table)
	}
	for _, k := range j.Keys {
		if k.Left == "" || k.Right == "" {
			return fmt.Errorf("sub-plan: join key has an empty column")
		}
	}
	if s.Kind == KindRows && s.Star {
		return fmt.Errorf("sub-plan: SELECT * over a join is not supported")
	}
	var cols []string
	cols = s.Filter.Columns(cols)
	for _, o := range s.Outputs() {
		cols = o.Expr.Columns(cols)
		if o.Agg != nil {
			cols = o.Agg.Arg.Columns(cols)
		}
	}
	for _, c := range cols {
		if c == SiteColumn {
			continue
		}
		t, _, ok := SplitQualified(c)
		if !ok || (t != s.Table && t != j.Table) {
			return fmt.Errorf("sub-plan: column %q of a join plan is not qualified with %s or %s", c, s.Table, j.Table)
		}
	}
	return nil
}

func (j *Join) clone() *Join {
	if j == nil {
		return nil
	}
	c := *j
	c.Keys = append([]JoinKey(nil), j.Keys...)
	return &c
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
