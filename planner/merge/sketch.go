package merge

import (
	"encoding/binary"
	"fmt"
	"math"
	"math/big"
	"strconv"

	"github.com/DataDog/sketches-go/ddsketch"
	"github.com/DataDog/sketches-go/ddsketch/mapping"
	"github.com/DataDog/sketches-go/ddsketch/store"
	"github.com/axiomhq/hyperloglog"

	"github.com/fedmesh/fedmesh/planner"
)

// Sketch parameters. Every site and the coordinator use the same ones: a
// sketch with other parameters is refused at the merge, so the error bound
// reported with an answer is the one that holds.
const (
	// HLLPrecision is the HyperLogLog precision p: 2^p registers.
	HLLPrecision = 14
	// QuantileAccuracy is the DDSketch relative accuracy α: a quantile
	// estimate is within α × |x| of a value x at the requested rank.
	QuantileAccuracy = 0.01
)

// HLLStandardError is HyperLogLog's relative standard error, 1.04/√(2^p).
var HLLStandardError = 1.04 / math.Sqrt(float64(uint64(1)<<HLLPrecision))

// quantileMapping is the DDSketch index mapping for QuantileAccuracy.
var quantileMapping = func() mapping.IndexMapping {
	m, err := mapping.NewDefaultMapping(QuantileAccuracy)
	if err != nil {
		panic(fmt.Sprintf("ddsketch mapping for accuracy %v: %v", QuantileAccuracy, err))
	}
	return m
}()

func newHLL() *hyperloglog.Sketch {
	sk, err := hyperloglog.NewSketch(HLLPrecision, true)
	if err != nil {
		panic(fmt.Sprintf("hyperloglog precision %d: %v", HLLPrecision, err))
	}
	return sk
}

func newQuantileSketch() *ddsketch.DDSketch {
	return ddsketch.NewDDSketchFromStoreProvider(quantileMapping, store.DefaultProvider)
}

// decodeHLL reads a serialized HyperLogLog sketch and checks its precision.
func decodeHLL(b []byte) (*hyperloglog.Sketch, error) {
	sk := newHLL()
	if err := sk.UnmarshalBinary(b); err != nil {
		return nil, fmt.Errorf("decode HyperLogLog sketch: %w", err)
	}
	// Merging into a fresh sketch of our precision fails for any other.
	out := newHLL()
	if err := out.Merge(sk); err != nil {
		return nil, fmt.Errorf("HyperLogLog sketch does not merge with precision %d: %w", HLLPrecision, err)
	}
	return out, nil
}

// decodeQuantileSketch reads a serialized DDSketch; one encoded with another
// index mapping (another accuracy) is refused.
func decodeQuantileSketch(b []byte) (*ddsketch.DDSketch, error) {
	sk, err := ddsketch.DecodeDDSketch(b, store.DefaultProvider, quantileMapping)
	if err != nil {
		return nil, fmt.Errorf("decode quantile sketch (DDSketch, α=%v): %w", QuantileAccuracy, err)
	}
	return sk, nil
}

func encodeQuantileSketch(sk *ddsketch.DDSketch) []byte {
	var b []byte
	sk.Encode(&b, false) // with the mapping, so a mismatch is detected
	return b
}

// appendDistinctKey appends the encoding of row i that a HyperLogLog sketch
// hashes. Equal SQL values encode alike whatever type each site's engine
// used: integers, decimals (at any scale) and integral doubles as one
// normalised number, so sketches from different sites count one value once.
func (r *colReader) appendDistinctKey(dst []byte, i int) []byte {
	switch r.t.kind {
	case tInt, tHuge, tDec:
		v, b := r.exactAt(i)
		return appendNumberKey(dst, v, b, r.t.exactScale())
	case tFloat:
		f := r.floats[i]
		if f == math.Trunc(f) && math.Abs(f) < 1<<62 {
			return appendNumberKey(dst, int64(f), nil, 0)
		}
		return binary.LittleEndian.AppendUint64(append(dst, 'f'), canonicalFloatBits(f))
	}
	return r.appendKey(dst, i)
}

// appendNumberKey writes v (or b) × 10^-scale with trailing zero digits
// removed, so 1.50 at scale 2 and 1.5 at scale 1 encode alike.
func appendNumberKey(dst []byte, v int64, b *big.Int, scale int32) []byte {
	if b != nil && b.IsInt64() {
		v, b = b.Int64(), nil
	}
	if b == nil {
		for scale > 0 && v%10 == 0 {
			v /= 10
			scale--
		}
		dst = binary.AppendVarint(append(dst, 'n'), int64(scale))
		return binary.AppendVarint(dst, v)
	}
	b = new(big.Int).Set(b)
	ten, m := big.NewInt(10), new(big.Int)
	for scale > 0 {
		q, rem := new(big.Int).QuoRem(b, ten, m)
		if rem.Sign() != 0 {
			break
		}
		b = q
		scale--
	}
	dst = binary.AppendVarint(append(dst, 'N'), int64(scale))
	return append(dst, b.String()...)
}

// sketchErr is implemented by accumulators whose update can fail (a sketch
// that does not decode); the merge checks it after each batch.
type sketchErr interface{ err() error }

