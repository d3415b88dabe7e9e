package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/fedmesh/fedmesh/certs"
)

const goodCoordinator = `listen: 127.0.0.1:8080
identity:
  cert: certs/coordinator.pem
  key: certs/coordinator-key.pem
  bundle: certs/bundle.pem
sites:
  - {name: a, address: 127.0.0.1:9001, spiffe_id: spiffe://example.org/site/a}
analysts:
  - {id: alice, roles: [analyst], token_sha256: 2bb80d537b1da3e38bd30361aa855686bde0eacd7162fef6a25fe97bf527a25b}
audit:
  path: audit/coordinator.log
`

// TestCheckConfig: -check-config says ok for a config that would start,
// and lists every problem with its dotted path otherwise.
func TestCheckConfig(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name     string
		edit     func(string) string
		wantCode int
		want     []string
	}{
		{"ok", func(s string) string { return s }, 0, []string{": ok", "not checked (needs the live service): sites[*].address"}},
		{"validation problems, all of them", func(s string) string {
			s = strings.Replace(s, "address: 127.0.0.1:9001", "address: nowhere", 1)
			s = strings.Replace(s, "token_sha256: 2bb8", "token_sha256: zz", 1)
			return strings.Replace(s, "path: audit/coordinator.log", "path: \"\"", 1)
		}, 1, []string{"3 problem(s)", "  sites[0].address: ", "  analysts[0].token_sha256: ", "  audit.path: "}},
		{"identity files missing", func(s string) string {
			return strings.Replace(s, "certs/coordinator-key.pem", "certs/missing.pem", 1)
		}, 1, []string{"  identity.key: "}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			dir := t.TempDir()
			if _, err := certs.InitDevCA(certs.DevCAOptions{TrustDomain: "example.org", OutDir: filepath.Join(dir, "certs"), Sites: []string{"a"}}); err != nil {
				t.Fatal(err)
			}
			path := filepath.Join(dir, "coordinator.yaml")
			if err := os.WriteFile(path, []byte(tc.edit(goodCoordinator)), 0o600); err != nil {
				t.Fatal(err)
			}
			var out bytes.Buffer
			if code := checkConfig(&out, path); code != tc.wantCode {
				t.Errorf("exit status %d, want %d; output:\n%s", code, tc.wantCode, out.String())
			}
			for _, w := range tc.want {
				if !strings.Contains(out.String(), w) {
					t.Errorf("output lacks %q:\n%s", w, out.String())
				}
			}
		})
	}
}
