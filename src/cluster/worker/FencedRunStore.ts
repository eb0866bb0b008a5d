/**
 * The run store a worker's executor writes through: the shared {@link JetStreamRunStore} with
 * every append fenced by the lease the worker holds on that run. A run the worker holds no lease
 * on (never taken, released, lost, or stopped by the worker) cannot be appended to: the append
 * rejects before anything is published, so a worker that lost a run never writes to it again.
 */
import type { JournalEntry, JournalFact } from '../../store/journal.js';
import type { JetStreamRunStore } from '../../store/jetstream/JetStreamRunStore.js';
import type { AppendOptions, CleanupOptions, RunStore } from '../../store/RunStore.js';
import type { ListRunsFilter, RunSummary } from '../../store/summary.js';
import { LeaseLostError } from '../errors.js';
import type { Lease } from '../leases/Lease.js';

/**
 * How an append proves the lease is still held: `check` (default) compares the holder's own
 * deadline with its clock (no I/O); `renew` renews the lease by compare-and-set first (one KV
 * round trip per append). See docs/scaling.md, "Fenced append".
 */
export type FenceMode = 'check' | 'renew';

/** A RunStore whose appends require the caller's lease on the run. */
export class FencedRunStore implements RunStore {
  private readonly leases = new Map<string, Lease>();

  constructor(
    private readonly inner: JetStreamRunStore,
    private readonly mode: FenceMode = 'check',
  ) {}

  /** Lets appends to `runId` through while `lease` holds. */
  hold(runId: string, lease: Lease): void {
    this.leases.set(runId, lease);
  }

  /** Appends to `runId` are refused from now on (the lease ended, or the worker stops). */
  drop(runId: string): void {
    this.leases.delete(runId);
  }

  /**
   * Appends through the lease's fence.
   * @throws {LeaseLostError} when this worker holds no live lease on the run (nothing stored)
   * @throws what {@link JetStreamRunStore.append} throws
   */
  append(runId: string, facts: readonly JournalFact[], options: AppendOptions): Promise<JournalEntry[]> {
    const fence = async (): Promise<void> => {
      const lease = this.leases.get(runId);
      if (lease === undefined) throw new LeaseLostError(runId, 'this worker', 'deleted');
      if (this.mode === 'renew') await lease.fence();
      else lease.check();
    };
    return this.inner.append(runId, facts, { ...options, fence });
  }

  read(runId: string): Promise<JournalEntry[]> {
    return this.inner.read(runId);
  }

  listRuns(filter?: ListRunsFilter): Promise<RunSummary[]> {
    return this.inner.listRuns(filter);
  }

  cleanupRuns(options: CleanupOptions): Promise<string[]> {
    return this.inner.cleanupRuns(options);
  }

  /** The shared store is the worker's to close: this does nothing. */
  async close(): Promise<void> {}
}
