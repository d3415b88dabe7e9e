package bench

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	_ "github.com/duckdb/duckdb-go/v2" // database/sql driver "duckdb" for data generation
)

// salesSetup describes the generated table.
const salesSetup = "data: a sales table (order_id, customer_id, region 8 values, channel 4, product_id 1000, sku, day, amount, quantity) with hash-derived deterministic columns; sku = row mod G with G = min(1,000,000, rows per site / 10), so every sku has exactly 10 rows per site and no group is suppressed; a products table (1000 rows: product_id, category 20 values, price) at every site"

// salesSelect returns the SELECT generating site k's n rows of sales.
func salesSelect(k, n int) string {
	g := max(1, min(1_000_000, n/10))
	gid := fmt.Sprintf("(%d::BIGINT * %d + i)", k, n)
	h := func(salt int) string { return fmt.Sprintf("hash(%s * 8 + %d)", gid, salt) }
	return fmt.Sprintf(`SELECT
	%[1]s AS order_id,
	(%[2]s %% 3000000)::BIGINT AS customer_id,
	['north','south','east','west','central','coast','mountain','islands'][1 + (%[3]s %% 8)::INTEGER] AS region,
	['web','store','phone','partner'][1 + (%[4]s %% 4)::INTEGER] AS channel,
	(%[5]s %% 1000)::INTEGER AS product_id,
	(i %% %[9]d)::INTEGER AS sku,
	DATE '2024-01-01' + (%[6]s %% 366)::INTEGER AS day,
	(%[7]s %% 100000)::DOUBLE / 100.0 AS amount,
	(1 + %[8]s %% 10)::INTEGER AS quantity
FROM range(%[10]d) t(i)`, gid, h(1), h(2), h(3), h(4), h(5), h(6), h(7), g, n)
}

const productsSelect = `SELECT
	i::INTEGER AS product_id,
	'cat' || lpad((hash(i) % 20)::VARCHAR, 2, '0') AS category,
	((hash(i + 1000000) % 10000)::DOUBLE / 100.0) AS price
FROM range(1000) t(i)`

// duckFiles are B1's database files.
type duckFiles struct {
	sites   []string // one DuckDB file per site
	central string   // all sites' rows in one file
}

// b1Data generates (or reuses) three site files of n rows each and the
// central file with all of them.
func b1Data(ctx context.Context, e *env, n int) (duckFiles, error) {
	dir := filepath.Join(e.opts.WorkDir, fmt.Sprintf("b1-%d", n))
	files := duckFiles{central: filepath.Join(dir, "central.duckdb")}
	for _, s := range []string{"a", "b", "c"} {
		files.sites = append(files.sites, filepath.Join(dir, "site-"+s+".duckdb"))
	}
	done := filepath.Join(dir, "done")
	if _, err := os.Stat(done); err == nil {
		return files, nil
	}
	if err := os.RemoveAll(dir); err != nil {
		return files, err
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return files, err
	}
	for k, path := range files.sites {
		e.progress("B1: generating %s (%d rows)", filepath.Base(path), n)
		if err := duckExec(ctx, path,
			"CREATE TABLE sales AS "+salesSelect(k, n),
			"CREATE TABLE products AS "+productsSelect,
			"CHECKPOINT"); err != nil {
			return files, err
		}
	}
	e.progress("B1: generating central.duckdb (%d rows)", 3*n)
	stmts := []string{}
	var union []string
	for k, path := range files.sites {
		stmts = append(stmts, fmt.Sprintf("ATTACH '%s' AS s%d (READ_ONLY)", strings.ReplaceAll(path, "'", "''"), k))
		union = append(union, fmt.Sprintf("SELECT * FROM s%d.sales", k))
	}
	stmts = append(stmts,
		"CREATE TABLE sales AS "+strings.Join(union, " UNION ALL "),
		"CREATE TABLE products AS "+productsSelect,
		"CHECKPOINT")
	if err := duckExec(ctx, files.central, stmts...); err != nil {
		return files, err
	}
	return files, os.WriteFile(done, nil, 0o644)
}

// duckExec runs statements against a DuckDB database file.
func duckExec(ctx context.Context, path string, stmts ...string) (err error) {
	db, err := sql.Open("duckdb", path)
	if err != nil {
		return fmt.Errorf("open %s: %w", path, err)
	}
	defer func() { err = errors.Join(err, db.Close()) }()
	conn, err := db.Conn(ctx)
	if err != nil {
		return fmt.Errorf("open %s: %w", path, err)
	}
	defer conn.Close()
	for _, s := range stmts {
		if _, err := conn.ExecContext(ctx, s); err != nil {
			return fmt.Errorf("%s: %s: %w", filepath.Base(path), firstLine(s), err)
		}
	}
	return nil
}

func firstLine(s string) string {
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		return s[:i]
	}
	return s
}
