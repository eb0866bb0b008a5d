/**
 * The conflict resolver's lock table: the operations (request, release, renew, tick) and the
 * queries, composed from the modules that each hold one idea: lockState.ts (requests, holders,
 * ages, leases, history), lockOrdering.ts (service order per strategy, adaptive choice),
 * lockScheduler.ts (granting), lockPreemption.ts (preemption, wound-wait), lockDeadlock.ts
 * (ordered acquisition, deadlock detection), lockQueries.ts (wait-for edges, conflicts).
 */
import { refuseOutOfOrder } from './lockDeadlock.js';
import { chooseAdaptive } from './lockOrdering.js';
import { currentConflicts, waitForEdges } from './lockQueries.js';
import { lockView, schedule } from './lockScheduler.js';
import { LockState } from './lockState.js';
import type {
  Conflict,
  ConflictRecord,
  ConflictStrategy,
  DeadlockPrevention,
  LockEffect,
  LockPolicy,
  LockRequest,
} from './lockTypes.js';
import type { WaitEdge } from './waitForGraph.js';

/** Options of {@link LockTable}. */
export interface LockTableOptions {
  strategy?: ConflictStrategy;
  prevention?: DeadlockPrevention;
  /** Let a waiting request take names from strictly lower-priority holders (`priority` strategy). Default false. */
  preemption?: boolean;
  /** Conflict history kept (default 1000 records; up to 25% more before trimming). */
  historyLimit?: number;
}

/** A new request: everything but the bookkeeping fields. */
export type NewLockRequest = Omit<LockRequest, 'seq' | 'at' | 'session'> & {
  session?: string | undefined;
  leaseMs?: number | undefined;
};

/**
 * The conflict resolver's lock table: exclusive named resources, all-or-nothing requests,
 * per-strategy wait order (FIFO within a priority), leases per session, wait deadlines,
 * preemption, wound-wait or ordered acquisition, and deadlock detection on the wait-for graph
 * (a cycle rejects its lowest-priority waiter, the youngest on ties).
 *
 * Pure: no I/O, no timers; time is the `now` argument of each call (epoch ms), and every
 * consequence is returned as {@link LockEffect}s for the driver (`ConflictResolver`) to deliver.
 * Invariant: a name is never held by two requests.
 */
export class LockTable implements LockPolicy {
  private readonly state: LockState;
  private seq = 0;
  strategy: ConflictStrategy;
  readonly prevention: DeadlockPrevention;
  readonly preemption: boolean;

  constructor(options: LockTableOptions = {}) {
    this.strategy = options.strategy ?? 'priority';
    this.prevention = options.prevention ?? 'none';
    this.preemption = options.preemption ?? false;
    this.state = new LockState(options.historyLimit ?? 1000, () => this.effectiveStrategy);
  }

  /** The strategy actually used now (resolves `adaptive`). */
  get effectiveStrategy(): Exclude<ConflictStrategy, 'adaptive'> {
    return this.strategy === 'adaptive' ? chooseAdaptive(this.state.history.entries) : this.strategy;
  }

  /**
   * Queues a request and schedules; the request may be granted or rejected in the returned
   * effects (`duplicate` when its id is waiting or held, `ordering` under ordered acquisition).
   * Its session (default: the owner) gets a lease of `leaseMs` (undefined: never expires).
   */
  request(input: NewLockRequest, now: number): LockEffect[] {
    const session = input.session ?? input.owner;
    const request: LockRequest = {
      ...input,
      names: [...new Set(input.names)].sort(),
      session,
      seq: ++this.seq,
      at: now,
    };
    const { state } = this;
    if (state.isWaiting(request.id) || state.isHeld(request.id))
      return [state.reject(request, 'duplicate', `request ${request.id} already exists`)];
    state.admit(request, input.leaseMs, now);
    const outOfOrder = this.prevention === 'ordered' ? refuseOutOfOrder(state, request, now) : undefined;
    if (outOfOrder) return [outOfOrder];
    state.enqueue(request);
    const effects = schedule(state, this, now);
    if (state.isWaiting(request.id)) {
      const owners = state.holdersOf(request.names).map((h) => h.owner);
      state.history.record({
        at: now,
        kind: 'contention',
        resources: request.names,
        owners: [request.owner, ...new Set(owners)],
        resolution: 'queued',
        priority: request.priority,
      });
    }
    return effects;
  }

