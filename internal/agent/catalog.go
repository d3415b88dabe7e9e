package agent

import (
	"github.com/fedmesh/fedmesh/internal/config"
	"github.com/fedmesh/fedmesh/planner"
)

// catalogOf builds the site's catalog from its configured tables: each
// table's logical name (its name unless logical: is set) maps to the
// engine's name for it and the column renames. It returns nil when no
// table renames anything, so sub-plans render as they come.
func catalogOf(tables []config.Table) planner.Catalog {
	renamed := false
	c := make(planner.Catalog, len(tables))
	for _, t := range tables {
		logical := t.Logical
		if logical == "" {
			logical = t.Name
		}
		if logical != t.Name || len(t.Columns) > 0 {
			renamed = true
		}
		c[logical] = planner.TableMap{Physical: t.Name, Columns: t.Columns}
	}
	if !renamed {
		return nil
	}
	return c
}

// toPhysical maps sp to the site's physical names for rendering; policy has
// already decided on the logical sub-plan.
func (h *handler) toPhysical(sp *planner.SubPlan) (*planner.SubPlan, error) {
	if h.catalog == nil {
		return sp, nil
	}
	return h.catalog.ToPhysical(sp)
}

// declaredTables lists the logical names of the configured tables, nil
// when there are none.
func declaredTables(tables []config.Table) []string {
	var out []string
	for _, t := range tables {
		if t.Logical != "" {
			out = append(out, t.Logical)
		} else {
			out = append(out, t.Name)
		}
	}
	return out
}
