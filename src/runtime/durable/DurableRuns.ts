import { z } from 'zod';
import { PatternExecutionError, PatternValidationError } from '../../core/errors.js';
import type { RunEventListener } from '../../core/events.js';
import type { RunResult } from '../../core/result.js';
import { parseWith } from '../../core/validate.js';
import { isRunStoreError, StoreErrorCode } from '../../store/errors.js';
import { runIdSchema, type JournalEntry, type JournalFact } from '../../store/journal.js';
import { generateRunId, type CleanupOptions, type RunStore } from '../../store/RunStore.js';
import type { ListRunsFilter, RunSummary } from '../../store/summary.js';
import type { RunLauncher } from '../executor/RunLauncher.js';
import { INBOX_POLL_MS } from './RequestInbox.js';
import { asJson } from './RunJournal.js';
import { runDetails, type RunDetails } from './runDetails.js';

/** Options of `resume` (and of each run `recover` resumes). */
export interface ResumeOptions {
  /** Resume even though the pattern changed since the run started. */
  allowChangedPattern?: boolean;
  onEvent?: RunEventListener;
  signal?: AbortSignal;
}

/** A run `recover()` resumed: its id and pattern, and its result once it ends. */
export interface RecoveredRun {
  readonly runId: string;
  readonly pattern: string;
  readonly result: Promise<RunResult>;
}

/**
 * How `signal` reached the run: `delivered` to it (it executes in this process), `posted` to the
 * process that executes it (through the store), or `journaled` for a run no process executes
 * (it sees the signal when resumed).
 */
export type SignalDelivery = 'delivered' | 'posted' | 'journaled';

/** Options of `forkRun`. */
export interface ForkOptions {
  /** The first step to execute again (a step name, or its journal key `pattern/step`). */
  fromStep: string;
  /** The new run's id (default: a new UUID). */
  runId?: string;
  onEvent?: RunEventListener;
}

const resumeSchema = z
  .object({
    allowChangedPattern: z.boolean().optional(),
    onEvent: z.custom<RunEventListener>((f) => typeof f === 'function').optional(),
    signal: z.custom<AbortSignal>((s) => s instanceof AbortSignal).optional(),
  })
  .strict();
const forkSchema = z
  .object({
    fromStep: z.string().min(1),
    runId: runIdSchema.optional(),
    onEvent: z.custom<RunEventListener>((f) => typeof f === 'function').optional(),
  })
  .strict();
const signalNameSchema = z.string().min(1).max(200);

/** True for the error of a store whose run another live process holds. */
const heldElsewhere = (error: unknown): boolean =>
  isRunStoreError(error, StoreErrorCode.UNAVAILABLE) &&
  (error as { details: { pid?: number } }).details.pid !== undefined;

/** Facts copied into a fork for the steps it keeps. */
const STEP_FACTS = new Set<JournalEntry['kind']>([
  'attemptDispatched',
  'stepCompleted',
  'stepFailed',
  'retryDue',
]);

/**
 * The durable-runs API of the executor: resume, recover, list, inspect, cancel, fork and signal
 * runs journaled in a {@link RunStore}. See docs/durability.md.
 */
export class DurableRuns {
  constructor(
    private readonly store: RunStore | undefined,
    private readonly launcher: RunLauncher,
  ) {}

  /** @throws PatternValidationError when the executor has no store */
  private need(what: string): RunStore {
    if (this.store === undefined) {
      throw new PatternValidationError(
        `${what} needs a run store: new PatternExecutor(registry, { store }) (e.g. FileRunStore.open({ dir: '.nd' }))`,
        { field: 'store' },
      );
    }
    return this.store;
  }

  /** The run's journal; throws when it has none. */
  private async journalOf(store: RunStore, runId: string): Promise<JournalEntry[]> {
    parseWith(runIdSchema, runId, 'runId');
    const entries = await store.read(runId);
    if (entries.length === 0) {
      throw new PatternExecutionError(`No run "${runId}" in the store`, { runId, field: 'runId' });
    }
    return entries;
  }

  async resume(runId: string, options: ResumeOptions = {}): Promise<RunResult> {
    const store = this.need('resume');
    const o = parseWith(resumeSchema, options, 'resume options');
    const live = this.launcher.live.get(runId);
    if (live) return live.result;
    const entries = await this.journalOf(store, runId);
    const started = entries[0] as Extract<JournalEntry, { kind: 'runStarted' }>;
    return this.launcher.run(started.pattern, undefined, { ...o, runId });
  }

  async recover(options: ResumeOptions = {}): Promise<RecoveredRun[]> {
    const store = this.need('recover');
    const unfinished = await store.listRuns({ status: ['running', 'waiting'] });
    return unfinished
      .filter((r) => !this.launcher.live.has(r.runId))
      .map((r) => ({ runId: r.runId, pattern: r.pattern, result: this.resume(r.runId, options) }));
  }

  listRuns(filter: ListRunsFilter = {}): Promise<RunSummary[]> {
    return this.need('listRuns').listRuns(filter);
  }

  async getRun(runId: string): Promise<RunDetails | undefined> {
    const store = this.need('getRun');
    parseWith(runIdSchema, runId, 'runId');
    return runDetails(await store.read(runId));
  }

  cleanupRuns(options: CleanupOptions): Promise<string[]> {
    return this.need('cleanupRuns').cleanupRuns(options);
  }

