import { describe, expect, it } from 'vitest';
import * as fc from 'fast-check';
import type { EventObject } from 'xstate';
import { chainNames } from '../../src/machines/pattern.types.js';
import { getShortestPaths } from 'xstate/graph';
import { parallelMachine, taskStatus, type ParallelContext } from '../../src/machines/parallel.machine.js';
import type { ParallelSpec, StepSpec } from '../../src/core/spec.js';
import { stepSpec } from '../../src/core/spec.js';
import { done, fakeChild, fakeCompensation, replay, walk, type Log } from './harness.js';

const TIMEOUT = 'xstate.after.patternTimeout.parallel.running';
type Snap = { value: unknown; context: ParallelContext };

const completed = (name: string): EventObject =>
  ({ type: 'STEP.COMPLETED', name, output: name, agent: 'a', attempts: 1 }) as EventObject;
const ended = (name: string, status: string) =>
  done(name, {
    name,
    status,
    attempts: 1,
    agent: 'a',
    error: { name: 'Error', code: 'X', message: `${name} ${status}` },
  });

/** Every answer the running tasks (or the compensation head) could give now. */
function eventsFor({ value, context }: Snap): EventObject[] {
  const running = context.spec.tasks.filter((_, i) => context.status.get(i) === 'running').map((t) => t.name);
  switch (value) {
    case 'running':
      return [...running.flatMap((n) => [completed(n), ended(n, 'failed')]), { type: TIMEOUT }];
    case 'draining':
      return running.flatMap((n) => [completed(n), ended(n, 'cancelled')]);
    case 'compensating': {
      const head = context.toCompensate[0];
      return head === undefined ? [] : [ended(head, 'compensated'), ended(head, 'compensationFailed')];
    }
    case 'succeeded':
      return [{ type: 'COMPENSATE' }];
    default:
      return [];
  }
}

const serialize = ({ value, context }: Snap) =>
  JSON.stringify([
    value,
    context.status.toArray(),
    chainNames(context.completed),
    context.toCompensate,
    context.compensationFailures,
  ]);

/** Checks the coordination invariants on one replayed event sequence. */
function check(spec: ParallelSpec, events: readonly EventObject[]) {
  const log: Log = { commands: [], cursor: -1 };
  const machine = parallelMachine.provide({
    actors: { step: fakeChild(log) as never, compensation: fakeCompensation(log) as never },
  });
  const { snapshot, errors } = replay(machine, { name: 'p', spec, env: null }, events, log);
  expect(errors).toEqual([]);
  const byName = new Map(spec.tasks.map((t) => [t.name, t]));
  const starts = log.commands.filter((c) => c.type === 'SPAWN');
  // Concurrency and resources: replay answers and starts in order.
  const running = new Set<string>();
  const finished = new Map<string, 'completed' | 'failed'>();
  const startAt = (i: number) => starts.filter((c) => c.at === i).map((c) => c.to);
  const admit = (names: string[]) => {
    for (const n of names) {
      const task = byName.get(n)!;
      // A task starts only once its dependencies completed.
      for (const d of task.dependsOn)
        expect(finished.get(d), `${n} started before ${d} completed`).toBe('completed');
      running.add(n);
    }
    expect(running.size).toBeLessThanOrEqual(spec.maxConcurrent);
    if (running.size > 1) {
      const cpu = [...running].reduce((s, r) => s + (byName.get(r)!.resources?.cpu ?? 0), 0);
      expect(cpu).toBeLessThanOrEqual(spec.resourceThreshold + 1e-9);
    }
  };
  admit(startAt(-1));
  events.forEach((e, i) => {
    const name = (e as { name?: string; actorId?: string }).name ?? (e as { actorId?: string }).actorId;
    if (name && running.has(name)) {
      running.delete(name);
      finished.set(name, e.type === 'STEP.COMPLETED' ? 'completed' : 'failed');
    }
    admit(startAt(i));
  });
  // Each task starts at most once; dependents of a failed task never start.
  expect(new Set(starts.map((s) => s.to)).size).toBe(starts.length);
  const failed = [...finished].filter(([, s]) => s === 'failed').map(([n]) => n);
  const blocked = new Set<string>();
  let grew = true;
  while (grew) {
    grew = false;
    for (const t of spec.tasks) {
      if (!blocked.has(t.name) && t.dependsOn.some((d) => failed.includes(d) || blocked.has(d))) {
        blocked.add(t.name);
        grew = true;
      }
    }
  }
  for (const s of starts)
    expect(blocked.has(s.to), `${s.to} depends on a failed task but started`).toBe(false);
  const ctx = snapshot.context as unknown as ParallelContext;
  for (const b of blocked) expect(taskStatus(ctx, b), `${b} should be skipped`).toBe('skipped');
  // Liveness: while running, some task is running (the pattern never stalls).
  if (snapshot.value === 'running') expect(running.size).toBeGreaterThan(0);
  // Compensation: completed tasks, once each, in reverse completion order.
  const completionOrder = events
    .filter((e) => e.type === 'STEP.COMPLETED')
    .map((e) => (e as unknown as { name: string }).name);
  const compensations = log.commands.filter((c) => c.type === 'COMPENSATE').map((c) => c.to);
  expect(compensations).toEqual([...completionOrder].reverse().slice(0, compensations.length));
  if (snapshot.value === 'rolledBack' || snapshot.value === 'compensated')
    expect(compensations).toEqual([...completionOrder].reverse());
  // Success only within the failure tolerance.
  if (snapshot.value === 'succeeded') {
    expect(ctx.failures / spec.tasks.length).toBeLessThanOrEqual(spec.failureTolerance + 1e-9);
    expect(
      ctx.status
        .toArray()
        .every((s) => s === 'completed' || s === 'failed' || s === 'skipped' || s === 'cancelled'),
    ).toBe(true);
  }
}

