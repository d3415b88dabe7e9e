package coordinator

import (
	"github.com/fedmesh/fedmesh/flight"
	"github.com/fedmesh/fedmesh/planner"
)

// withholdGlobal marks ans as suppressed when q is a global aggregate (no
// GROUP BY) and every site withheld its one group: no site sent a row, so
// the merge had nothing to combine, and its COUNT 0 (or SUM NULL) would be
// made up. The answer then has one row of NULLs and Suppressed set; HAVING,
// OFFSET and LIMIT are not applied to values nobody knows. A global
// aggregate always yields exactly one row at each site, so no rows at all
// means every site suppressed it (exact mode: under its minimum group size;
// DP: under its noisy threshold).
func withholdGlobal(q *planner.Query, results []flight.SiteResult, ans *Answer) {
	if q.Kind != planner.KindAggregate || len(q.GroupBy) > 0 || len(results) == 0 {
		return
	}
	for _, r := range results {
		for _, b := range r.Batches {
			if b.NumRows() > 0 {
				return
			}
		}
	}
	ans.Suppressed = true
	ans.Rows = [][]any{make([]any, len(ans.Columns))}
}
