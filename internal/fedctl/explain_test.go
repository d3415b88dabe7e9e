package fedctl

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// fakeExplainCoordinator answers POST /v1/explain with status and body.
func fakeExplainCoordinator(t *testing.T, status int, body string) string {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		if r.Method != http.MethodPost || r.URL.Path != "/v1/explain" || r.Header.Get("Authorization") != "Bearer tok" || !strings.Contains(string(b), `"sql":`) {
			http.Error(w, "unexpected request", http.StatusTeapot)
			return
		}
		w.WriteHeader(status)
		_, _ = io.WriteString(w, body)
	}))
	t.Cleanup(srv.Close)
	return srv.URL
}

func TestExplainPrintsSitesAndMerge(t *testing.T) {
	t.Parallel()
	url := fakeExplainCoordinator(t, 200, `{"logical":{"table":"sales","kind":"aggregate","group_by":["g0 = region"],"partials":["a0 = count(*)"]},
		"sites":[{"site":"a","dialect":"postgres","sql":"SELECT \"region\" AS \"g0\" FROM \"sales\" WHERE (\"year\" = $1)","args":[2024]},
		{"site":"b","dialect":"mysql","error":"cast: mysql cannot cast to boolean"}],
		"skipped":["c"],"merge":{"outputs":[]},"merge_text":["group the sites' partial rows by g0","m0 = sum of counts(a0)"]}`)
	code, out, stderr := run(t, "explain", "--coordinator", url, "--token", "tok", "SELECT 1")
	if code != exitOK {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	for _, w := range []string{"key:     g0 = region", "a (postgres):", `WHERE ("year" = $1)`, "arg 1: 2024",
		"b (mysql):\n    cannot render: cast: mysql cannot cast to boolean", "c: not contacted", "m0 = sum of counts(a0)"} {
		if !strings.Contains(out, w) {
			t.Errorf("output does not contain %q:\n%s", w, out)
		}
	}
	url = fakeExplainCoordinator(t, 400, `{"error":{"code":"parse_error","message":"at position 8: subquery: not supported","position":8}}`)
	code, out, stderr = run(t, "explain", "--coordinator", url, "--token", "tok", "SELECT (SELECT 1)")
	if code != exitFail || out != "" || !strings.Contains(stderr, "subquery") {
		t.Errorf("refused explain: exit %d, stdout %q, stderr %q", code, out, stderr)
	}
}
