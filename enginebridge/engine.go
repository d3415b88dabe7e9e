package enginebridge

import (
	"context"
	"strings"

	"github.com/apache/arrow-go/v18/arrow/array"
)

// Engine runs SQL rendered by fedmesh's planner (never analyst text) and
// streams Arrow batches.
type Engine interface {
	// Dialect names the SQL dialect for the planner's renderer: "duckdb",
	// later "postgres", "mysql", "spark", "flink".
	Dialect() string
	// Query runs sql with bound positional args ($1.. for duckdb) and returns
	// a streaming reader. The caller must Release the reader. Cancelling ctx
	// stops the engine's work; Query or the reader's Err then return an error
	// wrapping ctx.Err(). A result column whose type has no Arrow mapping is
	// an error naming the column and its type.
	Query(ctx context.Context, sql string, args []any) (array.RecordReader, error)
	// Close releases the engine. Readers still open may fail afterwards.
	Close() error
}

// TableSource is one table an engine exposes to the planner.
type TableSource struct {
	Name   string // logical table name exposed to the planner, e.g. "sales"
	Format string // "parquet" | "csv" | "duckdb"
	Path   string // file path
	Table  string // for "duckdb": table name inside the database file (default Name)
}

// Table source formats.
const (
	FormatParquet = "parquet"
	FormatCSV     = "csv"
	FormatDuckDB  = "duckdb"
)

// quoteIdent quotes a SQL identifier with double quotes, doubling embedded
// double quotes. Valid for DuckDB and PostgreSQL.
func quoteIdent(s string) string {
	return `"` + strings.ReplaceAll(s, `"`, `""`) + `"`
}

// quoteString quotes a SQL string literal with single quotes, doubling
// embedded single quotes.
func quoteString(s string) string {
	return `'` + strings.ReplaceAll(s, `'`, `''`) + `'`
}
