package e2e

import (
	"strings"
	"testing"
)

// TestJoinReferenceCatchesCrossSiteJoin shows that the join suite would
// notice a planner that joined rows of different sites: for the join cases
// the reference over a cross-site join (the query as written, over the
// unions of every site's rows) differs from fedmesh's answer, while the
// per-site reference matches it.
func TestJoinReferenceCatchesCrossSiteJoin(t *testing.T) {
	fed := startFederation(t, fedOptions{minGroupSize: 1})
	ref := openUnionReference(t, sharedFixture(t))
	differ := 0
	for _, c := range joinCases {
		if c.ref != "" {
			continue // already states the site equality itself
		}
		got := fed.query(c.sql)
		if got.Status != 200 {
			t.Fatalf("%s\nHTTP %d: %+v", c.sql, got.Status, got.Error)
		}
		ordered := strings.Contains(c.sql, "ORDER BY")
		fedRows := normRows(got.Rows, !ordered)
		if d := diffRows(fedRows, normRows(ref.query(t, withinSite(c.sql)), !ordered)); d != "" {
			t.Errorf("%s: fedmesh differs from the per-site reference\n%s", c.name, d)
		}
		if diffRows(fedRows, normRows(ref.query(t, c.sql), !ordered)) != "" {
			differ++
		} else {
			t.Logf("%s: a cross-site join gives the same answer", c.name)
		}
	}
	if differ == 0 {
		t.Fatal("no join case tells a cross-site join from per-site joins; the join suite would not catch a planner that joined across sites")
	}
	t.Logf("%d join cases tell a cross-site join from per-site joins", differ)
}

// joinCases are differential queries over a join inside each site. The
// reference joins the union views on the key and on _site (withinSite):
// that is the per-site joins, unioned, which is what fedmesh computes, since
// each site joins only its own rows. Customer ids repeat across sites with
// different attributes (see sampledata), so joining the unions on the key
// alone gives other answers; TestJoinReferenceCatchesCrossSiteJoin checks
// that it does.
var joinCases = []struct {
	name, sql, ref string
	sites          int
}{
	{name: "join using: totals by segment",
		sql: "SELECT c.segment, SUM(s.amount) AS total, COUNT(*) AS n FROM sales s JOIN customers c USING (customer_id) GROUP BY c.segment"},
	{name: "join on: average by country and region",
		sql: "SELECT c.country, s.region, AVG(s.amount) AS avg_amt FROM sales s JOIN customers c ON s.customer_id = c.customer_id GROUP BY c.country, s.region ORDER BY c.country, s.region"},
	{name: "join with filters on both tables",
		sql: "SELECT s.year, COUNT(*) AS n, MAX(s.amount) AS hi FROM sales s JOIN customers c USING (customer_id) WHERE c.birth_year > 1975 AND s.amount > 50 GROUP BY s.year ORDER BY s.year"},
	{name: "join global aggregate",
		sql: "SELECT COUNT(*) AS n, SUM(s.amount) AS total, MIN(c.birth_year) AS oldest FROM sales s JOIN customers c USING (customer_id)"},
	{name: "left join keeps unmatched rows",
		sql: "SELECT c.segment, COUNT(*) AS n, COUNT(c.country) AS matched FROM sales s LEFT JOIN customers c ON c.customer_id = s.customer_id GROUP BY c.segment"},
	{name: "join grouped by site",
		sql: "SELECT _site, c.segment, SUM(s.amount) AS total FROM sales s JOIN customers c USING (customer_id) GROUP BY _site, c.segment ORDER BY 1, 2",
		ref: "SELECT s._site, c.segment, SUM(s.amount) AS total FROM sales s JOIN customers c ON s.customer_id = c.customer_id AND s._site = c._site GROUP BY s._site, c.segment ORDER BY 1, 2"},
	{name: "join with site filter and _site equality in ON",
		sql:   "SELECT c.segment, COUNT(*) AS n FROM sales s JOIN customers c ON s.customer_id = c.customer_id AND s._site = c._site WHERE _site IN ('a', 'b') GROUP BY c.segment",
		ref:   "SELECT c.segment, COUNT(*) AS n FROM sales s JOIN customers c ON s.customer_id = c.customer_id AND s._site = c._site WHERE s._site IN ('a', 'b') GROUP BY c.segment",
		sites: 2},
	{name: "join with CASE key and sample stddev",
		sql: "SELECT CASE WHEN c.birth_year < 1980 THEN 'older' ELSE 'younger' END AS cohort, STDDEV_SAMP(s.amount) AS sd, COUNT(*) AS n FROM sales s JOIN customers c USING (customer_id) GROUP BY 1 HAVING COUNT(*) > 5 ORDER BY 1"},
	{name: "inner join with count of a nullable right column",
		sql: "SELECT s.region, COUNT(c.birth_year) AS n, SUM(c.birth_year) AS years FROM sales s INNER JOIN customers c USING (customer_id) WHERE c.country <> 'ZZ' GROUP BY s.region ORDER BY s.region"},
}

func init() {
	for _, c := range joinCases {
		differentialSuite = append(differentialSuite, diffCase{name: c.name, sql: c.sql})
		ref := c.ref
		if ref == "" {
			ref = withinSite(c.sql)
		}
		differentialRefs[c.name] = ref
		if c.sites != 0 {
			differentialSites[c.name] = c.sites
		}
	}
}

// withinSite rewrites a join's condition for the union reference so that
// rows join only with rows of their own site.
func withinSite(sql string) string {
	sql = strings.Replace(sql, "USING (customer_id)", "ON s.customer_id = c.customer_id", 1)
	for _, on := range []string{"ON s.customer_id = c.customer_id", "ON c.customer_id = s.customer_id"} {
		sql = strings.Replace(sql, on, on+" AND s._site = c._site", 1)
	}
	return sql
}

// TestJoinAcrossSitesRefused checks that a join relating rows of different
// sites is refused before any site is contacted, with the reason.
func TestJoinAcrossSitesRefused(t *testing.T) {
	fed := startFederation(t, fedOptions{minGroupSize: 1})
	got := fed.query("SELECT COUNT(*) FROM sales s JOIN customers c ON s.customer_id = c.customer_id AND s._site <> c._site")
	if got.Status != 400 || got.Error == nil || !strings.Contains(got.Error.Message, "each site joins only its own rows") {
		t.Fatalf("HTTP %d %+v, want 400 explaining that each site joins only its own rows", got.Status, got.Error)
	}
	if len(got.Sites) != 0 {
		t.Errorf("sites contacted: %+v", got.Sites)
	}
}
