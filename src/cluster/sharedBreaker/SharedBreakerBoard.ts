/**
 * Circuit breaker state shared by every process of a cluster, one KV key per agent
 * (`ndf_breakers`): when one process opens an agent's circuit, every process refuses calls to it
 * (each keeps the bucket watched, so admission reads a local copy, no round trip); after the
 * recovery timeout exactly one process in the cluster wins the half-open probe, by
 * compare-and-set on the key's revision; the probe's outcome closes or reopens the circuit for
 * all. States and names follow the circuit breaker pattern (M. Nygard, "Release It!", 2007); the
 * single cluster-wide probe is the compare-and-set claim.
 *
 * This is the shared half of a breaker (a {@link SharedBreakerGate}, given to an executor as
 * `sharedBreakers`): the runtime's `CircuitBreaker` keeps counting failures locally, reports its
 * openings here and follows the transitions made elsewhere (docs/scaling.md).
 */
import { jetstream } from '@nats-io/jetstream';
import { Kvm, type KV, type KvEntry } from '@nats-io/kv';
import type { NatsConnection } from '@nats-io/transport-node';
import { z } from 'zod';
import { systemClock, type Clock } from '../../core/clock.js';
import { parseWith } from '../../core/validate.js';
import { isWrongLastSequence } from '../../store/jetstream/transient.js';
import type {
  SharedAdmission,
  SharedBreakerGate,
  SharedBreakerListener,
  SharedBreakerState,
} from '../../core/sharedBreakers.js';
import { decodeBreaker, encodeBreaker, type BreakerRecord } from './breakerRecord.js';
import { natsConnectionSchema } from '../../store/jetstream/connectionSchema.js';

/** Options of {@link SharedBreakerBoard.open}. */
export interface SharedBreakerBoardOptions {
  /** An open connection to a JetStream-enabled server; not closed by the board. */
  connection: NatsConnection;
  /** This process's name (unique in the cluster). */
  owner: string;
  /** Time open before one probe is let through, ms. Default 5000 (the local breaker's default). */
  recoveryTimeoutMs?: number;
  /** A probe not reported within this long is presumed lost (its process died): another may claim, ms. Default 30000. */
  probeTimeoutMs?: number;
  /** KV bucket. Default `ndf_breakers`. */
  bucket?: string;
  /** Time source. Default: the wall clock. */
  clock?: Clock;
}

const optionsSchema = z
  .object({
    connection: natsConnectionSchema,
    owner: z.string().min(1),
    recoveryTimeoutMs: z.number().int().nonnegative().optional(),
    probeTimeoutMs: z.number().int().positive().optional(),
    bucket: z
      .string()
      .regex(/^[A-Za-z0-9_-]+$/, 'a bucket name is A-Z a-z 0-9 _ -')
      .optional(),
    clock: z.custom<Clock>((v) => typeof (v as Clock | undefined)?.now === 'function', 'a Clock').optional(),
  })
  .strict();

export type { SharedAdmission, SharedBreakerListener, SharedBreakerState };

/** Agent ids may hold any character; keys are their UTF-8 bytes in base64url (KV-safe). */
const keyOf = (agentId: string): string => Buffer.from(agentId, 'utf8').toString('base64url');
const agentOf = (key: string): string => Buffer.from(key, 'base64url').toString('utf8');

const agentIdSchema = z.string().min(1);

/** The cluster's shared breaker states. */
export class SharedBreakerBoard implements SharedBreakerGate {
  private readonly cache = new Map<string, { record: BreakerRecord; revision: number }>();
  private readonly listeners = new Set<SharedBreakerListener>();
  private stopWatch: (() => void) | undefined;

  private constructor(
    private readonly kv: KV,
    readonly owner: string,
    private readonly recoveryTimeoutMs: number,
    private readonly probeTimeoutMs: number,
    private readonly clock: Clock,
  ) {}

