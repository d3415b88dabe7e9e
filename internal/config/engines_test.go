package config

import (
	"errors"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

const agentBase = `
site: a
listen: 127.0.0.1:7001
identity: {cert: c.pem, key: k.pem, bundle: b.pem}
allowed_coordinators: [spiffe://example.org/coordinator]
policy: {bundle: builtin:default}
audit: {path: audit.log}
`

func TestLoadAgentEngines(t *testing.T) {
	t.Parallel()
	p := writeFile(t, agentBase+`
tables:
  - {name: sales, format: parquet, path: data/sales.parquet}
engines:
  - {profile: small, type: duckdb, threads: 1}
  - {profile: large, type: postgresql, dsn: "postgres://fedmesh@db:5432/sales", password: "vault:secret/data/site-a/pg#password"}
  - {profile: mart, type: mariadb, dsn: "vault:secret/data/site-a/mart#dsn"}
routing: {rule: estimated_rows, large_rows: 1000000, small: small, large: large}
vault: {address: "https://vault:8200", role_id: agent-a, secret_id_file: secret-id}
`)
	c, err := LoadAgent(p)
	if err != nil {
		t.Fatal(err)
	}
	var types []string
	for _, e := range c.SiteEngines() {
		types = append(types, e.Profile+":"+e.Type)
	}
	if diff := cmp.Diff([]string{"small:duckdb", "large:postgres", "mart:mysql"}, types); diff != "" {
		t.Errorf("engines (-want +got):\n%s", diff)
	}
	if c.Vault.TokenEnv != "VAULT_TOKEN" || !strings.HasSuffix(c.Vault.SecretIDFile, "/secret-id") || !strings.HasPrefix(c.Vault.SecretIDFile, "/") {
		t.Errorf("vault defaults/paths not applied: %+v", c.Vault)
	}
}

func TestLoadAgentPostgresNeedsNoTables(t *testing.T) {
	t.Parallel()
	c, err := LoadAgent(writeFile(t, agentBase+`engine: {type: postgres, dsn: "postgres://u:p@db/x"}`))
	if err != nil {
		t.Fatal(err)
	}
	if c.Engine.Type != "postgres" {
		t.Errorf("type = %q", c.Engine.Type)
	}
}

func TestLoadAgentEngineProblems(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		body string
		want []string
	}{
		{"postgres without dsn", `engine: {type: postgres, threads: 2}`, []string{"engine.dsn", "engine.threads"}},
		{"duckdb with dsn", "engine: {type: duckdb, dsn: x}\ntables: [{name: s, format: csv, path: s.csv}]", []string{"engine.dsn"}},
		{"vault ref without vault", `engine: {type: mysql, dsn: "u@tcp(h)/d", password: "vault:secret/data/x#p"}`, []string{"engine.password"}},
		{"both engine and engines", "engine: {type: duckdb}\nengines: [{profile: a, type: postgres, dsn: x}]", []string{"engine"}},
		{"profiles", `engines: [{type: postgres, dsn: x}, {profile: a, type: mysql, dsn: y}, {profile: a, type: postgres, dsn: z}]`,
			[]string{"engines[0].profile", "engines[2].profile"}},
		{"routing names unknown profiles", `engines: [{profile: a, type: postgres, dsn: x}]
routing: {rule: estimated_rows, small: a, large: b}`, []string{"routing.large", "routing.large_rows"}},
		{"tag routing", `engines: [{profile: a, type: postgres, dsn: x}]
routing: {rule: tag, tags: {nightly: z, adhoc: a}}`, []string{"routing.tags.nightly"}},
		{"routing with one engine", "engine: {type: postgres, dsn: x}\nrouting: {rule: tag}", []string{"routing"}},
		{"vault approle without secret id", `engine: {type: postgres, dsn: x}
vault: {role_id: r}`, []string{"vault.address", "vault.secret_id_file"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			_, err := LoadAgent(writeFile(t, agentBase+tc.body))
			var ve *ValidationError
			if !errors.As(err, &ve) {
				t.Fatalf("err = %v, want *ValidationError", err)
			}
			var paths []string
			for _, pr := range ve.Problems {
				paths = append(paths, pr[:strings.Index(pr, ":")])
			}
			if diff := cmp.Diff(tc.want, paths); diff != "" {
				t.Errorf("problem paths (-want +got):\n%s\nall: %v", diff, ve.Problems)
			}
		})
	}
}
