package e2e

import (
	"strings"
	"testing"
)

var differentialCases = []refCase{
	{name: "regional revenue 2022", table: "sales", keys: []string{"region"}, where: "year = 2022",
		sql: "SELECT region, COUNT(*) AS n, SUM(amount) AS total, AVG(amount) AS avg_amount FROM sales WHERE year = 2022 GROUP BY region ORDER BY region"},
	{name: "global count", table: "sales",
		sql: "SELECT COUNT(*) FROM sales"},
	{name: "global aggregates over ints and strings", table: "sales",
		sql: "SELECT SUM(year), MIN(region), MAX(region), MIN(amount), MAX(amount) FROM sales"},
	{name: "by year", table: "sales", keys: []string{"year"},
		sql: "SELECT year, COUNT(*), SUM(amount) FROM sales GROUP BY year ORDER BY year"},
	{name: "two keys with rare groups", table: "sales", keys: []string{"region", "year"},
		sql: "SELECT region, year, COUNT(*) AS n, AVG(amount) FROM sales GROUP BY region, year ORDER BY region, year"},
	{name: "min max by ordinal", table: "sales", keys: []string{"region"},
		sql: "SELECT region, MIN(amount), MAX(amount) FROM sales GROUP BY region ORDER BY 1"},
	{name: "null group and count col", table: "sales", keys: []string{"status"},
		sql: "SELECT status, COUNT(*), COUNT(status), SUM(amount) FROM sales GROUP BY status ORDER BY status NULLS FIRST"},
	{name: "between", table: "sales", keys: []string{"region"}, where: "amount BETWEEN 10 AND 500",
		sql: "SELECT region, AVG(amount) FROM sales WHERE amount BETWEEN 10 AND 500 GROUP BY region ORDER BY region"},
	{name: "in list", table: "sales", keys: []string{"region"}, where: "region IN ('north', 'south', 'arctic', 'islands')",
		sql: "SELECT region, COUNT(*) FROM sales WHERE region IN ('north', 'south', 'arctic', 'islands') GROUP BY region ORDER BY region"},
	{name: "expression over aggregates ordered desc", table: "sales", keys: []string{"region"},
		sql: "SELECT region, SUM(amount) / COUNT(*) AS mean FROM sales GROUP BY region ORDER BY mean DESC"},
	{name: "having", table: "sales", keys: []string{"region"},
		sql: "SELECT region, COUNT(*) AS n FROM sales GROUP BY region HAVING COUNT(*) > 1000 ORDER BY n DESC"},
	{name: "and or", table: "sales", keys: []string{"year"}, where: "region <> 'north' AND (year >= 2022 OR amount < 50)",
		sql: "SELECT year, SUM(amount), COUNT(amount) FROM sales WHERE region <> 'north' AND (year >= 2022 OR amount < 50) GROUP BY year ORDER BY year"},
	{name: "is null filter", table: "sales", keys: []string{"region"}, where: "status IS NULL",
		sql: "SELECT region, COUNT(*) FROM sales WHERE status IS NULL GROUP BY region ORDER BY region"},
	{name: "not with limit", table: "sales", keys: []string{"region"}, where: "NOT (year = 2020)",
		sql: "SELECT region, COUNT(*) FROM sales WHERE NOT (year = 2020) GROUP BY region ORDER BY 2 DESC, 1 LIMIT 3"},
	{name: "customers by segment", table: "customers", keys: []string{"segment"},
		sql: "SELECT segment, COUNT(*), AVG(birth_year), MIN(birth_year) FROM customers GROUP BY segment ORDER BY segment"},
	{name: "customers offset", table: "customers", keys: []string{"country"}, where: "birth_year IS NOT NULL",
		sql: "SELECT country, COUNT(*) AS n FROM customers WHERE birth_year IS NOT NULL GROUP BY country ORDER BY country LIMIT 5 OFFSET 1"},
	{name: "having on sum with in", table: "sales", keys: []string{"region", "year"}, where: "status IN ('shipped')",
		sql: "SELECT region, year, SUM(amount) FROM sales WHERE status IN ('shipped') GROUP BY region, year HAVING SUM(amount) > 100 ORDER BY region, year"},
	{name: "not in and float literal", table: "sales", keys: []string{"region"}, where: "region NOT IN ('north') AND amount > 100.5",
		sql: "SELECT region, COUNT(*), SUM(amount) FROM sales WHERE region NOT IN ('north') AND amount > 100.5 GROUP BY region ORDER BY region"},
	{name: "empty result", table: "sales", keys: []string{"region"}, where: "year = 1999",
		sql: "SELECT region, COUNT(*) FROM sales WHERE year = 1999 GROUP BY region ORDER BY region"},
	{name: "global over nothing", table: "sales", where: "year = 1999",
		sql: "SELECT COUNT(*), SUM(amount), AVG(amount) FROM sales WHERE year = 1999"},
}

