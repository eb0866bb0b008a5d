import { assign, enqueueActions, fromPromise, setup } from 'xstate';
import type { SerializedError } from '../runtime/errors.js';
import type { StepSpec } from '../runtime/spec.js';
import type { StepStatus } from '../runtime/status.js';

/** What the `runStep` actor is given for one attempt. */
export interface StepAttemptInput {
  readonly spec: StepSpec;
  /** 1-based. */
  readonly attempt: number;
  /** Opaque run environment the runtime passes through (agents, run input, results…). */
  readonly env: unknown;
}

/** What a successful attempt resolves with. */
export interface StepAttemptOutput {
  readonly output: unknown;
  readonly agent?: string | undefined;
  /** Epoch ms, from the runtime's clock: lets parents compute durations without reading time. */
  readonly startedAt?: number | undefined;
  readonly finishedAt?: number | undefined;
}

/** What the `compensateStep` actor is given. */
export interface StepCompensationInput {
  readonly spec: StepSpec;
  readonly output: unknown;
  readonly agent?: string | undefined;
  readonly env: unknown;
}

export interface StepMachineInput {
  readonly spec: StepSpec;
  readonly env: unknown;
  /** Start at once instead of waiting in `pending` for `START` (parents spawn steps when they are due). */
  readonly autoStart?: boolean;
}

export interface StepContext {
  readonly spec: StepSpec;
  readonly env: unknown;
  readonly autoStart: boolean;
  attempt: number;
  output: unknown;
  agent: string | undefined;
  startedAt: number | undefined;
  finishedAt: number | undefined;
  error: SerializedError | undefined;
  compensationError: SerializedError | undefined;
  /** Set on entering a final state. */
  finalStatus: StepFinalOutput['status'] | undefined;
}

/** Sent to the parent when the step completes (the step then waits, compensatable). */
export interface StepCompletedEvent {
  type: 'STEP.COMPLETED';
  name: string;
  output: unknown;
  agent: string | undefined;
  attempts: number;
  /** Epoch ms the completing attempt started and finished (when the runtime reported them). */
  startedAt: number | undefined;
  finishedAt: number | undefined;
}

/** Output of the machine when it reaches a final state (`failed`, `compensated`, `compensationFailed`, `cancelled`). */
export interface StepFinalOutput {
  readonly name: string;
  readonly status: 'failed' | 'compensated' | 'compensationFailed' | 'cancelled';
  readonly attempts: number;
  readonly agent: string | undefined;
  readonly error: SerializedError | undefined;
  readonly compensationError: SerializedError | undefined;
}

export type StepEvent = { type: 'START' } | { type: 'COMPENSATE' } | { type: 'CANCEL' };

/** Largest delay `setTimeout` accepts: used as "no timeout". */
export const NO_TIMEOUT_MS = 2_147_483_647;

function asSerialized(error: unknown): SerializedError {
  if (typeof error === 'object' && error !== null && 'code' in error && 'message' in error) {
    const e = error as { name?: unknown; code: unknown; message: unknown; details?: unknown };
    return {
      name: typeof e.name === 'string' ? e.name : 'Error',
      code: String(e.code),
      message: String(e.message),
      ...(typeof e.details === 'object' && e.details !== null ? { details: e.details } : {}),
    };
  }
  if (error instanceof Error) return { name: error.name, code: 'ND_AGENT_ERROR', message: error.message };
  return { name: 'Error', code: 'ND_AGENT_ERROR', message: String(error) };
}

const isRetryable = (error: SerializedError): boolean => error.details?.retryable !== false;

/**
 * One step (or task): `pending → running → completed | failed`, with `retrying` (exponential
 * backoff, attempt counter, per-attempt timeout) and, after completion,
 * `compensating → compensated | compensationFailed` (the saga's compensating action).
 *
 * Pure: the runtime provides `runStep` and `compensateStep` (the agent calls) and may provide
 * the `backoff` delay with jitter. On completion it sends {@link StepCompletedEvent} to its
 * parent and waits for `COMPENSATE`; final states carry a {@link StepFinalOutput}.
 */
