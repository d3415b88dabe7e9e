package merge

import (
	"context"
	"encoding/json"
	"math"
	"math/big"
	"slices"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/google/go-cmp/cmp"

	"github.com/fedmesh/fedmesh/planner"
	"github.com/fedmesh/fedmesh/planner/internal/plantest"
	"github.com/fedmesh/fedmesh/planner/sqlfront"
)

func TestParseSketchAggregates(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		sql      string
		partials []string // func(arg column) of every partial, in order
		merges   []string // func[quantile](inputs)
	}{
		{"count distinct and approx share one sketch",
			`SELECT region, COUNT(DISTINCT customer_id), APPROX_COUNT_DISTINCT(customer_id) FROM sales GROUP BY region`,
			[]string{"count_star()", "hll(customer_id)"}, []string{"approx_count_distinct[0](a1)"}},
		{"percentile_cont and approx_quantile share one sketch",
			`SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY amount), approx_quantile(amount, 0.9), percentile_cont(0.1) WITHIN GROUP (ORDER BY amount DESC) FROM sales`,
			[]string{"count_star()", "quantile_sketch(amount)"},
			// DESC reads the sketch at 1−q: the third is the second again.
			[]string{"approx_quantile[0.5](a1)", "approx_quantile[0.9](a1)"}},
		{"with sum and avg",
			`SELECT region, SUM(amount), COUNT(DISTINCT customer_id), AVG(amount) FROM sales GROUP BY region HAVING COUNT(DISTINCT customer_id) > 3`,
			[]string{"count_star()", "sum(amount)", "hll(customer_id)", "count(amount)"},
			[]string{"sum[0](a1)", "approx_count_distinct[0](a2)", "avg[0](a1,a3)"}},
		{"min distinct is min", `SELECT MIN(DISTINCT amount) FROM sales`, []string{"count_star()", "min(amount)"}, []string{"min[0](a1)"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			q, err := sqlfront.Parse(tc.sql)
			if err != nil {
				t.Fatal(err)
			}
			var parts, merges []string
			for _, p := range q.Partials {
				parts = append(parts, string(p.Agg.Func)+"("+strings.Join(p.Agg.Arg.Columns(nil), ",")+")")
			}
			for _, m := range q.Merge.Aggs {
				merges = append(merges, string(m.Func)+"["+formatQ(m.Quantile)+"]("+strings.Join(m.Inputs, ",")+")")
			}
			if d := cmp.Diff(tc.partials, parts); d != "" {
				t.Errorf("partials (-want +got):\n%s", d)
			}
			if d := cmp.Diff(tc.merges, merges); d != "" {
				t.Errorf("merges (-want +got):\n%s", d)
			}
		})
	}
}

func formatQ(q float64) string {
	b, _ := json.Marshal(q)
	return string(b)
}

func TestSketchPolicyColumnUses(t *testing.T) {
	t.Parallel()
	q, err := sqlfront.Parse(`SELECT region, COUNT(DISTINCT customer_id), approx_quantile(amount, 0.5) FROM sales GROUP BY region`)
	if err != nil {
		t.Fatal(err)
	}
	sp := planner.Split(q, []string{"a"}, plantest.Meta())[0]
	got := sp.ColumnUses()
	want := []planner.ColumnUse{
		{Table: "sales", Column: "region", Use: planner.UseGroupKey},
		{Table: "sales", Column: "customer_id", Use: planner.UseAggregateArg, Function: planner.AggHLL},
		{Table: "sales", Column: "amount", Use: planner.UseAggregateArg, Function: planner.AggQuantileSketch},
	}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("column uses (-want +got):\n%s", d)
	}
}

// innerRow is one row of a sketch plan's engine result: group key,
// sketch argument value, COUNT(*) and SUM of the subgroup (nil = NULL).
type innerRow struct {
	region string
	x      any
	n      int64
	sum    any
}

// innerBatch builds the engine result of the inner plan for
// sketchFoldSQL, as DuckDB types it (SUM of BIGINT is HUGEINT).
func innerBatch(t *testing.T, rows []innerRow) (*arrow.Schema, []arrow.RecordBatch) {
	t.Helper()
	schema := arrow.NewSchema([]arrow.Field{
		{Name: "g0", Type: arrow.BinaryTypes.String, Nullable: true},
		{Name: "v_a1", Type: arrow.PrimitiveTypes.Int64, Nullable: true},
		{Name: "a0", Type: arrow.PrimitiveTypes.Int64, Nullable: true},
		{Name: "a3", Type: &arrow.Decimal128Type{Precision: 38, Scale: 0}, Nullable: true},
	}, nil)
	cols := make([][]any, 4)
	for _, r := range rows {
		cols[0] = append(cols[0], r.region)
		cols[1] = append(cols[1], r.x)
		cols[2] = append(cols[2], r.n)
		cols[3] = append(cols[3], r.sum)
	}
	b, err := buildBatch(schema, cols, len(rows))
	if err != nil {
		t.Fatal(err)
	}
	return schema, []arrow.RecordBatch{b}
}

