package policy_test

import (
	"bytes"
	"context"
	"errors"
	"io/fs"
	"log/slog"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/fedmesh/fedmesh/planner"
	"github.com/fedmesh/fedmesh/policy"
)

// salesPlan is SELECT region, SUM(amount) FROM sales GROUP BY region at site a.
func salesPlan() *planner.SubPlan {
	return &planner.SubPlan{
		Version: planner.PlanVersion,
		QueryID: "q-1",
		Analyst: "alice",
		Roles:   []string{"analyst"},
		Purpose: "monthly report",
		Site:    "a",
		Kind:    planner.KindAggregate,
		Table:   "sales",
		GroupBy: []planner.OutputColumn{{Name: "g0", Expr: planner.Col("region")}},
		Aggs: []planner.OutputColumn{
			{Name: "a0", Agg: &planner.PartialAgg{Func: planner.AggSum, Arg: planner.Col("amount")}},
			{Name: "a1", Agg: &planner.PartialAgg{Func: planner.AggCountStar}},
		},
		CountColumn: "a1",
	}
}

// starPlan is SELECT * FROM sales at site a.
func starPlan() *planner.SubPlan {
	sp := salesPlan()
	sp.Kind, sp.Star, sp.GroupBy, sp.Aggs, sp.CountColumn = planner.KindRows, true, nil, nil, ""
	return sp
}

func testLogger(t *testing.T) (*slog.Logger, *bytes.Buffer) {
	t.Helper()
	var buf bytes.Buffer
	var mu sync.Mutex
	h := slog.NewTextHandler(&lockedWriter{w: &buf, mu: &mu}, &slog.HandlerOptions{Level: slog.LevelDebug})
	return slog.New(h), &buf
}

type lockedWriter struct {
	w  *bytes.Buffer
	mu *sync.Mutex
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}

func loadDefault(t testing.TB) *policy.Policy {
	t.Helper()
	p, err := policy.LoadDefault(context.Background(), slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatalf("LoadDefault: %v", err)
	}
	return p
}

func TestDefaultBundleDecisions(t *testing.T) {
	t.Parallel()
	p := loadDefault(t)
	if got, want := p.Revision(), "default-2"; got != want {
		t.Errorf("Revision() = %q, want %q", got, want)
	}
	tests := []struct {
		name        string
		plan        func() *planner.SubPlan
		wantAllow   bool
		wantReasons []string
	}{
		{
			name:      "aggregate over permitted columns is allowed",
			plan:      salesPlan,
			wantAllow: true,
			wantReasons: []string{
				"fedmesh.allow: aggregate over sales uses only permitted columns; groups of fewer than 10 rows are suppressed at site a",
			},
		},
		{
			name: "select star is denied as raw rows",
			plan: starPlan,
			wantReasons: []string{
				"fedmesh.aggregate_only: site a exports only aggregates; raw rows (SELECT *) may not leave the site — group by permitted columns and use COUNT/SUM/AVG/MIN/MAX",
			},
		},
		{
			name: "grouping by a denied column names it",
			plan: func() *planner.SubPlan {
				sp := salesPlan()
				sp.GroupBy[0].Expr = planner.Col("customer_id")
				return sp
			},
			wantReasons: []string{
				`fedmesh.denied_columns: column "customer_id" of table sales may not be used (as group_key); remove it or ask site a's data officer`,
			},
		},
		{
			name: "filtering on a denied column names it",
			plan: func() *planner.SubPlan {
				sp := salesPlan()
				sp.Filter = planner.Call(planner.OpEq, planner.Col("order_id"), planner.Lit(planner.Value{Kind: planner.KindInt, Int: 7}))
				return sp
			},
			wantReasons: []string{
				`fedmesh.denied_columns: column "order_id" of table sales may not be used (as filter); remove it or ask site a's data officer`,
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			d, err := p.Evaluate(context.Background(), policy.NewInput(tt.plan()))
			if err != nil {
				t.Fatalf("Evaluate: %v", err)
			}
			if d.Allow != tt.wantAllow {
				t.Errorf("Allow = %v, want %v (reasons %q)", d.Allow, tt.wantAllow, d.Reasons)
			}
			if diff := cmp.Diff(tt.wantReasons, d.Reasons); diff != "" {
				t.Errorf("Reasons (-want +got):\n%s", diff)
			}
			wantObl := policy.Obligations{MinGroupSize: 10, DenyColumns: []string{"customer_id", "order_id"},
				DifferenceCheck: &policy.DifferenceCheck{Unit: "customer_id"}, ReportSuppressed: policy.ReportFlag}
			if diff := cmp.Diff(wantObl, d.Obligations); diff != "" {
				t.Errorf("Obligations (-want +got):\n%s", diff)
			}
			if d.BundleRevision != "default-2" || d.Path != "data.fedmesh.decision" || len(d.DecisionID) != 36 {
				t.Errorf("revision/path/id = %q/%q/%q", d.BundleRevision, d.Path, d.DecisionID)
			}
		})
	}
}