export const stepMachine = setup({
  types: {} as {
    context: StepContext;
    events: StepEvent;
    input: StepMachineInput;
    output: StepFinalOutput;
  },
  actors: {
    runStep: fromPromise<StepAttemptOutput, StepAttemptInput>(async () => ({ output: undefined })),
    compensateStep: fromPromise<void, StepCompensationInput>(async () => undefined),
  },
  actions: {
    /** Progress hook: the runtime provides one that records the status and emits a RunEvent. */
    reportStatus: (_: unknown, _params: { status: StepStatus }) => undefined,
    /** Tells the parent pattern the step completed; stand-alone tests provide their own. */
    notifyCompleted: enqueueActions(({ context, enqueue, self }) => {
      const completed: StepCompletedEvent = {
        type: 'STEP.COMPLETED',
        name: context.spec.name,
        output: context.output,
        agent: context.agent,
        attempts: context.attempt,
        startedAt: context.startedAt,
        finishedAt: context.finishedAt,
      };
      if (self._parent) enqueue.sendTo(self._parent, completed);
    }),
  },
  delays: {
    /** Per-attempt timeout, ms. */
    stepTimeout: ({ context }) => context.spec.timeoutMs ?? NO_TIMEOUT_MS,
    /** Backoff before the next attempt, ms (no jitter here; the runtime provides a jittered one). */
    backoff: ({ context }) => {
      const b = context.spec.retry.backoff;
      return Math.min(b.maxDelayMs, b.initialDelayMs * b.multiplier ** (context.attempt - 1));
    },
  },
  guards: {
    canRetry: ({ context }) =>
      context.attempt < context.spec.retry.maxAttempts && (!context.error || isRetryable(context.error)),
    hasTimeout: ({ context }) => context.spec.timeoutMs !== undefined,
  },
}).createMachine({
  id: 'step',
  context: ({ input }) => ({
    spec: input.spec,
    env: input.env,
    autoStart: input.autoStart ?? false,
    attempt: 0,
    output: undefined,
    agent: undefined,
    startedAt: undefined,
    finishedAt: undefined,
    error: undefined,
    compensationError: undefined,
    finalStatus: undefined,
  }),
  initial: 'pending',
  output: ({ context }) => ({
    name: context.spec.name,
    status: context.finalStatus ?? 'failed',
    attempts: context.attempt,
    agent: context.agent,
    error: context.error,
    compensationError: context.compensationError,
  }),
  states: {
    pending: {
      always: { guard: ({ context }) => context.autoStart, target: 'running' },
      on: { START: 'running', CANCEL: 'cancelled' },
    },
    running: {
      entry: [
        assign({ attempt: ({ context }) => context.attempt + 1, error: undefined }),
        { type: 'reportStatus', params: { status: 'running' } },
      ],
      on: { CANCEL: 'cancelled' },
      invoke: {
        src: 'runStep',
        input: ({ context }) => ({ spec: context.spec, attempt: context.attempt, env: context.env }),
        onDone: {
          target: 'completed',
          actions: assign({
            output: ({ event }) => event.output.output,
            agent: ({ event }) => event.output.agent,
            startedAt: ({ event }) => event.output.startedAt,
            finishedAt: ({ event }) => event.output.finishedAt,
          }),
        },
        onError: {
          target: 'attemptFailed',
          actions: assign({ error: ({ event }) => asSerialized(event.error) }),
        },
      },
      after: {
        stepTimeout: {
          guard: 'hasTimeout',
          target: 'attemptFailed',
          actions: assign({
            error: ({ context }) => ({
              name: 'TimeoutError',
              code: 'ND_TIMEOUT',
              message: `Step "${context.spec.name}" timed out after ${context.spec.timeoutMs ?? 0} ms (attempt ${context.attempt})`,
              details: { step: context.spec.name, timeoutMs: context.spec.timeoutMs ?? 0, retryable: true },
            }),
          }),
        },
      },
    },
    attemptFailed: {
      always: [{ guard: 'canRetry', target: 'retrying' }, { target: 'failed' }],
    },
    retrying: {
      entry: { type: 'reportStatus', params: { status: 'retrying' } },
      on: { CANCEL: 'cancelled' },
      after: { backoff: 'running' },
    },
    completed: {
      entry: [{ type: 'reportStatus', params: { status: 'completed' } }, 'notifyCompleted'],
      on: { COMPENSATE: 'compensating' },
    },
    compensating: {
      entry: { type: 'reportStatus', params: { status: 'compensating' } },
      invoke: {
        src: 'compensateStep',
        input: ({ context }) => ({
          spec: context.spec,
          output: context.output,
          agent: context.agent,
          env: context.env,
        }),
        onDone: 'compensated',
        onError: {
          target: 'compensationFailed',
          actions: assign({ compensationError: ({ event }) => asSerialized(event.error) }),
        },
      },
    },
    failed: {
      type: 'final',
      entry: [
        assign({ finalStatus: 'failed' as const }),
        { type: 'reportStatus', params: { status: 'failed' } },
      ],
    },
    cancelled: {
      type: 'final',
      entry: [
        assign({ finalStatus: 'cancelled' as const }),
        { type: 'reportStatus', params: { status: 'cancelled' } },
      ],
    },
    compensated: {
      type: 'final',
      entry: [
        assign({ finalStatus: 'compensated' as const }),
        { type: 'reportStatus', params: { status: 'compensated' } },
      ],
    },
    compensationFailed: {
      type: 'final',
      entry: [
        assign({ finalStatus: 'compensationFailed' as const }),
        { type: 'reportStatus', params: { status: 'compensationFailed' } },
      ],
    },
  },
});
