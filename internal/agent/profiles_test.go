package agent

import (
	"context"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/spiffe/go-spiffe/v2/spiffeid"

	"github.com/fedmesh/fedmesh/enginebridge"
	"github.com/fedmesh/fedmesh/policy"
)

// TestEngineProfileChosenPerSubPlan gives the site two engines whose data
// differ (the "large" one holds every amount ×10), routes by tag, and
// checks that the answer comes from the chosen engine and that the audit
// record says which profile ran and why.
func TestEngineProfileChosenPerSubPlan(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pol, err := policy.Load(ctx, writeTestBundle(t, obligationsBundle, 0), nil)
	if err != nil {
		t.Fatal(err)
	}
	h, auditPath := newTestHandler(t, policy.NewHolder(pol, nil))
	large := strings.NewReplacer("north,10,", "north,100,", "north,20,", "north,200,", "north,30,", "north,300,", "north,40,", "north,400,").Replace(salesCSV)
	csv := filepath.Join(t.TempDir(), "sales.csv")
	if err := os.WriteFile(csv, []byte(large), 0o600); err != nil {
		t.Fatal(err)
	}
	logger := slog.New(slog.DiscardHandler)
	big, err := enginebridge.OpenDuckDB(ctx, enginebridge.DuckDBConfig{Tables: []enginebridge.TableSource{{Name: "sales", Format: "csv", Path: csv}}}, logger)
	if err != nil {
		t.Fatal(err)
	}
	profiles, err := enginebridge.NewProfiles([]enginebridge.Profile{{Name: "small", Engine: h.engine}, {Name: "large", Engine: big}},
		enginebridge.RoutingRule{Kind: enginebridge.RouteTag, Tags: map[string]string{"nightly": "large"}}, logger)
	if err != nil {
		t.Fatal(err)
	}
	h.engine = profiles
	t.Cleanup(func() { _ = big.Close() })

	for _, tc := range []struct {
		purpose, profile, reason, north string
	}{
		{"adhoc", "small", `tag "adhoc" has no profile; default profile`, "100"},
		{"nightly", "large", `tag "nightly"`, "1000"},
	} {
		t.Run(tc.purpose, func(t *testing.T) {
			sp := salesByRegion()
			sp.Purpose = tc.purpose
			res, err := h.Serve(ctx, spiffeid.RequireFromString("spiffe://example.org/coordinator"), sp)
			if err != nil {
				t.Fatalf("Serve: %v", err)
			}
			north := ""
			for _, b := range res.Batches {
				keys := b.Column(0).(*array.String)
				for i := 0; i < keys.Len(); i++ {
					if keys.Value(i) == "north" {
						north = b.Column(1).ValueStr(i)
					}
				}
				b.Release()
			}
			if north != tc.north {
				t.Errorf("north sum = %q, want %q (from profile %s)", north, tc.north, tc.profile)
			}
			details, _ := lastAuditRecord(t, auditPath)["details"].(map[string]any)
			choice, _ := details["engine_profile"].(map[string]any)
			if choice["profile"] != tc.profile || choice["reason"] != tc.reason || details["engine"] != "duckdb" {
				t.Errorf("audit details = %v, want profile %q because %q", details, tc.profile, tc.reason)
			}
		})
	}
}
