package planner

import (
	"fmt"
	"slices"
	"sort"
	"strings"
)

// TableSchema is one logical table as a site reports it to the
// coordinator: the federation's table and column names and the engine's
// column types. It never carries the site's physical names or file paths.
type TableSchema struct {
	Name    string         `json:"name"`
	Columns []ColumnSchema `json:"columns,omitempty"`
	// Error is set when the site holds the table but could not describe
	// it; its columns are then unknown and not checked.
	Error string `json:"error,omitempty"`
}

// ColumnSchema is one logical column and its type (an engine-neutral
// name such as BIGINT, DOUBLE, VARCHAR, DATE, TIMESTAMP).
type ColumnSchema struct {
	Name string `json:"name"`
	Type string `json:"type"`
}

// LogicalColumn maps a column of table's physical table, as the engine
// describes it, back to the federation's name under c. ok is false for a
// physical column shadowed by a renamed one (its name is the logical name
// of another physical column), which no logical name reaches. A table c
// does not rename keeps its names.
func (c Catalog) LogicalColumn(table, physical string) (name string, ok bool) {
	tm := c[table]
	for l, p := range tm.Columns {
		if p == physical {
			return l, true
		}
	}
	if _, shadowed := tm.Columns[physical]; shadowed {
		return "", false
	}
	return physical, true
}

// ColumnsByTable lists, per logical table, the columns q refers to (in its
// filter, group keys, outputs and join keys), in first-seen order. The
// virtual column _site belongs to no table and is left out, as is SELECT *
// (which names no column).
func ColumnsByTable(q *Query) map[string][]string {
	out := map[string][]string{}
	add := func(table, col string) {
		if col == "" || col == SiteColumn || slices.Contains(out[table], col) {
			return
		}
		out[table] = append(out[table], col)
	}
	addExpr := func(e *Expr) {
		for _, name := range e.Columns(nil) {
			if q.Join == nil {
				add(q.Table, name)
				continue
			}
			if t, c, ok := SplitQualified(name); ok {
				add(t, c)
			}
		}
	}
	addExpr(q.Filter)
	for _, g := range q.GroupBy {
		addExpr(g.Expr)
	}
	for _, p := range q.Partials {
		addExpr(p.Expr)
		if p.Agg != nil {
			addExpr(p.Agg.Arg)
		}
	}
	if q.Join != nil {
		for _, k := range q.Join.Keys {
			add(q.Table, k.Left)
			add(q.Join.Table, k.Right)
		}
	}
	return out
}

// SchemaLookup reports what is known of a site's table: its columns, and
// whether they are known at all (false when the site has not described
// the table, e.g. it could not be asked).
type SchemaLookup func(site, table string) (cols []ColumnSchema, known bool)

// CheckColumns refuses q when a participating site has described one of
// q's tables and lacks a column q uses there. The error names the column,
// its table, the sites that lack it and the columns the table has there, so
// a typo is found before any site runs anything. Sites whose tables are not
// described are left to refuse the column themselves. Names compare
// case-insensitively, as engines that fold case would.
func CheckColumns(q *Query, sites []string, lookup SchemaLookup) error {
	if lookup == nil {
		return nil
	}
	used := ColumnsByTable(q)
	tables := make([]string, 0, len(used))
	for t := range used {
		tables = append(tables, t)
	}
	sort.Strings(tables)
	for _, table := range tables {
		for _, col := range used[table] {
			var lacking, holding []string
			var known []string
			for _, s := range sites {
				cols, ok := lookup(s, table)
				if !ok {
					continue
				}
				holding = append(holding, s)
				if !hasColumn(cols, col) {
					lacking = append(lacking, s)
					if known == nil {
						for _, c := range cols {
							known = append(known, c.Name)
						}
					}
				}
			}
			if len(lacking) == 0 {
				continue
			}
			where := "at site " + lacking[0]
			if len(lacking) > 1 {
				where = "at sites " + strings.Join(lacking, ", ")
			}
			return &Error{
				Construct: fmt.Sprintf("column %q", col),
				Msg: fmt.Sprintf("table %s has no column %s %s (sites holding %s: %s)",
					table, col, where, table, strings.Join(holding, ", ")),
				Hint: fmt.Sprintf("columns of %s at site %s: %s", table, lacking[0], strings.Join(known, ", ")),
			}
		}
	}
	return nil
}

func hasColumn(cols []ColumnSchema, name string) bool {
	for _, c := range cols {
		if strings.EqualFold(c.Name, name) {
			return true
		}
	}
	return false
}
