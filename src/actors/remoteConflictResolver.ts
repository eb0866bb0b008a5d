import { randomUUID } from 'node:crypto';
import type { z } from 'zod';
import { systemClock, type Clock } from '../runtime/clock.js';
import {
  ResourceExhaustionError,
  errorFromJSON,
  type ErrorDetails,
  type PatternError,
} from '../runtime/errors.js';
import {
  DEFAULT_SUBJECT_PREFIX,
  PROTOCOL_VERSION,
  decodeMessage,
  protocolSubjects,
} from '../runtime/protocol.js';
import { resolverEventSchema, resolverReplySchema, type ResolverEvent } from '../runtime/resolverProtocol.js';
import { encodeJson, type Transport, type TransportSubscription } from '../runtime/transport/Transport.js';
import type { ConflictRecord } from '../machines/lockTypes.js';
import type { ResourceArbiter } from './agent.js';
import type { AcquireRequest, ConflictReport, Lease } from './conflictResolver.js';

/** Options of {@link RemoteConflictResolver.connect}. */
export interface RemoteConflictResolverOptions {
  transport: Transport;
  prefix?: string;
  /** Lease length, ms (default 10000); the client renews every third of it. */
  leaseMs?: number;
  /** Session id, `[-\w]+` (default random). */
  session?: string;
  /** Timeout of each call to the resolver, ms (default 5000). */
  timeoutMs?: number;
  clock?: Clock;
}

type Waiter = {
  resolve: (lease: Lease) => void;
  reject: (error: PatternError) => void;
  owner: string;
  names: readonly string[];
  /** The resolver answered the acquire (so a renewal that does not list it means it was lost). */
  acked: boolean;
};

/**
 * A client of a conflict resolver served on the bus (`ndf resolver`), implementing
 * {@link ResourceArbiter}. It renews its session's lease every `leaseMs / 3`; if this process
 * dies, the renewals stop and the resolver hands its resources to the next waiter once the lease
 * expires. A lost grant or revocation event is reconciled by the next renewal.
 */
export class RemoteConflictResolver implements ResourceArbiter {
  private readonly waiters = new Map<string, Waiter>();
  private readonly held = new Map<string, AbortController>();
  private timer: unknown;
  private lastRenewed: number;
  private closed = false;
  private seq = 0;

  private constructor(
    private readonly transport: Transport,
    private readonly subjects: ReturnType<typeof protocolSubjects>,
    readonly session: string,
    private readonly leaseMs: number,
    private readonly timeoutMs: number,
    private readonly clock: Clock,
    private readonly sub: TransportSubscription,
  ) {
    this.lastRenewed = clock.now();
    this.schedule();
  }

  /** Subscribes to the session's events and starts the heartbeat. */
  static async connect(options: RemoteConflictResolverOptions): Promise<RemoteConflictResolver> {
    const subjects = protocolSubjects(options.prefix ?? DEFAULT_SUBJECT_PREFIX);
    const session = options.session ?? randomUUID().replaceAll('-', '');
    const ref: { client?: RemoteConflictResolver } = {};
    const sub = options.transport.subscribe(subjects.resolverEvents(session), (m) => {
      try {
        ref.client?.onEvent(decodeMessage(resolverEventSchema, m.data, 'resolver event'));
      } catch {
        // a malformed event is ignored; the next renewal reconciles
      }
    });
    const client = new RemoteConflictResolver(
      options.transport,
      subjects,
      session,
      options.leaseMs ?? 10_000,
      options.timeoutMs ?? 5000,
      options.clock ?? systemClock,
      sub,
    );
    ref.client = client;
    return client;
  }

  /** @throws ResourceExhaustionError on deadline, deadlock (`details.cycle`), abort, or an unreachable resolver */
  async acquire(names: readonly string[], request: AcquireRequest): Promise<() => Promise<void>> {
    const lease = await this.acquireLease(names, request);
    return () => lease.release();
  }

