import type { Logger } from '../../core/logger.js';
import type { PostedRequest, RunStore } from '../../store/RunStore.js';

/** How often the runs of this process look for requests other processes queued, ms. */
export const INBOX_POLL_MS = 200;

/**
 * Takes the requests (signals, cancellations) that other processes queued in the store for the
 * runs this process executes (`RunStore.post`: the run's lock keeps them from appending), and
 * hands each to `deliver`. Polls every {@link INBOX_POLL_MS} while `runIds()` is not empty; the
 * timer does not keep the process alive.
 */
export class RequestInbox {
  private timer: NodeJS.Timeout | undefined;
  private busy = false;

  constructor(
    private readonly store: RunStore,
    private readonly runIds: () => string[],
    private readonly deliver: (posted: PostedRequest) => void,
    private readonly logger: Logger,
  ) {}

  /** True when the store can queue requests. */
  get supported(): boolean {
    return this.store.takeRequests !== undefined;
  }

  /** Starts polling if it is not already. */
  watch(): void {
    if (!this.supported || this.timer !== undefined) return;
    this.timer = setInterval(() => void this.poll(), INBOX_POLL_MS);
    this.timer.unref();
  }

  /** Takes and delivers what is queued now; stops polling when no run is left. */
  async poll(): Promise<void> {
    const ids = this.runIds();
    if (ids.length === 0) {
      clearInterval(this.timer);
      this.timer = undefined;
      return;
    }
    if (this.busy || !this.store.takeRequests) return;
    this.busy = true;
    try {
      for (const posted of await this.store.takeRequests(ids)) this.deliver(posted);
    } catch (error) {
      this.logger.warn({ err: error }, 'reading the run requests of the store failed');
    } finally {
      this.busy = false;
    }
  }

  stop(): void {
    clearInterval(this.timer);
    this.timer = undefined;
  }
}
