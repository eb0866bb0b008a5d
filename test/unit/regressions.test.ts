/**
 * Regression tests for defects found while writing the unit tests (each comment says what was
 * wrong and where); all fixed.
 */
import { describe, expect, it } from 'vitest';
import { defineAgent, type AgentTask, type ResourceArbiter } from '../../src/actors/agent.js';
import { domainFeatures } from '../../src/learning/similarity.js';
import { PatternExecutor } from '../../src/runtime/PatternExecutor.js';
import { PatternRegistry } from '../../src/runtime/PatternRegistry.js';
import {
  PatternExecutionError,
  PatternTimeoutError,
  ResourceExhaustionError,
} from '../../src/core/errors.js';
import {
  DelegationPattern,
  MetaOrchestrationPattern,
  ParallelCoordinationPattern,
  SequentialDelegationPattern,
  revivePattern,
} from '../../src/runtime/patterns/index.js';
import { flush, settle, simulatedClock } from '../../src/testing.js';

const T0 = 1_000_000;

/**
 * An executor whose agent performs any of `capabilities`: a step named in `durations` takes
 * that long (simulated), one named `hang` never finishes unless aborted. Calls are logged.
 */
function env(capabilities: string[], durations: Record<string, number> = {}) {
  const clock = simulatedClock(T0);
  const registry = new PatternRegistry();
  const calls: string[] = [];
  const compensated: string[] = [];
  const agent = defineAgent({
    id: 'w',
    capabilities,
    handler: (task: AgentTask) => {
      calls.push(task.step);
      if (task.step === 'hang' || task.step.endsWith('_hang')) return new Promise(() => undefined);
      if (task.step.startsWith('bad')) throw new Error(`${task.step} broke`);
      const ms = durations[task.step] ?? 0;
      return ms === 0 ? 'ok' : new Promise((resolve) => clock.setTimeout(() => resolve('ok'), ms));
    },
    compensate: (task) => {
      compensated.push(task.step);
    },
  });
  const executor = new PatternExecutor(registry, { clock, agents: [agent] });
  return { clock, registry, executor, calls, compensated };
}

describe('regression: sequential overall timeout restarts with every step', () => {
  // src/machines/sequential.machine.ts: `after: { patternTimeout }` sits on `running`, which is
  // re-entered (`reenter: true`) for each step, so the timer starts over at every step.
  it('times out timeoutSeconds after the pattern started, not after the last step started', async () => {
    const { clock, registry, executor, calls } = env(['a', 'hang'], { a: 4_000 });
    registry.registerPattern(new SequentialDelegationPattern('p', 'd', ['a', 'hang'], 5));
    let finished = false;
    const pending = executor.run('p').finally(() => (finished = true));
    await flush();
    clock.increment(4_000); // a completes; hang starts
    await flush();
    expect(calls).toEqual(['a', 'hang']);
    clock.increment(1_000); // 5 s since the pattern started
    await flush();
    expect(finished).toBe(true);
    clock.increment(4_000); // let the buggy timer fire so the run ends
    const result = await pending;
    expect(result.status).toBe('timedOut');
    expect(result.durationMs).toBe(5_000);
  });
});

describe('regression: meta-orchestration overall timeout restarts with every phase', () => {
  // src/machines/orchestration.machine.ts: `after: { patternTimeout }` sits on `running`, which is
  // left for `phasePassed` and re-entered for the next phase, so the timer starts over per phase.
  it('times out timeoutSeconds after the orchestration started', async () => {
    const { clock, registry, executor, calls } = env(['s1_step', 'hang'], { s1_step: 2_000 });
    registry.registerPattern(new SequentialDelegationPattern('s1', 'd', ['s1_step']));
    registry.registerPattern(new SequentialDelegationPattern('stuck', 'd', ['hang']));
    registry.registerPattern(
      new MetaOrchestrationPattern({
        name: 'meta',
        strategy: {
          phases: [
            { name: 'one', patterns: ['s1'] },
            { name: 'two', patterns: ['stuck'] },
          ],
        },
        timeoutSeconds: 3,
      }),
    );
    let finished = false;
    const pending = executor.run('meta').finally(() => (finished = true));
    await flush();
    clock.increment(2_000); // phase one done, phase two starts
    await flush();
    expect(calls).toEqual(['s1_step', 'hang']);
    clock.increment(1_000); // 3 s since the orchestration started
    await flush();
    expect(finished).toBe(true);
    clock.increment(2_000); // let the buggy timer fire so the run ends
    const result = await pending;
    expect(result.status).toBe('timedOut');
    expect(result.durationMs).toBe(3_000);
  });
});

