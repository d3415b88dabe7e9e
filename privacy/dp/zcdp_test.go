package dp

import (
	"math"
	"math/big"
	"testing"
)

func TestGaussianRhoAndSigmaFor(t *testing.T) {
	t.Parallel()
	// ρ = Δ²/(2σ²): Δ=1, σ²=2 → 1/4; Δ=3, σ²=9/2 → 1.
	for _, tt := range []struct {
		delta float64
		s2    *big.Rat
		rho   float64
	}{
		{1, big.NewRat(2, 1), 0.25},
		{3, big.NewRat(9, 2), 1},
		{1, big.NewRat(1, 1), 0.5},
	} {
		got, err := GaussianRho(tt.delta, tt.s2)
		if err != nil || got != tt.rho {
			t.Errorf("GaussianRho(%v, %v) = %v, %v; want %v", tt.delta, tt.s2, got, err, tt.rho)
		}
		s2, err := SigmaFor(tt.delta, tt.rho)
		if err != nil || s2.Cmp(tt.s2) != 0 {
			t.Errorf("SigmaFor(%v, %v) = %v, %v; want %v", tt.delta, tt.rho, s2, err, tt.s2)
		}
	}
	// An inexact case rounds σ² up, by less than one grid step, so the ρ
	// actually spent is at most the ρ asked.
	for _, rho := range []float64{0.3, 0.1, 1e-4, 7} {
		s2, err := SigmaFor(2, rho)
		if err != nil {
			t.Fatal(err)
		}
		exact := new(big.Rat).Quo(big.NewRat(4, 1), new(big.Rat).Mul(new(big.Rat).SetFloat64(rho), big.NewRat(2, 1)))
		diff := new(big.Rat).Sub(s2, exact)
		if diff.Sign() < 0 || diff.Cmp(big.NewRat(1, 1<<32)) >= 0 {
			t.Errorf("SigmaFor(2, %v) = %v, exact %v: off by %v", rho, s2.FloatString(12), exact.FloatString(12), diff.FloatString(15))
		}
		spent := new(big.Rat).Quo(big.NewRat(4, 1), new(big.Rat).Mul(s2, big.NewRat(2, 1)))
		if spent.Cmp(new(big.Rat).SetFloat64(rho)) > 0 {
			t.Errorf("SigmaFor(2, %v): spends %v", rho, spent.FloatString(20))
		}
	}
}

func TestPureDPHelpers(t *testing.T) {
	t.Parallel()
	if got, _ := LaplaceEpsilon(1, big.NewRat(2, 1)); got != 0.5 {
		t.Errorf("LaplaceEpsilon(1, 2) = %v, want 0.5", got)
	}
	if got, _ := PureToRho(1); got != 0.5 {
		t.Errorf("PureToRho(1) = %v, want 0.5", got)
	}
	// ε = 0.1: ε²/2 = 0.005 in rationals, and the float must not be below it.
	got, _ := PureToRho(0.1)
	e := new(big.Rat).SetFloat64(0.1)
	if new(big.Rat).SetFloat64(got).Cmp(new(big.Rat).Quo(new(big.Rat).Mul(e, e), big.NewRat(2, 1))) < 0 {
		t.Errorf("PureToRho(0.1) = %v rounds down", got)
	}
	scale, _ := LaplaceScaleFor(1, 0.3)
	if eps, _ := LaplaceEpsilon(1, scale); eps > 0.3 {
		t.Errorf("LaplaceScaleFor(1, 0.3) = %v gives ε = %v > 0.3", scale.FloatString(10), eps)
	}
}

func TestComposeRoundsUp(t *testing.T) {
	t.Parallel()
	got := Compose(0.1, 0.2, 0.3)
	want := new(big.Rat)
	for _, r := range []float64{0.1, 0.2, 0.3} {
		want.Add(want, new(big.Rat).SetFloat64(r))
	}
	if new(big.Rat).SetFloat64(got).Cmp(want) < 0 {
		t.Errorf("Compose(0.1, 0.2, 0.3) = %v < exact sum %v", got, want.FloatString(20))
	}
	if got > 0.6+1e-15 {
		t.Errorf("Compose(0.1, 0.2, 0.3) = %v, too far above 0.6", got)
	}
	if Compose(0.25, 0.5) != 0.75 {
		t.Errorf("Compose(0.25, 0.5) = %v, want exactly 0.75", Compose(0.25, 0.5))
	}
}

