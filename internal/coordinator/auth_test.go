package coordinator

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/fedmesh/fedmesh/audit"
	"github.com/fedmesh/fedmesh/internal/credential"
	"github.com/fedmesh/fedmesh/internal/review"
)

const authIssuer = "https://idp.example.org/realms/research"

// authFixture is a coordinator that trusts one issuer's credentials and
// has one static token, served over HTTP on loopback: POST /v1/whoami is a
// SQL endpoint (the same authentication as /v1/query) that answers with
// the analyst it was given; /audit/ is the review page.
type authFixture struct {
	srv  *httptest.Server
	iss  *credential.Issuer
	logs *bytes.Buffer
}

type whoami struct {
	ID         string
	Roles      []string
	Credential string
}

func newAuthFixture(t *testing.T) authFixture {
	t.Helper()
	dir := t.TempDir()
	iss, err := credential.NewIssuer(authIssuer)
	if err != nil {
		t.Fatal(err)
	}
	jwks, err := iss.PublicJWKS()
	if err != nil {
		t.Fatal(err)
	}
	jwksPath := filepath.Join(dir, "issuer.jwks")
	if err := os.WriteFile(jwksPath, jwks, 0o644); err != nil {
		t.Fatal(err)
	}
	v, err := credential.New(credential.Config{Issuer: authIssuer, Audience: "fedmesh", JWKSFile: jwksPath})
	if err != nil {
		t.Fatal(err)
	}
	auditPath := filepath.Join(dir, "coordinator.log")
	l, err := audit.Open(auditPath, audit.Options{Component: audit.ComponentCoordinator})
	if err != nil {
		t.Fatal(err)
	}
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	logs := &bytes.Buffer{}
	c := &Coordinator{
		cfg: Config{AuditPath: auditPath, AnalystVerifier: v, Analysts: []Analyst{
			{ID: "static-sam", Roles: []string{"analyst"}, TokenSHA256: TokenHash("sam-token")},
		}},
		log: slog.New(slog.NewTextHandler(logs, nil)),
	}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /v1/whoami", sqlEndpoint(c, `{"sql": "..."}`,
		func(_ context.Context, an Analyst, _ queryRequest) (any, error) {
			return whoami{ID: an.ID, Roles: an.Roles, Credential: an.Credential}, nil
		}))
	mux.Handle("/audit/", c.routes())
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return authFixture{srv: srv, iss: iss, logs: logs}
}

func (f authFixture) mint(t *testing.T, roles []string, audience string, ttl time.Duration) string {
	t.Helper()
	tok, err := f.iss.Mint("alice", roles, audience, ttl)
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

func TestBearerCredential(t *testing.T) {
	t.Parallel()
	f := newAuthFixture(t)
	good := f.mint(t, []string{"analyst", "epidemiology"}, "fedmesh", 10*time.Minute)
	other, err := credential.NewIssuer(authIssuer) // right name, key not trusted
	if err != nil {
		t.Fatal(err)
	}
	forged, err := other.Mint("alice", []string{"admin"}, "fedmesh", 10*time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	parts := strings.Split(good, ".")
	claims, _ := json.Marshal(map[string]any{"sub": "", "roles": []string{"admin"}})
	tampered := parts[0] + "." + base64.RawURLEncoding.EncodeToString(claims) + "." + parts[2]

	tests := []struct {
		name       string
		token      string
		wantStatus int
		want       *whoami
		wantMsg    string // in the error message
	}{
		{name: "valid credential", token: good, wantStatus: 200,
			want: &whoami{ID: "alice", Roles: []string{"analyst", "epidemiology"}, Credential: good}},
		{name: "static token still works", token: "sam-token", wantStatus: 200,
			want: &whoami{ID: "static-sam", Roles: []string{"analyst"}}},
		{name: "no token", wantStatus: 401, wantMsg: "missing or unknown bearer token"},
		{name: "unknown static token", token: "guess", wantStatus: 401, wantMsg: "missing or unknown bearer token"},
		{name: "other audience", token: f.mint(t, []string{"analyst"}, "grafana", 10*time.Minute), wantStatus: 401,
			wantMsg: `analyst credential: audience "fedmesh" not in token's aud ["grafana"]`},
		{name: "lifetime too long", token: f.mint(t, nil, "fedmesh", 8*time.Hour), wantStatus: 401,
			wantMsg: "analyst credential: lifetime 8h exceeds the site's maximum 1h"},
		{name: "untrusted key", token: forged, wantStatus: 401,
			wantMsg: `analyst credential: signed by unknown key id "` + other.KeyID() + `"`},
		{name: "tampered claims", token: tampered, wantStatus: 401, wantMsg: "analyst credential: signature does not verify"},
		{name: "JWT-shaped value is never a static token", token: "sam.token.x", wantStatus: 401, wantMsg: "analyst credential: token header is not"},
	}
	t.Run("requests", func(t *testing.T) {
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				t.Parallel()
				req, _ := http.NewRequest(http.MethodPost, f.srv.URL+"/v1/whoami", strings.NewReader(`{"sql": "SELECT 1"}`))
				if tt.token != "" {
					req.Header.Set("Authorization", "Bearer "+tt.token)
				}
				resp, err := http.DefaultClient.Do(req)
				if err != nil {
					t.Fatal(err)
				}
				defer resp.Body.Close()
				body, _ := io.ReadAll(resp.Body)
				if resp.StatusCode != tt.wantStatus {
					t.Fatalf("HTTP %d, want %d: %s", resp.StatusCode, tt.wantStatus, body)
				}
				if tt.want != nil {
					var got whoami
					if err := json.Unmarshal(body, &got); err != nil {
						t.Fatal(err)
					}
					if diff := cmp.Diff(*tt.want, got); diff != "" {
						t.Errorf("analyst (-want +got):\n%s", diff)
					}
					return
				}
				var e struct{ Error QueryError }
				if err := json.Unmarshal(body, &e); err != nil {
					t.Fatal(err)
				}
				if e.Error.Code != "unauthenticated" || !strings.Contains(e.Error.Message, tt.wantMsg) {
					t.Errorf("error %+v, want unauthenticated saying %q", e.Error, tt.wantMsg)
				}
				if tt.token != "" && strings.Contains(string(body), tt.token) {
					t.Error("the answer echoes the token")
				}
				if !strings.HasPrefix(resp.Header.Get("WWW-Authenticate"), "Bearer") {
					t.Errorf("WWW-Authenticate %q", resp.Header.Get("WWW-Authenticate"))
				}
			})
		}
	})
	// Refusals are logged with their reason, never with the token.
	logs := f.logs.String()
	if !strings.Contains(logs, "analyst credential refused") || !strings.Contains(logs, "lifetime 8h exceeds") {
		t.Errorf("refusals not logged:\n%s", logs)
	}
	for _, tt := range tests {
		if len(tt.token) > 20 && strings.Contains(logs, tt.token) {
			t.Errorf("the log holds the %s token", tt.name)
		}
	}
}

