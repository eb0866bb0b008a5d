import { z } from 'zod';
import { systemClock, type Clock } from '../runtime/clock.js';
import {
  AgentError,
  PatternValidationError,
  type ErrorDetails,
  type PatternError,
} from '../runtime/errors.js';
import {
  DEFAULT_MAX_MESSAGE_BYTES,
  fromWireError,
  toTaskRequest,
  wireErrorSchema,
} from '../runtime/protocol.js';
import { parseWith } from '../runtime/validate.js';
import type { Agent, AgentTask, CompensationTask } from './agent.js';

const optionsSchema = z.object({
  id: z.string().min(1),
  url: z.url({ protocol: /^https?$/, error: 'an http:// or https:// URL' }),
  capabilities: z.array(z.string().min(1)).min(1),
  headers: z.record(z.string(), z.string()).default({}),
  maxConcurrent: z.number().int().min(1).default(16),
  timeoutMs: z.number().int().positive().default(30_000),
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

/** The body of a non-2xx answer that says what went wrong; anything else is reported by status. */
const errorBodySchema = z.object({ error: wireErrorSchema.partial({ retryable: true }) });

/**
 * An {@link Agent} (kind `http`) that POSTs each task to `url` as the JSON task request of
 * docs/protocol.md (version, kind `task` or `compensate`, run id, step, attempt, idempotency key,
 * absolute deadline, input, context), with the standard `Idempotency-Key` header, and takes the
 * JSON body of a 2xx answer as the step's output (an empty body is `null`).
 *
 * Every failure is a rejection with a typed error carrying `details.agentId` and
 * `details.retryable`:
 * - a non-2xx answer whose body is `{"error": {"code", "message", "retryable"?}}` → the error
 *   class named by `code`; other bodies → AgentError naming the status. Retryable unless the
 *   body says otherwise: 408, 425, 429 and 5xx other than 501;
 * - no answer within `min(timeoutMs, deadline - now)` → AgentError with `details.timeoutMs` (retryable);
 * - a connection failure → AgentError (retryable); an oversized request or answer → PatternValidationError.
 * The task's cancellation aborts the request (the endpoint sees the connection close).
 *
 * @throws PatternValidationError on malformed options, naming the field
 * @example
 * const agent = httpAgent({ id: 'summarizer', url: 'http://127.0.0.1:8080/tasks', capabilities: ['summarize'] });
 */
export function httpAgent(options: HttpAgentOptions): Agent {
  const o = parseWith(optionsSchema, { ...options, clock: undefined, fetch: undefined }, 'httpAgent');
  const { clock = systemClock, fetch: doFetch = fetch } = options;

  const post = async (task: AgentTask | CompensationTask, kind: 'task' | 'compensate'): Promise<unknown> => {
    const details: ErrorDetails = { agentId: o.id, step: task.step };
    const remaining = task.deadline === undefined ? o.timeoutMs : task.deadline - clock.now();
    if (remaining <= 0)
      throw new AgentError(`deadline of step ${task.step} passed before it was sent to ${o.url}`, {
        ...details,
        retryable: false,
      });
    const timeoutMs = Math.min(o.timeoutMs, remaining);
    const body = JSON.stringify(toTaskRequest(task, kind));
    if (Buffer.byteLength(body) > o.maxMessageBytes)
      throw new PatternValidationError(
        `task ${task.step} for http agent ${o.id} is ${Buffer.byteLength(body)} bytes, over the ${o.maxMessageBytes}-byte limit`,
        { ...details, field: 'input', retryable: false },
      );
    const cancellation = task.cancellation ?? task.signal;
    if (cancellation.aborted) throw aborted(task, o.id, details);
    const controller = new AbortController();
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      controller.abort();
    }, timeoutMs);
    const onAbort = () => controller.abort();
    cancellation.addEventListener('abort', onAbort, { once: true });
    let response: Response;
    let text: string;
    try {
      response = await doFetch(o.url, {
        method: 'POST',
        headers: {
          ...o.headers,
          'content-type': 'application/json',
          accept: 'application/json',
          'idempotency-key': task.idempotencyKey,
        },
        body,
        signal: controller.signal,
      });
      text = await response.text();
    } catch (error) {
      if (cancellation.aborted) throw aborted(task, o.id, details, error);
      if (timedOut)
        throw new AgentError(
          `http agent ${o.id} did not answer ${task.step} within ${timeoutMs} ms (${o.url})`,
          { ...details, timeoutMs, retryable: true },
          error,
        );
      throw new AgentError(
        `http agent ${o.id} unreachable at ${o.url}: ${describe(error)}`,
        { ...details, retryable: true },
        error,
      );
    } finally {
      clearTimeout(timer);
      cancellation.removeEventListener('abort', onAbort);
    }
    if (Buffer.byteLength(text) > o.maxMessageBytes)
      throw new PatternValidationError(
        `answer of http agent ${o.id} to ${task.step} is over the ${o.maxMessageBytes}-byte limit`,
        { ...details, field: 'output', retryable: false },
      );
    if (!response.ok) throw statusError(response, text, o.id, details);
    if (text.trim() === '') return null;
    try {
      return JSON.parse(text) as unknown;
    } catch (error) {
      throw new AgentError(
        `http agent ${o.id} answered ${task.step} with a body that is not JSON: ${excerpt(text)}`,
        { ...details, retryable: false },
        error,
      );
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

/** Statuses worth retrying (RFC 9110 §15: 408, 5xx; RFC 8470: 425; RFC 6585: 429), except 501. */
function retryableStatus(status: number): boolean {
  return status === 408 || status === 425 || status === 429 || (status >= 500 && status !== 501);
}

function statusError(response: Response, text: string, id: string, details: ErrorDetails): PatternError {
  const retryable = retryableStatus(response.status);
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  const parsed = errorBodySchema.safeParse(json);
  if (parsed.success) {
    const { error } = parsed.data;
    return fromWireError({ ...error, retryable: error.retryable ?? retryable }, details);
  }
  const status = `${response.status}${response.statusText ? ` ${response.statusText}` : ''}`;
  return new AgentError(`http agent ${id} answered ${status}${text ? `: ${excerpt(text)}` : ''}`, {
    ...details,
    retryable,
  });
}

function aborted(task: AgentTask, id: string, details: ErrorDetails, cause?: unknown): AgentError {
  return new AgentError(
    `http agent ${id}: ${task.step} was aborted`,
    { ...details, retryable: false },
    cause,
  );
}

function describe(error: unknown): string {
  const cause = (error as { cause?: { code?: string; message?: string } }).cause;
  return cause?.code ?? cause?.message ?? (error instanceof Error ? error.message : String(error));
}

function excerpt(text: string): string {
  const flat = text.replace(/\s+/g, ' ').trim();
  return flat.length > 200 ? `${flat.slice(0, 200)}…` : flat;
}
