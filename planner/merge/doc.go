// Package merge combines the sites' partial results into a query's answer
// on the coordinator (Merge, per the query's planner.MergePlan: sums of
// sums, AVG = ΣSUM/ΣCOUNT, variances, sketch merges, then HAVING, ORDER
// BY, LIMIT and OFFSET), and builds the sketches a site sends from its
// engine's subgroups (FoldSketches, run by the agents).
//
// Variances are merged from each site's COUNT, SUM and VAR_POP over doubles
// (Chan et al.), not from sums of squares. After the merge, "/" over
// integers truncates as in PostgreSQL. Distinct counts are HyperLogLog
// sketches and quantiles DDSketches; an answer that depends on one says so
// (Result.Approximate).
//
// The package must not import the SQL front end (planner/sqlfront) or the
// SQL parser: agents link it (internal/archtest checks). It must not talk
// to the network or to engines.
package merge
