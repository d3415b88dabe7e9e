package agent

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/spiffe/go-spiffe/v2/spiffeid"

	"github.com/fedmesh/fedmesh/flight"
	"github.com/fedmesh/fedmesh/planner"
	"github.com/fedmesh/fedmesh/policy"
)

var testCoordinator = spiffeid.RequireFromString("spiffe://example.org/coordinator")

// guardedBundle allows aggregates with a minimum group size of
// data.fedmesh.k, a difference check on customer_id and the suppressed-group
// report of data.fedmesh.report.
const guardedBundle = `package fedmesh

decision := {
	"allow": input.plan.kind == "aggregate",
	"reasons": [],
	"obligations": {
		"min_group_size": data.fedmesh.k,
		"difference_check": {"unit": "customer_id"},
		"report_suppressed": data.fedmesh.report,
	},
}
`

func guardedPolicy(t *testing.T, k int, report string) evaluator {
	t.Helper()
	dir := writeTestBundle(t, guardedBundle, 0)
	data := `{"fedmesh": {"k": ` + string(rune('0'+k)) + `, "report": "` + report + `"}}`
	if err := os.WriteFile(filepath.Join(dir, "data.json"), []byte(data), 0o600); err != nil {
		t.Fatal(err)
	}
	pol, err := policy.Load(context.Background(), dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	return policy.NewHolder(pol, nil)
}

// salesTotal is SELECT SUM(amount), COUNT(*) FROM sales [WHERE filter].
func salesTotal(id string, filter *planner.Expr) *planner.SubPlan {
	sp := salesByRegion()
	sp.QueryID, sp.GroupBy, sp.Filter = id, nil, filter
	return sp
}

func serveRows(t *testing.T, h *handler, sp *planner.SubPlan) (*flight.Result, error) {
	t.Helper()
	res, err := h.Serve(context.Background(), testCoordinator, sp)
	if res != nil {
		t.Cleanup(func() { release(res.Batches) })
	}
	return res, err
}

func TestDifferenceCheckRefusesASubtractionAcrossQueries(t *testing.T) {
	t.Parallel()
	h, auditPath := newTestHandler(t, guardedPolicy(t, 2, "exact"))
	all := salesTotal("q-all", nil)
	if _, err := serveRows(t, h, all); err != nil {
		t.Fatalf("first query: %v", err)
	}
	// Everyone but customer 5 (the only order of 1000): the difference of
	// the two sums is customer 5's amount.
	notFive := func(id string) *planner.SubPlan {
		return salesTotal(id, planner.Call(planner.OpNe, planner.Col("amount"), planner.Lit(planner.Value{Kind: planner.KindInt, Int: 1000})))
	}
	_, err := serveRows(t, h, notFive("q-but-one"))
	var denied *flight.DeniedError
	if !errors.As(err, &denied) || !strings.Contains(strings.Join(denied.Reasons, " "), "fedmesh.difference_check") {
		t.Fatalf("second query: err = %v, want a difference_check denial", err)
	}
	rec := lastAuditRecord(t, auditPath)
	if rec["decision"] != "deny" || !strings.Contains(rec["reasons"].([]any)[0].(string), "difference check") {
		t.Errorf("audit record = %v, want a deny naming the difference check", rec)
	}
	for _, r := range denied.Reasons {
		if strings.Contains(r, "1000") || strings.Contains(r, "customer") && strings.Contains(r, "5") {
			t.Errorf("refusal carries data: %q", r)
		}
	}
	// The same answer again reveals nothing new and passes.
	again := salesTotal("q-all-again", nil)
	if _, err := serveRows(t, h, again); err != nil {
		t.Fatalf("repeated query: %v", err)
	}
	drec := lastAuditRecord(t, auditPath)["details"].(map[string]any)["policy"].(map[string]any)
	if applied := drec["obligations_applied"].([]any); !containsAny(applied, "difference_check") {
		t.Errorf("obligations_applied = %v, want difference_check", applied)
	}

	// The window is durable: a new handler on the same guard file (a
	// restarted agent) still refuses the subtraction.
	path := guardPathOf(auditPath)
	if err := h.guard.Close(); err != nil {
		t.Fatal(err)
	}
	gs, err := openGuard(Config{GuardPath: path})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = gs.Close() })
	h.guard, h.intake.guard = gs, gs
	if _, err := serveRows(t, h, notFive("q-but-one-after-restart")); !errors.As(err, &denied) {
		t.Fatalf("after restart: err = %v, want a difference_check denial", err)
	}
}

func TestMinimumGroupSizeCountsUnitsNotRows(t *testing.T) {
	t.Parallel()
	// south has two orders, both by customer 6: two rows, one person.
	h, auditPath := newTestHandler(t, guardedPolicy(t, 2, "exact"))
	sp := salesByRegion()
	sp.Filter = planner.Call(planner.OpEq, planner.Col("consent"), planner.Lit(planner.Value{Kind: planner.KindBool, Bool: true}))
	res, err := serveRows(t, h, sp)
	if err != nil {
		t.Fatal(err)
	}
	var regions []string
	for _, b := range res.Batches {
		for i := range int(b.NumRows()) {
			regions = append(regions, b.Column(0).ValueStr(i))
		}
		if b.Schema().NumFields() != 3 {
			t.Errorf("exported schema %s, want g0, a0, a1 (the unit set stripped)", b.Schema())
		}
	}
	if strings.Contains(strings.Join(regions, ","), "south") || len(regions) != 2 {
		t.Errorf("exported regions %v, want north and west only: south is one customer", regions)
	}
	if res.Meta.SuppressedGroups != 1 {
		t.Errorf("suppressed = %d, want 1", res.Meta.SuppressedGroups)
	}
	if d := lastAuditRecord(t, auditPath)["details"].(map[string]any); d["min_group_size_counts"] != "units" {
		t.Errorf("audit details %v do not say the minimum group size counted units", d)
	}
}

