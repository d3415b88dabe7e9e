package dp

import (
	"errors"
	"fmt"
	"io"
	"math/big"
)

// The samplers below follow Canonne, Kamath & Steinke, "The Discrete Gaussian
// for Differential Privacy" (NeurIPS 2020, arXiv:2004.00010), Algorithms 1–3,
// step by step as in the authors' reference discretegauss.py. Every quantity
// is an integer or a ratio of integers; the only randomness is [source].
//
// Internally a rational is a pair (num, den) of *big.Int, num ≥ 0, den > 0,
// not necessarily reduced: Bernoulli(num/den) draws uniformly from [0, den),
// which is exact whether or not the fraction is reduced.

// ErrParam is wrapped by every error about an invalid parameter.
var ErrParam = errors.New("dp: invalid parameter")

// Bernoulli returns true with probability exactly p, 0 ≤ p ≤ 1.
func Bernoulli(p *big.Rat, rnd io.Reader) (bool, error) {
	if p == nil || p.Sign() < 0 || p.Cmp(big.NewRat(1, 1)) > 0 {
		return false, fmt.Errorf("%w: Bernoulli p=%v: must be in [0, 1]", ErrParam, p)
	}
	return newSource(rnd).bernoulli(p.Num(), p.Denom())
}

// BernoulliExp returns true with probability exactly exp(-gamma), gamma ≥ 0
// (CKS20 Algorithm 1, with the decomposition for gamma > 1).
func BernoulliExp(gamma *big.Rat, rnd io.Reader) (bool, error) {
	if gamma == nil || gamma.Sign() < 0 {
		return false, fmt.Errorf("%w: BernoulliExp gamma=%v: must be ≥ 0", ErrParam, gamma)
	}
	return newSource(rnd).bernoulliExp(gamma.Num(), gamma.Denom())
}

// DiscreteLaplace returns X with P[X = x] ∝ exp(-|x|/t) over the integers,
// t > 0 (CKS20 Algorithm 2).
func DiscreteLaplace(t *big.Rat, rnd io.Reader) (*big.Int, error) {
	if t == nil || t.Sign() <= 0 {
		return nil, fmt.Errorf("%w: DiscreteLaplace scale t=%v: must be > 0", ErrParam, t)
	}
	return newSource(rnd).discreteLaplace(t.Num(), t.Denom())
}

// DiscreteGaussian returns X with P[X = x] ∝ exp(-x²/(2σ²)) over the
// integers, sigma2 = σ² > 0 (CKS20 Algorithm 3). The result is a *big.Int, so
// it cannot overflow; |X| exceeds 40σ with probability below e^-800.
func DiscreteGaussian(sigma2 *big.Rat, rnd io.Reader) (*big.Int, error) {
	if sigma2 == nil || sigma2.Sign() <= 0 {
		return nil, fmt.Errorf("%w: DiscreteGaussian σ²=%v: must be > 0", ErrParam, sigma2)
	}
	return newSource(rnd).discreteGaussian(sigma2.Num(), sigma2.Denom())
}

// bernoulli returns true with probability num/den.
func (s *source) bernoulli(num, den *big.Int) (bool, error) {
	if den.IsUint64() && num.IsUint64() {
		u, err := s.uniform(den.Uint64())
		return u < num.Uint64(), err
	}
	u, err := s.uniformBig(den)
	if err != nil {
		return false, err
	}
	return u.Cmp(num) < 0, nil
}

// bernoulliExp1 returns true with probability exp(-num/den), for
// 0 ≤ num/den ≤ 1 (CKS20 Algorithm 1): draw A_k ~ Bernoulli(x/k) for
// k = 1, 2, … until the first A_k = 0, and return whether that k is odd.
func (s *source) bernoulliExp1(num, den *big.Int) (bool, error) {
	k := 1
	dk := new(big.Int).Set(den) // den·k, so Bernoulli(x/k) = Bernoulli(num/dk)
	for {
		b, err := s.bernoulli(num, dk)
		if err != nil {
			return false, err
		}
		if !b {
			return k%2 == 1, nil
		}
		k++
		dk.Add(dk, den)
	}
}

