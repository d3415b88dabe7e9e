package enginebridge

import (
	"context"
	"errors"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/google/go-cmp/cmp"
	"google.golang.org/protobuf/encoding/protowire"

	"github.com/fedmesh/fedmesh/internal/testenv"
)

func TestSparkConfigErrors(t *testing.T) {
	for _, tc := range []struct {
		name string
		cfg  SparkConfig
		want []string
	}{
		{"no url", SparkConfig{}, []string{"url: must be set"}},
		{"not sc://", SparkConfig{URL: "http://127.0.0.1:15002"}, []string{"url: not a Spark Connect URL"}},
		{"tables", SparkConfig{URL: "sc://127.0.0.1:1", Tables: []TableSource{
			{Name: "a", Format: FormatDuckDB, Path: "/x.duckdb"},
			{Name: "A", Format: FormatParquet, Path: "/x'y.parquet"},
			{Name: "", Format: "", Path: ""},
			{Name: "b\n", Format: FormatCSV, Path: `/c\d.csv`},
		}}, []string{
			`tables[0].format: "duckdb" is not supported by the spark engine`,
			`tables[1].name: "A" duplicates tables[0].name`,
			`tables[1].path: "/x'y.parquet" contains a quote`,
			"tables[2].name: must be set", "tables[2].format: must be set", "tables[2].path: must be set",
			`tables[3].name: "b\n" contains a control character`,
			`tables[3].path: "/c\\d.csv" contains a quote, backslash`,
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := OpenSpark(context.Background(), tc.cfg, nil)
			if err == nil {
				t.Fatal("OpenSpark succeeded")
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q\ndoes not contain %q", err, w)
				}
			}
		})
	}
}

func TestSparkRejectsArgs(t *testing.T) {
	_, err := (&Spark{}).Query(context.Background(), "SELECT 1", []any{int64(1)})
	if err == nil || !strings.Contains(err.Error(), "got 1 bound argument(s)") {
		t.Errorf("error = %v, want one about bound arguments", err)
	}
}

func TestSparkProtoDecode(t *testing.T) {
	batch := appendMessageField(nil, 2, []byte("ipc"))
	batch = protowire.AppendTag(batch, 1, protowire.VarintType)
	batch = protowire.AppendVarint(batch, 3)
	msg := appendStringField(nil, 1, "sess")
	msg = appendMessageField(msg, 4, []byte{}) // metrics: skipped
	msg = protowire.AppendTag(msg, 99, protowire.Fixed64Type)
	msg = protowire.AppendFixed64(msg, 7)
	msg = appendMessageField(msg, 2, batch)
	r, err := decodeExecutePlanResponse(msg)
	if err != nil {
		t.Fatal(err)
	}
	if r.sessionID != "sess" || string(r.arrowData) != "ipc" {
		t.Errorf("decoded %+v", r)
	}
	if _, err := decodeExecutePlanResponse(msg[:len(msg)-1]); !errors.Is(err, errSparkProto) {
		t.Errorf("truncated message: error = %v", err)
	}
	ids, err := decodeInterruptResponse(appendStringField(appendStringField(nil, 1, "s"), 2, "op"))
	if err != nil || len(ids) != 1 || ids[0] != "op" {
		t.Errorf("interrupt response: %v, %v", ids, err)
	}
}

// openSpark opens a Spark engine on the test server with an allocator that
// fails the test on leaked Arrow memory.
func openSpark(t *testing.T, tables []TableSource) *Spark {
	t.Helper()
	url := serverEnv(t, "spark", "FEDMESH_SPARK_URL")
	alloc := memory.NewCheckedAllocator(memory.NewGoAllocator())
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	e, err := OpenSpark(ctx, SparkConfig{URL: url, Tables: tables, Allocator: alloc}, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := e.Close(); err != nil {
			t.Error(err)
		}
		alloc.AssertSize(t, 0)
	})
	return e
}

