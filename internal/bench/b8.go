package bench

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"math/big"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/fedmesh/fedmesh/internal/coordinator"
	"github.com/fedmesh/fedmesh/internal/credential"
	"github.com/fedmesh/fedmesh/planner"
	"github.com/fedmesh/fedmesh/planner/merge"
	"github.com/fedmesh/fedmesh/policy"
)

// B8 measures what differential privacy costs (issue 13): the relative
// error of DP answers against the exact federated answer, by ε and group
// size, and the time a DP query takes against the same exact query.

// b8Epsilons are the ε values of the accuracy table.
var b8Epsilons = []float64{0.1, 0.5, 1, 2}

// b8Sizes are the group sizes (units per group, over all sites) and the
// prefix of their group keys.
var b8Sizes = []struct {
	units  int
	prefix string
}{{100, "s100_"}, {1000, "s1k_"}, {10000, "s10k_"}}

// b8Queries are the accuracy queries: COUNT, SUM and AVG in one query
// (sharing ε), and COUNT and SUM alone (each a query with its own ε; a
// SUM query also carries the COUNT(*) groups are thresholded on).
var b8Queries = []struct {
	id, sql string
	aggs    []string // answer columns compared with the exact answer
}{
	{"together", `SELECT area, COUNT(*) AS n, SUM(amount) AS total, AVG(amount) AS mean FROM people GROUP BY area`, []string{"n", "total", "mean"}},
	{"count alone", `SELECT area, COUNT(*) AS n FROM people GROUP BY area`, []string{"n"}},
	{"sum alone", `SELECT area, SUM(amount) AS total FROM people GROUP BY area`, []string{"total"}},
}

// b8Bound is the people table's contribution bound: one row per person, so
// bounding loses nothing and the error is the noise (and thresholding).
var b8Bound = dpTable{unit: "person_id", maxGroups: 1, maxRows: 1, column: "amount", lo: 0, hi: 1000}

// b8OverheadBound is the B1 sales table's: a customer's rows in up to 8
// regions, up to 4 per region (B1's customers have about one row per site).
var b8OverheadBound = dpTable{unit: "customer_id", maxGroups: 8, maxRows: 4, column: "amount", lo: 0, hi: 1000}

// dpTable is a protected table's settings in the bench's DP bundle.
type dpTable struct {
	unit               string
	maxGroups, maxRows int
	column             string
	lo, hi             float64
}

func (d dpTable) String() string {
	return fmt.Sprintf("unit %s, max_groups_per_unit %d, max_rows_per_group %d, %s clamped to [%g, %g]", d.unit, d.maxGroups, d.maxRows, d.column, d.lo, d.hi)
}

