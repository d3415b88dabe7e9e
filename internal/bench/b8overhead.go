package bench

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/fedmesh/fedmesh/enginebridge"
	"github.com/fedmesh/fedmesh/internal/coordinator"
	"github.com/fedmesh/fedmesh/planner"
	"github.com/fedmesh/fedmesh/planner/render"
	"github.com/fedmesh/fedmesh/planner/sqlfront"
)

// b8Overhead times B1's Q1 and Q2 on B1's data (B8OverheadRowsPerSite rows
// per site) exactly and with the sales table protected, interleaved.
func b8Overhead(ctx context.Context, e *env, b *Bench, work string, fc dpFed) error {
	n := e.opts.B8OverheadRowsPerSite
	files, err := b1Data(ctx, e, n)
	if err != nil {
		return fmt.Errorf("generate B1 data: %w", err)
	}
	b.Setup = append(b.Setup, fmt.Sprintf("overhead: B1's sales data, %d rows per site × 3 sites, DuckDB site engines (memory_limit 3GB); the same query under the default policy (exact, with its difference check on sales) and with sales protected (%s) at ε 1; %d interleaved repetitions after a warm-up, medians; 3 site engines alone = the sub-plan rendered plainly vs bounded (render.RenderBounded) on bare engines, no fedmesh", n, b8OverheadBound, e.opts.B8OverheadReps))
	var sites []siteSpec
	for i, s := range []string{"a", "b", "c"} {
		sites = append(sites, siteSpec{name: s, open: duckEngine(files.sites[i], e, "3GB")})
	}
	exact, err := startFederation(ctx, e, filepath.Join(work, "ovh-exact"), sites)
	if err != nil {
		return fmt.Errorf("exact federation: %w", err)
	}
	defer exact.stop()
	cfg, err := fc.with(work, b8Table("sales", b8OverheadBound), e)
	if err != nil {
		return err
	}
	dp, err := startFederationWith(ctx, e, filepath.Join(work, "ovh-dp"), sites, cfg)
	if err != nil {
		return fmt.Errorf("dp federation: %w", err)
	}
	defer dp.stop()
	opts := coordinator.QueryOptions{Privacy: &planner.PrivacyRequest{Epsilon: 1}}
	t := Table{Title: "DP overhead on B1's data (target: DP / exact ≤ 1.2)",
		Columns: []string{"query", "exact p50 ms", "DP p50 ms", "DP / exact", "3 site engines alone: plain p50 ms", "bounded p50 ms", "bounded / plain", "verdict"}}
	overhead := map[string]any{}
	missed := false
	for _, q := range b1Queries[:2] {
		run := func(f *federation, o coordinator.QueryOptions) error {
			_, err := f.coord.QueryWith(ctx, f.analyst, q.sql, "benchmark", o)
			if err != nil {
				return errors.New(refusal(err))
			}
			return nil
		}
		if err := run(exact, coordinator.QueryOptions{}); err != nil {
			return fmt.Errorf("%s exact: %w", q.id, err)
		}
		if err := run(dp, opts); err != nil {
			t.Rows = append(t.Rows, []string{q.id, "", "", "", "", "", "", "refused: " + err.Error()})
			continue
		}
		plain, bounded, closeEngines, err := b8SiteRuns(ctx, q.sql, files.sites, e)
		if err != nil {
			return fmt.Errorf("%s sites alone: %w", q.id, err)
		}
		defer closeEngines()
		var te, td, tp, tb []time.Duration
		for range e.opts.B8OverheadReps {
			for _, m := range []struct {
				ds *[]time.Duration
				fn func() error
			}{
				{&te, func() error { return run(exact, coordinator.QueryOptions{}) }},
				{&td, func() error { return run(dp, opts) }},
				{&tp, func() error { return plain(ctx) }},
				{&tb, func() error { return bounded(ctx) }},
			} {
				t0 := time.Now()
				if err := m.fn(); err != nil {
					return fmt.Errorf("%s: %w", q.id, err)
				}
				*m.ds = append(*m.ds, time.Since(t0))
			}
		}
		se, sd, sp, sb := Summarize(te), Summarize(td), Summarize(tp), Summarize(tb)
		r := ratio(sd.P50, se.P50)
		// The exact path carries the default bundle's exact-mode guards (the
		// difference check folds every group's unit ids), which DP does not
		// need; the engines' bounded / plain ratio is what DP itself adds, so
		// the verdict takes the larger of the two.
		verdict := "meets ≤ 1.2"
		if r > 1.2 || ratio(sb.P50, sp.P50) > 1.2 {
			verdict, missed = "above 1.2", true
		}
		t.Rows = append(t.Rows, []string{q.id, f1(se.P50), f1(sd.P50), f2(r), f1(sp.P50), f1(sb.P50), f2(ratio(sb.P50, sp.P50)), verdict})
		overhead[q.id] = map[string]any{"sql": q.sql, "exact": se, "dp": sd, "ratio": r, "engines_plain": sp, "engines_bounded": sb, "engines_ratio": ratio(sb.P50, sp.P50)}
		e.progress("B8 overhead %s: exact %.1f ms, DP %.1f ms (×%.2f); engines plain %.1f ms, bounded %.1f ms", q.id, se.P50, sd.P50, r, sp.P50, sb.P50)
	}
	b.Tables = append(b.Tables, t)
	b.set("overhead", overhead)
	if missed {
		b.Status = "partial"
		b.note("DP overhead above 1.2×: the time is the engine's, in the bounded SQL's two ROW_NUMBER() OVER (… ORDER BY random()) windows (a sort of every row by a random key per unit and group); noise, threshold, ledger debit and credential check are the difference between 'DP' and the engines' 'bounded' time")
	}
	if err := dp.stop(); err != nil {
		return err
	}
	return exact.stop()
}

