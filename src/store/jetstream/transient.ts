/**
 * Retries a JetStream request that failed for a transient reason: no answer in time, no
 * responder yet (JetStream still starting after a server restart), or the connection dropped
 * with the request buffered. A JetStream API error (a refusal: wrong last sequence, not found…)
 * is final and thrown at once. Only idempotent requests go through here; a journal publish is
 * made idempotent by its message id (the server's duplicate window).
 */
import { JetStreamApiCodes, JetStreamApiError } from '@nats-io/jetstream';
import { backoffDelayMs } from '../../core/backoff.js';

/**
 * True when JetStream refused a write because the subject's last sequence was not the one
 * expected: a lost compare-and-set (a journal append, or a KV `create`/`update`).
 */
export const isWrongLastSequence = (error: unknown): boolean =>
  error instanceof JetStreamApiError &&
  (error.code === JetStreamApiCodes.StreamWrongLastSequence ||
    error.code === JetStreamApiCodes.StreamWrongLastSequenceUnknown);

const transientNames = new Set(['TimeoutError', 'NoRespondersError', 'RequestError', 'ConnectionError']);

/** True for a failure worth retrying (see the module doc). */
export const isTransient = (error: unknown): boolean =>
  error instanceof Error && transientNames.has(error.name);

/** How {@link retryTransient} retries. */
export interface TransientRetry {
  /** Attempts in all (1 = no retry). */
  attempts: number;
  /** True when the connection is closed for good: no retry then. */
  closed: () => boolean;
}

/**
 * Runs `op`, retrying transient failures with exponential backoff and full jitter (100 ms
 * doubling, capped at 1 s; M. Brooker, "Exponential Backoff And Jitter", 2015).
 * @throws the last error once `attempts` are spent, or the first non-transient one
 */
export async function retryTransient<T>(op: () => Promise<T>, retry: TransientRetry): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await op();
    } catch (error) {
      if (attempt >= retry.attempts || !isTransient(error) || retry.closed()) throw error;
      const delay = backoffDelayMs(
        { initialDelayMs: 100, maxDelayMs: 1000, multiplier: 2, jitter: 'full' },
        attempt,
        Math.random,
      );
      await new Promise((resolve) => setTimeout(resolve, delay));
    }
  }
}
