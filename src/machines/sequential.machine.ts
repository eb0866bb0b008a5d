import {
  assign,
  enqueueActions,
  setup,
  type ActorRefFrom,
  type DoneActorEvent,
  type ErrorActorEvent,
} from 'xstate';
import type { SerializedError } from '../runtime/errors.js';
import type { SequentialSpec } from '../runtime/spec.js';
import {
  spanMs,
  timeoutError,
  type PatternControlEvent,
  type PatternFinalOutput,
  type PatternSucceededEvent,
  afterCompensation,
  isCompensationHead,
  rollbackPlan,
  sagaEndStates,
} from './pattern.types.js';
import { NO_TIMEOUT_MS, stepMachine, type StepCompletedEvent, type StepFinalOutput } from './step.machine.js';

export interface SequentialInput {
  readonly name: string;
  readonly spec: SequentialSpec;
  /** Opaque run environment handed to every step. */
  readonly env: unknown;
}

interface Completed {
  readonly name: string;
  readonly startedAt: number | undefined;
  readonly finishedAt: number | undefined;
}

export interface SequentialContext {
  readonly name: string;
  readonly spec: SequentialSpec;
  readonly env: unknown;
  /** Index of the step running now. */
  index: number;
  steps: Record<string, ActorRefFrom<typeof stepMachine>>;
  /** Completed steps, in completion order. */
  completed: Completed[];
  /** Steps still to compensate, head first (reverse completion order). */
  toCompensate: string[];
  compensationFailures: number;
  /** Why we compensate: the pattern failed, or a parent asked after success. */
  compensationReason: 'failure' | 'requested' | undefined;
  error: SerializedError | undefined;
  timedOut: boolean;
  finalStatus: PatternFinalOutput['status'] | undefined;
}

type SequentialEvent =
  StepCompletedEvent | PatternControlEvent | DoneActorEvent<StepFinalOutput> | ErrorActorEvent;

const stepError = (event: DoneActorEvent<StepFinalOutput> | ErrorActorEvent): SerializedError =>
  'output' in event
    ? (event.output.error ?? {
        name: 'PatternExecutionError',
        code: 'ND_PATTERN_EXECUTION',
        message: `Step "${event.output.name}" ended ${event.output.status}`,
        details: { step: event.output.name },
      })
    : {
        name: 'PatternExecutionError',
        code: 'ND_PATTERN_EXECUTION',
        message: `Step actor "${event.actorId}" crashed: ${String(event.error)}`,
        details: { step: event.actorId },
      };

/**
 * A sequential delegation pattern as a saga: steps run one at a time, in order; when one
 * fails (after its retries) or the overall timeout fires, the completed steps are compensated
 * in reverse completion order (H. Garcia-Molina & K. Salem, "Sagas", SIGMOD 1987).
 *
 * `running → succeeded` (waits, compensatable) `| failed | rolledBack`; after success a
 * `COMPENSATE` leads through `compensating` to `compensated`.
 */
