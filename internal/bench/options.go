package bench

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"
)

// Options sizes the benchmarks. Defaults are the full sizes;
// Small returns sizes for a quick check.
type Options struct {
	Only    []string `json:"only,omitempty"` // benchmark IDs to run (B1..B6, B8); empty = all
	OutDir  string   `json:"-"`              // results directory
	WorkDir string   `json:"-"`              // generated data (kept between runs) and scratch
	// SiteAgentBin is the site-agent binary B4 starts; built if empty.
	SiteAgentBin string `json:"-"`
	// PGAdminDSN is a superuser DSN for B2 (FEDMESH_PG_ADMIN_DSN); PGDSN a
	// password login on 127.0.0.1 (FEDMESH_PG_DSN). B2 is blocked without.
	PGAdminDSN string `json:"-"`
	PGDSN      string `json:"-"`

	B1RowsPerSite int           `json:"b1_rows_per_site"`
	B1Reps        int           `json:"b1_reps"`
	B2RowsTotal   int           `json:"b2_rows_total"`
	B2Reps        int           `json:"b2_reps"`
	B3Runs        int           `json:"b3_runs"`
	B4Agents      []int         `json:"b4_agents"`
	B4Runs        int           `json:"b4_runs"`
	B5Groups      int           `json:"b5_groups"`
	B5Reps        int           `json:"b5_reps"`
	B6Clients     int           `json:"b6_clients"`
	B6Duration    time.Duration `json:"b6_duration_ns"`
	// B8Groups is how many areas of 100, 1,000 and 10,000 persons B8's
	// people table has (one row per person).
	B8Groups [3]int `json:"b8_groups"`
	B8Reps   int    `json:"b8_reps"`
	// B8OverheadRowsPerSite sizes the B1 data B8 times DP against exact on.
	B8OverheadRowsPerSite int `json:"b8_overhead_rows_per_site"`
	B8OverheadReps        int `json:"b8_overhead_reps"`
	// Profile writes CPU profiles (B1's slowest query, B3) into OutDir.
	Profile bool `json:"profile"`
}

// Defaults returns the full sizes.
func Defaults() Options {
	return Options{
		OutDir:        filepath.Join("bench", "results"),
		WorkDir:       filepath.Join(os.TempDir(), "fedmesh-bench"),
		B1RowsPerSite: 10_000_000,
		B1Reps:        5,
		B2RowsTotal:   3_000_000,
		B2Reps:        5,
		B3Runs:        1000,
		B4Agents:      []int{1, 10, 50, 100},
		B4Runs:        300,
		B5Groups:      1_000_000,
		B5Reps:        7,
		B6Clients:     32,
		B6Duration:    30 * time.Second,
		// 100,000 + 300,000 + 600,000 = 1,000,000 persons and rows.
		B8Groups:              [3]int{1000, 300, 60},
		B8Reps:                5,
		B8OverheadRowsPerSite: 1_000_000,
		B8OverheadReps:        5,
		Profile:               true,
	}
}

// Small shrinks o to sizes that finish in seconds (the smoke test).
func (o Options) Small() Options {
	o.B1RowsPerSite, o.B1Reps = 20_000, 2
	o.B2RowsTotal, o.B2Reps = 30_000, 2
	o.B3Runs = 30
	o.B4Agents, o.B4Runs = []int{1, 3}, 20
	o.B5Groups, o.B5Reps = 20_000, 2
	o.B6Clients, o.B6Duration = 4, time.Second
	o.B8Groups, o.B8Reps = [3]int{20, 3, 1}, 2
	o.B8OverheadRowsPerSite, o.B8OverheadReps = 20_000, 2
	return o
}

// benchmark is one runnable benchmark.
type benchmark struct {
	id, title, target string
	run               func(ctx context.Context, e *env, b *Bench) error
}

var all = []benchmark{
	{"B1", "federated vs centralized DuckDB", "federated / centralized ≤ 1.10 per query", runB1},
	{"B2", "fedmesh vs postgres_fdw", "fedmesh ≤ 0.33 × postgres_fdw", runB2},
	{"B3", "coordinator overhead (trivial query, 3 sites, HTTP, policy + durable audit)", "p50 < 5 ms, p99 < 20 ms", runB3},
	{"B4", "fan-out to N site-agent processes", "p99 < 100 ms at 100 agents", runB4},
	{"B5", "Flight result transfer (1M groups, one site)", "≥ 1 GB/s and ≥ 0.5 × bare arrow-go Flight", runB5},
	{"B6", "sustained load (concurrent clients, durable audit)", "≥ 500 queries/s on 2 cores", runB6},
	{"B8", "differential privacy: accuracy by ε and group size, overhead", "COUNT and SUM of areas of ≥ 1,000 persons within 2% in 95% of runs at ε = 1; DP / exact ≤ 1.2", runB8},
}

// IDs lists the benchmark IDs in run order.
func IDs() []string {
	ids := make([]string, len(all))
	for i, b := range all {
		ids[i] = b.id
	}
	return ids
}

// env is what every benchmark shares.
type env struct {
	opts   Options
	log    *slog.Logger // the components' logs: JSON at info level, discarded
	out    io.Writer    // progress lines
	outDir string
}

func (e *env) progress(format string, args ...any) {
	fmt.Fprintf(e.out, "%s  %s\n", time.Now().UTC().Format("15:04:05"), fmt.Sprintf(format, args...))
}

// Run runs the selected benchmarks and returns the report. A benchmark that
// fails is recorded as failed and the others still run.
func Run(ctx context.Context, o Options, progress io.Writer) (*Report, error) {
	for _, id := range o.Only {
		if !slices.Contains(IDs(), strings.ToUpper(id)) {
			return nil, fmt.Errorf("unknown benchmark %q (known: %s)", id, strings.Join(IDs(), ", "))
		}
	}
	if err := os.MkdirAll(o.WorkDir, 0o755); err != nil {
		return nil, fmt.Errorf("work dir: %w", err)
	}
	if err := os.MkdirAll(o.OutDir, 0o755); err != nil {
		return nil, fmt.Errorf("results dir: %w", err)
	}
	e := &env{
		opts: o,
		// Components log as in production (JSON, info), but to nowhere, so
		// the cost of formatting log lines is in the figures.
		log:    slog.New(slog.NewJSONHandler(io.Discard, &slog.HandlerOptions{Level: slog.LevelInfo})),
		out:    progress,
		outDir: o.OutDir,
	}
	r := newReport(o)
	for _, bm := range all {
		if len(o.Only) > 0 && !slices.ContainsFunc(o.Only, func(s string) bool { return strings.EqualFold(s, bm.id) }) {
			continue
		}
		if ctx.Err() != nil {
			break
		}
		b := &Bench{ID: bm.id, Title: bm.title, Target: bm.target, Status: "ok"}
		e.progress("%s: %s", bm.id, bm.title)
		start := time.Now()
		if err := bm.run(ctx, e, b); err != nil {
			if b.Status == "ok" {
				b.Status = "failed"
			}
			b.Error = err.Error()
			e.progress("%s: %s: %v", bm.id, b.Status, err)
		}
		b.Secs = time.Since(start).Seconds()
		b.Load = loadAverage()
		r.Benchmarks = append(r.Benchmarks, b)
	}
	r.Finished = time.Now()
	r.LoadAfter = loadAverage()
	return r, nil
}
