package review

import (
	"time"

	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"

	"github.com/fedmesh/fedmesh/audit"
)

// reviewServer serves the review pages over a coordinator log holding a
// query by alice whose SQL tries to inject markup, and a denied one by bob.
func reviewServer(t *testing.T) *httptest.Server {
	t.Helper()
	path := filepath.Join(t.TempDir(), "coordinator.log")
	l, err := audit.Open(path, audit.Options{Component: audit.ComponentCoordinator})
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range []audit.Record{
		{Event: audit.EventQuery, QueryID: "q-alice", Analyst: "alice", Purpose: "revenue", SQL: `SELECT '<script>alert(1)</script>' FROM sales`, Decision: "allow",
			Sites: []audit.SiteOutcome{{Site: "a", Status: "ok", Rows: 3}}},
		{Event: audit.EventQuery, QueryID: "q-bob", Analyst: "bob", SQL: "SELECT customer_id FROM sales", Decision: "deny",
			Sites: []audit.SiteOutcome{{Site: "b", Status: "denied", Reasons: []string{"column customer_id is denied"}}}},
	} {
		if _, _, err := l.Append(context.Background(), r); err != nil {
			t.Fatal(err)
		}
	}
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	callers := map[string]Caller{
		"alice-token":   {ID: "alice", Roles: []string{"analyst"}},
		"auditor-token": {ID: "audrey", Roles: []string{RoleAuditor}},
	}
	h := New(Config{AuditPath: path, Authenticate: func(token string) (Caller, bool) {
		c, ok := callers[token]
		return c, ok
	}})
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return srv
}

func get(t *testing.T, client *http.Client, url, token string) (*http.Response, string) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, url, nil)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, string(b)
}

func TestReviewPageAccess(t *testing.T) {
	t.Parallel()
	srv := reviewServer(t)
	tests := []struct {
		name, path, token string
		status            int
		want, notWant     []string
	}{
		{name: "no token", path: "/audit/", status: 401, want: []string{"?token="}, notWant: []string{"q-alice"}},
		{name: "analyst without auditor role", path: "/audit/", token: "alice-token", status: 403, want: []string{"auditor"}, notWant: []string{"q-alice"}},
		{name: "unknown token", path: "/audit/", token: "nope", status: 401},
		{name: "auditor sees the timeline, markup escaped", path: "/audit/", token: "auditor-token", status: 200,
			want: []string{"q-alice", "q-bob", "&lt;script&gt;alert(1)&lt;/script&gt;", "column customer_id is denied", "intact"}, notWant: []string{"<script>"}},
		{name: "filter by analyst", path: "/audit/?analyst=bob", token: "auditor-token", status: 200, want: []string{"q-bob"}, notWant: []string{"q-alice"}},
		{name: "filter by decision", path: "/audit/?decision=allow", token: "auditor-token", status: 200, want: []string{"q-alice"}, notWant: []string{"q-bob"}},
		{name: "filter by site", path: "/audit/?site=b", token: "auditor-token", status: 200, want: []string{"q-bob"}, notWant: []string{"q-alice"}},
		{name: "filter by time", path: "/audit/?until=2000-01-01", token: "auditor-token", status: 200, want: []string{"No queries match"}, notWant: []string{"q-alice", "q-bob"}},
		{name: "query page", path: "/audit/query/q-bob", token: "auditor-token", status: 200, want: []string{"Site decisions", "denied", "column customer_id is denied"}},
		{name: "unknown query", path: "/audit/query/q-none", token: "auditor-token", status: 404},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			resp, body := get(t, http.DefaultClient, srv.URL+tt.path, tt.token)
			if resp.StatusCode != tt.status {
				t.Fatalf("HTTP %d, want %d\n%s", resp.StatusCode, tt.status, body)
			}
			if csp := resp.Header.Get("Content-Security-Policy"); !strings.Contains(csp, "default-src 'none'") {
				t.Errorf("Content-Security-Policy %q", csp)
			}
			for _, w := range tt.want {
				if !strings.Contains(body, w) {
					t.Errorf("page lacks %q", w)
				}
			}
			for _, w := range tt.notWant {
				if strings.Contains(body, w) {
					t.Errorf("page contains %q", w)
				}
			}
		})
	}
}

func TestReviewTokenBecomesSessionCookie(t *testing.T) {
	t.Parallel()
	srv := reviewServer(t)
	noRedirect := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, _ := get(t, noRedirect, srv.URL+"/audit/?analyst=bob&token=auditor-token", "")
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("HTTP %d, want 303", resp.StatusCode)
	}
	if loc := resp.Header.Get("Location"); loc != "/audit/?analyst=bob" {
		t.Errorf("redirect to %q, want the same page without the token", loc)
	}
	var ck *http.Cookie
	for _, c := range resp.Cookies() {
		if c.Name == sessionCookie {
			ck = c
		}
	}
	if ck == nil || !ck.HttpOnly || ck.SameSite != http.SameSiteStrictMode || strings.Contains(ck.Value, "auditor-token") {
		t.Fatalf("session cookie %+v", ck)
	}
	req, _ := http.NewRequest(http.MethodGet, srv.URL+"/audit/?analyst=bob", nil)
	req.AddCookie(ck)
	resp2, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp2.Body.Close()
	if resp2.StatusCode != 200 {
		t.Errorf("with the session cookie: HTTP %d", resp2.StatusCode)
	}
	// A made-up session is refused.
	req.Header.Del("Cookie")
	req.AddCookie(&http.Cookie{Name: sessionCookie, Value: "forged"})
	resp3, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp3.Body.Close()
	if resp3.StatusCode != 401 {
		t.Errorf("with a forged session cookie: HTTP %d, want 401", resp3.StatusCode)
	}
	// An analyst's token is not exchanged.
	resp4, _ := get(t, noRedirect, srv.URL+"/audit/?token=alice-token", "")
	if resp4.StatusCode != 403 || len(resp4.Cookies()) != 0 {
		t.Errorf("analyst token: HTTP %d, cookies %v", resp4.StatusCode, resp4.Cookies())
	}
}

// TestSessionEndsWithTheCredential: a session made from a credential that
// expires sooner than the session's own lifetime ends with the credential.
func TestSessionEndsWithTheCredential(t *testing.T) {
	t.Parallel()
	var s sessions
	soon := time.Now().Add(5 * time.Minute)
	id := s.create(Caller{ID: "alice", Roles: []string{RoleAuditor}, Expires: soon})
	if got := s.m[id].expires; !got.Equal(soon) {
		t.Errorf("session expires %v, want the credential's %v", got, soon)
	}
	id = s.create(Caller{ID: "sam", Roles: []string{RoleAuditor}})
	if left := time.Until(s.m[id].expires); left < sessionTTL-time.Minute {
		t.Errorf("a static-token session lasts %v, want %v", left, sessionTTL)
	}
}
