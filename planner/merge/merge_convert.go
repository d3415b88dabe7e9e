package merge

// Conversions from each Arrow physical type a site may send to the
// representation of its merge-side logical type (see colReader).

import (
	"math"
	"math/big"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
)

func widenInts[T int8 | int16 | int32 | int64 | uint8 | uint16 | uint32](dst []int64, src []T) []int64 {
	if cap(dst) < len(src) {
		dst = make([]int64, len(src))
	}
	dst = dst[:len(src)]
	for i, v := range src {
		dst[i] = int64(v)
	}
	return dst
}

func (r *colReader) setBig(i int, b *big.Int) {
	if r.bigs == nil {
		r.bigs = map[int]*big.Int{}
	}
	r.bigs[i] = b
	r.ints[i] = 0
}

// loadExact reads integers and decimals as unscaled int64 at scale.
func (r *colReader) loadExact(arr arrow.Array, scale int32) bool {
	var src int32 // the column's own scale
	switch a := arr.(type) {
	case *array.Int64:
		if scale == 0 {
			r.ints = a.Int64Values()
			return true
		}
		r.ibuf = widenInts(r.ibuf, a.Int64Values())
		r.ints = r.ibuf
	case *array.Int32:
		r.ibuf = widenInts(r.ibuf, a.Int32Values())
		r.ints = r.ibuf
	case *array.Int16:
		r.ibuf = widenInts(r.ibuf, a.Int16Values())
		r.ints = r.ibuf
	case *array.Int8:
		r.ibuf = widenInts(r.ibuf, a.Int8Values())
		r.ints = r.ibuf
	case *array.Uint32:
		r.ibuf = widenInts(r.ibuf, a.Uint32Values())
		r.ints = r.ibuf
	case *array.Uint16:
		r.ibuf = widenInts(r.ibuf, a.Uint16Values())
		r.ints = r.ibuf
	case *array.Uint8:
		r.ibuf = widenInts(r.ibuf, a.Uint8Values())
		r.ints = r.ibuf
	case *array.Uint64:
		r.ints = r.sized(a.Len())
		for i, v := range a.Uint64Values() {
			if v > math.MaxInt64 {
				r.setBig(i, new(big.Int).SetUint64(v))
				continue
			}
			r.ints[i] = int64(v)
		}
	case *array.Decimal32:
		src = arr.DataType().(arrow.DecimalType).GetScale()
		r.ints = r.sized(a.Len())
		for i, v := range a.Values() {
			r.ints[i] = int64(v)
		}
	case *array.Decimal64:
		src = arr.DataType().(arrow.DecimalType).GetScale()
		r.ints = r.sized(a.Len())
		for i, v := range a.Values() {
			r.ints[i] = int64(v)
		}
	case *array.Decimal128:
		src = arr.DataType().(arrow.DecimalType).GetScale()
		r.ints = r.sized(a.Len())
		for i, v := range a.Values() {
			lo, hi := v.LowBits(), v.HighBits()
			if hi == int64(lo)>>63 {
				r.ints[i] = int64(lo)
				continue
			}
			if !a.IsNull(i) {
				r.setBig(i, v.BigInt())
			}
		}
	case *array.Decimal256:
		src = arr.DataType().(arrow.DecimalType).GetScale()
		r.ints = r.sized(a.Len())
		for i, v := range a.Values() {
			if a.IsNull(i) {
				continue
			}
			if b := v.BigInt(); b.IsInt64() {
				r.ints[i] = b.Int64()
			} else {
				r.setBig(i, b)
			}
		}
	default:
		return false
	}
	if scale < src {
		return false
	}
	if scale > src {
		r.rescale(scale - src)
	}
	return true
}

func (r *colReader) sized(n int) []int64 {
	if cap(r.ibuf) < n {
		r.ibuf = make([]int64, n)
	}
	r.ibuf = r.ibuf[:n]
	clear(r.ibuf)
	return r.ibuf
}

