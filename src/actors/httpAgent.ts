import { z } from 'zod';
import { systemClock, type Clock } from '../core/clock.js';
import { AgentError, PatternValidationError, isPatternError, type ErrorDetails } from '../core/errors.js';
import { DEFAULT_MAX_MESSAGE_BYTES, toTaskRequest } from '../protocol/protocol.js';
import { traceHeaders } from '../tracing/traceContext.js';
import { parseWith } from '../core/validate.js';
import type { Agent, AgentTask, CompensationTask } from '../core/agent.js';
import { outputOf, readAnswer } from './httpAnswer.js';
import { redactText } from '../core/redact.js';
import { positiveDurationMs } from '../core/duration.js';

const optionsSchema = z.object({
  id: z.string().min(1),
  url: z.url({ protocol: /^https?$/, error: 'an http:// or https:// URL' }),
  capabilities: z.array(z.string().min(1)).min(1),
  headers: z.record(z.string(), z.string()).default({}),
  maxConcurrent: z.number().int().min(1).default(16),
  timeoutMs: positiveDurationMs.default(30_000),
  maxMessageBytes: z.number().int().positive().default(DEFAULT_MAX_MESSAGE_BYTES),
});

/** Options of {@link httpAgent}. */
export interface HttpAgentOptions {
  id: string;
  /** Endpoint every task (and compensation) is POSTed to. */
  url: string;
  capabilities: readonly string[];
  /** Extra request headers (e.g. `authorization`). */
  headers?: Record<string, string>;
  /** Tasks the executor may send at once (default 16). */
  maxConcurrent?: number;
  /** Per-request timeout, ms (default 30000), shortened to the task's deadline. */
  timeoutMs?: number;
  /** Largest request and response body, bytes (default 1 MiB). */
  maxMessageBytes?: number;
  clock?: Clock;
  /** The fetch implementation (default: the global `fetch`). */
  fetch?: typeof fetch;
}

/**
 * An {@link Agent} (kind `http`) that POSTs each task to `url` as the JSON task request of
 * docs/protocol.md (version, kind `task` or `compensate`, run id, step, attempt, idempotency key,
 * absolute deadline, input, context), with an `Idempotency-Key` header (a quoted string, as in
 * the IETF draft draft-ietf-httpapi-idempotency-key-header), and takes the JSON body of a 2xx
 * answer as the step's output (an empty or blank body is `null`). Redirects are not followed.
 *
 * Every failure is a rejection with a typed error carrying `details.agentId` and
 * `details.retryable`:
 * - a failed status whose body is `{"error": {"code", "message", "retryable"?}}` → the error
 *   class named by `code`; other bodies → AgentError naming the status. Retryable unless the
 *   body says otherwise: 408, 425, 429 and 5xx other than 501;
 * - a redirect, or a 2xx body that is not JSON → AgentError (not retryable);
 * - no answer within `min(timeoutMs, deadline - now)`, or the step's own timeout → AgentError
 *   (retryable); the attempt cancelled → AgentError (not retryable);
 * - no connection, or one cut during the answer → AgentError naming the URL (retryable);
 * - a request over `maxMessageBytes`, a 2xx body over it (read no further), or a header value
 *   HTTP cannot carry → PatternValidationError (not retryable).
 * The task's cancellation aborts the request (the endpoint sees the connection close).
 *
 * @throws PatternValidationError on malformed options, naming the field
 * @example
 * const agent = httpAgent({ id: 'summarizer', url: 'http://127.0.0.1:8080/tasks', capabilities: ['summarize'] });
 */