func runB8(ctx context.Context, e *env, b *Bench) error {
	work, err := os.MkdirTemp(e.opts.WorkDir, "b8-run-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(work)
	fc, err := dpSetup(work)
	if err != nil {
		return err
	}
	files, units, err := b8Data(ctx, e, e.opts.B8Groups)
	if err != nil {
		return fmt.Errorf("generate data: %w", err)
	}
	b.Setup = []string{
		fmt.Sprintf("accuracy data: a people table (person_id, area, amount uniform in [0, 1000)), one row per person, %d rows over 3 sites (each person at one site, by hash); areas of %d × 100, %d × 1,000 and %d × 10,000 persons, each area's persons spread evenly over the sites", units, e.opts.B8Groups[0], e.opts.B8Groups[1], e.opts.B8Groups[2]),
		"policy: the default bundle with the people (or, for overhead, sales) table protected: default δ 1e-6 per query (half to the ε conversion, half to the release threshold), discrete Gaussian noise, zCDP, budget unlimited for the bench; each site adds its own noise and thresholds its own groups, so a federated answer holds three sites' noise",
		"contribution bounds (accuracy): " + b8Bound.String() + " — nothing is clipped, so the error is noise and thresholding only",
		fmt.Sprintf("each query runs %d times per ε through coordinator.QueryWith with the analyst's signed credential (verified at every site, budget debited durably before the engine runs), against the exact answer of the same query on the same files under the default policy; relative error |dp − exact| / exact per area and run; released = runs in which the area is in the answer at all (an area a site withheld under its threshold is answered from the other sites alone, which shows as error; an area no site released is a miss)", e.opts.B8Reps),
		"together = COUNT(*), SUM(amount), AVG(amount) in one query: the site splits ε over its noisy columns (count, sum, and count(amount) for the average); alone = one query per aggregate (SUM alone still carries the COUNT(*) groups are thresholded on)",
	}
	exact, err := b8Exact(ctx, e, work, files)
	if err != nil {
		return err
	}
	cfg, err := fc.with(work, b8Table("people", b8Bound), e)
	if err != nil {
		return err
	}
	dpFed, err := startFederationWith(ctx, e, filepath.Join(work, "dp"), b8Sites(files, e), cfg)
	if err != nil {
		return fmt.Errorf("dp federation: %w", err)
	}
	defer dpFed.stop()
	if err := b8Accuracy(ctx, e, b, dpFed, exact); err != nil {
		return err
	}
	if err := dpFed.stop(); err != nil {
		return err
	}
	return b8Overhead(ctx, e, b, work, fc)
}

// dpFed is what a DP federation needs beside its policy.
type dpFed struct {
	verifier   *credential.Verifier
	credential string
}

// dpSetup writes a dev credential issuer into work and mints the bench
// analyst's credential.
func dpSetup(work string) (dpFed, error) {
	dir := filepath.Join(work, "issuer")
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return dpFed{}, err
	}
	keyPath, jwksPath, err := credential.WriteDevIssuer(dir, true)
	if err != nil {
		return dpFed{}, fmt.Errorf("credential issuer: %w", err)
	}
	iss, err := credential.LoadIssuer(credential.DevIssuerName, keyPath)
	if err != nil {
		return dpFed{}, fmt.Errorf("credential issuer: %w", err)
	}
	v, err := credential.New(credential.Config{Issuer: credential.DevIssuerName, Audience: "fedmesh", JWKSFile: jwksPath})
	if err != nil {
		return dpFed{}, fmt.Errorf("credential verifier: %w", err)
	}
	tok, err := iss.Mint("bench", []string{"analyst"}, "fedmesh", time.Hour)
	if err != nil {
		return dpFed{}, fmt.Errorf("mint credential: %w", err)
	}
	return dpFed{verifier: v, credential: tok}, nil
}

// b8Table is a protected_tables entry.
func b8Table(name string, d dpTable) map[string]any {
	return map[string]any{name: map[string]any{
		"unit": d.unit, "max_groups_per_unit": d.maxGroups, "max_rows_per_group": d.maxRows,
		"bounds":          map[string]any{d.column: []float64{d.lo, d.hi}},
		"default_epsilon": 1.0, "max_epsilon": 2.0, "delta": 1e-6,
		"budget": map[string]any{"rho_total": 1e6},
	}}
}

// with returns the federation config whose sites run the default bundle
// with protected as its protected_tables.
func (d dpFed) with(work string, protected map[string]any, e *env) (fedConfig, error) {
	dir, err := dpBundle(work, protected)
	if err != nil {
		return fedConfig{}, err
	}
	return fedConfig{
		verifier: d.verifier, credential: d.credential,
		loadPolicy: func(ctx context.Context) (*policy.Policy, error) { return policy.Load(ctx, dir, e.log) },
	}, nil
}

// dpBundle writes a copy of policy/bundles/default (found above the working
// directory, as `make bench` runs from the module root) whose protected
// tables are protected, and whose isolation lists are empty so that
// differential privacy alone governs the protected tables.
func dpBundle(workDir string, protected map[string]any) (string, error) {
	src, err := findDefaultBundle()
	if err != nil {
		return "", err
	}
	raw, err := json.Marshal(protected)
	if err != nil {
		return "", err
	}
	dst := filepath.Join(workDir, fmt.Sprintf("dp-bundle-%x", fnv(raw)))
	if err := os.RemoveAll(dst); err != nil {
		return "", err
	}
	if err := os.CopyFS(dst, os.DirFS(src)); err != nil {
		return "", fmt.Errorf("copy default bundle: %w", err)
	}
	p := filepath.Join(dst, "data.json")
	var data map[string]map[string]any
	b, err := os.ReadFile(p)
	if err != nil {
		return "", err
	}
	if err := json.Unmarshal(b, &data); err != nil {
		return "", fmt.Errorf("default bundle data.json: %w", err)
	}
	f := data["fedmesh"]
	for _, k := range []string{"denied_columns", "identifying_columns", "quasi_identifiers", "sensitive_columns"} {
		f[k] = []string{}
	}
	f["protected_tables"] = protected
	b, _ = json.Marshal(data)
	return dst, os.WriteFile(p, b, 0o600)
}

func fnv(b []byte) uint64 {
	h := uint64(14695981039346656037)
	for _, c := range b {
		h = (h ^ uint64(c)) * 1099511628211
	}
	return h
}