const sketchFoldSQL = `SELECT region, COUNT(DISTINCT x) AS d, approx_quantile(x, 0.5) AS med, count(*) AS n, sum(x) AS s FROM t GROUP BY region ORDER BY region`

// TestFoldAndMergeSketches folds two sites' subgroup rows into sketches and
// merges them: distinct values seen at both sites count once, quantile
// sketches weigh each value by its subgroup's row count, and the other
// partials re-aggregate exactly.
func TestFoldAndMergeSketches(t *testing.T) {
	t.Parallel()
	q, err := sqlfront.Parse(sketchFoldSQL)
	if err != nil {
		t.Fatal(err)
	}
	sps := planner.Split(q, []string{"a", "b"}, plantest.Meta())
	inner, _ := planner.SketchInner(sps[0])
	var names []string
	for _, o := range inner.Outputs() {
		names = append(names, o.Name)
	}
	if d := cmp.Diff([]string{"g0", "v_a1", "a0", "a3"}, names); d != "" {
		t.Fatalf("inner plan outputs (-want +got):\n%s", d)
	}
	siteRows := [][]innerRow{
		{{"north", int64(1), 1, int64(1)}, {"north", int64(2), 2, int64(4)}, {"north", int64(3), 1, int64(3)}, {"south", int64(5), 1, int64(5)}},
		{{"north", int64(3), 1, int64(3)}, {"north", int64(4), 1, int64(4)}, {"south", int64(5), 1, int64(5)}, {"south", int64(6), 1, int64(6)}, {"south", nil, 1, nil}},
	}
	var parts []Partial
	for i, rows := range siteRows {
		schema, batches := innerBatch(t, rows)
		fs, folded, err := FoldSketches(context.Background(), sps[i], schema, batches)
		if err != nil {
			t.Fatalf("fold site %s: %v", sps[i].Site, err)
		}
		if got := fs.Field(2).Type.ID(); fs.Field(2).Name != "a1" || got != arrow.BINARY {
			t.Fatalf("folded column 2 is %s %s, want a1 binary", fs.Field(2).Name, fs.Field(2).Type)
		}
		if n := folded[0].NumRows(); n != 2 {
			t.Fatalf("site %s folded into %d rows, want one per region", sps[i].Site, n)
		}
		parts = append(parts, Partial{Site: sps[i].Site, Batches: folded})
	}
	res, err := Merge(context.Background(), q, parts)
	if err != nil {
		t.Fatal(err)
	}
	want := [][]any{
		{"north", int64(4), 2.5, int64(6), int64(15)},
		{"south", int64(2), 5.0, int64(4), int64(16)},
	}
	for i, row := range res.Rows {
		// The median is within 1% of the exact order statistic.
		if m := row[2].(float64); math.Abs(m-want[i][2].(float64)) <= QuantileAccuracy*want[i][2].(float64) {
			row[2] = want[i][2]
		}
	}
	if d := cmp.Diff(want, res.Rows, cmp.Comparer(func(a, b *big.Int) bool { return a.Cmp(b) == 0 })); d != "" {
		t.Errorf("merged rows (-want +got):\n%s", d)
	}
	if len(res.Approximate) != 2 || res.Approximate[0].Column != "d" || res.Approximate[0].Method != "hyperloglog" ||
		res.Approximate[1].Column != "med" || res.Approximate[1].Method != "ddsketch" {
		t.Errorf("approximate = %+v, want d (hyperloglog) and med (ddsketch)", res.Approximate)
	}
	js, err := json.Marshal(res)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(js), `"approximate":[{"column":"d","method":"hyperloglog","relative_error":0.01625`) {
		t.Errorf("JSON answer does not carry the approximation: %s", js)
	}
}

// TestFoldGlobalOverNoRows: a global aggregate has one row even when the
// engine returned none, with an empty sketch.
func TestFoldGlobalOverNoRows(t *testing.T) {
	t.Parallel()
	q, err := sqlfront.Parse(`SELECT COUNT(DISTINCT x), approx_quantile(x, 0.5), count(*) FROM t`)
	if err != nil {
		t.Fatal(err)
	}
	sp := planner.Split(q, []string{"a"}, plantest.Meta())[0]
	schema := arrow.NewSchema([]arrow.Field{
		{Name: "v_a1", Type: arrow.PrimitiveTypes.Int64, Nullable: true},
		{Name: "a0", Type: arrow.PrimitiveTypes.Int64, Nullable: true},
	}, nil)
	_, folded, err := FoldSketches(context.Background(), sp, schema, nil)
	if err != nil {
		t.Fatal(err)
	}
	res, err := Merge(context.Background(), q, []Partial{{Site: "a", Batches: folded}})
	if err != nil {
		t.Fatal(err)
	}
	if d := cmp.Diff([][]any{{int64(0), nil, int64(0)}}, res.Rows); d != "" {
		t.Errorf("rows (-want +got):\n%s", d)
	}
}

