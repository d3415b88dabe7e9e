package bench

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"os"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/stdlib"

	"github.com/fedmesh/fedmesh/enginebridge"
)

// b2Query is one B2 question in its three forms.
type b2Query struct {
	id, desc string
	sql      string // fedmesh, and postgres_fdw over the UNION ALL view
	split    string // postgres_fdw by hand: one aggregate per foreign table, combined locally
}

// unionOf writes one per-site branch per foreign table of the fdw database.
func unionOf(branch string) string {
	parts := make([]string, 3)
	for i := range parts {
		parts[i] = strings.ReplaceAll(branch, "{t}", fmt.Sprintf("sales_s%d", i+1))
	}
	return strings.Join(parts, " UNION ALL ")
}

var b2Queries = []b2Query{
	{id: "Q1", desc: "grouped count/sum/avg",
		sql: `SELECT region, COUNT(*) AS n, SUM(amount) AS total, AVG(amount) AS avg_amount FROM sales GROUP BY region`,
		split: `SELECT region, SUM(n) AS n, SUM(total) AS total, SUM(total) / SUM(n) AS avg_amount FROM (` +
			unionOf(`SELECT region, COUNT(*) AS n, SUM(amount) AS total FROM {t} GROUP BY region`) + `) p GROUP BY region`},
	{id: "Q2", desc: "filter-heavy",
		sql: `SELECT channel, COUNT(*) AS n, SUM(amount) AS total FROM sales WHERE amount > 500 AND quantity BETWEEN 3 AND 7 AND product_id < 600 AND region IN ('north', 'east', 'coast') GROUP BY channel`,
		split: `SELECT channel, SUM(n) AS n, SUM(total) AS total FROM (` +
			unionOf(`SELECT channel, COUNT(*) AS n, SUM(amount) AS total FROM {t} WHERE amount > 500 AND quantity BETWEEN 3 AND 7 AND product_id < 600 AND region IN ('north', 'east', 'coast') GROUP BY channel`) + `) p GROUP BY channel`},
	{id: "Q3", desc: "high-cardinality GROUP BY (rows/30 groups)",
		sql: `SELECT sku, COUNT(*) AS n, SUM(amount) AS total FROM sales GROUP BY sku`,
		split: `SELECT sku, SUM(n) AS n, SUM(total) AS total FROM (` +
			unionOf(`SELECT sku, COUNT(*) AS n, SUM(amount) AS total FROM {t} GROUP BY sku`) + `) p GROUP BY sku`},
}

const pgSalesColumns = `order_id bigint, customer_id bigint, region text, channel text, product_id int, sku int, amount float8, quantity int`

// pgSalesSelect generates site k's n rows, with the same shape as the
// DuckDB data (PostgreSQL's hashint8 instead of DuckDB's hash).
func pgSalesSelect(k, n int) string {
	g := max(1, min(1_000_000, n/10))
	h := func(salt int) string { return fmt.Sprintf("abs(hashint8(gid * 8 + %d)::bigint)", salt) }
	return fmt.Sprintf(`SELECT gid AS order_id,
	%[1]s %% 3000000 AS customer_id,
	(ARRAY['north','south','east','west','central','coast','mountain','islands'])[1 + %[2]s %% 8] AS region,
	(ARRAY['web','store','phone','partner'])[1 + %[3]s %% 4] AS channel,
	(%[4]s %% 1000)::int AS product_id,
	(i %% %[7]d)::int AS sku,
	(%[5]s %% 100000)::float8 / 100.0 AS amount,
	(1 + %[6]s %% 10)::int AS quantity
FROM (SELECT i, %[8]d::bigint * %[9]d + i AS gid FROM generate_series(0, %[9]d - 1) i) t`,
		h(1), h(2), h(3), h(4), h(6), h(7), g, k, n)
}

