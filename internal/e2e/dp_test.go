package e2e

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/fedmesh/fedmesh/certs"
	"github.com/fedmesh/fedmesh/flight"
	"github.com/fedmesh/fedmesh/internal/config"
	"github.com/fedmesh/fedmesh/internal/coordinator"
	"github.com/fedmesh/fedmesh/internal/credential"
	"github.com/fedmesh/fedmesh/planner"
	"github.com/fedmesh/fedmesh/privacy/dp"
)

// dpBudgetRho is the test bundle's total budget per analyst and site; at
// the default ε = 1 (δ = 1e-6, half of it for the conversion) a query
// costs dp.RhoFor(1, 5e-7) ≈ 0.024, so about a dozen queries fit.
const dpBudgetRho = 0.3

// dpBundle copies the default bundle and protects customers with
// differential privacy: one row per customer, so bounding loses nothing,
// and a small budget. The exact-mode isolation lists are emptied, so that
// differential privacy alone stands between the attacks and the data.
func dpBundle(t *testing.T) string {
	t.Helper()
	dst := defaultBundleWith(t, 0)
	p := filepath.Join(dst, "data.json")
	var data map[string]map[string]any
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, &data); err != nil {
		t.Fatal(err)
	}
	f := data["fedmesh"]
	for _, k := range []string{"denied_columns", "identifying_columns", "quasi_identifiers", "sensitive_columns"} {
		f[k] = []string{}
	}
	f["protected_tables"] = map[string]any{"customers": map[string]any{
		"unit": "customer_id", "max_groups_per_unit": 1, "max_rows_per_group": 1,
		"bounds":          map[string]any{"birth_year": []float64{1930, 2010}, "amount": []float64{0, 1000}},
		"default_epsilon": 1.0, "max_epsilon": 2.0, "delta": 1e-6,
		"budget": map[string]any{"rho_total": dpBudgetRho},
	}}
	b, _ = json.Marshal(data)
	if err := os.WriteFile(p, b, 0o600); err != nil {
		t.Fatal(err)
	}
	return dst
}

// dpFederation is three site-agent processes (so they can be killed and
// restarted) and two coordinators sharing them, all verifying analysts'
// credentials from one dev issuer.
type dpFederation struct {
	t        *testing.T
	work     string
	bin      string
	issuer   *credential.Issuer
	coords   []*federation
	procs    map[string]*exec.Cmd
	cfgPaths map[string]string
	stderr   map[string]*os.File
	sites    []coordinator.Site
	certDir  string
}

