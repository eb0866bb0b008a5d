/**
 * A {@link RunStore} on NATS JetStream, for several runtime processes sharing runs
 * (docs/scaling.md). Each run's journal is a subject of one stream (`ndf.journal.<run>`); an
 * append is one message holding the batch of facts and the run's state after them, published
 * with JetStream's expected-last-subject-sequence header, so of two writers that read the same
 * journal only one can append (the other gets `ND_STORE_CONFLICT`). An append resolves once
 * JetStream acknowledged its message. Run summaries live in a KV bucket (`ndf_runs`), written in
 * the background when a run starts or changes status, by compare-and-set so they never move
 * back; `listRuns` reconciles them with the stream's per-subject message counts (a run whose
 * index is behind its journal is read from its last message), so a writer that died between
 * the two writes leaves no run unlisted or misreported.
 */
import { createHash, randomUUID } from 'node:crypto';
import {
  jetstream,
  jetstreamManager,
  RetentionPolicy,
  StorageType,
  type JetStreamClient,
  type JetStreamManager,
} from '@nats-io/jetstream';
import { Kvm, type KV } from '@nats-io/kv';
import type { NatsConnection } from '@nats-io/transport-node';
import { z } from 'zod';
import { systemClock, type Clock } from '../../core/clock.js';
import { isPatternValidationError } from '../../core/errors.js';
import { parseWith } from '../../core/validate.js';
import { ensureStream } from './ensureStream.js';
import { conflictError, RunStoreError, StoreErrorCode } from '../errors.js';
import type { JournalEntry, JournalFact } from '../journal.js';
import {
  buildEntries,
  cleanupCutoff,
  parseListFilter,
  type AppendOptions,
  type CleanupOptions,
  type RunStore,
} from '../RunStore.js';
import {
  applyEntry,
  bySummaryOrder,
  cloneState,
  isExpired,
  matches,
  type ListRunsFilter,
  type RunState,
  type RunSummary,
} from '../summary.js';
import { defaultNames, journalSubject, runIdOfToken, runToken } from './names.js';
import { isWrongLastSequence, retryTransient, type TransientRetry } from './transient.js';
import { decodeAppend, decodeIndex, encodeAppend, encodeIndex, type IndexRecord } from './records.js';
import { natsConnectionSchema } from './connectionSchema.js';

/** A check run right before a fenced append; it throws when the writer no longer holds the run. */
export type AppendFence = () => Promise<void>;

/** Options of {@link JetStreamRunStore.append}: {@link AppendOptions} plus an optional fence. */
export interface JetStreamAppendOptions extends AppendOptions {
  /**
   * Checked right before the message is published (e.g. `lease.fence`, src/cluster/leases); when
   * it throws, nothing is stored and the append rejects with that error.
   */
  fence?: AppendFence;
}

/** Options of {@link JetStreamRunStore.open}. */
export interface JetStreamRunStoreOptions {
  /** An open connection to a JetStream-enabled server; the store does not close it. */
  connection: NatsConnection;
  /** Journal stream name. Default `NDF_JOURNAL`. */
  stream?: string;
  /** Journal subjects are `<subjectPrefix>.<run>`. Default `ndf.journal`. */
  subjectPrefix?: string;
  /** KV bucket of run summaries. Default `ndf_runs`. */
  bucket?: string;
  /** `file` (default: survives a server restart) or `memory`. */
  storage?: 'file' | 'memory';
  /** Stream and bucket replicas (clustered servers). Default 1. */
  replicas?: number;
  /** Time source for default `at` values and `cleanupRuns`. Default: the wall clock. */
  clock?: Clock;
  /** Timeout of one JetStream request, ms. Default 2000. */
  requestTimeoutMs?: number;
  /**
   * Attempts of a request that fails for a transient reason (timeout, no responder, dropped
   * connection; see ./transient.ts), 1 = no retry. Default 5.
   */
  attempts?: number;
}

