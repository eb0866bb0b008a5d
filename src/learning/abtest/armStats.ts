/**
 * Sufficient statistics of one arm of an A/B test: pure data and pure updates.
 *
 * Response times are accumulated with Welford's online algorithm (Welford, "Note on a method
 * for calculating corrected sums of squares and products", Technometrics 4(3), 1962), so the
 * variance stays accurate after millions of outcomes.
 */
export interface ArmStats {
  /** Outcomes recorded. */
  readonly n: number;
  /** Outcomes that succeeded (≤ n). */
  readonly successes: number;
  /** Mean response time, ms (0 when n = 0). */
  readonly meanMs: number;
  /** Sum of squared deviations from the mean response time, ms² (Welford's M2). */
  readonly m2Ms: number;
}

/** An arm with no outcome. */
export const emptyArm: ArmStats = { n: 0, successes: 0, meanMs: 0, m2Ms: 0 };

/**
 * The arm with one more outcome.
 * @param durationMs - the outcome's response time, ms (finite, ≥ 0)
 */
export function addOutcome(arm: ArmStats, success: boolean, durationMs: number): ArmStats {
  const n = arm.n + 1;
  const delta = durationMs - arm.meanMs;
  const meanMs = arm.meanMs + delta / n;
  return {
    n,
    successes: arm.successes + (success ? 1 : 0),
    meanMs,
    m2Ms: arm.m2Ms + delta * (durationMs - meanMs),
  };
}

/** Successes / n, 0..1 (0 when n = 0). */
export function armSuccessRate(arm: ArmStats): number {
  return arm.n === 0 ? 0 : arm.successes / arm.n;
}

/** Unbiased sample variance of the response time, ms² (0 when n < 2). */
export function armResponseVariance(arm: ArmStats): number {
  return arm.n < 2 ? 0 : arm.m2Ms / (arm.n - 1);
}