// pgDB opens database name with the admin DSN's other settings.
func pgDB(adminDSN, name string) (*sql.DB, error) {
	cfg, err := pgx.ParseConfig(adminDSN)
	if err != nil {
		return nil, fmt.Errorf("admin dsn: %w", err)
	}
	cfg.Database = name
	return stdlib.OpenDB(*cfg), nil
}

// loginDSN is the password login's DSN for database name.
func loginDSN(dsn, name string) (string, error) {
	u, err := url.Parse(dsn)
	if err != nil || u.Scheme == "" {
		return "", errors.New("FEDMESH_PG_DSN must be a postgres:// URL")
	}
	u.Path = "/" + name
	return u.String(), nil
}

func execAll(ctx context.Context, db *sql.DB, stmts ...string) error {
	for _, s := range stmts {
		if _, err := db.ExecContext(ctx, s); err != nil {
			return fmt.Errorf("%s: %w", firstLine(s), err)
		}
	}
	return nil
}

// b2Setup creates (or reuses) three site databases of n/3 rows and the fdw
// database, and returns the login DSNs of the site databases.
func b2Setup(ctx context.Context, e *env, total int) ([]string, error) {
	per := total / 3
	admin, err := pgDB(e.opts.PGAdminDSN, "postgres")
	if err != nil {
		return nil, err
	}
	defer admin.Close()
	login, err := url.Parse(e.opts.PGDSN)
	if err != nil || login.User == nil {
		return nil, errors.New("FEDMESH_PG_DSN must be a postgres:// URL with a user and password")
	}
	user := login.User.Username()
	pass, _ := login.User.Password()
	var dsns []string
	for k := range 3 {
		name := fmt.Sprintf("fedbench_s%d", k+1)
		dsn, err := loginDSN(e.opts.PGDSN, name)
		if err != nil {
			return nil, err
		}
		dsns = append(dsns, dsn)
		var exists bool
		if err := admin.QueryRowContext(ctx, `SELECT EXISTS (SELECT FROM pg_database WHERE datname = $1)`, name).Scan(&exists); err != nil {
			return nil, err
		}
		if !exists {
			if err := execAll(ctx, admin, "CREATE DATABASE "+name); err != nil {
				return nil, err
			}
		}
		db, err := pgDB(e.opts.PGAdminDSN, name)
		if err != nil {
			return nil, err
		}
		var have int
		_ = db.QueryRowContext(ctx, `SELECT rows FROM fedbench_meta`).Scan(&have)
		if have != per {
			e.progress("B2: loading %s (%d rows)", name, per)
			err = execAll(ctx, db,
				"DROP TABLE IF EXISTS sales", "DROP TABLE IF EXISTS fedbench_meta",
				"CREATE TABLE sales AS "+pgSalesSelect(k, per),
				"ANALYZE sales",
				"GRANT CONNECT ON DATABASE "+name+" TO "+pgx.Identifier{user}.Sanitize(),
				"GRANT SELECT ON sales TO "+pgx.Identifier{user}.Sanitize(),
				fmt.Sprintf("CREATE TABLE fedbench_meta AS SELECT %d AS rows", per))
		}
		db.Close()
		if err != nil {
			return nil, err
		}
	}
	var exists bool
	if err := admin.QueryRowContext(ctx, `SELECT EXISTS (SELECT FROM pg_database WHERE datname = 'fedbench_fdw')`).Scan(&exists); err != nil {
		return nil, err
	}
	if !exists {
		if err := execAll(ctx, admin, "CREATE DATABASE fedbench_fdw"); err != nil {
			return nil, err
		}
	}
	fdw, err := pgDB(e.opts.PGAdminDSN, "fedbench_fdw")
	if err != nil {
		return nil, err
	}
	defer fdw.Close()
	stmts := []string{"CREATE EXTENSION IF NOT EXISTS postgres_fdw", "DROP VIEW IF EXISTS sales"}
	var branches []string
	for k := range 3 {
		srv := fmt.Sprintf("s%d", k+1)
		stmts = append(stmts,
			"DROP SERVER IF EXISTS "+srv+" CASCADE",
			fmt.Sprintf(`CREATE SERVER %s FOREIGN DATA WRAPPER postgres_fdw OPTIONS (host %s, port %s, dbname 'fedbench_s%d', async_capable 'true', fetch_size '10000', use_remote_estimate 'true')`,
				srv, quoteLit(login.Hostname()), quoteLit(login.Port()), k+1),
			fmt.Sprintf(`CREATE USER MAPPING FOR CURRENT_USER SERVER %s OPTIONS (user %s, password %s)`, srv, quoteLit(user), quoteLit(pass)),
			fmt.Sprintf(`CREATE FOREIGN TABLE sales_%s (%s) SERVER %s OPTIONS (table_name 'sales')`, srv, pgSalesColumns, srv),
		)
		branches = append(branches, "SELECT * FROM sales_"+srv)
	}
	stmts = append(stmts, "CREATE VIEW sales AS "+strings.Join(branches, " UNION ALL "))
	if err := execAll(ctx, fdw, stmts...); err != nil {
		return nil, fmt.Errorf("postgres_fdw setup: %w", err)
	}
	return dsns, nil
}

