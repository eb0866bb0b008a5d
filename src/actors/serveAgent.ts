import type { NatsConnection } from '@nats-io/transport-node';
import { traceContextFromHeaders } from '../tracing/traceContext.js';
import { createLogger, type Logger } from '../core/logger.js';
import { z } from 'zod';
import { systemClock, type Clock } from '../core/clock.js';
import {
  NoCapableAgentError,
  PatternTimeoutError,
  PatternValidationError,
  AgentError,
} from '../core/errors.js';
import {
  DEFAULT_MAX_MESSAGE_BYTES,
  DEFAULT_SUBJECT_PREFIX,
  PROTOCOL_VERSION,
  ProtocolHeader,
  cancelSchema,
  decodeMessage,
  errorReply,
  protocolSubjects,
  serviceErrorCode,
  taskReplySchema,
  taskRequestSchema,
  type TaskReply,
  type TaskRequest,
} from '../protocol/protocol.js';
import { NatsTransport } from '../transport/NatsTransport.js';
import { encodeJson, type Transport, type TransportMessage } from '../transport/Transport.js';
import { parseWith } from '../core/validate.js';
import type { AgentTask, CompensationTask } from '../core/agent.js';
import { withCancellation, type AttemptCancellation } from '../core/cancellation.js';
import { Semaphore } from '../core/semaphore.js';
import { IdempotencyStore } from './idempotencyStore.js';
import { IdempotencyFile } from './idempotencyFile.js';
import { rateLimitedWarn } from '../core/rateLimitedWarn.js';

const optionsSchema = z.object({
  name: z.string().regex(/^[-\w]+$/, 'letters, digits, - and _ only (NATS micro service name)'),
  capabilities: z.array(z.string().min(1)).min(1),
  maxConcurrent: z.number().int().min(1).default(16),
  maxQueued: z.number().int().min(0).optional(),
  version: z
    .string()
    .regex(/^\d+\.\d+\.\d+/, 'semver')
    .default('1.0.0'),
  description: z.string().default(''),
  prefix: z.string().min(1).default(DEFAULT_SUBJECT_PREFIX),
  maxMessageBytes: z.number().int().positive().default(DEFAULT_MAX_MESSAGE_BYTES),
  dedupeTtlMs: z
    .number()
    .int()
    .positive()
    .default(10 * 60_000),
  dedupeMaxEntries: z.number().int().positive().default(10_000),
  idempotencyFile: z.string().min(1).optional(),
});

/** Options of {@link serveAgent}. Give `transport` or `nats` (an open connection). */
export interface ServeAgentOptions {
  transport?: Transport;
  nats?: NatsConnection;
  /** Service name, `[-\w]+`; instances with the same name share load (queue group `q`). */
  name: string;
  capabilities: readonly string[];
  /**
   * Performs a task; its (JSON-serialisable) return value is the output. Throw to fail.
   * `task.traceContext` is the caller's attempt span (W3C; from the NATS headers, else the
   * envelope's `trace`): make the handler's spans its children (`remoteSpanContext`).
   */
  handler: (task: AgentTask) => unknown;
  /** Undoes a completed task; absent = nothing to undo. */
  compensate?: (task: CompensationTask) => unknown;
  /** Tasks run at once (default 16); more wait, up to `maxQueued` (default 8 × maxConcurrent). */
  maxConcurrent?: number;
  maxQueued?: number;
  /** Semver of the service (default `1.0.0`). */
  version?: string;
  description?: string;
  /** Subject prefix (default `nd`). */
  prefix?: string;
  /** Largest request and reply, bytes (default 1 MiB). */
  maxMessageBytes?: number;
  /** How long a completed idempotency key answers with its stored result, ms (default 10 min). */
  dedupeTtlMs?: number;
  dedupeMaxEntries?: number;
  /**
   * A JSON Lines file keeping the completed idempotency keys with their replies (see
   * `IdempotencyFile`), so that an agent restarted with the same file answers re-deliveries of tasks it
   * completed before from the record instead of running them again. One file per agent instance.
   * Default: memory only.
   */
  idempotencyFile?: string;
  clock?: Clock;
  logger?: Logger;
}

/** Counters of a served agent (also in `$SRV.STATS` endpoint `data`). */
export interface ServedAgentStats {
  received: number;
  executed: number;
  succeeded: number;
  failed: number;
  /** Answered from the idempotency store (completed) or joined an in-flight call. */
  deduplicated: number;
  /** Malformed, oversized, wrong-version or not-capable requests. */
  rejected: number;
  /** Tasks refused with 408 because their deadline had passed before they started (never run). */
  expired: number;
  cancelled: number;
  inFlight: number;
  queued: number;
}

/** A running served agent. */
export interface ServedAgent {
  readonly name: string;
  /** Instance id (the micro service id). */
  readonly id: string;
  stats(): ServedAgentStats;
  /** Stops answering and aborts running tasks. */
  stop(): Promise<void>;
}

