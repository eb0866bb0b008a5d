import {
  assertEvent,
  assign,
  enqueueActions,
  setup,
  type DoneActorEvent,
  type ErrorActorEvent,
} from 'xstate';
import type { SerializedError } from '../core/errors.js';
import type { ParallelSpec, StepSpec } from '../core/spec.js';
import type { StepStatus } from '../core/status.js';
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
import { PersistentArray } from './persistentArray.js';
import { stepSagaActions, stepSagaGuards } from './saga.js';
import {
  NO_TIMEOUT_MS,
  stepCompensationMachine,
  stepMachine,
  type StepCompletedEvent,
  type StepFinalOutput,
  type StepMachineInput,
} from './step.machine.js';

/** Caps on the summed declared cpu / memory of running tasks (0..1 each), e.g. a phase's allocation. */
export interface ResourceCaps {
  readonly cpu?: number | undefined;
  readonly memory?: number | undefined;
}

export interface ParallelInput {
  readonly name: string;
  readonly spec: ParallelSpec;
  readonly env: unknown;
  /** Caps below `spec.resourceThreshold` (a meta-orchestration phase's `resourceAllocation`). */
  readonly caps?: ResourceCaps | undefined;
}

/** Sent by the runtime when measured load may have dropped: held-back tasks are reconsidered. */
export interface ResourcesRecheckEvent {
  readonly type: 'RESOURCES.RECHECK';
}

export interface ParallelContext {
  readonly name: string;
  readonly spec: ParallelSpec;
  readonly env: unknown;
  /** Limits on the summed declared cpu / memory of running tasks: `resourceThreshold` or a lower cap. */
  readonly limits: { readonly cpu: number; readonly memory: number };
  /**
   * Status of each task, in `spec.tasks` order (a task's actor is the child named after it): a
   * persistent array, so an event updates it in O(1) and earlier snapshots keep theirs.
   */
  status: PersistentArray<StepStatus>;
  /** No task before this index is pending: where the scheduler starts looking. */
  firstPending: number;
  /** For each task, how many of its `dependsOn` have not completed (a persistent array). */
  waiting: PersistentArray<number>;
  /** Pending tasks with no dependency left to complete: the scheduler stops looking once it saw them all. */
  ready: number;
  running: number;
  /** Summed cpu / memory requirements of running tasks (0..1 each). */
  cpu: number;
  memory: number;
  /** The latest completed task, linked to those completed before it (see {@link CompletedLink}). */
  completed: CompletedLink | undefined;
  /** Failed + skipped + cancelled tasks. */
  failures: number;
  toCompensate: string[];
  /** The task compensated now, linked to those to compensate after it. */
  compensating: CompletedLink | undefined;
  compensationFailures: number;
  compensationReason: 'failure' | 'requested' | undefined;
  error: SerializedError | undefined;
  timedOut: boolean;
  finalStatus: PatternFinalOutput['status'] | undefined;
}

type ParallelEvent =
  | StepCompletedEvent
  | PatternControlEvent
  | ResourcesRecheckEvent
  | DoneActorEvent<StepFinalOutput>
  | ErrorActorEvent;

const EPSILON = 1e-9;

const taskIndexes = new WeakMap<ParallelSpec, ReadonlyMap<string, number>>();

/** Index of task `name` in `spec.tasks` (memoised per spec). */
export function taskIndex(spec: ParallelSpec, name: string): number {
  let index = taskIndexes.get(spec);
  if (!index) {
    index = new Map(spec.tasks.map((t, i) => [t.name, i]));
    taskIndexes.set(spec, index);
  }
  return index.get(name) ?? -1;
}

/** Status of task `name`; undefined if the pattern has no such task. */
export function taskStatus(
  context: Pick<ParallelContext, 'spec' | 'status'>,
  name: string,
): StepStatus | undefined {
  return context.status.get(taskIndex(context.spec, name));
}

