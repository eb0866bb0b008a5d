import type { CancellationSignal } from './cancellation.js';

function abortReason(signal: CancellationSignal | undefined): Error {
  return signal?.reason instanceof Error ? signal.reason : new Error('aborted while waiting for a slot');
}

/**
 * A counting semaphore with a FIFO wait queue: `acquire()` resolves when one of `limit`
 * permits is free; `release()` hands it to the oldest waiter.
 */
export class Semaphore {
  private inUse = 0;
  private readonly waiters: (() => void)[] = [];

  constructor(readonly limit: number) {}

  get active(): number {
    return this.inUse;
  }

  get waiting(): number {
    return this.waiters.length;
  }

  /** Takes a permit at once if one is free. */
  tryAcquire(): boolean {
    if (this.inUse >= this.limit) return false;
    this.inUse += 1;
    return true;
  }

  /** Resolves once a permit is held; rejects with `signal.reason` if aborted while waiting. */
  acquire(signal?: CancellationSignal): Promise<void> {
    if (signal?.aborted) return Promise.reject(abortReason(signal));
    if (this.tryAcquire()) return Promise.resolve();
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
}
