package agent

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/spiffe/go-spiffe/v2/spiffeid"

	"github.com/fedmesh/fedmesh/flight"
	"github.com/fedmesh/fedmesh/planner"
	"github.com/fedmesh/fedmesh/policy"
)

// TestExplainMatchesTheRealDecision asks for a dry run, then runs the same
// sub-plan for real, and checks the site decided the same way, for the same
// reasons, with the same engine SQL.
func TestExplainMatchesTheRealDecision(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	peer := spiffeid.RequireFromString("spiffe://example.org/coordinator")
	def, err := policy.LoadDefault(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	obl, err := policy.Load(ctx, writeTestBundle(t, obligationsBundle, 5), nil)
	if err != nil {
		t.Fatal(err)
	}
	star := func() *planner.SubPlan {
		sp := salesByRegion()
		sp.Kind, sp.Star, sp.GroupBy, sp.Aggs, sp.CountColumn = planner.KindRows, true, nil, nil, ""
		return sp
	}
	byCustomer := func() *planner.SubPlan {
		sp := salesByRegion()
		sp.GroupBy[0].Expr = planner.Col("customer_id")
		return sp
	}
	tests := []struct {
		name      string
		pol       *policy.Policy
		plan      func() *planner.SubPlan
		wantAllow bool
	}{
		{"default bundle allows an aggregate", def, salesByRegion, true},
		{"default bundle denies raw rows", def, star, false},
		{"default bundle denies a denied column", def, byCustomer, false},
		{"row filter shows in the explained SQL", obl, salesByRegion, true},
		{"obligations bundle denies raw rows", obl, star, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			h, auditPath := newTestHandler(t, policy.NewHolder(tt.pol, nil))
			ex, err := h.Explain(ctx, peer, tt.plan())
			if err != nil {
				t.Fatalf("Explain: %v", err)
			}
			if got := lastAuditRecord(t, auditPath); got["details"].(map[string]any)["dry_run"] != true {
				t.Errorf("explain not audited as a dry run: %v", got)
			}
			res, serr := h.Serve(ctx, peer, tt.plan())
			if res != nil {
				for _, b := range res.Batches {
					b.Release()
				}
			}
			if ex.Allow != tt.wantAllow || (serr == nil) != ex.Allow {
				t.Fatalf("explain allow=%v, serve err=%v, want allow=%v for both", ex.Allow, serr, tt.wantAllow)
			}
			rec := lastAuditRecord(t, auditPath)
			if !ex.Allow {
				var denied *flight.DeniedError
				if !errors.As(serr, &denied) {
					t.Fatalf("serve error %v is not a denial", serr)
				}
				if diff := cmp.Diff(denied.Reasons, ex.Reasons); diff != "" {
					t.Errorf("reasons differ (-serve +explain):\n%s", diff)
				}
				return
			}
			if got := rec["details"].(map[string]any)["engine_sql"]; got != ex.EngineSQL {
				t.Errorf("explained SQL differs from the executed one:\nexplain: %s\nserve:   %v", ex.EngineSQL, got)
			}
			if rec["bundle_revision"] != ex.BundleRevision {
				t.Errorf("bundle revision: explain %q, serve %v", ex.BundleRevision, rec["bundle_revision"])
			}
		})
	}
}

// TestExplainShowsPhysicalSQL: on a site whose catalog renames the table
// and a column, explain shows the SQL a run executes, over physical names.
func TestExplainShowsPhysicalSQL(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	def, err := policy.LoadDefault(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	h, auditPath := newTestHandler(t, policy.NewHolder(def, nil))
	h.catalog = planner.Catalog{"orders": {Physical: "sales", Columns: map[string]string{"geo": "region"}}}
	h.intake.tables = logicalTables([]string{"sales"}, h.catalog)
	plan := func() *planner.SubPlan {
		sp := salesByRegion()
		sp.Table, sp.GroupBy[0].Expr = "orders", planner.Col("geo")
		return sp
	}
	peer := spiffeid.RequireFromString("spiffe://example.org/coordinator")
	ex, err := h.Explain(ctx, peer, plan())
	if err != nil || !ex.Allow {
		t.Fatalf("Explain: %+v, %v", ex, err)
	}
	res, err := h.Serve(ctx, peer, plan())
	if err != nil {
		t.Fatalf("Serve: %v", err)
	}
	for _, b := range res.Batches {
		b.Release()
	}
	served := lastAuditRecord(t, auditPath)["details"].(map[string]any)["engine_sql"]
	if served != ex.EngineSQL {
		t.Errorf("explained SQL differs from the executed one:\nexplain: %s\nserve:   %v", ex.EngineSQL, served)
	}
	if !strings.Contains(ex.EngineSQL, `"sales"`) || !strings.Contains(ex.EngineSQL, `"region"`) || strings.Contains(ex.EngineSQL, `"orders"`) {
		t.Errorf("explained SQL is not over the physical names: %s", ex.EngineSQL)
	}
}
