package planner

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

var update = flag.Bool("update", false, "rewrite testdata/render/*.golden from the current output")

// renderCases are rendered for DuckDB and compared with golden files.
var renderCases = []struct{ name, sql string }{
	{"global_count", `SELECT count(*) FROM sales`},
	{"group_filter", `SELECT region, SUM(amount) AS total FROM sales WHERE year = 2024 GROUP BY region`},
	{"avg_two_keys", `SELECT region, product, AVG(amount) FROM sales WHERE region IN ('north', 'south') GROUP BY 1, 2`},
	{"having_order_limit", `SELECT region, sum(amount) AS total FROM sales GROUP BY region HAVING max(amount) > 10 ORDER BY total DESC LIMIT 3`},
	{"where_every_op", `SELECT min(amount), max(amount) FROM sales WHERE NOT (a = 1 OR b <> 'x') AND c < 2.5 AND d <= -3 AND e > true AND f >= 0 AND g NOT IN (1, 2) AND h BETWEEN 1 AND 9 AND i NOT BETWEEN 'a' AND 'b' AND j IS NULL AND k IS NOT NULL AND l = NULL`},
	{"quoted_identifiers", `SELECT "Re""gion", count("Amount") FROM "Sales Table" GROUP BY "Re""gion"`},
	{"rows_star_limit", `SELECT * FROM sales WHERE year = 2024 LIMIT 5 OFFSET 10`},
	{"rows_projection_ordered", `SELECT region, amount FROM sales ORDER BY amount LIMIT 5`},
	{"rows_projection_limit", `SELECT s.region, s.amount AS a FROM sales s WHERE s.amount > 100 LIMIT 20`},
	{"expressions", `SELECT CASE WHEN amount > 100 THEN 'big' ELSE 'small' END AS size, COALESCE(status, 'none') AS st, count(*), sum(amount * 2.5), avg(CAST(year AS bigint)) FROM sales WHERE region LIKE 'n%' AND CAST(year AS text) <> '2020' AND amount / 2.0 NOT BETWEEN -1 AND 1 AND CAST(amount AS bigint) / 7 <> 3 GROUP BY 1, 2`},
	{"dates", `SELECT EXTRACT(year FROM day) AS y, count(*) FROM orders WHERE day >= DATE '2024-01-01' GROUP BY 1`},
	{"variance", `SELECT region, stddev_samp(amount), var_pop(year) FROM sales GROUP BY region`},
	{"sketch_distinct", `SELECT region, COUNT(DISTINCT customer_id), sum(amount) FROM sales WHERE year = 2024 GROUP BY region`},
	{"sketch_quantile", `SELECT percentile_cont(0.9) WITHIN GROUP (ORDER BY amount), approx_quantile(amount, 0.5), APPROX_COUNT_DISTINCT(customer_id), var_pop(amount) FROM sales WHERE status <> 'void'`},
	{"string_literals", `SELECT count(*) FROM sales WHERE region = 'it''s' OR region = E'back\\slash\' OR 1=1 --' OR region IN ('', 'zürich', E'tab\there')`},
}

func testMeta() SubPlanMeta {
	return SubPlanMeta{QueryID: "q-1", Analyst: "alice", Deadline: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)}
}

// renderSQL parses, splits for one site and renders for DuckDB.
func renderSQL(t testing.TB, sql string) (string, []any) {
	t.Helper()
	return renderSQLFor(t, sql, DuckDB{})
}