// TestSparkTypeMapping checks the table in spark_types.go and README.md
// against the live server, each type with a value and a NULL.
func TestSparkTypeMapping(t *testing.T) {
	t.Parallel()
	e := openSpark(t, nil)
	for _, tc := range []struct {
		expr string
		typ  arrow.DataType
		val  any
	}{
		{"true", arrow.FixedWidthTypes.Boolean, true},
		{"CAST(-7 AS TINYINT)", arrow.PrimitiveTypes.Int8, int64(-7)},
		{"CAST(-300 AS SMALLINT)", arrow.PrimitiveTypes.Int16, int64(-300)},
		{"CAST(70000 AS INT)", arrow.PrimitiveTypes.Int32, int64(70000)},
		{"CAST(-9223372036854775808 AS BIGINT)", arrow.PrimitiveTypes.Int64, int64(-9223372036854775808)},
		{"CAST(1.5 AS FLOAT)", arrow.PrimitiveTypes.Float32, 1.5},
		{"CAST(0.25 AS DOUBLE)", arrow.PrimitiveTypes.Float64, 0.25},
		{"CAST(-123.45 AS DECIMAL(10,2))", &arrow.Decimal128Type{Precision: 10, Scale: 2}, "-123.45"},
		{"CAST(1 AS DECIMAL(38,0))", &arrow.Decimal128Type{Precision: 38, Scale: 0}, "1"},
		{"'é\"x'", arrow.BinaryTypes.String, `é"x`},
		{"CAST('ab' AS VARCHAR(5))", arrow.BinaryTypes.String, "ab"},
		{"CAST('ab' AS BINARY)", arrow.BinaryTypes.Binary, []byte("ab")},
		{"DATE'2024-02-29'", arrow.FixedWidthTypes.Date32, "2024-02-29"},
		{"TIMESTAMP'2024-02-29 12:34:56.789012'", &arrow.TimestampType{Unit: arrow.Microsecond, TimeZone: "UTC"}, "2024-02-29T12:34:56.789012Z"},
		{"TIMESTAMP_NTZ'2024-02-29 12:34:56'", &arrow.TimestampType{Unit: arrow.Microsecond}, "2024-02-29T12:34:56Z"},
	} {
		t.Run(tc.expr, func(t *testing.T) {
			// The second row is the same type's NULL.
			q := "SELECT v FROM VALUES (" + tc.expr + "), (NULL) AS t(v)"
			schema, rows := queryRows(t, e, q)
			if got := schema.Field(0).Type; !arrow.TypeEqual(got, tc.typ) {
				t.Errorf("arrow type %v, want %v", got, tc.typ)
			}
			if diff := cmp.Diff([][]any{{tc.val}, {nil}}, rows); diff != "" {
				t.Errorf("rows (-want +got):\n%s", diff)
			}
		})
	}
	for _, tc := range []struct{ expr, want string }{
		{"array(1, 2)", `result column "bad col": Spark type ARRAY`},
		{"map('a', 1)", `result column "bad col": Spark type MAP`},
		{"named_struct('a', 1)", `result column "bad col": Spark type STRUCT`},
		{"INTERVAL '1' DAY", `result column "bad col": Spark type INTERVAL DAY TO SECOND`},
		{"NULL", `result column "bad col": Spark type VOID`},
	} {
		t.Run("unmapped "+tc.expr, func(t *testing.T) {
			err := drain(context.Background(), e, "SELECT 1 AS ok, "+tc.expr+" AS `bad col`", nil)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error = %v, want one containing %q", err, tc.want)
			}
		})
	}
	t.Run("spark error", func(t *testing.T) {
		err := drain(context.Background(), e, "SELECT * FROM `no such table`", nil)
		if err == nil || !strings.Contains(err.Error(), "TABLE_OR_VIEW_NOT_FOUND") {
			t.Errorf("error = %v, want Spark's TABLE_OR_VIEW_NOT_FOUND", err)
		}
	})
}

// TestSparkTables registers a csv file with a header and a parquet file
// under odd names, and reports a missing file naming its table.
func TestSparkTables(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	csvPath := filepath.Join(dir, "sales.csv")
	if err := os.WriteFile(csvPath, []byte("id,region\n1,north\n2,south\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	e := openSpark(t, []TableSource{{Name: "csv `odd` \"name\"", Format: FormatCSV, Path: csvPath}})
	_, rows := queryRows(t, e, "SELECT region, id FROM `csv ``odd`` \"name\"` ORDER BY id")
	if diff := cmp.Diff([][]any{{"north", int64(1)}, {"south", int64(2)}}, rows); diff != "" {
		t.Errorf("rows (-want +got):\n%s", diff)
	}

	url := serverEnv(t, "spark", "FEDMESH_SPARK_URL")
	missing := filepath.Join(dir, "missing.parquet")
	_, err := OpenSpark(context.Background(), SparkConfig{URL: url, Tables: []TableSource{{Name: "gone", Format: FormatParquet, Path: missing}}}, nil)
	if err == nil || !strings.Contains(err.Error(), `tables[0] ("gone", parquet file "`+missing+`")`) || !strings.Contains(err.Error(), "PATH_NOT_FOUND") {
		t.Errorf("error = %v, want one naming tables[0] and PATH_NOT_FOUND", err)
	}
}

