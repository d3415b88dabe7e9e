package dp

import (
	"math"
	"math/big"
	"testing"
)

func TestInterval95(t *testing.T) {
	t.Parallel()
	// Exact small cases, by hand: σ² = 1/10: P[0] = 1/(1 + 2e⁻⁵ + …) ≈ 0.9867
	// → 0. σ² = 1: P[|Z| ≤ 1] = (1 + 2e^-½)/2.50663 ≈ 0.883, P[|Z| ≤ 2] adds
	// 2e⁻²/2.50663 → 0.991 → 2.
	for _, tt := range []struct {
		s2   *big.Rat
		want int64
	}{
		{big.NewRat(1, 10), 0},
		{big.NewRat(1, 1), 2},
	} {
		if got, err := Interval95(tt.s2); err != nil || got != tt.want {
			t.Errorf("Interval95(%v) = %v, %v; want %v", tt.s2, got, err, tt.want)
		}
	}
	// Large σ: ≈ 1.96σ, on both sides of the exact/continuous switch.
	for _, sigma := range []float64{10, 1e3, 1e5, 1e6, 1.5e6, 1e7} {
		s2 := new(big.Rat).SetFloat64(sigma * sigma)
		got, err := Interval95(s2)
		if err != nil {
			t.Fatal(err)
		}
		if want := 1.959963984540054 * sigma; math.Abs(float64(got)-want) > 1.5 {
			t.Errorf("Interval95(σ=%g) = %d, want ≈ %.1f", sigma, got, want)
		}
	}
	// Smallest: w-1 must fall short of 95%.
	for _, s2 := range []float64{0.5, 2, 7, 10, 55.5} {
		w, _ := Interval95(new(big.Rat).SetFloat64(s2))
		n := dgNorm(s2)
		mass := func(w int64) float64 {
			m := dgPMF(0, s2, n)
			for x := int64(1); x <= w; x++ {
				m += 2 * dgPMF(float64(x), s2, n)
			}
			return m
		}
		if mass(w) < 0.95 || (w > 0 && mass(w-1) >= 0.95) {
			t.Errorf("Interval95(σ²=%v) = %d: mass %.6f, at w-1 %.6f", s2, w, mass(w), mass(w-1))
		}
	}
}

func TestThreshold(t *testing.T) {
	t.Parallel()
	// By hand, σ² = 1, δ_T = 1e-5, one group per unit: P[Z ≥ 4] =
	// (e⁻⁸ + e^-12.5 + …)/2.50663 ≈ 1.35e-4 > 1e-5 and P[Z ≥ 5] ≈ 1.49e-6
	// ≤ 1e-5, so a count-1 group needs noise ≥ 5: τ = 6.
	if got, err := Threshold(big.NewRat(1, 1), 1e-5, 1); err != nil || got != 6 {
		t.Errorf("Threshold(σ²=1, 1e-5, 1) = %v, %v; want 6", got, err)
	}
	// Against an independent tail sum: τ is the smallest with
	// P[Z ≥ τ-1] ≤ δ_T/G.
	for _, c := range []struct {
		s2     float64
		deltaT float64
		groups int64
	}{{1, 1e-5, 1}, {10, 1e-6, 5}, {100, 1e-9, 1000}, {2.5e3, 1e-10, 20}} {
		tau, err := Threshold(new(big.Rat).SetFloat64(c.s2), c.deltaT, c.groups)
		if err != nil {
			t.Fatal(err)
		}
		n := dgNorm(c.s2)
		tail := func(k int64) float64 {
			s := 0.0
			for x := k + int64(60*math.Sqrt(c.s2)); x >= k; x-- {
				s += dgPMF(float64(x), c.s2, n)
			}
			return s
		}
		target := c.deltaT / float64(c.groups)
		if tail(tau-1) > target || tail(tau-2) <= target {
			t.Errorf("Threshold(%+v) = %d: P[Z ≥ τ-1] = %g, P[Z ≥ τ-2] = %g, target %g", c, tau, tail(tau-1), tail(tau-2), target)
		}
		t.Logf("σ²=%v δ_T=%v G=%d: τ=%d", c.s2, c.deltaT, c.groups, tau)
	}
	// The continuous fallback agrees with the exact sum at the switch.
	exact, _ := Threshold(new(big.Rat).SetFloat64(1e12), 1e-6, 10)
	cont, _ := Threshold(new(big.Rat).SetFloat64(1.000001e12), 1e-6, 10)
	if d := cont - exact; d < 0 || d > 10 {
		t.Errorf("Threshold at σ=1e6: exact %d, continuous just above %d", exact, cont)
	}
	if _, err := Threshold(big.NewRat(1, 1), 0, 1); err == nil {
		t.Error("Threshold with δ_T = 0: no error")
	}
	if _, err := Threshold(big.NewRat(1, 1), 1e-300, 1e9); err == nil {
		t.Error("Threshold with δ_T/maxGroups underflowing: no error")
	}
	if _, err := Threshold(big.NewRat(1, 1), 1e-6, 0); err == nil {
		t.Error("Threshold with maxGroups = 0: no error")
	}
}
