import { z } from 'zod';

/**
 * Durations that become timers. Node's `setTimeout` stores the delay as a signed 32-bit
 * integer: a delay above 2^31-1 ms (about 24.8 days) is replaced by 1 ms, so a
 * `timeoutMs: 99999999999` would fire at once (Node.js docs, `setTimeout`: "When delay is
 * larger than 2147483647 or less than 1, the delay will be set to 1"). Every duration the
 * project accepts is checked against this bound instead.
 */

/** The largest delay a timer supports, ms (2^31-1, about 24.8 days). */
export const MAX_TIMER_MS = 2_147_483_647;

/** The largest duration in seconds (for `timeoutSeconds` fields), such that `s * 1000 ≤ MAX_TIMER_MS`. */
export const MAX_TIMER_SECONDS = MAX_TIMER_MS / 1000;

const tooLong = `must be at most ${MAX_TIMER_MS} ms (2^31-1, about 24.8 days: the largest delay timers support)`;

/**
 * A duration in whole ms, 0..2^31-1 ({@link positiveDurationMs} for one that must be positive).
 * Its error names the bound ("must be at most 2147483647 ms …").
 */
const ms = (min: number, tooShort: string) =>
  z
    .number({ error: 'expected a whole number of ms' })
    .int('expected a whole number of ms')
    .min(min, tooShort)
    .max(MAX_TIMER_MS, tooLong);

export const durationMs = ms(0, 'must not be negative');

/** A duration of at least 1 ms and at most 2^31-1 ms. */
export const positiveDurationMs = ms(1, 'must be at least 1 ms');

/** A duration in seconds (fractions allowed), more than 0 and at most (2^31-1)/1000. */
export const durationSeconds = z
  .number({ error: 'expected a number of seconds' })
  .positive('must be more than 0 seconds')
  .max(
    MAX_TIMER_SECONDS,
    `must be at most ${MAX_TIMER_SECONDS} s (2^31-1 ms, about 24.8 days: the largest delay timers support)`,
  );

/**
 * Parses a command-line duration in ms (`--timeout 5000`).
 * @returns the ms, or an error message naming the option and the bound
 */
export function parseDurationText(
  option: string,
  raw: string,
): { ok: true; ms: number } | { ok: false; message: string } {
  const value = raw.trim() === '' ? Number.NaN : Number(raw);
  const parsed = positiveDurationMs.safeParse(value);
  if (parsed.success) return { ok: true, ms: parsed.data };
  const why = Number.isFinite(value)
    ? (parsed.error.issues[0]?.message ?? 'invalid')
    : 'expected a whole number of ms';
  return { ok: false, message: `${option}: ${why}, got "${raw}"` };
}
