package agent

import (
	"context"
	"log/slog"
	"path/filepath"
	"testing"
	"time"

	"github.com/fedmesh/fedmesh/audit"
	"github.com/fedmesh/fedmesh/enginebridge"
	"github.com/fedmesh/fedmesh/internal/sampledata"
	"github.com/fedmesh/fedmesh/planner/render"
	"github.com/fedmesh/fedmesh/policy"
)

// BenchmarkDifferenceCheck serves SELECT region, SUM(amount), COUNT(*)
// FROM sales GROUP BY region over the sample data (default sizes) with and
// without the difference check: the price of grouping by customer too,
// folding unit sets and CheckAndRecord against a growing window.
func BenchmarkDifferenceCheck(b *testing.B) {
	ctx := context.Background()
	dir := b.TempDir()
	files, err := sampledata.Generate(ctx, dir, "a", sampledata.Options{Seed: 1})
	if err != nil {
		b.Fatal(err)
	}
	logger := slog.New(slog.DiscardHandler)
	eng, err := enginebridge.OpenDuckDB(ctx, enginebridge.DuckDBConfig{Tables: []enginebridge.TableSource{{Name: "sales", Format: "parquet", Path: files.Sales}}}, logger)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { eng.Close() })
	dialect, _ := render.DialectByName(eng.Dialect())
	for _, guarded := range []bool{false, true} {
		name := "rows"
		o := policy.Obligations{MinGroupSize: 10}
		if guarded {
			name, o.DifferenceCheck = "units", &policy.DifferenceCheck{Unit: "customer_id"}
		}
		b.Run(name, func(b *testing.B) {
			alog, err := audit.Open(filepath.Join(b.TempDir(), "audit.log"), audit.Options{Logger: logger})
			if err != nil {
				b.Fatal(err)
			}
			defer alog.Close()
			gs, err := openGuard(Config{GuardPath: filepath.Join(b.TempDir(), "g.guard")})
			if err != nil {
				b.Fatal(err)
			}
			defer gs.Close()
			h := &handler{site: "a", engine: eng, dialect: dialect, policy: fixedDecision{o}, audit: alog,
				timeout: time.Minute, slots: testSlots(1), log: logger, guard: gs,
				intake: intake{tables: []string{"sales"}, guard: gs}}
			b.ResetTimer()
			for i := range b.N {
				sp := salesByRegion()
				sp.QueryID = "q-bench-" + string(rune('a'+i%26)) + time.Now().Format("150405.000000000")
				res, err := h.Serve(ctx, testCoordinator, sp)
				if err != nil {
					b.Fatal(err)
				}
				release(res.Batches)
			}
		})
	}
}

// fixedDecision allows everything with the given obligations.
type fixedDecision struct{ o policy.Obligations }

func (f fixedDecision) Evaluate(context.Context, policy.Input) (policy.Decision, error) {
	return policy.Decision{Allow: true, Reasons: []string{}, Obligations: f.o, BundleRevision: "bench", DecisionID: "d", Path: policy.DecisionPath}, nil
}
