package enginebridge

import (
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/fedmesh/fedmesh/planner"
	"github.com/fedmesh/fedmesh/planner/render"
)

// The bounded rendering a site uses for differentially private answers
// (render.RenderBounded) runs on every engine and bounds what it promises:
// each privacy unit contributes at most MaxRows random rows to a group and
// to at most MaxGroups random groups, summed values are clamped, and a
// group whose units all stay within the bounds gets its exact answer.

// Bounds of the live bounded tests.
const (
	bndMaxRows   = 2
	bndMaxGroups = 2
	bndLo, bndHi = 0.0, 50.0
	bndRuns      = 5 // runs of each query: the random picks must differ between them
)

// boundedVisits: unit 1 has 20 distinct values in group a and 3 rows in
// each of b..f, far beyond both bounds, and is alone in those groups;
// units 2..4 have 3 rows each in m; units 5..8 stay within the bounds (with
// values to clamp and a NULL); rows without a unit (z only has those)
// belong to no one.
var boundedVisits = func() confTable {
	tb := confTable{Name: "dp visits", Columns: []confColumn{{"person id", "bigint"}, {"g", "text"}, {"x", "double"}}}
	add := func(unit any, g string, x any) { tb.Rows = append(tb.Rows, []any{unit, g, x}) }
	for v := 1; v <= 20; v++ {
		add(int64(1), "a", float64(v))
	}
	for _, g := range []string{"b", "c", "d", "e", "f"} {
		for range 3 {
			add(int64(1), g, 1.0)
		}
	}
	for u := int64(2); u <= 4; u++ {
		for _, x := range []float64{2, 4, 6} {
			add(u, "m", x)
		}
	}
	add(int64(5), "n", 100.0) // clamped to 50
	add(int64(5), "n", -5.0)  // clamped to 0
	add(int64(6), "n", nil)
	add(nil, "n", 3.0)
	add(nil, "z", 1.0)
	add(int64(7), "p", 1.0)
	add(int64(7), "q", 2.0)
	add(int64(8), "p", 3.0)
	return tb
}()

// bndStats are a group's bounded statistics.
type bndStats struct {
	n, nx   float64 // COUNT(*), COUNT(x)
	sum, sq float64 // SUM(clamp(x)), SUM(clamp(x)²)
}

// bndExpect is what the fixture lets a test know of each group without
// knowing the random picks.
type bndExpect struct {
	units int // units with rows in the group
	// count is the group's exact bounded count, Σ min(rows, MaxRows) over
	// its units, when every one of them has at most MaxGroups groups (so
	// none of its groups can be dropped); else -1.
	count float64
	// exact is set when every unit of the group is within both bounds:
	// then the bounded answer is the exact one.
	exact *bndStats
}

// bndExpectations derives per group what bounding guarantees, from the
// fixture rows (units NULL excluded).
func bndExpectations(rows [][]any) map[string]bndExpect {
	type key struct {
		u int64
		g string
	}
	perUG := map[key][]any{}
	groupsOf := map[int64]map[string]bool{}
	for _, r := range rows {
		u, ok := r[0].(int64)
		if !ok {
			continue
		}
		g := r[1].(string)
		perUG[key{u, g}] = append(perUG[key{u, g}], r[2])
		if groupsOf[u] == nil {
			groupsOf[u] = map[string]bool{}
		}
		groupsOf[u][g] = true
	}
	out := map[string]bndExpect{}
	within := map[string]bool{}
	for k, xs := range perUG {
		e, seen := out[k.g]
		if !seen {
			e.exact, within[k.g] = &bndStats{}, true
		}
		e.units++
		if len(groupsOf[k.u]) > bndMaxGroups {
			e.count = -1
		} else if e.count >= 0 {
			e.count += float64(min(len(xs), bndMaxRows))
		}
		if len(xs) > bndMaxRows || len(groupsOf[k.u]) > bndMaxGroups {
			within[k.g] = false
		}
		for _, x := range xs {
			e.exact.n++
			if f, ok := x.(float64); ok {
				c := math.Min(math.Max(f, bndLo), bndHi)
				e.exact.nx, e.exact.sum, e.exact.sq = e.exact.nx+1, e.exact.sum+c, e.exact.sq+c*c
			}
		}
		out[k.g] = e
	}
	for g, e := range out {
		if !within[g] {
			e.exact = nil
			out[g] = e
		}
	}
	return out
}

