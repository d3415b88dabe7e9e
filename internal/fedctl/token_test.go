package fedctl

import (
	"context"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/fedmesh/fedmesh/internal/credential"
)

// devCerts runs `fedctl certs init` into a fresh directory.
func devCerts(t *testing.T) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "certs")
	code, out, stderr := run(t, "certs", "init", "--out", dir, "--sites", "a,b")
	if code != exitOK {
		t.Fatalf("certs init: exit %d: %s", code, stderr)
	}
	if !strings.Contains(out, "fedctl token --key "+filepath.Join(dir, credential.DevIssuerKeyFile)) {
		t.Errorf("certs init does not say how to mint a token:\n%s", out)
	}
	return dir
}

func TestCertsInitWritesDevIssuer(t *testing.T) {
	t.Parallel()
	dir := devCerts(t)
	for name, mode := range map[string]os.FileMode{credential.DevIssuerKeyFile: 0o600, credential.DevIssuerJWKSFile: 0o644} {
		fi, err := os.Stat(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		if fi.Mode().Perm() != mode {
			t.Errorf("%s: mode %v, want %v", name, fi.Mode().Perm(), mode)
		}
	}
	// --force replaces the issuer along with the CA.
	before, _ := os.ReadFile(filepath.Join(dir, credential.DevIssuerKeyFile))
	if code, _, stderr := run(t, "certs", "init", "--out", dir, "--sites", "a", "--force"); code != exitOK {
		t.Fatalf("certs init --force: exit %d: %s", code, stderr)
	}
	after, _ := os.ReadFile(filepath.Join(dir, credential.DevIssuerKeyFile))
	if string(before) == string(after) {
		t.Error("certs init --force kept the old issuer key")
	}
}

func TestTokenVerifies(t *testing.T) {
	t.Parallel()
	dir := devCerts(t)
	key, jwks := filepath.Join(dir, credential.DevIssuerKeyFile), filepath.Join(dir, credential.DevIssuerJWKSFile)
	tests := []struct {
		name       string
		args       []string
		rolesClaim string
		wantRoles  []string
		wantTTL    time.Duration
	}{
		{name: "defaults", args: []string{"--sub", "alice"}, wantRoles: []string{"analyst"}, wantTTL: 15 * time.Minute},
		{name: "roles and ttl", args: []string{"--sub", "alice", "--role", "analyst", "--role", "auditor,epi", "--ttl", "5m"},
			wantRoles: []string{"analyst", "auditor", "epi"}, wantTTL: 5 * time.Minute},
		{name: "nested roles claim", args: []string{"--sub", "alice", "--role", "auditor", "--roles-claim", "realm_access.roles"},
			rolesClaim: "realm_access.roles", wantRoles: []string{"auditor"}, wantTTL: 15 * time.Minute},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			code, out, stderr := run(t, append([]string{"token", "--key", key}, tt.args...)...)
			if code != exitOK {
				t.Fatalf("token: exit %d: %s", code, stderr)
			}
			tok := strings.TrimSpace(out)
			if strings.Count(out, "\n") != 1 || strings.Count(tok, ".") != 2 {
				t.Fatalf("stdout is not one token:\n%s", out)
			}
			v, err := credential.New(credential.Config{Issuer: credential.DevIssuerName, Audience: "fedmesh", JWKSFile: jwks, RolesClaim: tt.rolesClaim})
			if err != nil {
				t.Fatal(err)
			}
			an, err := v.Verify(context.Background(), tok)
			if err != nil {
				t.Fatalf("the minted token does not verify: %v", err)
			}
			if an.ID != "alice" || !cmp.Equal(an.Roles, tt.wantRoles) {
				t.Errorf("analyst %q roles %v, want alice %v", an.ID, an.Roles, tt.wantRoles)
			}
			if left := time.Until(an.Expires); left > tt.wantTTL || left < tt.wantTTL-time.Minute {
				t.Errorf("expires in %s, want %s", left, tt.wantTTL)
			}
			if !strings.Contains(stderr, "expires") || strings.Contains(stderr, tok) {
				t.Errorf("stderr should describe the token, not repeat it: %q", stderr)
			}
		})
	}
}

func TestTokenErrors(t *testing.T) {
	t.Parallel()
	dir := devCerts(t)
	key := filepath.Join(dir, credential.DevIssuerKeyFile)
	tests := []struct {
		name string
		args []string
		code int
		want string
	}{
		{name: "no sub", args: []string{"token", "--key", key}, code: exitUsage, want: "--sub is required"},
		{name: "bad ttl", args: []string{"token", "--key", key, "--sub", "a", "--ttl", "-1m"}, code: exitUsage, want: "--ttl must be positive"},
		{name: "stray argument", args: []string{"token", "--key", key, "--sub", "a", "extra"}, code: exitUsage, want: "takes no arguments"},
		{name: "no key file", args: []string{"token", "--key", filepath.Join(dir, "none.jwk"), "--sub", "a"}, code: exitFail, want: "fedctl certs init"},
		{name: "public set is not a signing key", args: []string{"token", "--key", filepath.Join(dir, credential.DevIssuerJWKSFile), "--sub", "a"}, code: exitFail, want: "issuer key"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			code, out, stderr := run(t, tt.args...)
			if code != tt.code || !strings.Contains(stderr, tt.want) || out != "" {
				t.Errorf("exit %d, stdout %q, stderr %q; want exit %d saying %q", code, out, stderr, tt.code, tt.want)
			}
		})
	}
}

// TestQuerySendsTokenFromEnvironment: a credential in FEDMESH_TOKEN goes
// to the coordinator as the bearer token, unchanged. (Not parallel: it
// sets the environment.)
func TestQuerySendsTokenFromEnvironment(t *testing.T) {
	dir := devCerts(t)
	code, out, stderr := run(t, "token", "--key", filepath.Join(dir, credential.DevIssuerKeyFile), "--sub", "alice")
	if code != exitOK {
		t.Fatalf("token: %s", stderr)
	}
	tok := strings.TrimSpace(out)
	var got string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got = r.Header.Get("Authorization")
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(`{"query_id": "q", "columns": [{"name": "n", "type": "int64"}], "rows": [[1]], "sites": []}`))
	}))
	defer srv.Close()
	t.Setenv("FEDMESH_TOKEN", tok)
	if code, _, stderr := run(t, "query", "--coordinator", srv.URL, "SELECT 1"); code != exitOK {
		t.Fatalf("query: exit %d: %s", code, stderr)
	}
	if got != "Bearer "+tok {
		t.Errorf("Authorization %q, want Bearer and the credential", got)
	}
}