// findDefaultBundle finds policy/bundles/default in the working directory
// or a parent.
func findDefaultBundle() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		p := filepath.Join(dir, "policy", "bundles", "default")
		if _, err := os.Stat(filepath.Join(p, ".manifest")); err == nil {
			return p, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("policy/bundles/default not found above the working directory; run fedbench from the fedmesh source tree (make bench)")
		}
		dir = parent
	}
}

// b8Data generates (or reuses) the people table at three sites and returns
// the files and the number of persons (= rows).
func b8Data(ctx context.Context, e *env, groups [3]int) ([]string, int, error) {
	units := groups[0]*100 + groups[1]*1000 + groups[2]*10000
	dir := filepath.Join(e.opts.WorkDir, fmt.Sprintf("b8-%d-%d-%d", groups[0], groups[1], groups[2]))
	var files []string
	for _, s := range []string{"a", "b", "c"} {
		files = append(files, filepath.Join(dir, "site-"+s+".duckdb"))
	}
	done := filepath.Join(dir, "done")
	if _, err := os.Stat(done); err == nil {
		return files, units, nil
	}
	if err := os.RemoveAll(dir); err != nil {
		return nil, 0, err
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, 0, err
	}
	g0, g1 := groups[0]*100, groups[0]*100+groups[1]*1000
	area := fmt.Sprintf(`CASE WHEN i < %[1]d THEN 's100_' || lpad((i // 100)::VARCHAR, 5, '0')
	WHEN i < %[2]d THEN 's1k_' || lpad(((i - %[1]d) // 1000)::VARCHAR, 4, '0')
	ELSE 's10k_' || lpad(((i - %[2]d) // 10000)::VARCHAR, 3, '0') END`, g0, g1)
	for k, path := range files {
		e.progress("B8: generating %s", filepath.Base(path))
		sel := fmt.Sprintf(`SELECT i AS person_id, %s AS area, (hash(i * 4 + 1) %% 100000)::DOUBLE / 100.0 AS amount
FROM range(%d) t(i) WHERE hash(i * 4 + 2) %% 3 = %d`, area, units, k)
		if err := duckExec(ctx, path, "CREATE TABLE people AS "+sel, "CHECKPOINT"); err != nil {
			return nil, 0, err
		}
	}
	return files, units, os.WriteFile(done, nil, 0o644)
}

func b8Sites(files []string, e *env) []siteSpec {
	var sites []siteSpec
	for i, s := range []string{"a", "b", "c"} {
		sites = append(sites, siteSpec{name: s, open: tableEngine(files[i], e, "2GB", "people")})
	}
	return sites
}

// b8Exact runs every accuracy query once on a federation with the default
// policy (the people table is not protected there): the exact answers, by
// query, area and column.
func b8Exact(ctx context.Context, e *env, work string, files []string) (map[string]map[string]map[string]float64, error) {
	fed, err := startFederation(ctx, e, filepath.Join(work, "exact"), b8Sites(files, e))
	if err != nil {
		return nil, fmt.Errorf("exact federation: %w", err)
	}
	defer fed.stop()
	out := map[string]map[string]map[string]float64{}
	for _, q := range b8Queries {
		ans, err := fed.coord.Query(ctx, fed.analyst, q.sql, "benchmark")
		if err != nil {
			return nil, fmt.Errorf("exact %s: %s", q.id, refusal(err))
		}
		out[q.id] = byArea(ans)
	}
	return out, fed.stop()
}

// byArea indexes an answer's numeric columns by its first (area) column.
func byArea(ans *coordinator.Answer) map[string]map[string]float64 {
	out := map[string]map[string]float64{}
	for _, row := range ans.Rows {
		key, _ := row[0].(string)
		vals := map[string]float64{}
		for i := 1; i < len(row); i++ {
			if v, ok := toFloat(row[i]); ok {
				vals[ans.Columns[i].Name] = v
			}
		}
		out[key] = vals
	}
	return out
}

func toFloat(v any) (float64, bool) {
	switch x := v.(type) {
	case int64:
		return float64(x), true
	case float64:
		return x, true
	case *big.Int:
		f, _ := new(big.Float).SetInt(x).Float64()
		return f, true
	case merge.Decimal:
		return x.Float64(), true
	}
	return 0, false
}

// b8Cell accumulates one (query, column, ε, group size) cell.
type b8Cell struct {
	Samples  int       `json:"samples"`
	Released int       `json:"released"`
	Within2  int       `json:"within_2pct"`
	errs     []float64 // relative errors of released values
	Median   float64   `json:"median_rel_error"`
	P95      float64   `json:"p95_rel_error"`
}

