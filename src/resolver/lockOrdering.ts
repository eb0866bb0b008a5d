/**
 * The order in which a lock table serves its waiting requests: one sort key per strategy
 * (`priority`, `queue`, `deadline`, and owner age for wound-wait), and the adaptive choice
 * among the three strategies from recent conflict history.
 */
import type { ConflictRecord, ConflictStrategy, LockPolicy, LockRequest } from './lockTypes.js';

/** A strategy with `adaptive` resolved, or `age` (oldest owner first) under wound-wait. */
export type OrderBy = Exclude<ConflictStrategy, 'adaptive'> | 'age';

/** Sort key of a waiting request under a strategy, or by owner `age` for wound-wait (smaller = served first). */
export function orderKey(strategy: OrderBy, r: LockRequest, age: number): readonly number[] {
  switch (strategy) {
    case 'queue':
      return [r.seq];
    case 'deadline':
      return [r.deadline ?? Number.POSITIVE_INFINITY, r.priority, r.seq];
    case 'priority':
      return [r.priority, r.seq];
    case 'age':
      return [age, r.seq];
  }
}

/** Lexicographic comparison of sort keys. */
export function compareKeys(a: readonly number[], b: readonly number[]): number {
  for (let i = 0; i < Math.max(a.length, b.length); i++) {
    const d = (a[i] ?? 0) - (b[i] ?? 0);
    if (d !== 0) return d;
  }
  return 0;
}

/**
 * Waiting requests in service order under `policy`: by age when the prevention is wound-wait,
 * else by the effective strategy.
 * @param ageOf - an owner's age (the arrival number of its oldest live request), undefined when unknown
 */
export function serviceOrder(
  waiting: Iterable<LockRequest>,
  policy: LockPolicy,
  ageOf: (owner: string) => number | undefined,
): LockRequest[] {
  const by: OrderBy = policy.prevention === 'woundWait' ? 'age' : policy.effectiveStrategy;
  const keyed = [...waiting].map((r) => ({ r, k: orderKey(by, r, ageOf(r.owner) ?? r.seq) }));
  return keyed.sort((a, b) => compareKeys(a.k, b.k)).map((x) => x.r);
}

/**
 * The adaptive choice, from the last 50 conflict records: `deadline` when at least 20% were
 * wait timeouts; else `queue` when low-priority winners (4–5) waited on average more than
 * 4× longer than high-priority ones (1–2) and over 1 s (starvation); else `priority`.
 */
export function chooseAdaptive(history: readonly ConflictRecord[]): Exclude<ConflictStrategy, 'adaptive'> {
  const recent = history.slice(-50);
  if (recent.length === 0) return 'priority';
  if (recent.filter((r) => r.kind === 'timeout').length / recent.length >= 0.2) return 'deadline';
  const mean = (xs: number[]) => (xs.length === 0 ? 0 : xs.reduce((a, b) => a + b, 0) / xs.length);
  const waits = (lo: number, hi: number) =>
    recent
      .filter(
        (r) => r.waitedMs !== undefined && r.priority !== undefined && r.priority >= lo && r.priority <= hi,
      )
      .map((r) => r.waitedMs ?? 0);
  const low = mean(waits(4, 5));
  const high = mean(waits(1, 2));
  return low > 1000 && low > 4 * high ? 'queue' : 'priority';
}
