package dp

import (
	"errors"
	"fmt"
	"math"
	"math/big"
	"testing"
	"testing/iotest"
)

func TestUniformIsExactAndInRange(t *testing.T) {
	t.Parallel()
	s := newSource(seeded(1))
	const n = 30000
	var counts [3]int
	for range n {
		v, err := s.uniform(3)
		if err != nil {
			t.Fatal(err)
		}
		counts[v]++ // panics if v ≥ 3
	}
	stat := 0.0
	for _, c := range counts {
		d := float64(c) - n/3.0
		stat += d * d / (n / 3.0)
	}
	if crit := chiCritical(2); stat > crit {
		t.Errorf("uniform(3) counts %v: χ²=%.2f > %.2f", counts, stat, crit)
	}
	// A range just above 2^64 + 2^63: the top bit of the draw is 1 about
	// 1/3 of the time, never above the bound.
	m := new(big.Int).Lsh(big.NewInt(3), 63)
	m.Add(m, big.NewInt(1)) // 3·2^63 + 1 = 0b11000…01
	top := 0
	for range 3000 {
		v, err := s.uniformBig(m)
		if err != nil {
			t.Fatal(err)
		}
		if v.Sign() < 0 || v.Cmp(m) >= 0 {
			t.Fatalf("uniformBig(%v) = %v out of range", m, v)
		}
		if v.Bit(64) == 1 {
			top++
		}
	}
	if p := float64(top) / 3000; math.Abs(p-1.0/3) > 0.05 {
		t.Errorf("uniformBig: P[bit 64] = %.3f, want ≈ 1/3", p)
	}
}

func TestBernoulliExactEnds(t *testing.T) {
	t.Parallel()
	r := seeded(2)
	for range 1000 {
		if b, err := Bernoulli(big.NewRat(0, 1), r); err != nil || b {
			t.Fatalf("Bernoulli(0) = %v, %v", b, err)
		}
		if b, err := Bernoulli(big.NewRat(1, 1), r); err != nil || !b {
			t.Fatalf("Bernoulli(1) = %v, %v", b, err)
		}
		if b, err := BernoulliExp(big.NewRat(0, 1), r); err != nil || !b {
			t.Fatalf("BernoulliExp(0) = %v, %v", b, err)
		}
	}
}

func TestBernoulliAndBernoulliExpMatchProbability(t *testing.T) {
	t.Parallel()
	const n = 20000
	tests := []struct {
		name string
		exp  bool // BernoulliExp(gamma) instead of Bernoulli(p)
		r    *big.Rat
	}{
		{"Bernoulli 3/7", false, big.NewRat(3, 7)},
		{"BernoulliExp 1/3", true, big.NewRat(1, 3)},
		{"BernoulliExp 1", true, big.NewRat(1, 1)},
		{"BernoulliExp 3/2", true, big.NewRat(3, 2)},
		{"BernoulliExp 7/3", true, big.NewRat(7, 3)},
		{"BernoulliExp 4", true, big.NewRat(4, 1)},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			r := seeded(byte(10 + i))
			p, _ := tt.r.Float64()
			if tt.exp {
				p = math.Exp(-p)
			}
			hits := 0
			for range n {
				var b bool
				var err error
				if tt.exp {
					b, err = BernoulliExp(tt.r, r)
				} else {
					b, err = Bernoulli(tt.r, r)
				}
				if err != nil {
					t.Fatal(err)
				}
				if b {
					hits++
				}
			}
			d := float64(hits) - n*p
			stat := d * d / (n * p * (1 - p))
			t.Logf("p=%.5f observed %.5f χ²(1)=%.3f", p, float64(hits)/n, stat)
			if crit := chiCritical(1); stat > crit {
				t.Errorf("%d/%d hits, want p=%.5f: χ²=%.2f > %.2f", hits, n, p, stat, crit)
			}
		})
	}
}

func sampleN(t *testing.T, n int, draw func() (*big.Int, error)) []int64 {
	t.Helper()
	out := make([]int64, n)
	for i := range out {
		z, err := draw()
		if err != nil {
			t.Fatal(err)
		}
		out[i] = z.Int64()
	}
	return out
}

func TestDiscreteLaplaceMatchesPMF(t *testing.T) {
	t.Parallel()
	for i, scale := range []*big.Rat{big.NewRat(1, 2), big.NewRat(3, 2), big.NewRat(10, 1)} {
		t.Run("t="+scale.RatString(), func(t *testing.T) {
			t.Parallel()
			r := seeded(byte(20 + i))
			tf, _ := scale.Float64()
			samples := sampleN(t, 30000, func() (*big.Int, error) { return DiscreteLaplace(scale, r) })
			pmf := func(x int64) float64 { return dlPMF(float64(x), tf) }
			stat, df := chiSquare(samples, pmf)
			t.Logf("χ²=%.2f df=%d critical(1e-6)=%.2f", stat, df, chiCritical(df))
			if stat > chiCritical(df) {
				t.Errorf("χ²=%.2f with df=%d > %.2f", stat, df, chiCritical(df))
			}
			moments(t, samples, pmf, int64(60*tf)+10)
		})
	}
}

