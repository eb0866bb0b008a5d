/**
 * A worker: one runtime process serving runs from the cluster's work queue (docs/scaling.md).
 * For each job it takes the run's lease, drives the run through an executor whose store is the
 * shared JetStream run store with every append fenced by that lease (a run that exists resumes
 * from its journal: completed steps are not run again, steps in flight are re-dispatched with
 * the same idempotency key), answers cancel and signal requests on the run's control subject,
 * and releases the lease when the run ends; then the job is acknowledged. A lost lease stops the
 * run at once (its appends are refused, its actors stopped) and the job is handed back.
 */
import { setMaxListeners } from 'node:events';
import { hostname } from 'node:os';
import { randomUUID } from 'node:crypto';
import type { NatsConnection, Subscription } from '@nats-io/transport-node';
import { z } from 'zod';
import { ErrorCode, isPatternError } from '../../core/errors.js';
import { createLogger, type Logger } from '../../core/logger.js';
import type { RunResult } from '../../core/result.js';
import { parseWith } from '../../core/validate.js';
import type { PatternExecutor } from '../../runtime/PatternExecutor.js';
import { JetStreamRunStore } from '../../store/jetstream/JetStreamRunStore.js';
import type { RunStore } from '../../store/RunStore.js';
import { LeaseManager } from '../leases/LeaseManager.js';
import type { RunJob } from '../workQueue/job.js';
import type { QueueConsumer } from '../workQueue/QueueConsumer.js';
import { WorkQueue } from '../workQueue/WorkQueue.js';
import { FencedRunStore, type FenceMode } from './FencedRunStore.js';
import {
  controlRequestSchema,
  controlSubject,
  DEFAULT_CONTROL_PREFIX,
  type ControlReply,
} from './runControl.js';
import { natsConnectionSchema } from '../../store/jetstream/connectionSchema.js';

/** Options of {@link startWorker}. */
export interface WorkerOptions {
  /** An open connection to a JetStream-enabled nats-server; not closed by the worker. */
  connection: NatsConnection;
  /**
   * Builds the executor runs are driven by, over `store` (give it as the executor's `store`):
   * `(store) => new PatternExecutor(registry, { agents, store })`. Closed when the worker stops.
   */
  executor: (store: RunStore) => PatternExecutor;
  /** Most runs driven at once (the work queue's back-pressure). Default 4. */
  concurrency?: number;
  /** Lease time to live, ms: a dead worker's runs are taken over about this long after it died. Default 10000. */
  leaseTtlMs?: number;
  /** The work queue redelivers a dead worker's jobs after this, ms. Default leaseTtlMs / 3 (a dead worker's run is then resumed within about 1.7 × leaseTtlMs). */
  ackWaitMs?: number;
  /** Delay before a job handed back (lease lost, worker stopping, failed) is delivered again, ms. Default 200. */
  retryDelayMs?: number;
  /** How appends prove the lease (see {@link FenceMode}). Default `check`. */
  fence?: FenceMode;
  /** This worker's name in leases and logs; unique in the cluster. Default `<host>-<pid>-<random>`. */
  workerId?: string;
  /** Recorded as each run's `source` (the workflow file), so tools can find its definition. */
  source?: string;
  /** Where runs and failures are logged. Default: a pino logger named `ndf-worker`. */
  logger?: Logger;
  /** Called when a run this worker drove ends (or stops here: `error`). */
  onRunEnd?: (runId: string, outcome: { result: RunResult } | { error: unknown }) => void;
}

const optionsSchema = z
  .object({
    connection: natsConnectionSchema,
    executor: z.custom<WorkerOptions['executor']>((v) => typeof v === 'function', 'a function'),
    concurrency: z.number().int().min(1).max(10_000).default(4),
    leaseTtlMs: z.number().int().min(100).default(10_000),
    ackWaitMs: z.number().int().min(100).optional(),
    retryDelayMs: z.number().int().nonnegative().default(200),
    fence: z.enum(['check', 'renew']).default('check'),
    workerId: z.string().min(1).max(256).optional(),
    source: z.string().min(1).max(4096).optional(),
    logger: z.custom<Logger>((l) => typeof l === 'object' && l !== null && 'info' in l).optional(),
    onRunEnd: z.custom<NonNullable<WorkerOptions['onRunEnd']>>((v) => typeof v === 'function').optional(),
  })
  .strict();

/** Errors of a run that cannot start on any worker: its job is dropped, not retried. */
const PERMANENT = new Set<string>([
  ErrorCode.PATTERN_NOT_FOUND,
  ErrorCode.PATTERN_VALIDATION,
  ErrorCode.INVALID_PATTERN,
  ErrorCode.CONFIDENCE_THRESHOLD,
]);

/** A started worker. */
export interface Worker {
  /** Its name in leases and logs. */
  readonly id: string;
  /** The shared run store (reads; this worker's own appends go through the fenced one). */
  readonly store: JetStreamRunStore;
  /** Ids of the runs it drives now. */
  running(): string[];
  /**
   * Stops taking jobs and hands its runs back: each is suspended (its journal kept), its lease
   * released and its job returned to the queue, so another worker resumes it at once. Then
   * closes the executor and the store (not the connection). Idempotent.
   */
  stop(): Promise<void>;
}

