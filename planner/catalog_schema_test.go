package planner_test

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/fedmesh/fedmesh/planner"
	"github.com/fedmesh/fedmesh/planner/sqlfront"
)

func TestCatalogLogicalColumn(t *testing.T) {
	t.Parallel()
	cat := planner.Catalog{"sales": {Physical: "orders_c", Columns: map[string]string{"amount": "amt", "region": "amount"}}}
	for _, tc := range []struct {
		table, physical, want string
		ok                    bool
	}{
		{"sales", "amt", "amount", true},    // renamed
		{"sales", "amount", "region", true}, // renamed onto another logical name
		{"sales", "status", "status", true}, // kept
		{"customers", "cust", "cust", true}, // table without renames
		{"sales", "region", "", false},      // shadowed: "region" reaches physical "amount"
	} {
		got, ok := cat.LogicalColumn(tc.table, tc.physical)
		if got != tc.want || ok != tc.ok {
			t.Errorf("LogicalColumn(%s, %s) = %q, %v; want %q, %v", tc.table, tc.physical, got, ok, tc.want, tc.ok)
		}
	}
	if got, ok := planner.Catalog(nil).LogicalColumn("sales", "x"); got != "x" || !ok {
		t.Errorf("nil catalog: %q, %v", got, ok)
	}
}

func TestColumnsByTable(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		sql  string
		want map[string][]string
	}{
		{"SELECT region, SUM(amount) FROM sales WHERE status = 'paid' AND _site <> 'a' GROUP BY region",
			map[string][]string{"sales": {"status", "region", "amount"}}},
		{"SELECT c.segment, COUNT(c.country), AVG(s.amount) FROM sales s JOIN customers c USING (customer_id) WHERE s.year > 2020 GROUP BY c.segment",
			map[string][]string{"sales": {"year", "amount", "customer_id"}, "customers": {"segment", "country", "customer_id"}}},
		{"SELECT COUNT(*) FROM sales", map[string][]string{}},
	} {
		q, err := sqlfront.Parse(tc.sql)
		if err != nil {
			t.Fatalf("%s: %v", tc.sql, err)
		}
		if d := cmp.Diff(tc.want, planner.ColumnsByTable(q)); d != "" {
			t.Errorf("%s (-want +got):\n%s", tc.sql, d)
		}
	}
}

func TestCheckColumns(t *testing.T) {
	t.Parallel()
	sales := []planner.ColumnSchema{{"region", "VARCHAR"}, {"Amount", "DOUBLE"}, {"year", "INTEGER"}}
	lookup := func(site, table string) ([]planner.ColumnSchema, bool) {
		switch {
		case table != "sales":
			return nil, false
		case site == "a", site == "b":
			return sales, true
		case site == "c":
			return sales[:1], true // c lacks amount and year
		}
		return nil, false // d: not described
	}
	check := func(sql string, sites ...string) error {
		t.Helper()
		q, err := sqlfront.Parse(sql)
		if err != nil {
			t.Fatal(err)
		}
		return planner.CheckColumns(q, sites, lookup)
	}
	if err := check("SELECT region, SUM(amount) FROM sales WHERE _site <> 'x' GROUP BY region", "a", "b", "d"); err != nil {
		t.Errorf("known columns (amount matches Amount) refused: %v", err)
	}
	err := check("SELECT region, SUM(amount) FROM sales GROUP BY region", "a", "c", "d")
	if err == nil || !strings.Contains(err.Error(), `column "amount"`) || !strings.Contains(err.Error(), "at site c") ||
		!strings.Contains(err.Error(), "sites holding sales: a, c") || !strings.Contains(err.Error(), "columns of sales at site c: region") {
		t.Errorf("column missing at c: err = %v", err)
	}
	err = check("SELECT SUM(discount) FROM sales", "a", "b")
	if err == nil || !strings.Contains(err.Error(), `column "discount"`) || !strings.Contains(err.Error(), "at sites a, b") {
		t.Errorf("unknown column: err = %v", err)
	}
	if err := check("SELECT SUM(discount) FROM sales", "d"); err != nil {
		t.Errorf("a site that did not describe the table is left to judge: %v", err)
	}
	if err := planner.CheckColumns(nil, nil, nil); err != nil {
		t.Errorf("nil lookup: %v", err)
	}
}
