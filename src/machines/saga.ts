import { assign, enqueueActions, type EventObject } from 'xstate';
import {
  afterCompensation,
  chainNames,
  isCompensationHead,
  rollbackPlan,
  type CompensationState,
  type CompletedLink,
  type PatternSucceededEvent,
} from './pattern.types.js';

/**
 * The guards and actions every saga machine (sequential, parallel, meta-orchestration) shares,
 * written once. Machines spread them into `setup({ guards, actions })`, so diagrams show their
 * names; a machine overrides one only where its saga differs (the orchestration's rollback
 * strategies).
 */

/** What the shared saga guards and actions read and write. */
export interface SagaContext extends CompensationState {
  readonly name: string;
  readonly spec: { readonly timeoutMs?: number | undefined };
  /** Why the saga compensates; `partial` only in a meta-orchestration. */
  compensationReason: 'failure' | 'requested' | 'partial' | undefined;
}

/**
 * What a step-level saga (sequential, parallel) keeps: its completed steps as a
 * {@link CompletedLink} list (latest first) rather than an array, since their actors are
 * stopped once they complete; and whether rollback is enabled.
 */
export interface StepSagaContext extends SagaContext {
  readonly spec: { readonly timeoutMs?: number | undefined; readonly rollbackEnabled: boolean };
  /** The latest completed step, linked to those before it. */
  completed: CompletedLink | undefined;
  /** The step compensated now (`toCompensate[0]`), linked to those to compensate after it. */
  compensating: CompletedLink | undefined;
  compensationReason: 'failure' | 'requested' | undefined;
}

interface Args<C> {
  readonly context: C;
  readonly event: EventObject;
}

/** Guards shared by the saga machines. */
export const sagaGuards = {
  /** The pattern has an overall timeout (`spec.timeoutMs`). */
  hasTimeout: ({ context }: Args<SagaContext>) => context.spec.timeoutMs !== undefined,
  /** Nothing is left to compensate. */
  compensationDone: ({ context }: Args<CompensationState>) => context.toCompensate.length === 0,
  /** The compensation was asked for by a parent after success (not a rollback after failure). */
  wasRequested: ({ context }: Args<SagaContext>) => context.compensationReason === 'requested',
  /** At least one child did not answer `compensated`. */
  hadCompensationFailures: ({ context }: Args<CompensationState>) => context.compensationFailures > 0,
  /** The event is the final answer of the child being compensated now. */
  isHeadOfCompensation: ({ context, event }: Args<CompensationState>) => isCompensationHead(context, event),
};

/** Guards shared by the step-level sagas (sequential, parallel): {@link sagaGuards} and `shouldRollBack`. */
export const stepSagaGuards = {
  ...sagaGuards,
  /** Rollback is enabled and something completed, so there is something to undo. */
  shouldRollBack: ({ context }: Args<StepSagaContext>) =>
    context.spec.rollbackEnabled && context.completed !== undefined,
};

/** What a step saga compensates, and why: its completed steps, latest first. */
function stepRollbackPlan(
  context: StepSagaContext,
  reason: 'failure' | 'requested',
): Pick<StepSagaContext, 'toCompensate' | 'compensating' | 'compensationReason'> {
  return {
    toCompensate: chainNames(context.completed),
    compensating: context.completed,
    compensationReason: reason,
  };
}

/**
 * Actions shared by the step-level sagas: `planRollback` / `planRequestedCompensation` (what to
 * undo, latest first), `advanceCompensation` (the head answered: on to the step before it) and
 * `notifySucceeded`. Each machine defines `compensateHead` (spawn the head's compensation,
 * {@link compensationOf}), since it spawns an actor of its own `setup`.
 */
export function stepSagaActions<TContext extends StepSagaContext, TEvent extends EventObject>(
  summary: (context: TContext) => SuccessSummary,
) {
  const stepPatch = (update: Partial<StepSagaContext>): Partial<TContext> => update as Partial<TContext>;
  return {
    planRollback: assign<TContext, TEvent, undefined, TEvent, never>(({ context }) =>
      stepPatch(stepRollbackPlan(context, 'failure')),
    ),
    planRequestedCompensation: assign<TContext, TEvent, undefined, TEvent, never>(({ context }) =>
      stepPatch(stepRollbackPlan(context, 'requested')),
    ),
    advanceCompensation: assign<TContext, TEvent, undefined, TEvent, never>(({ context, event }) =>
      stepPatch({ ...afterCompensation(context, event), compensating: context.compensating?.prev }),
    ),
    notifySucceeded: notifySucceeded<TContext, TEvent>(summary),
  };
}

/** What a succeeded pattern reports to its parent (durations in ms). */
export type SuccessSummary = Pick<PatternSucceededEvent, 'durationMs' | 'failedSteps'>;

/**
 * The context patch of a shared action. The patch only touches {@link SagaContext} fields, which
 * `TContext` has (it extends SagaContext); TypeScript cannot see that a `Partial<SagaContext>`
 * is a `Partial<TContext>` for a generic `TContext`, hence this one widening.
 */
const patch = <TContext extends SagaContext>(update: Partial<SagaContext>): Partial<TContext> =>
  update as Partial<TContext>;

/**
 * Actions shared by the saga machines, typed for one machine (`TContext`, `TEvent`):
 * `planRollback` / `planRequestedCompensation` (what to undo, latest first),
 * `advanceCompensation` (the head answered), `compensateHead` (send it `COMPENSATE`) and
 * `notifySucceeded` (tell the parent, with `summary` of the context).
 */
export function sagaActions<
  TContext extends SagaContext & { readonly completed: readonly { readonly name: string }[] },
  TEvent extends EventObject,
>(summary: (context: TContext) => SuccessSummary) {
  return {
    planRollback: assign<TContext, TEvent, undefined, TEvent, never>(({ context }) =>
      patch<TContext>(rollbackPlan(context.completed, 'failure')),
    ),
    planRequestedCompensation: assign<TContext, TEvent, undefined, TEvent, never>(({ context }) =>
      patch<TContext>(rollbackPlan(context.completed, 'requested')),
    ),
    advanceCompensation: assign<TContext, TEvent, undefined, TEvent, never>(({ context, event }) =>
      patch<TContext>(afterCompensation(context, event)),
    ),
    compensateHead: enqueueActions<TContext, TEvent, undefined, TEvent, never, never, never, never, never>(
      ({ context, enqueue }) => {
        const head = context.toCompensate[0];
        if (head) enqueue.sendTo(head, { type: 'COMPENSATE' });
      },
    ),
    notifySucceeded: notifySucceeded<TContext, TEvent>(summary),
  };
}

/**
 * The `notifySucceeded` action of any pattern machine: sends `PATTERN.SUCCEEDED` (name and
 * `summary` of the context) to the parent, if there is one.
 */
export function notifySucceeded<TContext extends { readonly name: string }, TEvent extends EventObject>(
  summary: (context: TContext) => SuccessSummary,
) {
  return enqueueActions<TContext, TEvent, undefined, TEvent, never, never, never, never, never>(
    ({ context, enqueue, self }) => {
      const event: PatternSucceededEvent = {
        type: 'PATTERN.SUCCEEDED',
        name: context.name,
        ...summary(context),
      };
      if (self._parent) enqueue.sendTo(self._parent, event);
    },
  );
}