  /**
   * Opens (creating when missing) the bucket and starts watching it; resolves once the current
   * states are loaded.
   * @throws PatternValidationError on a malformed option, naming it
   */
  static async open(options: SharedBreakerBoardOptions): Promise<SharedBreakerBoard> {
    const o = parseWith(optionsSchema, options, 'SharedBreakerBoard.options');
    const kv = await new Kvm(jetstream(o.connection)).create(o.bucket ?? 'ndf_breakers', { history: 1 });
    const board = new SharedBreakerBoard(
      kv,
      o.owner,
      o.recoveryTimeoutMs ?? 5000,
      o.probeTimeoutMs ?? 30_000,
      o.clock ?? systemClock,
    );
    await board.watch();
    return board;
  }

  private async watch(): Promise<void> {
    const watcher = await this.kv.watch();
    this.stopWatch = () => watcher.stop();
    for await (const key of await this.kv.keys()) {
      const entry = await this.kv.get(key);
      if (entry) this.absorb(entry, false);
    }
    void (async () => {
      try {
        for await (const entry of watcher) this.absorb(entry, true);
      } catch {
        // The connection closed under the watch: the local copy stays as last seen.
      }
    })();
  }

  /** Takes a newer entry into the local copy; tells listeners when asked. */
  private absorb(entry: KvEntry, notify: boolean): void {
    const agentId = agentOf(entry.key);
    const known = this.cache.get(agentId);
    if (known !== undefined && known.revision >= entry.revision) return;
    const record: BreakerRecord | undefined =
      entry.operation === 'PUT'
        ? decodeBreaker(entry.value)
        : { state: 'closed', generation: 0, by: 'deleted' };
    if (record === undefined) return;
    this.cache.set(agentId, { record, revision: entry.revision });
    if (notify) for (const l of this.listeners) l(this.view(agentId, record));
  }

  private view(agentId: string, r: BreakerRecord): SharedBreakerState {
    return {
      agentId,
      state: r.state,
      generation: r.generation,
      by: r.by,
      ...(r.openedAt === undefined ? {} : { openedAt: r.openedAt }),
      ...(r.probe === undefined ? {} : { probeOwner: r.probe.owner }),
    };
  }

  /** The agent's state as this process sees it now (closed when never written). */
  state(agentId: string): SharedBreakerState {
    parseWith(agentIdSchema, agentId, 'SharedBreakerBoard.state.agentId');
    const known = this.cache.get(agentId);
    return this.view(agentId, known?.record ?? { state: 'closed', generation: 0, by: this.owner });
  }

  /**
   * Whether this process may call the agent now. Closed: yes, from the local copy. Open before
   * `openedAt + recoveryTimeoutMs`, or half-open with a live probe elsewhere: no, with `retryAt`.
   * Otherwise it tries to claim the one probe by compare-and-set: `{ ok: true, probe: true }` for
   * the one process that wins it, a refusal for the others. A probe must be answered with
   * {@link recordProbe}.
   */
  async admit(agentId: string): Promise<SharedAdmission> {
    parseWith(agentIdSchema, agentId, 'SharedBreakerBoard.admit.agentId');
    const known = this.cache.get(agentId);
    const now = this.clock.now();
    if (known === undefined || known.record.state === 'closed') {
      return { ok: true, probe: false, generation: known?.record.generation ?? 0 };
    }
    const r = known.record;
    if (r.state === 'open') {
      const due = (r.openedAt ?? 0) + this.recoveryTimeoutMs;
      if (now < due) return { ok: false, retryAt: due, state: 'open' };
    } else if (r.probe !== undefined && now < r.probe.claimedAt + this.probeTimeoutMs) {
      return { ok: false, retryAt: r.probe.claimedAt + this.probeTimeoutMs, state: 'halfOpen' };
    }
    const claim: BreakerRecord = {
      state: 'halfOpen',
      generation: r.generation + 1,
      ...(r.openedAt === undefined ? {} : { openedAt: r.openedAt }),
      probe: { owner: this.owner, claimedAt: now },
      by: this.owner,
    };
    if (await this.write(agentId, claim, known.revision))
      return { ok: true, probe: true, generation: claim.generation };
    return this.admit(agentId); // someone else moved first: decide on what they wrote
  }