describe('regression: a sequential meta phase starts the next pattern after the phase has failed', () => {
  // src/machines/orchestration.machine.ts, state running.phase: on `xstate.done.actor.*` the actions
  // are ['recordFailure', 'startPatterns'], so the next pattern is spawned (and its agent called)
  // before the `phaseFailed` guard sees that min_success_rate (default 1) can no longer be met.
  it('does not call the agent for patterns after a failed one when the criteria are unreachable', async () => {
    const { clock, registry, executor, calls } = env(['s1_step', 'bad_step', 's2_step']);
    for (const s of ['s1', 'bad', 's2'])
      registry.registerPattern(new SequentialDelegationPattern(s, 'd', [`${s}_step`]));
    registry.registerPattern(
      new MetaOrchestrationPattern('meta', 'd', {
        phases: [{ name: 'one', patterns: ['s1', 'bad', 's2'], coordination: 'sequential' }],
      }),
    );
    const result = await settle(clock, executor.run('meta'));
    expect(result.success).toBe(false);
    expect(calls).toEqual(['s1_step', 'bad_step']);
    await executor.close();
  });
});

describe('regression: an explicit run timeout is ignored when the pattern declares its own', () => {
  // RunOptions.timeoutMs is documented "default: the pattern's own, else the executor's default",
  // i.e. the explicit one wins; but BuiltInPattern.toSpec(timeoutMs) (Sequential/Parallel/Meta
  // `toSpec`) prefers `this.timeoutSeconds` over the value planRun passes. So the reference's
  // recovery `executor.execute(name, ctx, 300)` after a TimeoutError times out again at the old limit.
  it('run({ timeoutMs }) overrides the pattern timeoutSeconds', async () => {
    const { clock, registry, executor } = env(['slow'], { slow: 2_000 });
    registry.registerPattern(new SequentialDelegationPattern('p', 'd', ['slow'], 1));
    const result = await settle(clock, executor.run('p', {}, { timeoutMs: 5_000 }), 100);
    expect(result.status).toBe('succeeded');
  });

  it('execute(name, ctx, timeoutSeconds) overrides the pattern timeoutSeconds', async () => {
    const { clock, registry, executor } = env(['slow'], { slow: 2_000 });
    registry.registerPattern(
      new ParallelCoordinationPattern({ name: 'p', tasks: ['slow'], timeoutSeconds: 1 }),
    );
    await expect(settle(clock, executor.execute('p', {}, 5), 100)).resolves.toBe(true);
  });
});

describe('regression: revivePattern does not restore createdAt', () => {
  // src/runtime/patterns/DelegationPattern.ts restoreFrom() restores stats, threshold, learning and
  // lastUsedAt but not createdAt (readonly, set to Date.now() in the constructor), so every
  // save → load → save through PatternStorage resets the creation time (and exportLearningData's createdAt).
  it('keeps the snapshot createdAt', () => {
    const snapshot = { ...new SequentialDelegationPattern('p', 'd', ['a']).toSnapshot(), createdAt: 12_345 };
    const revived = revivePattern(snapshot);
    expect(revived.createdAt).toBe(12_345);
    expect(revived.toSnapshot().createdAt).toBe(12_345);
  });
});

