package e2e

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/spiffe/go-spiffe/v2/spiffeid"

	"github.com/fedmesh/fedmesh/certs"
	"github.com/fedmesh/fedmesh/internal/config"
	"github.com/fedmesh/fedmesh/internal/testenv"
)

// vaultPKI mounts a fresh PKI secrets engine on the shared Vault dev server
// (unmounted when the test ends), with a root CA for td and a role that
// issues only spiffe://<td>/* URI SANs.
func vaultPKI(t *testing.T, td string) (addr, token, mount string) {
	t.Helper()
	addr = testenv.Server(t, "vault", "VAULT_ADDR")
	token = testenv.Server(t, "vault", "VAULT_TOKEN")
	b := make([]byte, 4)
	_, _ = rand.Read(b)
	mount = "fedmesh-pki-" + hex.EncodeToString(b)
	call := func(method, path string, body any) {
		t.Helper()
		raw, _ := json.Marshal(body)
		req, _ := http.NewRequest(method, addr+"/v1/"+path, bytes.NewReader(raw))
		req.Header.Set("X-Vault-Token", token)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatalf("vault %s %s: %v", method, path, err)
		}
		defer resp.Body.Close()
		out, _ := io.ReadAll(resp.Body)
		if resp.StatusCode >= 300 {
			t.Fatalf("vault %s %s: HTTP %d: %s", method, path, resp.StatusCode, out)
		}
	}
	call(http.MethodPost, "sys/mounts/"+mount, map[string]any{"type": "pki", "config": map[string]any{"max_lease_ttl": "24h"}})
	t.Cleanup(func() { call(http.MethodDelete, "sys/mounts/"+mount, nil) })
	call(http.MethodPost, mount+"/root/generate/internal", map[string]any{
		"common_name": td + " fedmesh test CA", "ttl": "24h", "key_type": "ec", "key_bits": 256})
	call(http.MethodPost, mount+"/roles/fedmesh", map[string]any{
		"allowed_uri_sans": "spiffe://" + td + "/*", "require_cn": false, "allow_any_name": false,
		"key_type": "ec", "key_bits": 256, "max_ttl": "1h", "server_flag": true, "client_flag": true,
		"no_store": true, "not_before_duration": "5s"})
	return addr, token, mount
}

// TestVaultPKIIdentity: every component asks Vault's PKI engine for its own
// SVID (URI SAN = its SPIFFE ID) and trusts the PKI's CA; a query loop runs
// across renewals without a failure.
func TestVaultPKIIdentity(t *testing.T) {
	t.Parallel()
	const tdName = "vault.example"
	addr, token, mount := vaultPKI(t, tdName)
	td := spiffeid.RequireTrustDomainFromString(tdName)
	const ttl = 12 * time.Second
	open := func(id spiffeid.ID) *spySource {
		t.Helper()
		src, err := certs.OpenVault(context.Background(), certs.VaultOptions{Address: addr, Token: token, Mount: mount, Role: "fedmesh", ID: id, TTL: ttl})
		if err != nil {
			t.Fatal(err)
		}
		return spy(src)
	}
	coordID := certs.CoordinatorID(td)
	// The coordinator's identity comes the way a config file asks for it.
	tokenFile := filepath.Join(t.TempDir(), "vault-token")
	if err := os.WriteFile(tokenFile, []byte(token+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	coordSrc, err := (config.Identity{Source: "vault", SPIFFEID: coordID.String(), Vault: &config.VaultIdentity{
		Address: addr, TokenFile: tokenFile, Mount: mount, Role: "fedmesh", TTL: config.Duration(ttl)}}).OpenIdentity(context.Background(), nil)
	if err != nil {
		t.Fatalf("identity {source: vault}: %v", err)
	}
	spies := map[string]*spySource{"coordinator": spy(coordSrc)}
	var sites []idSite
	for _, s := range []string{"a", "b"} {
		id, _ := certs.SiteID(td, s)
		spies[s] = open(id)
		sites = append(sites, idSite{name: s, src: spies[s], id: id, allow: certs.AllowIDs(coordID)})
	}

	// Vault refuses an ID outside the role's pattern.
	if _, err := certs.OpenVault(context.Background(), certs.VaultOptions{Address: addr, Token: token, Mount: mount, Role: "fedmesh",
		ID: spiffeid.RequireFromString("spiffe://other.example/coordinator")}); err == nil {
		t.Errorf("Vault issued an SVID outside spiffe://%s/*", tdName)
	}

	fed := startIdentityFederation(t, idFedOptions{coordinator: spies["coordinator"], sites: sites, maxConnectionAge: time.Second})
	first := map[string]string{}
	for n, s := range spies {
		svid, _ := s.GetX509SVID()
		first[n] = svid.Certificates[0].SerialNumber.String()
	}
	queryAcrossRenewals(t, fed.federation, spies, first, 2*ttl+10*time.Second, "Vault renewals")
}
