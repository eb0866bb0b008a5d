import type { Clock } from '../../src/core/clock.js';
import type { PatternSnapshot, Snapshottable } from '../../src/runtime/patterns/snapshot.js';

/** 2026-01-01T00:00:00.000Z. */
export const T0 = Date.UTC(2026, 0, 1);
export const DAY = 86_400_000;

/** A clock whose time only moves when a test sets `t`. */
export function manualClock(t = T0): Clock & { t: number } {
  return {
    t,
    now() {
      return this.t;
    },
    setTimeout: () => undefined,
    clearTimeout: () => undefined,
  };
}

/** A valid snapshot; fields overridable. */
export function snapshot(over: Partial<PatternSnapshot> = {}): PatternSnapshot {
  return {
    version: 1,
    name: 'flow',
    type: 'SequentialDelegationPattern',
    description: 'validate, process, store',
    config: { steps: ['validate', 'process', 'store'], rollbackEnabled: true },
    stats: {
      executions: 3,
      successes: 2,
      failures: 1,
      totalDurationMs: 450,
      byDomain: { web: { successes: 2, failures: 1 } },
      history: [
        { at: T0, success: true, durationMs: 100, domain: 'web' },
        { at: T0 + 1_000, success: false, durationMs: 200, domain: 'web' },
        { at: T0 + 2_000, success: true, durationMs: 150, domain: 'web' },
      ],
    },
    confidenceThreshold: 0.7,
    learningEnabled: true,
    createdAt: T0,
    lastUsedAt: T0 + 2_000,
    ...over,
  };
}

/** A plain object implementing Snapshottable. */
export function patternOf(s: PatternSnapshot): Snapshottable {
  return { name: s.name, toSnapshot: () => s };
}
