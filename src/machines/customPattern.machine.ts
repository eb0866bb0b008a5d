import { assign, enqueueActions, fromPromise, setup } from 'xstate';
import type { SerializedError } from '../core/errors.js';
import {
  timeoutError,
  type PatternControlEvent,
  type PatternFinalOutput,
  type PatternSucceededEvent,
} from './pattern.types.js';
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

const toError = (error: unknown): SerializedError =>
  typeof error === 'object' && error !== null && 'code' in error && 'message' in error
    ? { name: 'PatternError', code: String(error.code), message: String(error.message) }
    : {
        name: 'PatternExecutionError',
        code: 'ND_PATTERN_EXECUTION',
        message: String(error instanceof Error ? error.message : error),
      };

/**
 * Wraps a user-defined pattern (a `DelegationPattern` subclass with its own `execute`) so a
 * meta-orchestration can run and compensate it like the built-in ones. The runtime provides
 * `runCustom` (resolves true/false, or rejects) and `compensateCustom`.
 */
export const customPatternMachine = setup({
  types: {} as {
    context: CustomContext;
    events: PatternControlEvent;
    input: CustomPatternInput;
    output: PatternFinalOutput;
  },
  actors: {
    runCustom: fromPromise<{ success: boolean; durationMs: number }, CustomPatternInput>(async () => ({
      success: true,
      durationMs: 0,
    })),
    compensateCustom: fromPromise<void, CustomPatternInput>(async () => undefined),
  },
  delays: { patternTimeout: ({ context }) => context.timeoutMs ?? NO_TIMEOUT_MS },
  guards: { hasTimeout: ({ context }) => context.timeoutMs !== undefined },
  actions: {
    notifySucceeded: enqueueActions(({ context, enqueue, self }) => {
      const event: PatternSucceededEvent = {
        type: 'PATTERN.SUCCEEDED',
        name: context.name,
        durationMs: context.durationMs,
        failedSteps: 0,
      };
      if (self._parent) enqueue.sendTo(self._parent, event);
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
          actions: assign({
            timedOut: true,
            error: ({ context }) => timeoutError(`Pattern "${context.name}"`, context.timeoutMs ?? 0),
          }),
        },
      },
      invoke: {
        src: 'runCustom',
        input: ({ context }) => ({ name: context.name, env: context.env, timeoutMs: context.timeoutMs }),
        onDone: [
          {
            guard: ({ event }) => event.output.success,
            target: 'succeeded',
            actions: assign({ durationMs: ({ event }) => event.output.durationMs }),
          },
          {
            target: 'failed',
            actions: assign({
              durationMs: ({ event }) => event.output.durationMs,
              error: ({ context }) => ({
                name: 'PatternExecutionError',
                code: 'ND_PATTERN_EXECUTION',
                message: `Pattern "${context.name}" reported failure`,
              }),
            }),
          },
        ],
        onError: { target: 'failed', actions: assign({ error: ({ event }) => toError(event.error) }) },
      },
    },
    succeeded: { entry: 'notifySucceeded', on: { COMPENSATE: 'compensating' } },
    compensating: {
      invoke: {
        src: 'compensateCustom',
        input: ({ context }) => ({ name: context.name, env: context.env }),
        onDone: 'compensated',
        onError: { target: 'failed', actions: assign({ error: ({ event }) => toError(event.error) }) },
      },
    },
    failed: { type: 'final', entry: assign({ finalStatus: 'failed' as const }) },
    compensated: { type: 'final', entry: assign({ finalStatus: 'compensated' as const }) },
  },
});
