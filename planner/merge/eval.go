package merge

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/fedmesh/fedmesh/planner"
)

// Evaluation errors; Merge wraps them with the output, HAVING or ORDER BY
// item that raised them.
var (
	ErrDivisionByZero = errors.New("division by zero")
	ErrOutOfRange     = errors.New("bigint out of range")
)

// evalFn evaluates an expression for one merged row: cols[c][row] is the
// value of namespace column c.
type evalFn func(cols [][]any, row int) (any, error)

// evalNode is an expression checked against the merged namespace, with its
// static result type.
type evalNode struct {
	t   ltype
	fn  evalFn
	lit *planner.Value // set when the expression is a literal
}

// evalScope is the merged namespace: group keys and merged aggregates (or, for
// KindRows, projected columns) by name.
type evalScope struct {
	index   map[string]int
	names   []string
	types   []ltype
	aliases map[string]*planner.Expr // output names ORDER BY may use; nil elsewhere
}

func newEvalScope() *evalScope { return &evalScope{index: map[string]int{}} }

func (s *evalScope) add(name string, t ltype) error {
	if _, dup := s.index[name]; dup {
		return fmt.Errorf("merge plan names column %q twice", name)
	}
	s.index[name] = len(s.types)
	s.names = append(s.names, name)
	s.types = append(s.types, t)
	return nil
}

// withAliases returns a scope in which output names not shadowed by a
// namespace column resolve to their output expressions.
func (s *evalScope) withAliases(outputs []planner.Output) *evalScope {
	c := *s
	c.aliases = map[string]*planner.Expr{}
	for _, o := range outputs {
		if _, taken := c.aliases[o.Name]; !taken && o.Expr != nil {
			c.aliases[o.Name] = o.Expr
		}
	}
	return &c
}

func (s *evalScope) compile(e *planner.Expr) (evalNode, error) {
	if e == nil {
		return evalNode{}, errors.New("missing expression")
	}
	switch e.Op {
	case planner.OpColumn:
		return s.compileColumn(e.Column)
	case planner.OpLiteral:
		return compileLiteral(e.Value)
	}
	args := make([]evalNode, len(e.Args))
	for i, a := range e.Args {
		c, err := s.compile(a)
		if err != nil {
			return evalNode{}, err
		}
		args[i] = c
	}
	switch e.Op {
	case planner.OpAnd, planner.OpOr, planner.OpNot:
		return compileLogic(e.Op, args)
	case planner.OpEq, planner.OpNe, planner.OpLt, planner.OpLe, planner.OpGt, planner.OpGe:
		return compileCompare(e.Op, args)
	case planner.OpIn, planner.OpNotIn:
		return compileIn(e.Op, args)
	case planner.OpBetween:
		return compileBetween(args)
	case planner.OpIsNull, planner.OpIsNotNull:
		if err := checkArity(e.Op, args, 1, 1); err != nil {
			return evalNode{}, err
		}
		arg, want := args[0].fn, e.Op == planner.OpIsNull
		return evalNode{t: typeBool, fn: func(cols [][]any, row int) (any, error) {
			v, err := arg(cols, row)
			return (v == nil) == want, err
		}}, nil
	case planner.OpAdd, planner.OpSub, planner.OpMul, planner.OpDiv:
		return compileArith(e.Op, args)
	case planner.OpNeg:
		return compileNeg(args)
	case planner.OpCase:
		return compileCase(args)
	case planner.OpCoalesce:
		return compileCoalesce(args)
	}
	return evalNode{}, fmt.Errorf("unknown op %q", e.Op)
}

func (s *evalScope) compileColumn(name string) (evalNode, error) {
	if i, ok := s.index[name]; ok {
		return evalNode{t: s.types[i], fn: func(cols [][]any, row int) (any, error) {
			return cols[i][row], nil
		}}, nil
	}
	if e, ok := s.aliases[name]; ok {
		plain := *s
		plain.aliases = nil // an output expression sees only the namespace
		return plain.compile(e)
	}
	return evalNode{}, fmt.Errorf("column %q is not in the merged result (it has %s)", name, strings.Join(s.names, ", "))
}

func compileLiteral(v *planner.Value) (evalNode, error) {
	if v == nil {
		return evalNode{}, errors.New("literal without a value")
	}
	var t ltype
	switch v.Kind {
	case planner.KindNull:
		t = typeNull
	case planner.KindBool:
		t = typeBool
	case planner.KindInt:
		t = typeInt
	case planner.KindFloat:
		t = typeFloat
	case planner.KindString:
		t = typeStr
	default:
		return evalNode{}, fmt.Errorf("literal of unknown kind %q", v.Kind)
	}
	return constNode(t, v.Any(), v), nil
}

func constNode(t ltype, x any, lit *planner.Value) evalNode {
	return evalNode{t: t, lit: lit, fn: func([][]any, int) (any, error) { return x, nil }}
}

func checkArity(op planner.Op, args []evalNode, lo, hi int) error {
	if len(args) < lo || (hi >= 0 && len(args) > hi) {
		return fmt.Errorf("op %q has %d operand(s)", op, len(args))
	}
	return nil
}

func isBoolType(t ltype) bool { return t.kind == tBool || t.kind == tNull }

