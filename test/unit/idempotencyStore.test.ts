import { describe, expect, it } from 'vitest';
import { SimulatedClock } from 'xstate';
import { IdempotencyStore } from '../../src/actors/idempotencyStore.js';

describe('IdempotencyStore', () => {
  it('replays a completed key until its TTL, then runs it again', async () => {
    const clock = new SimulatedClock();
    const store = new IdempotencyStore<string>(clock, 1000, 10, () => true);
    let runs = 0;
    const fn = async () => `run ${++runs}`;
    expect(await store.run('k', 1, fn)).toEqual({ value: 'run 1', outcome: 'executed' });
    clock.increment(999);
    expect(await store.run('k', 2, fn)).toEqual({ value: 'run 1', outcome: 'replayed' });
    clock.increment(1);
    expect(await store.run('k', 3, fn)).toEqual({ value: 'run 2', outcome: 'executed' });
  });

  it('forgets results that `keep` rejects, and evicts the oldest beyond maxEntries', async () => {
    const store = new IdempotencyStore<string>(new SimulatedClock(), 60_000, 2, (v) => v !== 'transient');
    let runs = 0;
    expect((await store.run('t', 1, async () => (++runs === 1 ? 'transient' : 'ok'))).value).toBe(
      'transient',
    );
    expect((await store.run('t', 2, async () => (++runs === 1 ? 'transient' : 'ok'))).outcome).toBe(
      'executed',
    );
    await store.run('a', 1, async () => 'a');
    await store.run('b', 1, async () => 'b');
    expect((await store.run('t', 3, async () => 'again')).outcome).toBe('executed');
  });

  it('forgets a call that threw, so the next attempt runs again', async () => {
    const store = new IdempotencyStore<string>(new SimulatedClock(), 1000, 10, () => true);
    await expect(store.run('k', 1, () => Promise.reject(new Error('busy')))).rejects.toThrow('busy');
    expect(await store.run('k', 2, async () => 'ran')).toEqual({ value: 'ran', outcome: 'executed' });
  });

  it('cancel aborts the running call unless a newer attempt joined it', async () => {
    const store = new IdempotencyStore<string>(new SimulatedClock(), 1000, 10, () => false);
    let signal: AbortSignal | undefined;
    let finish: (v: string) => void = () => undefined;
    const first = store.run('k', 1, (controller) => {
      signal = controller.signal;
      return new Promise<string>((resolve) => (finish = resolve));
    });
    const joined = store.run('k', 2, async () => 'never');
    expect(store.cancel('k', 1, 'attempt 1 timed out')).toBe(false);
    expect(signal?.aborted).toBe(false);
    expect(store.cancel('k', 2, 'run cancelled')).toBe(true);
    expect(signal?.aborted).toBe(true);
    finish('done');
    expect(await first).toEqual({ value: 'done', outcome: 'executed' });
    expect(await joined).toEqual({ value: 'done', outcome: 'joined' });
    expect(store.running).toBe(0);
  });
});
