package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/spiffe/go-spiffe/v2/spiffeid"

	"github.com/fedmesh/fedmesh/certs"
	"github.com/fedmesh/fedmesh/enginebridge"
	"github.com/fedmesh/fedmesh/internal/agent"
	"github.com/fedmesh/fedmesh/internal/coordinator"
	"github.com/fedmesh/fedmesh/internal/credential"
	"github.com/fedmesh/fedmesh/internal/sampledata"
	"github.com/fedmesh/fedmesh/planner"
	"github.com/fedmesh/fedmesh/policy"
)

var (
	td     = spiffeid.RequireTrustDomainFromString("example.org")
	sites3 = []string{"a", "b", "c"}
	// sites5 have data and identities in the shared fixture too; only the
	// five-engine federation uses d and e.
	sites5 = []string{"a", "b", "c", "d", "e"}
)

// fixture is the data and identities shared by every federation a test
// package starts: generating them once keeps the suite fast.
type fixture struct {
	dir   string
	files map[string]sampledata.Files
}

var (
	fixOnce sync.Once
	fix     fixture
	fixErr  error
)

func sharedFixture(t *testing.T) fixture {
	t.Helper()
	fixOnce.Do(func() {
		dir, err := os.MkdirTemp("", "fedmesh-e2e-")
		if err != nil {
			fixErr = err
			return
		}
		fix.dir = dir
		fix.files = map[string]sampledata.Files{}
		if _, err := certs.InitDevCA(certs.DevCAOptions{TrustDomain: td.Name(), OutDir: filepath.Join(dir, "certs"), Sites: sites5}); err != nil {
			fixErr = err
			return
		}
		for _, s := range sites5 {
			f, err := sampledata.Generate(context.Background(), filepath.Join(dir, "data", s), s, sampledata.Options{Seed: 7})
			if err != nil {
				fixErr = err
				return
			}
			fix.files[s] = f
		}
	})
	if fixErr != nil {
		t.Fatalf("fixture: %v", fixErr)
	}
	return fix
}

// fedOptions varies a federation.
type fedOptions struct {
	minGroupSize int               // 0 → the default bundle's 10
	bundles      map[string]string // per-site bundle dir overriding the default
	// coordinatorIdentity, if set, replaces the coordinator's own SVID
	// (name of a cert pair in the shared certs dir).
	coordinatorIdentity string
	// expectSite overrides the SPIFFE ID the coordinator expects per site.
	expectSite map[string]spiffeid.ID
	// wrapEngine, if set, wraps each site's engine (fault injection).
	wrapEngine   func(site string, e enginebridge.Engine) enginebridge.Engine
	queryTimeout time.Duration
	// tables and catalogs, per site, replace the site's engine tables and
	// give it a logical → physical catalog.
	tables map[string][]enginebridge.TableSource
	// coordTables, per site, is the list of logical tables the coordinator
	// is told the site holds (unset: every table).
	coordTables map[string][]string
	catalogs    map[string]planner.Catalog
	// sites lists the federation's sites (unset: sites3).
	sites []string
	// guarded keeps the default bundle's exact-mode guards (difference
	// check over declared units, suppressed groups reported as a flag),
	// which defaultBundleWith turns off for tests that repeat queries.
	guarded bool
	// maxQueries is each site's durable per-analyst rate limit (0: none).
	maxQueries int64
	// metrics gives each site an ops port (metrics and health), its
	// address in federation.metrics.
	metrics bool
	// admission sets each site's engine slots and queue (zero: defaults).
	maxConcurrent, maxQueue int
	queueTimeout            time.Duration
	// quotas and partial configure the coordinator (admission_test.go).
	quotas  coordinator.Quotas
	partial coordinator.PartialAnswers
	// analysts are extra static-token analysts: id → token.
	analysts map[string]string
}