  /** Like {@link acquire}, returning the lease and its revocation signal. */
  async acquireLease(names: readonly string[], request: AcquireRequest): Promise<Lease> {
    const requestId = request.id ?? `${this.session}-${++this.seq}`;
    const granted = new Promise<Lease>((resolve, reject) =>
      this.waiters.set(requestId, { resolve, reject, owner: request.owner, names, acked: false }),
    );
    const onAbort = () => {
      this.fail(
        requestId,
        new ResourceExhaustionError(`acquire of ${names.join(', ')} by ${request.owner} aborted`, {
          retryable: false,
        }),
      );
      void this.call('release', { session: this.session, requestId }).catch(() => undefined);
    };
    request.signal?.addEventListener('abort', onAbort, { once: true });
    try {
      const reply = await this.call('acquire', {
        session: this.session,
        requestId,
        owner: request.owner,
        names: [...names],
        priority: request.priority,
        deadline: request.deadline ?? null,
        leaseMs: this.leaseMs,
      });
      const waiter = this.waiters.get(requestId);
      if (waiter) waiter.acked = true;
      if (reply.granted) this.grant(requestId);
      return await granted;
    } catch (error) {
      this.fail(requestId, error as PatternError);
      // the resolver may have queued it before the failure reached us: withdraw it
      void this.call('release', { session: this.session, requestId }).catch(() => undefined);
      return await granted;
    } finally {
      request.signal?.removeEventListener('abort', onAbort);
    }
  }

  async detectConflicts(): Promise<ConflictReport> {
    return (await this.call('detect', {})).data as ConflictReport;
  }

  async getConflictHistory(): Promise<ConflictRecord[]> {
    return (await this.call('history', {})).data as ConflictRecord[];
  }

  async setConflictStrategy(strategy: string): Promise<void> {
    await this.call('strategy', { strategy });
  }

  /** Stops the heartbeat and releases everything this session holds. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if (this.timer !== undefined) this.clock.clearTimeout(this.timer);
    this.sub.unsubscribe();
    await Promise.allSettled(
      [...this.held.keys()].map((requestId) => this.call('release', { session: this.session, requestId })),
    );
    for (const id of [...this.waiters.keys()])
      this.fail(id, new ResourceExhaustionError('resolver client closed', { retryable: true }));
  }

  private async call(
    op: string,
    body: Record<string, unknown>,
  ): Promise<Extract<z.infer<typeof resolverReplySchema>, { status: 'ok' }>> {
    let data: Uint8Array;
    try {
      data = (
        await this.transport.request(
          this.subjects.resolver(op),
          encodeJson({ version: PROTOCOL_VERSION, ...body }),
          { timeoutMs: this.timeoutMs },
        )
      ).data;
    } catch (error) {
      throw new ResourceExhaustionError(
        `conflict resolver unreachable (${op}): ${(error as Error).message}`,
        { retryable: true },
      );
    }
    const reply = decodeMessage(resolverReplySchema, data, `resolver ${op} reply`, Number.POSITIVE_INFINITY);
    if (reply.status === 'error') {
      throw errorFromJSON({
        name: reply.error.name ?? 'Error',
        code: reply.error.code,
        message: reply.error.message,
        details: { ...((reply.error.details ?? {}) as ErrorDetails), retryable: reply.error.retryable },
      });
    }
    return reply;
  }

  private onEvent(event: ResolverEvent): void {
    if (event.type === 'granted') return this.grant(event.requestId);
    const error = event.error
      ? errorFromJSON({
          name: event.error.name ?? 'Error',
          code: event.error.code,
          message: event.error.message,
          details: event.error.details ?? {},
        })
      : new ResourceExhaustionError(event.message ?? `request ${event.requestId} ${event.type}`);
    if (event.type === 'rejected') this.fail(event.requestId, error);
    else this.revoke(event.requestId, error);
  }

  private grant(requestId: string): void {
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

  private fail(requestId: string, error: PatternError): void {
    this.waiters.get(requestId)?.reject(error);
    this.waiters.delete(requestId);
  }

  private revoke(requestId: string, error: PatternError): void {
    this.held.get(requestId)?.abort(error);
    this.held.delete(requestId);
  }

  private schedule(): void {
    if (this.closed) return;
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
