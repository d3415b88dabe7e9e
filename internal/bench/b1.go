package bench

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"runtime/pprof"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/fedmesh/fedmesh/enginebridge"
	"github.com/fedmesh/fedmesh/planner"
	"github.com/fedmesh/fedmesh/planner/render"
	"github.com/fedmesh/fedmesh/planner/sqlfront"
)

// benchQuery is one analyst query of a comparison.
type benchQuery struct {
	id, desc string
	sql      string // what the analyst sends to fedmesh
	central  string // the same question for the centralized engine ("" = sql)
}

var b1Queries = []benchQuery{
	{id: "Q1", desc: "grouped count/sum/avg",
		sql: `SELECT region, COUNT(*) AS n, SUM(amount) AS total, AVG(amount) AS avg_amount FROM sales GROUP BY region`},
	{id: "Q2", desc: "filter-heavy",
		sql: `SELECT channel, COUNT(*) AS n, SUM(amount) AS total FROM sales WHERE amount > 500 AND quantity BETWEEN 3 AND 7 AND product_id < 600 AND day >= DATE '2024-03-01' AND region IN ('north', 'east', 'coast') GROUP BY channel`},
	{id: "Q3", desc: "high-cardinality GROUP BY (~1M groups)",
		sql: `SELECT sku, COUNT(*) AS n, SUM(amount) AS total FROM sales GROUP BY sku`},
	{id: "Q4", desc: "join within site",
		sql: `SELECT p.category, COUNT(*) AS n, SUM(s.amount) AS total FROM sales s JOIN products p ON s.product_id = p.product_id GROUP BY p.category`},
	{id: "Q5", desc: "variance",
		sql: `SELECT region, COUNT(*) AS n, VAR_SAMP(amount) AS var_amount, STDDEV_SAMP(amount) AS sd_amount FROM sales GROUP BY region`},
	{id: "Q6", desc: "distinct count",
		sql: `SELECT region, COUNT(DISTINCT product_id) AS products FROM sales GROUP BY region`},
}

// duckEngine opens a DuckDB engine over a database file's sales and
// products tables.
func duckEngine(path string, e *env, memory string) func(ctx context.Context) (enginebridge.Engine, error) {
	return func(ctx context.Context) (enginebridge.Engine, error) {
		return enginebridge.OpenDuckDB(ctx, enginebridge.DuckDBConfig{
			Tables: []enginebridge.TableSource{
				{Name: "sales", Format: enginebridge.FormatDuckDB, Path: path},
				{Name: "products", Format: enginebridge.FormatDuckDB, Path: path},
			},
			MemoryLimit: memory,
		}, e.log)
	}
}

// drain runs sql on eng and reads the whole result; it returns the rows.
func drain(ctx context.Context, eng enginebridge.Engine, sql string) (int64, error) {
	rdr, err := eng.Query(ctx, sql, nil)
	if err != nil {
		return 0, err
	}
	defer rdr.Release()
	var n int64
	for rdr.Next() {
		n += rdr.RecordBatch().NumRows()
	}
	return n, rdr.Err()
}