// hllBuild folds values into one HyperLogLog sketch per group (site side).
type hllBuild struct {
	sk    []*hyperloglog.Sketch
	buf   []byte
	first error
}

func (a *hllBuild) grow(n int) { a.sk = growSlice(a.sk, n) }

func (a *hllBuild) err() error { return a.first }

func (a *hllBuild) update(gids []int32, in []*colReader) {
	r := in[0]
	if r.allNull {
		return
	}
	for i, g := range gids {
		if r.isNull(i) {
			continue
		}
		if a.sk[g] == nil {
			a.sk[g] = newHLL()
		}
		a.buf = r.appendDistinctKey(a.buf[:0], i)
		a.sk[g].Insert(a.buf)
	}
}

func (a *hllBuild) finish(n int) []any {
	a.grow(n)
	out := make([]any, n)
	for g := range out {
		sk := a.sk[g]
		if sk == nil {
			sk = newHLL()
		}
		b, err := sk.MarshalBinary()
		if err != nil && a.first == nil {
			a.first = fmt.Errorf("serialize HyperLogLog sketch: %w", err)
		}
		out[g] = b
	}
	return out
}

// quantileBuild folds (value, count) rows into one DDSketch per group (site
// side): each distinct value of a subgroup is added with the subgroup's
// row count as its weight.
type quantileBuild struct {
	sk    []*ddsketch.DDSketch
	first error
}

func (a *quantileBuild) grow(n int) { a.sk = growSlice(a.sk, n) }

func (a *quantileBuild) err() error { return a.first }

func (a *quantileBuild) update(gids []int32, in []*colReader) {
	vals, counts := in[0], in[1]
	if vals.allNull {
		return
	}
	for i, g := range gids {
		if vals.isNull(i) || counts.isNull(i) {
			continue
		}
		c, cb := counts.exactAt(i)
		w := float64(c)
		if cb != nil {
			w, _ = new(big.Float).SetInt(cb).Float64()
		}
		if a.sk[g] == nil {
			a.sk[g] = newQuantileSketch()
		}
		if err := a.sk[g].AddWithCount(vals.floats[i], w); err != nil && a.first == nil {
			a.first = fmt.Errorf("value %v cannot enter a quantile sketch: %w", vals.floats[i], err)
		}
	}
}

func (a *quantileBuild) finish(n int) []any {
	a.grow(n)
	out := make([]any, n)
	for g := range out {
		sk := a.sk[g]
		if sk == nil {
			sk = newQuantileSketch()
		}
		out[g] = encodeQuantileSketch(sk)
	}
	return out
}

// sketchMerge merges the sites' serialized sketches per group
// (coordinator side): decode reads one site's sketch, merge folds it into
// the group's. The first failure is kept and fails the merge.
type sketchMerge[S any] struct {
	sk     []*S
	decode func([]byte) (*S, error)
	merge  func(dst, src *S) error
	first  error
}

func (a *sketchMerge[S]) grow(n int) { a.sk = growSlice(a.sk, n) }

func (a *sketchMerge[S]) err() error { return a.first }

func (a *sketchMerge[S]) update(gids []int32, in []*colReader) {
	r := in[0]
	if r.allNull {
		return
	}
	for i, g := range gids {
		if r.isNull(i) {
			continue
		}
		sk, err := a.decode(r.binary(i))
		if err == nil && a.sk[g] != nil {
			err = a.merge(a.sk[g], sk)
		} else if err == nil {
			a.sk[g] = sk
		}
		if err != nil && a.first == nil {
			a.first = err
		}
	}
}

// hllMerge merges HyperLogLog sketches and estimates the number of
// distinct values.
type hllMerge struct {
	sketchMerge[hyperloglog.Sketch]
}

func newHLLMerge() *hllMerge {
	return &hllMerge{sketchMerge[hyperloglog.Sketch]{
		decode: decodeHLL,
		merge:  func(dst, src *hyperloglog.Sketch) error { return dst.Merge(src) },
	}}
}

func (a *hllMerge) finish(n int) []any {
	a.grow(n)
	out := make([]any, n)
	for g := range out {
		var est uint64
		if a.sk[g] != nil {
			est = a.sk[g].Estimate()
		}
		out[g] = int64(min(est, math.MaxInt64))
	}
	return out
}

// quantileMerge merges DDSketches and reads the value at quantile q; NULL
// when the group has no values.
type quantileMerge struct {
	sketchMerge[ddsketch.DDSketch]
	q float64
}

func newQuantileMerge(q float64) *quantileMerge {
	return &quantileMerge{sketchMerge: sketchMerge[ddsketch.DDSketch]{
		decode: decodeQuantileSketch,
		merge:  func(dst, src *ddsketch.DDSketch) error { return dst.MergeWith(src) },
	}, q: q}
}

func (a *quantileMerge) finish(n int) []any {
	a.grow(n)
	out := make([]any, n)
	for g := range out {
		if a.sk[g] == nil || a.sk[g].IsEmpty() {
			continue
		}
		if v, err := interpolatedQuantile(a.sk[g], a.q); err == nil {
			out[g] = v
		}
	}
	return out
}

