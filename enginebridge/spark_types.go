package enginebridge

import (
	"fmt"

	"github.com/apache/arrow-go/v18/arrow"
)

// Spark Connect sends results as Arrow IPC batches, so the Spark adapter
// does not convert values: it checks that every result column has one of
// the Arrow types below (Spark's own Spark-type → Arrow conversion, with
// the session time zone set to UTC) and passes the batches on. Keep this
// in step with the table in README.md; TestSparkTypeMapping checks each
// row against the live server.
//
//	Spark type       Arrow type
//	BOOLEAN          Boolean
//	TINYINT          Int8
//	SMALLINT         Int16
//	INT              Int32
//	BIGINT           Int64
//	FLOAT            Float32
//	DOUBLE           Float64
//	DECIMAL(p,s)     Decimal128(p, s)
//	STRING, VARCHAR, CHAR  String (utf8)
//	BINARY           Binary
//	DATE             Date32
//	TIMESTAMP        Timestamp(µs, "UTC")
//	TIMESTAMP_NTZ    Timestamp(µs), no time zone
func sparkArrowTypeOK(t arrow.DataType) bool {
	switch t.ID() {
	case arrow.BOOL, arrow.INT8, arrow.INT16, arrow.INT32, arrow.INT64,
		arrow.FLOAT32, arrow.FLOAT64, arrow.DECIMAL128, arrow.STRING,
		arrow.BINARY, arrow.DATE32:
		return true
	case arrow.TIMESTAMP:
		ts := t.(*arrow.TimestampType)
		return ts.Unit == arrow.Microsecond && (ts.TimeZone == "" || ts.TimeZone == "UTC")
	}
	return false
}

// sparkTypeName names the Spark type behind an Arrow type Spark sent, for
// error messages.
func sparkTypeName(t arrow.DataType) string {
	switch t.ID() {
	case arrow.NULL:
		return "VOID (an untyped NULL)"
	case arrow.INTERVAL_MONTHS:
		return "INTERVAL YEAR TO MONTH"
	case arrow.DURATION:
		return "INTERVAL DAY TO SECOND"
	case arrow.INTERVAL_MONTH_DAY_NANO:
		return "INTERVAL (calendar)"
	case arrow.LIST, arrow.LARGE_LIST:
		return "ARRAY"
	case arrow.MAP:
		return "MAP"
	case arrow.STRUCT:
		return "STRUCT (or VARIANT)"
	case arrow.TIMESTAMP:
		return "TIMESTAMP in time zone " + t.(*arrow.TimestampType).TimeZone
	case arrow.LARGE_STRING:
		return "STRING (as large_utf8)"
	case arrow.LARGE_BINARY:
		return "BINARY (as large_binary)"
	}
	return "unknown"
}

// checkSparkSchema reports the first result column without a mapping.
func checkSparkSchema(s *arrow.Schema) error {
	for _, f := range s.Fields() {
		if !sparkArrowTypeOK(f.Type) {
			return fmt.Errorf("result column %q: Spark type %s (Arrow %s) has no Arrow mapping in fedmesh", f.Name, sparkTypeName(f.Type), f.Type)
		}
	}
	return nil
}
