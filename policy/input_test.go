package policy

import (
	"bytes"
	"encoding/json"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/open-policy-agent/opa/v1/ast"

	"github.com/fedmesh/fedmesh/planner"
)

// filteredPlan is, as structure, SELECT region, year + region, COUNT(amount),
// SUM(amount * 2), MIN(amount) FROM sales WHERE day BETWEEN 0 AND 7 AND
// name = 'x' AND flag = true AND ratio > 0.5 AND note IS NULL AND note <> NULL
// GROUP BY 1, 2: every literal kind, nested ops, expression arguments.
func filteredPlan() *planner.SubPlan {
	lit := func(v planner.Value) *planner.Expr { return planner.Lit(v) }
	return &planner.SubPlan{
		Version: planner.PlanVersion, QueryID: "q-7", Analyst: "bob", Purpose: "audit", Site: "b",
		Kind: planner.KindAggregate, Table: "sales",
		Filter: planner.Call(planner.OpAnd,
			planner.Call(planner.OpBetween, planner.Col("day"), lit(planner.Value{Kind: planner.KindInt, Int: 0}), lit(planner.Value{Kind: planner.KindInt, Int: 7})),
			planner.Call(planner.OpEq, planner.Col("name"), lit(planner.Value{Kind: planner.KindString, Str: "x"})),
			planner.Call(planner.OpEq, planner.Col("flag"), lit(planner.Value{Kind: planner.KindBool, Bool: true})),
			planner.Call(planner.OpGt, planner.Col("ratio"), lit(planner.Value{Kind: planner.KindFloat, Float: 0.5})),
			planner.Call(planner.OpIsNull, planner.Col("note")),
			planner.Call(planner.OpNe, planner.Col("note"), lit(planner.Value{Kind: planner.KindNull})),
		),
		GroupBy: []planner.OutputColumn{
			{Name: "g0", Expr: planner.Col("region")},
			{Name: "g1", Expr: planner.Call(planner.OpAdd, planner.Col("year"), planner.Col("region"))},
		},
		Aggs: []planner.OutputColumn{
			{Name: "a0", Agg: &planner.PartialAgg{Func: planner.AggCount, Arg: planner.Col("amount")}},
			{Name: "a1", Agg: &planner.PartialAgg{Func: planner.AggSum, Arg: planner.Call(planner.OpMul, planner.Col("amount"), lit(planner.Value{Kind: planner.KindInt, Int: 2}))}},
			{Name: "a2", Agg: &planner.PartialAgg{Func: planner.AggMin, Arg: planner.Col("amount")}},
			{Name: "a3", Agg: &planner.PartialAgg{Func: planner.AggCountStar}},
		},
		CountColumn: "a3",
	}
}

func TestNewInput(t *testing.T) {
	t.Parallel()
	in := NewInput(filteredPlan())
	want := PlanInput{
		Kind:   "aggregate",
		Tables: []string{"sales"},
		Columns: []planner.ColumnUse{
			{Table: "sales", Column: "region", Use: "group_key"},
			{Table: "sales", Column: "year", Use: "group_key"},
			{Table: "sales", Column: "amount", Use: "aggregate_arg", Function: "count"},
			{Table: "sales", Column: "amount", Use: "aggregate_arg", Function: "sum"},
			{Table: "sales", Column: "amount", Use: "aggregate_arg", Function: "min"},
			{Table: "sales", Column: "day", Use: "filter"},
			{Table: "sales", Column: "name", Use: "filter"},
			{Table: "sales", Column: "flag", Use: "filter"},
			{Table: "sales", Column: "ratio", Use: "filter"},
			{Table: "sales", Column: "note", Use: "filter"},
		},
		GroupBy: []string{"region", "year"},
		Aggregates: []AggregateInput{
			{Function: "count", Column: "amount"},
			{Function: "sum", Arg: planner.Call(planner.OpMul, planner.Col("amount"), planner.Lit(planner.Value{Kind: planner.KindInt, Int: 2}))},
			{Function: "min", Column: "amount"},
			{Function: "count_star", Column: "*"},
		},
		Filter: filteredPlan().Filter,
	}
	if diff := cmp.Diff(want, in.Plan); diff != "" {
		t.Errorf("Plan (-want +got):\n%s", diff)
	}
	if in.Version != InputVersion || in.Site != "b" || in.QueryID != "q-7" || in.Analyst.ID != "bob" || in.Purpose != "audit" {
		t.Errorf("header = %+v", in)
	}
	if in.Analyst.Roles == nil {
		t.Errorf("Analyst.Roles is nil; a bundle would see null instead of []")
	}
}

// TestInputValueMatchesJSON guards the contract: what a bundle evaluates is
// exactly the JSON document in README.md (and in audit records).
func TestInputValueMatchesJSON(t *testing.T) {
	t.Parallel()
	star := filteredPlan()
	star.Kind, star.Star, star.GroupBy, star.Aggs, star.Filter = planner.KindRows, true, nil, nil, nil
	for _, tc := range []struct {
		name string
		plan *planner.SubPlan
	}{{"aggregate with filter", filteredPlan()}, {"select star", star}} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			in := NewInput(tc.plan)
			got, err := in.astValue()
			if err != nil {
				t.Fatalf("astValue: %v", err)
			}
			raw, err := json.Marshal(in)
			if err != nil {
				t.Fatal(err)
			}
			want, err := ast.ValueFromReader(bytes.NewReader(raw))
			if err != nil {
				t.Fatal(err)
			}
			if got.Compare(want) != 0 {
				t.Errorf("astValue differs from JSON encoding\n got: %v\nwant: %v", got, want)
			}
		})
	}
}

func TestInputValueRefusesUnknownOp(t *testing.T) {
	t.Parallel()
	sp := filteredPlan()
	sp.Aggs[1].Agg.Arg = planner.Call("concat", planner.Col("amount"))
	if _, err := NewInput(sp).astValue(); err == nil {
		t.Fatal("astValue accepted op \"concat\"")
	}
}
