package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/fedmesh/fedmesh/certs"
)

// devDir lays out a dev CA and a CSV table in a temporary directory.
func devDir(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	if _, err := certs.InitDevCA(certs.DevCAOptions{TrustDomain: "example.org", OutDir: filepath.Join(dir, "certs"), Sites: []string{"a"}}); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "sales.csv"), []byte("region,amount\nnorth,1\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	return dir
}

const goodAgent = `site: a
listen: 127.0.0.1:9001
metrics_listen: 127.0.0.1:9101
identity:
  cert: certs/site-a.pem
  key: certs/site-a-key.pem
  bundle: certs/bundle.pem
allowed_coordinators: [spiffe://example.org/coordinator]
tables:
  - {name: sales, format: csv, path: sales.csv}
policy:
  bundle: builtin:default
audit:
  path: audit/site-a.log
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
		{"ok", func(s string) string { return s }, 0, []string{": ok"}},
		{"ok with SPIRE: the socket is not contacted", func(s string) string {
			return strings.Replace(s, "  cert: certs/site-a.pem\n  key: certs/site-a-key.pem\n  bundle: certs/bundle.pem\n",
				"  source: spire\n  spire: {socket: unix:///run/spire/agent.sock}\n", 1)
		}, 0, []string{": ok", "not checked (needs the live service): identity.spire.socket"}},
		{"validation problems, all of them", func(s string) string {
			s = strings.Replace(s, "site: a", "site: A!", 1)
			s = strings.Replace(s, "format: csv", "format: xls", 1)
			return strings.Replace(s, "metrics_listen: 127.0.0.1:9101", "metrics_listen: 127.0.0.1:9001", 1)
		}, 1, []string{"3 problem(s)", "  site: ", "  tables[0].format: ", "  metrics_listen: must differ from listen"}},
		{"unknown key", func(s string) string { return s + "metrics_port: 9101\n" }, 1, []string{"field metrics_port not found"}},
		{"files that do not exist", func(s string) string {
			s = strings.Replace(s, "certs/site-a.pem", "certs/nope.pem", 1)
			return strings.Replace(s, "sales.csv", "nope.csv", 1)
		}, 1, []string{"2 problem(s)", "  identity.cert: ", "  tables[0].path: "}},
		{"a bundle that does not load", func(s string) string {
			return strings.Replace(s, "bundle: builtin:default", "bundle: sales.csv", 1)
		}, 1, []string{"  policy.bundle: "}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			dir := devDir(t)
			path := filepath.Join(dir, "site-a.yaml")
			if err := os.WriteFile(path, []byte(tc.edit(goodAgent)), 0o600); err != nil {
				t.Fatal(err)
			}
			var out bytes.Buffer
			code := checkConfig(&out, path)
			if code != tc.wantCode {
				t.Errorf("exit status %d, want %d; output:\n%s", code, tc.wantCode, out.String())
			}
			for _, w := range tc.want {
				if !strings.Contains(out.String(), w) {
					t.Errorf("output lacks %q:\n%s", w, out.String())
				}
			}
			if _, err := os.Stat(filepath.Join(dir, "audit")); err == nil {
				t.Error("-check-config created the audit directory: it must not touch state")
			}
		})
	}
}
