/**
 * The state of a lock table and the only code that changes it: waiting and held requests, the
 * holder of each name, each owner's age (for wound-wait), each session's lease and the conflict
 * history. Every removal returns the {@link LockEffect} that reports it.
 *
 * Invariants: a name is held by at most one request; an owner has an age, and a session a lease,
 * exactly while it has a waiting or held request (a lease also ends when it expires, and the
 * table then removes the session's requests).
 */
import { LeaseBook } from './leaseBook.js';
import { ConflictHistory } from './lockHistory.js';
import type { ConflictStrategy, LockEffect, LockRequest, RejectReason, RevokeReason } from './lockTypes.js';

/** The held and waiting requests of one owner or one session, in arrival order. */
export interface RequestsOf {
  readonly held: LockRequest[];
  readonly waiting: LockRequest[];
}

/** Mutable lock-table state with consistent updates (pure: time is the `now` argument). */
export class LockState {
  private readonly waitingById = new Map<string, LockRequest>();
  private readonly heldById = new Map<string, LockRequest>();
  /** name → id of the held request. */
  private readonly holderIdOf = new Map<string, string>();
  /** owner → arrival number of its first request since it last had none. */
  private readonly ages = new Map<string, number>();
  readonly leases = new LeaseBook();
  readonly history: ConflictHistory;

  /** See {@link ConflictHistory} for the arguments. */
  constructor(historyLimit: number, strategyNow: () => Exclude<ConflictStrategy, 'adaptive'>) {
    this.history = new ConflictHistory(historyLimit, strategyNow);
  }

  /** Waiting requests, in arrival order. */
  waiting(): IterableIterator<LockRequest> {
    return this.waitingById.values();
  }

  /** The waiting request with this id, if any. */
  getWaiting(id: string): LockRequest | undefined {
    return this.waitingById.get(id);
  }

  /** Whether the request with this id holds its names. */
  isHeld(id: string): boolean {
    return this.heldById.has(id);
  }

  /** Whether the request with this id waits. */
  isWaiting(id: string): boolean {
    return this.waitingById.has(id);
  }

  /** The held request holding `name`, if any. */
  holderOf(name: string): LockRequest | undefined {
    const id = this.holderIdOf.get(name);
    return id === undefined ? undefined : this.heldById.get(id);
  }

  /** The distinct held requests holding any of `names`, in the order of `names`. */
  holdersOf(names: readonly string[]): LockRequest[] {
    return [...new Set(names.map((n) => this.holderOf(n)).filter((h) => h !== undefined))];
  }

  /** name → id of its holder. */
  heldNames(): ReadonlyMap<string, string> {
    return this.holderIdOf;
  }

  /** An owner's age: smaller is older. Undefined when it has no request. */
  ageOf(owner: string): number | undefined {
    return this.ages.get(owner);
  }

  /** The held and waiting requests of an owner or a session. */
  requestsOf(key: { owner: string } | { session: string }): RequestsOf {
    const mine = (r: LockRequest) => ('owner' in key ? r.owner === key.owner : r.session === key.session);
    return {
      held: [...this.heldById.values()].filter(mine),
      waiting: [...this.waitingById.values()].filter(mine),
    };
  }

  /** Earliest wait deadline of a waiting request, epoch ms. */
  nextDeadline(): number | undefined {
    let next: number | undefined;
    for (const r of this.waitingById.values())
      if (r.deadline !== undefined && (next === undefined || r.deadline < next)) next = r.deadline;
    return next;
  }

  /**
   * Counts a new request as a sign of life before it is checked: (re)starts its session's lease
   * (`leaseMs` undefined = never expires) and gives its owner an age if it has none.
   */
  admit(request: LockRequest, leaseMs: number | undefined, now: number): void {
    this.leases.start(request.session, leaseMs, now);
    if (!this.ages.has(request.owner)) this.ages.set(request.owner, request.seq);
  }

  /** Queues an admitted request. */
  enqueue(request: LockRequest): void {
    this.waitingById.set(request.id, request);
  }

  /**
   * Turns a waiting request into a holding; records the contention it won if it waited.
   * The caller checks that every name is free.
   */
  grant(r: LockRequest, now: number): LockEffect {
    this.waitingById.delete(r.id);
    this.heldById.set(r.id, r);
    for (const n of r.names) this.holderIdOf.set(n, r.id);
    if (now > r.at)
      this.history.record({
        at: now,
        kind: 'contention',
        resources: r.names,
        owners: [r.owner],
        resolution: 'granted',
        waitedMs: now - r.at,
        priority: r.priority,
      });
    return { type: 'granted', request: r, waitedMs: now - r.at };
  }

  /** Removes a waiting (or refused) request and reports it; a `duplicate` is reported only (the original stays). */
  reject(request: LockRequest, reason: RejectReason, message: string, cycle?: string[]): LockEffect {
    if (reason !== 'duplicate') {
      this.waitingById.delete(request.id);
      this.forget(request);
    }
    return { type: 'rejected', request, reason, message, ...(cycle ? { cycle } : {}) };
  }

  /** Takes a holding away and reports it; a lease expiry is also recorded in the history. */
  revoke(
    request: LockRequest,
    reason: RevokeReason,
    by: string | undefined,
    message: string,
    now: number,
  ): LockEffect {
    this.release(request.id);
    if (reason === 'leaseExpired')
      this.history.record({
        at: now,
        kind: 'leaseExpired',
        resources: request.names,
        owners: [request.owner],
        resolution: 'revoked',
      });
    return { type: 'revoked', request, reason, by, message };
  }

  /** Frees a held request's names; false when `id` is not held. */
  release(id: string): boolean {
    const r = this.heldById.get(id);
    if (!r) return false;
    this.heldById.delete(id);
    for (const n of r.names) if (this.holderIdOf.get(n) === id) this.holderIdOf.delete(n);
    this.forget(r);
    return true;
  }

  /** Forgets an owner's age once it neither holds nor waits (wound-wait ages restart), and an idle session's lease. */
  private forget(request: LockRequest): void {
    const all = [...this.heldById.values(), ...this.waitingById.values()];
    if (!all.some((r) => r.owner === request.owner)) this.ages.delete(request.owner);
    if (!all.some((r) => r.session === request.session)) this.leases.forget(request.session);
  }
}
