package enginebridge

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/google/go-cmp/cmp"
)

// fakeGateway is an httptest stand-in for the SQL Gateway's REST API v2.
// pages maps a result token to its answer; a token missing from pages
// answers NOT_READY forever.
type fakeGateway struct {
	t     *testing.T
	mu    sync.Mutex
	pages map[string]string
	// submitErr, if set, is the HTTP 500 body of statement submissions
	// (after the DDL ones).
	submitErr string
	calls     []string
	stmts     []string
	props     map[string]string
	execCfg   map[string]string
	sessions  int             // sessions opened: s1, s2, ...
	lost      map[string]bool // sessions the gateway "forgot"
}

func (g *fakeGateway) handler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		g.mu.Lock()
		defer g.mu.Unlock()
		call := r.Method + " " + r.URL.Path
		g.calls = append(g.calls, call)
		body, _ := io.ReadAll(r.Body)
		// Requests on a later session are served like s1's.
		if parts := strings.Split(r.URL.Path, "/"); len(parts) > 3 && parts[2] == "sessions" {
			if g.lost[parts[3]] {
				w.WriteHeader(http.StatusInternalServerError)
				msg, _ := json.Marshal("<Exception on server side:\norg.apache.flink.table.gateway.api.utils.SqlGatewayException: Failed to execute statement.\n\tat x.y(Z.java:1)\nCaused by: org.apache.flink.table.gateway.api.utils.SqlGatewayException: Session '" + parts[3] + "' does not exist.\n\tat x.y(Z.java:2)\n\nEnd of exception on server side>")
				fmt.Fprintf(w, `{"errors":["Internal server error.",%s]}`, msg)
				return
			}
			parts[3] = "s1"
			call = r.Method + " " + strings.Join(parts, "/")
		}
		switch {
		case call == "POST /v2/sessions":
			var req struct {
				Properties map[string]string `json:"properties"`
			}
			_ = json.Unmarshal(body, &req)
			g.props = req.Properties
			g.sessions++
			fmt.Fprintf(w, `{"sessionHandle":"s%d"}`, g.sessions)
		case call == "POST /v2/sessions/s1/statements":
			var req struct {
				Statement       string            `json:"statement"`
				ExecutionConfig map[string]string `json:"executionConfig"`
			}
			_ = json.Unmarshal(body, &req)
			g.stmts = append(g.stmts, req.Statement)
			if req.Statement == "SHOW JOBS" {
				fmt.Fprint(w, `{"operationHandle":"jobs"}`)
				return
			}
			if strings.HasPrefix(req.Statement, "STOP JOB") {
				fmt.Fprint(w, `{"operationHandle":"ddl"}`)
				return
			}
			g.execCfg = req.ExecutionConfig
			if g.submitErr != "" && !strings.HasPrefix(req.Statement, "CREATE") {
				w.WriteHeader(http.StatusInternalServerError)
				fmt.Fprint(w, g.submitErr)
				return
			}
			if strings.HasPrefix(req.Statement, "CREATE") {
				fmt.Fprint(w, `{"operationHandle":"ddl"}`)
				return
			}
			fmt.Fprint(w, `{"operationHandle":"o1"}`)
		case call == "GET /v2/sessions/s1/operations/jobs/result/0":
			// The query's job, orphaned: still running after its cancel.
			fmt.Fprintf(w, `{"resultType":"PAYLOAD","results":{"columns":[{"name":"job id","logicalType":{"type":"VARCHAR"}},{"name":"job name","logicalType":{"type":"VARCHAR"}},{"name":"status","logicalType":{"type":"VARCHAR"}},{"name":"start time","logicalType":{"type":"VARCHAR"}}],"data":[`+
				`{"kind":"INSERT","fields":["0123456789abcdef0123456789abcdef",%q,"RUNNING","2026-01-01T00:00:00Z"]},`+
				`{"kind":"INSERT","fields":["fedcba9876543210fedcba9876543210","someone else's","RUNNING","2026-01-01T00:00:00Z"]}]},`+
				`"nextResultUri":"/v2/sessions/s1/operations/jobs/result/1?rowFormat=JSON"}`, g.execCfg["pipeline.name"])
		case call == "GET /v2/sessions/s1/operations/jobs/result/1":
			fmt.Fprint(w, `{"resultType":"EOS","results":{"columns":[],"data":[]}}`)
		case strings.HasPrefix(call, "GET /v2/sessions/s1/operations/ddl/result/"):
			fmt.Fprint(w, `{"resultType":"EOS","isQueryResult":false,"resultKind":"SUCCESS","results":{"columns":[{"name":"result","logicalType":{"type":"VARCHAR","nullable":true,"length":2147483647}}],"data":[]}}`)
		case strings.HasPrefix(call, "GET /v2/sessions/s1/operations/o1/result/"):
			if r.URL.Query().Get("rowFormat") != "JSON" {
				w.WriteHeader(http.StatusBadRequest)
				fmt.Fprint(w, `{"errors":["rowFormat missing"]}`)
				return
			}
			tok := strings.TrimPrefix(call, "GET /v2/sessions/s1/operations/o1/result/")
			if p, ok := g.pages[tok]; ok {
				fmt.Fprint(w, p)
				return
			}
			fmt.Fprintf(w, `{"resultType":"NOT_READY","nextResultUri":"/v2/sessions/s1/operations/o1/result/%s?rowFormat=JSON"}`, tok)
		case strings.HasPrefix(call, "POST /v2/sessions/s1/operations/"), strings.HasPrefix(call, "DELETE /v2/sessions/"):
			fmt.Fprint(w, `{"status":"CLOSED"}`)
		default:
			w.WriteHeader(http.StatusNotFound)
			fmt.Fprint(w, `{"errors":["Not found: `+r.URL.Path+`"]}`)
		}
	})
}

