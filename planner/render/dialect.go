package render

import (
	"fmt"
	"sort"
	"strconv"
	"strings"
)

// Dialect is what a renderer needs to know about an engine's SQL: how to
// quote an identifier and how to write a bound-parameter placeholder.
type Dialect interface {
	// Name is the dialect's registry name, e.g. "duckdb".
	Name() string
	// QuoteIdent returns name as a quoted identifier that the engine reads
	// back as exactly name, whatever characters it holds.
	QuoteIdent(name string) string
	// Placeholder returns the placeholder for the n-th (1-based) argument.
	Placeholder(n int) string
}

// dialects is the table of built-in dialects, by name.
var dialects = map[string]Dialect{
	"duckdb":   DuckDB{},
	"postgres": Postgres{},
	"mysql":    MySQL{},
	"spark":    Spark{},
	"flink":    Flink{},
}

// dialectAliases maps other common engine names to a built-in dialect.
var dialectAliases = map[string]string{
	"postgresql": "postgres", "mariadb": "mysql", "sparksql": "spark", "flinksql": "flink",
}

// DialectByName returns the built-in dialect called name (or one of its
// aliases: postgresql, mariadb).
func DialectByName(name string) (Dialect, error) {
	if a, ok := dialectAliases[name]; ok {
		name = a
	}
	if d, ok := dialects[name]; ok {
		return d, nil
	}
	known := make([]string, 0, len(dialects))
	for k := range dialects {
		known = append(known, k)
	}
	sort.Strings(known)
	return nil, fmt.Errorf("unknown SQL dialect %q (known: %s)", name, strings.Join(known, ", "))
}

// DuckDB is the DuckDB dialect: PostgreSQL-style "double-quoted"
// identifiers with "" escaping and $n placeholders.
type DuckDB struct{}

var _ Dialect = DuckDB{}

// Name implements Dialect.
func (DuckDB) Name() string { return "duckdb" }

// QuoteIdent implements Dialect.
func (DuckDB) QuoteIdent(name string) string {
	return `"` + strings.ReplaceAll(name, `"`, `""`) + `"`
}

// Placeholder implements Dialect.
func (DuckDB) Placeholder(n int) string { return "$" + strconv.Itoa(n) }
