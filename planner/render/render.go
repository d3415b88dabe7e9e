package render

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/fedmesh/fedmesh/planner"
)

// Render turns a sub-plan into engine SQL for dialect d, with every literal
// as a bound parameter (args are int64, float64, string or bool, in
// placeholder order) and every identifier quoted. It works from the
// sub-plan's structure alone, so analyst SQL text cannot reach an engine.
// Render refuses a sub-plan that fails Validate or holds an op, aggregate or
// literal kind it does not know.
func Render(sp *planner.SubPlan, d Dialect) (sql string, args []any, err error) {
	if sp == nil || d == nil {
		return "", nil, errors.New("render sub-plan: sub-plan and dialect must be set")
	}
	if err := sp.Validate(); err != nil {
		return "", nil, fmt.Errorf("render sub-plan for site %q: %w", sp.Site, err)
	}
	if sp.HasSketches() {
		// No engine builds the sketches: it groups by their arguments too,
		// and the site folds the subgroups into sketches (merge.FoldSketches).
		sp, _ = planner.SketchInner(sp)
	}
	r := &renderer{d: d, qualified: sp.Join != nil}
	if err := r.subPlan(sp); err != nil {
		return "", nil, fmt.Errorf("render sub-plan for site %q (%s): %w", sp.Site, d.Name(), err)
	}
	return r.b.String(), r.args, nil
}

type renderer struct {
	d Dialect
	// qualified renders "table.column" references of a join plan as
	// "table"."column".
	qualified bool
	b         strings.Builder
	args      []any
}

