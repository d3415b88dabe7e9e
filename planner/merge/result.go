package merge

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"math/big"
	"strconv"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
)

// Partial is one site's permitted partial result: batches whose columns are
// the SubPlan outputs by name (group keys g*, partial aggregates a*, or
// projections for KindRows). Column types are whatever the site's engine
// produced; Merge normalises them. A site that found no rows should still
// send one empty batch so that its schema is known and checked.
type Partial struct {
	Site    string
	Batches []arrow.RecordBatch
}

// Column is one column of a merged answer. Type is a SQL type name:
// "BOOLEAN", "BIGINT", "HUGEINT", "DOUBLE", "DECIMAL(p,s)", "VARCHAR",
// "DATE", "TIMESTAMP", or "NULL" when no site told the type.
type Column struct {
	Name string `json:"name"`
	Type string `json:"type"`
}

// Result is a merged answer. Each row value is one of: nil, bool, int64,
// *big.Int (HUGEINT values outside int64), float64, Decimal, string, or
// time.Time in UTC (DATE and TIMESTAMP).
type Result struct {
	Columns []Column `json:"columns"`
	Rows    [][]any  `json:"rows"`
	// Approximate lists the columns whose values are sketch estimates,
	// with their error bounds; empty when the answer is exact.
	Approximate []Approximation `json:"approximate,omitempty"`
}

// Decimal is an exact decimal number: Unscaled × 10^-Scale.
type Decimal struct {
	Unscaled *big.Int
	Scale    int32
}

// String formats d in plain decimal notation with exactly Scale fraction
// digits, e.g. "-12.50".
func (d Decimal) String() string {
	return string(d.appendText(nil))
}

func (d Decimal) appendText(dst []byte) []byte {
	u := d.Unscaled
	if u == nil {
		u = new(big.Int)
	}
	if d.Scale <= 0 {
		dst = u.Append(dst, 10)
		if u.Sign() != 0 {
			for i := d.Scale; i < 0; i++ {
				dst = append(dst, '0')
			}
		}
		return dst
	}
	if u.Sign() < 0 {
		dst = append(dst, '-')
	}
	digits := new(big.Int).Abs(u).Append(nil, 10)
	scale := int(d.Scale)
	if len(digits) <= scale {
		dst = append(dst, '0')
		dst = append(dst, '.')
		for i := len(digits); i < scale; i++ {
			dst = append(dst, '0')
		}
		return append(dst, digits...)
	}
	dst = append(dst, digits[:len(digits)-scale]...)
	dst = append(dst, '.')
	return append(dst, digits[len(digits)-scale:]...)
}

// MarshalJSON encodes d as a JSON number with every digit kept.
func (d Decimal) MarshalJSON() ([]byte, error) {
	return d.appendText(nil), nil
}

// Float64 returns the nearest float64 to d.
func (d Decimal) Float64() float64 {
	return ratFloat(decimalRat(d))
}

// MarshalJSON encodes the result as {"columns": [...], "rows": [[...], ...]}.
// DATE values are written as "2006-01-02", TIMESTAMP values in RFC 3339 with
// nanoseconds, and non-finite doubles as the strings "NaN", "Infinity" and
// "-Infinity" (JSON has no numbers for them).
func (r Result) MarshalJSON() ([]byte, error) {
	var buf bytes.Buffer
	cols, err := json.Marshal(r.Columns)
	if err != nil {
		return nil, fmt.Errorf("encode result columns: %w", err)
	}
	if r.Columns == nil {
		cols = []byte("[]")
	}
	buf.WriteString(`{"columns":`)
	buf.Write(cols)
	buf.WriteString(`,"rows":[`)
	var scratch []byte
	for i, row := range r.Rows {
		if i > 0 {
			buf.WriteByte(',')
		}
		buf.WriteByte('[')
		for j, v := range row {
			if j > 0 {
				buf.WriteByte(',')
			}
			date := j < len(r.Columns) && r.Columns[j].Type == "DATE"
			scratch, err = appendJSONValue(scratch[:0], v, date)
			if err != nil {
				name := ""
				if j < len(r.Columns) {
					name = r.Columns[j].Name
				}
				return nil, fmt.Errorf("encode row %d column %q: %w", i, name, err)
			}
			buf.Write(scratch)
		}
		buf.WriteByte(']')
	}
	buf.WriteByte(']')
	if len(r.Approximate) > 0 {
		ap, err := json.Marshal(r.Approximate)
		if err != nil {
			return nil, fmt.Errorf("encode result approximations: %w", err)
		}
		buf.WriteString(`,"approximate":`)
		buf.Write(ap)
	}
	buf.WriteByte('}')
	return buf.Bytes(), nil
}

func appendJSONValue(dst []byte, v any, date bool) ([]byte, error) {
	switch x := v.(type) {
	case nil:
		return append(dst, "null"...), nil
	case bool:
		return strconv.AppendBool(dst, x), nil
	case int64:
		return strconv.AppendInt(dst, x, 10), nil
	case *big.Int:
		return x.Append(dst, 10), nil
	case float64:
		switch {
		case math.IsNaN(x):
			return append(dst, `"NaN"`...), nil
		case math.IsInf(x, 1):
			return append(dst, `"Infinity"`...), nil
		case math.IsInf(x, -1):
			return append(dst, `"-Infinity"`...), nil
		}
		// As encoding/json writes floats, without its allocation per value.
		format := byte('f')
		if abs := math.Abs(x); abs != 0 && (abs < 1e-6 || abs >= 1e21) {
			format = 'e'
		}
		dst = strconv.AppendFloat(dst, x, format, -1, 64)
		if n := len(dst); format == 'e' && n >= 4 && dst[n-4] == 'e' && dst[n-3] == '-' && dst[n-2] == '0' {
			dst[n-2] = dst[n-1] // e-07 → e-7
			dst = dst[:n-1]
		}
		return dst, nil
	case Decimal:
		return x.appendText(dst), nil
	case time.Time:
		layout := time.RFC3339Nano
		if date {
			layout = time.DateOnly
		}
		dst = append(dst, '"')
		dst = x.UTC().AppendFormat(dst, layout)
		return append(dst, '"'), nil
	default:
		b, err := json.Marshal(x)
		return append(dst, b...), err
	}
}
