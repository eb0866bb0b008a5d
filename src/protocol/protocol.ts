/**
 * The remote agent wire protocol, version 1 (documented with examples in docs/protocol.md).
 * Every message crossing the bus is JSON validated with zod; validation errors name the field.
 * Unknown fields are ignored (forward compatible within a version); a different `version` is
 * rejected with a clear error.
 */
import { z } from 'zod';
import { traceHeaders } from '../tracing/traceContext.js';
import type { AgentTask, CompensationTask } from '../core/agent.js';
import {
  AgentError,
  ErrorCode,
  PatternValidationError,
  errorFromJSON,
  toSerializedError,
  type ErrorDetails,
  type PatternError,
} from '../core/errors.js';
import { patternContextSchema } from '../core/context.js';
import { parseWith } from '../core/validate.js';

/** The protocol version this build speaks. */
export const PROTOCOL_VERSION = 1;
/** Default subject prefix; every subject starts with it (configurable per deployment). */
export const DEFAULT_SUBJECT_PREFIX = 'nd';
/** Default largest message, bytes (1 MiB, the NATS server's default `max_payload`). */
export const DEFAULT_MAX_MESSAGE_BYTES = 1024 * 1024;
/**
 * Largest nesting depth (objects and arrays inside each other) of a decoded message. Deeper
 * values overflow the stack of whatever walks them recursively later (validation, cloning,
 * serialising), so they are refused at the door as a non-retryable validation error.
 */
export const MAX_MESSAGE_DEPTH = 128;

/** Header names: the NATS micro standard error headers, set on error replies. */
export const ProtocolHeader = {
  ERROR_CODE: 'Nats-Service-Error-Code',
  ERROR: 'Nats-Service-Error',
} as const;

/**
 * Subjects under a prefix (default `nd`): `<prefix>.agent.<name>.task|compensate|cancel` and
 * `<prefix>.resolver.<op>`. Agent names follow the NATS micro rule `[-\w]+`.
 */
export function protocolSubjects(prefix: string = DEFAULT_SUBJECT_PREFIX) {
  return {
    task: (agent: string) => `${prefix}.agent.${agent}.task`,
    compensate: (agent: string) => `${prefix}.agent.${agent}.compensate`,
    cancel: (agent: string) => `${prefix}.agent.${agent}.cancel`,
    resolver: (op: string) => `${prefix}.resolver.${op}`,
    resolverEvents: (session: string) => `${prefix}.resolver.events.${session}`,
  };
}

const versionProbe = z.object({ version: z.number() });

/**
 * The task envelope, one for every agent outside the process: a NATS agent gets it as the
 * request, an HTTP agent as the POST body, a command agent as JSON on stdin (or in its `taskEnv`
 * variable). `kind` says whether to perform the task or undo it (`compensate`, with the
 * completed task's `output`); `deadline` is absolute, epoch ms.
 */
export const taskRequestSchema = z.object({
  version: z.literal(PROTOCOL_VERSION),
  /** `task`: perform it; `compensate`: undo the completed task whose result is `output`. */
  kind: z.enum(['task', 'compensate']),
  runId: z.string().min(1),
  pattern: z.string(),
  step: z.string().min(1),
  capability: z.string().min(1),
  attempt: z.number().int().min(1),
  idempotencyKey: z.string().min(1).max(512),
  deadline: z.number().int().nonnegative().nullable().optional(),
  input: z.object({
    /** Absent when the step has no input (JSON drops `undefined`). */
    params: z.unknown().optional(),
    runInput: z.unknown().optional(),
    results: z.record(z.string(), z.unknown()),
  }),
  context: patternContextSchema,
  /** W3C trace context and friends (`traceparent`, `tracestate`). */
  trace: z.record(z.string(), z.string()).default({}),
  /** Compensation only: the output of the completed task. */
  output: z.unknown().optional(),
});
export type TaskRequest = z.infer<typeof taskRequestSchema>;

/** The error part of a reply. `retryable: false` stops retries. */
export const wireErrorSchema = z.object({
  code: z.string().min(1),
  message: z.string(),
  retryable: z.boolean(),
  name: z.string().optional(),
  details: z.record(z.string(), z.unknown()).optional(),
});
export type WireError = z.infer<typeof wireErrorSchema>;

/** A reply: `ok` with an output, or `error`. */
export const taskReplySchema = z.discriminatedUnion('status', [
  z.object({ version: z.literal(PROTOCOL_VERSION), status: z.literal('ok'), output: z.unknown().optional() }),
  z.object({ version: z.literal(PROTOCOL_VERSION), status: z.literal('error'), error: wireErrorSchema }),
]);
export type TaskReply = z.infer<typeof taskReplySchema>;

/** Cancels the attempt running under `idempotencyKey` (published, no reply). */
export const cancelSchema = z.object({
  version: z.literal(PROTOCOL_VERSION),
  idempotencyKey: z.string().min(1),
  /** The attempt to cancel; a newer attempt that joined the same call keeps it running. */
  attempt: z.number().int().min(1).optional(),
  reason: z.string().optional(),
});
export type CancelMessage = z.infer<typeof cancelSchema>;

const decoder = new TextDecoder();

/**
 * Parses a JSON message: checks its size, that it is JSON, its nesting depth (at most
 * {@link MAX_MESSAGE_DEPTH}), its `version`, then the schema.
 * @throws PatternValidationError (not retryable) naming the field (`where.field`), or the
 *   size/depth/version problem
 */
