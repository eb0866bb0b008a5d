/**
 * The error hierarchy of natural-delegation.
 *
 * Every error has a stable `code` (e.g. `ND_PATTERN_NOT_FOUND`) so that errors crossing a
 * process boundary (NATS, a trace file) can be rebuilt with {@link errorFromJSON}; use the
 * `isXError()` guards rather than `instanceof` on errors that may have crossed one.
 */

/** Stable error codes, one per class. */
export const ErrorCode = {
  PATTERN: 'ND_PATTERN_ERROR',
  PATTERN_NOT_FOUND: 'ND_PATTERN_NOT_FOUND',
  PATTERN_EXECUTION: 'ND_PATTERN_EXECUTION',
  CONFIDENCE_THRESHOLD: 'ND_CONFIDENCE_THRESHOLD',
  RESOURCE_EXHAUSTED: 'ND_RESOURCE_EXHAUSTED',
  PATTERN_VALIDATION: 'ND_PATTERN_VALIDATION',
  PATTERN_ALREADY_EXISTS: 'ND_PATTERN_ALREADY_EXISTS',
  INVALID_PATTERN: 'ND_INVALID_PATTERN',
  TIMEOUT: 'ND_TIMEOUT',
  CIRCUIT_OPEN: 'ND_CIRCUIT_OPEN',
  AGENT: 'ND_AGENT_ERROR',
  NO_CAPABLE_AGENT: 'ND_NO_CAPABLE_AGENT',
} as const;
export type ErrorCode = (typeof ErrorCode)[keyof typeof ErrorCode];

/** Extra typed fields an error may carry (pattern, step, agent…); all JSON-serialisable. */
export interface ErrorDetails {
  patternName?: string;
  /** The run concerned (durable runs). */
  runId?: string;
  step?: string;
  agentId?: string;
  capabilities?: readonly string[];
  cycle?: readonly string[];
  field?: string;
  timeoutMs?: number;
  retryAt?: number;
  retryable?: boolean;
  /** The call was lost with the transport's connection (not an agent fault; retried after the reconnect). */
  connectionLost?: boolean;
  confidence?: number;
  threshold?: number;
}

/** Base class of every error thrown by natural-delegation. */
export class PatternError extends Error {
  override readonly name: string = 'PatternError';
  readonly code: ErrorCode;
  readonly details: ErrorDetails;

  constructor(message: string, options: { code?: ErrorCode; cause?: unknown; details?: ErrorDetails } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = options.code ?? ErrorCode.PATTERN;
    this.details = options.details ?? {};
  }

  /** A plain object that {@link errorFromJSON} turns back into the same class. */
  toJSON(): SerializedError {
    return { name: this.name, code: this.code, message: this.message, details: this.details };
  }
}

/** The requested pattern is not registered (or not in storage). */
export class PatternNotFoundError extends PatternError {
  override readonly name = 'PatternNotFoundError';
  constructor(message: string, details: ErrorDetails = {}, cause?: unknown) {
    super(message, { code: ErrorCode.PATTERN_NOT_FOUND, details, cause });
  }
}

/** A pattern ran and failed, or could not run (e.g. no agent can perform a step). */
export class PatternExecutionError extends PatternError {
  override readonly name: string = 'PatternExecutionError';
  constructor(message: string, details: ErrorDetails = {}, cause?: unknown, code?: ErrorCode) {
    super(message, { code: code ?? ErrorCode.PATTERN_EXECUTION, details, cause });
  }
}

/** No registered agent has the capability a step needs. */
export class NoCapableAgentError extends PatternExecutionError {
  override readonly name = 'NoCapableAgentError';
  constructor(message: string, details: ErrorDetails = {}) {
    super(message, details, undefined, ErrorCode.NO_CAPABLE_AGENT);
  }
}

/** The pattern's confidence is below the threshold required to select it. */
export class ConfidenceThresholdError extends PatternError {
  override readonly name = 'ConfidenceThresholdError';
  constructor(message: string, details: ErrorDetails = {}) {
    super(message, { code: ErrorCode.CONFIDENCE_THRESHOLD, details });
  }
}

