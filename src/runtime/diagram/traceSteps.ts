import type { RunEvent } from '../events.js';
import type { StepStatus } from '../status.js';

type StepEvent = Extract<RunEvent, { type: 'step.status' }>;

/** What a trace says about one step: when it ran, how it ended, who ran it. */
export interface StepRun {
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
  /** Epoch ms it started compensating, if it did. */
  readonly compensatedAt?: number | undefined;
  /** Message of the last error reported. */
  readonly error?: string | undefined;
}

const DONE: ReadonlySet<StepStatus> = new Set(['completed', 'failed', 'skipped', 'cancelled']);
const UNDO: ReadonlySet<StepStatus> = new Set(['compensating', 'compensated', 'compensationFailed']);

/** Folds the `step.status` events of a trace into one record per step (by pattern path and name), in order of first appearance. */
export function stepRuns(events: readonly RunEvent[]): StepRun[] {
  const runs = new Map<string, StepRun>();
  const ended = new Set<string>();
  const steps = events.filter((e): e is StepEvent => e.type === 'step.status');
  for (const e of [...steps].sort((a, b) => a.at - b.at)) {
    const key = JSON.stringify([...e.path, e.step]);
    const prev = runs.get(key);
    const compensatedAt = prev?.compensatedAt ?? (UNDO.has(e.status) ? e.at : undefined);
    runs.set(key, {
      path: e.path,
      step: e.step,
      status: e.status,
      agent: e.agent ?? prev?.agent,
      attempts: Math.max(e.attempt, prev?.attempts ?? 0),
      startAt: prev?.startAt ?? e.at,
      endAt: ended.has(key) && prev !== undefined ? prev.endAt : e.at,
      compensatedAt,
      error: e.error?.message ?? prev?.error,
    });
    if (DONE.has(e.status)) ended.add(key);
  }
  return [...runs.values()];
}

/** A span of time, epoch ms. */
export interface Interval {
  readonly startAt: number;
  readonly endAt: number;
}

/**
 * The "ran before" edges among steps of one pattern, as a transitive reduction of interval
 * order: A → B when A ended before B started and no step ran wholly between them. A sequential
 * run gives a chain; a parallel run gives the waves in which tasks actually ran.
 */
export function ranBefore<T extends Interval>(runs: readonly T[]): Array<readonly [T, T]> {
  const before = (a: T, b: T): boolean => a !== b && a.endAt <= b.startAt && a.startAt < b.startAt;
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
