package enginebridge

import (
	"errors"
	"fmt"
	"math"
	"math/big"
	"strconv"
	"strings"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/decimal128"
)

// appendFunc appends one non-nil value to the column builder it is bound to.
//
// The converter accepts the generic forms database/sql drivers produce:
// bool; Go integers; float32/float64; string and []byte (also as text for
// numbers and decimals); time.Time; *big.Int (an integer, or an unscaled
// decimal at the column's scale); scaledInt; decimal128.Num. Anything else
// must be normalised by TypeMap.Value first.
//
// Errors name the Go type and the target, never the value: values may be
// data that policy would suppress.
type appendFunc func(v any) error

// scaledInt is an unscaled decimal integer with its scale, the generic form
// for driver decimal types (duckdb.Decimal, ...).
type scaledInt struct {
	Unscaled *big.Int
	Scale    int32
}

var errOutOfRange = errors.New("value out of range")

func newAppender(b array.Builder, t arrow.DataType) appendFunc {
	switch b := b.(type) {
	case *array.BooleanBuilder:
		return func(v any) error {
			x, ok := v.(bool)
			if !ok {
				return convErr(v, t)
			}
			b.Append(x)
			return nil
		}
	case *array.Int8Builder:
		return intAppender(t, math.MinInt8, math.MaxInt8, func(x int64) { b.Append(int8(x)) })
	case *array.Int16Builder:
		return intAppender(t, math.MinInt16, math.MaxInt16, func(x int64) { b.Append(int16(x)) })
	case *array.Int32Builder:
		return intAppender(t, math.MinInt32, math.MaxInt32, func(x int64) { b.Append(int32(x)) })
	case *array.Int64Builder:
		return intAppender(t, math.MinInt64, math.MaxInt64, b.Append)
	case *array.Uint8Builder:
		return uintAppender(t, math.MaxUint8, func(x uint64) { b.Append(uint8(x)) })
	case *array.Uint16Builder:
		return uintAppender(t, math.MaxUint16, func(x uint64) { b.Append(uint16(x)) })
	case *array.Uint32Builder:
		return uintAppender(t, math.MaxUint32, func(x uint64) { b.Append(uint32(x)) })
	case *array.Uint64Builder:
		return uintAppender(t, math.MaxUint64, b.Append)
	case *array.Float32Builder:
		return func(v any) error {
			f, err := toFloat64(v, t)
			if err != nil {
				return err
			}
			b.Append(float32(f))
			return nil
		}
	case *array.Float64Builder:
		return func(v any) error {
			f, err := toFloat64(v, t)
			if err != nil {
				return err
			}
			b.Append(f)
			return nil
		}
	case *array.Decimal128Builder:
		dt := t.(*arrow.Decimal128Type)
		return func(v any) error {
			n, err := toDecimal128(v, dt)
			if err != nil {
				return err
			}
			b.Append(n)
			return nil
		}
	case *array.StringBuilder:
		return func(v any) error {
			switch x := v.(type) {
			case string:
				b.Append(x)
			case []byte:
				b.BinaryBuilder.Append(x)
			default:
				return convErr(v, t)
			}
			return nil
		}
	case *array.BinaryBuilder:
		return func(v any) error {
			switch x := v.(type) {
			case []byte:
				b.Append(x)
			case string:
				b.AppendString(x)
			default:
				return convErr(v, t)
			}
			return nil
		}
	case *array.Date32Builder:
		return func(v any) error {
			ts, ok := v.(time.Time)
			if !ok {
				return convErr(v, t)
			}
			// The calendar date as written, whatever the location.
			day := time.Date(ts.Year(), ts.Month(), ts.Day(), 0, 0, 0, 0, time.UTC)
			b.Append(arrow.Date32(day.Unix() / 86400))
			return nil
		}
	case *array.TimestampBuilder:
		tt := t.(*arrow.TimestampType)
		return func(v any) error {
			ts, ok := v.(time.Time)
			if !ok {
				return convErr(v, t)
			}
			if tt.TimeZone == "" {
				// A timestamp without time zone is a wall-clock reading: keep
				// the reading, not the instant of the driver's location.
				ts = time.Date(ts.Year(), ts.Month(), ts.Day(), ts.Hour(), ts.Minute(),
					ts.Second(), ts.Nanosecond(), time.UTC)
			}
			x, err := arrow.TimestampFromTime(ts, tt.Unit)
			if err != nil {
				return fmt.Errorf("convert %T to %s: %w", v, t, errOutOfRange)
			}
			b.Append(x)
			return nil
		}
	default:
		// TypeMap only produces types handled above; reaching here is a bug
		// in a TypeMap, reported per value rather than panicking.
		return func(v any) error {
			return fmt.Errorf("no converter for arrow type %s", t)
		}
	}
}

func convErr(v any, t arrow.DataType) error {
	return fmt.Errorf("cannot convert driver value of type %T to %s", v, t)
}

func intAppender(t arrow.DataType, lo, hi int64, app func(int64)) appendFunc {
	return func(v any) error {
		x, err := toInt64(v, t)
		if err != nil {
			return err
		}
		if x < lo || x > hi {
			return fmt.Errorf("convert %T to %s: %w", v, t, errOutOfRange)
		}
		app(x)
		return nil
	}
}