/** Tasks that may start now, in declaration order, within the concurrency and resource limits. */
export function runnableTasks(context: ParallelContext): StepSpec[] {
  const { spec, status } = context;
  const picked: StepSpec[] = [];
  let running = context.running;
  let cpu = context.cpu;
  let memory = context.memory;
  let seen = 0;
  for (
    let i = context.firstPending;
    i < spec.tasks.length && running < spec.maxConcurrent && seen < context.ready;
    i++
  ) {
    const task = spec.tasks[i] as StepSpec;
    if (status.get(i) !== 'pending' || context.waiting.get(i) !== 0) continue;
    seen += 1;
    const needCpu = task.resources?.cpu ?? 0;
    const needMem = task.resources?.memory ?? 0;
    const fits =
      cpu + needCpu <= context.limits.cpu + EPSILON && memory + needMem <= context.limits.memory + EPSILON;
    if (!fits && running > 0) continue;
    picked.push(task);
    running += 1;
    cpu += needCpu;
    memory += needMem;
  }
  return picked;
}

const dependentIndexes = new WeakMap<ParallelSpec, readonly (readonly number[])[]>();

/** For each task, the indexes of the tasks that name it in `dependsOn` (memoised per spec). */
function dependentsIndex(spec: ParallelSpec): readonly (readonly number[])[] {
  let index = dependentIndexes.get(spec);
  if (!index) {
    const out: number[][] = spec.tasks.map(() => []);
    spec.tasks.forEach((task, i) => {
      for (const d of task.dependsOn) out[taskIndex(spec, d)]?.push(i);
    });
    index = out;
    dependentIndexes.set(spec, index);
  }
  return index;
}

/** Every task that (transitively) depends on `failed` and has not started (O(its dependents)). */
export function dependentsOf(
  spec: ParallelSpec,
  failed: string,
  status: PersistentArray<StepStatus>,
): string[] {
  const dependents = dependentsIndex(spec);
  const seen = new Set<number>();
  const out: string[] = [];
  const queue = [taskIndex(spec, failed)];
  for (let q = 0; q < queue.length; q++) {
    for (const i of dependents[queue[q] as number] ?? []) {
      if (seen.has(i) || status.get(i) !== 'pending') continue;
      seen.add(i);
      out.push((spec.tasks[i] as StepSpec).name);
      queue.push(i);
    }
  }
  return out;
}

/** The first index at or after `from` whose task is still pending. */
function firstPendingFrom(status: PersistentArray<StepStatus>, from: number): number {
  let i = from;
  while (i < status.length && status.get(i) !== 'pending') i += 1;
  return i;
}

type Bookkeeping = Pick<
  ParallelContext,
  'status' | 'firstPending' | 'waiting' | 'ready' | 'running' | 'cpu' | 'memory'
>;
/**
 * Starts every runnable task of `context` (`spawn` creates its step actor) and returns the
 * bookkeeping after. When more than one task would be running, `headroom()` (the measured-load gate) is
 * asked; without headroom no task starts unless none runs (then one does, so nothing starves),
 * and `held` says tasks wait for a `RESOURCES.RECHECK`.
 */
function startRunnable(
  context: ParallelContext,
  spawn: (id: string, input: StepMachineInput) => void,
  headroom: () => boolean,
): Bookkeeping & { held: boolean } {
  let { cpu, memory, running } = context;
  let picked = runnableTasks(context);
  let held = false;
  if (running + picked.length > 1 && !headroom()) {
    held = true;
    picked = running === 0 ? picked.slice(0, 1) : [];
  }
  let status = context.status;
  for (const task of picked) {
    spawn(task.name, { spec: task, env: context.env });
    status = status.set(taskIndex(context.spec, task.name), 'running');
    cpu += task.resources?.cpu ?? 0;
    memory += task.resources?.memory ?? 0;
    running += 1;
  }
  return {
    status,
    firstPending: firstPendingFrom(status, context.firstPending),
    waiting: context.waiting,
    ready: context.ready - picked.length,
    running,
    cpu,
    memory,
    held,
  };
}

/** Bookkeeping after task `name` stopped running with `final`; `skipped` dependents marked too. */
function taskEnded(
  context: ParallelContext,
  name: string,
  final: StepStatus,
  skipped: readonly string[] = [],
): Bookkeeping {
  const i = taskIndex(context.spec, name);
  const resources = context.spec.tasks[i]?.resources;
  let status = context.status.set(i, final);
  for (const s of skipped) status = status.set(taskIndex(context.spec, s), 'skipped');
  let { waiting, ready } = context;
  if (final === 'completed') {
    for (const j of dependentsIndex(context.spec)[i] ?? []) {
      const left = (waiting.get(j) ?? 0) - 1;
      waiting = waiting.set(j, left);
      if (left === 0 && status.get(j) === 'pending') ready += 1;
    }
  }
  return {
    status,
    firstPending: firstPendingFrom(status, context.firstPending),
    waiting,
    ready,
    running: context.running - 1,
    cpu: context.cpu - (resources?.cpu ?? 0),
    memory: context.memory - (resources?.memory ?? 0),
  };
}

