package enginebridge

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"math"
	"math/big"
	"strconv"
	"strings"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
)

// flinkLogicalType is a result column's type as the SQL Gateway serialises
// it (LogicalTypeJsonSerializer): the type root plus its parameters.
type flinkLogicalType struct {
	Type      string `json:"type"`
	Nullable  bool   `json:"nullable"`
	Length    *int   `json:"length,omitempty"`
	Precision *int   `json:"precision,omitempty"`
	Scale     *int   `json:"scale,omitempty"`
}

// String renders the type as Flink SQL would spell it, for messages.
func (t flinkLogicalType) String() string {
	switch {
	case t.Precision != nil && t.Scale != nil:
		return fmt.Sprintf("%s(%d, %d)", t.Type, *t.Precision, *t.Scale)
	case t.Precision != nil:
		return fmt.Sprintf("%s(%d)", t.Type, *t.Precision)
	case t.Length != nil:
		return fmt.Sprintf("%s(%d)", t.Type, *t.Length)
	}
	return t.Type
}

// flinkArrowType maps a Flink logical type to Arrow (see README.md, "Flink
// type mapping"). Anything not listed is an error naming the type.
func flinkArrowType(t flinkLogicalType) (arrow.DataType, error) {
	switch t.Type {
	case "BOOLEAN":
		return arrow.FixedWidthTypes.Boolean, nil
	case "TINYINT":
		return arrow.PrimitiveTypes.Int8, nil
	case "SMALLINT":
		return arrow.PrimitiveTypes.Int16, nil
	case "INTEGER":
		return arrow.PrimitiveTypes.Int32, nil
	case "BIGINT":
		return arrow.PrimitiveTypes.Int64, nil
	case "FLOAT":
		return arrow.PrimitiveTypes.Float32, nil
	case "DOUBLE":
		return arrow.PrimitiveTypes.Float64, nil
	case "DECIMAL":
		if t.Precision == nil || t.Scale == nil {
			return nil, fmt.Errorf("flink type %s lacks precision or scale", t)
		}
		p, s := *t.Precision, *t.Scale
		if p < 1 || p > 38 || s < 0 || s > p {
			return nil, fmt.Errorf("flink type %s: precision/scale out of range", t)
		}
		return &arrow.Decimal128Type{Precision: int32(p), Scale: int32(s)}, nil
	case "CHAR", "VARCHAR":
		return arrow.BinaryTypes.String, nil
	case "BINARY", "VARBINARY":
		return arrow.BinaryTypes.Binary, nil
	case "DATE":
		return arrow.FixedWidthTypes.Date32, nil
	case "TIMESTAMP_WITHOUT_TIME_ZONE":
		return &arrow.TimestampType{Unit: flinkTimeUnit(t.Precision)}, nil
	case "TIMESTAMP_WITH_LOCAL_TIME_ZONE":
		// The session's time zone is UTC (see OpenFlink), so values are
		// instants written in UTC.
		return &arrow.TimestampType{Unit: flinkTimeUnit(t.Precision), TimeZone: "UTC"}, nil
	case "NULL":
		return arrow.Null, nil
	}
	return nil, fmt.Errorf("flink type %s has no arrow mapping", t)
}

// flinkTimeUnit picks the coarsest Arrow unit holding a timestamp of the
// given fractional-second precision (Flink's default is 6).
func flinkTimeUnit(p *int) arrow.TimeUnit {
	switch {
	case p == nil:
		return arrow.Microsecond
	case *p == 0:
		return arrow.Second
	case *p <= 3:
		return arrow.Millisecond
	case *p <= 6:
		return arrow.Microsecond
	}
	return arrow.Nanosecond
}

