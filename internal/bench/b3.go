package bench

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"time"

	"github.com/apache/arrow-go/v18/arrow"

	"github.com/fedmesh/fedmesh/audit"
	"github.com/fedmesh/fedmesh/enginebridge"
	"github.com/fedmesh/fedmesh/flight"
	"github.com/fedmesh/fedmesh/planner"
	"github.com/fedmesh/fedmesh/planner/merge"
	"github.com/fedmesh/fedmesh/planner/render"
	"github.com/fedmesh/fedmesh/planner/sqlfront"
	"github.com/fedmesh/fedmesh/policy"
)

// trivialSQL is B3's, B4's and B6's query: one group per site.
const trivialSQL = `SELECT COUNT(*) AS n, SUM(amount) AS total FROM sales`

// tinyRows is the rows per site of the tiny tables.
const tinyRows = 1000

// tinyFederation starts three sites over 1,000-row DuckDB tables.
func tinyFederation(ctx context.Context, e *env, prefix string) (*federation, duckFiles, func(), error) {
	files, err := b1Data(ctx, e, tinyRows)
	if err != nil {
		return nil, files, nil, fmt.Errorf("generate data: %w", err)
	}
	work, err := os.MkdirTemp(e.opts.WorkDir, prefix)
	if err != nil {
		return nil, files, nil, err
	}
	var sites []siteSpec
	for i, s := range []string{"a", "b", "c"} {
		sites = append(sites, siteSpec{name: s, open: duckEngine(files.sites[i], e, "256MB")})
	}
	fed, err := startFederation(ctx, e, work, sites)
	if err != nil {
		os.RemoveAll(work)
		return nil, files, nil, err
	}
	return fed, files, func() { _ = fed.stop(); os.RemoveAll(work) }, nil
}

func runB3(ctx context.Context, e *env, b *Bench) error {
	fed, files, done, err := tinyFederation(ctx, e, "b3-")
	if err != nil {
		return err
	}
	defer done()
	runs := e.opts.B3Runs
	b.Setup = []string{
		fmt.Sprintf("query: %s — 3 in-process DuckDB sites × %d rows, coordinator, mTLS Flight, all on 127.0.0.1 in one process", trivialSQL, tinyRows),
		policySetup, auditSetup,
		fmt.Sprintf("end to end: %d sequential HTTP POST /v1/query after 20 warm-ups (one client, keep-alive), each followed by the same query through coordinator.Query (Go API, no HTTP/JSON)", runs),
		fmt.Sprintf("breakdown: each stage run alone %d times on the same plan and data, medians; the sites' stages run once per site, in parallel on %d cores", runs, e.cpus()),
	}
	for range 20 {
		if _, err := fed.httpQuery(ctx, trivialSQL); err != nil {
			return fmt.Errorf("warm-up: %w", err)
		}
	}
	// HTTP and Go API runs alternate, so that load changes hit both alike.
	var httpT, goT []time.Duration
	loop := func() error {
		for range runs {
			t0 := time.Now()
			if _, err := fed.httpQuery(ctx, trivialSQL); err != nil {
				return err
			}
			t1 := time.Now()
			if _, err := fed.goQuery(ctx, trivialSQL); err != nil {
				return fmt.Errorf("go API: %w", err)
			}
			httpT, goT = append(httpT, t1.Sub(t0)), append(goT, time.Since(t1))
		}
		return nil
	}
	profPath := filepath.Join(e.outDir, "b3.prof")
	if e.opts.Profile {
		err = profile(profPath, loop)
	} else {
		err = loop()
	}
	if err != nil {
		return fmt.Errorf("end to end: %w", err)
	}
	h, g := Summarize(httpT), Summarize(goT)

	stages, err := b3Stages(ctx, e, files, runs)
	if err != nil {
		return fmt.Errorf("breakdown: %w", err)
	}
	b.Columns = []string{"measure", "p50 ms", "p99 ms", "share of HTTP p50"}
	b.row("**end to end, HTTP API**", f3(h.P50), f3(h.P99), "100%")
	b.row("end to end, Go API (no HTTP/JSON)", f3(g.P50), f3(g.P99), pct(g.P50, h.P50))
	var accounted float64
	for _, s := range stages {
		name := "· " + s.name
		if !s.inPath {
			name = "  (" + s.name + ", not added)"
		} else {
			accounted += s.sum.P50
		}
		b.row(name, f3(s.sum.P50), f3(s.sum.P99), pct(s.sum.P50, h.P50))
	}
	b.row("· HTTP + JSON (HTTP − Go API)", f3(h.P50-g.P50), "", pct(h.P50-g.P50, h.P50))
	rest := g.P50 - accounted
	b.row("· rest: scheduling and contention when the stages run together (Go API − sum of added stages)", f3(rest), "", pct(rest, h.P50))
	b.set("http", h)
	b.set("go_api", g)
	st := map[string]Summary{}
	for _, s := range stages {
		st[s.name] = s.sum
	}
	b.set("stages", st)
	if h.P50 >= 5 || h.P99 >= 20 {
		b.Status = "partial"
		b.note("target missed: p50 %.2f ms (target < 5), p99 %.2f ms (target < 20)", h.P50, h.P99)
	} else {
		b.note("target met: p50 %.2f ms < 5, p99 %.2f ms < 20", h.P50, h.P99)
	}
	if e.opts.Profile {
		addCPUTable(b, profPath, fmt.Sprintf("CPU profile of the %d queries (half HTTP, half Go API), whole process (client, coordinator, 3 agents), each sample attributed to the first frame from the leaf up that names a component:", 2*runs), 2*runs)
		b.note("CPU profile of the %d queries (whole process: coordinator, 3 agents, client): %s, top: %s", 2*runs, filepath.Base(profPath), filepath.Base(topPath(profPath)))
	}
	e.progress("B3: HTTP p50 %.2f ms p99 %.2f ms; Go API p50 %.2f ms", h.P50, h.P99, g.P50)
	return nil
}