const optionsSchema = z
  .object({
    connection: natsConnectionSchema,
    stream: z
      .string()
      .regex(/^[A-Za-z0-9_-]+$/, 'a stream name is A-Z a-z 0-9 _ -')
      .optional(),
    subjectPrefix: z
      .string()
      .regex(
        /^[A-Za-z0-9_-]+(\.[A-Za-z0-9_-]+)*$/,
        'a subject prefix is dot-separated tokens of A-Z a-z 0-9 _ -',
      )
      .optional(),
    bucket: z
      .string()
      .regex(/^[A-Za-z0-9_-]+$/, 'a bucket name is A-Z a-z 0-9 _ -')
      .optional(),
    storage: z.enum(['file', 'memory']).optional(),
    replicas: z.number().int().min(1).max(5).optional(),
    clock: z.custom<Clock>((v) => typeof (v as Clock | undefined)?.now === 'function', 'a Clock').optional(),
    requestTimeoutMs: z.number().int().min(10).optional(),
    attempts: z.number().int().min(1).max(100).optional(),
  })
  .strict();

/** What the store knows of a run's journal: its state and the stream sequence of its last message. */
interface Head {
  state: RunState;
  streamSeq: number;
  /** Number of journal messages of the run. */
  messages: number;
}

const unavailable = (what: string, cause: unknown, runId?: string): RunStoreError =>
  new RunStoreError(
    StoreErrorCode.UNAVAILABLE,
    `JetStream run store: ${what} failed: ${(cause as Error)?.message ?? String(cause)}`,
    runId === undefined ? {} : { runId },
    cause,
  );

/** The run store on JetStream; see {@link RunStore} for the contract and docs/scaling.md. */
export class JetStreamRunStore implements RunStore {
  private readonly heads = new Map<string, Head>();
  /** KV revision of each run's index value as this store last wrote it. */
  private readonly indexRevisions = new Map<string, number>();
  /** Status of each run's index value as this store last wrote it. */
  private readonly indexedStatus = new Map<string, string>();
  /** Background index writes in flight, and runs whose head moved since theirs started. */
  private readonly indexing = new Map<string, Promise<void>>();
  private readonly indexAgain = new Set<string>();
  /** Appends to one run are serialised in this process, so chained `expectedSeq`s hold. */
  private readonly queues = new Map<string, Promise<unknown>>();
  private closed = false;
  /** Distinguishes this store's messages in the dedupe id (see {@link publish}). */
  private readonly writerId = randomUUID();

  private constructor(
    private readonly js: JetStreamClient,
    private readonly jsm: JetStreamManager,
    private readonly index: KV,
    private readonly stream: string,
    private readonly prefix: string,
    private readonly clock: Clock,
    private readonly retry: TransientRetry,
  ) {}

  /** Runs one idempotent request, retrying transient failures. */
  private request<T>(op: () => Promise<T>): Promise<T> {
    return retryTransient(op, this.retry);
  }

  /**
   * Connects to (creating when missing) the journal stream and the summary bucket.
   * @throws PatternValidationError on a malformed option, naming it
   * @throws RunStoreError `ND_STORE_UNAVAILABLE` when JetStream does not answer or refuses
   * @example
   * const nc = await connect({ servers: 'nats://127.0.0.1:4222' });
   * const store = await JetStreamRunStore.open({ connection: nc });
   */
  static async open(options: JetStreamRunStoreOptions): Promise<JetStreamRunStore> {
    const o = parseWith(optionsSchema, options, 'JetStreamRunStore.options');
    const stream = o.stream ?? defaultNames.stream;
    const prefix = o.subjectPrefix ?? defaultNames.subjectPrefix;
    const storage = o.storage === 'memory' ? StorageType.Memory : StorageType.File;
    const timeout = o.requestTimeoutMs ?? 2000;
    const retry: TransientRetry = { attempts: o.attempts ?? 5, closed: () => o.connection.isClosed() };
    try {
      const jsm = await retryTransient(() => jetstreamManager(o.connection, { timeout }), retry);
      const js = jetstream(o.connection, { timeout });
      const config = {
        name: stream,
        subjects: [`${prefix}.>`],
        storage,
        retention: RetentionPolicy.Limits,
        num_replicas: o.replicas ?? 1,
      };
      await retryTransient(
        () =>
          ensureStream(jsm, config, [
            {
              key: 'storage',
              value: storage,
              option: o.storage === undefined ? undefined : 'JetStreamRunStore.options.storage',
            },
            {
              key: 'num_replicas',
              value: config.num_replicas,
              option: o.replicas === undefined ? undefined : 'JetStreamRunStore.options.replicas',
            },
          ]),
        retry,
      );
      const index = await retryTransient(
        () =>
          new Kvm(js).create(o.bucket ?? defaultNames.bucket, {
            history: 1,
            storage,
            replicas: o.replicas ?? 1,
          }),
        retry,
      );
      return new JetStreamRunStore(js, jsm, index, stream, prefix, o.clock ?? systemClock, retry);
    } catch (error) {
      if (isPatternValidationError(error)) throw error;
      throw unavailable(`opening stream ${stream}`, error);
    }
  }

