import {
  chooseAdaptive,
  compareKeys,
  orderKey,
  type Conflict,
  type ConflictRecord,
  type ConflictStrategy,
  type DeadlockPrevention,
  type LockEffect,
  type LockRequest,
  type RejectReason,
  type RevokeReason,
} from './lockTypes.js';
import { currentConflicts, deadlockVictim, waitForEdges, type LockView } from './lockQueries.js';
import { findCycle, type WaitEdge } from './waitForGraph.js';
import { LeaseBook } from './leaseBook.js';

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
 * Pure: no I/O, no timers; time is the `now` argument of each call, and every consequence is
 * returned as {@link LockEffect}s for the driver (`ConflictResolver`) to deliver. Invariant:
 * a name is never held by two requests.
 */
export class LockTable {
  private readonly pending = new Map<string, LockRequest>();
  private readonly held = new Map<string, LockRequest>();
  private readonly holderOf = new Map<string, string>();
  private readonly leases = new LeaseBook();
  private readonly birth = new Map<string, number>();
  private readonly history: ConflictRecord[] = [];
  private seq = 0;
  strategy: ConflictStrategy;
  readonly prevention: DeadlockPrevention;
  readonly preemption: boolean;
  private readonly historyLimit: number;

  constructor(options: LockTableOptions = {}) {
    this.strategy = options.strategy ?? 'priority';
    this.prevention = options.prevention ?? 'none';
    this.preemption = options.preemption ?? false;
    this.historyLimit = options.historyLimit ?? 1000;
  }

  /** The strategy actually used now (resolves `adaptive`). */
  get effectiveStrategy(): Exclude<ConflictStrategy, 'adaptive'> {
    return this.strategy === 'adaptive' ? chooseAdaptive(this.history) : this.strategy;
  }

