package enginebridge

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"net/http"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/fedmesh/fedmesh/planner/render"
)

// flinkSlowTable is SlowQuery's source: 1000 rows a second for a minute,
// so it runs long enough to be cancelled but a job that escaped
// cancellation ends by itself and barely uses a CPU meanwhile.
const flinkSlowTable = "CREATE TEMPORARY TABLE `fedmesh_slow` (`x` BIGINT) WITH ('connector' = 'datagen', 'rows-per-second' = '1000', 'number-of-rows' = '60000')"

// flinkDDLType declares the fixture columns to Flink (csv files carry no
// schema).
var flinkDDLType = map[string]string{"bigint": "BIGINT", "integer": "INT", "double": "DOUBLE", "decimal(10,2)": "DECIMAL(10, 2)", "text": "STRING", "date": "DATE"}

// writeFlinkCSV writes tables as header-less csv files with DuckDB and
// returns them as csv sources with declared schemas.
func writeFlinkCSV(t *testing.T, tables []confTable) ([]TableSource, map[string][]FlinkColumn) {
	t.Helper()
	db, err := sql.Open("duckdb", "")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	loadTables(t, db, tables, duckDBDDLType, quoteIdent, func(n int) string { return fmt.Sprintf("$%d", n) })
	var srcs []TableSource
	schemas := map[string][]FlinkColumn{}
	for i, tb := range tables {
		path := filepath.Join(t.TempDir(), fmt.Sprintf("t%d.csv", i))
		mustExec(t, db, "COPY "+quoteIdent(tb.Name)+" TO "+quoteString(path)+" (FORMAT csv, HEADER false)")
		srcs = append(srcs, TableSource{Name: tb.Name, Format: FormatCSV, Path: path})
		for _, c := range tb.Columns {
			schemas[tb.Name] = append(schemas[tb.Name], FlinkColumn{Name: c.Name, Type: flinkDDLType[c.Type]})
		}
	}
	return srcs, schemas
}

func TestConformanceFlink(t *testing.T) {
	t.Parallel()
	var restURL, jobName string
	runConformance(t, conformanceHarness{
		Open: func(t *testing.T, tables []confTable) Engine {
			gw := serverEnv(t, "flink", "FEDMESH_FLINK_URL")
			restURL = serverEnv(t, "flink", "FEDMESH_FLINK_REST_URL")
			jobName = fmt.Sprintf("fedmesh-conf-%d", time.Now().UnixNano())
			srcs, schemas := writeFlinkCSV(t, tables)
			start := time.Now()
			f, err := OpenFlink(context.Background(), FlinkConfig{URL: gw, Tables: srcs, Schemas: schemas, JobName: jobName}, nil)
			if err != nil {
				t.Fatal(err)
			}
			t.Logf("session with %d table(s) open in %v", len(srcs), time.Since(start))
			t.Cleanup(func() { _ = f.Close() })
			// An endless bounded source for SlowQuery.
			if err := f.exec(context.Background(), flinkSlowTable); err != nil {
				t.Fatal(err)
			}
			return f
		},
		SlowQuery: "SELECT COUNT(*) FROM `fedmesh_slow` WHERE MOD(`x`, 7) = 3",
		SlowRunning: func(t *testing.T) int {
			return flinkRunningJobs(t, restURL, jobName)
		},
	})
}

