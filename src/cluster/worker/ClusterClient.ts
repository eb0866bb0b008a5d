/**
 * The submitter's side of a cluster of workers (docs/scaling.md): submit runs to the work queue,
 * wait for their results, list and inspect them in the shared run store, and cancel or signal
 * them wherever they execute. Reads only; the one write it makes to a journal is a cancel or
 * signal request for a run no worker drives at that moment (the next driver sees it).
 */
import type { NatsConnection } from '@nats-io/transport-node';
import { z } from 'zod';
import { PatternExecutionError } from '../../core/errors.js';
import type { RunResult } from '../../core/result.js';
import { parseWith } from '../../core/validate.js';
import { runDetails, type RunDetails } from '../../runtime/durable/runDetails.js';
import { isRunStoreError, StoreErrorCode } from '../../store/errors.js';
import { JetStreamRunStore } from '../../store/jetstream/JetStreamRunStore.js';
import { runIdSchema, type JournalFact } from '../../store/journal.js';
import type { ListRunsFilter, RunSummary } from '../../store/summary.js';
import { submitRunSchema, type SubmitRunInput } from '../workQueue/job.js';
import { WorkQueue } from '../workQueue/WorkQueue.js';
import {
  controlReplySchema,
  controlRequestSchema,
  controlSubject,
  DEFAULT_CONTROL_PREFIX,
  type ControlRequest,
} from './runControl.js';

/** What {@link ClusterClient.submitRun} resolves with. */
export interface SubmittedRun {
  runId: string;
  /**
   * `queued`: enqueued now; `duplicate`: already on the queue (nothing new enqueued);
   * `exists`: the run store already holds this run (nothing enqueued: wait for it or inspect it).
   */
  outcome: 'queued' | 'duplicate' | 'exists';
}

/** How a cancel or signal reached the run. */
export interface ControlDelivery {
  /** `delivered` to the worker that drives it; `journaled` for the next worker that drives it. */
  delivery: 'delivered' | 'journaled';
  /** The worker that took it (delivered only). */
  worker?: string;
}

/** Options of {@link ClusterClient.waitForRun}. */
export interface WaitOptions {
  /** How often the store is read, ms. Default 250. */
  pollMs?: number;
  /** Give up after this long, ms (rejects with a PatternExecutionError). Default: wait for ever. */
  timeoutMs?: number;
  signal?: AbortSignal;
}

const waitSchema = z
  .object({
    pollMs: z.number().int().min(10).optional(),
    timeoutMs: z.number().int().positive().optional(),
    signal: z.custom<AbortSignal>((s) => s instanceof AbortSignal).optional(),
  })
  .strict();

/** Attempts of a journaled request that races a worker's append. */
const JOURNAL_ATTEMPTS = 5;

/** Submits, waits for, lists, inspects, cancels and signals the runs of a cluster. */
export class ClusterClient {
  private constructor(
    private readonly connection: NatsConnection,
    /** The shared run store (reads, and journaled requests). */
    readonly store: JetStreamRunStore,
    private readonly queue: WorkQueue,
    private readonly requestTimeoutMs: number,
  ) {}

  /**
   * Opens the run store and the work queue on `connection` (not closed by the client).
   * @throws RunStoreError `ND_STORE_UNAVAILABLE` when JetStream does not answer
   * @example
   * const client = await ClusterClient.open({ connection: nc });
   * const { runId } = await client.submitRun({ pattern: 'etl', input: { day: '2026-12-05' } });
   * const result = await client.waitForRun(runId);
   */
  static async open(options: {
    connection: NatsConnection;
    requestTimeoutMs?: number;
  }): Promise<ClusterClient> {
    const { connection } = options;
    const store = await JetStreamRunStore.open({ connection });
    const queue = await WorkQueue.open({ connection, createConsumer: false });
    return new ClusterClient(connection, store, queue, options.requestTimeoutMs ?? 2000);
  }

  /**
   * Enqueues a run for the workers. A run id the store already holds enqueues nothing (the run
   * exists: it continues or has finished); one already on the queue is enqueued once.
   * @throws PatternValidationError naming a malformed field (`submitRun.pattern`)
   */
  async submitRun(job: SubmitRunInput): Promise<SubmittedRun> {
    const j = parseWith(submitRunSchema, job, 'submitRun');
    if (j.runId !== undefined && (await this.store.read(j.runId)).length > 0)
      return { runId: j.runId, outcome: 'exists' };
    const { runId, duplicate } = await this.queue.submitRun(j);
    return { runId, outcome: duplicate ? 'duplicate' : 'queued' };
  }

