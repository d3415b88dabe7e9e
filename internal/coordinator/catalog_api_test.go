package coordinator

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/fedmesh/fedmesh/flight"
	"github.com/fedmesh/fedmesh/planner"
)

// TestCatalogEndpoint checks that an analyst sees each logical table once,
// with its columns and the sites holding it, that a site reporting other
// columns is named as a conflict, that a site declaring no tables is listed
// apart, and that an unauthenticated caller sees nothing.
func TestCatalogEndpoint(t *testing.T) {
	t.Parallel()
	sites := []Site{{Name: "a"}, {Name: "b"}, {Name: "c"}, {Name: "d", Tables: []string{"sales"}}}
	c := &Coordinator{cfg: Config{Sites: sites, Analysts: []Analyst{{ID: "ana", TokenSHA256: TokenHash("tok")}}}, catalogs: newCatalogs(sites)}
	cols := []planner.ColumnSchema{{Name: "region", Type: "VARCHAR"}, {Name: "amount", Type: "DOUBLE"}}
	c.catalogs.set("a", &flight.CatalogResult{Site: "a", Declared: true, Tables: []planner.TableSchema{{Name: "sales", Columns: cols}, {Name: "customers", Error: "cannot describe"}}})
	c.catalogs.set("b", &flight.CatalogResult{Site: "b", Declared: true, Tables: []planner.TableSchema{{Name: "sales", Columns: cols[:1]}}})
	c.catalogs.set("c", &flight.CatalogResult{Site: "c", Declared: false})
	c.catalogs.set("d", &flight.CatalogResult{Site: "d", Declared: true, Tables: []planner.TableSchema{{Name: "sales", Columns: cols}}})

	mux := http.NewServeMux()
	mux.HandleFunc("GET "+PathCatalog, c.catalogEndpoint)
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)

	get := func(token string) *http.Response {
		req, _ := http.NewRequest(http.MethodGet, srv.URL+PathCatalog, nil)
		if token != "" {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		res, err := srv.Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = res.Body.Close() })
		return res
	}
	if res := get("wrong"); res.StatusCode != http.StatusUnauthorized {
		t.Errorf("unknown token: status %d, want 401", res.StatusCode)
	}
	res := get("tok")
	if res.StatusCode != http.StatusOK {
		t.Fatalf("status %d", res.StatusCode)
	}
	var got CatalogView
	if err := json.NewDecoder(res.Body).Decode(&got); err != nil {
		t.Fatal(err)
	}
	want := CatalogView{
		Tables: []CatalogTable{
			{Name: "customers", Columns: []planner.ColumnSchema{}, Sites: []string{"a"}, Conflicts: []string{"a"}},
			{Name: "sales", Columns: cols, Sites: []string{"a", "b", "d"}, Conflicts: []string{"b"}},
		},
		Undeclared: []string{"c"},
	}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("catalog (-want +got):\n%s", d)
	}
}
