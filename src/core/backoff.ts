import type { Backoff } from './spec.js';

/**
 * The un-jittered backoff after `attempt` failed attempts (1-based), ms:
 * `min(maxDelayMs, initialDelayMs * multiplier^(attempt-1))`. The one place the formula lives:
 * the step machine's `backoff` delay and {@link backoffDelayMs} both use it.
 */
export function backoffCapMs(
  backoff: Pick<Backoff, 'initialDelayMs' | 'multiplier' | 'maxDelayMs'>,
  attempt: number,
): number {
  return Math.min(
    backoff.maxDelayMs,
    backoff.initialDelayMs * backoff.multiplier ** Math.max(0, attempt - 1),
  );
}

/**
 * Delay before retry attempt `attempt + 1`, after `attempt` failed attempts (1-based), ms:
 * `cap` = {@link backoffCapMs}, then jittered —
 * `full`: uniform in [0, cap]; `equal`: uniform in [cap/2, cap]; `none`: cap.
 * (M. Brooker, "Exponential Backoff And Jitter", AWS Architecture Blog, 2015.)
 *
 * @param random - uniform in [0, 1), injected so tests are deterministic
 */
export function backoffDelayMs(backoff: Backoff, attempt: number, random: () => number): number {
  const cap = backoffCapMs(backoff, attempt);
  switch (backoff.jitter) {
    case 'none':
      return cap;
    case 'full':
      return Math.floor(random() * cap);
    case 'equal':
      return Math.floor(cap / 2 + random() * (cap / 2));
  }
}