// TestSketchErrorBounds measures the sketches against exact answers on
// fixed data spread over three overlapping sites: the distinct count is
// within the reported 2σ bound, each quantile within α of the order
// statistic at its rank.
func TestSketchErrorBounds(t *testing.T) {
	t.Parallel()
	q, err := sqlfront.Parse(`SELECT COUNT(DISTINCT x) AS d, approx_quantile(x, 0.5) AS p50, approx_quantile(x, 0.9) AS p90, approx_quantile(x, 0.99) AS p99, count(*) AS n FROM t`)
	if err != nil {
		t.Fatal(err)
	}
	sps := planner.Split(q, []string{"a", "b", "c"}, plantest.Meta())
	// Site i holds x in [i·30000, i·30000 + 50000): overlapping ranges, so
	// 110000 distinct values among 150000 rows.
	var all []float64
	var parts []Partial
	for i, sp := range sps {
		n := 50000
		xs, counts := make([]any, n), make([]any, n)
		for j := range n {
			v := int64(i*30000 + j)
			xs[j], counts[j] = v, int64(1)
			all = append(all, float64(v))
		}
		schema := arrow.NewSchema([]arrow.Field{
			{Name: "v_a1", Type: arrow.PrimitiveTypes.Int64, Nullable: true},
			{Name: "a0", Type: arrow.PrimitiveTypes.Int64, Nullable: true},
		}, nil)
		b, err := buildBatch(schema, [][]any{xs, counts}, n)
		if err != nil {
			t.Fatal(err)
		}
		_, folded, err := FoldSketches(context.Background(), sp, schema, []arrow.RecordBatch{b})
		if err != nil {
			t.Fatal(err)
		}
		parts = append(parts, Partial{Site: sp.Site, Batches: folded})
	}
	res, err := Merge(context.Background(), q, parts)
	if err != nil {
		t.Fatal(err)
	}
	row := res.Rows[0]
	const exactDistinct = 110000
	if rel := math.Abs(float64(row[0].(int64))-exactDistinct) / exactDistinct; rel > 2*HLLStandardError {
		t.Errorf("distinct estimate %d is %.4f off, over the reported bound %.4f", row[0], rel, 2*HLLStandardError)
	} else {
		t.Logf("distinct: estimate %d, exact %d, relative error %.5f (bound %.5f)", row[0], exactDistinct, rel, 2*HLLStandardError)
	}
	slices.Sort(all)
	for i, qv := range []float64{0.5, 0.9, 0.99} {
		r := qv * float64(len(all)-1)
		lo := math.Floor(r)
		exact := all[int(lo)]
		if lo < r {
			exact += (r - lo) * (all[int(lo)+1] - all[int(lo)])
		}
		got := row[1+i].(float64)
		rel := math.Abs(got-exact) / exact
		if rel > QuantileAccuracy {
			t.Errorf("quantile %v: estimate %v, exact percentile_cont %v: off by %.4f > α", qv, got, exact, rel)
		}
		t.Logf("quantile %v: estimate %v, exact %v, relative error %.5f (bound %v)", qv, got, exact, rel, QuantileAccuracy)
	}
	hll, _ := parts[0].Batches[0].Column(1).(interface{ ValueLen(int) int })
	dd, _ := parts[0].Batches[0].Column(2).(interface{ ValueLen(int) int })
	if hll != nil && dd != nil {
		t.Logf("sketch sizes on the wire for 50000 values at one site: HyperLogLog %d bytes, DDSketch %d bytes", hll.ValueLen(0), dd.ValueLen(0))
	}
}

