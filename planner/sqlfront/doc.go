// Package sqlfront is the coordinator's SQL front end: Parse reads analyst
// SQL (with PostgreSQL's own parser, pg_query_go) into a planner.Query, and
// CheckJoinSites refuses joins some site could only answer by sending rows.
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
// which has none: see render), and the virtual column _site. GROUP BY takes
// expressions, positions or select-list aliases. Aggregates: COUNT(*),
// COUNT, SUM, MIN, MAX, AVG, VAR_POP/VAR_SAMP/VARIANCE and
// STDDEV_POP/STDDEV_SAMP/STDDEV, over expressions; COUNT(DISTINCT x),
// APPROX_COUNT_DISTINCT, percentile_cont and approx_quantile, answered
// approximately from sketches (sketch_parse.go). After the merge:
// arithmetic over aggregates and group keys, HAVING, ORDER BY, LIMIT and
// OFFSET; CASE and COALESCE over aggregates and group keys (branch types
// unify as numbers, temporals or NULL; CAST over aggregates is refused).
// Queries without aggregates become rows plans, which a site's policy (not
// the planner) accepts or refuses. Everything else is refused
// with a *planner.Error that names the construct, its position and what to
// write instead.
//
// Semantics are PostgreSQL's, whose SQL Parse reads. Division at the sites
// is accepted only when the planner knows the operand types without a
// catalog (planner.DivisionOK): over a double (float literal or CAST to
// double precision), or over two integers (integer literals, CASTs to
// bigint or integer, arithmetic of those), which render writes as each
// dialect's truncating integer division; anything else is refused with a
// hint, because engines disagree on "/" over integer columns.
//
// The package must never be linked into the site agent, nor into any
// package the agent is built from (internal/archtest fails if it is): a
// site sees plans, never analyst SQL. It must not talk to the network or to
// engines.
package sqlfront
