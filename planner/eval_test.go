package planner

import (
	"errors"
	"math"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
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
		e        *Expr
		want     any
		wantType string
	}{
		{"add", Call(OpAdd, Col("i"), mint(1)), int64(8), "BIGINT"},
		{"NULL propagates", Call(OpAdd, Col("n"), mint(1)), nil, "BIGINT"},
		{"integer division truncates toward zero", Call(OpDiv, Col("neg"), mint(2)), int64(-3), "BIGINT"},
		{"HUGEINT continues past int64", Call(OpAdd, Col("h"), mint(1)), mbig("9223372036854775808"), "HUGEINT"},
		{"HUGEINT product", Call(OpMul, Col("h"), Col("h")), mbig("85070591730234615847396907784232501249"), "HUGEINT"},
		{"decimal plus integer", Call(OpAdd, Col("d"), Col("i")), mdec("850", 2), "DECIMAL(38,2)"},
		{"decimal times decimal", Call(OpMul, Col("d"), Col("d")), mdec("22500", 4), "DECIMAL(38,4)"},
		{"decimal division is double", Call(OpDiv, Col("d"), mint(2)), 0.75, "DOUBLE"},
		{"negate decimal", Call(OpNeg, Col("d")), mdec("-150", 2), "DECIMAL(10,2)"},
		{"negate", Call(OpNeg, Col("neg")), int64(7), "BIGINT"},
		{"double arithmetic", Call(OpSub, Col("f"), Col("i")), -4.5, "DOUBLE"},
		{"CASE first true branch", Call(OpCase, Call(OpGt, Col("i"), mint(10)), mstr("big"), Call(OpGt, Col("i"), mint(5)), mstr("mid"), mstr("small")), "mid", "VARCHAR"},
		{"CASE NULL condition falls through to NULL", Call(OpCase, Call(OpGt, Col("n"), mint(1)), mint(1)), nil, "BIGINT"},
		{"CASE promotes integer branch to double", Call(OpCase, Col("b"), Col("i"), Col("f")), 7.0, "DOUBLE"},
		{"CASE promotes integer branch to decimal", Call(OpCase, Col("b"), Col("i"), Col("d")), mdec("700", 2), "DECIMAL(38,2)"},
		{"COALESCE skips NULL", Call(OpCoalesce, Col("n"), mnull(), Col("neg")), int64(-7), "BIGINT"},
		{"COALESCE of NULLs", Call(OpCoalesce, Col("n"), mnull()), nil, "BIGINT"},
		{"COALESCE promotes to double", Call(OpCoalesce, Col("n"), mfloat(0.5)), 0.5, "DOUBLE"},
		{"int vs decimal", Call(OpGt, Col("i"), Col("d")), true, "BOOLEAN"},
		{"decimal vs double literal", Call(OpEq, Col("d"), mfloat(1.5)), true, "BOOLEAN"},
		{"HUGEINT vs BIGINT", Call(OpEq, Col("h"), Col("x")), true, "BOOLEAN"},
		{"string order", Call(OpLt, Col("s"), mstr("abd")), true, "BOOLEAN"},
		{"date vs string literal", Call(OpGe, Col("t"), mstr("2024-01-01")), true, "BOOLEAN"},
		{"date equals string literal", Call(OpEq, mstr("2024-01-02"), Col("t")), true, "BOOLEAN"},
		{"NULL = NULL is NULL", Call(OpEq, mnull(), mnull()), nil, "BOOLEAN"},
		{"true AND NULL", Call(OpAnd, Col("b"), mnull()), nil, "BOOLEAN"},
		{"false AND NULL", Call(OpAnd, mbool(false), mnull()), false, "BOOLEAN"},
		{"true OR NULL", Call(OpOr, mnull(), Col("b")), true, "BOOLEAN"},
		{"false OR NULL", Call(OpOr, mbool(false), mnull()), nil, "BOOLEAN"},
		{"NOT", Call(OpNot, Col("b")), false, "BOOLEAN"},
		{"NOT NULL", Call(OpNot, mnull()), nil, "BOOLEAN"},
		{"IN match", Call(OpIn, Col("i"), mint(1), mint(7)), true, "BOOLEAN"},
		{"IN no match with NULL", Call(OpIn, Col("i"), mint(1), mnull()), nil, "BOOLEAN"},
		{"IN of NULL", Call(OpIn, Col("n"), mint(1)), nil, "BOOLEAN"},
		{"NOT IN", Call(OpNotIn, Col("i"), mint(1), mint(2)), true, "BOOLEAN"},
		{"NOT IN with NULL", Call(OpNotIn, Col("i"), mint(1), mnull()), nil, "BOOLEAN"},
		{"BETWEEN inclusive", Call(OpBetween, Col("i"), mint(1), mint(7)), true, "BOOLEAN"},
		{"BETWEEN false despite NULL", Call(OpBetween, Col("i"), mint(8), mnull()), false, "BOOLEAN"},
		{"BETWEEN NULL", Call(OpBetween, Col("i"), mint(1), mnull()), nil, "BOOLEAN"},
		{"IS NULL", Call(OpIsNull, Col("n")), true, "BOOLEAN"},
		{"IS NOT NULL", Call(OpIsNotNull, Col("n")), false, "BOOLEAN"},
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
		e       *Expr
		wantIs  error  // for evaluation errors
		wantSub string // for compile errors
	}{
		{name: "integer division by zero", e: Call(OpDiv, Col("i"), Col("z")), wantIs: ErrDivisionByZero},
		{name: "double division by zero", e: Call(OpDiv, Col("f"), mint(0)), wantIs: ErrDivisionByZero},
		{name: "BIGINT overflow", e: Call(OpAdd, Col("x"), mint(1)), wantIs: ErrOutOfRange},
		{name: "unknown op", e: Call(Op("like"), Col("s"), mstr("a%")), wantSub: `unknown op "like"`},
		{name: "unknown column", e: Col("nope"), wantSub: `column "nope" is not in the merged result`},
		{name: "literal without value", e: &Expr{Op: OpLiteral}, wantSub: "literal without a value"},
		{name: "string vs number", e: Call(OpEq, Col("s"), mint(1)), wantSub: "cannot compare VARCHAR with BIGINT"},
		{name: "bad date literal", e: Call(OpEq, Col("t"), mstr("soon")), wantSub: `cannot read "soon" as DATE`},
		{name: "AND of a number", e: Call(OpAnd, Col("i"), Col("b")), wantSub: "not BOOLEAN"},
		{name: "arithmetic on strings", e: Call(OpAdd, Col("s"), mint(1)), wantSub: "cannot apply ADD to VARCHAR and BIGINT"},
		{name: "wrong arity", e: Call(OpEq, Col("i")), wantSub: `op "eq" has 1 operand(s)`},
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
	for _, e := range []*Expr{
		Call(OpCase, Col("b"), Col("i"), Col("s")),
		Call(OpCoalesce, Col("s"), Col("f")),
		Call(OpCase, Col("i"), mint(1)),
	} {
		if _, err := sc.compile(e); err == nil {
			t.Errorf("compile %+v: no error, want a refusal", e)
		}
	}
}
