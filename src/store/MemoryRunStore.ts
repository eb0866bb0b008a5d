/**
 * A {@link RunStore} in memory: journals live as long as the process. Entries are stored and
 * returned as JSON copies, so they read back exactly as from the embedded store.
 */
import { systemClock, type Clock } from '../core/clock.js';
import { conflictError, RunStoreError, StoreErrorCode } from './errors.js';
import type { JournalEntry, JournalFact } from './journal.js';
import {
  buildEntries,
  cleanupCutoff,
  selectRuns,
  type AppendOptions,
  type CleanupOptions,
  type RunStore,
} from './RunStore.js';
import {
  applyEntry,
  cloneState,
  isExpired,
  type ListRunsFilter,
  type RunState,
  type RunSummary,
} from './summary.js';

/** Options of {@link MemoryRunStore}. */
export interface MemoryRunStoreOptions {
  /** Time source for default `at` values and `cleanupRuns`. Default: the wall clock. */
  clock?: Clock;
}

interface StoredRun {
  state: RunState;
  /** Entries as JSON text, so callers can't mutate what is stored. */
  entries: string[];
}

/** A run store in memory; see {@link RunStore} for the contract. */
export class MemoryRunStore implements RunStore {
  private readonly runs = new Map<string, StoredRun>();
  private readonly clock: Clock;
  private closed = false;

  constructor(options: MemoryRunStoreOptions = {}) {
    this.clock = options.clock ?? systemClock;
  }

  async append(
    runId: string,
    facts: readonly JournalFact[],
    options: AppendOptions,
  ): Promise<JournalEntry[]> {
    this.assertOpen();
    const entries = buildEntries(runId, facts, options, this.clock);
    const run = this.runs.get(runId);
    const lastSeq = run?.state.summary.lastSeq ?? 0;
    if (options.expectedSeq !== lastSeq) throw conflictError(runId, options.expectedSeq, lastSeq);
    // Validate the whole batch on a scratch copy first: all facts are stored or none.
    let state = run === undefined ? undefined : cloneState(run.state);
    for (const entry of entries) state = applyEntry(state, entry);
    const texts = entries.map((e) => JSON.stringify(e));
    if (run === undefined) this.runs.set(runId, { state: state!, entries: texts });
    else {
      run.state = state!;
      run.entries.push(...texts);
    }
    return texts.map((t) => JSON.parse(t) as JournalEntry);
  }

  async read(runId: string): Promise<JournalEntry[]> {
    this.assertOpen();
    return (this.runs.get(runId)?.entries ?? []).map((t) => JSON.parse(t) as JournalEntry);
  }

  async listRuns(filter: ListRunsFilter = {}): Promise<RunSummary[]> {
    this.assertOpen();
    return selectRuns(this.runs.values(), filter);
  }

  async cleanupRuns(options: CleanupOptions): Promise<string[]> {
    this.assertOpen();
    const cutoff = cleanupCutoff(options, this.clock);
    const removed: string[] = [];
    for (const [runId, run] of this.runs) {
      if (isExpired(run.state.summary, cutoff)) {
        this.runs.delete(runId);
        removed.push(runId);
      }
    }
    return removed.sort();
  }

  async close(): Promise<void> {
    this.closed = true;
  }

  private assertOpen(): void {
    if (this.closed) throw new RunStoreError(StoreErrorCode.UNAVAILABLE, 'The run store is closed');
  }
}
