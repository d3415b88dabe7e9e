package dp

import (
	"fmt"
	"math"
	"math/big"
)

// Privacy accounting in zero-concentrated DP (Bun & Steinke 2016, "BS16").
// Accounting may use float64, but every result is rounded in the direction
// that can only overstate privacy loss: ρ, ε and δ up; σ², t and the ρ
// allowed by RhoFor down/up so that the stated budget is never exceeded.

// up widens a float64 computed with transcendental functions
// (relative error a few ulps) so the result is on the safe side.
func up(x float64) float64 { return math.Nextafter(x*(1+1e-12), math.Inf(1)) }

// ratUp returns the smallest float64 ≥ r.
func ratUp(r *big.Rat) float64 {
	f, exact := r.Float64()
	if !exact && new(big.Rat).SetFloat64(f).Cmp(r) < 0 {
		f = math.Nextafter(f, math.Inf(1))
	}
	return f
}

func positive(name string, v float64) error {
	if !(v > 0) || math.IsInf(v, 0) {
		return fmt.Errorf("%w: %s=%v: must be finite and > 0", ErrParam, name, v)
	}
	return nil
}

// GaussianRho returns ρ = Δ²/(2σ²) for the Gaussian mechanism with L2
// sensitivity Δ = l2Sensitivity and variance parameter σ² = sigma2, rounded
// up. The discrete Gaussian meets the same ρ as the continuous one (CKS20
// Theorem 4: adding N_Z(0, σ²) to an integer query of sensitivity Δ is
// Δ²/(2σ²)-zCDP).
func GaussianRho(l2Sensitivity float64, sigma2 *big.Rat) (float64, error) {
	if err := positive("l2 sensitivity", l2Sensitivity); err != nil {
		return 0, err
	}
	if sigma2 == nil || sigma2.Sign() <= 0 {
		return 0, fmt.Errorf("%w: σ²=%v: must be > 0", ErrParam, sigma2)
	}
	d := new(big.Rat).SetFloat64(l2Sensitivity)
	rho := new(big.Rat).Mul(d, d)
	rho.Quo(rho, new(big.Rat).Mul(sigma2, big.NewRat(2, 1)))
	return ratUp(rho), nil
}

// sigmaGrid is the grid σ² is rounded up to: multiples of 2⁻³² keep the
// sampler's denominators small while moving ρ by at most a relative 2⁻³²/σ².
var sigmaGrid = new(big.Int).Lsh(one, 32)

// SigmaFor returns the smallest σ² on the grid of multiples of 2⁻³² with
// Δ²/(2σ²) ≤ rho: the Gaussian (or discrete Gaussian, CKS20 Thm 4) noise that
// spends at most rho for L2 sensitivity Δ = l2Sensitivity.
func SigmaFor(l2Sensitivity, rho float64) (*big.Rat, error) {
	if err := positive("l2 sensitivity", l2Sensitivity); err != nil {
		return nil, err
	}
	if err := positive("ρ", rho); err != nil {
		return nil, err
	}
	d := new(big.Rat).SetFloat64(l2Sensitivity)
	exact := new(big.Rat).Mul(d, d) // Δ²/(2ρ), exact in rationals
	exact.Quo(exact, new(big.Rat).Mul(new(big.Rat).SetFloat64(rho), big.NewRat(2, 1)))
	return ceilToGrid(exact, sigmaGrid), nil
}

// ceilToGrid returns ⌈r·g⌉/g for r > 0.
func ceilToGrid(r *big.Rat, g *big.Int) *big.Rat {
	n := new(big.Int).Mul(r.Num(), g)
	n.Add(n, r.Denom()).Sub(n, one)
	n.Quo(n, r.Denom())
	return new(big.Rat).SetFrac(n, g)
}

// Compose returns the ρ of running mechanisms with the given ρs in sequence:
// their sum (zCDP composes additively, BS16 Lemma 2.3), rounded up.
func Compose(rhos ...float64) float64 {
	sum := 0.0
	for _, r := range rhos {
		// Knuth's TwoSum: s + e == sum + r exactly; e > 0 means s rounded down.
		s := sum + r
		bv := s - sum
		e := (sum - (s - bv)) + (r - bv)
		if e > 0 {
			s = math.Nextafter(s, math.Inf(1))
		}
		sum = s
	}
	return sum
}

// LaplaceEpsilon returns ε = Δ₁/t, rounded up: the discrete Laplace with
// scale t added to an integer query of L1 sensitivity Δ₁ is ε-DP (CKS20
// Section 2.1; Ghosh, Roughgarden & Sundararajan 2009).
func LaplaceEpsilon(l1Sensitivity float64, t *big.Rat) (float64, error) {
	if err := positive("l1 sensitivity", l1Sensitivity); err != nil {
		return 0, err
	}
	if t == nil || t.Sign() <= 0 {
		return 0, fmt.Errorf("%w: Laplace scale t=%v: must be > 0", ErrParam, t)
	}
	return ratUp(new(big.Rat).Quo(new(big.Rat).SetFloat64(l1Sensitivity), t)), nil
}

