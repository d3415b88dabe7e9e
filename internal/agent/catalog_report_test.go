package agent

import (
	"context"
	"encoding/json"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/spiffe/go-spiffe/v2/spiffeid"

	"github.com/fedmesh/fedmesh/enginebridge"
	"github.com/fedmesh/fedmesh/internal/config"
	"github.com/fedmesh/fedmesh/planner"
	"github.com/fedmesh/fedmesh/planner/render"
)

func TestLogicalTables(t *testing.T) {
	cat := planner.Catalog{"sales": {Physical: "orders_c"}, "customers": {Physical: "customers"}}
	for _, tc := range []struct {
		name  string
		names []string
		cat   planner.Catalog
		want  []string
	}{
		{"none declared", nil, nil, nil},
		{"plain names", []string{"sales", "customers"}, nil, []string{"sales", "customers"}},
		{"physical names are replaced by logical ones", []string{"orders_c", "customers", "extra"}, cat, []string{"customers", "sales", "extra"}},
	} {
		if d := cmp.Diff(tc.want, logicalTables(tc.names, tc.cat)); d != "" {
			t.Errorf("%s (-want +got):\n%s", tc.name, d)
		}
	}
	if d := cmp.Diff([]string{"sales", "customers"}, declaredTables([]config.Table{{Name: "orders_c", Logical: "sales"}, {Name: "customers"}})); d != "" {
		t.Errorf("declaredTables (-want +got):\n%s", d)
	}
}

// TestCatalogReport describes a site whose sales table is stored as
// orders_x with renamed columns: the report carries logical names and
// types only, and a declared table the engine lacks is reported without
// columns and without the engine's error text.
func TestCatalogReport(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	csv := filepath.Join(dir, "orders_x.csv")
	if err := os.WriteFile(csv, []byte("cust,amt,region,day\n1,10.5,north,2024-01-02\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	logger := slog.New(slog.DiscardHandler)
	eng, err := enginebridge.OpenDuckDB(ctx, enginebridge.DuckDBConfig{Tables: []enginebridge.TableSource{{Name: "orders_x", Format: "csv", Path: csv}}}, logger)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { eng.Close() })
	dialect, err := render.DialectByName(eng.Dialect())
	if err != nil {
		t.Fatal(err)
	}
	cat := planner.Catalog{
		"sales": {Physical: "orders_x", Columns: map[string]string{"customer_id": "cust", "amount": "amt"}},
		"ghost": {Physical: "ghost_table"},
	}
	h := catalogHandler{
		handler: &handler{site: "a", engine: eng, dialect: dialect, catalog: cat, timeout: 30 * time.Second,
			slots: testSlots(1), log: logger},
		tables: logicalTables([]string{"orders_x", "ghost_table"}, cat),
	}
	got, err := h.Catalog(ctx, spiffeid.RequireFromString("spiffe://example.org/coordinator"))
	if err != nil {
		t.Fatal(err)
	}
	if got.Site != "a" || !got.Declared || len(got.Tables) != 2 {
		t.Fatalf("catalog = %+v", got)
	}
	ghost, sales := got.Tables[0], got.Tables[1]
	if ghost.Name != "ghost" || ghost.Error == "" || len(ghost.Columns) != 0 {
		t.Errorf("ghost = %+v, want an error and no columns", ghost)
	}
	want := []planner.ColumnSchema{{Name: "customer_id", Type: "BIGINT"}, {Name: "amount", Type: "DOUBLE"},
		{Name: "region", Type: "VARCHAR"}, {Name: "day", Type: "DATE"}}
	if d := cmp.Diff(want, sales.Columns); d != "" || sales.Name != "sales" {
		t.Errorf("sales %q columns (-want +got):\n%s", sales.Name, d)
	}
	body, _ := json.Marshal(got)
	for _, leak := range []string{"orders_x", "cust\"", "amt", "ghost_table", dir} {
		if strings.Contains(string(body), leak) {
			t.Errorf("catalog %s reveals %q", body, leak)
		}
	}
	if running, _ := h.slots.Stats(); running != 0 {
		t.Error("catalog left an engine slot taken")
	}

	// With a cache, a second report reuses the descriptions: the engine
	// is not asked again (here: it is closed).
	cached := catalogHandler{handler: h.handler, tables: h.tables, described: &describeCache{}}
	first, err := cached.Catalog(ctx, spiffeid.ID{})
	if err != nil {
		t.Fatal(err)
	}
	eng.Close()
	again, err := cached.Catalog(ctx, spiffeid.ID{})
	if err != nil {
		t.Fatal(err)
	}
	if d := cmp.Diff(first.Tables[1], again.Tables[1]); d != "" || len(again.Tables[1].Columns) != 4 {
		t.Errorf("cached sales (-first +again):\n%s", d)
	}
	if again.Tables[0].Error == "" {
		t.Error("a failed description was cached")
	}

	// A site that declares no tables says so.
	none := catalogHandler{handler: h.handler}
	if got, err := none.Catalog(ctx, spiffeid.ID{}); err != nil || got.Declared || len(got.Tables) != 0 {
		t.Errorf("no tables: %+v, %v", got, err)
	}
}
