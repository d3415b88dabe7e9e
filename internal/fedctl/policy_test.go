package fedctl

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestPolicyTestRunsRegoTests(t *testing.T) {
	t.Parallel()
	write := func(body string) string {
		dir := t.TempDir()
		if err := os.WriteFile(filepath.Join(dir, "p_test.rego"), []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
		return dir
	}
	tests := []struct {
		name     string
		args     []string
		wantCode int
		wantOut  string
	}{
		{"library and default bundle pass", []string{"policy", "test", "../../policy/library", "../../policy/bundles/default"}, exitOK, "PASS: "},
		{"a failing test fails", []string{"policy", "test", write("package p_test\n\ntest_one if 1 == 2\n")}, exitFail, "FAIL: 1/1"},
		{"no directory", []string{"policy", "test"}, exitUsage, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var out, errb bytes.Buffer
			if code := Main(context.Background(), tt.args, &out, &errb); code != tt.wantCode {
				t.Fatalf("exit %d, want %d; stdout:\n%s\nstderr:\n%s", code, tt.wantCode, out.String(), errb.String())
			}
			if !strings.Contains(out.String(), tt.wantOut) {
				t.Errorf("stdout does not contain %q:\n%s", tt.wantOut, out.String())
			}
		})
	}
}

func TestPolicyExplainPrintsEachSite(t *testing.T) {
	t.Parallel()
	var got map[string]any
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/v1/policy/explain" || r.Header.Get("Authorization") != "Bearer tok" {
			http.Error(w, "wrong request", http.StatusBadRequest)
			return
		}
		_ = json.NewDecoder(r.Body).Decode(&got)
		_, _ = w.Write([]byte(`{"query_id": "q1", "sites": [
			{"site": "a", "allow": true, "reasons": ["fedmesh.allow: ok"], "obligations": {"min_group_size": 10}, "bundle_revision": "r1", "engine_sql": "SELECT 1"},
			{"site": "b", "allow": false, "reasons": ["fedmesh.aggregate_only: no"], "bundle_revision": "r2"}]}`))
	}))
	defer srv.Close()
	var out, errb bytes.Buffer
	code := Main(context.Background(), []string{"policy", "explain", "--coordinator", srv.URL, "--token", "tok", "--site", "a,b", "--purpose", "audit", "SELECT 1"}, &out, &errb)
	if code != exitOK {
		t.Fatalf("exit %d: %s", code, errb.String())
	}
	for _, want := range []string{"site a: ALLOW (bundle revision r1)", `obligations: {"min_group_size": 10}`, "site SQL:    SELECT 1", "site b: DENY (bundle revision r2)", "reason:      fedmesh.aggregate_only: no"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("output lacks %q:\n%s", want, out.String())
		}
	}
	if got["purpose"] != "audit" || len(got["sites"].([]any)) != 2 {
		t.Errorf("request body = %v", got)
	}
}
