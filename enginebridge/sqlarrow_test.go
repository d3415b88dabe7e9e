package enginebridge

import (
	"errors"
	"math"
	"math/big"
	"strings"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/google/go-cmp/cmp"
)

// TestAppendGenericValues covers the driver value forms other adapters
// (PostgreSQL, MySQL) produce, beyond what DuckDB returns.
func TestAppendGenericValues(t *testing.T) {
	t.Parallel()
	dec := func(p, s int32) arrow.DataType { return &arrow.Decimal128Type{Precision: p, Scale: s} }
	berlin := time.FixedZone("CET", 3600)
	tests := []struct {
		name    string
		typ     arrow.DataType
		in      any
		want    any
		wantErr bool
	}{
		{"int from text", arrow.PrimitiveTypes.Int64, []byte("-42"), int64(-42), false},
		{"int32 from int64", arrow.PrimitiveTypes.Int32, int64(7), int64(7), false},
		{"int32 overflow", arrow.PrimitiveTypes.Int32, int64(math.MaxInt32 + 1), nil, true},
		{"int64 from huge uint64", arrow.PrimitiveTypes.Int64, uint64(math.MaxUint64), nil, true},
		{"uint8 from negative", arrow.PrimitiveTypes.Uint8, int64(-1), nil, true},
		{"uint64 from text", arrow.PrimitiveTypes.Uint64, "18446744073709551615", uint64(math.MaxUint64), false},
		{"float from text", arrow.PrimitiveTypes.Float64, "2.5", 2.5, false},
		{"float from int", arrow.PrimitiveTypes.Float64, int32(3), 3.0, false},
		{"decimal from text", dec(10, 2), []byte("-12.5"), "-12.50", false},
		{"decimal from text too precise", dec(4, 2), "123.45", nil, true},
		{"decimal from int", dec(10, 2), int64(12), "12.00", false},
		{"decimal from big int", dec(38, 0), big.NewInt(-5), "-5", false},
		{"decimal rescaled", dec(10, 3), scaledInt{Unscaled: big.NewInt(125), Scale: 2}, "1.250", false},
		{"decimal rescale losing digits", dec(10, 1), scaledInt{Unscaled: big.NewInt(125), Scale: 2}, nil, true},
		{"string from bytes", arrow.BinaryTypes.String, []byte("abc"), "abc", false},
		{"string from int", arrow.BinaryTypes.String, int64(1), nil, true},
		{"bool from string", arrow.FixedWidthTypes.Boolean, "true", nil, true},
		{"date keeps calendar day", arrow.FixedWidthTypes.Date32, time.Date(2024, 3, 1, 0, 30, 0, 0, berlin), "2024-03-01", false},
		{"naive timestamp keeps wall clock", &arrow.TimestampType{Unit: arrow.Microsecond},
			time.Date(2024, 3, 1, 10, 0, 0, 0, berlin), "2024-03-01T10:00:00Z", false},
		{"zoned timestamp keeps instant", &arrow.TimestampType{Unit: arrow.Microsecond, TimeZone: "UTC"},
			time.Date(2024, 3, 1, 10, 0, 0, 0, berlin), "2024-03-01T09:00:00Z", false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			b := array.NewBuilder(memory.DefaultAllocator, tc.typ)
			defer b.Release()
			err := newAppender(b, tc.typ)(tc.in)
			if tc.wantErr {
				if err == nil {
					t.Fatalf("append %T succeeded, want an error", tc.in)
				}
				if s, ok := tc.in.(string); ok && strings.Contains(err.Error(), s) {
					t.Errorf("error %q leaks the value", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			arr := b.NewArray()
			defer arr.Release()
			if diff := cmp.Diff(tc.want, cell(arr, 0)); diff != "" {
				t.Errorf("value (-want +got):\n%s", diff)
			}
		})
	}
}

func TestTypeMapArrowType(t *testing.T) {
	t.Parallel()
	tests := []struct {
		dbType  string
		want    arrow.DataType
		wantErr string
	}{
		{"bigint", arrow.PrimitiveTypes.Int64, ""},
		{"DECIMAL(9, 4)", &arrow.Decimal128Type{Precision: 9, Scale: 4}, ""},
		{"DECIMAL(9)", nil, "parameters"},
		{"DECIMAL(40,2)", nil, "precision 40"},
		{"DECIMAL(x,2)", nil, "no arrow mapping"},
		{"INTERVAL", nil, "duckdb type INTERVAL has no arrow mapping"},
		{"INTEGER[]", nil, "no arrow mapping"},
	}
	for _, tc := range tests {
		t.Run(tc.dbType, func(t *testing.T) {
			t.Parallel()
			got, err := duckDBTypes.ArrowType(tc.dbType)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("err = %v, want one containing %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !arrow.TypeEqual(got, tc.want) {
				t.Errorf("ArrowType(%q) = %s, want %s", tc.dbType, got, tc.want)
			}
		})
	}
}

func TestAppendErrorsAreOutOfRange(t *testing.T) {
	t.Parallel()
	b := array.NewInt8Builder(memory.DefaultAllocator)
	defer b.Release()
	err := newAppender(b, arrow.PrimitiveTypes.Int8)(int64(300))
	if !errors.Is(err, errOutOfRange) {
		t.Errorf("err = %v, want errOutOfRange", err)
	}
	if strings.Contains(err.Error(), "300") {
		t.Errorf("error %q leaks the value", err)
	}
}
