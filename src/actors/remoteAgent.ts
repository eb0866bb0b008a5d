import { z } from 'zod';
import { traceHeaders } from '../tracing/traceContext.js';
import { systemClock, type Clock } from '../core/clock.js';
import {
  AgentError,
  PatternValidationError,
  isPatternError,
  type ErrorDetails,
  type PatternError,
} from '../core/errors.js';
import {
  DEFAULT_MAX_MESSAGE_BYTES,
  DEFAULT_SUBJECT_PREFIX,
  PROTOCOL_VERSION,
  ProtocolHeader,
  decodeMessage,
  fromWireError,
  protocolSubjects,
  taskReplySchema,
  toTaskRequest,
  type TaskReply,
} from '../protocol/protocol.js';
import { encodeJson, isTransportError, type Transport, type TransportReply } from '../transport/Transport.js';
import { parseWith } from '../core/validate.js';
import type { Agent, AgentTask, CompensationTask } from '../core/agent.js';
import { positiveDurationMs } from '../core/duration.js';
import { AttemptCancellation, type CancellationSignal } from '../core/cancellation.js';

/**
 * Watches a transport's connection for one remote agent: counts disconnects (`epoch`) and aborts
 * every request in flight when the connection drops, since its request or reply may be lost with it
 * (the caller re-sends it after the reconnect with the same idempotency key; the agent answers a
 * re-delivery from its idempotency store or joins the call still running).
 */
class ConnectionWatch {
  epoch = 0;
  /** When the connection last came back (epoch ms of `clock`); -Infinity before any reconnect. */
  reconnectedAt = Number.NEGATIVE_INFINITY;
  private readonly inFlight = new Set<AttemptCancellation>();
  readonly dispose: () => void;

  constructor(transport: Transport, clock: Clock) {
    this.dispose = transport.onStatus((status) => {
      if (status.type === 'reconnected') this.reconnectedAt = clock.now();
      if (status.type !== 'disconnected') return;
      this.epoch += 1;
      const lost = [...this.inFlight];
      this.inFlight.clear();
      for (const c of lost) c.abort(new Error('connection to the transport lost'));
    });
  }

  /** A cancellation aborted by `signal` or by a disconnect; call `done` when the request settles. */
  track(signal: CancellationSignal): { lost: AttemptCancellation; done: () => void } {
    const lost = new AttemptCancellation();
    const forward = () => lost.abort(signal.reason instanceof Error ? signal.reason : new Error('aborted'));
    if (signal.aborted) forward();
    else signal.addEventListener('abort', forward, { once: true });
    this.inFlight.add(lost);
    return {
      lost,
      done: () => {
        this.inFlight.delete(lost);
        signal.removeEventListener('abort', forward);
      },
    };
  }
}

const NO_TRACE: Readonly<Record<string, string>> = Object.freeze({});
/** How long after a reconnect "no responders" means the agent has not reconnected yet, ms. */
const RECONNECT_GRACE_MS = 5_000;
/** Pause between sends while waiting for the agent to reconnect, ms. */
const NO_RESPONDERS_RETRY_MS = 100;

/** Resolves after `ms` on `clock`, or at once when `signal` aborts (the next send then fails as aborted). */
function pause(clock: Clock, ms: number, signal: CancellationSignal): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      clock.clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    };
    const timer = clock.setTimeout(done, ms);
    signal.addEventListener('abort', done, { once: true });
  });
}

const optionsSchema = z.object({
  id: z.string().min(1).optional(),
  name: z
    .string()
    .regex(/^[-\w]+$/, 'letters, digits, - and _ only')
    .optional(),
  capabilities: z.array(z.string().min(1)).min(1),
  maxConcurrent: z.number().int().min(1).default(16),
  timeoutMs: positiveDurationMs.default(30_000),
  prefix: z.string().min(1).default(DEFAULT_SUBJECT_PREFIX),
  maxMessageBytes: z.number().int().positive().default(DEFAULT_MAX_MESSAGE_BYTES),
});

/** Options of {@link remoteAgent}. Give `id` or `name` (or both). */
export interface RemoteAgentOptions {
  transport: Transport;
  /** Agent id in this runtime (default: `name`). */
  id?: string;
  /** Name of the remote service (`ndf agent --name`), default: `id`. */
  name?: string;
  capabilities: readonly string[];
  /** Tasks the executor may send at once (default 16). */
  maxConcurrent?: number;
  /** Per-request timeout, ms (default 30000), shortened to the task's deadline. */
  timeoutMs?: number;
  /** Subject prefix (default `nd`). */
  prefix?: string;
  /** Largest request and reply, bytes (default 1 MiB). */
  maxMessageBytes?: number;
  clock?: Clock;
  /**
   * Trace headers (W3C `traceparent`…) for a task; sent as NATS headers and in the envelope.
   * Default: the task's `traceContext` (the attempt's span when the run is traced).
   */
  traceHeaders?: (task: AgentTask) => Record<string, string>;
}

