import {
  assign,
  enqueueActions,
  setup,
  type ActorRefFrom,
  type DoneActorEvent,
  type ErrorActorEvent,
} from 'xstate';
import type { SerializedError } from '../runtime/errors.js';
import type { ParallelSpec, StepSpec } from '../runtime/spec.js';
import type { StepStatus } from '../runtime/status.js';
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

export interface ParallelInput {
  readonly name: string;
  readonly spec: ParallelSpec;
  readonly env: unknown;
}

interface Completed {
  readonly name: string;
  readonly startedAt: number | undefined;
  readonly finishedAt: number | undefined;
}

export interface ParallelContext {
  readonly name: string;
  readonly spec: ParallelSpec;
  readonly env: unknown;
  status: Record<string, StepStatus>;
  tasks: Record<string, ActorRefFrom<typeof stepMachine>>;
  running: number;
  /** Summed cpu / memory requirements of running tasks (0..1 each). */
  cpu: number;
  memory: number;
  completed: Completed[];
  /** Failed + skipped + cancelled tasks. */
  failures: number;
  toCompensate: string[];
  compensationFailures: number;
  compensationReason: 'failure' | 'requested' | undefined;
  error: SerializedError | undefined;
  timedOut: boolean;
  finalStatus: PatternFinalOutput['status'] | undefined;
}

type ParallelEvent =
  StepCompletedEvent | PatternControlEvent | DoneActorEvent<StepFinalOutput> | ErrorActorEvent;

const EPSILON = 1e-9;

/** Tasks that may start now, in declaration order, within the concurrency and resource limits. */
export function runnableTasks(context: ParallelContext): StepSpec[] {
  const { spec } = context;
  const picked: StepSpec[] = [];
  let running = context.running;
  let cpu = context.cpu;
  let memory = context.memory;
  for (const task of spec.tasks) {
    if (running >= spec.maxConcurrent) break;
    if (context.status[task.name] !== 'pending') continue;
    if (!task.dependsOn.every((d) => context.status[d] === 'completed')) continue;
    const needCpu = task.resources?.cpu ?? 0;
    const needMem = task.resources?.memory ?? 0;
    const fits =
      cpu + needCpu <= spec.resourceThreshold + EPSILON &&
      memory + needMem <= spec.resourceThreshold + EPSILON;
    if (!fits && running > 0) continue;
    picked.push(task);
    running += 1;
    cpu += needCpu;
    memory += needMem;
  }
  return picked;
}

/** Every task that (transitively) depends on `failed` and has not started. */
export function dependentsOf(
  spec: ParallelSpec,
  failed: string,
  status: Record<string, StepStatus>,
): string[] {
  const out = new Set<string>();
  const queue = [failed];
  while (queue.length > 0) {
    const current = queue.shift() as string;
    for (const task of spec.tasks) {
      if (task.dependsOn.includes(current) && !out.has(task.name) && status[task.name] === 'pending') {
        out.add(task.name);
        queue.push(task.name);
      }
    }
  }
  return [...out];
}

function taskOf(context: ParallelContext, name: string): StepSpec | undefined {
  return context.spec.tasks.find((t) => t.name === name);
}

const crashError = (actorId: string, error: unknown): SerializedError => ({
  name: 'PatternExecutionError',
  code: 'ND_PATTERN_EXECUTION',
  message: `Task actor "${actorId}" crashed: ${String(error)}`,
  details: { step: actorId },
});

/**
 * A parallel coordination pattern: tasks form a DAG (`dependsOn`); at most `maxConcurrent`
 * run at once, and running tasks' summed cpu/memory stay within `resourceThreshold`. A failed
 * task does not stop independent ones (failure isolation); its dependents are skipped, never
 * run. If failed + skipped tasks exceed `failureTolerance` (a fraction of all tasks), running
 * tasks are cancelled and completed ones compensated in reverse completion order.
 */
