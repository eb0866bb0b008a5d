import type { z } from 'zod';
import type { Logger } from '../../core/logger.js';
import type { JournalEntry, JournalFact } from '../../store/journal.js';
import type { RunStore } from '../../store/RunStore.js';
import {
  buildIndex,
  historyOf,
  type RecordedOutcome,
  type ReplayIndex,
  type StepHistory,
} from './replayIndex.js';

/** A JSON value, as journal payloads are. */
export type JsonValue = z.infer<ReturnType<typeof z.json>>;

/** A value as it reads back from the journal (JSON); `undefined` stays `undefined`. */
export function asJson(value: unknown): JsonValue | undefined {
  if (value === undefined) return undefined;
  const text = JSON.stringify(value);
  return text === undefined ? undefined : (JSON.parse(text) as JsonValue);
}

/**
 * The journal of one live run: records the run's facts in its {@link RunStore} (batched per
 * tick, in order, each batch appended with the run's last seq as `expectedSeq`) and answers
 * what the journal said before this process took the run over, so the runtime can replay
 * recorded outcomes instead of calling agents again.
 *
 * Replay is ordered: recorded outcomes are delivered in journal order (a step asks for its
 * outcome when its machine starts the attempt; an outcome whose turn has not come waits for the
 * earlier ones). The pattern machines are deterministic given their events, so this rebuilds
 * the same machine state; should a resumed run diverge (its pattern changed and the caller
 * allowed it), the outcomes still waiting are delivered on the next turn of the event loop.
 */
export class RunJournal {
  /** What the journal held when this process took the run. */
  readonly index: ReplayIndex;
  /** Seq of the last fact appended (or read). */
  private lastSeq: number;
  private batch: JournalFact[] = [];
  /** The append in flight, if any. */
  private appending: Promise<void> | undefined;
  private failed: Error | undefined;
  /** Set by {@link freeze}: facts recorded later are dropped. */
  private frozen = false;
  /** Replay: index in `index.outcomeOrder` of the next outcome to deliver, and outcomes waiting for their turn. */
  private next = 0;
  private readonly ready = new Map<string, () => void>();
  private stallCheck = false;
  /** Steps waiting for a signal, by signal name. */
  private readonly signalWaiters = new Map<string, Set<(payload: unknown) => void>>();

  constructor(
    /** undefined: nothing is persisted (a run without a store whose steps wait for signals). */
    private readonly store: RunStore | undefined,
    readonly runId: string,
    entries: readonly JournalEntry[],
    private readonly onFailure: (error: unknown) => void,
    private readonly logger: Logger,
  ) {
    this.index = buildIndex(entries);
    this.lastSeq = entries.length;
  }

  /** True when the journal held facts before this process took the run (a resumed run). */
  get resumed(): boolean {
    return this.lastSeq > 1 || this.index.steps.size > 0;
  }

  /** The recorded history of step `key` (empty for a step the journal never mentioned). */
  history(key: string): StepHistory {
    return historyOf(this.index, key);
  }

  /** The recorded outcome of attempt `attempt` of step `key`, if any. */
  outcome(key: string, attempt: number): RecordedOutcome | undefined {
    return this.index.steps.get(key)?.outcomes.get(attempt);
  }

  /**
   * Records a fact. It is appended on the next microtask with the others of this tick; a failed
   * append (the store is down, another writer took the run) is reported once to `onFailure`.
   */
  record(fact: JournalFact): void {
    if (this.failed !== undefined || this.store === undefined || this.frozen) return;
    this.batch.push(fact);
    if (this.batch.length === 1 && this.appending === undefined) queueMicrotask(() => this.flush());
  }

  /** Resolves once every fact recorded so far is durable; rejects with the store's error if one failed. */
  async durable(): Promise<void> {
    while (this.failed === undefined && (this.appending !== undefined || this.batch.length > 0)) {
      if (this.appending === undefined) this.flush();
      await this.appending;
    }
    if (this.failed !== undefined) throw this.failed;
  }