export function httpAgent(options: HttpAgentOptions): Agent {
  const o = parseWith(optionsSchema, { ...options, clock: undefined, fetch: undefined }, 'httpAgent');
  const { clock = systemClock, fetch: doFetch = fetch } = options;
  const who = `http agent ${o.id}`;
  const where = redactText(o.url); // messages end in summaries and traces: no `user:pass@`

  const post = async (task: AgentTask | CompensationTask, kind: 'task' | 'compensate'): Promise<unknown> => {
    const details = { agentId: o.id, step: task.step };
    const remaining = task.deadline === undefined ? o.timeoutMs : task.deadline - clock.now();
    if (remaining <= 0)
      // the deadline is the attempt's: a retry has a new one
      throw new AgentError(`deadline of step ${task.step} passed before it was sent to ${where}`, {
        ...details,
        retryable: true,
      });
    const timeoutMs = Math.min(o.timeoutMs, remaining);
    const body = JSON.stringify(toTaskRequest(task, kind));
    const bytes = Buffer.byteLength(body);
    if (bytes > o.maxMessageBytes)
      throw new PatternValidationError(
        `task ${task.step} for ${who} is ${bytes} bytes, over the ${o.maxMessageBytes}-byte limit`,
        { ...details, field: 'input', retryable: false },
      );
    const headers = requestHeaders(o.headers, task.idempotencyKey, who, details);
    for (const [name, value] of Object.entries(traceHeaders(task.traceContext))) headers.set(name, value);
    const cancellation = task.cancellation ?? task.signal;
    if (cancellation.aborted) throw stopped(cancellation.reason, who, details);
    const controller = new AbortController();
    let timedOut = false;
    const timer = clock.setTimeout(() => {
      timedOut = true;
      controller.abort();
    }, timeoutMs);
    const onAbort = () => controller.abort();
    cancellation.addEventListener('abort', onAbort, { once: true });
    let answered = false;
    try {
      const response = await doFetch(o.url, {
        method: 'POST',
        headers,
        body,
        redirect: 'manual',
        signal: controller.signal,
      });
      answered = true;
      return outputOf(await readAnswer(response, o.maxMessageBytes, controller, details), details);
    } catch (error) {
      if (isPatternError(error)) throw error;
      if (cancellation.aborted) throw stopped(cancellation.reason, who, details, error);
      if (timedOut)
        throw new AgentError(
          `${who} did not answer ${task.step} within ${timeoutMs} ms (${where})`,
          { ...details, timeoutMs, retryable: true },
          error,
        );
      const why = redactText(describe(error)); // fetch's own message may quote the URL
      throw new AgentError(
        answered
          ? `${who} cut its answer to ${task.step} short: ${why}`
          : `${who} unreachable at ${where}: ${why}`,
        { ...details, retryable: true },
        error,
      );
    } finally {
      clock.clearTimeout(timer);
      cancellation.removeEventListener('abort', onAbort);
    }
  };

  return {
    id: o.id,
    capabilities: o.capabilities,
    maxConcurrent: o.maxConcurrent,
    kind: 'http',
    execute: (task) => post(task, 'task'),
    compensate: async (task) => void (await post(task, 'compensate')),
  };
}

/**
 * The request's headers: the agent's own, then the runtime's (`content-type`, `accept`,
 * `idempotency-key`), which replace any of the same name in any case.
 * @throws PatternValidationError (field `headers`) when a value cannot be sent in HTTP
 */
function requestHeaders(
  configured: Record<string, string>,
  idempotencyKey: string,
  who: string,
  details: ErrorDetails,
): Headers {
  try {
    const headers = new Headers(configured);
    headers.set('content-type', 'application/json');
    headers.set('accept', 'application/json');
    headers.set('idempotency-key', `"${idempotencyKey.replace(/["\\]/g, '\\$&')}"`);
    return headers;
  } catch (error) {
    throw new PatternValidationError(
      `${who}: cannot send the request headers: ${error instanceof Error ? error.message : String(error)}`,
      { ...details, field: 'headers', retryable: false },
      error,
    );
  }
}

/** The error of an attempt the runtime stopped: its step timed out (retryable) or it was cancelled. */
function stopped(reason: unknown, who: string, details: ErrorDetails, cause?: unknown): AgentError {
  const timedOut = reason instanceof Error && reason.name === 'TimeoutError';
  const why = reason instanceof Error ? reason.message : 'cancelled';
  return new AgentError(
    `${who}: ${details.step ?? '?'} stopped: ${why}`,
    { ...details, retryable: timedOut },
    cause,
  );
}

function describe(error: unknown): string {
  const cause = (error as { cause?: { code?: string; message?: string } }).cause;
  return cause?.code ?? cause?.message ?? (error instanceof Error ? error.message : String(error));
}
