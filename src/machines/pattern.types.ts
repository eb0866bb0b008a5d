import type { DoneActorEvent, ErrorActorEvent, EventObject } from 'xstate';
import { ErrorCode, serializedError, type ErrorDetails, type SerializedError } from '../core/errors.js';
import type { StepSpec } from '../core/spec.js';
import type { StepAttemptOutput, StepCompletedEvent, StepMachineInput } from './step.machine.js';

/**
 * Events and outputs every pattern machine (sequential, parallel, orchestration) shares, so a
 * meta-orchestration can drive any of them the way a pattern drives its steps: a pattern that
 * succeeded stays alive, compensatable, until its parent sends `COMPENSATE` or stops it.
 */

/** Sent to the parent (if any) when the pattern succeeds. */
export interface PatternSucceededEvent {
  type: 'PATTERN.SUCCEEDED';
  name: string;
  /** First step start to last step end, ms (0 when the runtime did not report times). */
  durationMs: number;
  /** Steps (or tasks) that failed or were skipped while the pattern still succeeded (parallel tolerance). */
  failedSteps: number;
}

/** Output when a pattern machine reaches a final state. */
export interface PatternFinalOutput {
  readonly name: string;
  /** `rolledBack`: failed and every completed step was compensated; `compensated`: succeeded, then compensated on request. */
  readonly status: 'failed' | 'rolledBack' | 'compensated' | 'cancelled';
  readonly timedOut: boolean;
  readonly failedSteps: number;
  readonly durationMs: number;
  readonly error: SerializedError | undefined;
}

/** Events a parent may send to a pattern. */
export type PatternControlEvent = { type: 'COMPENSATE' } | { type: 'CANCEL' };

/** Time span of completed work, from runtime-reported timestamps (ms). */
export function spanMs(
  spans: readonly { startedAt?: number | undefined; finishedAt?: number | undefined }[],
): number {
  let start = Infinity;
  let end = -Infinity;
  for (const s of spans) {
    if (s.startedAt !== undefined) start = Math.min(start, s.startedAt);
    if (s.finishedAt !== undefined) end = Math.max(end, s.finishedAt);
  }
  return end >= start ? end - start : 0;
}

/** A timeout error in the serialised form machines carry. */
export function timeoutError(what: string, timeoutMs: number): SerializedError {
  return serializedError(ErrorCode.TIMEOUT, `${what} timed out after ${timeoutMs} ms`, {
    timeoutMs,
    retryable: false,
  });
}

/** The error of a pattern cancelled by its parent or the runtime (`what`: e.g. `Sequential pattern "etl"`). */
export function cancelledError(what: string): SerializedError {
  return serializedError(ErrorCode.PATTERN_EXECUTION, `${what} was cancelled`);
}

/** The final output every child actor (step or pattern) ends with, as far as its parent reads it. */
export interface ChildFinalOutput {
  readonly status: string;
  readonly error?: SerializedError | undefined;
}

/**
 * Asserts that `event` is a child actor's end (`xstate.done.actor.*` or `xstate.error.actor.*`):
 * XState's `assertEvent` takes exact types, and these carry the child's id. `T` is the child's
 * output, which the machine's `actors` fix.
 * @throws Error naming the event's type otherwise
 */
export function assertActorEnd<T>(event: EventObject): asserts event is DoneActorEvent<T> | ErrorActorEvent {
  if (!event.type.startsWith('xstate.done.actor.') && !event.type.startsWith('xstate.error.actor.'))
    throw new Error(`Expected a child actor's done or error event, got "${event.type}"`);
}

/**
 * Why a child (`what`: `Step`, `Task`, `Pattern`) ended without succeeding: the error its final
 * output carries, else `<what> "<id>" ended <status>`; a child that crashed (threw) gives
 * `<what> actor "<id>" crashed: <error>`. Both are `ND_PATTERN_EXECUTION` with `details`.
 */
export function childEndError(
  what: string,
  event: DoneActorEvent<ChildFinalOutput> | ErrorActorEvent,
  details?: ErrorDetails,
): SerializedError {
  if ('output' in event)
    return (
      event.output.error ??
      serializedError(
        ErrorCode.PATTERN_EXECUTION,
        `${what} "${event.actorId}" ended ${event.output.status}`,
        details,
      )
    );
  return serializedError(
    ErrorCode.PATTERN_EXECUTION,
    `${what} actor "${event.actorId}" crashed: ${String(event.error)}`,
    details,
  );
}

/** Compensation bookkeeping every pattern machine keeps (a saga's backward phase). */
export interface CompensationState {
  /** Children still to compensate, head first (reverse completion order). */
  toCompensate: string[];
  compensationFailures: number;
}

/** Whether `event` is the final answer of the child being compensated now. */
export function isCompensationHead(context: CompensationState, event: { type: string }): boolean {
  return 'actorId' in event && event.actorId === context.toCompensate[0];
}