// TestSparkCancelStopsJob cancels a query once its Spark job runs and
// checks, through the Spark UI's REST API, that the job goes away. It logs
// how long that took.
func TestSparkCancelStopsJob(t *testing.T) {
	t.Parallel()
	e := openSpark(t, nil)
	ui := testenv.Server(t, "spark", "FEDMESH_SPARK_UI_URL")
	cancelOnceRunning(t, e, "SELECT count(*) FROM range(10000000000000) WHERE id % 7 = 3",
		func() int { return sparkRunningJobs(t, ui, e.sessionID) }, 2*time.Minute, 30*time.Second, 30*time.Second)
}

// TestSparkStreamsBatches reads a result larger than one Spark Connect
// message (spark.connect.grpc.arrow.maxBatchSize, 4 MiB): it arrives as
// several batches, handed on one by one.
func TestSparkStreamsBatches(t *testing.T) {
	t.Parallel()
	e := openSpark(t, nil)
	r, err := e.Query(context.Background(), "SELECT id, id * 2 AS twice FROM range(3000000)", nil)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Release()
	var batches, rows int64
	var sum int64
	for r.Next() {
		b := r.RecordBatch()
		batches++
		rows += b.NumRows()
		for _, v := range b.Column(0).(*array.Int64).Int64Values() {
			sum += v
		}
	}
	if err := r.Err(); err != nil {
		t.Fatal(err)
	}
	if rows != 3000000 || sum != 3000000*2999999/2 {
		t.Errorf("got %d rows summing to %d", rows, sum)
	}
	if batches < 2 {
		t.Errorf("got %d batch(es), want several", batches)
	}
	t.Logf("%d rows in %d batches", rows, batches)
}

// TestSparkRunsRenderGoldens runs every SQL text of the planner's spark
// render goldens (planner/render/testdata/render/spark) on the live server, over
// views with the columns they use, so a rendering Spark cannot parse or
// analyse fails here.
func TestSparkRunsRenderGoldens(t *testing.T) {
	t.Parallel()
	e := openSpark(t, nil)
	for _, ddl := range []string{
		"CREATE OR REPLACE TEMPORARY VIEW sales AS SELECT * FROM VALUES " +
			"('north', 'p', 1.5D, 2024, 'ok', CAST(1 AS BIGINT), 1, 'x', 1.0D, CAST(-5 AS BIGINT), true, CAST(0 AS BIGINT), 2, 5, 'c', 'a', CAST(NULL AS INT), CAST(NULL AS STRING)) " +
			"AS t(region, product, amount, year, status, customer_id, a, b, c, d, e, f, g, h, i, j, k, l)",
		"CREATE OR REPLACE TEMPORARY VIEW `Sales Table` AS SELECT * FROM VALUES ('n', 1.0D) AS t(`Re\"gion`, Amount)",
		"CREATE OR REPLACE TEMPORARY VIEW orders AS SELECT * FROM VALUES (DATE'2024-03-01') AS t(day)",
	} {
		if err := e.exec(context.Background(), ddl); err != nil {
			t.Fatal(err)
		}
	}
	files, err := filepath.Glob("../planner/render/testdata/render/spark/*.golden")
	if err != nil || len(files) == 0 {
		t.Fatalf("no spark goldens (%v)", err)
	}
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			b, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			sqlText, _, ok := strings.Cut(strings.TrimPrefix(string(b), "-- sql --\n"), "\n-- args --")
			if !ok {
				t.Fatalf("unexpected golden layout:\n%s", b)
			}
			if err := drain(context.Background(), e, sqlText, nil); err != nil {
				t.Errorf("%s\n%v", sqlText, err)
			}
		})
	}
}

// TestSparkHeartbeat: an idle engine touches its session (so Spark does
// not expire it with its views), and Close stops the heartbeat.
func TestSparkHeartbeat(t *testing.T) {
	t.Parallel()
	url := serverEnv(t, "spark", "FEDMESH_SPARK_URL")
	e, err := OpenSpark(context.Background(), SparkConfig{URL: url, Heartbeat: 100 * time.Millisecond}, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	opened := e.lastUse.Load()
	deadline := time.Now().Add(time.Minute)
	for e.lastUse.Load() == opened {
		if time.Now().After(deadline) {
			t.Fatal("no heartbeat within a minute")
		}
		time.Sleep(50 * time.Millisecond)
	}
	if err := e.Close(); err != nil {
		t.Fatal(err)
	}
	if err := drain(context.Background(), e, "SELECT 1", nil); err == nil {
		t.Error("query on a closed engine succeeded")
	}
}