func TestEvaluateDecisionIDsAreUnique(t *testing.T) {
	t.Parallel()
	p := loadDefault(t)
	in := policy.NewInput(salesPlan())
	a, errA := p.Evaluate(context.Background(), in)
	b, errB := p.Evaluate(context.Background(), in)
	if errA != nil || errB != nil {
		t.Fatalf("Evaluate: %v, %v", errA, errB)
	}
	if a.DecisionID == b.DecisionID {
		t.Errorf("two evaluations share decision id %q", a.DecisionID)
	}
}

func TestEvaluateWrongInputVersionDenied(t *testing.T) {
	t.Parallel()
	p := loadDefault(t)
	in := policy.NewInput(salesPlan())
	in.Version = 2
	d, err := p.Evaluate(context.Background(), in)
	if err != nil {
		t.Fatalf("Evaluate: %v", err)
	}
	if d.Allow || len(d.Reasons) != 1 || !strings.HasPrefix(d.Reasons[0], "fedmesh.input_version: policy input version 2 ") {
		t.Errorf("decision = %+v, want a deny naming fedmesh.input_version", d)
	}
}

// TestEvaluateFailsClosed covers bundles that load (their self-check
// passes) but cannot produce a decision for a real request.
func TestEvaluateFailsClosed(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name       string
		dir        string
		purpose    string
		wantErrIs  error  // when set, errors.Is must hold
		wantErrSub string // substring of the error
	}{
		{name: "conflicting values for decision", dir: "conflict", wantErrSub: "conflict"},
		{name: "builtin error in a deny rule", dir: "builtin_error", purpose: "not a number", wantErrSub: "to_number"},
		{name: "undefined decision", dir: "undefined", wantErrIs: policy.ErrUndefined},
		{name: "decision not shaped like a decision", dir: "malformed", wantErrIs: policy.ErrMalformedDecision, wantErrSub: "allow"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			logger, logs := testLogger(t)
			p, err := policy.Load(context.Background(), filepath.Join("testdata", tt.dir), logger)
			if err != nil {
				t.Fatalf("Load: %v", err)
			}
			in := policy.NewInput(salesPlan())
			in.QueryID = "boom"
			in.Purpose = tt.purpose
			d, err := p.Evaluate(context.Background(), in)
			if err == nil {
				t.Fatalf("Evaluate returned no error; decision %+v", d)
			}
			if d.Allow {
				t.Errorf("Allow = true after error %v", err)
			}
			if tt.wantErrIs != nil && !errors.Is(err, tt.wantErrIs) {
				t.Errorf("error %v is not %v", err, tt.wantErrIs)
			}
			if !strings.Contains(err.Error(), tt.wantErrSub) {
				t.Errorf("error %q does not mention %q", err, tt.wantErrSub)
			}
			if len(d.Reasons) != 1 || !strings.HasPrefix(d.Reasons[0], "fedmesh.policy_error: site a could not evaluate its policy") {
				t.Errorf("Reasons = %q, want one fedmesh.policy_error reason", d.Reasons)
			}
			if d.DecisionID == "" || d.BundleRevision != tt.dir {
				t.Errorf("decision id %q / revision %q: want both set on a failed evaluation", d.DecisionID, d.BundleRevision)
			}
			if !strings.Contains(logs.String(), "policy evaluation failed; denying") {
				t.Errorf("no warning logged; logs:\n%s", logs)
			}
		})
	}
}

func TestEvaluateCancelledContextDenies(t *testing.T) {
	t.Parallel()
	p := loadDefault(t)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	d, err := p.Evaluate(ctx, policy.NewInput(salesPlan()))
	if err == nil || d.Allow {
		t.Errorf("Evaluate with cancelled ctx = %+v, %v; want deny and error", d, err)
	}
}

func TestEvaluateUnknownFilterOpDenies(t *testing.T) {
	t.Parallel()
	p := loadDefault(t)
	sp := salesPlan()
	sp.Filter = planner.Call("regex_match", planner.Col("region"))
	d, err := p.Evaluate(context.Background(), policy.NewInput(sp))
	if err == nil || d.Allow || !strings.Contains(err.Error(), `"regex_match"`) {
		t.Errorf("Evaluate = %+v, %v; want deny and an error naming the op", d, err)
	}
}