function spec(
  tasks: StepSpec[],
  maxConcurrent: number,
  failureTolerance: number,
  resourceThreshold = 1,
): ParallelSpec {
  return {
    kind: 'parallel',
    tasks,
    maxConcurrent,
    failureTolerance,
    resourceThreshold,
    rollbackEnabled: true,
    timeoutMs: 1000,
  };
}

describe('parallel machine: graph-enumerated paths', () => {
  // a → c, b → c, c → d; plus an independent e. Resources force a and b apart.
  const tasks = [
    stepSpec('a', { resources: { cpu: 0.6, memory: 0.1 } }),
    stepSpec('b', { resources: { cpu: 0.6, memory: 0.1 } }),
    stepSpec('c', { dependsOn: ['a', 'b'] }),
    stepSpec('d', { dependsOn: ['c'] }),
    stepSpec('e'),
  ];
  for (const [maxConcurrent, tolerance] of [
    [2, 0],
    [3, 0.4],
    [1, 1],
  ] as const) {
    it(`every shortest path keeps the invariants (maxConcurrent ${maxConcurrent}, tolerance ${tolerance})`, () => {
      const s = spec(tasks, maxConcurrent, tolerance, 1);
      const paths = getShortestPaths(parallelMachine, {
        input: { name: 'p', spec: s, env: null },
        events: eventsFor as never,
        serializeState: serialize,
      });
      expect(paths.length).toBeGreaterThan(30);
      const finals = new Set(paths.map((p) => String(p.state.value)));
      for (const f of ['succeeded', 'rolledBack', 'compensated', 'failed'])
        expect(finals.has(f), f).toBe(true);
      for (const p of paths) check(s, p.steps.map((st) => st.event as EventObject).slice(1));
    });
  }
});

/** A random DAG: each task may depend on earlier ones. */
const dagArb = fc.integer({ min: 1, max: 50 }).chain((n) =>
  fc
    .tuple(
      fc.array(fc.array(fc.nat(), { maxLength: 3 }), { minLength: n, maxLength: n }),
      fc.array(fc.double({ min: 0, max: 0.5, noNaN: true }), { minLength: n, maxLength: n }),
    )
    .map(([deps, cpu]) =>
      deps.map((d, i) =>
        stepSpec(`t${i}`, {
          dependsOn: i === 0 ? [] : [...new Set(d.map((x) => `t${x % i}`))],
          resources: { cpu: cpu[i]!, memory: 0 },
        }),
      ),
    ),
);

describe('parallel machine: fast-check walks over random DAGs', () => {
  it('random DAGs up to 50 tasks with random failures keep the invariants', () => {
    fc.assert(
      fc.property(
        dagArb,
        fc.integer({ min: 1, max: 8 }),
        fc.double({ min: 0, max: 1, noNaN: true }),
        fc.array(fc.nat(), { minLength: 200, maxLength: 200 }),
        (tasks, maxConcurrent, tolerance, picks) => {
          const s = spec(tasks, maxConcurrent, tolerance, 0.8);
          const log: Log = { commands: [], cursor: -1 };
          const machine = parallelMachine.provide({
            actors: { step: fakeChild(log) as never, compensation: fakeCompensation(log) as never },
          });
          // Mostly completions, some failures, rarely the timeout.
          const { events } = walk<Snap>(
            machine,
            { name: 'p', spec: s, env: null },
            eventsFor,
            (options, i) => {
              const p = picks[i % picks.length]!;
              const nonTimeout = options.filter((o) => o.type !== TIMEOUT);
              if (p % 97 === 0 || nonTimeout.length === 0) return options.length - 1;
              const completions = options
                .map((o, k) => [o, k] as const)
                .filter(([o]) => o.type === 'STEP.COMPLETED' || o.type === 'COMPENSATE');
              return p % 5 === 0 || completions.length === 0
                ? p % options.length
                : completions[p % completions.length]![1];
            },
            log,
            400,
          );
          check(s, events);
        },
      ),
      { numRuns: 60 },
    );
  });
});