func (g *fakeGateway) sawCall(call string) bool {
	g.mu.Lock()
	defer g.mu.Unlock()
	for _, c := range g.calls {
		if c == call {
			return true
		}
	}
	return false
}

func (g *fakeGateway) sawStmt(stmt string) bool {
	g.mu.Lock()
	defer g.mu.Unlock()
	for _, s := range g.stmts {
		if s == stmt {
			return true
		}
	}
	return false
}

const fakeColumns = `"columns":[
 {"name":"id","logicalType":{"type":"BIGINT","nullable":false}},
 {"name":"name","logicalType":{"type":"VARCHAR","nullable":true,"length":2147483647}},
 {"name":"price","logicalType":{"type":"DECIMAL","nullable":true,"precision":10,"scale":2}},
 {"name":"day","logicalType":{"type":"DATE","nullable":true}},
 {"name":"ok","logicalType":{"type":"BOOLEAN","nullable":true}},
 {"name":"x","logicalType":{"type":"DOUBLE","nullable":true}},
 {"name":"n","logicalType":{"type":"INTEGER","nullable":true}},
 {"name":"ts","logicalType":{"type":"TIMESTAMP_WITHOUT_TIME_ZONE","nullable":true,"precision":3}}]`

func page(next string, rows ...string) string {
	nextField := ""
	if next != "" {
		nextField = `,"nextResultUri":"/v2/sessions/s1/operations/o1/result/` + next + `?rowFormat=JSON"`
	}
	return `{"resultType":"PAYLOAD","isQueryResult":true,"jobID":"j1","resultKind":"SUCCESS_WITH_CONTENT","results":{` +
		fakeColumns + `,"rowFormat":"JSON","data":[` + strings.Join(rows, ",") + `]}` + nextField + `}`
}

func openFakeFlink(t *testing.T, g *fakeGateway, cfg FlinkConfig) *Flink {
	t.Helper()
	g.t = t
	srv := httptest.NewServer(g.handler())
	t.Cleanup(srv.Close)
	cfg.URL = srv.URL
	f, err := OpenFlink(context.Background(), cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = f.Close() })
	return f
}

