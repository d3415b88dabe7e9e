package merge

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/fedmesh/fedmesh/planner"
)

// finishParts is one site's groups a..f with counts n and sums s:
//
//	g0  a   b    c   d  e    f
//	n   1   2    3   0  2    3
//	s   10  NULL 10  5  NULL -1
func finishParts(t *testing.T) []Partial {
	return []Partial{
		mpart("a", mbatch(t,
			mc("g0", tstr, "a", "b", "c", "d"),
			mc("a0", ti64, 1, 1, 3, 0),
			mc("a1", ti64, 10, nil, 4, 5))),
		mpart("b", mbatch(t,
			mc("g0", tstr, "b", "c", "e", "f"),
			mc("a0", ti64, 1, 0, 2, 3),
			mc("a1", ti64, nil, 6, nil, -1))),
	}
}

func finishQuery() *planner.Query {
	return mquery([]string{"g0"}, []planner.MergeAgg{magg("n", planner.MergeCount, "a0"), magg("s", planner.MergeSum, "a1")},
		mout("g0", planner.Col("g0")))
}

// keysOf returns the first column of every row.
func keysOf(r *Result) []any {
	out := []any{}
	for _, row := range r.Rows {
		out = append(out, row[0])
	}
	return out
}

func TestMergeHaving(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		having *planner.Expr
		want   []any
	}{
		{"AND drops NULL", planner.Call(planner.OpAnd, planner.Call(planner.OpGt, planner.Col("s"), mint(5)), planner.Call(planner.OpGe, planner.Col("n"), mint(2))), []any{"c"}},
		{"OR keeps NULL OR true", planner.Call(planner.OpOr, planner.Call(planner.OpGt, planner.Col("s"), mint(5)), planner.Call(planner.OpGe, planner.Col("n"), mint(2))), []any{"a", "b", "c", "e", "f"}},
		{"IS NULL", planner.Call(planner.OpOr, planner.Call(planner.OpIsNull, planner.Col("s")), planner.Call(planner.OpLt, planner.Col("s"), mint(0))), []any{"b", "e", "f"}},
		{"NOT of NULL is dropped", planner.Call(planner.OpNot, planner.Call(planner.OpEq, planner.Col("s"), mint(10))), []any{"d", "f"}},
		{"IN with a NULL item", planner.Call(planner.OpIn, planner.Col("s"), mint(10), mnull()), []any{"a", "c"}},
		{"NOT IN with a NULL item keeps nothing", planner.Call(planner.OpNotIn, planner.Col("s"), mint(10), mnull()), []any{}},
		{"NOT IN", planner.Call(planner.OpNotIn, planner.Col("s"), mint(10), mint(5)), []any{"f"}},
		{"BETWEEN", planner.Call(planner.OpBetween, planner.Col("n"), mint(2), mint(3)), []any{"b", "c", "e", "f"}},
		{"comparison with NULL", planner.Call(planner.OpGt, planner.Col("s"), mnull()), []any{}},
		{"true", mbool(true), []any{"a", "b", "c", "d", "e", "f"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			q := finishQuery()
			q.Merge.Having = tt.having
			q.Merge.OrderBy = []planner.Order{{Expr: planner.Col("g0")}}
			got, err := Merge(context.Background(), q, finishParts(t))
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, keysOf(got)); diff != "" {
				t.Errorf("kept groups mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

func TestMergeOrderLimit(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		order  []planner.Order
		limit  *int64
		offset int64
		want   []any
	}{
		{"DESC puts NULLs first, ties stable", []planner.Order{{Expr: planner.Col("s"), Desc: true}}, nil, 0, []any{"b", "e", "a", "c", "d", "f"}},
		{"ASC puts NULLs last", []planner.Order{{Expr: planner.Col("s")}}, nil, 0, []any{"f", "d", "a", "c", "b", "e"}},
		{"DESC NULLS LAST", []planner.Order{{Expr: planner.Col("s"), Desc: true, NullsFirst: mboolp(false)}}, nil, 0, []any{"a", "c", "d", "f", "b", "e"}},
		{"ASC NULLS FIRST", []planner.Order{{Expr: planner.Col("s"), NullsFirst: mboolp(true)}}, nil, 0, []any{"b", "e", "f", "d", "a", "c"}},
		{"two keys", []planner.Order{{Expr: planner.Col("n"), Desc: true}, {Expr: planner.Col("g0"), Desc: true}}, nil, 0, []any{"f", "c", "e", "b", "a", "d"}},
		{"expression", []planner.Order{{Expr: planner.Call(planner.OpNeg, planner.Col("n"))}}, nil, 0, []any{"c", "f", "b", "e", "a", "d"}},
		{"output alias", []planner.Order{{Expr: planner.Col("total"), Desc: true}}, nil, 0, []any{"b", "e", "a", "c", "d", "f"}},
		{"LIMIT", []planner.Order{{Expr: planner.Col("g0")}}, mi64p(2), 0, []any{"a", "b"}},
		{"OFFSET", []planner.Order{{Expr: planner.Col("g0")}}, nil, 4, []any{"e", "f"}},
		{"OFFSET and LIMIT", []planner.Order{{Expr: planner.Col("g0")}}, mi64p(2), 1, []any{"b", "c"}},
		{"OFFSET past the end", []planner.Order{{Expr: planner.Col("g0")}}, nil, 10, []any{}},
		{"LIMIT 0", []planner.Order{{Expr: planner.Col("g0")}}, mi64p(0), 0, []any{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			q := finishQuery()
			q.Merge.Outputs = append(q.Merge.Outputs, mout("total", planner.Col("s")))
			q.Merge.OrderBy, q.Merge.Limit, q.Merge.Offset = tt.order, tt.limit, tt.offset
			got, err := Merge(context.Background(), q, finishParts(t))
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, keysOf(got)); diff != "" {
				t.Errorf("order mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

func TestMergeOutputExpressions(t *testing.T) {
	t.Parallel()
	q := finishQuery()
	q.Merge.Outputs = []planner.Output{
		mout("g0", planner.Col("g0")),
		mout("per", planner.Call(planner.OpDiv, planner.Col("s"), planner.Col("n"))),
		mout("lin", planner.Call(planner.OpAdd, planner.Call(planner.OpMul, planner.Col("s"), mint(2)), mint(1))),
		mout("neg", planner.Call(planner.OpNeg, planner.Col("s"))),
		mout("half", planner.Call(planner.OpDiv, planner.Col("s"), mfloat(2))),
		mout("big", planner.Call(planner.OpGt, planner.Col("n"), mint(1))),
	}
	q.Merge.Having = planner.Call(planner.OpAnd, planner.Call(planner.OpGt, planner.Col("n"), mint(0)), planner.Call(planner.OpIsNotNull, planner.Col("s")))
	q.Merge.OrderBy = []planner.Order{{Expr: planner.Col("g0")}}
	got, err := Merge(context.Background(), q, finishParts(t))
	if err != nil {
		t.Fatal(err)
	}
	want := &Result{
		Columns: mcols("g0", "VARCHAR", "per", "HUGEINT", "lin", "HUGEINT", "neg", "HUGEINT", "half", "DOUBLE", "big", "BOOLEAN"),
		Rows: [][]any{
			{"a", int64(10), int64(21), int64(-10), 5.0, false},
			{"c", int64(3), int64(21), int64(-10), 5.0, true},
			{"f", int64(0), int64(-1), int64(1), -0.5, true}, // -1/3 truncates toward zero
		},
	}
	if diff := cmp.Diff(want, got, mergeCmpOpts); diff != "" {
		t.Errorf("Merge() mismatch (-want +got):\n%s", diff)
	}
}

func TestMergeEvalErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		mutate  func(q *planner.Query)
		wantIs  error
		wantSub []string
	}{
		{
			name: "division by zero names the output",
			mutate: func(q *planner.Query) {
				q.Merge.Outputs = append(q.Merge.Outputs, mout("ratio", planner.Call(planner.OpDiv, planner.Col("s"), planner.Col("n"))))
			},
			wantIs:  ErrDivisionByZero,
			wantSub: []string{`output "ratio"`, "division by zero"},
		},
		{
			name: "division by zero in HAVING",
			mutate: func(q *planner.Query) {
				q.Merge.Having = planner.Call(planner.OpGt, planner.Call(planner.OpDiv, planner.Col("s"), planner.Col("n")), mint(0))
			},
			wantIs:  ErrDivisionByZero,
			wantSub: []string{"HAVING", "division by zero"},
		},
		{
			name: "unknown op",
			mutate: func(q *planner.Query) {
				q.Merge.Outputs[0].Expr = planner.Call(planner.Op("like"), planner.Col("g0"), mstr("x%"))
			},
			wantSub: []string{`output "g0"`, `unknown op "like"`},
		},
		{
			name:    "unknown column",
			mutate:  func(q *planner.Query) { q.Merge.OrderBy = []planner.Order{{Expr: planner.Col("zz")}} },
			wantSub: []string{"ORDER BY item 1", `column "zz"`},
		},
		{
			name:    "HAVING that is not boolean",
			mutate:  func(q *planner.Query) { q.Merge.Having = planner.Col("n") },
			wantSub: []string{"HAVING", "BIGINT"},
		},
		{
			name:    "negative LIMIT",
			mutate:  func(q *planner.Query) { q.Merge.Limit = mi64p(-1) },
			wantSub: []string{"LIMIT must not be negative"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			q := finishQuery()
			tt.mutate(q)
			_, err := Merge(context.Background(), q, finishParts(t))
			if err == nil {
				t.Fatal("Merge() succeeded, want an error")
			}
			if tt.wantIs != nil && !errors.Is(err, tt.wantIs) {
				t.Errorf("error %q is not %v", err, tt.wantIs)
			}
			for _, w := range tt.wantSub {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not mention %s", err, w)
				}
			}
		})
	}
}

func TestMergeRows(t *testing.T) {
	t.Parallel()
	parts := func(t *testing.T) []Partial {
		return []Partial{
			mpart("a", mbatch(t, mc("p0", ti32, 3, 1), mc("p1", tstr, "c", "a"))),
			mpart("b", mbatch(t, mc("p0", ti64, 2, nil), mc("p1", tlstr, "b", "n"))),
		}
	}
	tests := []struct {
		name string
		q    *planner.Query
		want *Result
	}{
		{
			name: "concat, ORDER BY DESC, LIMIT",
			q: &planner.Query{Kind: planner.KindRows, Merge: planner.MergePlan{
				Outputs: []planner.Output{mout("id", planner.Col("p0")), mout("name", planner.Col("p1"))},
				OrderBy: []planner.Order{{Expr: planner.Col("p0"), Desc: true}},
				Limit:   mi64p(3),
			}},
			want: &Result{Columns: mcols("id", "BIGINT", "name", "VARCHAR"),
				Rows: [][]any{{nil, "n"}, {int64(3), "c"}, {int64(2), "b"}}},
		},
		{
			name: "ORDER BY an output alias with OFFSET",
			q: &planner.Query{Kind: planner.KindRows, Merge: planner.MergePlan{
				Outputs: []planner.Output{mout("name", planner.Col("p1"))},
				OrderBy: []planner.Order{{Expr: planner.Col("name")}},
				Offset:  1,
			}},
			want: &Result{Columns: mcols("name", "VARCHAR"), Rows: [][]any{{"b"}, {"c"}, {"n"}}},
		},
		{
			name: "star keeps site order",
			q:    &planner.Query{Kind: planner.KindRows, Star: true},
			want: &Result{Columns: mcols("p0", "BIGINT", "p1", "VARCHAR"),
				Rows: [][]any{{int64(3), "c"}, {int64(1), "a"}, {int64(2), "b"}, {nil, "n"}}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := Merge(context.Background(), tt.q, parts(t))
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, got, mergeCmpOpts); diff != "" {
				t.Errorf("Merge() mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

func TestMergeRowsMissingColumn(t *testing.T) {
	t.Parallel()
	q := &planner.Query{Kind: planner.KindRows, Merge: planner.MergePlan{Outputs: []planner.Output{mout("x", planner.Col("p1"))}}}
	_, err := Merge(context.Background(), q, []Partial{
		mpart("a", mbatch(t, mc("p1", tstr, "x"))),
		mpart("west", mbatch(t, mc("p0", tstr, "y"))),
	})
	if err == nil || !strings.Contains(err.Error(), `site "west"`) || !strings.Contains(err.Error(), `"p1"`) {
		t.Fatalf("Merge() error = %v, want one naming site \"west\" and column \"p1\"", err)
	}
}
