package enginebridge

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/fedmesh/fedmesh/internal/testenv"
)

func TestConformanceSpark(t *testing.T) {
	t.Parallel()
	var e *Spark
	runConformance(t, conformanceHarness{
		Open: func(t *testing.T, tables []confTable) Engine {
			e = openSparkFixtures(t, tables)
			return e
		},
		// Two local cores count to 10^13 for far longer than ten seconds;
		// Range checks for task interruption between batches.
		SlowQuery:   "SELECT count(*) FROM range(10000000000000) WHERE id % 7 = 3",
		SlowRunning: sparkSlowRunning(t, func() *Spark { return e }),
	})
}

// openSparkFixtures writes each table to a parquet file with DuckDB and
// opens a Spark engine over them.
func openSparkFixtures(t *testing.T, tables []confTable) *Spark {
	t.Helper()
	url := serverEnv(t, "spark", "FEDMESH_SPARK_URL")
	dir := t.TempDir()
	db, err := sql.Open("duckdb", "")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	conn, err := db.Conn(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	loadTables(t, conn, tables, duckDBDDLType, quoteIdent, func(n int) string { return fmt.Sprintf("$%d", n) })
	var srcs []TableSource
	for i, tb := range tables {
		path := filepath.Join(dir, fmt.Sprintf("t%d.parquet", i))
		mustExec(t, conn, "COPY "+quoteIdent(tb.Name)+" TO "+quoteString(path)+" (FORMAT parquet)")
		srcs = append(srcs, TableSource{Name: tb.Name, Format: FormatParquet, Path: path})
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	e, err := OpenSpark(ctx, SparkConfig{URL: url, Tables: srcs}, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = e.Close() })
	return e
}

// sparkSlowRunning counts the running Spark jobs of the engine's session
// through the Spark UI's REST API (FEDMESH_SPARK_UI_URL, from
// scripts/engines/spark.sh): Spark Connect tags every job with
// "..._Session_<session id>_Operation_<operation id>". Without the UI
// address the test fails (skips under -short) rather than quietly not
// checking that cancelled jobs stop.
func sparkSlowRunning(t *testing.T, engine func() *Spark) func(t *testing.T) int {
	ui := testenv.Server(t, "spark", "FEDMESH_SPARK_UI_URL")
	return func(t *testing.T) int {
		t.Helper()
		return sparkRunningJobs(t, ui, engine().sessionID)
	}
}

func sparkRunningJobs(t *testing.T, ui, sessionID string) int {
	t.Helper()
	var apps []struct {
		ID string `json:"id"`
	}
	getJSON(t, ui+"/api/v1/applications", &apps)
	if len(apps) != 1 {
		t.Fatalf("spark ui lists %d applications, want 1", len(apps))
	}
	var jobs []struct {
		JobID   int      `json:"jobId"`
		JobTags []string `json:"jobTags"`
	}
	getJSON(t, ui+"/api/v1/applications/"+apps[0].ID+"/jobs?status=running", &jobs)
	n := 0
	for _, j := range jobs {
		for _, tag := range j.JobTags {
			if strings.Contains(tag, "_Session_"+sessionID+"_") {
				n++
				break
			}
		}
	}
	return n
}

func getJSON(t *testing.T, url string, v any) {
	t.Helper()
	c := http.Client{Timeout: 30 * time.Second}
	resp, err := c.Get(url)
	if err != nil {
		t.Fatalf("spark ui: %v", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("spark ui: GET %s: %s", url, resp.Status)
	}
	if err := json.NewDecoder(resp.Body).Decode(v); err != nil {
		t.Fatalf("spark ui: GET %s: %v", url, err)
	}
}