  append(
    runId: string,
    facts: readonly JournalFact[],
    options: JetStreamAppendOptions,
  ): Promise<JournalEntry[]> {
    return this.serialised(runId, () => this.appendNow(runId, facts, options));
  }

  private async appendNow(
    runId: string,
    facts: readonly JournalFact[],
    options: JetStreamAppendOptions,
  ): Promise<JournalEntry[]> {
    this.assertOpen();
    const { fence, ...appendOptions } = options;
    if (fence !== undefined && typeof fence !== 'function') {
      throw new TypeError('JetStreamRunStore.append.options.fence must be a function');
    }
    const entries = buildEntries(runId, facts, appendOptions, this.clock);
    let head = this.heads.get(runId);
    if (head === undefined || head.state.summary.lastSeq !== options.expectedSeq)
      head = await this.loadHead(runId);
    const lastSeq = head?.state.summary.lastSeq ?? 0;
    if (options.expectedSeq !== lastSeq) throw conflictError(runId, options.expectedSeq, lastSeq);
    let state = head === undefined ? undefined : cloneState(head.state);
    for (const entry of entries) state = applyEntry(state, entry);
    const messages = (head?.messages ?? 0) + 1;
    const streamSeq = await this.publish(
      runId,
      entries,
      state!,
      messages,
      head?.streamSeq ?? 0,
      options.expectedSeq,
      fence,
    );
    const next: Head = {
      state: state!,
      streamSeq,
      messages,
    };
    this.heads.set(runId, next);
    // The index changes only with the listing's filters (a new run, a new status); lastSeq of a
    // running run is read from its journal head by listRuns.
    if (this.indexedStatus.get(runId) !== next.state.summary.status) this.scheduleIndex(runId);
    return entries.map((e) => JSON.parse(JSON.stringify(e)) as JournalEntry);
  }

  /**
   * Publishes one append with the expected last sequence of the run's subject; the message id
   * (deduplicated by the server) is this writer, the seq and a hash of the payload, so a publish
   * retried by the client after a lost ack is stored once, and another writer's append of the
   * same seq is never mistaken for it. The fence, when given, is checked before every attempt
   * (a retry may come after the lease moved) and its error is rethrown as is.
   */
  private async publish(
    runId: string,
    entries: JournalEntry[],
    state: RunState,
    message: number,
    lastStreamSeq: number,
    expectedSeq: number,
    fence: AppendFence | undefined,
  ): Promise<number> {
    const data = encodeAppend(entries, state, message);
    const hash = createHash('sha256').update(data).digest('base64url').slice(0, 16);
    const subject = journalSubject(this.prefix, runId);
    const msgID = `${runToken(runId)}:${expectedSeq + 1}:${this.writerId}:${hash}`;
    let fenced: unknown;
    try {
      const ack = await this.request(async () => {
        if (fence !== undefined) {
          try {
            await fence();
          } catch (error) {
            fenced = error;
            throw error;
          }
        }
        return this.js.publish(subject, data, { expect: { lastSubjectSequence: lastStreamSeq }, msgID });
      });
      return ack.seq;
    } catch (error) {
      this.heads.delete(runId);
      if (fenced !== undefined && error === fenced) throw error;
      if (isWrongLastSequence(error)) {
        const actual = (await this.loadHead(runId))?.state.summary.lastSeq ?? 0;
        throw conflictError(runId, expectedSeq, actual);
      }
      throw unavailable(`append to run ${runId}`, error, runId);
    }
  }

  /**
   * Brings the run's index value up to its head in the background: an append resolves once its
   * journal message is stored (the journal is the truth), and the index follows (one write in
   * flight per run, the newest head wins). `listRuns` waits for this process's pending writes and
   * repairs from the journal what another process left behind.
   */
  private scheduleIndex(runId: string): void {
    if (this.indexing.has(runId)) {
      this.indexAgain.add(runId);
      return;
    }
    const work = (async () => {
      do {
        this.indexAgain.delete(runId);
        const head = this.heads.get(runId);
        if (head === undefined) return;
        await this.updateIndex(runId, head).catch(() => undefined); // listRuns repairs it
      } while (this.indexAgain.has(runId));
    })().finally(() => this.indexing.delete(runId));
    this.indexing.set(runId, work);
  }

