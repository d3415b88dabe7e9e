package e2e

import (
	"encoding/json"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// sketchCase is a differential query with approximate columns. checks has
// one letter per value column after the nKeys group keys: '=' exact, 'd' a
// distinct count (HyperLogLog), 'q' a quantile (DDSketch). ref is DuckDB's
// exact query over the union: the same keys, then one column per '=' or
// 'd', and three per 'q' (quantile_cont, and the order statistics at the
// ranks ⌊q·(n−1)⌋ and ⌈q·(n−1)⌉, see qref).
type sketchCase struct {
	refCase
	nKeys  int
	checks string
	ref    string
	k      int
}

// qref is the reference for a quantile column: DuckDB's exact
// percentile_cont and its two neighbouring order statistics.
func qref(col string, q float64) string {
	rank := fmt.Sprintf("%v * (count(%s) - 1)", q, col)
	return fmt.Sprintf("quantile_cont(%[1]s, %[2]v), list_sort(list(%[1]s))[CAST(floor(%[3]s) AS BIGINT) + 1], list_sort(list(%[1]s))[CAST(ceil(%[3]s) AS BIGINT) + 1]",
		col, q, rank)
}

var sketchCases = []sketchCase{
	{refCase: refCase{name: "count distinct grouped", table: "sales", keys: []string{"region"},
		sql: "SELECT region, COUNT(DISTINCT customer_id) AS d FROM sales GROUP BY region ORDER BY region"},
		nKeys: 1, checks: "d", ref: "SELECT region, COUNT(DISTINCT customer_id) FROM sales GROUP BY region"},
	{refCase: refCase{name: "count distinct global", table: "sales",
		sql: "SELECT COUNT(DISTINCT customer_id) AS d, COUNT(*) AS n FROM sales"},
		checks: "d=", ref: "SELECT COUNT(DISTINCT customer_id), COUNT(*) FROM sales"},
	{refCase: refCase{name: "approx_count_distinct with a filter", table: "sales", keys: []string{"year"}, where: "status = 'paid'",
		sql: "SELECT year, APPROX_COUNT_DISTINCT(customer_id) AS d FROM sales WHERE status = 'paid' GROUP BY year ORDER BY year"},
		nKeys: 1, checks: "d", ref: "SELECT year, COUNT(DISTINCT customer_id) FROM sales WHERE status = 'paid' GROUP BY year"},
	{refCase: refCase{name: "percentile_cont 0.5 and 0.9 grouped", table: "sales", keys: []string{"region"},
		sql: "SELECT region, percentile_cont(0.5) WITHIN GROUP (ORDER BY amount) AS p50, percentile_cont(0.9) WITHIN GROUP (ORDER BY amount) AS p90 FROM sales GROUP BY region ORDER BY region"},
		nKeys: 1, checks: "qq", ref: "SELECT region, " + qref("amount", 0.5) + ", " + qref("amount", 0.9) + " FROM sales GROUP BY region"},
	{refCase: refCase{name: "approx_quantile global over two columns", table: "sales",
		sql: "SELECT approx_quantile(amount, 0.25) AS p25, approx_quantile(year, 0.5) AS y50, percentile_cont(0.1) WITHIN GROUP (ORDER BY amount DESC) AS p90 FROM sales"},
		checks: "qqq", ref: "SELECT " + qref("amount", 0.25) + ", " + qref("year", 0.5) + ", " + qref("amount", 0.9) + " FROM sales"},
	{refCase: refCase{name: "sketches with sum and avg", table: "sales", keys: []string{"region"},
		sql: "SELECT region, SUM(amount) AS total, AVG(amount) AS mean, COUNT(DISTINCT customer_id) AS d, approx_quantile(amount, 0.99) AS p99, COUNT(*) AS n FROM sales GROUP BY region ORDER BY region"},
		nKeys: 1, checks: "==dq=", ref: "SELECT region, SUM(amount), AVG(amount), COUNT(DISTINCT customer_id), " + qref("amount", 0.99) + ", COUNT(*) FROM sales GROUP BY region"},
	{refCase: refCase{name: "having and order by an estimate", table: "sales", keys: []string{"status"},
		sql: "SELECT status, COUNT(DISTINCT customer_id) AS d FROM sales GROUP BY status HAVING COUNT(DISTINCT customer_id) > 1000 ORDER BY d DESC"},
		nKeys: 1, checks: "d", ref: "SELECT status, COUNT(DISTINCT customer_id) FROM sales GROUP BY status HAVING COUNT(DISTINCT customer_id) > 1000"},
	{refCase: refCase{name: "k=10 suppression with two keys", table: "sales", keys: []string{"region", "year"},
		sql: "SELECT region, year, COUNT(*) AS n, COUNT(DISTINCT customer_id) AS d, percentile_cont(0.5) WITHIN GROUP (ORDER BY amount) AS med FROM sales GROUP BY region, year ORDER BY region, year"},
		nKeys: 2, checks: "=dq", k: 10, ref: "SELECT region, year, COUNT(*), COUNT(DISTINCT customer_id), " + qref("amount", 0.5) + " FROM sales GROUP BY region, year"},
	{refCase: refCase{name: "k=10 suppression of a filtered global", table: "sales", where: "region IN ('arctic', 'islands') AND year = 2021",
		sql: "SELECT COUNT(*) AS n, APPROX_COUNT_DISTINCT(customer_id) AS d, approx_quantile(amount, 0.5) AS med FROM sales WHERE region IN ('arctic', 'islands') AND year = 2021"},
		checks: "=dq", k: 10, ref: "SELECT COUNT(*), COUNT(DISTINCT customer_id), " + qref("amount", 0.5) + " FROM sales WHERE region IN ('arctic', 'islands') AND year = 2021"},
}

// sketchFedOptions is a federation whose sites run the default bundle with
// minimum group size k, except that their data officers allow customer_id
// (the default denies it in any use, so a distinct count of customers is
// refused; see policy/README.md for allowing only its sketch).
func sketchFedOptions(t *testing.T, k int, sites []string) fedOptions {
	t.Helper()
	dir := defaultBundleWith(t, k)
	p := filepath.Join(dir, "data.json")
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	var data map[string]map[string]any
	if err := json.Unmarshal(b, &data); err != nil {
		t.Fatal(err)
	}
	data["fedmesh"]["denied_columns"] = []string{"order_id"}
	if b, err = json.Marshal(data); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, b, 0o600); err != nil {
		t.Fatal(err)
	}
	bundles := map[string]string{}
	for _, s := range sites {
		bundles[s] = dir
	}
	return fedOptions{minGroupSize: k, bundles: bundles, sites: sites}
}