// compileLogic implements AND, OR and NOT with SQL's three-valued logic.
func compileLogic(op planner.Op, args []evalNode) (evalNode, error) {
	lo, hi := 2, -1
	if op == planner.OpNot {
		lo, hi = 1, 1
	}
	if err := checkArity(op, args, lo, hi); err != nil {
		return evalNode{}, err
	}
	for _, a := range args {
		if !isBoolType(a.t) {
			return evalNode{}, fmt.Errorf("operand of %s is %s, not BOOLEAN", strings.ToUpper(string(op)), a.t)
		}
	}
	if op == planner.OpNot {
		arg := args[0].fn
		return evalNode{t: typeBool, fn: func(cols [][]any, row int) (any, error) {
			v, err := arg(cols, row)
			if v == nil || err != nil {
				return nil, err
			}
			return !v.(bool), nil
		}}, nil
	}
	// AND stops at false, OR at true; a NULL operand otherwise makes it NULL.
	decisive := op == planner.OpOr
	return evalNode{t: typeBool, fn: func(cols [][]any, row int) (any, error) {
		sawNull := false
		for _, a := range args {
			v, err := a.fn(cols, row)
			if err != nil {
				return nil, err
			}
			if v == nil {
				sawNull = true
			} else if v.(bool) == decisive {
				return decisive, nil
			}
		}
		if sawNull {
			return nil, nil
		}
		return !decisive, nil
	}}, nil
}

// comparable reports whether values of a and b can be compared, coercing a
// string literal compared with a DATE or TIMESTAMP into a time (as
// PostgreSQL types an unknown literal from the other operand).
func checkComparable(a, b *evalNode) error {
	if err := coerceTimeLiteral(a, b.t); err != nil {
		return err
	}
	if err := coerceTimeLiteral(b, a.t); err != nil {
		return err
	}
	switch {
	case a.t.kind == tNull || b.t.kind == tNull, a.t.kind == b.t.kind,
		a.t.numeric() && b.t.numeric(), a.t.temporal() && b.t.temporal():
		return nil
	}
	return fmt.Errorf("cannot compare %s with %s", a.t, b.t)
}

func coerceTimeLiteral(c *evalNode, to ltype) error {
	if !to.temporal() || c.lit == nil || c.lit.Kind != planner.KindString {
		return nil
	}
	s := strings.TrimSpace(c.lit.Str)
	for _, layout := range []string{time.DateOnly, time.DateTime, "2006-01-02 15:04:05.999999999", time.RFC3339Nano, "2006-01-02T15:04:05.999999999"} {
		if tm, err := time.ParseInLocation(layout, s, time.UTC); err == nil {
			*c = constNode(to, tm.UTC(), nil)
			return nil
		}
	}
	return fmt.Errorf("cannot read %q as %s", c.lit.Str, to)
}

var cmpTests = map[planner.Op]func(int) bool{
	planner.OpEq: func(c int) bool { return c == 0 },
	planner.OpNe: func(c int) bool { return c != 0 },
	planner.OpLt: func(c int) bool { return c < 0 },
	planner.OpLe: func(c int) bool { return c <= 0 },
	planner.OpGt: func(c int) bool { return c > 0 },
	planner.OpGe: func(c int) bool { return c >= 0 },
}

func compileCompare(op planner.Op, args []evalNode) (evalNode, error) {
	if err := checkArity(op, args, 2, 2); err != nil {
		return evalNode{}, err
	}
	if err := checkComparable(&args[0], &args[1]); err != nil {
		return evalNode{}, err
	}
	l, r, test := args[0].fn, args[1].fn, cmpTests[op]
	return evalNode{t: typeBool, fn: func(cols [][]any, row int) (any, error) {
		a, err := l(cols, row)
		if err != nil {
			return nil, err
		}
		b, err := r(cols, row)
		if a == nil || b == nil || err != nil {
			return nil, err
		}
		c, err := compareValues(a, b)
		if err != nil {
			return nil, err
		}
		return test(c), nil
	}}, nil
}

// compileIn implements [NOT] IN: true on a match, else NULL if the operand
// or any item is NULL, else false (NOT IN negates).
func compileIn(op planner.Op, args []evalNode) (evalNode, error) {
	if err := checkArity(op, args, 2, -1); err != nil {
		return evalNode{}, err
	}
	for i := 1; i < len(args); i++ {
		if err := checkComparable(&args[0], &args[i]); err != nil {
			return evalNode{}, err
		}
	}
	x, items, not := args[0].fn, slices.Clone(args[1:]), op == planner.OpNotIn
	return evalNode{t: typeBool, fn: func(cols [][]any, row int) (any, error) {
		v, err := x(cols, row)
		if v == nil || err != nil {
			return nil, err
		}
		sawNull := false
		for _, it := range items {
			w, err := it.fn(cols, row)
			if err != nil {
				return nil, err
			}
			if w == nil {
				sawNull = true
				continue
			}
			c, err := compareValues(v, w)
			if err != nil {
				return nil, err
			}
			if c == 0 {
				return !not, nil
			}
		}
		if sawNull {
			return nil, nil
		}
		return not, nil
	}}, nil
}

// compileBetween is x >= low AND x <= high.
func compileBetween(args []evalNode) (evalNode, error) {
	if err := checkArity(planner.OpBetween, args, 3, 3); err != nil {
		return evalNode{}, err
	}
	ge, err := compileCompare(planner.OpGe, []evalNode{args[0], args[1]})
	if err != nil {
		return evalNode{}, err
	}
	le, err := compileCompare(planner.OpLe, []evalNode{args[0], args[2]})
	if err != nil {
		return evalNode{}, err
	}
	return compileLogic(planner.OpAnd, []evalNode{ge, le})
}