  /** Waits for this process's pending index writes. */
  private async indexSettled(): Promise<void> {
    while (this.indexing.size > 0) await Promise.all([...this.indexing.values()]);
  }

  /** Keeps the run's index value at its newest journal message (never moves it back). */
  private async updateIndex(runId: string, head: Head): Promise<void> {
    const key = runToken(runId);
    const value = encodeIndex({ summary: head.state.summary, messages: head.messages });
    try {
      for (let revision = this.indexRevisions.get(runId) ?? 0; ;) {
        try {
          const written = await this.request(() =>
            revision === 0 ? this.index.create(key, value) : this.index.update(key, value, revision),
          );
          this.indexRevisions.set(runId, written);
          this.indexedStatus.set(runId, head.state.summary.status);
          return;
        } catch (error) {
          if (!isWrongLastSequence(error)) throw error;
          const current = await this.request(() => this.index.get(key));
          if (current === null || current.operation !== 'PUT') {
            revision = current?.revision ?? 0;
            if (current === null) continue;
          } else {
            if (decodeIndex(current.value, `index ${key}`).messages >= head.messages) return;
            revision = current.revision;
          }
        }
      }
    } catch (error) {
      this.indexRevisions.delete(runId);
      throw unavailable(`index update of run ${runId} (the append itself is stored)`, error, runId);
    }
  }

  /** Reads the run's last journal message; undefined for an unknown run. */
  private async loadHead(runId: string): Promise<Head | undefined> {
    const last = await this.lastMessage(runId);
    if (last === undefined) {
      this.heads.delete(runId);
      return undefined;
    }
    const head: Head = {
      state: last.record.state,
      streamSeq: last.seq,
      messages: last.record.message,
    };
    this.heads.set(runId, head);
    return head;
  }

  /** The run's last journal message, decoded, and its stream sequence; undefined for an unknown run. */
  private async lastMessage(runId: string) {
    const subject = journalSubject(this.prefix, runId);
    let msg;
    try {
      msg = await this.request(() => this.jsm.streams.getMessage(this.stream, { last_by_subj: subject })); // null: none
    } catch (error) {
      throw unavailable(`reading run ${runId}`, error, runId);
    }
    return msg === null ? undefined : { record: this.decode(msg.data, msg.seq), seq: msg.seq };
  }

  /**
   * The run's summary now and the entries of its last append (one request, no replay of the
   * journal): cheap enough to poll for a run's end (its `runFinished` is then among `entries`).
   * Undefined for an unknown run.
   * @throws RunStoreError `ND_STORE_UNAVAILABLE` when JetStream does not answer
   */
  async lastAppend(runId: string): Promise<{ summary: RunSummary; entries: JournalEntry[] } | undefined> {
    this.assertOpen();
    const last = await this.lastMessage(runId);
    return last && { summary: last.record.state.summary, entries: last.record.entries };
  }

  private async subjectCounts(filter: string): Promise<Record<string, number>> {
    try {
      const info = await this.request(() => this.jsm.streams.info(this.stream, { subjects_filter: filter }));
      return info.state.subjects ?? {};
    } catch (error) {
      throw unavailable(`listing subjects of ${this.stream}`, error);
    }
  }

  private decode(data: Uint8Array, seq: number) {
    try {
      return decodeAppend(data, `JetStreamRunStore.${this.stream}.${seq}`);
    } catch (error) {
      throw new RunStoreError(
        StoreErrorCode.CORRUPT,
        `Corrupt journal message: stream ${this.stream}, sequence ${seq}: ${(error as Error).message}`,
        { file: this.stream, offset: seq },
        error,
      );
    }
  }

  async read(runId: string): Promise<JournalEntry[]> {
    this.assertOpen();
    const head = await this.loadHead(runId);
    if (head === undefined) return [];
    const entries: JournalEntry[] = [];
    try {
      // An ordered consumer over the run's subject, read up to the head just looked up.
      const consumer = await this.request(() =>
        this.js.consumers.get(this.stream, { filter_subjects: journalSubject(this.prefix, runId) }),
      );
      const messages = await consumer.consume();
      for await (const m of messages) {
        entries.push(...this.decode(m.data, m.seq).entries);
        if (m.seq >= head.streamSeq) break;
      }
    } catch (error) {
      if (error instanceof RunStoreError) throw error;
      throw unavailable(`reading run ${runId}`, error, runId);
    }
    return entries;
  }

