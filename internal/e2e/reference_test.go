package e2e

import (
	"database/sql"
	"encoding/json"
	"fmt"
	"math"
	"math/big"
	"sort"
	"strings"
	"testing"
	"time"

	_ "github.com/duckdb/duckdb-go/v2" // the reference engine
)

// refCase is one differential query. keys and where repeat the query's
// GROUP BY columns and WHERE text so the reference can compute which groups
// each site suppresses, independently of fedmesh's planner.
type refCase struct {
	name  string
	sql   string
	table string
	keys  []string
	where string
}

// reference answers c.sql with DuckDB over the union of every site's rows.
// With k > 1 it first removes, per site, the rows of groups smaller than k,
// which is what suppression at the sites amounts to; it also returns how
// many groups each site should have suppressed.
func reference(t *testing.T, fx fixture, c refCase, k int) ([][]any, map[string]int64) {
	t.Helper()
	return referenceOver(t, fx, sites3, c, k)
}

// referenceOver is reference over the given sites of the fixture.
func referenceOver(t *testing.T, fx fixture, sites []string, c refCase, k int) ([][]any, map[string]int64) {
	t.Helper()
	db, err := sql.Open("duckdb", "")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	db.SetMaxOpenConns(1) // one connection: temp views must be visible to every statement
	exec := func(q string) {
		t.Helper()
		if _, err := db.Exec(q); err != nil {
			t.Fatalf("reference: %s: %v", q, err)
		}
	}
	for _, table := range []string{"sales", "customers"} {
		var parts []string
		for _, s := range sites {
			path := fx.files[s].Sales
			if table == "customers" {
				path = fx.files[s].Customers
			}
			parts = append(parts, fmt.Sprintf("SELECT '%s' AS _site, * FROM read_parquet('%s')", s, path))
		}
		exec(fmt.Sprintf("CREATE TEMP VIEW u_%s AS %s", table, strings.Join(parts, " UNION ALL ")))
		if table != c.table {
			exec(fmt.Sprintf("CREATE TEMP VIEW %s AS SELECT * EXCLUDE (_site) FROM u_%s", table, table))
		}
	}
	suppressed := map[string]int64{}
	if k <= 1 {
		exec(fmt.Sprintf("CREATE TEMP VIEW %s AS SELECT * EXCLUDE (_site) FROM u_%s", c.table, c.table))
	} else {
		group := strings.Join(append([]string{"_site"}, c.keys...), ", ")
		where := ""
		if c.where != "" {
			where = "WHERE " + c.where
		}
		if len(c.keys) == 0 {
			// A global aggregate has exactly one group per site, even over no
			// rows: a site whose count is under k suppresses it.
			cond := "TRUE"
			if c.where != "" {
				cond = c.where
			}
			exec(fmt.Sprintf("CREATE TEMP VIEW small AS SELECT s._site FROM (VALUES %s) s(_site) "+
				"WHERE (SELECT count(*) FROM u_%s u WHERE u._site = s._site AND (%s)) < %d", siteValues(sites), c.table, cond, k))
		} else {
			exec(fmt.Sprintf("CREATE TEMP VIEW small AS SELECT %s FROM u_%s %s GROUP BY %s HAVING count(*) < %d", group, c.table, where, group, k))
		}
		match := []string{"s._site = u._site"}
		for _, key := range c.keys {
			match = append(match, fmt.Sprintf("s.%s IS NOT DISTINCT FROM u.%s", key, key))
		}
		exec(fmt.Sprintf("CREATE TEMP VIEW %s AS SELECT * EXCLUDE (_site) FROM u_%s u WHERE NOT EXISTS (SELECT 1 FROM small s WHERE %s)",
			c.table, c.table, strings.Join(match, " AND ")))
		rows, err := db.Query("SELECT _site, count(*) FROM small GROUP BY _site")
		if err != nil {
			t.Fatal(err)
		}
		for rows.Next() {
			var s string
			var n int64
			if err := rows.Scan(&s, &n); err != nil {
				t.Fatal(err)
			}
			suppressed[s] = n
		}
		rows.Close()
	}
	rows, err := db.Query(c.sql)
	if err != nil {
		t.Fatalf("reference query %q: %v", c.sql, err)
	}
	defer rows.Close()
	cols, _ := rows.Columns()
	var out [][]any
	for rows.Next() {
		vals := make([]any, len(cols))
		ptrs := make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		if err := rows.Scan(ptrs...); err != nil {
			t.Fatal(err)
		}
		out = append(out, vals)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	if withheldEverywhere(c, sites, suppressed) {
		// Nothing was released to add up: the answer is one row of NULLs
		// marked suppressed, not the aggregate of no rows (COUNT 0).
		for _, r := range out {
			clear(r)
		}
	}
	return out, suppressed
}

// withheldEverywhere reports whether every site suppressed c's only group:
// c is a global aggregate and each site dropped its one group.
func withheldEverywhere(c refCase, sites []string, suppressed map[string]int64) bool {
	if len(c.keys) > 0 || len(suppressed) != len(sites) {
		return false
	}
	for _, s := range sites {
		if suppressed[s] != 1 {
			return false
		}
	}
	return true
}

// norm turns a value from DuckDB or from the coordinator's JSON into a
// comparable form: numbers as float64, everything else as text.
func norm(v any) any {
	switch x := v.(type) {
	case nil:
		return nil
	case json.Number:
		f, err := x.Float64()
		if err != nil {
			return x.String()
		}
		return f
	case int64:
		return float64(x)
	case int32:
		return float64(x)
	case int:
		return float64(x)
	case float64:
		return x
	case float32:
		return float64(x)
	case *big.Int:
		f, _ := new(big.Float).SetInt(x).Float64()
		return f
	case time.Time:
		return x.UTC().Format(time.RFC3339Nano)
	case string:
		return x
	case bool:
		return x
	default:
		return fmt.Sprint(x)
	}
}

func sameValue(a, b any) bool {
	fa, okA := a.(float64)
	fb, okB := b.(float64)
	if okA && okB {
		return math.Abs(fa-fb) <= 1e-9*math.Max(1, math.Max(math.Abs(fa), math.Abs(fb)))
	}
	return a == b
}

func normRows(rows [][]any, sorted bool) [][]any {
	out := make([][]any, len(rows))
	for i, r := range rows {
		out[i] = make([]any, len(r))
		for j, v := range r {
			out[i][j] = norm(v)
		}
	}
	if sorted {
		sort.SliceStable(out, func(i, j int) bool { return fmt.Sprint(out[i]) < fmt.Sprint(out[j]) })
	}
	return out
}

// diffRows reports the first difference between got and want, or "".
func diffRows(got, want [][]any) string {
	if len(got) != len(want) {
		return fmt.Sprintf("got %d rows, want %d\n got: %v\nwant: %v", len(got), len(want), got, want)
	}
	for i := range got {
		if len(got[i]) != len(want[i]) {
			return fmt.Sprintf("row %d: got %d columns, want %d", i, len(got[i]), len(want[i]))
		}
		for j := range got[i] {
			if !sameValue(got[i][j], want[i][j]) {
				return fmt.Sprintf("row %d column %d: got %v, want %v\n got row: %v\nwant row: %v", i, j, got[i][j], want[i][j], got[i], want[i])
			}
		}
	}
	return ""
}

// siteValues renders sites as a VALUES list: ('a'), ('b'), ...
func siteValues(sites []string) string {
	vals := make([]string, len(sites))
	for i, s := range sites {
		vals[i] = "('" + s + "')"
	}
	return strings.Join(vals, ", ")
}
