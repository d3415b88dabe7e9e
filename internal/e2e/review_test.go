package e2e

import (
	"bytes"
	"context"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/spiffe/go-spiffe/v2/spiffeid"

	"github.com/fedmesh/fedmesh/audit"
	"github.com/fedmesh/fedmesh/certs"
	"github.com/fedmesh/fedmesh/enginebridge"
	"github.com/fedmesh/fedmesh/internal/agent"
	"github.com/fedmesh/fedmesh/internal/coordinator"
	"github.com/fedmesh/fedmesh/internal/review"
	"github.com/fedmesh/fedmesh/internal/testenv"
	"github.com/fedmesh/fedmesh/policy"
)

// auditFederation is a federation whose components sign their audit heads,
// whose coordinator shows every log on /audit/, with two analysts and an
// auditor.
type auditFederation struct {
	*federation
	bobToken, auditorToken string
	keys                   audit.Keyring
	keyFiles               []string
}

func startAuditFederation(t *testing.T) *auditFederation {
	t.Helper()
	fx := sharedFixture(t)
	work := t.TempDir()
	logs := &syncBuffer{}
	logger := slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelInfo}))
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	af := &auditFederation{federation: &federation{t: t, audits: map[string]string{}, logs: logs}, keys: audit.Keyring{}}
	t.Cleanup(func() {
		cancel()
		wg.Wait()
		if t.Failed() {
			t.Logf("federation logs:\n%s", logs.String())
		}
	})
	signer := func(name string) *audit.Signer {
		p := filepath.Join(work, name+"-audit-key.pem")
		if _, err := audit.GenerateKey(p); err != nil {
			t.Fatal(err)
		}
		s, err := audit.LoadSigner(p)
		if err != nil {
			t.Fatal(err)
		}
		af.keys.Add(s.Public())
		af.keyFiles = append(af.keyFiles, audit.PublicKeyPath(p))
		return s
	}

	bundle := defaultBundleWith(t, 0)
	certDir := filepath.Join(fx.dir, "certs")
	var sites []coordinator.Site
	var siteLogs []string
	for _, s := range sites3 {
		lis, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		tables := []enginebridge.TableSource{
			{Name: "sales", Format: "parquet", Path: fx.files[s].Sales},
			{Name: "customers", Format: "parquet", Path: fx.files[s].Customers},
		}
		auditPath := filepath.Join(work, "site-"+s+".log")
		af.audits["site-"+s] = auditPath
		siteLogs = append(siteLogs, auditPath)
		a, err := agent.New(agent.Config{
			Site:                s,
			Listener:            lis,
			Identity:            loadSource(t, certDir, certs.SiteFileName(s)),
			AllowedCoordinators: []spiffeid.ID{certs.CoordinatorID(td)},
			OpenEngine: func(ctx context.Context) (enginebridge.Engine, error) {
				return enginebridge.OpenDuckDB(ctx, enginebridge.DuckDBConfig{Tables: tables, Threads: 1}, logger)
			},
			LoadPolicy:   func(ctx context.Context) (*policy.Policy, error) { return policy.Load(ctx, bundle, logger) },
			Tables:       []string{"sales", "customers"},
			AuditPath:    auditPath,
			AuditOptions: audit.Options{Signer: signer("site-" + s), SignEvery: 5},
			QueryTimeout: 30 * time.Second,
			Logger:       logger,
		})
		if err != nil {
			t.Fatal(err)
		}
		site := s
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := a.Run(ctx); err != nil && ctx.Err() == nil {
				t.Errorf("site %s: %v", site, err)
			}
		}()
		id, _ := certs.SiteID(td, s)
		sites = append(sites, coordinator.Site{Name: s, Addr: lis.Addr().String(), ID: id})
	}

	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	af.token, af.bobToken, af.auditorToken = "alice-token", "bob-token", "auditor-token"
	af.audits["coordinator"] = filepath.Join(work, "coordinator.log")
	c, err := coordinator.New(coordinator.Config{
		Listener: lis,
		Identity: loadSource(t, certDir, certs.CoordinatorName),
		Sites:    sites,
		Analysts: []coordinator.Analyst{
			{ID: "alice", Roles: []string{"analyst"}, TokenSHA256: coordinator.TokenHash(af.token)},
			{ID: "bob", Roles: []string{"analyst"}, TokenSHA256: coordinator.TokenHash(af.bobToken)},
			{ID: "audrey", Roles: []string{review.RoleAuditor}, TokenSHA256: coordinator.TokenHash(af.auditorToken)},
		},
		AuditPath:    af.audits["coordinator"],
		AuditOptions: audit.Options{Signer: signer("coordinator")},
		ReviewLogs:   siteLogs,
		ReviewKeys:   af.keys,
		QueryTimeout: 30 * time.Second,
		Logger:       logger,
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
	af.url = "http://" + lis.Addr().String()
	waitHTTP(t, af.url+"/healthz")
	return af
}

func (af *auditFederation) as(token string) *federation {
	f := *af.federation
	f.token = token
	return &f
}

// runAuditQueries runs two allowed queries as alice, one as bob and one
// that the sites deny, as bob.
func runAuditQueries(t *testing.T, af *auditFederation) {
	t.Helper()
	for _, q := range []struct {
		who    *federation
		sql    string
		status int
	}{
		{af.as(af.token), "SELECT region, COUNT(*) FROM sales GROUP BY region", 200},
		{af.as(af.token), "SELECT SUM(amount) FROM sales", 200},
		{af.as(af.bobToken), "SELECT region, AVG(amount) FROM sales GROUP BY region", 200},
		{af.as(af.bobToken), "SELECT customer_id, COUNT(*) FROM sales GROUP BY customer_id", 403},
	} {
		if got := q.who.query(q.sql); got.Status != q.status {
			t.Fatalf("%s: HTTP %d %+v, want %d", q.sql, got.Status, got.Error, q.status)
		}
	}
}

func TestFederationAuditHeadsCrossCheck(t *testing.T) {
	af := startAuditFederation(t)
	runAuditQueries(t, af)
	paths := []string{af.audits["coordinator"], af.audits["site-a"], af.audits["site-b"], af.audits["site-c"]}
	fr, err := audit.VerifyFederation(paths, af.keys)
	if err != nil {
		t.Fatal(err)
	}
	var text bytes.Buffer
	_ = fr.WriteText(&text)
	if !fr.OK() {
		t.Fatalf("intact federation fails verification:\n%s", text.String())
	}
	// Each site vouched for its export in the three allowed queries, and
	// the site that refused the fourth for its denial; each log also holds
	// the heads it wrote itself (every 5 records, and on close).
	external := 0
	for _, r := range fr.Logs {
		if strings.HasPrefix(r.Path, "site ") {
			external += r.Heads - len(inLogHeads(t, r))
		}
	}
	if external != 3*3+1 {
		t.Errorf("%d site heads kept by the coordinator were checked, want 10\n%s", external, text.String())
	}

	// Site b quietly drops its newest records: its own chain stays intact,
	// the coordinator's record of it does not.
	lines := bytes.SplitAfter(mustRead(t, af.audits["site-b"]), []byte("\n"))
	if err := os.WriteFile(af.audits["site-b"], bytes.Join(lines[:2], nil), 0o600); err != nil {
		t.Fatal(err)
	}
	fr, err = audit.VerifyFederation(paths, af.keys)
	if err != nil {
		t.Fatal(err)
	}
	text.Reset()
	_ = fr.WriteText(&text)
	if fr.OK() || !strings.Contains(text.String(), "truncated") || !strings.Contains(text.String(), "site-b.log") {
		t.Errorf("truncated site log not reported:\n%s", text.String())
	}
}

// inLogHeads returns the signed_head records of the log a report covers.
func inLogHeads(t *testing.T, r *audit.Report) []audit.Located {
	t.Helper()
	_, files, _ := strings.Cut(r.Path, " (")
	recs, err := audit.ReadRecords(strings.Split(strings.TrimSuffix(files, ")"), " + "), func(l *audit.Located) bool { return l.Event == audit.EventSignedHead })
	if err != nil {
		t.Fatal(err)
	}
	return recs
}

func mustRead(t *testing.T, p string) []byte {
	t.Helper()
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// chromium returns the browser scripts/ci/30-chromium.sh installs
// (FEDMESH_CHROMIUM, else /usr/bin/chromium); without it the test is
// skipped under -short and fails otherwise (testenv.Missing).
func chromium(t *testing.T) string {
	t.Helper()
	p, ok := testenv.Lookup("chromium", "FEDMESH_CHROMIUM")
	if !ok {
		p = "/usr/bin/chromium"
	}
	if _, err := os.Stat(p); err != nil {
		testenv.Missing(t, "chromium", "chromium not found at "+p)
	}
	return p
}

func TestReviewPageInBrowser(t *testing.T) {
	chromiumPath := chromium(t)
	af := startAuditFederation(t)
	runAuditQueries(t, af)

	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(chromiumPath),
		chromedp.Flag("headless", true),
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.Flag("disable-quic", true),
		chromedp.NoFirstRun,
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(1400, 1000),
	}
	actx, cancelA := chromedp.NewExecAllocator(context.Background(), opts...)
	defer cancelA()
	// The first action starts the browser, which lives as long as the
	// context of that call: so no timeout here, the test's own bounds it.
	ctx, cancel := chromedp.NewContext(actx, chromedp.WithLogf(t.Logf))
	defer cancel()
	step := func(what string, actions ...chromedp.Action[chromedp.Void]) {
		t.Helper()
		if err := chromedp.Do(ctx, actions...); err != nil {
			t.Fatalf("browser: %s: %v", what, err)
		}
	}
	text := func(sel string) string {
		t.Helper()
		s, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(sel)))
		if err != nil {
			t.Fatalf("browser: text of %s: %v", sel, err)
		}
		return s
	}

	// The token is swapped for a session cookie and dropped from the URL.
	step("open /audit/", chromedp.Navigate(af.url+"/audit/?token="+af.auditorToken), chromedp.WaitVisible(chromedp.CSS("#queries")))
	all := text("#queries tbody")
	step("filter by analyst bob",
		chromedp.SetValue(chromedp.CSS("#f-analyst"), "bob"),
		chromedp.Click(chromedp.CSS("#f-apply")),
		chromedp.WaitVisible(chromedp.CSS(`#queries[data-analyst="bob"]`)))
	filtered := text("#queries tbody")
	// Newest first: bob's denied query.
	step("open a query", chromedp.Click(chromedp.CSS("#queries tr.query a")), chromedp.WaitVisible(chromedp.CSS("#sites")))
	sites := text("#sites")
	chains := text("#chains")
	shot, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		t.Fatalf("browser: screenshot: %v", err)
	}
	path := filepath.Join(t.TempDir(), "audit-review.png")
	if err := os.WriteFile(path, shot, 0o600); err != nil {
		t.Fatal(err)
	}
	t.Logf("screenshot of the query page: %s", path)

	if !strings.Contains(all, "alice") || !strings.Contains(all, "bob") {
		t.Errorf("timeline lacks an analyst:\n%s", all)
	}
	if strings.Contains(filtered, "alice") || strings.Count(filtered, "bob") < 2 {
		t.Errorf("filtered by analyst bob, got:\n%s", filtered)
	}
	if !strings.Contains(sites, "denied") || !strings.Contains(sites, "customer_id") || !strings.Contains(sites, "matches the site's log") {
		t.Errorf("query page does not show the site's denial and its reason:\n%s", sites)
	}
	if strings.Contains(chains, "problems") || !strings.Contains(chains, "intact") {
		t.Errorf("chain status:\n%s", chains)
	}
}
