// Package plantest holds fixtures that the tests of several planner
// packages share. Only tests import it.
package plantest

import (
	"time"

	"github.com/fedmesh/fedmesh/planner"
)

// Meta is the sub-plan metadata of the planner tests.
func Meta() planner.SubPlanMeta {
	return planner.SubPlanMeta{QueryID: "q-1", Analyst: "alice", Deadline: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)}
}

// RenderCases are the queries whose rendering for each dialect render's
// tests compare with golden files (testdata/render/<dialect>/<name>.golden);
// sqlfront's fuzz test starts from them too.
var RenderCases = []struct{ Name, SQL string }{
	{"global_count", `SELECT count(*) FROM sales`},
	{"group_filter", `SELECT region, SUM(amount) AS total FROM sales WHERE year = 2024 GROUP BY region`},
	{"avg_two_keys", `SELECT region, product, AVG(amount) FROM sales WHERE region IN ('north', 'south') GROUP BY 1, 2`},
	{"having_order_limit", `SELECT region, sum(amount) AS total FROM sales GROUP BY region HAVING max(amount) > 10 ORDER BY total DESC LIMIT 3`},
	{"where_every_op", `SELECT min(amount), max(amount) FROM sales WHERE NOT (a = 1 OR b <> 'x') AND c < 2.5 AND d <= -3 AND e > true AND f >= 0 AND g NOT IN (1, 2) AND h BETWEEN 1 AND 9 AND i NOT BETWEEN 'a' AND 'b' AND j IS NULL AND k IS NOT NULL AND l = NULL`},
	{"quoted_identifiers", `SELECT "Re""gion", count("Amount") FROM "Sales Table" GROUP BY "Re""gion"`},
	{"rows_star_limit", `SELECT * FROM sales WHERE year = 2024 LIMIT 5 OFFSET 10`},
	{"rows_projection_ordered", `SELECT region, amount FROM sales ORDER BY amount LIMIT 5`},
	{"rows_projection_limit", `SELECT s.region, s.amount AS a FROM sales s WHERE s.amount > 100 LIMIT 20`},
	{"expressions", `SELECT CASE WHEN amount > 100 THEN 'big' ELSE 'small' END AS size, COALESCE(status, 'none') AS st, count(*), sum(amount * 2.5), avg(CAST(year AS bigint)) FROM sales WHERE region LIKE 'n%' AND CAST(year AS text) <> '2020' AND amount / 2.0 NOT BETWEEN -1 AND 1 AND CAST(amount AS bigint) / 7 <> 3 GROUP BY 1, 2`},
	{"dates", `SELECT EXTRACT(year FROM day) AS y, count(*) FROM orders WHERE day >= DATE '2024-01-01' GROUP BY 1`},
	{"variance", `SELECT region, stddev_samp(amount), var_pop(year) FROM sales GROUP BY region`},
	{"sketch_distinct", `SELECT region, COUNT(DISTINCT customer_id), sum(amount) FROM sales WHERE year = 2024 GROUP BY region`},
	{"sketch_quantile", `SELECT percentile_cont(0.9) WITHIN GROUP (ORDER BY amount), approx_quantile(amount, 0.5), APPROX_COUNT_DISTINCT(customer_id), var_pop(amount) FROM sales WHERE status <> 'void'`},
	{"string_literals", `SELECT count(*) FROM sales WHERE region = 'it''s' OR region = E'back\\slash\' OR 1=1 --' OR region IN ('', 'zürich', E'tab\there')`},
}
