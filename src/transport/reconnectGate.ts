import type { CancellationSignal } from '../core/cancellation.js';
import { TransportError } from './Transport.js';

interface Waiter {
  resolve(): void;
  reject(error: Error): void;
}

/**
 * Where requests wait while the connection is down ("dispatch paused"): each waits for
 * {@link open} within its own timeout, at most `maxWaiting` at once (more fail at once with a
 * `disconnected` TransportError rather than being buffered without bound).
 */
export class ReconnectGate {
  private readonly waiters = new Set<Waiter>();

  /** @param maxWaiting - requests that may wait at once */
  constructor(private readonly maxWaiting: number) {}

  /**
   * Resolves at the next {@link open}.
   * @param timeoutMs - how long to wait, ms (Infinity: no limit)
   * @throws TransportError `disconnected` (too many waiting), `timeout`, `aborted`, or the error given to {@link fail}
   */
  wait(subject: string, timeoutMs: number, signal?: CancellationSignal): Promise<void> {
    const aborted = () =>
      new TransportError('aborted', subject, `request to ${subject} aborted while disconnected`);
    if (signal?.aborted) return Promise.reject(aborted());
    if (this.waiters.size >= this.maxWaiting) {
      return Promise.reject(
        new TransportError(
          'disconnected',
          subject,
          `disconnected from NATS: ${this.waiters.size} requests already wait for the reconnect`,
        ),
      );
    }
    return new Promise<void>((resolve, reject) => {
      const settle = (error?: Error) => {
        clearTimeout(timer);
        signal?.removeEventListener('abort', onAbort);
        this.waiters.delete(waiter);
        if (error) reject(error);
        else resolve();
      };
      const waiter: Waiter = { resolve: () => settle(), reject: (e) => settle(e) };
      const onAbort = () => settle(aborted());
      const timer = Number.isFinite(timeoutMs)
        ? setTimeout(
            () =>
              settle(
                new TransportError(
                  'timeout',
                  subject,
                  `request to ${subject} timed out after ${timeoutMs} ms while disconnected from NATS`,
                ),
              ),
            timeoutMs,
          )
        : undefined;
      signal?.addEventListener('abort', onAbort, { once: true });
      this.waiters.add(waiter);
    });
  }

  /** Lets every waiting request go (the connection is back). */
  open(): void {
    for (const w of [...this.waiters]) w.resolve();
  }

  /** Fails every waiting request with `error` (the connection closed). */
  fail(error: Error): void {
    for (const w of [...this.waiters]) w.reject(error);
  }
}
