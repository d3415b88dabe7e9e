package policy

import (
	"errors"
	"fmt"

	"github.com/fedmesh/fedmesh/planner"
)

// checkRowFilter checks that a row_filter obligation is a predicate the
// agent can add to a sub-plan: built only from known ops, with column and
// literal nodes complete, and a boolean op at the top.
func checkRowFilter(e *planner.Expr) error {
	switch e.Op {
	case planner.OpAnd, planner.OpOr, planner.OpNot, planner.OpEq, planner.OpNe,
		planner.OpLt, planner.OpLe, planner.OpGt, planner.OpGe, planner.OpIn, planner.OpNotIn,
		planner.OpBetween, planner.OpIsNull, planner.OpIsNotNull:
	default:
		return fmt.Errorf("op %q is not a predicate (want and, or, not, a comparison, in, between or is_null)", e.Op)
	}
	return checkExpr(e, 0)
}

func checkExpr(e *planner.Expr, depth int) error {
	if e == nil {
		return errors.New("null expression")
	}
	if depth > 32 {
		return errors.New("nested deeper than 32 levels")
	}
	if !knownOp(e.Op) {
		return fmt.Errorf("op %q is not known", e.Op)
	}
	switch e.Op {
	case planner.OpColumn:
		if e.Column == "" {
			return errors.New("column node without a column name")
		}
		return nil
	case planner.OpLiteral:
		if e.Value == nil {
			return errors.New("literal node without a value")
		}
		return nil
	}
	if len(e.Args) == 0 {
		return fmt.Errorf("op %q has no arguments", e.Op)
	}
	for _, a := range e.Args {
		if err := checkExpr(a, depth+1); err != nil {
			return err
		}
	}
	return nil
}

// ApplyRowFilter ANDs o.RowFilter into sp's filter, so that the rendered
// engine SQL only reads rows the policy admits. It reports whether sp
// changed.
func (o Obligations) ApplyRowFilter(sp *planner.SubPlan) bool {
	if o.RowFilter == nil {
		return false
	}
	if sp.Filter == nil {
		sp.Filter = o.RowFilter
	} else {
		sp.Filter = planner.Call(planner.OpAnd, sp.Filter, o.RowFilter)
	}
	return true
}
