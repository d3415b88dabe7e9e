package e2e

// diffCase is one query of the planner's differential suite: its answer
// through three agents and the coordinator must equal DuckDB's over the
// union of the sites' rows (see TestDifferentialSuite).
type diffCase struct {
	name string
	sql  string
}

// differentialRefs holds, by case name, a reference query to run instead of
// the case's own: an equivalent whose answer DuckDB computes exactly.
// Variances are shift-invariant, so VAR(x + c) is answered as VAR(x); this
// checks that the merge stays accurate where Σx² − (Σx)²/n would not.
// differentialSites holds, by case name, how many sites a case's filter on
// _site leaves to contact (3 when absent).
var differentialSites = map[string]int{
	"site filter prunes sites":         2,
	"site equality and other filter":   1,
	"site inequality":                  2,
	"site filter excluding every site": 0,
}

var differentialRefs = map[string]string{
	"variance with large offset is stable": "SELECT VAR_SAMP(amount), STDDEV_POP(year) * 1000 FROM sales",
}

// differentialSuite covers what the planner decomposes: expressions in
// filters, group keys and aggregate arguments, every aggregate, NULL
// semantics, and HAVING / ORDER BY / LIMIT after the merge. Columns:
// sales(region, year, amount DOUBLE, status NULLable), customers(segment,
// country, birth_year NULLable).
var differentialSuite = []diffCase{
	// Filters.
	{"eq string", "SELECT COUNT(*) FROM sales WHERE region = 'north'"},
	{"ne and range", "SELECT COUNT(*), SUM(amount) FROM sales WHERE region <> 'east' AND year >= 2021 AND year < 2024"},
	{"or not", "SELECT COUNT(*) FROM sales WHERE NOT (region = 'north' OR status = 'paid')"},
	{"in list strings", "SELECT region, COUNT(*) FROM sales WHERE status IN ('paid', 'shipped') GROUP BY region"},
	{"not in ints", "SELECT year, COUNT(*) FROM sales WHERE year NOT IN (2020, 2021) GROUP BY year"},
	{"between floats", "SELECT COUNT(*), MIN(amount), MAX(amount) FROM sales WHERE amount BETWEEN 12.5 AND 99.75"},
	{"not between", "SELECT region, COUNT(*) FROM sales WHERE amount NOT BETWEEN 10 AND 1000 GROUP BY region"},
	{"is null", "SELECT region, COUNT(*) FROM sales WHERE status IS NULL GROUP BY region"},
	{"is not null", "SELECT COUNT(*), COUNT(status) FROM sales WHERE status IS NOT NULL"},
	{"like prefix", "SELECT region, COUNT(*) FROM sales WHERE region LIKE 'n%' GROUP BY region"},
	{"like underscore", "SELECT status, COUNT(*) FROM sales WHERE status LIKE '_aid' GROUP BY status"},
	{"not like", "SELECT COUNT(*) FROM sales WHERE status NOT LIKE '%e%'"},
	{"string comparison", "SELECT region, COUNT(*) FROM sales WHERE region < 'm' GROUP BY region"},
	{"arithmetic filter", "SELECT COUNT(*) FROM sales WHERE amount * 2 + 1 > 300"},
	{"arithmetic over ints filter", "SELECT COUNT(*) FROM sales WHERE year - 2000 >= 22"},
	{"float division filter", "SELECT COUNT(*) FROM sales WHERE amount / 4.0 > 25"},
	{"cast in filter", "SELECT COUNT(*) FROM sales WHERE CAST(year AS text) = '2022'"},
	{"pg cast syntax", "SELECT COUNT(*) FROM sales WHERE amount::bigint = 50"},
	{"coalesce filter", "SELECT COUNT(*) FROM sales WHERE COALESCE(status, 'unknown') = 'unknown'"},
	{"case filter", "SELECT COUNT(*) FROM sales WHERE CASE WHEN region = 'north' THEN amount > 100 ELSE amount > 200 END"},
	{"null comparison is unknown", "SELECT COUNT(*) FROM sales WHERE status = NULL"},
	{"integer division of casts truncates", "SELECT COUNT(*) FROM sales WHERE CAST(amount AS bigint) / 7 = 3"},
	{"negative integer division truncates toward zero", "SELECT CAST(-amount AS bigint) / 10 AS d, COUNT(*) FROM sales WHERE amount < 100 GROUP BY 1"},
	{"negated literal", "SELECT COUNT(*) FROM sales WHERE -amount < -500"},
	{"customers birth year", "SELECT country, COUNT(*) FROM customers WHERE birth_year > 1980 GROUP BY country"},

	// Group keys.
	{"null is its own group", "SELECT status, COUNT(*), COUNT(status) FROM sales GROUP BY status"},
	{"two keys", "SELECT region, status, COUNT(*), SUM(amount) FROM sales GROUP BY region, status"},
	{"case bucket", "SELECT CASE WHEN amount < 50 THEN 'small' WHEN amount < 200 THEN 'medium' ELSE 'large' END AS size, COUNT(*), AVG(amount) FROM sales GROUP BY size"},
	{"simple case", "SELECT CASE region WHEN 'north' THEN 'N' WHEN 'south' THEN 'S' END AS r, COUNT(*) FROM sales GROUP BY 1"},
	{"coalesce key", "SELECT COALESCE(status, 'none') AS st, COUNT(*) FROM sales GROUP BY COALESCE(status, 'none')"},
	{"arithmetic key", "SELECT year - 2000 AS yy, COUNT(*) FROM sales GROUP BY year - 2000"},
	{"key expression reused in select", "SELECT (year - 2000) * 10 + 1, SUM(amount) FROM sales GROUP BY (year - 2000) * 10 + 1"},
	{"cast key", "SELECT CAST(amount AS bigint) / 100 AS hundreds, COUNT(*) FROM sales WHERE amount < 1000 GROUP BY 1"},
	{"expression over key in select", "SELECT year, year + 1 AS next, COUNT(*) FROM sales GROUP BY year"},
	{"key by position and alias", "SELECT region AS r, year, COUNT(*) FROM sales GROUP BY r, 2"},
	{"bool key", "SELECT amount > 100 AS big, COUNT(*) FROM sales GROUP BY amount > 100"},
	{"case with null key", "SELECT CASE WHEN status IS NULL THEN NULL ELSE region END AS k, COUNT(*) FROM sales GROUP BY 1"},
	{"customers two keys", "SELECT segment, country, COUNT(*), MIN(birth_year), MAX(birth_year) FROM customers GROUP BY segment, country"},

	// Aggregates and NULL semantics.
	{"count star and column", "SELECT COUNT(*), COUNT(status), COUNT(1) FROM sales"},
	{"sum of ints exact", "SELECT SUM(year), SUM(year * 1000000) FROM sales"},
	{"avg of ints", "SELECT region, AVG(year) FROM sales GROUP BY region"},
	{"sum over only nulls is null", "SELECT region, SUM(amount), COUNT(amount), AVG(amount) FROM sales WHERE status IS NULL AND amount IS NULL GROUP BY region"},
	{"sum of case", "SELECT region, SUM(CASE WHEN status = 'paid' THEN amount ELSE 0 END) AS paid FROM sales GROUP BY region"},
	{"count of case skips null", "SELECT year, COUNT(CASE WHEN status = 'returned' THEN 1 END) AS returns FROM sales GROUP BY year"},
	{"sum of arithmetic", "SELECT SUM(amount * 1.25 - 3) FROM sales"},
	{"avg of coalesce", "SELECT AVG(COALESCE(birth_year, 1900)) FROM customers"},
	{"min max strings", "SELECT year, MIN(status), MAX(status) FROM sales GROUP BY year"},
	{"min max of expression", "SELECT MIN(amount / 3.0), MAX(year * 2) FROM sales"},
	{"global over no rows", "SELECT COUNT(*), SUM(amount), MIN(amount), AVG(amount) FROM sales WHERE year = 1999"},
	{"grouped over no rows", "SELECT region, COUNT(*) FROM sales WHERE year = 1999 GROUP BY region"},
	{"avg of birth year nulls", "SELECT segment, AVG(birth_year), COUNT(birth_year), COUNT(*) FROM customers GROUP BY segment"},

	// Variances from per-site (count, sum, var_pop), merged with Chan et al.
	{name: "variance of doubles by region", sql: "SELECT region, VAR_POP(amount), VAR_SAMP(amount), STDDEV_POP(amount), STDDEV_SAMP(amount) FROM sales GROUP BY region"},
	{"variance of ints", "SELECT status, VARIANCE(year), STDDEV(year) FROM sales GROUP BY status"},
	{"variance with large offset is stable", "SELECT VAR_SAMP(amount + 1000000000), STDDEV_POP(year * 1000 + 1000000000) FROM sales"},
	{"variance of one value per group is null or zero", "SELECT region, year, VAR_SAMP(amount), VAR_POP(amount) FROM sales WHERE amount > 990 GROUP BY region, year"},
	{"variance over no rows", "SELECT VAR_POP(amount), STDDEV_SAMP(amount) FROM sales WHERE year = 1999"},
	{"variance of expression with having", "SELECT segment, STDDEV_SAMP(2026 - birth_year) AS sd FROM customers GROUP BY segment HAVING STDDEV_SAMP(2026 - birth_year) > 1 ORDER BY sd"},

	// The virtual _site column.
	{"group by site", "SELECT _site, COUNT(*), SUM(amount) FROM sales GROUP BY _site"},
	{"site filter prunes sites", "SELECT region, COUNT(*) FROM sales WHERE _site IN ('a', 'b') GROUP BY region"},
	{"site equality and other filter", "SELECT COUNT(*) FROM sales WHERE _site = 'c' AND year = 2022"},
	{"site inequality", "SELECT _site, region, MAX(amount) FROM sales WHERE _site <> 'a' GROUP BY _site, region"},
	{"site in expression", "SELECT CASE WHEN _site = 'a' THEN 'first' ELSE 'others' END AS part, COUNT(*) FROM sales GROUP BY 1"},
	{"site filter excluding every site", "SELECT COUNT(*), SUM(amount) FROM sales WHERE _site = 'nowhere'"},

	// After the merge.
	{"having count", "SELECT region, COUNT(*) AS n FROM sales GROUP BY region HAVING COUNT(*) > 5000"},
	{"having on unselected aggregate", "SELECT region FROM sales GROUP BY region HAVING MAX(amount) > 900"},
	{"having on key", "SELECT region, year, COUNT(*) FROM sales GROUP BY region, year HAVING year > 2022 AND COUNT(*) > 10"},
	{"order by aggregate desc limit", "SELECT region, SUM(amount) AS total FROM sales GROUP BY region ORDER BY total DESC LIMIT 3"},
	{"order by expression of output", "SELECT region, SUM(amount) AS total, COUNT(*) AS n FROM sales GROUP BY region ORDER BY SUM(amount) / COUNT(*)"},
	{"order by position with offset", "SELECT year, COUNT(*) FROM sales GROUP BY year ORDER BY 1 DESC LIMIT 2 OFFSET 1"},
	{"order nulls first", "SELECT status, COUNT(*) FROM sales GROUP BY status ORDER BY status NULLS FIRST"},
	{"order nulls default desc", "SELECT status, COUNT(*) FROM sales GROUP BY status ORDER BY status DESC"},
	{"ratio of aggregates", "SELECT region, SUM(amount) / COUNT(*) AS mean, SUM(amount) - MIN(amount) AS spread FROM sales GROUP BY region"},
	{"integer division after merge truncates", "SELECT region, SUM(year) / COUNT(*) AS y FROM sales GROUP BY region"},
	{"arithmetic of counts", "SELECT year, COUNT(status) * 100 / COUNT(*) AS pct_with_status FROM sales GROUP BY year"},
	{"aliases", "SELECT region AS where_, COUNT(*) AS how_many FROM sales GROUP BY region ORDER BY how_many, where_"},
	{"limit zero", "SELECT region, COUNT(*) FROM sales GROUP BY region LIMIT 0"},
	{"order by key expression", "SELECT year - 2000 AS yy, COUNT(*) FROM sales GROUP BY year - 2000 ORDER BY year - 2000 DESC"},
	{"having with expression over aggregates", "SELECT status, AVG(amount) FROM sales GROUP BY status HAVING SUM(amount) / COUNT(*) > 100 ORDER BY 1"},
	{"customers ordered with limit", "SELECT country, COUNT(*) AS n FROM customers GROUP BY country ORDER BY n DESC, country LIMIT 4"},
}
