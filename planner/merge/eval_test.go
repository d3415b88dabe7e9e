package merge

import (
	"errors"
	"math"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/fedmesh/fedmesh/planner"
)

// evalRow is one merged row with a column of every kind.
func evalRow(t *testing.T) (*evalScope, [][]any) {
	t.Helper()
	sc := newEvalScope()
	var cols [][]any
	for _, c := range []struct {
		name string
		t    ltype
		v    any
	}{
		{"i", typeInt, int64(7)},
		{"neg", typeInt, int64(-7)},
		{"z", typeInt, int64(0)},
		{"n", typeInt, nil},
		{"x", typeInt, int64(math.MaxInt64)},
		{"h", typeHuge, int64(math.MaxInt64)},
		{"d", decType(10, 2), mdec("150", 2)},
		{"f", typeFloat, 2.5},
		{"s", typeStr, "abc"},
		{"t", ltype{kind: tDate}, mday("2024-01-02")},
		{"b", typeBool, true},
	} {
		if err := sc.add(c.name, c.t); err != nil {
			t.Fatal(err)
		}
		cols = append(cols, []any{c.v})
	}
	return sc, cols
}

func TestEval(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		e        *planner.Expr
		want     any
		wantType string
	}{
		{"add", planner.Call(planner.OpAdd, planner.Col("i"), mint(1)), int64(8), "BIGINT"},
		{"NULL propagates", planner.Call(planner.OpAdd, planner.Col("n"), mint(1)), nil, "BIGINT"},
		{"integer division truncates toward zero", planner.Call(planner.OpDiv, planner.Col("neg"), mint(2)), int64(-3), "BIGINT"},
		{"HUGEINT continues past int64", planner.Call(planner.OpAdd, planner.Col("h"), mint(1)), mbig("9223372036854775808"), "HUGEINT"},
		{"HUGEINT product", planner.Call(planner.OpMul, planner.Col("h"), planner.Col("h")), mbig("85070591730234615847396907784232501249"), "HUGEINT"},
		{"decimal plus integer", planner.Call(planner.OpAdd, planner.Col("d"), planner.Col("i")), mdec("850", 2), "DECIMAL(38,2)"},
		{"decimal times decimal", planner.Call(planner.OpMul, planner.Col("d"), planner.Col("d")), mdec("22500", 4), "DECIMAL(38,4)"},
		{"decimal division is double", planner.Call(planner.OpDiv, planner.Col("d"), mint(2)), 0.75, "DOUBLE"},
		{"negate decimal", planner.Call(planner.OpNeg, planner.Col("d")), mdec("-150", 2), "DECIMAL(10,2)"},
		{"negate", planner.Call(planner.OpNeg, planner.Col("neg")), int64(7), "BIGINT"},
		{"double arithmetic", planner.Call(planner.OpSub, planner.Col("f"), planner.Col("i")), -4.5, "DOUBLE"},
		{"CASE first true branch", planner.Call(planner.OpCase, planner.Call(planner.OpGt, planner.Col("i"), mint(10)), mstr("big"), planner.Call(planner.OpGt, planner.Col("i"), mint(5)), mstr("mid"), mstr("small")), "mid", "VARCHAR"},
		{"CASE NULL condition falls through to NULL", planner.Call(planner.OpCase, planner.Call(planner.OpGt, planner.Col("n"), mint(1)), mint(1)), nil, "BIGINT"},
		{"CASE promotes integer branch to double", planner.Call(planner.OpCase, planner.Col("b"), planner.Col("i"), planner.Col("f")), 7.0, "DOUBLE"},
		{"CASE promotes integer branch to decimal", planner.Call(planner.OpCase, planner.Col("b"), planner.Col("i"), planner.Col("d")), mdec("700", 2), "DECIMAL(38,2)"},
		{"COALESCE skips NULL", planner.Call(planner.OpCoalesce, planner.Col("n"), mnull(), planner.Col("neg")), int64(-7), "BIGINT"},
		{"COALESCE of NULLs", planner.Call(planner.OpCoalesce, planner.Col("n"), mnull()), nil, "BIGINT"},
		{"COALESCE promotes to double", planner.Call(planner.OpCoalesce, planner.Col("n"), mfloat(0.5)), 0.5, "DOUBLE"},
		{"int vs decimal", planner.Call(planner.OpGt, planner.Col("i"), planner.Col("d")), true, "BOOLEAN"},
		{"decimal vs double literal", planner.Call(planner.OpEq, planner.Col("d"), mfloat(1.5)), true, "BOOLEAN"},
		{"HUGEINT vs BIGINT", planner.Call(planner.OpEq, planner.Col("h"), planner.Col("x")), true, "BOOLEAN"},
		{"string order", planner.Call(planner.OpLt, planner.Col("s"), mstr("abd")), true, "BOOLEAN"},
		{"date vs string literal", planner.Call(planner.OpGe, planner.Col("t"), mstr("2024-01-01")), true, "BOOLEAN"},
		{"date equals string literal", planner.Call(planner.OpEq, mstr("2024-01-02"), planner.Col("t")), true, "BOOLEAN"},
		{"NULL = NULL is NULL", planner.Call(planner.OpEq, mnull(), mnull()), nil, "BOOLEAN"},
		{"true AND NULL", planner.Call(planner.OpAnd, planner.Col("b"), mnull()), nil, "BOOLEAN"},
		{"false AND NULL", planner.Call(planner.OpAnd, mbool(false), mnull()), false, "BOOLEAN"},
		{"true OR NULL", planner.Call(planner.OpOr, mnull(), planner.Col("b")), true, "BOOLEAN"},
		{"false OR NULL", planner.Call(planner.OpOr, mbool(false), mnull()), nil, "BOOLEAN"},
		{"NOT", planner.Call(planner.OpNot, planner.Col("b")), false, "BOOLEAN"},
		{"NOT NULL", planner.Call(planner.OpNot, mnull()), nil, "BOOLEAN"},
		{"IN match", planner.Call(planner.OpIn, planner.Col("i"), mint(1), mint(7)), true, "BOOLEAN"},
		{"IN no match with NULL", planner.Call(planner.OpIn, planner.Col("i"), mint(1), mnull()), nil, "BOOLEAN"},
		{"IN of NULL", planner.Call(planner.OpIn, planner.Col("n"), mint(1)), nil, "BOOLEAN"},
		{"NOT IN", planner.Call(planner.OpNotIn, planner.Col("i"), mint(1), mint(2)), true, "BOOLEAN"},
		{"NOT IN with NULL", planner.Call(planner.OpNotIn, planner.Col("i"), mint(1), mnull()), nil, "BOOLEAN"},
		{"BETWEEN inclusive", planner.Call(planner.OpBetween, planner.Col("i"), mint(1), mint(7)), true, "BOOLEAN"},
		{"BETWEEN false despite NULL", planner.Call(planner.OpBetween, planner.Col("i"), mint(8), mnull()), false, "BOOLEAN"},
		{"BETWEEN NULL", planner.Call(planner.OpBetween, planner.Col("i"), mint(1), mnull()), nil, "BOOLEAN"},
		{"IS NULL", planner.Call(planner.OpIsNull, planner.Col("n")), true, "BOOLEAN"},
		{"IS NOT NULL", planner.Call(planner.OpIsNotNull, planner.Col("n")), false, "BOOLEAN"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			sc, cols := evalRow(t)
			c, err := sc.compile(tt.e)
			if err != nil {
				t.Fatal(err)
			}
			got, err := c.fn(cols, 0)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, got, mergeCmpOpts); diff != "" {
				t.Errorf("value mismatch (-want +got):\n%s", diff)
			}
			if c.t.String() != tt.wantType {
				t.Errorf("type = %s, want %s", c.t, tt.wantType)
			}
		})
	}
}

func TestEvalErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		e       *planner.Expr
		wantIs  error  // for evaluation errors
		wantSub string // for compile errors
	}{
		{name: "integer division by zero", e: planner.Call(planner.OpDiv, planner.Col("i"), planner.Col("z")), wantIs: ErrDivisionByZero},
		{name: "double division by zero", e: planner.Call(planner.OpDiv, planner.Col("f"), mint(0)), wantIs: ErrDivisionByZero},
		{name: "BIGINT overflow", e: planner.Call(planner.OpAdd, planner.Col("x"), mint(1)), wantIs: ErrOutOfRange},
		{name: "unknown op", e: planner.Call(planner.Op("like"), planner.Col("s"), mstr("a%")), wantSub: `unknown op "like"`},
		{name: "unknown column", e: planner.Col("nope"), wantSub: `column "nope" is not in the merged result`},
		{name: "literal without value", e: &planner.Expr{Op: planner.OpLiteral}, wantSub: "literal without a value"},
		{name: "string vs number", e: planner.Call(planner.OpEq, planner.Col("s"), mint(1)), wantSub: "cannot compare VARCHAR with BIGINT"},
		{name: "bad date literal", e: planner.Call(planner.OpEq, planner.Col("t"), mstr("soon")), wantSub: `cannot read "soon" as DATE`},
		{name: "AND of a number", e: planner.Call(planner.OpAnd, planner.Col("i"), planner.Col("b")), wantSub: "not BOOLEAN"},
		{name: "arithmetic on strings", e: planner.Call(planner.OpAdd, planner.Col("s"), mint(1)), wantSub: "cannot apply ADD to VARCHAR and BIGINT"},
		{name: "wrong arity", e: planner.Call(planner.OpEq, planner.Col("i")), wantSub: `op "eq" has 1 operand(s)`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			sc, cols := evalRow(t)
			c, err := sc.compile(tt.e)
			if tt.wantSub != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantSub) {
					t.Fatalf("compile error = %v, want one containing %q", err, tt.wantSub)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if _, err := c.fn(cols, 0); !errors.Is(err, tt.wantIs) {
				t.Fatalf("eval error = %v, want %v", err, tt.wantIs)
			}
		})
	}
}

func TestEvalCaseRefusesIncompatibleBranches(t *testing.T) {
	t.Parallel()
	sc, _ := evalRow(t)
	for _, e := range []*planner.Expr{
		planner.Call(planner.OpCase, planner.Col("b"), planner.Col("i"), planner.Col("s")),
		planner.Call(planner.OpCoalesce, planner.Col("s"), planner.Col("f")),
		planner.Call(planner.OpCase, planner.Col("i"), mint(1)),
	} {
		if _, err := sc.compile(e); err == nil {
			t.Errorf("compile %+v: no error, want a refusal", e)
		}
	}
}
