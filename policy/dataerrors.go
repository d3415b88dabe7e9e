package policy

import (
	"fmt"
	"math"

	"github.com/fedmesh/fedmesh/planner"
)

// failingOp is a kind of expression an engine can fail on depending on the
// data: wrapped in CASE WHEN <condition on a person> THEN <failing> END, it
// turns the engine's error or success into one bit about that person, which
// no minimum group size sees.
type failingOp string

const (
	// failDivision: a divisor that is not a non-zero constant; the engine
	// raises "division by zero" on the rows where it is 0.
	failDivision failingOp = "division by a non-constant divisor"
	// failCastText: CAST of a value chosen among text constants by the
	// data (CASE … THEN 'x' …) to a number, date or boolean; the engine
	// raises on the text that does not parse.
	failCastText failingOp = "CAST of data-dependent text to a number, date or boolean"
	// failOverflow: arithmetic with an integer constant of 2^31 or more,
	// which can push a 64-bit intermediate out of range on chosen rows.
	failOverflow failingOp = "arithmetic with an integer constant of 2^31 or more"
)

// dataErrorOps lists, per SQL dialect, the data-dependent failures its
// engines raise as errors (rather than answering NULL). MariaDB answers
// NULL on division by zero; PostgreSQL, Spark (ANSI mode) and Flink raise,
// and so does DuckDB for the integer division (//) integer operands render
// to ("Division by zero in expression"), while its "/" answers inf. Every one of them raises on a text that does not cast (MariaDB
// warns and answers 0, but a strict sql_mode raises) and on 64-bit overflow.
// An unknown dialect gets every check.
var dataErrorOps = map[string][]failingOp{
	"duckdb":   {failDivision, failCastText, failOverflow},
	"mysql":    {failCastText, failOverflow},
	"postgres": {failDivision, failCastText, failOverflow},
	"spark":    {failDivision, failCastText, failOverflow},
	"flink":    {failDivision, failCastText, failOverflow},
}

// DataErrorError refuses a sub-plan holding an expression the site's engine
// could fail on depending on the data.
type DataErrorError struct {
	Site    string
	Dialect string
	Op      string // what kind of expression (e.g. "division by a non-constant divisor")
	Where   string // "filter", "group key g0", "aggregate a1", ...
}

func (e *DataErrorError) Error() string {
	return fmt.Sprintf("site %q: the %s holds a %s, which the site's %s engine can fail on depending on the data — a side channel, so it is not run; rewrite it without that expression",
		e.Site, e.Where, e.Op, e.Dialect)
}

// CheckDataErrors refuses sp if an expression in it could make the site's
// engine (dialect, e.g. "postgres") fail depending on the data: the
// analyst would learn one bit per query from error versus answer (a
// *DataErrorError). It is structural and conservative; see policy/README.md
// for what it does not catch.
func CheckDataErrors(sp *planner.SubPlan, dialect string) error {
	ops, ok := dataErrorOps[dialect]
	if !ok {
		ops = []failingOp{failDivision, failCastText, failOverflow}
	}
	check := func(where string, e *planner.Expr) error {
		if op := findFailing(e, ops); op != "" {
			return &DataErrorError{Site: sp.Site, Dialect: dialect, Op: string(op), Where: where}
		}
		return nil
	}
	if err := check("filter", sp.Filter); err != nil {
		return err
	}
	for _, g := range sp.GroupBy {
		if err := check("group key "+g.Name, g.Expr); err != nil {
			return err
		}
	}
	for _, a := range sp.Aggs {
		e := a.Expr
		if a.Agg != nil {
			e = a.Agg.Arg
		}
		if err := check("output "+a.Name, e); err != nil {
			return err
		}
	}
	return nil
}

func findFailing(e *planner.Expr, ops []failingOp) failingOp {
	if e == nil {
		return ""
	}
	has := func(op failingOp) bool {
		for _, o := range ops {
			if o == op {
				return true
			}
		}
		return false
	}
	switch e.Op {
	case planner.OpDiv:
		if has(failDivision) && len(e.Args) == 2 && !nonZeroConstant(e.Args[1]) {
			return failDivision
		}
	case planner.OpCast:
		if has(failCastText) {
			if t, err := planner.CastTarget(e); err == nil && t != planner.CastText && !isConstant(e.Args[0]) && textValued(e.Args[0]) {
				return failCastText
			}
		}
	case planner.OpAdd, planner.OpSub, planner.OpMul, planner.OpNeg:
		if has(failOverflow) {
			for _, a := range e.Args {
				if a != nil && a.Op == planner.OpLiteral && a.Value != nil && a.Value.Kind == planner.KindInt &&
					(a.Value.Int >= math.MaxInt32 || a.Value.Int <= math.MinInt32) {
					return failOverflow
				}
			}
		}
	}
	for _, a := range e.Args {
		if op := findFailing(a, ops); op != "" {
			return op
		}
	}
	return ""
}

// nonZeroConstant: a numeric literal other than 0, possibly negated or cast.
func nonZeroConstant(e *planner.Expr) bool {
	switch {
	case e == nil:
		return false
	case e.Op == planner.OpLiteral && e.Value != nil:
		switch e.Value.Kind {
		case planner.KindInt:
			return e.Value.Int != 0
		case planner.KindFloat:
			return e.Value.Float != 0
		}
		return false
	case e.Op == planner.OpNeg && len(e.Args) == 1:
		return nonZeroConstant(e.Args[0])
	case e.Op == planner.OpCast && len(e.Args) == 2:
		return nonZeroConstant(e.Args[0])
	}
	return false
}

func isConstant(e *planner.Expr) bool {
	return e != nil && len(e.Columns(nil)) == 0
}

// textValued: e yields text built from constants or casts (a CASE or
// COALESCE choosing among them, a CAST to text). A bare column of text type
// is not seen: the plan has no column types.
func textValued(e *planner.Expr) bool {
	if e == nil {
		return false
	}
	switch e.Op {
	case planner.OpLiteral:
		return e.Value != nil && e.Value.Kind == planner.KindString
	case planner.OpCast:
		t, err := planner.CastTarget(e)
		return err == nil && t == planner.CastText
	case planner.OpCoalesce:
		for _, a := range e.Args {
			if textValued(a) {
				return true
			}
		}
	case planner.OpCase:
		// Args: when1, then1, …, [else]: the results are the odd ones and a
		// trailing else.
		for i := 1; i < len(e.Args); i += 2 {
			if textValued(e.Args[i]) {
				return true
			}
		}
		if len(e.Args)%2 == 1 && textValued(e.Args[len(e.Args)-1]) {
			return true
		}
	}
	return false
}
