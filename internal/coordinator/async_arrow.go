package coordinator

import (
	"fmt"
	"math/big"
	"net/http"
	"strings"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/ipc"
	"github.com/apache/arrow-go/v18/arrow/memory"
)

// MIMEArrowStream is the Arrow IPC stream format, served for a done
// query's results when the request's Accept asks for it.
const MIMEArrowStream = "application/vnd.apache.arrow.stream"

// wantsArrow reports whether r asks for the Arrow IPC stream.
func wantsArrow(r *http.Request) bool {
	return strings.Contains(r.Header.Get("Accept"), MIMEArrowStream)
}

// arrowType maps a merged column's engine type to the Arrow type it is
// streamed as: integers, floating point and booleans keep their kind;
// anything else (decimals, huge integers, dates) is streamed as text, as
// the JSON answer renders it.
func arrowType(t string) arrow.DataType {
	switch strings.ToUpper(t) {
	case "BIGINT", "INTEGER", "INT", "SMALLINT", "TINYINT", "INT8", "INT4", "INT2", "UBIGINT", "UINTEGER":
		return arrow.PrimitiveTypes.Int64
	case "DOUBLE", "FLOAT", "REAL", "FLOAT8", "FLOAT4":
		return arrow.PrimitiveTypes.Float64
	case "BOOLEAN", "BOOL":
		return arrow.FixedWidthTypes.Boolean
	}
	return arrow.BinaryTypes.String
}

// writeArrowStream writes ans's rows as one Arrow record batch in an IPC
// stream.
func writeArrowStream(w http.ResponseWriter, ans *Answer) error {
	fields := make([]arrow.Field, len(ans.Columns))
	for i, c := range ans.Columns {
		fields[i] = arrow.Field{Name: c.Name, Type: arrowType(c.Type), Nullable: true}
	}
	schema := arrow.NewSchema(fields, nil)
	b := array.NewRecordBuilder(memory.DefaultAllocator, schema)
	defer b.Release()
	for ri, row := range ans.Rows {
		for ci, v := range row {
			if err := appendValue(b.Field(ci), v); err != nil {
				return fmt.Errorf("row %d column %q: %w", ri, ans.Columns[ci].Name, err)
			}
		}
	}
	rec := b.NewRecordBatch()
	defer rec.Release()
	w.Header().Set("Content-Type", MIMEArrowStream)
	iw := ipc.NewWriter(w, ipc.WithSchema(schema))
	if err := iw.Write(rec); err != nil {
		return err
	}
	return iw.Close()
}

func appendValue(fb array.Builder, v any) error {
	if v == nil {
		fb.AppendNull()
		return nil
	}
	switch fb := fb.(type) {
	case *array.Int64Builder:
		switch x := v.(type) {
		case int64:
			fb.Append(x)
		case int:
			fb.Append(int64(x))
		case int32:
			fb.Append(int64(x))
		case float64:
			fb.Append(int64(x))
		default:
			return fmt.Errorf("value %v (%T) is not an integer", v, v)
		}
	case *array.Float64Builder:
		switch x := v.(type) {
		case float64:
			fb.Append(x)
		case float32:
			fb.Append(float64(x))
		case int64:
			fb.Append(float64(x))
		default:
			return fmt.Errorf("value %v (%T) is not a number", v, v)
		}
	case *array.BooleanBuilder:
		x, ok := v.(bool)
		if !ok {
			return fmt.Errorf("value %v (%T) is not a boolean", v, v)
		}
		fb.Append(x)
	case *array.StringBuilder:
		switch x := v.(type) {
		case string:
			fb.Append(x)
		case *big.Int:
			fb.Append(x.String())
		default:
			fb.Append(fmt.Sprint(v))
		}
	}
	return nil
}
