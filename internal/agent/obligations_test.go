package agent

import (
	"bufio"
	"context"
	"encoding/json"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/uuid"
	"github.com/spiffe/go-spiffe/v2/spiffeid"

	"github.com/fedmesh/fedmesh/audit"
	"github.com/fedmesh/fedmesh/enginebridge"
	"github.com/fedmesh/fedmesh/planner"
	"github.com/fedmesh/fedmesh/planner/render"
	"github.com/fedmesh/fedmesh/policy"
)

// obligationsBundle allows aggregates with a consent row filter, a minimum
// group size of 3 and rounding to multiples of data.fedmesh.round_to.
const obligationsBundle = `package fedmesh

decision := {
	"allow": input.plan.kind == "aggregate",
	"reasons": [],
	"obligations": {
		"min_group_size": 3,
		"round_to": data.fedmesh.round_to,
		"row_filter": {"op": "eq", "args": [
			{"op": "column", "column": "consent"},
			{"op": "literal", "value": {"kind": "bool", "bool": true}},
		]},
	},
}
`

// salesCSV: with consent only, north has 4 rows (sum 100), west 3 (sum 6),
// south 2 (dropped as smaller than 3). Without the filter north would sum
// to 1100.
// Customer 6 made both of south's orders.
const salesCSV = `region,amount,consent,customer_id
north,10,true,1
north,20,true,2
north,30,true,3
north,40,true,4
north,1000,false,5
south,5,true,6
south,5,true,6
west,1,true,7
west,2,true,8
west,3,true,9
west,7,false,10
west,7,false,11
west,7,false,12
`

func writeTestBundle(t *testing.T, rego string, roundTo int) string {
	t.Helper()
	dir := t.TempDir()
	files := map[string]string{
		".manifest":   `{"revision": "obligations-1", "roots": ["fedmesh"]}`,
		"policy.rego": rego,
		"data.json":   `{"fedmesh": {"round_to": ` + string(rune('0'+roundTo)) + `}}`,
	}
	for name, body := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// newTestHandler builds the site pipeline over an in-process DuckDB with
// the sales table above.
func newTestHandler(t *testing.T, pol evaluator) (*handler, string) {
	t.Helper()
	ctx := context.Background()
	dir := t.TempDir()
	csv := filepath.Join(dir, "sales.csv")
	if err := os.WriteFile(csv, []byte(salesCSV), 0o600); err != nil {
		t.Fatal(err)
	}
	logger := slog.New(slog.DiscardHandler)
	eng, err := enginebridge.OpenDuckDB(ctx, enginebridge.DuckDBConfig{Tables: []enginebridge.TableSource{{Name: "sales", Format: "csv", Path: csv}}}, logger)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { eng.Close() })
	dialect, err := render.DialectByName(eng.Dialect())
	if err != nil {
		t.Fatal(err)
	}
	auditPath := filepath.Join(dir, "audit.log")
	alog, err := audit.Open(auditPath, audit.Options{Logger: logger})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = alog.Close() })
	gs, err := openGuard(Config{GuardPath: filepath.Join(dir, "site-a.guard")})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = gs.Close() })
	return &handler{
		site: "a", engine: eng, dialect: dialect, policy: pol, audit: alog,
		timeout: 30 * time.Second, slots: testSlots(2), log: logger, guard: gs,
		intake: intake{tables: []string{"sales"}, guard: gs},
	}, auditPath
}

// salesByRegion is SELECT region, SUM(amount), COUNT(*) FROM sales GROUP BY region,
// with a new query id each time (a site answers a query id once).
func salesByRegion() *planner.SubPlan {
	return &planner.SubPlan{
		Version: planner.PlanVersion, QueryID: "q-obl-" + uuid.NewString(), Deadline: time.Now().Add(time.Minute),
		Analyst: "alice", Roles: []string{"analyst"},
		Purpose: "test", Site: "a", Kind: planner.KindAggregate, Table: "sales",
		GroupBy: []planner.OutputColumn{{Name: "g0", Expr: planner.Col("region")}},
		Aggs: []planner.OutputColumn{
			{Name: "a0", Agg: &planner.PartialAgg{Func: planner.AggSum, Arg: planner.Col("amount")}},
			{Name: "a1", Agg: &planner.PartialAgg{Func: planner.AggCountStar}},
		},
		CountColumn: "a1",
	}
}

