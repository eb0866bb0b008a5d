/**
 * Beta–Bernoulli posteriors and binomial intervals. Pure.
 */

/** A Beta(alpha, beta) distribution: alpha and beta > 0. */
export interface Beta {
  readonly alpha: number;
  readonly beta: number;
}

/** Posterior mean alpha / (alpha + beta), 0..1. */
export function betaMean(b: Beta): number {
  return b.alpha / (b.alpha + b.beta);
}

/** Posterior variance αβ / ((α+β)²(α+β+1)). */
export function betaVariance(b: Beta): number {
  const s = b.alpha + b.beta;
  return (b.alpha * b.beta) / (s * s * (s + 1));
}

/**
 * A central credible interval of a Beta posterior by the normal approximation
 * mean ± z·sd, clipped to 0..1 (z = 1.96 for 95%).
 */
export function credibleInterval(b: Beta, z = 1.96): [number, number] {
  const m = betaMean(b);
  const h = z * Math.sqrt(betaVariance(b));
  return [Math.max(0, m - h), Math.min(1, m + h)];
}

/**
 * The Wilson score interval of a binomial proportion (E. B. Wilson, "Probable inference, the
 * law of succession, and statistical inference", JASA 22, 1927):
 * (p̂ + z²/2n ± z·√(p̂(1−p̂)/n + z²/4n²)) / (1 + z²/n). `n` may be fractional (an effective
 * sample size). With n = 0 it is [0, 1].
 * @param successes - 0..n
 */
export function wilsonInterval(successes: number, n: number, z = 1.96): [number, number] {
  if (n <= 0) return [0, 1];
  const p = successes / n;
  const z2 = z * z;
  const centre = p + z2 / (2 * n);
  const spread = z * Math.sqrt((p * (1 - p)) / n + z2 / (4 * n * n));
  const denominator = 1 + z2 / n;
  return [Math.max(0, (centre - spread) / denominator), Math.min(1, (centre + spread) / denominator)];
}
