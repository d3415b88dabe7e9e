package planner_test

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/fedmesh/fedmesh/planner"
	"github.com/fedmesh/fedmesh/planner/internal/plantest"
	"github.com/fedmesh/fedmesh/planner/render"
	"github.com/fedmesh/fedmesh/planner/sqlfront"
)

func TestParticipants(t *testing.T) {
	t.Parallel()
	all := []string{"a", "b", "c"}
	tests := []struct {
		where string
		want  []string
	}{
		{"", []string{"a", "b", "c"}},
		{"WHERE _site IN ('a', 'b')", []string{"a", "b"}},
		{"WHERE _site = 'c' AND year = 2022", []string{"c"}},
		{"WHERE NOT (_site = 'b')", []string{"a", "c"}},
		{"WHERE _site NOT IN ('a', NULL)", []string{}},
		{"WHERE _site = 'a' OR year = 2022", []string{"a", "b", "c"}},
		{"WHERE (_site = 'a' OR _site = 'c') AND region = 'x'", []string{"a", "c"}},
		{"WHERE _site = NULL", []string{}},
		{"WHERE _site LIKE 'a%'", []string{"a", "b", "c"}}, // not folded: the sites decide
	}
	for _, tc := range tests {
		q, err := sqlfront.Parse("SELECT count(*) FROM sales " + tc.where)
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(tc.want, planner.Participants(q, all)); diff != "" {
			t.Errorf("%s (-want +got):\n%s", tc.where, diff)
		}
	}
}

func TestSplitBindsSite(t *testing.T) {
	t.Parallel()
	q, err := sqlfront.Parse("SELECT _site, count(*) FROM sales WHERE _site <> 'x' GROUP BY _site")
	if err != nil {
		t.Fatal(err)
	}
	sp := planner.Split(q, []string{"b"}, plantest.Meta())[0]
	sql, args, err := render.Render(sp, render.DuckDB{})
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(sql, planner.SiteColumn) {
		t.Errorf("rendered SQL still names %s: %s", planner.SiteColumn, sql)
	}
	if diff := cmp.Diff([]any{"b", "b", "x"}, args); diff != "" {
		t.Errorf("args (-want +got):\n%s\n%s", diff, sql)
	}
	for _, u := range sp.ColumnUses() {
		if u.Column == planner.SiteColumn {
			t.Errorf("column use %+v reaches the site's policy", u)
		}
	}
}
