package render

import (
	"errors"
	"fmt"
	"testing"

	"github.com/fedmesh/fedmesh/planner"
	"github.com/fedmesh/fedmesh/planner/internal/plantest"
	"github.com/fedmesh/fedmesh/planner/sqlfront"
)

func TestDateTruncRendersPerDialect(t *testing.T) {
	const sql = `SELECT date_trunc('Month', day) AS m, count(*) FROM orders WHERE date_trunc('year', day) >= DATE '2024-01-01' GROUP BY 1`
	want := map[string]string{
		"duckdb":   `SELECT "g0", count(*) AS "a0" FROM (SELECT CAST(date_trunc($1, "day") AS TIMESTAMP) AS "g0" FROM "orders" WHERE (CAST(date_trunc($2, "day") AS TIMESTAMP) >= CAST($3 AS DATE))) AS "fedmesh_src" GROUP BY "g0"` + " [month year 2024-01-01]",
		"postgres": `SELECT "g0", count(*) AS "a0" FROM (SELECT date_trunc($1, CAST("day" AS TIMESTAMP)) AS "g0" FROM "orders" WHERE (date_trunc($2, CAST("day" AS TIMESTAMP)) >= CAST($3 AS DATE))) AS "fedmesh_src" GROUP BY "g0"` + " [month year 2024-01-01]",
		"mysql":    "SELECT `g0`, count(*) AS `a0` FROM (SELECT CAST(DATE_FORMAT(`day`, ?) AS DATETIME) AS `g0` FROM `orders` WHERE (CAST(DATE_FORMAT(`day`, ?) AS DATETIME) >= CAST(? AS DATE))) AS `fedmesh_src` GROUP BY `g0` [%Y-%m-01 %Y-01-01 2024-01-01]",
		"spark":    "SELECT `g0`, count(*) AS `a0` FROM (SELECT date_trunc('MONTH', `day`) AS `g0` FROM `orders` WHERE (date_trunc('YEAR', `day`) >= CAST('2024-01-01' AS DATE))) AS `fedmesh_src` GROUP BY `g0` []",
	}
	for name, w := range want {
		d, err := DialectByName(name)
		if err != nil {
			t.Fatal(err)
		}
		got, args := renderSQLFor(t, sql, d)
		if got = fmt.Sprintf("%s %v", got, args); got != w {
			t.Errorf("%s:\n got %s\nwant %s", name, got, w)
		}
	}
	q, err := sqlfront.Parse(sql)
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := Render(planner.Split(q, []string{"a"}, plantest.Meta())[0], Flink{}); !errors.Is(err, ErrNoDateTrunc) {
		t.Errorf("Flink: err = %v, want a refusal naming date_trunc", err)
	}
}

func TestDateTruncRefusals(t *testing.T) {
	for _, sql := range []string{
		`SELECT count(*) FROM orders GROUP BY date_trunc('week', day)`,
		`SELECT count(*) FROM orders GROUP BY date_trunc(region, day)`,
		`SELECT date_trunc('day', max(day)) FROM orders`,
	} {
		var pe *planner.Error
		if _, err := sqlfront.Parse(sql); !errors.As(err, &pe) {
			t.Errorf("Parse(%q) = %v, want a refusal", sql, err)
		}
	}
}
