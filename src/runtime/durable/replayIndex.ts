/**
 * What a run's journal says happened, indexed for replay: the pure fold the live
 * {@link RunJournal} starts from. Step keys are `path/step` (the pattern names from the run's root
 * to the step's pattern, then the step name), unique within a run.
 */
import type { JournalEntry, JournalError } from '../../store/journal.js';

/** A recorded outcome of one attempt. */
export type RecordedOutcome =
  | { readonly kind: 'completed'; readonly output: unknown; readonly at: number }
  | { readonly kind: 'failed'; readonly error: JournalError; readonly at: number };

/** A recorded dispatch of one attempt. */
export interface RecordedDispatch {
  readonly agent: string;
  readonly at: number;
  readonly deadlineAt: number | undefined;
  readonly waitingFor: string | undefined;
}

/** Per step: dispatches, outcomes and retries due, by attempt; its compensation. */
export interface StepHistory {
  readonly dispatched: Map<number, RecordedDispatch>;
  readonly outcomes: Map<number, RecordedOutcome>;
  readonly retryDue: Map<number, number>;
  compensation: { dispatched: boolean; completed?: { error: JournalError | undefined } } | undefined;
}

/** The index of a whole journal. */
export interface ReplayIndex {
  readonly steps: Map<string, StepHistory>;
  /** Outcomes in journal order (`key#attempt`): replay delivers them in this order. */
  readonly outcomeOrder: string[];
  /** Payload of each signal received, by name (the latest wins). */
  readonly signals: Map<string, unknown>;
  cancelRequested: { reason: string | undefined } | undefined;
}

/** An empty index (a new run). */
export const emptyIndex = (): ReplayIndex => ({
  steps: new Map(),
  outcomeOrder: [],
  signals: new Map(),
  cancelRequested: undefined,
});

/** The history of step `key`, created on first use. */
export function historyOf(index: ReplayIndex, key: string): StepHistory {
  let h = index.steps.get(key);
  if (h === undefined) {
    h = { dispatched: new Map(), outcomes: new Map(), retryDue: new Map(), compensation: undefined };
    index.steps.set(key, h);
  }
  return h;
}

/** Adds one entry to the index, in place. */
export function indexEntry(index: ReplayIndex, e: JournalEntry): void {
  switch (e.kind) {
    case 'attemptDispatched':
      historyOf(index, e.step).dispatched.set(e.attempt, {
        agent: e.agent,
        at: e.at,
        deadlineAt: e.deadlineAt,
        waitingFor: e.waitingFor,
      });
      break;
    case 'stepCompleted':
      historyOf(index, e.step).outcomes.set(e.attempt, { kind: 'completed', output: e.output, at: e.at });
      index.outcomeOrder.push(`${e.step}#${e.attempt}`);
      break;
    case 'stepFailed':
      historyOf(index, e.step).outcomes.set(e.attempt, { kind: 'failed', error: e.error, at: e.at });
      index.outcomeOrder.push(`${e.step}#${e.attempt}`);
      break;
    case 'retryDue':
      historyOf(index, e.step).retryDue.set(e.attempt, e.dueAt);
      break;
    case 'compensationDispatched':
      historyOf(index, e.step).compensation = { dispatched: true };
      break;
    case 'compensationCompleted':
      historyOf(index, e.step).compensation = { dispatched: true, completed: { error: e.error } };
      break;
    case 'signalReceived':
      index.signals.set(e.signal, e.payload);
      break;
    case 'cancelRequested':
      index.cancelRequested = { reason: e.reason };
      break;
    case 'runStarted':
    case 'runResumed':
    case 'runFinished':
      break;
  }
}

/** The index of `entries`. */
export function buildIndex(entries: readonly JournalEntry[]): ReplayIndex {
  const index = emptyIndex();
  for (const e of entries) indexEntry(index, e);
  return index;
}