// flinkRunningJobs counts the cluster's jobs of the engine with JobName
// name (named name-<random>) that have not reached a terminal state
// (CANCELLING counts as running).
func flinkRunningJobs(t *testing.T, restURL, name string) int {
	t.Helper()
	resp, err := http.Get(restURL + "/jobs/overview")
	if err != nil {
		t.Fatalf("flink jobs overview: %v", err)
	}
	defer resp.Body.Close()
	var ov struct {
		Jobs []struct {
			Name  string `json:"name"`
			State string `json:"state"`
		} `json:"jobs"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&ov); err != nil {
		t.Fatalf("flink jobs overview: %v", err)
	}
	n := 0
	for _, j := range ov.Jobs {
		if strings.HasPrefix(j.Name, name+"-") && j.State != "FINISHED" && j.State != "CANCELED" && j.State != "FAILED" {
			n++
		}
	}
	return n
}

// openFlinkLive opens an engine on the test gateway with a slow datagen
// table and a unique job name.
func openFlinkLive(t *testing.T, cfg FlinkConfig) (*Flink, string) {
	t.Helper()
	cfg.URL = serverEnv(t, "flink", "FEDMESH_FLINK_URL")
	if cfg.JobName == "" {
		cfg.JobName = fmt.Sprintf("fedmesh-test-%d", time.Now().UnixNano())
	}
	f, err := OpenFlink(context.Background(), cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = f.Close() })
	if err := f.exec(context.Background(), flinkSlowTable); err != nil {
		t.Fatal(err)
	}
	return f, cfg.JobName
}

// Cancelling a query whose Flink job is running cancels the job.
func TestFlinkCancelStopsRunningJob(t *testing.T) {
	t.Parallel()
	restURL := serverEnv(t, "flink", "FEDMESH_FLINK_REST_URL")
	f, job := openFlinkLive(t, FlinkConfig{})
	cancelOnceRunning(t, f, "SELECT COUNT(*) FROM `fedmesh_slow` WHERE MOD(`x`, 7) = 3",
		func() int { return flinkRunningJobs(t, restURL, job) }, 60*time.Second, 10*time.Second, 10*time.Second)
}

func TestFlinkGatewayErrorsLive(t *testing.T) {
	t.Parallel()
	f, _ := openFlinkLive(t, FlinkConfig{})
	_, err := f.Query(context.Background(), "SELECT * FROM `no such table`", nil)
	var ge *FlinkGatewayError
	if !errors.As(err, &ge) {
		t.Fatalf("error = %v, want a *FlinkGatewayError", err)
	}
	if !strings.Contains(ge.Message, "Object 'no such table' not found") || strings.Contains(ge.Message, "\tat ") {
		t.Errorf("message = %q, want the validation error without a stack", ge.Message)
	}
	t.Logf("gateway error: %v", err)
}

// Each mapped Flink type, with a value and a NULL, from a live gateway.
func TestFlinkTypesLive(t *testing.T) {
	t.Parallel()
	f, _ := openFlinkLive(t, FlinkConfig{})
	start := time.Now()
	_, rows := queryRows(t, f, "SELECT 1")
	t.Logf("first statement (SELECT 1) took %v", time.Since(start))
	if len(rows) != 1 {
		t.Fatalf("SELECT 1: %v", rows)
	}
	exprs := []struct{ expr, arrow, value string }{
		{"TRUE", "bool", "true"},
		{"CAST(-7 AS TINYINT)", "int8", "-7"},
		{"CAST(300 AS SMALLINT)", "int16", "300"},
		{"CAST(70000 AS INT)", "int32", "70000"},
		{"CAST(9007199254740993 AS BIGINT)", "int64", "9007199254740993"},
		{"CAST(1.5 AS FLOAT)", "float32", "1.5"},
		{"CAST(0.1 AS DOUBLE)", "float64", "0.1"},
		{"CAST('12345678901234567890.123456' AS DECIMAL(38, 6))", "decimal(38, 6)", "12345678901234567890.123456"},
		{"CAST('0.00' AS DECIMAL(10, 2))", "decimal(10, 2)", "0"},
		{"CAST('ab' AS CHAR(2))", "utf8", "ab"},
		{"'é''\"'", "utf8", `é'"`},
		{"X'0102'", "binary", "AQI="},
		{"DATE '2024-02-29'", "date32", "2024-02-29"},
		{"TIMESTAMP '2024-02-29 01:02:03.123456'", "timestamp[us]", "2024-02-29T01:02:03.123456"},
		{"CAST(TIMESTAMP '2024-02-29 01:02:03.5' AS TIMESTAMP_LTZ(3))", "timestamp[ms, tz=UTC]", "2024-02-29T01:02:03.5Z"},
	}
	var sel []string
	for i, e := range exprs {
		sel = append(sel, fmt.Sprintf("CASE WHEN `k` = 1 THEN %s END AS `c%d`", e.expr, i))
	}
	r, err := f.Query(context.Background(), "SELECT "+strings.Join(sel, ", ")+" FROM (VALUES (1), (2)) AS `v` (`k`)", nil)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Release()
	var got [][]string
	for r.Next() {
		rec := r.RecordBatch()
		for row := 0; row < int(rec.NumRows()); row++ {
			var vals []string
			for _, c := range rec.Columns() {
				vals = append(vals, c.ValueStr(row))
			}
			got = append(got, vals)
		}
	}
	if err := r.Err(); err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 {
		t.Fatalf("rows = %v, want a value row and a NULL row", got)
	}
	if got[0][0] == "(null)" {
		got[0], got[1] = got[1], got[0]
	}
	for i, e := range exprs {
		if typ := r.Schema().Field(i).Type.String(); typ != e.arrow {
			t.Errorf("%s: arrow type %s, want %s", e.expr, typ, e.arrow)
		}
		if got[0][i] != e.value {
			t.Errorf("%s: value %q, want %q", e.expr, got[0][i], e.value)
		}
		if got[1][i] != "(null)" {
			t.Errorf("%s: NULL row has %q", e.expr, got[1][i])
		}
	}
	_, err = f.Query(context.Background(), "SELECT 1 AS `ok`, ARRAY[1, 2] AS `tags`", nil)
	if err == nil || !strings.Contains(err.Error(), `column 1 "tags"`) || !strings.Contains(err.Error(), "ARRAY") {
		t.Errorf("unmapped type: error = %v, want one naming column tags and type ARRAY", err)
	}
}

