package config

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func writeFile(t *testing.T, body string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "c.yaml")
	if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

const goodAgent = `
site: a
listen: 127.0.0.1:7001
identity: {cert: certs/site-a.pem, key: certs/site-a-key.pem, bundle: certs/bundle.pem}
allowed_coordinators: [spiffe://example.org/coordinator]
tables:
  - {name: sales, format: parquet, path: data/sales.parquet}
policy: {bundle: builtin:default}
audit: {path: audit.log}
`

func TestLoadAgentResolvesPathsAndDefaults(t *testing.T) {
	t.Parallel()
	p := writeFile(t, goodAgent)
	c, err := LoadAgent(p)
	if err != nil {
		t.Fatal(err)
	}
	dir := filepath.Dir(p)
	if got, want := c.Tables[0].Path, filepath.Join(dir, "data/sales.parquet"); got != want {
		t.Errorf("table path = %q, want %q", got, want)
	}
	if c.Policy.Bundle != BuiltinDefaultBundle {
		t.Errorf("bundle = %q, want builtin kept as is", c.Policy.Bundle)
	}
	if c.Engine.Type != "duckdb" || c.Limits.MaxConcurrent != 4 || c.Log.Level != "info" {
		t.Errorf("defaults not applied: %+v %+v %+v", c.Engine, c.Limits, c.Log)
	}
}

func TestLoadAgentReportsEveryProblemWithItsPath(t *testing.T) {
	t.Parallel()
	p := writeFile(t, `
site: "A!"
listen: nowhere
identity: {cert: x.pem}
allowed_coordinators: [not-a-spiffe-id]
engine: {type: oracle}
tables:
  - {name: sales, format: xls, path: s.xls}
  - {name: sales, format: csv}
audit: {}
`)
	_, err := LoadAgent(p)
	var ve *ValidationError
	if !errors.As(err, &ve) {
		t.Fatalf("err = %v, want *ValidationError", err)
	}
	var paths []string
	for _, pr := range ve.Problems {
		paths = append(paths, pr[:strings.Index(pr, ":")])
	}
	want := []string{"site", "listen", "identity.key", "identity.bundle", "allowed_coordinators[0]",
		"engine.type", "tables[0].format", "tables[1].name", "tables[1].path", "policy.bundle", "audit.path"}
	if diff := cmp.Diff(want, paths); diff != "" {
		t.Errorf("problem paths (-want +got):\n%s\nall: %v", diff, ve.Problems)
	}
}

func TestUnknownKeyIsAnError(t *testing.T) {
	t.Parallel()
	p := writeFile(t, goodAgent+"polcy: {bundle: x}\n")
	_, err := LoadAgent(p)
	if err == nil || !strings.Contains(err.Error(), "polcy") {
		t.Fatalf("err = %v, want it to name the unknown key", err)
	}
}

func TestLoadCoordinator(t *testing.T) {
	t.Parallel()
	tok := strings.Repeat("ab", 32)
	tests := []struct {
		name    string
		body    string
		wantErr []string
	}{
		{name: "valid", body: `
listen: 127.0.0.1:8080
identity: {cert: c.pem, key: k.pem, bundle: b.pem}
sites: [{name: a, address: 127.0.0.1:7001, spiffe_id: spiffe://example.org/site/a}]
analysts: [{id: alice, roles: [analyst], token_sha256: ` + tok + `}]
audit: {path: a.log}
`},
		{name: "bad sites and tokens", body: `
listen: 127.0.0.1:8080
identity: {cert: c.pem, key: k.pem, bundle: b.pem}
sites:
  - {name: a, address: 127.0.0.1:7001, spiffe_id: spiffe://example.org/site/a}
  - {name: a, address: x, spiffe_id: ""}
analysts:
  - {id: alice, token_sha256: nothex}
  - {id: bob, token_sha256: ` + tok + `}
  - {id: carol, token_sha256: ` + tok + `}
audit: {path: a.log}
query_timeout: -1s
`, wantErr: []string{"sites[1].name", "sites[1].address", "sites[1].spiffe_id", "analysts[0].token_sha256", "analysts[2].token_sha256", "query_timeout"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := LoadCoordinator(writeFile(t, tt.body))
			if len(tt.wantErr) == 0 {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			var ve *ValidationError
			if !errors.As(err, &ve) {
				t.Fatalf("err = %v, want *ValidationError", err)
			}
			for _, w := range tt.wantErr {
				found := false
				for _, pr := range ve.Problems {
					found = found || strings.HasPrefix(pr, w+":")
				}
				if !found {
					t.Errorf("no problem reported at %s; got %v", w, ve.Problems)
				}
			}
		})
	}
}
