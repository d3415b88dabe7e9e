package sqlfront

import (
	"errors"
	"strings"
	"testing"

	"github.com/fedmesh/fedmesh/planner"
)

// refusedQueries pin the construct and the 1-based character position each
// refusal reports (the first character of the offending token; PostgreSQL's
// own location for casts and IN is the operator).
var refusedQueries = []struct {
	name      string
	sql       string
	construct string
	pos       int
	msg       string // substring of Msg
}{
	{"select distinct", `SELECT DISTINCT region FROM sales`, "DISTINCT", 8, "not yet supported"},
	{"sum distinct", `SELECT region, SUM(DISTINCT amount) FROM sales GROUP BY region`, "SUM(DISTINCT …)", 16, "does not decompose"},
	{"percentile_disc", `SELECT percentile_disc(0.5) WITHIN GROUP (ORDER BY amount) FROM sales`, "PERCENTILE_DISC", 8, "exact percentiles"},
	{"quantile out of range", `SELECT approx_quantile(amount, 1.5) FROM sales`, "APPROX_QUANTILE fraction", 32, "from 0 to 1"},
	{"comma join", `SELECT count(*) FROM sales, items`, "join", 29, "comma joins are not supported"},
	{"full join", `SELECT count(*) FROM sales FULL JOIN items USING (id)`, "join (FULL)", 33, "only INNER and LEFT joins"},
	{"join across sites on _site inequality", `SELECT count(*) FROM sales s JOIN items i ON s.id = i.id AND s._site <> i._site`, "join condition", 70, "each site joins only its own rows"},
	{"join on _site equality with a column", `SELECT count(*) FROM sales s JOIN items i ON s.id = i.id AND s._site = i.region`, "_site in a join condition", 70, "each site joins only its own rows"},
	{"join on inequality", `SELECT count(*) FROM sales s JOIN items i ON s.id < i.id`, "join condition", 51, "only equalities"},
	{"unqualified column of a join", `SELECT region, count(*) FROM sales s JOIN items i USING (id) GROUP BY region`, `column "region"`, 71, "must be qualified"},
	{"star over a join", `SELECT * FROM sales s JOIN items i USING (id)`, "* over a join", 8, "not supported"},
	{"self join", `SELECT count(*) FROM sales a JOIN sales b USING (id)`, "self-join", 30, "joined with itself"},
	{"three tables", `SELECT count(*) FROM sales a JOIN items b USING (id) JOIN shops c USING (shop)`, "join of more than two tables", 30, "more than two tables"},
	{"join without keys", `SELECT count(*) FROM sales s JOIN items i ON s._site = i._site`, "join without keys", 30, "needs an equality"},
	{"subquery in where", `SELECT count(*) FROM sales WHERE id IN (SELECT id FROM vip)`, "subquery", 37, "not supported"},
	{"subquery in from", `SELECT count(*) FROM (SELECT * FROM sales) t`, "subquery", 22, "not supported"},
	{"cte", `WITH t AS (SELECT 1) SELECT count(*) FROM t`, "WITH clause (CTE)", 1, "not supported"},
	{"window function", `SELECT region, sum(amount) OVER (PARTITION BY region) FROM sales`, "window function", 16, "not supported"},
	{"union", `SELECT count(*) FROM a UNION SELECT count(*) FROM b`, "set operation (UNION)", 24, "not supported"},
	{"multiple statements", `SELECT count(*) FROM a;  SELECT 1`, "multiple statements", 26, "only one statement"},
	{"delete", `DELETE FROM sales`, "DELETE statement", 1, "only SELECT"},
	{"drop", `  DROP TABLE sales`, "DROP statement", 3, "only SELECT"},
	{"other function", `SELECT region, lower(region) FROM sales GROUP BY region`, "function lower()", 16, "not supported"},
	{"star with aggregates", `SELECT *, count(*) FROM sales`, "*", 8, "cannot be combined"},
	{"aggregate in where", `SELECT count(*) FROM sales WHERE sum(amount) > 5`, "SUM in WHERE", 34, "not allowed in WHERE"},
	{"nested aggregates", `SELECT sum(max(amount)) FROM sales`, "nested aggregate", 12, "cannot be nested"},
	{"ungrouped column", `SELECT region, product, count(*) FROM sales GROUP BY region`, `column "product"`, 16,
		`column "product" must appear in the GROUP BY clause or be used in an aggregate function`},
	{"ungrouped column in having", `SELECT region, count(*) FROM sales GROUP BY region HAVING product = 'x'`, `column "product"`, 59, "must appear in the GROUP BY clause"},
	{"syntax error", `SELECT count(*) FROM WHERE`, "syntax", 22, "syntax error"},
	{"schema qualified table", `SELECT count(*) FROM public.sales`, "qualified table name", 22, "schema-qualified"},
	{"type cast", `SELECT count(*) FROM sales WHERE day > '2024-01-01'::timestamptz`, "CAST to timestamptz", 52, "not supported"},
	{"date literal not iso", `SELECT count(*) FROM sales WHERE day > DATE '01/02/2024'`, "date literal", 45, "not an ISO date"},
	{"extract day of week", `SELECT count(*) FROM sales WHERE EXTRACT(dow FROM day) = 0`, "EXTRACT field", 34, "must be one of"},
	{"integer division in where", `SELECT count(*) FROM sales WHERE amount / 2 > 10`, "division", 41, "needs operands of known type"},
	{"integer division in aggregate", `SELECT sum(amount / year) FROM sales`, "division", 19, "truncates"},
	{"cast over aggregates", `SELECT CAST(count(*) AS text) FROM sales`, "TYPE CAST in SELECT", 8, "over aggregates"},
	{"like with backslash", `SELECT count(*) FROM sales WHERE region LIKE 'n\%'`, "LIKE pattern", 41, "backslash"},
	{"cast with typmod", `SELECT count(*) FROM sales WHERE region::varchar(3) = 'nor'`, "CAST to varchar", 40, "not supported"},
	{"group by position out of range", `SELECT region, count(*) FROM sales GROUP BY 3`, "GROUP BY position 3", 45, "not in select list"},
	{"group by aggregate", `SELECT count(*) FROM sales GROUP BY 1`, "aggregate in GROUP BY", 37, "not allowed in GROUP BY"},
	{"order by position out of range", `SELECT region, count(*) FROM sales GROUP BY region ORDER BY 5`, "ORDER BY position 5", 61, "not in select list"},
	{"rows ordered by unprojected column", `SELECT region FROM sales ORDER BY amount`, `column "amount"`, 35, "must be in the select list"},
	{"star ordered", `SELECT * FROM sales ORDER BY amount`, "ORDER BY with SELECT *", 30, "named columns"},
	{"negative limit", `SELECT count(*) FROM sales LIMIT -1`, "LIMIT", 34, "must not be negative"},
	{"limit expression", `SELECT count(*) FROM sales LIMIT 1 + 1`, "LIMIT", 36, "integer literal"},
	{"in list with column", `SELECT count(*) FROM sales WHERE a IN (1, b)`, "IN list item", 43, "only literals"},
	{"wrong qualifier", `SELECT count(*) FROM sales s WHERE sales.year = 1`, `table "sales"`, 36, "missing FROM-clause entry"},
	{"sum star", `SELECT sum(*) FROM sales`, "SUM(*)", 8, "only COUNT"},
	{"position counts characters", `SELECT count(*) FROM sales WHERE région = 'ü' AND max(x) > 1`, "MAX in WHERE", 51, "not allowed in WHERE"},
	{"syntax position counts characters", `SELECT 'ééé' FROM FROM`, "syntax", 19, "syntax error"},
	{"no from", `SELECT 1`, "FROM clause", 0, "FROM clause naming one table is required"},
	{"integer out of range", `SELECT count(*) FROM sales WHERE id = 99999999999999999999`, "integer literal", 39, "out of range"},
	{"parameter", `SELECT count(*) FROM sales WHERE id = $1`, "query parameter", 39, "not supported"},
	{"empty", ` ; `, "query", 0, "empty"},
	{"rollup", `SELECT count(*) FROM sales GROUP BY ROLLUP (region)`, "grouping sets (ROLLUP, CUBE, GROUPING SETS)", 37, "not supported"},
	{"group by alias of aggregate", `SELECT region, count(*) AS n FROM sales GROUP BY region, n`, "aggregate in GROUP BY", 58, "not allowed in GROUP BY"},
	{"having on select alias", `SELECT region, sum(amount) AS total FROM sales GROUP BY region HAVING total > 5`, `column "total"`, 71, "must appear in the GROUP BY clause"},
}

func TestParseRefuses(t *testing.T) {
	t.Parallel()
	for _, tc := range refusedQueries {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			q, err := Parse(tc.sql)
			if err == nil {
				t.Fatalf("Parse(%q) = %s, want an error", tc.sql, describeQuery(q))
			}
			var pe *planner.Error
			if !errors.As(err, &pe) {
				t.Fatalf("Parse(%q) error %T %v, want *planner.Error", tc.sql, err, err)
			}
			if pe.Construct != tc.construct || pe.Pos != tc.pos {
				t.Errorf("Parse(%q) refused %q at %d, want %q at %d (%v)", tc.sql, pe.Construct, pe.Pos, tc.construct, tc.pos, err)
			}
			if !strings.Contains(pe.Msg, tc.msg) {
				t.Errorf("Parse(%q) message %q does not contain %q", tc.sql, pe.Msg, tc.msg)
			}
			if pe.Hint == "" && pe.Construct != "syntax" {
				t.Errorf("Parse(%q) gives no hint: %v", tc.sql, err)
			}
		})
	}
}
