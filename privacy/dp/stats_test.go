package dp

import (
	"math"
	"math/rand/v2"
	"testing"
)

// seeded returns a deterministic reader: statistical tests see the same
// samples on every run, so a fixed threshold cannot flake.
func seeded(seed byte) *rand.ChaCha8 {
	var s [32]byte
	s[0] = seed
	return rand.NewChaCha8(s)
}

// chiCritical returns the chi-square critical value with df degrees of
// freedom at p = 1e-6 (Wilson–Hilferty approximation, z = 4.7534). A correct
// sampler fails it once in a million seeds; a wrong pmf fails it at once.
func chiCritical(df int) float64 {
	const z = 4.7534
	d := float64(df)
	c := 1 - 2/(9*d) + z*math.Sqrt(2/(9*d))
	return d * c * c * c
}

// chiSquare compares integer samples with a pmf symmetric about 0. Central
// bins are the values with expected count ≥ 5; each tail is one pooled bin.
// It returns the statistic and the degrees of freedom.
func chiSquare(samples []int64, pmf func(x int64) float64) (float64, int) {
	n := float64(len(samples))
	var hi int64
	for n*pmf(hi+1) >= 5 {
		hi++
	}
	counts := map[int64]int{}
	var left, right int
	for _, s := range samples {
		switch {
		case s < -hi:
			left++
		case s > hi:
			right++
		default:
			counts[s]++
		}
	}
	stat, central := 0.0, 0.0
	for x := -hi; x <= hi; x++ {
		e := n * pmf(x)
		central += pmf(x)
		d := float64(counts[x]) - e
		stat += d * d / e
	}
	bins := int(2*hi + 1)
	if tail := n * (1 - central) / 2; tail >= 5 {
		for _, o := range []int{left, right} {
			d := float64(o) - tail
			stat += d * d / tail
		}
		bins += 2
	}
	return stat, bins - 1
}

// moments checks the sample mean and variance against the pmf's within six
// standard errors, and the sign balance within six standard deviations.
func moments(t *testing.T, samples []int64, pmf func(x int64) float64, far int64) {
	t.Helper()
	var v, m4 float64 // true variance and fourth moment (mean is 0)
	for x := int64(1); x <= far; x++ {
		p := 2 * pmf(x)
		x2 := float64(x) * float64(x)
		v += x2 * p
		m4 += x2 * x2 * p
	}
	n := float64(len(samples))
	var sum, sq float64
	var pos, neg int
	for _, s := range samples {
		f := float64(s)
		sum += f
		sq += f * f
		if s > 0 {
			pos++
		} else if s < 0 {
			neg++
		}
	}
	mean, variance := sum/n, sq/n
	if se := math.Sqrt(v / n); math.Abs(mean) > 6*se {
		t.Errorf("mean %.4g, want 0 ± %.3g", mean, 6*se)
	}
	if se := math.Sqrt((m4 - v*v) / n); math.Abs(variance-v) > 6*se {
		t.Errorf("variance %.6g, want %.6g ± %.3g", variance, v, 6*se)
	}
	if d := math.Abs(float64(pos - neg)); d > 6*math.Sqrt(float64(pos+neg)) {
		t.Errorf("asymmetric: %d positive, %d negative", pos, neg)
	}
	t.Logf("mean %.4g variance %.6g (true %.6g)", mean, variance, v)
}
