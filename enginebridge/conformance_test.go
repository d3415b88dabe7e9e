package enginebridge

import (
	"context"
	"errors"
	"fmt"
	"math/big"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/google/go-cmp/cmp"

	"github.com/fedmesh/fedmesh/planner"
	"github.com/fedmesh/fedmesh/planner/merge"
	"github.com/fedmesh/fedmesh/planner/render"
	"github.com/fedmesh/fedmesh/planner/sqlfront"
)

// conformanceHarness is what the conformance suite needs from an engine
// under test (model: Litestream's RunWithReplicaClient).
type conformanceHarness struct {
	// Open returns an engine over a fresh database in which tables have
	// been created and filled (with the engine's own DDL), each under its
	// Name exactly as written, odd characters included.
	Open func(t *testing.T, tables []confTable) Engine
	// SlowQuery is engine SQL that runs for at least ten seconds unless
	// cancelled.
	SlowQuery string
	// SlowRunning, if set, counts SlowQuery statements the server is still
	// running, so the suite can check that cancellation stopped the work
	// and not just the client.
	SlowRunning func(t *testing.T) int
}

// confTable is a fixture table in engine-neutral terms.
type confTable struct {
	Name    string
	Columns []confColumn
	Rows    [][]any // int64, float64, string, decimal text, time.Time, nil
}

type confColumn struct {
	Name string
	Type string // bigint, integer, double, decimal(10,2), text, date
}

func date(s string) time.Time {
	t, err := time.Parse(time.DateOnly, s)
	if err != nil {
		panic(err)
	}
	return t
}

// confSales has NULLs in every column, strings with quotes and non-ASCII
// characters, and column names that need quoting in every dialect (a
// reserved word, mixed case, a double quote, a backquote, a space).
var confSales = confTable{
	Name: "conf Sales",
	Columns: []confColumn{
		{"id", "bigint"}, {"region", "text"}, {"amount", "double"}, {"qty", "integer"},
		{"price", "decimal(10,2)"}, {"day", "date"}, {`we"ird col`, "text"}, {"select", "integer"}, {"Mixed`Case", "bigint"},
	},
	// Amounts are exact in binary floating point, so float sums compare exactly.
	Rows: [][]any{
		{int64(1), "north", 10.5, int64(1), "1.10", date("2024-01-01"), "a", int64(1), int64(10)},
		{int64(2), "north", 20.25, int64(2), "2.20", date("2024-01-02"), nil, int64(2), int64(20)},
		{int64(3), "north", nil, int64(3), "3.30", date("2024-01-03"), "b", int64(3), int64(30)},
		{int64(4), "south", 5.0, int64(4), "4.40", date("2024-02-01"), "a", int64(4), int64(40)},
		{int64(5), "south", 7.5, nil, "5.50", date("2024-02-02"), "c", int64(5), int64(50)},
		{int64(6), nil, 1.0, int64(6), nil, date("2024-03-01"), "a", int64(6), int64(60)},
		{int64(7), "east", 100.0, int64(7), "7.70", nil, "b'q", int64(7), int64(70)},
		{int64(8), "east", 0.25, int64(8), "8.80", date("2024-03-03"), `é"x`, int64(8), nil},
	},
}