// flinkValue converts one JSON field of a result row (decoded with
// UseNumber) into the generic form the Arrow appenders take. Flink's JSON
// row format writes integers and decimals as JSON numbers, dates as
// "2024-01-02", timestamps in ISO-8601 ("2024-01-02T03:04:05.123", with a
// trailing "Z" for TIMESTAMP_LTZ), binary data as base64 and NaN and the
// infinities of FLOAT/DOUBLE as strings.
func flinkValue(v any, t arrow.DataType) (any, error) {
	switch t.ID() {
	case arrow.BOOL:
		if _, ok := v.(bool); ok {
			return v, nil
		}
	case arrow.INT8, arrow.INT16, arrow.INT32, arrow.INT64:
		if n, ok := v.(json.Number); ok {
			i, err := strconv.ParseInt(n.String(), 10, 64)
			if err != nil {
				return nil, fmt.Errorf("number is not an integer in range of %s", t)
			}
			return i, nil
		}
	case arrow.FLOAT32, arrow.FLOAT64:
		switch x := v.(type) {
		case json.Number:
			f, err := strconv.ParseFloat(x.String(), 64)
			if err != nil {
				return nil, fmt.Errorf("number out of range of %s", t)
			}
			return f, nil
		case string:
			switch x {
			case "NaN":
				return math.NaN(), nil
			case "Infinity":
				return math.Inf(1), nil
			case "-Infinity":
				return math.Inf(-1), nil
			}
		}
	case arrow.DECIMAL128:
		if n, ok := v.(json.Number); ok {
			return flinkDecimal(n.String(), t.(*arrow.Decimal128Type))
		}
	case arrow.STRING:
		if _, ok := v.(string); ok {
			return v, nil
		}
	case arrow.BINARY:
		if s, ok := v.(string); ok {
			b, err := base64.StdEncoding.DecodeString(s)
			if err != nil {
				return nil, fmt.Errorf("binary value is not base64")
			}
			return b, nil
		}
	case arrow.DATE32:
		if s, ok := v.(string); ok {
			d, err := time.Parse(time.DateOnly, s)
			if err != nil {
				return nil, fmt.Errorf("date value is not YYYY-MM-DD")
			}
			return d, nil
		}
	case arrow.TIMESTAMP:
		if s, ok := v.(string); ok {
			return parseFlinkTimestamp(s)
		}
	}
	return nil, fmt.Errorf("cannot convert JSON value of type %s to %s", jsonKind(v), t)
}

// flinkDecimal turns a JSON number (possibly in scientific notation, as
// Java's BigDecimal.toString writes some values) into plain decimal text at
// the column's scale, exactly.
func flinkDecimal(s string, t *arrow.Decimal128Type) (any, error) {
	if !strings.ContainsAny(s, "eE") {
		return s, nil
	}
	r, ok := new(big.Rat).SetString(s)
	if !ok {
		return nil, fmt.Errorf("decimal value is not a number")
	}
	scaled := new(big.Rat).Mul(r, new(big.Rat).SetInt(new(big.Int).Exp(big.NewInt(10), big.NewInt(int64(t.Scale)), nil)))
	if !scaled.IsInt() {
		return nil, fmt.Errorf("decimal value has more digits than %s", t)
	}
	return scaledInt{Unscaled: scaled.Num(), Scale: t.Scale}, nil
}

func parseFlinkTimestamp(s string) (time.Time, error) {
	for _, layout := range []string{"2006-01-02T15:04:05.999999999Z07:00", "2006-01-02T15:04:05.999999999", "2006-01-02 15:04:05.999999999"} {
		if ts, err := time.Parse(layout, s); err == nil {
			return ts, nil
		}
	}
	return time.Time{}, fmt.Errorf("timestamp value is not ISO-8601")
}

// jsonKind names a decoded JSON value's kind without showing the value
// (values may be data that policy would suppress).
func jsonKind(v any) string {
	switch v.(type) {
	case nil:
		return "null"
	case bool:
		return "boolean"
	case json.Number:
		return "number"
	case string:
		return "string"
	case []any:
		return "array"
	case map[string]any:
		return "object"
	}
	return fmt.Sprintf("%T", v)
}

// duckDBToFlinkType maps a column type DuckDB reports for a table file
// (DESCRIBE) to the Flink SQL type declared for it.
func duckDBToFlinkType(duckType string) (string, error) {
	name := strings.ToUpper(strings.TrimSpace(duckType))
	switch name {
	case "BOOLEAN":
		return "BOOLEAN", nil
	case "TINYINT":
		return "TINYINT", nil
	case "SMALLINT":
		return "SMALLINT", nil
	case "INTEGER":
		return "INT", nil
	case "BIGINT":
		return "BIGINT", nil
	case "FLOAT":
		return "FLOAT", nil
	case "DOUBLE":
		return "DOUBLE", nil
	case "VARCHAR":
		return "STRING", nil
	case "BLOB":
		return "BYTES", nil
	case "DATE":
		return "DATE", nil
	case "TIMESTAMP", "TIMESTAMP_US":
		return "TIMESTAMP(6)", nil
	case "TIMESTAMP_MS":
		return "TIMESTAMP(3)", nil
	case "TIMESTAMP_S":
		return "TIMESTAMP(0)", nil
	case "TIMESTAMP_NS":
		return "TIMESTAMP(9)", nil
	case "TIMESTAMP WITH TIME ZONE":
		return "TIMESTAMP_LTZ(6)", nil
	}
	if base, params, ok := splitTypeParams(name); ok && base == "DECIMAL" && len(params) == 2 {
		return fmt.Sprintf("DECIMAL(%d, %d)", params[0], params[1]), nil
	}
	return "", fmt.Errorf("duckdb type %s has no flink equivalent", duckType)
}