// bndGroupedPlan is SELECT g, COUNT(*), COUNT(x), SUM(x), VAR_POP(x) GROUP
// BY g over the fixture, as a site's sub-plan.
func bndGroupedPlan() (*planner.SubPlan, planner.Bound) {
	sp := &planner.SubPlan{Version: planner.PlanVersion, QueryID: "bounded", Site: "live", Kind: planner.KindAggregate, Table: boundedVisits.Name, CountColumn: "a0",
		GroupBy: []planner.OutputColumn{{Name: "g0", Expr: planner.Col("g")}},
		Aggs: []planner.OutputColumn{
			{Name: "a0", Agg: &planner.PartialAgg{Func: planner.AggCountStar}},
			{Name: "a1", Agg: &planner.PartialAgg{Func: planner.AggCount, Arg: planner.Col("x")}},
			{Name: "a2", Agg: &planner.PartialAgg{Func: planner.AggSum, Arg: planner.Col("x")}},
			{Name: "a3", Agg: &planner.PartialAgg{Func: planner.AggVarPop, Arg: planner.Col("x")}},
		}}
	return sp, planner.Bound{Unit: "person id", MaxGroups: bndMaxGroups, MaxRows: bndMaxRows,
		Clamp: map[string][2]float64{"a2": {bndLo, bndHi}, "a3": {bndLo, bndHi}}}
}

// bndGlobalPlan is SELECT COUNT(*), SUM(x) WHERE g = 'a' with one row per
// unit: unit 1's one random value of 1..20.
func bndGlobalPlan() (*planner.SubPlan, planner.Bound) {
	sp := &planner.SubPlan{Version: planner.PlanVersion, QueryID: "bounded", Site: "live", Kind: planner.KindAggregate, Table: boundedVisits.Name, CountColumn: "a0",
		Filter: planner.Call(planner.OpEq, planner.Col("g"), planner.Lit(planner.Value{Kind: planner.KindString, Str: "a"})),
		Aggs: []planner.OutputColumn{
			{Name: "a0", Agg: &planner.PartialAgg{Func: planner.AggCountStar}},
			{Name: "a1", Agg: &planner.PartialAgg{Func: planner.AggSum, Arg: planner.Col("x")}},
		}}
	return sp, planner.Bound{Unit: "person id", MaxGroups: 1, MaxRows: 1, Clamp: map[string][2]float64{"a1": {bndLo, bndHi}}}
}

// num reads a result cell as a number: NULL is 0 (a sum over no values),
// decimals arrive as text.
func num(t *testing.T, v any) float64 {
	t.Helper()
	switch x := v.(type) {
	case nil:
		return 0
	case int64:
		return float64(x)
	case uint64:
		return float64(x)
	case float64:
		return x
	case string:
		f, err := strconv.ParseFloat(x, 64)
		if err != nil {
			t.Fatalf("cell %q is not a number", x)
		}
		return f
	}
	t.Fatalf("cell %#v (%T) is not a number", v, v)
	return 0
}

func near(a, b float64) bool { return math.Abs(a-b) <= 1e-9*math.Max(1, math.Abs(b)) }