  /**
   * Summaries from the KV index, reconciled with the stream first: a run whose journal has more
   * messages than its index value says (its writer died between the two writes), or none at all,
   * is re-indexed from its last message; an index value whose journal is gone is removed.
   */
  async listRuns(filter: ListRunsFilter = {}): Promise<RunSummary[]> {
    this.assertOpen();
    const f = parseListFilter(filter);
    const summaries = await this.reconciledSummaries();
    return summaries.filter((s) => matches(s, f)).sort(bySummaryOrder);
  }

  private async reconciledSummaries(): Promise<RunSummary[]> {
    await this.indexSettled();
    // The index first: a value read then has its journal message already stored, so a value
    // with no count in the (later) subject listing really has no journal.
    const indexed = await this.readIndex();
    const counts = await this.subjectCounts(`${this.prefix}.>`);
    const out: RunSummary[] = [];
    const prefixLength = this.prefix.length + 1;
    await Promise.all(
      Object.entries(counts).map(async ([subject, count]) => {
        const runId = runIdOfToken(subject.slice(prefixLength));
        const record = indexed.get(runToken(runId));
        indexed.delete(runToken(runId));
        if (record !== undefined && record.messages >= count) {
          out.push(record.summary);
          return;
        }
        const head = await this.loadHead(runId);
        if (head === undefined) return;
        out.push(head.state.summary);
        if (record?.summary.status !== head.state.summary.status) {
          await this.updateIndex(runId, head).catch(() => undefined); // repaired on the next list
        }
      }),
    );
    // Index values left have no journal (a cleanup stopped between its two deletes).
    await Promise.all([...indexed.keys()].map((key) => this.index.purge(key).catch(() => undefined)));
    return out;
  }

  /** The index by key; undefined for a value that does not parse (rebuilt or purged by the caller). */
  private async readIndex(): Promise<Map<string, IndexRecord | undefined>> {
    const out = new Map<string, IndexRecord | undefined>();
    try {
      const keys: string[] = [];
      for await (const key of await this.request(() => this.index.keys())) keys.push(key);
      await Promise.all(
        keys.map(async (key) => {
          const entry = await this.request(() => this.index.get(key));
          if (entry?.operation !== 'PUT') return;
          // Derived data: a value that does not parse is treated as missing and rebuilt.
          try {
            out.set(key, decodeIndex(entry.value, `index ${key}`));
          } catch {
            out.set(key, undefined);
          }
        }),
      );
    } catch (error) {
      throw unavailable('reading the run index', error);
    }
    return out;
  }

  async cleanupRuns(options: CleanupOptions): Promise<string[]> {
    this.assertOpen();
    const cutoff = cleanupCutoff(options, this.clock);
    const expired = (await this.reconciledSummaries())
      .filter((s) => isExpired(s, cutoff))
      .map((s) => s.runId);
    try {
      for (const runId of expired) {
        await this.serialised(runId, async () => {
          await this.request(() =>
            this.jsm.streams.purge(this.stream, { filter: journalSubject(this.prefix, runId) }),
          );
          await this.request(() => this.index.purge(runToken(runId)));
          this.heads.delete(runId);
          this.indexRevisions.delete(runId);
          this.indexedStatus.delete(runId);
        });
      }
    } catch (error) {
      throw unavailable('cleanupRuns', error);
    }
    return expired.sort();
  }

  async close(): Promise<void> {
    this.closed = true;
    await Promise.allSettled([...this.queues.values()]);
    await this.indexSettled();
  }

  private serialised<T>(runId: string, work: () => Promise<T>): Promise<T> {
    const previous = this.queues.get(runId) ?? Promise.resolve();
    const next = previous.then(work, work);
    const settled = next.then(
      () => undefined,
      () => undefined,
    );
    this.queues.set(runId, settled);
    void settled.then(() => {
      if (this.queues.get(runId) === settled) this.queues.delete(runId);
    });
    return next;
  }

  private assertOpen(): void {
    if (this.closed) throw new RunStoreError(StoreErrorCode.UNAVAILABLE, 'The run store is closed');
  }
}
