package config

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestCoordinatorHTTPTransport(t *testing.T) {
	t.Parallel()
	const rest = `
identity: {cert: c.pem, key: k.pem, bundle: b.pem}
sites: [{name: a, address: 127.0.0.1:7001, spiffe_id: spiffe://example.org/site/a}]
audit: {path: a.log}
analysts: [{id: ana, token_sha256: 0000000000000000000000000000000000000000000000000000000000000000}]
`
	tests := []struct {
		name      string
		head      string
		wantPaths []string // nil: valid
	}{
		{name: "loopback plain", head: "listen: 127.0.0.1:8080"},
		{name: "localhost plain", head: "listen: localhost:8080"},
		{name: "ipv6 loopback plain", head: "listen: '[::1]:8080'"},
		{name: "public plain", head: "listen: 0.0.0.0:8080", wantPaths: []string{"listen"}},
		{name: "all interfaces plain", head: "listen: :8080", wantPaths: []string{"listen"}},
		{name: "public insecure allowed", head: "listen: 0.0.0.0:8080\ninsecure_http: true"},
		{name: "public tls", head: "listen: 0.0.0.0:8443\ntls: {cert: api.pem, key: api-key.pem}"},
		{name: "tls without key", head: "listen: 0.0.0.0:8443\ntls: {cert: api.pem}", wantPaths: []string{"tls.key"}},
		{name: "tls and insecure", head: "listen: 0.0.0.0:8443\ninsecure_http: true\ntls: {cert: a, key: b}", wantPaths: []string{"insecure_http"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			p := writeFile(t, tt.head+rest)
			c, err := LoadCoordinator(p)
			if tt.wantPaths == nil {
				if err != nil {
					t.Fatal(err)
				}
				if c.TLS != nil && c.TLS.Cert != filepath.Join(filepath.Dir(p), "api.pem") {
					t.Errorf("tls.cert = %q, want resolved next to the config", c.TLS.Cert)
				}
				return
			}
			if d := cmp.Diff(tt.wantPaths, problemsOf(t, err)); d != "" {
				t.Errorf("problems (-want +got):\n%s\n%v", d, err)
			}
			if tt.wantPaths[0] == "listen" && !strings.Contains(err.Error(), "insecure_http") {
				t.Errorf("error does not name the key that allows it: %v", err)
			}
		})
	}
}
