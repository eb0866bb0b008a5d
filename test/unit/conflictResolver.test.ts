import { describe, expect, it } from 'vitest';
import { SimulatedClock } from 'xstate';
import { ConflictResolver } from '../../src/resolver/conflictResolver.js';
import { isResourceExhaustionError } from '../../src/core/errors.js';

/** Settles a promise now: 'pending' while it waits. */
async function state<T>(p: Promise<T>): Promise<'pending' | { value: T } | { error: unknown }> {
  const marker = Symbol('pending');
  const out = await Promise.race([
    p.then(
      (value) => ({ value }),
      (error: unknown) => ({ error }),
    ),
    Promise.resolve(marker),
  ]);
  return out === marker ? 'pending' : out;
}

describe('ConflictResolver', () => {
  it('grants FIFO within a priority and higher priorities first', async () => {
    const resolver = new ConflictResolver({ clock: new SimulatedClock() });
    const order: string[] = [];
    const first = await resolver.acquire(['db'], { owner: 'holder', priority: 3 });
    const waits = [
      ['low-1', 5],
      ['high-1', 1],
      ['low-2', 5],
      ['high-2', 1],
    ].map(([owner, priority]) =>
      resolver.acquire(['db'], { owner: String(owner), priority: Number(priority) }).then(async (release) => {
        order.push(String(owner));
        await release();
      }),
    );
    await first();
    await Promise.all(waits);
    expect(order).toEqual(['high-1', 'high-2', 'low-1', 'low-2']);
  });

  it('queue strategy serves strictly by arrival; deadline strategy serves the earliest deadline first', async () => {
    for (const [strategy, expected] of [
      ['queue', ['a', 'b', 'c']],
      ['deadline', ['c', 'b', 'a']],
    ] as const) {
      const resolver = new ConflictResolver({ clock: new SimulatedClock(), strategy });
      const release = await resolver.acquire(['r'], { owner: 'h', priority: 1 });
      const order: string[] = [];
      const waits = [
        ['a', 1, 9000],
        ['b', 5, 8000],
        ['c', 3, 7000],
      ].map(([owner, priority, deadline]) =>
        resolver
          .acquire(['r'], { owner: String(owner), priority: Number(priority), deadline: Number(deadline) })
          .then((rel) => {
            order.push(String(owner));
            return rel();
          }),
      );
      await release();
      await Promise.all(waits);
      expect(order, strategy).toEqual(expected);
    }
  });

  it('a lease that is not renewed expires and the next waiter gets the resource', async () => {
    const clock = new SimulatedClock();
    const resolver = new ConflictResolver({ clock });
    const lease = await resolver.acquireLease(['gpu'], {
      owner: 'dying',
      priority: 1,
      session: 's1',
      leaseMs: 1000,
    });
    const next = resolver.acquire(['gpu'], { owner: 'next', priority: 5 });
    clock.increment(600);
    expect(resolver.renew('s1')).toBe(true);
    clock.increment(600);
    expect(await state(next)).toBe('pending');
    clock.increment(500);
    expect(lease.signal.aborted).toBe(true);
    expect(String((lease.signal.reason as Error).message)).toMatch(/lease of dying on gpu expired/);
    expect(typeof (await next)).toBe('function');
    expect(resolver.getConflictHistory().map((r) => r.kind)).toContain('leaseExpired');
  });

  it('fails a wait past its deadline with ResourceExhaustionError naming the holder', async () => {
    const clock = new SimulatedClock();
    const resolver = new ConflictResolver({ clock });
    await resolver.acquire(['x'], { owner: 'h', priority: 1 });
    const waiting = resolver.acquire(['x'], { owner: 'w', priority: 1, deadline: 500 });
    clock.increment(499);
    expect(await state(waiting)).toBe('pending');
    clock.increment(1);
    await expect(waiting).rejects.toSatisfy(
      (e: Error) => isResourceExhaustionError(e) && /held by h/.test(e.message),
    );
  });

  it('aborts the lowest-priority waiter of a deadlock and names the cycle', async () => {
    const resolver = new ConflictResolver({ clock: new SimulatedClock() });
    await resolver.acquire(['a'], { owner: 'A', priority: 1 });
    const releaseB = await resolver.acquire(['b'], { owner: 'B', priority: 4 });
    const aWaits = resolver.acquire(['b'], { owner: 'A', priority: 1 });
    const bWaits = resolver.acquire(['a'], { owner: 'B', priority: 4 });
    const error = await bWaits.then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(isResourceExhaustionError(error)).toBe(true);
    expect((error as { details: { cycle: string[] } }).details.cycle).toEqual(['B', 'A', 'B']);
    expect((error as Error).message).toMatch(/deadlock B → A → B .*aborted the request of B/);
    expect(await state(aWaits)).toBe('pending');
    await releaseB();
    expect(typeof (await aWaits)).toBe('function');
    expect(resolver.getConflictHistory().some((r) => r.kind === 'deadlock')).toBe(true);
  });

  it('preempts a lower-priority holder when preemption is on', async () => {
    const resolver = new ConflictResolver({ clock: new SimulatedClock(), preemption: true });
    const low = await resolver.acquireLease(['r'], { owner: 'low', priority: 5 });
    const high = await resolver.acquireLease(['r'], { owner: 'high', priority: 1 });
    expect(low.signal.aborted).toBe(true);
    expect(high.names).toEqual(['r']);
    expect(resolver.getConflictHistory().at(-1)?.kind).toBe('preemption');
  });

  it('wound-wait: an older owner wounds a younger holder; a younger one waits', async () => {
    const resolver = new ConflictResolver({ clock: new SimulatedClock(), prevention: 'woundWait' });
    const old = await resolver.acquireLease(['a'], { owner: 'old', priority: 3 });
    const young = await resolver.acquireLease(['b'], { owner: 'young', priority: 3 });
    const youngWaits = resolver.acquire(['a'], { owner: 'young', priority: 3 });
    expect(await state(youngWaits)).toBe('pending');
    const oldGetsB = await resolver.acquireLease(['b'], { owner: 'old', priority: 3 });
    expect(young.signal.aborted).toBe(true);
    await expect(youngWaits).rejects.toThrow(/young wounded by older old/);
    expect(oldGetsB.names).toEqual(['b']);
    expect(old.signal.aborted).toBe(false);
  });

  it('ordered acquisition refuses a name that sorts before one already held', async () => {
    const resolver = new ConflictResolver({ clock: new SimulatedClock(), prevention: 'ordered' });
    await resolver.acquire(['m'], { owner: 'o', priority: 1 });
    await expect(resolver.acquire(['a'], { owner: 'o', priority: 1 })).rejects.toThrow(
      /ordered acquisition: o holds or awaits 'm'/,
    );
    expect(typeof (await resolver.acquire(['z'], { owner: 'o', priority: 1 }))).toBe('function');
  });

  it('detectConflicts reports contention; setConflictStrategy accepts the reference names and rejects others', async () => {
    const resolver = new ConflictResolver({ clock: new SimulatedClock() });
    await resolver.acquire(['r'], { owner: 'h', priority: 2 });
    void resolver.acquire(['r'], { owner: 'w', priority: 3 });
    const report = resolver.detectConflicts();
    expect(report.conflicts).toEqual([
      {
        resource: 'r',
        holder: { owner: 'h', priority: 2, requestId: 'h#1' },
        waiters: [{ owner: 'w', priority: 3, requestId: 'w#2', waitingMs: 0 }],
      },
    ]);
    expect(report.deadlocks).toEqual([]);
    resolver.setConflictStrategy('prioritize_critical');
    expect(resolver.table.strategy).toBe('priority');
    resolver.setConflictStrategy('time_based');
    expect(resolver.table.strategy).toBe('deadline');
    let thrown: unknown;
    try {
      resolver.setConflictStrategy('coin_flip');
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toMatchObject({
      code: 'ND_PATTERN_VALIDATION',
      message: expect.stringMatching(/conflict strategy/),
    });
  });

  it('adaptive switches to deadline ordering after many wait timeouts', async () => {
    const clock = new SimulatedClock();
    const resolver = new ConflictResolver({ clock, strategy: 'adaptive' });
    expect(resolver.detectConflicts().strategy).toBe('priority');
    await resolver.acquire(['r'], { owner: 'h', priority: 1 });
    const timeouts = [1, 2, 3].map((i) =>
      resolver.acquire(['r'], { owner: `t${i}`, priority: 1, deadline: 10 }).catch((e: unknown) => e),
    );
    clock.increment(10);
    expect((await Promise.all(timeouts)).every(isResourceExhaustionError)).toBe(true);
    expect(resolver.detectConflicts().strategy).toBe('deadline');
  });
});
