// Package render writes a planner.SubPlan as engine SQL: Render, for a
// Dialect chosen by name (DialectByName): duckdb, postgres, mysql
// (mariadb), spark, flink. It is what a site agent runs before it queries
// its engine; Describe writes expressions for people (EXPLAIN).
//
// Render builds SQL from the plan's structure only, quoting every
// identifier and binding every literal as a parameter, so analyst SQL text
// never reaches an engine. DuckDB, PostgreSQL and MySQL bind every literal.
// Spark Connect's Go client and Flink's SQL Gateway take SQL text only, so
// those two write literals inline (LiteralInliner), escaped so that no
// parser setting can change them; see dialects.go.
//
// Division over doubles is "/" everywhere; over two integers it is each
// dialect's truncating integer division (DuckDB //, MySQL DIV, Spark div,
// PostgreSQL and Flink /), as PostgreSQL's "/" over integers. A dialect
// that cannot express an op refuses it with an error wrapping ErrNoCast or
// ErrNoDateTrunc rather than render something that means another thing.
//
// The package must not import the SQL front end (planner/sqlfront) or the
// SQL parser: agents link it (internal/archtest checks). It must not talk
// to the network or to engines.
package render