func TestFlinkClientPaging(t *testing.T) {
	g := &fakeGateway{pages: map[string]string{
		// Token 0 is NOT_READY until the test adds it, below.
		"1": page("2"), // an empty page: no batch
		"2": page("3", `{"kind":"INSERT","fields":[3,null,null,null,null,"NaN",null,null]}`),
		"3": `{"resultType":"EOS","isQueryResult":true,"results":{` + fakeColumns + `,"data":[]}}`,
	}}
	f := openFakeFlink(t, g, FlinkConfig{Properties: map[string]string{"parallelism.default": "2"}, JobName: "fedmesh-test"})
	go func() {
		time.Sleep(30 * time.Millisecond)
		g.mu.Lock()
		g.pages["0"] = page("1",
			`{"kind":"INSERT","fields":[1,"a'b",1.10,"2024-01-02",true,2.5,7,"2024-01-02T03:04:05.123"]}`,
			`{"kind":"INSERT","fields":[2,"é",1.1E+2,"2024-12-31",false,-0.25,-1,"2024-01-02T03:04:05"]}`)
		g.mu.Unlock()
	}()
	r, err := f.Query(context.Background(), "SELECT 1", nil)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	batches := 0
	for r.Next() {
		batches++
		rec := r.RecordBatch()
		for i := 0; i < int(rec.NumRows()); i++ {
			var row []string
			for _, c := range rec.Columns() {
				row = append(row, c.ValueStr(i))
			}
			got = append(got, strings.Join(row, "|"))
		}
	}
	if err := r.Err(); err != nil {
		t.Fatal(err)
	}
	want := []string{
		"1|a'b|1.1|2024-01-02|true|2.5|7|2024-01-02T03:04:05.123",
		"2|é|110|2024-12-31|false|-0.25|-1|2024-01-02T03:04:05",
		"3|(null)|(null)|(null)|(null)|NaN|(null)|(null)",
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("rows (-want +got):\n%s", diff)
	}
	if batches != 2 {
		t.Errorf("batches = %d, want 2 (one per non-empty page)", batches)
	}
	wantTypes := "id: type=int64, nullable|name: type=utf8, nullable|price: type=decimal(10, 2), nullable|day: type=date32, nullable|ok: type=bool, nullable|x: type=float64, nullable|n: type=int32, nullable|ts: type=timestamp[ms], nullable"
	var types []string
	for _, fl := range r.Schema().Fields() {
		types = append(types, fl.String())
	}
	if got := strings.Join(types, "|"); got != wantTypes {
		t.Errorf("schema = %s\nwant %s", got, wantTypes)
	}
	r.Release()
	if !g.sawCall("DELETE /v2/sessions/s1/operations/o1/close") {
		t.Errorf("Release did not close the operation; calls: %v", g.calls)
	}
	if g.props["execution.runtime-mode"] != "batch" || g.props["table.local-time-zone"] != "UTC" || g.props["parallelism.default"] != "2" {
		t.Errorf("session properties = %v", g.props)
	}
	if !strings.HasPrefix(g.execCfg["pipeline.name"], "fedmesh-test-") {
		t.Errorf("execution config = %v, want pipeline.name fedmesh-test-<random>", g.execCfg)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	if !g.sawCall("DELETE /v2/sessions/s1") {
		t.Errorf("Close did not close the session; calls: %v", g.calls)
	}
}

// A gateway error answer is reported by its root cause, without the stack.
func TestFlinkClientErrorBody(t *testing.T) {
	stack := "org.apache.flink.table.gateway.api.utils.SqlGatewayException: Failed to executeStatement.\n" +
		"\tat org.apache.flink.table.gateway.rest.handler.statement.ExecuteStatementHandler.handleRequest(ExecuteStatementHandler.java:91)\n" +
		"Caused by: org.apache.flink.table.gateway.service.utils.SqlExecutionException: Failed to execute the operation x.\n" +
		"\tat org.apache.flink.table.gateway.service.operation.OperationManager$Operation.processThrowable(OperationManager.java:414)\n" +
		"Caused by: org.apache.flink.table.api.ValidationException: SQL validation failed. From line 1, column 15 to line 1, column 19: Object 'nope' not found\n" +
		"within 'default_catalog'\n" +
		"\tat org.apache.flink.table.planner.calcite.FlinkPlannerImpl.validate(FlinkPlannerImpl.scala:200)\n" +
		"\t... 12 more\n"
	body, _ := json.Marshal(map[string][]string{"errors": {"Internal server error.", stack}})
	g := &fakeGateway{submitErr: string(body)}
	f := openFakeFlink(t, g, FlinkConfig{})
	_, err := f.Query(context.Background(), "SELECT * FROM nope", nil)
	var ge *FlinkGatewayError
	if !errors.As(err, &ge) {
		t.Fatalf("error = %v, want a *FlinkGatewayError", err)
	}
	want := "ValidationException: SQL validation failed. From line 1, column 15 to line 1, column 19: Object 'nope' not found within 'default_catalog'"
	if ge.Message != want || ge.Status != 500 {
		t.Errorf("message = %q (HTTP %d), want %q", ge.Message, ge.Status, want)
	}
	if strings.Contains(err.Error(), "\tat ") || strings.Contains(err.Error(), "FlinkPlannerImpl") {
		t.Errorf("error carries the stack trace: %v", err)
	}
}

func TestFlinkRootCause(t *testing.T) {
	for _, tc := range []struct {
		in   []string
		want string
	}{
		{[]string{"Internal server error."}, "Internal server error."},
		{[]string{"Internal server error.", "java.lang.IllegalStateException: boom\n\tat x.y(Z.java:1)"}, "IllegalStateException: boom"},
		{[]string{"Session 'abc' does not exist."}, "Session 'abc' does not exist."},
		{[]string{"Internal server error.", "<Exception on server side:\norg.apache.flink.table.gateway.api.utils.SqlGatewayException: Failed to fetchResults.\n\tat a.b(C.java:1)\n\nEnd of exception on server side>"}, "SqlGatewayException: Failed to fetchResults."},
	} {
		if got := flinkRootCause(tc.in); got != tc.want {
			t.Errorf("flinkRootCause(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
	e := newFlinkGatewayError("GET", "/v2/x?rowFormat=JSON", 502, []byte("<html>bad gateway</html>"))
	if e.Message != "<html>bad gateway</html>" || e.Path != "/v2/x" {
		t.Errorf("non-JSON error body: %+v", e)
	}
}

// Cancelling ctx while the result is not ready cancels and closes the
// operation on the gateway.
func TestFlinkClientCancel(t *testing.T) {
	g := &fakeGateway{pages: map[string]string{}}
	f := openFakeFlink(t, g, FlinkConfig{})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- drain(ctx, f, "SELECT slow", nil) }()
	time.Sleep(50 * time.Millisecond)
	cancel()
	select {
	case err := <-done:
		if !errors.Is(err, context.Canceled) {
			t.Errorf("error = %v, want one wrapping context.Canceled", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("query still running 5s after cancel")
	}
	deadline := time.Now().Add(5 * time.Second)
	for !g.sawCall("DELETE /v2/sessions/s1/operations/o1/close") && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	for _, call := range []string{"POST /v2/sessions/s1/operations/o1/cancel", "DELETE /v2/sessions/s1/operations/o1/close"} {
		if !g.sawCall(call) {
			t.Errorf("gateway never saw %s; calls: %v", call, g.calls)
		}
	}
	// The job that survived its operation is stopped, and only that one.
	for !g.sawStmt("STOP JOB '0123456789abcdef0123456789abcdef'") && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if !g.sawStmt("STOP JOB '0123456789abcdef0123456789abcdef'") || g.sawStmt("STOP JOB 'fedcba9876543210fedcba9876543210'") {
		t.Errorf("statements after the cancel: %q, want one STOP JOB for the query's job", g.stmts)
	}

	ctx, cancel = context.WithCancel(context.Background())
	cancel()
	if _, err := f.Query(ctx, "SELECT 1", nil); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled before start: error = %v", err)
	}
}

func TestFlinkQueryRejectsArgs(t *testing.T) {
	g := &fakeGateway{pages: map[string]string{}}
	f := openFakeFlink(t, g, FlinkConfig{})
	_, err := f.Query(context.Background(), "SELECT 1", []any{int64(1)})
	if err == nil || !strings.Contains(err.Error(), "inline") {
		t.Fatalf("error = %v, want one saying the dialect inlines literals", err)
	}
}

func TestFlinkUnmappedColumnType(t *testing.T) {
	g := &fakeGateway{pages: map[string]string{
		"0": `{"resultType":"PAYLOAD","results":{"columns":[{"name":"ok","logicalType":{"type":"INTEGER"}},{"name":"tags","logicalType":{"type":"ARRAY","nullable":true}}],"data":[]}}`,
	}}
	f := openFakeFlink(t, g, FlinkConfig{})
	_, err := f.Query(context.Background(), "SELECT 1", nil)
	if err == nil || !strings.Contains(err.Error(), `column 1 "tags"`) || !strings.Contains(err.Error(), "flink type ARRAY has no arrow mapping") {
		t.Fatalf("error = %v, want one naming column tags and type ARRAY", err)
	}
}

func TestFlinkArrowTypes(t *testing.T) {
	p := func(n int) *int { return &n }
	for _, tc := range []struct {
		in   flinkLogicalType
		want arrow.DataType
	}{
		{flinkLogicalType{Type: "BOOLEAN"}, arrow.FixedWidthTypes.Boolean},
		{flinkLogicalType{Type: "TINYINT"}, arrow.PrimitiveTypes.Int8},
		{flinkLogicalType{Type: "SMALLINT"}, arrow.PrimitiveTypes.Int16},
		{flinkLogicalType{Type: "INTEGER"}, arrow.PrimitiveTypes.Int32},
		{flinkLogicalType{Type: "BIGINT"}, arrow.PrimitiveTypes.Int64},
		{flinkLogicalType{Type: "FLOAT"}, arrow.PrimitiveTypes.Float32},
		{flinkLogicalType{Type: "DOUBLE"}, arrow.PrimitiveTypes.Float64},
		{flinkLogicalType{Type: "DECIMAL", Precision: p(38), Scale: p(4)}, &arrow.Decimal128Type{Precision: 38, Scale: 4}},
		{flinkLogicalType{Type: "CHAR", Length: p(3)}, arrow.BinaryTypes.String},
		{flinkLogicalType{Type: "VARCHAR", Length: p(2147483647)}, arrow.BinaryTypes.String},
		{flinkLogicalType{Type: "VARBINARY", Length: p(10)}, arrow.BinaryTypes.Binary},
		{flinkLogicalType{Type: "DATE"}, arrow.FixedWidthTypes.Date32},
		{flinkLogicalType{Type: "TIMESTAMP_WITHOUT_TIME_ZONE", Precision: p(6)}, &arrow.TimestampType{Unit: arrow.Microsecond}},
		{flinkLogicalType{Type: "TIMESTAMP_WITHOUT_TIME_ZONE", Precision: p(9)}, &arrow.TimestampType{Unit: arrow.Nanosecond}},
		{flinkLogicalType{Type: "TIMESTAMP_WITH_LOCAL_TIME_ZONE", Precision: p(3)}, &arrow.TimestampType{Unit: arrow.Millisecond, TimeZone: "UTC"}},
		{flinkLogicalType{Type: "NULL"}, arrow.Null},
	} {
		got, err := flinkArrowType(tc.in)
		if err != nil || !arrow.TypeEqual(got, tc.want) {
			t.Errorf("%s → %v, %v; want %v", tc.in, got, err, tc.want)
		}
	}
	for _, bad := range []flinkLogicalType{{Type: "MAP"}, {Type: "INTERVAL_DAY_TIME"}, {Type: "DECIMAL", Precision: p(40), Scale: p(0)}, {Type: "DECIMAL"}} {
		if _, err := flinkArrowType(bad); err == nil {
			t.Errorf("%s: no error", bad)
		}
	}
}

func TestFlinkValues(t *testing.T) {
	dec := &arrow.Decimal128Type{Precision: 10, Scale: 2}
	for _, tc := range []struct {
		in   any
		t    arrow.DataType
		want string
	}{
		{json.Number("12"), arrow.PrimitiveTypes.Int64, "int64(12)"},
		{json.Number("1.25"), arrow.PrimitiveTypes.Float64, "float64(1.25)"},
		{"-Infinity", arrow.PrimitiveTypes.Float64, fmt.Sprintf("float64(%v)", math.Inf(-1))},
		{json.Number("3.30"), dec, `string(3.30)`},
		{json.Number("0E-2"), dec, "enginebridge.scaledInt({0 2})"},
		{json.Number("1.5E+1"), dec, "enginebridge.scaledInt({1500 2})"},
		{"2024-02-29", arrow.FixedWidthTypes.Date32, "time.Time(2024-02-29 00:00:00 +0000 UTC)"},
		{"2024-02-29T01:02:03.5Z", &arrow.TimestampType{Unit: arrow.Millisecond, TimeZone: "UTC"}, "time.Time(2024-02-29 01:02:03.5 +0000 UTC)"},
		{"AQI=", arrow.BinaryTypes.Binary, "[]uint8([1 2])"},
	} {
		got, err := flinkValue(tc.in, tc.t)
		if err != nil {
			t.Errorf("%v as %s: %v", tc.in, tc.t, err)
			continue
		}
		if s := fmt.Sprintf("%T(%v)", got, got); s != tc.want {
			t.Errorf("%v as %s = %s, want %s", tc.in, tc.t, s, tc.want)
		}
	}
	for _, bad := range []struct {
		in any
		t  arrow.DataType
	}{
		{json.Number("1.5"), arrow.PrimitiveTypes.Int32},
		{"x", arrow.PrimitiveTypes.Int64},
		{"02/29/2024", arrow.FixedWidthTypes.Date32},
		{true, arrow.BinaryTypes.String},
	} {
		if _, err := flinkValue(bad.in, bad.t); err == nil {
			t.Errorf("%v as %s: no error", bad.in, bad.t)
		}
	}
}

func TestFlinkTableDDL(t *testing.T) {
	dir := t.TempDir()
	csv := filepath.Join(dir, "we'ird.csv")
	if err := os.WriteFile(csv, []byte("1,a\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	ddl, err := flinkTableDDL([]TableSource{{Name: "odd`name", Format: FormatCSV, Path: csv}},
		map[string][]FlinkColumn{"odd`name": {{"id", "BIGINT"}, {"we`ird", "DECIMAL(10, 2)"}}})
	if err != nil {
		t.Fatal(err)
	}
	want := "CREATE TEMPORARY TABLE `odd``name` (`id` BIGINT, `we``ird` DECIMAL(10, 2)) WITH ('connector' = 'filesystem', 'path' = '" +
		strings.ReplaceAll(csv, "'", "''") + "', 'format' = 'csv', 'csv.null-literal' = '')"
	if diff := cmp.Diff([]string{want}, ddl); diff != "" {
		t.Errorf("ddl (-want +got):\n%s", diff)
	}
	for _, tc := range []struct {
		src     TableSource
		schemas map[string][]FlinkColumn
		want    string
	}{
		{TableSource{Name: "t", Format: FormatCSV, Path: csv}, nil, "needs its columns declared"},
		{TableSource{Name: "t", Format: FormatDuckDB, Path: csv}, nil, `"duckdb" is not supported`},
		{TableSource{Name: "t", Format: FormatCSV, Path: "rel.csv"}, map[string][]FlinkColumn{"t": {{"a", "INT"}}}, "not absolute"},
		{TableSource{Name: "t", Format: FormatCSV, Path: csv}, map[string][]FlinkColumn{"t": {{"a", "INT) WITH ('connector'='x'"}}}, "not a plain Flink SQL type"},
	} {
		_, err := flinkTableDDL([]TableSource{tc.src}, tc.schemas)
		if err == nil || !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), "tables[0]") {
			t.Errorf("%+v: error = %v, want one with %q naming tables[0]", tc.src, err, tc.want)
		}
	}
}

var _ array.RecordReader = (*flinkReader)(nil)

// A session the gateway lost (restart, expiry) is replaced, with its
// tables declared again, and the query retried once.
func TestFlinkClientReopensLostSession(t *testing.T) {
	csv := filepath.Join(t.TempDir(), "t.csv")
	if err := os.WriteFile(csv, []byte("1\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	g := &fakeGateway{pages: map[string]string{"0": `{"resultType":"EOS","results":{"columns":[{"name":"n","logicalType":{"type":"BIGINT"}}],"data":[]}}`}}
	f := openFakeFlink(t, g, FlinkConfig{Tables: []TableSource{{Name: "t", Format: FormatCSV, Path: csv}}, Schemas: map[string][]FlinkColumn{"t": {{"n", "BIGINT"}}}})
	g.mu.Lock()
	g.lost = map[string]bool{"s1": true}
	g.mu.Unlock()
	r, err := f.Query(context.Background(), "SELECT n FROM t", nil)
	if err != nil {
		t.Fatal(err)
	}
	r.Release()
	if f.currentSession() != "s2" {
		t.Errorf("session = %s, want s2", f.currentSession())
	}
	var creates int
	for _, st := range g.stmts {
		if strings.HasPrefix(st, "CREATE TEMPORARY TABLE `t`") {
			creates++
		}
	}
	if creates != 2 {
		t.Errorf("table declared %d times, want 2 (once per session); statements: %q", creates, g.stmts)
	}
	// A session lost for good is an error naming the cause.
	g.mu.Lock()
	g.lost["s2"], g.lost["s3"] = true, true
	g.mu.Unlock()
	_, err = f.Query(context.Background(), "SELECT n FROM t", nil)
	if err == nil || !strings.Contains(err.Error(), "does not exist") {
		t.Errorf("error = %v, want the gateway's session error", err)
	}
}
