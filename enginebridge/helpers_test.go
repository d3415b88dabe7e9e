package enginebridge

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/google/go-cmp/cmp"
)

// openEngine opens a DuckDB engine for a test and closes it at cleanup.
func openEngine(t *testing.T, cfg DuckDBConfig) *DuckDB {
	t.Helper()
	d, err := OpenDuckDB(context.Background(), cfg, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatalf("OpenDuckDB: %v", err)
	}
	t.Cleanup(func() {
		if err := d.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	return d
}

// checkedConfig returns cfg with an allocator that fails the test if the
// reader leaks Arrow memory.
func checkedConfig(t *testing.T, cfg DuckDBConfig) DuckDBConfig {
	t.Helper()
	alloc := memory.NewCheckedAllocator(memory.NewGoAllocator())
	t.Cleanup(func() { alloc.AssertSize(t, 0) })
	cfg.Allocator = alloc
	return cfg
}

// queryRows runs q and returns the schema and every row as Go values (see cell).
func queryRows(t *testing.T, e Engine, q string, args ...any) (*arrow.Schema, [][]any) {
	t.Helper()
	r, err := e.Query(context.Background(), q, args)
	if err != nil {
		t.Fatalf("Query(%q): %v", q, err)
	}
	defer r.Release()
	var out [][]any
	for r.Next() {
		rec := r.RecordBatch()
		for i := 0; i < int(rec.NumRows()); i++ {
			row := make([]any, rec.NumCols())
			for j := range row {
				row[j] = cell(rec.Column(j), i)
			}
			out = append(out, row)
		}
	}
	if err := r.Err(); err != nil {
		t.Fatalf("reading %q: %v", q, err)
	}
	return r.Schema(), out
}

// cell returns a comparable Go value for arr[i]: nil for null, int64/uint64
// for integers, float64 for floats, decimal and temporal values as text.
func cell(arr arrow.Array, i int) any {
	if arr.IsNull(i) {
		return nil
	}
	switch a := arr.(type) {
	case *array.Boolean:
		return a.Value(i)
	case *array.Int8:
		return int64(a.Value(i))
	case *array.Int16:
		return int64(a.Value(i))
	case *array.Int32:
		return int64(a.Value(i))
	case *array.Int64:
		return a.Value(i)
	case *array.Uint8:
		return uint64(a.Value(i))
	case *array.Uint16:
		return uint64(a.Value(i))
	case *array.Uint32:
		return uint64(a.Value(i))
	case *array.Uint64:
		return a.Value(i)
	case *array.Float32:
		return float64(a.Value(i))
	case *array.Float64:
		return a.Value(i)
	case *array.Decimal128:
		return a.Value(i).ToString(a.DataType().(*arrow.Decimal128Type).Scale)
	case *array.String:
		return a.Value(i)
	case *array.Binary:
		return append([]byte(nil), a.Value(i)...)
	case *array.Date32:
		return a.Value(i).ToTime().Format(time.DateOnly)
	case *array.Timestamp:
		unit := a.DataType().(*arrow.TimestampType).Unit
		return a.Value(i).ToTime(unit).Format(time.RFC3339Nano)
	}
	return "unhandled " + arr.DataType().String()
}

// writeFixtures creates a parquet, a csv and a duckdb database file under
// dir using a separate DuckDB, and returns their paths.
func writeFixtures(t *testing.T, dir string) (parquet, csv, dbfile string) {
	t.Helper()
	parquet = filepath.Join(dir, "sales.parquet")
	csv = filepath.Join(dir, "people.csv")
	dbfile = filepath.Join(dir, "warehouse.duckdb")
	db, err := sql.Open("duckdb", dbfile)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	for _, stmt := range []string{
		`CREATE TABLE orders AS SELECT range AS id, range % 3 AS kind FROM range(10)`,
		`CREATE TABLE kinds AS SELECT * FROM (VALUES (0, 'zero'), (1, 'one'), (2, 'two')) k(kind, label)`,
		`COPY (SELECT range AS id, 'r' || (range % 2) AS region, range * 1.5 AS amount FROM range(100)) TO ` + quoteString(parquet) + ` (FORMAT parquet)`,
		`COPY (SELECT range AS id, 'p' || range AS name FROM range(5)) TO ` + quoteString(csv) + ` (HEADER, DELIMITER ',')`,
	} {
		if _, err := db.Exec(stmt); err != nil {
			t.Fatalf("fixture %q: %v", stmt, err)
		}
	}
	return parquet, csv, dbfile
}

// queryErr runs q to the end and returns the error from Query or the reader.
func queryErr(e Engine, q string, args ...any) error {
	r, err := e.Query(context.Background(), q, args)
	if err != nil {
		return err
	}
	defer r.Release()
	for r.Next() {
	}
	return r.Err()
}

// cancelOnceRunning runs sql on e, waits up to startWait until running()
// sees the engine's work, cancels the query's context, and checks that the
// query returns an error wrapping context.Canceled within returnWait and
// that running() is zero within goneWait of the cancel — so cancellation
// stops the server's work, not just the client. It logs both latencies.
func cancelOnceRunning(t *testing.T, e Engine, sql string, running func() int, startWait, returnWait, goneWait time.Duration) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- drain(ctx, e, sql, nil) }()
	waitFor(t, startWait, "the slow query's work to show up as running", func() bool { return running() != 0 })
	start := time.Now()
	cancel()
	select {
	case err := <-done:
		if !errors.Is(err, context.Canceled) {
			t.Errorf("error = %v, want one wrapping context.Canceled", err)
		}
	case <-time.After(returnWait):
		t.Fatalf("query still running %v after cancel", returnWait)
	}
	returned := time.Since(start)
	waitFor(t, goneWait-returned, "the server's work to stop after cancel", func() bool { return running() == 0 })
	t.Logf("cancel → query returned: %v; cancel → server work gone: %v", returned, time.Since(start))
}

