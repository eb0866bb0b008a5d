/**
 * A held lease: renewed by compare-and-set on its KV revision every `renewEveryMs`; the revision
 * is the fencing token. The holder's own deadline is the send time of its last confirmed renewal
 * plus the TTL (measured on its own clock, so no clock comparison across machines); when no
 * renewal is confirmed by then, or a renewal loses its compare-and-set, the lease is lost:
 * `signal` aborts with a {@link LeaseLostError} and `fence()` rejects.
 */
import { randomUUID } from 'node:crypto';
import type { KV } from '@nats-io/kv';
import type { Clock } from '../../core/clock.js';
import { isWrongLastSequence } from '../../store/jetstream/transient.js';
import { LeaseLostError, type LeaseLossReason } from '../errors.js';
import { decodeLease, encodeLease } from './leaseRecord.js';

/** What a {@link Lease} needs from its manager. */
export interface LeaseContext {
  kv: KV;
  clock: Clock;
  owner: string;
  ttlMs: number;
  renewEveryMs: number;
  /** Called once when the lease ends (lost or released). */
  onEnd: (lease: Lease) => void;
}

/** A lease held by this process on one key of the lease bucket. */
export class Lease {
  /** Random id of this holding, written in the value. */
  readonly holder = randomUUID();
  private readonly controller = new AbortController();
  private revision = 0;
  /** Local time the last confirmed write was sent: the lease is ours until this + ttlMs. */
  private confirmedSentAt = 0;
  private timer: unknown;
  private deadlineTimer: unknown;
  private queue: Promise<unknown> = Promise.resolve();
  private lostError: LeaseLostError | undefined;
  private ended = false;

  /** @internal built by `LeaseManager` */
  constructor(
    /** The KV key (the run's token). */
    readonly key: string,
    private readonly ctx: LeaseContext,
  ) {}

  /** The owner name given to the manager. */
  get owner(): string {
    return this.ctx.owner;
  }

  /** The fencing token: the KV revision of the lease's last confirmed write. */
  get token(): number {
    return this.revision;
  }

  /** Aborts (reason: a {@link LeaseLostError}, or an `Error` on release) when the lease ends. */
  get signal(): AbortSignal {
    return this.controller.signal;
  }

  /** Why the lease was lost, once it was. */
  get lost(): LeaseLostError | undefined {
    return this.lostError;
  }

  /** Local deadline, epoch ms on the manager's clock: the lease is ours until then unless renewed. */
  get deadline(): number {
    return this.confirmedSentAt + this.ctx.ttlMs;
  }

  /** @internal the first write (create or takeover) succeeded with `revision`, sent at `sentAt`. */
  start(revision: number, sentAt: number): void {
    this.revision = revision;
    this.confirmedSentAt = sentAt;
    this.armDeadline();
    this.schedule();
  }

  /** The value this holder writes (its clock + TTL is informational). */
  value(now: number): Uint8Array {
    return encodeLease({
      owner: this.ctx.owner,
      holder: this.holder,
      ttlMs: this.ctx.ttlMs,
      expiresAt: now + this.ctx.ttlMs,
    });
  }

  /**
   * Proves the lease is still this holder's right now, by renewing it with compare-and-set on
   * its revision (so it also extends it). Use it right before a write that must be fenced, e.g.
   * `store.append(runId, facts, { expectedSeq, fence: () => lease.fence() })`.
   * @throws {LeaseLostError} when the lease was lost (or is found lost now)
   * @throws the connection's error (e.g. `TimeoutError`) when the renewal got no answer in time
   *   but the deadline has not passed: the caller may retry
   */
  fence(): Promise<void> {
    return this.serialised(() => this.renew());
  }

  /**
   * The no-I/O fence: throws unless the lease is still this holder's by its own deadline (last
   * confirmed renewal's send time + TTL, on this clock). As safe as {@link fence} under the
   * lease's assumption (clock rates agree; contenders wait a whole TTL after seeing a revision),
   * without its round trip; it does not extend the lease, and it cannot see a key deleted by hand.
   * @throws {LeaseLostError} when lost or past the deadline
   */
  check(): void {
    if (this.lostError) throw this.lostError;
    if (this.ended) throw new LeaseLostError(this.key, this.ctx.owner, 'deleted');
    if (this.ctx.clock.now() >= this.deadline) throw this.lose('expired');
  }

