package dp

import (
	"crypto/rand"
	"math/big"
)

// Secure draws noise from crypto/rand. It is what a site agent uses; tests
// pass their own io.Reader to the functions instead.
type Secure struct{}

// DiscreteGaussian draws from the discrete Gaussian with variance parameter
// sigma2 (see DiscreteGaussian).
func (Secure) DiscreteGaussian(sigma2 *big.Rat) (*big.Int, error) {
	return DiscreteGaussian(sigma2, rand.Reader)
}
