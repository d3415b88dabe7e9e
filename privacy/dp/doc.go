// Package dp owns fedmesh's differential-privacy arithmetic: exact samplers
// for the noise a site adds, and the zCDP accounting that says what that
// noise costs.
//
// # Sampling
//
// [Bernoulli], [BernoulliExp], [DiscreteLaplace] and [DiscreteGaussian] are
// Algorithms 1–3 of Canonne, Kamath & Steinke, "The Discrete Gaussian for
// Differential Privacy" (NeurIPS 2020, arXiv:2004.00010), followed step by
// step as in the authors' reference discretegauss.py. Parameters are
// *big.Rat, results *big.Int, and every intermediate is an integer or a ratio
// of integers: the output distribution is exactly the stated one, given
// uniform input bits. Uniform integers come from rejection sampling on the
// fewest bits that can hold the range, never from a modulo.
//
// Randomness comes from the io.Reader passed to each call: crypto/rand.Reader
// in production; tests pass a seeded reader so that statistical tests are
// deterministic. A call reads the reader in 64-byte blocks and discards what
// it did not use.
//
// The samplers' running time depends on the sample (they are rejection
// samplers); CKS20 §5.3 discusses this timing channel. A site adds noise to
// many groups per query and releases them together, which blurs it, but the
// package does not claim constant time.
//
// [AddGaussian] and [AddLaplace] add such noise to a value; [Interval95] and
// [Threshold] turn σ² into an error bar and a release threshold for groups.
//
// # Accounting
//
// Budgets are in ρ of zero-concentrated DP (Bun & Steinke 2016): the
// (discrete) Gaussian with L2 sensitivity Δ costs ρ = Δ²/(2σ²) ([GaussianRho],
// [SigmaFor]; CKS20 Theorem 4), ρs add up under composition ([Compose]), pure
// ε-DP is (ε²/2)-zCDP ([PureToRho], [LaplaceEpsilon]), and ρ converts to
// (ε, δ) by the tight bound of CKS20 Corollary 13 ([CDPDelta], [CDPEps],
// [RhoFor]) or the simpler BS16 one ([BS16Eps]). Accounting uses float64,
// rounded so that it can only overstate the privacy loss. The site's durable
// record of what was spent is package privacy/ledger, not this one.
//
// # Must not
//
// Never use floating point to draw noise: a float Laplace or Gaussian leaks
// through the low bits of its output (Mironov, "On Significance of the Least
// Significant Bits for Differential Privacy", CCS 2012). Floats appear only in
// accounting and in the reporting helpers, never on a path that produces a
// sample. Never draw a uniform integer by reducing random bits modulo n.
package dp
