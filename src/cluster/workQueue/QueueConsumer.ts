/**
 * One worker's side of the work queue: a pull loop that takes a job only when one of its
 * `concurrency` slots is free, runs the handler, reports progress (`working`) every half
 * ack-wait while it runs, acknowledges on success (confirmed by the server), asks for
 * redelivery on failure, and terminates a job that fails on its last delivery or does not parse.
 */
import type { Consumer, JsMsg } from '@nats-io/jetstream';
import { z } from 'zod';
import { Semaphore } from '../../core/semaphore.js';
import { parseWith } from '../../core/validate.js';
import type { RunJob } from './job.js';

/** Options of `WorkQueue.consume`. */
export interface ConsumeOptions {
  /** Most jobs handled at once by this worker (≥ 1). */
  concurrency: number;
  /** Runs one job; resolve = done (acknowledged), reject = failed (redelivered after `retryDelayMs`). */
  handler: (job: RunJob, info: JobInfo) => Promise<void>;
  /** Delay before a failed job is delivered again, ms. Default 1000. */
  retryDelayMs?: number;
  /** Longest wait of one pull request, ms (≥ 1000, the client's minimum). Default 1000; bounds how long `stop` waits. */
  pullExpiresMs?: number;
  /** Called with an error the loop survived (a failed pull, a bad job); default: ignored. */
  onError?: (error: unknown) => void;
}

/** Delivery details given to the handler. */
export interface JobInfo {
  /** 1 on first delivery. */
  deliveryCount: number;
  /** Stream sequence of the job. */
  seq: number;
}

const optionsSchema = z
  .object({
    concurrency: z.number().int().min(1),
    handler: z.custom<ConsumeOptions['handler']>((v) => typeof v === 'function', 'a function'),
    retryDelayMs: z.number().int().nonnegative().optional(),
    pullExpiresMs: z.number().int().min(1000).optional(),
    onError: z.custom<(e: unknown) => void>((v) => typeof v === 'function', 'a function').optional(),
  })
  .strict();

interface Settings {
  /** True once the connection is closed for good: the loop ends. */
  closed: () => boolean;
  ackWaitMs: number;
  maxDeliver: number;
  parse: (data: Uint8Array, where: string) => RunJob;
}

/** A running consumer; `stop()` ends it. */
export class QueueConsumer {
  private stopped = false;
  private readonly running = new Set<Promise<void>>();
  private loop: Promise<void> = Promise.resolve();
  private readonly slots: Semaphore;
  private maxInFlight = 0;

  private constructor(
    private readonly consumer: Consumer,
    private readonly options: z.infer<typeof optionsSchema>,
    private readonly settings: Settings,
  ) {
    this.slots = new Semaphore(options.concurrency);
  }

  /** @internal use `WorkQueue.consume` */
  static start(consumer: Consumer, options: ConsumeOptions, settings: Settings): QueueConsumer {
    const o = parseWith(optionsSchema, options, 'WorkQueue.consume.options');
    const c = new QueueConsumer(consumer, o, settings);
    c.loop = c.pull();
    return c;
  }

  /** Jobs being handled now. */
  get inFlight(): number {
    return this.running.size;
  }

  /** The most jobs this consumer has handled at once. */
  get peakInFlight(): number {
    return this.maxInFlight;
  }

  /** Stops pulling and waits for the jobs in flight to finish (and be acknowledged). */
  async stop(): Promise<void> {
    this.stopped = true;
    await this.loop;
    await Promise.allSettled([...this.running]);
  }

  private async pull(): Promise<void> {
    const expires = this.options.pullExpiresMs ?? 1000;
    while (!this.stopped && !this.settings.closed()) {
      await this.slots.acquire();
      if (this.stopped) {
        this.slots.release();
        break;
      }
      let msg: JsMsg | null = null;
      try {
        msg = await this.consumer.next({ expires });
      } catch (error) {
        this.options.onError?.(error);
        await new Promise((r) => setTimeout(r, 100));
      }
      if (msg === null) {
        this.slots.release();
        continue;
      }
      const job = this.handle(msg).finally(() => {
        this.running.delete(job);
        this.slots.release();
      });
      this.running.add(job);
      this.maxInFlight = Math.max(this.maxInFlight, this.running.size);
    }
  }

  private async handle(msg: JsMsg): Promise<void> {
    let job: RunJob;
    try {
      job = this.settings.parse(msg.data, `WorkQueue job ${msg.seq}`);
    } catch (error) {
      this.options.onError?.(error);
      this.reply(() => msg.term('malformed job'));
      return;
    }
    const heartbeat = setInterval(
      () => this.reply(() => msg.working()),
      Math.max(50, this.settings.ackWaitMs / 2),
    );
    try {
      await this.options.handler(job, { deliveryCount: msg.info.deliveryCount, seq: msg.seq });
      clearInterval(heartbeat);
      await msg.ackAck().catch((error: unknown) => this.options.onError?.(error));
    } catch (error) {
      clearInterval(heartbeat);
      this.options.onError?.(error);
      if (msg.info.deliveryCount >= this.settings.maxDeliver)
        this.reply(() => msg.term('failed on its last delivery'));
      else this.reply(() => msg.nak(this.options.retryDelayMs ?? 1000));
    }
  }

  /** Sends a nak or term; one the connection cannot send is redelivered after ack-wait anyway. */
  private reply(send: () => void): void {
    try {
      send();
    } catch (error) {
      this.options.onError?.(error);
    }
  }
}
