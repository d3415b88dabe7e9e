package config

import (
	"errors"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// agentWith is goodAgent with its identity and allowed_coordinators lines
// replaced.
func agentWith(identity, allowed string) string {
	s := goodAgent
	s = strings.Replace(s, "identity: {cert: certs/site-a.pem, key: certs/site-a-key.pem, bundle: certs/bundle.pem}", identity, 1)
	if allowed != "" {
		s = strings.Replace(s, "allowed_coordinators: [spiffe://example.org/coordinator]", allowed, 1)
	}
	return s
}

func TestIdentitySources(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name      string
		identity  string
		allowed   string
		wantPaths []string // problem paths; nil: valid
	}{
		{name: "files with federated bundles", identity: `identity:
  cert: c.pem
  key: k.pem
  bundle: b.pem
  reload_interval: 2s
  federated_bundles:
    - {trust_domain: hq.example, bundle: hq.pem}`},
		{name: "spire", identity: `identity: {source: spire, spire: {socket: "unix:///run/spire/agent.sock"}, spiffe_id: "spiffe://dept-a.example/site/a"}`},
		{name: "vault", identity: `identity: {source: vault, spiffe_id: "spiffe://dept-a.example/site/a", vault: {address: "https://vault:8200", role: fedmesh, ttl: 1h}}`},
		{name: "prefix and second coordinator", identity: `identity: {cert: c.pem, key: k.pem, bundle: b.pem}`,
			allowed: `allowed_coordinators: ["spiffe://dept-a.example/coordinator", "spiffe://hq.example/fedmesh/*"]`},
		{name: "unknown source", identity: `identity: {source: keychain}`, wantPaths: []string{"identity.source"}},
		{name: "files mistakes", identity: `identity:
  cert: c.pem
  key: k.pem
  bundle: b.pem
  spiffe_id: "spiffe://x.example/a"
  federated_bundles:
    - {trust_domain: "Not A TD!", bundle: a.pem}
    - {trust_domain: hq.example}
    - {trust_domain: hq.example, bundle: b.pem}`,
			wantPaths: []string{"identity.federated_bundles[0].trust_domain", "identity.federated_bundles[1].bundle",
				"identity.federated_bundles[2].trust_domain", "identity.spiffe_id"}},
		{name: "spire without socket, with files", identity: `identity: {source: spire, cert: c.pem}`,
			wantPaths: []string{"identity.spire.socket", "identity.cert"}},
		{name: "vault incomplete", identity: `identity: {source: vault, vault: {address: "vault:8200"}}`,
			wantPaths: []string{"identity.vault.address", "identity.vault.role", "identity.spiffe_id"}},
		{name: "bad allow entries", identity: `identity: {cert: c.pem, key: k.pem, bundle: b.pem}`,
			allowed:   `allowed_coordinators: ["spiffe://hq.example", "hq.example/*"]`,
			wantPaths: []string{"allowed_coordinators[0]", "allowed_coordinators[1]"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			p := writeFile(t, agentWith(tt.identity, tt.allowed))
			c, err := LoadAgent(p)
			if tt.wantPaths == nil {
				if err != nil {
					t.Fatalf("LoadAgent: %v", err)
				}
				if c.Identity.Source == "files" && c.Identity.Cert != filepath.Join(filepath.Dir(p), "c.pem") {
					t.Errorf("cert not resolved against the config's directory: %s", c.Identity.Cert)
				}
				for _, fb := range c.Identity.FederatedBundles {
					if !filepath.IsAbs(fb.Bundle) {
						t.Errorf("federated bundle not resolved: %s", fb.Bundle)
					}
				}
				return
			}
			var ve *ValidationError
			if !errors.As(err, &ve) {
				t.Fatalf("err = %v, want *ValidationError", err)
			}
			var paths []string
			for _, pr := range ve.Problems {
				if path := pr[:strings.Index(pr, ":")]; strings.HasPrefix(path, "identity") || strings.HasPrefix(path, "allowed_") {
					paths = append(paths, path)
				}
			}
			if diff := cmp.Diff(tt.wantPaths, paths); diff != "" {
				t.Errorf("problem paths (-want +got):\n%s\nall: %v", diff, ve.Problems)
			}
		})
	}
}
