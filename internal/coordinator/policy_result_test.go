package coordinator

import (
	"context"
	"errors"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/fedmesh/fedmesh/audit"
	"github.com/fedmesh/fedmesh/flight"
	"github.com/fedmesh/fedmesh/planner"
	"github.com/fedmesh/fedmesh/policy"
)

// crossSiteBundle requires 5 rows per merged group and at most
// data.fedmesh.settings.max_groups groups, read from input.result.
const crossSiteBundle = `package fedmesh

default max_groups := 100

max_groups := data.fedmesh.settings.max_groups

deny contains sprintf("fedmesh.cross_site: %d groups, at most %d", [input.result.groups, max_groups]) if input.result.groups > max_groups

decision := {
	"allow": count(deny) == 0,
	"reasons": sort(deny),
	"obligations": {"min_group_size": 5},
}
`

func sitePartial(t *testing.T, site, rows string) flight.SiteResult {
	t.Helper()
	schema := arrow.NewSchema([]arrow.Field{
		{Name: "g0", Type: arrow.BinaryTypes.String, Nullable: true},
		{Name: "a0", Type: arrow.PrimitiveTypes.Float64},
		{Name: "a1", Type: arrow.PrimitiveTypes.Int64},
	}, nil)
	b, _, err := array.RecordFromJSON(memory.DefaultAllocator, schema, strings.NewReader(rows))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(b.Release)
	return flight.SiteResult{Site: site, Schema: schema, Batches: []arrow.RecordBatch{b}}
}

func TestCoordinatorPolicyOnMergedGroups(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	dir := t.TempDir()
	for name, body := range map[string]string{
		".manifest":   `{"revision": "coord-1", "roots": ["fedmesh"]}`,
		"policy.rego": crossSiteBundle,
		"data.json":   `{"fedmesh": {"settings": {"max_groups": 2}}}`,
	} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	pol, err := policy.Load(ctx, dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	plan := func(site string) *planner.SubPlan {
		return &planner.SubPlan{Version: planner.PlanVersion, QueryID: "q", Analyst: "alice", Site: site,
			Kind: planner.KindAggregate, Table: "sales",
			GroupBy: []planner.OutputColumn{{Name: "g0", Expr: planner.Col("region")}},
			Aggs: []planner.OutputColumn{
				{Name: "a0", Agg: &planner.PartialAgg{Func: planner.AggSum, Arg: planner.Col("amount")}},
				{Name: "a1", Agg: &planner.PartialAgg{Func: planner.AggCountStar}},
			}, CountColumn: "a1"}
	}
	plans := map[string]*planner.SubPlan{"a": plan("a"), "b": plan("b")}
	q := &planner.Query{Merge: planner.MergePlan{Keys: []string{"g0"}}}

	tests := []struct {
		name       string
		a, b       string
		wantReason string // "" = allowed
	}{
		{"every merged group has 5 rows", `[{"g0":"north","a0":1,"a1":3},{"g0":"south","a0":1,"a1":4}]`, `[{"g0":"north","a0":1,"a1":3},{"g0":"south","a0":1,"a1":1}]`, ""},
		{"a group too small across sites", `[{"g0":"north","a0":1,"a1":3},{"g0":"south","a0":1,"a1":4}]`, `[{"g0":"north","a0":1,"a1":3}]`, "has a group of 4 rows across all sites"},
		{"too many groups for the policy", `[{"g0":"north","a0":1,"a1":9},{"g0":null,"a0":1,"a1":9}]`, `[{"g0":"west","a0":1,"a1":9}]`, "fedmesh.cross_site: 3 groups, at most 2"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c := &Coordinator{log: slog.New(slog.DiscardHandler), resultPolicy: policy.NewHolder(pol, nil)}
			var rec audit.Record
			err := c.checkResultPolicy(ctx, q, plans, []flight.SiteResult{sitePartial(t, "a", tt.a), sitePartial(t, "b", tt.b)}, &rec)
			if rec.Details["coordinator_policy"] == nil {
				t.Error("no decision record for the coordinator policy")
			}
			if tt.wantReason == "" {
				if err != nil {
					t.Fatalf("checkResultPolicy: %v", err)
				}
				return
			}
			var qe *QueryError
			if !errors.As(err, &qe) || qe.Code != "policy_denied" || qe.Site != "coordinator" || len(qe.Reasons) == 0 || !strings.Contains(qe.Reasons[0], tt.wantReason) {
				t.Fatalf("checkResultPolicy = %#v, want a coordinator policy_denied with %q", err, tt.wantReason)
			}
		})
	}
}

// TestCoordinatorPolicyGroupsLikeTheMerge: a key sent as DECIMAL(5,2) 1.50
// by one site and DECIMAL(4,1) 1.5 by another is one merged group (as the
// answer shows it), so its 3 + 4 rows meet the cross-site minimum of 5.
func TestCoordinatorPolicyGroupsLikeTheMerge(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	dir := t.TempDir()
	for name, body := range map[string]string{
		".manifest":   `{"revision": "coord-1", "roots": ["fedmesh"]}`,
		"policy.rego": crossSiteBundle,
	} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	pol, err := policy.Load(ctx, dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	part := func(site string, scale int32, rows string) flight.SiteResult {
		schema := arrow.NewSchema([]arrow.Field{
			{Name: "g0", Type: &arrow.Decimal128Type{Precision: 5, Scale: scale}, Nullable: true},
			{Name: "a1", Type: arrow.PrimitiveTypes.Int64},
		}, nil)
		b, _, err := array.RecordFromJSON(memory.DefaultAllocator, schema, strings.NewReader(rows))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(b.Release)
		return flight.SiteResult{Site: site, Schema: schema, Batches: []arrow.RecordBatch{b}}
	}
	plan := &planner.SubPlan{Version: planner.PlanVersion, QueryID: "q", Analyst: "alice", Site: "a",
		Kind: planner.KindAggregate, Table: "sales",
		GroupBy:     []planner.OutputColumn{{Name: "g0", Expr: planner.Col("price")}},
		Aggs:        []planner.OutputColumn{{Name: "a1", Agg: &planner.PartialAgg{Func: planner.AggCountStar}}},
		CountColumn: "a1"}
	c := &Coordinator{log: slog.New(slog.DiscardHandler), resultPolicy: policy.NewHolder(pol, nil)}
	var rec audit.Record
	err = c.checkResultPolicy(ctx, &planner.Query{Merge: planner.MergePlan{Keys: []string{"g0"}}}, map[string]*planner.SubPlan{"a": plan},
		[]flight.SiteResult{part("a", 2, `[{"g0":"1.50","a1":3}]`), part("b", 1, `[{"g0":"1.5","a1":4}]`)}, &rec)
	if err != nil {
		t.Fatalf("checkResultPolicy: %v (the policy saw the two sites' 1.50 and 1.5 as two groups)", err)
	}
}