describe('regression: waitForCompletion(timeout) sleeps on the wall clock', () => {
  // src/runtime/patterns/ParallelCoordinationPattern.ts waitForCompletion uses the global
  // setTimeout, not the executor's injected Clock ("Time is injected"), so on a simulated clock
  // the timeout never fires when simulated time passes.
  it('resolves false once timeoutSeconds of the executor clock have passed', async () => {
    const { clock, registry, executor } = env(['hang']);
    const p = new ParallelCoordinationPattern('p', 'd', ['hang']);
    registry.registerPattern(p);
    const controller = new AbortController();
    const run = executor.run('p', {}, { signal: controller.signal });
    await flush();
    let outcome: boolean | undefined;
    void p.waitForCompletion(1).then((ok) => (outcome = ok));
    clock.increment(1_000);
    await flush();
    const afterOneSecond = outcome;
    controller.abort();
    await settle(clock, run);
    expect(afterOneSecond).toBe(false);
  });
});

describe('regression: a signal aborted before run() starts is ignored', () => {
  // src/runtime/PatternExecutor.ts waitForEnd only listens for a future 'abort' event; it does not
  // check `signal.aborted`, so an already-cancelled run executes every step and succeeds.
  it('does not run any step when the signal is already aborted', async () => {
    const { clock, registry, executor, calls } = env(['a', 'b']);
    registry.registerPattern(new SequentialDelegationPattern('p', 'd', ['a', 'b']));
    const controller = new AbortController();
    controller.abort();
    const result = await settle(clock, executor.run('p', {}, { signal: controller.signal }));
    expect(calls).toEqual([]);
    expect(result.success).toBe(false);
  });
});

describe('regression: triggerRollback when there is nothing left to roll back does not throw', () => {
  // MetaOrchestrationPattern.triggerRollback documents "@throws PatternExecutionError when there
  // is no succeeded run to roll back", but PatternExecutor.run attaches `rollback` to every meta run;
  // after a failed run it sends ROLLBACK to a stopped actor and resolves true.
  it('rejects with PatternExecutionError when the latest run failed', async () => {
    const { clock, registry, executor } = env(['bad_step']);
    registry.registerPattern(new SequentialDelegationPattern('bad', 'd', ['bad_step']));
    const m = new MetaOrchestrationPattern('meta', 'd', { phases: [{ name: 'one', patterns: ['bad'] }] });
    registry.registerPattern(m);
    expect((await settle(clock, executor.run('meta'))).success).toBe(false);
    await expect(settle(clock, m.triggerRollback('complete'))).rejects.toBeInstanceOf(PatternExecutionError);
  });

  it('rejects with PatternExecutionError once the run was completely rolled back', async () => {
    const { clock, registry, executor, compensated } = env(['s1_step']);
    registry.registerPattern(new SequentialDelegationPattern('s1', 'd', ['s1_step']));
    const m = new MetaOrchestrationPattern('meta', 'd', { phases: [{ name: 'one', patterns: ['s1'] }] });
    registry.registerPattern(m);
    expect((await settle(clock, executor.run('meta'))).success).toBe(true);
    expect(await settle(clock, m.triggerRollback('complete'))).toBe(true);
    expect(compensated).toEqual(['s1_step']);
    await expect(settle(clock, m.triggerRollback('complete'))).rejects.toBeInstanceOf(PatternExecutionError);
  });
});

describe('regression: ParallelCoordinationPattern.addTask ignores the agentMapping', () => {
  // The constructor maps tasks through `agentMapping`, but the mapping is not kept and addTask
  // calls toStepSpecs without it (SequentialDelegationPattern.addStep does apply it).
  it('maps an added task to its agent', () => {
    const p = new ParallelCoordinationPattern({
      name: 'p',
      tasks: ['a'],
      agentMapping: { a: 'agent-a', b: 'agent-b' },
    });
    p.addTask('b');
    expect(p.taskSpecs().map((t) => t.agent)).toEqual(['agent-a', 'agent-b']);
  });
});

describe('regression: domain prefixes lose the underscore', () => {
  // src/learning/similarity.ts domainFeatures documents `web_development.frontend` → `web`,
  // `web_development`, … but joins every prefix with '.', giving `web.development`; domains
  // `web.development.x` and `web_development.x` then share a prefix feature.
  it('keeps the original separators in prefixes', () => {
    expect(domainFeatures('web_development.frontend')).toEqual([
      'domain:web_development.frontend',
      'domain-prefix:web',
      'domain-prefix:web_development',
    ]);
  });
});

