package policy_test

import (
	"context"
	"strings"
	"testing"

	"github.com/fedmesh/fedmesh/planner"
	"github.com/fedmesh/fedmesh/planner/sqlfront"
	"github.com/fedmesh/fedmesh/policy"
)

// sketchPlan is what the planner sends a site for sql.
func sketchPlan(t *testing.T, sql string) *planner.SubPlan {
	t.Helper()
	q, err := sqlfront.Parse(sql)
	if err != nil {
		t.Fatal(err)
	}
	return planner.Split(q, []string{"a"}, planner.SubPlanMeta{QueryID: "q-s", Analyst: "alice", Purpose: "report"})[0]
}

// TestSketchPlansReachPolicyAsFunctions: a sketch is an aggregate like any
// other in the policy input (function "hll" or "quantile_sketch" on the
// column), the input matches the schema, and the default bundle denies a
// sketch of a denied column as it denies any other use.
func TestSketchPlansReachPolicyAsFunctions(t *testing.T) {
	t.Parallel()
	p := loadDefault(t)
	schema := readSchema(t, "input.v1.json")
	tests := []struct {
		name, sql string
		fn        string // function the input must show on the column
		column    string
		deny      string // substring of a denial reason, "" for allowed
	}{
		{"distinct count of a permitted column", `SELECT region, COUNT(DISTINCT status) FROM sales GROUP BY region`, "hll", "status", ""},
		{"quantile of a permitted column", `SELECT approx_quantile(year, 0.5) FROM sales`, "quantile_sketch", "year", ""},
		{"quantile of a sensitive column", `SELECT approx_quantile(amount, 0.5) FROM sales`, "quantile_sketch", "amount", "fedmesh.minmax_sensitive:"},
		{"distinct count of a denied column", `SELECT COUNT(DISTINCT customer_id) FROM sales`, "hll", "customer_id", `column "customer_id"`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			in := policy.NewInput(sketchPlan(t, tc.sql))
			if errs := matchSchema(t, in, schema); len(errs) > 0 {
				t.Errorf("input does not match schema/input.v1.json: %v", errs)
			}
			found := false
			for _, a := range in.Plan.Aggregates {
				if a.Function == tc.fn && a.Column == tc.column {
					found = true
				}
			}
			if !found {
				t.Errorf("input aggregates %+v lack %s(%s)", in.Plan.Aggregates, tc.fn, tc.column)
			}
			dec, err := p.Evaluate(context.Background(), in)
			if err != nil {
				t.Fatal(err)
			}
			reasons := strings.Join(dec.Reasons, "; ")
			switch {
			case tc.deny == "" && !dec.Allow:
				t.Errorf("denied: %s", reasons)
			case tc.deny != "" && (dec.Allow || !strings.Contains(reasons, tc.deny)):
				t.Errorf("allow=%v reasons %q, want a denial naming %s", dec.Allow, reasons, tc.deny)
			}
		})
	}
}
