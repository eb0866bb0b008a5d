import type { RunEvent } from '../core/events.js';
import type { StepStatus } from '../core/status.js';

type StepEvent = Extract<RunEvent, { type: 'step.status' }>;

/** A span in the order of the trace: positions of its first and last events (ties in `at` keep file order). */
export interface Interval {
  readonly start: number;
  readonly end: number;
}

/** What a trace says about one step: when it ran, how it ended, who ran it. */
export interface StepRun extends Interval {
  readonly path: readonly string[];
  readonly step: string;
  /** Status of its last event. */
  readonly status: StepStatus;
  readonly agent?: string | undefined;
  /** Highest attempt number seen (1 = first attempt). */
  readonly attempts: number;
  /** Epoch ms of its first event. */
  readonly startAt: number;
  /** Epoch ms it first reached completed/failed/skipped/cancelled (else its last event). */
  readonly endAt: number;
  /** Position in the trace where its compensation began, if it was compensated. */
  readonly compensation?: number | undefined;
  /** Message of the last error reported. */
  readonly error?: string | undefined;
}

const DONE: ReadonlySet<StepStatus> = new Set(['completed', 'failed', 'skipped', 'cancelled']);
const UNDO: ReadonlySet<StepStatus> = new Set(['compensating', 'compensated', 'compensationFailed']);

/**
 * Folds the `step.status` events of a trace into one record per step (by pattern path and
 * name), in order of first appearance. `start`/`end` are positions in the trace, so steps that
 * start and end within the same millisecond keep their order.
 */
export function stepRuns(events: readonly RunEvent[]): StepRun[] {
  const runs = new Map<string, StepRun>();
  const ended = new Set<string>();
  const steps = events.filter((e): e is StepEvent => e.type === 'step.status');
  [...steps]
    .sort((a, b) => a.at - b.at)
    .forEach((e, seq) => {
      const key = JSON.stringify([...e.path, e.step]);
      const prev = runs.get(key);
      const frozen = ended.has(key) && prev !== undefined;
      runs.set(key, {
        path: e.path,
        step: e.step,
        status: e.status,
        agent: e.agent ?? prev?.agent,
        attempts: Math.max(e.attempt, prev?.attempts ?? 0),
        startAt: prev?.startAt ?? e.at,
        endAt: frozen ? prev.endAt : e.at,
        start: prev?.start ?? seq,
        end: frozen ? prev.end : seq,
        compensation: prev?.compensation ?? (UNDO.has(e.status) ? seq : undefined),
        error: e.error?.message ?? prev?.error,
      });
      if (DONE.has(e.status)) ended.add(key);
    });
  return [...runs.values()];
}

/**
 * The "ran before" edges among steps of one pattern, as a transitive reduction of interval
 * order: A → B when A ended before B started and no step ran wholly between them. A sequential
 * run gives a chain; a parallel run gives the waves in which tasks actually ran.
 */
export function ranBefore<T extends Interval>(runs: readonly T[]): Array<readonly [T, T]> {
  const before = (a: T, b: T): boolean => a !== b && a.end < b.start;
  const edges: Array<readonly [T, T]> = [];
  for (const b of runs) {
    for (const a of runs) {
      if (!before(a, b)) continue;
      if (runs.some((c) => before(a, c) && before(c, b))) continue;
      edges.push([a, b]);
    }
  }
  return edges;
}

/**
 * The rollback as it ran: the first step that failed before any compensation, then every
 * compensated step in the order its compensation began (across patterns).
 */
export function compensationChain(runs: readonly StepRun[]): StepRun[] {
  const undone = runs
    .filter((r) => r.compensation !== undefined)
    .sort((a, b) => (a.compensation ?? 0) - (b.compensation ?? 0));
  const first = undone[0]?.compensation ?? Number.POSITIVE_INFINITY;
  const cause = runs.filter((r) => r.status === 'failed' && r.end < first).sort((a, b) => a.end - b.end)[0];
  return undone.length === 0 ? [] : cause === undefined ? undone : [cause, ...undone];
}
