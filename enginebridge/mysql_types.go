package enginebridge

import (
	"database/sql"

	"github.com/apache/arrow-go/v18/arrow"
)

// mysqlTypes maps go-sql-driver/mysql's type names to Arrow. MySQL has no
// boolean type: BOOL is TINYINT(1) and comes out as Int8.
var mysqlTypes = &TypeMap{
	Dialect: "mysql",
	Exact: map[string]arrow.DataType{
		"TINYINT":            arrow.PrimitiveTypes.Int8,
		"SMALLINT":           arrow.PrimitiveTypes.Int16,
		"YEAR":               arrow.PrimitiveTypes.Int16,
		"MEDIUMINT":          arrow.PrimitiveTypes.Int32,
		"INT":                arrow.PrimitiveTypes.Int32,
		"BIGINT":             arrow.PrimitiveTypes.Int64,
		"UNSIGNED TINYINT":   arrow.PrimitiveTypes.Uint8,
		"UNSIGNED SMALLINT":  arrow.PrimitiveTypes.Uint16,
		"UNSIGNED MEDIUMINT": arrow.PrimitiveTypes.Uint32,
		"UNSIGNED INT":       arrow.PrimitiveTypes.Uint32,
		"UNSIGNED BIGINT":    arrow.PrimitiveTypes.Uint64,
		"FLOAT":              arrow.PrimitiveTypes.Float32,
		"DOUBLE":             arrow.PrimitiveTypes.Float64,
		"CHAR":               arrow.BinaryTypes.String,
		"VARCHAR":            arrow.BinaryTypes.String,
		"TINYTEXT":           arrow.BinaryTypes.String,
		"TEXT":               arrow.BinaryTypes.String,
		"MEDIUMTEXT":         arrow.BinaryTypes.String,
		"LONGTEXT":           arrow.BinaryTypes.String,
		"ENUM":               arrow.BinaryTypes.String,
		"BINARY":             arrow.BinaryTypes.Binary,
		"VARBINARY":          arrow.BinaryTypes.Binary,
		"TINYBLOB":           arrow.BinaryTypes.Binary,
		"BLOB":               arrow.BinaryTypes.Binary,
		"MEDIUMBLOB":         arrow.BinaryTypes.Binary,
		"LONGBLOB":           arrow.BinaryTypes.Binary,
		"DATE":               arrow.FixedWidthTypes.Date32,
		"DATETIME":           &arrow.TimestampType{Unit: arrow.Microsecond},
		"TIMESTAMP":          &arrow.TimestampType{Unit: arrow.Microsecond, TimeZone: "UTC"},
		// A bare NULL, typed as DuckDB types it.
		"NULL": arrow.PrimitiveTypes.Int32,
	},
	Column: mysqlColumn,
}

// mysqlColumn maps DECIMAL from its precision and scale. MySQL widens
// SUM(DECIMAL(p,s)) and SUM(BIGINT) beyond 38 digits of precision;
// such columns become Decimal128(38, s) and a value that does not fit
// fails the query.
func mysqlColumn(c *sql.ColumnType) (arrow.DataType, error) {
	if c.DatabaseTypeName() != "DECIMAL" {
		return nil, nil
	}
	p, s, ok := c.DecimalSize()
	if !ok || s < 0 || s > 38 {
		return nil, nil // falls through to an error naming the type
	}
	if p > 38 {
		p = 38
	}
	if p < s || p < 1 {
		p = s + 1
	}
	return &arrow.Decimal128Type{Precision: int32(p), Scale: int32(s)}, nil
}