/** The bookkeeping fields of a `startRunnable` result (without `held`). */
/** What `scheduleFrom` needs of an `enqueueActions` action's arguments. */
interface ScheduleTools {
  spawnChild(src: 'step', options: { id: string; input: StepMachineInput }): void;
  assign(update: Partial<ParallelContext>): void;
  (action: 'awaitHeadroom'): void;
}

/**
 * Applies `update` to `context`, starts every task that is runnable then (spawning its step
 * actor), assigns the result, and asks for a headroom re-check when measured load held a task back.
 */
function scheduleFrom(
  context: ParallelContext,
  update: Partial<ParallelContext>,
  enqueue: ScheduleTools,
  check: (guard: 'hasMeasuredHeadroom') => boolean,
): void {
  const after = { ...context, ...update };
  const { held, ...started } = startRunnable(
    after,
    (id, input) => enqueue.spawnChild('step', { id, input }),
    () => check('hasMeasuredHeadroom'),
  );
  enqueue.assign({ ...update, ...started });
  if (held) enqueue('awaitHeadroom');
}

/** The context update for a completed task. */
function completedUpdate(context: ParallelContext, e: StepCompletedEvent): Partial<ParallelContext> {
  return {
    ...taskEnded(context, e.name, 'completed'),
    completed: linkCompleted(
      context.completed,
      context.spec.tasks[taskIndex(context.spec, e.name)] as StepSpec,
      e,
    ),
  };
}

/** The context update for a task that failed (or was cancelled, or crashed), and its skipped dependents. */
function failedUpdate(
  context: ParallelContext,
  e: DoneActorEvent<StepFinalOutput> | ErrorActorEvent,
): { update: Partial<ParallelContext>; skipped: string[] } {
  const name = e.actorId;
  const final: StepStatus = 'output' in e && e.output.status === 'cancelled' ? 'cancelled' : 'failed';
  const skipped = dependentsOf(context.spec, name, context.status);
  // a task that ended without an error of its own (cancelled) leaves the pattern's error as it was
  const error = 'output' in e ? e.output.error : childEndError('Task', e, { step: name });
  return {
    update: {
      ...taskEnded(context, name, final, skipped),
      failures: context.failures + 1 + skipped.length,
      error: context.error ?? error,
    },
    skipped,
  };
}