func sizeOf(area string) int {
	for i, s := range b8Sizes {
		if strings.HasPrefix(area, s.prefix) {
			return i
		}
	}
	return -1
}

func b8Accuracy(ctx context.Context, e *env, b *Bench, fed *federation, exact map[string]map[string]map[string]float64) error {
	cells := map[string]*b8Cell{}
	key := func(q, col string, eps float64, size int) string {
		return fmt.Sprintf("%s/%s/%g/%d", q, col, eps, b8Sizes[size].units)
	}
	noise := map[string]any{}
	var dpTimes []time.Duration
	for _, eps := range b8Epsilons {
		for _, q := range b8Queries {
			for rep := range e.opts.B8Reps {
				if ctx.Err() != nil {
					return ctx.Err()
				}
				t0 := time.Now()
				ans, err := fed.coord.QueryWith(ctx, fed.analyst, q.sql, "benchmark", coordinator.QueryOptions{Privacy: &planner.PrivacyRequest{Epsilon: eps}})
				if err != nil {
					return fmt.Errorf("dp %s at ε %g: %s", q.id, eps, refusal(err))
				}
				dpTimes = append(dpTimes, time.Since(t0))
				if rep == 0 && ans.Privacy != nil {
					noise[fmt.Sprintf("%s/%g", q.id, eps)] = ans.Privacy
				}
				got := byArea(ans)
				for area, want := range exact[q.id] {
					size := sizeOf(area)
					if size < 0 {
						continue
					}
					for _, col := range q.aggs {
						c := cells[key(q.id, col, eps, size)]
						if c == nil {
							c = &b8Cell{}
							cells[key(q.id, col, eps, size)] = c
						}
						c.Samples++
						v, ok := got[area][col]
						if !ok {
							continue
						}
						c.Released++
						rel := math.Abs(v-want[col]) / math.Abs(want[col])
						c.errs = append(c.errs, rel)
						if rel <= 0.02 {
							c.Within2++
						}
					}
				}
			}
		}
		e.progress("B8: ε %g done", eps)
	}
	cols := []string{"query", "column", "ε"}
	for _, s := range b8Sizes {
		cols = append(cols, fmt.Sprintf("%d/area: median |err|", s.units), fmt.Sprintf("%d/area: within 2%%", s.units), fmt.Sprintf("%d/area: released", s.units))
	}
	b.Columns = cols
	target := map[string]bool{}
	for _, q := range b8Queries {
		for _, col := range q.aggs {
			for _, eps := range b8Epsilons {
				row := []string{q.id, col, fmt.Sprint(eps)}
				for size := range b8Sizes {
					c := cells[key(q.id, col, eps, size)]
					if c == nil || c.Samples == 0 {
						row = append(row, "–", "–", "–")
						continue
					}
					slices.Sort(c.errs)
					if len(c.errs) > 0 {
						c.Median, c.P95 = c.errs[len(c.errs)/2], c.errs[min(len(c.errs)-1, int(math.Ceil(0.95*float64(len(c.errs))))-1)]
					}
					within := float64(c.Within2) / float64(c.Samples)
					row = append(row, relPct(c.Median, c.Released), fmt.Sprintf("%.1f%%", 100*within), fmt.Sprintf("%d/%d", c.Released, c.Samples))
					if eps == 1 && b8Sizes[size].units >= 1000 && col != "mean" {
						target[fmt.Sprintf("%s %s, %d persons/area: %.1f%% within 2%%", q.id, col, b8Sizes[size].units, 100*within)] = within >= 0.95
					}
				}
				b.row(row...)
			}
		}
	}
	var met, missed []string
	for k, ok := range target {
		if ok {
			met = append(met, k)
		} else {
			missed = append(missed, k)
		}
	}
	slices.Sort(met)
	slices.Sort(missed)
	b.note("target (COUNT and SUM, areas of ≥ 1,000 persons, ε = 1, ≥ 95%% of runs within 2%%) met: %s", strings.Join(met, "; "))
	if len(missed) > 0 {
		b.Status = "partial"
		b.note("target missed: %s", strings.Join(missed, "; "))
	}
	b.set("accuracy", cells)
	b.set("noise_first_run", noise)
	b.set("dp_query_times", Summarize(dpTimes))
	return nil
}

func relPct(v float64, n int) string {
	if n == 0 {
		return "–"
	}
	return fmt.Sprintf("%.2f%%", 100*v)
}
