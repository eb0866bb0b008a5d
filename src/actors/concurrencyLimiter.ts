import { ResourceExhaustionError } from '../core/errors.js';

/**
 * At most `max` calls at once; up to `maxQueued` more wait in FIFO order, beyond that a call
 * fails at once with ResourceExhaustionError (retryable) instead of queueing without bound.
 */
export class ConcurrencyLimiter {
  private active = 0;
  private readonly waiting: (() => void)[] = [];

  constructor(
    private readonly max: number,
    private readonly maxQueued: number,
    private readonly label: string,
  ) {}

  get inFlight(): number {
    return this.active;
  }

  get queued(): number {
    return this.waiting.length;
  }

  /** @throws ResourceExhaustionError when the queue is full */
  async run<T>(fn: () => Promise<T>): Promise<T> {
    if (this.active >= this.max) {
      if (this.waiting.length >= this.maxQueued) {
        throw new ResourceExhaustionError(
          `${this.label} is busy: ${this.active} running and ${this.waiting.length} queued`,
          {
            agentId: this.label,
            retryable: true,
          },
        );
      }
      await new Promise<void>((resolve) => this.waiting.push(resolve));
    } else {
      this.active += 1;
    }
    try {
      return await fn();
    } finally {
      const next = this.waiting.shift();
      if (next) next();
      else this.active -= 1;
    }
  }
}
