/**
 * The pure fold shared by every store: checks that a run's facts make a valid journal (seq
 * gapless from 1, `runStarted` first and only first, nothing after the run ended) and keeps the
 * run's summary (status, pattern, times, last seq) up to date, so `listRuns` needs no re-read.
 */
import type { RunStatus } from '../core/status.js';
import { RunStoreError, StoreErrorCode } from './errors.js';
import { isTerminalKind, type JournalEntry } from './journal.js';

/**
 * Status of a stored run, derived from its facts: `running` (started, not ended), `waiting`
 * (nothing in flight but steps waiting for a signal or retries due later), or the
 * {@link RunStatus} of its `runFinished` result (`cancelled` included).
 */
export type StoredRunStatus = 'running' | 'waiting' | RunStatus;

/** Statuses after which a run takes no more facts (and may be cleaned up). */
export const finishedStatuses: ReadonlySet<StoredRunStatus> = new Set([
  'cancelled',
  'succeeded',
  'failed',
  'timedOut',
  'rolledBack',
]);

/** One line of `listRuns`. Times are epoch ms. */
export interface RunSummary {
  readonly runId: string;
  readonly pattern: string;
  readonly status: StoredRunStatus;
  /** `at` of the `runStarted` fact. */
  readonly startedAt: number;
  /** `at` of the `runFinished` or `runCancelled` fact; absent while the run has not ended. */
  readonly finishedAt?: number;
  /** Seq of the run's last fact (= its number of facts). */
  readonly lastSeq: number;
}

/** A run's summary plus what the status derivation needs (steps in flight, retries due). */
export interface RunState {
  summary: RunSummary;
  readonly inFlight: Set<string>;
  readonly retriesDue: Set<string>;
  /** Steps waiting for a signal (their dispatch named one), not yet completed or failed. */
  readonly awaiting: Set<string>;
}

/** A copy of a run's state that {@link applyEntry} may change without touching the original. */
export const cloneState = (s: RunState): RunState => ({
  summary: s.summary,
  inFlight: new Set(s.inFlight),
  retriesDue: new Set(s.retriesDue),
  awaiting: new Set(s.awaiting),
});

function statusOf(state: RunState): StoredRunStatus {
  const idle = state.inFlight.size === state.awaiting.size;
  return idle && (state.retriesDue.size > 0 || state.awaiting.size > 0) ? 'waiting' : 'running';
}

/**
 * Applies one entry to a run's state (undefined before its first fact), in place, and returns it.
 * @throws {RunStoreError} `ND_STORE_INVALID` when the entry cannot follow the state.
 */
export function applyEntry(state: RunState | undefined, entry: JournalEntry): RunState {
  const lastSeq = state?.summary.lastSeq ?? 0;
  const where = `run ${entry.runId}, seq ${entry.seq}`;
  const invalid = (why: string) =>
    new RunStoreError(StoreErrorCode.INVALID, `Invalid journal (${where}): ${why}`, {
      runId: entry.runId,
      expectedSeq: lastSeq + 1,
      actualSeq: entry.seq,
    });
  if (entry.seq !== lastSeq + 1) throw invalid(`seq must be ${lastSeq + 1}`);
  if (state === undefined) {
    if (entry.kind !== 'runStarted') throw invalid(`the first fact must be runStarted, not ${entry.kind}`);
    return {
      summary: {
        runId: entry.runId,
        pattern: entry.pattern,
        status: 'running',
        startedAt: entry.at,
        lastSeq: 1,
      },
      inFlight: new Set(),
      retriesDue: new Set(),
      awaiting: new Set(),
    };
  }
  if (finishedStatuses.has(state.summary.status)) {
    throw invalid(`the run has ended (${state.summary.status}); no fact may follow`);
  }
  if (entry.kind === 'runStarted') throw invalid('runStarted may only be the first fact');
  const s = state;
  switch (entry.kind) {
    case 'attemptDispatched':
      s.retriesDue.delete(entry.step);
      s.inFlight.add(entry.step);
      if (entry.waitingFor !== undefined) s.awaiting.add(entry.step);
      break;
    case 'compensationDispatched':
      s.inFlight.add(`compensate:${entry.step}`);
      break;
    case 'stepCompleted':
    case 'stepFailed':
      s.inFlight.delete(entry.step);
      s.awaiting.delete(entry.step);
      break;
    case 'compensationCompleted':
      s.inFlight.delete(`compensate:${entry.step}`);
      break;
    case 'retryDue':
      s.retriesDue.add(entry.step);
      break;
    case 'signalReceived':
    case 'cancelRequested':
    case 'runResumed':
    case 'runFinished':
      break;
  }
  const ended = isTerminalKind(entry.kind);
  const status: StoredRunStatus = entry.kind === 'runFinished' ? entry.result.status : statusOf(s);
  s.summary = {
    ...s.summary,
    status,
    lastSeq: entry.seq,
    ...(ended ? { finishedAt: entry.at } : {}),
  };
  return s;
}

/** Filter of `listRuns`; every field given must match. */
export interface ListRunsFilter {
  /** One status or any of several. */
  status?: StoredRunStatus | readonly StoredRunStatus[];
  /** Pattern name, exact. */
  pattern?: string;
  /** Only runs started at or after this time, epoch ms. */
  since?: number;
}

/** True when `summary` passes `filter`. */
export function matches(summary: RunSummary, filter: ListRunsFilter): boolean {
  const { status, pattern, since } = filter;
  if (status !== undefined) {
    const wanted: readonly StoredRunStatus[] = typeof status === 'string' ? [status] : status;
    if (!wanted.includes(summary.status)) return false;
  }
  if (pattern !== undefined && summary.pattern !== pattern) return false;
  if (since !== undefined && summary.startedAt < since) return false;
  return true;
}

/** Orders summaries by start time, then run id. */
export const bySummaryOrder = (a: RunSummary, b: RunSummary): number =>
  a.startedAt - b.startedAt || (a.runId < b.runId ? -1 : a.runId > b.runId ? 1 : 0);

/** True when a run ended before `cutoff` (epoch ms) and so may be cleaned up. */
export const isExpired = (summary: RunSummary, cutoff: number): boolean =>
  finishedStatuses.has(summary.status) && summary.finishedAt !== undefined && summary.finishedAt < cutoff;
