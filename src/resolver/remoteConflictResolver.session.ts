/**
 * The lease session of a resolver client: its waiting and held requests, the heartbeat that
 * renews the session's lease every `leaseMs / 3`, and the reconciliation of what the resolver
 * reports (grants, rejections and revocations, by event or by renewal reply).
 */
import type { Clock } from '../core/clock.js';
import { ResourceExhaustionError, type PatternError } from '../core/errors.js';
import type { ResolverEvent } from './resolverProtocol.js';
import type { Lease } from './conflictResolver.types.js';
import { eventError, type ResolverCall } from './remoteConflictResolver.call.js';

type Waiter = {
  resolve: (lease: Lease) => void;
  reject: (error: PatternError) => void;
  owner: string;
  names: readonly string[];
  /** The resolver answered the acquire (so a renewal that does not list it means it was lost). */
  acked: boolean;
};

/**
 * The requests of one session and its heartbeat, started on construction. If the renewals fail
 * for `leaseMs`, every held lease is presumed lost and revoked (its signal aborts with a
 * ResourceExhaustionError).
 */
export class LeaseSession {
  private readonly waiters = new Map<string, Waiter>();
  private readonly held = new Map<string, AbortController>();
  private timer: unknown;
  private lastRenewed: number;
  private stopped = false;

  constructor(
    readonly session: string,
    private readonly leaseMs: number,
    private readonly clock: Clock,
    private readonly call: ResolverCall,
  ) {
    this.lastRenewed = clock.now();
    this.schedule();
  }

  /** Whether {@link stop} was called. */
  get closed(): boolean {
    return this.stopped;
  }

  /** Ids of the requests held now. */
  heldIds(): string[] {
    return [...this.held.keys()];
  }

  /** Ids of the requests waiting now. */
  waitingIds(): string[] {
    return [...this.waiters.keys()];
  }

  /** Registers a waiting request; the promise settles on its grant or failure. */
  wait(requestId: string, owner: string, names: readonly string[]): Promise<Lease> {
    return new Promise<Lease>((resolve, reject) =>
      this.waiters.set(requestId, { resolve, reject, owner, names, acked: false }),
    );
  }

  /** Records that the resolver answered the acquire of `requestId`. */
  ack(requestId: string): void {
    const waiter = this.waiters.get(requestId);
    if (waiter) waiter.acked = true;
  }

  /** Applies an event published to the session. */
  onEvent(event: ResolverEvent): void {
    if (event.type === 'granted') return this.grant(event.requestId);
    const error = eventError(event);
    if (event.type === 'rejected') this.fail(event.requestId, error);
    else this.revoke(event.requestId, error);
  }

  /** Resolves the waiter of `requestId` with its lease (once). */
  grant(requestId: string): void {
    const waiter = this.waiters.get(requestId);
    if (!waiter || this.held.has(requestId)) return;
    this.waiters.delete(requestId);
    const controller = new AbortController();
    this.held.set(requestId, controller);
    waiter.resolve({
      id: requestId,
      owner: waiter.owner,
      names: waiter.names,
      signal: controller.signal,
      release: async () => {
        if (!this.held.delete(requestId)) return;
        await this.call('release', { session: this.session, requestId });
      },
    });
  }

  /** Rejects the waiter of `requestId` with `error`. */
  fail(requestId: string, error: PatternError): void {
    this.waiters.get(requestId)?.reject(error);
    this.waiters.delete(requestId);
  }

  /** Stops the heartbeat. */
  stop(): void {
    this.stopped = true;
    if (this.timer !== undefined) this.clock.clearTimeout(this.timer);
  }

  private revoke(requestId: string, error: PatternError): void {
    this.held.get(requestId)?.abort(error);
    this.held.delete(requestId);
  }

  private schedule(): void {
    if (this.stopped) return;
    this.timer = this.clock.setTimeout(
      () => void this.heartbeat(),
      Math.max(1, Math.floor(this.leaseMs / 3)),
    );
  }

  private async heartbeat(): Promise<void> {
    try {
      const reply = await this.call('renew', { session: this.session });
      this.lastRenewed = this.clock.now();
      const held = new Set(reply.held ?? []);
      const waiting = new Set(reply.waiting ?? []);
      for (const id of held) {
        if (this.waiters.has(id)) this.grant(id);
        else if (!this.held.has(id))
          void this.call('release', { session: this.session, requestId: id }).catch(() => undefined);
      }
      // an unknown session has no request left: its lease expired (or they were all released)
      const why =
        reply.known === false
          ? `the resolver no longer knows session ${this.session}: its lease expired (no renewal within ${this.leaseMs} ms) or its requests were released`
          : 'the resolver no longer lists it';
      for (const id of [...this.held.keys()])
        if (!held.has(id)) this.revoke(id, new ResourceExhaustionError(`lease ${id} lost (${why})`));
      for (const [id, w] of [...this.waiters])
        if (w.acked && !held.has(id) && !waiting.has(id))
          this.fail(id, new ResourceExhaustionError(`request ${id} lost (${why})`));
    } catch {
      if (this.clock.now() - this.lastRenewed >= this.leaseMs) {
        for (const id of [...this.held.keys()])
          this.revoke(
            id,
            new ResourceExhaustionError(`lease ${id} presumed lost: no renewal for ${this.leaseMs} ms`),
          );
      }
    } finally {
      this.schedule();
    }
  }
}
