package planner_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/fedmesh/fedmesh/planner"
	"github.com/fedmesh/fedmesh/planner/render"
	"github.com/fedmesh/fedmesh/planner/sqlfront"
)

func joinSubPlan(t *testing.T, sql string) *planner.SubPlan {
	t.Helper()
	q, err := sqlfront.Parse(sql)
	if err != nil {
		t.Fatal(err)
	}
	return planner.Split(q, []string{"a"}, planner.SubPlanMeta{QueryID: "q", Analyst: "x", Deadline: time.Unix(0, 0)})[0]
}

func TestJoinRendersPerDialect(t *testing.T) {
	sp := joinSubPlan(t, `SELECT c.segment, SUM(s.amount) AS total FROM sales s LEFT JOIN customers c USING (customer_id) WHERE c.country <> 'x' GROUP BY c.segment`)
	want := map[string]string{
		"duckdb":   `SELECT "customers"."segment" AS "g0", count(*) AS "a0", sum("sales"."amount") AS "a1" FROM "sales" LEFT JOIN "customers" ON ("sales"."customer_id" = "customers"."customer_id") WHERE ("customers"."country" <> $1) GROUP BY "customers"."segment"`,
		"postgres": `SELECT "customers"."segment" AS "g0", count(*) AS "a0", sum("sales"."amount") AS "a1" FROM "sales" LEFT JOIN "customers" ON ("sales"."customer_id" = "customers"."customer_id") WHERE ("customers"."country" <> $1) GROUP BY "customers"."segment"`,
		"mysql":    "SELECT `customers`.`segment` AS `g0`, count(*) AS `a0`, sum(`sales`.`amount`) AS `a1` FROM `sales` LEFT JOIN `customers` ON (`sales`.`customer_id` = `customers`.`customer_id`) WHERE (`customers`.`country` <> ?) GROUP BY `customers`.`segment`",
		"spark":    "SELECT `customers`.`segment` AS `g0`, count(*) AS `a0`, sum(`sales`.`amount`) AS `a1` FROM `sales` LEFT JOIN `customers` ON (`sales`.`customer_id` = `customers`.`customer_id`) WHERE (`customers`.`country` <> 'x') GROUP BY `customers`.`segment`",
		"flink":    "SELECT `customers`.`segment` AS `g0`, count(*) AS `a0`, sum(`sales`.`amount`) AS `a1` FROM `sales` LEFT JOIN `customers` ON (`sales`.`customer_id` = `customers`.`customer_id`) WHERE (`customers`.`country` <> 'x') GROUP BY `customers`.`segment`",
	}
	for name, w := range want {
		d, err := render.DialectByName(name)
		if err != nil {
			t.Fatal(err)
		}
		got, _, err := render.Render(sp, d)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if got != w {
			t.Errorf("%s:\n got %s\nwant %s", name, got, w)
		}
	}
}

func TestJoinDerivedGroupsNameQualifiedColumns(t *testing.T) {
	sp := joinSubPlan(t, `SELECT CASE WHEN c.birth_year < 1980 THEN 'old' ELSE 'young' END AS k, SUM(s.amount) FROM sales s JOIN customers c ON s.customer_id = c.customer_id GROUP BY 1`)
	got, _, err := render.Render(sp, render.DuckDB{})
	if err != nil {
		t.Fatal(err)
	}
	want := `SELECT "g0", count(*) AS "a0", sum("sales.amount") AS "a1" FROM (SELECT (CASE WHEN ("customers"."birth_year" < $1) THEN $2 ELSE $3 END) AS "g0", "sales"."amount" AS "sales.amount" FROM "sales" JOIN "customers" ON ("sales"."customer_id" = "customers"."customer_id")) AS "fedmesh_src" GROUP BY "g0"`
	if got != want {
		t.Errorf("got  %s\nwant %s", got, want)
	}
}

func TestJoinToPhysical(t *testing.T) {
	sp := joinSubPlan(t, `SELECT c.segment, SUM(s.amount) FROM sales s JOIN customers c USING (customer_id) GROUP BY c.segment`)
	cat := planner.Catalog{
		"sales":     {Physical: "orders", Columns: map[string]string{"customer_id": "cust", "amount": "amt"}},
		"customers": {Physical: "clients", Columns: map[string]string{"customer_id": "id", "segment": "seg"}},
	}
	psp, err := cat.ToPhysical(sp)
	if err != nil {
		t.Fatal(err)
	}
	got, _, err := render.Render(psp, render.DuckDB{})
	if err != nil {
		t.Fatal(err)
	}
	want := `SELECT "clients"."seg" AS "g0", count(*) AS "a0", sum("orders"."amt") AS "a1" FROM "orders" JOIN "clients" ON ("orders"."cust" = "clients"."id") GROUP BY "clients"."seg"`
	if got != want {
		t.Errorf("got  %s\nwant %s", got, want)
	}
	if sp.Join.Table != "customers" || sp.GroupBy[0].Expr.Column != "customers.segment" {
		t.Errorf("ToPhysical changed the logical plan: %+v", sp.Join)
	}
	if _, err := (planner.Catalog{"sales": {}}).ToPhysical(sp); !errors.Is(err, planner.ErrNoTable) {
		t.Errorf("join table missing from the catalog: err = %v, want ErrNoTable", err)
	}
}

func TestJoinColumnUses(t *testing.T) {
	sp := joinSubPlan(t, `SELECT c.segment, SUM(s.amount) FROM sales s JOIN customers c USING (customer_id) GROUP BY c.segment`)
	want := []planner.ColumnUse{
		{Table: "customers", Column: "segment", Use: planner.UseGroupKey},
		{Table: "sales", Column: "amount", Use: planner.UseAggregateArg, Function: planner.AggSum},
		{Table: "sales", Column: "customer_id", Use: planner.UseJoinKey},
		{Table: "customers", Column: "customer_id", Use: planner.UseJoinKey},
	}
	if d := cmp.Diff(want, sp.ColumnUses()); d != "" {
		t.Errorf("column uses (-want +got):\n%s", d)
	}
}

func TestCheckJoinSites(t *testing.T) {
	q, err := sqlfront.Parse(`SELECT count(*) FROM sales s JOIN customers c USING (customer_id)`)
	if err != nil {
		t.Fatal(err)
	}
	tables := map[string][]string{"a": {"sales", "customers"}, "b": {"sales"}, "c": {}}
	has := func(site, table string) bool {
		for _, t := range tables[site] {
			if t == table {
				return true
			}
		}
		return false
	}
	err = sqlfront.CheckJoinSites(q, []string{"a", "b", "c"}, has)
	if err == nil || !strings.Contains(err.Error(), `site "b" holds sales but not customers`) {
		t.Errorf("CheckJoinSites = %v, want a refusal naming site b", err)
	}
	if err := sqlfront.CheckJoinSites(q, []string{"a", "c"}, has); err != nil {
		t.Errorf("a site holding neither table should just not take part: %v", err)
	}
	in, lacking := planner.ParticipantsByCatalog(q, []string{"a", "c"}, has)
	if d := cmp.Diff([]string{"a"}, in); d != "" || len(lacking) != 1 {
		t.Errorf("participants %v lacking %v", in, lacking)
	}
}
