// Package planner owns the query side of fedmesh that needs no I/O:
// parsing analyst SQL into a logical plan (Parse), splitting the plan into
// one SubPlan per site (Split), rendering a SubPlan as engine SQL for a
// dialect (Render, DialectByName), explaining all of that without running
// it (Explain), mapping logical to physical names per site (Catalog), and
// merging the sites' partial results on the coordinator (Merge).
//
// Parse accepts one SELECT over one table, or over two tables joined
// inside each site: "a [INNER|LEFT] JOIN b USING (k, ...)" or "ON a.k =
// b.k [AND ...]" (x._site = y._site may be added and is dropped: it always
// holds). Each site joins only its own rows and only aggregates leave it;
// anything that would join rows of two sites (a _site inequality, other ON
// conditions, a site holding only one of the tables: CheckJoinSites) is
// refused. In a join every column must be qualified except USING keys and
// _site, because the coordinator does not know which table holds which
// column; plans then name columns "table.column" (logical names), and the
// join keys reach policy as the column use "join_key". At the sites (WHERE, group
// keys, aggregate arguments): comparisons, AND/OR/NOT, [NOT] IN (literals),
// [NOT] BETWEEN, IS [NOT] NULL, [NOT] LIKE (patterns without backslash),
// + - * and /, CASE, COALESCE, CAST to bigint/integer/double
// precision/text/boolean/date, EXTRACT/date_part (year, quarter, month,
// day, hour, minute; a BIGINT), date_trunc('year'|'month'|'day', x) (a
// TIMESTAMP in every dialect; MySQL through DATE_FORMAT, refused for Flink,
// which has none: see dateTrunc), and the virtual column _site. GROUP BY takes
// expressions, positions or select-list aliases. Aggregates: COUNT(*),
// COUNT, SUM, MIN, MAX, AVG, VAR_POP/VAR_SAMP/VARIANCE and
// STDDEV_POP/STDDEV_SAMP/STDDEV, over expressions. After the merge:
// arithmetic over aggregates and group keys, HAVING, ORDER BY, LIMIT and
// OFFSET; CASE and COALESCE over aggregates and group keys (branch types
// unify as numbers, temporals or NULL; CAST over aggregates is refused).
// Queries without aggregates become rows plans, which a site's policy (not
// the planner) accepts or refuses. Everything else is refused
// with an *Error that names the construct, its position and what to write
// instead.
//
// Semantics are PostgreSQL's, whose SQL Parse reads. Division at the sites
// is sent only when the planner knows the operand types without a catalog:
// over a double (float literal or CAST to double precision) it is "/"
// everywhere; over two integers (integer literals, CASTs to bigint or
// integer, arithmetic of those) it is each dialect's truncating integer
// division (DuckDB //, MySQL DIV, Spark div, PostgreSQL /); anything else
// is refused with a hint, because engines disagree on "/" over integer
// columns. After the merge, "/" over integers truncates as in PostgreSQL.
// Variances are merged from each site's COUNT, SUM and VAR_POP over doubles
// (Chan et al.), not from sums of squares.
//
// Dialects (DialectByName): duckdb, postgres, mysql (mariadb), spark,
// flink. The first three bind every literal as a parameter. Spark Connect's
// Go client and Flink's SQL Gateway take SQL text only, so those two write
// literals inline (LiteralInliner), escaped so that no parser setting can
// change them; see dialects.go.
//
// Plans are structure, never SQL text: group keys g0.., partial aggregates
// a0.. (a0 is always COUNT(*), the group size a site needs to suppress small
// groups), merge aggregates m0.., projections p0... Render builds SQL from
// that structure only, quoting every identifier and binding every literal
// as a parameter, so analyst SQL text never reaches an engine.
//
// The package must not talk to the network or to engines, and must not
// decide policy: it only describes what a query asks for.
package planner
