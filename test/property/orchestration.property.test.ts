import { describe, expect, it } from 'vitest';
import * as fc from 'fast-check';
import type { EventObject } from 'xstate';
import { getShortestPaths } from 'xstate/graph';
import { orchestrationMachine, type OrchestrationContext } from '../../src/machines/orchestration.machine.js';
import type { MetaSpec, RollbackStrategy } from '../../src/core/spec.js';
import { done, fakeChild, replay, walk, type Log } from './harness.js';

type Snap = { value: unknown; context: OrchestrationContext };
const TIMEOUT = 'xstate.after.patternTimeout.orchestration.running';

const succeeded = (name: string): EventObject =>
  ({ type: 'PATTERN.SUCCEEDED', name, durationMs: 5, failedSteps: 0 }) as EventObject;
const ended = (name: string, status: string) =>
  done(name, {
    name,
    status,
    timedOut: false,
    failedSteps: 1,
    durationMs: 5,
    error: { name: 'E', code: 'X', message: `${name} ${status}` },
  });

function eventsFor({ value, context }: Snap): EventObject[] {
  const v = JSON.stringify(value);
  if (v === '{"running":"phase"}') {
    return [...context.running.flatMap((n) => [succeeded(n), ended(n, 'rolledBack')]), { type: TIMEOUT }];
  }
  if (value === 'draining') return context.running.flatMap((n) => [succeeded(n), ended(n, 'failed')]);
  if (value === 'compensating') {
    const head = context.toCompensate[0];
    return head === undefined ? [] : [ended(head, 'compensated'), ended(head, 'failed')];
  }
  if (value === 'succeeded') {
    return [
      { type: 'COMPENSATE' },
      { type: 'ROLLBACK', level: 'pattern' },
      { type: 'ROLLBACK', level: 'phase' },
      { type: 'ROLLBACK', level: 'phase', targetPhase: 'p1' },
    ] as EventObject[];
  }
  return [];
}

const serialize = ({ value, context }: Snap) =>
  JSON.stringify([
    value,
    context.phaseIndex,
    context.running,
    context.completed.map((c) => c.name),
    context.toCompensate,
    context.phases.map((p) => p.outcomes.map((o) => o.success)),
  ]);

function spec(rollbackStrategy: RollbackStrategy, minSuccessRate = 1): MetaSpec {
  return {
    kind: 'meta',
    rollbackStrategy,
    complexityThreshold: 0,
    timeoutMs: 1000,
    phases: [
      { name: 'p1', patterns: ['a', 'b'], coordination: 'sequential', successCriteria: { minSuccessRate } },
      { name: 'p2', patterns: ['c', 'd'], coordination: 'parallel', successCriteria: { minSuccessRate } },
      { name: 'p3', patterns: ['e'], coordination: 'sequential', successCriteria: {} },
    ],
  };
}
const children = Object.fromEntries(
  ['a', 'b', 'c', 'd', 'e'].map((n) => [n, { kind: 'sequential' as const, input: { name: n } }]),
);
const phaseOf = (n: string) => ({ a: 'p1', b: 'p1', c: 'p2', d: 'p2', e: 'p3' })[n]!;

