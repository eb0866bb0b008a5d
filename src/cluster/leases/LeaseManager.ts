/**
 * Leases on runs, with fencing, in a JetStream KV bucket (`ndf_leases`, one key per run):
 * value `{ owner, holder, ttlMs, expiresAt }`, taken and renewed by compare-and-set on the key's
 * revision, which is the fencing token. See {@link Lease} for the holder's side and
 * docs/scaling.md for the guarantees and their limits.
 *
 * Takeover never compares clocks of different machines: a contender takes a held lease only
 * after it has itself seen the same revision unchanged for the holder's `ttlMs` (on its own
 * clock), and the holder stops at its last confirmed renewal's send time + `ttlMs` (on its own
 * clock), which is earlier in real time; only the clocks' rates must agree. This is the lease
 * scheme of Gray and Cheriton, "Leases: an efficient fault-tolerant mechanism for distributed
 * file cache consistency" (SOSP 1989), with Kleppmann's fencing tokens ("How to do distributed
 * locking", 2016).
 */
import { jetstream } from '@nats-io/jetstream';
import { Kvm, type KV } from '@nats-io/kv';
import type { NatsConnection } from '@nats-io/transport-node';
import { z } from 'zod';
import { systemClock, type Clock } from '../../core/clock.js';
import { parseWith } from '../../core/validate.js';
import { runIdSchema } from '../../store/journal.js';
import { runToken } from '../../store/jetstream/names.js';
import { isWrongLastSequence } from '../../store/jetstream/transient.js';
import { Lease } from './Lease.js';
import { decodeLease, type LeaseRecord } from './leaseRecord.js';
import { natsConnectionSchema } from '../../store/jetstream/connectionSchema.js';

/** Options of {@link LeaseManager.open}. */
export interface LeaseManagerOptions {
  /** An open connection to a JetStream-enabled server; not closed by the manager. */
  connection: NatsConnection;
  /** This process's name in the leases it holds (e.g. the worker id); unique in the cluster. */
  owner: string;
  /** Lease time to live, ms: a holder that confirms no renewal for this long loses the lease. Default 10000. */
  ttlMs?: number;
  /** Renewal period, ms (< ttlMs). Default ttlMs / 3. */
  renewEveryMs?: number;
  /** KV bucket. Default `ndf_leases`. */
  bucket?: string;
  /** Timeout of one KV request, ms. Default min(2000, renewEveryMs). */
  requestTimeoutMs?: number;
  /** Time source and timers. Default: the wall clock. */
  clock?: Clock;
}

const optionsSchema = z
  .object({
    connection: natsConnectionSchema,
    owner: z.string().min(1).max(256),
    ttlMs: z.number().int().min(30).optional(),
    renewEveryMs: z.number().int().min(10).optional(),
    bucket: z
      .string()
      .regex(/^[A-Za-z0-9_-]+$/, 'a bucket name is A-Z a-z 0-9 _ -')
      .optional(),
    requestTimeoutMs: z.number().int().min(10).optional(),
    clock: z.custom<Clock>((v) => typeof (v as Clock | undefined)?.now === 'function', 'a Clock').optional(),
  })
  .strict()
  .refine((o) => (o.renewEveryMs ?? 0) < (o.ttlMs ?? 10_000), {
    message: 'renewEveryMs must be less than ttlMs',
    path: ['renewEveryMs'],
  });

/** Who holds a run's lease, as the bucket says now. */
export interface LeaseHolder {
  owner: string;
  /** The fencing token (KV revision). */
  token: number;
  ttlMs: number;
  /** The holder's clock at its last write + ttlMs, epoch ms (informational). */
  expiresAt: number;
}

/** Takes, renews, fences and releases leases on runs. */
export class LeaseManager {
  /** Revision of each held key this contender has seen, and when it first saw it (its clock). */
  private readonly observed = new Map<string, { revision: number; seenAt: number }>();
  private readonly held = new Set<Lease>();

  private constructor(
    private readonly kv: KV,
    private readonly clock: Clock,
    readonly owner: string,
    readonly ttlMs: number,
    private readonly renewEveryMs: number,
  ) {}

