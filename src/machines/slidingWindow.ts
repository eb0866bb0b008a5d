/**
 * The sliding window of a circuit breaker: outcome counts in {@link WINDOW_BUCKETS} buckets of
 * `windowMs / 10` each, after Netflix Hystrix's "rolling statistical window". Memory stays constant
 * whatever the call rate; the price is that the window slides in steps of one bucket. Pure functions.
 */

/** Number of buckets the sliding window is cut into; the window slides in steps of `windowMs / 10`. */
export const WINDOW_BUCKETS = 10;

/** Outcomes of one bucket of the sliding window; `start` is epoch ms, a multiple of the bucket length. */
export interface WindowBucket {
  readonly start: number;
  readonly successes: number;
  readonly failures: number;
}

/** Length of one window bucket, ms (at least 1). */
export function bucketLength(windowMs: number): number {
  return Math.max(1, Math.ceil(windowMs / WINDOW_BUCKETS));
}

/**
 * Adds `count` outcomes (default 1) at `at` (epoch ms) and drops buckets that left the window. An outcome older than the
 * newest bucket (clock skew) is added to the newest bucket.
 */
export function recordOutcome(
  window: readonly WindowBucket[],
  at: number,
  ok: boolean,
  windowMs: number,
  count = 1,
): WindowBucket[] {
  const length = bucketLength(windowMs);
  const start = Math.floor(at / length) * length;
  const kept = window.filter((bucket) => bucket.start > at - windowMs);
  const last = kept[kept.length - 1];
  if (last !== undefined && last.start >= start) {
    kept[kept.length - 1] = {
      start: last.start,
      successes: last.successes + (ok ? count : 0),
      failures: last.failures + (ok ? 0 : count),
    };
  } else {
    kept.push({ start, successes: ok ? count : 0, failures: ok ? 0 : count });
  }
  return kept;
}

/** Totals of the window as seen at `now` (epoch ms); `failureRate` is 0..1, 0 when empty. */
export function windowStats(
  window: readonly WindowBucket[],
  now: number,
  windowMs: number,
): { total: number; failures: number; failureRate: number } {
  let total = 0;
  let failures = 0;
  for (const bucket of window) {
    if (bucket.start <= now - windowMs) continue;
    total += bucket.successes + bucket.failures;
    failures += bucket.failures;
  }
  return { total, failures, failureRate: total === 0 ? 0 : failures / total };
}
