package e2e

// caseCases are differential queries with CASE and COALESCE over merged
// aggregates (evaluated by the coordinator after the merge).
var caseCases = []diffCase{
	{name: "CASE over aggregates",
		sql: "SELECT region, CASE WHEN SUM(amount) > 20000 THEN 'large' WHEN COUNT(*) > 10 THEN 'many' ELSE 'small' END AS size FROM sales GROUP BY region ORDER BY region"},
	{name: "COALESCE over an aggregate that may be NULL",
		sql: "SELECT region, COALESCE(MAX(CASE WHEN amount > 450 THEN amount END), 0) AS top, COALESCE(SUM(CASE WHEN status = 'none' THEN amount END), -1.5) AS s FROM sales GROUP BY region ORDER BY region"},
	{name: "CASE over a group key and an aggregate in ORDER BY",
		sql: "SELECT year, COUNT(*) AS n FROM sales GROUP BY year ORDER BY CASE WHEN year > 2021 THEN 0 WHEN COUNT(*) > 100 THEN 1 ELSE 2 END, year"},
}

func init() { differentialSuite = append(differentialSuite, caseCases...) }
