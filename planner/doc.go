// Package planner owns the plan that both sides of fedmesh share: the
// logical Query a coordinator builds, the SubPlan it sends each site (the
// wire contract flight encodes), the MergePlan it keeps, and the operations
// on them that need no SQL text: splitting a query into one SubPlan per
// site (Split, Participants), checking a sub-plan (Validate, CheckLimits
// with the size limits both sides enforce, and the Expr
// checks CastTarget, CheckLikePattern, DivisionOK, ExtractField, TruncUnit)
// and mapping logical to physical names per site (Catalog, ToPhysical).
//
// The work on plans lives in sub-packages, split along the wire:
//
//   - sqlfront parses analyst SQL into a Query (the coordinator only);
//   - render writes a SubPlan as engine SQL for a dialect (the agents);
//   - merge merges the sites' partial results (the coordinator) and folds
//     sketches at a site (the agents);
//   - explain shows a query's plans and SQL without running it.
//
// Plans are structure, never SQL text: group keys g0.., partial aggregates
// a0.. (a0 is always COUNT(*), the group size a site needs to suppress small
// groups), merge aggregates m0.., projections p0... A plan with a Join
// names its columns "table.column" (QualifiedColumn); each site joins only
// its own rows, and the join keys reach policy as the column use
// UseJoinKey.
//
// The package must not import the SQL parser (pg_query_go) or any of its
// sub-packages: the site agent links it, and internal/archtest fails if the
// agent links a parser. It must not talk to the network or to engines, and
// must not decide policy: it only describes what a query asks for.
package planner
