package dp

import (
	"crypto/rand"
	"math/big"
	"testing"
)

// BenchmarkDiscreteGaussian measures one sample with crypto/rand.Reader, as
// in production.
func BenchmarkDiscreteGaussian(b *testing.B) {
	for _, c := range []struct {
		name string
		s2   *big.Rat
	}{
		{"sigma=10", big.NewRat(100, 1)},
		{"sigma=1e3", big.NewRat(1e6, 1)},
		{"sigma=1e6", big.NewRat(1e12, 1)},
		{"sigma2=1e6/3", big.NewRat(1e6, 3)},
	} {
		b.Run(c.name, func(b *testing.B) {
			for b.Loop() {
				if _, err := DiscreteGaussian(c.s2, rand.Reader); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func BenchmarkDiscreteLaplace(b *testing.B) {
	t := big.NewRat(1000, 1)
	for b.Loop() {
		if _, err := DiscreteLaplace(t, rand.Reader); err != nil {
			b.Fatal(err)
		}
	}
}