export const parallelMachine = setup({
  types: {} as {
    context: ParallelContext;
    events: ParallelEvent;
    input: ParallelInput;
    output: PatternFinalOutput;
  },
  actors: { step: stepMachine },
  delays: {
    patternTimeout: ({ context }) => context.spec.timeoutMs ?? NO_TIMEOUT_MS,
  },
  guards: {
    hasTimeout: ({ context }) => context.spec.timeoutMs !== undefined,
    toleranceExceeded: ({ context }) =>
      context.failures / Math.max(1, context.spec.tasks.length) > context.spec.failureTolerance + EPSILON,
    allSettled: ({ context }) =>
      context.running === 0 && context.completed.length + context.failures === context.spec.tasks.length,
    noneRunning: ({ context }) => context.running === 0,
    shouldRollBack: ({ context }) => context.spec.rollbackEnabled && context.completed.length > 0,
    compensationDone: ({ context }) => context.toCompensate.length === 0,
    wasRequested: ({ context }) => context.compensationReason === 'requested',
    hadCompensationFailures: ({ context }) => context.compensationFailures > 0,
    isHeadOfCompensation: ({ context, event }) => isCompensationHead(context, event),
    isRunningTask: ({ context, event }) => 'actorId' in event && context.status[event.actorId] === 'running',
  },
  actions: {
    /** Progress hook for statuses decided here (skipped); the runtime provides it. */
    reportTaskStatus: (_: unknown, _params: { task: string; status: StepStatus }) => undefined,
    schedule: enqueueActions(({ context, enqueue }) => {
      const ready = runnableTasks(context);
      if (ready.length === 0) return;
      enqueue.assign(({ context: ctx, spawn }) => {
        const status = { ...ctx.status };
        const tasks = { ...ctx.tasks };
        let { cpu, memory } = ctx;
        for (const task of ready) {
          status[task.name] = 'running';
          tasks[task.name] = spawn('step', {
            id: task.name,
            input: { spec: task, env: ctx.env, autoStart: true },
          });
          cpu += task.resources?.cpu ?? 0;
          memory += task.resources?.memory ?? 0;
        }
        return { status, tasks, cpu, memory, running: ctx.running + ready.length };
      });
    }),
    recordCompleted: assign(({ context, event }) => {
      const e = event as StepCompletedEvent;
      const task = taskOf(context, e.name);
      return {
        status: { ...context.status, [e.name]: 'completed' as const },
        running: context.running - 1,
        cpu: context.cpu - (task?.resources?.cpu ?? 0),
        memory: context.memory - (task?.resources?.memory ?? 0),
        completed: [...context.completed, { name: e.name, startedAt: e.startedAt, finishedAt: e.finishedAt }],
      };
    }),
    recordFailed: enqueueActions(({ context, event, enqueue }) => {
      const e = event as DoneActorEvent<StepFinalOutput> | ErrorActorEvent;
      const name = e.actorId;
      const task = taskOf(context, name);
      const finalStatus: StepStatus =
        'output' in e && e.output.status === 'cancelled' ? 'cancelled' : 'failed';
      const skipped = dependentsOf(context.spec, name, context.status);
      const status = { ...context.status, [name]: finalStatus };
      for (const s of skipped) status[s] = 'skipped';
      const error = 'output' in e ? e.output.error : crashError(name, e.error);
      enqueue.assign({
        status,
        running: context.running - 1,
        cpu: context.cpu - (task?.resources?.cpu ?? 0),
        memory: context.memory - (task?.resources?.memory ?? 0),
        failures: context.failures + 1 + skipped.length,
        error: context.error ?? error,
      });
      for (const s of skipped) enqueue({ type: 'reportTaskStatus', params: { task: s, status: 'skipped' } });
    }),
    cancelRunning: enqueueActions(({ context, enqueue }) => {
      for (const [name, status] of Object.entries(context.status)) {
        if (status === 'running') enqueue.sendTo(name, { type: 'CANCEL' });
      }
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
        failedSteps: context.failures,
      };
      if (self._parent) enqueue.sendTo(self._parent, event);
    }),
  },
}).createMachine({
  id: 'parallel',
  context: ({ input }) => ({
    name: input.name,
    spec: input.spec,
    env: input.env,
    status: Object.fromEntries(input.spec.tasks.map((t) => [t.name, 'pending' as const])),
    tasks: {},
    running: 0,
    cpu: 0,
    memory: 0,
    completed: [],
    failures: 0,
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
    failedSteps: context.failures,
    durationMs: spanMs(context.completed),
    error: context.error,
  }),
  states: {
    running: {
      entry: 'schedule',
      always: [
        { guard: 'toleranceExceeded', target: 'draining', actions: 'cancelRunning' },
        { guard: 'allSettled', target: 'succeeded' },
      ],
      after: {
        patternTimeout: {
          guard: 'hasTimeout',
          target: 'draining',
          actions: [
            'cancelRunning',
            assign({
              timedOut: true,
              error: ({ context }) =>
                timeoutError(`Parallel pattern "${context.name}"`, context.spec.timeoutMs ?? 0),
            }),
          ],
        },
      },
      on: {
        'STEP.COMPLETED': { actions: ['recordCompleted', 'schedule'] },
        'xstate.done.actor.*': { guard: 'isRunningTask', actions: ['recordFailed', 'schedule'] },
        'xstate.error.actor.*': { guard: 'isRunningTask', actions: ['recordFailed', 'schedule'] },
        CANCEL: {
          target: 'draining',
          actions: [
            'cancelRunning',
            assign({
              error: ({ context }) => ({
                name: 'PatternExecutionError',
                code: 'ND_PATTERN_EXECUTION',
                message: `Parallel pattern "${context.name}" was cancelled`,
              }),
            }),
          ],
        },
      },
    },
    /** Stopping: cancelled tasks settle (some may complete meanwhile) before compensation starts. */
    draining: {
      always: { guard: 'noneRunning', target: 'stopped' },
      on: {
        'STEP.COMPLETED': { actions: 'recordCompleted' },
        'xstate.done.actor.*': { guard: 'isRunningTask', actions: 'recordFailed' },
        'xstate.error.actor.*': { guard: 'isRunningTask', actions: 'recordFailed' },
      },
    },
    ...sagaEndStates,
    failed: { type: 'final', entry: assign({ finalStatus: 'failed' as const }) },
    rolledBack: { type: 'final', entry: assign({ finalStatus: 'rolledBack' as const }) },
    compensated: { type: 'final', entry: assign({ finalStatus: 'compensated' as const }) },
  },
});
