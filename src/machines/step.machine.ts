import { assertEvent, assign, fromPromise, sendTo, setup } from 'xstate';
import { backoffCapMs } from '../core/backoff.js';
import { ErrorCode, serializedError, toSerializedError, type SerializedError } from '../core/errors.js';
import type { StepSpec } from '../core/spec.js';
import type { StepStatus } from '../core/status.js';

/** What a successful attempt resolves with (the payload of `ATTEMPT.DONE`). */
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
  /**
   * For {@link stepCompensationMachine} only: what the completed step answered and after how
   * many attempts (its parent stopped the step actor when it completed and kept these).
   */
  readonly completed?: { readonly result: StepAttemptOutput; readonly attempts: number } | undefined;
}

export interface StepContext {
  readonly spec: StepSpec;
  readonly env: unknown;
  attempt: number;
  /** What the completing attempt answered (output, agent, times); undefined until then. */
  result: StepAttemptOutput | undefined;
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

/**
 * How an attempt ended, sent to the step by whatever runs the attempt (the runtime's
 * `startAttempt`). `attempt` is the 1-based attempt the answer belongs to: an answer for an
 * attempt the step has already given up on (timed out, cancelled, retried) is ignored.
 */
export type AttemptEvent =
  | { type: 'ATTEMPT.DONE'; attempt: number; result: StepAttemptOutput }
  | { type: 'ATTEMPT.FAILED'; attempt: number; error: unknown }
  /** The attempt passed its deadline (`startedAt + spec.timeoutMs`); the runtime has aborted it. */
  | { type: 'ATTEMPT.TIMEOUT'; attempt: number };

/**
 * `RETRY.NOW` ends the backoff at once: the runtime sends it when a resumed run's journal shows
 * the next attempt was already dispatched (its backoff elapsed before the restart).
 */
export type StepEvent = { type: 'COMPENSATE' } | { type: 'CANCEL' } | { type: 'RETRY.NOW' } | AttemptEvent;

/** Largest delay `setTimeout` accepts: what the pattern machines use as "no timeout". */
export const NO_TIMEOUT_MS = 2_147_483_647;

const isRetryable = (error: SerializedError): boolean => error.details?.retryable !== false;

/**
 * One step (or task): `running → completed | failed`, with `retrying` (exponential
 * backoff, attempt counter, per-attempt deadline) and, after completion,
 * `compensating → compensated | compensationFailed` (the saga's compensating action).
 *
 * Pure: the runtime provides `startAttempt` (begin attempt `context.attempt`: pick an agent,
 * call it, arm the deadline when `spec.timeoutMs` is set) and `abortAttempt`, and reports each
 * attempt's end back as an {@link AttemptEvent}; it also provides `compensateStep` (the
 * compensating call) and may provide the `backoff` delay with jitter. An attempt is not an
 * invoked actor: one promise actor per attempt doubled the actors per step and halved
 * throughput (bench/). A step actor is spawned when its step is due, so it starts in `running`;
 * a step not started yet is `pending` in its pattern and in the run's reports, not an actor (a
 * `pending` state cost a microstep per step, about 9% of a no-op step). On completion the step
 * sends {@link StepCompletedEvent} to its parent and waits for `COMPENSATE`; final states carry
 * a {@link StepFinalOutput}.
 */
const stepSetup = setup({
  types: {} as {
    context: StepContext;
    events: StepEvent;
    input: StepMachineInput;
    output: StepFinalOutput;
  },
  actors: {
    compensateStep: fromPromise<void, StepCompensationInput>(async () => undefined),
  },
  actions: {
    /** Begins attempt `context.attempt`; its end comes back as an AttemptEvent. Provided by the runtime. */
    startAttempt: () => undefined,
    /** Aborts the attempt in flight (the step was cancelled). Provided by the runtime. */
    abortAttempt: () => undefined,
    /**
     * Progress hook for every status but `running` (the runtime reports that one from the
     * attempt, once it has chosen an agent): it records the status and emits a RunEvent.
     */
    reportStatus: (_: unknown, _params: { status: StepStatus }) => undefined,
    /** Tells the parent pattern the step completed (a step with no parent tells itself, which ignores it). */
    notifyCompleted: sendTo(
      ({ self }) => self._parent ?? self,
      ({ context }): StepCompletedEvent => ({
        type: 'STEP.COMPLETED',
        name: context.spec.name,
        output: context.result?.output,
        agent: context.result?.agent,
        attempts: context.attempt,
        startedAt: context.result?.startedAt,
        finishedAt: context.result?.finishedAt,
      }),
    ),
    recordResult: assign({
      result: ({ event }) => {
        assertEvent(event, 'ATTEMPT.DONE');
        return event.result;
      },
    }),
    recordAttemptError: assign({
      error: ({ event }) => {
        assertEvent(event, 'ATTEMPT.FAILED');
        return toSerializedError(event.error);
      },
    }),
    recordAttemptTimeout: assign({
      error: ({ context }) =>
        serializedError(
          ErrorCode.TIMEOUT,
          `Step "${context.spec.name}" timed out after ${context.spec.timeoutMs ?? 0} ms (attempt ${context.attempt})`,
          { step: context.spec.name, timeoutMs: context.spec.timeoutMs ?? 0, retryable: true },
        ),
    }),
    setFinalStatus: assign((_, params: { status: StepFinalOutput['status'] }) => ({
      finalStatus: params.status,
    })),
    recordCompensationError: assign({
      compensationError: ({ event }) => toSerializedError((event as { error?: unknown }).error),
    }),
    nextAttempt: assign(({ context }) => ({ attempt: context.attempt + 1, error: undefined })),
  },
  delays: {
    /** Backoff before the next attempt, ms (no jitter here; the runtime provides a jittered one). */
    backoff: ({ context }) => backoffCapMs(context.spec.retry.backoff, context.attempt),
  },
  guards: {
    canRetry: ({ context }) =>
      context.attempt < context.spec.retry.maxAttempts && (!context.error || isRetryable(context.error)),
    isCurrentAttempt: ({ context, event }) => {
      assertEvent(event, ['ATTEMPT.DONE', 'ATTEMPT.FAILED', 'ATTEMPT.TIMEOUT']);
      return event.attempt === context.attempt;
    },
  },
});

const initialContext = ({ input }: { input: StepMachineInput }): StepContext => ({
  spec: input.spec,
  env: input.env,
  attempt: input.completed?.attempts ?? 1,
  result: input.completed?.result,
  error: undefined,
  compensationError: undefined,
  finalStatus: undefined,
});

const finalOutput = ({ context }: { context: StepContext }): StepFinalOutput => ({
  name: context.spec.name,
  status: context.finalStatus ?? 'failed',
  attempts: context.attempt,
  agent: context.result?.agent,
  error: context.error,
  compensationError: context.compensationError,
});

/** The compensating part of a step, shared by both machines. */
const compensationStates = {
  compensating: {
    entry: { type: 'reportStatus' as const, params: { status: 'compensating' as const } },
    invoke: {
      src: 'compensateStep' as const,
      input: ({ context }: { context: StepContext }): StepCompensationInput => ({
        spec: context.spec,
        output: context.result?.output,
        agent: context.result?.agent,
        env: context.env,
      }),
      onDone: 'compensated',
      onError: { target: 'compensationFailed', actions: 'recordCompensationError' as const },
    },
  },
  compensated: {
    type: 'final' as const,
    entry: [
      { type: 'setFinalStatus' as const, params: { status: 'compensated' as const } },
      { type: 'reportStatus' as const, params: { status: 'compensated' as const } },
    ],
  },
  compensationFailed: {
    type: 'final' as const,
    entry: [
      { type: 'setFinalStatus' as const, params: { status: 'compensationFailed' as const } },
      { type: 'reportStatus' as const, params: { status: 'compensationFailed' as const } },
    ],
  },
};

export const stepMachine = stepSetup.createMachine({
  id: 'step',
  context: initialContext,
  initial: 'running',
  output: finalOutput,
  states: {
    running: {
      entry: 'startAttempt',
      on: {
        CANCEL: { target: 'cancelled', actions: 'abortAttempt' },
        'ATTEMPT.DONE': {
          guard: 'isCurrentAttempt',
          target: 'completed',
          actions: 'recordResult',
        },
        'ATTEMPT.FAILED': {
          guard: 'isCurrentAttempt',
          target: 'attemptFailed',
          actions: 'recordAttemptError',
        },
        'ATTEMPT.TIMEOUT': {
          guard: 'isCurrentAttempt',
          target: 'attemptFailed',
          actions: 'recordAttemptTimeout',
        },
      },
    },
    attemptFailed: {
      always: [{ guard: 'canRetry', target: 'retrying' }, { target: 'failed' }],
    },
    retrying: {
      entry: { type: 'reportStatus', params: { status: 'retrying' } },
      on: { CANCEL: 'cancelled', 'RETRY.NOW': { target: 'running', actions: 'nextAttempt' } },
      after: {
        backoff: {
          target: 'running',
          actions: 'nextAttempt',
        },
      },
    },
    completed: {
      entry: [{ type: 'reportStatus', params: { status: 'completed' } }, 'notifyCompleted'],
      on: { COMPENSATE: 'compensating' },
    },
    ...compensationStates,
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
  },
});

/**
 * The compensation of a completed step whose actor its pattern has already stopped:
 * `compensating → compensated | compensationFailed`, the same states, actions and output as
 * the {@link stepMachine}'s. Patterns stop each step actor once it completes (a live actor per
 * finished step made every spawn copy a children map as large as the pattern: quadratic) and
 * spawn this machine, under the step's name, with `input.completed` when the saga compensates.
 */
export const stepCompensationMachine = stepSetup.createMachine({
  id: 'stepCompensation',
  context: initialContext,
  initial: 'compensating',
  output: finalOutput,
  states: compensationStates,
});
