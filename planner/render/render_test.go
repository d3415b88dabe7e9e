package render

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/fedmesh/fedmesh/planner"
	"github.com/fedmesh/fedmesh/planner/internal/plantest"
	"github.com/fedmesh/fedmesh/planner/sqlfront"
)

var update = flag.Bool("update", false, "rewrite testdata/render/*.golden from the current output")

// renderSQL parses, splits for one site and renders for DuckDB.
func renderSQL(t testing.TB, sql string) (string, []any) {
	t.Helper()
	return renderSQLFor(t, sql, DuckDB{})
}

// renderSQLFor parses, splits for one site and renders for dialect d.
func renderSQLFor(t testing.TB, sql string, d Dialect) (string, []any) {
	t.Helper()
	q, err := sqlfront.Parse(sql)
	if err != nil {
		t.Fatalf("Parse(%q): %v", sql, err)
	}
	sp := planner.Split(q, []string{"site-a"}, plantest.Meta())[0]
	out, args, err := Render(sp, d)
	if err != nil {
		t.Fatalf("Render(%q, %s): %v", sql, d.Name(), err)
	}
	return out, args
}

func goldenText(sql string, args []any) string {
	var b strings.Builder
	fmt.Fprintf(&b, "-- sql --\n%s\n-- args --\n", sql)
	for i, a := range args {
		fmt.Fprintf(&b, "$%d %T %#v\n", i+1, a, a)
	}
	return b.String()
}

// goldenDialects are the dialects whose rendering of plantest.RenderCases
// is kept in testdata/render/<dialect>/<case>.golden.
var goldenDialects = []Dialect{DuckDB{}, Postgres{}, MySQL{}, Spark{}, Flink{}}

func TestRenderGolden(t *testing.T) {
	t.Parallel()
	for _, d := range goldenDialects {
		for _, tc := range plantest.RenderCases {
			t.Run(d.Name()+"/"+tc.Name, func(t *testing.T) {
				t.Parallel()
				got := goldenText(renderSQLFor(t, tc.SQL, d))
				path := filepath.Join("testdata", "render", d.Name(), tc.Name+".golden")
				if *update {
					if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
						t.Fatal(err)
					}
					if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
						t.Fatal(err)
					}
					return
				}
				want, err := os.ReadFile(path)
				if err != nil {
					t.Fatalf("read golden file (run go test -run TestRenderGolden -update): %v", err)
				}
				if diff := cmp.Diff(string(want), got); diff != "" {
					t.Errorf("render %q for %s (-golden +got):\n%s", tc.SQL, d.Name(), diff)
				}
			})
		}
	}
}

func TestRenderKeepsStringLiteralsOutOfSQL(t *testing.T) {
	t.Parallel()
	const evil = `'; DROP TABLE sales; --`
	sql, args := renderSQL(t, `SELECT region, count(*) FROM sales WHERE region = '''; DROP TABLE sales; --' OR product IN ('x', '"; DELETE') GROUP BY region`)
	for _, frag := range []string{"DROP", "DELETE", "--", ";", "'"} {
		if strings.Contains(sql, frag) {
			t.Errorf("rendered SQL contains %q: %s", frag, sql)
		}
	}
	want := []any{evil, "x", `"; DELETE`}
	if diff := cmp.Diff(want, args); diff != "" {
		t.Errorf("args (-want +got):\n%s", diff)
	}
}

// TestRenderFromStructureOnly renders a sub-plan built by hand: the renderer
// needs no SQL text, only the plan.
func TestRenderFromStructureOnly(t *testing.T) {
	t.Parallel()
	limit := int64(7)
	sp := &planner.SubPlan{Version: planner.PlanVersion, QueryID: "q", Kind: planner.KindRows, Table: "t", Limit: &limit,
		Aggs: []planner.OutputColumn{{Name: "p0", Expr: planner.Col("x")}}, Filter: planner.Call(planner.OpGt, planner.Col("x"), planner.Lit(planner.Value{Kind: planner.KindFloat, Float: 1.5}))}
	sql, args, err := Render(sp, DuckDB{})
	if err != nil {
		t.Fatal(err)
	}
	if want := `SELECT "x" AS "p0" FROM "t" WHERE ("x" > $1) LIMIT $2`; sql != want {
		t.Errorf("sql = %s, want %s", sql, want)
	}
	if diff := cmp.Diff([]any{1.5, int64(7)}, args); diff != "" {
		t.Errorf("args (-want +got):\n%s", diff)
	}
}

