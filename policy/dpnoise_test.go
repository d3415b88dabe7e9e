package policy

import (
	"context"
	"errors"
	"math"
	"math/big"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/fedmesh/fedmesh/planner"
	"github.com/fedmesh/fedmesh/privacy/dp"
)

// zeroNoise adds nothing, so the plumbing (grid, threshold, variance) can
// be checked exactly.
type zeroNoise struct{ calls int }

func (z *zeroNoise) DiscreteGaussian(*big.Rat) (*big.Int, error) { z.calls++; return new(big.Int), nil }

func dpObligation() *DPObligation {
	return &DPObligation{Table: "sales", Unit: "customer_id", MaxGroupsPerUnit: 2, MaxRowsPerGroup: 3,
		Bounds: map[string][2]float64{"amount": {-10, 100}}, Epsilon: 1, Delta: 1e-6,
		Budget: DPBudget{Delta: 1e-6, EpsilonTotal: 10}}
}

// varPlan is SELECT region, COUNT(*), SUM(amount), VAR_POP(amount) as the
// planner splits it.
func varPlan() *planner.SubPlan {
	return &planner.SubPlan{
		Version: planner.PlanVersion, QueryID: "q", Site: "a", Kind: planner.KindAggregate, Table: "sales",
		GroupBy: []planner.OutputColumn{{Name: "g0", Expr: planner.Col("region")}},
		Aggs: []planner.OutputColumn{
			{Name: "a0", Agg: &planner.PartialAgg{Func: planner.AggCountStar}},
			{Name: "a1", Agg: &planner.PartialAgg{Func: planner.AggCount, Arg: planner.Col("amount")}},
			{Name: "a2", Agg: &planner.PartialAgg{Func: planner.AggSum, Arg: planner.Col("amount")}},
			{Name: "a3", Agg: &planner.PartialAgg{Func: planner.AggVarPop, Arg: planner.Col("amount")}},
		},
		CountColumn: "a0",
	}
}

func TestNewDPPlanSensitivitiesAndThreshold(t *testing.T) {
	t.Parallel()
	p, err := NewDPPlan(varPlan(), dpObligation(), 0.4, 5e-7)
	if err != nil {
		t.Fatal(err)
	}
	perUnit := 3 * math.Sqrt(2) // M·√N
	// Sums and variances are of deviations from the bounds' middle (45):
	// at most half the width (55) each.
	want := map[string]float64{"a0": perUnit, "a1": perUnit, "a2": perUnit * 55, "a3": perUnit * 55 * 55}
	for _, c := range p.Columns {
		if math.Abs(c.Sensitivity-want[c.Name]) > 1e-9 {
			t.Errorf("%s: sensitivity %v, want %v", c.Name, c.Sensitivity, want[c.Name])
		}
		if c.Rho != 0.1 {
			t.Errorf("%s: rho share %v, want 0.1", c.Name, c.Rho)
		}
	}
	if p.Bound.Unit != "customer_id" || p.Bound.MaxGroups != 2 || p.Bound.MaxRows != 3 || p.Bound.Clamp["a2"] != [2]float64{-10, 100} {
		t.Errorf("bound = %+v", p.Bound)
	}
	// σ of the count is 3√2/√0.2 ≈ 9.49; a one-unit group (count <= 3) must
	// pass τ with probability <= δ_T/N.
	sigma2 := new(big.Rat).Quo(big.NewRat(18, 1), new(big.Rat).SetFloat64(0.2))
	tau, err := dp.Threshold(sigma2, 5e-7, 2)
	if err != nil {
		t.Fatal(err)
	}
	if p.Threshold != tau+2 || p.Threshold < 40 {
		t.Errorf("threshold %d, want %d (dp.Threshold %d + M-1)", p.Threshold, tau+2, tau)
	}
	global := varPlan()
	global.GroupBy = nil
	if g, err := NewDPPlan(global, dpObligation(), 0.4, 5e-7); err != nil || g.Threshold != 0 {
		t.Errorf("a plan without group keys is one public group: threshold %v, err %v", g.Threshold, err)
	}
}

func TestNewDPPlanRefusesWhatCannotBeBounded(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		agg  planner.PartialAgg
	}{
		{"max", planner.PartialAgg{Func: planner.AggMax, Arg: planner.Col("amount")}},
		{"min", planner.PartialAgg{Func: planner.AggMin, Arg: planner.Col("amount")}},
		{"sum of an unbounded column", planner.PartialAgg{Func: planner.AggSum, Arg: planner.Col("discount")}},
		{"sum of an isolating expression", planner.PartialAgg{Func: planner.AggSum, Arg: planner.Call(planner.OpCase,
			planner.Call(planner.OpEq, planner.Col("customer_id"), planner.Lit(planner.Value{Kind: planner.KindInt, Int: 7})), planner.Col("amount"))}},
		{"distinct-count sketch", planner.PartialAgg{Func: planner.AggHLL, Arg: planner.Col("amount")}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			sp := varPlan()
			agg := tc.agg
			sp.Aggs = append(sp.Aggs[:1], planner.OutputColumn{Name: "a9", Agg: &agg})
			_, err := NewDPPlan(sp, dpObligation(), 0.4, 5e-7)
			if !errors.Is(err, ErrDPUnsupported) {
				t.Fatalf("err = %v, want ErrDPUnsupported", err)
			}
		})
	}
}

