package enginebridge

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"net/http"
	"path/filepath"
	"testing"
	"time"
)

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
			if err := f.exec(context.Background(), "CREATE TEMPORARY TABLE `fedmesh_slow` (`x` BIGINT) WITH ('connector' = 'datagen', 'number-of-rows' = '1000000000000')"); err != nil {
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

// flinkRunningJobs counts the cluster's jobs named name that have not
// reached a terminal state (CANCELLING counts as running).
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
		if j.Name == name && j.State != "FINISHED" && j.State != "CANCELED" && j.State != "FAILED" {
			n++
		}
	}
	return n
}