func lastAuditRecord(t *testing.T, path string) map[string]any {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var last map[string]any
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		var m map[string]any
		if err := json.Unmarshal(sc.Bytes(), &m); err != nil {
			t.Fatal(err)
		}
		last = m
	}
	return last
}

func TestObligationsEnforcedAtTheSite(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		roundTo int
		want    string // the exported rows as JSON, ordered by region (SUM is a decimal, so a string)
		applied []any
	}{
		{
			name: "row filter and minimum group size", roundTo: 0,
			want:    `[{"a0":"100","a1":4,"g0":"north"},{"a0":"6","a1":3,"g0":"west"}]`,
			applied: []any{"row_filter", "min_group_size"},
		},
		{
			name: "rounded to multiples of 5", roundTo: 5,
			want:    `[{"a0":"100","a1":5,"g0":"north"},{"a0":"5","a1":5,"g0":"west"}]`,
			applied: []any{"row_filter", "min_group_size", "round_to"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			pol, err := policy.Load(ctx, writeTestBundle(t, obligationsBundle, tt.roundTo), nil)
			if err != nil {
				t.Fatal(err)
			}
			h, auditPath := newTestHandler(t, policy.NewHolder(pol, nil))
			sp := salesByRegion()
			wantDigest, _ := policy.NewInput(sp).Digest()
			res, err := h.Serve(ctx, spiffeid.RequireFromString("spiffe://example.org/coordinator"), sp)
			if err != nil {
				t.Fatalf("Serve: %v", err)
			}
			var rows []map[string]any
			for _, b := range res.Batches {
				raw, err := b.MarshalJSON()
				if err != nil {
					t.Fatal(err)
				}
				var part []map[string]any
				if err := json.Unmarshal(raw, &part); err != nil {
					t.Fatal(err)
				}
				rows = append(rows, part...)
				b.Release()
			}
			slicesSortByRegion(rows)
			got, _ := json.Marshal(rows)
			if diff := cmp.Diff(tt.want, string(got)); diff != "" {
				t.Errorf("exported rows (-want +got):\n%s", diff)
			}
			if res.Meta.SuppressedGroups != 1 {
				t.Errorf("suppressed groups = %d, want 1 (south)", res.Meta.SuppressedGroups)
			}

			rec := lastAuditRecord(t, auditPath)
			details, _ := rec["details"].(map[string]any)
			sql, _ := details["engine_sql"].(string)
			if !strings.Contains(sql, `"consent"`) {
				t.Errorf("rendered site SQL does not carry the row filter: %s", sql)
			}
			drec, _ := details["policy"].(map[string]any)
			if drec["input_sha256"] != wantDigest || drec["bundle_revision"] != "obligations-1" ||
				drec["path"] != policy.DecisionPath || drec["decision_id"] != rec["decision_id"] {
				t.Errorf("decision record = %v, want input hash %s, revision, path and the record's decision id", drec, wantDigest)
			}
			if diff := cmp.Diff(tt.applied, drec["obligations_applied"]); diff != "" {
				t.Errorf("obligations_applied (-want +got):\n%s", diff)
			}
			if rec["suppressed_groups"] != float64(1) {
				t.Errorf("audit suppressed_groups = %v, want 1", rec["suppressed_groups"])
			}
		})
	}
}

func slicesSortByRegion(rows []map[string]any) {
	for i := range rows {
		for j := i + 1; j < len(rows); j++ {
			if rows[j]["g0"].(string) < rows[i]["g0"].(string) {
				rows[i], rows[j] = rows[j], rows[i]
			}
		}
	}
}
