package merge

import (
	"encoding/binary"
	"fmt"
	"math"
	"math/big"
	"slices"
	"strings"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
)

// colReader presents one Arrow column as values of a logical type, whatever
// physical type the site's engine used: exact kinds as int64 unscaled at the
// type's scale (with the rare values that do not fit held in bigs), doubles as
// float64, strings, bools and times. Buffers are reused from batch to batch.
type colReader struct {
	t        ltype
	arr      arrow.Array
	hasNulls bool
	allNull  bool

	ints   []int64
	bigs   map[int]*big.Int // row → exact value outside int64 (ints[row] is 0)
	floats []float64
	bools  *array.Boolean
	str    func(int) string
	times  []time.Time
	bin    func(int) []byte

	ibuf []int64
	fbuf []float64
	tbuf []time.Time
}

// load points r at arr, read as type t.
func (r *colReader) load(arr arrow.Array, t ltype) error {
	r.t, r.arr = t, arr
	r.hasNulls = arr.NullN() > 0
	r.allNull = arr.DataType().ID() == arrow.NULL || t.kind == tNull || arr.NullN() == arr.Len()
	r.ints, r.bigs, r.floats, r.bools, r.str, r.times, r.bin = nil, nil, nil, nil, nil, nil, nil
	if r.allNull {
		return nil
	}
	var ok bool
	switch t.kind {
	case tBool:
		r.bools, ok = arr.(*array.Boolean)
	case tInt, tHuge, tDec:
		ok = r.loadExact(arr, t.exactScale())
	case tFloat:
		ok = r.loadFloat(arr)
	case tStr:
		ok = r.loadString(arr)
	case tDate, tTS:
		ok = r.loadTime(arr)
	case tBin:
		switch a := arr.(type) {
		case *array.Binary:
			r.bin, ok = a.Value, true
		case *array.LargeBinary:
			r.bin, ok = a.Value, true
		}
	}
	if !ok {
		return fmt.Errorf("cannot read %s as %s", arr.DataType(), t)
	}
	return nil
}

func (r *colReader) isNull(i int) bool {
	return r.allNull || (r.hasNulls && r.arr.IsNull(i))
}

// exactAt returns the exact value of row i: either b, or v when b is nil.
func (r *colReader) exactAt(i int) (v int64, b *big.Int) {
	if r.bigs != nil {
		if b := r.bigs[i]; b != nil {
			return 0, b
		}
	}
	return r.ints[i], nil
}

// value returns row i in the Go representation of r's type. The value owns
// its memory: it does not point into the Arrow buffers.
func (r *colReader) value(i int) any {
	if r.isNull(i) {
		return nil
	}
	switch r.t.kind {
	case tBool:
		return r.bools.Value(i)
	case tInt, tHuge, tDec:
		v, b := r.exactAt(i)
		return exactValue(r.t, v, b)
	case tFloat:
		return r.floats[i]
	case tStr:
		return strings.Clone(r.str(i))
	case tDate, tTS:
		return r.times[i]
	case tBin:
		return slices.Clone(r.bin(i))
	}
	return nil
}

// binary returns row i of a BLOB column; the bytes point into the Arrow
// buffer.
func (r *colReader) binary(i int) []byte { return r.bin(i) }

// exactValue boxes an exact value (v, or b when non-nil) as type t wants it.
func exactValue(t ltype, v int64, b *big.Int) any {
	if t.kind == tDec {
		if b == nil {
			b = big.NewInt(v)
		} else {
			b = new(big.Int).Set(b)
		}
		return Decimal{Unscaled: b, Scale: t.scale}
	}
	if b == nil {
		return v
	}
	if b.IsInt64() {
		return b.Int64()
	}
	return new(big.Int).Set(b)
}

// Key encoding tags. Values of one logical type always encode the same way,
// so equal values from different sites land in one group.
const (
	keyNull byte = iota
	keyBool
	keyInt
	keyBig
	keyFloat
	keyStr
	keyTime
)

// appendKey appends the group-key encoding of row i to dst.
func (r *colReader) appendKey(dst []byte, i int) []byte {
	if r.isNull(i) {
		return append(dst, keyNull)
	}
	switch r.t.kind {
	case tBool:
		if r.bools.Value(i) {
			return append(dst, keyBool, 1)
		}
		return append(dst, keyBool, 0)
	case tInt, tHuge, tDec:
		v, b := r.exactAt(i)
		if b == nil {
			return binary.LittleEndian.AppendUint64(append(dst, keyInt), uint64(v))
		}
		// Never collides with keyInt: values held as big never fit int64.
		mag := b.Bytes()
		dst = binary.AppendUvarint(append(dst, keyBig, byte(b.Sign()+1)), uint64(len(mag)))
		return append(dst, mag...)
	case tFloat:
		return binary.LittleEndian.AppendUint64(append(dst, keyFloat), canonicalFloatBits(r.floats[i]))
	case tStr:
		s := r.str(i)
		dst = binary.AppendUvarint(append(dst, keyStr), uint64(len(s)))
		return append(dst, s...)
	case tDate, tTS:
		tm := r.times[i]
		dst = binary.LittleEndian.AppendUint64(append(dst, keyTime), uint64(tm.Unix()))
		return binary.LittleEndian.AppendUint32(dst, uint32(tm.Nanosecond()))
	}
	return append(dst, keyNull)
}

// canonicalFloatBits makes -0 equal 0 and every NaN equal every other NaN,
// as GROUP BY does.
func canonicalFloatBits(f float64) uint64 {
	switch {
	case f == 0:
		return 0
	case math.IsNaN(f):
		return math.Float64bits(math.NaN())
	}
	return math.Float64bits(f)
}
