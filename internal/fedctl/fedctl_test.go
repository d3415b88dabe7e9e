package fedctl

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/fedmesh/fedmesh/audit"
	"github.com/fedmesh/fedmesh/internal/config"
)

func run(t *testing.T, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errb bytes.Buffer
	code = Main(context.Background(), args, &out, &errb)
	return code, out.String(), errb.String()
}

func TestUsageErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		args []string
		want string
	}{
		{name: "no command", args: nil, want: "no command"},
		{name: "unknown command", args: []string{"frobnicate"}, want: `unknown command "frobnicate"`},
		{name: "query without sql", args: []string{"query", "--token", "x"}, want: "exactly one SQL argument"},
		{name: "bad format", args: []string{"query", "--token", "x", "--format", "xml", "SELECT 1"}, want: `--format "xml"`},
		{name: "verify without files", args: []string{"audit", "verify"}, want: "at least one FILE"},
		{name: "certs without out", args: []string{"certs", "init", "--sites", "a"}, want: "--out and --sites are required"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			code, _, stderr := run(t, tt.args...)
			if code != exitUsage {
				t.Errorf("exit code = %d, want %d", code, exitUsage)
			}
			if !strings.Contains(stderr, tt.want) {
				t.Errorf("stderr %q does not mention %q", stderr, tt.want)
			}
		})
	}
}

// TestDemoInitWritesLoadableConfigs checks that what `fedctl demo init`
// writes is accepted by the daemons' own config loaders.
func TestDemoInitWritesLoadableConfigs(t *testing.T) {
	t.Parallel()
	dir := filepath.Join(t.TempDir(), "demo")
	code, out, stderr := run(t, "demo", "init", "--dir", dir, "--sites", "a,b", "--rows", "2000", "--base-port", "9001")
	if code != exitOK {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	if !strings.Contains(out, "127.0.0.1:9000") {
		t.Errorf("output %q does not say where the coordinator listens", out)
	}
	coord, err := config.LoadCoordinator(filepath.Join(dir, "coordinator.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	if len(coord.Sites) != 2 || coord.Sites[1].Address != "127.0.0.1:9002" || coord.Sites[1].SPIFFEID != "spiffe://example.org/site/b" {
		t.Errorf("coordinator sites = %+v", coord.Sites)
	}
	for _, s := range []string{"a", "b"} {
		ag, err := config.LoadAgent(filepath.Join(dir, "site-"+s+".yaml"))
		if err != nil {
			t.Fatal(err)
		}
		for _, tb := range ag.Tables {
			if _, err := os.Stat(tb.Path); err != nil {
				t.Errorf("site %s table %s: %v", s, tb.Name, err)
			}
		}
		if _, err := os.Stat(ag.Identity.Key); err != nil {
			t.Errorf("site %s key: %v", s, err)
		}
	}
	tok, err := os.ReadFile(filepath.Join(dir, "analyst.token"))
	if err != nil {
		t.Fatal(err)
	}
	if len(strings.TrimSpace(string(tok))) < 32 {
		t.Errorf("analyst token %q is too short", tok)
	}
	if fi, _ := os.Stat(filepath.Join(dir, "analyst.token")); fi.Mode().Perm() != 0o600 {
		t.Errorf("analyst.token mode = %v, want 0600", fi.Mode().Perm())
	}
}

func fakeCoordinator(t *testing.T, status int, body string) string {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/v1/query" || r.Header.Get("Authorization") != "Bearer tok" {
			http.Error(w, "unexpected request", http.StatusTeapot)
			return
		}
		b, _ := io.ReadAll(r.Body)
		if !strings.Contains(string(b), `"sql":"SELECT 1"`) {
			http.Error(w, "unexpected body "+string(b), http.StatusTeapot)
			return
		}
		w.WriteHeader(status)
		_, _ = io.WriteString(w, body)
	}))
	t.Cleanup(srv.Close)
	return srv.URL
}

