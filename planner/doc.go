// Package planner owns the query side of fedmesh that needs no I/O:
// parsing analyst SQL into a logical plan (Parse), splitting the plan into
// one SubPlan per site (Split), rendering a SubPlan as engine SQL for a
// dialect (Render, DialectByName), and merging the sites' partial results
// on the coordinator (Merge).
//
// Parse accepts one SELECT over one table: WHERE with comparisons,
// AND/OR/NOT, [NOT] IN (literals), BETWEEN, IS [NOT] NULL; GROUP BY columns,
// positions or aliases of columns; COUNT(*), COUNT, SUM, MIN, MAX, AVG and
// arithmetic over them; HAVING; ORDER BY; LIMIT and OFFSET. Queries without
// aggregates become rows plans, which a site's policy (not the planner)
// accepts or refuses. Everything else is refused with an *Error that names
// the construct, its position and what to write instead.
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