// TestDifferentialSketches runs the sketch queries through three DuckDB
// sites and compares each answer with DuckDB's exact one over the union of
// the sites' rows (after each site's small groups are dropped, for k=10):
// exact columns exactly, distinct counts within the bound the answer
// reports, quantiles within α of the order statistics around the rank.
func TestDifferentialSketches(t *testing.T) {
	fx := sharedFixture(t)
	feds := map[int]*federation{}
	for _, c := range sketchCases {
		k := max(c.k, 1)
		if feds[k] == nil {
			feds[k] = startFederation(t, sketchFedOptions(t, k, sites3))
		}
		fed := feds[k]
		t.Run(c.name, func(t *testing.T) {
			checkSketchCase(t, fed, fx, sites3, c, k)
		})
	}
}

// checkSketchCase runs c through fed and compares it with DuckDB's exact
// answer over sites' rows, with each site's groups under k dropped.
func checkSketchCase(t *testing.T, fed *federation, fx fixture, sites []string, c sketchCase, k int) {
	t.Helper()
	got := fed.query(c.sql)
	if got.Status != 200 {
		t.Fatalf("%s\nHTTP %d: %+v", c.sql, got.Status, got.Error)
	}
	bounds := map[string]float64{}
	for _, a := range got.Approximate {
		bounds[a.Column] = a.RelativeError
	}
	rc := c.refCase
	rc.sql = c.ref
	want, wantSupp := referenceOver(t, fx, sites, rc, k)
	if k > 1 {
		for _, s := range got.Sites {
			if s.SuppressedGroups != wantSupp[s.Site] {
				t.Errorf("site %s suppressed %d groups, want %d", s.Site, s.SuppressedGroups, wantSupp[s.Site])
			}
		}
	}
	wantByKey := map[string][]any{}
	for _, r := range want {
		wantByKey[fmt.Sprint(normRows([][]any{r[:c.nKeys]}, false)[0])] = r
	}
	if len(got.Rows) != len(want) {
		t.Fatalf("%s\ngot %d rows, want %d\n got: %v\nwant: %v", c.sql, len(got.Rows), len(want), got.Rows, want)
	}
	if len(got.Rows) == 0 {
		t.Fatalf("%s: no rows; a sketch case must have some", c.sql)
	}
	var worst []string
	for _, row := range got.Rows {
		key := fmt.Sprint(normRows([][]any{row[:c.nKeys]}, false)[0])
		w, ok := wantByKey[key]
		if !ok {
			t.Errorf("group %s is not in DuckDB's answer", key)
			continue
		}
		wi := c.nKeys
		for j, check := range c.checks {
			col := got.Columns[c.nKeys+j].Name
			g := norm(row[c.nKeys+j])
			switch check {
			case '=':
				if !sameValue(g, norm(w[wi])) {
					t.Errorf("group %s column %s: got %v, want %v", key, col, g, w[wi])
				}
				wi++
			case 'd':
				exact := norm(w[wi]).(float64)
				bound, ok := bounds[col]
				if !ok {
					t.Errorf("column %s is not marked approximate: %+v", col, got.Approximate)
				}
				rel := math.Abs(g.(float64)-exact) / math.Max(exact, 1)
				if rel > bound {
					t.Errorf("group %s column %s: estimate %v, exact %v: relative error %.4f over the reported bound %.4f", key, col, g, exact, rel, bound)
				}
				worst = append(worst, fmt.Sprintf("%s%s d=%v exact=%v err=%.4f%%", col, key, g, exact, 100*rel))
				wi++
			case 'q':
				cont, lo, hi := norm(w[wi]).(float64), norm(w[wi+1]).(float64), norm(w[wi+2]).(float64)
				alpha, ok := bounds[col]
				if !ok {
					t.Errorf("column %s is not marked approximate: %+v", col, got.Approximate)
				}
				est := g.(float64)
				// Both neighbours are positive here (amounts, years),
				// so the interpolated estimate is within α of cont.
				if lo <= 0 || math.Abs(est-cont) > alpha*math.Max(math.Abs(lo), math.Abs(hi)) {
					t.Errorf("group %s column %s: estimate %v, exact percentile_cont %v (between %v and %v): off by more than α=%v", key, col, est, cont, lo, hi, alpha)
				}
				worst = append(worst, fmt.Sprintf("%s%s q=%.4g cont=%.4g err=%.3f%%", col, key, est, cont, 100*math.Abs(est-cont)/math.Max(math.Abs(cont), 1e-12)))
				wi += 3
			}
		}
	}
	for i := 1; i < len(got.Rows) && strings.Contains(c.sql, "ORDER BY d DESC"); i++ {
		if norm(got.Rows[i-1][c.nKeys]).(float64) < norm(got.Rows[i][c.nKeys]).(float64) {
			t.Errorf("rows not ordered by the estimate: %v", got.Rows)
		}
	}
	t.Logf("measured: %s", strings.Join(worst, "; "))
}

