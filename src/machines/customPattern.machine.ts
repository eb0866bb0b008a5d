import { assign, fromPromise, setup, type DoneActorEvent, type ErrorActorEvent } from 'xstate';
import { ErrorCode, serializedError, toSerializedError, type SerializedError } from '../core/errors.js';
import {
  assertActorEnd,
  timeoutError,
  type PatternControlEvent,
  type PatternFinalOutput,
} from './pattern.types.js';
import { notifySucceeded } from './saga.js';
import { NO_TIMEOUT_MS } from './step.machine.js';

export interface CustomPatternInput {
  readonly name: string;
  readonly env: unknown;
  /** Overall timeout, ms; undefined = none (inside a meta-orchestration, the meta's governs). */
  readonly timeoutMs?: number | undefined;
}

export interface CustomContext {
  readonly name: string;
  readonly env: unknown;
  readonly timeoutMs: number | undefined;
  timedOut: boolean;
  durationMs: number;
  error: SerializedError | undefined;
  finalStatus: PatternFinalOutput['status'] | undefined;
}

/** What `runCustom` resolves with. */
export interface CustomRunOutput {
  readonly success: boolean;
  /** ms */
  readonly durationMs: number;
}

type CustomEvent = PatternControlEvent | DoneActorEvent<CustomRunOutput> | ErrorActorEvent;

/**
 * Wraps a user-defined pattern (a `DelegationPattern` subclass with its own `execute`) so a
 * meta-orchestration can run and compensate it like the built-in ones. The runtime provides
 * `runCustom` (resolves true/false, or rejects) and `compensateCustom`.
 */
export const customPatternMachine = setup({
  types: {} as {
    context: CustomContext;
    events: CustomEvent;
    input: CustomPatternInput;
    output: PatternFinalOutput;
  },
  actors: {
    runCustom: fromPromise<CustomRunOutput, CustomPatternInput>(async () => ({
      success: true,
      durationMs: 0,
    })),
    compensateCustom: fromPromise<void, CustomPatternInput>(async () => undefined),
  },
  delays: { patternTimeout: ({ context }) => context.timeoutMs ?? NO_TIMEOUT_MS },
  guards: {
    hasTimeout: ({ context }) => context.timeoutMs !== undefined,
    /** `runCustom` resolved with `success: true`. */
    reportedSuccess: ({ event }) => {
      assertActorEnd<CustomRunOutput>(event);
      return 'output' in event && event.output.success;
    },
  },
  actions: {
    notifySucceeded: notifySucceeded<CustomContext, CustomEvent>((context) => ({
      durationMs: context.durationMs,
      failedSteps: 0,
    })),
    recordTimeout: assign({
      timedOut: true,
      error: ({ context }) => timeoutError(`Pattern "${context.name}"`, context.timeoutMs ?? 0),
    }),
    recordReportedFailure: assign({
      error: ({ context }) =>
        serializedError(ErrorCode.PATTERN_EXECUTION, `Pattern "${context.name}" reported failure`),
    }),
    recordError: assign({
      error: ({ event }) => {
        assertActorEnd(event);
        return toSerializedError('error' in event ? event.error : undefined);
      },
    }),
  },
}).createMachine({
  id: 'customPattern',
  context: ({ input }) => ({
    name: input.name,
    env: input.env,
    timeoutMs: input.timeoutMs,
    timedOut: false,
    durationMs: 0,
    error: undefined,
    finalStatus: undefined,
  }),
  initial: 'running',
  output: ({ context }) => ({
    name: context.name,
    status: context.finalStatus ?? 'failed',
    timedOut: context.timedOut,
    failedSteps: context.error ? 1 : 0,
    durationMs: context.durationMs,
    error: context.error,
  }),
  states: {
    running: {
      on: { CANCEL: 'failed' },
      after: {
        patternTimeout: {
          guard: 'hasTimeout',
          target: 'failed',
          actions: 'recordTimeout',
        },
      },
      invoke: {
        src: 'runCustom',
        input: ({ context }) => ({ name: context.name, env: context.env, timeoutMs: context.timeoutMs }),
        onDone: [
          {
            guard: 'reportedSuccess',
            target: 'succeeded',
            actions: assign({ durationMs: ({ event }) => event.output.durationMs }),
          },
          {
            target: 'failed',
            actions: [
              assign({ durationMs: ({ event }) => event.output.durationMs }),
              'recordReportedFailure',
            ],
          },
        ],
        onError: { target: 'failed', actions: 'recordError' },
      },
    },
    succeeded: { entry: 'notifySucceeded', on: { COMPENSATE: 'compensating' } },
    compensating: {
      invoke: {
        src: 'compensateCustom',
        input: ({ context }) => ({ name: context.name, env: context.env }),
        onDone: 'compensated',
        onError: { target: 'failed', actions: 'recordError' },
      },
    },
    failed: { type: 'final', entry: assign({ finalStatus: 'failed' as const }) },
    compensated: { type: 'final', entry: assign({ finalStatus: 'compensated' as const }) },
  },
});