func TestQueryFormats(t *testing.T) {
	t.Parallel()
	const ok = `{"query_id":"q1","columns":[{"name":"region","type":"VARCHAR"},{"name":"total","type":"HUGEINT"},{"name":"avg","type":"DOUBLE"}],
		"rows":[["north",123456789012345678901234567890,1.23456789],["south",null,2]],
		"sites":[{"site":"a","status":"ok","rows":2,"suppressed_groups":1},{"site":"b","status":"ok","rows":1,"suppressed_groups":0}],"suppressed_groups":1}`
	url := fakeCoordinator(t, 200, ok)
	tests := []struct {
		format string
		want   []string
	}{
		{format: "table", want: []string{"region|", "123456789012345678901234567890|", "1.2346|", "NULL|", "1 groups suppressed by site policy [a: 1, b: 0]"}},
		{format: "csv", want: []string{"region,total,avg\n", "north,123456789012345678901234567890,1.23456789\n", "south,,2\n"}},
		{format: "json", want: []string{`"query_id":"q1"`}},
	}
	for _, tt := range tests {
		t.Run(tt.format, func(t *testing.T) {
			t.Parallel()
			code, out, stderr := run(t, "query", "--coordinator", url, "--token", "tok", "--format", tt.format, "SELECT 1")
			if code != exitOK {
				t.Fatalf("exit %d: %s", code, stderr)
			}
			for _, w := range tt.want {
				if !strings.Contains(out, w) {
					t.Errorf("output does not contain %q:\n%s", w, out)
				}
			}
		})
	}
}