// bernoulliExp returns true with probability exp(-num/den), num/den ≥ 0:
// while x > 1, draw Bernoulli(exp(-1)) and stop with false on the first 0,
// else subtract 1; finally draw Bernoulli(exp(-x)) with x in [0, 1]. The
// product of the draws' probabilities is exp(-x) exactly.
func (s *source) bernoulliExp(num, den *big.Int) (bool, error) {
	x := new(big.Int).Set(num)
	for x.Cmp(den) > 0 {
		b, err := s.bernoulliExp1(one, one)
		if err != nil || !b {
			return false, err
		}
		x.Sub(x, den)
	}
	return s.bernoulliExp1(x, den)
}

// geometricExp1 returns the number of successes before the first failure of
// Bernoulli(exp(-1)) trials: Geometric(1 - exp(-1)) on {0, 1, …}.
func (s *source) geometricExp1() (*big.Int, error) {
	k := new(big.Int)
	for {
		b, err := s.bernoulliExp1(one, one)
		if err != nil {
			return nil, err
		}
		if !b {
			return k, nil
		}
		k.Add(k, one)
	}
}

// geometricExp returns a sample of Geometric(1 - exp(-n/d)) on {0, 1, …},
// n, d > 0, as in CKS20 Algorithm 2 steps 1–5 (sample_geometric_exp_fast):
// U uniform on [0, d) accepted with probability exp(-U/d), V ~
// Geometric(1 - exp(-1)), result ⌊(V·d + U)/n⌋.
func (s *source) geometricExp(n, d *big.Int) (*big.Int, error) {
	var u *big.Int
	for {
		var err error
		if u, err = s.uniformBig(d); err != nil {
			return nil, err
		}
		b, err := s.bernoulliExp(u, d)
		if err != nil {
			return nil, err
		}
		if b {
			break
		}
	}
	v, err := s.geometricExp1()
	if err != nil {
		return nil, err
	}
	v.Mul(v, d).Add(v, u)
	return v.Quo(v, n), nil // both non-negative: Quo is floor division
}

// discreteLaplace samples the discrete Laplace with scale t = a/b (CKS20
// Algorithm 2): a fair sign B and a magnitude Y ~ Geometric(1 - exp(-1/t));
// reject (B = 1, Y = 0) so that 0 is not counted twice; return (1-2B)·Y.
func (s *source) discreteLaplace(a, b *big.Int) (*big.Int, error) {
	for {
		sign, err := s.bits(1)
		if err != nil {
			return nil, err
		}
		// 1/t = b/a: numerator b, denominator a.
		mag, err := s.geometricExp(b, a)
		if err != nil {
			return nil, err
		}
		if sign == 1 && mag.Sign() == 0 {
			continue
		}
		if sign == 1 {
			mag.Neg(mag)
		}
		return mag, nil
	}
}

// discreteGaussian samples the discrete Gaussian with σ² = p/q (CKS20
// Algorithm 3): t = ⌊σ⌋ + 1; draw Y from the discrete Laplace with scale t
// and accept it with probability exp(-(|Y| - σ²/t)² / (2σ²)).
//
// With σ² = p/q the exponent is (|Y|·t·q - p)² / (2·p·q·t²), an exact ratio
// of integers.
func (s *source) discreteGaussian(p, q *big.Int) (*big.Int, error) {
	// ⌊√(p/q)⌋ = ⌊√⌊p/q⌋⌋: for an integer a, a² ≤ p/q iff a² ≤ ⌊p/q⌋.
	t := new(big.Int).Quo(p, q)
	t.Sqrt(t).Add(t, one)
	tq := new(big.Int).Mul(t, q)
	den := new(big.Int).Mul(t, t)
	den.Mul(den, p).Mul(den, q).Mul(den, two)
	num := new(big.Int)
	for {
		y, err := s.discreteLaplace(t, one)
		if err != nil {
			return nil, err
		}
		num.Abs(y).Mul(num, tq).Sub(num, p)
		num.Mul(num, num)
		ok, err := s.bernoulliExp(num, den)
		if err != nil {
			return nil, err
		}
		if ok {
			return y, nil
		}
	}
}
