import { describe, expect, it } from 'vitest';
import { isResourceExhaustionError } from '../../src/core/errors.js';
import { Semaphore } from '../../src/core/semaphore.js';

const flush = () => new Promise<void>((resolve) => setImmediate(resolve));

describe('Semaphore', () => {
  it('hands out up to limit permits at once', () => {
    const s = new Semaphore(2);
    expect(s.limit).toBe(2);
    expect(s.tryAcquire()).toBe(true);
    expect(s.tryAcquire()).toBe(true);
    expect(s.tryAcquire()).toBe(false);
    expect(s.active).toBe(2);
    expect(s.waiting).toBe(0);
  });

  it('acquire resolves at once when a permit is free', async () => {
    const s = new Semaphore(1);
    await s.acquire();
    expect(s.active).toBe(1);
  });

  it('queues waiters and grants them in FIFO order on release', async () => {
    const s = new Semaphore(1);
    await s.acquire();
    const order: string[] = [];
    const a = s.acquire().then(() => order.push('a'));
    const b = s.acquire().then(() => order.push('b'));
    await flush();
    expect(order).toEqual([]);
    expect(s.waiting).toBe(2);
    s.release();
    await a;
    expect(order).toEqual(['a']);
    expect(s.active).toBe(1);
    expect(s.waiting).toBe(1);
    s.release();
    await b;
    expect(order).toEqual(['a', 'b']);
    s.release();
    expect(s.active).toBe(0);
  });

  it('never lets active exceed the limit', async () => {
    const s = new Semaphore(3);
    let peak = 0;
    await Promise.all(
      Array.from({ length: 20 }, async () => {
        await s.acquire();
        peak = Math.max(peak, s.active);
        await flush();
        s.release();
      }),
    );
    expect(peak).toBe(3);
    expect(s.active).toBe(0);
  });

  it('release without holders never goes below zero', () => {
    const s = new Semaphore(1);
    s.release();
    s.release();
    expect(s.active).toBe(0);
    expect(s.tryAcquire()).toBe(true);
    expect(s.tryAcquire()).toBe(false);
  });

  it('rejects a waiter with the abort reason and removes it from the queue', async () => {
    const s = new Semaphore(1);
    await s.acquire();
    const controller = new AbortController();
    const waiting = s.acquire(controller.signal);
    expect(s.waiting).toBe(1);
    const reason = new Error('stop waiting');
    controller.abort(reason);
    await expect(waiting).rejects.toBe(reason);
    expect(s.waiting).toBe(0);
    s.release();
    expect(s.active).toBe(0);
  });

  it('rejects with a default error when the abort reason is not an Error', async () => {
    const s = new Semaphore(1);
    s.tryAcquire();
    const controller = new AbortController();
    const waiting = s.acquire(controller.signal);
    controller.abort('just a string');
    await expect(waiting).rejects.toThrow('aborted while waiting for a slot');
  });

  it('does not reject a waiter after it was granted', async () => {
    const s = new Semaphore(1);
    s.tryAcquire();
    const controller = new AbortController();
    const waiting = s.acquire(controller.signal);
    s.release();
    await waiting;
    controller.abort(new Error('late'));
    expect(s.active).toBe(1);
  });

  it('with maxWaiting, runs at most limit at once, queues up to maxWaiting in FIFO order, and refuses more', async () => {
    const s = new Semaphore(1, { maxWaiting: 1, label: 'agent-x' });
    const order: string[] = [];
    let release: () => void = () => undefined;
    const first = s.run(() => new Promise<void>((r) => (release = r)).then(() => void order.push('first')));
    const second = s.run(async () => void order.push('second'));
    const refused = await s.run(async () => void order.push('third')).catch((e: unknown) => e);
    expect(isResourceExhaustionError(refused)).toBe(true);
    expect((refused as Error).message).toBe('agent-x is busy: 1 running and 1 queued');
    expect((refused as { details: { retryable?: boolean } }).details.retryable).toBe(true);
    expect([s.active, s.waiting]).toEqual([1, 1]);
    release();
    await Promise.all([first, second]);
    expect(order).toEqual(['first', 'second']);
    expect([s.active, s.waiting]).toEqual([0, 0]);
  });

  it('run releases the permit when fn throws', async () => {
    const s = new Semaphore(1);
    await expect(s.run(() => Promise.reject(new Error('boom')))).rejects.toThrow('boom');
    expect(s.active).toBe(0);
    expect(await s.run(async () => 42)).toBe(42);
  });
});
