package render

import (
	"errors"
	"fmt"
	"strings"

	"github.com/fedmesh/fedmesh/planner"
)

// castTypeSQL names each CastType per dialect.
var castTypeSQL = map[string]map[planner.CastType]string{
	"duckdb":   {planner.CastBigint: "BIGINT", planner.CastInteger: "INTEGER", planner.CastDouble: "DOUBLE", planner.CastText: "VARCHAR", planner.CastBoolean: "BOOLEAN", planner.CastDate: "DATE"},
	"postgres": {planner.CastBigint: "BIGINT", planner.CastInteger: "INTEGER", planner.CastDouble: "DOUBLE PRECISION", planner.CastText: "TEXT", planner.CastBoolean: "BOOLEAN", planner.CastDate: "DATE"},
	// MySQL has no CAST to INTEGER/BOOLEAN/TEXT; SIGNED is 64-bit, CHAR is text.
	"mysql": {planner.CastBigint: "SIGNED", planner.CastInteger: "SIGNED", planner.CastDouble: "DOUBLE", planner.CastText: "CHAR", planner.CastDate: "DATE"},
	"spark": {planner.CastBigint: "BIGINT", planner.CastInteger: "INT", planner.CastDouble: "DOUBLE", planner.CastText: "STRING", planner.CastBoolean: "BOOLEAN", planner.CastDate: "DATE"},
	"flink": {planner.CastBigint: "BIGINT", planner.CastInteger: "INT", planner.CastDouble: "DOUBLE", planner.CastText: "STRING", planner.CastBoolean: "BOOLEAN", planner.CastDate: "DATE"},
}

// intDivSQL is each dialect's integer division operator, truncating toward
// zero as PostgreSQL's "/" does over integers. (Flink SQL's "/" over
// integers is integer division as in Java.)
var intDivSQL = map[string]string{
	"duckdb": " // ", "postgres": " / ", "mysql": " DIV ", "spark": " div ", "flink": " / ",
}

// ErrNoCast is wrapped when a dialect has no equivalent of a cast target.
var ErrNoCast = errors.New("the engine has no such cast")

// scalarOp renders CASE, COALESCE, CAST and LIKE.
func (r *renderer) scalarOp(e *planner.Expr) error {
	switch e.Op {
	case planner.OpCase:
		if len(e.Args) < 2 {
			return fmt.Errorf("op %q has %d operands", e.Op, len(e.Args))
		}
		r.b.WriteString("(CASE")
		n := len(e.Args)
		for i := 0; i+1 < n; i += 2 {
			r.b.WriteString(" WHEN ")
			if err := r.expr(e.Args[i]); err != nil {
				return err
			}
			r.b.WriteString(" THEN ")
			if err := r.expr(e.Args[i+1]); err != nil {
				return err
			}
		}
		if n%2 == 1 {
			r.b.WriteString(" ELSE ")
			if err := r.expr(e.Args[n-1]); err != nil {
				return err
			}
		}
		r.b.WriteString(" END)")
		return nil
	case planner.OpCoalesce:
		if err := checkOperands(e, 1, -1); err != nil {
			return err
		}
		r.b.WriteString("COALESCE(")
		for i, a := range e.Args {
			if i > 0 {
				r.b.WriteString(", ")
			}
			if err := r.expr(a); err != nil {
				return err
			}
		}
		r.b.WriteString(")")
		return nil
	case planner.OpCast:
		ct, err := planner.CastTarget(e)
		if err != nil {
			return err
		}
		name := castTypeSQL[r.d.Name()][ct]
		if name == "" {
			return fmt.Errorf("cast: %s cannot cast to %s: %w", r.d.Name(), ct, ErrNoCast)
		}
		r.b.WriteString("CAST(")
		if err := r.expr(e.Args[0]); err != nil {
			return err
		}
		r.b.WriteString(" AS " + name + ")")
		return nil
	case planner.OpExtract:
		f, err := planner.ExtractField(e)
		if err != nil {
			return err
		}
		// The field is a keyword from a closed set, written as such; the
		// CAST makes PostgreSQL's numeric result a BIGINT like the others'.
		r.b.WriteString("CAST(EXTRACT(" + strings.ToUpper(f) + " FROM ")
		if err := r.expr(e.Args[1]); err != nil {
			return err
		}
		r.b.WriteString(") AS " + castTypeSQL[r.d.Name()][planner.CastBigint] + ")")
		return nil
	case planner.OpLike, planner.OpNotLike:
		if err := planner.CheckLikePattern(e); err != nil {
			return err
		}
		r.b.WriteString("(")
		if err := r.expr(e.Args[0]); err != nil {
			return err
		}
		r.b.WriteString(map[planner.Op]string{planner.OpLike: " LIKE ", planner.OpNotLike: " NOT LIKE "}[e.Op])
		if err := r.expr(e.Args[1]); err != nil {
			return err
		}
		return r.close(nil)
	}
	return errors.New("unreachable")
}

// division renders a / b: "/" over doubles, the dialect's truncating
// integer division over integers, and nothing else (see DivisionOK).
func (r *renderer) division(e *planner.Expr) error {
	if err := checkOperands(e, 2, 2); err != nil {
		return err
	}
	op := " / "
	switch {
	case planner.ProvablyFloat(e):
	case planner.DivisionOK(e):
		op = intDivSQL[r.d.Name()]
		if op == "" {
			return fmt.Errorf("division: %s has no known integer division", r.d.Name())
		}
	default:
		return errors.New("division: operands must both be integers or one a double (a float literal or a CAST); engines disagree on division of column values of unknown type")
	}
	r.b.WriteString("(")
	if err := r.expr(e.Args[0]); err != nil {
		return err
	}
	r.b.WriteString(op)
	if err := r.expr(e.Args[1]); err != nil {
		return err
	}
	return r.close(nil)
}