function check(s: MetaSpec, events: readonly EventObject[]) {
  const log: Log = { commands: [], cursor: -1 };
  const machine = orchestrationMachine.provide({ actors: { sequential: fakeChild(log) as never } });
  const { snapshot, errors } = replay(machine, { name: 'm', spec: s, env: null, children }, events, log);
  expect(errors).toEqual([]);
  const spawns = log.commands.filter((c) => c.type === 'SPAWN');
  const successOrder = events
    .filter((e) => e.type === 'PATTERN.SUCCEEDED')
    .map((e) => (e as unknown as { name: string }).name);
  // Phases in order: a pattern of a later phase spawns only after every pattern of earlier phases succeeded or failed.
  const order = ['p1', 'p2', 'p3'];
  for (const sp of spawns) {
    const earlier = s.phases.slice(0, order.indexOf(phaseOf(sp.to))).flatMap((p) => p.patterns);
    for (const e of earlier) {
      const settledAt = events.findIndex(
        (ev) => (ev as { name?: string }).name === e || (ev as { actorId?: string }).actorId === e,
      );
      expect(settledAt, `${sp.to} spawned before ${e} settled`).toBeGreaterThanOrEqual(0);
      expect(settledAt).toBeLessThanOrEqual(sp.at);
    }
  }
  // Sequential coordination: b only after a settled.
  const bSpawn = spawns.find((c) => c.to === 'b');
  if (bSpawn)
    expect(
      events
        .slice(0, bSpawn.at + 1)
        .some((e) => (e as { name?: string }).name === 'a' || (e as { actorId?: string }).actorId === 'a'),
    ).toBe(true);
  // No pattern spawns after the orchestration stopped (a failed phase, timeout).
  const stopAt = events.findIndex((e) => e.type === TIMEOUT);
  if (stopAt >= 0) expect(spawns.filter((c) => c.at >= stopAt)).toEqual([]);
  // Compensations: succeeded patterns only, once each, in reverse success order.
  const comps = log.commands.filter((c) => c.type === 'COMPENSATE').map((c) => c.to);
  expect(new Set(comps).size).toBe(comps.length);
  expect(comps.every((c) => successOrder.includes(c))).toBe(true);
  const reversed = [...successOrder].reverse();
  expect(comps).toEqual(reversed.filter((n) => comps.includes(n)));
  const failedRun = !events.some((e) => e.type === 'COMPENSATE' || e.type === 'ROLLBACK');
  if (failedRun && s.rollbackStrategy === 'pattern_level') expect(comps).toEqual([]);
  if (
    failedRun &&
    s.rollbackStrategy === 'complete' &&
    (snapshot.value === 'rolledBack' || snapshot.value === 'failed')
  )
    expect(comps).toEqual(reversed);
  if (failedRun && s.rollbackStrategy === 'phase_level' && snapshot.value === 'failed') {
    const failedPhase = (snapshot.context as unknown as OrchestrationContext).phases.find(
      (p) => p.status === 'failed',
    )?.name;
    expect(comps.every((c) => phaseOf(c) === failedPhase)).toBe(true);
  }
}

describe('orchestration machine: graph-enumerated paths', () => {
  for (const strategy of ['pattern_level', 'phase_level', 'complete'] as const) {
    for (const minSuccessRate of [1, 0.5]) {
      it(`every shortest path keeps the invariants (${strategy}, min_success_rate ${minSuccessRate})`, () => {
        const s = spec(strategy, minSuccessRate);
        const paths = getShortestPaths(orchestrationMachine, {
          input: { name: 'm', spec: s, env: null, children },
          events: eventsFor as never,
          serializeState: serialize,
        });
        expect(paths.length).toBeGreaterThan(20);
        const finals = new Set(paths.map((p) => JSON.stringify(p.state.value)));
        expect(finals.has('"succeeded"')).toBe(true);
        expect(finals.has('"compensated"')).toBe(true);
        for (const p of paths) check(s, p.steps.map((st) => st.event as EventObject).slice(1));
      });
    }
  }
});

describe('orchestration machine: fast-check walks', () => {
  it('random outcomes and rollback requests keep the invariants', () => {
    fc.assert(
      fc.property(
        fc.constantFrom<RollbackStrategy>('pattern_level', 'phase_level', 'complete'),
        fc.constantFrom(1, 0.5, 0),
        fc.array(fc.nat(), { maxLength: 40 }),
        (strategy, rate, picks) => {
          const s = spec(strategy, rate);
          const log: Log = { commands: [], cursor: -1 };
          const machine = orchestrationMachine.provide({ actors: { sequential: fakeChild(log) as never } });
          const { events } = walk<Snap>(
            machine,
            { name: 'm', spec: s, env: null, children },
            eventsFor,
            (_options, i) => picks[i],
            log,
          );
          check(s, events);
        },
      ),
      { numRuns: 200 },
    );
  });
});
