package enginebridge

import (
	"context"
	"database/sql"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/google/go-cmp/cmp"
)

func TestDuckDBViewsOverFiles(t *testing.T) {
	t.Parallel()
	parquet, csv, dbfile := writeFixtures(t, t.TempDir())
	e := openEngine(t, checkedConfig(t, DuckDBConfig{Tables: []TableSource{
		{Name: "sales", Format: FormatParquet, Path: parquet},
		{Name: "people", Format: FormatCSV, Path: csv},
		{Name: "orders", Format: FormatDuckDB, Path: dbfile},
		// A second table from the same file shares one attachment.
		{Name: "order_kinds", Format: FormatDuckDB, Path: dbfile, Table: "kinds"},
	}}))

	if diff := cmp.Diff([]string{"sales", "people", "orders", "order_kinds"}, e.Tables()); diff != "" {
		t.Errorf("Tables() (-want +got):\n%s", diff)
	}
	if got := e.Dialect(); got != "duckdb" {
		t.Errorf("Dialect() = %q, want duckdb", got)
	}
	tests := []struct {
		name  string
		query string
		want  [][]any
	}{
		{"parquet", `SELECT region, count(*), sum(amount) FROM sales GROUP BY region ORDER BY region`,
			[][]any{{"r0", int64(50), "3675.0"}, {"r1", int64(50), "3750.0"}}},
		{"csv", `SELECT id, name FROM people ORDER BY id DESC LIMIT 2`,
			[][]any{{int64(4), "p4"}, {int64(3), "p3"}}},
		{"duckdb file", `SELECT k.label, count(*) FROM orders o JOIN order_kinds k USING (kind) GROUP BY k.label ORDER BY k.label`,
			[][]any{{"one", int64(3)}, {"two", int64(3)}, {"zero", int64(4)}}},
		{"across formats", `SELECT count(*) FROM sales s JOIN people p ON s.id = p.id JOIN orders o ON o.id = s.id`,
			[][]any{{int64(5)}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			_, got := queryRows(t, e, tc.query)
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("rows (-want +got):\n%s", diff)
			}
		})
	}
}

// TestDuckDBLockedDown checks that after setup SQL can reach neither other
// files nor the settings that guard them.
func TestDuckDBLockedDown(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	parquet, csv, dbfile := writeFixtures(t, dir)
	other := filepath.Join(dir, "other.csv")
	if err := os.WriteFile(other, []byte("secret\n42\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	e := openEngine(t, DuckDBConfig{Tables: []TableSource{{Name: "sales", Format: FormatParquet, Path: parquet}}})
	for _, q := range []string{
		"SELECT * FROM read_csv(" + quoteString(other) + ")",
		"SELECT * FROM read_csv_auto(" + quoteString(csv) + ")",
		"ATTACH " + quoteString(dbfile) + " AS w (READ_ONLY)",
		"COPY (SELECT 1) TO " + quoteString(filepath.Join(dir, "out.csv")),
		"SET enable_external_access = true",
		"SET allowed_paths = []",
		"SET threads = 1",
	} {
		err := queryErr(e, q)
		if err == nil {
			t.Errorf("%s: succeeded, want it refused", q)
			continue
		}
		if msg := err.Error(); !strings.Contains(msg, "disabled by configuration") && !strings.Contains(msg, "configuration has been locked") {
			t.Errorf("%s: err = %v, want a permission or locked-configuration error", q, err)
		}
	}
	if _, err := os.Stat(filepath.Join(dir, "out.csv")); err == nil {
		t.Errorf("COPY TO wrote a file")
	}
}

func TestDuckDBBoundParameters(t *testing.T) {
	t.Parallel()
	parquet, _, _ := writeFixtures(t, t.TempDir())
	e := openEngine(t, DuckDBConfig{Tables: []TableSource{{Name: "sales", Format: FormatParquet, Path: parquet}}})
	tests := []struct {
		name  string
		query string
		args  []any
		want  [][]any
	}{
		{"scalars", `SELECT $1 + 1, $2 * 2, $3 || '!', NOT $4`,
			[]any{int64(41), 1.25, "it's", true}, [][]any{{int64(42), 2.5, "it's!", false}}},
		{"filter", `SELECT count(*) FROM sales WHERE region = $1 AND amount > $2`,
			[]any{"r1", 100.0}, [][]any{{int64(17)}}},
		{"injection stays a value", `SELECT count(*) FROM sales WHERE region = $1`,
			[]any{"r1' OR '1'='1"}, [][]any{{int64(0)}}},
		{"null argument", `SELECT $1::VARCHAR IS NULL`, []any{nil}, [][]any{{true}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			_, got := queryRows(t, e, tc.query, tc.args...)
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("rows (-want +got):\n%s", diff)
			}
		})
	}
}

// TestDuckDBQuotedNames uses a table name, column names and a directory that
// all contain spaces and quotes.
func TestDuckDBQuotedNames(t *testing.T) {
	t.Parallel()
	dir := filepath.Join(t.TempDir(), `it's a "dir"`)
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "odd.parquet")
	db, err := sql.Open("duckdb", "")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.Exec(`COPY (SELECT 7 AS "order id", 'x' AS "o'brien ""q""") TO ` + quoteString(path) + ` (FORMAT parquet)`); err != nil {
		t.Fatal(err)
	}
	name := `weird "table's" name`
	e := openEngine(t, DuckDBConfig{Tables: []TableSource{{Name: name, Format: FormatParquet, Path: path}}})
	schema, got := queryRows(t, e, `SELECT "order id", "o'brien ""q""" FROM `+quoteIdent(name))
	if diff := cmp.Diff([][]any{{int64(7), "x"}}, got); diff != "" {
		t.Errorf("rows (-want +got):\n%s", diff)
	}
	names := []string{schema.Field(0).Name, schema.Field(1).Name}
	if diff := cmp.Diff([]string{"order id", `o'brien "q"`}, names); diff != "" {
		t.Errorf("column names (-want +got):\n%s", diff)
	}
}

