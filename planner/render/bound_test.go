package render

import (
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/fedmesh/fedmesh/planner"
	"github.com/fedmesh/fedmesh/planner/internal/plantest"
	"github.com/fedmesh/fedmesh/planner/sqlfront"
)

// boundedCases are the analyst queries whose bounded rendering for each
// dialect is kept in testdata/bounded/<dialect>/<case>.golden. Every sum
// and var_pop output is clamped into [0, 1000].
var boundedCases = []struct {
	name, sql, unit string
	maxGroups       int64
	maxRows         int64
}{
	{"grouped_count_sum_avg", `SELECT region, COUNT(*), COUNT(amount), SUM(amount), AVG(amount) FROM sales WHERE region IN ('north', 'south') GROUP BY region`, "customer_id", 2, 3},
	{"global", `SELECT COUNT(*), SUM(amount) FROM sales WHERE year = 2024`, "customer_id", 1, 5},
	{"variance", `SELECT region, var_pop(amount) FROM sales GROUP BY region`, "customer_id", 4, 1},
	{"quoted_identifiers", `SELECT "Re""gion", product, count(*) FROM "Sales Table" GROUP BY 1, 2`, "we\"ird`unit", 3, 2},
	{"join", `SELECT p.category, COUNT(*), SUM(s.amount) FROM sales s JOIN products p ON s.product_id = p.product_id GROUP BY p.category`, "sales.customer_id", 2, 2},
}

// boundedSubPlan parses sql, splits it for one site and returns the
// sub-plan with a bound clamping every sum and var_pop into [0, 1000].
func boundedSubPlan(t *testing.T, sql, unit string, maxGroups, maxRows int64) (*planner.SubPlan, planner.Bound) {
	t.Helper()
	q, err := sqlfront.Parse(sql)
	if err != nil {
		t.Fatalf("Parse(%q): %v", sql, err)
	}
	sp := planner.Split(q, []string{"site-a"}, plantest.Meta())[0]
	b := planner.Bound{Unit: unit, MaxGroups: maxGroups, MaxRows: maxRows, Clamp: map[string][2]float64{}}
	for _, a := range sp.Aggs {
		if a.Agg != nil && (a.Agg.Func == planner.AggSum || a.Agg.Func == planner.AggVarPop) {
			b.Clamp[a.Name] = [2]float64{0, 1000}
		}
	}
	return sp, b
}

func TestRenderBoundedGolden(t *testing.T) {
	t.Parallel()
	for _, d := range goldenDialects {
		for _, tc := range boundedCases {
			t.Run(d.Name()+"/"+tc.name, func(t *testing.T) {
				t.Parallel()
				sp, b := boundedSubPlan(t, tc.sql, tc.unit, tc.maxGroups, tc.maxRows)
				sql, args, err := RenderBounded(sp, b, d)
				if err != nil {
					t.Fatalf("RenderBounded(%q, %s): %v", tc.sql, d.Name(), err)
				}
				got := goldenText(sql, args)
				path := filepath.Join("testdata", "bounded", d.Name(), tc.name+".golden")
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
					t.Fatalf("read golden file (run go test -run TestRenderBoundedGolden -update): %v", err)
				}
				if diff := cmp.Diff(string(want), got); diff != "" {
					t.Errorf("bounded render %q for %s (-golden +got):\n%s", tc.sql, d.Name(), diff)
				}
			})
		}
	}
}

// The bounds appear in the SQL as the limits of the two row numbers, and
// the unit's NULL rows are left out, in every dialect.
func TestRenderBoundedWritesTheLimits(t *testing.T) {
	t.Parallel()
	for _, d := range goldenDialects {
		sp, b := boundedSubPlan(t, `SELECT region, SUM(amount) FROM sales GROUP BY region`, "customer_id", 7, 11)
		sql, _, err := RenderBounded(sp, b, d)
		if err != nil {
			t.Fatalf("%s: %v", d.Name(), err)
		}
		q := d.QuoteIdent
		for _, want := range []string{
			q("fedmesh_rn") + " <= 11 GROUP BY",
			q("fedmesh_gn") + " <= 7 GROUP BY",
			"PARTITION BY " + q("fedmesh_unit") + ", " + q("g0") + " ORDER BY",
			"PARTITION BY " + q("fedmesh_unit") + " ORDER BY",
			q("customer_id") + " IS NOT NULL",
			"WHEN (CAST(" + q("amount"),
		} {
			if !strings.Contains(sql, want) {
				t.Errorf("%s: bounded SQL lacks %q:\n%s", d.Name(), want, sql)
			}
		}
	}
}

// unknownDialect is a dialect RenderBounded knows no random function for.
type unknownDialect struct{ DuckDB }

func (unknownDialect) Name() string { return "oracle" }