func runB1(ctx context.Context, e *env, b *Bench) error {
	n := e.opts.B1RowsPerSite
	files, err := b1Data(ctx, e, n)
	if err != nil {
		return fmt.Errorf("generate data: %w", err)
	}
	b.Setup = []string{
		fmt.Sprintf("centralized: one in-process DuckDB engine (enginebridge, default threads = all %d cores, memory_limit 6GB) over one file holding all %d rows; time = query + reading every Arrow batch", e.cpus(), 3*n),
		fmt.Sprintf("federated: 3 in-process site agents (DuckDB, default threads, memory_limit 3GB each) × %d rows + coordinator, mTLS Flight on 127.0.0.1; all share the same %d cores", n, e.cpus()),
		salesSetup, policySetup, auditSetup,
		fmt.Sprintf("%d repetitions per query after one warm-up, centralized and federated interleaved; medians reported", e.opts.B1Reps),
		"3 site engines alone = the three rendered sub-plans run at once on DuckDB engines of their own over the site files, every batch read: the engines' share of fed (Go); the difference is fedmesh (policy, audit, Flight transfer, merge)",
		"fed (Go) = coordinator.Query in-process (plan, fan-out, merge, audit; no HTTP/JSON) — the like-for-like figure; fed (HTTP) adds the HTTP API and JSON encoding of the answer",
	}
	central, err := duckEngine(files.central, e, "6GB")(ctx)
	if err != nil {
		return fmt.Errorf("centralized engine: %w", err)
	}
	defer central.Close()
	work, err := os.MkdirTemp(e.opts.WorkDir, "b1-run-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(work)
	var sites []siteSpec
	for i, s := range []string{"a", "b", "c"} {
		sites = append(sites, siteSpec{name: s, open: duckEngine(files.sites[i], e, "3GB")})
	}
	fed, err := startFederation(ctx, e, work, sites)
	if err != nil {
		return err
	}
	defer fed.stop()
	// The sites' engines alone: the rendered sub-plans run concurrently on
	// engines of their own over the same files, without fedmesh around them.
	var bare []enginebridge.Engine
	for i := range sites {
		eng, err := duckEngine(files.sites[i], e, "3GB")(ctx)
		if err != nil {
			return fmt.Errorf("site engine: %w", err)
		}
		defer eng.Close()
		bare = append(bare, eng)
	}

	b.Columns = []string{"query", "what", "rows", "centralized p50 ms", "fed (Go) p50 ms", "fed/central", "fed (HTTP) p50 ms", "HTTP/central", "3 site engines alone p50 ms", "verdict"}
	type result struct {
		id                        string
		central, fedGo, fHT, engs Summary
		ratio                     float64
	}
	var results []result
	missed := 0
	for _, q := range b1Queries {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		csql := q.central
		if csql == "" {
			csql = q.sql
		}
		fedRows, err := fed.goQuery(ctx, q.sql)
		if err != nil {
			msg := refusal(err)
			b.row(q.id, q.desc, "", "", "", "", "", "", "", "not supported yet: "+msg)
			b.set(q.id, map[string]any{"sql": q.sql, "refused": msg})
			e.progress("B1 %s: refused: %s", q.id, msg)
			continue
		}
		centralRows, err := drain(ctx, central, csql)
		if err != nil {
			return fmt.Errorf("%s centralized: %w", q.id, err)
		}
		if _, err := fed.httpQuery(ctx, q.sql); err != nil {
			return fmt.Errorf("%s federated over HTTP: %w", q.id, err)
		}
		siteRun, err := siteEngines(q.sql, bare)
		if err != nil {
			return fmt.Errorf("%s sites alone: %w", q.id, err)
		}
		if err := siteRun(ctx); err != nil {
			return fmt.Errorf("%s sites alone: %w", q.id, err)
		}
		var tc, tg, th, te []time.Duration
		for range e.opts.B1Reps {
			t00 := time.Now()
			if err := siteRun(ctx); err != nil {
				return fmt.Errorf("%s sites alone: %w", q.id, err)
			}
			te = append(te, time.Since(t00))
			t0 := time.Now()
			if _, err := drain(ctx, central, csql); err != nil {
				return fmt.Errorf("%s centralized: %w", q.id, err)
			}
			t1 := time.Now()
			if _, err := fed.goQuery(ctx, q.sql); err != nil {
				return fmt.Errorf("%s federated: %w", q.id, err)
			}
			t2 := time.Now()
			if _, err := fed.httpQuery(ctx, q.sql); err != nil {
				return fmt.Errorf("%s federated over HTTP: %w", q.id, err)
			}
			t3 := time.Now()
			tc, tg, th = append(tc, t1.Sub(t0)), append(tg, t2.Sub(t1)), append(th, t3.Sub(t2))
		}
		r := result{id: q.id, central: Summarize(tc), fedGo: Summarize(tg), fHT: Summarize(th), engs: Summarize(te)}
		r.ratio = ratio(r.fedGo.P50, r.central.P50)
		results = append(results, r)
		verdict := "meets ≤ 1.10"
		if r.ratio > 1.10 {
			verdict = "above 1.10"
			missed++
		}
		rows := fmt.Sprint(centralRows)
		if int64(fedRows) != centralRows {
			rows = fmt.Sprintf("%d (fed %d)", centralRows, fedRows)
		}
		b.row(q.id, q.desc, rows, f1(r.central.P50), f1(r.fedGo.P50), f2(r.ratio), f1(r.fHT.P50), f2(ratio(r.fHT.P50, r.central.P50)), f1(r.engs.P50), verdict)
		b.set(q.id, map[string]any{"sql": q.sql, "rows_central": centralRows, "rows_federated": fedRows,
			"centralized": r.central, "federated_go": r.fedGo, "federated_http": r.fHT, "site_engines_alone": r.engs, "ratio_go": r.ratio, "ratio_http": ratio(r.fHT.P50, r.central.P50)})
		e.progress("B1 %s: central %.1f ms, fed %.1f ms (×%.2f), HTTP %.1f ms", q.id, r.central.P50, r.fedGo.P50, r.ratio, r.fHT.P50)
	}
	if missed > 0 {
		b.Status = "partial"
	}
	// Profile the slowest federated query.
	if e.opts.Profile && len(results) > 0 {
		slowest := results[0]
		for _, r := range results[1:] {
			if r.fedGo.P50 > slowest.fedGo.P50 {
				slowest = r
			}
		}
		var sql string
		for _, q := range b1Queries {
			if q.id == slowest.id {
				sql = q.sql
			}
		}
		path := filepath.Join(e.outDir, "b1-"+slowest.id+".prof")
		err := profile(path, func() error {
			for range max(3, e.opts.B1Reps) {
				if _, err := fed.goQuery(ctx, sql); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			return fmt.Errorf("profile %s: %w", slowest.id, err)
		}
		addCPUTable(b, path, fmt.Sprintf("CPU profile of %s (the slowest federated query), %d runs through coordinator.Query, whole process:", slowest.id, max(3, e.opts.B1Reps)), max(3, e.opts.B1Reps))
		b.note("CPU profile of %s (slowest federated query), %d runs: %s (top: %s)", slowest.id, max(3, e.opts.B1Reps), filepath.Base(path), filepath.Base(topPath(path)))
		b.set("profile", filepath.Base(path))
	}
	return fed.stop()
}

// siteEngines returns a function running sql's rendered sub-plans on the
// given engines at once, reading every batch, as the agents' engines do.
func siteEngines(sql string, engines []enginebridge.Engine) (func(ctx context.Context) error, error) {
	q, err := sqlfront.Parse(sql)
	if err != nil {
		return nil, err
	}
	dialect, err := render.DialectByName("duckdb")
	if err != nil {
		return nil, err
	}
	names := []string{"a", "b", "c"}[:len(engines)]
	type rendered struct {
		sql  string
		args []any
	}
	var rs []rendered
	for _, sp := range planner.Split(q, names, planner.SubPlanMeta{QueryID: "bench", Analyst: "bench", Deadline: time.Now().Add(time.Hour)}) {
		s, a, err := render.Render(sp, dialect)
		if err != nil {
			return nil, err
		}
		rs = append(rs, rendered{s, a})
	}
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
	}, nil
}

// profile writes a CPU profile of fn to path and its `go tool pprof -top`
// text beside it.
func profile(path string, fn func() error) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		f.Close()
		return err
	}
	ferr := fn()
	pprof.StopCPUProfile()
	if err := f.Close(); err != nil {
		return err
	}
	if ferr != nil {
		return ferr
	}
	return writeTop(path)
}
