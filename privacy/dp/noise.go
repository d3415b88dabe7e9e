package dp

import (
	"fmt"
	"io"
	"math"
	"math/big"
)

// AddGaussian returns value + Z with Z drawn from the discrete Gaussian with
// variance parameter sigma2 (see [DiscreteGaussian]); value is not modified.
func AddGaussian(value *big.Int, sigma2 *big.Rat, rnd io.Reader) (*big.Int, error) {
	z, err := DiscreteGaussian(sigma2, rnd)
	if err != nil {
		return nil, err
	}
	return z.Add(z, value), nil
}

// AddLaplace returns value + Z with Z drawn from the discrete Laplace with
// scale t (see [DiscreteLaplace]); value is not modified.
func AddLaplace(value *big.Int, t *big.Rat, rnd io.Reader) (*big.Int, error) {
	z, err := DiscreteLaplace(t, rnd)
	if err != nil {
		return nil, err
	}
	return z.Add(z, value), nil
}

// sigma2Float converts σ² for the float-only reporting helpers.
func sigma2Float(sigma2 *big.Rat, what string) (float64, error) {
	if sigma2 == nil || sigma2.Sign() <= 0 {
		return 0, fmt.Errorf("%w: %s σ²=%v: must be > 0", ErrParam, what, sigma2)
	}
	s2, _ := sigma2.Float64()
	if s2 == 0 || math.IsInf(s2, 0) || math.Sqrt(s2) > 1e17 {
		return 0, fmt.Errorf("%w: %s σ²=%v: out of range (0, 1e34]", ErrParam, what, sigma2.FloatString(6))
	}
	return s2, nil
}

// Interval95 returns the smallest integer w ≥ 0 with P[|Z| ≤ w] ≥ 0.95 for Z
// from the discrete Gaussian with variance parameter sigma2: the half-width
// of a 95% interval around a released value. For large σ, w ≈ 1.96σ.
//
// It sums the pmf from 0 outwards in float64 (rounding error far below the
// resolution that could move w, except by chance right at a boundary); for
// σ > 10⁶ it uses the continuous Gaussian (see exactSigmaMax).
func Interval95(sigma2 *big.Rat) (int64, error) {
	s2, err := sigma2Float(sigma2, "Interval95")
	if err != nil {
		return 0, err
	}
	const level = 0.95
	if sigma := math.Sqrt(s2); sigma > exactSigmaMax {
		// P[|Z| ≤ w] ≈ P[|N| ≤ w + 1/2] = erf((w + 1/2)/(σ√2)).
		return int64(math.Ceil(sigma*math.Sqrt2*math.Erfinv(level) - 0.5)), nil
	}
	norm := dgNorm(s2)
	mass := dgPMF(0, s2, norm)
	var w int64
	for mass < level {
		w++
		mass += 2 * dgPMF(float64(w), s2, norm)
	}
	return w, nil
}

// Threshold returns τ such that a group is released only if its noisy count
// of units is ≥ τ, where the count carries discrete Gaussian noise with
// variance parameter sigma2, each unit touches at most maxGroups groups, and
// deltaT (0 < deltaT < 1) is the δ spent on groups' existence.
//
// Derivation (Gaussian thresholding as in Wilson et al. 2020, "Differentially
// Private SQL with Bounded User Contribution", and ZetaSQL): releasing a
// group's noisy count is covered by the count's ρ, and dropping it below τ is
// post-processing — except for a group that exists only because of one unit u:
// without u there is no such group at all. Such a group has a true count of
// exactly 1, so it is released with probability P[1 + Z ≥ τ] = P[Z ≥ τ - 1].
// u is in at most maxGroups groups, so by the union bound the probability
// that any group revealing u's presence is released is at most
// maxGroups·P[Z ≥ τ - 1]. Threshold picks the smallest τ with
//
//	P[Z ≥ τ - 1] ≤ deltaT / maxGroups,
//
// which gives (ρ, deltaT)-style guarantees: ρ-zCDP for the values plus deltaT
// added to the δ of the (ε, δ) conversion.
//
// The tail is summed in float64 from far out inwards (small terms first),
// with the target shrunk by a relative 1e-9 (1e-6 above σ = 10⁶, where the
// continuous tail is used) so that rounding can only raise τ.
func Threshold(sigma2 *big.Rat, deltaT float64, maxGroups int64) (int64, error) {
	s2, err := sigma2Float(sigma2, "Threshold")
	if err != nil {
		return 0, err
	}
	if !(deltaT > 0 && deltaT < 1) {
		return 0, fmt.Errorf("%w: Threshold δ_T=%v: must be in (0, 1)", ErrParam, deltaT)
	}
	if maxGroups < 1 {
		return 0, fmt.Errorf("%w: Threshold maxGroups=%d: must be ≥ 1", ErrParam, maxGroups)
	}
	target := deltaT / float64(maxGroups)
	if target < 1e-300 {
		return 0, fmt.Errorf("%w: Threshold δ_T/maxGroups = %v/%d: below 1e-300", ErrParam, deltaT, maxGroups)
	}
	sigma := math.Sqrt(s2)
	if sigma > exactSigmaMax {
		// P[Z ≥ k] ≈ P[N ≥ k - 1/2] = erfc((k - 1/2)/(σ√2))/2.
		k := math.Ceil(0.5 + sigma*math.Sqrt2*math.Erfcinv(2*target*(1-1e-6)))
		return int64(k) + 1, nil
	}
	target *= 1 - 1e-9
	norm := dgNorm(s2)
	// Beyond hi the tail is below e^-40·target: too small to matter next to
	// the 1e-9 margin.
	hi := math.Ceil(sigma*math.Sqrt(2*(math.Log(1/target)+40))) + 1
	tail := 0.0
	for x := hi; x >= -hi; x-- {
		next := tail + dgPMF(x, s2, norm)
		if next > target {
			// P[Z ≥ x+1] ≤ target < P[Z ≥ x]: k = x+1 is the smallest.
			return int64(x+1) + 1, nil
		}
		tail = next
	}
	return 0, fmt.Errorf("dp: Threshold σ²=%v δ_T=%v maxGroups=%d: no threshold found", s2, deltaT, maxGroups)
}