func pct(part, whole float64) string {
	if whole == 0 {
		return ""
	}
	return fmt.Sprintf("%.0f%%", 100*part/whole)
}

type stage struct {
	name string
	sum  Summary
	// inPath marks the stages whose medians add up to the estimated
	// critical path; the others are shown for comparison (they are part of
	// a stage that is counted, or a site's step measured alone).
	inPath bool
}

// b3Stages times each step of the pipeline alone, on the real plan, policy,
// engine and audit code.
func b3Stages(ctx context.Context, e *env, files duckFiles, runs int) ([]stage, error) {
	sites := []string{"a", "b", "c"}
	timeIt := func(fn func() error) (Summary, error) {
		ds := make([]time.Duration, 0, runs)
		for range runs {
			t0 := time.Now()
			if err := fn(); err != nil {
				return Summary{}, err
			}
			ds = append(ds, time.Since(t0))
		}
		return Summarize(ds), nil
	}
	var out []stage
	add := func(name string, fn func() error) error {
		s, err := timeIt(fn)
		if err != nil {
			return fmt.Errorf("%s: %w", name, err)
		}
		out = append(out, stage{name: name, sum: s, inPath: !notInPath[name]})
		return nil
	}
	meta := planner.SubPlanMeta{QueryID: "bench", Analyst: "bench", Roles: []string{"analyst"}, Purpose: "benchmark", Deadline: time.Now().Add(time.Hour)}
	q, err := sqlfront.Parse(trivialSQL)
	if err != nil {
		return nil, err
	}
	sps := planner.Split(q, sites, meta)
	if err := add("coordinator: parse + plan + split", func() error {
		q, err := sqlfront.Parse(trivialSQL)
		if err != nil {
			return err
		}
		planner.Split(q, sites, meta)
		return nil
	}); err != nil {
		return nil, err
	}
	var tickets [][]byte
	if err := add("coordinator: encode 3 tickets", func() error {
		tickets = tickets[:0]
		for _, sp := range sps {
			t, err := flight.EncodeTicket(sp)
			if err != nil {
				return err
			}
			tickets = append(tickets, t)
		}
		return nil
	}); err != nil {
		return nil, err
	}
	if err := add("site: decode + validate ticket", func() error {
		sp, err := flight.DecodeTicket(tickets[0])
		if err != nil {
			return err
		}
		return sp.Validate()
	}); err != nil {
		return nil, err
	}
	pol, err := policy.LoadDefault(ctx, e.log)
	if err != nil {
		return nil, err
	}
	var dec policy.Decision
	if err := add("site: policy evaluation (OPA)", func() error {
		dec, err = pol.Evaluate(ctx, policy.NewInput(sps[0]))
		if err == nil && !dec.Allow {
			err = fmt.Errorf("denied: %v", dec.Reasons)
		}
		return err
	}); err != nil {
		return nil, err
	}
	dialect, err := render.DialectByName("duckdb")
	if err != nil {
		return nil, err
	}
	var sql string
	var args []any
	if err := add("site: render engine SQL", func() error {
		sql, args, err = render.Render(sps[0], dialect)
		return err
	}); err != nil {
		return nil, err
	}
	eng, err := enginebridge.OpenDuckDB(ctx, enginebridge.DuckDBConfig{Tables: []enginebridge.TableSource{
		{Name: "sales", Format: enginebridge.FormatDuckDB, Path: files.sites[0]},
	}, MemoryLimit: "256MB"}, e.log)
	if err != nil {
		return nil, err
	}
	defer eng.Close()
	collect := func(eng enginebridge.Engine) ([]arrow.RecordBatch, error) {
		rdr, err := eng.Query(ctx, sql, args)
		if err != nil {
			return nil, err
		}
		defer rdr.Release()
		var bs []arrow.RecordBatch
		for rdr.Next() {
			rb := rdr.RecordBatch()
			rb.Retain()
			bs = append(bs, rb)
		}
		return bs, rdr.Err()
	}
	if err := add("site: engine query + Arrow conversion (DuckDB)", func() error {
		bs, err := collect(eng)
		release(bs)
		return err
	}); err != nil {
		return nil, err
	}
	batches, err := collect(eng)
	if err != nil {
		return nil, err
	}
	defer release(batches)
	if err := add("site: small-group suppression", func() error {
		kept, _, err := policy.Enforce(ctx, batches, sps[0].CountColumn, dec.Obligations)
		release(kept)
		return err
	}); err != nil {
		return nil, err
	}
	dir, err := os.MkdirTemp(e.opts.WorkDir, "b3-audit-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	alog, err := audit.Open(filepath.Join(dir, "site.log"), audit.Options{Component: audit.ComponentSiteAgent, Site: "a"})
	if err != nil {
		return nil, err
	}
	defer alog.Close()
	rec := audit.Record{Component: audit.ComponentSiteAgent, Site: "a", Event: audit.EventExport, Decision: audit.DecisionAllow, QueryID: "bench", Analyst: "bench",
		Roles: []string{"analyst"}, Purpose: "benchmark", Details: map[string]any{"engine_sql": sql, "engine": "duckdb"}, Rows: 1}
	if err := add(stageAudit1, func() error {
		_, _, err := alog.Append(ctx, rec)
		return err
	}); err != nil {
		return nil, err
	}
	var logs []*audit.Log
	for _, s := range sites {
		l, err := audit.Open(filepath.Join(dir, "site-"+s+".log"), audit.Options{Component: audit.ComponentSiteAgent, Site: s})
		if err != nil {
			return nil, err
		}
		defer l.Close()
		logs = append(logs, l)
	}
	if err := add(stageAudit3, func() error {
		errs := make(chan error, len(logs))
		for _, l := range logs {
			go func() { _, _, err := l.Append(ctx, rec); errs <- err }()
		}
		var first error
		for range logs {
			if err := <-errs; err != nil && first == nil {
				first = err
			}
		}
		return first
	}); err != nil {
		return nil, err
	}
	sf, err := startStubs(ctx, dir, sites, batches[0].Schema(), batches)
	if err != nil {
		return nil, err
	}
	defer sf.stop()
	if _, err := sf.fanOut(ctx); err != nil { // connect
		return nil, err
	}
	if err := add(stageTransport, func() error {
		_, err := sf.fanOut(ctx)
		return err
	}); err != nil {
		return nil, err
	}
	parts := make([]merge.Partial, 0, len(sites))
	for _, s := range sites {
		parts = append(parts, merge.Partial{Site: s, Batches: batches})
	}
	if err := add("coordinator: merge 3 partials", func() error {
		_, err := merge.Merge(ctx, q, parts)
		return err
	}); err != nil {
		return nil, err
	}
	clog, err := audit.Open(filepath.Join(dir, "coordinator.log"), audit.Options{Component: audit.ComponentCoordinator})
	if err != nil {
		return nil, err
	}
	defer clog.Close()
	crec := audit.Record{Component: audit.ComponentCoordinator, Event: audit.EventQuery, Decision: audit.DecisionAllow, QueryID: "bench", Analyst: "bench",
		Roles: []string{"analyst"}, Purpose: "benchmark", SQL: trivialSQL, Rows: 1,
		Sites: []audit.SiteOutcome{{Site: "a", Status: audit.StatusOK, Rows: 1}, {Site: "b", Status: audit.StatusOK, Rows: 1}, {Site: "c", Status: audit.StatusOK, Rows: 1}}}
	if err := add("coordinator: audit append + fsync", func() error {
		_, _, err := clog.Append(ctx, crec)
		return err
	}); err != nil {
		return nil, err
	}
	// Order: the coordinator's and one site's steps, in pipeline order.
	order := []string{"coordinator: parse + plan + split", "coordinator: encode 3 tickets", stageTransport, "site: decode + validate ticket",
		"site: policy evaluation (OPA)", "site: render engine SQL", "site: engine query + Arrow conversion (DuckDB)",
		"site: small-group suppression", stageAudit1, stageAudit3, "coordinator: merge 3 partials", "coordinator: audit append + fsync"}
	slices.SortFunc(out, func(a, b stage) int { return slices.Index(order, a.name) - slices.Index(order, b.name) })
	return out, nil
}

const (
	stageAudit1    = "site: audit append + fsync (one log alone)"
	stageAudit3    = "sites: 3 audit appends + fsyncs at once (as in a query)"
	stageTransport = "fan-out: 3 DoGets over mTLS Flight to stub sites (ticket encode/decode, gRPC, TLS, IPC; no engine/policy/audit)"
)

// notInPath are stages measured for comparison but not added up: the
// tickets are inside the stub fan-out, one log alone inside the three.
var notInPath = map[string]bool{"coordinator: encode 3 tickets": true, "site: decode + validate ticket": true, stageAudit1: true}

func release(bs []arrow.RecordBatch) {
	for _, b := range bs {
		b.Release()
	}
}