export function decodeMessage<S extends z.ZodType>(
  schema: S,
  data: Uint8Array,
  where: string,
  maxBytes = DEFAULT_MAX_MESSAGE_BYTES,
): z.infer<S> {
  if (data.byteLength > maxBytes) {
    throw new PatternValidationError(
      `${where}: message of ${data.byteLength} bytes exceeds the ${maxBytes}-byte limit`,
      { field: where },
    );
  }
  let json: unknown;
  try {
    json = JSON.parse(decoder.decode(data));
  } catch (error) {
    throw new PatternValidationError(
      `${where}: not valid JSON (${(error as Error).message})`,
      { field: where },
      error,
    );
  }
  const depth = nestingDepth(json, MAX_MESSAGE_DEPTH);
  if (depth > MAX_MESSAGE_DEPTH) {
    throw new PatternValidationError(
      `${where}: message nested more than ${MAX_MESSAGE_DEPTH} levels deep (objects and arrays inside each other)`,
      { field: where, retryable: false },
    );
  }
  const parsed = schema.safeParse(json);
  if (parsed.success) return parsed.data;
  const probe = versionProbe.safeParse(json);
  if (probe.success && probe.data.version !== PROTOCOL_VERSION) {
    throw new PatternValidationError(
      `${where}: unsupported protocol version ${probe.data.version} (this side speaks version ${PROTOCOL_VERSION})`,
      { field: `${where}.version` },
    );
  }
  return parseWith(schema, json, where);
}

/**
 * Nesting depth of a JSON value (a scalar is 0, `[]` is 1), walked without recursion; stops
 * counting past `limit` (returns `limit + 1`).
 */
export function nestingDepth(value: unknown, limit: number): number {
  let max = 0;
  const stack: [unknown, number][] = [[value, 0]];
  while (stack.length > 0) {
    const [node, depth] = stack.pop() as [unknown, number];
    if (typeof node !== 'object' || node === null) continue;
    const level = depth + 1;
    if (level > limit) return limit + 1;
    if (level > max) max = level;
    for (const child of Array.isArray(node) ? node : Object.values(node)) {
      if (typeof child === 'object' && child !== null) stack.push([child, level]);
    }
  }
  return max;
}

/**
 * The error a wire error stands for: the class named by its `code` (an {@link AgentError}
 * prefixed with the code when this build does not know it), with `details` (which override the
 * wire's own) and the wire's `retryable`.
 */
export function fromWireError(
  error: Pick<WireError, 'code' | 'message' | 'name' | 'details'> & { retryable: boolean },
  details: ErrorDetails,
): PatternError {
  const { code, message, name, retryable } = error;
  const merged = { ...((error.details ?? {}) as ErrorDetails), ...details, retryable };
  if (!(Object.values(ErrorCode) as string[]).includes(code))
    return new AgentError(`${code}: ${message}`, merged);
  return errorFromJSON({ name: name ?? 'AgentError', code, message, details: merged });
}

/**
 * Builds the task envelope of a task (the `signal` stays local): what {@link taskRequestSchema}
 * validates, sent alike by command, HTTP and NATS agents. `output` is included for `compensate`.
 */
export function toTaskRequest(
  task: AgentTask | CompensationTask,
  kind: 'task' | 'compensate',
  trace: Record<string, string> = traceHeaders(task.traceContext),
): TaskRequest {
  return {
    version: PROTOCOL_VERSION,
    kind,
    runId: task.runId,
    pattern: task.pattern,
    step: task.step,
    capability: task.capability,
    attempt: task.attempt,
    idempotencyKey: task.idempotencyKey,
    deadline: task.deadline ?? null,
    input: { params: task.input.params, runInput: task.input.runInput, results: { ...task.input.results } },
    context: task.context,
    trace,
    ...(kind === 'compensate' ? { output: (task as CompensationTask).output } : {}),
  };
}

/** Whether an error may succeed on retry: `details.retryable` when set, else false for validation errors, true otherwise. */
export function isRetryable(error: PatternError | { code: string; details?: ErrorDetails }): boolean {
  if (typeof error.details?.retryable === 'boolean') return error.details.retryable;
  return error.code !== ErrorCode.PATTERN_VALIDATION && error.code !== ErrorCode.NO_CAPABLE_AGENT;
}

/** The `error` reply of a thrown value. */
export function errorReply(error: unknown): TaskReply {
  const serialized = toSerializedError(error);
  const retryable = isRetryable(serialized);
  return {
    version: PROTOCOL_VERSION,
    status: 'error',
    error: {
      code: serialized.code,
      message: serialized.message,
      retryable,
      name: serialized.name,
      ...(serialized.details ? { details: { ...serialized.details } } : {}),
    },
  };
}

/** The `Nats-Service-Error-Code` of an error code (HTTP-like: 400 invalid, 404 not capable, 408 timeout, 413 too large, 500 failed, 503 retry later). */
export function serviceErrorCode(error: WireError): number {
  if (error.code === ErrorCode.PATTERN_VALIDATION) return error.message.includes('exceeds the') ? 413 : 400;
  if (error.code === ErrorCode.NO_CAPABLE_AGENT) return 404;
  if (error.code === ErrorCode.TIMEOUT) return 408;
  return error.retryable ? 503 : 500;
}
