package merge

import (
	"fmt"

	"github.com/apache/arrow-go/v18/arrow"
)

// typeKind is a merge-side logical type. Every Arrow type a site may send
// maps to one of these; values of a kind have exactly one Go representation
// (see Result), so keys from different sites compare by value.
type lkind uint8

const (
	tNull  lkind = iota // no value is known; every value is nil
	tBool               // bool
	tInt                // BIGINT: int64
	tHuge               // HUGEINT: int64, or *big.Int outside int64
	tFloat              // DOUBLE: float64
	tDec                // DECIMAL(p,s): Decimal with Scale s
	tStr                // VARCHAR: string
	tDate               // DATE: time.Time at UTC midnight
	tTS                 // TIMESTAMP: time.Time in UTC
	tBin                // BLOB: []byte; only serialized sketches, never keys or answer columns
)

// ltype is a logical type; prec and scale are meaningful for tDec only.
type ltype struct {
	kind  lkind
	prec  int32
	scale int32
}

var (
	typeNull  = ltype{kind: tNull}
	typeBool  = ltype{kind: tBool}
	typeInt   = ltype{kind: tInt}
	typeHuge  = ltype{kind: tHuge}
	typeFloat = ltype{kind: tFloat}
	typeStr   = ltype{kind: tStr}
	typeBin   = ltype{kind: tBin}
)

func decType(prec, scale int32) ltype { return ltype{kind: tDec, prec: prec, scale: scale} }

func (t ltype) String() string {
	switch t.kind {
	case tBool:
		return "BOOLEAN"
	case tInt:
		return "BIGINT"
	case tHuge:
		return "HUGEINT"
	case tFloat:
		return "DOUBLE"
	case tDec:
		return fmt.Sprintf("DECIMAL(%d,%d)", t.prec, t.scale)
	case tStr:
		return "VARCHAR"
	case tDate:
		return "DATE"
	case tTS:
		return "TIMESTAMP"
	case tBin:
		return "BLOB"
	default:
		return "NULL"
	}
}

// exact reports whether values of t are integers or decimals held exactly.
func (t ltype) exact() bool { return t.kind == tInt || t.kind == tHuge || t.kind == tDec }

func (t ltype) numeric() bool { return t.exact() || t.kind == tFloat }

func (t ltype) temporal() bool { return t.kind == tDate || t.kind == tTS }

// exactScale is the scale at which exact values of t are held (0 for ints).
func (t ltype) exactScale() int32 {
	if t.kind == tDec {
		return t.scale
	}
	return 0
}

// logicalOf maps an Arrow type to its logical type, or reports that the
// merge does not handle it.
func logicalOf(dt arrow.DataType) (ltype, bool) {
	switch dt.ID() {
	case arrow.NULL:
		return typeNull, true
	case arrow.BOOL:
		return typeBool, true
	case arrow.INT8, arrow.INT16, arrow.INT32, arrow.INT64, arrow.UINT8, arrow.UINT16, arrow.UINT32:
		return typeInt, true
	case arrow.UINT64:
		return typeHuge, true
	case arrow.FLOAT32, arrow.FLOAT64:
		return typeFloat, true
	case arrow.DECIMAL32, arrow.DECIMAL64, arrow.DECIMAL128, arrow.DECIMAL256:
		d := dt.(arrow.DecimalType)
		return decType(d.GetPrecision(), d.GetScale()), true
	case arrow.STRING, arrow.LARGE_STRING, arrow.STRING_VIEW:
		return typeStr, true
	case arrow.DICTIONARY:
		d := dt.(*arrow.DictionaryType)
		if t, ok := logicalOf(d.ValueType); ok && t.kind == tStr {
			return t, true
		}
		return ltype{}, false
	case arrow.DATE32, arrow.DATE64:
		return ltype{kind: tDate}, true
	case arrow.TIMESTAMP:
		return ltype{kind: tTS}, true
	case arrow.BINARY, arrow.LARGE_BINARY:
		return typeBin, true
	default:
		return ltype{}, false
	}
}

// unifyTypes returns the type that holds values of both a and b exactly (or,
// once a double is involved, as doubles), as when one site's engine sends
// INTEGER and another's BIGINT for the same column.
func unifyTypes(a, b ltype) (ltype, bool) {
	switch {
	case a == b:
		return a, true
	case a.kind == tNull:
		return b, true
	case b.kind == tNull:
		return a, true
	case a.numeric() && b.numeric():
		return promoteNumeric(a, b), true
	case a.temporal() && b.temporal():
		return ltype{kind: tTS}, true
	}
	return ltype{}, false
}

// promoteNumeric is the common type of two numeric types: DOUBLE absorbs
// everything, decimals absorb integers at the larger scale, HUGEINT absorbs
// BIGINT.
func promoteNumeric(a, b ltype) ltype {
	switch {
	case a.kind == tFloat || b.kind == tFloat:
		return typeFloat
	case a.kind == tDec || b.kind == tDec:
		s := max(a.exactScale(), b.exactScale())
		if a.kind == tDec && b.kind == tDec && a.prec == b.prec && a.scale == b.scale {
			return a
		}
		return decType(38, s)
	case a.kind == tHuge || b.kind == tHuge:
		return typeHuge
	default:
		return typeInt
	}
}
