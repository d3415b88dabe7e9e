package sqlfront

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/fedmesh/fedmesh/planner"
)

// describeQuery renders a Query compactly, one clause per line, so that table
// tests can state whole plans readably and cmp.Diff shows which part moved.
func describeQuery(q *planner.Query) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s %s", q.Kind, q.Table)
	if q.Star {
		b.WriteString(" *")
	}
	b.WriteString("\n")
	if q.Filter != nil {
		fmt.Fprintf(&b, "where %s\n", fmtExpr(q.Filter))
	}
	if len(q.GroupBy) > 0 {
		fmt.Fprintf(&b, "group %s\n", fmtOutputs(q.GroupBy))
	}
	if len(q.Partials) > 0 {
		fmt.Fprintf(&b, "partials %s\n", fmtOutputs(q.Partials))
	}
	if q.CountColumn != "" {
		fmt.Fprintf(&b, "count %s\n", q.CountColumn)
	}
	m := q.Merge
	if len(m.Keys) > 0 {
		fmt.Fprintf(&b, "keys %s\n", strings.Join(m.Keys, " "))
	}
	if len(m.Aggs) > 0 {
		var parts []string
		for _, a := range m.Aggs {
			parts = append(parts, fmt.Sprintf("%s=%s(%s)", a.Name, a.Func, strings.Join(a.Inputs, ",")))
		}
		fmt.Fprintf(&b, "merge %s\n", strings.Join(parts, " "))
	}
	if len(m.Outputs) > 0 {
		var parts []string
		for _, o := range m.Outputs {
			parts = append(parts, fmt.Sprintf("%s=%s", strconv.Quote(o.Name), fmtExpr(o.Expr)))
		}
		fmt.Fprintf(&b, "out %s\n", strings.Join(parts, " "))
	}
	if m.Having != nil {
		fmt.Fprintf(&b, "having %s\n", fmtExpr(m.Having))
	}
	for _, o := range m.OrderBy {
		fmt.Fprintf(&b, "order %s", fmtExpr(o.Expr))
		if o.Desc {
			b.WriteString(" desc")
		}
		if o.NullsFirst != nil {
			fmt.Fprintf(&b, " nulls_first=%t", *o.NullsFirst)
		}
		b.WriteString("\n")
	}
	if m.Limit != nil {
		fmt.Fprintf(&b, "limit %d\n", *m.Limit)
	}
	if m.Offset != 0 {
		fmt.Fprintf(&b, "offset %d\n", m.Offset)
	}
	return b.String()
}

func fmtOutputs(cols []planner.OutputColumn) string {
	var parts []string
	for _, c := range cols {
		switch {
		case c.Agg != nil && c.Agg.Arg == nil:
			parts = append(parts, fmt.Sprintf("%s=%s", c.Name, c.Agg.Func))
		case c.Agg != nil:
			parts = append(parts, fmt.Sprintf("%s=%s(%s)", c.Name, c.Agg.Func, fmtExpr(c.Agg.Arg)))
		default:
			parts = append(parts, fmt.Sprintf("%s=%s", c.Name, fmtExpr(c.Expr)))
		}
	}
	return strings.Join(parts, " ")
}

// fmtExpr writes columns bare, strings quoted, floats with a trailing "f" and
// every op as (op args...).
func fmtExpr(e *planner.Expr) string {
	if e == nil {
		return "<nil>"
	}
	switch e.Op {
	case planner.OpColumn:
		return e.Column
	case planner.OpLiteral:
		v := e.Value
		switch v.Kind {
		case planner.KindNull:
			return "NULL"
		case planner.KindString:
			return strconv.Quote(v.Str)
		case planner.KindFloat:
			return strconv.FormatFloat(v.Float, 'g', -1, 64) + "f"
		default:
			return fmt.Sprint(v.Any())
		}
	}
	parts := []string{string(e.Op)}
	for _, a := range e.Args {
		parts = append(parts, fmtExpr(a))
	}
	return "(" + strings.Join(parts, " ") + ")"
}
