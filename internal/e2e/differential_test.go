package e2e

import (
	"database/sql"
	"fmt"
	"strings"
	"testing"
)

// TestDifferentialSuite runs every query of differentialSuite end to end
// (three DuckDB sites, agents over mTLS, coordinator merge) and compares the
// answer with DuckDB's own over the union of the sites' rows. The sites'
// minimum group size is 1, so nothing is suppressed and answers must match
// exactly (floating-point sums to 1e-9 relative, since summation order
// differs). DuckDB runs with integer_division, so "/" over integers
// truncates as in PostgreSQL, whose SQL the planner parses.
func TestDifferentialSuite(t *testing.T) {
	if len(differentialSuite) < 60 {
		t.Fatalf("only %d differential queries; keep at least 60", len(differentialSuite))
	}
	fed := startFederation(t, fedOptions{minGroupSize: 1})
	ref := openUnionReference(t, sharedFixture(t))
	for _, c := range differentialSuite {
		t.Run(c.name, func(t *testing.T) {
			got := fed.query(c.sql)
			if got.Status != 200 {
				t.Fatalf("%s\nHTTP %d: %+v", c.sql, got.Status, got.Error)
			}
			refSQL := c.sql
			if r, ok := differentialRefs[c.name]; ok {
				refSQL = r
			}
			want := ref.query(t, refSQL)
			ordered := strings.Contains(c.sql, "ORDER BY")
			if d := diffRows(normRows(got.Rows, !ordered), normRows(want, !ordered)); d != "" {
				t.Errorf("%s\n%s", c.sql, d)
			}
			wantSites := 3
			if n, ok := differentialSites[c.name]; ok {
				wantSites = n
			}
			if len(got.Sites) != wantSites {
				t.Errorf("sites = %+v, want %d sites contacted", got.Sites, wantSites)
			}
		})
	}
}

// unionReference is an in-memory DuckDB whose sales and customers views are
// the union of every site's rows, with a _site column naming the site.
type unionReference struct{ db *sql.DB }

func openUnionReference(t *testing.T, fx fixture) *unionReference {
	t.Helper()
	db, err := sql.Open("duckdb", "")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	db.SetMaxOpenConns(1) // one connection: settings and temp views hold per connection
	// PostgreSQL semantics: "/" over integers truncates, NULLs sort last
	// ascending and first descending.
	stmts := []string{"SET integer_division = true", "SET default_null_order = 'nulls_last_on_asc_first_on_desc'"}
	for _, table := range []string{"sales", "customers"} {
		var parts []string
		for _, s := range sites3 {
			path := fx.files[s].Sales
			if table == "customers" {
				path = fx.files[s].Customers
			}
			parts = append(parts, fmt.Sprintf("SELECT *, '%s' AS _site FROM read_parquet('%s')", s, path))
		}
		stmts = append(stmts, fmt.Sprintf("CREATE TEMP VIEW %s AS %s", table, strings.Join(parts, " UNION ALL ")))
	}
	for _, s := range stmts {
		if _, err := db.Exec(s); err != nil {
			t.Fatalf("reference: %s: %v", s, err)
		}
	}
	return &unionReference{db: db}
}

func (r *unionReference) query(t *testing.T, q string) [][]any {
	t.Helper()
	rows, err := r.db.Query(q)
	if err != nil {
		t.Fatalf("reference query %q: %v", q, err)
	}
	defer rows.Close()
	cols, err := rows.Columns()
	if err != nil {
		t.Fatal(err)
	}
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
