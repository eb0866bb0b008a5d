import { describe, expect, it } from 'vitest';
import type { AnyStateMachine, AnyStateNode } from 'xstate';
import { backoffCapMs } from '../../src/core/backoff.js';
import { stepSpec } from '../../src/core/spec.js';
import { describeGuard } from '../../src/diagram/machineLabels.js';
import {
  circuitBreakerMachine,
  customPatternMachine,
  orchestrationMachine,
  parallelMachine,
  sequentialMachine,
  stepMachine,
} from '../../src/machines/index.js';
import { sagaGuards, stepSagaGuards } from '../../src/machines/saga.js';

const machines: Record<string, AnyStateMachine> = {
  step: stepMachine,
  sequential: sequentialMachine,
  parallel: parallelMachine,
  orchestration: orchestrationMachine,
  customPattern: customPatternMachine,
  circuitBreaker: circuitBreakerMachine,
};

function nodes(node: AnyStateNode): AnyStateNode[] {
  return [node, ...Object.values(node.states).flatMap((child) => nodes(child))];
}

/** Every guard of every transition (event, after, always, invoke done/error) as diagram text. */
function guardsOf(machine: AnyStateMachine): string[] {
  return nodes(machine.root).flatMap((node) => [
    ...[...node.transitions.values()]
      .flat()
      .flatMap((t) => (t.guard === undefined ? [] : [describeGuard(t.guard) ?? ''])),
    ...(node.always ?? []).flatMap((t) => (t.guard === undefined ? [] : [describeGuard(t.guard) ?? ''])),
  ]);
}

describe('machine implementations', () => {
  it.each(Object.keys(machines))('%s names every guard (none renders as [inline])', (name) => {
    const guards = guardsOf(machines[name]!);
    expect(guards.length).toBeGreaterThan(0);
    expect(guards.filter((g) => g === 'inline' || g === 'guard')).toEqual([]);
    const implemented = Object.keys(machines[name]!.implementations.guards);
    for (const g of guards) expect(implemented).toContain(g);
  });

  it('sequential, parallel and orchestration share one implementation of each saga guard', () => {
    const seq = sequentialMachine.implementations;
    const par = parallelMachine.implementations;
    const meta = orchestrationMachine.implementations;
    for (const [name, guard] of Object.entries(stepSagaGuards)) {
      expect(seq.guards[name]).toBe(guard);
      expect(par.guards[name]).toBe(guard);
    }
    for (const name of ['hasTimeout', 'compensationDone', 'isHeadOfCompensation', 'wasRequested'] as const)
      expect(meta.guards[name]).toBe(sagaGuards[name]);
  });

  it("the step machine's backoff delay is the shared formula, capped", () => {
    const backoff = { initialDelayMs: 100, multiplier: 3, maxDelayMs: 2_000, jitter: 'none' as const };
    const spec = stepSpec('s', { retry: { maxAttempts: 9, backoff } });
    const delay = stepMachine.implementations.delays.backoff as (args: { context: unknown }) => number;
    const delays = [1, 2, 3, 4, 5].map((attempt) => delay({ context: { spec, attempt } }));
    expect(delays).toEqual([100, 300, 900, 2_000, 2_000]);
    expect(delays).toEqual([1, 2, 3, 4, 5].map((attempt) => backoffCapMs(spec.retry.backoff, attempt)));
  });
});
