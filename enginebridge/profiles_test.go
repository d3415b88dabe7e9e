package enginebridge

import (
	"context"
	"database/sql"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

// twoDuckDBs opens two engines over one database file holding "tiny" (3
// rows) and "big" (1000 rows).
func twoDuckDBs(t *testing.T) (Engine, Engine) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "p.duckdb")
	db, err := sql.Open("duckdb", path)
	if err != nil {
		t.Fatal(err)
	}
	mustExec(t, db, "CREATE TABLE tiny AS SELECT range AS x FROM range(3)")
	mustExec(t, db, "CREATE TABLE big AS SELECT range AS x FROM range(1000)")
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	cfg := DuckDBConfig{Tables: []TableSource{{Name: "tiny", Format: FormatDuckDB, Path: path}, {Name: "big", Format: FormatDuckDB, Path: path}}}
	a, err := OpenDuckDB(context.Background(), cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	b, err := OpenDuckDB(context.Background(), cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	return a, b
}

func TestProfilesChoose(t *testing.T) {
	t.Parallel()
	small, large := twoDuckDBs(t)
	profiles := []Profile{{"small", small}, {"large", large}}
	byRows, err := NewProfiles(profiles, RoutingRule{Kind: RouteEstimatedRows, LargeRows: 500, Small: "small", Large: "large"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = byRows.Close() })
	byTag, err := NewProfiles(profiles, RoutingRule{Kind: RouteTag, Tags: map[string]string{"nightly-report": "large"}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name       string
		p          *Profiles
		table, tag string
		want       Choice
		wantEngine Engine
	}{
		{"small table", byRows, "tiny", "", Choice{Profile: "small", Dialect: "duckdb", Reason: "estimated 3 rows < 500", EstimatedRows: 3}, small},
		{"large table", byRows, "big", "", Choice{Profile: "large", Dialect: "duckdb", Reason: "estimated 1000 rows >= 500", EstimatedRows: 1000}, large},
		{"no estimate", byRows, "missing", "", Choice{Profile: "small", Dialect: "duckdb", Reason: "no row estimate for missing; default profile", EstimatedRows: -1}, small},
		{"tagged", byTag, "tiny", "nightly-report", Choice{Profile: "large", Dialect: "duckdb", Reason: `tag "nightly-report"`, EstimatedRows: -1}, large},
		{"untagged", byTag, "big", "adhoc", Choice{Profile: "small", Dialect: "duckdb", Reason: `tag "adhoc" has no profile; default profile`, EstimatedRows: -1}, small},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := tc.p.Choose(context.Background(), tc.table, tc.tag)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tc.want, got, cmpopts.IgnoreFields(Choice{}, "Engine")); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
			if got.Engine != tc.wantEngine {
				t.Errorf("engine of profile %q is not that profile's engine", got.Profile)
			}
		})
	}
}

func TestProfilesCacheEstimates(t *testing.T) {
	t.Parallel()
	small, large := twoDuckDBs(t)
	p, err := NewProfiles([]Profile{{"small", small}, {"large", large}}, RoutingRule{Kind: RouteEstimatedRows, LargeRows: 500, Small: "small", Large: "large", EstimateTTL: time.Minute}, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = p.Close() })
	now := time.Unix(1000, 0)
	p.now = func() time.Time { return now }
	if c, _ := p.Choose(context.Background(), "big", ""); c.Profile != "large" {
		t.Fatalf("first choice %q, want large", c.Profile)
	}
	// The estimate is cached: a stale one keeps routing the same way
	// until the TTL passes.
	p.mu.Lock()
	p.estimates["big"] = estimate{rows: 1, at: now}
	p.mu.Unlock()
	if c, _ := p.Choose(context.Background(), "big", ""); c.Profile != "small" {
		t.Errorf("within TTL: choice %q, want the cached estimate's small", c.Profile)
	}
	now = now.Add(2 * time.Minute)
	if c, _ := p.Choose(context.Background(), "big", ""); c.Profile != "large" || c.EstimatedRows != 1000 {
		t.Errorf("after TTL: choice %+v, want large with a fresh estimate of 1000", c)
	}
}