// renderSQLFor parses, splits for one site and renders for dialect d.
func renderSQLFor(t testing.TB, sql string, d Dialect) (string, []any) {
	t.Helper()
	q, err := Parse(sql)
	if err != nil {
		t.Fatalf("Parse(%q): %v", sql, err)
	}
	sp := Split(q, []string{"site-a"}, testMeta())[0]
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

// goldenDialects are the dialects whose rendering of renderCases is kept in
// testdata/render/<dialect>/<case>.golden.
var goldenDialects = []Dialect{DuckDB{}, Postgres{}, MySQL{}, Spark{}, Flink{}}

func TestRenderGolden(t *testing.T) {
	t.Parallel()
	for _, d := range goldenDialects {
		for _, tc := range renderCases {
			t.Run(d.Name()+"/"+tc.name, func(t *testing.T) {
				t.Parallel()
				got := goldenText(renderSQLFor(t, tc.sql, d))
				path := filepath.Join("testdata", "render", d.Name(), tc.name+".golden")
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
					t.Errorf("render %q for %s (-golden +got):\n%s", tc.sql, d.Name(), diff)
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
	sp := &SubPlan{Version: PlanVersion, QueryID: "q", Kind: KindRows, Table: "t", Limit: &limit,
		Aggs: []OutputColumn{{Name: "p0", Expr: Col("x")}}, Filter: Call(OpGt, Col("x"), Lit(Value{Kind: KindFloat, Float: 1.5}))}
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
	base := func() *SubPlan {
		return &SubPlan{Version: PlanVersion, QueryID: "q", Site: "s", Kind: KindAggregate, Table: "sales", CountColumn: "a0",
			GroupBy: []OutputColumn{{Name: "g0", Expr: Col("region")}},
			Aggs:    []OutputColumn{{Name: "a0", Agg: &PartialAgg{Func: AggCountStar}}}}
	}
	tests := []struct {
		name   string
		mutate func(*SubPlan)
		want   string
	}{
		{"unknown op", func(s *SubPlan) { s.Filter = Call(Op("ilike"), Col("a"), Lit(Value{Kind: KindString, Str: "x"})) }, `unknown op "ilike"`},
		{"wrong operand count", func(s *SubPlan) { s.Filter = Call(OpEq, Col("a")) }, `op "eq" has 1 operands`},
		{"unknown aggregate", func(s *SubPlan) {
			s.Aggs = append(s.Aggs, OutputColumn{Name: "a1", Agg: &PartialAgg{Func: "median", Arg: Col("x")}})
		}, `unknown aggregate "median"`},
		{"unknown literal kind", func(s *SubPlan) { s.Filter = Call(OpEq, Col("a"), Lit(Value{Kind: "date"})) }, `unknown literal kind "date"`},
		{"integer division", func(s *SubPlan) { s.Filter = Call(OpGt, Call(OpDiv, Col("a"), Col("b")), Col("c")) }, "engines disagree on division"},
		{"unknown cast type", func(s *SubPlan) { s.Filter = Call(OpCast, Col("a"), Lit(Value{Kind: KindString, Str: "date; DROP"})) }, "unknown target type"},
		{"like pattern with backslash", func(s *SubPlan) { s.Filter = Call(OpLike, Col("a"), Lit(Value{Kind: KindString, Str: `x\%`})) }, "backslash"},
		{"like pattern not literal", func(s *SubPlan) { s.Filter = Call(OpLike, Col("a"), Col("b")) }, "string literal"},
		{"empty identifier", func(s *SubPlan) { s.Table = "" }, "table must be set"},
		{"nul in identifier", func(s *SubPlan) { s.GroupBy[0].Expr = Col("a\x00b") }, "contains NUL"},
		{"missing count column", func(s *SubPlan) { s.CountColumn = "" }, "no count column"},
		{"future version", func(s *SubPlan) { s.Version = PlanVersion + 1 }, "not supported"},
		{"group key with aggregate", func(s *SubPlan) { s.GroupBy[0].Agg = &PartialAgg{Func: AggSum, Arg: Col("x")} }, "carries an aggregate"},
		{"output with expression and aggregate", func(s *SubPlan) { s.Aggs[0].Expr = Col("x") }, "both an expression and an aggregate"},
		{"rows plan with aggregate", func(s *SubPlan) { s.Kind, s.GroupBy, s.CountColumn = KindRows, nil, "" }, "must be an expression"},
		{"star and projections", func(s *SubPlan) {
			s.Kind, s.GroupBy, s.CountColumn, s.Star = KindRows, nil, "", true
			s.Aggs = []OutputColumn{{Name: "p0", Expr: Col("x")}}
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