func boundedBatch(t *testing.T, keys []string, counts, nonNull []int64, sums, sumsq []float64) arrow.RecordBatch {
	t.Helper()
	mem := memory.DefaultAllocator
	schema := arrow.NewSchema([]arrow.Field{
		{Name: "g0", Type: arrow.BinaryTypes.String}, {Name: "a0", Type: arrow.PrimitiveTypes.Int64},
		{Name: "a1", Type: arrow.PrimitiveTypes.Int64}, {Name: "a2", Type: arrow.PrimitiveTypes.Float64},
		{Name: "a3", Type: arrow.PrimitiveTypes.Float64},
	}, nil)
	b := array.NewRecordBuilder(mem, schema)
	defer b.Release()
	b.Field(0).(*array.StringBuilder).AppendValues(keys, nil)
	b.Field(1).(*array.Int64Builder).AppendValues(counts, nil)
	b.Field(2).(*array.Int64Builder).AppendValues(nonNull, nil)
	b.Field(3).(*array.Float64Builder).AppendValues(sums, nil)
	b.Field(4).(*array.Float64Builder).AppendValues(sumsq, nil)
	return b.NewRecordBatch()
}

func TestApplyDPReleasesByThresholdAndDerivesVariance(t *testing.T) {
	t.Parallel()
	p, err := NewDPPlan(varPlan(), dpObligation(), 0.4, 5e-7)
	if err != nil {
		t.Fatal(err)
	}
	big := p.Threshold + 100
	// Group "big" holds values 10 and 30 (mean 20, var 100); the engine
	// sums their deviations from the center 45 (-35 and -15: mean -25,
	// mean square 725). "small" is below the threshold and must not be
	// released.
	if p.Columns[2].Center != 45 || p.Bound.Center["a2"] != 45 {
		t.Fatalf("sum center %v (bound %v), want 45", p.Columns[2].Center, p.Bound.Center)
	}
	in := boundedBatch(t, []string{"big", "small"}, []int64{big, 3}, []int64{big, 3},
		[]float64{float64(big) * -25, 30}, []float64{float64(big) * 725, 300})
	defer in.Release()
	noise := &zeroNoise{}
	out, err := ApplyDP(context.Background(), []arrow.RecordBatch{in}, p, noise)
	if err != nil {
		t.Fatal(err)
	}
	defer out[0].Release()
	b := out[0]
	if b.NumRows() != 1 || b.Column(0).(*array.String).Value(0) != "big" {
		t.Fatalf("released %d rows, want only group big", b.NumRows())
	}
	if got := b.Column(1).(*array.Int64).Value(0); got != big {
		t.Errorf("count = %d, want %d", got, big)
	}
	if got := b.Column(3).(*array.Float64).Value(0); math.Abs(got-float64(big)*20) > 1e-6*float64(big)*20 {
		t.Errorf("sum = %v, want %v (grid rounding only)", got, float64(big)*20)
	}
	if got := b.Column(4).(*array.Float64).Value(0); math.Abs(got-100) > 1 {
		t.Errorf("variance = %v, want 100", got)
	}
	if noise.calls != 8 {
		t.Errorf("noise drawn %d times, want one per noisy cell (8)", noise.calls)
	}
	for _, c := range p.Columns {
		if c.Sigma <= 0 {
			t.Errorf("%s: sigma not reported", c.Name)
		}
	}
}

// TestApplyDPNoiseHasTheCalibratedSpread draws real noise on many identical
// groups and checks the released counts' standard deviation against σ.
func TestApplyDPNoiseHasTheCalibratedSpread(t *testing.T) {
	t.Parallel()
	sp := varPlan()
	sp.GroupBy = nil // no threshold: every row is released
	p, err := NewDPPlan(sp, dpObligation(), 0.4, 5e-7)
	if err != nil {
		t.Fatal(err)
	}
	const n = 4000
	keys, counts, sums, sq := make([]string, n), make([]int64, n), make([]float64, n), make([]float64, n)
	for i := range keys {
		keys[i], counts[i], sums[i], sq[i] = "k", 1000, 20000, 500000
	}
	in := boundedBatch(t, keys, counts, counts, sums, sq)
	defer in.Release()
	out, err := ApplyDP(context.Background(), []arrow.RecordBatch{in}, p, dp.Secure{})
	if err != nil {
		t.Fatal(err)
	}
	defer out[0].Release()
	col := out[0].Column(1).(*array.Int64)
	var sum, sum2 float64
	for i := 0; i < col.Len(); i++ {
		d := float64(col.Value(i) - 1000)
		sum += d
		sum2 += d * d
	}
	mean, sd := sum/n, math.Sqrt(sum2/n-(sum/n)*(sum/n))
	sigma := p.Columns[0].Sigma
	if math.Abs(mean) > 5*sigma/math.Sqrt(n) {
		t.Errorf("noise mean %v, want ~0 (σ=%v)", mean, sigma)
	}
	if math.Abs(sd-sigma) > 0.1*sigma {
		t.Errorf("noise sd %v, want σ=%v within 10%%", sd, sigma)
	}
}
