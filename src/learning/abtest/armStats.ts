/**
 * Sufficient statistics of one arm of an A/B test: pure data and pure updates.
 *
 * Response times are those of the successful outcomes only: a run that fails fast is not a fast
 * response, and counting it would let a failing treatment win a response-time test. They are
 * accumulated with Welford's online algorithm (Welford, "Note on a method for calculating
 * corrected sums of squares and products", Technometrics 4(3), 1962), so the variance stays
 * accurate after millions of outcomes.
 */
export interface ArmStats {
  /** Outcomes recorded. */
  readonly n: number;
  /** Outcomes that succeeded (≤ n); also the number of response times in meanMs and m2Ms. */
  readonly successes: number;
  /** Mean response time of the successful outcomes, ms (0 when there is none). */
  readonly meanMs: number;
  /** Sum of squared deviations from meanMs over the successful outcomes, ms² (Welford's M2). */
  readonly m2Ms: number;
}

/** An arm with no outcome. */
export const emptyArm: ArmStats = { n: 0, successes: 0, meanMs: 0, m2Ms: 0 };

/**
 * The arm with one more outcome.
 * @param durationMs - the outcome's response time, ms (finite, ≥ 0); counted only when `success`
 */
export function addOutcome(arm: ArmStats, success: boolean, durationMs: number): ArmStats {
  if (!success) return { ...arm, n: arm.n + 1 };
  const successes = arm.successes + 1;
  const delta = durationMs - arm.meanMs;
  const meanMs = arm.meanMs + delta / successes;
  return { n: arm.n + 1, successes, meanMs, m2Ms: arm.m2Ms + delta * (durationMs - meanMs) };
}

/** Successes / n, 0..1 (0 when n = 0). */
export function armSuccessRate(arm: ArmStats): number {
  return arm.n === 0 ? 0 : arm.successes / arm.n;
}

/** Unbiased sample variance of the successful outcomes' response times, ms² (0 below 2 of them). */
export function armResponseVariance(arm: ArmStats): number {
  return arm.successes < 2 ? 0 : arm.m2Ms / (arm.successes - 1);
}
