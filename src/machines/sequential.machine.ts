import {
  assertEvent,
  assign,
  enqueueActions,
  setup,
  sendTo,
  type DoneActorEvent,
  type ErrorActorEvent,
} from 'xstate';
import type { SerializedError } from '../core/errors.js';
import type { SequentialSpec } from '../core/spec.js';
import {
  assertActorEnd,
  cancelledError,
  chainSpanMs,
  childEndError,
  compensationOf,
  linkCompleted,
  timeoutError,
  type CompletedLink,
  type PatternControlEvent,
  type PatternFinalOutput,
  sagaEndStates,
} from './pattern.types.js';
import { stepSagaActions, stepSagaGuards } from './saga.js';
import {
  NO_TIMEOUT_MS,
  stepCompensationMachine,
  stepMachine,
  type StepCompletedEvent,
  type StepFinalOutput,
} from './step.machine.js';

export interface SequentialInput {
  readonly name: string;
  readonly spec: SequentialSpec;
  /** Opaque run environment handed to every step. */
  readonly env: unknown;
}

export interface SequentialContext {
  readonly name: string;
  readonly spec: SequentialSpec;
  readonly env: unknown;
  /** Index of the step running now (its actor is the child named after the step). */
  index: number;
  /** The latest completed step, linked to those completed before it (see {@link CompletedLink}). */
  completed: CompletedLink | undefined;
  /** Steps still to compensate, head first (reverse completion order). */
  toCompensate: string[];
  /** The step compensated now, linked to those to compensate after it. */
  compensating: CompletedLink | undefined;
  compensationFailures: number;
  /** Why we compensate: the pattern failed, or a parent asked after success. */
  compensationReason: 'failure' | 'requested' | undefined;
  error: SerializedError | undefined;
  timedOut: boolean;
  finalStatus: PatternFinalOutput['status'] | undefined;
}

type SequentialEvent =
  StepCompletedEvent | PatternControlEvent | DoneActorEvent<StepFinalOutput> | ErrorActorEvent;

function currentStep(context: SequentialContext): SequentialSpec['steps'][number] {
  const spec = context.spec.steps[context.index];
  if (!spec) throw new Error(`Sequential pattern "${context.name}" has no step ${context.index}`);
  return spec;
}

/** The context update for the completion of the current step (the event's). */
const recordCompleted = (
  context: SequentialContext,
  e: StepCompletedEvent,
): { completed: CompletedLink } => ({
  completed: linkCompleted(context.completed, currentStep(context), e),
});

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
  actors: { step: stepMachine, compensation: stepCompensationMachine },
  delays: {
    patternTimeout: ({ context }) => context.spec.timeoutMs ?? NO_TIMEOUT_MS,
  },
  guards: {
    ...stepSagaGuards,
    isLastStep: ({ context }) => context.index >= context.spec.steps.length - 1,
    hasNoSteps: ({ context }) => context.spec.steps.length === 0,
  },
  actions: {
    ...stepSagaActions<SequentialContext, SequentialEvent>((context) => ({
      durationMs: chainSpanMs(context.completed),
      failedSteps: 0,
    })),
    /** Spawns the compensation of the head step (its actor was stopped when it completed). */
    compensateHead: enqueueActions(({ context, enqueue }) => {
      if (context.compensating)
        enqueue.spawnChild('compensation', compensationOf(context.compensating, context.env));
    }),
    /**
     * Stops the actor of the step that just completed: its compensation, if ever, runs in a new
     * `compensation` actor, and a live actor per finished step would make each spawn copy a
     * children map as large as the pattern.
     */
    stopCompletedStep: enqueueActions(({ event, enqueue }) => {
      assertEvent(event, 'STEP.COMPLETED');
      enqueue.stopChild(event.name);
    }),
    startFirstStep: enqueueActions(({ context, enqueue }) => {
      const first = context.spec.steps[0];
      if (first) enqueue.spawnChild('step', { id: first.name, input: { spec: first, env: context.env } });
    }),
    recordCompleted: enqueueActions(({ context, event, enqueue }) => {
      assertEvent(event, 'STEP.COMPLETED');
      enqueue.assign(recordCompleted(context, event));
      enqueue('stopCompletedStep');
    }),
    /** Records the completed step, stops its actor and spawns the next one (the guard saw it is not the last). */
    advance: enqueueActions(({ context, event, enqueue }) => {
      assertEvent(event, 'STEP.COMPLETED');
      const index = context.index + 1;
      const spec = currentStep({ ...context, index });
      enqueue.assign({ ...recordCompleted(context, event), index });
      enqueue('stopCompletedStep');
      enqueue.spawnChild('step', { id: spec.name, input: { spec, env: context.env } });
    }),
    recordFailure: assign({
      error: ({ event }) => {
        assertActorEnd<StepFinalOutput>(event);
        return childEndError('Step', event, { step: event.actorId });
      },
    }),
    recordTimeout: assign({
      timedOut: true,
      error: ({ context }) =>
        timeoutError(`Sequential pattern "${context.name}"`, context.spec.timeoutMs ?? 0),
    }),
    recordCancelled: assign({
      error: ({ context }) => cancelledError(`Sequential pattern "${context.name}"`),
    }),
    /** The current step's actor was spawned when the step became current, so it exists. */
    cancelCurrentStep: sendTo(({ context }) => currentStep(context).name, { type: 'CANCEL' }),
  },
}).createMachine({
  id: 'sequential',
  context: ({ input }) => ({
    name: input.name,
    spec: input.spec,
    env: input.env,
    index: 0,
    completed: undefined,
    toCompensate: [],
    compensating: undefined,
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
    durationMs: chainSpanMs(context.completed),
    error: context.error,
  }),
  states: {
    /**
     * One step at a time: each completion spawns the next step's actor (no re-entry, so the
     * overall timeout keeps running). With no steps there is nothing to run.
     */
    running: {
      entry: 'startFirstStep',
      always: { guard: 'hasNoSteps', target: 'succeeded' },
      after: {
        patternTimeout: {
          guard: 'hasTimeout',
          target: 'draining',
          actions: ['cancelCurrentStep', 'recordTimeout'],
        },
      },
      on: {
        CANCEL: {
          target: 'draining',
          actions: ['cancelCurrentStep', 'recordCancelled'],
        },
        'STEP.COMPLETED': [
          { guard: 'isLastStep', target: 'succeeded', actions: 'recordCompleted' },
          { actions: 'advance' },
        ],
        'xstate.done.actor.*': { target: 'stopped', actions: 'recordFailure' },
        'xstate.error.actor.*': { target: 'stopped', actions: 'recordFailure' },
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