/** After the head answered: drop it, and count a failure unless it reports `compensated`. */
export function afterCompensation(context: CompensationState, event: EventObject): CompensationState {
  assertActorEnd<ChildFinalOutput>(event);
  const status = 'output' in event ? event.output.status : undefined;
  return {
    toCompensate: context.toCompensate.slice(1),
    compensationFailures: context.compensationFailures + (status === 'compensated' ? 0 : 1),
  };
}

/**
 * The `compensating` state every pattern machine has: compensate the head child, wait for its
 * final answer, move on; done when nothing is left. The machine defines the named guards and
 * actions (`compensateHead`, `compensationDone`, `isHeadOfCompensation`, `advanceCompensation`).
 */
export const compensatingState = {
  entry: 'compensateHead',
  always: { guard: 'compensationDone', target: 'compensationFinished' },
  on: {
    'xstate.done.actor.*': {
      guard: 'isHeadOfCompensation',
      target: 'compensating',
      reenter: true,
      actions: 'advanceCompensation',
    },
    'xstate.error.actor.*': {
      guard: 'isHeadOfCompensation',
      target: 'compensating',
      reenter: true,
      actions: 'advanceCompensation',
    },
  },
} as const;

/** What a saga compensates, and why: its completed steps, latest first. */
export function rollbackPlan(
  completed: readonly { name: string }[],
  reason: 'failure' | 'requested',
): { toCompensate: string[]; compensationReason: 'failure' | 'requested' } {
  return { toCompensate: completed.map((c) => c.name).reverse(), compensationReason: reason };
}

/**
 * The end of a step-level saga (sequential and parallel patterns): `stopped` rolls back when
 * enabled and anything completed; `succeeded` waits, compensatable; `compensating`; and the
 * verdict. The machine defines the named guards and actions (`shouldRollBack`, `wasRequested`,
 * `hadCompensationFailures`, `planRollback`, `planRequestedCompensation`, `notifySucceeded`).
 */
export const sagaEndStates = {
  /** The pattern failed: roll back if enabled and anything completed. */
  stopped: {
    always: [
      { guard: 'shouldRollBack', target: 'compensating', actions: 'planRollback' },
      { target: 'failed' },
    ],
  },
  succeeded: {
    entry: 'notifySucceeded',
    on: { COMPENSATE: { target: 'compensating', actions: 'planRequestedCompensation' } },
  },
  compensating: compensatingState,
  compensationFinished: {
    always: [
      { guard: 'wasRequested', target: 'compensated' },
      { guard: 'hadCompensationFailures', target: 'failed' },
      { target: 'rolledBack' },
    ],
  },
} as const;

/**
 * A completed step (or task) of a step-level saga, linked to the one completed before it: an
 * immutable list, latest first, that grows by one link per completion (O(1), where copying an
 * array of completions made a pattern quadratic in its steps). It keeps what the step's
 * compensation needs, since its parent stops the step's actor once it completes.
 */
export interface CompletedLink {
  readonly spec: StepSpec;
  /** What the completing attempt answered (output, agent, times in epoch ms). */
  readonly result: StepAttemptOutput;
  readonly attempts: number;
  /** The step completed before this one, if any. */
  readonly prev: CompletedLink | undefined;
  /** Links in the list, this one included. */
  readonly count: number;
  /** Earliest start and latest finish over this link and those before it (epoch ms), for {@link chainSpanMs}. */
  readonly firstStartedAt: number | undefined;
  readonly lastFinishedAt: number | undefined;
}

const minDefined = (a: number | undefined, b: number | undefined) =>
  a === undefined ? b : b === undefined ? a : Math.min(a, b);
const maxDefined = (a: number | undefined, b: number | undefined) =>
  a === undefined ? b : b === undefined ? a : Math.max(a, b);

/** `prev` with the completion `e` of step `spec` linked in front. */
export function linkCompleted(
  prev: CompletedLink | undefined,
  spec: StepSpec,
  e: StepCompletedEvent,
): CompletedLink {
  return {
    spec,
    result: { output: e.output, agent: e.agent, startedAt: e.startedAt, finishedAt: e.finishedAt },
    attempts: e.attempts,
    prev,
    count: (prev?.count ?? 0) + 1,
    firstStartedAt: minDefined(prev?.firstStartedAt, e.startedAt),
    lastFinishedAt: maxDefined(prev?.lastFinishedAt, e.finishedAt),
  };
}

/** Time span of the completed steps of `link` (first start to last finish, ms; 0 without times). */
export function chainSpanMs(link: CompletedLink | undefined): number {
  const start = link?.firstStartedAt;
  const end = link?.lastFinishedAt;
  return start !== undefined && end !== undefined && end >= start ? end - start : 0;
}

/** Names of the steps in `link`'s list, latest first. */
export function chainNames(link: CompletedLink | undefined): string[] {
  const out: string[] = [];
  for (let l = link; l; l = l.prev) out.push(l.spec.name);
  return out;
}

/** What to spawn (as the `compensation` actor, under the step's name) to compensate `link`'s step. */
export function compensationOf(link: CompletedLink, env: unknown): { id: string; input: StepMachineInput } {
  return {
    id: link.spec.name,
    input: { spec: link.spec, env, completed: { result: link.result, attempts: link.attempts } },
  };
}
