package fedctl

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

func TestTablesAndDescribe(t *testing.T) {
	t.Parallel()
	const cat = `{"tables":[{"name":"customers","columns":[{"name":"id","type":"BIGINT"}],"sites":["a"]},
		{"name":"sales","columns":[{"name":"region","type":"VARCHAR"},{"name":"amount","type":"DOUBLE"}],"sites":["a","b"],"conflicts":["b"]}],
		"undeclared_sites":["c"]}`
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet || r.URL.Path != "/v1/catalog" || r.Header.Get("Authorization") != "Bearer tok" {
			http.Error(w, "unexpected request", http.StatusTeapot)
			return
		}
		_, _ = io.WriteString(w, cat)
	}))
	t.Cleanup(srv.Close)
	tests := []struct {
		name     string
		args     []string
		code     int
		want     []string
		wantErr  string
		notInOut string
	}{
		{name: "tables", args: []string{"tables"}, want: []string{"TABLE", "customers  1", "sales      2        a,b"}, wantErr: "declare no tables (may hold any): c"},
		{name: "describe", args: []string{"describe", "sales"}, want: []string{"Table sales at sites a, b", "differently: b", "region  VARCHAR", "amount  DOUBLE"}, notInOut: "customers"},
		{name: "describe json", args: []string{"describe", "--format", "json", "customers"}, want: []string{`"name":"customers"`}},
		{name: "unknown table", args: []string{"describe", "returns"}, code: exitFail, wantErr: `no site reports a table "returns" (tables: customers, sales)`},
		{name: "describe without table", args: []string{"describe"}, code: exitUsage, wantErr: "exactly one TABLE"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			args := append([]string{tt.args[0], "--coordinator", srv.URL, "--token", "tok"}, tt.args[1:]...)
			code, out, stderr := run(t, args...)
			if code != tt.code {
				t.Fatalf("exit %d, want %d: %s", code, tt.code, stderr)
			}
			for _, w := range tt.want {
				if !strings.Contains(out, w) {
					t.Errorf("output does not contain %q:\n%s", w, out)
				}
			}
			if tt.notInOut != "" && strings.Contains(out, tt.notInOut) {
				t.Errorf("output contains %q:\n%s", tt.notInOut, out)
			}
			if !strings.Contains(stderr, tt.wantErr) {
				t.Errorf("stderr does not contain %q:\n%s", tt.wantErr, stderr)
			}
		})
	}
}

// TestQuerySQLFromStdin checks that "-" sends the SQL read from stdin.
// Not parallel: it replaces the package's stdin.
func TestQuerySQLFromStdin(t *testing.T) {
	url := fakeCoordinator(t, 200, `{"query_id":"q1","columns":[{"name":"n","type":"BIGINT"}],"rows":[[1]],"sites":[]}`)
	old := stdin
	t.Cleanup(func() { stdin = old })
	stdin = strings.NewReader("  SELECT 1\n")
	if code, out, stderr := run(t, "query", "--coordinator", url, "--token", "tok", "-"); code != exitOK || !strings.Contains(out, "n") {
		t.Fatalf("exit %d, out %q, stderr %q", code, out, stderr)
	}
	stdin = strings.NewReader("\n")
	if code, _, stderr := run(t, "query", "--coordinator", url, "--token", "tok", "-"); code != exitUsage || !strings.Contains(stderr, "stdin is empty") {
		t.Fatalf("empty stdin: exit %d, stderr %q", code, stderr)
	}
}
