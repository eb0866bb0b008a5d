/**
 * The mixture sequential probability ratio test (mSPRT) for the mean of a normal statistic,
 * with a normal mixing distribution: Johari, Pekelis & Walsh, "Always Valid Inference:
 * Continuous Monitoring of A/B Tests", Operations Research 70(3), 2022 (arXiv:1512.04922,
 * 2015/2017), section 4 and the KDD 2017 paper "Peeking at A/B Tests" (Johari, Koomen,
 * Pekelis, Walsh), equation (11).
 *
 * For an estimate θ̂ of an effect θ with variance V (θ̂ ~ N(θ, V)) and the mixing distribution
 * H = N(θ₀, τ²) over the alternative, the mixture likelihood ratio against H₀: θ = θ₀ is
 *
 *   Λ = ∫ φ(θ̂; θ, V) dH(θ) / φ(θ̂; θ₀, V) = √(V / (V + τ²)) · exp( τ² (θ̂ − θ₀)² / (2 V (V + τ²)) ).
 *
 * Λ is a nonnegative martingale under H₀ with mean 1, so by Ville's inequality
 * P(sup Λₙ ≥ 1/α) ≤ α: rejecting the first time Λₙ ≥ 1/α keeps the type-I error at α however
 * often the data are looked at. Pure functions, no state.
 */

/**
 * log Λ, the log mixture likelihood ratio (see the module comment).
 * @param estimate - θ̂, the observed effect
 * @param variance - V > 0, the variance of θ̂
 * @param mixingVariance - τ² > 0, the variance of the normal mixing distribution
 * @param nullEffect - θ₀, the effect under the null hypothesis (default 0)
 */
export function logMixtureLikelihoodRatio(
  estimate: number,
  variance: number,
  mixingVariance: number,
  nullEffect = 0,
): number {
  const total = variance + mixingVariance;
  const d = estimate - nullEffect;
  return 0.5 * Math.log(variance / total) + (mixingVariance * d * d) / (2 * variance * total);
}

/**
 * Half width of the level-(1 − α) confidence interval that inverts the mSPRT at one look: the
 * set of θ₀ with Λ(θ₀) < 1/α is θ̂ ± √( V (V + τ²) / τ² · (ln((V + τ²) / V) − 2 ln α) ).
 * Intersected over the looks, these intervals form an always-valid confidence sequence.
 * @param variance - V > 0
 * @param mixingVariance - τ² > 0
 * @param alpha - 0 < α < 1
 */
export function confidenceHalfWidth(variance: number, mixingVariance: number, alpha: number): number {
  const total = variance + mixingVariance;
  return Math.sqrt(
    ((variance * total) / mixingVariance) * (Math.log(total / variance) - 2 * Math.log(alpha)),
  );
}