  /**
   * Reports that this process's breaker for the agent opened (it saw the agent fail). No-op when
   * the shared state is already open. Resolves with the state after the call.
   */
  async recordOpened(agentId: string): Promise<SharedBreakerState> {
    parseWith(agentIdSchema, agentId, 'SharedBreakerBoard.recordOpened.agentId');
    for (;;) {
      const known = this.cache.get(agentId);
      if (known?.record.state === 'open') return this.state(agentId);
      const next: BreakerRecord = {
        state: 'open',
        generation: (known?.record.generation ?? 0) + 1,
        openedAt: this.clock.now(),
        by: this.owner,
      };
      if (await this.write(agentId, next, known?.revision ?? 0)) return this.state(agentId);
    }
  }

  /**
   * Reports the outcome of the probe this process won (`generation` from {@link admit}): success
   * closes the circuit for all, failure reopens it (recovery timeout from now). An outcome of a
   * stale generation (the probe was presumed lost and re-claimed) moves nothing; resolves false then.
   */
  async recordProbe(agentId: string, generation: number, success: boolean): Promise<boolean> {
    parseWith(agentIdSchema, agentId, 'SharedBreakerBoard.recordProbe.agentId');
    for (;;) {
      const known = this.cache.get(agentId);
      if (
        known === undefined ||
        known.record.generation !== generation ||
        known.record.state !== 'halfOpen'
      ) {
        return false;
      }
      const next: BreakerRecord = success
        ? { state: 'closed', generation: generation + 1, by: this.owner }
        : { state: 'open', generation: generation + 1, openedAt: this.clock.now(), by: this.owner };
      if (await this.write(agentId, next, known.revision)) return true;
    }
  }

  /**
   * The probe this process won (`generation` from {@link admit}) ended with no outcome (cancelled,
   * or its call never reached the agent): the circuit goes back to open with its old `openedAt`, so
   * the next caller may claim a probe at once. Stale generation: moves nothing, resolves false.
   */
  async releaseProbe(agentId: string, generation: number): Promise<boolean> {
    parseWith(agentIdSchema, agentId, 'SharedBreakerBoard.releaseProbe.agentId');
    for (;;) {
      const known = this.cache.get(agentId);
      if (known?.record.generation !== generation || known.record.state !== 'halfOpen') return false;
      const next: BreakerRecord = {
        state: 'open',
        generation: generation + 1,
        openedAt: known.record.openedAt ?? 0,
        by: this.owner,
      };
      if (await this.write(agentId, next, known.revision)) return true;
    }
  }

  /** Listens to transitions of every agent (including this process's own). @returns a disposer. */
  onChange(listener: SharedBreakerListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Stops watching. */
  close(): void {
    this.stopWatch?.();
    this.listeners.clear();
  }

  /**
   * Writes `record` if the key is still at `revision` (0: absent); on a lost compare-and-set,
   * refreshes the local copy from the bucket and resolves false.
   */
  private async write(agentId: string, record: BreakerRecord, revision: number): Promise<boolean> {
    const key = keyOf(agentId);
    try {
      const value = encodeBreaker(record);
      const next =
        revision === 0 ? await this.kv.create(key, value) : await this.kv.update(key, value, revision);
      const known = this.cache.get(agentId);
      if (known === undefined || known.revision < next) {
        this.cache.set(agentId, { record, revision: next });
        for (const l of this.listeners) l(this.view(agentId, record));
      }
      return true;
    } catch (error) {
      if (!isWrongLastSequence(error)) throw error;
      const entry = await this.kv.get(key);
      if (entry) this.absorb(entry, true);
      return false;
    }
  }
}