// TestFederatedAnswersMatchDuckDB runs every differential query through
// three agents and the coordinator over mTLS, and compares the answer with
// DuckDB's over the union of the sites' rows: exactly when no group is
// small (k=1), and after each site's own small groups are dropped (k=10),
// including how many groups each site reports suppressing.
func TestFederatedAnswersMatchDuckDB(t *testing.T) {
	if len(differentialCases) < 15 {
		t.Fatalf("only %d differential cases; keep at least 15", len(differentialCases))
	}
	for _, k := range []int{1, 10} {
		fed := startFederation(t, fedOptions{minGroupSize: k})
		fx := sharedFixture(t)
		sawSuppression := false
		for _, c := range differentialCases {
			t.Run(kName(k)+"/"+c.name, func(t *testing.T) {
				got := fed.query(c.sql)
				if got.Status != 200 {
					t.Fatalf("HTTP %d: %+v", got.Status, got.Error)
				}
				want, wantSupp := reference(t, fx, c, k)
				ordered := strings.Contains(c.sql, "ORDER BY")
				if d := diffRows(normRows(got.Rows, !ordered), normRows(want, !ordered)); d != "" {
					t.Errorf("%s\n%s", c.sql, d)
				}
				var total int64
				for _, s := range got.Sites {
					if s.SuppressedGroups != wantSupp[s.Site] {
						t.Errorf("site %s suppressed %d groups, want %d", s.Site, s.SuppressedGroups, wantSupp[s.Site])
					}
					total += s.SuppressedGroups
				}
				if got.SuppressedGroups != total {
					t.Errorf("suppressed_groups = %d, sum over sites = %d", got.SuppressedGroups, total)
				}
				if total > 0 {
					sawSuppression = true
				}
				if w := withheldEverywhere(c, sites3, wantSupp); got.Suppressed != w {
					t.Errorf("suppressed = %v, want %v (a global aggregate every site withheld)", got.Suppressed, w)
				}
				if len(got.Sites) != 3 {
					t.Errorf("sites = %+v, want a, b and c", got.Sites)
				}
			})
		}
		if k > 1 && !sawSuppression {
			t.Errorf("with k=%d no query suppressed any group; the sample data should have rare groups", k)
		}
	}
}

func kName(k int) string {
	if k <= 1 {
		return "k=1"
	}
	return "k=10"
}

func TestAnswerShape(t *testing.T) {
	fed := startFederation(t, fedOptions{})
	got := fed.query("SELECT region, COUNT(*) AS n, SUM(amount), AVG(amount) FROM sales WHERE year = 2022 GROUP BY region ORDER BY region")
	if got.Status != 200 {
		t.Fatalf("HTTP %d: %+v", got.Status, got.Error)
	}
	if got.QueryID == "" {
		t.Error("no query_id")
	}
	if names := got.columnNames(); names != "region,n,sum,avg" {
		t.Errorf("columns = %s, want region,n,sum,avg (PostgreSQL's names for unaliased aggregates)", names)
	}
}
