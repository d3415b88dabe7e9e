package merge

import (
	"fmt"
	"math/big"

	"github.com/fedmesh/fedmesh/planner"
)

// aggSpec is how one MergeAgg reads its inputs and what it yields.
type aggSpec struct {
	agg    planner.MergeAgg
	read   []ltype // type each input column is read as
	result ltype
}

// planAgg checks a MergeAgg against the unified types of its input columns
// and derives its result type, following DuckDB: COUNT is BIGINT, SUM of
// integers HUGEINT, SUM of DECIMAL(p,s) DECIMAL(38,s), AVG DOUBLE, MIN/MAX
// keep the input type.
func planAgg(a planner.MergeAgg, in []ltype) (aggSpec, error) {
	want := 1
	switch a.Func {
	case planner.MergeAvg:
		want = 2
	case planner.MergeVarPop, planner.MergeVarSamp, planner.MergeStddevPop, planner.MergeStddevSamp:
		want = 3
	case mergeQuantileBuild:
		want = 2
	}
	if len(a.Inputs) != want || len(in) != want {
		return aggSpec{}, fmt.Errorf("merge aggregate %q (%s) needs %d input column(s), has %d", a.Name, a.Func, want, len(a.Inputs))
	}
	integer := func(t ltype) bool { return t.kind == tNull || (t.exact() && t.exactScale() == 0) }
	numeric := func(t ltype) bool { return t.kind == tNull || t.numeric() }
	bad := func(i int, what string) error {
		return fmt.Errorf("merge aggregate %q (%s): input column %q is %s, not %s", a.Name, a.Func, a.Inputs[i], in[i], what)
	}
	s := aggSpec{agg: a, read: in}
	switch a.Func {
	case planner.MergeCount:
		if !integer(in[0]) {
			return aggSpec{}, bad(0, "an integer count")
		}
		s.read = []ltype{typeHuge}
		s.result = typeInt
	case planner.MergeSum:
		if !numeric(in[0]) {
			return aggSpec{}, bad(0, "a number")
		}
		switch t := in[0]; {
		case t.kind == tNull || t.kind == tFloat:
			s.result = t
		case t.exactScale() == 0:
			s.result = typeHuge
		default:
			s.result = decType(38, t.scale)
		}
	case planner.MergeMin, planner.MergeMax:
		s.result = in[0]
	case planner.MergeAvg:
		if !numeric(in[0]) {
			return aggSpec{}, bad(0, "a number")
		}
		if !integer(in[1]) {
			return aggSpec{}, bad(1, "an integer count")
		}
		s.read = []ltype{in[0], typeHuge}
		s.result = typeFloat
	case planner.MergeVarPop, planner.MergeVarSamp, planner.MergeStddevPop, planner.MergeStddevSamp:
		if !integer(in[0]) {
			return aggSpec{}, bad(0, "an integer count")
		}
		for i := 1; i < 3; i++ {
			if !numeric(in[i]) {
				return aggSpec{}, bad(i, "a number")
			}
		}
		s.read = []ltype{typeHuge, typeFloat, typeFloat}
		s.result = typeFloat
	case planner.MergeApproxDistinct, planner.MergeApproxQuantile:
		if in[0].kind != tBin && in[0].kind != tNull {
			return aggSpec{}, bad(0, "a serialized sketch (BLOB)")
		}
		if a.Func == planner.MergeApproxQuantile && !(a.Quantile >= 0 && a.Quantile <= 1) {
			return aggSpec{}, fmt.Errorf("merge aggregate %q: quantile %v is not between 0 and 1", a.Name, a.Quantile)
		}
		s.result = typeInt
		if a.Func == planner.MergeApproxQuantile {
			s.result = typeFloat
		}
	case mergeHLLBuild:
		if in[0].kind == tBin {
			return aggSpec{}, bad(0, "a value that can be counted")
		}
		s.result = typeBin
	case mergeUnitSetBuild:
		if in[0].kind != tInt && in[0].kind != tStr && in[0].kind != tBin && in[0].kind != tNull {
			return aggSpec{}, bad(0, "an integer, text or binary unit id")
		}
		s.result = typeBin
	case mergeQuantileBuild:
		if !numeric(in[0]) {
			return aggSpec{}, bad(0, "a number")
		}
		if !integer(in[1]) {
			return aggSpec{}, bad(1, "an integer count")
		}
		s.read = []ltype{typeFloat, typeHuge}
		s.result = typeBin
	default:
		return aggSpec{}, fmt.Errorf("merge aggregate %q: unknown merge function %q", a.Name, a.Func)
	}
	if a.Func != mergeHLLBuild && a.Func != mergeUnitSetBuild {
		for i, t := range s.read {
			if t.kind == tBin && a.Func != planner.MergeApproxDistinct && a.Func != planner.MergeApproxQuantile {
				return aggSpec{}, bad(i, "a value (sketches merge only into their own aggregate)")
			}
		}
	}
	return s, nil
}