func TestCredentialWithoutVerifier(t *testing.T) {
	t.Parallel()
	iss, err := credential.NewIssuer(authIssuer)
	if err != nil {
		t.Fatal(err)
	}
	tok, err := iss.Mint("alice", nil, "fedmesh", time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	// A coordinator without analyst_credentials, whose static token happens
	// to be the credential itself, still does not take it.
	c := &Coordinator{cfg: Config{Analysts: []Analyst{{ID: "x", TokenSHA256: TokenHash(tok)}}}, log: slog.New(slog.DiscardHandler)}
	srv := httptest.NewServer(c.routes())
	t.Cleanup(srv.Close)
	req, _ := http.NewRequest(http.MethodPost, srv.URL+"/v1/query", strings.NewReader(`{"sql": "SELECT 1"}`))
	req.Header.Set("Authorization", "Bearer "+tok)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 401 || !strings.Contains(string(body), "accepts no signed credentials") {
		t.Errorf("HTTP %d: %s; want 401 saying credentials are not configured", resp.StatusCode, body)
	}
}

func TestReviewPageWithCredential(t *testing.T) {
	t.Parallel()
	f := newAuthFixture(t)
	resp, body := get(t, http.DefaultClient, f.srv.URL+"/audit/", f.mint(t, []string{review.RoleAuditor}, "fedmesh", 10*time.Minute))
	if resp.StatusCode != 200 || !strings.Contains(body, "Signed in as <strong>alice</strong>") {
		t.Errorf("auditor credential: HTTP %d\n%s", resp.StatusCode, body)
	}
	resp, _ = get(t, http.DefaultClient, f.srv.URL+"/audit/", f.mint(t, []string{"analyst"}, "fedmesh", 10*time.Minute))
	if resp.StatusCode != 403 {
		t.Errorf("analyst credential: HTTP %d, want 403", resp.StatusCode)
	}
	resp, _ = get(t, http.DefaultClient, f.srv.URL+"/audit/", f.mint(t, []string{review.RoleAuditor}, "grafana", 10*time.Minute))
	if resp.StatusCode != 401 {
		t.Errorf("auditor credential for another audience: HTTP %d, want 401", resp.StatusCode)
	}

	// Exchanged for a session (its lifetime follows the credential's: see
	// internal/review's session tests).
	tok := f.mint(t, []string{review.RoleAuditor}, "fedmesh", 5*time.Minute)
	noRedirect := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, _ = get(t, noRedirect, f.srv.URL+"/audit/?token="+tok, "")
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("token exchange: HTTP %d", resp.StatusCode)
	}
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