func startDPFederation(t *testing.T) *dpFederation {
	t.Helper()
	fx := sharedFixture(t)
	f := &dpFederation{t: t, work: t.TempDir(), procs: map[string]*exec.Cmd{}, cfgPaths: map[string]string{},
		stderr: map[string]*os.File{}, certDir: filepath.Join(fx.dir, "certs")}
	f.bin = filepath.Join(f.work, "site-agent")
	build := exec.Command("go", "build", "-o", f.bin, "github.com/fedmesh/fedmesh/cmd/site-agent")
	build.Env = append(os.Environ(), "GOTOOLCHAIN=local")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("build site-agent: %v\n%s", err, out)
	}
	keyPath, jwksPath, err := credential.WriteDevIssuer(f.work, false)
	if err != nil {
		t.Fatal(err)
	}
	if f.issuer, err = credential.LoadIssuer(credential.DevIssuerName, keyPath); err != nil {
		t.Fatal(err)
	}
	bundle := dpBundle(t)
	notRequired := false
	for _, s := range sites3 {
		addr := freeAddr(t)
		cert, key := certs.Paths(f.certDir, certs.SiteFileName(s))
		cfg := config.Agent{
			Site:                s,
			Listen:              addr,
			Identity:            config.Identity{Source: "files", Cert: cert, Key: key, Bundle: filepath.Join(f.certDir, certs.BundleFile)},
			AllowedCoordinators: []string{certs.CoordinatorID(td).String()},
			Engine:              config.Engine{Threads: 1},
			Tables: []config.Table{
				{Name: "sales", Format: "parquet", Path: fx.files[s].Sales},
				{Name: "customers", Format: "parquet", Path: fx.files[s].Customers},
			},
			Policy: config.Policy{Bundle: bundle},
			Audit:  config.Audit{Path: filepath.Join(f.work, "site-"+s+".log")},
			Log:    config.Log{Level: "debug"},
			AnalystCredentials: &config.AnalystCredentials{Issuer: credential.DevIssuerName, Audience: "fedmesh",
				JWKSFile: jwksPath, Required: &notRequired},
			StateDir: filepath.Join(f.work, "state-"+s),
		}
		if err := os.MkdirAll(cfg.StateDir, 0o700); err != nil {
			t.Fatal(err)
		}
		f.cfgPaths[s] = filepath.Join(f.work, "site-"+s+".yaml")
		b, err := yaml.Marshal(cfg)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(f.cfgPaths[s], b, 0o600); err != nil {
			t.Fatal(err)
		}
		f.startSite(s)
		id, _ := certs.SiteID(td, s)
		f.sites = append(f.sites, coordinator.Site{Name: s, Addr: addr, ID: id})
	}
	for _, s := range f.sites {
		waitTCP(t, s.Addr)
	}
	verifier, err := credential.New(credential.Config{Issuer: credential.DevIssuerName, Audience: "fedmesh", JWKSFile: jwksPath})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	t.Cleanup(func() { cancel(); wg.Wait() })
	for i := range 2 {
		logs := &syncBuffer{}
		fed := &federation{t: t, audits: map[string]string{}, logs: logs, analystVerifier: verifier}
		dir := filepath.Join(f.work, fmt.Sprintf("coordinator-%d", i))
		if err := os.MkdirAll(dir, 0o700); err != nil {
			t.Fatal(err)
		}
		fed.startCoordinator(ctx, &wg, dir, loadSource(t, f.certDir, certs.CoordinatorName), f.sites, 60*time.Second, slog.New(slog.NewTextHandler(logs, nil)))
		f.coords = append(f.coords, fed)
	}
	return f
}

func (f *dpFederation) startSite(s string) {
	t := f.t
	stderr, err := os.OpenFile(filepath.Join(f.work, "site-"+s+".stderr"), os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o600)
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(f.bin, "-config", f.cfgPaths[s])
	cmd.Stderr = stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	f.procs[s], f.stderr[s] = cmd, stderr
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		stderr.Close()
		if t.Failed() {
			b, _ := os.ReadFile(stderr.Name())
			t.Logf("site %s stderr (tail):\n%s", s, tail(string(b), 3000))
		}
	})
}

// restartSite stops site s with sig (SIGKILL: no chance to flush
// anything) and starts it again on the same files.
func (f *dpFederation) restartSite(s string, sig syscall.Signal) {
	f.t.Helper()
	cmd := f.procs[s]
	if err := cmd.Process.Signal(sig); err != nil {
		f.t.Fatal(err)
	}
	_ = cmd.Wait()
	f.startSite(s)
	for _, site := range f.sites {
		if site.Name == s {
			waitTCP(f.t, site.Addr)
		}
	}
}

func tail(s string, n int) string {
	if len(s) > n {
		return s[len(s)-n:]
	}
	return s
}

// dpResponse is an answer with its privacy section.
type dpResponse struct {
	response
	Privacy *coordinator.PrivacyAnswer `json:"privacy"`
}

func (f *dpFederation) query(coord int, token, sqlText string) dpResponse {
	f.t.Helper()
	var r dpResponse
	r.Status = postJSON(f.t, f.coords[coord].url+"/v1/query", token, map[string]any{"sql": sqlText, "purpose": "dp e2e test"}, &r)
	return r
}

func (f *dpFederation) token(sub string) string {
	f.t.Helper()
	tok, err := f.issuer.Mint(sub, []string{"analyst"}, "fedmesh", 30*time.Minute)
	if err != nil {
		f.t.Fatal(err)
	}
	return tok
}

