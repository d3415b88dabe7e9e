package planner_test

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/fedmesh/fedmesh/planner"
	"github.com/fedmesh/fedmesh/planner/internal/plantest"
	"github.com/fedmesh/fedmesh/planner/sqlfront"
)

func TestSplitCopiesSitePartAndMeta(t *testing.T) {
	t.Parallel()
	q, err := sqlfront.Parse(`SELECT region, AVG(amount) FROM sales WHERE year = 2024 GROUP BY region HAVING count(*) > 5 ORDER BY 2 LIMIT 3`)
	if err != nil {
		t.Fatal(err)
	}
	meta := planner.SubPlanMeta{QueryID: "q-9", Analyst: "alice", Roles: []string{"analyst"}, Purpose: "audit",
		Deadline: time.Date(2026, 5, 6, 7, 8, 9, 0, time.UTC)}
	sps := planner.Split(q, []string{"north", "south"}, meta)
	if len(sps) != 2 {
		t.Fatalf("Split returned %d sub-plans, want 2", len(sps))
	}
	want := &planner.SubPlan{
		Version: planner.PlanVersion, QueryID: "q-9", Analyst: "alice", Roles: []string{"analyst"}, Purpose: "audit",
		Deadline: meta.Deadline, Site: "north", Kind: planner.KindAggregate, Table: "sales",
		Filter:  planner.Call(planner.OpEq, planner.Col("year"), planner.Lit(planner.Value{Kind: planner.KindInt, Int: 2024})),
		GroupBy: []planner.OutputColumn{{Name: "g0", Expr: planner.Col("region")}},
		Aggs: []planner.OutputColumn{
			{Name: "a0", Agg: &planner.PartialAgg{Func: planner.AggCountStar}},
			{Name: "a1", Agg: &planner.PartialAgg{Func: planner.AggSum, Arg: planner.Col("amount")}},
			{Name: "a2", Agg: &planner.PartialAgg{Func: planner.AggCount, Arg: planner.Col("amount")}},
		},
		CountColumn: "a0",
	}
	if diff := cmp.Diff(want, sps[0]); diff != "" {
		t.Errorf("north sub-plan (-want +got):\n%s", diff)
	}
	if sps[1].Site != "south" {
		t.Errorf("second sub-plan site = %q, want south", sps[1].Site)
	}
	for _, sp := range sps {
		if err := sp.Validate(); err != nil {
			t.Errorf("site %s: %v", sp.Site, err)
		}
	}

	// A site rewriting its plan (a policy row filter, say) must not change
	// another site's plan or the query.
	sps[0].Filter.Args[1].Value.Int = 1999
	sps[0].Aggs[1].Agg.Arg.Column = "salary"
	sps[0].Roles[0] = "admin"
	meta.Roles[0] = "changed"
	if diff := cmp.Diff(sps[1].Filter, q.Filter); diff != "" || q.Filter.Args[1].Value.Int != 2024 {
		t.Errorf("filter shared between sub-plans: %s", diff)
	}
	if sps[1].Aggs[1].Agg.Arg.Column != "amount" || q.Partials[1].Agg.Arg.Column != "amount" {
		t.Error("partial aggregates shared between sub-plans")
	}
	if sps[1].Roles[0] != "analyst" {
		t.Error("roles shared between sub-plans or with the request")
	}
}

func TestSplitRowLimit(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		sql  string
		want *int64
	}{
		{"limit and offset pushed as their sum", `SELECT * FROM sales LIMIT 5 OFFSET 10`, ptr64(15)},
		{"limit alone", `SELECT region FROM sales LIMIT 5`, ptr64(5)},
		{"order by keeps every row", `SELECT region FROM sales ORDER BY region LIMIT 5`, nil},
		{"offset alone is not a limit", `SELECT region FROM sales OFFSET 5`, nil},
		{"aggregates are never limited at sites", `SELECT region, count(*) FROM sales GROUP BY region LIMIT 5`, nil},
		{"overflowing sum is dropped", `SELECT region FROM sales LIMIT 9223372036854775807 OFFSET 1`, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			q, err := sqlfront.Parse(tc.sql)
			if err != nil {
				t.Fatal(err)
			}
			got := planner.Split(q, []string{"a"}, plantest.Meta())[0].Limit
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("site limit (-want +got):\n%s", diff)
			}
		})
	}
}

func ptr64(v int64) *int64 { return &v }
