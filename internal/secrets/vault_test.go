package secrets

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	vault "github.com/hashicorp/vault/api"

	"github.com/fedmesh/fedmesh/internal/testenv"
)

func TestParseRef(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in      string
		want    Ref
		wantErr string
	}{
		{in: "vault:secret/data/site-a/pg#password", want: Ref{Path: "secret/data/site-a/pg", Field: "password"}},
		{in: "vault:/kv/app/#dsn", want: Ref{Path: "kv/app", Field: "dsn"}},
		{in: "vault:secret/data/x", wantErr: "name a field"},
		{in: "vault:secret/data/x#", wantErr: "name a field"},
		{in: "vault:#password", wantErr: "path is empty"},
		{in: "vault:a#b#c", wantErr: "more than one"},
		{in: "secret/data/x#y", wantErr: "must start with"},
	}
	for _, tc := range tests {
		t.Run(tc.in, func(t *testing.T) {
			t.Parallel()
			got, err := ParseRef(tc.in)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("ParseRef(%q) error = %v, want one containing %q", tc.in, err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}

// devVault returns the address of the dev server of scripts/engines/vault.sh
// and a client logged in with its root token.
func devVault(t *testing.T) (string, *vault.Client) {
	t.Helper()
	addr := testenv.Server(t, "vault", "VAULT_ADDR")
	token := testenv.Server(t, "vault", "VAULT_TOKEN")
	cfg := vault.DefaultConfig()
	cfg.Address = addr
	c, err := vault.NewClient(cfg)
	if err != nil {
		t.Fatal(err)
	}
	c.SetToken(token)
	return addr, c
}

func write(t *testing.T, c *vault.Client, path string, data map[string]any) {
	t.Helper()
	if _, err := c.Logical().Write(path, data); err != nil {
		t.Fatalf("write %s: %v", path, err)
	}
}

// uniq keeps parallel and repeated runs apart on one dev server.
func uniq(t *testing.T) string {
	return fmt.Sprintf("fedmesh-test-%d", time.Now().UnixNano())
}

func TestVaultResolve(t *testing.T) {
	t.Parallel()
	addr, root := devVault(t)
	base := "secret/data/" + uniq(t)
	write(t, root, base+"/pg", map[string]any{"data": map[string]any{"password": "s3cr3t-pg", "port": 5432}})
	// A policy that may read base/pg but is denied base/forbidden.
	policy := uniq(t)
	write(t, root, "sys/policies/acl/"+policy, map[string]any{"policy": fmt.Sprintf(`
path "%[1]s/pg" { capabilities = ["read"] }
path "%[1]s/forbidden" { capabilities = ["deny"] }`, base)})
	write(t, root, base+"/forbidden", map[string]any{"data": map[string]any{"password": "never-shown"}})
	tok, err := root.Auth().Token().Create(&vault.TokenCreateRequest{Policies: []string{policy}, TTL: "10m"})
	if err != nil {
		t.Fatal(err)
	}
	v, err := NewVault(context.Background(), VaultConfig{Address: addr, Token: tok.Auth.ClientToken}, nil)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name    string
		ref     string
		want    string
		wantIs  error
		wantErr []string
	}{
		{name: "secret resolved", ref: "vault:" + base + "/pg#password", want: "s3cr3t-pg"},
		{name: "number field", ref: "vault:" + base + "/pg#port", want: "5432"},
		{name: "literal passes through", ref: "plain-password", want: "plain-password"},
		{name: "missing path", ref: "vault:" + base + "/nope#password", wantIs: ErrForbidden, wantErr: []string{base + "/nope"}},
		{name: "missing field", ref: "vault:" + base + "/pg#user", wantErr: []string{base + "/pg", `"user"`}},
		{name: "forbidden", ref: "vault:" + base + "/forbidden#password", wantIs: ErrForbidden, wantErr: []string{base + "/forbidden", "permission denied"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got, err := v.Resolve(context.Background(), tc.ref)
			if tc.wantErr == nil {
				if err != nil {
					t.Fatal(err)
				}
				if got != tc.want {
					t.Errorf("Resolve(%q) = %q, want %q", tc.ref, got, tc.want)
				}
				return
			}
			if err == nil {
				t.Fatalf("Resolve(%q) = %q, want an error", tc.ref, got)
			}
			if tc.wantIs != nil && !errors.Is(err, tc.wantIs) {
				t.Errorf("error %v is not %v", err, tc.wantIs)
			}
			for _, w := range tc.wantErr {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not name %s", err, w)
				}
			}
			if strings.Contains(err.Error(), "never-shown") || strings.Contains(err.Error(), "s3cr3t") {
				t.Errorf("error %q leaks a secret", err)
			}
		})
	}
	// With root (which may read everything) a missing path is "not found".
	rv, err := NewVault(context.Background(), VaultConfig{Address: addr, Token: testenv.Server(t, "vault", "VAULT_TOKEN")}, nil)
	if err != nil {
		t.Fatal(err)
	}
	_, err = rv.Resolve(context.Background(), "vault:"+base+"/nope#password")
	if !errors.Is(err, ErrNotFound) || !strings.Contains(err.Error(), base+"/nope") {
		t.Errorf("root read of a missing path: error %v, want ErrNotFound naming the path", err)
	}
}

func TestVaultBadToken(t *testing.T) {
	t.Parallel()
	addr, _ := devVault(t)
	_, err := NewVault(context.Background(), VaultConfig{Address: addr, Token: "not-a-token"}, nil)
	if !errors.Is(err, ErrForbidden) || !strings.Contains(err.Error(), addr) {
		t.Errorf("error = %v, want ErrForbidden naming %s", err, addr)
	}
}

// TestVaultAppRoleRenewal logs in with AppRole to a token whose TTL is 2s,
// and reads a secret after 4s: only a renewed lease still works then.
func TestVaultAppRoleRenewal(t *testing.T) {
	t.Parallel()
	addr, root := devVault(t)
	if err := root.Sys().EnableAuthWithOptions("approle", &vault.EnableAuthOptions{Type: "approle"}); err != nil &&
		!strings.Contains(err.Error(), "path is already in use") {
		t.Fatal(err)
	}
	base := "secret/data/" + uniq(t)
	write(t, root, base+"/mysql", map[string]any{"data": map[string]any{"password": "s3cr3t-my"}})
	policy := uniq(t)
	write(t, root, "sys/policies/acl/"+policy, map[string]any{"policy": fmt.Sprintf(`path "%s/*" { capabilities = ["read"] }`, base)})
	role := uniq(t)
	write(t, root, "auth/approle/role/"+role, map[string]any{
		"token_policies": []string{policy}, "token_ttl": "2s", "token_max_ttl": "1m",
	})
	rid, err := root.Logical().Read("auth/approle/role/" + role + "/role-id")
	if err != nil {
		t.Fatal(err)
	}
	sid, err := root.Logical().Write("auth/approle/role/"+role+"/secret-id", nil)
	if err != nil {
		t.Fatal(err)
	}
	cfg := VaultConfig{Address: addr, RoleID: rid.Data["role_id"].(string), SecretID: sid.Data["secret_id"].(string)}

	t.Run("wrong secret id", func(t *testing.T) {
		bad := cfg
		bad.SecretID = "00000000-0000-0000-0000-000000000000"
		_, err := NewVault(context.Background(), bad, nil)
		if err == nil || !strings.Contains(err.Error(), "auth/approle/login") {
			t.Errorf("error = %v, want one naming auth/approle/login", err)
		}
	})

	v, err := NewVault(context.Background(), cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- v.Run(ctx) }()
	defer func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Run: %v", err)
		}
	}()
	time.Sleep(4 * time.Second)
	got, err := v.Resolve(context.Background(), "vault:"+base+"/mysql#password")
	if err != nil {
		t.Fatalf("after 4s with a 2s token TTL: %v", err)
	}
	if got != "s3cr3t-my" {
		t.Errorf("got %q", got)
	}
}
