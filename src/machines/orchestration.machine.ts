import {
  assertEvent,
  assign,
  enqueueActions,
  setup,
  type AnyActorRef,
  type DoneActorEvent,
  type ErrorActorEvent,
} from 'xstate';
import { ErrorCode, serializedError, type SerializedError } from '../core/errors.js';
import type { MetaSpec, PhaseSpec } from '../core/spec.js';
import { customPatternMachine } from './customPattern.machine.js';
import { parallelMachine } from './parallel.machine.js';
import { criteriaUnreachable, evaluateCriteria, type PatternOutcome } from './phaseCriteria.js';
import {
  afterCompensation,
  assertActorEnd,
  childEndError,
  compensatingState,
  timeoutError,
  type PatternControlEvent,
  type PatternFinalOutput,
  type PatternSucceededEvent,
} from './pattern.types.js';
import { sagaActions, sagaGuards } from './saga.js';
import { sequentialMachine } from './sequential.machine.js';
import { NO_TIMEOUT_MS } from './step.machine.js';

/** Which machine runs a child pattern, and its input (built by the runtime). */
export interface ChildPattern {
  readonly kind: 'sequential' | 'parallel' | 'orchestration' | 'customPattern';
  readonly input: unknown;
}

export interface OrchestrationInput {
  readonly name: string;
  readonly spec: MetaSpec;
  readonly env: unknown;
  /** Every pattern named by a phase. */
  readonly children: Readonly<Record<string, ChildPattern>>;
}

export type PhaseStatus = 'pending' | 'running' | 'succeeded' | 'failed' | 'rolledBack';

export interface PhaseState {
  readonly name: string;
  status: PhaseStatus;
  outcomes: PatternOutcome[];
  total: number;
}

/** `ROLLBACK` after success: `pattern` undoes the last pattern, `phase` the last phase (or every phase after `targetPhase`), `complete` everything. */
export interface RollbackEvent {
  type: 'ROLLBACK';
  level: 'pattern' | 'phase' | 'complete';
  targetPhase?: string | undefined;
}

export interface OrchestrationContext {
  readonly name: string;
  readonly spec: MetaSpec;
  readonly env: unknown;
  readonly children: Readonly<Record<string, ChildPattern>>;
  phaseIndex: number;
  /** Next pattern of the current phase to start (sequential coordination). */
  nextInPhase: number;
  running: string[];
  refs: Record<string, AnyActorRef>;
  phases: PhaseState[];
  /** Succeeded (compensatable) patterns, in completion order. */
  completed: { name: string; phase: string }[];
  toCompensate: string[];
  compensationFailures: number;
  compensationReason: 'failure' | 'requested' | 'partial' | undefined;
  error: SerializedError | undefined;
  timedOut: boolean;
  finalStatus: PatternFinalOutput['status'] | undefined;
}

type OrchestrationEvent =
  | PatternSucceededEvent
  | PatternControlEvent
  | RollbackEvent
  | DoneActorEvent<PatternFinalOutput>
  | ErrorActorEvent;

const currentPhase = (c: OrchestrationContext): PhaseSpec | undefined => c.spec.phases[c.phaseIndex];
const phaseState = (c: OrchestrationContext): PhaseState | undefined => c.phases[c.phaseIndex];
const settled = (c: OrchestrationContext): boolean => {
  const p = phaseState(c);
  return p !== undefined && c.running.length === 0 && p.outcomes.length === p.total;
};
const withPhase = (c: OrchestrationContext, patch: Partial<PhaseState>): PhaseState[] =>
  c.phases.map((p, i) => (i === c.phaseIndex ? { ...p, ...patch } : p));

const { compensateHead, notifySucceeded } = sagaActions<OrchestrationContext, OrchestrationEvent>(
  (context) => {
    const outcomes = context.phases.flatMap((p) => p.outcomes);
    return {
      durationMs: outcomes.reduce((sum, o) => sum + o.durationMs, 0),
      failedSteps: outcomes.reduce((sum, o) => sum + o.failedSteps, 0),
    };
  },
);

