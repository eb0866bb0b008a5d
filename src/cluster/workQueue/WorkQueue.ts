/**
 * A JetStream work queue of runs (stream `NDF_WORK`, work-queue retention: a job is removed once
 * acknowledged). `submitRun` publishes with `Nats-Msg-Id` = run id, so a run id submitted twice
 * within the stream's duplicate window is enqueued once. Workers share one durable pull consumer:
 * each job goes to one worker; a worker pulls only while it has a free slot (back-pressure = its
 * concurrency), tells the server it is still working while its handler runs, acknowledges when the
 * handler resolves and asks for redelivery (after `retryDelayMs`) when it rejects.
 */
import { randomUUID } from 'node:crypto';
import {
  AckPolicy,
  jetstream,
  jetstreamManager,
  RetentionPolicy,
  type JetStreamClient,
  type JetStreamManager,
} from '@nats-io/jetstream';
import { nanos, type NatsConnection } from '@nats-io/transport-node';
import { z } from 'zod';
import { parseWith } from '../../core/validate.js';
import { ensureStream } from '../../store/jetstream/ensureStream.js';
import { runJobSchema, submitRunSchema, type RunJob, type SubmitRunInput } from './job.js';
import { QueueConsumer, type ConsumeOptions } from './QueueConsumer.js';
import { natsConnectionSchema } from '../../store/jetstream/connectionSchema.js';

/** Options of {@link WorkQueue.open}. */
export interface WorkQueueOptions {
  /** An open connection to a JetStream-enabled server; not closed by the queue. */
  connection: NatsConnection;
  /** Stream name. Default `NDF_WORK`. */
  stream?: string;
  /** Subject jobs are published on. Default `ndf.work.runs`. */
  subject?: string;
  /** How long a run id is remembered for dedupe, ms. Default 3_600_000 (1 h). */
  duplicateWindowMs?: number;
  /** Durable consumer shared by the workers. Default `ndf-workers`. */
  consumer?: string;
  /** A delivered job not acknowledged (nor reported in progress) for this long is redelivered, ms. Default 30_000. */
  ackWaitMs?: number;
  /** Deliveries of one job before it is given up (terminated). Default 5. */
  maxDeliver?: number;
  /** Timeout of one JetStream request, ms. Default 5000. */
  requestTimeoutMs?: number;
  /**
   * Create (or update) the workers' consumer. Default true; a submit-only client passes false,
   * so it neither needs the workers' settings nor changes them.
   */
  createConsumer?: boolean;
}

const name = z.string().regex(/^[A-Za-z0-9_-]+$/, 'a name is A-Z a-z 0-9 _ -');
const optionsSchema = z
  .object({
    connection: natsConnectionSchema,
    stream: name.optional(),
    subject: z
      .string()
      .regex(/^[A-Za-z0-9_-]+(\.[A-Za-z0-9_-]+)*$/, 'a subject is dot-separated tokens of A-Z a-z 0-9 _ -')
      .optional(),
    duplicateWindowMs: z.number().int().min(100).optional(),
    consumer: name.optional(),
    ackWaitMs: z.number().int().min(100).optional(),
    maxDeliver: z.number().int().min(1).optional(),
    requestTimeoutMs: z.number().int().min(10).optional(),
    createConsumer: z.boolean().optional(),
  })
  .strict();

/** What {@link WorkQueue.submitRun} resolves with. */
export interface Submitted {
  runId: string;
  /** True when the run id was already on the queue (within the duplicate window): nothing new enqueued. */
  duplicate: boolean;
}

/** The work queue of runs: submit, consume. */
export class WorkQueue {
  private constructor(
    private readonly js: JetStreamClient,
    private readonly jsm: JetStreamManager,
    readonly stream: string,
    readonly subject: string,
    readonly consumerName: string,
    private readonly ackWaitMs: number,
    private readonly maxDeliver: number,
    private readonly connection: NatsConnection,
  ) {}

  /**
   * Opens (creating when missing) the stream and the workers' durable consumer.
   * @throws PatternValidationError on a malformed option, naming it
   * @throws the client's error when JetStream does not answer
   */
  static async open(options: WorkQueueOptions): Promise<WorkQueue> {
    const o = parseWith(optionsSchema, options, 'WorkQueue.options');
    const stream = o.stream ?? 'NDF_WORK';
    const subject = o.subject ?? 'ndf.work.runs';
    const consumer = o.consumer ?? 'ndf-workers';
    const ackWaitMs = o.ackWaitMs ?? 30_000;
    const maxDeliver = o.maxDeliver ?? 5;
    const timeout = o.requestTimeoutMs ?? 5000;
    const jsm = await jetstreamManager(o.connection, { timeout });
    const duplicateWindow = nanos(o.duplicateWindowMs ?? 3_600_000);
    await ensureStream(
      jsm,
      {
        name: stream,
        subjects: [subject],
        retention: RetentionPolicy.Workqueue,
        duplicate_window: duplicateWindow,
      },
      [
        { key: 'retention', value: RetentionPolicy.Workqueue, option: 'WorkQueue.options.stream' },
        {
          key: 'duplicate_window',
          value: duplicateWindow,
          option: o.duplicateWindowMs === undefined ? undefined : 'WorkQueue.options.duplicateWindowMs',
        },
      ],
    );
    if (o.createConsumer !== false)
      await jsm.consumers.add(stream, {
        durable_name: consumer,
        ack_policy: AckPolicy.Explicit,
        ack_wait: nanos(ackWaitMs),
        max_deliver: maxDeliver,
        filter_subject: subject,
      });
    return new WorkQueue(
      jetstream(o.connection, { timeout }),
      jsm,
      stream,
      subject,
      consumer,
      ackWaitMs,
      maxDeliver,
      o.connection,
    );
  }

  /**
   * Enqueues a run `{ runId, pattern, input, context }`; the run id is generated when omitted.
   * @throws PatternValidationError on a malformed job, naming the field (`submitRun.pattern`)
   * @throws the client's error when JetStream does not acknowledge
   */
  async submitRun(job: SubmitRunInput): Promise<Submitted> {
    const j = parseWith(submitRunSchema, job, 'submitRun');
    const runId = j.runId ?? randomUUID();
    const message: RunJob = { ...j, runId, submittedAt: Date.now() };
    const ack = await this.js.publish(this.subject, JSON.stringify(message), { msgID: runId });
    return { runId, duplicate: ack.duplicate };
  }

  /** Jobs waiting to be delivered or acknowledged. */
  async pending(): Promise<number> {
    return (await this.jsm.streams.info(this.stream)).state.messages;
  }

  /**
   * Starts pulling jobs for `handler`, at most `concurrency` at a time (see {@link QueueConsumer}).
   * @throws PatternValidationError on a malformed option
   */
  async consume(options: ConsumeOptions): Promise<QueueConsumer> {
    const consumer = await this.js.consumers.get(this.stream, this.consumerName);
    return QueueConsumer.start(consumer, options, {
      closed: () => this.connection.isClosed(),
      ackWaitMs: this.ackWaitMs,
      maxDeliver: this.maxDeliver,
      parse: (data, where) => parseWith(runJobSchema, JSON.parse(new TextDecoder().decode(data)), where),
    });
  }
}
