package enginebridge

import (
	"context"
	"database/sql"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/go-sql-driver/mysql"
)

// Every engine adapter runs the same conformance suite; the harnesses only
// differ in how they load the fixtures.

func TestConformanceDuckDB(t *testing.T) {
	t.Parallel()
	runConformance(t, conformanceHarness{
		Open:      openDuckDBFixtures,
		SlowQuery: "SELECT count(*) FROM range(10000000000) a WHERE a.range % 7 = 3",
	})
}

func TestConformancePostgres(t *testing.T) {
	t.Parallel()
	var admin *sql.DB
	runConformance(t, conformanceHarness{
		Open: func(t *testing.T, tables []confTable) Engine {
			var e Engine
			e, admin = openPostgresFixtures(t, tables)
			return e
		},
		SlowQuery: "SELECT count(*) FROM generate_series(1, 10000000000) g WHERE g % 7 = 3",
		SlowRunning: func(t *testing.T) int {
			return countRunning(t, admin, "SELECT count(*) FROM pg_stat_activity WHERE state = 'active' AND query LIKE 'SELECT count(*) FROM generate_series(1, 10000000000)%'")
		},
	})
}

func TestConformanceMySQL(t *testing.T) {
	t.Parallel()
	var admin *sql.DB
	runConformance(t, conformanceHarness{
		Open: func(t *testing.T, tables []confTable) Engine {
			var e Engine
			e, admin = openMySQLFixtures(t, tables)
			return e
		},
		// BENCHMARK keeps the server busy without checking the connection.
		SlowQuery: "SELECT BENCHMARK(10000000000, SHA2('fedmesh', 256)) AS b",
		SlowRunning: func(t *testing.T) int {
			return countRunning(t, admin, "SELECT count(*) FROM information_schema.processlist WHERE command = 'Query' AND info LIKE 'SELECT BENCHMARK(10000000000,%'")
		},
	})
}

// openDuckDBFixtures writes tables into a DuckDB file and opens an engine
// over them.
func openDuckDBFixtures(t *testing.T, tables []confTable) Engine {
	t.Helper()
	path := filepath.Join(t.TempDir(), "conf.duckdb")
	db, err := sql.Open("duckdb", path)
	if err != nil {
		t.Fatal(err)
	}
	loadTables(t, db, tables, duckDBDDLType, quoteIdent, func(n int) string { return fmt.Sprintf("$%d", n) })
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	var srcs []TableSource
	for _, tb := range tables {
		srcs = append(srcs, TableSource{Name: tb.Name, Format: FormatDuckDB, Path: path})
	}
	return openEngine(t, DuckDBConfig{Tables: srcs})
}

// openPostgresFixtures loads tables into a fresh schema of the test server
// and opens an engine on it; it returns the admin connection too.
func openPostgresFixtures(t *testing.T, tables []confTable) (Engine, *sql.DB) {
	t.Helper()
	dsn := serverEnv(t, "postgres", "FEDMESH_PG_DSN")
	admin := pgAdmin(t)
	schema := fmt.Sprintf("conf_%d", time.Now().UnixNano())
	mustExec(t, admin, "CREATE SCHEMA "+schema)
	t.Cleanup(func() { mustExec(t, admin, "DROP SCHEMA "+schema+" CASCADE") })
	tx, err := admin.Begin()
	if err != nil {
		t.Fatal(err)
	}
	mustExec(t, tx, "SET LOCAL search_path = "+schema)
	loadTables(t, tx, tables, postgresDDLType, quoteIdent, func(n int) string { return fmt.Sprintf("$%d", n) })
	mustExec(t, tx, "GRANT USAGE ON SCHEMA "+schema+" TO fedmesh")
	mustExec(t, tx, "GRANT SELECT ON ALL TABLES IN SCHEMA "+schema+" TO fedmesh")
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}
	sep := "?"
	if strings.Contains(dsn, "?") {
		sep = "&"
	}
	e, err := OpenPostgres(context.Background(), PostgresConfig{DSN: dsn + sep + "search_path=" + schema}, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = e.Close() })
	return e, admin
}

// openMySQLFixtures loads tables into a fresh database of the test server
// and opens an engine on it; it returns the admin connection too.
func openMySQLFixtures(t *testing.T, tables []confTable) (Engine, *sql.DB) {
	t.Helper()
	dsn := serverEnv(t, "mariadb", "FEDMESH_MYSQL_DSN")
	admin := mysqlAdmin(t)
	dbName := fmt.Sprintf("conf_%d", time.Now().UnixNano())
	mustExec(t, admin, "CREATE DATABASE "+dbName)
	t.Cleanup(func() { mustExec(t, admin, "DROP DATABASE "+dbName) })
	conn, err := admin.Conn(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	mustExec(t, conn, "USE "+dbName)
	loadTables(t, conn, tables, mysqlDDLType, mysqlQuote, func(int) string { return "?" })
	mustExec(t, conn, "GRANT SELECT ON "+dbName+".* TO 'fedmesh'@'127.0.0.1'")
	mc, err := mysql.ParseDSN(dsn)
	if err != nil {
		t.Fatal(err)
	}
	mc.DBName = dbName
	e, err := OpenMySQL(context.Background(), MySQLConfig{DSN: mc.FormatDSN()}, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = e.Close() })
	return e, admin
}

func countRunning(t *testing.T, db *sql.DB, q string) int {
	t.Helper()
	var n int
	if err := db.QueryRow(q).Scan(&n); err != nil {
		t.Fatalf("%s: %v", q, err)
	}
	return n
}

func mysqlQuote(s string) string { return "`" + strings.ReplaceAll(s, "`", "``") + "`" }

var (
	duckDBDDLType   = map[string]string{"bigint": "BIGINT", "integer": "INTEGER", "double": "DOUBLE", "decimal(10,2)": "DECIMAL(10,2)", "text": "VARCHAR", "date": "DATE"}
	postgresDDLType = map[string]string{"bigint": "bigint", "integer": "integer", "double": "double precision", "decimal(10,2)": "numeric(10,2)", "text": "text", "date": "date"}
	mysqlDDLType    = map[string]string{"bigint": "BIGINT", "integer": "INT", "double": "DOUBLE", "decimal(10,2)": "DECIMAL(10,2)", "text": "VARCHAR(100)", "date": "DATE"}
)

type execer interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
}

func mustExec(t *testing.T, db execer, q string, args ...any) {
	t.Helper()
	if _, err := db.ExecContext(context.Background(), q, args...); err != nil {
		t.Fatalf("%s: %v", q, err)
	}
}

// loadTables creates and fills tables with one engine's DDL types, quoting
// and placeholders.
func loadTables(t *testing.T, db execer, tables []confTable, types map[string]string, quote func(string) string, ph func(int) string) {
	t.Helper()
	for _, tb := range tables {
		var cols, phs []string
		for i, c := range tb.Columns {
			typ, ok := types[c.Type]
			if !ok {
				t.Fatalf("fixture column %q: no DDL type for %q", c.Name, c.Type)
			}
			cols = append(cols, quote(c.Name)+" "+typ)
			phs = append(phs, ph(i+1))
		}
		mustExec(t, db, "CREATE TABLE "+quote(tb.Name)+" ("+strings.Join(cols, ", ")+")")
		ins := "INSERT INTO " + quote(tb.Name) + " VALUES (" + strings.Join(phs, ", ") + ")"
		for _, row := range tb.Rows {
			mustExec(t, db, ins, row...)
		}
	}
}