// newAccumulator builds the accumulator for a planned aggregate.
func newAccumulator(s aggSpec) accumulator {
	in := s.read[0]
	isMax := s.agg.Func == planner.MergeMax
	switch s.agg.Func {
	case planner.MergeCount:
		return &exactSum{t: typeInt, count: true}
	case planner.MergeSum:
		switch {
		case in.kind == tFloat:
			return &floatAcc{fn: planner.MergeSum}
		case in.exact():
			return &exactSum{t: s.result}
		}
	case planner.MergeMin, planner.MergeMax:
		switch {
		case in.kind == tFloat:
			return &floatAcc{fn: s.agg.Func}
		case in.exact():
			return &exactMinMax{t: in, max: isMax}
		case in.kind == tStr:
			return newStringMinMax(isMax)
		case in.kind == tBool:
			return newBoolMinMax(isMax)
		case in.temporal():
			return newTimeMinMax(isMax)
		}
	case planner.MergeVarPop, planner.MergeVarSamp, planner.MergeStddevPop, planner.MergeStddevSamp:
		return &varAcc{fn: s.agg.Func}
	case planner.MergeApproxDistinct:
		return newHLLMerge()
	case planner.MergeApproxQuantile:
		return newQuantileMerge(s.agg.Quantile)
	case mergeHLLBuild:
		return &hllBuild{}
	case mergeQuantileBuild:
		return &quantileBuild{}
	case planner.MergeAvg:
		a := &avgAcc{count: exactSum{t: typeHuge, count: true}, scale: in.exactScale()}
		switch {
		case in.kind == tFloat:
			a.fsum = &floatAcc{fn: planner.MergeSum}
		case in.exact():
			a.esum = &exactSum{t: typeHuge}
		}
		return a
	}
	return nullAcc{}
}

// avgAcc is ΣSUM / ΣCOUNT, computed from the exact sums so that the only
// rounding is the final division.
type avgAcc struct {
	esum  *exactSum
	fsum  *floatAcc
	scale int32
	count exactSum
}

func (a *avgAcc) grow(n int) {
	a.count.grow(n)
	if a.esum != nil {
		a.esum.grow(n)
	}
	if a.fsum != nil {
		a.fsum.grow(n)
	}
}

func (a *avgAcc) update(gids []int32, in []*colReader) {
	a.count.update(gids, in[1:])
	if a.esum != nil {
		a.esum.update(gids, in[:1])
	}
	if a.fsum != nil {
		a.fsum.update(gids, in[:1])
	}
}

func (a *avgAcc) finish(n int) []any {
	a.grow(n)
	out := make([]any, n)
	for g := range out {
		cv, cb := a.count.at(g)
		if cb == nil && cv == 0 {
			continue
		}
		switch {
		case a.esum != nil && a.esum.seen[g]:
			sv, sb := a.esum.at(g)
			out[g] = exactRatio(sv, sb, a.scale, cv, cb)
		case a.fsum != nil && a.fsum.seen[g]:
			c := float64(cv)
			if cb != nil {
				c, _ = new(big.Float).SetInt(cb).Float64()
			}
			out[g] = a.fsum.v[g] / c
		}
	}
	return out
}

// exactRatio is (sum × 10^-scale) / count rounded once to a float64.
func exactRatio(sv int64, sb *big.Int, scale int32, cv int64, cb *big.Int) float64 {
	const exactFloat = 1 << 53 // integers below this convert to float64 exactly
	if sb == nil && cb == nil && scale < int32(len(pow10Int64)) {
		if m := pow10Int64[scale]; cv > 0 && cv < exactFloat/m && sv > -exactFloat && sv < exactFloat {
			// Both operands are exact, and IEEE division rounds once.
			return float64(sv) / float64(cv*m)
		}
	}
	num := sb
	if num == nil {
		num = big.NewInt(sv)
	}
	den := cb
	if den == nil {
		den = big.NewInt(cv)
	}
	den = new(big.Int).Mul(den, pow10Big(scale))
	return ratFloat(new(big.Rat).SetFrac(num, den))
}
