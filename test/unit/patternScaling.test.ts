import { describe, expect, it } from 'vitest';
import { createActor, type AnyActorRef } from 'xstate';
import { parallelMachine, type ParallelContext } from '../../src/machines/parallel.machine.js';
import { sequentialMachine, type SequentialContext } from '../../src/machines/sequential.machine.js';
import { stepMachine } from '../../src/machines/step.machine.js';
import { stepSpec, type ParallelSpec } from '../../src/core/spec.js';

/** A step whose every attempt succeeds on the next microtask (a no-op agent, no runtime). */
const instantStep = stepMachine.provide({
  actions: {
    startAttempt: ({ context, self }) => {
      const attempt = context.attempt;
      queueMicrotask(() =>
        (self as AnyActorRef).send({ type: 'ATTEMPT.DONE', attempt, result: { output: 1 } }),
      );
    },
  },
});

/** Runs `actor` to `succeeded`, returning the most children it ever had at once. */
function runToSuccess(
  actor: AnyActorRef,
): Promise<{ maxChildren: number; value: unknown; context: unknown }> {
  return new Promise((resolve, reject) => {
    let maxChildren = 0;
    actor.subscribe({
      next: (s: { value: unknown; children: Record<string, unknown>; context: unknown }) => {
        maxChildren = Math.max(maxChildren, Object.keys(s.children).length);
        if (s.value === 'succeeded') resolve({ maxChildren, value: s.value, context: s.context });
      },
      error: reject,
    });
    actor.start();
  });
}

describe('patterns hold state bounded by what runs, not by their size', () => {
  it('a 5,000-task parallel pattern (maxConcurrent 100) completes with at most 100 live children', async () => {
    const n = 5_000;
    const spec: ParallelSpec = {
      kind: 'parallel',
      tasks: Array.from({ length: n }, (_, i) => stepSpec(`t${i}`)),
      maxConcurrent: 100,
      failureTolerance: 0,
      resourceThreshold: 1,
      rollbackEnabled: true,
    };
    const machine = parallelMachine.provide({ actors: { step: instantStep } });
    const actor = createActor(machine, { input: { name: 'big', spec, env: null } });
    const { maxChildren, context } = await runToSuccess(actor);
    const ctx = context as ParallelContext;
    expect(ctx.completed?.count).toBe(n);
    expect(ctx.running).toBe(0);
    expect(ctx.status.toArray().every((s) => s === 'completed')).toBe(true);
    expect(maxChildren).toBeLessThanOrEqual(100);
    expect(maxChildren).toBeGreaterThan(1);
    actor.stop();
  }, 60_000);

  it('a 500-step sequential pattern completes with one live child at a time', async () => {
    const n = 500;
    const machine = sequentialMachine.provide({ actors: { step: instantStep } });
    const actor = createActor(machine, {
      input: {
        name: 'long',
        spec: {
          kind: 'sequential',
          steps: Array.from({ length: n }, (_, i) => stepSpec(`s${i}`)),
          rollbackEnabled: true,
        },
        env: null,
      },
    });
    const { maxChildren, context } = await runToSuccess(actor);
    expect((context as SequentialContext).completed?.count).toBe(n);
    expect(maxChildren).toBeLessThanOrEqual(2);
    actor.stop();
  }, 60_000);
});
