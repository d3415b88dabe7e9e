package enginebridge

import (
	"fmt"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/duckdb/duckdb-go/v2"
)

// duckDBTypes is DuckDB's column type mapping. Keep it in step with the table
// in README.md; TestDuckDBTypeMapping checks each row against a live DuckDB.
var duckDBTypes = &TypeMap{
	Dialect: "duckdb",
	Exact: map[string]arrow.DataType{
		"BOOLEAN":      arrow.FixedWidthTypes.Boolean,
		"TINYINT":      arrow.PrimitiveTypes.Int8,
		"SMALLINT":     arrow.PrimitiveTypes.Int16,
		"INTEGER":      arrow.PrimitiveTypes.Int32,
		"BIGINT":       arrow.PrimitiveTypes.Int64,
		"UTINYINT":     arrow.PrimitiveTypes.Uint8,
		"USMALLINT":    arrow.PrimitiveTypes.Uint16,
		"UINTEGER":     arrow.PrimitiveTypes.Uint32,
		"UBIGINT":      arrow.PrimitiveTypes.Uint64,
		"HUGEINT":      &arrow.Decimal128Type{Precision: 38, Scale: 0},
		"FLOAT":        arrow.PrimitiveTypes.Float32,
		"DOUBLE":       arrow.PrimitiveTypes.Float64,
		"VARCHAR":      arrow.BinaryTypes.String,
		"ENUM":         arrow.BinaryTypes.String,
		"BLOB":         arrow.BinaryTypes.Binary,
		"DATE":         arrow.FixedWidthTypes.Date32,
		"TIMESTAMP":    &arrow.TimestampType{Unit: arrow.Microsecond},
		"TIMESTAMP_S":  &arrow.TimestampType{Unit: arrow.Second},
		"TIMESTAMP_MS": &arrow.TimestampType{Unit: arrow.Millisecond},
		"TIMESTAMP_NS": &arrow.TimestampType{Unit: arrow.Nanosecond},
		"TIMESTAMPTZ":  &arrow.TimestampType{Unit: arrow.Microsecond, TimeZone: "UTC"},
	},
	Parametric: map[string]func([]int) (arrow.DataType, error){
		"DECIMAL": decimalType,
	},
	Value: duckDBValue,
}

func decimalType(params []int) (arrow.DataType, error) {
	if len(params) != 2 {
		return nil, fmt.Errorf("want DECIMAL(precision,scale), got %d parameters", len(params))
	}
	p, s := params[0], params[1]
	if p < 1 || p > 38 || s < 0 || s > p {
		return nil, fmt.Errorf("precision %d, scale %d outside decimal128 (1..38, 0..precision)", p, s)
	}
	return &arrow.Decimal128Type{Precision: int32(p), Scale: int32(s)}, nil
}

// duckDBValue normalises duckdb-go's own value types. HUGEINT arrives as
// *big.Int (handled generically), DECIMAL as duckdb.Decimal.
func duckDBValue(v any) (any, error) {
	if d, ok := v.(duckdb.Decimal); ok {
		if d.Value == nil {
			return nil, fmt.Errorf("duckdb decimal without value")
		}
		return scaledInt{Unscaled: d.Value, Scale: int32(d.Scale)}, nil
	}
	return v, nil
}
