package planner

import (
	"fmt"
	"time"
)

// Query is the logical plan of one analyst query over one federated table:
// what every site computes (the partial outputs) and how the coordinator
// merges them. It is produced by sqlfront.Parse and consumed by Split and
// merge.Merge.
type Query struct {
	Table  string
	Join   *Join // a second table joined at each site, nil when absent
	Kind   PlanKind
	Star   bool  // KindRows: SELECT *
	Filter *Expr // WHERE over table columns, nil when absent

	// GroupBy and Partials are the site-side outputs (see SubPlan). For
	// KindRows, Partials holds the projected expressions.
	GroupBy     []OutputColumn
	Partials    []OutputColumn
	CountColumn string // the COUNT(*) partial used for group sizes (KindAggregate)

	Merge MergePlan
}

// MergeFunc says how partial columns from all sites combine into one value.
type MergeFunc string

// Merge functions.
const (
	MergeSum   MergeFunc = "sum"   // SUM of partial SUMs; NULL when every input is NULL
	MergeCount MergeFunc = "count" // SUM of partial COUNTs; 0 when no input
	MergeMin   MergeFunc = "min"
	MergeMax   MergeFunc = "max"
	MergeAvg   MergeFunc = "avg" // Inputs: [sum, count]; ΣSUM / ΣCOUNT, NULL when ΣCOUNT = 0

	// Variances. Inputs: [count, sum, var_pop] of the same double argument;
	// each site's (count, mean, M2 = var_pop × count) is combined with Chan
	// et al.'s pairwise update. The _samp forms are NULL below two values,
	// the _pop forms over none.
	MergeVarPop     MergeFunc = "var_pop"
	MergeVarSamp    MergeFunc = "var_samp"
	MergeStddevPop  MergeFunc = "stddev_pop"
	MergeStddevSamp MergeFunc = "stddev_samp"

	// Sketch merges (approximate; see sketch.go). Inputs: [sketch partial].
	// MergeApproxDistinct merges HyperLogLog sketches and yields the
	// estimated number of distinct values (BIGINT); MergeApproxQuantile
	// merges DDSketches and yields the value at MergeAgg.Quantile (DOUBLE,
	// NULL over no values).
	MergeApproxDistinct MergeFunc = "approx_count_distinct"
	MergeApproxQuantile MergeFunc = "approx_quantile"
)

// MergeAgg is one merged aggregate value, named so that output, HAVING and
// ORDER BY expressions can refer to it.
type MergeAgg struct {
	Name   string    `json:"name"`   // e.g. "m0"
	Func   MergeFunc `json:"func"`   //
	Inputs []string  `json:"inputs"` // partial column names
	// Quantile is the requested quantile in [0, 1] for MergeApproxQuantile.
	Quantile float64 `json:"quantile,omitempty"`
}

// Output is one column of the answer.
type Output struct {
	Name string `json:"name"` // what the analyst sees (alias or derived name)
	Expr *Expr  `json:"expr"` // over group key partial names and MergeAgg names
}

// Order is one ORDER BY item, over the same namespace as Output.Expr.
type Order struct {
	Expr *Expr `json:"expr"`
	Desc bool  `json:"desc,omitempty"`
	// NullsFirst follows PostgreSQL when unset: NULLs sort as larger than
	// every value (last ascending, first descending).
	NullsFirst *bool `json:"nulls_first,omitempty"`
}

// MergePlan is the coordinator's half of a query. Expressions in Outputs,
// Having and OrderBy refer to columns by name: a group key partial name
// (e.g. "g0"), a MergeAgg name (e.g. "m0") or, for KindRows, a projected
// partial name.
type MergePlan struct {
	Keys    []string   `json:"keys,omitempty"` // group key partial names
	Aggs    []MergeAgg `json:"aggs,omitempty"`
	Outputs []Output   `json:"outputs"`
	Having  *Expr      `json:"having,omitempty"`
	OrderBy []Order    `json:"order_by,omitempty"`
	Limit   *int64     `json:"limit,omitempty"`
	Offset  int64      `json:"offset,omitempty"`
}

// SubPlanMeta is what the coordinator knows about the request, copied into
// every site's SubPlan.
type SubPlanMeta struct {
	QueryID  string
	Analyst  string
	Roles    []string
	Purpose  string
	Deadline time.Time
}

// Error is a planning error a user can act on: what construct, where in the
// SQL text (1-based character position, 0 when unknown), and what to do.
type Error struct {
	Pos       int    // 1-based character offset into the SQL, 0 if unknown
	Construct string // e.g. "subquery", "window function", "column \"x\""
	Msg       string
	Hint      string
}

func (e *Error) Error() string {
	s := e.Msg
	if e.Construct != "" {
		s = e.Construct + ": " + s
	}
	if e.Pos > 0 {
		s = fmt.Sprintf("at position %d: %s", e.Pos, s)
	}
	if e.Hint != "" {
		s += " (" + e.Hint + ")"
	}
	return s
}