type federation struct {
	t      *testing.T
	url    string
	token  string
	audits map[string]string // process name → audit path
	logs   *syncBuffer
	// catalogRefresh, if set before startCoordinator, is how often the
	// coordinator asks the sites for their catalogs again.
	catalogRefresh time.Duration
	// analystVerifier, if set before startCoordinator, accepts analysts'
	// signed credentials besides the static token.
	analystVerifier *credential.Verifier
	// metrics maps each site to its ops port's address (fedOptions.metrics).
	metrics map[string]string
	// opts carries the coordinator's quotas, partial answers and extra
	// analysts into startCoordinator.
	opts fedOptions
	// sites holds each in-process site agent, to stop and restart it
	// (admission_load_test.go).
	sitesMu *sync.Mutex
	sites   map[string]*runningSite
	runCtx  context.Context
	runWG   *sync.WaitGroup
}

type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// startFederation starts three site agents and a coordinator in this
// process, each on its own 127.0.0.1 port with its own SVID, and stops them
// when the test ends.
func startFederation(t *testing.T, opts fedOptions) *federation {
	t.Helper()
	fx := sharedFixture(t)
	work := t.TempDir()
	logs := &syncBuffer{}
	logger := slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	fed := &federation{t: t, audits: map[string]string{}, logs: logs, opts: opts, sitesMu: &sync.Mutex{}, runCtx: ctx, runWG: &wg}
	t.Cleanup(func() {
		cancel()
		wg.Wait()
		if t.Failed() {
			t.Logf("federation logs:\n%s", logs.String())
		}
	})

	bundle := defaultBundleWith(t, opts.minGroupSize)
	if opts.guarded {
		bundle = defaultBundleGuarded(t, opts.minGroupSize)
	}
	certDir := filepath.Join(fx.dir, "certs")
	coordID := certs.CoordinatorID(td)
	var coordSites []coordinator.Site
	sites := opts.sites
	if sites == nil {
		sites = sites3
	}
	for _, s := range sites {
		lis, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		src := loadSource(t, certDir, certs.SiteFileName(s))
		tables := []enginebridge.TableSource{
			{Name: "sales", Format: "parquet", Path: fx.files[s].Sales},
			{Name: "customers", Format: "parquet", Path: fx.files[s].Customers},
		}
		if ts, ok := opts.tables[s]; ok {
			tables = ts
		}
		siteBundle := bundle
		if b, ok := opts.bundles[s]; ok {
			siteBundle = b
		}
		site := s
		var mlis net.Listener
		if opts.metrics {
			if mlis, err = net.Listen("tcp", "127.0.0.1:0"); err != nil {
				t.Fatal(err)
			}
			if fed.metrics == nil {
				fed.metrics = map[string]string{}
			}
			fed.metrics[s] = mlis.Addr().String()
		}
		auditPath := filepath.Join(work, "site-"+s+".log")
		fed.audits["site-"+s] = auditPath
		acfg := agent.Config{
			Site:                s,
			Listener:            lis,
			Identity:            src,
			AllowedCoordinators: []spiffeid.ID{coordID},
			OpenEngine: func(ctx context.Context) (enginebridge.Engine, error) {
				e, err := enginebridge.OpenDuckDB(ctx, enginebridge.DuckDBConfig{Tables: tables, Threads: 1}, logger)
				if err != nil || opts.wrapEngine == nil {
					return e, err
				}
				return opts.wrapEngine(site, e), nil
			},
			LoadPolicy: func(ctx context.Context) (*policy.Policy, error) {
				return policy.Load(ctx, siteBundle, logger)
			},
			Catalog:         opts.catalogs[s],
			Tables:          sourceNames(tables),
			AuditPath:       auditPath,
			GuardPath:       filepath.Join(work, "site-"+s+".guard"),
			MaxQueries:      opts.maxQueries,
			QueryTimeout:    30 * time.Second,
			MaxConcurrent:   opts.maxConcurrent,
			MaxQueue:        opts.maxQueue,
			QueueTimeout:    opts.queueTimeout,
			Logger:          logger,
			MetricsListener: mlis,
		}
		fed.runSite(ctx, &wg, acfg)
		id, _ := certs.SiteID(td, s)
		if want, ok := opts.expectSite[s]; ok {
			id = want
		}
		coordSites = append(coordSites, coordinator.Site{Name: s, Addr: lis.Addr().String(), ID: id, Tables: opts.coordTables[s]})
	}

	identity := certs.CoordinatorName
	if opts.coordinatorIdentity != "" {
		identity = opts.coordinatorIdentity
	}
	fed.startCoordinator(ctx, &wg, work, loadSource(t, certDir, identity), coordSites, opts.queryTimeout, logger)
	return fed
}

