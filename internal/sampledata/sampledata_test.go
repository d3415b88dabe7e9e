package sampledata

import (
	"bytes"
	"context"
	"database/sql"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	_ "github.com/duckdb/duckdb-go/v2"
	"github.com/google/go-cmp/cmp"
)

// query runs q against the parquet files (as tables sales and customers).
func query(t *testing.T, f Files, q string) [][]any {
	t.Helper()
	db, err := sql.Open("duckdb", "")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	for name, path := range map[string]string{"sales": f.Sales, "customers": f.Customers} {
		if _, err := db.Exec(fmt.Sprintf("CREATE VIEW %s AS SELECT * FROM read_parquet('%s')", name, strings.ReplaceAll(path, "'", "''"))); err != nil {
			t.Fatal(err)
		}
	}
	rows, err := db.Query(q)
	if err != nil {
		t.Fatalf("%s: %v", q, err)
	}
	defer rows.Close()
	cols, _ := rows.Columns()
	var out [][]any
	for rows.Next() {
		vals := make([]any, len(cols))
		ptrs := make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		if err := rows.Scan(ptrs...); err != nil {
			t.Fatal(err)
		}
		out = append(out, vals)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

func generateIn(t *testing.T, site string, opts Options) Files {
	t.Helper()
	f, err := Generate(context.Background(), t.TempDir(), site, opts)
	if err != nil {
		t.Fatalf("Generate(%q): %v", site, err)
	}
	return f
}

const allSales = "SELECT * FROM sales ORDER BY order_id"

func TestGenerateDeterministic(t *testing.T) {
	t.Parallel()
	opts := Options{Seed: 42, SalesRows: 3000, Customers: 400}
	first, second := generateIn(t, "a", opts), generateIn(t, "a", opts)
	for _, pair := range [][2]string{{first.Sales, second.Sales}, {first.Customers, second.Customers}} {
		x, err := os.ReadFile(pair[0])
		if err != nil {
			t.Fatal(err)
		}
		y, err := os.ReadFile(pair[1])
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(x, y) {
			t.Errorf("%s differs between two runs with the same inputs", filepath.Base(pair[0]))
		}
	}
	if diff := cmp.Diff(query(t, first, allSales), query(t, second, allSales)); diff != "" {
		t.Errorf("sales rows differ (-first +second):\n%s", diff)
	}

	// A different seed or site gives different data.
	otherSeed := generateIn(t, "a", Options{Seed: 43, SalesRows: 3000, Customers: 400})
	if cmp.Equal(query(t, first, allSales), query(t, otherSeed, allSales)) {
		t.Error("seeds 42 and 43 gave identical sales")
	}
}

func TestGenerateSchemaAndShape(t *testing.T) {
	t.Parallel()
	f := generateIn(t, "c", Options{Seed: 7})
	got := query(t, f, `SELECT
		(SELECT count(*) FROM sales), (SELECT count(DISTINCT order_id) FROM sales),
		(SELECT count(*) FROM customers),
		(SELECT min(year) FROM sales), (SELECT max(year) FROM sales),
		(SELECT count(*) FROM sales WHERE round(amount, 2) <> amount OR amount <= 0),
		(SELECT round(100.0 * count(*) FILTER (WHERE status IS NULL) / count(*)) FROM sales),
		(SELECT count(*) FROM sales s ANTI JOIN customers c USING (customer_id)),
		(SELECT count(*) FILTER (WHERE birth_year IS NULL) > 0 FROM customers)`)
	want := [][]any{{int64(30000), int64(30000), int64(5000), int32(2020), int32(2024), int64(0), float64(3), int64(0), true}}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("shape (-want +got):\n%s", diff)
	}
	types := query(t, f, `SELECT string_agg(column_name || ' ' || column_type, ', ' ORDER BY rowid)
		FROM (SELECT *, row_number() OVER () AS rowid FROM (DESCRIBE sales))
		UNION ALL SELECT string_agg(column_name || ' ' || column_type, ', ' ORDER BY rowid)
		FROM (SELECT *, row_number() OVER () AS rowid FROM (DESCRIBE customers))`)
	wantTypes := [][]any{
		{"order_id BIGINT, customer_id BIGINT, region VARCHAR, year INTEGER, amount DOUBLE, status VARCHAR"},
		{"customer_id BIGINT, segment VARCHAR, country VARCHAR, birth_year INTEGER"},
	}
	if diff := cmp.Diff(wantTypes, types); diff != "" {
		t.Errorf("column types (-want +got):\n%s", diff)
	}
}

// TestRareRegions checks the property the demo relies on: with a minimum
// group size of 10, which (region, year) groups are suppressed differs by site.
func TestRareRegions(t *testing.T) {
	t.Parallel()
	const minGroup = 10
	groups := map[string]map[string]int64{} // site → "region/year" → rows
	ids := map[string][2]int64{}
	for _, site := range []string{"a", "b", "c"} {
		f := generateIn(t, site, Options{Seed: 1})
		groups[site] = map[string]int64{}
		for _, r := range query(t, f, "SELECT region, year, count(*) FROM sales GROUP BY ALL") {
			groups[site][fmt.Sprintf("%s/%d", r[0], r[1])] = r[2].(int64)
		}
		// Rare-region counts match the profile exactly.
		p := ProfileFor(site)
		for _, region := range RareRegions {
			for y, n := range p.Rare[region] {
				if got := groups[site][fmt.Sprintf("%s/%d", region, FirstYear+y)]; got != int64(n) {
					t.Errorf("site %s %s/%d: %d rows, want %d", site, region, FirstYear+y, got, n)
				}
			}
		}
		r := query(t, f, "SELECT min(order_id), max(order_id) FROM sales")[0]
		ids[site] = [2]int64{r[0].(int64), r[1].(int64)}
	}
	status := func(site, group string) string {
		n, ok := groups[site][group]
		switch {
		case !ok:
			return "absent"
		case n < minGroup:
			return "suppressed"
		}
		return "kept"
	}
	tests := []struct {
		group string
		want  map[string]string
	}{
		{"arctic/2024", map[string]string{"a": "suppressed", "b": "absent", "c": "kept"}},
		{"arctic/2020", map[string]string{"a": "suppressed", "b": "absent", "c": "suppressed"}},
		{"islands/2022", map[string]string{"a": "kept", "b": "suppressed", "c": "kept"}},
		{"north/2020", map[string]string{"a": "kept", "b": "kept", "c": "kept"}},
	}
	for _, tc := range tests {
		got := map[string]string{}
		for site := range tc.want {
			got[site] = status(site, tc.group)
		}
		if diff := cmp.Diff(tc.want, got); diff != "" {
			t.Errorf("group %s by site (-want +got):\n%s", tc.group, diff)
		}
	}
	// Order ids never overlap between sites.
	for _, x := range []string{"a", "b", "c"} {
		for _, y := range []string{"a", "b", "c"} {
			if x < y && ids[x][0] <= ids[y][1] && ids[y][0] <= ids[x][1] {
				t.Errorf("order ids of sites %s %v and %s %v overlap", x, ids[x], y, ids[y])
			}
		}
	}
}

// TestCustomerIDsRepeatAcrossSites checks the property the join tests rely
// on: every site numbers its customers 1..N, with its own attributes, so
// the same id names different customers at different sites.
func TestCustomerIDsRepeatAcrossSites(t *testing.T) {
	t.Parallel()
	opts := Options{Seed: 1, SalesRows: 2000, Customers: 300}
	a, b := generateIn(t, "a", opts), generateIn(t, "b", opts)
	for _, f := range []Files{a, b} {
		got := query(t, f, "SELECT min(customer_id), max(customer_id), count(DISTINCT customer_id) FROM customers")
		if diff := cmp.Diff([][]any{{int64(1), int64(300), int64(300)}}, got); diff != "" {
			t.Errorf("customer ids of %s (-want +got):\n%s", f.Customers, diff)
		}
	}
	segA := query(t, a, "SELECT string_agg(segment || country, ',' ORDER BY customer_id) FROM customers")
	segB := query(t, b, "SELECT string_agg(segment || country, ',' ORDER BY customer_id) FROM customers")
	if cmp.Equal(segA, segB) {
		t.Error("sites a and b give their customers identical attributes; a cross-site join would go unnoticed")
	}
}

func TestProfileForOtherSites(t *testing.T) {
	t.Parallel()
	p, q := ProfileFor("hospital-north"), ProfileFor("hospital-north")
	if !cmp.Equal(p, q) {
		t.Error("profile of the same site differs between calls")
	}
	r := ProfileFor("hospital-south")
	if p.IDBase == r.IDBase || p.IDBase <= ProfileFor("c").IDBase+maxSalesRows {
		t.Errorf("id bases %d and %d must differ and lie above the demo sites", p.IDBase, r.IDBase)
	}
}

func TestGenerateErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, site string
		opts       Options
		want       string
	}{
		{"no site", "", Options{}, "site must be set"},
		{"negative rows", "a", Options{SalesRows: -1}, "sales rows"},
		{"too few rows for profile", "a", Options{SalesRows: 100}, "at least 306 rows"},
		{"negative customers", "b", Options{Customers: -3}, "customers"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			_, err := Generate(context.Background(), t.TempDir(), tc.site, tc.opts)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("err = %v, want one containing %q", err, tc.want)
			}
		})
	}
}