func quoteLit(s string) string { return "'" + strings.ReplaceAll(s, "'", "''") + "'" }

// pgDrain runs q on a dedicated connection of db and reads every row.
func pgDrain(ctx context.Context, conn *sql.Conn, q string) (int, error) {
	rows, err := conn.QueryContext(ctx, q)
	if err != nil {
		return 0, err
	}
	defer rows.Close()
	cols, _ := rows.Columns()
	vals := make([]any, len(cols))
	ptrs := make([]any, len(cols))
	for i := range vals {
		ptrs[i] = &vals[i]
	}
	n := 0
	for rows.Next() {
		if err := rows.Scan(ptrs...); err != nil {
			return n, err
		}
		n++
	}
	return n, rows.Err()
}

func runB2(ctx context.Context, e *env, b *Bench) error {
	if e.opts.PGAdminDSN == "" || e.opts.PGDSN == "" {
		b.Status = "blocked"
		return errors.New("no PostgreSQL: start one with `scripts/engines/postgres.sh up` and export the DSNs it prints with `scripts/engines/postgres.sh env` (make bench does)")
	}
	dsns, err := b2Setup(ctx, e, e.opts.B2RowsTotal)
	if err != nil {
		return fmt.Errorf("set up PostgreSQL: %w", err)
	}
	work, err := os.MkdirTemp(e.opts.WorkDir, "b2-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(work)
	var sites []siteSpec
	for k, dsn := range dsns {
		sites = append(sites, siteSpec{name: fmt.Sprintf("pg%d", k+1), open: func(ctx context.Context) (enginebridge.Engine, error) {
			return enginebridge.OpenPostgres(ctx, enginebridge.PostgresConfig{DSN: dsn}, e.log)
		}})
	}
	fed, err := startFederation(ctx, e, work, sites)
	if err != nil {
		return err
	}
	defer fed.stop()
	fdwDB, err := pgDB(e.opts.PGAdminDSN, "fedbench_fdw")
	if err != nil {
		return err
	}
	defer fdwDB.Close()
	conn, err := fdwDB.Conn(ctx)
	if err != nil {
		return err
	}
	defer conn.Close()
	if err := func() error {
		_, err := conn.ExecContext(ctx, "SET enable_partitionwise_aggregate = on")
		return err
	}(); err != nil {
		return err
	}
	var remote []string
	if rows, err := conn.QueryContext(ctx, "EXPLAIN (VERBOSE, COSTS OFF) "+b2Queries[0].sql); err == nil {
		for rows.Next() {
			var line string
			if rows.Scan(&line) == nil && strings.Contains(line, "Remote SQL") {
				remote = append(remote, strings.TrimSpace(line))
			}
		}
		rows.Close()
	}
	b.Setup = []string{
		fmt.Sprintf("data: %d rows in total, a third in each of 3 databases (fedbench_s1..3) of one PostgreSQL 15 server on 127.0.0.1 (the same shape as B1's sales table; sku groups = rows per site / 10)", e.opts.B2RowsTotal),
		"fedmesh: 3 in-process site agents with the PostgreSQL adapter (enginebridge.OpenPostgres, read-only sessions) + coordinator, mTLS Flight; timed through coordinator.Query (Go API)",
		"postgres_fdw: a fourth database (fedbench_fdw) with one foreign server per site database (async_capable, fetch_size 10000, use_remote_estimate), foreign tables and a UNION ALL view `sales`; enable_partitionwise_aggregate = on; aggregate pushdown is postgres_fdw's default",
		"fdw hand-split: what a DBA could write instead — one aggregate per foreign table (each pushed down, run concurrently by async Append) combined locally",
		"Remote SQL postgres_fdw sends for Q1 over the view: " + strings.Join(remote, " · "),
		policySetup, auditSetup,
		fmt.Sprintf("%d repetitions per query after a warm-up, interleaved; medians; PostgreSQL and all clients share the same %d cores", e.opts.B2Reps, e.cpus()),
	}
	b.Columns = []string{"query", "what", "rows", "fedmesh p50 ms", "fdw view p50 ms", "fedmesh/fdw", "fdw hand-split p50 ms", "fedmesh/hand-split", "verdict"}
	missed := 0
	for _, q := range b2Queries {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		fedRows, err := fed.goQuery(ctx, q.sql)
		if err != nil {
			msg := refusal(err)
			b.row(q.id, q.desc, "", "", "", "", "", "", "fedmesh refused: "+msg)
			continue
		}
		fdwRows, err := pgDrain(ctx, conn, q.sql)
		if err != nil {
			return fmt.Errorf("%s postgres_fdw: %w", q.id, err)
		}
		if _, err := pgDrain(ctx, conn, q.split); err != nil {
			return fmt.Errorf("%s postgres_fdw hand-split: %w", q.id, err)
		}
		var tf, tv, ts []time.Duration
		for range e.opts.B2Reps {
			t0 := time.Now()
			if _, err := fed.goQuery(ctx, q.sql); err != nil {
				return fmt.Errorf("%s fedmesh: %w", q.id, err)
			}
			t1 := time.Now()
			if _, err := pgDrain(ctx, conn, q.sql); err != nil {
				return fmt.Errorf("%s postgres_fdw: %w", q.id, err)
			}
			t2 := time.Now()
			if _, err := pgDrain(ctx, conn, q.split); err != nil {
				return fmt.Errorf("%s postgres_fdw hand-split: %w", q.id, err)
			}
			t3 := time.Now()
			tf, tv, ts = append(tf, t1.Sub(t0)), append(tv, t2.Sub(t1)), append(ts, t3.Sub(t2))
		}
		sf, sv, ss := Summarize(tf), Summarize(tv), Summarize(ts)
		r := ratio(sf.P50, sv.P50)
		verdict := "meets ≤ 0.33"
		if r > 0.33 {
			verdict = "above 0.33"
			missed++
		}
		rows := fmt.Sprint(fdwRows)
		if fedRows != fdwRows {
			rows = fmt.Sprintf("%d (fedmesh %d)", fdwRows, fedRows)
		}
		b.row(q.id, q.desc, rows, f1(sf.P50), f1(sv.P50), f2(r), f1(ss.P50), f2(ratio(sf.P50, ss.P50)), verdict)
		b.set(q.id, map[string]any{"sql": q.sql, "hand_split_sql": q.split, "fedmesh": sf, "fdw_view": sv, "fdw_hand_split": ss,
			"ratio_view": r, "ratio_hand_split": ratio(sf.P50, ss.P50)})
		e.progress("B2 %s: fedmesh %.1f ms, fdw view %.1f ms (×%.2f), hand-split %.1f ms", q.id, sf.P50, sv.P50, r, ss.P50)
	}
	if missed > 0 {
		b.Status = "partial"
	}
	return fed.stop()
}