func TestNewProfilesErrors(t *testing.T) {
	t.Parallel()
	small, large := twoDuckDBs(t)
	t.Cleanup(func() { _ = small.Close(); _ = large.Close() })
	tests := []struct {
		name     string
		profiles []Profile
		rule     RoutingRule
		want     []string
	}{
		{"none", nil, RoutingRule{}, []string{"none configured"}},
		{"unknown profiles", []Profile{{"small", small}}, RoutingRule{Kind: RouteEstimatedRows, LargeRows: 5, Small: "small", Large: "huge"}, []string{`routing.large: no engine has profile "huge"`}},
		{"no threshold", []Profile{{"small", small}}, RoutingRule{Kind: RouteEstimatedRows, Small: "small", Large: "small"}, []string{"routing.large_rows"}},
		{"duplicate", []Profile{{"a", small}, {"a", large}}, RoutingRule{}, []string{`engines[1]: profile "a" declared twice`}},
		{"bad tag target", []Profile{{"a", small}}, RoutingRule{Kind: RouteTag, Tags: map[string]string{"x": "b"}}, []string{`routing.tags[x]`}},
		{"unknown rule", []Profile{{"a", small}}, RoutingRule{Kind: "cost"}, []string{`unknown rule "cost"`}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := NewProfiles(tc.profiles, tc.rule, nil)
			if err == nil {
				t.Fatal("NewProfiles succeeded")
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not contain %q", err, w)
				}
			}
		})
	}
}

// TestServerRowEstimates checks the statistics-based estimates of the
// PostgreSQL and MariaDB adapters after ANALYZE.
func TestServerRowEstimates(t *testing.T) {
	t.Parallel()
	t.Run("postgres", func(t *testing.T) {
		t.Parallel()
		admin := pgAdmin(t)
		schema := fmt.Sprintf("est_%d", time.Now().UnixNano())
		mustExec(t, admin, "CREATE SCHEMA "+schema)
		t.Cleanup(func() { mustExec(t, admin, "DROP SCHEMA "+schema+" CASCADE") })
		mustExec(t, admin, "CREATE TABLE "+schema+`."Odd ""t"" name" AS SELECT g FROM generate_series(1, 5000) g`)
		mustExec(t, admin, "ANALYZE "+schema+`."Odd ""t"" name"`)
		mustExec(t, admin, "GRANT USAGE ON SCHEMA "+schema+" TO fedmesh")
		mustExec(t, admin, "GRANT SELECT ON ALL TABLES IN SCHEMA "+schema+" TO fedmesh")
		e, err := OpenPostgres(context.Background(), PostgresConfig{DSN: serverEnv(t, "postgres", "FEDMESH_PG_DSN") + "&search_path=" + schema}, nil)
		if err != nil {
			t.Fatal(err)
		}
		defer e.Close()
		if n, err := e.EstimateRows(context.Background(), `Odd "t" name`); err != nil || n != 5000 {
			t.Errorf("EstimateRows = %d, %v; want 5000", n, err)
		}
		if _, err := e.EstimateRows(context.Background(), "nope"); err == nil || !strings.Contains(err.Error(), `"nope": no such table`) {
			t.Errorf("missing table: error %v", err)
		}
	})
	t.Run("mariadb", func(t *testing.T) {
		t.Parallel()
		e := openMySQL(t)
		admin := mysqlAdmin(t)
		table := fmt.Sprintf("est_%d", time.Now().UnixNano())
		mustExec(t, admin, "CREATE TABLE "+table+" (x INT) AS SELECT seq AS x FROM seq_1_to_2000")
		t.Cleanup(func() { mustExec(t, admin, "DROP TABLE "+table) })
		mustExec(t, admin, "ANALYZE TABLE "+table)
		n, err := e.EstimateRows(context.Background(), table)
		// InnoDB's estimate is approximate.
		if err != nil || n < 1000 || n > 4000 {
			t.Errorf("EstimateRows = %d, %v; want about 2000", n, err)
		}
	})
}