func uintAppender(t arrow.DataType, hi uint64, app func(uint64)) appendFunc {
	return func(v any) error {
		var x uint64
		switch n := v.(type) {
		case uint8:
			x = uint64(n)
		case uint16:
			x = uint64(n)
		case uint32:
			x = uint64(n)
		case uint64:
			x = n
		case uint:
			x = uint64(n)
		case string, []byte:
			var err error
			if x, err = strconv.ParseUint(asString(n), 10, 64); err != nil {
				return fmt.Errorf("parse text as %s: %w", t, errOutOfRange)
			}
		default:
			i, err := toInt64(v, t)
			if err != nil {
				return err
			}
			if i < 0 {
				return fmt.Errorf("convert %T to %s: %w", v, t, errOutOfRange)
			}
			x = uint64(i)
		}
		if x > hi {
			return fmt.Errorf("convert %T to %s: %w", v, t, errOutOfRange)
		}
		app(x)
		return nil
	}
}

func toInt64(v any, t arrow.DataType) (int64, error) {
	switch n := v.(type) {
	case int8:
		return int64(n), nil
	case int16:
		return int64(n), nil
	case int32:
		return int64(n), nil
	case int64:
		return n, nil
	case int:
		return int64(n), nil
	case uint8:
		return int64(n), nil
	case uint16:
		return int64(n), nil
	case uint32:
		return int64(n), nil
	case uint64:
		if n > math.MaxInt64 {
			return 0, fmt.Errorf("convert %T to %s: %w", v, t, errOutOfRange)
		}
		return int64(n), nil
	case *big.Int:
		if !n.IsInt64() {
			return 0, fmt.Errorf("convert %T to %s: %w", v, t, errOutOfRange)
		}
		return n.Int64(), nil
	case string, []byte:
		x, err := strconv.ParseInt(asString(n), 10, 64)
		if err != nil {
			return 0, fmt.Errorf("parse text as %s: %w", t, errOutOfRange)
		}
		return x, nil
	}
	return 0, convErr(v, t)
}

func toFloat64(v any, t arrow.DataType) (float64, error) {
	switch n := v.(type) {
	case float32:
		return float64(n), nil
	case float64:
		return n, nil
	case string, []byte:
		f, err := strconv.ParseFloat(asString(n), 64)
		if err != nil {
			return 0, fmt.Errorf("parse text as %s: %w", t, errOutOfRange)
		}
		return f, nil
	}
	i, err := toInt64(v, t)
	if err != nil {
		return 0, err
	}
	return float64(i), nil
}

func toDecimal128(v any, t *arrow.Decimal128Type) (decimal128.Num, error) {
	var (
		n   decimal128.Num
		err error
	)
	switch x := v.(type) {
	case decimal128.Num:
		n = x
	case scaledInt:
		if x.Unscaled.BitLen() > 127 {
			return n, fmt.Errorf("convert decimal to %s: %w", t, errOutOfRange)
		}
		n, err = decimal128.FromBigInt(x.Unscaled).Rescale(x.Scale, t.Scale)
	case *big.Int:
		// An integer (HUGEINT, scale 0) or an already unscaled decimal.
		if x.BitLen() > 127 {
			return n, fmt.Errorf("convert %T to %s: %w", v, t, errOutOfRange)
		}
		n = decimal128.FromBigInt(x)
	case string, []byte:
		// Exact when the text is a plain decimal (drivers send DECIMAL
		// and NUMERIC as text); FromString goes through a binary float.
		if si, ok := parseDecimalText(asString(x)); ok && si.Unscaled.BitLen() <= 127 {
			n, err = decimal128.FromBigInt(si.Unscaled).Rescale(si.Scale, t.Scale)
		} else {
			n, err = decimal128.FromString(asString(x), t.Precision, t.Scale)
		}
	default:
		var i int64
		if i, err = toInt64(v, t); err == nil {
			n, err = decimal128.FromI64(i).Rescale(0, t.Scale)
		}
	}
	if err != nil {
		return n, fmt.Errorf("convert %T to %s: %w", v, t, errOutOfRange)
	}
	if !n.FitsInPrecision(t.Precision) {
		return n, fmt.Errorf("convert %T to %s: %w", v, t, errOutOfRange)
	}
	return n, nil
}

func asString(v any) string {
	if b, ok := v.([]byte); ok {
		return string(b)
	}
	return v.(string)
}

// parseDecimalText reads a plain decimal literal ("-12.50", "7", ".5") as
// an unscaled integer and its scale. Exponents, NaN and infinities are not
// plain: ok is false and the caller falls back to a general parser.
func parseDecimalText(s string) (scaledInt, bool) {
	digits := s
	if len(digits) > 0 && (digits[0] == '-' || digits[0] == '+') {
		digits = digits[1:]
	}
	intPart, frac, _ := strings.Cut(digits, ".")
	if intPart == "" && frac == "" {
		return scaledInt{}, false
	}
	for _, part := range []string{intPart, frac} {
		for i := 0; i < len(part); i++ {
			if part[i] < '0' || part[i] > '9' {
				return scaledInt{}, false
			}
		}
	}
	u, ok := new(big.Int).SetString(intPart+frac, 10)
	if !ok {
		return scaledInt{}, false
	}
	if s[0] == '-' {
		u.Neg(u)
	}
	return scaledInt{Unscaled: u, Scale: int32(len(frac))}, true
}
