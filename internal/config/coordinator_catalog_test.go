package config

import (
	"strings"
	"testing"
	"time"
)

func TestLoadCoordinatorCatalog(t *testing.T) {
	t.Parallel()
	c, err := LoadCoordinator(writeFile(t, `
listen: 127.0.0.1:8080
identity: {cert: c.pem, key: k.pem, bundle: b.pem}
sites:
  - {name: a, address: 127.0.0.1:7001, spiffe_id: spiffe://example.org/site/a}
  - {name: b, address: 127.0.0.1:7002, spiffe_id: spiffe://example.org/site/b, tables: [sales]}
analysts: [{id: alice, roles: [analyst], token_sha256: `+strings.Repeat("ab", 32)+`}]
audit: {path: a.log}
catalog_refresh: 30s
`))
	if err != nil {
		t.Fatal(err)
	}
	if time.Duration(c.CatalogRefresh) != 30*time.Second {
		t.Errorf("catalog_refresh = %v, want 30s", time.Duration(c.CatalogRefresh))
	}
	if c.Sites[0].Tables != nil || len(c.Sites[1].Tables) != 1 {
		t.Errorf("site tables = %v, %v; want none (the site reports) and [sales] (override)", c.Sites[0].Tables, c.Sites[1].Tables)
	}
}
