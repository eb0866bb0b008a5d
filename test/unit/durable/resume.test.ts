import { describe, expect, it } from 'vitest';
import { defineAgent } from '../../../src/actors/agent.js';
import { InvalidPatternError } from '../../../src/core/errors.js';
import { createLogger } from '../../../src/core/logger.js';
import { PatternExecutor } from '../../../src/runtime/PatternExecutor.js';
import { PatternRegistry } from '../../../src/runtime/PatternRegistry.js';
import { SequentialDelegationPattern } from '../../../src/runtime/patterns/index.js';
import { MemoryRunStore } from '../../../src/store/MemoryRunStore.js';
import { essence, executor, journalShows, type SideEffects } from './harness.js';

const fresh = (): SideEffects => ({ calls: [], compensations: [] });
const quickRetry = { maxAttempts: 3, backoff: { initialDelayMs: 200, jitter: 'none' as const } };

describe('durable runs: resume by run id', () => {
  it('returns a finished run’s recorded result without calling any agent', async () => {
    const store = new MemoryRunStore();
    const effects = fresh();
    const first = await executor(store, effects, ['a', 'b']).run('p', {}, { runId: 'r1' });
    expect(first.status).toBe('succeeded');
    const again = await executor(store, effects, ['a', 'b']).run('p', {}, { runId: 'r1' });
    expect(again).toEqual(JSON.parse(JSON.stringify(first)));
    expect(effects.calls.map((c) => c.step)).toEqual(['a', 'b']);
  });

  it('continues a crashed run: completed steps never run again, the step in flight is re-sent with its key', async () => {
    const store = new MemoryRunStore();
    const effects = fresh();
    void executor(store, effects, ['a', 'b', 'c'], { b: { hang: true } }).run(
      'p',
      { domain: 'x' },
      { runId: 'r1' },
    );
    await journalShows(store, 'r1', 'attemptDispatched', 'p/b');
    const resumed = await executor(store, effects, ['a', 'b', 'c']).run('p', {}, { runId: 'r1' });
    const baseline = await executor(new MemoryRunStore(), fresh(), ['a', 'b', 'c']).run('p', { domain: 'x' });
    expect(essence(resumed)).toEqual(essence(baseline));
    expect(effects.calls.map((c) => `${c.step}#${c.attempt}`)).toEqual(['a#1', 'b#1', 'b#1', 'c#1']);
    const keys = effects.calls.filter((c) => c.step === 'b').map((c) => c.key);
    expect(keys).toEqual(['r1/p/b', 'r1/p/b']);
    // the run kept its recorded context and start time
    const details = await executor(store, fresh(), ['a', 'b', 'c']).getRun('r1');
    expect(details?.context).toMatchObject({ domain: 'x' });
    expect(details?.journal.map((e) => e.kind)).toContain('runResumed');
    expect(resumed.startedAt).toBe(details?.startedAt);
  });

  it('keeps a retry’s due time across a restart and does not repeat the failed attempt', async () => {
    const store = new MemoryRunStore();
    const effects = fresh();
    const steps = [{ name: 'a', retry: quickRetry }];
    const first = executor(store, effects, steps, { a: { failOn: [1] } });
    const stopped = first.run('p', {}, { runId: 'r1' }).catch((e: unknown) => e);
    await journalShows(store, 'r1', 'retryDue', 'p/a');
    // the process "stops" during the backoff: its run is suspended, its retry timer gone
    await first.suspendRun('r1');
    expect(String(await stopped)).toContain('Run r1 was suspended');
    const due = (await store.read('r1')).find((e) => e.kind === 'retryDue');
    const result = await executor(store, effects, steps).run('p', {}, { runId: 'r1' });
    expect(result.status).toBe('succeeded');
    expect(effects.calls.map((c) => c.attempt)).toEqual([1, 2]);
    const dispatched = (await store.read('r1')).filter(
      (e) => e.kind === 'attemptDispatched' && e.attempt === 2,
    );
    expect(dispatched[0]!.at).toBeGreaterThanOrEqual((due as { dueAt: number }).dueAt);
    expect(result.steps[0]).toMatchObject({ attempts: 2, status: 'completed' });
  });

  it('compensates each completed step exactly once, in reverse order, across a crash mid-compensation', async () => {
    const store = new MemoryRunStore();
    const effects = fresh();
    const steps = ['a', 'b', 'c'];
    void executor(store, effects, steps, { c: { failAlways: true }, b: { hangCompensation: true } }).run(
      'p',
      {},
      { runId: 'r1' },
    );
    await journalShows(store, 'r1', 'compensationDispatched', 'p/b');
    const result = await executor(store, effects, steps, { c: { failAlways: true } }).run(
      'p',
      {},
      { runId: 'r1' },
    );
    expect(result.status).toBe('rolledBack');
    expect(effects.calls.map((c) => c.step)).toEqual(['a', 'b', 'c']);
    // b's compensation was in flight: sent again with its key; a's ran once
    expect(effects.compensations).toEqual([
      { step: 'b', key: 'r1/p/b/compensate' },
      { step: 'b', key: 'r1/p/b/compensate' },
      { step: 'a', key: 'r1/p/a/compensate' },
    ]);
    const baseline = await executor(new MemoryRunStore(), fresh(), steps, { c: { failAlways: true } }).run(
      'p',
    );
    expect(essence(result)).toEqual(essence(baseline));
  });

  it('refuses to resume a run whose pattern changed, naming the change, unless allowed', async () => {
    const store = new MemoryRunStore();
    const effects = fresh();
    void executor(store, effects, ['a', 'b', 'c'], { b: { hang: true } }).run('p', {}, { runId: 'r1' });
    await journalShows(store, 'r1', 'attemptDispatched', 'p/b');
    const changed = executor(store, effects, ['a', 'x', 'c']);
    const error = await changed.run('p', {}, { runId: 'r1' }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(InvalidPatternError);
    expect((error as Error).message).toContain('steps added: p/x; steps removed: p/b');
    const reordered = executor(store, effects, ['a', 'c', 'b']);
    await expect(reordered.resume('r1')).rejects.toThrow(/steps reordered: p\/c, p\/b/);
    const result = await changed.resume('r1', { allowChangedPattern: true });
    expect(result.status).toBe('succeeded');
    expect(effects.calls.filter((c) => c.step === 'a')).toHaveLength(1);
  });

  it('refuses a run id of another pattern, and an unknown run id to resume', async () => {
    const store = new MemoryRunStore();
    const ex = executor(store, fresh(), ['a'], {}, (registry: PatternRegistry) => {
      registry.registerPattern(new SequentialDelegationPattern({ name: 'p', steps: ['a'] }));
      registry.registerPattern(new SequentialDelegationPattern({ name: 'q', steps: ['a'] }));
    });
    await ex.run('p', {}, { runId: 'r1' });
    await expect(ex.run('q', {}, { runId: 'r1' })).rejects.toThrow('Run r1 is a run of pattern "p", not "q"');
    await expect(ex.resume('nope')).rejects.toThrow('No run "nope" in the store');
    await expect(ex.run('p', {}, { runId: '../etc' })).rejects.toThrow(/run id/);
  });
});

describe('durable runs: write-ahead dispatch', () => {
  /** A store whose appends take a while (a network round trip), as JetStream's do. */
  class SlowStore extends MemoryRunStore {
    override async append(...args: Parameters<MemoryRunStore['append']>) {
      await new Promise((r) => setTimeout(r, 15));
      return super.append(...args);
    }
  }

  it('calls an agent (and a compensation) only once its dispatch and every fact before it are durable', async () => {
    const store = new SlowStore();
    /** What the store held (durably) when each agent call began. */
    const seen: { call: string; facts: string[] }[] = [];
    const look = async (call: string) => {
      const facts = (await store.read('w1')).map((e) =>
        `${e.kind} ${(e as { step?: string }).step ?? ''}`.trim(),
      );
      seen.push({ call, facts });
    };
    const agents = ['a', 'b', 'c'].map((name) =>
      defineAgent({
        id: `agent-${name}`,
        capabilities: [name],
        handler: async () => {
          await look(`do ${name}`);
          if (name === 'c') throw new Error('c fails');
          return name;
        },
        compensate: () => look(`undo ${name}`),
      }),
    );
    const registry = new PatternRegistry();
    registry.registerPattern(
      new SequentialDelegationPattern({ name: 'p', steps: ['a', 'b', 'c'], rollbackEnabled: true }),
    );
    const ex = new PatternExecutor(registry, { agents, store, logger: createLogger('test', 'silent') });
    const result = await ex.run('p', {}, { runId: 'w1' });
    expect(result.status).toBe('rolledBack');
    expect(seen.map((s) => s.call)).toEqual(['do a', 'do b', 'do c', 'undo b', 'undo a']);
    const at = (call: string) => seen.find((s) => s.call === call)!.facts;
    expect(at('do a')).toContain('attemptDispatched p/a');
    expect(at('do b')).toEqual(expect.arrayContaining(['stepCompleted p/a', 'attemptDispatched p/b']));
    expect(at('do c')).toEqual(expect.arrayContaining(['stepCompleted p/b', 'attemptDispatched p/c']));
    expect(at('undo b')).toEqual(expect.arrayContaining(['stepFailed p/c', 'compensationDispatched p/b']));
    expect(at('undo a')).toEqual(
      expect.arrayContaining(['compensationCompleted p/b', 'compensationDispatched p/a']),
    );
  });
});