func TestDiscreteGaussianMatchesPMF(t *testing.T) {
	t.Parallel()
	for i, s2 := range []*big.Rat{big.NewRat(1, 4), big.NewRat(1, 1), big.NewRat(7, 3), big.NewRat(10, 1), big.NewRat(1000, 1)} {
		t.Run("σ²="+s2.RatString(), func(t *testing.T) {
			t.Parallel()
			r := seeded(byte(30 + i))
			f, _ := s2.Float64()
			norm := dgNorm(f)
			samples := sampleN(t, 40000, func() (*big.Int, error) { return DiscreteGaussian(s2, r) })
			pmf := func(x int64) float64 { return dgPMF(float64(x), f, norm) }
			stat, df := chiSquare(samples, pmf)
			t.Logf("χ²=%.2f df=%d critical(1e-6)=%.2f", stat, df, chiCritical(df))
			if stat > chiCritical(df) {
				t.Errorf("χ²=%.2f with df=%d > %.2f", stat, df, chiCritical(df))
			}
			moments(t, samples, pmf, int64(40*math.Sqrt(f))+10)

			// The test has power: σ² off by 10% is rejected.
			wrong := func(x int64) float64 { return dgPMF(float64(x), 1.1*f, dgNorm(1.1*f)) }
			if stat, df := chiSquare(samples, wrong); stat <= chiCritical(df) {
				t.Errorf("samples pass against σ²·1.1 too (χ²=%.2f, df=%d)", stat, df)
			}
		})
	}
}

// TestDiscreteGaussianLargeSigma checks the first two moments where a
// chi-square would need too many samples: σ = 10⁶, σ² = 10¹² (variance of
// the discrete Gaussian equals σ² to within e^{-2π²σ²}).
func TestDiscreteGaussianLargeSigma(t *testing.T) {
	t.Parallel()
	r := seeded(40)
	const n = 5000
	s2 := big.NewRat(1e12, 1)
	var sum, sq float64
	for range n {
		z, err := DiscreteGaussian(s2, r)
		if err != nil {
			t.Fatal(err)
		}
		f, _ := new(big.Float).SetInt(z).Float64()
		sum += f
		sq += f * f
	}
	mean, variance := sum/n, sq/n
	// Standard errors: σ/√n for the mean, σ²·√(2/n) for the variance.
	if math.Abs(mean) > 6*1e6/math.Sqrt(n) {
		t.Errorf("mean %.4g, want 0 ± %.3g", mean, 6*1e6/math.Sqrt(n))
	}
	if math.Abs(variance-1e12) > 6*1e12*math.Sqrt(2.0/n) {
		t.Errorf("variance %.4g, want 1e12 ± %.3g", variance, 6*1e12*math.Sqrt(2.0/n))
	}
}

func TestSamplersRejectBadParameters(t *testing.T) {
	t.Parallel()
	r := seeded(3)
	tests := []struct {
		name string
		call func() error
	}{
		{"Bernoulli p>1", func() error { _, err := Bernoulli(big.NewRat(3, 2), r); return err }},
		{"Bernoulli p<0", func() error { _, err := Bernoulli(big.NewRat(-1, 2), r); return err }},
		{"Bernoulli nil", func() error { _, err := Bernoulli(nil, r); return err }},
		{"BernoulliExp γ<0", func() error { _, err := BernoulliExp(big.NewRat(-1, 2), r); return err }},
		{"DiscreteLaplace t=0", func() error { _, err := DiscreteLaplace(new(big.Rat), r); return err }},
		{"DiscreteGaussian σ²<0", func() error { _, err := DiscreteGaussian(big.NewRat(-1, 1), r); return err }},
	}
	for _, tt := range tests {
		if err := tt.call(); !errors.Is(err, ErrParam) {
			t.Errorf("%s: err = %v, want ErrParam", tt.name, err)
		}
	}
}

func TestSamplerReturnsReaderError(t *testing.T) {
	t.Parallel()
	boom := fmt.Errorf("entropy source down")
	_, err := DiscreteGaussian(big.NewRat(10, 1), iotest.ErrReader(boom))
	if !errors.Is(err, boom) {
		t.Fatalf("err = %v, want it to wrap %v", err, boom)
	}
}

func TestAddGaussianLeavesValueAlone(t *testing.T) {
	t.Parallel()
	v := big.NewInt(1000)
	got, err := AddGaussian(v, big.NewRat(4, 1), seeded(4))
	if err != nil {
		t.Fatal(err)
	}
	if v.Int64() != 1000 {
		t.Errorf("value changed to %v", v)
	}
	if d := got.Int64() - 1000; d < -80 || d > 80 { // 40σ
		t.Errorf("AddGaussian(1000, σ²=4) = %v", got)
	}
	if _, err := AddLaplace(v, big.NewRat(1, 1), seeded(5)); err != nil {
		t.Fatal(err)
	}
}