  /**
   * Stops recording (a suspended run): the facts recorded so far are still appended; what the
   * run does afterwards (aborted attempts) is not journaled, so a resume re-dispatches them.
   */
  freeze(): Promise<void> {
    const done = this.durable();
    this.frozen = true;
    return done;
  }

  /**
   * Appends what was recorded, one append at a time: facts recorded while an append is in flight
   * go out together in the next one (group commit at the run's level).
   */
  private flush(): void {
    if (this.appending !== undefined || this.batch.length === 0 || this.store === undefined) return;
    if (this.failed !== undefined) return;
    const facts = this.batch;
    this.batch = [];
    this.appending = this.store.append(this.runId, facts, { expectedSeq: this.lastSeq }).then(
      () => {
        this.lastSeq += facts.length;
        this.appending = undefined;
        this.flush();
      },
      (error: unknown) => {
        this.failed = error instanceof Error ? error : new Error(String(error));
        this.appending = undefined;
        this.logger.error({ runId: this.runId, err: error }, 'journal append failed: the run stops');
        this.onFailure(this.failed);
      },
    );
  }

  /**
   * Delivers the recorded outcome of `key`'s attempt `attempt` through `deliver`, in journal
   * order: now if its turn has come, else once the outcomes before it are delivered.
   */
  replay(key: string, attempt: number, deliver: () => void): void {
    const id = `${key}#${attempt}`;
    if (this.index.outcomeOrder[this.next] !== id) {
      this.ready.set(id, deliver);
      this.watchStall();
      return;
    }
    this.next += 1;
    deliver();
    this.drain();
  }

  private drain(): void {
    for (;;) {
      const id = this.index.outcomeOrder[this.next];
      const deliver = id === undefined ? undefined : this.ready.get(id);
      if (deliver === undefined) return;
      this.ready.delete(id!);
      this.next += 1;
      deliver();
    }
  }

  /** A replay that waits for an outcome no step asks for has diverged: deliver the rest in order. */
  private watchStall(): void {
    if (this.stallCheck) return;
    this.stallCheck = true;
    setImmediate(() => {
      this.stallCheck = false;
      if (this.ready.size === 0) return;
      this.logger.warn({ runId: this.runId }, 'journal replay diverged from the recorded order');
      const waiting = this.index.outcomeOrder.filter((id) => this.ready.has(id));
      for (const id of waiting) {
        const deliver = this.ready.get(id);
        this.ready.delete(id);
        deliver?.();
      }
    });
  }

  /** The payload of signal `name` if the run received it. */
  signal(name: string): { payload: unknown } | undefined {
    return this.index.signals.has(name) ? { payload: this.index.signals.get(name) } : undefined;
  }

  /**
   * Calls `onSignal` when signal `name` reaches this run (now, if it already has).
   * @returns a disposer
   */
  awaitSignal(name: string, onSignal: (payload: unknown) => void): () => void {
    const got = this.signal(name);
    if (got) {
      onSignal(got.payload);
      return () => undefined;
    }
    let set = this.signalWaiters.get(name);
    if (set === undefined) this.signalWaiters.set(name, (set = new Set()));
    set.add(onSignal);
    return () => set.delete(onSignal);
  }

  /** Journals signal `name` and wakes the steps waiting for it. */
  deliverSignal(name: string, payload: unknown): void {
    const json = asJson(payload);
    this.record({ kind: 'signalReceived', signal: name, ...(json === undefined ? {} : { payload: json }) });
    this.index.signals.set(name, json);
    const waiters = this.signalWaiters.get(name);
    this.signalWaiters.delete(name);
    for (const w of waiters ?? []) w(json);
  }

  /** Names of the signals some step of this run waits for now. */
  awaitedSignals(): string[] {
    return [...this.signalWaiters].filter(([, set]) => set.size > 0).map(([name]) => name);
  }
}