func TestSketchRefusesBadPartials(t *testing.T) {
	t.Parallel()
	q, err := sqlfront.Parse(`SELECT COUNT(DISTINCT x) FROM t`)
	if err != nil {
		t.Fatal(err)
	}
	// A site that sends a number where a sketch belongs, or a corrupt
	// sketch, fails the merge naming the site.
	schema := arrow.NewSchema([]arrow.Field{
		{Name: "a0", Type: arrow.PrimitiveTypes.Int64},
		{Name: "a1", Type: arrow.BinaryTypes.Binary},
	}, nil)
	b, err := buildBatch(schema, [][]any{{int64(1)}, {[]byte("not a sketch")}}, 1)
	if err != nil {
		t.Fatal(err)
	}
	_, err = Merge(context.Background(), q, []Partial{{Site: "evil", Batches: []arrow.RecordBatch{b}}})
	if err == nil || !strings.Contains(err.Error(), `site "evil"`) {
		t.Errorf("corrupt sketch: err = %v, want a merge error naming the site", err)
	}
	schema = arrow.NewSchema([]arrow.Field{
		{Name: "a0", Type: arrow.PrimitiveTypes.Int64},
		{Name: "a1", Type: arrow.PrimitiveTypes.Int64},
	}, nil)
	b, err = buildBatch(schema, [][]any{{int64(1)}, {int64(7)}}, 1)
	if err != nil {
		t.Fatal(err)
	}
	_, err = Merge(context.Background(), q, []Partial{{Site: "evil", Batches: []arrow.RecordBatch{b}}})
	if err == nil || !strings.Contains(err.Error(), "serialized sketch") {
		t.Errorf("number for a sketch: err = %v, want a type error", err)
	}
}

// TestExplainShowsSketches: EXPLAIN names the sketch partials, the SQL the
// site runs (grouped by the sketch argument) and the approximate merges.
// TestSketchSizes logs how large the sketches of one group are on the wire
// at a few group sizes (HyperLogLog switches from sparse to dense).
func TestSketchSizes(t *testing.T) {
	t.Parallel()
	for _, n := range []int{10, 100, 1000, 5000, 100000} {
		h, d := newHLL(), newQuantileSketch()
		for i := range n {
			h.Insert(appendNumberKey(nil, int64(i), nil, 0))
			if err := d.Add(5 + float64(i%997)*0.37); err != nil {
				t.Fatal(err)
			}
		}
		hb, err := h.MarshalBinary()
		if err != nil {
			t.Fatal(err)
		}
		db := encodeQuantileSketch(d)
		if n >= 1000 && len(hb) > 1<<HLLPrecision+64 {
			t.Errorf("HyperLogLog of %d values is %d bytes, more than its dense form", n, len(hb))
		}
		t.Logf("%6d values: HyperLogLog %5d bytes, DDSketch %4d bytes", n, len(hb), len(db))
	}
}

// TestFoldSplitsManyGroups: thousands of groups leave the fold in batches
// of at most foldBatchRows (so dense 16 KiB HyperLogLog sketches stay far
// under the Flight message limit) and merge to one row per group.
func TestFoldSplitsManyGroups(t *testing.T) {
	t.Parallel()
	q, err := sqlfront.Parse(`SELECT k, COUNT(DISTINCT x) AS d FROM t GROUP BY k`)
	if err != nil {
		t.Fatal(err)
	}
	sp := planner.Split(q, []string{"a"}, plantest.Meta())[0]
	const groups, perGroup = 2100, 200
	keys, xs, counts := make([]any, 0, groups*perGroup), make([]any, 0, groups*perGroup), make([]any, 0, groups*perGroup)
	for g := range groups {
		for i := range perGroup {
			keys, xs, counts = append(keys, int64(g)), append(xs, int64(i)), append(counts, int64(1))
		}
	}
	schema := arrow.NewSchema([]arrow.Field{
		{Name: "g0", Type: arrow.PrimitiveTypes.Int64, Nullable: true},
		{Name: "v_a1", Type: arrow.PrimitiveTypes.Int64, Nullable: true},
		{Name: "a0", Type: arrow.PrimitiveTypes.Int64, Nullable: true},
	}, nil)
	b, err := buildBatch(schema, [][]any{keys, xs, counts}, len(keys))
	if err != nil {
		t.Fatal(err)
	}
	_, folded, err := FoldSketches(context.Background(), sp, schema, []arrow.RecordBatch{b})
	if err != nil {
		t.Fatal(err)
	}
	if len(folded) != 3 {
		t.Errorf("%d groups folded into %d batches, want 3", groups, len(folded))
	}
	var rows int64
	for _, r := range folded {
		rows += r.NumRows()
		var size int
		for _, c := range r.Columns() {
			for _, buf := range c.Data().Buffers() {
				if buf != nil {
					size += buf.Len()
				}
			}
		}
		if size > 32<<20 {
			t.Errorf("a folded batch holds %d bytes", size)
		}
	}
	res, err := Merge(context.Background(), q, []Partial{{Site: "a", Batches: folded}})
	if err != nil {
		t.Fatal(err)
	}
	if rows != groups || len(res.Rows) != groups {
		t.Fatalf("folded %d rows, merged %d, want %d", rows, len(res.Rows), groups)
	}
	if d := res.Rows[0][1].(int64); math.Abs(float64(d)-perGroup)/perGroup > 2*HLLStandardError {
		t.Errorf("distinct count %d, want about %d", d, perGroup)
	}
}
