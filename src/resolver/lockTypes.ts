/**
 * Types of the lock table ({@link LockTable}): requests for named exclusive resources, the
 * policy that governs them, the effects the table reports and its conflict records.
 */

/**
 * How waiting requests are ordered (the strategies of the orchestrator reference, seeds/004):
 * - `priority`: priority 1 first, FIFO within a priority (optionally preempting lower-priority holders);
 * - `queue`: resource-based queuing, strictly FIFO by arrival whatever the priority;
 * - `deadline`: time-based, earliest wait deadline first (EDF; Liu & Layland 1973), then priority, then FIFO;
 * - `adaptive`: picks one of the above from recent conflict history (see `chooseAdaptive` in lockOrdering.ts).
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

/** What decides who waits, who is served first and who may take names from a holder. */
export interface LockPolicy {
  /** As configured (may be `adaptive`). */
  readonly strategy: ConflictStrategy;
  /** The strategy used now (the adaptive choice when `adaptive`). */
  readonly effectiveStrategy: Exclude<ConflictStrategy, 'adaptive'>;
  readonly prevention: DeadlockPrevention;
  /** Waiters take names from strictly lower-priority holders (`priority` strategy only). */
  readonly preemption: boolean;
}

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
