/**
 * The public shapes of the conflict resolver (options, acquisition requests, leases, reports) and
 * the validation of its inputs: the zod request schema and the accepted strategy names.
 */
import { z } from 'zod';
import type { Clock } from '../core/clock.js';
import type { Conflict, ConflictStrategy, DeadlockPrevention } from './lockTypes.js';
import type { WaitEdge } from './waitForGraph.js';
import type { CancellationSignal } from '../core/cancellation.js';
import { positiveDurationMs } from '../core/duration.js';

/** Strategy names accepted by {@link ConflictResolver.setConflictStrategy}, with the reference's spellings. */
export const strategyAliases: Record<string, ConflictStrategy> = {
  priority: 'priority',
  prioritize_critical: 'priority',
  priority_based: 'priority',
  queue: 'queue',
  resource_based: 'queue',
  deadline: 'deadline',
  time_based: 'deadline',
  adaptive: 'adaptive',
};

/** Options of {@link ConflictResolver}. */
export interface ConflictResolverOptions {
  /** Time source (default: wall clock); tests pass a simulated clock. */
  clock?: Clock;
  /** Default `priority`. */
  strategy?: ConflictStrategy;
  /** Default `none` (deadlock detection only). */
  prevention?: DeadlockPrevention;
  /** Higher priority waiters take names from lower-priority holders (revoking their leases). Default false. */
  preemption?: boolean;
  /** Conflict history kept (default 1000). */
  historyLimit?: number;
}

/** An acquisition request. */
export interface AcquireRequest {
  owner: string;
  /** 1 highest … 5 lowest. */
  priority: number;
  /** Epoch ms after which waiting fails with ResourceExhaustionError. */
  deadline?: number | undefined;
  /** Aborting it withdraws the request (an AbortSignal or any {@link CancellationSignal}). */
  signal?: CancellationSignal | undefined;
  /** Lease session (default: the owner): its holdings are revoked when it stops renewing. */
  session?: string | undefined;
  /** Lease length, ms; renew within it (default: never expires, for in-process holders). */
  leaseMs?: number | undefined;
  /** Request id (default generated). */
  id?: string | undefined;
}

/** Held resources. `signal` aborts if the lease is revoked (preemption, wound-wait, expiry). */
export interface Lease {
  readonly id: string;
  readonly owner: string;
  readonly names: readonly string[];
  readonly signal: AbortSignal;
  release(): Promise<void>;
}

/** The result of {@link ConflictResolver.detectConflicts}. */
export interface ConflictReport {
  /** Names with waiters, their holder and queue. */
  readonly conflicts: readonly Conflict[];
  readonly waitFor: readonly WaitEdge[];
  /** Deadlock cycles present now (normally none: they are broken as soon as they form). */
  readonly deadlocks: readonly (readonly string[])[];
  /** The strategy in effect (the adaptive choice when adaptive). */
  readonly strategy: Exclude<ConflictStrategy, 'adaptive'>;
}

/** Validates an {@link AcquireRequest} together with its names (the signal is not validated). */
export const acquireRequestSchema = z.object({
  names: z.array(z.string().min(1)).min(1),
  owner: z.string().min(1),
  priority: z.number().int().min(1).max(5),
  deadline: z.number().nonnegative().optional(),
  session: z.string().min(1).optional(),
  leaseMs: positiveDurationMs.optional(),
  id: z.string().min(1).optional(),
});