  /** Queues a request and schedules; the request may be granted or rejected in the returned effects. */
  request(input: NewLockRequest, now: number): LockEffect[] {
    const session = input.session ?? input.owner;
    const request: LockRequest = {
      ...input,
      names: [...new Set(input.names)].sort(),
      session,
      seq: ++this.seq,
      at: now,
    };
    if (this.pending.has(request.id) || this.held.has(request.id))
      return [this.reject(request, 'duplicate', `request ${request.id} already exists`, now)];
    this.leases.start(session, input.leaseMs, now);
    if (!this.birth.has(request.owner)) this.birth.set(request.owner, request.seq);
    if (this.prevention === 'ordered') {
      const mine = [...this.held.values(), ...this.pending.values()]
        .filter((r) => r.owner === request.owner)
        .flatMap((r) => r.names);
      const first = request.names[0] ?? '';
      const clash = mine.filter((n) => n >= first).sort();
      if (clash.length > 0) {
        this.record({
          at: now,
          kind: 'ordering',
          resources: request.names,
          owners: [request.owner],
          resolution: 'rejected',
        });
        return [
          this.reject(
            request,
            'ordering',
            `ordered acquisition: ${request.owner} holds or awaits ${clash.map((n) => `'${n}'`).join(', ')} and requests '${first}', which does not sort after them`,
            now,
          ),
        ];
      }
    }
    this.pending.set(request.id, request);
    const effects = this.schedule(now);
    if (this.pending.has(request.id)) {
      const owners = request.names
        .map((n) => this.held.get(this.holderOf.get(n) ?? '')?.owner)
        .filter((o): o is string => o !== undefined);
      this.record({
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
    const waiting = this.pending.get(id);
    if (waiting)
      return [
        this.reject(waiting, 'cancelled', `request ${id} cancelled`, now),
        ...this.schedule(now, false),
      ];
    if (!this.drop(id)) return [];
    return this.schedule(now, false);
  }

  /** Extends a session's lease to `now + leaseMs`; false when the session is unknown (expired). */
  renew(session: string, now: number): boolean {
    return this.leases.renew(session, now);
  }

  /** Expires leases and wait deadlines that passed at `now`, then schedules. */
  tick(now: number): LockEffect[] {
    const effects: LockEffect[] = [];
    for (const session of this.leases.expire(now)) {
      for (const r of [...this.held.values()].filter((h) => h.session === session)) {
        effects.push(
          this.revoke(
            r,
            'leaseExpired',
            undefined,
            `lease of ${r.owner} on ${r.names.join(', ')} expired (session ${session} stopped renewing)`,
            now,
          ),
        );
      }
      for (const r of [...this.pending.values()].filter((p) => p.session === session)) {
        effects.push(
          this.reject(r, 'sessionExpired', `session ${session} of ${r.owner} expired while waiting`, now),
        );
      }
    }
    for (const r of [...this.pending.values()]) {
      if (r.deadline === undefined || r.deadline > now) continue;
      const holders = r.names.map((n) => this.held.get(this.holderOf.get(n) ?? '')?.owner).filter(Boolean);
      this.record({
        at: now,
        kind: 'timeout',
        resources: r.names,
        owners: [r.owner],
        resolution: 'rejected',
        priority: r.priority,
      });
      effects.push(
        this.reject(
          r,
          'timeout',
          `${r.owner} waited past its deadline for ${r.names.join(', ')}${holders.length ? ` (held by ${[...new Set(holders)].join(', ')})` : ''}`,
          now,
        ),
      );
    }
    return [...effects, ...this.schedule(now)];
  }

  /** Earliest lease expiry or wait deadline (epoch ms), for the driver's timer. */
  nextEventAt(): number | undefined {
    let next = this.leases.nextExpiry();
    for (const r of this.pending.values())
      if (r.deadline !== undefined && (next === undefined || r.deadline < next)) next = r.deadline;
    return next;
  }

  /** Current conflicts: every name with waiters. */
  conflicts(now: number): Conflict[] {
    return currentConflicts(this.view(), now);
  }

  /** The wait-for edges now (see lockQueries.ts). */
  waitFor(): WaitEdge[] {
    return waitForEdges(this.view());
  }

  /** Who holds each name now. */
  holders(): Map<string, { owner: string; requestId: string }> {
    return new Map(
      [...this.holderOf].map(([n, id]) => [n, { owner: this.held.get(id)?.owner ?? '', requestId: id }]),
    );
  }

  /** Ids of a session's held and waiting requests. */
  sessionRequests(session: string): { held: string[]; waiting: string[] } {
    const ids = (m: Map<string, LockRequest>) =>
      [...m.values()].filter((r) => r.session === session).map((r) => r.id);
    return { held: ids(this.held), waiting: ids(this.pending) };
  }

  isHeld(id: string): boolean {
    return this.held.has(id);
  }

  isWaiting(id: string): boolean {
    return this.pending.has(id);
  }

  getHistory(): readonly ConflictRecord[] {
    return this.history;
  }

  private ordered(): LockRequest[] {
    const strategy = this.prevention === 'woundWait' ? 'age' : this.effectiveStrategy;
    const keyed = [...this.pending.values()].map((r) => ({
      r,
      k: orderKey(strategy, r, this.birth.get(r.owner) ?? r.seq),
    }));
    return keyed.sort((a, b) => compareKeys(a.k, b.k)).map((x) => x.r);
  }

  private view(): LockView {
    return { ordered: this.ordered(), held: this.held, holderOf: this.holderOf };
  }

  /**
   * Grants what can be granted in strategy order, applying preemption and wound-wait, then breaks deadlocks.
   * @param detect - look for deadlocks; a release or cancel only removes wait-for edges (a grant
   *   turns "queued behind r" into "waits for r's owner", the same edge, except for r's owner
   *   queued again on the same name, checked at the grant), so it can skip the search unless the
   *   adaptive strategy may have re-ordered the queues
   */
  private schedule(now: number, detect = true): LockEffect[] {
    const effects: LockEffect[] = [];
    let changed = true;
    while (changed) {
      changed = false;
      const blocked = new Set<string>();
      for (const r of this.ordered()) {
        if (r.names.some((n) => blocked.has(n))) {
          for (const n of r.names) blocked.add(n);
          continue;
        }
        const holders = [
          ...new Set(r.names.map((n) => this.holderOf.get(n)).filter((id): id is string => id !== undefined)),
        ]
          .map((id) => this.held.get(id))
          .filter((h): h is LockRequest => h !== undefined);
        const mayTake = (h: LockRequest) =>
          h.owner !== r.owner &&
          ((this.prevention === 'woundWait' &&
            (this.birth.get(r.owner) ?? 0) < (this.birth.get(h.owner) ?? 0)) ||
            (this.preemption && this.effectiveStrategy === 'priority' && h.priority > r.priority));
        if (holders.length > 0 && holders.every(mayTake)) {
          for (const h of holders) effects.push(...this.take(h, r, now));
        }
        if (r.names.every((n) => !this.holderOf.has(n))) {
          this.pending.delete(r.id);
          this.held.set(r.id, r);
          for (const n of r.names) this.holderOf.set(n, r.id);
          if (now > r.at)
            this.record({
              at: now,
              kind: 'contention',
              resources: r.names,
              owners: [r.owner],
              resolution: 'granted',
              waitedMs: now - r.at,
              priority: r.priority,
            });
          effects.push({ type: 'granted', request: r, waitedMs: now - r.at });
          // the one cycle a grant can create: the same owner queued again for a name it now holds
          if (!detect)
            detect = [...this.pending.values()].some(
              (p) => p.owner === r.owner && p.names.some((n) => r.names.includes(n)),
            );
          changed = true;
          break;
        }
        for (const n of r.names) blocked.add(n);
      }
      if (!changed && (detect || this.strategy === 'adaptive')) changed = this.breakDeadlock(now, effects);
    }
    return effects;
  }

  private take(h: LockRequest, by: LockRequest, now: number): LockEffect[] {
    if (this.prevention === 'woundWait') {
      this.record({
        at: now,
        kind: 'wound',
        resources: h.names,
        owners: [by.owner, h.owner],
        resolution: `wounded ${h.owner}`,
      });
      const msg = `${h.owner} wounded by older ${by.owner} (wound-wait)`;
      return [
        ...[...this.held.values()]
          .filter((x) => x.owner === h.owner)
          .map((x) => this.revoke(x, 'wounded', by.owner, msg, now)),
        ...[...this.pending.values()]
          .filter((x) => x.owner === h.owner)
          .map((x) => this.reject(x, 'wounded', msg, now)),
      ];
    }
    this.record({
      at: now,
      kind: 'preemption',
      resources: h.names,
      owners: [by.owner, h.owner],
      resolution: `preempted ${h.owner}`,
    });
    return [
      this.revoke(
        h,
        'preempted',
        by.owner,
        `${h.owner} (priority ${h.priority}) preempted by ${by.owner} (priority ${by.priority}) on ${h.names.join(', ')}`,
        now,
      ),
    ];
  }

  private breakDeadlock(now: number, effects: LockEffect[]): boolean {
    const cycle = findCycle(this.waitFor());
    const found = cycle && deadlockVictim(cycle, this.pending);
    if (!found) return false;
    const { victim, owners, resources, message } = found;
    this.record({ at: now, kind: 'deadlock', resources, owners, resolution: `aborted ${victim.owner}` });
    effects.push(this.reject(victim, 'deadlock', message, now, owners));
    return true;
  }

  private reject(
    request: LockRequest,
    reason: RejectReason,
    message: string,
    _now: number,
    cycle?: string[],
  ): LockEffect {
    if (reason !== 'duplicate') {
      this.pending.delete(request.id);
      this.forget(request);
    }
    return { type: 'rejected', request, reason, message, ...(cycle ? { cycle } : {}) };
  }

  private revoke(
    request: LockRequest,
    reason: RevokeReason,
    by: string | undefined,
    message: string,
    now: number,
  ): LockEffect {
    this.drop(request.id);
    if (reason === 'leaseExpired')
      this.record({
        at: now,
        kind: 'leaseExpired',
        resources: request.names,
        owners: [request.owner],
        resolution: 'revoked',
      });
    return { type: 'revoked', request, reason, by, message };
  }

  private drop(id: string): boolean {
    const r = this.held.get(id);
    if (!r) return false;
    this.held.delete(id);
    for (const n of r.names) if (this.holderOf.get(n) === id) this.holderOf.delete(n);
    this.forget(r);
    return true;
  }

  /** Forgets an owner's age once it neither holds nor waits (wound-wait ages restart), and an idle session's lease. */
  private forget(request: LockRequest): void {
    const all = [...this.held.values(), ...this.pending.values()];
    if (!all.some((r) => r.owner === request.owner)) this.birth.delete(request.owner);
    if (!all.some((r) => r.session === request.session)) this.leases.forget(request.session);
  }

  private record(entry: Omit<ConflictRecord, 'strategy'>): void {
    this.history.push({ ...entry, strategy: this.effectiveStrategy });
    // trim in chunks: amortised O(1) per record
    if (this.history.length > this.historyLimit * 1.25)
      this.history.splice(0, this.history.length - this.historyLimit);
  }
}
