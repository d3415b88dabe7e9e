package sqlfront

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

var acceptedQueries = []struct {
	name string
	sql  string
	want string
}{
	{"global count", `SELECT COUNT(*) FROM sales`, `
aggregate sales
partials a0=count_star
count a0
merge m0=count(a0)
out "count"=m0
`},
	{"group and filter", `SELECT region, SUM(amount) AS total FROM sales WHERE year = 2024 GROUP BY region`, `
aggregate sales
where (eq year 2024)
group g0=region
partials a0=count_star a1=sum(amount)
count a0
keys g0
merge m0=sum(a1)
out "region"=g0 "total"=m0
`},
	{"avg splits into sum and count", `SELECT region, AVG(amount) FROM sales GROUP BY region`, `
aggregate sales
group g0=region
partials a0=count_star a1=sum(amount) a2=count(amount)
count a0
keys g0
merge m0=avg(a1,a2)
out "region"=g0 "avg"=m0
`},
	{"identical aggregates computed once", `SELECT SUM(amount), SUM(amount) * 2, COUNT(*) FROM sales`, `
aggregate sales
partials a0=count_star a1=sum(amount)
count a0
merge m0=sum(a1) m1=count(a0)
out "sum"=m0 "?column?"=(mul m0 2) "count"=m1
`},
	{"avg shares partials with sum and count", `SELECT AVG(amount), SUM(amount), COUNT(amount) FROM sales`, `
aggregate sales
partials a0=count_star a1=sum(amount) a2=count(amount)
count a0
merge m0=avg(a1,a2) m1=sum(a1) m2=count(a2)
out "avg"=m0 "sum"=m1 "count"=m2
`},
	{"arithmetic over aggregates", `SELECT SUM(amount)/COUNT(*) AS mean FROM sales`, `
aggregate sales
partials a0=count_star a1=sum(amount)
count a0
merge m0=sum(a1) m1=count(a0)
out "mean"=(div m0 m1)
`},
	{"group by ordinals", `SELECT region, product, count(*) FROM sales GROUP BY 1, 2`, `
aggregate sales
group g0=region g1=product
partials a0=count_star
count a0
keys g0 g1
merge m0=count(a0)
out "region"=g0 "product"=g1 "count"=m0
`},
	{"group by alias", `SELECT region AS r, count(*) FROM sales GROUP BY r`, `
aggregate sales
group g0=region
partials a0=count_star
count a0
keys g0
merge m0=count(a0)
out "r"=g0 "count"=m0
`},
	{"table alias", `SELECT s.region, min(s.amount) FROM sales s WHERE s.year >= 2020 GROUP BY s.region`, `
aggregate sales
where (ge year 2020)
group g0=region
partials a0=count_star a1=min(amount)
count a0
keys g0
merge m0=min(a1)
out "region"=g0 "min"=m0
`},
	{"having computes aggregates not selected", `SELECT region FROM sales GROUP BY region HAVING MAX(amount) > 100 AND count(*) >= 10`, `
aggregate sales
group g0=region
partials a0=count_star a1=max(amount)
count a0
keys g0
merge m0=max(a1) m1=count(a0)
out "region"=g0
having (and (gt m0 100) (ge m1 10))
`},
	{"order by alias with limit and offset", `SELECT region, sum(amount) AS total FROM sales GROUP BY region ORDER BY total DESC NULLS LAST LIMIT 10 OFFSET 5`, `
aggregate sales
group g0=region
partials a0=count_star a1=sum(amount)
count a0
keys g0
merge m0=sum(a1)
out "region"=g0 "total"=m0
order m0 desc nulls_first=false
limit 10
offset 5
`},
	{"order by ordinal key and aggregate", `SELECT region, count(*) FROM sales GROUP BY region ORDER BY 2, region ASC, avg(amount) NULLS FIRST`, `
aggregate sales
group g0=region
partials a0=count_star a1=sum(amount) a2=count(amount)
count a0
keys g0
merge m0=count(a0) m1=avg(a1,a2)
out "region"=g0 "count"=m0
order m0
order g0
order m1 nulls_first=true
`},
	{"in between and or", `SELECT count(*) FROM sales WHERE region IN ('north', 'south') AND NOT (amount BETWEEN -5 AND 10.5) OR product IS NULL`, `
aggregate sales
where (or (and (in region "north" "south") (not (between amount -5 10.5f))) (is_null product))
partials a0=count_star
count a0
merge m0=count(a0)
out "count"=m0
`},
	{"negations and literal kinds", `SELECT count(*) FROM sales WHERE region NOT IN ('x') AND product IS NOT NULL AND amount != 3 AND year NOT BETWEEN 1 AND 2 AND active = true AND note = NULL`, `
aggregate sales
where (and (not_in region "x") (is_not_null product) (ne amount 3) (not (between year 1 2)) (eq active true) (eq note NULL))
partials a0=count_star
count a0
merge m0=count(a0)
out "count"=m0
`},
	{"quoted identifiers keep case", `SELECT "Region", count(*) FROM "Sales" GROUP BY "Region"`, `
aggregate Sales
group g0=Region
partials a0=count_star
count a0
keys g0
merge m0=count(a0)
out "Region"=g0 "count"=m0
`},
	{"unquoted identifiers fold", `SELECT REGION, Count(*) FROM SALES GROUP BY Region`, `
aggregate sales
group g0=region
partials a0=count_star
count a0
keys g0
merge m0=count(a0)
out "region"=g0 "count"=m0
`},
	{"outputs may share a name", `SELECT count(*), count(amount) FROM sales`, `
aggregate sales
partials a0=count_star a1=count(amount)
count a0
merge m0=count(a0) m1=count(a1)
out "count"=m0 "count"=m1
`},
	{"star rows", `SELECT * FROM sales WHERE year = 2024 LIMIT 5`, `
rows sales *
where (eq year 2024)
limit 5
`},
	{"projected rows", `SELECT region, amount AS a, region FROM sales ORDER BY a DESC, region LIMIT 3`, `
rows sales
partials p0=region p1=amount
out "region"=p0 "a"=p1 "region"=p0
order p1 desc
order p0
limit 3
`},
	{"expressions get ?column?", `SELECT -sum(amount), min(amount) + 1, 7 FROM sales`, `
aggregate sales
partials a0=count_star a1=sum(amount) a2=min(amount)
count a0
merge m0=sum(a1) m1=min(a2)
out "?column?"=(neg m0) "?column?"=(add m1 1) "?column?"=7
`},
	{"wide numbers", `SELECT count(*) FROM sales WHERE id = 9999999999 AND x < 1e3 AND y > -0.5 AND z = -(4)`, `
aggregate sales
where (and (eq id 9999999999) (lt x 1000f) (gt y -0.5f) (eq z -4))
partials a0=count_star
count a0
merge m0=count(a0)
out "count"=m0
`},
	{"count of a constant is count star", `SELECT count(1) FROM sales`, `
aggregate sales
partials a0=count_star
count a0
merge m0=count(a0)
out "count"=m0
`},
	{"repeated group key kept once", `SELECT count(*) FROM sales GROUP BY region, sales.region`, `
aggregate sales
group g0=region
partials a0=count_star
count a0
keys g0
merge m0=count(a0)
out "count"=m0
`},
	{"having on a group key", `SELECT region, count(*) FROM sales GROUP BY region HAVING region <> 'x'`, `
aggregate sales
group g0=region
partials a0=count_star
count a0
keys g0
merge m0=count(a0)
out "region"=g0 "count"=m0
having (ne g0 "x")
`},
	{"rows ordered by projected column", `SELECT amount FROM sales ORDER BY amount OFFSET 2`, `
rows sales
partials p0=amount
out "amount"=p0
order p0
offset 2
`},
	{"limit all is no limit", `SELECT max(amount), min(amount) FROM sales LIMIT ALL;`, `
aggregate sales
partials a0=count_star a1=max(amount) a2=min(amount)
count a0
merge m0=max(a1) m1=min(a2)
out "max"=m0 "min"=m1
`},
	{"fetch first", `SELECT region, count(*) FROM sales GROUP BY region FETCH FIRST 3 ROWS ONLY`, `
aggregate sales
group g0=region
partials a0=count_star
count a0
keys g0
merge m0=count(a0)
out "region"=g0 "count"=m0
limit 3
`},
	{"order by output name over expression", `SELECT sum(amount) - min(amount) AS spread FROM sales GROUP BY region ORDER BY spread`, `
aggregate sales
group g0=region
partials a0=count_star a1=sum(amount) a2=min(amount)
count a0
keys g0
merge m0=sum(a1) m1=min(a2)
out "spread"=(sub m0 m1)
order (sub m0 m1)
`},
	{"zero literals", `SELECT count(*) FROM sales WHERE a = 0 AND b = 0.0 AND c = '' LIMIT 0 OFFSET 0`, `
aggregate sales
where (and (eq a 0) (eq b 0f) (eq c ""))
partials a0=count_star
count a0
merge m0=count(a0)
out "count"=m0
limit 0
`},
}

func TestParseAccepts(t *testing.T) {
	t.Parallel()
	for _, tc := range acceptedQueries {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			q, err := Parse(tc.sql)
			if err != nil {
				t.Fatalf("Parse(%q): %v", tc.sql, err)
			}
			if diff := cmp.Diff(strings.TrimLeft(tc.want, "\n"), describeQuery(q)); diff != "" {
				t.Errorf("Parse(%q) plan mismatch (-want +got):\n%s", tc.sql, diff)
			}
		})
	}
}
