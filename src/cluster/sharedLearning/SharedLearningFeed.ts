/**
 * Learning shared by every process of a cluster: each outcome an executor learns from (an agent's
 * attempt, a pattern's run) is published to a JetStream stream, and every process follows the
 * stream, recording the others' outcomes as if seen itself. The stream is also the learning's
 * persistence: a worker that starts replays the retained history (outcomes older than the
 * retention are removed by the stream's `max_age`), so a restarted cluster keeps what it learned.
 */
import { jetstream, jetstreamManager, type ConsumerMessages, type JetStreamClient } from '@nats-io/jetstream';
import { nanos, type NatsConnection } from '@nats-io/transport-node';
import { z } from 'zod';
import type { Logger } from '../../core/logger.js';
import type { SharedLearningGate, SharedOutcome } from '../../core/sharedLearning.js';
import { parseWith } from '../../core/validate.js';
import { defaultLearningParams } from '../../learning/params.js';
import { ensureStream } from '../../store/jetstream/ensureStream.js';
import { decodeOutcome, encodeOutcome } from './outcomeRecord.js';
import { natsConnectionSchema } from '../../store/jetstream/connectionSchema.js';

/** Options of {@link SharedLearningFeed.open}. */
export interface SharedLearningFeedOptions {
  /** An open connection to a JetStream-enabled server; not closed by the feed. */
  connection: NatsConnection;
  /** This process's name (unique in the cluster): its own outcomes are not applied back to it. */
  owner: string;
  /** Stream name (subjects `ndf.learning.<stream>.>`). Default `NDF_LEARNING`. */
  stream?: string;
  /** Outcomes older than this many days are removed from the stream. Default 30 (the learning default). */
  retentionDays?: number;
  /** Where undecodable messages and failed publishes are logged (default: dropped). */
  logger?: Pick<Logger, 'warn'>;
}

const optionsSchema = z
  .object({
    connection: natsConnectionSchema,
    owner: z.string().min(1).max(256),
    stream: z
      .string()
      .regex(/^[A-Za-z0-9_-]+$/, 'a stream name is A-Z a-z 0-9 _ -')
      .optional(),
    retentionDays: z.number().positive().optional(),
    logger: z
      .custom<Pick<Logger, 'warn'>>((l) => typeof (l as Logger | undefined)?.warn === 'function')
      .optional(),
  })
  .strict();

type Listener = (outcome: SharedOutcome) => void;

/** A cluster's shared learning over JetStream (a {@link SharedLearningGate}). */
export class SharedLearningFeed implements SharedLearningGate {
  private readonly listeners = new Set<Listener>();
  /** The others' outcomes read before the first listener came (handed to it). */
  private backlog: SharedOutcome[] | undefined = [];
  private readonly pending = new Set<Promise<unknown>>();
  private messages: ConsumerMessages | undefined;
  private closed = false;

  private constructor(
    private readonly js: JetStreamClient,
    readonly owner: string,
    private readonly subject: string,
    private readonly logger: Pick<Logger, 'warn'> | undefined,
  ) {}

  /**
   * Creates the stream when missing and reads its retained outcomes; resolves once they are read
   * (the first listener receives them), then keeps following the stream.
   * @throws PatternValidationError on a malformed option, naming it
   * @throws the client's error when JetStream refuses or does not answer
   */
  static async open(options: SharedLearningFeedOptions): Promise<SharedLearningFeed> {
    const o = parseWith(optionsSchema, options, 'SharedLearningFeed.options');
    const stream = o.stream ?? 'NDF_LEARNING';
    const prefix = `ndf.learning.${stream}`;
    const retentionMs = (o.retentionDays ?? defaultLearningParams.retentionDays) * 86_400_000;
    const jsm = await jetstreamManager(o.connection);
    await ensureStream(jsm, { name: stream, subjects: [`${prefix}.>`], max_age: nanos(retentionMs) }, []);
    const { state } = await jsm.streams.info(stream);
    const js = jetstream(o.connection);
    const subject = `${prefix}.${Buffer.from(o.owner, 'utf8').toString('base64url')}`;
    const feed = new SharedLearningFeed(js, o.owner, subject, o.logger);
    await feed.follow(stream, state.messages === 0 ? 0 : state.last_seq);
    return feed;
  }

  /**
   * Reads the stream from its start with an ordered consumer; resolves once the message at
   * `caughtUpAt` (the last when opening; 0: none) or the last pending one is read.
   */
  private async follow(stream: string, caughtUpAt: number): Promise<void> {
    const consumer = await this.js.consumers.get(stream);
    const messages = await consumer.consume();
    this.messages = messages;
    let caughtUp!: () => void;
    const ready = new Promise<void>((resolve) => (caughtUp = resolve));
    if (caughtUpAt === 0) caughtUp();
    void (async () => {
      try {
        for await (const m of messages) {
          this.receive(m.data, m.seq);
          if (m.seq >= caughtUpAt || m.info.pending === 0) caughtUp();
        }
      } catch (error) {
        if (!this.closed) this.logger?.warn({ err: error }, 'shared learning: stopped following the stream');
      }
    })();
    await ready;
  }

  private receive(data: Uint8Array, seq: number): void {
    let record;
    try {
      record = decodeOutcome(data);
    } catch (error) {
      this.logger?.warn({ seq, err: error }, 'shared learning: a message that is not an outcome was skipped');
      return;
    }
    if (record.by === this.owner) return;
    if (this.backlog) this.backlog.push(record.outcome);
    else for (const l of this.listeners) l(record.outcome);
  }

  publish(outcome: SharedOutcome): void {
    if (this.closed) return;
    const p = this.js
      .publish(this.subject, encodeOutcome({ by: this.owner, outcome }))
      .catch((error: unknown) =>
        this.logger?.warn({ err: error }, 'shared learning: publishing an outcome failed'),
      )
      .finally(() => this.pending.delete(p));
    this.pending.add(p);
  }

  onOutcome(listener: Listener): () => void {
    this.listeners.add(listener);
    const backlog = this.backlog;
    this.backlog = undefined;
    if (backlog) for (const o of backlog) listener(o);
    return () => this.listeners.delete(listener);
  }

  /** Waits for the outcomes being published, then stops following the stream. */
  async close(): Promise<void> {
    this.closed = true;
    await Promise.all([...this.pending]);
    await this.messages?.close();
    this.listeners.clear();
  }
}
