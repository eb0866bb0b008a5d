import { z } from 'zod';
import { systemClock, type Clock } from '../core/clock.js';
import { ResourceExhaustionError, type PatternError } from '../core/errors.js';
import { parseWith } from '../core/validate.js';
import { LockTable } from './lockTable.js';
import type { ConflictRecord, LockEffect } from './lockTypes.js';
import { cycleOwners, findCycle } from './waitForGraph.js';
import type { ResourceArbiter } from '../core/agent.js';
import { effectError } from './conflictResolver.errors.js';
import {
  acquireRequestSchema,
  strategyAliases,
  type AcquireRequest,
  type ConflictReport,
  type ConflictResolverOptions,
  type Lease,
} from './conflictResolver.types.js';

export type {
  AcquireRequest,
  ConflictReport,
  ConflictResolverOptions,
  Lease,
} from './conflictResolver.types.js';
export { effectError } from './conflictResolver.errors.js';

/**
 * The conflict resolver, in-process (the default): a {@link LockTable} driven by an injected
 * clock (lease expiry and wait deadlines fire on it), implementing {@link ResourceArbiter} for
 * the executor, plus the reference API (seeds/004): `detectConflicts`, `resolveConflicts`,
 * `getConflictHistory`, `setConflictStrategy`. Serve it on a bus with `serveConflictResolver`.
 *
 * @example
 * const resolver = new ConflictResolver({ strategy: 'priority', preemption: true });
 * const release = await resolver.acquire(['db'], { owner: 'run1/migrate', priority: 1 });
 * await release();
 */
export class ConflictResolver implements ResourceArbiter {
  readonly table: LockTable;
  private readonly clock: Clock;
  private readonly waiters = new Map<
    string,
    {
      resolve: (l: Lease) => void;
      reject: (e: PatternError) => void;
      owner: string;
      names: readonly string[];
    }
  >();
  private readonly leases = new Map<string, AbortController>();
  private readonly listeners = new Set<(effect: LockEffect) => void>();
  private readonly batchListeners = new Set<(effects: readonly LockEffect[]) => void>();
  private timer: unknown;
  private seq = 0;

  constructor(options: ConflictResolverOptions = {}) {
    this.clock = options.clock ?? systemClock;
    this.table = new LockTable(options);
  }

  /**
   * Resolves with a release function once every name is held by `owner`.
   * @throws ResourceExhaustionError when the deadline passes, a deadlock cycle aborts it (`details.cycle`), or it is aborted
   * @throws PatternValidationError on a malformed request
   */
  async acquire(names: readonly string[], request: AcquireRequest): Promise<() => Promise<void>> {
    const lease = await this.acquireLease(names, request);
    return () => lease.release();
  }

  /** Like {@link acquire}, returning the {@link Lease} (with its revocation signal). */
  acquireLease(names: readonly string[], request: AcquireRequest): Promise<Lease> {
    const r = parseWith(acquireRequestSchema, { ...request, names, signal: undefined }, 'acquire');
    const id = r.id ?? `${r.owner}#${++this.seq}`;
    return new Promise<Lease>((resolve, reject) => {
      if (request.signal?.aborted)
        return reject(
          new ResourceExhaustionError(`acquire of ${names.join(', ')} by ${r.owner} aborted`, {
            retryable: false,
          }),
        );
      const onAbort = () => this.release(id);
      request.signal?.addEventListener('abort', onAbort, { once: true });
      const done = () => request.signal?.removeEventListener('abort', onAbort);
      this.waiters.set(id, {
        owner: r.owner,
        names: r.names,
        resolve: (lease) => (done(), resolve(lease)),
        reject: (error) => (done(), reject(error)),
      });
      this.apply(
        this.table.request(
          {
            id,
            owner: r.owner,
            names: r.names,
            priority: r.priority,
            deadline: r.deadline,
            session: r.session,
            leaseMs: r.leaseMs,
          },
          this.clock.now(),
        ),
      );
    });
  }

  /** Releases a held request or cancels a waiting one. */
  release(id: string): void {
    this.apply(this.table.release(id, this.clock.now()));
  }

