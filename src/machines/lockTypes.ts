/**
 * Types of the lock table ({@link LockTable}): requests for named exclusive resources, the
 * effects the table reports, conflict records and the ordering of each strategy.
 */

/**
 * How waiting requests are ordered (the strategies of the orchestrator reference, seeds/004):
 * - `priority`: priority 1 first, FIFO within a priority (optionally preempting lower-priority holders);
 * - `queue`: resource-based queuing, strictly FIFO by arrival whatever the priority;
 * - `deadline`: time-based, earliest wait deadline first (EDF; Liu & Layland 1973), then priority, then FIFO;
 * - `adaptive`: picks one of the above from recent conflict history (see `chooseAdaptive`).
 */
export type ConflictStrategy = 'priority' | 'queue' | 'deadline' | 'adaptive';

/**
 * Deadlock prevention on top of detection:
 * - `none`: detection only (a wait-for cycle aborts its lowest-priority waiter);
 * - `ordered`: an owner may only request names that sort after every name it holds or awaits (Havender 1968);
 * - `woundWait`: an older owner wounds (revokes) a younger holder, a younger one waits; waiting is ordered by age
 *   (Rosenkrantz, Stearns & Lewis, "System level concurrency control for distributed database systems", 1978).
 */
export type DeadlockPrevention = 'none' | 'ordered' | 'woundWait';

/** A request for exclusive use of every name in `names` (granted all at once). */
export interface LockRequest {
  readonly id: string;
  readonly owner: string;
  /** Sorted, unique. */
  readonly names: readonly string[];
  /** 1 highest … 5 lowest. */
  readonly priority: number;
  /** Epoch ms after which waiting fails. */
  readonly deadline?: number | undefined;
  /** Lease session: its holdings are revoked when it stops renewing. Defaults to the owner. */
  readonly session: string;
  /** Arrival order. */
  readonly seq: number;
  /** Arrival time, epoch ms. */
  readonly at: number;
}

/** Why a waiting request was refused. */
export type RejectReason =
  'deadlock' | 'timeout' | 'ordering' | 'wounded' | 'sessionExpired' | 'cancelled' | 'duplicate';
/** Why a holding was taken away. */
export type RevokeReason = 'preempted' | 'wounded' | 'leaseExpired';

/** What an operation on the table caused, for the driver to deliver. */
export type LockEffect =
  | { readonly type: 'granted'; readonly request: LockRequest; readonly waitedMs: number }
  | {
      readonly type: 'rejected';
      readonly request: LockRequest;
      readonly reason: RejectReason;
      readonly message: string;
      /** Owners of the deadlock cycle, first repeated last (`['a', 'b', 'a']`). */
      readonly cycle?: readonly string[] | undefined;
    }
  | {
      readonly type: 'revoked';
      readonly request: LockRequest;
      readonly reason: RevokeReason;
      readonly by?: string | undefined;
      readonly message: string;
    };

/** One entry of the conflict history. */
export interface ConflictRecord {
  readonly at: number;
  readonly kind: 'contention' | 'deadlock' | 'preemption' | 'wound' | 'timeout' | 'leaseExpired' | 'ordering';
  readonly resources: readonly string[];
  readonly owners: readonly string[];
  /** The strategy in effect (the adaptive choice when adaptive). */
  readonly strategy: Exclude<ConflictStrategy, 'adaptive'>;
  readonly resolution: string;
  /** For contention that ended in a grant: how long the winner waited, ms. */
  readonly waitedMs?: number | undefined;
  readonly priority?: number | undefined;
}

/** A current conflict: a resource with waiters (and its holder, if any). */
export interface Conflict {
  readonly resource: string;
  readonly holder?:
    { readonly owner: string; readonly priority: number; readonly requestId: string } | undefined;
  readonly waiters: readonly {
    readonly owner: string;
    readonly priority: number;
    readonly requestId: string;
    readonly waitingMs: number;
  }[];
}

/** Sort key of a waiting request under a strategy, or by owner `age` for wound-wait (smaller = served first). */
export function orderKey(
  strategy: Exclude<ConflictStrategy, 'adaptive'> | 'age',
  r: LockRequest,
  age: number,
): readonly number[] {
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