/**
 * An {@link Agent} (kind = the transport's: `nats` or `memory`) performed by a remote service over a {@link Transport} with the protocol of
 * docs/protocol.md. Every failure is a rejection with a typed error carrying `details.agentId`
 * and `details.retryable`:
 * - no responders → AgentError "no instance of remote agent X is listening…" (retryable; fails fast, counts for the breaker);
 * - no reply within the timeout or deadline → AgentError with `details.timeoutMs` (retryable: the retry carries the same idempotency key);
 * - an error reply → the error class named by its `code` (AgentError for `ND_AGENT_ERROR`);
 * - an oversized request → PatternValidationError (not retryable);
 * - the connection dropped while the request was in flight (it is aborted at once), or the request
 *   waited for a reconnect and timed out → AgentError with `details.connectionLost` (retryable; not an
 *   agent fault: the step re-sends it with the same idempotency key and its breaker does not count it);
 *   "no responders" within 5 s of a reconnect (the agent is not back yet) is retried every 100 ms
 *   within the request's timeout.
 * When the task's cancellation (or signal) aborts, a cancel message is published for the attempt.
 *
 * @example
 * const agent = remoteAgent({ transport, name: 'summarizer', capabilities: ['summarize'], timeoutMs: 5000 });
 */
export function remoteAgent(options: RemoteAgentOptions): Agent {
  const o = parseWith(
    optionsSchema,
    { ...options, transport: undefined, clock: undefined, traceHeaders: undefined },
    'remoteAgent',
  );
  const name = o.name ?? o.id;
  const id = o.id ?? name;
  if (!name || !id)
    throw new PatternValidationError('remoteAgent: give an id or a name', { field: 'remoteAgent.name' });
  const { transport, clock = systemClock } = options;
  const subjects = protocolSubjects(o.prefix);

  const watch = new ConnectionWatch(transport, clock);
  /**
   * Sends a request; "no responders" within {@link RECONNECT_GRACE_MS} of a reconnect (the agent's own
   * connection is not back yet) is retried every {@link NO_RESPONDERS_RETRY_MS} until the timeout.
   */
  const send = async (
    subject: string,
    data: Uint8Array,
    timeoutMs: number,
    headers: Record<string, string> | undefined,
    signal: AttemptCancellation,
  ): Promise<TransportReply> => {
    const until = clock.now() + timeoutMs;
    for (;;) {
      try {
        return await transport.request(subject, data, {
          timeoutMs: Math.max(1, until - clock.now()),
          headers,
          signal,
        });
      } catch (error) {
        const now = clock.now();
        const retry =
          isTransportError(error) &&
          error.kind === 'noResponders' &&
          now - watch.reconnectedAt < RECONNECT_GRACE_MS &&
          now + NO_RESPONDERS_RETRY_MS < until &&
          !signal.aborted;
        if (!retry) throw error;
        await pause(clock, NO_RESPONDERS_RETRY_MS, signal);
      }
    }
  };
  const subjectOf = { task: subjects.task(name), compensate: subjects.compensate(name) } as const;
  const cancelSubject = subjects.cancel(name);

  // one closure per kind, so `execute` itself sends (the NATS client captures a stack trace per
  // request, whose cost grows with the depth of the caller's stack)
  const caller =
    (kind: 'task' | 'compensate') =>
    async (task: AgentTask | CompensationTask): Promise<unknown> => {
      const remaining = task.deadline === undefined ? o.timeoutMs : task.deadline - clock.now();
      if (remaining <= 0)
        throw new AgentError(
          `deadline of step ${task.step} passed before it was sent to remote agent ${name}`,
          // the deadline is the attempt's: a retry has a new one
          { agentId: id, step: task.step, retryable: true },
        );
      const timeoutMs = Math.min(o.timeoutMs, remaining);
      const trace =
        options.traceHeaders?.(task) ?? (task.traceContext ? traceHeaders(task.traceContext) : NO_TRACE);
      const data = encodeJson(toTaskRequest(task, kind, trace));
      if (data.byteLength > o.maxMessageBytes) {
        throw new PatternValidationError(
          `task ${task.step} for remote agent ${name} is ${data.byteLength} bytes, over the ${o.maxMessageBytes}-byte limit`,
          { agentId: id, step: task.step, field: 'input', retryable: false },
        );
      }
      const subject = subjectOf[kind];
      // the envelope carries the version and key; NATS headers only for trace context (cheaper)
      const headers = trace === NO_TRACE || Object.keys(trace).length === 0 ? undefined : trace;
      const signal = task.cancellation ?? task.signal;
      const epoch = watch.epoch;
      const wasConnected = transport.connected;
      const tracked = watch.track(signal);
      let reply: TransportReply;
      try {
        reply = await send(subject, data, timeoutMs, headers, tracked.lost);
      } catch (error) {
        const connectionLost =
          !signal.aborted &&
          (tracked.lost.aborted ||
            (isTransportError(error) &&
              (error.kind === 'disconnected' ||
                (error.kind === 'timeout' && (!wasConnected || watch.epoch !== epoch)))));
        if (connectionLost) {
          throw new AgentError(
            `the connection to remote agent ${name} was lost during ${task.step}; the request is sent again after the reconnect`,
            { agentId: id, step: task.step, retryable: true, connectionLost: true },
            error,
          );
        }
        if (signal.aborted && transport.connected) {
          const cancel = {
            version: PROTOCOL_VERSION,
            idempotencyKey: task.idempotencyKey,
            attempt: task.attempt,
            reason: String((signal.reason as Error | undefined)?.message ?? 'aborted'),
          };
          try {
            transport.publish(cancelSubject, encodeJson(cancel));
          } catch {
            // best effort: the agent's deadline still stops it
          }
        }
        throw transportFailure(error, name, subject, timeoutMs, { agentId: id, step: task.step });
      } finally {
        tracked.done();
      }
      return interpret(decodeReply(reply, name, id, task.step, o.maxMessageBytes), id, task.step);
    };
  const compensateCall = caller('compensate');

  return {
    id,
    capabilities: o.capabilities,
    maxConcurrent: o.maxConcurrent,
    kind: transport.kind,
    execute: caller('task'),
    compensate: async (task) => void (await compensateCall(task)),
    close: () => {
      watch.dispose();
      return Promise.resolve();
    },
  };
}