/**
 * Starts a worker on the cluster's work queue.
 * @throws PatternValidationError naming a malformed option
 * @throws RunStoreError or the client's error when JetStream does not answer
 * @example
 * const nc = await connect({ servers: 'nats://127.0.0.1:4222' });
 * const worker = await startWorker({
 *   connection: nc,
 *   executor: (store) => new PatternExecutor(registry, { agents, store }),
 *   concurrency: 8,
 * });
 * process.on('SIGTERM', () => void worker.stop());
 */
export async function startWorker(options: WorkerOptions): Promise<Worker> {
  const o = parseWith(optionsSchema, options, 'startWorker.options');
  const id = o.workerId ?? `${hostname()}-${process.pid}-${randomUUID().slice(0, 8)}`;
  const logger = o.logger ?? createLogger('ndf-worker');
  const ackWaitMs = o.ackWaitMs ?? Math.max(100, Math.floor(o.leaseTtlMs / 3));
  const connection = o.connection;
  const store = await JetStreamRunStore.open({ connection });
  const fenced = new FencedRunStore(store, o.fence);
  const leases = await LeaseManager.open({ connection, owner: id, ttlMs: o.leaseTtlMs });
  const queue = await WorkQueue.open({ connection, ackWaitMs });
  const executor = o.executor(fenced);
  const driving = new Map<string, { stop: () => void }>();
  const stopping = new AbortController();
  // Each job waiting for its run's lease listens to it: up to `concurrency` at once, not a leak.
  setMaxListeners(o.concurrency + 10, stopping.signal);

  /** Answers cancel and signal requests for a run this worker drives. */
  const control = (runId: string): Subscription =>
    connection.subscribe(controlSubject(DEFAULT_CONTROL_PREFIX, runId), {
      callback: (error, msg) => {
        if (error) return;
        const reply = (r: ControlReply) => msg.respond(JSON.stringify(r));
        void (async () => {
          try {
            const request = parseWith(controlRequestSchema, msg.json(), 'run control request');
            if (!driving.has(runId)) throw new Error(`worker ${id} no longer drives run ${runId}`);
            if (request.kind === 'cancel') executor.cancelRun(runId, request.reason).catch(() => undefined);
            else await executor.signal(runId, request.signal, request.payload);
            reply({ ok: true, worker: id });
          } catch (e) {
            reply({ ok: false, error: e instanceof Error ? e.message : String(e) });
          }
        })();
      },
    });

  const handler = async (job: RunJob): Promise<void> => {
    const { runId } = job;
    const lease = await leases.acquire(runId, { signal: stopping.signal });
    fenced.hold(runId, lease);
    let stoppedHere = false;
    const stop = () => {
      if (stoppedHere) return;
      stoppedHere = true;
      fenced.drop(runId);
      void executor.suspendRun(runId).catch(() => undefined);
    };
    lease.signal.addEventListener('abort', stop);
    driving.set(runId, { stop });
    let subscription: Subscription | undefined;
    try {
      const result = executor.run(job.pattern, job.context, {
        runId,
        ...(job.input === undefined ? {} : { input: job.input }),
        ...(job.timeoutMs === undefined ? {} : { timeoutMs: job.timeoutMs }),
        ...(o.source === undefined ? {} : { source: o.source }),
      });
      subscription = control(runId);
      const r = await result;
      logger.info({ runId, worker: id, status: r.status }, 'run ended');
      o.onRunEnd?.(runId, { result: r });
    } catch (error) {
      o.onRunEnd?.(runId, { error });
      if (!stoppedHere && isPatternError(error) && PERMANENT.has(error.code)) {
        // a run that cannot start here (unknown pattern, bad input) will not start elsewhere either
        logger.error({ runId, worker: id, err: error }, 'run rejected: the job is dropped');
        return;
      }
      // handing runs over on stop is the plan, not a problem
      logger[stopping.signal.aborted ? 'info' : 'warn'](
        { runId, worker: id, err: error },
        'run stopped here: the job goes back to the queue',
      );
      throw error;
    } finally {
      subscription?.unsubscribe();
      lease.signal.removeEventListener('abort', stop);
      driving.delete(runId);
      fenced.drop(runId);
      await lease.release();
    }
  };

  const consumer: QueueConsumer = await queue.consume({
    concurrency: o.concurrency,
    handler,
    retryDelayMs: o.retryDelayMs,
    onError: (error) => {
      if (!stopping.signal.aborted) logger.debug({ worker: id, err: error }, 'work queue');
    },
  });
  logger.info({ worker: id, concurrency: o.concurrency, leaseTtlMs: o.leaseTtlMs }, 'worker started');

  let stopped: Promise<void> | undefined;
  return {
    id,
    store,
    running: () => [...driving.keys()],
    stop: () =>
      (stopped ??= (async () => {
        stopping.abort(new Error(`worker ${id} is stopping`));
        const done = consumer.stop();
        for (const run of driving.values()) run.stop();
        await done;
        await leases.close();
        await executor.close();
        await store.close();
        logger.info({ worker: id }, 'worker stopped');
      })()),
  };
}
