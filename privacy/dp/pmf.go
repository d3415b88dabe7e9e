package dp

import "math"

// Float helpers for reporting (error bars, thresholds, tests). Nothing here is
// used to draw noise.

// dgNorm returns Σ_{x∈Z} exp(-x²/(2s2)), the discrete Gaussian's normalising
// constant, as in discretegauss.py normalizing_constant: the direct sum for
// s2 ≤ 1 and the Poisson-summation form √(2π·s2)·Σ_y exp(-2π²·s2·y²)
// otherwise, each summed from small terms to large.
func dgNorm(s2 float64) float64 {
	if s2 <= 1 {
		sum := 0.0
		for x := 1000.0; x > 0; x-- {
			sum += math.Exp(-x * x / (2 * s2))
		}
		return 2*sum + 1
	}
	sum := 0.0
	for y := 50.0; y > 0; y-- { // exp(-2π²·50²) underflows: 50 is plenty
		sum += math.Exp(-2 * math.Pi * math.Pi * s2 * y * y)
	}
	return math.Sqrt(2*math.Pi*s2) * (1 + 2*sum)
}

// dgPMF returns P[Z = x] for the discrete Gaussian with σ² = s2 and
// normalising constant norm = dgNorm(s2).
func dgPMF(x, s2, norm float64) float64 { return math.Exp(-x*x/(2*s2)) / norm }

// dlPMF returns P[X = x] for the discrete Laplace with scale t:
// (e^{1/t} - 1)/(e^{1/t} + 1) · e^{-|x|/t}.
func dlPMF(x, t float64) float64 {
	return math.Tanh(1/(2*t)) * math.Exp(-math.Abs(x)/t)
}

// exactSigmaMax is the largest σ for which Interval95 and Threshold sum the
// pmf term by term (O(σ) work, about 10 ms at σ = 10⁶). Above it they use the
// continuous Gaussian, which the discrete one matches to a relative 1e-12 or
// better at these scales (midpoint-rule error O(1/σ²)).
const exactSigmaMax = 1e6