function transportFailure(
  error: unknown,
  name: string,
  subject: string,
  timeoutMs: number,
  details: ErrorDetails,
): PatternError {
  if (!isTransportError(error))
    return new AgentError(
      `remote agent ${name} failed: ${String(error)}`,
      { ...details, retryable: true },
      error,
    );
  switch (error.kind) {
    case 'noResponders':
      return new AgentError(
        `no instance of remote agent ${name} is listening on ${subject} (is \`ndf agent --name ${name}\` running?)`,
        { ...details, retryable: true },
        error,
      );
    case 'timeout':
      return new AgentError(
        `remote agent ${name} did not answer ${details.step ?? ''} within ${timeoutMs} ms`,
        { ...details, timeoutMs, retryable: true },
        error,
      );
    case 'permission':
      return new AgentError(
        `not allowed to send to remote agent ${name}: ${error.message} (check the NATS user's publish permissions)`,
        { ...details, retryable: false },
        error,
      );
    case 'tooLarge':
      return new PatternValidationError(
        `request to remote agent ${name} too large: ${error.message}`,
        { ...details, retryable: false },
        error,
      );
    default:
      return new AgentError(
        `remote agent ${name} unreachable (${error.kind}): ${error.message}`,
        { ...details, retryable: true },
        error,
      );
  }
}

function decodeReply(
  reply: TransportReply,
  name: string,
  agentId: string,
  step: string,
  maxBytes: number,
): TaskReply {
  try {
    return decodeMessage(taskReplySchema, reply.data, `reply of ${name}`, maxBytes);
  } catch (error) {
    const details: ErrorDetails = { agentId, step };
    const code = reply.headers[ProtocolHeader.ERROR_CODE];
    if (code !== undefined) {
      const status = Number(code);
      const description = reply.headers[ProtocolHeader.ERROR] ?? 'no description';
      throw new AgentError(
        `remote agent ${name} failed with ${code}: ${description}`,
        { ...details, retryable: status >= 500 && status !== 501 },
        error,
      );
    }
    const why = isPatternError(error) ? error.message : String(error);
    throw new AgentError(
      `remote agent ${name} sent an invalid reply: ${why}`,
      { ...details, retryable: false },
      error,
    );
  }
}

function interpret(reply: TaskReply, agentId: string, step: string): unknown {
  if (reply.status === 'ok') return reply.output;
  throw fromWireError(reply.error, { agentId, step });
}
