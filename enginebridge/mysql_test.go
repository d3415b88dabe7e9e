package enginebridge

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
)

// openMySQL connects to the test server of scripts/engines/mariadb.sh.
func openMySQL(t testing.TB) *MySQL {
	t.Helper()
	dsn := serverEnv(t, "mariadb", "FEDMESH_MYSQL_DSN")
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	e, err := OpenMySQL(ctx, MySQLConfig{DSN: dsn, MaxConns: 4}, nil)
	if err != nil {
		t.Fatalf("OpenMySQL: %v", err)
	}
	t.Cleanup(func() { _ = e.Close() })
	return e
}

// mysqlAdmin is an all-privileges connection to the test server.
func mysqlAdmin(t testing.TB) *sql.DB {
	t.Helper()
	db, err := sql.Open("mysql", serverEnv(t, "mariadb", "FEDMESH_MYSQL_ADMIN_DSN")+"?multiStatements=true&parseTime=true")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = db.Close() })
	return db
}

var mysqlTypeCases = []typeCase{
	{"BOOLEAN", "true", arrow.PrimitiveTypes.Int8, int64(1)},
	{"TINYINT", "-8", arrow.PrimitiveTypes.Int8, int64(-8)},
	{"SMALLINT", "-16000", arrow.PrimitiveTypes.Int16, int64(-16000)},
	{"INT", "2000000000", arrow.PrimitiveTypes.Int32, int64(2000000000)},
	{"BIGINT", "-9000000000000000000", arrow.PrimitiveTypes.Int64, int64(-9000000000000000000)},
	{"BIGINT UNSIGNED", "18446744073709551615", arrow.PrimitiveTypes.Uint64, uint64(18446744073709551615)},
	{"FLOAT", "1.5", arrow.PrimitiveTypes.Float32, 1.5},
	{"DOUBLE", "-2.25", arrow.PrimitiveTypes.Float64, -2.25},
	{"DECIMAL(4,1)", "-123.4", &arrow.Decimal128Type{Precision: 4, Scale: 1}, "-123.4"},
	{"DECIMAL(38,10)", "1234567890123456789012345678.0123456789", &arrow.Decimal128Type{Precision: 38, Scale: 10}, "1234567890123456789012345678.0123456789"},
	{"VARCHAR(40)", "'héllo, \"w''orld\"'", arrow.BinaryTypes.String, `héllo, "w'orld"`},
	{"TEXT", "'abc'", arrow.BinaryTypes.String, "abc"},
	{"VARBINARY(8)", "x'00FF6162'", arrow.BinaryTypes.Binary, []byte{0, 0xff, 'a', 'b'}},
	{"DATE", "'1969-12-31'", arrow.FixedWidthTypes.Date32, "1969-12-31"},
	{"DATETIME(6)", "'2024-02-29 23:59:58.123456'", &arrow.TimestampType{Unit: arrow.Microsecond}, "2024-02-29T23:59:58.123456Z"},
	{"TIMESTAMP(6) NULL", "'2024-01-02 01:04:05.5'", &arrow.TimestampType{Unit: arrow.Microsecond, TimeZone: "UTC"}, "2024-01-02T01:04:05.5Z"},
}

// TestMySQLTypeMapping checks README.md's MySQL table against a live
// MariaDB: a table with one column per type, one row of values and one of
// NULLs, read both without and with bound parameters (text and binary
// protocol).
func TestMySQLTypeMapping(t *testing.T) {
	t.Parallel()
	admin := mysqlAdmin(t)
	table := fmt.Sprintf("fedmesh_types_%d", time.Now().UnixNano())
	var cols, vals, nulls []string
	for i, c := range mysqlTypeCases {
		cols = append(cols, fmt.Sprintf("c%d %s", i, c.typ))
		vals = append(vals, c.literal)
		nulls = append(nulls, "NULL")
	}
	ddl := fmt.Sprintf("CREATE TABLE %s (ord INT, %s); INSERT INTO %[1]s VALUES (0, %[3]s), (1, %[4]s)",
		table, strings.Join(cols, ", "), strings.Join(vals, ", "), strings.Join(nulls, ", "))
	if _, err := admin.Exec("SET time_zone = '+00:00'; " + ddl); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _, _ = admin.Exec("DROP TABLE " + table) })
	e := openMySQL(t)
	for _, proto := range []struct {
		name string
		q    string
		args []any
	}{
		{"text protocol", "SELECT * FROM " + table + " ORDER BY ord", nil},
		{"binary protocol", "SELECT * FROM " + table + " WHERE ord >= ? ORDER BY ord", []any{int64(0)}},
	} {
		t.Run(proto.name, func(t *testing.T) {
			schema, rows := queryRows(t, e, proto.q, proto.args...)
			checkTypeRows(t, schema, rows, mysqlTypeCases)
		})
	}
}

func TestMySQLErrors(t *testing.T) {
	t.Parallel()
	e := openMySQL(t)
	tests := []struct {
		name    string
		query   string
		wantAll []string
	}{
		{"unmapped type", "SELECT CAST('01:02:03' AS TIME) AS wait_time", []string{`"wait_time"`, "TIME"}},
		{"read-only session", "CREATE TEMPORARY TABLE t_should_not_exist (x int)", []string{"READ ONLY"}},
		{"bad sql names the engine", "SELEC 1", []string{"mysql query", "syntax"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			err := queryErr(e, tc.query)
			if err == nil {
				t.Fatalf("query %q succeeded, want an error", tc.query)
			}
			for _, w := range tc.wantAll {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not mention %s", err, w)
				}
			}
		})
	}
}

func TestMySQLBadPassword(t *testing.T) {
	t.Parallel()
	dsn := serverEnv(t, "mariadb", "FEDMESH_MYSQL_DSN")
	_, err := OpenMySQL(context.Background(), MySQLConfig{DSN: dsn, Password: "wrong-password"}, nil)
	if err == nil {
		t.Fatal("OpenMySQL with a wrong password succeeded")
	}
	if !strings.Contains(err.Error(), "127.0.0.1") || strings.Contains(err.Error(), "wrong-password") {
		t.Errorf("error %q should name the server and not the password", err)
	}
}

// TestMySQLCancelKillsQuery cancels a long statement and checks that the
// server stopped running it: the driver alone only drops the connection.
func TestMySQLCancelKillsQuery(t *testing.T) {
	t.Parallel()
	e := openMySQL(t)
	admin := mysqlAdmin(t)
	marker := fmt.Sprintf("fedmesh_cancel_%d", time.Now().UnixNano())
	q := "SELECT SLEEP(30) AS " + marker

	running := func() int {
		var n int
		if err := admin.QueryRow("SELECT count(*) FROM information_schema.processlist WHERE info LIKE CONCAT('%SLEEP(30) AS ', ?) AND command = 'Query'", marker).Scan(&n); err != nil {
			t.Fatal(err)
		}
		if n > 1 {
			t.Fatalf("%d running statements carry marker %s, want at most 1", n, marker)
		}
		return n
	}
	// Without KILL QUERY, MariaDB's SLEEP notices the dropped connection
	// only at its next 5-second check (and a heavy statement never does).
	cancelOnceRunning(t, e, q, running, 10*time.Second, 10*time.Second, 2*time.Second)
	if _, rows := queryRows(t, e, "SELECT 1 AS one"); len(rows) != 1 {
		t.Errorf("after cancel: got %d rows, want 1", len(rows))
	}
}
