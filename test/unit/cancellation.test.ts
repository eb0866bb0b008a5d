import { describe, expect, it } from 'vitest';
import { AttemptCancellation } from '../../src/actors/cancellation.js';

describe('AttemptCancellation', () => {
  it('calls the runtime hook, then listeners, then the signal, once, with the reason', () => {
    const c = new AttemptCancellation();
    const order: string[] = [];
    c.onAbort(() => order.push('hook'));
    c.addEventListener('abort', () => order.push(`listener:${c.reason?.message}`));
    c.signal.addEventListener('abort', () => order.push(`signal:${(c.signal.reason as Error).message}`));
    expect(c.aborted).toBe(false);
    expect(c.reason).toBeUndefined();
    c.abort(new Error('step s timed out'));
    c.abort(new Error('again'));
    expect(c.aborted).toBe(true);
    expect(c.signal.aborted).toBe(true);
    expect(order).toEqual(['hook', 'listener:step s timed out', 'signal:step s timed out']);
  });

  it('hands out one signal, which a later abort aborts with its reason', () => {
    const c = new AttemptCancellation();
    const signal = c.signal;
    expect(c.signal).toBe(signal);
    expect(signal.aborted).toBe(false);
    c.abort(new Error('stop'));
    expect([c.aborted, signal.aborted, (signal.reason as Error).message]).toEqual([true, true, 'stop']);
  });

  it('hands out an aborted signal with the same reason when first read after the abort', () => {
    const c = new AttemptCancellation();
    c.abort();
    expect(c.signal.aborted).toBe(true);
    expect((c.signal.reason as Error).message).toBe('attempt cancelled');
  });

  it('does not call a cleared hook or a removed listener', () => {
    const c = new AttemptCancellation();
    let called = 0;
    const listener = () => (called += 10);
    c.onAbort(() => (called += 1));
    c.onAbort(undefined);
    c.addEventListener('abort', listener);
    c.addEventListener('abort', () => (called += 100));
    c.removeEventListener('abort', listener);
    c.abort();
    expect(called).toBe(100);
  });

  it('does not call a listener added after the abort (check aborted first, as with an AbortSignal)', () => {
    const c = new AttemptCancellation();
    c.abort();
    let called = false;
    c.addEventListener('abort', () => (called = true));
    expect(called).toBe(false);
  });
});