  /** Renews a session's lease; false when it already expired. */
  renew(session: string): boolean {
    return this.table.renew(session, this.clock.now());
  }

  /** Current contention, wait-for edges and any deadlock cycle. */
  detectConflicts(): ConflictReport {
    const waitFor = this.table.waitFor();
    const cycle = findCycle(waitFor);
    return {
      conflicts: this.table.conflicts(this.clock.now()),
      waitFor,
      deadlocks: cycle ? [cycleOwners(cycle)] : [],
      strategy: this.table.effectiveStrategy,
    };
  }

  /**
   * Applies the strategy now: expires leases and deadlines that passed, re-orders queues
   * (adaptive may have switched), preempts and breaks deadlocks. Returns what changed.
   */
  async resolveConflicts(_conflicts?: ConflictReport): Promise<LockEffect[]> {
    const effects = this.table.tick(this.clock.now());
    this.apply(effects);
    return effects;
  }

  /** Every recorded conflict (contention, deadlocks, preemptions, timeouts, expiries), oldest first. */
  getConflictHistory(): readonly ConflictRecord[] {
    return this.table.getHistory();
  }

  /**
   * Sets the strategy: `priority` (alias `prioritize_critical`), `queue` (`resource_based`),
   * `deadline` (`time_based`) or `adaptive`.
   * @throws PatternValidationError for an unknown name
   */
  setConflictStrategy(strategy: string): void {
    const s = parseWith(
      z.enum(Object.keys(strategyAliases) as [string, ...string[]]),
      strategy,
      'conflict strategy',
    );
    this.table.strategy = strategyAliases[s] ?? 'priority';
    this.apply(this.table.tick(this.clock.now()));
  }

  /** Every effect (grant, rejection, revocation) as it happens; returns the disposer. */
  onEffect(listener: (effect: LockEffect) => void): () => void {
    this.listeners.add(listener);
    return () => void this.listeners.delete(listener);
  }

  /**
   * Once per operation on the table (acquire, release, expiry and deadline timer,
   * `resolveConflicts`, `setConflictStrategy`), after the {@link onEffect} listeners: every effect
   * it caused, in order (possibly none). Returns the disposer.
   */
  onEffects(listener: (effects: readonly LockEffect[]) => void): () => void {
    this.batchListeners.add(listener);
    return () => void this.batchListeners.delete(listener);
  }

  /** Stops the timer and rejects every waiter. */
  close(): void {
    if (this.timer !== undefined) this.clock.clearTimeout(this.timer);
    for (const [id, w] of this.waiters)
      w.reject(
        new ResourceExhaustionError(`conflict resolver closed while ${id} waited`, { retryable: true }),
      );
    this.waiters.clear();
  }

  private apply(effects: readonly LockEffect[]): void {
    for (const effect of effects) {
      const id = effect.request.id;
      if (effect.type === 'granted') {
        const controller = new AbortController();
        this.leases.set(id, controller);
        const lease: Lease = {
          id,
          owner: effect.request.owner,
          names: effect.request.names,
          signal: controller.signal,
          release: async () => this.release(id),
        };
        this.waiters.get(id)?.resolve(lease);
        this.waiters.delete(id);
      } else if (effect.type === 'rejected') {
        this.waiters.get(id)?.reject(effectError(effect));
        this.waiters.delete(id);
      } else {
        this.leases.get(id)?.abort(effectError(effect));
        this.leases.delete(id);
      }
      for (const listener of this.listeners) listener(effect);
    }
    for (const id of [...this.leases.keys()]) if (!this.table.isHeld(id)) this.leases.delete(id);
    for (const listener of this.batchListeners) listener(effects);
    this.arm();
  }

  private arm(): void {
    if (this.timer !== undefined) this.clock.clearTimeout(this.timer);
    this.timer = undefined;
    const at = this.table.nextEventAt();
    if (at === undefined) return;
    this.timer = this.clock.setTimeout(
      () => {
        this.timer = undefined;
        this.apply(this.table.tick(this.clock.now()));
      },
      Math.min(2 ** 31 - 1, Math.max(0, at - this.clock.now())),
    );
  }
}