/**
 * A meta-orchestration pattern: phases run in order; each coordinates registered patterns
 * sequentially or in parallel, and passes when its success criteria hold
 * (min_success_rate, max_error_count, response_time_threshold). When a phase fails, the
 * rollback strategy decides what is compensated: `pattern_level` (each failed pattern rolled
 * itself back), `phase_level` (the failing phase's succeeded patterns, in reverse completion
 * order) or `complete` (every succeeded pattern of every phase, in reverse). After success,
 * `ROLLBACK` compensates part or all of the work on request.
 */
export const orchestrationMachine = setup({
  types: {} as {
    context: OrchestrationContext;
    events: OrchestrationEvent;
    input: OrchestrationInput;
    output: PatternFinalOutput;
  },
  actors: {
    sequential: sequentialMachine,
    parallel: parallelMachine,
    customPattern: customPatternMachine,
    /** The runtime provides the orchestration machine itself here, for nested meta patterns. */
    orchestration: customPatternMachine,
  },
  delays: { patternTimeout: ({ context }) => context.spec.timeoutMs ?? NO_TIMEOUT_MS },
  guards: {
    ...sagaGuards,
    phasePassed: ({ context }) => {
      const p = phaseState(context);
      const spec = currentPhase(context);
      return (
        !!p && !!spec && settled(context) && evaluateCriteria(spec.successCriteria, p.outcomes, p.total).met
      );
    },
    isLastPhase: ({ context }) => context.phaseIndex >= context.spec.phases.length - 1,
    phaseFailed: ({ context }) => {
      const p = phaseState(context);
      const spec = currentPhase(context);
      if (!p || !spec) return false;
      return settled(context) || criteriaUnreachable(spec.successCriteria, p.outcomes, p.total);
    },
    noPhases: ({ context }) => context.spec.phases.length === 0,
    noneRunning: ({ context }) => context.running.length === 0,
    isRunningChild: ({ context, event }) => 'actorId' in event && context.running.includes(event.actorId),
    /** A requested rollback undid only part of the work: the orchestration stays succeeded. */
    wasPartial: ({ context }) => context.compensationReason === 'partial',
    /** A failure was rolled back completely (`complete` strategy) and every compensation succeeded. */
    rolledBackCompletely: ({ context }) =>
      context.spec.rollbackStrategy === 'complete' && context.compensationFailures === 0,
  },
  actions: {
    reportPhaseStatus: (_: unknown, _params: { phase: string; status: PhaseStatus }) => undefined,
    startPatterns: enqueueActions(({ context, enqueue }) => {
      const spec = currentPhase(context);
      const state = phaseState(context);
      if (!spec || !state) return;
      // A phase that can no longer pass starts nothing more; it is about to fail.
      if (criteriaUnreachable(spec.successCriteria, state.outcomes, state.total)) return;
      const names =
        spec.coordination === 'parallel'
          ? spec.patterns.slice(context.nextInPhase)
          : spec.patterns.slice(context.nextInPhase, context.nextInPhase + 1);
      if (names.length === 0) return;
      enqueue.assign(({ context: ctx, spawn }) => {
        const refs = { ...ctx.refs };
        for (const name of names) {
          const child = ctx.children[name];
          if (!child) continue;
          refs[name] = spawn(child.kind, { id: name, input: child.input as never }) as AnyActorRef;
        }
        return { refs, running: [...ctx.running, ...names], nextInPhase: ctx.nextInPhase + names.length };
      });
    }),
    recordSuccess: assign(({ context, event: e }) => {
      assertEvent(e, 'PATTERN.SUCCEEDED');
      const phase = currentPhase(context)?.name ?? '';
      const outcome: PatternOutcome = {
        name: e.name,
        success: true,
        durationMs: e.durationMs,
        failedSteps: e.failedSteps,
      };
      return {
        running: context.running.filter((n) => n !== e.name),
        completed: [...context.completed, { name: e.name, phase }],
        phases: withPhase(context, { outcomes: [...(phaseState(context)?.outcomes ?? []), outcome] }),
      };
    }),
    recordFailure: assign(({ context, event: e }) => {
      assertActorEnd<PatternFinalOutput>(e);
      const out = 'output' in e ? e.output : undefined;
      const outcome: PatternOutcome = {
        name: e.actorId,
        success: false,
        durationMs: out?.durationMs ?? 0,
        failedSteps: Math.max(1, out?.failedSteps ?? 1),
      };
      const error = childEndError('Pattern', e, { patternName: e.actorId });
      return {
        running: context.running.filter((n) => n !== e.actorId),
        phases: withPhase(context, { outcomes: [...(phaseState(context)?.outcomes ?? []), outcome] }),
        error: context.error ?? error,
        timedOut: context.timedOut || (out?.timedOut ?? false),
      };
    }),
    markPhaseRunning: enqueueActions(({ context, enqueue }) => {
      const phase = phaseState(context)?.name ?? '';
      enqueue.assign({ phases: withPhase(context, { status: 'running' }) });
      enqueue({ type: 'reportPhaseStatus', params: { phase, status: 'running' } });
    }),
    markPhaseSucceeded: enqueueActions(({ context, enqueue }) => {
      const phase = phaseState(context)?.name ?? '';
      enqueue.assign({ phases: withPhase(context, { status: 'succeeded' }) });
      enqueue({ type: 'reportPhaseStatus', params: { phase, status: 'succeeded' } });
    }),
    markPhaseFailed: enqueueActions(({ context, enqueue }) => {
      const phase = phaseState(context)?.name ?? '';
      enqueue.assign({ phases: withPhase(context, { status: 'failed' }) });
      enqueue({ type: 'reportPhaseStatus', params: { phase, status: 'failed' } });
    }),
    criteriaError: assign(({ context }) => {
      const p = phaseState(context);
      const spec = currentPhase(context);
      if (!p || !spec) return {};
      const verdict = evaluateCriteria(spec.successCriteria, p.outcomes, p.total);
      const first = context.error ? ` (first error: ${context.error.message})` : '';
      return {
        error: serializedError(
          ErrorCode.PATTERN_EXECUTION,
          `Phase "${p.name}" of "${context.name}" failed its success criteria: ${verdict.reasons.join('; ')}${first}`,
          { patternName: context.name },
        ),
      };
    }),
    cancelRunning: enqueueActions(({ context, enqueue }) => {
      for (const name of context.running) enqueue.sendTo(name, { type: 'CANCEL' });
    }),
    planRollbackOnFailure: assign(({ context }) => {
      const phase = currentPhase(context)?.name;
      const strategy = context.spec.rollbackStrategy;
      const names =
        strategy === 'complete'
          ? context.completed.map((c) => c.name)
          : strategy === 'phase_level'
            ? context.completed.filter((c) => c.phase === phase).map((c) => c.name)
            : [];
      return { toCompensate: names.reverse(), compensationReason: 'failure' as const };
    }),
    planRequestedRollback: assign(({ context, event: e }) => {
      assertEvent(e, ['ROLLBACK', 'COMPENSATE']);
      const level = e.type === 'COMPENSATE' ? 'complete' : e.level;
      let names: string[];
      if (level === 'complete') names = context.completed.map((c) => c.name);
      else if (level === 'pattern') names = context.completed.slice(-1).map((c) => c.name);
      else {
        const target = e.type === 'ROLLBACK' ? e.targetPhase : undefined;
        const phaseOrder = context.spec.phases.map((p) => p.name);
        const done = [...new Set(context.completed.map((c) => c.phase))];
        const undo = target === undefined ? done.slice(-1) : phaseOrder.slice(phaseOrder.indexOf(target) + 1);
        names = context.completed.filter((c) => undo.includes(c.phase)).map((c) => c.name);
      }
      const partial = names.length < context.completed.length;
      return {
        toCompensate: names.reverse(),
        compensationReason: partial ? ('partial' as const) : ('requested' as const),
      };
    }),
    advanceCompensation: assign(({ context, event }) => ({
      ...afterCompensation(context, event),
      completed: context.completed.filter((c) => c.name !== context.toCompensate[0]),
    })),
    compensateHead,
    notifySucceeded,
    recordTimeout: assign({
      timedOut: true,
      error: ({ context }) =>
        timeoutError(`Meta-orchestration "${context.name}"`, context.spec.timeoutMs ?? 0),
    }),
  },
}).createMachine({
  id: 'orchestration',
  context: ({ input }) => ({
    name: input.name,
    spec: input.spec,
    env: input.env,
    children: input.children,
    phaseIndex: 0,
    nextInPhase: 0,
    running: [],
    refs: {},
    phases: input.spec.phases.map((p) => ({
      name: p.name,
      status: 'pending' as const,
      outcomes: [],
      total: p.patterns.length,
    })),
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
    failedSteps: context.phases.reduce((sum, p) => sum + p.outcomes.filter((o) => !o.success).length, 0),
    durationMs: context.phases.flatMap((p) => p.outcomes).reduce((sum, o) => sum + o.durationMs, 0),
    error: context.error,
  }),
  states: {
    running: {
      always: { guard: 'noPhases', target: 'succeeded' },
      after: {
        patternTimeout: {
          guard: 'hasTimeout',
          target: 'draining',
          actions: ['cancelRunning', 'markPhaseFailed', 'recordTimeout'],
        },
      },
      on: {
        CANCEL: { target: 'draining', actions: ['cancelRunning', 'markPhaseFailed'] },
      },
      initial: 'phase',
      states: {
        phase: {
          entry: ['markPhaseRunning', 'startPatterns'],
          always: [
            {
              guard: 'phasePassed',
              target: 'phasePassed',
              actions: 'markPhaseSucceeded',
            },
            {
              guard: 'phaseFailed',
              target: '#orchestration.draining',
              actions: ['cancelRunning', 'criteriaError', 'markPhaseFailed'],
            },
          ],
          on: {
            'PATTERN.SUCCEEDED': { actions: ['recordSuccess', 'startPatterns'] },
            'xstate.done.actor.*': { guard: 'isRunningChild', actions: ['recordFailure', 'startPatterns'] },
            'xstate.error.actor.*': { guard: 'isRunningChild', actions: ['recordFailure', 'startPatterns'] },
          },
        },
        /** Between phases: the overall timeout keeps running (the parent state is not left). */
        phasePassed: {
          always: [
            { guard: 'isLastPhase', target: '#orchestration.succeeded' },
            {
              target: 'phase',
              actions: assign({ phaseIndex: ({ context }) => context.phaseIndex + 1, nextInPhase: 0 }),
            },
          ],
        },
      },
    },
    /** A phase failed, timed out or was cancelled: let running patterns settle before rolling back. */
    draining: {
      always: { guard: 'noneRunning', target: 'compensating', actions: 'planRollbackOnFailure' },
      on: {
        'PATTERN.SUCCEEDED': { actions: 'recordSuccess' },
        'xstate.done.actor.*': { guard: 'isRunningChild', actions: 'recordFailure' },
        'xstate.error.actor.*': { guard: 'isRunningChild', actions: 'recordFailure' },
      },
    },
    succeeded: {
      entry: 'notifySucceeded',
      on: {
        COMPENSATE: { target: 'compensating', actions: 'planRequestedRollback' },
        ROLLBACK: { target: 'compensating', actions: 'planRequestedRollback' },
      },
    },
    compensating: compensatingState,
    compensationFinished: {
      always: [
        { guard: 'wasPartial', target: 'succeeded' },
        { guard: 'wasRequested', target: 'compensated' },
        { guard: 'rolledBackCompletely', target: 'rolledBack' },
        { target: 'failed' },
      ],
    },
    failed: { type: 'final', entry: assign({ finalStatus: 'failed' as const }) },
    rolledBack: { type: 'final', entry: assign({ finalStatus: 'rolledBack' as const }) },
    compensated: { type: 'final', entry: assign({ finalStatus: 'compensated' as const }) },
  },
});
