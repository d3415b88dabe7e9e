package coordinator

import (
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"

	"github.com/fedmesh/fedmesh/audit"
	"github.com/fedmesh/fedmesh/internal/review"
)

// TestReviewPagesMounted: the coordinator serves the review pages (package
// review) under /audit/, admitting its analysts by their bearer tokens,
// and only those with the auditor role.
func TestReviewPagesMounted(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "coordinator.log")
	l, err := audit.Open(path, audit.Options{Component: audit.ComponentCoordinator})
	if err != nil {
		t.Fatal(err)
	}
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	c := &Coordinator{
		cfg: Config{AuditPath: path, Analysts: []Analyst{
			{ID: "alice", Roles: []string{"analyst"}, TokenSHA256: TokenHash("alice-token")},
			{ID: "audrey", Roles: []string{review.RoleAuditor}, TokenSHA256: TokenHash("auditor-token")},
		}},
		log: slog.New(slog.DiscardHandler),
	}
	srv := httptest.NewServer(c.routes())
	t.Cleanup(srv.Close)
	tests := []struct {
		name, path, token string
		status            int
		want              string
	}{
		{name: "auditor", path: "/audit/", token: "auditor-token", status: http.StatusOK, want: "audrey"},
		{name: "analyst without auditor role", path: "/audit/", token: "alice-token", status: http.StatusForbidden, want: "auditor"},
		{name: "unknown token", path: "/audit/", token: "nope", status: http.StatusUnauthorized},
		{name: "no token", path: "/audit/", status: http.StatusUnauthorized, want: "?token="},
		{name: "style sheet", path: "/audit/style.css", status: http.StatusOK},
		{name: "other paths are not the review's", path: "/auditx", token: "auditor-token", status: http.StatusNotFound},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			req, _ := http.NewRequest(http.MethodGet, srv.URL+tt.path, nil)
			if tt.token != "" {
				req.Header.Set("Authorization", "Bearer "+tt.token)
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			b, _ := io.ReadAll(resp.Body)
			if resp.StatusCode != tt.status {
				t.Fatalf("HTTP %d, want %d\n%s", resp.StatusCode, tt.status, b)
			}
			if !strings.Contains(string(b), tt.want) {
				t.Errorf("page lacks %q:\n%s", tt.want, b)
			}
		})
	}
}
