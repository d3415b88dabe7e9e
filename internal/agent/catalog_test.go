package agent

import (
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/fedmesh/fedmesh/internal/config"
	"github.com/fedmesh/fedmesh/planner"
)

func TestCatalogOf(t *testing.T) {
	tests := []struct {
		name   string
		tables []config.Table
		want   planner.Catalog
	}{
		{"no renames: logical names render as they are", []config.Table{{Name: "sales"}, {Name: "customers"}}, nil},
		{"renamed table and columns", []config.Table{
			{Name: "orders_c", Logical: "sales", Columns: map[string]string{"amount": "amt"}},
			{Name: "customers"},
		}, planner.Catalog{
			"sales":     {Physical: "orders_c", Columns: map[string]string{"amount": "amt"}},
			"customers": {Physical: "customers"},
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if d := cmp.Diff(tc.want, catalogOf(tc.tables)); d != "" {
				t.Errorf("catalog (-want +got):\n%s", d)
			}
		})
	}
}