/** A resource (agent slots, CPU/memory budget, a lock) is exhausted. */
export class ResourceExhaustionError extends PatternError {
  override readonly name = 'ResourceExhaustionError';
  constructor(message: string, details: ErrorDetails = {}) {
    super(message, { code: ErrorCode.RESOURCE_EXHAUSTED, details });
  }
}

/** Input (an option, a message, a file) failed validation; `details.field` names where. */
export class PatternValidationError extends PatternError {
  override readonly name = 'PatternValidationError';
  constructor(message: string, details: ErrorDetails = {}, cause?: unknown) {
    super(message, { code: ErrorCode.PATTERN_VALIDATION, details, cause });
  }
}

/** A pattern with this name is already registered. */
export class PatternAlreadyExistsError extends PatternError {
  override readonly name = 'PatternAlreadyExistsError';
  constructor(message: string, details: ErrorDetails = {}) {
    super(message, { code: ErrorCode.PATTERN_ALREADY_EXISTS, details });
  }
}

/** A pattern's configuration is invalid (a dependency cycle, an unknown step, …). */
export class InvalidPatternError extends PatternError {
  override readonly name = 'InvalidPatternError';
  constructor(message: string, details: ErrorDetails = {}) {
    super(message, { code: ErrorCode.INVALID_PATTERN, details });
  }
}

/** A pattern or step exceeded its timeout (`details.timeoutMs`). Exported also as `TimeoutError`. */
export class PatternTimeoutError extends PatternError {
  override readonly name = 'TimeoutError';
  constructor(message: string, details: ErrorDetails = {}) {
    super(message, { code: ErrorCode.TIMEOUT, details });
  }
}

/** The agent's circuit breaker is open; `details.retryAt` (epoch ms) says when it half-opens. */
export class CircuitOpenError extends PatternError {
  override readonly name = 'CircuitOpenError';
  constructor(message: string, details: ErrorDetails = {}) {
    super(message, { code: ErrorCode.CIRCUIT_OPEN, details });
  }
}

/** An agent reported a failure; `details.retryable` says whether a retry may succeed. */
export class AgentError extends PatternError {
  override readonly name = 'AgentError';
  constructor(message: string, details: ErrorDetails = {}, cause?: unknown) {
    super(message, { code: ErrorCode.AGENT, details, cause });
  }
}

/** The JSON form of an error, as it crosses NATS or is written to a trace. */
export interface SerializedError {
  name: string;
  code: string;
  message: string;
  details?: ErrorDetails;
}

const byCode: Record<ErrorCode, new (message: string, details?: ErrorDetails) => PatternError> = {
  [ErrorCode.PATTERN]: class extends PatternError {
    constructor(message: string, details?: ErrorDetails) {
      super(message, details === undefined ? {} : { details });
    }
  },
  [ErrorCode.PATTERN_NOT_FOUND]: PatternNotFoundError,
  [ErrorCode.PATTERN_EXECUTION]: PatternExecutionError,
  [ErrorCode.NO_CAPABLE_AGENT]: NoCapableAgentError,
  [ErrorCode.CONFIDENCE_THRESHOLD]: ConfidenceThresholdError,
  [ErrorCode.RESOURCE_EXHAUSTED]: ResourceExhaustionError,
  [ErrorCode.PATTERN_VALIDATION]: PatternValidationError,
  [ErrorCode.PATTERN_ALREADY_EXISTS]: PatternAlreadyExistsError,
  [ErrorCode.INVALID_PATTERN]: InvalidPatternError,
  [ErrorCode.TIMEOUT]: PatternTimeoutError,
  [ErrorCode.CIRCUIT_OPEN]: CircuitOpenError,
  [ErrorCode.AGENT]: AgentError,
};