// rescale multiplies every value by 10^d, moving values that overflow to bigs.
func (r *colReader) rescale(d int32) {
	mult := pow10Big(d)
	for _, b := range r.bigs {
		b.Mul(b, mult)
	}
	if d > 18 {
		for i, v := range r.ints {
			if v != 0 {
				r.setBig(i, new(big.Int).Mul(big.NewInt(v), mult))
			}
		}
		return
	}
	m := pow10Int64[d]
	lim := math.MaxInt64 / m
	for i, v := range r.ints {
		if v > lim || v < -lim {
			r.setBig(i, new(big.Int).Mul(big.NewInt(v), mult))
			continue
		}
		r.ints[i] = v * m
	}
}

func (r *colReader) loadFloat(arr arrow.Array) bool {
	if a, ok := arr.(*array.Float64); ok {
		r.floats = a.Float64Values()
		return true
	}
	n := arr.Len()
	if cap(r.fbuf) < n {
		r.fbuf = make([]float64, n)
	}
	r.floats = r.fbuf[:n]
	if a, ok := arr.(*array.Float32); ok {
		for i, v := range a.Float32Values() {
			r.floats[i] = float64(v)
		}
		return true
	}
	if dt, ok := arr.DataType().(arrow.DecimalType); ok {
		for i := range n {
			if !arr.IsNull(i) {
				r.floats[i] = decimalCellFloat(arr, i, dt.GetScale())
			}
		}
		return true
	}
	// Integers: read exactly, then convert.
	floats := r.floats
	if !r.loadExact(arr, 0) {
		return false
	}
	for i, v := range r.ints {
		floats[i] = float64(v)
	}
	for i, b := range r.bigs {
		floats[i], _ = new(big.Float).SetInt(b).Float64()
	}
	r.ints, r.bigs, r.floats = nil, nil, floats
	return true
}

func decimalCellFloat(arr arrow.Array, i int, scale int32) float64 {
	switch a := arr.(type) {
	case *array.Decimal32:
		return a.Value(i).ToFloat64(scale)
	case *array.Decimal64:
		return a.Value(i).ToFloat64(scale)
	case *array.Decimal128:
		return a.Value(i).ToFloat64(scale)
	case *array.Decimal256:
		return a.Value(i).ToFloat64(scale)
	}
	return math.NaN()
}

func (r *colReader) loadString(arr arrow.Array) bool {
	switch a := arr.(type) {
	case *array.String:
		r.str = a.Value
	case *array.LargeString:
		r.str = a.Value
	case *array.StringView:
		r.str = a.Value
	case *array.Dictionary:
		var dict colReader
		if !dict.loadString(a.Dictionary()) {
			return false
		}
		r.str = func(i int) string { return dict.str(a.GetValueIndex(i)) }
	default:
		return false
	}
	return true
}

func (r *colReader) loadTime(arr arrow.Array) bool {
	n := arr.Len()
	if cap(r.tbuf) < n {
		r.tbuf = make([]time.Time, n)
	}
	r.times = r.tbuf[:n]
	switch a := arr.(type) {
	case *array.Date32:
		for i, v := range a.Date32Values() {
			r.times[i] = v.ToTime()
		}
	case *array.Date64:
		for i, v := range a.Date64Values() {
			r.times[i] = v.ToTime()
		}
	case *array.Timestamp:
		unit := a.DataType().(*arrow.TimestampType).Unit
		for i, v := range a.TimestampValues() {
			r.times[i] = v.ToTime(unit)
		}
	default:
		return false
	}
	return true
}

var pow10Int64 = func() [19]int64 {
	var p [19]int64
	p[0] = 1
	for i := 1; i < len(p); i++ {
		p[i] = p[i-1] * 10
	}
	return p
}()

func pow10Big(d int32) *big.Int {
	return new(big.Int).Exp(big.NewInt(10), big.NewInt(int64(d)), nil)
}