func TestRenderRefusesBadPlans(t *testing.T) {
	t.Parallel()
	base := func() *planner.SubPlan {
		return &planner.SubPlan{Version: planner.PlanVersion, QueryID: "q", Site: "s", Kind: planner.KindAggregate, Table: "sales", CountColumn: "a0",
			GroupBy: []planner.OutputColumn{{Name: "g0", Expr: planner.Col("region")}},
			Aggs:    []planner.OutputColumn{{Name: "a0", Agg: &planner.PartialAgg{Func: planner.AggCountStar}}}}
	}
	tests := []struct {
		name   string
		mutate func(*planner.SubPlan)
		want   string
	}{
		{"unknown op", func(s *planner.SubPlan) {
			s.Filter = planner.Call(planner.Op("ilike"), planner.Col("a"), planner.Lit(planner.Value{Kind: planner.KindString, Str: "x"}))
		}, `unknown op "ilike"`},
		{"wrong operand count", func(s *planner.SubPlan) { s.Filter = planner.Call(planner.OpEq, planner.Col("a")) }, `op "eq" has 1 operands`},
		{"unknown aggregate", func(s *planner.SubPlan) {
			s.Aggs = append(s.Aggs, planner.OutputColumn{Name: "a1", Agg: &planner.PartialAgg{Func: "median", Arg: planner.Col("x")}})
		}, `unknown aggregate "median"`},
		{"unknown literal kind", func(s *planner.SubPlan) {
			s.Filter = planner.Call(planner.OpEq, planner.Col("a"), planner.Lit(planner.Value{Kind: "date"}))
		}, `unknown literal kind "date"`},
		{"integer division", func(s *planner.SubPlan) {
			s.Filter = planner.Call(planner.OpGt, planner.Call(planner.OpDiv, planner.Col("a"), planner.Col("b")), planner.Col("c"))
		}, "engines disagree on division"},
		{"unknown cast type", func(s *planner.SubPlan) {
			s.Filter = planner.Call(planner.OpCast, planner.Col("a"), planner.Lit(planner.Value{Kind: planner.KindString, Str: "date; DROP"}))
		}, "unknown target type"},
		{"like pattern with backslash", func(s *planner.SubPlan) {
			s.Filter = planner.Call(planner.OpLike, planner.Col("a"), planner.Lit(planner.Value{Kind: planner.KindString, Str: `x\%`}))
		}, "backslash"},
		{"like pattern not literal", func(s *planner.SubPlan) { s.Filter = planner.Call(planner.OpLike, planner.Col("a"), planner.Col("b")) }, "string literal"},
		{"empty identifier", func(s *planner.SubPlan) { s.Table = "" }, "table must be set"},
		{"nul in identifier", func(s *planner.SubPlan) { s.GroupBy[0].Expr = planner.Col("a\x00b") }, "contains NUL"},
		{"missing count column", func(s *planner.SubPlan) { s.CountColumn = "" }, "no count column"},
		{"future version", func(s *planner.SubPlan) { s.Version = planner.PlanVersion + 1 }, "not supported"},
		{"group key with aggregate", func(s *planner.SubPlan) {
			s.GroupBy[0].Agg = &planner.PartialAgg{Func: planner.AggSum, Arg: planner.Col("x")}
		}, "carries an aggregate"},
		{"output with expression and aggregate", func(s *planner.SubPlan) { s.Aggs[0].Expr = planner.Col("x") }, "both an expression and an aggregate"},
		{"rows plan with aggregate", func(s *planner.SubPlan) { s.Kind, s.GroupBy, s.CountColumn = planner.KindRows, nil, "" }, "must be an expression"},
		{"star and projections", func(s *planner.SubPlan) {
			s.Kind, s.GroupBy, s.CountColumn, s.Star = planner.KindRows, nil, "", true
			s.Aggs = []planner.OutputColumn{{Name: "p0", Expr: planner.Col("x")}}
		}, "both * and projections"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			sp := base()
			tc.mutate(sp)
			sql, _, err := Render(sp, DuckDB{})
			if err == nil {
				t.Fatalf("Render succeeded with %s, want error containing %q", sql, tc.want)
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Errorf("Render error %q does not contain %q", err, tc.want)
			}
		})
	}
}
