package e2e

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"net"
	"net/http"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/spiffe/go-spiffe/v2/spiffeid"

	"github.com/fedmesh/fedmesh/certs"
	"github.com/fedmesh/fedmesh/enginebridge"
	"github.com/fedmesh/fedmesh/internal/agent"
	"github.com/fedmesh/fedmesh/internal/coordinator"
	"github.com/fedmesh/fedmesh/planner"
	"github.com/fedmesh/fedmesh/planner/explain"
	"github.com/fedmesh/fedmesh/policy"
)

// TestCatalogMappingAtSite runs queries over a federation where site c
// stores sales as "orders_c" with columns named differently (cust, amt,
// geo). The analyst writes the federation's logical names; site c's agent
// renders its own names from its catalog, and every answer matches DuckDB's
// over the union of the sites' rows.
func TestCatalogMappingAtSite(t *testing.T) {
	fx := sharedFixture(t)
	phys := filepath.Join(t.TempDir(), "orders_c.parquet")
	db, err := sql.Open("duckdb", "")
	if err != nil {
		t.Fatal(err)
	}
	copyStmt := fmt.Sprintf(`COPY (SELECT order_id, customer_id AS cust, region AS geo, year, amount AS amt, status
		FROM read_parquet('%s')) TO '%s' (FORMAT parquet)`, fx.files["c"].Sales, phys)
	if _, err := db.Exec(copyStmt); err != nil {
		t.Fatalf("write renamed table: %v", err)
	}
	db.Close()
	fed := startFederation(t, fedOptions{
		minGroupSize: 1,
		tables: map[string][]enginebridge.TableSource{"c": {
			{Name: "orders_c", Format: "parquet", Path: phys},
			{Name: "customers", Format: "parquet", Path: fx.files["c"].Customers},
		}},
		catalogs: map[string]planner.Catalog{"c": {
			"sales":     {Physical: "orders_c", Columns: map[string]string{"customer_id": "cust", "region": "geo", "amount": "amt"}},
			"customers": {Physical: "customers"},
		}},
	})
	ref := openUnionReference(t, fx)
	for _, q := range []string{
		"SELECT region, SUM(amount) AS total, COUNT(*) AS n FROM sales GROUP BY region ORDER BY region",
		"SELECT _site, region, MAX(amount) AS hi FROM sales WHERE amount > 100 AND region <> 'north' GROUP BY _site, region ORDER BY _site, region",
		"SELECT year, AVG(amount) AS avg_amt, COUNT(status) AS n FROM sales WHERE region IN ('east', 'west') GROUP BY year ORDER BY year",
	} {
		got := fed.query(q)
		if got.Status != 200 {
			t.Fatalf("%s\nHTTP %d: %+v", q, got.Status, got.Error)
		}
		want := ref.query(t, q)
		if len(want) == 0 {
			t.Fatalf("%s: reference is empty; the test would prove nothing", q)
		}
		if d := diffRows(normRows(got.Rows, false), normRows(want, false)); d != "" {
			t.Errorf("%s\n%s", q, d)
		}
		if !strings.Contains(q, "_site") && len(got.Sites) != 3 {
			t.Errorf("%s: sites = %+v, want all 3", q, got.Sites)
		}
	}
}

// sourceNames lists the names of an engine's table sources: the tables a
// harness site declares.
func sourceNames(tables []enginebridge.TableSource) []string {
	out := make([]string, 0, len(tables))
	for _, t := range tables {
		out = append(out, t.Name)
	}
	return out
}

// catalogSite is a site agent that a test can stop and start again on the
// same address with other tables.
type catalogSite struct {
	name   string
	addr   string
	cancel context.CancelFunc
	done   chan struct{}
}

