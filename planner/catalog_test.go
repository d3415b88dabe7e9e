package planner_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/fedmesh/fedmesh/planner"
	"github.com/fedmesh/fedmesh/planner/internal/plantest"
	"github.com/fedmesh/fedmesh/planner/render"
	"github.com/fedmesh/fedmesh/planner/sqlfront"
)

func TestCatalogToPhysical(t *testing.T) {
	t.Parallel()
	q, err := sqlfront.Parse(`SELECT region, sum(amount) FROM sales WHERE status = 'paid' AND amount > 1 GROUP BY region`)
	if err != nil {
		t.Fatal(err)
	}
	sp := planner.Split(q, []string{"a"}, plantest.Meta())[0]
	cat := planner.Catalog{"sales": {Physical: "Verkauf", Columns: map[string]string{"amount": "betrag", "region": "Region"}}}
	phys, err := cat.ToPhysical(sp)
	if err != nil {
		t.Fatal(err)
	}
	sql, _, err := render.Render(phys, render.Postgres{})
	if err != nil {
		t.Fatal(err)
	}
	want := `SELECT "Region" AS "g0", count(*) AS "a0", sum("betrag") AS "a1" FROM "Verkauf" WHERE (("status" = $1) AND ("betrag" > $2)) GROUP BY "Region"`
	if sql != want {
		t.Errorf("sql =\n%s\nwant\n%s", sql, want)
	}
	// The logical sub-plan (what policy saw) is untouched.
	if sp.Table != "sales" || sp.GroupBy[0].Expr.Column != "region" {
		t.Errorf("ToPhysical changed the logical sub-plan: %+v", sp)
	}
	sp.Table = "customers"
	if _, err := cat.ToPhysical(sp); !errors.Is(err, planner.ErrNoTable) || !strings.Contains(err.Error(), "sales") {
		t.Errorf("missing table: err = %v, want ErrNoTable naming the tables here", err)
	}
}

func TestParticipantsByCatalog(t *testing.T) {
	t.Parallel()
	q, err := sqlfront.Parse(`SELECT count(*) FROM customers WHERE _site <> 'c'`)
	if err != nil {
		t.Fatal(err)
	}
	has := func(site, table string) bool { return site != "b" || table != "customers" }
	in, lacking := planner.ParticipantsByCatalog(q, []string{"a", "b", "c"}, has)
	if diff := cmp.Diff([]string{"a"}, in); diff != "" {
		t.Errorf("in (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{"b"}, lacking); diff != "" {
		t.Errorf("lacking (-want +got):\n%s", diff)
	}
}