describe('regression: a lock the resolver refuses leaks the agent slot and breaker permit', () => {
  // src/actors/stepActors.ts runAttempt: `await run.resolver?.acquire(...)` runs after
  // pool.acquire() but outside the try/finally, so when it rejects (ResourceExhaustionError, abort)
  // the lease is never reported: the agent's slot stays taken (and a half-open probe stays in
  // flight) and the abort listener stays attached. With maxConcurrent 1 the retry waits forever.
  it('retries after a refused lock on an agent with one slot', async () => {
    const clock = simulatedClock(T0);
    const registry = new PatternRegistry();
    let refusals = 1;
    const resolver: ResourceArbiter = {
      acquire: async () => {
        if (refusals-- > 0) throw new ResourceExhaustionError('db is busy', { step: 'a' });
        return async () => undefined;
      },
    };
    const agent = defineAgent({ id: 'w', capabilities: ['a'], maxConcurrent: 1, handler: () => 'done' });
    const executor = new PatternExecutor(registry, { clock, resolver, agents: [agent] });
    registry.registerPattern(
      new SequentialDelegationPattern({
        name: 'p',
        steps: [
          {
            name: 'a',
            locks: ['db'],
            retry: { maxAttempts: 2, backoff: { initialDelayMs: 10, jitter: 'none' } },
          },
        ],
      }),
    );
    let finished = false;
    const run = executor.run('p').finally(() => (finished = true));
    for (let i = 0; i < 20 && !finished; i++) {
      await flush(4);
      clock.increment(10);
    }
    expect(finished).toBe(true);
    expect((await run).steps[0]).toMatchObject({ status: 'completed', attempts: 2, output: 'done' });
  });
});

describe('regression: a custom pattern run on its own has no timeout', () => {
  // execute(name, ctx, timeoutSeconds) documents TimeoutError "when it timed out", but planRun
  // returns { kind: 'customPattern' } without the timeout and customPattern.machine.ts has no
  // `after` delay, so neither the explicit timeout nor the executor default applies.
  it('execute(custom, ctx, 1) rejects with TimeoutError after 1 s of the executor clock', async () => {
    const { clock, registry, executor } = env(['unused']);
    class Stuck extends DelegationPattern {
      matches(): boolean {
        return true;
      }
      execute(): Promise<boolean> {
        return new Promise(() => undefined);
      }
    }
    registry.registerPattern(new Stuck('stuck', 'd'));
    let outcome: unknown;
    void executor.execute('stuck', {}, 1).then(
      (ok) => (outcome = ok),
      (error: unknown) => (outcome = error),
    );
    for (let i = 0; i < 20 && outcome === undefined; i++) {
      await flush(4);
      clock.increment(100);
    }
    expect(outcome).toBeInstanceOf(PatternTimeoutError);
  });
});

describe('regression: registry analytics read the wall clock, outcomes carry the executor clock', () => {
  // PatternExecutor stamps outcomes with its injected clock, but PatternRegistry.getPatternAnalytics
  // builds PatternAnalytics with `now = Date.now()` and offers no way to inject time (unlike
  // cleanupUnusedPatterns(maxAgeHours, now)), so on a simulated clock getTrendAnalysis(7) sees no
  // recent outcomes. Fix: a `now` parameter (or a registry clock) passed to PatternAnalytics.
  it('getTrendAnalysis counts the runs just made on the executor clock', async () => {
    const { clock, registry, executor } = env(['a']);
    registry.registerPattern(new SequentialDelegationPattern('p', 'd', ['a']));
    for (let i = 0; i < 4; i++) await settle(clock, executor.run('p'));
    expect(registry.getPattern('p').executionCount).toBe(4);
    expect(registry.getPatternAnalytics('p').getTrendAnalysis(7).executions).toBe(4);
  });
});
