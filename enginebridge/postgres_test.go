package enginebridge

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/google/go-cmp/cmp"
	_ "github.com/jackc/pgx/v5/stdlib" // "pgx" database/sql driver for the admin connection
)

// openPostgres connects to the test server of scripts/engines/postgres.sh.
func openPostgres(t testing.TB) *Postgres {
	t.Helper()
	dsn := serverEnv(t, "postgres", "FEDMESH_PG_DSN")
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	e, err := OpenPostgres(ctx, PostgresConfig{DSN: dsn, MaxConns: 4}, nil)
	if err != nil {
		t.Fatalf("OpenPostgres: %v", err)
	}
	t.Cleanup(func() { _ = e.Close() })
	return e
}

// pgAdmin is a superuser connection to the test server (fixtures, pg_stat_activity).
func pgAdmin(t testing.TB) *sql.DB {
	t.Helper()
	db, err := sql.Open("pgx", serverEnv(t, "postgres", "FEDMESH_PG_ADMIN_DSN"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = db.Close() })
	return db
}

var postgresTypeCases = []typeCase{
	{"boolean", "true", arrow.FixedWidthTypes.Boolean, true},
	{"smallint", "-16000", arrow.PrimitiveTypes.Int16, int64(-16000)},
	{"integer", "2000000000", arrow.PrimitiveTypes.Int32, int64(2000000000)},
	{"bigint", "-9000000000000000000", arrow.PrimitiveTypes.Int64, int64(-9000000000000000000)},
	{"real", "1.5", arrow.PrimitiveTypes.Float32, 1.5},
	{"double precision", "-2.25", arrow.PrimitiveTypes.Float64, -2.25},
	{"numeric(4,1)", "-123.4", &arrow.Decimal128Type{Precision: 4, Scale: 1}, "-123.4"},
	{"numeric(38,10)", "1234567890123456789012345678.0123456789", &arrow.Decimal128Type{Precision: 38, Scale: 10}, "1234567890123456789012345678.0123456789"},
	{"numeric", "12345678901234567890.5", &arrow.Decimal128Type{Precision: 38, Scale: 9}, "12345678901234567890.500000000"},
	{"text", "'héllo, \"w''orld\"'", arrow.BinaryTypes.String, `héllo, "w'orld"`},
	{"varchar(20)", "'abc'", arrow.BinaryTypes.String, "abc"},
	{"char(3)", "'ab'", arrow.BinaryTypes.String, "ab "},
	{"bytea", `'\x00ff6162'`, arrow.BinaryTypes.Binary, []byte{0, 0xff, 'a', 'b'}},
	{"date", "'1969-12-31'", arrow.FixedWidthTypes.Date32, "1969-12-31"},
	{"timestamp", "'2024-02-29 23:59:58.123456'", &arrow.TimestampType{Unit: arrow.Microsecond}, "2024-02-29T23:59:58.123456Z"},
	{"timestamptz", "'2024-01-02 03:04:05.5+02'", &arrow.TimestampType{Unit: arrow.Microsecond, TimeZone: "UTC"}, "2024-01-02T01:04:05.5Z"},
}

// TestPostgresTypeMapping checks README.md's PostgreSQL table against a live
// server: one row of values and one of NULLs.
func TestPostgresTypeMapping(t *testing.T) {
	t.Parallel()
	e := openPostgres(t)
	schema, rows := queryRows(t, e, castTypeQuery(postgresTypeCases))
	checkTypeRows(t, schema, rows, postgresTypeCases)
}

func TestPostgresErrors(t *testing.T) {
	t.Parallel()
	e := openPostgres(t)
	tests := []struct {
		name    string
		query   string
		wantAll []string
	}{
		{"unmapped type", "SELECT interval '3 days' AS wait_time", []string{`"wait_time"`, "INTERVAL"}},
		{"unconstrained numeric with too many digits", "SELECT 1.0123456789012::numeric AS x", []string{`"x"`, "out of range"}},
		{"read-only session", "CREATE TABLE fedmesh_should_not_exist (x int)", []string{"read-only"}},
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
			if strings.Contains(err.Error(), "0123456789012") {
				t.Errorf("error %q leaks the value", err)
			}
		})
	}
}

func TestPostgresParamsAndBatches(t *testing.T) {
	t.Parallel()
	dsn := serverEnv(t, "postgres", "FEDMESH_PG_DSN")
	e, err := OpenPostgres(context.Background(), PostgresConfig{DSN: dsn, BatchSize: 7}, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	r, err := e.Query(context.Background(),
		"SELECT g, $2::text AS s FROM generate_series(1, $1::int) g WHERE $3::bool", []any{int64(20), "x'\"", true})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Release()
	var sizes []int64
	for r.Next() {
		sizes = append(sizes, r.RecordBatch().NumRows())
	}
	if err := r.Err(); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]int64{7, 7, 6}, sizes); diff != "" {
		t.Errorf("batch sizes (-want +got):\n%s", diff)
	}
}

func TestPostgresBadPassword(t *testing.T) {
	t.Parallel()
	dsn := serverEnv(t, "postgres", "FEDMESH_PG_DSN")
	_, err := OpenPostgres(context.Background(), PostgresConfig{DSN: dsn, Password: "wrong-password"}, nil)
	if err == nil {
		t.Fatal("OpenPostgres with a wrong password succeeded")
	}
	if !strings.Contains(err.Error(), "127.0.0.1") || strings.Contains(err.Error(), "wrong-password") {
		t.Errorf("error %q should name the server and not the password", err)
	}
}

// TestPostgresCancelStopsServerWork cancels a long statement and checks that
// the server stopped running it (a cancel request, not just a closed socket).
func TestPostgresCancelStopsServerWork(t *testing.T) {
	t.Parallel()
	e := openPostgres(t)
	admin := pgAdmin(t)
	marker := fmt.Sprintf("fedmesh_cancel_%d", time.Now().UnixNano())
	q := "SELECT pg_sleep(30) AS " + marker

	active := func() int {
		var n int
		if err := admin.QueryRow("SELECT count(*) FROM pg_stat_activity WHERE state = 'active' AND query LIKE '%' || $1 || '%' AND pid <> pg_backend_pid()", marker).Scan(&n); err != nil {
			t.Fatal(err)
		}
		if n > 1 {
			t.Fatalf("%d active statements carry marker %s, want at most 1", n, marker)
		}
		return n
	}
	// Once cancelled, the connection goes back to the pool idle: the
	// server's work stopped.
	cancelOnceRunning(t, e, q, active, 10*time.Second, 10*time.Second, 5*time.Second)
	// The pool still works after a cancel.
	if _, rows := queryRows(t, e, "SELECT 1 AS one"); len(rows) != 1 {
		t.Errorf("after cancel: got %d rows, want 1", len(rows))
	}
}