  /** Releases a held request, or cancels a waiting one; unknown ids are ignored. */
  release(id: string, now: number): LockEffect[] {
    const waiting = this.state.getWaiting(id);
    if (waiting)
      return [
        this.state.reject(waiting, 'cancelled', `request ${id} cancelled`),
        ...schedule(this.state, this, now, false),
      ];
    if (!this.state.release(id)) return [];
    return schedule(this.state, this, now, false);
  }

  /** Extends a session's lease to `now + leaseMs`; false when the session is unknown (expired or idle). */
  renew(session: string, now: number): boolean {
    return this.state.leases.renew(session, now);
  }

  /** Expires leases and wait deadlines that passed at `now`, then schedules. */
  tick(now: number): LockEffect[] {
    const { state } = this;
    const effects: LockEffect[] = [];
    for (const session of state.leases.expire(now)) {
      const { held, waiting } = state.requestsOf({ session });
      for (const r of held) {
        const message = `lease of ${r.owner} on ${r.names.join(', ')} expired (session ${session} stopped renewing)`;
        effects.push(state.revoke(r, 'leaseExpired', undefined, message, now));
      }
      for (const r of waiting) {
        const message = `session ${session} of ${r.owner} expired while waiting`;
        effects.push(state.reject(r, 'sessionExpired', message));
      }
    }
    for (const r of [...state.waiting()]) {
      if (r.deadline === undefined || r.deadline > now) continue;
      const holders = [...new Set(state.holdersOf(r.names).map((h) => h.owner))];
      state.history.record({
        at: now,
        kind: 'timeout',
        resources: r.names,
        owners: [r.owner],
        resolution: 'rejected',
        priority: r.priority,
      });
      const heldBy = holders.length ? ` (held by ${holders.join(', ')})` : '';
      const message = `${r.owner} waited past its deadline for ${r.names.join(', ')}${heldBy}`;
      effects.push(state.reject(r, 'timeout', message));
    }
    return [...effects, ...schedule(state, this, now)];
  }

  /** Earliest lease expiry or wait deadline (epoch ms), for the driver's timer; undefined when none. */
  nextEventAt(): number | undefined {
    const lease = this.state.leases.nextExpiry();
    const deadline = this.state.nextDeadline();
    return lease === undefined || (deadline !== undefined && deadline < lease) ? deadline : lease;
  }

  /** Current conflicts: every name with waiters, its holder and its queue in service order. */
  conflicts(now: number): Conflict[] {
    return currentConflicts(lockView(this.state, this), now);
  }

  /** The wait-for edges now (see lockQueries.ts). */
  waitFor(): WaitEdge[] {
    return waitForEdges(lockView(this.state, this));
  }

  /** Who holds each name now. */
  holders(): Map<string, { owner: string; requestId: string }> {
    return new Map(
      [...this.state.heldNames()].map(([n, id]) => [
        n,
        { owner: this.state.holderOf(n)?.owner ?? '', requestId: id },
      ]),
    );
  }

  /** Ids of a session's held and waiting requests. */
  sessionRequests(session: string): { held: string[]; waiting: string[] } {
    const { held, waiting } = this.state.requestsOf({ session });
    return { held: held.map((r) => r.id), waiting: waiting.map((r) => r.id) };
  }

  /** Whether a session has a held or waiting request (its lease is then running). O(1). */
  hasSession(session: string): boolean {
    return this.state.leases.has(session);
  }

  /** Whether request `id` holds its names now. */
  isHeld(id: string): boolean {
    return this.state.isHeld(id);
  }

  /** Whether request `id` waits now. */
  isWaiting(id: string): boolean {
    return this.state.isWaiting(id);
  }

  /** The conflict history, oldest first. */
  getHistory(): readonly ConflictRecord[] {
    return this.state.history.entries;
  }
}