// waitFor polls cond every 50ms until it holds or timeout passes.
func waitFor(t testing.TB, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for %s", timeout, what)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// typeCase is one row of an adapter's type-mapping table (README.md): a
// value of SQL type typ written as literal must arrive as an Arrow column
// of type arrow holding want.
type typeCase struct {
	typ     string
	literal string
	arrow   arrow.DataType
	want    any
}

// castTypeQuery selects every case as CAST(literal AS typ) in column i+1
// after an ord column: row 0 holds the values, row 1 the same types' NULLs.
func castTypeQuery(cases []typeCase) string {
	var vals, nulls []string
	for i, c := range cases {
		vals = append(vals, fmt.Sprintf("CAST(%s AS %s) AS c%d", c.literal, c.typ, i))
		nulls = append(nulls, fmt.Sprintf("CAST(NULL AS %s)", c.typ))
	}
	return "SELECT 0 AS ord, " + strings.Join(vals, ", ") +
		" UNION ALL SELECT 1, " + strings.Join(nulls, ", ") + " ORDER BY ord"
}

// checkTypeRows checks a type-mapping result laid out as castTypeQuery's:
// column i+1 has cases[i]'s Arrow type, its value in row 0 and a NULL in
// row 1.
func checkTypeRows(t *testing.T, schema *arrow.Schema, rows [][]any, cases []typeCase) {
	t.Helper()
	if len(rows) != 2 {
		t.Fatalf("got %d rows, want 2", len(rows))
	}
	for i, c := range cases {
		t.Run(c.typ, func(t *testing.T) {
			f := schema.Field(i + 1)
			if !arrow.TypeEqual(f.Type, c.arrow) {
				t.Errorf("arrow type = %s, want %s", f.Type, c.arrow)
			}
			if diff := cmp.Diff(c.want, rows[0][i+1]); diff != "" {
				t.Errorf("value (-want +got):\n%s", diff)
			}
			if rows[1][i+1] != nil {
				t.Errorf("NULL %s came out as %v, want an Arrow null", c.typ, rows[1][i+1])
			}
		})
	}
}