// confCases are analyst queries; each is parsed, split for one site,
// rendered in the engine's dialect, run, and merged by the planner. Values
// are compared in canonical text (see canon); types by class (see typeClass).
var confCases = []struct {
	name    string
	sql     string
	classes []string
	want    [][]string
}{
	{
		name:    "group by with NULL key, sum and avg skipping NULLs",
		sql:     `SELECT region, COUNT(*) AS n, SUM(amount) AS total, AVG(amount) AS a FROM "conf Sales" GROUP BY region ORDER BY region NULLS FIRST`,
		classes: []string{"text", "exact", "float", "float"},
		want: [][]string{
			{"NULL", "1", "1", "1"},
			{`"east"`, "2", "100.25", "50.125"},
			{`"north"`, "3", "30.75", "15.375"},
			{`"south"`, "2", "12.5", "6.25"},
		},
	},
	{
		name:    "global aggregates over integers and decimals",
		sql:     `SELECT COUNT(*), COUNT(amount), COUNT(qty), SUM(qty), MIN(price), MAX(price), SUM(price) FROM "conf Sales"`,
		classes: []string{"exact", "exact", "exact", "exact", "exact", "exact", "exact"},
		want:    [][]string{{"8", "7", "7", "31", "1.1", "8.8", "33"}},
	},
	{
		name:    "string parameters with quotes and non-ASCII",
		sql:     `SELECT COUNT(*) AS n FROM "conf Sales" WHERE "we""ird col" IN ('b''q', 'é"x')`,
		classes: []string{"exact"},
		want:    [][]string{{"2"}},
	},
	{
		name:    "odd identifiers as group key and aggregate argument",
		sql:     `SELECT "we""ird col", SUM("select") AS s, MAX("Mixed` + "`" + `Case") FROM "conf Sales" GROUP BY "we""ird col" ORDER BY 1 NULLS FIRST`,
		classes: []string{"text", "exact", "exact"},
		want: [][]string{
			{"NULL", "2", "20"},
			{`"a"`, "11", "60"},
			{`"b"`, "3", "30"},
			{`"b'q"`, "7", "70"},
			{`"c"`, "5", "50"},
			{`"é\"x"`, "8", "NULL"},
		},
	},
	{
		name:    "IS NULL filter",
		sql:     `SELECT region, COUNT(*) FROM "conf Sales" WHERE amount IS NULL GROUP BY region`,
		classes: []string{"text", "exact"},
		want:    [][]string{{`"north"`, "1"}},
	},
	{
		name:    "dates",
		sql:     `SELECT MIN(day), MAX(day), COUNT(day) FROM "conf Sales"`,
		classes: []string{"date", "date", "exact"},
		want:    [][]string{{"2024-01-01", "2024-03-03", "7"}},
	},
	{
		name:    "BETWEEN, NOT with NULL, numeric parameters",
		sql:     `SELECT region, COUNT(*), SUM(qty) FROM "conf Sales" WHERE amount BETWEEN 1 AND 50.5 AND NOT (region = 'south') GROUP BY region`,
		classes: []string{"text", "exact", "exact"},
		want:    [][]string{{`"north"`, "2", "3"}},
	},
	{
		name:    "OR and comparison on decimals",
		sql:     `SELECT COUNT(*) FROM "conf Sales" WHERE price > 5 OR qty < 2`,
		classes: []string{"exact"},
		want:    [][]string{{"4"}}, // prices 5.50, 7.70, 8.80; qty 1
	},
	{
		name:    "no matching rows, grouped",
		sql:     `SELECT region, COUNT(*) FROM "conf Sales" WHERE qty > 100 GROUP BY region`,
		classes: []string{"text", "exact"},
		want:    nil,
	},
	{
		name:    "no matching rows, global",
		sql:     `SELECT COUNT(*), SUM(amount) FROM "conf Sales" WHERE qty > 100`,
		classes: []string{"exact", "float"},
		want:    [][]string{{"0", "NULL"}},
	},
	{
		name:    "HAVING, ORDER BY and LIMIT",
		sql:     `SELECT region, COUNT(*) AS n FROM "conf Sales" GROUP BY region HAVING COUNT(*) >= 2 ORDER BY n DESC, region LIMIT 2`,
		classes: []string{"text", "exact"},
		want:    [][]string{{`"north"`, "3"}, {`"east"`, "2"}},
	},
}

// runConformance runs the suite against one engine.
func runConformance(t *testing.T, h conformanceHarness) {
	e := h.Open(t, []confTable{confSales})
	d, err := render.DialectByName(e.Dialect())
	if err != nil {
		t.Fatalf("engine dialect: %v", err)
	}
	t.Run("answers", func(t *testing.T) {
		for _, tc := range confCases {
			t.Run(tc.name, func(t *testing.T) {
				q, err := sqlfront.Parse(tc.sql)
				if err != nil {
					t.Fatalf("parse: %v", err)
				}
				sp := planner.Split(q, []string{"conf"}, planner.SubPlanMeta{QueryID: "conformance"})[0]
				sqlText, args, err := render.Render(sp, d)
				if err != nil {
					t.Fatalf("render: %v", err)
				}
				batches := collect(t, e, sqlText, args)
				res, err := merge.Merge(context.Background(), q, []merge.Partial{{Site: "conf", Batches: batches}})
				for _, b := range batches {
					b.Release()
				}
				if err != nil {
					t.Fatalf("merge partials of %s: %v", sqlText, err)
				}
				var classes []string
				for _, c := range res.Columns {
					classes = append(classes, typeClass(c.Type))
				}
				if diff := cmp.Diff(tc.classes, classes); diff != "" {
					t.Errorf("column type classes (-want +got):\n%s\ncolumns: %v\nengine sql: %s", diff, res.Columns, sqlText)
				}
				var got [][]string
				for _, row := range res.Rows {
					var r []string
					for _, v := range row {
						r = append(r, canon(v))
					}
					got = append(got, r)
				}
				if diff := cmp.Diff(tc.want, got); diff != "" {
					t.Errorf("answer (-want +got):\n%s\nengine sql: %s\nargs: %#v", diff, sqlText, args)
				}
			})
		}
	})
	t.Run("cancelled before start", func(t *testing.T) {
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		err := drain(ctx, e, `SELECT COUNT(*) FROM `+d.QuoteIdent(confSales.Name), nil)
		if !errors.Is(err, context.Canceled) {
			t.Errorf("error = %v, want one wrapping context.Canceled", err)
		}
	})
	t.Run("cancelled while running", func(t *testing.T) {
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan error, 1)
		go func() { done <- drain(ctx, e, h.SlowQuery, nil) }()
		time.Sleep(300 * time.Millisecond)
		cancel()
		select {
		case err := <-done:
			if !errors.Is(err, context.Canceled) {
				t.Errorf("error = %v, want one wrapping context.Canceled", err)
			}
		case <-time.After(5 * time.Second):
			t.Fatal("query still running 5s after cancel")
		}
		serverStopped(t, h)
	})
	t.Run("deadline", func(t *testing.T) {
		ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
		defer cancel()
		start := time.Now()
		err := drain(ctx, e, h.SlowQuery, nil)
		if !errors.Is(err, context.DeadlineExceeded) {
			t.Errorf("error = %v, want one wrapping context.DeadlineExceeded", err)
		}
		if el := time.Since(start); el > 5*time.Second {
			t.Errorf("query returned %v after its 300ms deadline", el)
		}
		serverStopped(t, h)
	})
	t.Run("engine still answers after cancellations", func(t *testing.T) {
		_, rows := queryRows(t, e, `SELECT COUNT(*) AS n FROM `+d.QuoteIdent(confSales.Name))
		if diff := cmp.Diff([][]any{{int64(8)}}, rows); diff != "" {
			t.Errorf("rows (-want +got):\n%s", diff)
		}
	})
}

