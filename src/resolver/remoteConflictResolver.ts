import { randomUUID } from 'node:crypto';
import { systemClock, type Clock } from '../core/clock.js';
import { ResourceExhaustionError, type PatternError } from '../core/errors.js';
import { DEFAULT_SUBJECT_PREFIX, decodeMessage, protocolSubjects } from '../protocol/protocol.js';
import { resolverEventSchema } from './resolverProtocol.js';
import type { Transport, TransportSubscription } from '../transport/Transport.js';
import type { ConflictRecord } from './lockTypes.js';
import type { ResourceArbiter } from '../core/agent.js';
import type { AcquireRequest, ConflictReport, Lease } from './conflictResolver.types.js';
import { resolverCall, type ResolverCall } from './remoteConflictResolver.call.js';
import { LeaseSession } from './remoteConflictResolver.session.js';

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

/**
 * A client of a conflict resolver served on the bus (`ndf resolver`), implementing
 * {@link ResourceArbiter}. It renews its session's lease every `leaseMs / 3`; if this process
 * dies, the renewals stop and the resolver hands its resources to the next waiter once the lease
 * expires. A lost grant or revocation event is reconciled by the next renewal.
 */
export class RemoteConflictResolver implements ResourceArbiter {
  private readonly leases: LeaseSession;
  private seq = 0;

  private constructor(
    private readonly call: ResolverCall,
    readonly session: string,
    private readonly leaseMs: number,
    clock: Clock,
    private readonly sub: TransportSubscription,
  ) {
    this.leases = new LeaseSession(session, leaseMs, clock, call);
  }

  /** Subscribes to the session's events and starts the heartbeat. */
  static async connect(options: RemoteConflictResolverOptions): Promise<RemoteConflictResolver> {
    const subjects = protocolSubjects(options.prefix ?? DEFAULT_SUBJECT_PREFIX);
    const session = options.session ?? randomUUID().replaceAll('-', '');
    const ref: { client?: RemoteConflictResolver } = {};
    const sub = options.transport.subscribe(subjects.resolverEvents(session), (m) => {
      try {
        ref.client?.leases.onEvent(decodeMessage(resolverEventSchema, m.data, 'resolver event'));
      } catch {
        // a malformed event is ignored; the next renewal reconciles
      }
    });
    const client = new RemoteConflictResolver(
      resolverCall(options.transport, subjects, options.timeoutMs ?? 5000),
      session,
      options.leaseMs ?? 10_000,
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
    const granted = this.leases.wait(requestId, request.owner, names);
    const onAbort = () => {
      this.leases.fail(
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
      this.leases.ack(requestId);
      if (reply.granted) this.leases.grant(requestId);
      return await granted;
    } catch (error) {
      this.leases.fail(requestId, error as PatternError);
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
    if (this.leases.closed) return;
    this.leases.stop();
    this.sub.unsubscribe();
    await Promise.allSettled(
      this.leases.heldIds().map((requestId) => this.call('release', { session: this.session, requestId })),
    );
    for (const id of this.leases.waitingIds())
      this.leases.fail(id, new ResourceExhaustionError('resolver client closed', { retryable: true }));
  }
}
