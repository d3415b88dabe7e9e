package enginebridge

import (
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/google/go-cmp/cmp"
)

// duckDBTypeCases is the type mapping table of README.md, one row per
// DuckDB type, with a literal and the value the Arrow column must hold.
var duckDBTypeCases = []typeCase{
	{"BOOLEAN", "true", arrow.FixedWidthTypes.Boolean, true},
	{"TINYINT", "-8", arrow.PrimitiveTypes.Int8, int64(-8)},
	{"SMALLINT", "-16000", arrow.PrimitiveTypes.Int16, int64(-16000)},
	{"INTEGER", "2000000000", arrow.PrimitiveTypes.Int32, int64(2000000000)},
	{"BIGINT", "-9000000000000000000", arrow.PrimitiveTypes.Int64, int64(-9000000000000000000)},
	{"UTINYINT", "255", arrow.PrimitiveTypes.Uint8, uint64(255)},
	{"USMALLINT", "65535", arrow.PrimitiveTypes.Uint16, uint64(65535)},
	{"UINTEGER", "4294967295", arrow.PrimitiveTypes.Uint32, uint64(4294967295)},
	{"UBIGINT", "18446744073709551615", arrow.PrimitiveTypes.Uint64, uint64(18446744073709551615)},
	{"HUGEINT", "-12345678901234567890123456789012345678", &arrow.Decimal128Type{Precision: 38, Scale: 0}, "-12345678901234567890123456789012345678"},
	{"FLOAT", "1.5", arrow.PrimitiveTypes.Float32, 1.5},
	{"DOUBLE", "-2.25", arrow.PrimitiveTypes.Float64, -2.25},
	{"DECIMAL(4,1)", "-123.4", &arrow.Decimal128Type{Precision: 4, Scale: 1}, "-123.4"},
	{"DECIMAL(10,2)", "12345678.91", &arrow.Decimal128Type{Precision: 10, Scale: 2}, "12345678.91"},
	{"DECIMAL(18,3)", "-123456789012345.678", &arrow.Decimal128Type{Precision: 18, Scale: 3}, "-123456789012345.678"},
	{"DECIMAL(38,10)", "1234567890123456789012345678.0123456789", &arrow.Decimal128Type{Precision: 38, Scale: 10}, "1234567890123456789012345678.0123456789"},
	{"VARCHAR", "'héllo, \"w''orld\"'", arrow.BinaryTypes.String, `héllo, "w'orld"`},
	{"ENUM('lo','hi')", "'hi'", arrow.BinaryTypes.String, "hi"},
	{"BLOB", `'\x00\xFFab'`, arrow.BinaryTypes.Binary, []byte{0, 0xff, 'a', 'b'}},
	{"DATE", "'1969-12-31'", arrow.FixedWidthTypes.Date32, "1969-12-31"},
	{"TIMESTAMP", "'2024-02-29 23:59:58.123456'", &arrow.TimestampType{Unit: arrow.Microsecond}, "2024-02-29T23:59:58.123456Z"},
	{"TIMESTAMP_S", "'2024-01-02 03:04:05'", &arrow.TimestampType{Unit: arrow.Second}, "2024-01-02T03:04:05Z"},
	{"TIMESTAMP_MS", "'2024-01-02 03:04:05.678'", &arrow.TimestampType{Unit: arrow.Millisecond}, "2024-01-02T03:04:05.678Z"},
	{"TIMESTAMP_NS", "'2024-01-02 03:04:05.123456789'", &arrow.TimestampType{Unit: arrow.Nanosecond}, "2024-01-02T03:04:05.123456789Z"},
	{"TIMESTAMPTZ", "'2024-01-02 03:04:05.5+02'", &arrow.TimestampType{Unit: arrow.Microsecond, TimeZone: "UTC"}, "2024-01-02T01:04:05.5Z"},
}

// TestDuckDBTypeMapping selects every type of the mapping table in one query,
// one row of values and one row of NULLs, and checks the Arrow schema and
// values that come out.
func TestDuckDBTypeMapping(t *testing.T) {
	t.Parallel()
	e := openEngine(t, checkedConfig(t, DuckDBConfig{}))

	schema, rows := queryRows(t, e, castTypeQuery(duckDBTypeCases))
	checkTypeRows(t, schema, rows, duckDBTypeCases)
}

func TestDuckDBBareNullIsNullColumn(t *testing.T) {
	t.Parallel()
	e := openEngine(t, DuckDBConfig{})
	_, rows := queryRows(t, e, "SELECT NULL AS n")
	if diff := cmp.Diff([][]any{{nil}}, rows); diff != "" {
		t.Errorf("rows (-want +got):\n%s", diff)
	}
}

// TestDuckDBUnmappedTypes checks that a column without an Arrow mapping is an
// error naming the column and its DuckDB type, and that values which do not
// fit their Arrow type fail without echoing the value.
func TestDuckDBUnmappedTypes(t *testing.T) {
	t.Parallel()
	e := openEngine(t, DuckDBConfig{})
	tests := []struct {
		name    string
		query   string
		wantAll []string
	}{
		{"interval", "SELECT INTERVAL 3 DAY AS wait_time", []string{`"wait_time"`, "INTERVAL"}},
		{"list", "SELECT [1, 2] AS tags", []string{`"tags"`, "INTEGER[]"}},
		{"struct", "SELECT {'a': 1} AS s", []string{`"s"`, "STRUCT"}},
		{"time", "SELECT TIME '01:02:03' AS t", []string{`"t"`, "TIME"}},
		{"uuid", "SELECT uuid() AS id", []string{`"id"`, "UUID"}},
		{"hugeint beyond decimal(38)", "SELECT 170141183460469231731687303715884105727::HUGEINT AS big", []string{`"big"`, "out of range"}},
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
			if strings.Contains(err.Error(), "170141183460469231731687303715884105727") {
				t.Errorf("error %q leaks the value", err)
			}
		})
	}
}
