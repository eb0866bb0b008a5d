import { describe, expect, it } from 'vitest';
import { PatternExecutor } from '../../../src/runtime/PatternExecutor.js';
import { PatternRegistry } from '../../../src/runtime/PatternRegistry.js';
import {
  MetaOrchestrationPattern,
  ParallelCoordinationPattern,
  SequentialDelegationPattern,
} from '../../../src/runtime/patterns/index.js';
import { MemoryRunStore } from '../../../src/store/MemoryRunStore.js';
import { essence, executor, journalShows, type SideEffects } from './harness.js';

const fresh = (): SideEffects => ({ calls: [], compensations: [] });

describe('durable runs: signals, cancel, fork', () => {
  it('a step waits for a signal and completes with its payload, without a store too', async () => {
    const registry = new PatternRegistry();
    registry.registerPattern(
      new SequentialDelegationPattern({
        name: 'p',
        steps: [{ name: 'approve', waitFor: { signal: 'approval' } }],
      }),
    );
    const ex = new PatternExecutor(registry);
    const running = ex.run('p', {}, { runId: 'r1' });
    await new Promise((r) => setTimeout(r, 20));
    await ex.signal('r1', 'approval', { by: 'ann' });
    const result = await running;
    expect(result.steps[0]).toMatchObject({
      status: 'completed',
      output: { by: 'ann' },
      agent: 'signal:approval',
    });
  });

  it('a signal sent while no process runs the run is journaled, and the resumed run completes with it', async () => {
    const store = new MemoryRunStore();
    const effects = fresh();
    const steps = ['a', { name: 'approve', waitFor: { signal: 'approval', timeoutMs: 60_000 } }, 'b'];
    void executor(store, effects, steps).run('p', {}, { runId: 'r1' });
    await journalShows(store, 'r1', 'attemptDispatched', 'p/approve');
    expect((await store.listRuns())[0]?.status).toBe('waiting');
    const later = executor(store, effects, steps);
    // the first executor is still "alive" in this test: signal through the store, as another process would
    await store.append('r1', [{ kind: 'signalReceived', signal: 'approval', payload: 'yes' }], {
      expectedSeq: (await store.read('r1')).length,
    });
    const result = await later.resume('r1');
    expect(result.status).toBe('succeeded');
    expect(result.steps.map((s) => s.output)).toEqual([
      { done: 'a', after: [] },
      'yes',
      { done: 'b', after: ['a', 'approve'] },
    ]);
    expect(effects.calls.map((c) => c.step)).toEqual(['a', 'b']);
  });

  it('a signal wait times out like any step, and the deadline survives a restart', async () => {
    const store = new MemoryRunStore();
    const steps = [{ name: 'approve', waitFor: { signal: 'approval', timeoutMs: 300 } }];
    const started = Date.now();
    void executor(store, fresh(), steps).run('p', {}, { runId: 'r1' });
    await journalShows(store, 'r1', 'attemptDispatched', 'p/approve');
    const dispatched = (await store.read('r1')).find((e) => e.kind === 'attemptDispatched');
    expect((dispatched as { deadlineAt: number }).deadlineAt - started).toBeLessThanOrEqual(330);
    const result = await executor(store, fresh(), steps).resume('r1');
    expect(result.status).toBe('failed');
    expect(result.error?.code).toBe('ND_TIMEOUT');
    expect(Date.now() - started).toBeLessThan(2_000);
  });

  it('cancels a run during a retry backoff: completed steps are compensated, status cancelled', async () => {
    const store = new MemoryRunStore();
    const effects = fresh();
    const steps = [
      'a',
      { name: 'b', retry: { maxAttempts: 5, backoff: { initialDelayMs: 60_000, jitter: 'none' as const } } },
    ];
    const ex = executor(store, effects, steps, { b: { failOn: [1] } });
    const running = ex.run('p', {}, { runId: 'r1' });
    await journalShows(store, 'r1', 'retryDue', 'p/b');
    const cancelled = await ex.cancelRun('r1', 'operator');
    expect(await running).toBe(cancelled);
    expect(cancelled.status).toBe('cancelled');
    expect(effects.compensations.map((c) => c.step)).toEqual(['a']);
    const details = await ex.getRun('r1');
    expect(details).toMatchObject({ status: 'cancelled', cancelRequested: { reason: 'operator' } });
    await expect(ex.cancelRun('r1')).rejects.toThrow('Cannot cancel run r1: it has finished (cancelled)');
  });

  it('cancels a run no process executes: resumes it here to compensate', async () => {
    const store = new MemoryRunStore();
    const effects = fresh();
    void executor(store, effects, ['a', 'b'], { b: { hang: true } }).run('p', {}, { runId: 'r1' });
    await journalShows(store, 'r1', 'attemptDispatched', 'p/b');
    const result = await executor(store, effects, ['a', 'b'], { b: { hang: true } }).cancelRun('r1');
    expect(result.status).toBe('cancelled');
    expect(effects.compensations.map((c) => c.step)).toEqual(['a']);
    expect((await store.listRuns())[0]).toMatchObject({ status: 'cancelled' });
  });

  it('forks a run from a step: earlier outputs are reused, the rest runs again', async () => {
    const store = new MemoryRunStore();
    const effects = fresh();
    const failing = await executor(store, effects, ['a', 'b', 'c'], { c: { failAlways: true } }).run(
      'p',
      {},
      { runId: 'r1' },
    );
    expect(failing.status).toBe('rolledBack');
    effects.calls.length = 0;
    const fixed = executor(store, effects, ['a', 'b', 'c']);
    const fork = await fixed.forkRun('r1', { fromStep: 'b', runId: 'r2' });
    expect(fork).toMatchObject({ runId: 'r2', status: 'succeeded' });
    expect(effects.calls.map((c) => c.key)).toEqual(['r2/p/b', 'r2/p/c']);
    expect(fork.steps[0]).toMatchObject({ name: 'a', output: { done: 'a', after: [] } });
    await expect(fixed.forkRun('r1', { fromStep: 'zz' })).rejects.toThrow(
      'Run r1 has no step "zz" (steps: p/a, p/b, p/c)',
    );
    expect((await fixed.listRuns({ status: 'succeeded' })).map((r) => r.runId)).toEqual(['r2']);
  });

  it('resumes parallel (with dependencies) and meta-orchestration runs to the uninterrupted result', async () => {
    const parallel = (registry: PatternRegistry) =>
      registry.registerPattern(
        new ParallelCoordinationPattern({
          name: 'p',
          tasks: [
            'a',
            { name: 'b', dependsOn: ['a'] },
            { name: 'c', dependsOn: ['a'] },
            { name: 'd', dependsOn: ['b', 'c'] },
          ],
        }),
      );
    const meta = (registry: PatternRegistry) => {
      registry.registerPattern(new SequentialDelegationPattern({ name: 's1', steps: ['a', 'b'] }));
      registry.registerPattern(new SequentialDelegationPattern({ name: 's2', steps: ['c', 'd'] }));
      registry.registerPattern(
        new MetaOrchestrationPattern({
          name: 'p',
          strategy: {
            phases: [
              { name: 'one', patterns: ['s1'] },
              { name: 'two', patterns: ['s2'] },
            ],
          },
        }),
      );
    };
    for (const build of [parallel, meta]) {
      const store = new MemoryRunStore();
      const effects = fresh();
      const steps = ['a', 'b', 'c', 'd'];
      void executor(store, effects, steps, { c: { hang: true } }, build).run('p', {}, { runId: 'r1' });
      await journalShows(store, 'r1', 'attemptDispatched', build === parallel ? 'p/c' : 'p/s2/c');
      const resumed = await executor(store, effects, steps, {}, build).resume('r1');
      const baseline = await executor(new MemoryRunStore(), fresh(), steps, {}, build).run('p');
      // a re-sent task sees the results there are when it is sent again (here c sees b's): compare the rest
      const settled = (r: typeof resumed) =>
        essence(r).steps.map((s) => ({ ...s, output: (s.output as { done?: string } | undefined)?.done }));
      expect(settled(resumed)).toEqual(settled(baseline));
      expect(resumed.status).toBe(baseline.status);
      const count = (s: string) => effects.calls.filter((c) => c.step === s).length;
      expect([count('a'), count('b'), count('c'), count('d')]).toEqual([1, 1, 2, 1]);
    }
  });
});
