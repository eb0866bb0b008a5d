import type { PatternContextData } from './context.js';
import type { CancellationSignal } from './cancellation.js';

/** The input every step receives. */
export interface StepInput {
  /** The step's own `input` from its spec (workflow file or StepOptions). */
  readonly params: unknown;
  /** The input the run was started with (`executor.run(name, ctx, { input })`). */
  readonly runInput: unknown;
  /** Outputs of the steps completed so far in this run, by step name. */
  readonly results: Readonly<Record<string, unknown>>;
}

/**
 * What an agent is asked to do. The same shape travels to local functions, child processes,
 * HTTP endpoints and remote agents over NATS (see docs/protocol.md).
 */
export interface AgentTask {
  readonly runId: string;
  readonly pattern: string;
  readonly step: string;
  readonly capability: string;
  /** 1-based attempt number. */
  readonly attempt: number;
  /**
   * Same for every attempt of one step in one run (`<runId>/<step>`; `…/compensate` for the
   * compensation), so an agent can deduplicate re-deliveries.
   */
  readonly idempotencyKey: string;
  /** Absolute deadline, epoch ms; undefined = none. */
  readonly deadline?: number | undefined;
  readonly input: StepInput;
  readonly context: PatternContextData;
  /** Aborted when the attempt times out or the run is cancelled. */
  readonly signal: AbortSignal;
  /**
   * The same cancellation as `signal`, as a {@link CancellationSignal} that needs no
   * `AbortSignal` (the runtime's tasks make `signal` only when it is read). Code that only
   * listens for the abort, such as a transport request, reads `cancellation ?? signal`.
   */
  readonly cancellation?: CancellationSignal | undefined;
  /** W3C trace context of the attempt's span, when the run is traced (sent on to remote agents). */
  readonly traceContext?: TraceContext | undefined;
}

/** W3C Trace Context (https://www.w3.org/TR/trace-context/) of a span, as headers carry it. */
export interface TraceContext {
  /** `00-<trace id, 32 hex>-<span id, 16 hex>-<flags, 2 hex>`. */
  readonly traceparent: string;
  readonly tracestate?: string | undefined;
}

/** A compensation request: the task that completed, and the output it produced. */
export interface CompensationTask extends AgentTask {
  readonly output: unknown;
}

/**
 * An agent: something with capabilities that performs tasks. Local functions implement it
 * with {@link defineAgent}; child-process, HTTP and NATS agents implement it in src/actors.
 * Failures are rejections; reject with an `AgentError` whose `details.retryable` is false to
 * stop retries.
 */
export interface Agent {
  readonly id: string;
  readonly capabilities: readonly string[];
  /** How many tasks it performs at once (>= 1). */
  readonly maxConcurrent: number;
  /** Transport kind, for display: `local`, `command`, `http`, `nats`, … */
  readonly kind: string;
  execute(task: AgentTask): Promise<unknown>;
  /** Undoes a completed task. Absent: nothing to undo (the step is marked compensated). */
  compensate?(task: CompensationTask): Promise<void>;
  /** Releases connections or processes. */
  close?(): Promise<void>;
}

/**
 * Grants named shared resources to a task (the conflict resolver implements it). The executor
 * acquires a step's `locks` before it runs and releases them when it ends.
 */
export interface ResourceArbiter {
  /**
   * Resolves with a release function once every name is held by `owner`.
   * @param request.priority - 1 highest … 5 lowest
   * @param request.deadline - epoch ms after which the wait fails with ResourceExhaustionError
   */
  acquire(
    names: readonly string[],
    request: {
      owner: string;
      priority: number;
      deadline?: number | undefined;
      signal?: CancellationSignal | undefined;
    },
  ): Promise<() => Promise<void>>;
}