  /**
   * Stops renewing and deletes the key if it is still this holder's (compare-and-set), so a
   * contender can take it at once. `signal` aborts. Idempotent; never throws for a lost lease.
   */
  async release(): Promise<void> {
    if (this.ended) return;
    await this.serialised(async () => {
      if (this.ended) return;
      this.end();
      this.controller.abort(new Error(`Lease ${this.key} released by ${this.ctx.owner}`));
      await this.ctx.kv.delete(this.key, { previousSeq: this.revision }).catch(() => undefined);
    });
  }

  private async renew(): Promise<void> {
    if (this.lostError) throw this.lostError;
    if (this.ended) throw new LeaseLostError(this.key, this.ctx.owner, 'deleted');
    const sentAt = this.ctx.clock.now();
    if (sentAt >= this.deadline) throw this.lose('expired');
    try {
      const revision = await this.ctx.kv.update(this.key, this.value(sentAt), this.revision);
      if (this.ended) throw this.lostError ?? new LeaseLostError(this.key, this.ctx.owner, 'deleted');
      this.revision = revision;
      this.confirmedSentAt = sentAt;
      this.armDeadline();
    } catch (error) {
      if (!isWrongLastSequence(error)) {
        if (this.ctx.clock.now() >= this.deadline) throw this.lose('expired', error);
        throw error;
      }
      // Lost the compare-and-set: either our own earlier renewal landed and its reply was lost
      // (the value is still ours: adopt its revision, keep the older confirmed time), or another
      // owner took the lease.
      const current = await this.ctx.kv.get(this.key).catch(() => undefined);
      if (current === undefined) throw error;
      if (current === null || current.operation !== 'PUT') throw this.lose('deleted', error);
      const record = (() => {
        try {
          return decodeLease(current.value, `lease ${this.key}`);
        } catch {
          return undefined;
        }
      })();
      if (record?.holder !== this.holder) throw this.lose('taken', error);
      this.revision = current.revision;
      return this.renew();
    }
  }

  private schedule(): void {
    if (this.ended) return;
    const now = this.ctx.clock.now();
    const wait = Math.max(0, Math.min(this.ctx.renewEveryMs, this.deadline - now));
    this.timer = this.ctx.clock.setTimeout(() => {
      void this.serialised(() => this.renew())
        .catch(() => undefined) // a loss is reported through `signal`; a transient error retries
        .finally(() => this.schedule());
    }, wait);
  }

  /** Declares the lease lost at its deadline even while a renewal request hangs (paused link). */
  private armDeadline(): void {
    this.ctx.clock.clearTimeout(this.deadlineTimer);
    const check = () => {
      const left = this.deadline - this.ctx.clock.now();
      if (left > 0) this.deadlineTimer = this.ctx.clock.setTimeout(check, left);
      else this.lose('expired');
    };
    this.deadlineTimer = this.ctx.clock.setTimeout(check, Math.max(0, this.deadline - this.ctx.clock.now()));
  }

  private lose(reason: LeaseLossReason, cause?: unknown): LeaseLostError {
    if (this.lostError) return this.lostError;
    this.lostError = new LeaseLostError(this.key, this.ctx.owner, reason, cause);
    this.end();
    this.controller.abort(this.lostError);
    return this.lostError;
  }

  private end(): void {
    if (this.ended) return;
    this.ended = true;
    this.ctx.clock.clearTimeout(this.timer);
    this.ctx.clock.clearTimeout(this.deadlineTimer);
    this.ctx.onEnd(this);
  }

  private serialised<T>(work: () => Promise<T>): Promise<T> {
    const next = this.queue.then(work, work);
    this.queue = next.catch(() => undefined);
    return next;
  }
}