func TestQueryShowsApproximateColumns(t *testing.T) {
	t.Parallel()
	const ok = `{"query_id":"q3","columns":[{"name":"region","type":"VARCHAR"},{"name":"d","type":"BIGINT"}],
		"rows":[["north",4952]],"sites":[{"site":"a","status":"ok","rows":1,"suppressed_groups":0}],"suppressed_groups":0,
		"approximate":[{"column":"d","method":"hyperloglog","relative_error":0.01625,"bound":"within ±1.63% of the exact count"}]}`
	url := fakeCoordinator(t, 200, ok)
	code, out, stderr := run(t, "query", "--coordinator", url, "--token", "tok", "SELECT 1")
	if code != exitOK {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	for _, w := range []string{"~d|", "~d is approximate: within ±1.63% of the exact count"} {
		if !strings.Contains(out, w) {
			t.Errorf("table output does not contain %q:\n%s", w, out)
		}
	}
	code, out, stderr = run(t, "query", "--coordinator", url, "--token", "tok", "--format", "csv", "SELECT 1")
	if code != exitOK || !strings.HasPrefix(out, "region,d\n") || !strings.Contains(stderr, "~d is approximate") {
		t.Errorf("csv: exit %d, stdout %q, stderr %q; want a clean CSV and the note on stderr", code, out, stderr)
	}
}

// TestQueryShowsSuppressedAggregate: a global aggregate every site withheld
// reads as suppressed, not as NULL or zero.
func TestQueryShowsSuppressedAggregate(t *testing.T) {
	t.Parallel()
	const ok = `{"query_id":"q4","columns":[{"name":"n","type":"BIGINT"}],"rows":[[null]],
		"sites":[{"site":"a","status":"ok","rows":0,"suppressed_groups":1}],"suppressed_groups":1,"suppressed":true}`
	url := fakeCoordinator(t, 200, ok)
	code, out, stderr := run(t, "query", "--coordinator", url, "--token", "tok", "SELECT 1")
	if code != exitOK {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	for _, w := range []string{"(suppressed)|", "suppressed: every site withheld this aggregate", "not zero"} {
		if !strings.Contains(out, w) {
			t.Errorf("table output does not contain %q:\n%s", w, out)
		}
	}
	code, out, stderr = run(t, "query", "--coordinator", url, "--token", "tok", "--format", "csv", "SELECT 1")
	if code != exitOK || out != "n\n\"\"\n" && out != "n\n\n" || !strings.Contains(stderr, "suppressed: every site withheld") {
		t.Errorf("csv: exit %d, stdout %q, stderr %q; want an empty value and the note on stderr", code, out, stderr)
	}
}

func TestQueryDeniedExitsNonZeroWithReasons(t *testing.T) {
	t.Parallel()
	url := fakeCoordinator(t, 403, `{"error":{"code":"policy_denied","message":"site \"b\" refused the query","site":"b","reasons":["fedmesh.aggregate_only: no raw rows"],"query_id":"q2"}}`)
	code, out, stderr := run(t, "query", "--coordinator", url, "--token", "tok", "SELECT 1")
	if code != exitFail {
		t.Errorf("exit code = %d, want %d", code, exitFail)
	}
	if out != "" {
		t.Errorf("a denied query printed to stdout: %q", out)
	}
	for _, w := range []string{`DENIED by site "b"`, "fedmesh.aggregate_only: no raw rows"} {
		if !strings.Contains(stderr, w) {
			t.Errorf("stderr %q does not contain %q", stderr, w)
		}
	}
}

func TestAuditVerifyExitCodes(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	good := filepath.Join(dir, "good.log")
	l, err := audit.Open(good, audit.Options{})
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 3; i++ {
		if _, _, err := l.Append(context.Background(), audit.Record{Component: "coordinator", Event: audit.EventQuery, QueryID: "q"}); err != nil {
			t.Fatal(err)
		}
	}
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	code, out, _ := run(t, "audit", "verify", good)
	if code != exitOK || !strings.Contains(out, "chain intact") {
		t.Errorf("good log: exit %d, output %q", code, out)
	}

	b, _ := os.ReadFile(good)
	bad := filepath.Join(dir, "bad.log")
	lines := strings.SplitAfter(string(b), "\n")
	if err := os.WriteFile(bad, []byte(lines[0]+lines[2]), 0o600); err != nil { // record 2 deleted
		t.Fatal(err)
	}
	code, out, stderr := run(t, "audit", "verify", good, bad)
	if code != exitFail {
		t.Errorf("tampered log: exit %d, want %d", code, exitFail)
	}
	if !strings.Contains(out, "deleted") || !strings.Contains(stderr, "1 of 2 audit logs failed") {
		t.Errorf("output %q / stderr %q should report the deletion", out, stderr)
	}
}

// TestQueryShowsPartialAndRetry: a partial answer names its missing sites
// on stderr; a busy refusal shows its retry-after.
func TestQueryShowsPartialAndRetry(t *testing.T) {
	t.Parallel()
	const partial = `{"query_id":"q5","columns":[{"name":"n","type":"BIGINT"}],"rows":[[3]],
		"sites":[{"site":"a","status":"ok","rows":1,"suppressed_groups":0}],"suppressed_groups":0,
		"partial":true,"missing":[{"site":"c","code":"timeout","reason":"site \"c\" did not answer within the query's deadline"}]}`
	code, out, stderr := run(t, "query", "--coordinator", fakeCoordinator(t, 200, partial), "--token", "tok", "--allow-partial", "SELECT 1")
	if code != exitOK || !strings.Contains(out, "3") {
		t.Fatalf("exit %d, stdout %q, stderr %q", code, out, stderr)
	}
	for _, w := range []string{"PARTIAL answer (query q5): 1 site(s) missing", "c (timeout): site \"c\" did not answer"} {
		if !strings.Contains(stderr, w) {
			t.Errorf("stderr %q does not contain %q", stderr, w)
		}
	}
	busy := `{"error":{"code":"site_busy","message":"site \"b\": resource exhausted: busy","site":"b","retry_after":5,"query_id":"q6"}}`
	code, _, stderr = run(t, "query", "--coordinator", fakeCoordinator(t, 503, busy), "--token", "tok", "SELECT 1")
	if code != exitFail || !strings.Contains(stderr, "query failed (site_busy)") || !strings.Contains(stderr, "retry after 5s") {
		t.Errorf("busy: exit %d, stderr %q", code, stderr)
	}
}