// exactOverUnion runs sqlText on DuckDB over the three sites' customers.
func exactOverUnion(t *testing.T, sqlText string) float64 {
	t.Helper()
	fx := sharedFixture(t)
	db, err := sql.Open("duckdb", "")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var parts []string
	for _, s := range sites3 {
		parts = append(parts, fmt.Sprintf("SELECT * FROM read_parquet('%s')", fx.files[s].Customers))
	}
	if _, err := db.Exec("CREATE VIEW customers AS " + strings.Join(parts, " UNION ALL ")); err != nil {
		t.Fatal(err)
	}
	var v float64
	if err := db.QueryRow(sqlText).Scan(&v); err != nil {
		t.Fatalf("%s: %v", sqlText, err)
	}
	return v
}

func num(t *testing.T, v any) float64 {
	t.Helper()
	n, ok := v.(json.Number)
	if !ok {
		t.Fatalf("value %v (%T) is not a number", v, v)
	}
	f, err := n.Float64()
	if err != nil {
		t.Fatal(err)
	}
	return f
}

func reasons(r dpResponse) string {
	if r.Error == nil {
		return ""
	}
	return r.Error.Message + " | " + strings.Join(r.Error.Reasons, " | ")
}

// TestDifferentialPrivacyAcrossSites is the attack suite on a table
// under differential privacy at three sites: isolating one person,
// MIN/MAX, a quasi-identifier join, differencing until the budget is spent,
// a coordinator forging or replaying an analyst, two coordinators sharing
// the sites, and the budget surviving a restart and a SIGKILL.
func TestDifferentialPrivacyAcrossSites(t *testing.T) {
	if testing.Short() {
		t.Skip("runs site-agent processes")
	}
	f := startDPFederation(t)
	alice := f.token("alice")
	perQuery, err := dp.RhoFor(1, 5e-7)
	if err != nil {
		t.Fatal(err)
	}
	queriesInBudget := int(math.Floor(dpBudgetRho / perQuery))
	used := 0
	var withinBoundsQuery, overBoundsQuery string

	t.Run("a static token is not enough for a protected table", func(t *testing.T) {
		r := f.query(0, f.coords[0].token, "SELECT COUNT(*) FROM customers")
		if r.Status != http.StatusForbidden || !strings.Contains(reasons(r), "fedmesh.dp_credential") {
			t.Fatalf("HTTP %d %s, want 403 fedmesh.dp_credential", r.Status, reasons(r))
		}
	})

	t.Run("MIN and MAX are refused with the alternative", func(t *testing.T) {
		r := f.query(0, alice, "SELECT MAX(birth_year) FROM customers")
		if r.Status != http.StatusForbidden || !strings.Contains(reasons(r), "percentile_cont") {
			t.Fatalf("HTTP %d %s, want a refusal naming percentile_cont", r.Status, reasons(r))
		}
	})

	t.Run("an expression singling out one person inside SUM is refused", func(t *testing.T) {
		r := f.query(0, alice, "SELECT SUM(CASE WHEN customer_id = 7 THEN birth_year ELSE 0 END) FROM customers")
		if r.Status != http.StatusForbidden || !strings.Contains(reasons(r), "fedmesh.dp_bounds") {
			t.Fatalf("HTTP %d %s, want fedmesh.dp_bounds", r.Status, reasons(r))
		}
	})

	t.Run("a filter singling out one person gets noise, not the value", func(t *testing.T) {
		const q = "SELECT SUM(birth_year) AS total FROM customers WHERE customer_id = 7"
		r := f.query(0, alice, q)
		used++
		if r.Status != http.StatusOK || r.Privacy == nil {
			t.Fatalf("HTTP %d %s; privacy %v", r.Status, reasons(r), r.Privacy)
		}
		exact := exactOverUnion(t, "SELECT SUM(birth_year) FROM customers WHERE customer_id = 7")
		got := num(t, r.Rows[0][0])
		sd := r.Privacy.Columns[0].NoiseSD
		if sd == nil || *sd < 1000 {
			t.Fatalf("noise sd %v: one person's birth year (clamped to 2010) would show through", sd)
		}
		if got == exact {
			t.Errorf("answer %v equals the exact value", got)
		}
		if math.Abs(got-exact) > 8**sd {
			t.Errorf("answer %v is %v sd from the exact %v: the noise is not what is reported", got, math.Abs(got-exact)/(*sd), exact)
		}
		if len(r.Privacy.Sites) != 3 || r.Privacy.Sites[0].Epsilon != 1 {
			t.Errorf("charges %+v, want three sites at epsilon 1", r.Privacy.Sites)
		}
	})

	t.Run("grouped counts and averages are accurate within their intervals", func(t *testing.T) {
		r := f.query(1, alice, "SELECT segment, COUNT(*) AS n, AVG(birth_year) AS avg_year FROM customers GROUP BY segment ORDER BY segment")
		used++
		withinBoundsQuery = r.QueryID
		if r.Status != http.StatusOK || r.Privacy == nil {
			t.Fatalf("HTTP %d %s", r.Status, reasons(r))
		}
		if len(r.Rows) < 2 {
			t.Fatalf("%d groups released, want the common segments", len(r.Rows))
		}
		var nCol, avgCol int = -1, -1
		for i, c := range r.Privacy.Columns {
			switch c.Name {
			case "n":
				nCol = i
			case "avg_year":
				avgCol = i
			}
		}
		if nCol < 0 || avgCol < 0 || r.Privacy.Columns[nCol].NoiseSD == nil || len(r.Privacy.Columns[avgCol].Intervals) != len(r.Rows) {
			t.Fatalf("privacy columns %+v: want a noise sd for n and per-row intervals for avg_year", r.Privacy.Columns)
		}
		sd := *r.Privacy.Columns[nCol].NoiseSD
		for i, row := range r.Rows {
			seg := row[0].(string)
			exactN := exactOverUnion(t, fmt.Sprintf("SELECT COUNT(*) FROM customers WHERE segment = '%s'", seg))
			if got := num(t, row[1]); math.Abs(got-exactN) > 8*sd {
				t.Errorf("segment %s: n = %v, exact %v, sd %v", seg, got, exactN, sd)
			}
			// Clamped as the sites clamp (NULL stays NULL: DuckDB's GREATEST
			// would turn it into the bound).
			exactAvg := exactOverUnion(t, fmt.Sprintf("SELECT AVG(CASE WHEN birth_year < 1930 THEN 1930 WHEN birth_year > 2010 THEN 2010 ELSE birth_year END) FROM customers WHERE segment = '%s'", seg))
			iv := r.Privacy.Columns[avgCol].Intervals[i]
			if iv == nil {
				t.Fatalf("segment %s: no interval for a released average", seg)
			}
			width := iv[1] - iv[0]
			if exactAvg < iv[0]-width || exactAvg > iv[1]+width { // beyond about 4σ
				t.Errorf("segment %s: exact average %v far outside the reported interval %v", seg, exactAvg, iv)
			}
		}
	})

	t.Run("a quasi-identifier join gets noise", func(t *testing.T) {
		r := f.query(0, alice, `SELECT SUM(sales.amount) AS spent FROM sales JOIN customers ON sales.customer_id = customers.customer_id
			WHERE customers.segment = 'public_sector' AND customers.country IN ('IS', 'NO')`)
		used++
		overBoundsQuery = r.QueryID
		if r.Status != http.StatusOK || r.Privacy == nil || r.Privacy.Columns[0].NoiseSD == nil || *r.Privacy.Columns[0].NoiseSD < 100 {
			t.Fatalf("HTTP %d %s: want a noisy answer", r.Status, reasons(r))
		}
	})

	t.Run("rows are sampled only when a person exceeds the bounds", func(t *testing.T) {
		// One row per customer: nobody exceeds the bounds, and the site runs
		// the query without the random-order sorts. Customers' sales in a
		// join: many rows per person, so the site samples.
		sampled := map[string]any{}
		for _, rec := range readRecords(t, filepath.Join(f.work, "site-a.log")) {
			if v, ok := rec.Details["dp_sampled"]; ok && rec.Event == "export" {
				sampled[rec.QueryID] = v
			}
		}
		if got := sampled[withinBoundsQuery]; got != false {
			t.Errorf("within the bounds: dp_sampled = %v, want false", got)
		}
		if got := sampled[overBoundsQuery]; got != true {
			t.Errorf("over the bounds: dp_sampled = %v, want true", got)
		}
	})

	t.Run("distinct people are counted with noise", func(t *testing.T) {
		r := f.query(1, alice, "SELECT COUNT(DISTINCT customer_id) AS people FROM customers")
		used++
		if r.Status != http.StatusOK || r.Privacy == nil || r.Privacy.Columns[0].NoiseSD == nil {
			t.Fatalf("HTTP %d %s: want a noisy distinct count", r.Status, reasons(r))
		}
		exact := exactOverUnion(t, "SELECT COUNT(*) FROM customers") // ids repeat across sites: each site's people
		got, sd := num(t, r.Rows[0][0]), *r.Privacy.Columns[0].NoiseSD
		// The HyperLogLog merge adds its own error (±1.62% at 95%).
		if math.Abs(got-exact) > 8*sd+0.03*exact {
			t.Errorf("distinct people %v, want %v within the noise (sd %v) and the sketch's error", got, exact, sd)
		}
	})

	t.Run("a percentile comes from a noisy histogram", func(t *testing.T) {
		r := f.query(0, alice, "SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY birth_year) AS median FROM customers")
		used++
		if r.Status != http.StatusOK || r.Privacy == nil {
			t.Fatalf("HTTP %d %s: want a noisy median", r.Status, reasons(r))
		}
		exact := exactOverUnion(t, "SELECT quantile_cont(birth_year, 0.5) FROM customers")
		// 32 bins of [1930, 2010] are 2.5 years wide, and the quantile
		// sketch the bins are merged in is accurate to 1% of the value.
		if got := num(t, r.Rows[0][0]); math.Abs(got-exact) > 0.01*math.Abs(exact)+2.5 {
			t.Errorf("median %v, exact %v: beyond a bin and the sketch's 1%%", got, exact)
		}
	})

	t.Run("a coordinator cannot forge or replay an analyst", func(t *testing.T) {
		client, err := flight.NewClient([]flight.Target{{Site: "a", Addr: f.sites[0].Addr,
			TLS: certs.ClientTLS(loadSource(t, f.certDir, certs.CoordinatorName), f.sites[0].ID)}}, nil)
		if err != nil {
			t.Fatal(err)
		}
		defer client.Close()
		plan := func(qid, analyst, cred string) map[string]*planner.SubPlan {
			return map[string]*planner.SubPlan{"a": {
				Version: planner.PlanVersion, QueryID: qid, Analyst: analyst, Roles: []string{"admin"}, Site: "a",
				Kind: planner.KindAggregate, Table: "customers", Credential: cred, Deadline: time.Now().Add(time.Minute),
				Aggs:        []planner.OutputColumn{{Name: "a0", Agg: &planner.PartialAgg{Func: planner.AggCountStar}}},
				CountColumn: "a0",
			}}
		}
		other, err := credential.NewIssuer(credential.DevIssuerName)
		if err != nil {
			t.Fatal(err)
		}
		forged, _ := other.Mint("alice", []string{"admin"}, "fedmesh", time.Minute)
		mallory := f.token("mallory")
		cases := []struct {
			name, analyst, cred, want string
		}{
			{"no credential, empty analyst, role admin", "", "", "fedmesh.dp_credential"},
			{"credential signed by another key", "alice", forged, "fedmesh.credential"},
			{"someone else's credential under alice's name", "alice", mallory, "fedmesh.credential"},
		}
		for i, c := range cases {
			_, err := client.FanOut(context.Background(), plan(fmt.Sprintf("forge-%d", i), c.analyst, c.cred))
			var se *flight.SiteError
			if !errors.As(err, &se) || !se.Denied || !strings.Contains(strings.Join(se.Reasons, " "), c.want) {
				t.Errorf("%s: err = %v, want a denial by %s", c.name, err, c.want)
			}
		}
		// A genuine ticket is answered once; the same ticket again is refused.
		p := plan("replay-1", "alice", alice)
		res, err := client.FanOut(context.Background(), p)
		if err != nil {
			t.Fatalf("genuine ticket: %v", err)
		}
		for _, r := range res {
			r.Release()
		}
		used++ // at site a only, but that is where the budget runs out first
		_, err = client.FanOut(context.Background(), p)
		var se *flight.SiteError
		if !errors.As(err, &se) || !se.Denied || !strings.Contains(strings.Join(se.Reasons, " "), "fedmesh.replay") {
			t.Errorf("replayed ticket: err = %v, want a denial by fedmesh.replay", err)
		}
	})

	t.Run("differencing until the budget is spent cannot average the noise away", func(t *testing.T) {
		const all = "SELECT SUM(birth_year) AS s FROM customers"
		const but = "SELECT SUM(birth_year) AS s FROM customers WHERE customer_id <> 7"
		var diffs []float64
		var sd float64
		answered := used
		var refusal dpResponse
		for i := 0; i < 2*queriesInBudget+4; i++ {
			coord := i % 2 // the two coordinators share the sites' budgets
			r1 := f.query(coord, alice, all)
			if r1.Status != http.StatusOK {
				refusal = r1
				break
			}
			answered++
			r2 := f.query(1-coord, alice, but)
			if r2.Status != http.StatusOK {
				refusal = r2
				break
			}
			answered++
			diffs = append(diffs, num(t, r1.Rows[0][0])-num(t, r2.Rows[0][0]))
			sd = *r1.Privacy.Columns[0].NoiseSD
		}
		if refusal.Status != http.StatusForbidden || !strings.Contains(reasons(refusal), "fedmesh.dp_budget") || !strings.Contains(reasons(refusal), "total budget") {
			t.Fatalf("the loop ended with HTTP %d %s, want a refusal naming the spent total budget", refusal.Status, reasons(refusal))
		}
		if answered > queriesInBudget {
			t.Errorf("%d queries answered at some site, but the budget holds %d: the two coordinators together overspent it", answered, queriesInBudget)
		}
		if len(diffs) == 0 {
			t.Fatal("no differencing pair was answered")
		}
		// The average of n differences has noise sd √2·sd/√n: the site must
		// refuse while that is still above a tenth of the clamp bound.
		se := math.Sqrt2 * sd / math.Sqrt(float64(len(diffs)))
		if se <= 0.1*2010 {
			t.Errorf("after %d pairs the averaged difference has noise sd %v, within a tenth of the bound", len(diffs), se)
		}
		t.Logf("%d pairs answered before the budget ran out; their average's noise sd is %.0f (bound 2010)", len(diffs), se)
	})

	t.Run("the budget survives a restart and a SIGKILL", func(t *testing.T) {
		// The loop above stopped at the first site to refuse; a site whose
		// debit the coordinator cancelled in that last query may have one
		// query left. Spend each site's last queries (a bounded few) first.
		for _, site := range []string{"a", "b"} {
			spent := false
			for range 3 {
				r := f.query(0, alice, "SELECT COUNT(*) FROM customers WHERE _site = '"+site+"'")
				if r.Status == http.StatusForbidden && strings.Contains(reasons(r), "fedmesh.dp_budget") {
					spent = true
					break
				}
			}
			if !spent {
				t.Fatalf("site %s still answers after three more queries: its budget is not spent", site)
			}
		}
		f.restartSite("a", syscall.SIGKILL)
		f.restartSite("b", syscall.SIGTERM)
		for _, site := range []string{"a", "b"} {
			r := f.query(0, alice, "SELECT COUNT(*) FROM customers WHERE _site = '"+site+"'")
			if r.Status != http.StatusForbidden || !strings.Contains(reasons(r), "fedmesh.dp_budget") {
				t.Errorf("site %s after restart: HTTP %d %s, want its spent budget to refuse", site, r.Status, reasons(r))
			}
		}
		// Another analyst still has a budget.
		if r := f.query(0, f.token("bob"), "SELECT COUNT(*) FROM customers"); r.Status != http.StatusOK {
			t.Errorf("bob: HTTP %d %s", r.Status, reasons(r))
		}
	})
}
