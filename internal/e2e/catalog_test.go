package e2e

import (
	"database/sql"
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"github.com/fedmesh/fedmesh/enginebridge"
	"github.com/fedmesh/fedmesh/planner"
)

// TestCatalogMappingAtSite runs queries over a federation where site c
// stores sales as "orders_c" with columns named differently (cust, amt,
// geo). The analyst writes the federation's logical names; site c's agent
// renders its own names from its catalog, and every answer matches DuckDB's
// over the union of the sites' rows.
func TestCatalogMappingAtSite(t *testing.T) {
	fx := sharedFixture(t)
	phys := filepath.Join(t.TempDir(), "orders_c.parquet")
	db, err := sql.Open("duckdb", "")
	if err != nil {
		t.Fatal(err)
	}
	copyStmt := fmt.Sprintf(`COPY (SELECT order_id, customer_id AS cust, region AS geo, year, amount AS amt, status
		FROM read_parquet('%s')) TO '%s' (FORMAT parquet)`, fx.files["c"].Sales, phys)
	if _, err := db.Exec(copyStmt); err != nil {
		t.Fatalf("write renamed table: %v", err)
	}
	db.Close()
	fed := startFederation(t, fedOptions{
		minGroupSize: 1,
		tables: map[string][]enginebridge.TableSource{"c": {
			{Name: "orders_c", Format: "parquet", Path: phys},
			{Name: "customers", Format: "parquet", Path: fx.files["c"].Customers},
		}},
		catalogs: map[string]planner.Catalog{"c": {
			"sales":     {Physical: "orders_c", Columns: map[string]string{"customer_id": "cust", "region": "geo", "amount": "amt"}},
			"customers": {Physical: "customers"},
		}},
	})
	ref := openUnionReference(t, fx)
	for _, q := range []string{
		"SELECT region, SUM(amount) AS total, COUNT(*) AS n FROM sales GROUP BY region ORDER BY region",
		"SELECT _site, region, MAX(amount) AS hi FROM sales WHERE amount > 100 AND region <> 'north' GROUP BY _site, region ORDER BY _site, region",
		"SELECT year, AVG(amount) AS avg_amt, COUNT(status) AS n FROM sales WHERE region IN ('east', 'west') GROUP BY year ORDER BY year",
	} {
		got := fed.query(q)
		if got.Status != 200 {
			t.Fatalf("%s\nHTTP %d: %+v", q, got.Status, got.Error)
		}
		want := ref.query(t, q)
		if len(want) == 0 {
			t.Fatalf("%s: reference is empty; the test would prove nothing", q)
		}
		if d := diffRows(normRows(got.Rows, false), normRows(want, false)); d != "" {
			t.Errorf("%s\n%s", q, d)
		}
		if !strings.Contains(q, "_site") && len(got.Sites) != 3 {
			t.Errorf("%s: sites = %+v, want all 3", q, got.Sites)
		}
	}
}