func TestRenderBoundedRefuses(t *testing.T) {
	t.Parallel()
	base := func() (*planner.SubPlan, planner.Bound) {
		sp := &planner.SubPlan{Version: planner.PlanVersion, QueryID: "q", Site: "s", Kind: planner.KindAggregate, Table: "sales", CountColumn: "a0",
			GroupBy: []planner.OutputColumn{{Name: "g0", Expr: planner.Col("region")}},
			Aggs: []planner.OutputColumn{
				{Name: "a0", Agg: &planner.PartialAgg{Func: planner.AggCountStar}},
				{Name: "a1", Agg: &planner.PartialAgg{Func: planner.AggSum, Arg: planner.Col("amount")}},
			}}
		return sp, planner.Bound{Unit: "customer_id", MaxGroups: 2, MaxRows: 3, Clamp: map[string][2]float64{"a1": {0, 100}}}
	}
	addAgg := func(f planner.AggFunc) func(*planner.SubPlan, *planner.Bound) {
		return func(sp *planner.SubPlan, _ *planner.Bound) {
			sp.Aggs = append(sp.Aggs, planner.OutputColumn{Name: "a2", Agg: &planner.PartialAgg{Func: f, Arg: planner.Col("amount")}})
		}
	}
	tests := []struct {
		name    string
		mutate  func(*planner.SubPlan, *planner.Bound)
		dialect Dialect
		want    string
	}{
		{"no unit", func(_ *planner.SubPlan, b *planner.Bound) { b.Unit = "" }, nil, `needs a unit column`},
		{"no bounds at all", func(_ *planner.SubPlan, b *planner.Bound) { *b = planner.Bound{} }, nil, `needs a unit column and limits >= 1`},
		{"zero rows", func(_ *planner.SubPlan, b *planner.Bound) { b.MaxRows = 0 }, nil, `limits >= 1 (got unit "customer_id", 2 groups, 0 rows)`},
		{"zero groups", func(_ *planner.SubPlan, b *planner.Bound) { b.MaxGroups = 0 }, nil, `0 groups, 3 rows`},
		{"negative rows", func(_ *planner.SubPlan, b *planner.Bound) { b.MaxRows = -1 }, nil, `-1 rows`},
		{"sum without clamp", func(_ *planner.SubPlan, b *planner.Bound) { delete(b.Clamp, "a1") }, nil, `sum output "a1" has no clamp bounds`},
		{"var_pop without clamp", addAgg(planner.AggVarPop), nil, `var_pop output "a2" has no clamp bounds`},
		{"clamp bounds reversed", func(_ *planner.SubPlan, b *planner.Bound) { b.Clamp["a1"] = [2]float64{10, -10} }, nil, `clamp bounds [10, -10] of output "a1"`},
		{"clamp bound infinite", func(_ *planner.SubPlan, b *planner.Bound) { b.Clamp["a1"] = [2]float64{0, math.Inf(1)} }, nil, `must be finite`},
		{"clamp bound NaN", func(_ *planner.SubPlan, b *planner.Bound) { b.Clamp["a1"] = [2]float64{math.NaN(), 1} }, nil, `must be finite`},
		{"min", addAgg(planner.AggMin), nil, `aggregate min cannot be computed with bounded contributions`},
		{"max", addAgg(planner.AggMax), nil, `aggregate max cannot be computed with bounded contributions`},
		{"distinct sketch of a column other than the unit", addAgg(planner.AggHLL), nil, `counts only the privacy unit`},
		{"quantile sketch without histogram bins", addAgg(planner.AggQuantileSketch), nil, `needs clamp bounds and a number of histogram bins`},
		{"rows plan", func(sp *planner.SubPlan, _ *planner.Bound) {
			sp.Kind, sp.GroupBy, sp.CountColumn = planner.KindRows, nil, ""
			sp.Aggs = []planner.OutputColumn{{Name: "p0", Expr: planner.Col("amount")}}
		}, nil, `a rows plan cannot be bounded`},
		{"invalid plan", func(sp *planner.SubPlan, _ *planner.Bound) { sp.Table = "" }, nil, `table must be set`},
		{"dialect without random", nil, unknownDialect{}, `dialect "oracle" has no known random function`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			sp, b := base()
			if tc.mutate != nil {
				tc.mutate(sp, &b)
			}
			d := tc.dialect
			if d == nil {
				d = DuckDB{}
			}
			sql, _, err := RenderBounded(sp, b, d)
			if err == nil {
				t.Fatalf("RenderBounded succeeded with %s, want an error containing %q", sql, tc.want)
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Errorf("RenderBounded error %q does not contain %q", err, tc.want)
			}
			if !strings.Contains(err.Error(), `site "s"`) {
				t.Errorf("RenderBounded error %q does not name the site", err)
			}
		})
	}
	if _, _, err := RenderBounded(nil, planner.Bound{}, DuckDB{}); err == nil {
		t.Error("RenderBounded(nil sub-plan) succeeded")
	}
}
