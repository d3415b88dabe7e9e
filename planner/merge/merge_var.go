package merge

import (
	"math"
	"math/big"

	"github.com/fedmesh/fedmesh/planner"
)

// varAcc merges variances from each site's count n, sum and population
// variance (so M2 = var_pop × n, the sum of squared deviations from the
// site's own mean). Sites are combined pairwise as in Chan, Golub and
// LeVeque (1979):
//
//	δ = mean_b − mean_a,  n = n_a + n_b
//	mean = mean_a + δ·n_b/n,  M2 = M2_a + M2_b + δ²·n_a·n_b/n
//
// which, unlike Σx² − (Σx)²/n, does not cancel catastrophically when the
// mean is large against the spread.
type varAcc struct {
	fn   planner.MergeFunc
	n    []float64
	mean []float64
	m2   []float64
}

func (a *varAcc) grow(n int) {
	a.n = growSlice(a.n, n)
	a.mean = growSlice(a.mean, n)
	a.m2 = growSlice(a.m2, n)
}

func (a *varAcc) update(gids []int32, in []*colReader) {
	cnt, sum, vp := in[0], in[1], in[2]
	if cnt.allNull || sum.allNull || vp.allNull {
		return
	}
	for i, g := range gids {
		if cnt.isNull(i) || sum.isNull(i) || vp.isNull(i) {
			continue
		}
		var nb float64
		if v, b := cnt.exactAt(i); b != nil {
			nb, _ = new(big.Float).SetInt(b).Float64()
		} else {
			nb = float64(v)
		}
		if nb <= 0 {
			continue
		}
		meanB, m2B := sum.floats[i]/nb, vp.floats[i]*nb
		na := a.n[g]
		if na == 0 {
			a.n[g], a.mean[g], a.m2[g] = nb, meanB, m2B
			continue
		}
		n := na + nb
		d := meanB - a.mean[g]
		a.mean[g] += d * nb / n
		a.m2[g] += m2B + d*d*na*nb/n
		a.n[g] = n
	}
}

func (a *varAcc) finish(n int) []any {
	a.grow(n)
	out := make([]any, n)
	for g := range out {
		var v float64
		switch a.fn {
		case planner.MergeVarPop, planner.MergeStddevPop:
			if a.n[g] < 1 {
				continue
			}
			v = a.m2[g] / a.n[g]
		default:
			if a.n[g] < 2 {
				continue
			}
			v = a.m2[g] / (a.n[g] - 1)
		}
		if v < 0 {
			v = 0 // rounding can leave -ε where every value is equal
		}
		if a.fn == planner.MergeStddevPop || a.fn == planner.MergeStddevSamp {
			v = math.Sqrt(v)
		}
		out[g] = v
	}
	return out
}
