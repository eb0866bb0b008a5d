import type { RunEvent } from '../core/events.js';
import type { RunResult } from '../core/result.js';
import type { JournalEntry } from '../store/journal.js';
import type { RunStore } from '../store/RunStore.js';
import { JournalReplay } from './journalEvents.js';

/** Where a {@link StoreFeed} sends what it reads: an InspectorServer. */
export interface StoreFeedTarget {
  publish(event: RunEvent): void;
  record(result: RunResult): void;
}

/** Options of a {@link StoreFeed}. */
export interface StoreFeedOptions {
  /** The kind of a pattern (`sequential`…) for `run.started`; default: unknown (''). */
  readonly patternType?: ((pattern: string) => string) | undefined;
  /** Called (and awaited) with a run's `runStarted` fact before its events are published. */
  readonly onRunStarted?:
    ((fact: Extract<JournalEntry, { kind: 'runStarted' }>) => void | Promise<void>) | undefined;
  /** A run's journal or the store's listing could not be read; the feed goes on. Default: ignored. */
  readonly onError?: ((error: unknown, runId?: string) => void) | undefined;
}

/**
 * Feeds the runs of a durable run store (`FileRunStore`, `.nd/` for the CLI) to the inspector:
 * each run's journal told as RunEvents ({@link JournalReplay}), and its result (with outputs)
 * once finished. {@link poll} reads what the store gained since the last poll, so runs that
 * another process executes appear and advance live while {@link start} polls.
 *
 * @example
 * const feed = new StoreFeed(await FileRunStore.open({ dir: '.nd' }), inspector);
 * await feed.poll();            // every stored run, now on the page
 * const stop = feed.start(1000); // and what the store gains from now on
 */
export class StoreFeed {
  private readonly runs = new Map<string, { replay: JournalReplay; recorded: boolean }>();
  private polling: Promise<number> | undefined;

  constructor(
    private readonly store: Pick<RunStore, 'listRuns' | 'read'>,
    private readonly target: StoreFeedTarget,
    private readonly options: StoreFeedOptions = {},
  ) {}

  /**
   * Publishes what the store holds and was not yet published; resolves with the number of runs
   * seen so far. Concurrent calls share one poll.
   * @throws what the store's `listRuns` throws (a journal that cannot be read is reported to `onError`)
   */
  poll(): Promise<number> {
    this.polling ??= this.readStore().finally(() => (this.polling = undefined));
    return this.polling;
  }

  /** Polls every `intervalMs` (errors go to `onError`); returns the function that stops it. */
  start(intervalMs: number): () => void {
    const timer = setInterval(() => {
      this.poll().catch((error: unknown) => this.options.onError?.(error));
    }, intervalMs);
    timer.unref();
    return () => clearInterval(timer);
  }

  private async readStore(): Promise<number> {
    for (const summary of await this.store.listRuns()) {
      const known = this.runs.get(summary.runId);
      if (known !== undefined && known.replay.lastSeq >= summary.lastSeq) continue;
      try {
        await this.readRun(summary.runId);
      } catch (error) {
        this.options.onError?.(error, summary.runId);
      }
    }
    return this.runs.size;
  }

  private async readRun(runId: string): Promise<void> {
    const journal = await this.store.read(runId);
    let run = this.runs.get(runId);
    if (run === undefined) {
      const first = journal[0];
      if (first?.kind !== 'runStarted') return;
      await this.options.onRunStarted?.(first);
      run = { replay: new JournalReplay(this.options.patternType), recorded: false };
      this.runs.set(runId, run);
    }
    for (const entry of journal) for (const event of run.replay.push(entry)) this.target.publish(event);
    const result = run.replay.result;
    if (result !== undefined && !run.recorded) {
      run.recorded = true;
      this.target.record(result);
    }
  }
}
