package e2e

// dateCases are differential queries over date_trunc. The sample tables
// hold no date column, so they truncate date literals; the result is a
// TIMESTAMP in every dialect (DuckDB's own date_trunc of a DATE is a DATE,
// hence the references' CAST).
var dateCases = []struct{ name, sql, ref string }{
	{name: "date_trunc month as a group key",
		sql: "SELECT date_trunc('month', CASE WHEN region = 'north' THEN DATE '2024-03-15' ELSE DATE '2023-11-30' END) AS m, COUNT(*) AS n FROM sales GROUP BY 1",
		ref: "SELECT CAST(date_trunc('month', CASE WHEN region = 'north' THEN DATE '2024-03-15' ELSE DATE '2023-11-30' END) AS TIMESTAMP) AS m, COUNT(*) AS n FROM sales GROUP BY 1"},
	{name: "date_trunc year in a filter",
		sql: "SELECT region, COUNT(*) AS n FROM sales WHERE date_trunc('year', DATE '2024-03-15') = DATE '2024-01-01' GROUP BY region ORDER BY region",
		ref: "SELECT region, COUNT(*) AS n FROM sales WHERE CAST(date_trunc('year', DATE '2024-03-15') AS TIMESTAMP) = DATE '2024-01-01' GROUP BY region ORDER BY region"},
	{name: "date_trunc year and day over a CASE with another key",
		sql: "SELECT date_trunc('YEAR', CASE WHEN amount > 100 THEN CAST('2024-03-15' AS DATE) END) AS y, date_trunc('day', CASE WHEN amount > 100 THEN CAST('2024-03-15' AS DATE) END) AS d, region, SUM(amount) AS total FROM sales GROUP BY 1, 2, 3 ORDER BY 3, 1",
		ref: "SELECT CAST(CASE WHEN amount > 100 THEN DATE '2024-01-01' END AS TIMESTAMP) AS y, CAST(CASE WHEN amount > 100 THEN DATE '2024-03-15' END AS TIMESTAMP) AS d, region, SUM(amount) AS total FROM sales GROUP BY 1, 2, 3 ORDER BY 3, 1"},
}

func init() {
	for _, c := range dateCases {
		differentialSuite = append(differentialSuite, diffCase{name: c.name, sql: c.sql})
		differentialRefs[c.name] = c.ref
	}
}
