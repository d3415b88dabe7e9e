package config

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/fedmesh/fedmesh/internal/credential"
)

const coordinatorBase = `
listen: 127.0.0.1:8080
identity: {cert: c.pem, key: k.pem, bundle: b.pem}
sites: [{name: a, address: 127.0.0.1:7001, spiffe_id: spiffe://example.org/site/a}]
audit: {path: a.log}
`

// problemsOf returns the dotted paths of a ValidationError's problems.
func problemsOf(t *testing.T, err error) []string {
	t.Helper()
	var ve *ValidationError
	if !errors.As(err, &ve) {
		t.Fatalf("err = %v, want *ValidationError", err)
	}
	var paths []string
	for _, p := range ve.Problems {
		paths = append(paths, p[:strings.Index(p, ":")])
	}
	return paths
}

func TestAnalystCredentialsInAgentConfig(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name      string
		block     string
		wantPaths []string // problems' dotted paths; nil: valid
		check     func(t *testing.T, a *AnalystCredentials, dir string)
	}{
		{
			name:  "file with defaults",
			block: "analyst_credentials: {issuer: 'https://idp.example.org', audience: fedmesh, jwks_file: certs/analyst-issuer.jwks}\n",
			check: func(t *testing.T, a *AnalystCredentials, dir string) {
				if got, want := a.JWKSFile, filepath.Join(dir, "certs/analyst-issuer.jwks"); got != want {
					t.Errorf("jwks_file = %q, want %q", got, want)
				}
				if a.RolesClaim != "roles" || time.Duration(a.MaxLifetime) != time.Hour || time.Duration(*a.Leeway) != 30*time.Second {
					t.Errorf("defaults not applied: roles_claim %q, max_lifetime %v, leeway %v", a.RolesClaim, a.MaxLifetime, *a.Leeway)
				}
				if !a.CredentialRequired() {
					t.Error("required defaults to false; want true")
				}
			},
		},
		{
			name: "URL, nested roles, not required",
			block: `analyst_credentials:
  issuer: https://idp.example.org/realms/research
  audience: fedmesh
  jwks_url: https://idp.example.org/realms/research/protocol/openid-connect/certs
  jwks_min_refetch: 1m
  algorithms: [RS256]
  roles_claim: realm_access.roles
  max_lifetime: 15m
  leeway: 0s
  required: false
`,
			check: func(t *testing.T, a *AnalystCredentials, _ string) {
				if a.CredentialRequired() || time.Duration(*a.Leeway) != 0 || a.RolesClaim != "realm_access.roles" {
					t.Errorf("block = %+v", a)
				}
			},
		},
		{name: "http to loopback", block: "analyst_credentials: {issuer: i, audience: a, jwks_url: 'http://127.0.0.1:8180/jwks'}\n"},
		{
			name:      "nothing set",
			block:     "analyst_credentials: {}\n",
			wantPaths: []string{"analyst_credentials.issuer", "analyst_credentials.audience", "analyst_credentials.jwks_file"},
		},
		{
			name: "every mistake",
			block: `analyst_credentials:
  issuer: i
  audience: a
  jwks_file: k.jwks
  jwks_url: http://idp.example.org/jwks
  algorithms: [EdDSA, none, HS256, PS256]
  roles_claim: realm_access..roles
  max_lifetime: -1h
  leeway: -5s
  jwks_max_age: -1m
`,
			wantPaths: []string{"analyst_credentials.jwks_url", "analyst_credentials.jwks_url", "analyst_credentials.algorithms[1]",
				"analyst_credentials.algorithms[2]", "analyst_credentials.algorithms[3]", "analyst_credentials.roles_claim",
				"analyst_credentials.max_lifetime", "analyst_credentials.leeway", "analyst_credentials.jwks_max_age"},
		},
		{name: "leeway longer than the lifetime", block: "analyst_credentials: {issuer: i, audience: a, jwks_file: k, max_lifetime: 1m, leeway: 5m}\n",
			wantPaths: []string{"analyst_credentials.leeway"}},
		{name: "unknown key", block: "analyst_credentials: {issuer: i, audience: a, jwks_file: k, roles: [x]}\n",
			wantPaths: []string{"(decode)"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			p := writeFile(t, goodAgent+tt.block)
			c, err := LoadAgent(p)
			switch {
			case tt.wantPaths == nil && err != nil:
				t.Fatalf("LoadAgent: %v", err)
			case tt.wantPaths == nil:
				if tt.check != nil {
					tt.check(t, c.AnalystCredentials, filepath.Dir(p))
				}
			case err == nil:
				t.Fatalf("LoadAgent accepted the block, want problems at %v", tt.wantPaths)
			case tt.wantPaths[0] == "(decode)":
				if !strings.Contains(err.Error(), "field roles not found") {
					t.Errorf("unknown key: %v", err)
				}
			default:
				if diff := cmp.Diff(tt.wantPaths, problemsOf(t, err)); diff != "" {
					t.Errorf("problems (-want +got):\n%s\n%v", diff, err)
				}
			}
		})
	}
}

func TestAnalystCredentialsInCoordinatorConfig(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	_, jwks, err := credential.WriteDevIssuer(dir, false)
	if err != nil {
		t.Fatal(err)
	}
	block := "analyst_credentials: {issuer: '" + credential.DevIssuerName + "', audience: fedmesh, jwks_file: " + filepath.Base(jwks) + "}\n"

	// Credentials alone are enough: no static analysts needed.
	p := filepath.Join(dir, "coordinator.yaml")
	if err := os.WriteFile(p, []byte(coordinatorBase+block), 0o600); err != nil {
		t.Fatal(err)
	}
	c, err := LoadCoordinator(p)
	if err != nil {
		t.Fatalf("LoadCoordinator: %v", err)
	}
	v, err := c.AnalystCredentials.Verifier(nil)
	if err != nil {
		t.Fatalf("Verifier: %v", err)
	}
	iss, err := credential.LoadIssuer(credential.DevIssuerName, filepath.Join(dir, credential.DevIssuerKeyFile))
	if err != nil {
		t.Fatal(err)
	}
	tok, err := iss.Mint("alice", []string{"analyst"}, "fedmesh", 10*time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	if an, err := v.Verify(context.Background(), tok); err != nil || an.ID != "alice" {
		t.Errorf("Verify: %+v, %v", an, err)
	}

	// required is a site's setting; neither analysts nor credentials is
	// nobody.
	for _, tt := range []struct {
		name, body string
		want       []string
	}{
		{name: "required in the coordinator", body: coordinatorBase + "analyst_credentials: {issuer: i, audience: a, jwks_file: k, required: true}\n",
			want: []string{"analyst_credentials.required"}},
		{name: "no way to authenticate", body: coordinatorBase, want: []string{"analysts"}},
	} {
		_, err := LoadCoordinator(writeFile(t, tt.body))
		if diff := cmp.Diff(tt.want, problemsOf(t, err)); diff != "" {
			t.Errorf("%s: problems (-want +got):\n%s", tt.name, diff)
		}
	}

	// A missing key file is reported when the verifier is built, naming
	// the block.
	c.AnalystCredentials.JWKSFile = filepath.Join(dir, "gone.jwks")
	if _, err := c.AnalystCredentials.Verifier(nil); err == nil || !strings.HasPrefix(err.Error(), "analyst_credentials: ") {
		t.Errorf("Verifier with a missing jwks file: %v", err)
	}
}