// serverStopped waits up to 3s for the server to stop running SlowQuery.
func serverStopped(t *testing.T, h conformanceHarness) {
	t.Helper()
	if h.SlowRunning == nil {
		return
	}
	deadline := time.Now().Add(3 * time.Second)
	for n := h.SlowRunning(t); n != 0; n = h.SlowRunning(t) {
		if time.Now().After(deadline) {
			t.Fatalf("server still runs %d cancelled statement(s) 3s after cancellation", n)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func collect(t *testing.T, e Engine, q string, args []any) []arrow.RecordBatch {
	t.Helper()
	r, err := e.Query(context.Background(), q, args)
	if err != nil {
		t.Fatalf("query %s: %v", q, err)
	}
	defer r.Release()
	var out []arrow.RecordBatch
	for r.Next() {
		b := r.RecordBatch()
		b.Retain()
		out = append(out, b)
	}
	if err := r.Err(); err != nil {
		t.Fatalf("read %s: %v", q, err)
	}
	if len(out) == 0 {
		// The planner wants the schema even when no row matched.
		out = append(out, emptyBatch(r.Schema()))
	}
	return out
}

func emptyBatch(schema *arrow.Schema) arrow.RecordBatch {
	b := array.NewRecordBuilder(memory.DefaultAllocator, schema)
	defer b.Release()
	return b.NewRecordBatch()
}

func drain(ctx context.Context, e Engine, q string, args []any) error {
	r, err := e.Query(ctx, q, args)
	if err != nil {
		return err
	}
	defer r.Release()
	for r.Next() {
	}
	return r.Err()
}

// typeClass groups the merged column types that engines legitimately
// differ on (SUM(bigint) is HUGEINT in DuckDB, NUMERIC in PostgreSQL,
// DECIMAL(41,0) in MariaDB) into what a user can rely on.
func typeClass(sqlType string) string {
	switch {
	case sqlType == "BIGINT", sqlType == "HUGEINT", sqlType == "INTEGER", strings.HasPrefix(sqlType, "DECIMAL"):
		return "exact"
	case sqlType == "DOUBLE", sqlType == "FLOAT", sqlType == "REAL":
		return "float"
	case sqlType == "VARCHAR":
		return "text"
	case sqlType == "DATE":
		return "date"
	default:
		return sqlType
	}
}

// canon renders a merged value so that equal answers from different
// engines compare equal: decimals without trailing zeros, floats in
// shortest form, strings quoted, dates as YYYY-MM-DD.
func canon(v any) string {
	switch x := v.(type) {
	case nil:
		return "NULL"
	case int64:
		return strconv.FormatInt(x, 10)
	case *big.Int:
		return x.String()
	case float64:
		return strconv.FormatFloat(x, 'g', -1, 64)
	case merge.Decimal:
		s := x.String()
		if strings.Contains(s, ".") {
			s = strings.TrimRight(strings.TrimRight(s, "0"), ".")
		}
		return s
	case string:
		return strconv.Quote(x)
	case time.Time:
		if x.Equal(x.Truncate(24 * time.Hour)) {
			return x.UTC().Format(time.DateOnly)
		}
		return x.UTC().Format(time.RFC3339Nano)
	default:
		return fmt.Sprintf("%T(%v)", v, v)
	}
}