func TestLoadFails(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		dir     string
		wantSub []string
	}{
		{name: "missing directory", dir: filepath.Join("testdata", "does-not-exist"), wantSub: []string{`"testdata/does-not-exist"`, "no such file"}},
		{name: "file instead of directory", dir: filepath.Join("testdata", "conflict", "policy.rego"), wantSub: []string{"not a directory"}},
		{name: "no revision in manifest", dir: filepath.Join("testdata", "no_revision"), wantSub: []string{"must set a revision"}},
		{name: "does not compile", dir: filepath.Join("testdata", "compile_error"), wantSub: []string{"compile", "undefined_var"}},
		{name: "no decision rule", dir: filepath.Join("testdata", "no_decision"), wantSub: []string{"no rule defines data.fedmesh.decision"}},
		{name: "self-check gets a malformed decision", dir: filepath.Join("testdata", "always_malformed"), wantSub: []string{"self-check", "min_group_size"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			p, err := policy.Load(context.Background(), tt.dir, slog.New(slog.DiscardHandler))
			if err == nil {
				t.Fatalf("Load(%q) = %v, want error", tt.dir, p)
			}
			for _, sub := range tt.wantSub {
				if !strings.Contains(err.Error(), sub) {
					t.Errorf("error %q does not contain %q", err, sub)
				}
			}
			if tt.name == "missing directory" && !errors.Is(err, fs.ErrNotExist) {
				t.Errorf("error %v is not fs.ErrNotExist", err)
			}
		})
	}
}

func TestLoadDirectoryBundle(t *testing.T) {
	t.Parallel()
	t.Run("default bundle from disk skips its rego tests", func(t *testing.T) {
		t.Parallel()
		// bundles/default holds policy_test.rego (package fedmesh_test),
		// outside the manifest roots: loading must skip it.
		p, err := policy.Load(context.Background(), filepath.Join("bundles", "default"), slog.New(slog.DiscardHandler))
		if err != nil {
			t.Fatalf("Load: %v", err)
		}
		d, err := p.Evaluate(context.Background(), policy.NewInput(starPlan()))
		if err != nil || d.Allow {
			t.Errorf("Evaluate(SELECT *) = %+v, %v; want deny", d, err)
		}
	})
	t.Run("custom bundle that allows raw rows loads with a warning", func(t *testing.T) {
		t.Parallel()
		logger, logs := testLogger(t)
		p, err := policy.Load(context.Background(), filepath.Join("testdata", "allow_rows"), logger)
		if err != nil {
			t.Fatalf("Load: %v", err)
		}
		if !strings.Contains(logs.String(), "allows raw rows") {
			t.Errorf("no warning about raw rows; logs:\n%s", logs)
		}
		d, err := p.Evaluate(context.Background(), policy.NewInput(salesPlan()))
		if err != nil {
			t.Fatalf("Evaluate: %v", err)
		}
		want := policy.Obligations{MinGroupSize: 5, DenyColumns: []string{"ssn"}, MaxGroups: 100}
		if diff := cmp.Diff(want, d.Obligations); diff != "" || !d.Allow || p.Revision() != "allow_rows" {
			t.Errorf("allow %v revision %q obligations (-want +got):\n%s", d.Allow, p.Revision(), diff)
		}
	})
}

func TestEvaluateConcurrent(t *testing.T) {
	t.Parallel()
	p := loadDefault(t)
	plans := []struct {
		plan  *planner.SubPlan
		allow bool
	}{{salesPlan(), true}, {starPlan(), false}}
	var wg sync.WaitGroup
	errs := make(chan error, 8*50)
	for g := range 8 {
		wg.Go(func() {
			for i := range 50 {
				c := plans[(g+i)%len(plans)]
				d, err := p.Evaluate(context.Background(), policy.NewInput(c.plan))
				if err != nil {
					errs <- err
					continue
				}
				if d.Allow != c.allow {
					errs <- errors.New("decision changed under concurrency: " + strings.Join(d.Reasons, "; "))
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}

func BenchmarkEvaluate(b *testing.B) {
	p := loadDefault(b)
	for _, bc := range []struct {
		name string
		plan *planner.SubPlan
	}{{"aggregate", salesPlan()}, {"rows", starPlan()}} {
		in := policy.NewInput(bc.plan)
		b.Run(bc.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := p.Evaluate(context.Background(), in); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
