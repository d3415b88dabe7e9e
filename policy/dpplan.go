package policy

import (
	"errors"
	"fmt"
	"math"
	"math/big"
	"strings"

	"github.com/fedmesh/fedmesh/planner"
	"github.com/fedmesh/fedmesh/privacy/dp"
)

// DPKind says which bounded statistic a noisy column holds.
type DPKind string

// Noisy column kinds.
const (
	DPCount DPKind = "count"   // a bounded row count (COUNT(*) or COUNT(x))
	DPSum   DPKind = "sum"     // a sum of clamped values
	DPVar   DPKind = "var_pop" // a sum of squared clamped values, released as a variance
	// DPDistinct is the number of distinct units in a group (COUNT(DISTINCT
	// unit)), released as a HyperLogLog sketch of that many synthetic
	// items so that the coordinator merges it like any distinct count.
	DPDistinct DPKind = "distinct_units"
	// DPHistogram is a percentile's noisy histogram: the bounded row counts
	// in HistogramBins equal bins of the column's bounds, each with noise,
	// released as a quantile sketch of the bins' midpoints.
	DPHistogram DPKind = "histogram"
)

// HistogramBins is how many equal bins of its clamp bounds a percentile's
// histogram has: the percentile is known to within half a bin's width
// (plus noise).
const HistogramBins = 32

// DPColumn is one noisy output of a differentially private sub-plan.
type DPColumn struct {
	Name string `json:"name"`
	Kind DPKind `json:"kind"`
	// Sensitivity is the column's L2 sensitivity in value units: how much one
	// unit can change the vector of this column's values over all groups.
	Sensitivity float64 `json:"sensitivity"`
	// Rho is the share of the query's zCDP budget this column spends.
	Rho float64 `json:"rho"`
	// Sigma is the noise's standard deviation parameter in value units
	// (for var_pop: of the sum of squares).
	Sigma float64 `json:"sigma"`
	// Bound is max(|lower|, |upper|) of the clamp bounds (sums only).
	Bound float64 `json:"bound,omitempty"`
	// VarCount and VarSum name the noisy count and sum of the same argument,
	// from which a var_pop column's variance is computed.
	VarCount string `json:"var_count,omitempty"`
	VarSum   string `json:"var_sum,omitempty"`
	// Center, for a sum or var_pop, is the middle of the clamp bounds: the
	// engine sums deviations from it (Bound is then half the bounds'
	// width), and a sum is released as Σ(x−Center) + Center·CountOf, with
	// CountOf the noisy COUNT of the same column. CenteredSigma is the noise
	// on the deviations alone; Sigma is the released sum's whole noise.
	Center        float64 `json:"center,omitempty"`
	CountOf       string  `json:"count_of,omitempty"`
	CenteredSigma float64 `json:"centered_sigma,omitempty"`
	// Edges, for a histogram, are its bins' edges.
	Edges []float64 `json:"edges,omitempty"`

	// sens2 is Sensitivity² exactly (before discretisation); groups is
	// how many groups one unit may touch (for the rounding's share).
	sens2  *big.Rat
	groups int64
}

// DPPlan is how a site answers one sub-plan with differential privacy: the
// contribution bound for the renderer, the noisy columns and their noise,
// the release threshold, and what it costs.
type DPPlan struct {
	Bound planner.Bound `json:"-"`
	// Columns are the noisy outputs, in sub-plan order.
	Columns []DPColumn `json:"columns"`
	// Salt names the synthetic items of distinct-count sketches (the site
	// and the query), so that two sites' sketches never share an item.
	Salt string `json:"-"`
	// CountColumn is the noisy COUNT(*) groups are thresholded on.
	CountColumn string `json:"count_column"`
	// Threshold releases a group only when its noisy count is at least
	// this; 0 for a plan without group keys (its one group is public).
	Threshold int64 `json:"threshold"`
	// Rho is what the query charges the analyst's budget (zCDP); Epsilon
	// and Delta are the (ε, δ)-DP guarantee it gives, δ including
	// DeltaThreshold.
	Rho            float64 `json:"rho"`
	Epsilon        float64 `json:"epsilon"`
	Delta          float64 `json:"delta"`
	DeltaThreshold float64 `json:"delta_threshold"`
}

// ErrDPUnsupported marks a sub-plan the site cannot answer with differential
// privacy (the policy should have refused it; this is the Go re-check).
var ErrDPUnsupported = errors.New("not supported with differential privacy")