// A parquet table needs no declared schema: its columns come from the file.
func TestFlinkParquetTable(t *testing.T) {
	t.Parallel()
	db, err := sql.Open("duckdb", "")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	loadTables(t, db, []confTable{confSales}, duckDBDDLType, quoteIdent, func(n int) string { return fmt.Sprintf("$%d", n) })
	path := filepath.Join(t.TempDir(), "sales.parquet")
	mustExec(t, db, "COPY "+quoteIdent(confSales.Name)+" TO "+quoteString(path)+" (FORMAT parquet)")
	f, _ := openFlinkLive(t, FlinkConfig{Tables: []TableSource{{Name: "sales pq", Format: FormatParquet, Path: path}}})
	schema, rows := queryRows(t, f, "SELECT COUNT(*), SUM(`price`), MAX(`day`), MIN(`we\"ird col`) FROM `sales pq`")
	if got := schema.Field(1).Type.String(); got != "decimal(38, 2)" {
		t.Errorf("SUM(price) type = %s, want decimal(38, 2)", got)
	}
	if diff := cmp.Diff(fmt.Sprint([][]any{{int64(8), "33.00", "2024-03-03", "a"}}), fmt.Sprint(rows)); diff != "" {
		t.Errorf("rows (-want +got):\n%s", diff)
	}
}

// Queries share the engine's session concurrently, and a session the
// gateway lost is replaced with its tables declared again.
func TestFlinkConcurrentQueriesAndLostSession(t *testing.T) {
	t.Parallel()
	srcs, schemas := writeFlinkCSV(t, []confTable{confSales})
	f, _ := openFlinkLive(t, FlinkConfig{Tables: srcs, Schemas: schemas})
	q := "SELECT COUNT(*), SUM(`qty`) FROM `conf Sales`"
	var wg sync.WaitGroup
	errs := make(chan error, 4)
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r, err := f.Query(context.Background(), q, nil)
			if err != nil {
				errs <- err
				return
			}
			defer r.Release()
			n := 0
			for r.Next() {
				n += int(r.RecordBatch().NumRows())
			}
			if err := r.Err(); err != nil {
				errs <- err
			} else if n != 1 {
				errs <- fmt.Errorf("%d rows, want 1", n)
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	// Close the session behind the engine's back.
	old := f.currentSession()
	if err := f.c.closeSession(context.Background(), old); err != nil {
		t.Fatal(err)
	}
	_, rows := queryRows(t, f, q)
	if diff := cmp.Diff([][]any{{int64(8), int64(31)}}, rows); diff != "" {
		t.Errorf("rows after the session was lost (-want +got):\n%s", diff)
	}
	if f.currentSession() == old {
		t.Error("engine still uses the closed session")
	}
}

// Cancelling at any moment — while the statement is planned, while its
// job is submitted, while it runs — leaves no job running.
func TestFlinkCancelAtAnyMomentLeavesNoJob(t *testing.T) {
	t.Parallel()
	restURL := serverEnv(t, "flink", "FEDMESH_FLINK_REST_URL")
	f, job := openFlinkLive(t, FlinkConfig{})
	for _, d := range []time.Duration{0, 25, 50, 100, 150, 200, 300, 400, 600, 800} {
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan error, 1)
		go func() { done <- drain(ctx, f, "SELECT COUNT(*) FROM `fedmesh_slow` WHERE MOD(`x`, 7) = 3", nil) }()
		time.Sleep(d * time.Millisecond)
		cancel()
		if err := <-done; !errors.Is(err, context.Canceled) {
			t.Errorf("cancel after %v: error = %v, want one wrapping context.Canceled", d*time.Millisecond, err)
		}
	}
	deadline := time.Now().Add(15 * time.Second)
	for n := flinkRunningJobs(t, restURL, job); n != 0; n = flinkRunningJobs(t, restURL, job) {
		if time.Now().After(deadline) {
			t.Fatalf("%d job(s) still running 15s after their queries were cancelled", n)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// The flink dialect's inline literals read back as exactly the value on a
// live gateway.
func TestFlinkInlineLiteralsLive(t *testing.T) {
	t.Parallel()
	f, _ := openFlinkLive(t, FlinkConfig{})
	vals := []any{
		int64(math.MinInt64), int64(math.MaxInt64), int64(-1), 0.1, -1.7976931348623157e308, 5e-324, true, false,
		"it's", `back\slash`, "a\nb\tc\r", "😀é", `"`, "`", "' OR 1=1 --", "",
	}
	var sel []string
	for i, v := range vals {
		lit, err := (render.Flink{}).InlineLiteral(v)
		if err != nil {
			t.Fatalf("%#v: %v", v, err)
		}
		sel = append(sel, fmt.Sprintf("%s AS `v%d`", lit, i))
	}
	_, rows := queryRows(t, f, "SELECT "+strings.Join(sel, ", "))
	if len(rows) != 1 {
		t.Fatalf("rows = %v", rows)
	}
	for i, v := range vals {
		if got := rows[0][i]; fmt.Sprintf("%#v", got) != fmt.Sprintf("%#v", v) {
			t.Errorf("literal %#v read back as %#v", v, got)
		}
	}
}