// interpolatedQuantile reads q as percentile_cont does: the rank
// r = q·(n−1) falls between the order statistics x⌊r⌋ and x⌈r⌉, and the
// answer interpolates linearly between the sketch's estimates of the two.
// Each estimate is within α of its order statistic, so (for values of one
// sign) the answer is within α of the exact percentile_cont.
func interpolatedQuantile(sk *ddsketch.DDSketch, q float64) (float64, error) {
	n := sk.GetCount()
	if n <= 1 {
		return sk.GetValueAtQuantile(0)
	}
	r := q * (n - 1)
	lo := math.Floor(r)
	at := func(i float64) (float64, error) {
		// The sketch reads index ⌊q'·(n−1)⌋: aim at the middle of index i,
		// so that rounding in q'·(n−1) cannot land on i−1.
		return sk.GetValueAtQuantile(min(1, (i+0.5)/(n-1)))
	}
	x, err := at(lo)
	if err != nil || r == lo {
		return x, err
	}
	y, err := at(lo + 1)
	if err != nil {
		return 0, err
	}
	return x + (r-lo)*(y-x), nil
}

// Approximation says that an answer column is an estimate and how close it
// is, so an analyst never mistakes a sketch's answer for an exact one.
type Approximation struct {
	Column string `json:"column"` // the answer column
	Method string `json:"method"` // "hyperloglog" or "ddsketch"
	// RelativeError is the bound as a fraction: for HyperLogLog two
	// standard errors of the count; for DDSketch the relative accuracy α on
	// the value.
	RelativeError float64 `json:"relative_error"`
	Bound         string  `json:"bound"` // the bound in words
}

// approximations lists the answer columns of q that depend on a sketch,
// in output order.
func approximations(q *planner.Query) []Approximation {
	sketchAggs := map[string]planner.MergeAgg{}
	for _, a := range q.Merge.Aggs {
		if a.Func == planner.MergeApproxDistinct || a.Func == planner.MergeApproxQuantile {
			sketchAggs[a.Name] = a
		}
	}
	if len(sketchAggs) == 0 {
		return nil
	}
	var out []Approximation
	for _, o := range q.Merge.Outputs {
		for _, c := range o.Expr.Columns(nil) {
			a, ok := sketchAggs[c]
			if !ok {
				continue
			}
			ap := approximationOf(a)
			ap.Column = o.Name
			if o.Expr.Op != planner.OpColumn {
				ap.Bound = "computed from an estimate: " + ap.Bound
			}
			out = append(out, ap)
			break
		}
	}
	return out
}

func approximationOf(a planner.MergeAgg) Approximation {
	if a.Func == planner.MergeApproxDistinct {
		return Approximation{Method: "hyperloglog", RelativeError: 2 * HLLStandardError,
			Bound: fmt.Sprintf("distinct count estimated by HyperLogLog (p=%d): within ±%.2f%% of the exact count 95%% of the time (standard error %.2f%%)",
				HLLPrecision, 200*HLLStandardError, 100*HLLStandardError)}
	}
	return Approximation{Method: "ddsketch", RelativeError: QuantileAccuracy,
		Bound: fmt.Sprintf("quantile %g interpolated from a DDSketch (α=%g) as percentile_cont interpolates: within ±%g%% of the exact value when the values around it have one sign",
			a.Quantile, QuantileAccuracy, 100*QuantileAccuracy)}
}

// SyntheticHLL returns a serialized HyperLogLog sketch of n distinct
// synthetic items named from salt: a sketch whose estimate is n (within the
// sketch's error) and whose items no other salt shares. A site that
// releases a distinct count only as a number (a differentially private
// count of units) sends it this way, so the coordinator merges it with the
// other sites' sketches unchanged; sketches from different salts add up.
func SyntheticHLL(n int64, salt string) ([]byte, error) {
	sk := newHLL()
	buf := make([]byte, 0, len(salt)+24)
	for i := int64(0); i < n; i++ {
		buf = append(buf[:0], salt...)
		buf = append(buf, 0)
		buf = strconv.AppendInt(buf, i, 10)
		sk.Insert(buf)
	}
	b, err := sk.MarshalBinary()
	if err != nil {
		return nil, fmt.Errorf("encode HyperLogLog sketch: %w", err)
	}
	return b, nil
}

// HistogramSketch returns a serialized DDSketch of a histogram: each value
// in values added with the matching weight (weights <= 0 are skipped). A
// site that releases a percentile only as a noisy histogram (differential
// privacy) sends it this way, so the coordinator merges it with the other
// sites' quantile sketches unchanged.
func HistogramSketch(values, weights []float64) ([]byte, error) {
	if len(values) != len(weights) {
		return nil, fmt.Errorf("histogram sketch: %d values but %d weights", len(values), len(weights))
	}
	sk := newQuantileSketch()
	for i, v := range values {
		if weights[i] <= 0 {
			continue
		}
		if err := sk.AddWithCount(v, weights[i]); err != nil {
			return nil, fmt.Errorf("histogram sketch: value %v: %w", v, err)
		}
	}
	return encodeQuantileSketch(sk), nil
}