/**
 * A parallel coordination pattern: tasks form a DAG (`dependsOn`); at most `maxConcurrent`
 * run at once, and running tasks' summed declared cpu/memory stay within `resourceThreshold`
 * (or the lower `caps` of the input). While the `hasMeasuredHeadroom` guard (provided by the
 * runtime: measured host load) says no, no further task starts, except one when none runs;
 * `awaitHeadroom` then asks the runtime for a `RESOURCES.RECHECK` event. A failed
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
  actors: { step: stepMachine, compensation: stepCompensationMachine },
  delays: {
    patternTimeout: ({ context }) => context.spec.timeoutMs ?? NO_TIMEOUT_MS,
  },
  guards: {
    ...stepSagaGuards,
    /** Measured-load gate (see `startRunnable`); the runtime provides it, pure default: always. */
    hasMeasuredHeadroom: () => true,
    toleranceExceeded: ({ context }) =>
      context.failures / Math.max(1, context.spec.tasks.length) > context.spec.failureTolerance + EPSILON,
    allSettled: ({ context }) =>
      context.running === 0 &&
      (context.completed?.count ?? 0) + context.failures === context.spec.tasks.length,
    noneRunning: ({ context }) => context.running === 0,
    isRunningTask: ({ context, event }) =>
      'actorId' in event && taskStatus(context, event.actorId) === 'running',
  },
  actions: {
    ...stepSagaActions<ParallelContext, ParallelEvent>((context) => ({
      durationMs: chainSpanMs(context.completed),
      failedSteps: context.failures,
    })),
    /** Spawns the compensation of the head task (its actor was stopped when it completed). */
    compensateHead: enqueueActions(({ context, enqueue }) => {
      if (context.compensating)
        enqueue.spawnChild('compensation', compensationOf(context.compensating, context.env));
    }),
    /** Progress hook for statuses decided here (skipped); the runtime provides it. */
    reportTaskStatus: (_: unknown, _params: { task: string; status: StepStatus }) => undefined,
    /** Progress hook: tasks are held back for load; the runtime sends `RESOURCES.RECHECK` later. */
    awaitHeadroom: () => undefined,
    schedule: enqueueActions(({ context, enqueue, check }) => scheduleFrom(context, {}, enqueue, check)),
    recordCompleted: enqueueActions(({ context, event, enqueue }) => {
      assertEvent(event, 'STEP.COMPLETED');
      enqueue.assign(completedUpdate(context, event));
      enqueue.stopChild(event.name);
    }),
    recordCompletedAndSchedule: enqueueActions(({ context, event, enqueue, check }) => {
      assertEvent(event, 'STEP.COMPLETED');
      // the finished task's actor goes: its compensation, if ever, is a new `compensation` actor
      enqueue.stopChild(event.name);
      scheduleFrom(context, completedUpdate(context, event), enqueue, check);
    }),
    recordFailed: enqueueActions(({ context, event, enqueue }) => {
      assertActorEnd<StepFinalOutput>(event);
      const { update, skipped } = failedUpdate(context, event);
      enqueue.assign(update);
      enqueue.stopChild(event.actorId);
      for (const s of skipped) enqueue({ type: 'reportTaskStatus', params: { task: s, status: 'skipped' } });
    }),
    recordFailedAndSchedule: enqueueActions(({ context, event, enqueue, check }) => {
      assertActorEnd<StepFinalOutput>(event);
      const { update, skipped } = failedUpdate(context, event);
      enqueue.stopChild(event.actorId);
      scheduleFrom(context, update, enqueue, check);
      for (const s of skipped) enqueue({ type: 'reportTaskStatus', params: { task: s, status: 'skipped' } });
    }),
    cancelRunning: enqueueActions(({ context, enqueue }) => {
      context.status.toArray().forEach((status, i) => {
        if (status === 'running') enqueue.sendTo(context.spec.tasks[i]?.name ?? '', { type: 'CANCEL' });
      });
    }),
    recordTimeout: assign({
      timedOut: true,
      error: ({ context }) => timeoutError(`Parallel pattern "${context.name}"`, context.spec.timeoutMs ?? 0),
    }),
    recordCancelled: assign({ error: ({ context }) => cancelledError(`Parallel pattern "${context.name}"`) }),
  },
}).createMachine({
  id: 'parallel',
  context: ({ input }) => ({
    name: input.name,
    spec: input.spec,
    env: input.env,
    limits: {
      cpu: Math.min(input.spec.resourceThreshold, input.caps?.cpu ?? 1),
      memory: Math.min(input.spec.resourceThreshold, input.caps?.memory ?? 1),
    },
    status: PersistentArray.from(input.spec.tasks.map((): StepStatus => 'pending')),
    firstPending: 0,
    waiting: PersistentArray.from(input.spec.tasks.map((t) => t.dependsOn.length)),
    ready: input.spec.tasks.filter((t) => t.dependsOn.length === 0).length,
    running: 0,
    cpu: 0,
    memory: 0,
    completed: undefined,
    failures: 0,
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
    failedSteps: context.failures,
    durationMs: chainSpanMs(context.completed),
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
          actions: ['cancelRunning', 'recordTimeout'],
        },
      },
      on: {
        'STEP.COMPLETED': { actions: 'recordCompletedAndSchedule' },
        'RESOURCES.RECHECK': { actions: 'schedule' },
        'xstate.done.actor.*': { guard: 'isRunningTask', actions: 'recordFailedAndSchedule' },
        'xstate.error.actor.*': { guard: 'isRunningTask', actions: 'recordFailedAndSchedule' },
        CANCEL: {
          target: 'draining',
          actions: ['cancelRunning', 'recordCancelled'],
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
