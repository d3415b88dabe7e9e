package coordinator

import (
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/fedmesh/fedmesh/flight"
	"github.com/fedmesh/fedmesh/planner"
	"github.com/fedmesh/fedmesh/planner/sqlfront"
)

// TestCatalogPrecedence checks which tables the coordinator takes each site
// to hold: a table list in its config overrides the site's report, the
// report decides otherwise, and a site with no report (or one that declares
// no tables) holds every table.
func TestCatalogPrecedence(t *testing.T) {
	sites := []Site{{Name: "a"}, {Name: "b", Tables: []string{"sales"}}, {Name: "c"}, {Name: "d"}}
	c := &Coordinator{cfg: Config{Sites: sites}, catalogs: newCatalogs(sites)}
	cols := []planner.ColumnSchema{{Name: "region", Type: "VARCHAR"}, {Name: "amount", Type: "DOUBLE"}}
	c.catalogs.set("a", &flight.CatalogResult{Site: "a", Declared: true, Tables: []planner.TableSchema{{Name: "sales", Columns: cols}, {Name: "customers", Error: "x"}}})
	c.catalogs.set("b", &flight.CatalogResult{Site: "b", Declared: true, Tables: []planner.TableSchema{{Name: "customers"}}})
	c.catalogs.set("d", &flight.CatalogResult{Site: "d", Declared: false})
	for _, tc := range []struct {
		site, table string
		want        bool
	}{
		{"a", "sales", true}, {"a", "customers", true}, {"a", "returns", false},
		{"b", "sales", true}, {"b", "customers", false}, // the config overrides b's report
		{"c", "returns", true}, // no report: every table
		{"d", "returns", true}, // declares none: every table
	} {
		if got := c.siteHas(tc.site, tc.table); got != tc.want {
			t.Errorf("siteHas(%s, %s) = %v, want %v", tc.site, tc.table, got, tc.want)
		}
	}
	if got, ok := c.siteColumns("a", "sales"); !ok || len(got) != 2 {
		t.Errorf("columns of a.sales = %v, %v", got, ok)
	}
	for _, st := range [][2]string{{"a", "customers"}, {"c", "sales"}, {"d", "sales"}, {"a", "returns"}} {
		if _, ok := c.siteColumns(st[0], st[1]); ok {
			t.Errorf("columns of %s.%s are taken as known", st[0], st[1])
		}
	}

	plan := func(sql string) error {
		t.Helper()
		q, err := sqlfront.Parse(sql)
		if err != nil {
			t.Fatal(err)
		}
		in, lacking := planner.ParticipantsByCatalog(q, []string{"a", "b", "c", "d"}, c.siteHas)
		return c.checkCatalog(q, in, lacking)
	}
	if err := plan("SELECT region, SUM(amount) FROM sales GROUP BY region"); err != nil {
		t.Errorf("known columns refused: %v", err)
	}
	var qe *QueryError
	if err := plan("SELECT SUM(discount) FROM sales"); !errors.As(err, &qe) || qe.Code != "unknown_column" ||
		!strings.Contains(qe.Message, `"discount"`) || !strings.Contains(qe.Message, "at site a") {
		t.Errorf("unknown column: %v", err)
	}

	// With c and d reporting only sales, no site holds returns.
	c.catalogs.set("c", &flight.CatalogResult{Site: "c", Declared: true, Tables: []planner.TableSchema{{Name: "sales", Columns: cols}}})
	c.catalogs.set("d", &flight.CatalogResult{Site: "d", Declared: true, Tables: []planner.TableSchema{{Name: "sales", Columns: cols}}})
	if err := plan("SELECT COUNT(*) FROM returns"); !errors.As(err, &qe) || qe.Code != "unknown_table" ||
		!strings.Contains(qe.Message, "returns") || !strings.Contains(qe.Message, "b: sales") {
		t.Errorf("unknown table: %v", err)
	}
	if got := c.siteTables("c"); !slices.Equal(got, []string{"sales"}) {
		t.Errorf("siteTables(c) = %v", got)
	}
}
