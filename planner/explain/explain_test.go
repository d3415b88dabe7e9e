package explain

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/fedmesh/fedmesh/planner/internal/plantest"
	"github.com/fedmesh/fedmesh/planner/sqlfront"
)

func TestExplain(t *testing.T) {
	t.Parallel()
	q, err := sqlfront.Parse(`SELECT region, avg(amount) AS mean FROM sales WHERE _site <> 'c' AND status = 'it''s' GROUP BY region HAVING count(*) > 5 ORDER BY mean DESC LIMIT 3`)
	if err != nil {
		t.Fatal(err)
	}
	ex, err := Explain(q, []SiteDialect{{"a", "postgres", nil}, {"b", "mysql", []string{"sales"}}, {"c", "spark", nil}, {"d", "flink", []string{"customers"}}}, plantest.Meta())
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{"c"}, ex.Skipped); diff != "" {
		t.Errorf("skipped (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{"d"}, ex.Lacking); diff != "" {
		t.Errorf("lacking (-want +got):\n%s", diff)
	}
	if want := `((_site <> 'c') AND (status = 'it''s'))`; ex.Logical.Filter != want {
		t.Errorf("logical filter = %s, want %s", ex.Logical.Filter, want)
	}
	if len(ex.Sites) != 2 {
		t.Fatalf("sites = %+v, want a and b", ex.Sites)
	}
	for _, s := range ex.Sites {
		want := map[string]string{"a": `"region" AS "g0"`, "b": "`region` AS `g0`"}[s.Site]
		if !strings.Contains(s.SQL, want) || s.Error != "" {
			t.Errorf("site %s (%s): SQL %q lacks %q (error %q)", s.Site, s.Dialect, s.SQL, want, s.Error)
		}
	}
	text := strings.Join(ex.MergeText, "\n")
	for _, want := range []string{"group the sites' partial rows by g0", "sum / count(a1, a2)", "HAVING (m1 > 5)", "ORDER BY m0 DESC", "LIMIT 3"} {
		if !strings.Contains(text, want) {
			t.Errorf("merge text lacks %q:\n%s", want, text)
		}
	}
	if _, err := Explain(q, []SiteDialect{{"a", "oracle", nil}}, plantest.Meta()); err == nil || !strings.Contains(err.Error(), "oracle") {
		t.Errorf("unknown dialect: err = %v", err)
	}
}

func TestExplainShowsSketches(t *testing.T) {
	t.Parallel()
	q, err := sqlfront.Parse(`SELECT region, COUNT(DISTINCT customer_id), percentile_cont(0.9) WITHIN GROUP (ORDER BY amount) FROM sales GROUP BY region`)
	if err != nil {
		t.Fatal(err)
	}
	ex, err := Explain(q, []SiteDialect{{Site: "a", Dialect: "postgres"}}, plantest.Meta())
	if err != nil {
		t.Fatal(err)
	}
	text := strings.Join(ex.Logical.Partials, "\n") + "\n" + ex.Sites[0].SQL + "\n" + strings.Join(ex.MergeText, "\n")
	for _, want := range []string{
		"a1 = hll(customer_id) [built at the site",
		"a2 = quantile_sketch(amount) [built at the site",
		`GROUP BY "region", "customer_id", "amount"`,
		"m0 = estimated distinct count of the merged HyperLogLog sketches a1 (approximate, ±1.62%)",
		"m1 = quantile 0.9 of the merged DDSketches a2 (approximate, ±1% of the value)",
	} {
		if !strings.Contains(text, want) {
			t.Errorf("explain lacks %q:\n%s", want, text)
		}
	}
}