export const sequentialMachine = setup({
  types: {} as {
    context: SequentialContext;
    events: SequentialEvent;
    input: SequentialInput;
    output: PatternFinalOutput;
  },
  actors: { step: stepMachine },
  delays: {
    patternTimeout: ({ context }) => context.spec.timeoutMs ?? NO_TIMEOUT_MS,
  },
  guards: {
    hasTimeout: ({ context }) => context.spec.timeoutMs !== undefined,
    isLastStep: ({ context }) => context.index >= context.spec.steps.length - 1,
    hasNoSteps: ({ context }) => context.spec.steps.length === 0,
    shouldRollBack: ({ context }) => context.spec.rollbackEnabled && context.completed.length > 0,
    compensationDone: ({ context }) => context.toCompensate.length === 0,
    wasRequested: ({ context }) => context.compensationReason === 'requested',
    hadCompensationFailures: ({ context }) => context.compensationFailures > 0,
    isHeadOfCompensation: ({ context, event }) => isCompensationHead(context, event),
  },
  actions: {
    startCurrentStep: enqueueActions(({ context, enqueue }) => {
      const spec = context.spec.steps[context.index];
      if (!spec) return;
      enqueue.assign({
        steps: ({ spawn }) => ({
          ...context.steps,
          [spec.name]: spawn('step', { id: spec.name, input: { spec, env: context.env, autoStart: true } }),
        }),
      });
    }),
    recordCompleted: assign({
      completed: ({ context, event }) => {
        const e = event as StepCompletedEvent;
        return [...context.completed, { name: e.name, startedAt: e.startedAt, finishedAt: e.finishedAt }];
      },
    }),
    recordFailure: assign({
      error: ({ event }) => stepError(event as DoneActorEvent<StepFinalOutput> | ErrorActorEvent),
    }),
    cancelCurrentStep: enqueueActions(({ context, enqueue }) => {
      const spec = context.spec.steps[context.index];
      if (spec && context.steps[spec.name]) enqueue.sendTo(spec.name, { type: 'CANCEL' });
    }),
    planRollback: assign(({ context }) => rollbackPlan(context.completed, 'failure')),
    planRequestedCompensation: assign(({ context }) => rollbackPlan(context.completed, 'requested')),
    advanceCompensation: assign(({ context, event }) => afterCompensation(context, event)),
    compensateHead: enqueueActions(({ context, enqueue }) => {
      const head = context.toCompensate[0];
      if (head) enqueue.sendTo(head, { type: 'COMPENSATE' });
    }),
    notifySucceeded: enqueueActions(({ context, enqueue, self }) => {
      const event: PatternSucceededEvent = {
        type: 'PATTERN.SUCCEEDED',
        name: context.name,
        durationMs: spanMs(context.completed),
        failedSteps: 0,
      };
      if (self._parent) enqueue.sendTo(self._parent, event);
    }),
  },
}).createMachine({
  id: 'sequential',
  context: ({ input }) => ({
    name: input.name,
    spec: input.spec,
    env: input.env,
    index: 0,
    steps: {},
    completed: [],
    toCompensate: [],
    compensationFailures: 0,
    compensationReason: undefined,
    error: undefined,
    timedOut: false,
    finalStatus: undefined,
  }),
  initial: 'running',
  output: ({ context }) => ({
    name: context.name,
    status: context.finalStatus ?? 'failed',
    timedOut: context.timedOut,
    failedSteps: context.error ? 1 : 0,
    durationMs: spanMs(context.completed),
    error: context.error,
  }),
  states: {
    running: {
      after: {
        patternTimeout: {
          guard: 'hasTimeout',
          target: 'draining',
          actions: [
            'cancelCurrentStep',
            assign({
              timedOut: true,
              error: ({ context }) =>
                timeoutError(`Sequential pattern "${context.name}"`, context.spec.timeoutMs ?? 0),
            }),
          ],
        },
      },
      on: {
        CANCEL: {
          target: 'draining',
          actions: [
            'cancelCurrentStep',
            assign({
              error: ({ context }) => ({
                name: 'PatternExecutionError',
                code: 'ND_PATTERN_EXECUTION',
                message: `Sequential pattern "${context.name}" was cancelled`,
              }),
            }),
          ],
        },
      },
      initial: 'step',
      states: {
        /** One step at a time; re-entered per step while the overall timeout keeps running. */
        step: {
          always: { guard: 'hasNoSteps', target: '#sequential.succeeded' },
          entry: 'startCurrentStep',
          on: {
            'STEP.COMPLETED': [
              { guard: 'isLastStep', target: '#sequential.succeeded', actions: 'recordCompleted' },
              {
                target: 'step',
                reenter: true,
                actions: ['recordCompleted', assign({ index: ({ context }) => context.index + 1 })],
              },
            ],
            'xstate.done.actor.*': { target: '#sequential.stopped', actions: 'recordFailure' },
            'xstate.error.actor.*': { target: '#sequential.stopped', actions: 'recordFailure' },
          },
        },
      },
    },
    /** Timed out or cancelled: wait for the current step to settle (it may complete meanwhile). */
    draining: {
      on: {
        'STEP.COMPLETED': { target: 'stopped', actions: 'recordCompleted' },
        'xstate.done.actor.*': { target: 'stopped' },
        'xstate.error.actor.*': { target: 'stopped' },
      },
    },
    ...sagaEndStates,
    failed: { type: 'final', entry: assign({ finalStatus: 'failed' as const }) },
    rolledBack: { type: 'final', entry: assign({ finalStatus: 'rolledBack' as const }) },
    compensated: { type: 'final', entry: assign({ finalStatus: 'compensated' as const }) },
  },
});