/**
 * The error factory: a new error of the class named by `code` (an unknown code gives a plain
 * {@link PatternError}). Every error a machine or the wire builds goes through here or
 * {@link serializedError}, so name and code always agree.
 */
export function createError(code: ErrorCode, message: string, details: ErrorDetails = {}): PatternError {
  const Ctor = (byCode as Record<string, (typeof byCode)[ErrorCode] | undefined>)[code];
  return Ctor ? new Ctor(message, details) : new PatternError(message, { details });
}

/**
 * The JSON form of a new error of class `code` (what machines carry in their context); `details`
 * is omitted when not given. `errorFromJSON(serializedError(code, …))` rebuilds that class.
 */
export function serializedError(code: ErrorCode, message: string, details?: ErrorDetails): SerializedError {
  const { name } = createError(code, message);
  return details === undefined ? { name, code, message } : { name, code, message, details };
}

const knownCodes: ReadonlySet<string> = new Set(Object.values(ErrorCode));

/**
 * Turns any thrown value into a {@link SerializedError}: a {@link PatternError}, or any object
 * carrying one of our codes (an error rebuilt elsewhere, or its JSON), keeps its name, code and
 * details; any other `Error` (including Node's `ENOENT`-style errors) and any other value becomes
 * `ND_AGENT_ERROR` with its message.
 */
export function toSerializedError(error: unknown): SerializedError {
  if (error instanceof PatternError) return error.toJSON();
  if (typeof error === 'object' && error !== null && 'code' in error && knownCodes.has(String(error.code))) {
    const e = error as { name?: unknown; code: string; message?: unknown; details?: unknown };
    return {
      name: typeof e.name === 'string' ? e.name : 'PatternError',
      code: e.code,
      message: typeof e.message === 'string' ? e.message : '',
      ...(typeof e.details === 'object' && e.details !== null ? { details: e.details } : {}),
    };
  }
  if (error instanceof Error) return { name: error.name, code: ErrorCode.AGENT, message: error.message };
  const carried =
    typeof error === 'object' && error !== null ? (error as { message?: unknown }).message : undefined;
  const message = typeof carried === 'string' ? carried : String(error);
  return { name: 'Error', code: ErrorCode.AGENT, message };
}

/** Rebuilds the error class named by `code`; unknown codes become a plain {@link PatternError}. */
export function errorFromJSON(json: SerializedError): PatternError {
  return knownCodes.has(json.code)
    ? createError(json.code as ErrorCode, json.message, json.details ?? {})
    : new PatternError(json.message);
}

const hasCode =
  (...codes: ErrorCode[]) =>
  (error: unknown): error is PatternError =>
    typeof error === 'object' &&
    error !== null &&
    codes.includes((error as { code?: unknown }).code as ErrorCode);

/** True for any natural-delegation error, including ones rebuilt from JSON. */
export const isPatternError = (error: unknown): error is PatternError =>
  hasCode(...Object.values(ErrorCode))(error);
export const isPatternNotFoundError = hasCode(ErrorCode.PATTERN_NOT_FOUND);
export const isPatternExecutionError = hasCode(ErrorCode.PATTERN_EXECUTION, ErrorCode.NO_CAPABLE_AGENT);
export const isNoCapableAgentError = hasCode(ErrorCode.NO_CAPABLE_AGENT);
export const isConfidenceThresholdError = hasCode(ErrorCode.CONFIDENCE_THRESHOLD);
export const isResourceExhaustionError = hasCode(ErrorCode.RESOURCE_EXHAUSTED);
export const isPatternValidationError = hasCode(ErrorCode.PATTERN_VALIDATION);
export const isPatternAlreadyExistsError = hasCode(ErrorCode.PATTERN_ALREADY_EXISTS);
export const isInvalidPatternError = hasCode(ErrorCode.INVALID_PATTERN);
export const isTimeoutError = hasCode(ErrorCode.TIMEOUT);
export const isCircuitOpenError = hasCode(ErrorCode.CIRCUIT_OPEN);
export const isAgentError = hasCode(ErrorCode.AGENT);
