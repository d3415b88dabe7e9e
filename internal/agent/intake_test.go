package agent

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/spiffe/go-spiffe/v2/spiffeid"

	"github.com/fedmesh/fedmesh/flight"
	"github.com/fedmesh/fedmesh/planner"
	"github.com/fedmesh/fedmesh/policy"
)

var testPeer = spiffeid.RequireFromString("spiffe://example.org/coordinator")

// TestIntakeRefusesHandMadePlans sends sub-plans a coordinator's planner
// would never make, as anyone holding its certificate could: each is
// refused before policy and the engine, naming what is wrong, in a run and
// in an explain alike.
func TestIntakeRefusesHandMadePlans(t *testing.T) {
	t.Parallel()
	bigOr := func(n int) *planner.Expr {
		args := make([]*planner.Expr, n)
		for i := range args {
			args[i] = planner.Call(planner.OpEq, planner.Col("region"), planner.Lit(planner.Value{Kind: planner.KindString, Str: "r"}))
		}
		return planner.Call(planner.OpOr, args...)
	}
	inList := func(n int) *planner.Expr {
		args := []*planner.Expr{planner.Col("amount")}
		for i := range n {
			args = append(args, planner.Lit(planner.Value{Kind: planner.KindInt, Int: int64(i)}))
		}
		return planner.Call(planner.OpIn, args...)
	}
	deep := func(n int) *planner.Expr {
		e := planner.Col("amount")
		for range n {
			e = planner.Call(planner.OpNeg, e)
		}
		return planner.Call(planner.OpGt, e, planner.Lit(planner.Value{Kind: planner.KindInt}))
	}
	tests := []struct {
		name   string
		tables []string // the site's declared tables
		mutate func(sp *planner.SubPlan)
		want   []string // in the error
	}{
		{"engine catalog table", []string{"sales"}, func(sp *planner.SubPlan) { sp.Table = "duckdb_columns" },
			[]string{`table "duckdb_columns" is not one of this site's tables (sales)`}},
		{"joined engine catalog table", []string{"sales"}, func(sp *planner.SubPlan) {
			sp.Join = &planner.Join{Table: "information_schema.tables", Kind: planner.JoinInner, Keys: []planner.JoinKey{{Left: "region", Right: "table_name"}}}
			sp.GroupBy[0].Expr = planner.Col("sales.region")
			sp.Aggs[0].Agg.Arg = planner.Col("sales.amount")
		}, []string{`table "information_schema.tables" is not one of this site's tables`}},
		{"site declares no tables", nil, func(*planner.SubPlan) {}, []string{`this site declares no tables, so it serves none`}},
		{"20,000-term OR", []string{"sales"}, func(sp *planner.SubPlan) { sp.Filter = bigOr(20_000) }, []string{"MaxPlanNodes = 5000"}},
		{"long IN list", []string{"sales"}, func(sp *planner.SubPlan) { sp.Filter = inList(1001) }, []string{"1001 items in one IN list", "MaxInList = 1000"}},
		{"deep expression", []string{"sales"}, func(sp *planner.SubPlan) { sp.Filter = deep(100) }, []string{"MaxExprDepth = 64"}},
		{"huge string literal", []string{"sales"}, func(sp *planner.SubPlan) {
			sp.Filter = planner.Call(planner.OpEq, planner.Col("region"), planner.Lit(planner.Value{Kind: planner.KindString, Str: strings.Repeat("x", 5000)}))
		}, []string{"5000 bytes in one string literal", "MaxStringLiteral = 4096"}},
		{"too many group keys", []string{"sales"}, func(sp *planner.SubPlan) {
			for i := range 40 {
				sp.GroupBy = append(sp.GroupBy, planner.OutputColumn{Name: "k" + string(rune('a'+i%26)) + string(rune('a'+i/26)), Expr: planner.Col("region")})
			}
		}, []string{"MaxGroupKeys = 32"}},
		{"Spark variable in a column", []string{"sales"}, func(sp *planner.SubPlan) { sp.GroupBy[0].Expr = planner.Col("${env:HOME}") },
			[]string{`name "${env:HOME}" holds "${"`}},
		{"no deadline", []string{"sales"}, func(sp *planner.SubPlan) { sp.Deadline = time.Time{} }, []string{"no deadline"}},
		{"deadline a week ahead", []string{"sales"}, func(sp *planner.SubPlan) { sp.Deadline = time.Now().Add(7 * 24 * time.Hour) },
			[]string{"more than 24h0m0s ahead"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			def, err := policy.LoadDefault(ctx, nil)
			if err != nil {
				t.Fatal(err)
			}
			h, auditPath := newTestHandler(t, policy.NewHolder(def, nil))
			h.intake.tables = tt.tables
			sp := salesByRegion()
			tt.mutate(sp)

			_, err = h.Serve(ctx, testPeer, sp)
			var pe *flight.PlanError
			if !errors.As(err, &pe) {
				t.Fatalf("Serve = %v, want a *flight.PlanError", err)
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("Serve error %q does not say %q", err, w)
				}
			}
			rec := lastAuditRecord(t, auditPath)
			if d, _ := rec["details"].(map[string]any); d["engine_sql"] != nil || d["policy"] != nil {
				t.Errorf("a refused plan reached policy or rendering: %v", d)
			}
			if rec["decision"] != "error" {
				t.Errorf("audit decision = %v, want error", rec["decision"])
			}

			sp2 := salesByRegion()
			tt.mutate(sp2)
			if _, err := h.Explain(ctx, testPeer, sp2); !errors.As(err, &pe) {
				t.Errorf("Explain = %v, want a *flight.PlanError", err)
			}
		})
	}
}