// startCatalogSite runs site's agent on addr ("127.0.0.1:0" for a new
// port) with the given tables until stop is called or the test ends.
func startCatalogSite(t *testing.T, site, addr, bundle string, tables []enginebridge.TableSource, cat planner.Catalog, logger *slog.Logger) *catalogSite {
	t.Helper()
	fx := sharedFixture(t)
	var lis net.Listener
	var err error
	for range 50 { // the old listener of a restarted site may take a moment to go
		if lis, err = net.Listen("tcp", addr); err == nil {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	if err != nil {
		t.Fatalf("site %s: listen on %s: %v", site, addr, err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	a, err := agent.New(agent.Config{
		Site:                site,
		Listener:            lis,
		Identity:            loadSource(t, filepath.Join(fx.dir, "certs"), certs.SiteFileName(site)),
		AllowedCoordinators: []spiffeid.ID{certs.CoordinatorID(td)},
		OpenEngine: func(ctx context.Context) (enginebridge.Engine, error) {
			return enginebridge.OpenDuckDB(ctx, enginebridge.DuckDBConfig{Tables: tables, Threads: 1}, logger)
		},
		LoadPolicy: func(ctx context.Context) (*policy.Policy, error) {
			return policy.Load(ctx, bundle, logger)
		},
		Catalog:      cat,
		Tables:       sourceNames(tables),
		AuditPath:    filepath.Join(t.TempDir(), "site-"+site+".log"),
		QueryTimeout: 30 * time.Second,
		Logger:       logger,
	})
	if err != nil {
		cancel()
		t.Fatal(err)
	}
	s := &catalogSite{name: site, addr: lis.Addr().String(), cancel: cancel, done: make(chan struct{})}
	go func() {
		defer close(s.done)
		if err := a.Run(ctx); err != nil && ctx.Err() == nil {
			t.Errorf("site %s: %v", site, err)
		}
	}()
	t.Cleanup(s.stop)
	return s
}

func (s *catalogSite) stop() {
	s.cancel()
	<-s.done
}

func (f *federation) explain(sql string) (int, explain.Explanation) {
	f.t.Helper()
	body, _ := json.Marshal(map[string]string{"sql": sql, "purpose": "e2e test"})
	req, _ := http.NewRequest(http.MethodPost, f.url+"/v1/explain", bytes.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+f.token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		f.t.Fatalf("explain %q: %v", sql, err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	var ex explain.Explanation
	if resp.StatusCode == http.StatusOK {
		if err := json.Unmarshal(raw, &ex); err != nil {
			f.t.Fatalf("explain %q: undecodable body %q: %v", sql, raw, err)
		}
	}
	return resp.StatusCode, ex
}

func siteStatuses(r response) map[string]string {
	out := map[string]string{}
	for _, s := range r.Sites {
		out[s.Site] = s.Status
	}
	return out
}

// TestCatalogReportedBySites runs a federation whose coordinator has no
// catalog in its config: each site declares its own tables (site c under
// physical names with renamed columns) and reports its logical catalog on
// connect. The coordinator asks only the sites holding a query's table,
// says in the answer and in EXPLAIN which sites lack it, refuses unknown
// tables and columns naming them before any site runs anything, and picks
// up a table a site gains when it restarts.
func TestCatalogReportedBySites(t *testing.T) {
	fx := sharedFixture(t)
	logs := &syncBuffer{}
	logger := slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("federation logs:\n%s", logs.String())
		}
	})
	bundle := defaultBundleWith(t, 1)
	phys := filepath.Join(t.TempDir(), "orders_c.parquet")
	db, err := sql.Open("duckdb", "")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec(fmt.Sprintf(`COPY (SELECT order_id, customer_id AS cust, region AS geo, year, amount AS amt, status
		FROM read_parquet('%s')) TO '%s' (FORMAT parquet)`, fx.files["c"].Sales, phys)); err != nil {
		t.Fatalf("write renamed table: %v", err)
	}
	db.Close()

	salesOf := func(s string) enginebridge.TableSource {
		return enginebridge.TableSource{Name: "sales", Format: "parquet", Path: fx.files[s].Sales}
	}
	customersOf := func(s string) enginebridge.TableSource {
		return enginebridge.TableSource{Name: "customers", Format: "parquet", Path: fx.files[s].Customers}
	}
	// a: sales and customers; b: sales only; c: sales as orders_c with
	// renamed columns, and no customers.
	siteA := startCatalogSite(t, "a", "127.0.0.1:0", bundle, []enginebridge.TableSource{salesOf("a"), customersOf("a")}, nil, logger)
	siteB := startCatalogSite(t, "b", "127.0.0.1:0", bundle, []enginebridge.TableSource{salesOf("b")}, nil, logger)
	siteC := startCatalogSite(t, "c", "127.0.0.1:0", bundle, []enginebridge.TableSource{{Name: "orders_c", Format: "parquet", Path: phys}},
		planner.Catalog{"sales": {Physical: "orders_c", Columns: map[string]string{"customer_id": "cust", "region": "geo", "amount": "amt"}}}, logger)
	var coordSites []coordinator.Site
	for _, s := range []*catalogSite{siteA, siteB, siteC} {
		id, _ := certs.SiteID(td, s.name)
		coordSites = append(coordSites, coordinator.Site{Name: s.name, Addr: s.addr, ID: id}) // no Tables: the sites say
	}
	fed := &federation{t: t, audits: map[string]string{}, logs: logs, catalogRefresh: 200 * time.Millisecond}
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	t.Cleanup(func() { cancel(); wg.Wait() })
	fed.startCoordinator(ctx, &wg, t.TempDir(), loadSource(t, filepath.Join(fx.dir, "certs"), certs.CoordinatorName), coordSites, 0, logger)

	countOf := func(files ...string) int64 {
		t.Helper()
		db, err := sql.Open("duckdb", "")
		if err != nil {
			t.Fatal(err)
		}
		defer db.Close()
		var n int64
		if err := db.QueryRow(fmt.Sprintf("SELECT count(*) FROM read_parquet(['%s'])", strings.Join(files, "', '"))).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}

	t.Run("participants follow the reported tables", func(t *testing.T) {
		got := fed.query("SELECT COUNT(*) AS n FROM customers")
		if got.Status != 200 {
			t.Fatalf("HTTP %d: %+v", got.Status, got.Error)
		}
		if want := map[string]string{"a": "ok", "b": "no_table", "c": "no_table"}; !maps.Equal(siteStatuses(got), want) {
			t.Errorf("sites = %v, want %v", siteStatuses(got), want)
		}
		if n := normRows(got.Rows, false); len(n) != 1 || n[0][0] != float64(countOf(fx.files["a"].Customers)) {
			t.Errorf("rows = %v, want site a's customers only", got.Rows)
		}
		got = fed.query("SELECT region, SUM(amount) AS total, COUNT(*) AS n FROM sales GROUP BY region ORDER BY region")
		if got.Status != 200 {
			t.Fatalf("HTTP %d: %+v", got.Status, got.Error)
		}
		if want := map[string]string{"a": "ok", "b": "ok", "c": "ok"}; !maps.Equal(siteStatuses(got), want) {
			t.Errorf("sites = %v, want %v", siteStatuses(got), want)
		}
		want := openUnionReference(t, fx).query(t, "SELECT region, SUM(amount) AS total, COUNT(*) AS n FROM sales GROUP BY region ORDER BY region")
		if d := diffRows(normRows(got.Rows, false), normRows(want, false)); d != "" {
			t.Error(d)
		}
	})

	t.Run("explain lists the sites lacking the table", func(t *testing.T) {
		status, ex := fed.explain("SELECT segment, COUNT(*) AS n FROM customers GROUP BY segment")
		if status != 200 {
			t.Fatalf("HTTP %d", status)
		}
		var in []string
		for _, s := range ex.Sites {
			in = append(in, s.Site)
		}
		if !slices.Equal(in, []string{"a"}) || !slices.Equal(ex.Lacking, []string{"b", "c"}) {
			t.Errorf("explain sites %v lacking %v, want [a] and [b c]", in, ex.Lacking)
		}
	})

	t.Run("unknown column is refused naming it and the sites", func(t *testing.T) {
		got := fed.query("SELECT region, SUM(discount) AS d FROM sales GROUP BY region")
		if got.Status != 400 || got.Error == nil || got.Error.Code != "unknown_column" {
			t.Fatalf("HTTP %d %+v, want 400 unknown_column", got.Status, got.Error)
		}
		for _, want := range []string{`"discount"`, "sales", "a, b, c"} {
			if !strings.Contains(got.Error.Message, want) {
				t.Errorf("message %q does not mention %s", got.Error.Message, want)
			}
		}
		for _, leak := range []string{"orders_c", "amt", "geo", phys} {
			if strings.Contains(got.Error.Message, leak) {
				t.Errorf("message %q reveals site c's physical name %q", got.Error.Message, leak)
			}
		}
		if len(got.Sites) != 0 {
			t.Errorf("sites contacted: %+v", got.Sites)
		}
		t.Logf("unknown column: %s", got.Error.Message)
		got = fed.query("SELECT COUNT(*) FROM customers WHERE segmnt = 'consumer'")
		if got.Status != 400 || got.Error == nil || !strings.Contains(got.Error.Message, `"segmnt"`) || !strings.Contains(got.Error.Message, "site a") {
			t.Errorf("HTTP %d %+v, want 400 naming segmnt and site a", got.Status, got.Error)
		}
	})

	t.Run("unknown table is refused", func(t *testing.T) {
		got := fed.query("SELECT COUNT(*) FROM returns")
		if got.Status != 400 || got.Error == nil || got.Error.Code != "unknown_table" || !strings.Contains(got.Error.Message, "returns") {
			t.Fatalf("HTTP %d %+v, want 400 unknown_table naming returns", got.Status, got.Error)
		}
	})

	t.Run("a site restarted with a new table is picked up", func(t *testing.T) {
		siteB.stop()
		startCatalogSite(t, "b", siteB.addr, bundle, []enginebridge.TableSource{salesOf("b"), customersOf("b")}, nil, logger)
		start := time.Now()
		var got response
		for time.Since(start) < 20*time.Second {
			got = fed.query("SELECT COUNT(*) AS n FROM customers")
			if got.Status == 200 && siteStatuses(got)["b"] == "ok" {
				break
			}
			time.Sleep(100 * time.Millisecond)
		}
		if got.Status != 200 || siteStatuses(got)["b"] != "ok" {
			t.Fatalf("site b's new customers table not picked up within 20s: HTTP %d sites %v %+v", got.Status, siteStatuses(got), got.Error)
		}
		t.Logf("site b's new table picked up after %s", time.Since(start).Round(time.Millisecond))
		want := float64(countOf(fx.files["a"].Customers, fx.files["b"].Customers))
		if n := normRows(got.Rows, false); len(n) != 1 || n[0][0] != want {
			t.Errorf("rows = %v, want %v (sites a and b)", got.Rows, want)
		}
	})

	t.Run("the coordinator audits each catalog as first reported and changed", func(t *testing.T) {
		var b []string
		for _, r := range readRecords(t, fed.audits["coordinator"]) {
			if r.Event == "catalog" && r.Details["site"] == "b" {
				if r.Site != "" {
					t.Errorf("catalog record names site %q as the log's owner", r.Site)
				}
				b = append(b, fmt.Sprint(r.Details["tables"]))
			}
		}
		if want := []string{"[sales]", "[customers sales]"}; !slices.Equal(b, want) {
			t.Errorf("catalog records of site b: %q, want %q", b, want)
		}
	})
}

// TestCatalogSiteDownAtStart starts the coordinator while site d is down:
// without d's catalog the coordinator asks d about every table, so a query
// fails naming d; once d is up, its catalog is fetched (on the next query
// or refresh) and d takes part only in the tables it holds.
func TestCatalogSiteDownAtStart(t *testing.T) {
	fx := sharedFixture(t)
	logs := &syncBuffer{}
	logger := slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("federation logs:\n%s", logs.String())
		}
	})
	bundle := defaultBundleWith(t, 1)
	siteA := startCatalogSite(t, "a", "127.0.0.1:0", bundle, []enginebridge.TableSource{
		{Name: "sales", Format: "parquet", Path: fx.files["a"].Sales},
		{Name: "customers", Format: "parquet", Path: fx.files["a"].Customers},
	}, nil, logger)
	lis, err := net.Listen("tcp", "127.0.0.1:0") // a free port for d, not yet served
	if err != nil {
		t.Fatal(err)
	}
	addrD := lis.Addr().String()
	lis.Close()
	idA, _ := certs.SiteID(td, "a")
	idD, _ := certs.SiteID(td, "d")
	fed := &federation{t: t, audits: map[string]string{}, logs: logs, catalogRefresh: time.Hour} // only on demand here
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	t.Cleanup(func() { cancel(); wg.Wait() })
	fed.startCoordinator(ctx, &wg, t.TempDir(), loadSource(t, filepath.Join(fx.dir, "certs"), certs.CoordinatorName),
		[]coordinator.Site{{Name: "a", Addr: siteA.addr, ID: idA}, {Name: "d", Addr: addrD, ID: idD}}, 0, logger)

	got := fed.query("SELECT COUNT(*) AS n FROM customers")
	if got.Status == 200 || got.Error == nil || got.Error.Site != "d" {
		t.Fatalf("with d down: HTTP %d %+v, want a failure naming site d", got.Status, got.Error)
	}
	startCatalogSite(t, "d", addrD, bundle, []enginebridge.TableSource{{Name: "sales", Format: "parquet", Path: fx.files["d"].Sales}}, nil, logger)
	start := time.Now()
	for time.Since(start) < 20*time.Second {
		got = fed.query("SELECT COUNT(*) AS n FROM customers")
		if got.Status == 200 {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	if want := map[string]string{"a": "ok", "d": "no_table"}; got.Status != 200 || !maps.Equal(siteStatuses(got), want) {
		t.Fatalf("after d came up: HTTP %d sites %v %+v, want %v", got.Status, siteStatuses(got), got.Error, want)
	}
	t.Logf("site d's catalog fetched %s after it came up", time.Since(start).Round(time.Millisecond))
	for range 100 { // d's query connection may still be waiting out a reconnect backoff
		if got = fed.query("SELECT COUNT(*) AS n FROM sales"); got.Status == 200 {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	if want := map[string]string{"a": "ok", "d": "ok"}; got.Status != 200 || !maps.Equal(siteStatuses(got), want) {
		t.Errorf("sales: HTTP %d sites %v %+v, want %v", got.Status, siteStatuses(got), got.Error, want)
	}
}