  /**
   * Resolves with the run's result once its journal records its end (a server that does not
   * answer meanwhile, e.g. restarting, is asked again at the next poll).
   * @throws PatternExecutionError when `timeoutMs` passes first; the signal's reason when it aborts
   */
  async waitForRun(runId: string, options: WaitOptions = {}): Promise<RunResult> {
    parseWith(runIdSchema, runId, 'waitForRun.runId');
    const o = parseWith(waitSchema, options, 'waitForRun.options');
    const until = o.timeoutMs === undefined ? Infinity : Date.now() + o.timeoutMs;
    for (;;) {
      o.signal?.throwIfAborted();
      const last = await this.lastEntry(runId);
      if (last?.kind === 'runFinished') return last.result;
      if (Date.now() >= until)
        throw new PatternExecutionError(`Run ${runId} did not finish within ${o.timeoutMs} ms`, { runId });
      await new Promise((resolve) => setTimeout(resolve, o.pollMs ?? 250));
    }
  }

  /** The run's last journal entry; undefined while the server is unreachable (it may be restarting). */
  private async lastEntry(runId: string) {
    try {
      return (await this.store.lastAppend(runId))?.entries.at(-1);
    } catch (error) {
      if (isRunStoreError(error, StoreErrorCode.UNAVAILABLE) && !this.connection.isClosed()) return undefined;
      throw error;
    }
  }

  /** Summaries of the runs in the shared store that pass `filter`. */
  listRuns(filter: ListRunsFilter = {}): Promise<RunSummary[]> {
    return this.store.listRuns(filter);
  }

  /** A run's status, steps, signals and journal; undefined when the store has no such run. */
  async getRun(runId: string): Promise<RunDetails | undefined> {
    parseWith(runIdSchema, runId, 'getRun.runId');
    return runDetails(await this.store.read(runId));
  }

  /**
   * Cancels a run (its completed steps are compensated, it ends `cancelled`) or delivers a
   * signal to it: to the worker that drives it, over the run's control subject; when no worker
   * drives it now (queued, or between a dead worker and its successor), the request is journaled
   * and the next worker to drive the run acts on it.
   * @throws PatternExecutionError for an unknown or finished run, or a worker's refusal
   */
  async controlRun(runId: string, request: ControlRequest): Promise<ControlDelivery> {
    parseWith(runIdSchema, runId, 'controlRun.runId');
    const r = parseWith(controlRequestSchema, request, 'controlRun.request');
    for (let attempt = 1; ; attempt++) {
      const delivered = await this.ask(runId, r);
      if (delivered) return delivered;
      const entries = await this.store.read(runId);
      const last = entries[entries.length - 1];
      if (last === undefined) throw new PatternExecutionError(`No run "${runId}" in the store`, { runId });
      if (last.kind === 'runFinished') {
        throw new PatternExecutionError(`Run ${runId} has finished (${last.result.status})`, { runId });
      }
      try {
        await this.store.append(runId, [factOf(r)], { expectedSeq: entries.length });
        return { delivery: 'journaled' };
      } catch (error) {
        // a worker appended meanwhile: it drives the run now, ask it
        if (!isRunStoreError(error, StoreErrorCode.CONFLICT) || attempt >= JOURNAL_ATTEMPTS) throw error;
      }
    }
  }

  /** Asks the run's driver; undefined when no worker listens for it. */
  private async ask(runId: string, request: ControlRequest): Promise<ControlDelivery | undefined> {
    let data: unknown;
    try {
      const msg = await this.connection.request(
        controlSubject(DEFAULT_CONTROL_PREFIX, runId),
        JSON.stringify(request),
        { timeout: this.requestTimeoutMs },
      );
      data = msg.json();
    } catch (error) {
      if (isNoResponders(error)) return undefined;
      throw error;
    }
    const reply = parseWith(controlReplySchema, data, 'run control reply');
    if (!reply.ok) throw new PatternExecutionError(`Run ${runId}: ${reply.error}`, { runId });
    return { delivery: 'delivered', worker: reply.worker };
  }

  /** Closes the store (not the connection). */
  async close(): Promise<void> {
    await this.store.close();
  }
}

/** The journal fact of a request. */
function factOf(r: ControlRequest): JournalFact {
  if (r.kind === 'cancel')
    return { kind: 'cancelRequested', ...(r.reason === undefined ? {} : { reason: r.reason }) };
  return {
    kind: 'signalReceived',
    signal: r.signal,
    ...(r.payload === undefined ? {} : { payload: r.payload }),
  };
}

/** True for a request no subscriber answered (the client's `RequestError` with a no-responders cause). */
function isNoResponders(error: unknown): boolean {
  if (!(error instanceof Error)) return false;
  if (error.name === 'NoRespondersError') return true;
  const e = error as Error & { isNoResponders?: () => boolean };
  return typeof e.isNoResponders === 'function' && e.isNoResponders();
}