// startCoordinator runs a coordinator for sites until ctx ends; wg tracks
// it. It fills f's url, token and coordinator audit path.
func (f *federation) startCoordinator(ctx context.Context, wg *sync.WaitGroup, work string, id certs.Source, sites []coordinator.Site, timeout time.Duration, logger *slog.Logger) {
	t := f.t
	t.Helper()
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	f.token = "test-token-" + t.Name()
	f.audits["coordinator"] = filepath.Join(work, "coordinator.log")
	if timeout == 0 {
		timeout = 30 * time.Second
	}
	analysts := []coordinator.Analyst{{ID: "alice", Roles: []string{"analyst"}, TokenSHA256: coordinator.TokenHash(f.token)}}
	for id, tok := range f.opts.analysts {
		analysts = append(analysts, coordinator.Analyst{ID: id, Roles: []string{"analyst"}, TokenSHA256: coordinator.TokenHash(tok)})
	}
	c, err := coordinator.New(coordinator.Config{
		Quotas:          f.opts.quotas,
		PartialAnswers:  f.opts.partial,
		Listener:        lis,
		Identity:        id,
		Sites:           sites,
		Analysts:        analysts,
		AuditPath:       f.audits["coordinator"],
		QueryTimeout:    timeout,
		Logger:          logger,
		CatalogRefresh:  f.catalogRefresh,
		AnalystVerifier: f.analystVerifier,
	})
	if err != nil {
		t.Fatal(err)
	}
	wg.Add(1)
	go func() {
		defer wg.Done()
		if err := c.Run(ctx); err != nil && ctx.Err() == nil {
			t.Errorf("coordinator: %v", err)
		}
	}()
	f.url = "http://" + lis.Addr().String()
	waitHTTP(t, f.url+"/healthz")
}

func loadSource(t *testing.T, dir, name string) certs.Source {
	t.Helper()
	cert, key := certs.Paths(dir, name)
	src, err := certs.LoadFiles(cert, key, filepath.Join(dir, certs.BundleFile))
	if err != nil {
		t.Fatal(err)
	}
	return src
}

// defaultBundleWith copies the repository's default bundle, changing its
// minimum group size when k > 0. Its sites declare no sensitive columns: the
// differential suites compare MIN, MAX and percentiles of amount with DuckDB,
// and each of those is one person's value, which the default bundle refuses
// (fedmesh.minmax_sensitive) for the amount column it declares sensitive.
// The other isolation rules stay as shipped. No table is protected by
// differential privacy: these federations check exact answers (the DP tests
// use their own bundle data).
// defaultBundleWith is the default bundle with minimum group size k (0:
// its own), no sensitive columns, no protected tables, and without the
// exact-mode guards: differential tests repeat near-identical queries (the
// difference check would refuse them), compare suppressed-group counts,
// and expect groups counted in rows as DuckDB counts them.
func defaultBundleWith(t *testing.T, k int) string {
	t.Helper()
	return defaultBundle(t, k, false)
}

// defaultBundleGuarded is defaultBundleWith with the default bundle's
// difference check (units) and suppressed-group flag kept.
func defaultBundleGuarded(t *testing.T, k int) string {
	t.Helper()
	return defaultBundle(t, k, true)
}

func defaultBundle(t *testing.T, k int, guarded bool) string {
	t.Helper()
	src := filepath.Join("..", "..", "policy", "bundles", "default")
	dst := filepath.Join(t.TempDir(), "bundle")
	if err := os.CopyFS(dst, os.DirFS(src)); err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(dst, "data.json")
	var data map[string]map[string]any
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, &data); err != nil {
		t.Fatal(err)
	}
	if k > 0 {
		data["fedmesh"]["min_group_size"] = k
	}
	data["fedmesh"]["sensitive_columns"] = []string{}
	delete(data["fedmesh"], "protected_tables")
	if !guarded {
		delete(data["fedmesh"], "units")
		data["fedmesh"]["report_suppressed"] = "exact"
	}
	b, _ = json.Marshal(data)
	if err := os.WriteFile(p, b, 0o600); err != nil {
		t.Fatal(err)
	}
	return dst
}

