package enginebridge

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestOpenDuckDBConfigErrors(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	parquet, csv, dbfile := writeFixtures(t, dir)
	notParquet := filepath.Join(dir, "notes.txt")
	if err := os.WriteFile(notParquet, []byte("not parquet"), 0o600); err != nil {
		t.Fatal(err)
	}
	missing := filepath.Join(dir, "missing.parquet")
	tests := []struct {
		name       string
		cfg        DuckDBConfig
		wantFields []string
	}{
		{"unknown format", DuckDBConfig{Tables: []TableSource{{Name: "s", Format: "xlsx", Path: parquet}}},
			[]string{"tables[0].format"}},
		{"missing format", DuckDBConfig{Tables: []TableSource{{Name: "s", Path: parquet}}},
			[]string{"tables[0].format"}},
		{"missing path", DuckDBConfig{Tables: []TableSource{{Name: "s", Format: FormatParquet}}},
			[]string{"tables[0].path"}},
		{"path does not exist", DuckDBConfig{Tables: []TableSource{{Name: "s", Format: FormatParquet, Path: missing}}},
			[]string{"tables[0].path"}},
		{"path is a directory", DuckDBConfig{Tables: []TableSource{{Name: "s", Format: FormatCSV, Path: dir}}},
			[]string{"tables[0].path"}},
		{"missing name", DuckDBConfig{Tables: []TableSource{{Format: FormatCSV, Path: csv}}},
			[]string{"tables[0].name"}},
		{"duplicate name ignoring case", DuckDBConfig{Tables: []TableSource{
			{Name: "sales", Format: FormatParquet, Path: parquet},
			{Name: "Sales", Format: FormatCSV, Path: csv}}},
			[]string{"tables[1].name"}},
		{"table with parquet", DuckDBConfig{Tables: []TableSource{{Name: "s", Format: FormatParquet, Path: parquet, Table: "x"}}},
			[]string{"tables[0].table"}},
		{"negative threads and batch size", DuckDBConfig{Threads: -1, BatchSize: -5},
			[]string{"threads", "batch_size"}},
		{"every problem at once", DuckDBConfig{Threads: -1, Tables: []TableSource{
			{Name: "a", Format: FormatParquet, Path: parquet},
			{Name: "", Format: "json", Path: missing}}},
			[]string{"threads", "tables[1].name", "tables[1].format", "tables[1].path"}},
		// Problems only DuckDB can see, found while creating the views.
		{"file is not parquet", DuckDBConfig{Tables: []TableSource{
			{Name: "ok", Format: FormatParquet, Path: parquet},
			{Name: "s", Format: FormatParquet, Path: notParquet}}},
			[]string{"tables[1].path"}},
		{"table missing from database file", DuckDBConfig{Tables: []TableSource{{Name: "nope", Format: FormatDuckDB, Path: dbfile}}},
			[]string{"tables[0].table"}},
		{"database file is not duckdb", DuckDBConfig{Tables: []TableSource{{Name: "s", Format: FormatDuckDB, Path: notParquet}}},
			[]string{"tables[0].path"}},
		{"bad memory limit", DuckDBConfig{MemoryLimit: "lots"},
			[]string{"memory_limit"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			d, err := OpenDuckDB(context.Background(), tc.cfg, nil)
			if err == nil {
				d.Close()
				t.Fatal("OpenDuckDB succeeded, want a config error")
			}
			t.Logf("error: %v", err)
			got := fieldsOf(err)
			if diff := cmp.Diff(tc.wantFields, got); diff != "" {
				t.Errorf("fields named in %q (-want +got):\n%s", err, diff)
			}
			for _, f := range tc.wantFields {
				if !strings.Contains(err.Error(), f+": ") {
					t.Errorf("error %q does not start a message with %q", err, f)
				}
			}
		})
	}
}

// fieldsOf returns the Field of every *FieldError in err's tree, in order.
func fieldsOf(err error) []string {
	var out []string
	var walk func(error)
	walk = func(err error) {
		if fe, ok := err.(*FieldError); ok {
			out = append(out, fe.Field)
			return
		}
		switch u := err.(type) {
		case interface{ Unwrap() []error }:
			for _, e := range u.Unwrap() {
				walk(e)
			}
		case interface{ Unwrap() error }:
			if e := u.Unwrap(); e != nil {
				walk(e)
			}
		}
	}
	walk(err)
	return slices.Clip(out)
}

func TestOpenDuckDBRelativePath(t *testing.T) {
	// Not parallel: changes the working directory.
	dir := t.TempDir()
	parquet, _, _ := writeFixtures(t, dir)
	t.Chdir(dir)
	e := openEngine(t, DuckDBConfig{Tables: []TableSource{{Name: "sales", Format: FormatParquet, Path: filepath.Base(parquet)}}})
	t.Chdir(os.TempDir())
	// The view holds the absolute path, so a later working directory does not matter.
	_, rows := queryRows(t, e, "SELECT count(*) FROM sales")
	if diff := cmp.Diff([][]any{{int64(100)}}, rows); diff != "" {
		t.Errorf("rows (-want +got):\n%s", diff)
	}
}