  /**
   * Opens (creating when missing) the lease bucket.
   * @throws PatternValidationError on a malformed option, naming it
   * @throws the client's error when JetStream does not answer
   * @example
   * const leases = await LeaseManager.open({ connection: nc, owner: 'worker-1', ttlMs: 5000 });
   * const lease = await leases.acquire(runId);
   * lease.signal.addEventListener('abort', stopDrivingTheRun);
   */
  static async open(options: LeaseManagerOptions): Promise<LeaseManager> {
    const o = parseWith(optionsSchema, options, 'LeaseManager.options');
    const ttlMs = o.ttlMs ?? 10_000;
    const renewEveryMs = o.renewEveryMs ?? Math.max(10, Math.floor(ttlMs / 3));
    const js = jetstream(o.connection, { timeout: o.requestTimeoutMs ?? Math.min(2000, renewEveryMs) });
    const kv = await new Kvm(js).create(o.bucket ?? 'ndf_leases', { history: 1 });
    return new LeaseManager(kv, o.clock ?? systemClock, o.owner, ttlMs, renewEveryMs);
  }

  /**
   * Takes the run's lease if it is free (never taken, released) or abandoned (its revision seen
   * unchanged by this manager for the holder's TTL); resolves undefined otherwise. A first call
   * on a held lease only starts observing it.
   * @throws PatternValidationError on a malformed run id
   */
  async tryAcquire(runId: string): Promise<Lease | undefined> {
    const key = runToken(parseWith(runIdSchema, runId, 'LeaseManager.tryAcquire.runId'));
    const entry = await this.kv.get(key);
    const now = this.clock.now();
    if (entry !== null && entry.operation === 'PUT') {
      const ttl = this.recordOf(entry.value, key)?.ttlMs ?? this.ttlMs;
      const seen = this.observed.get(key);
      if (seen?.revision !== entry.revision) {
        this.observed.set(key, { revision: entry.revision, seenAt: now });
        return undefined;
      }
      if (now - seen.seenAt < ttl) return undefined;
    }
    const lease = new Lease(key, {
      kv: this.kv,
      clock: this.clock,
      owner: this.owner,
      ttlMs: this.ttlMs,
      renewEveryMs: this.renewEveryMs,
      onEnd: (l) => this.held.delete(l),
    });
    const sentAt = this.clock.now();
    try {
      const value = lease.value(sentAt);
      const revision =
        entry === null ? await this.kv.create(key, value) : await this.kv.update(key, value, entry.revision);
      this.observed.delete(key);
      this.held.add(lease);
      lease.start(revision, sentAt);
      return lease;
    } catch (error) {
      if (isWrongLastSequence(error)) return undefined; // someone else wrote first
      throw error;
    }
  }

  /**
   * Waits until the run's lease is taken by this manager (polling every `renewEveryMs`).
   * @throws the signal's reason when `signal` aborts first
   */
  async acquire(runId: string, options: { signal?: AbortSignal } = {}): Promise<Lease> {
    for (;;) {
      options.signal?.throwIfAborted();
      const lease = await this.tryAcquire(runId);
      if (lease) return lease;
      await new Promise<void>((resolve) => {
        const id = this.clock.setTimeout(done, this.renewEveryMs);
        function done() {
          options.signal?.removeEventListener('abort', onAbort);
          resolve();
        }
        const onAbort = () => {
          this.clock.clearTimeout(id);
          done();
        };
        options.signal?.addEventListener('abort', onAbort, { once: true });
      });
    }
  }

  /** The run's lease holder as the bucket says now; undefined when free. */
  async holder(runId: string): Promise<LeaseHolder | undefined> {
    const key = runToken(parseWith(runIdSchema, runId, 'LeaseManager.holder.runId'));
    const entry = await this.kv.get(key);
    if (entry === null || entry.operation !== 'PUT') return undefined;
    const record = this.recordOf(entry.value, key);
    if (record === undefined) return undefined;
    return { owner: record.owner, token: entry.revision, ttlMs: record.ttlMs, expiresAt: record.expiresAt };
  }

  /** Releases every lease this manager holds (their signals abort). */
  async close(): Promise<void> {
    await Promise.all([...this.held].map((l) => l.release()));
  }

  /** A value that does not parse counts as held with this manager's TTL (it expires like any). */
  private recordOf(value: Uint8Array, key: string): LeaseRecord | undefined {
    try {
      return decodeLease(value, `LeaseManager.${key}`);
    } catch {
      return undefined;
    }
  }
}