// runBounded checks bounded rendering on engine e loaded with boundedVisits.
func runBounded(t *testing.T, e Engine) {
	d, err := render.DialectByName(e.Dialect())
	if err != nil {
		t.Fatal(err)
	}
	expect := bndExpectations(boundedVisits.Rows)
	t.Run("grouped", func(t *testing.T) {
		sp, b := bndGroupedPlan()
		sql, args, err := render.RenderBounded(sp, b, d)
		if err != nil {
			t.Fatal(err)
		}
		picks := map[string]bool{} // unit 1's groups, per run
		for run := range bndRuns {
			_, rows := queryRows(t, e, sql, args...)
			got := map[string]bndStats{}
			for _, r := range rows {
				g, ok := r[0].(string)
				if !ok {
					t.Fatalf("group key %#v", r[0])
				}
				got[g] = bndStats{n: num(t, r[1]), nx: num(t, r[2]), sum: num(t, r[3]), sq: num(t, r[4])}
			}
			var unit1 []string
			for g, s := range got {
				ex, ok := expect[g]
				if !ok {
					t.Errorf("run %d: group %q, which only rows without a unit have, is in the answer %v", run, g, s)
					continue
				}
				if lim := float64(ex.units * bndMaxRows); s.n > lim || s.nx > s.n {
					t.Errorf("run %d: group %q counts %v rows (%v values) from %d units; at most %v rows may count", run, g, s.n, s.nx, ex.units, lim)
				}
				if s.sum < s.nx*bndLo-1e-9 || s.sum > s.nx*bndHi+1e-9 {
					t.Errorf("run %d: group %q: clamped sum %v outside [%v·%v, %v·%v]", run, g, s.sum, s.nx, bndLo, s.nx, bndHi)
				}
				if s.sq < s.nx*bndLo*bndLo-1e-9 || s.sq > s.nx*bndHi*bndHi+1e-9 || s.sq*s.nx < s.sum*s.sum-1e-6 {
					t.Errorf("run %d: group %q: sum of squares %v impossible for %v clamped values summing to %v", run, g, s.sq, s.nx, s.sum)
				}
				if ex.count >= 0 && s.n != ex.count {
					t.Errorf("run %d: group %q counts %v rows, want %v (each unit's min(rows, %d))", run, g, s.n, ex.count, bndMaxRows)
				}
				if ex.exact != nil && !(s.n == ex.exact.n && s.nx == ex.exact.nx && near(s.sum, ex.exact.sum) && near(s.sq, ex.exact.sq)) {
					t.Errorf("run %d: group %q is within the bounds: got %+v, want the exact %+v", run, g, s, *ex.exact)
				}
				if len(g) == 1 && strings.Contains("abcdef", g) {
					unit1 = append(unit1, g)
					if s.n != bndMaxRows {
						t.Errorf("run %d: group %q holds only unit 1's rows; counts %v, want %d", run, g, s.n, bndMaxRows)
					}
				}
			}
			for g, ex := range expect {
				if _, ok := got[g]; !ok && ex.count >= 0 {
					t.Errorf("run %d: group %q, whose units have at most %d groups each, is missing", run, g, bndMaxGroups)
				}
			}
			slices.Sort(unit1)
			if len(unit1) != bndMaxGroups {
				t.Errorf("run %d: unit 1 (6 groups, alone in each) appears in groups %v, want exactly %d", run, unit1, bndMaxGroups)
			}
			picks[strings.Join(unit1, "")] = true
		}
		// 15 possible pairs: the same pair bndRuns times has chance 15^-4.
		if len(picks) < 2 {
			t.Errorf("unit 1's groups were the same in all %d runs (%v): the groups are not picked at random\n%s", bndRuns, picks, sql)
		}
		t.Logf("unit 1's groups over %d runs: %v", bndRuns, picks)
	})
	t.Run("global", func(t *testing.T) {
		sp, b := bndGlobalPlan()
		sql, args, err := render.RenderBounded(sp, b, d)
		if err != nil {
			t.Fatal(err)
		}
		seen := map[float64]bool{}
		for run := range bndRuns {
			_, rows := queryRows(t, e, sql, args...)
			if len(rows) != 1 {
				t.Fatalf("run %d: %d rows, want 1", run, len(rows))
			}
			n, s := num(t, rows[0][0]), num(t, rows[0][1])
			if n != 1 || s < 1 || s > 20 || s != math.Trunc(s) {
				t.Errorf("run %d: COUNT(*) %v, SUM(x) %v; want one of unit 1's rows: 1 and one of 1..20", run, n, s)
			}
			seen[s] = true
		}
		// 20 values: the same one bndRuns times has chance 20^-4.
		if len(seen) < 2 {
			t.Errorf("unit 1's one row was the same in all %d runs (%v): rows are not picked at random\n%s", bndRuns, seen, sql)
		}
		t.Logf("unit 1's row over %d runs: %v", bndRuns, fmt.Sprint(seen))
	})
}

func TestBoundedDuckDB(t *testing.T) {
	t.Parallel()
	runBounded(t, openDuckDBFixtures(t, []confTable{boundedVisits}))
}

func TestBoundedPostgres(t *testing.T) {
	t.Parallel()
	e, _ := openPostgresFixtures(t, []confTable{boundedVisits})
	runBounded(t, e)
}

func TestBoundedMySQL(t *testing.T) {
	t.Parallel()
	e, _ := openMySQLFixtures(t, []confTable{boundedVisits})
	runBounded(t, e)
}

func TestBoundedSpark(t *testing.T) {
	t.Parallel()
	runBounded(t, openSparkFixtures(t, []confTable{boundedVisits}))
}

func TestBoundedFlink(t *testing.T) {
	t.Parallel()
	srcs, schemas := writeFlinkCSV(t, []confTable{boundedVisits})
	f, _ := openFlinkLive(t, FlinkConfig{Tables: srcs, Schemas: schemas})
	runBounded(t, f)
}
