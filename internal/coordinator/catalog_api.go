package coordinator

import (
	"net/http"
	"slices"
	"sort"

	"github.com/fedmesh/fedmesh/planner"
)

// PathCatalog is the catalog discovery endpoint.
const PathCatalog = "/v1/catalog"

// CatalogView is the federation's logical catalog as an analyst sees it:
// every logical table some site reported, its columns and types, and the
// sites holding it. It is built only from what the sites report
// (flight.ActionCatalog), which carries the federation's names, never a
// site's physical names or paths.
//
// The coordinator has no role-based table visibility: every authenticated
// analyst sees the whole logical catalog. Whether an analyst may read a
// table is each site's policy decision, made when a query runs.
type CatalogView struct {
	Tables []CatalogTable `json:"tables"`
	// Undeclared lists the sites that declare no tables (or have not yet
	// reported): they may hold any table and are asked about every query.
	Undeclared []string `json:"undeclared_sites"`
}

// CatalogTable is one logical table of a CatalogView.
type CatalogTable struct {
	Name    string                 `json:"name"`
	Columns []planner.ColumnSchema `json:"columns"`
	Sites   []string               `json:"sites"`
	// Conflicts names the sites whose columns differ from Columns (the
	// first site's description, in site order), or that could not
	// describe the table.
	Conflicts []string `json:"conflicts,omitempty"`
}

// catalogView assembles the logical catalog from the cached reports and
// the operator's per-site table overrides.
func (c *Coordinator) catalogView() CatalogView {
	byName := map[string]*CatalogTable{}
	view := CatalogView{Tables: []CatalogTable{}, Undeclared: []string{}}
	table := func(name string) *CatalogTable {
		t := byName[name]
		if t == nil {
			t = &CatalogTable{Name: name, Columns: []planner.ColumnSchema{}}
			byName[name] = t
		}
		return t
	}
	for _, s := range c.cfg.Sites {
		names := c.siteTables(s.Name)
		if names == nil {
			view.Undeclared = append(view.Undeclared, s.Name)
			continue
		}
		for _, n := range names {
			t := table(n)
			t.Sites = append(t.Sites, s.Name)
			cols, ok := c.siteColumns(s.Name, n)
			switch {
			case !ok:
				if r := c.catalogs.get(s.Name); r != nil && r.Table(n) != nil && r.Table(n).Error != "" {
					t.Conflicts = append(t.Conflicts, s.Name)
				}
			case len(t.Columns) == 0:
				t.Columns = slices.Clone(cols)
			case !slices.Equal(t.Columns, cols):
				t.Conflicts = append(t.Conflicts, s.Name)
			}
		}
	}
	for _, t := range byName {
		view.Tables = append(view.Tables, *t)
	}
	sort.Slice(view.Tables, func(i, j int) bool { return view.Tables[i].Name < view.Tables[j].Name })
	return view
}

// catalogEndpoint serves GET /v1/catalog to any authenticated analyst.
func (c *Coordinator) catalogEndpoint(w http.ResponseWriter, r *http.Request) {
	if _, ok := c.authenticateRequest(w, r); !ok {
		return
	}
	writeJSON(w, http.StatusOK, c.catalogView())
}