func (r *renderer) subPlan(sp *planner.SubPlan) error {
	if err := checkOutputs(sp); err != nil {
		return err
	}
	if sp.Kind == planner.KindAggregate && groupKeysHaveLiterals(sp) {
		return r.derivedGroups(sp)
	}
	r.b.WriteString("SELECT ")
	if sp.Kind == planner.KindRows && sp.Star {
		r.b.WriteString("*")
	} else if err := r.selectList(sp); err != nil {
		return err
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
	if sp.Kind == planner.KindAggregate && len(sp.GroupBy) > 0 {
		r.b.WriteString(" GROUP BY ")
		for i, g := range sp.GroupBy {
			if i > 0 {
				r.b.WriteString(", ")
			}
			if err := r.expr(g.Expr); err != nil {
				return fmt.Errorf("group key %q: %w", g.Name, err)
			}
		}
	}
	if sp.Kind == planner.KindRows && sp.Limit != nil {
		if *sp.Limit < 0 {
			return fmt.Errorf("limit %d is negative", *sp.Limit)
		}
		r.b.WriteString(" LIMIT ")
		if _, inline := r.d.(LiteralInliner); inline {
			// Spark wants an INT and Flink a bare numeric literal here.
			r.b.WriteString(strconv.FormatInt(*sp.Limit, 10))
		} else if err := r.param(*sp.Limit); err != nil {
			return fmt.Errorf("limit: %w", err)
		}
	}
	return nil
}

// checkOutputs enforces what Validate leaves open: each output is either
// an expression (group key, projection) or an aggregate, never both, and a
// star rows plan lists no projections.
func checkOutputs(sp *planner.SubPlan) error {
	for _, g := range sp.GroupBy {
		if g.Agg != nil {
			return fmt.Errorf("group key %q carries an aggregate", g.Name)
		}
	}
	for _, a := range sp.Aggs {
		if sp.Kind == planner.KindRows && (a.Agg != nil || a.Expr == nil) {
			return fmt.Errorf("rows plan output %q must be an expression", a.Name)
		}
		if a.Agg != nil && a.Expr != nil {
			return fmt.Errorf("output %q has both an expression and an aggregate", a.Name)
		}
	}
	if sp.Kind == planner.KindRows && sp.Star && len(sp.Aggs) > 0 {
		return errors.New("rows plan has both * and projections")
	}
	return nil
}

func (r *renderer) selectList(sp *planner.SubPlan) error {
	for i, o := range sp.Outputs() {
		if i > 0 {
			r.b.WriteString(", ")
		}
		var err error
		switch {
		case o.Agg != nil:
			err = r.agg(o.Agg)
		case o.Expr != nil:
			err = r.expr(o.Expr)
		default:
			err = errors.New("neither expression nor aggregate is set")
		}
		if err != nil {
			return fmt.Errorf("output %q: %w", o.Name, err)
		}
		r.b.WriteString(" AS ")
		if err := r.ident(o.Name); err != nil {
			return fmt.Errorf("output %q: %w", o.Name, err)
		}
	}
	return nil
}

var aggSQL = map[planner.AggFunc]string{planner.AggCount: "count", planner.AggSum: "sum", planner.AggMin: "min", planner.AggMax: "max", planner.AggVarPop: "var_pop"}

func (r *renderer) agg(a *planner.PartialAgg) error {
	if a.Func == planner.AggCountStar {
		if a.Arg != nil {
			return errors.New("count_star takes no argument")
		}
		r.b.WriteString("count(*)")
		return nil
	}
	fn, ok := aggSQL[a.Func]
	if !ok {
		return fmt.Errorf("unknown aggregate %q", a.Func)
	}
	if a.Arg == nil {
		return fmt.Errorf("aggregate %q has no argument", a.Func)
	}
	r.b.WriteString(fn + "(")
	if err := r.expr(a.Arg); err != nil {
		return err
	}
	r.b.WriteString(")")
	return nil
}

// ident writes a quoted identifier. Names that no engine can hold safely
// are refused rather than quoted.
func (r *renderer) ident(name string) error {
	if name == "" || !utf8.ValidString(name) || strings.ContainsRune(name, 0) {
		return fmt.Errorf("identifier %q is empty, not UTF-8 or contains NUL", name)
	}
	r.b.WriteString(r.d.QuoteIdent(name))
	return nil
}

// param writes v as a bound parameter, or inline for a dialect whose
// engine cannot bind parameters.
func (r *renderer) param(v any) error {
	if in, ok := r.d.(LiteralInliner); ok {
		s, err := in.InlineLiteral(v)
		if err != nil {
			return err
		}
		r.b.WriteString(s)
		return nil
	}
	r.args = append(r.args, v)
	r.b.WriteString(r.d.Placeholder(len(r.args)))
	return nil
}

var infixSQL = map[planner.Op]string{
	planner.OpAnd: " AND ", planner.OpOr: " OR ",
	planner.OpEq: " = ", planner.OpNe: " <> ", planner.OpLt: " < ", planner.OpLe: " <= ", planner.OpGt: " > ", planner.OpGe: " >= ",
	planner.OpAdd: " + ", planner.OpSub: " - ", planner.OpMul: " * ", planner.OpDiv: " / ",
}

// expr writes e fully parenthesised, so no precedence rule of any engine
// can regroup it.
func (r *renderer) expr(e *planner.Expr) error {
	if e == nil {
		return errors.New("missing expression")
	}
	switch e.Op {
	case planner.OpColumn:
		return r.column(e.Column)
	case planner.OpLiteral:
		return r.literal(e.Value)
	case planner.OpAnd, planner.OpOr:
		return r.infix(e, 2, -1)
	case planner.OpDiv:
		return r.division(e)
	case planner.OpEq, planner.OpNe, planner.OpLt, planner.OpLe, planner.OpGt, planner.OpGe, planner.OpAdd, planner.OpSub, planner.OpMul:
		return r.infix(e, 2, 2)
	case planner.OpNot, planner.OpNeg:
		if err := checkOperands(e, 1, 1); err != nil {
			return err
		}
		r.b.WriteString(map[planner.Op]string{planner.OpNot: "(NOT ", planner.OpNeg: "(- "}[e.Op])
		return r.close(r.expr(e.Args[0]))
	case planner.OpIsNull, planner.OpIsNotNull:
		if err := checkOperands(e, 1, 1); err != nil {
			return err
		}
		r.b.WriteString("(")
		if err := r.expr(e.Args[0]); err != nil {
			return err
		}
		r.b.WriteString(map[planner.Op]string{planner.OpIsNull: " IS NULL", planner.OpIsNotNull: " IS NOT NULL"}[e.Op])
		return r.close(nil)
	case planner.OpIn, planner.OpNotIn:
		return r.in(e)
	case planner.OpCase, planner.OpCoalesce, planner.OpCast, planner.OpLike, planner.OpNotLike, planner.OpExtract:
		return r.scalarOp(e)
	case planner.OpDateTrunc:
		return r.dateTrunc(e)
	case planner.OpBetween:
		if err := checkOperands(e, 3, 3); err != nil {
			return err
		}
		r.b.WriteString("(")
		for i, a := range e.Args {
			if i > 0 {
				r.b.WriteString([]string{"", " BETWEEN ", " AND "}[i])
			}
			if err := r.expr(a); err != nil {
				return err
			}
		}
		return r.close(nil)
	default:
		return fmt.Errorf("unknown op %q", e.Op)
	}
}

func (r *renderer) infix(e *planner.Expr, min, max int) error {
	if err := checkOperands(e, min, max); err != nil {
		return err
	}
	r.b.WriteString("(")
	for i, a := range e.Args {
		if i > 0 {
			r.b.WriteString(infixSQL[e.Op])
		}
		if err := r.expr(a); err != nil {
			return err
		}
	}
	return r.close(nil)
}

func (r *renderer) in(e *planner.Expr) error {
	if err := checkOperands(e, 2, -1); err != nil {
		return err
	}
	r.b.WriteString("(")
	if err := r.expr(e.Args[0]); err != nil {
		return err
	}
	r.b.WriteString(map[planner.Op]string{planner.OpIn: " IN (", planner.OpNotIn: " NOT IN ("}[e.Op])
	for i, a := range e.Args[1:] {
		if i > 0 {
			r.b.WriteString(", ")
		}
		if err := r.expr(a); err != nil {
			return err
		}
	}
	r.b.WriteString(")")
	return r.close(nil)
}

func (r *renderer) close(err error) error {
	if err == nil {
		r.b.WriteString(")")
	}
	return err
}

func (r *renderer) literal(v *planner.Value) error {
	if v == nil {
		return errors.New("literal without a value")
	}
	switch v.Kind {
	case planner.KindNull:
		r.b.WriteString("NULL")
	case planner.KindBool, planner.KindInt, planner.KindFloat, planner.KindString:
		return r.param(v.Any())
	default:
		return fmt.Errorf("unknown literal kind %q", v.Kind)
	}
	return nil
}

func checkOperands(e *planner.Expr, min, max int) error {
	if n := len(e.Args); n < min || (max >= 0 && n > max) {
		return fmt.Errorf("op %q has %d operands", e.Op, n)
	}
	return nil
}

// exprLiterals appends the literal nodes under e to dst.
func exprLiterals(e *planner.Expr, dst []*planner.Expr) []*planner.Expr {
	if e == nil {
		return dst
	}
	if e.Op == planner.OpLiteral {
		dst = append(dst, e)
	}
	for _, a := range e.Args {
		dst = exprLiterals(a, dst)
	}
	return dst
}