/**
 * Turns a handler into a remote agent: a NATS micro service (on NATS) or its in-process
 * equivalent (on MemoryTransport) named `name`, with endpoints `<prefix>.agent.<name>.task` and
 * `.compensate` in queue group `q`, capabilities and limits in the service metadata
 * (`nd.capabilities`, `nd.maxConcurrent`, `nd.protocol`), errors in the
 * `Nats-Service-Error-Code`/`Nats-Service-Error` headers plus an `error` reply body, and
 * dedupe by idempotency key. Malformed messages get an error reply and a log line, never a crash.
 *
 * @throws PatternValidationError on bad options
 * @example
 * const served = await serveAgent({ transport, name: 'summarizer', capabilities: ['summarize'],
 *   handler: (task) => ({ summary: String(task.input.params).slice(0, 100) }) });
 */
export async function serveAgent(options: ServeAgentOptions): Promise<ServedAgent> {
  const { handler, compensate, transport: given, nats, clock = systemClock } = options;
  const o = parseWith(
    optionsSchema,
    {
      ...options,
      handler: undefined,
      compensate: undefined,
      transport: undefined,
      nats: undefined,
      clock: undefined,
      logger: undefined,
    },
    `serveAgent ${options.name}`,
  );
  const transport = given ?? (nats ? NatsTransport.fromConnection(nats) : undefined);
  if (!transport)
    throw new PatternValidationError(`serveAgent ${o.name}: give a transport or a nats connection`, {
      field: 'transport',
    });
  const logger = options.logger ?? createLogger(`agent:${o.name}`);
  const subjects = protocolSubjects(o.prefix);
  const stats = {
    received: 0,
    executed: 0,
    succeeded: 0,
    failed: 0,
    deduplicated: 0,
    rejected: 0,
    expired: 0,
    cancelled: 0,
  };
  const opened =
    o.idempotencyFile === undefined
      ? undefined
      : IdempotencyFile.open<TaskReply>(o.idempotencyFile, taskReplySchema, clock, o.dedupeMaxEntries);
  if (opened) {
    logger.info(
      { file: o.idempotencyFile, records: opened.records.length, skipped: opened.skipped },
      'idempotency file loaded',
    );
  }
  const store = new IdempotencyStore<TaskReply>(
    clock,
    o.dedupeTtlMs,
    o.dedupeMaxEntries,
    (r) => r.status === 'ok' || !r.error.retryable,
    opened && {
      file: opened.file,
      records: opened.records,
      onError: (error) =>
        logger.error({ file: o.idempotencyFile, err: error.message }, 'could not save an idempotency record'),
    },
  );
  const limiter = new Semaphore(o.maxConcurrent, {
    maxWaiting: o.maxQueued ?? o.maxConcurrent * 8,
    label: o.name,
  });

  const warnRejected = rateLimitedWarn(logger, { now: () => clock.now() }); // one line per 10 s per kind
  const send = (m: TransportMessage, reply: TaskReply) => {
    let data = encodeJson(reply);
    let final = reply;
    if (data.byteLength > o.maxMessageBytes) {
      final = errorReply(
        new AgentError(`reply of ${data.byteLength} bytes exceeds the ${o.maxMessageBytes}-byte limit`, {
          agentId: o.name,
          retryable: false,
        }),
      );
      data = encodeJson(final);
    }
    // ok replies carry no headers (cheaper); errors carry the NATS micro error headers
    const headers =
      final.status === 'error'
        ? {
            [ProtocolHeader.ERROR_CODE]: String(serviceErrorCode(final.error)),
            [ProtocolHeader.ERROR]: final.error.message.slice(0, 512).replace(/[\r\n]+/g, ' '),
          }
        : undefined;
    if (!m.respond(data, headers))
      warnRejected({ subject: m.subject }, 'request without reply subject; dropped the reply');
  };

  const invoke = async (
    req: TaskRequest,
    cancellation: AttemptCancellation,
    headers: TransportMessage['headers'],
  ): Promise<TaskReply> => {
    const deadline = req.deadline ?? undefined;
    if (deadline !== undefined && deadline <= clock.now()) {
      // the caller has given up on this attempt: running it could only duplicate the work of its retry
      stats.expired += 1;
      return errorReply(
        new PatternTimeoutError(
          `agent ${o.name} refused ${req.kind} ${req.step}: its deadline ${new Date(deadline).toISOString()} had passed before it started`,
          { step: req.step, agentId: o.name, retryable: true },
        ),
      );
    }
    stats.executed += 1;
    const timer =
      deadline === undefined
        ? undefined
        : clock.setTimeout(
            () =>
              cancellation.abort(
                new PatternTimeoutError(`deadline of ${req.step} passed`, { step: req.step }),
              ),
            Math.max(0, deadline - clock.now()),
          );
    const task = toAgentTask(req, deadline, cancellation, headers);
    try {
      const output = req.kind === 'task' ? await handler(task) : await compensate?.(task as CompensationTask);
      stats.succeeded += 1;
      return { version: PROTOCOL_VERSION, status: 'ok', output: output === undefined ? null : output };
    } catch (error) {
      stats.failed += 1;
      if (cancellation.aborted) stats.cancelled += 1;
      return errorReply(error);
    } finally {
      if (timer !== undefined) clock.clearTimeout(timer);
    }
  };

  const onRequest = (kind: 'task' | 'compensate') => {
    const where = `${o.name}.${kind} request`;
    return (m: TransportMessage) => onMessage(kind, where, m);
  };
  const onMessage = (kind: 'task' | 'compensate', where: string, m: TransportMessage) => {
    stats.received += 1;
    let req: TaskRequest;
    try {
      req = decodeMessage(taskRequestSchema, m.data, where, o.maxMessageBytes);
      if (req.kind !== kind)
        throw new PatternValidationError(`${o.name}.${kind} request: kind is ${req.kind}, expected ${kind}`, {
          field: 'kind',
        });
      if (!o.capabilities.includes(req.capability)) {
        throw new NoCapableAgentError(
          `agent ${o.name} does not have capability ${req.capability} (it has ${o.capabilities.join(', ')})`,
          { agentId: o.name, capabilities: o.capabilities, retryable: false },
        );
      }
    } catch (error) {
      stats.rejected += 1;
      warnRejected({ subject: m.subject, err: (error as Error).message }, 'rejected request');
      return send(m, errorReply(error));
    }
    const key = `${kind}:${req.idempotencyKey}`;
    store
      .run(key, req.attempt, (cancellation) => limiter.run(() => invoke(req, cancellation, m.headers)))
      .then(({ value, outcome }) => {
        if (outcome !== 'executed') stats.deduplicated += 1;
        send(m, value);
      })
      .catch((error: unknown) => send(m, errorReply(error)));
  };

  const cancelSub = transport.subscribe(subjects.cancel(o.name), (m) => {
    try {
      const cancel = decodeMessage(cancelSchema, m.data, `${o.name}.cancel`, o.maxMessageBytes);
      store.cancel(
        `task:${cancel.idempotencyKey}`,
        cancel.attempt,
        cancel.reason ?? 'cancelled by the caller',
      );
    } catch (error) {
      warnRejected({ err: (error as Error).message }, 'rejected cancel message');
    }
  });

  const currentStats = (): ServedAgentStats => ({
    ...stats,
    inFlight: limiter.active,
    queued: limiter.waiting,
  });
  const metadata = {
    'nd.protocol': String(PROTOCOL_VERSION),
    'nd.capabilities': o.capabilities.join(','),
    'nd.maxConcurrent': String(o.maxConcurrent),
    'nd.prefix': o.prefix,
  };
  const service = await transport
    .addService({
      name: o.name,
      version: o.version,
      description: o.description || `natural-delegation agent ${o.name}`,
      metadata,
      queue: 'q',
      statsData: currentStats,
      endpoints: [
        { name: 'task', subject: subjects.task(o.name), handler: onRequest('task') },
        { name: 'compensate', subject: subjects.compensate(o.name), handler: onRequest('compensate') },
      ],
    })
    .catch((error: unknown) => {
      cancelSub.unsubscribe();
      opened?.file.close();
      throw error;
    });
  logger.info(
    { agent: o.name, id: service.id, capabilities: o.capabilities, transport: transport.kind },
    'agent serving',
  );
  return {
    name: o.name,
    id: service.id,
    stats: currentStats,
    stop: async () => {
      cancelSub.unsubscribe();
      store.abortAll(`agent ${o.name} stopped`);
      await service.stop();
      opened?.file.close();
    },
  };
}

/** The task a handler sees. */
function toAgentTask(
  req: TaskRequest,
  deadline: number | undefined,
  cancellation: AttemptCancellation,
  headers: TransportMessage['headers'],
): AgentTask | CompensationTask {
  // the NATS headers, else the envelope's `trace` (a client that cannot set headers)
  const traceContext = traceContextFromHeaders(headers) ?? traceContextFromHeaders(req.trace);
  const task: Omit<AgentTask, 'signal' | 'cancellation'> & { output?: unknown } = {
    runId: req.runId,
    pattern: req.pattern,
    step: req.step,
    capability: req.capability,
    attempt: req.attempt,
    idempotencyKey: req.idempotencyKey,
    deadline,
    input: { params: req.input.params, runInput: req.input.runInput, results: req.input.results },
    context: req.context,
    traceContext,
  };
  if (req.kind === 'compensate') task.output = req.output;
  return withCancellation(task, cancellation);
}