// TestReplayedTicketIsRefused: a query id is answered once; an explain does
// not use it up, so a dry run and the run after it may share an id.
func TestReplayedTicketIsRefused(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	def, err := policy.LoadDefault(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	h, _ := newTestHandler(t, policy.NewHolder(def, nil))
	sp := salesByRegion()
	for range 2 {
		if ex, err := h.Explain(ctx, testPeer, sp); err != nil || !ex.Allow {
			t.Fatalf("Explain: %+v, %v", ex, err)
		}
	}
	res, err := h.Serve(ctx, testPeer, sp)
	if err != nil {
		t.Fatalf("first Serve: %v", err)
	}
	releaseAll(res)
	again := *sp
	again.Filter = planner.Call(planner.OpIsNotNull, planner.Col("region")) // another plan, same id
	for _, p := range []*planner.SubPlan{sp, &again} {
		_, err = h.Serve(ctx, testPeer, p)
		var de *flight.DeniedError
		if !errors.As(err, &de) || len(de.Reasons) != 1 || !strings.HasPrefix(de.Reasons[0], reasonReplay+": site a already received query "+sp.QueryID) {
			t.Errorf("replayed Serve = %v, want a denial by %s", err, reasonReplay)
		}
	}

	// A guard-less handler serves nothing.
	h.intake.guard = nil
	if _, err := h.Serve(ctx, testPeer, salesByRegion()); err == nil || !strings.Contains(err.Error(), "no replay guard") {
		t.Errorf("Serve without a replay guard = %v, want a refusal", err)
	}
}

// TestIntakeExpiredDeadline: a deadline already past is refused, not
// remembered.
func TestIntakeExpiredDeadline(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	def, err := policy.LoadDefault(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	h, _ := newTestHandler(t, policy.NewHolder(def, nil))
	sp := salesByRegion()
	h.intake.now = func() time.Time { return sp.Deadline.Add(time.Second) }
	_, err = h.Serve(ctx, testPeer, sp)
	var pe *flight.PlanError
	if !errors.As(err, &pe) || !strings.Contains(err.Error(), "has passed") {
		t.Fatalf("Serve = %v, want the deadline refused", err)
	}
	h.intake.now = nil
	res, err := h.Serve(ctx, testPeer, sp)
	if err != nil {
		t.Fatalf("Serve in time after an expired attempt: %v", err)
	}
	releaseAll(res)
}

func TestNewNeedsTables(t *testing.T) {
	t.Parallel()
	_, err := New(Config{Site: "a", Listen: "127.0.0.1:0", AuditPath: "x", AllowedCoordinators: []spiffeid.ID{testPeer}})
	if err == nil || !strings.Contains(err.Error(), "tables must be set") {
		t.Errorf("New without tables = %v, want tables must be set", err)
	}
}
