package credential

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func TestWriteDevIssuer(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	keyPath, jwksPath, err := WriteDevIssuer(dir, false)
	if err != nil {
		t.Fatal(err)
	}
	for path, mode := range map[string]os.FileMode{keyPath: 0o600, jwksPath: 0o644} {
		fi, err := os.Stat(path)
		if err != nil {
			t.Fatal(err)
		}
		if fi.Mode().Perm() != mode {
			t.Errorf("%s: mode %v, want %v", filepath.Base(path), fi.Mode().Perm(), mode)
		}
	}
	pub, _ := os.ReadFile(jwksPath)
	if strings.Contains(string(pub), `"d"`) {
		t.Errorf("the public key set holds a private key:\n%s", pub)
	}

	iss, err := LoadIssuer(DevIssuerName, keyPath)
	if err != nil {
		t.Fatal(err)
	}
	iss.RolesClaim = "realm_access.roles"
	tok, err := iss.Mint("alice", []string{"analyst"}, DevAudience, 15*time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	v, err := New(Config{Issuer: DevIssuerName, Audience: DevAudience, JWKSFile: jwksPath, RolesClaim: "realm_access.roles"})
	if err != nil {
		t.Fatal(err)
	}
	got, err := v.Verify(context.Background(), tok)
	if err != nil {
		t.Fatalf("a minted dev token does not verify: %v", err)
	}
	if got.ID != "alice" || !cmp.Equal(got.Roles, []string{"analyst"}) || got.Issuer != DevIssuerName {
		t.Errorf("analyst = %+v", got)
	}
	if d := time.Until(got.Expires); d < 14*time.Minute || d > 15*time.Minute {
		t.Errorf("expires in %s, want 15m", d)
	}

	if _, _, err := WriteDevIssuer(dir, false); err == nil || !strings.Contains(err.Error(), "exists") {
		t.Errorf("second WriteDevIssuer without force: %v, want a refusal", err)
	}
	if _, _, err := WriteDevIssuer(dir, true); err != nil {
		t.Errorf("WriteDevIssuer with force: %v", err)
	}
	if _, err := v.Verify(context.Background(), tok); err == nil || !strings.Contains(err.Error(), "unknown key id") {
		t.Errorf("token of the replaced key: %v, want unknown key id", err)
	}
}

func TestMintRefuses(t *testing.T) {
	t.Parallel()
	iss := newTestIssuer(t)
	for _, tt := range []struct {
		name, sub, aud string
		ttl            time.Duration
		want           string
	}{
		{name: "no subject", aud: "fedmesh", ttl: time.Minute, want: "subject must be set"},
		{name: "no audience", sub: "alice", ttl: time.Minute, want: "audience must be set"},
		{name: "no ttl", sub: "alice", aud: "fedmesh", want: "ttl must be positive"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if _, err := iss.Mint(tt.sub, nil, tt.aud, tt.ttl); err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("Mint: %v, want %q", err, tt.want)
			}
		})
	}
}

func TestLoadIssuerRefusesPublicKey(t *testing.T) {
	t.Parallel()
	_, jwksPath, err := WriteDevIssuer(t.TempDir(), false)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := LoadIssuer(DevIssuerName, jwksPath); err == nil {
		t.Error("LoadIssuer accepted a public key set as a signing key")
	}
}
