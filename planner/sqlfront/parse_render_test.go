package sqlfront

import (
	"testing"

	"github.com/fedmesh/fedmesh/planner"
	"github.com/fedmesh/fedmesh/planner/internal/plantest"
	"github.com/fedmesh/fedmesh/planner/render"
)

// TestEveryAcceptedQueryRenders guards the seam between Parse and Render:
// whatever the parser accepts, a site can validate and render.
func TestEveryAcceptedQueryRenders(t *testing.T) {
	t.Parallel()
	for _, tc := range acceptedQueries {
		q, err := Parse(tc.sql)
		if err != nil {
			t.Fatalf("Parse(%q): %v", tc.sql, err)
		}
		sp := planner.Split(q, []string{"a"}, plantest.Meta())[0]
		if err := sp.Validate(); err != nil {
			t.Errorf("%s: sub-plan invalid: %v", tc.name, err)
		}
		if _, _, err := render.Render(sp, render.DuckDB{}); err != nil {
			t.Errorf("%s: %v", tc.name, err)
		}
	}
}
