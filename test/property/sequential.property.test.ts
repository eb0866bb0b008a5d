import { describe, expect, it } from 'vitest';
import * as fc from 'fast-check';
import type { EventObject } from 'xstate';
import { chainNames } from '../../src/machines/pattern.types.js';
import { getShortestPaths, getSimplePaths } from 'xstate/graph';
import { sequentialMachine, type SequentialContext } from '../../src/machines/sequential.machine.js';
import type { SequentialSpec } from '../../src/core/spec.js';
import { done, fakeChild, fakeCompensation, replay, steps, walk, type Log } from './harness.js';

const TIMEOUT = 'xstate.after.patternTimeout.sequential.running';

/** Every answer a child could give in the parent's current state. */
function eventsFor(snapshot: { value: unknown; context: SequentialContext }): EventObject[] {
  const { context } = snapshot;
  const value = JSON.stringify(snapshot.value) === '{"running":"step"}' ? 'running' : snapshot.value;
  const current = context.spec.steps[context.index]?.name;
  const head = context.toCompensate[0];
  const step = (status: string, name: string) =>
    done(name, { name, status, attempts: 1, agent: 'a', error: undefined });
  switch (value) {
    case 'running':
      return current === undefined
        ? []
        : [
            {
              type: 'STEP.COMPLETED',
              name: current,
              output: current,
              agent: 'a',
              attempts: 1,
            } as EventObject,
            step('failed', current),
            { type: TIMEOUT },
            { type: 'CANCEL' },
          ];
    case 'draining':
      return current === undefined
        ? []
        : [
            {
              type: 'STEP.COMPLETED',
              name: current,
              output: current,
              agent: 'a',
              attempts: 1,
            } as EventObject,
            step('cancelled', current),
          ];
    case 'compensating':
      return head === undefined ? [] : [step('compensated', head), step('compensationFailed', head)];
    case 'succeeded':
      return [{ type: 'COMPENSATE' }];
    default:
      return [];
  }
}

const serialize = (s: { value: unknown; context: SequentialContext }) =>
  JSON.stringify([
    s.value,
    s.context.index,
    chainNames(s.context.completed),
    s.context.toCompensate,
    s.context.compensationFailures,
    s.context.compensationReason,
  ]);

function spec(n: number, rollbackEnabled: boolean): SequentialSpec {
  return { kind: 'sequential', steps: steps(n), rollbackEnabled, timeoutMs: 1000 };
}

/** Asserts the saga invariants on one replayed path. */
function checkPath(n: number, rollbackEnabled: boolean, events: readonly EventObject[]) {
  const log: Log = { commands: [], cursor: -1 };
  const machine = sequentialMachine.provide({
    actors: { step: fakeChild(log) as never, compensation: fakeCompensation(log) as never },
  });
  const { snapshot, errors } = replay(
    machine,
    { name: 'p', spec: spec(n, rollbackEnabled), env: null },
    events,
    log,
  );
  expect(errors).toEqual([]);
  const ctx = snapshot.context as unknown as SequentialContext;
  const completedOrder = events
    .filter((e) => e.type === 'STEP.COMPLETED')
    .map((e) => (e as unknown as { name: string }).name);
  const starts = log.commands.filter((c) => c.type === 'SPAWN');
  const compensations = log.commands.filter((c) => c.type === 'COMPENSATE').map((c) => c.to);
  // Steps start in order, once each.
  expect(starts.map((c) => c.to)).toEqual(starts.map((_, i) => `s${i}`));
  // No step starts after the pattern failed (a failure, timeout or cancel event).
  const firstFailure = events.findIndex(
    (e) => e.type.startsWith('xstate.done.actor') || e.type === TIMEOUT || e.type === 'CANCEL',
  );
  if (firstFailure >= 0) expect(starts.filter((c) => c.at >= firstFailure)).toEqual([]);
  // Each step is compensated at most once, only if it completed, in reverse completion order.
  expect(new Set(compensations).size).toBe(compensations.length);
  expect(compensations.every((c) => completedOrder.includes(c))).toBe(true);
  expect(compensations).toEqual([...completedOrder].reverse().slice(0, compensations.length));
  // A finished rollback compensated every completed step exactly once.
  if (snapshot.value === 'rolledBack' || snapshot.value === 'compensated') {
    expect(compensations).toEqual([...completedOrder].reverse());
  }
  if (
    snapshot.value === 'failed' &&
    rollbackEnabled &&
    completedOrder.length > 0 &&
    ctx.compensationFailures === 0
  ) {
    throw new Error(`failed without compensation failures after ${completedOrder.length} completions`);
  }
  // Without rollback, only a parent's COMPENSATE after success compensates anything.
  if (!rollbackEnabled && !events.some((e) => e.type === 'COMPENSATE')) expect(compensations).toEqual([]);
}

describe('sequential machine: graph-enumerated paths', () => {
  for (const rollbackEnabled of [true, false]) {
    it(`every simple path of a 3-step saga keeps the invariants (rollback ${rollbackEnabled})`, () => {
      const input = { name: 'p', spec: spec(3, rollbackEnabled), env: null };
      const paths = getSimplePaths(sequentialMachine, {
        input,
        events: eventsFor as never,
        serializeState: serialize,
      });
      const finals = new Set(
        paths.map((p) => (typeof p.state.value === 'string' ? p.state.value : 'running')),
      );
      expect(paths.length).toBeGreaterThan(20);
      expect([...finals].sort()).toEqual(
        rollbackEnabled
          ? ['compensated', 'compensating', 'draining', 'failed', 'rolledBack', 'running', 'succeeded']
          : ['compensated', 'compensating', 'draining', 'failed', 'running', 'succeeded'],
      );
      for (const path of paths)
        checkPath(3, rollbackEnabled, path.steps.map((s) => s.event as EventObject).slice(1));
    });
  }

  it('shortest paths reach rolledBack through a timeout and through a failure', () => {
    const input = { name: 'p', spec: spec(3, true), env: null };
    const paths = getShortestPaths(sequentialMachine, {
      input,
      events: eventsFor as never,
      serializeState: serialize,
    });
    const rolledBack = paths.filter((p) => p.state.value === 'rolledBack');
    const triggers = new Set(
      rolledBack
        .flatMap((p) => p.steps.map((s) => String(s.event.type)))
        .filter((t) => t === TIMEOUT || t.startsWith('xstate.done.actor')),
    );
    expect(triggers.has(TIMEOUT)).toBe(true);
    expect([...triggers].some((t) => t.startsWith('xstate.done.actor'))).toBe(true);
  });
});

describe('sequential machine: fast-check walks', () => {
  it('random answer sequences on up to 8 steps keep the invariants', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 8 }),
        fc.boolean(),
        fc.array(fc.nat(), { maxLength: 60 }),
        (n, rollback, picks) => {
          const log: Log = { commands: [], cursor: -1 };
          const machine = sequentialMachine.provide({
            actors: { step: fakeChild(log) as never, compensation: fakeCompensation(log) as never },
          });
          const input = { name: 'p', spec: spec(n, rollback), env: null };
          const { events } = walk(machine, input, eventsFor, (_, i) => picks[i], log);
          checkPath(n, rollback, events);
        },
      ),
      { numRuns: 200 },
    );
  });
});