// Reference values: the authors' cdp2adp.py (cb190d2), run under CPython 3.
func TestConversionMatchesReference(t *testing.T) {
	t.Parallel()
	const rel = 1e-9
	close := func(name string, got, want float64) {
		t.Helper()
		if math.Abs(got-want) > rel*want {
			t.Errorf("%s = %.17g, cdp2adp.py gives %.17g", name, got, want)
		}
	}
	d, _ := CDPDelta(0.025, 1)
	close("CDPDelta(0.025, 1)", d, 1.3361319064032213e-06)
	d, _ = CDPDelta(0.5, 3)
	close("CDPDelta(0.5, 3)", d, 0.005143184063862147)
	e, _ := CDPEps(0.025, 1e-6)
	close("CDPEps(0.025, 1e-6)", e, 1.014074254726128)
	e, _ = CDPEps(0.5, 1e-6)
	close("CDPEps(0.5, 1e-6)", e, 5.221534444530169)
	r, _ := RhoFor(1, 1e-6)
	close("RhoFor(1, 1e-6)", r, 0.024355970359538372)
	// BS16 by hand: 0.5 + 2·√(0.5·ln 10⁶) = 0.5 + 2·√6.9077552789821 = 5.7565218.
	b, _ := BS16Eps(0.5, 1e-6)
	close("BS16Eps(0.5, 1e-6)", b, 5.756521769756932)
	if e >= b {
		t.Errorf("tight ε %v not below BS16 ε %v", e, b)
	}
}

// TestCDPDeltaIsTheMinimumOverAlpha checks the binary search against a
// plain grid over α: the search must do at least as well as the grid (up to
// rounding), and no grid point may beat it by more than the grid's coarseness.
func TestCDPDeltaIsTheMinimumOverAlpha(t *testing.T) {
	t.Parallel()
	bound := func(rho, eps, a float64) float64 {
		return math.Exp((a-1)*(a*rho-eps)) / (a - 1) * math.Pow(1-1/a, a)
	}
	for _, c := range []struct{ rho, eps float64 }{{0.5, 3}, {0.025, 1}, {0.1, 2}, {1, 8}, {0.01, 0.5}} {
		best := math.Inf(1)
		for a := 1.01; a < 2000; a *= 1.0005 {
			best = min(best, bound(c.rho, c.eps, a))
		}
		got, _ := CDPDelta(c.rho, c.eps)
		if got > best*(1+1e-9) || got < best*(1-1e-4) {
			t.Errorf("CDPDelta(%v, %v) = %.10g, grid minimum %.10g", c.rho, c.eps, got, best)
		}
		// Never worse than the standard BS16 tail bound exp(-(ε-ρ)²/(4ρ)).
		if std := math.Exp(-(c.eps - c.rho) * (c.eps - c.rho) / (4 * c.rho)); got > std {
			t.Errorf("CDPDelta(%v, %v) = %g above the BS16 bound %g", c.rho, c.eps, got, std)
		}
	}
}

func TestRhoForRoundTrips(t *testing.T) {
	t.Parallel()
	for _, eps := range []float64{0.1, 1, 5} {
		for _, delta := range []float64{1e-5, 1e-9} {
			rho, err := RhoFor(eps, delta)
			if err != nil {
				t.Fatal(err)
			}
			if d, _ := CDPDelta(rho, eps); d > delta {
				t.Errorf("RhoFor(%v, %v) = %v: its δ at ε is %g > %g", eps, delta, rho, d, delta)
			}
			back, _ := CDPEps(rho, delta)
			if back > eps || back < eps*(1-1e-9) {
				t.Errorf("CDPEps(RhoFor(%v, %v) = %v) = %.17g, want ≤ %v and within 1e-9", eps, delta, rho, back, eps)
			}
		}
	}
}

func TestAccountingRejectsBadParameters(t *testing.T) {
	t.Parallel()
	checks := map[string]error{}
	_, checks["GaussianRho Δ=0"] = GaussianRho(0, big.NewRat(1, 1))
	_, checks["GaussianRho σ²=0"] = GaussianRho(1, new(big.Rat))
	_, checks["SigmaFor ρ=0"] = SigmaFor(1, 0)
	_, checks["SigmaFor ρ=NaN"] = SigmaFor(1, math.NaN())
	_, checks["CDPEps δ=0"] = CDPEps(1, 0)
	_, checks["CDPEps ρ<0"] = CDPEps(-1, 1e-6)
	_, checks["RhoFor ε=0"] = RhoFor(0, 1e-6)
	_, checks["BS16Eps δ=1"] = BS16Eps(1, 1)
	_, checks["PureToRho ε=Inf"] = PureToRho(math.Inf(1))
	for name, err := range checks {
		if err == nil {
			t.Errorf("%s: no error", name)
		}
	}
}
