package merge

import (
	"fmt"

	"github.com/fedmesh/fedmesh/planner"
)

// CASE and COALESCE after the merge, over aggregates and group keys
// ("CASE WHEN SUM(x) > 10 THEN 'big' END", "COALESCE(MAX(x), 0)"). Their
// result type unifies the branches' as PostgreSQL's does for the types the
// merge knows: numbers promote (a double absorbs everything), dates and
// timestamps become timestamps, NULL takes the other's type; anything else
// (text with a number, say) is refused.

// unifyBranches returns the common type of the result branches.
func unifyBranches(op planner.Op, branches []evalNode) (ltype, error) {
	t := typeNull
	for _, b := range branches {
		u, ok := unifyTypes(t, b.t)
		if !ok {
			return ltype{}, fmt.Errorf("%s: branches of types %s and %s cannot be combined", op, t, b.t)
		}
		t = u
	}
	return t, nil
}

// coerceValue converts v (of a branch's type) to t, the unified type.
func coerceValue(v any, t ltype) any {
	if v == nil {
		return nil
	}
	switch t.kind {
	case tFloat:
		return valueFloat(v)
	case tDec:
		u, s := valueScaled(v)
		return rescaled(u, s, t.scale)
	}
	return v
}

// compileCase: args are when1, then1, ..., [else]. The first true condition
// picks its branch; none (or NULL conditions) gives the ELSE value or NULL.
func compileCase(args []evalNode) (evalNode, error) {
	if len(args) < 2 {
		return evalNode{}, fmt.Errorf("op %q has %d operand(s)", planner.OpCase, len(args))
	}
	pairs := len(args) / 2
	branches := make([]evalNode, 0, pairs+1)
	for i := 0; i < pairs; i++ {
		if c := args[2*i].t.kind; c != tBool && c != tNull {
			return evalNode{}, fmt.Errorf("CASE: condition %d is %s, not boolean", i+1, args[2*i].t)
		}
		branches = append(branches, args[2*i+1])
	}
	var elseFn evalFn
	if len(args)%2 == 1 {
		branches = append(branches, args[len(args)-1])
		elseFn = args[len(args)-1].fn
	}
	t, err := unifyBranches(planner.OpCase, branches)
	if err != nil {
		return evalNode{}, err
	}
	return evalNode{t: t, fn: func(cols [][]any, row int) (any, error) {
		for i := 0; i < pairs; i++ {
			c, err := args[2*i].fn(cols, row)
			if err != nil {
				return nil, err
			}
			if b, ok := c.(bool); ok && b {
				v, err := args[2*i+1].fn(cols, row)
				return coerceValue(v, t), err
			}
		}
		if elseFn == nil {
			return nil, nil
		}
		v, err := elseFn(cols, row)
		return coerceValue(v, t), err
	}}, nil
}

// compileCoalesce returns the first non-NULL argument, or NULL.
func compileCoalesce(args []evalNode) (evalNode, error) {
	if len(args) == 0 {
		return evalNode{}, fmt.Errorf("op %q has no operands", planner.OpCoalesce)
	}
	t, err := unifyBranches(planner.OpCoalesce, args)
	if err != nil {
		return evalNode{}, err
	}
	return evalNode{t: t, fn: func(cols [][]any, row int) (any, error) {
		for _, a := range args {
			v, err := a.fn(cols, row)
			if err != nil || v != nil {
				return coerceValue(v, t), err
			}
		}
		return nil, nil
	}}, nil
}
