package enginebridge

import (
	"database/sql"
	"fmt"

	"github.com/apache/arrow-go/v18/arrow"
)

// Unconstrained NUMERIC (what SUM(bigint) and SUM(numeric) return) has no
// declared scale; values are kept exactly up to this many fractional digits
// and a value with more fails the query rather than being rounded.
const (
	pgNumericPrecision = 38
	pgNumericScale     = 9
)

// postgresTypes maps pgx's type names (upper-cased pg_type names) to Arrow.
var postgresTypes = &TypeMap{
	Dialect: "postgres",
	Exact: map[string]arrow.DataType{
		"BOOL":        arrow.FixedWidthTypes.Boolean,
		"INT2":        arrow.PrimitiveTypes.Int16,
		"INT4":        arrow.PrimitiveTypes.Int32,
		"INT8":        arrow.PrimitiveTypes.Int64,
		"FLOAT4":      arrow.PrimitiveTypes.Float32,
		"FLOAT8":      arrow.PrimitiveTypes.Float64,
		"TEXT":        arrow.BinaryTypes.String,
		"VARCHAR":     arrow.BinaryTypes.String,
		"BPCHAR":      arrow.BinaryTypes.String,
		"NAME":        arrow.BinaryTypes.String,
		"BYTEA":       arrow.BinaryTypes.Binary,
		"DATE":        arrow.FixedWidthTypes.Date32,
		"TIMESTAMP":   &arrow.TimestampType{Unit: arrow.Microsecond},
		"TIMESTAMPTZ": &arrow.TimestampType{Unit: arrow.Microsecond, TimeZone: "UTC"},
	},
	Column: postgresColumn,
}

// postgresColumn maps NUMERIC from its type modifier.
func postgresColumn(c *sql.ColumnType) (arrow.DataType, error) {
	if c.DatabaseTypeName() != "NUMERIC" {
		return nil, nil
	}
	p, s, ok := c.DecimalSize()
	// pgx decodes an absent type modifier (-1) into a nonsense precision.
	if !ok || p <= 0 || p > 1000 || s < 0 || s > p {
		return &arrow.Decimal128Type{Precision: pgNumericPrecision, Scale: pgNumericScale}, nil
	}
	if p > 38 {
		return nil, fmt.Errorf("postgres type NUMERIC(%d,%d) has no arrow mapping (precision above 38); cast it", p, s)
	}
	return &arrow.Decimal128Type{Precision: int32(p), Scale: int32(s)}, nil
}
