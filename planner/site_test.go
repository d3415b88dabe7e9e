package planner

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
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
		q, err := Parse("SELECT count(*) FROM sales " + tc.where)
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(tc.want, Participants(q, all)); diff != "" {
			t.Errorf("%s (-want +got):\n%s", tc.where, diff)
		}
	}
}

func TestSplitBindsSite(t *testing.T) {
	t.Parallel()
	q, err := Parse("SELECT _site, count(*) FROM sales WHERE _site <> 'x' GROUP BY _site")
	if err != nil {
		t.Fatal(err)
	}
	sp := Split(q, []string{"b"}, testMeta())[0]
	sql, args, err := Render(sp, DuckDB{})
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(sql, SiteColumn) {
		t.Errorf("rendered SQL still names %s: %s", SiteColumn, sql)
	}
	if diff := cmp.Diff([]any{"b", "b", "x"}, args); diff != "" {
		t.Errorf("args (-want +got):\n%s\n%s", diff, sql)
	}
	for _, u := range sp.ColumnUses() {
		if u.Column == SiteColumn {
			t.Errorf("column use %+v reaches the site's policy", u)
		}
	}
}