  async cancelRun(runId: string, reason?: string): Promise<RunResult> {
    const live = this.launcher.live.get(runId);
    if (live) {
      live.cancel(reason);
      return live.result;
    }
    const store = this.need('cancelRun');
    const entries = await this.journalOf(store, runId);
    this.assertUnfinished(entries, runId, 'cancel');
    try {
      if (!entries.some((e) => e.kind === 'cancelRequested')) {
        await this.appendTo(store, runId, entries, {
          kind: 'cancelRequested',
          ...(reason === undefined ? {} : { reason }),
        });
      }
      return await this.resume(runId, { allowChangedPattern: true });
    } catch (error) {
      if (!heldElsewhere(error) || !store.post) throw error;
      // another process executes the run: ask it, and wait for the run to finish cancelling
      await store.post(runId, { kind: 'cancel', ...(reason === undefined ? {} : { reason }) });
      return this.whenFinished(store, runId);
    }
  }

  /** Polls the store until the run has finished; resolves with its result. */
  private async whenFinished(store: RunStore, runId: string): Promise<RunResult> {
    for (;;) {
      const entries = await store.read(runId);
      const last = entries[entries.length - 1];
      if (last?.kind === 'runFinished') return last.result;
      await new Promise((resolve) => setTimeout(resolve, INBOX_POLL_MS));
    }
  }

  async forkRun(runId: string, options: ForkOptions): Promise<RunResult> {
    const store = this.need('forkRun');
    const o = parseWith(forkSchema, options, 'forkRun options');
    const entries = await this.journalOf(store, runId);
    const started = entries[0] as Extract<JournalEntry, { kind: 'runStarted' }>;
    const shape = started.steps ?? [];
    const at = shape.findIndex((s) => s.step === o.fromStep || s.step.endsWith(`/${o.fromStep}`));
    if (at < 0) {
      throw new PatternValidationError(
        `Run ${runId} has no step "${o.fromStep}" (steps: ${shape.map((s) => s.step).join(', ') || 'none recorded'})`,
        { field: 'fromStep', runId },
      );
    }
    const kept = new Set(
      shape
        .slice(0, at)
        .map((s) => s.step)
        .filter((key) => entries.some((e) => e.kind === 'stepCompleted' && e.step === key)),
    );
    const { runId: _id, seq: _seq, at: _at, deadlineAt: _deadline, ...start } = started;
    const facts: JournalFact[] = [start];
    for (const e of entries) {
      if (!STEP_FACTS.has(e.kind) || !kept.has((e as { step: string }).step)) continue;
      const { runId: _r, seq: _s, ...fact } = e;
      facts.push(fact);
    }
    const newId = o.runId ?? generateRunId();
    await store.append(newId, facts, { expectedSeq: 0 });
    return this.resume(newId, o.onEvent ? { onEvent: o.onEvent } : {});
  }

  /**
   * Delivers signal `name` to a run: to the run itself when this process executes it, else
   * journaled in the store (the run sees it when it resumes).
   * @throws PatternExecutionError for an unknown or finished run
   */
  async signal(runId: string, name: string, payload?: unknown): Promise<SignalDelivery> {
    parseWith(signalNameSchema, name, 'signal name');
    const live = this.launcher.live.get(runId);
    if (live?.journal) {
      live.journal.deliverSignal(name, payload);
      return 'delivered';
    }
    const store = this.need('signal');
    const entries = await this.journalOf(store, runId);
    this.assertUnfinished(entries, runId, 'signal');
    const json = asJson(payload);
    try {
      await this.appendTo(store, runId, entries, {
        kind: 'signalReceived',
        signal: name,
        ...(json === undefined ? {} : { payload: json }),
      });
    } catch (error) {
      if (!heldElsewhere(error) || !store.post) throw error;
      await store.post(runId, {
        kind: 'signal',
        signal: name,
        ...(json === undefined ? {} : { payload: json }),
      });
      return 'posted';
    }
    return 'journaled';
  }

  /**
   * Suspends a run this process executes: nothing more is journaled, its actors stop, and its
   * `run()` rejects with a PatternExecutionError; it can be resumed (or cancelled) later.
   * @throws PatternExecutionError when this process does not execute the run
   */
  async suspendRun(runId: string): Promise<void> {
    const live = this.launcher.live.get(runId);
    if (!live) throw new PatternExecutionError(`Run ${runId} is not executing in this process`, { runId });
    await live.suspend();
  }

  private assertUnfinished(entries: readonly JournalEntry[], runId: string, what: string): void {
    const last = entries[entries.length - 1];
    if (last?.kind === 'runFinished') {
      throw new PatternExecutionError(
        `Cannot ${what} run ${runId}: it has finished (${last.result.status})`,
        {
          runId,
        },
      );
    }
  }

  /** Appends one fact after `entries`; a run another process executes is named in the error. */
  private async appendTo(
    store: RunStore,
    runId: string,
    entries: readonly JournalEntry[],
    fact: JournalFact,
  ): Promise<void> {
    try {
      await store.append(runId, [fact], { expectedSeq: entries.length });
    } catch (error) {
      if (isRunStoreError(error, StoreErrorCode.CONFLICT)) {
        throw new PatternExecutionError(`Run ${runId} changed while it was being updated: try again`, {
          runId,
        });
      }
      throw error;
    }
  }
}
