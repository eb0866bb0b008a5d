import type { CancellationSignal } from './cancellation.js';
import { ResourceExhaustionError } from './errors.js';

function abortReason(signal: CancellationSignal | undefined): Error {
  return signal?.reason instanceof Error ? signal.reason : new Error('aborted while waiting for a slot');
}

/** Options of a {@link Semaphore}. */
export interface SemaphoreOptions {
  /** Most callers that may wait at once (integer ≥ 0); beyond it `acquire` fails at once. Default: unbounded. */
  readonly maxWaiting?: number | undefined;
  /** Who owns the permits, for the error of a full queue (e.g. an agent's name). */
  readonly label?: string | undefined;
}

/**
 * A counting semaphore with a FIFO wait queue: `acquire()` resolves when one of `limit`
 * permits is free; `release()` hands it to the oldest waiter. With `maxWaiting`, a caller that
 * would make the queue longer is refused at once with a retryable ResourceExhaustionError
 * instead of queueing without bound (what a served agent needs under overload).
 */
export class Semaphore {
  private inUse = 0;
  private readonly waiters: (() => void)[] = [];
  private readonly maxWaiting: number;
  private readonly label: string;

  /** @param limit - permits (integer ≥ 1) */
  constructor(
    readonly limit: number,
    options: SemaphoreOptions = {},
  ) {
    this.maxWaiting = options.maxWaiting ?? Infinity;
    this.label = options.label ?? 'semaphore';
  }

  /** Permits held now. */
  get active(): number {
    return this.inUse;
  }

  /** Callers waiting for a permit. */
  get waiting(): number {
    return this.waiters.length;
  }

  /** Takes a permit at once if one is free. */
  tryAcquire(): boolean {
    if (this.inUse >= this.limit) return false;
    this.inUse += 1;
    return true;
  }

  /**
   * Resolves once a permit is held.
   * @throws (rejects) `signal.reason` if aborted while waiting; ResourceExhaustionError
   *   (`details.retryable` true) when `maxWaiting` callers already wait
   */
  acquire(signal?: CancellationSignal): Promise<void> {
    if (signal?.aborted) return Promise.reject(abortReason(signal));
    if (this.tryAcquire()) return Promise.resolve();
    if (this.waiters.length >= this.maxWaiting) {
      return Promise.reject(
        new ResourceExhaustionError(
          `${this.label} is busy: ${this.inUse} running and ${this.waiters.length} queued`,
          { agentId: this.label, retryable: true },
        ),
      );
    }
    return new Promise((resolve, reject) => {
      const grant = () => {
        signal?.removeEventListener('abort', onAbort);
        resolve();
      };
      const onAbort = () => {
        const i = this.waiters.indexOf(grant);
        if (i >= 0) this.waiters.splice(i, 1);
        reject(abortReason(signal));
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      this.waiters.push(grant);
    });
  }

  release(): void {
    const next = this.waiters.shift();
    if (next) next();
    else this.inUse = Math.max(0, this.inUse - 1);
  }

  /**
   * Runs `fn` holding a permit, and releases it when `fn` settles.
   * @throws whatever {@link acquire} or `fn` throws
   */
  async run<T>(fn: () => Promise<T>, signal?: CancellationSignal): Promise<T> {
    await this.acquire(signal);
    try {
      return await fn();
    } finally {
      this.release();
    }
  }
}