func TestSuppressedGroupsReportedAsThePolicyAllows(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		report string
		want   int64
	}{{"exact", 3}, {"coarse", 1}, {"flag", 1}, {"none", 0}} {
		t.Run(tt.report, func(t *testing.T) {
			t.Parallel()
			// A minimum of 7 units drops all three regions (5, 1 and 6
			// customers).
			h, auditPath := newTestHandler(t, guardedPolicy(t, 7, tt.report))
			res, err := serveRows(t, h, salesByRegion())
			if err != nil {
				t.Fatal(err)
			}
			if res.Meta.SuppressedGroups != tt.want || res.Meta.SuppressedReport != tt.report {
				t.Errorf("meta suppressed = %d (%s), want %d (%s)", res.Meta.SuppressedGroups, res.Meta.SuppressedReport, tt.want, tt.report)
			}
			if rec := lastAuditRecord(t, auditPath); rec["suppressed_groups"] != float64(3) {
				t.Errorf("site audit suppressed_groups = %v, want the exact 3", rec["suppressed_groups"])
			}
		})
	}
}

func TestDataDependentEngineErrorsAreNotAnOracle(t *testing.T) {
	t.Parallel()
	pol, err := policy.Load(context.Background(), writeTestBundle(t, obligationsBundle, 0), nil)
	if err != nil {
		t.Fatal(err)
	}
	h, auditPath := newTestHandler(t, policy.NewHolder(pol, nil))
	str := func(s string) *planner.Expr { return planner.Lit(planner.Value{Kind: planner.KindString, Str: s}) }
	castInt := func(e *planner.Expr) *planner.Expr { return planner.Call(planner.OpCast, e, str("integer")) }

	// SUM(CAST(CASE WHEN amount > 100 THEN 'x' ELSE '1' END AS integer)):
	// the engine fails exactly when someone's amount is over 100.
	sp := salesByRegion()
	sp.Aggs[0].Agg.Arg = castInt(planner.Call(planner.OpCase,
		planner.Call(planner.OpGt, planner.Col("amount"), planner.Lit(planner.Value{Kind: planner.KindInt, Int: 100})), str("x"), str("1")))
	_, err = serveRows(t, h, sp)
	var denied *flight.DeniedError
	if !errors.As(err, &denied) || !strings.Contains(denied.Reasons[0], "fedmesh.data_error") {
		t.Fatalf("CAST of data-chosen text: err = %v, want a fedmesh.data_error refusal before the engine runs", err)
	}

	// SUM(CAST(region AS integer)) is not caught by the plan check (the
	// plan has no column types); the engine's error, which names the value
	// it could not convert, must not reach the analyst.
	sp = salesByRegion()
	sp.QueryID = "q-cast-region"
	sp.Aggs[0].Agg.Arg = castInt(planner.Col("region"))
	_, err = serveRows(t, h, sp)
	if err == nil {
		t.Fatal("CAST(region AS integer) ran")
	}
	for _, v := range []string{"north", "south", "west", "onver"} {
		if strings.Contains(err.Error(), v) {
			t.Errorf("engine error reaching the analyst carries data or the engine's message: %v", err)
		}
	}
	if rec := lastAuditRecord(t, auditPath); !strings.Contains(rec["error"].(string), "engine:") {
		t.Errorf("site audit error = %v, want the engine's message kept at the site", rec["error"])
	}
}

func TestSiteRateLimitSurvivesARestart(t *testing.T) {
	t.Parallel()
	pol, err := policy.Load(context.Background(), writeTestBundle(t, obligationsBundle, 0), nil)
	if err != nil {
		t.Fatal(err)
	}
	h, auditPath := newTestHandler(t, policy.NewHolder(pol, nil))
	path := guardPathOf(auditPath)
	if err := h.guard.Close(); err != nil {
		t.Fatal(err)
	}
	open := func() {
		gs, err := openGuard(Config{GuardPath: path, MaxQueries: 2})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = gs.Close() })
		h.guard, h.intake.guard = gs, gs
	}
	open()
	for i := range 2 {
		sp := salesByRegion()
		sp.QueryID = "q-rate-" + string(rune('a'+i))
		if _, err := serveRows(t, h, sp); err != nil {
			t.Fatalf("query %d: %v", i+1, err)
		}
	}
	// Restart: a fresh handler state, the same guard file.
	if err := h.guard.Close(); err != nil {
		t.Fatal(err)
	}
	h.rate = rateCounter{}
	open()
	sp := salesByRegion()
	sp.QueryID = "q-rate-c"
	_, err = serveRows(t, h, sp)
	var denied *flight.DeniedError
	if !errors.As(err, &denied) || !strings.Contains(denied.Reasons[0], "fedmesh.rate_limit") {
		t.Fatalf("third query after restart: err = %v, want a fedmesh.rate_limit refusal", err)
	}
	other := salesByRegion()
	other.QueryID, other.Analyst = "q-rate-bob", "bob"
	if _, err := serveRows(t, h, other); err != nil {
		t.Fatalf("another analyst: %v", err)
	}
}

// guardPathOf is where newTestHandler put the guard store.
func guardPathOf(auditPath string) string {
	return filepath.Join(filepath.Dir(auditPath), "site-a.guard")
}

func containsAny(xs []any, s string) bool {
	for _, x := range xs {
		if x == s {
			return true
		}
	}
	return false
}
