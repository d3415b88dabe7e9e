package planner

import (
	"errors"
	"fmt"
	"strings"
)

// castTypeSQL names each CastType per dialect.
var castTypeSQL = map[string]map[CastType]string{
	"duckdb":   {CastBigint: "BIGINT", CastInteger: "INTEGER", CastDouble: "DOUBLE", CastText: "VARCHAR", CastBoolean: "BOOLEAN", CastDate: "DATE"},
	"postgres": {CastBigint: "BIGINT", CastInteger: "INTEGER", CastDouble: "DOUBLE PRECISION", CastText: "TEXT", CastBoolean: "BOOLEAN", CastDate: "DATE"},
	// MySQL has no CAST to INTEGER/BOOLEAN/TEXT; SIGNED is 64-bit, CHAR is text.
	"mysql": {CastBigint: "SIGNED", CastInteger: "SIGNED", CastDouble: "DOUBLE", CastText: "CHAR", CastDate: "DATE"},
	"spark": {CastBigint: "BIGINT", CastInteger: "INT", CastDouble: "DOUBLE", CastText: "STRING", CastBoolean: "BOOLEAN", CastDate: "DATE"},
	"flink": {CastBigint: "BIGINT", CastInteger: "INT", CastDouble: "DOUBLE", CastText: "STRING", CastBoolean: "BOOLEAN", CastDate: "DATE"},
}

// intDivSQL is each dialect's integer division operator, truncating toward
// zero as PostgreSQL's "/" does over integers. (Flink SQL's "/" over
// integers is integer division as in Java.)
var intDivSQL = map[string]string{
	"duckdb": " // ", "postgres": " / ", "mysql": " DIV ", "spark": " div ", "flink": " / ",
}

// errNoCast is wrapped when a dialect has no equivalent of a cast target.
var errNoCast = errors.New("the engine has no such cast")

// scalarOp renders CASE, COALESCE, CAST and LIKE.
func (r *renderer) scalarOp(e *Expr) error {
	switch e.Op {
	case OpCase:
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
	case OpCoalesce:
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
	case OpCast:
		ct, err := CastTarget(e)
		if err != nil {
			return err
		}
		name := castTypeSQL[r.d.Name()][ct]
		if name == "" {
			return fmt.Errorf("cast: %s cannot cast to %s: %w", r.d.Name(), ct, errNoCast)
		}
		r.b.WriteString("CAST(")
		if err := r.expr(e.Args[0]); err != nil {
			return err
		}
		r.b.WriteString(" AS " + name + ")")
		return nil
	case OpExtract:
		f, err := ExtractField(e)
		if err != nil {
			return err
		}
		// The field is a keyword from a closed set, written as such; the
		// CAST makes PostgreSQL's numeric result a BIGINT like the others'.
		r.b.WriteString("CAST(EXTRACT(" + strings.ToUpper(f) + " FROM ")
		if err := r.expr(e.Args[1]); err != nil {
			return err
		}
		r.b.WriteString(") AS " + castTypeSQL[r.d.Name()][CastBigint] + ")")
		return nil
	case OpLike, OpNotLike:
		if err := CheckLikePattern(e); err != nil {
			return err
		}
		r.b.WriteString("(")
		if err := r.expr(e.Args[0]); err != nil {
			return err
		}
		r.b.WriteString(map[Op]string{OpLike: " LIKE ", OpNotLike: " NOT LIKE "}[e.Op])
		if err := r.expr(e.Args[1]); err != nil {
			return err
		}
		return r.close(nil)
	}
	return errors.New("unreachable")
}

// division renders a / b: "/" over doubles, the dialect's truncating
// integer division over integers, and nothing else (see DivisionOK).
func (r *renderer) division(e *Expr) error {
	if err := checkOperands(e, 2, 2); err != nil {
		return err
	}
	op := " / "
	switch {
	case ProvablyFloat(e):
	case DivisionOK(e):
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