// TestDuckDBBatchesBounded checks that results arrive in batches of at most
// BatchSize rows and that Arrow memory is held for about one batch at a time.
func TestDuckDBBatchesBounded(t *testing.T) {
	t.Parallel()
	alloc := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer alloc.AssertSize(t, 0)
	const batch = 50000
	e := openEngine(t, DuckDBConfig{BatchSize: batch, Allocator: alloc})
	r, err := e.Query(context.Background(), "SELECT range AS i FROM range(200000) ORDER BY i", nil)
	if err != nil {
		t.Fatal(err)
	}
	var sizes []int64
	next := int64(0)
	for r.Next() {
		rec := r.RecordBatch()
		sizes = append(sizes, rec.NumRows())
		col := rec.Column(0)
		for i := 0; i < col.Len(); i++ {
			if got := cell(col, i); got != next {
				t.Fatalf("row %d = %v, want %d", next, got, next)
			}
			next++
		}
		// One 50k-row int64 batch is ~400 KB; holding all 200k would be 1.6 MB.
		if held := alloc.CurrentAlloc(); held > 3*batch*8 {
			t.Errorf("after %d batches %d bytes are held, want about one batch", len(sizes), held)
		}
	}
	if err := r.Err(); err != nil {
		t.Fatal(err)
	}
	r.Release()
	if len(sizes) < 4 || slices.Max(sizes) > batch || next != 200000 {
		t.Errorf("batch sizes %v (total %d), want >= 4 batches of <= %d rows totalling 200000", sizes, next, batch)
	}
}

// TestDuckDBConcurrentReaders holds several readers open at once, so they run
// on different pooled connections that must all see the views.
func TestDuckDBConcurrentReaders(t *testing.T) {
	t.Parallel()
	parquet, _, dbfile := writeFixtures(t, t.TempDir())
	e := openEngine(t, DuckDBConfig{BatchSize: 10, Tables: []TableSource{
		{Name: "sales", Format: FormatParquet, Path: parquet},
		{Name: "orders", Format: FormatDuckDB, Path: dbfile},
	}})
	const n = 4
	var wg sync.WaitGroup
	errs := make([]error, n)
	counts := make([]int64, n)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r, err := e.Query(context.Background(), "SELECT s.id FROM sales s JOIN orders o USING (id)", nil)
			if err != nil {
				errs[i] = err
				return
			}
			defer r.Release()
			for r.Next() {
				counts[i] += r.RecordBatch().NumRows()
			}
			errs[i] = r.Err()
		}()
	}
	wg.Wait()
	for i := range n {
		if errs[i] != nil || counts[i] != 10 {
			t.Errorf("reader %d: %d rows, err %v; want 10 rows", i, counts[i], errs[i])
		}
	}
}

func TestDuckDBQueryAfterClose(t *testing.T) {
	t.Parallel()
	e, err := OpenDuckDB(context.Background(), DuckDBConfig{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := e.Close(); err != nil {
		t.Fatal(err)
	}
	if err := queryErr(e, "SELECT 1"); err == nil || !strings.Contains(err.Error(), "closed") {
		t.Errorf("query after Close: err = %v, want a closed error", err)
	}
}