// b8SiteRuns returns functions running sql's sub-plans on bare DuckDB
// engines over the site files, at once, reading every batch: rendered
// plainly, and bounded as the DP sites render them.
func b8SiteRuns(ctx context.Context, sql string, files []string, e *env) (plain, bounded func(context.Context) error, closeAll func(), err error) {
	q, err := sqlfront.Parse(sql)
	if err != nil {
		return nil, nil, nil, err
	}
	var engines []enginebridge.Engine
	for _, f := range files {
		eng, err := duckEngine(f, e, "3GB")(ctx)
		if err != nil {
			for _, x := range engines {
				x.Close()
			}
			return nil, nil, nil, err
		}
		engines = append(engines, eng)
	}
	fail := func(err error) (func(context.Context) error, func(context.Context) error, func(), error) {
		for _, x := range engines {
			x.Close()
		}
		return nil, nil, nil, err
	}
	type rendered struct {
		sql  string
		args []any
	}
	var rp, rb []rendered
	d := render.DuckDB{}
	for _, sp := range planner.Split(q, []string{"a", "b", "c"}, planner.SubPlanMeta{QueryID: "bench", Analyst: "bench", Deadline: time.Now().Add(time.Hour)}) {
		s, a, err := render.Render(sp, d)
		if err != nil {
			return fail(err)
		}
		rp = append(rp, rendered{s, a})
		bnd := planner.Bound{Unit: b8OverheadBound.unit, MaxGroups: int64(b8OverheadBound.maxGroups), MaxRows: int64(b8OverheadBound.maxRows), Clamp: map[string][2]float64{}}
		for _, o := range sp.Aggs {
			if o.Agg != nil && (o.Agg.Func == planner.AggSum || o.Agg.Func == planner.AggVarPop) {
				bnd.Clamp[o.Name] = [2]float64{b8OverheadBound.lo, b8OverheadBound.hi}
			}
		}
		s, a, err = render.RenderBounded(sp, bnd, d)
		if err != nil {
			return fail(err)
		}
		rb = append(rb, rendered{s, a})
	}
	runAll := func(rs []rendered) func(context.Context) error {
		return func(ctx context.Context) error {
			g, gctx := errgroup.WithContext(ctx)
			for i, eng := range engines {
				g.Go(func() error {
					rdr, err := eng.Query(gctx, rs[i].sql, rs[i].args)
					if err != nil {
						return err
					}
					defer rdr.Release()
					for rdr.Next() {
					}
					return rdr.Err()
				})
			}
			return g.Wait()
		}
	}
	return runAll(rp), runAll(rb), func() {
		for _, x := range engines {
			x.Close()
		}
	}, nil
}

// tableEngine opens a DuckDB engine over the named tables of a database
// file.
func tableEngine(path string, e *env, memory string, tables ...string) func(ctx context.Context) (enginebridge.Engine, error) {
	return func(ctx context.Context) (enginebridge.Engine, error) {
		var srcs []enginebridge.TableSource
		for _, t := range tables {
			srcs = append(srcs, enginebridge.TableSource{Name: t, Format: enginebridge.FormatDuckDB, Path: path})
		}
		return enginebridge.OpenDuckDB(ctx, enginebridge.DuckDBConfig{Tables: srcs, MemoryLimit: memory}, e.log)
	}
}