// LaplaceScaleFor returns the smallest t on the 2⁻³² grid with Δ₁/t ≤ eps.
func LaplaceScaleFor(l1Sensitivity, eps float64) (*big.Rat, error) {
	if err := positive("l1 sensitivity", l1Sensitivity); err != nil {
		return nil, err
	}
	if err := positive("ε", eps); err != nil {
		return nil, err
	}
	exact := new(big.Rat).Quo(new(big.Rat).SetFloat64(l1Sensitivity), new(big.Rat).SetFloat64(eps))
	return ceilToGrid(exact, sigmaGrid), nil
}

// PureToRho returns ε²/2, rounded up: an ε-DP mechanism is (ε²/2)-zCDP
// (BS16 Proposition 1.4).
func PureToRho(eps float64) (float64, error) {
	if err := positive("ε", eps); err != nil {
		return 0, err
	}
	e := new(big.Rat).SetFloat64(eps)
	return ratUp(e.Mul(e, e).Quo(e, big.NewRat(2, 1))), nil
}

// BS16Eps returns ε = ρ + 2√(ρ·ln(1/δ)), rounded up: ρ-zCDP implies
// (ε, δ)-DP (BS16 Proposition 1.3). Looser than [CDPEps]; for comparison.
func BS16Eps(rho, delta float64) (float64, error) {
	if err := rhoDelta(rho, delta); err != nil {
		return 0, err
	}
	return up(rho + 2*math.Sqrt(rho*math.Log(1/delta))), nil
}

func rhoDelta(rho, delta float64) error {
	if !(rho >= 0) || math.IsInf(rho, 0) {
		return fmt.Errorf("%w: ρ=%v: must be finite and ≥ 0", ErrParam, rho)
	}
	if !(delta > 0 && delta < 1) {
		return fmt.Errorf("%w: δ=%v: must be in (0, 1)", ErrParam, delta)
	}
	return nil
}

// CDPDelta returns δ such that ρ-zCDP implies (ε, δ)-DP, by the tight
// conversion of CKS20 Proposition 12 / Corollary 13 (cdp2adp.py cdp_delta):
//
//	δ = min over α > 1 of exp((α-1)(αρ - ε)) / (α-1) · (1 - 1/α)^α.
//
// Any α gives a valid bound, so the binary search for the optimal α (on the
// sign of the derivative, α ≥ 1.01 for numerical stability as in the
// reference) only affects tightness; the final value is rounded up.
func CDPDelta(rho, eps float64) (float64, error) {
	if !(rho >= 0) || math.IsInf(rho, 0) {
		return 0, fmt.Errorf("%w: ρ=%v: must be finite and ≥ 0", ErrParam, rho)
	}
	if !(eps >= 0) || math.IsInf(eps, 0) {
		return 0, fmt.Errorf("%w: ε=%v: must be finite and ≥ 0", ErrParam, eps)
	}
	return cdpDelta(rho, eps), nil
}

func cdpDelta(rho, eps float64) float64 {
	if rho == 0 {
		return 0
	}
	amin, amax := 1.01, (eps+1)/(2*rho)+2
	var alpha float64
	for range 1000 {
		alpha = (amin + amax) / 2
		if alpha == amin || alpha == amax {
			break // converged to float64 resolution
		}
		derivative := (2*alpha-1)*rho - eps + math.Log1p(-1/alpha)
		if derivative < 0 {
			amin = alpha
		} else {
			amax = alpha
		}
	}
	delta := math.Exp((alpha-1)*(alpha*rho-eps)+alpha*math.Log1p(-1/alpha)) / (alpha - 1)
	return min(up(delta), 1)
}

// CDPEps returns the smallest ε (to float64 resolution, never below the true
// one) such that ρ-zCDP implies (ε, δ)-DP by [CDPDelta] (cdp2adp.py cdp_eps):
// a binary search keeping CDPDelta(ρ, ε_max) ≤ δ, started from the BS16 bound.
func CDPEps(rho, delta float64) (float64, error) {
	if err := rhoDelta(rho, delta); err != nil {
		return 0, err
	}
	if rho == 0 {
		return 0, nil
	}
	epsmin, epsmax := 0.0, up(rho+2*math.Sqrt(rho*math.Log(1/delta)))
	for range 1000 {
		eps := (epsmin + epsmax) / 2
		if eps == epsmin || eps == epsmax {
			break
		}
		if cdpDelta(rho, eps) <= delta {
			epsmax = eps
		} else {
			epsmin = eps
		}
	}
	return epsmax, nil
}

// RhoFor returns the largest ρ (to float64 resolution, never above the true
// one) such that ρ-zCDP implies (ε, δ)-DP by [CDPDelta] (cdp2adp.py
// cdp_rho): a binary search keeping CDPDelta(ρ_min, ε) ≤ δ.
func RhoFor(eps, delta float64) (float64, error) {
	if err := positive("ε", eps); err != nil {
		return 0, err
	}
	if !(delta > 0 && delta < 1) {
		return 0, fmt.Errorf("%w: δ=%v: must be in (0, 1)", ErrParam, delta)
	}
	rhomin, rhomax := 0.0, eps+1
	for range 1000 {
		rho := (rhomin + rhomax) / 2
		if rho == rhomin || rho == rhomax {
			break
		}
		if cdpDelta(rho, eps) <= delta {
			rhomin = rho
		} else {
			rhomax = rho
		}
	}
	return rhomin, nil
}