// TestSketchNotesAndRefusals: the answer names each approximate column, an
// exact answer carries no note, and what still does not decompose is
// refused with what to write instead.
func TestSketchNotesAndRefusals(t *testing.T) {
	// The default bundle denies customer_id in any use, a sketch included.
	deflt := startFederation(t, fedOptions{minGroupSize: 1})
	if r := deflt.query("SELECT COUNT(DISTINCT customer_id) FROM sales"); r.Status != 403 || r.Error == nil ||
		!strings.Contains(strings.Join(r.Error.Reasons, " "), "customer_id") {
		t.Errorf("default bundle: HTTP %d %+v, want customer_id denied", r.Status, r.Error)
	}
	fed := startFederation(t, sketchFedOptions(t, 1, sites3))
	got := fed.query("SELECT region, COUNT(DISTINCT customer_id) + 0 AS d, COUNT(*) AS n FROM sales GROUP BY region")
	if got.Status != 200 {
		t.Fatalf("HTTP %d: %+v", got.Status, got.Error)
	}
	if len(got.Approximate) != 1 || got.Approximate[0].Column != "d" || got.Approximate[0].Method != "hyperloglog" ||
		!strings.Contains(got.Approximate[0].Bound, "computed from an estimate") {
		t.Errorf("approximate = %+v, want d only, derived from a HyperLogLog estimate", got.Approximate)
	}
	if exact := fed.query("SELECT COUNT(*) FROM sales"); exact.Status != 200 || len(exact.Approximate) != 0 {
		t.Errorf("exact answer: HTTP %d, approximate %+v; want no note", exact.Status, exact.Approximate)
	}
	for sql, hint := range map[string]string{
		"SELECT SUM(DISTINCT amount) FROM sales":                                "APPROX_COUNT_DISTINCT",
		"SELECT percentile_disc(0.5) WITHIN GROUP (ORDER BY amount) FROM sales": "percentile_cont",
	} {
		r := fed.query(sql)
		if r.Status != 400 || r.Error == nil || !strings.Contains(r.Error.Message, hint) {
			t.Errorf("%s: HTTP %d %+v, want a parse error suggesting %s", sql, r.Status, r.Error, hint)
		}
	}
}
