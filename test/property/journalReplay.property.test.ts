import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { defineAgent } from '../../src/actors/agent.js';
import type { AgentTask } from '../../src/core/agent.js';
import { createLogger } from '../../src/core/logger.js';
import type { RunResult } from '../../src/core/result.js';
import { PatternExecutor } from '../../src/runtime/PatternExecutor.js';
import { PatternRegistry } from '../../src/runtime/PatternRegistry.js';
import {
  ParallelCoordinationPattern,
  SequentialDelegationPattern,
} from '../../src/runtime/patterns/index.js';
import type { JournalEntry } from '../../src/store/journal.js';
import { MemoryRunStore } from '../../src/store/MemoryRunStore.js';

/**
 * Journal replay rebuilds the machines: for random patterns (sequential or a parallel DAG) whose
 * agents fail on chosen attempts (retries, rollback), cut the journal of an uninterrupted run
 * after any fact, resume from that prefix, and the run ends in the same state: same statuses,
 * attempts, outputs, compensations, and no agent call for a step whose completion the prefix held.
 */
interface Plan {
  parallel: boolean;
  steps: { failOn: number[]; dependsOnPrevious: boolean }[];
}

/**
 * Random plans whose uninterrupted outcome does not depend on timing: independent parallel tasks
 * race (which one ends first decides what a failure cancels), so a parallel plan with a failing
 * task chains every task on the one before.
 */
const plan: fc.Arbitrary<Plan> = fc
  .record({
    parallel: fc.boolean(),
    steps: fc.array(
      fc.record({
        failOn: fc.subarray([1, 2, 3], { maxLength: 3 }),
        dependsOnPrevious: fc.boolean(),
      }),
      { minLength: 1, maxLength: 5 },
    ),
  })
  .map((p) =>
    p.parallel && p.steps.some((s) => s.failOn.length > 0)
      ? { ...p, steps: p.steps.map((s) => ({ ...s, dependsOnPrevious: true })) }
      : p,
  );

function executor(p: Plan, store: MemoryRunStore, calls: string[]): PatternExecutor {
  const names = p.steps.map((_, i) => `s${i}`);
  const registry = new PatternRegistry();
  const retry = { maxAttempts: 3, backoff: { initialDelayMs: 1, jitter: 'none' as const } };
  if (p.parallel) {
    registry.registerPattern(
      new ParallelCoordinationPattern({
        name: 'p',
        failureTolerance: 0,
        tasks: names.map((name, i) => ({
          name,
          retry,
          dependsOn: i > 0 && p.steps[i]!.dependsOnPrevious ? [names[i - 1]!] : [],
        })),
      }),
    );
  } else {
    registry.registerPattern(
      new SequentialDelegationPattern({ name: 'p', steps: names.map((name) => ({ name, retry })) }),
    );
  }
  const agents = names.map((name, i) =>
    defineAgent({
      id: name,
      capabilities: [name],
      handler: (task: AgentTask) => {
        calls.push(`${name}#${task.attempt}`);
        if (p.steps[i]!.failOn.includes(task.attempt))
          throw new Error(`${name} fails attempt ${task.attempt}`);
        return { step: name, attempt: task.attempt };
      },
      compensate: () => {
        calls.push(`undo ${name}`);
      },
    }),
  );
  return new PatternExecutor(registry, { agents, store, logger: createLogger('test', 'silent') });
}

/** Statuses, attempts, outputs and compensations by step (parallel tasks' report order follows start races). */
const essence = (r: RunResult) => ({
  status: r.status,
  steps: r.steps
    .map((s) => [s.name, s.status, s.attempts, s.output, s.compensation])
    .sort((a, b) => String(a[0]).localeCompare(String(b[0]))),
});

const completedBefore = (entries: readonly JournalEntry[]) =>
  new Set(
    entries.filter((e) => e.kind === 'stepCompleted').map((e) => (e as { step: string }).step.slice(2)),
  );

describe('journal replay (fast-check)', () => {
  it('resuming from any prefix of a run’s journal ends in the uninterrupted run’s state', async () => {
    await fc.assert(
      fc.asyncProperty(plan, fc.double({ min: 0, max: 1, noNaN: true }), async (p, where) => {
        const store = new MemoryRunStore();
        const whole = await executor(p, store, []).run('p', {}, { runId: 'whole' });
        const journal = await store.read('whole');
        // cut after fact `cut` (1 = only runStarted), before runFinished
        const cut = 1 + Math.floor(where * (journal.length - 1));
        const prefix = journal.slice(0, cut).map(({ runId: _r, seq: _s, ...fact }) => fact);
        const again = new MemoryRunStore();
        await again.append('cut', prefix, { expectedSeq: 0 });
        const calls: string[] = [];
        const resumed = await executor(p, again, calls).resume('cut');
        expect(essence(resumed)).toEqual(essence(whole));
        const done = completedBefore(journal.slice(0, cut));
        for (const call of calls.filter((c) => !c.startsWith('undo'))) {
          expect(done.has(call.split('#')[0]!), `${call} ran again after its completion was journaled`).toBe(
            false,
          );
        }
      }),
      { numRuns: 60 },
    );
  });
});
