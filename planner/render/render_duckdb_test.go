package render_test

import (
	"context"
	"database/sql"
	"fmt"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	_ "github.com/duckdb/duckdb-go/v2" // registers the "duckdb" driver
	"github.com/fedmesh/fedmesh/planner"
	"github.com/fedmesh/fedmesh/planner/render"
	"github.com/fedmesh/fedmesh/planner/sqlfront"
)

// TestRenderedSQLRunsOnDuckDB executes rendered sub-plans on an in-memory
// DuckDB: the SQL must be valid DuckDB, bind its arguments, and compute the
// partials the merge expects. Only the test talks to an engine.
func TestRenderedSQLRunsOnDuckDB(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	db, err := sql.Open("duckdb", "")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	db.SetMaxOpenConns(1) // one in-memory database
	for _, stmt := range []string{
		`CREATE TABLE sales (region VARCHAR, product VARCHAR, amount BIGINT, year INTEGER, "Mixed Case" VARCHAR)`,
		`INSERT INTO sales VALUES
			('north', 'a', 10, 2024, 'x'), ('north', 'b', 30, 2024, NULL), ('south', 'a', 5, 2023, 'y'),
			('south', NULL, NULL, 2024, 'z'), ('''; DROP TABLE sales; --', 'a', 1, 2024, NULL)`,
	} {
		if _, err := db.ExecContext(ctx, stmt); err != nil {
			t.Fatalf("set up table: %v", err)
		}
	}
	tests := []struct {
		name string
		sql  string
		want [][]string // rows as fmt.Sprint of each value, in sorted order
	}{
		{"group and filter", `SELECT region, SUM(amount), AVG(amount) FROM sales WHERE year = 2024 AND region <> 'x' GROUP BY region`,
			[][]string{{"'; DROP TABLE sales; --", "1", "1", "1"}, {"north", "2", "40", "2"}, {"south", "1", "<nil>", "0"}}},
		{"global aggregate", `SELECT count(*), min(amount), max(amount) FROM sales WHERE product IN ('a', 'b') AND amount BETWEEN 2 AND 100 AND "Mixed Case" IS NOT NULL`,
			[][]string{{"2", "5", "10"}}},
		{"literal that looks like SQL stays a value", `SELECT count(*) FROM sales WHERE region = '''; DROP TABLE sales; --'`,
			[][]string{{"1"}}},
		{"no matching rows still one global group", `SELECT count(*), sum(amount) FROM sales WHERE year = 1999 OR NOT (region IS NOT NULL)`,
			[][]string{{"0", "<nil>"}}},
		{"rows with pushed limit", `SELECT region, amount FROM sales WHERE amount > 9 AND year NOT IN (2023) LIMIT 1 OFFSET 1`,
			[][]string{{"north", "10"}, {"north", "30"}}},
		{"literal projection binds", `SELECT 7, region, 'x' FROM sales WHERE region = 'south' AND amount IS NULL`,
			[][]string{{"7", "south", "x"}}},
		{"case bucket group key binds once", `SELECT CASE WHEN amount >= 10 THEN 'big' ELSE 'small' END AS size, count(*), sum(amount * 2) FROM sales GROUP BY size`,
			[][]string{{"big", "2", "80"}, {"small", "3", "12"}}},
		{"coalesce cast like", `SELECT coalesce(product, 'none'), count(*) FROM sales WHERE CAST(year AS text) LIKE '202%' AND region NOT LIKE 'w%' GROUP BY 1`,
			[][]string{{"a", "3"}, {"b", "1"}, {"none", "1"}}},
		{"float division", `SELECT sum(amount / 2.0), sum(CAST(amount AS double precision) / year) > 0 FROM sales`,
			[][]string{{"5", "23", "0.022728493862087966"}}},
		{"star rows", `SELECT * FROM sales WHERE product IS NULL`,
			[][]string{{"south", "<nil>", "<nil>", "2024", "z"}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			q, err := sqlfront.Parse(tc.sql)
			if err != nil {
				t.Fatal(err)
			}
			sp := planner.Split(q, []string{"site"}, planner.SubPlanMeta{QueryID: "q"})[0]
			text, args, err := render.Render(sp, render.DuckDB{})
			if err != nil {
				t.Fatal(err)
			}
			got := queryRows(ctx, t, db, "SELECT * FROM ("+text+") AS r ORDER BY ALL", args)
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("%s with %v (-want +got):\n%s", text, args, diff)
			}
		})
	}
}

// TestDatesRunOnDuckDB checks EXTRACT and date literals on a date column.
func TestDatesRunOnDuckDB(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	db, err := sql.Open("duckdb", "")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	db.SetMaxOpenConns(1)
	for _, stmt := range []string{
		`CREATE TABLE orders (day DATE, amount BIGINT)`,
		`INSERT INTO orders VALUES ('2023-12-31', 1), ('2024-01-15', 2), ('2024-02-29', 4), ('2024-11-02', 8), (NULL, 16)`,
	} {
		if _, err := db.ExecContext(ctx, stmt); err != nil {
			t.Fatalf("set up table: %v", err)
		}
	}
	tests := []struct {
		name, sql string
		want      [][]string
	}{
		{"extract group keys", `SELECT EXTRACT(year FROM day) AS y, date_part('quarter', day) AS q, sum(amount) FROM orders GROUP BY 1, 2`,
			[][]string{{"2023", "4", "1", "1"}, {"2024", "1", "2", "6"}, {"2024", "4", "1", "8"}, {"<nil>", "<nil>", "1", "16"}}},
		{"date literal filter", `SELECT count(*) FROM orders WHERE day >= DATE '2024-01-01' AND day < CAST('2024-03-01' AS date)`,
			[][]string{{"2"}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			q, err := sqlfront.Parse(tc.sql)
			if err != nil {
				t.Fatal(err)
			}
			sp := planner.Split(q, []string{"site"}, planner.SubPlanMeta{QueryID: "q"})[0]
			text, args, err := render.Render(sp, render.DuckDB{})
			if err != nil {
				t.Fatal(err)
			}
			got := queryRows(ctx, t, db, "SELECT * FROM ("+text+") AS r ORDER BY ALL", args)
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("%s with %v (-want +got):\n%s", text, args, diff)
			}
		})
	}
}

func queryRows(ctx context.Context, t *testing.T, db *sql.DB, text string, args []any) [][]string {
	t.Helper()
	rows, err := db.QueryContext(ctx, text, args...)
	if err != nil {
		t.Fatalf("%s: %v", text, err)
	}
	defer rows.Close()
	cols, err := rows.Columns()
	if err != nil {
		t.Fatal(err)
	}
	var out [][]string
	for rows.Next() {
		vals := make([]any, len(cols))
		ptrs := make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		if err := rows.Scan(ptrs...); err != nil {
			t.Fatal(err)
		}
		row := make([]string, len(vals))
		for i, v := range vals {
			row[i] = fmt.Sprint(v)
		}
		out = append(out, row)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}
