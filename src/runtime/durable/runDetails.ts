import type { JournalEntry, JournalError } from '../../store/journal.js';
import type { StoredRunStatus } from '../../store/summary.js';
import { applyEntry, type RunState } from '../../store/summary.js';

/** One attempt of a step, from the journal. Times are epoch ms. */
export interface AttemptDetails {
  readonly attempt: number;
  readonly agent: string;
  readonly idempotencyKey: string;
  readonly dispatchedAt: number;
  readonly deadlineAt?: number | undefined;
  /** Set for a step waiting for this signal. */
  readonly waitingFor?: string | undefined;
  readonly outcome?: 'completed' | 'failed' | undefined;
  readonly endedAt?: number | undefined;
  readonly output?: unknown;
  readonly error?: JournalError | undefined;
}

/** A step of a run, from the journal. */
export interface StepDetails {
  /** The step's journal key: pattern path and step name (`deploy/build`). */
  readonly step: string;
  readonly status: 'running' | 'waiting' | 'completed' | 'failed' | 'retryDue';
  readonly attempts: AttemptDetails[];
  readonly output?: unknown;
  readonly error?: JournalError | undefined;
  /** When the next attempt is due (a failed step that will retry), epoch ms. */
  readonly retryDueAt?: number | undefined;
  readonly compensation?:
    { readonly status: 'dispatched' | 'compensated' | 'failed'; readonly error?: JournalError } | undefined;
}

/** What `executor.getRun(runId)` reports. */
export interface RunDetails {
  readonly runId: string;
  readonly pattern: string;
  readonly status: StoredRunStatus;
  readonly startedAt: number;
  readonly finishedAt?: number | undefined;
  readonly input: unknown;
  readonly context?: Record<string, unknown> | undefined;
  readonly steps: StepDetails[];
  readonly signals: { readonly name: string; readonly payload?: unknown; readonly at: number }[];
  readonly cancelRequested?: { readonly reason?: string | undefined; readonly at: number } | undefined;
  /** The RunResult, once the run finished. */
  readonly result?: Extract<JournalEntry, { kind: 'runFinished' }>['result'] | undefined;
  readonly journal: readonly JournalEntry[];
}

/** Folds a run's journal into its details; undefined for an empty journal. */
export function runDetails(journal: readonly JournalEntry[]): RunDetails | undefined {
  const first = journal[0];
  if (first?.kind !== 'runStarted') return undefined;
  let state: RunState | undefined;
  const steps = new Map<string, { attempts: Map<number, AttemptDetails>; step: Partial<StepDetails> }>();
  const stepOf = (key: string) => {
    let s = steps.get(key);
    if (!s) steps.set(key, (s = { attempts: new Map(), step: {} }));
    return s;
  };
  const signals: RunDetails['signals'] = [];
  let cancelRequested: RunDetails['cancelRequested'];
  let result: RunDetails['result'];
  for (const e of journal) {
    state = applyEntry(state, e);
    switch (e.kind) {
      case 'attemptDispatched': {
        const s = stepOf(e.step);
        s.attempts.set(e.attempt, {
          attempt: e.attempt,
          agent: e.agent,
          idempotencyKey: e.idempotencyKey,
          dispatchedAt: e.at,
          deadlineAt: e.deadlineAt,
          waitingFor: e.waitingFor,
        });
        s.step = { ...s.step, status: e.waitingFor ? 'waiting' : 'running', retryDueAt: undefined };
        break;
      }
      case 'stepCompleted': {
        const s = stepOf(e.step);
        const a = s.attempts.get(e.attempt);
        if (a) s.attempts.set(e.attempt, { ...a, outcome: 'completed', endedAt: e.at, output: e.output });
        s.step = { ...s.step, status: 'completed', output: e.output, error: undefined };
        break;
      }
      case 'stepFailed': {
        const s = stepOf(e.step);
        const a = s.attempts.get(e.attempt);
        if (a) s.attempts.set(e.attempt, { ...a, outcome: 'failed', endedAt: e.at, error: e.error });
        s.step = { ...s.step, status: 'failed', error: e.error };
        break;
      }
      case 'retryDue':
        stepOf(e.step).step = { ...stepOf(e.step).step, status: 'retryDue', retryDueAt: e.dueAt };
        break;
      case 'compensationDispatched':
        stepOf(e.step).step = { ...stepOf(e.step).step, compensation: { status: 'dispatched' } };
        break;
      case 'compensationCompleted':
        stepOf(e.step).step = {
          ...stepOf(e.step).step,
          compensation: e.error ? { status: 'failed', error: e.error } : { status: 'compensated' },
        };
        break;
      case 'signalReceived':
        signals.push({ name: e.signal, payload: e.payload, at: e.at });
        break;
      case 'cancelRequested':
        cancelRequested = { reason: e.reason, at: e.at };
        break;
      case 'runFinished':
        result = e.result;
        break;
      case 'runStarted':
      case 'runResumed':
        break;
    }
  }
  return {
    runId: first.runId,
    pattern: first.pattern,
    status: state!.summary.status,
    startedAt: first.at,
    finishedAt: state!.summary.finishedAt,
    input: first.input,
    context: first.context,
    steps: [...steps].map(([key, s]) => ({
      step: key,
      status: s.step.status ?? 'running',
      attempts: [...s.attempts.values()].sort((a, b) => a.attempt - b.attempt),
      output: s.step.output,
      error: s.step.error,
      retryDueAt: s.step.retryDueAt,
      compensation: s.step.compensation,
    })),
    signals,
    cancelRequested,
    result,
    journal,
  };
}