// NewDPPlan plans the differentially private answer to sp under o, charging
// rho (zCDP) for the noise; the caller derives rho from o's ε and δ (half
// of δ goes to the conversion, half to the threshold, deltaThreshold).
// Every noisy column gets an equal share of rho. It refuses aggregates that
// cannot be bounded (MIN/MAX, sketches, SUM of an expression or of a column
// without bounds) with an error naming the aggregate.
func NewDPPlan(sp *planner.SubPlan, o *DPObligation, rho, deltaThreshold float64) (*DPPlan, error) {
	if sp.Kind != planner.KindAggregate {
		return nil, fmt.Errorf("differential privacy: a %s plan has no aggregates to add noise to: %w", sp.Kind, ErrDPUnsupported)
	}
	if !(rho > 0) || !(deltaThreshold > 0) {
		return nil, fmt.Errorf("differential privacy: rho %v and threshold delta %v must be > 0", rho, deltaThreshold)
	}
	unit := o.Unit
	if sp.Join != nil && !strings.Contains(unit, ".") {
		unit = planner.QualifiedColumn(o.Table, unit)
	}
	p := &DPPlan{
		Bound:          planner.Bound{Unit: unit, MaxGroups: o.MaxGroupsPerUnit, MaxRows: o.MaxRowsPerGroup, Clamp: map[string][2]float64{}, Center: map[string]float64{}, Histograms: map[string]int{}},
		CountColumn:    sp.CountColumn,
		Rho:            rho,
		Epsilon:        o.Epsilon,
		Delta:          o.Delta,
		DeltaThreshold: deltaThreshold,
	}
	perUnit := float64(o.MaxRowsPerGroup) * math.Sqrt(float64(o.MaxGroupsPerUnit))
	// perUnit² = M²·N exactly, and c² of a float bound exactly.
	perUnit2 := new(big.Rat).SetInt64(o.MaxRowsPerGroup * o.MaxRowsPerGroup * o.MaxGroupsPerUnit)
	square := func(f float64) *big.Rat { r := new(big.Rat).SetFloat64(f); return r.Mul(r, r) }
	// Variances pair with the COUNT and SUM of the same column (the planner
	// splits VAR into the three); only bare columns can be clamped anyway.
	argKey := func(e *planner.Expr) string {
		if e == nil || e.Op != planner.OpColumn {
			return ""
		}
		return e.Column
	}
	counts, sums := map[string]string{}, map[string]string{}
	for _, a := range sp.Aggs {
		switch a.Agg.Func {
		case planner.AggCount:
			counts[argKey(a.Agg.Arg)] = a.Name
		case planner.AggSum:
			sums[argKey(a.Agg.Arg)] = a.Name
		}
	}
	for _, a := range sp.Aggs {
		fn := a.Agg.Func
		c := DPColumn{Name: a.Name, groups: o.MaxGroupsPerUnit}
		switch fn {
		case planner.AggCountStar, planner.AggCount:
			c.Kind, c.Sensitivity, c.sens2 = DPCount, perUnit, perUnit2
		case planner.AggSum, planner.AggVarPop:
			if a.Agg.Arg == nil || a.Agg.Arg.Op != planner.OpColumn {
				return nil, fmt.Errorf("differential privacy: %s over an expression cannot be clamped to declared bounds; aggregate a column with declared bounds: %w", strings.ToUpper(string(fn)), ErrDPUnsupported)
			}
			lo, hi, ok := o.BoundsOf(a.Agg.Arg.Column)
			if !ok {
				return nil, fmt.Errorf("differential privacy: %s(%s) needs clamp bounds for %s, and the site's policy declares none: %w", strings.ToUpper(string(fn)), a.Agg.Arg.Column, a.Agg.Arg.Column, ErrDPUnsupported)
			}
			p.Bound.Clamp[a.Name] = [2]float64{lo, hi}
			c.Bound = math.Max(math.Abs(lo), math.Abs(hi))
			key := argKey(a.Agg.Arg)
			if n := counts[key]; n != "" {
				// With the column's own count at hand, sum deviations from
				// the bounds' middle: half the width, not the largest bound.
				c.Center, c.CountOf, c.Bound = (lo+hi)/2, n, (hi-lo)/2
				p.Bound.Center[a.Name] = c.Center
			}
			if fn == planner.AggSum {
				c.Kind, c.Sensitivity = DPSum, perUnit*c.Bound
				c.sens2 = new(big.Rat).Mul(perUnit2, square(c.Bound))
				break
			}
			c.Kind, c.Sensitivity = DPVar, perUnit*c.Bound*c.Bound
			c.sens2 = new(big.Rat).Mul(perUnit2, square(c.Bound*c.Bound))
			c.VarCount, c.VarSum = counts[key], sums[key]
			if c.VarCount == "" || c.VarSum == "" {
				return nil, fmt.Errorf("differential privacy: VAR_POP(%s) needs COUNT and SUM of the same column in the sub-plan: %w", a.Agg.Arg.Column, ErrDPUnsupported)
			}
		case planner.AggQuantileSketch:
			// A unit's at most MaxRows rows in a group fall in the bins
			// however they like: the histogram vector moves by at most
			// MaxRows in L2 per group, so it shares one noise scale.
			if a.Agg.Arg == nil || a.Agg.Arg.Op != planner.OpColumn {
				return nil, fmt.Errorf("differential privacy: a percentile of an expression cannot be clamped to declared bounds; use a column with declared bounds: %w", ErrDPUnsupported)
			}
			lo, hi, ok := o.BoundsOf(a.Agg.Arg.Column)
			if !ok || !(hi > lo) {
				return nil, fmt.Errorf("differential privacy: a percentile of %s needs clamp bounds (lower < upper) for it, and the site's policy declares none: %w", a.Agg.Arg.Column, ErrDPUnsupported)
			}
			p.Bound.Clamp[a.Name] = [2]float64{lo, hi}
			p.Bound.Histograms[a.Name] = HistogramBins
			c.Kind, c.Sensitivity, c.sens2 = DPHistogram, perUnit, perUnit2
			c.Edges = planner.HistogramEdges(lo, hi, HistogramBins)
		case planner.AggHLL:
			// One unit adds 1 to each of at most MaxGroups groups.
			if a.Agg.Arg == nil || a.Agg.Arg.Op != planner.OpColumn || !sameColumn(a.Agg.Arg.Column, unit) {
				return nil, fmt.Errorf("differential privacy: COUNT(DISTINCT …) is answered only for the privacy unit %s (the number of people); count rows instead: %w", o.Unit, ErrDPUnsupported)
			}
			c.Kind, c.Sensitivity = DPDistinct, math.Sqrt(float64(o.MaxGroupsPerUnit))
			c.sens2 = new(big.Rat).SetInt64(o.MaxGroupsPerUnit)
		case planner.AggMin, planner.AggMax:
			return nil, fmt.Errorf("differential privacy: %s reveals one person's value; use AVG, or COUNT over ranges of the column, instead: %w", strings.ToUpper(string(fn)), ErrDPUnsupported)
		default:
			return nil, fmt.Errorf("differential privacy: aggregate %s: %w", fn, ErrDPUnsupported)
		}
		p.Columns = append(p.Columns, c)
	}
	byName := map[string]*DPColumn{}
	for i := range p.Columns {
		byName[p.Columns[i].Name] = &p.Columns[i]
	}
	for _, c := range p.Columns {
		if c.Kind == DPVar && byName[c.VarSum].Center != c.Center {
			return nil, fmt.Errorf("differential privacy: VAR_POP output %q and its SUM %q are centered differently: %w", c.Name, c.VarSum, ErrDPUnsupported)
		}
	}
	share := rho / float64(len(p.Columns))
	for i := range p.Columns {
		c := &p.Columns[i]
		c.Rho = share
		c.Sigma = c.Sensitivity / math.Sqrt(2*share)
	}
	if len(sp.GroupBy) > 0 {
		// One unit's group holds at most MaxRowsPerGroup of its rows: the
		// threshold for a count of one unit, shifted by the rows beyond one.
		for _, c := range p.Columns {
			if c.Name != sp.CountColumn {
				continue
			}
			sigma2 := new(big.Rat).Quo(c.sens2, new(big.Rat).SetFloat64(2*c.Rho))
			tau, err := dp.Threshold(sigma2, deltaThreshold, o.MaxGroupsPerUnit)
			if err != nil {
				return nil, fmt.Errorf("differential privacy: release threshold: %w", err)
			}
			p.Threshold = tau + o.MaxRowsPerGroup - 1
		}
	}
	return p, nil
}

// grid returns the power of two at which a sum with L2 sensitivity s is
// discretised before integer noise is added: about s/1024, so rounding adds
// at most a thousandth to the sensitivity.
func grid(s float64) *big.Rat {
	if s <= 0 || math.IsInf(s, 0) || math.IsNaN(s) {
		return big.NewRat(1, 1)
	}
	e := math.Floor(math.Log2(s)) - 10
	g := new(big.Rat)
	g.SetFloat64(math.Ldexp(1, int(e)))
	return g
}

// sameColumn compares column references case-insensitively, a bare name
// matching a qualified one.
func sameColumn(a, b string) bool {
	a, b = strings.ToLower(a), strings.ToLower(b)
	if a == b {
		return true
	}
	_, ab, aq := strings.Cut(a, ".")
	_, bb, bq := strings.Cut(b, ".")
	return (aq && ab == b) || (bq && bb == a)
}