func waitHTTP(t *testing.T, url string) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		resp, err := http.Get(url)
		if err == nil {
			resp.Body.Close()
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("%s did not come up", url)
}

// response is the coordinator's answer or error, numbers kept exact.
type response struct {
	Status  int
	QueryID string                        `json:"query_id"`
	Columns []struct{ Name, Type string } `json:"columns"`
	Rows    [][]any                       `json:"rows"`
	// Approximate names the answer's sketch estimates and their bounds.
	Approximate []struct {
		Column        string  `json:"column"`
		Method        string  `json:"method"`
		RelativeError float64 `json:"relative_error"`
		Bound         string  `json:"bound"`
	} `json:"approximate"`
	Sites []struct {
		Site             string `json:"site"`
		Status           string `json:"status"`
		SuppressedGroups int64  `json:"suppressed_groups"`
	} `json:"sites"`
	SuppressedGroups int64  `json:"suppressed_groups"`
	SuppressedReport string `json:"suppressed_report"`
	// Suppressed: every site withheld a global aggregate (values NULL).
	Suppressed bool `json:"suppressed"`
	Error      *struct {
		Code     string   `json:"code"`
		Message  string   `json:"message"`
		Site     string   `json:"site"`
		Reasons  []string `json:"reasons"`
		Position int      `json:"position"`
	} `json:"error"`
}

func (f *federation) query(sql string) response {
	f.t.Helper()
	var r response
	r.Status = postJSON(f.t, f.url+"/v1/query", f.token, map[string]string{"sql": sql, "purpose": "e2e test"}, &r)
	return r
}

// postJSON POSTs body to url with the bearer token and decodes the answer
// into out, numbers kept exact; it returns the HTTP status.
func postJSON(t *testing.T, url, token string, body, out any) int {
	t.Helper()
	b, _ := json.Marshal(body)
	req, _ := http.NewRequest(http.MethodPost, url, bytes.NewReader(b))
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("POST %s %s: %v", url, b, err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	if err := dec.Decode(out); err != nil {
		t.Fatalf("POST %s %s: HTTP %d, undecodable body %q: %v", url, b, resp.StatusCode, raw, err)
	}
	return resp.StatusCode
}

func (r response) columnNames() string {
	var n []string
	for _, c := range r.Columns {
		n = append(n, c.Name)
	}
	return strings.Join(n, ",")
}

// runningSite is an in-process site agent and how to stop it.
type runningSite struct {
	cfg  agent.Config
	stop context.CancelFunc
	done chan struct{}
}

// runSite runs the agent for cfg until ctx ends or the site is stopped.
func (f *federation) runSite(ctx context.Context, wg *sync.WaitGroup, cfg agent.Config) {
	t := f.t
	t.Helper()
	a, err := agent.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	sctx, stop := context.WithCancel(ctx)
	rs := &runningSite{cfg: cfg, stop: stop, done: make(chan struct{})}
	f.sitesMu.Lock()
	if f.sites == nil {
		f.sites = map[string]*runningSite{}
	}
	f.sites[cfg.Site] = rs
	f.sitesMu.Unlock()
	wg.Add(1)
	go func() {
		defer wg.Done()
		defer close(rs.done)
		if err := a.Run(sctx); err != nil && sctx.Err() == nil {
			t.Errorf("site %s: %v", cfg.Site, err)
		}
	}()
}

// restartSite stops the in-process agent of site, waits for it to end and
// starts it again on the same address, audit log and state.
func (f *federation) restartSite(site string, down func()) {
	ctx, wg := f.runCtx, f.runWG
	t := f.t
	f.sitesMu.Lock()
	rs := f.sites[site]
	f.sitesMu.Unlock()
	addr := rs.cfg.Listener.Addr().String()
	rs.stop()
	<-rs.done
	if down != nil {
		down()
	}
	var lis net.Listener
	var err error
	for range 100 { // the old listener's port is normally free at once
		if lis, err = net.Listen("tcp", addr); err == nil {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	if err != nil {
		t.Errorf("restart site %s: %v", site, err)
		return
	}
	cfg := rs.cfg
	cfg.Listener = lis
	f.runSite(ctx, wg, cfg)
}
