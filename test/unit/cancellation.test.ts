import { describe, expect, it, vi } from 'vitest';
import { AttemptCancellation, withCancellation } from '../../src/core/cancellation.js';

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

  it('runs every listener and aborts the signal when one throws, and reports that error in a microtask', () => {
    const queued: (() => void)[] = [];
    const spy = vi.spyOn(globalThis, 'queueMicrotask').mockImplementation((fn) => void queued.push(fn));
    try {
      const c = new AttemptCancellation();
      const signal = c.signal;
      const order: string[] = [];
      c.onAbort(() => {
        throw new Error('hook broke');
      });
      c.addEventListener('abort', () => order.push('second'));
      c.abort();
      expect(order).toEqual(['second']);
      expect(signal.aborted).toBe(true);
      expect(queued).toHaveLength(1);
      expect(() => queued[0]?.()).toThrow('hook broke');
    } finally {
      spy.mockRestore();
    }
  });

  it('calls a listener added twice once, and not one removed by an earlier listener', () => {
    const c = new AttemptCancellation();
    const calls: string[] = [];
    const later = () => calls.push('later');
    const twice = () => calls.push('twice');
    c.addEventListener('abort', twice);
    c.addEventListener('abort', twice);
    c.addEventListener('abort', () => c.removeEventListener('abort', later));
    c.addEventListener('abort', later);
    c.abort();
    expect(calls).toEqual(['twice']);
  });
});

describe('withCancellation', () => {
  const fields = {
    runId: 'r',
    pattern: 'p',
    step: 's',
    capability: 'c',
    attempt: 1,
    idempotencyKey: 'r/s',
    input: { params: null, runInput: null, results: {} },
    context: { domain: 'general', agentType: 'general', priority: 1, attributes: {} },
  };

  it('makes the signal on first read; a spread copy keeps the signal but not the cancellation', () => {
    const c = new AttemptCancellation();
    const task = withCancellation({ ...fields }, c);
    expect(task.cancellation).toBe(c);
    expect(Object.keys(task)).not.toContain('cancellation');
    const copy = { ...task };
    expect(copy.signal).toBe(c.signal);
    expect('cancellation' in copy).toBe(false);
    c.abort(new Error('stop'));
    expect(copy.signal.aborted).toBe(true);
  });

  it('a copy that replaces the signal is cancelled by the new signal only', () => {
    const c = new AttemptCancellation();
    const mine = new AbortController();
    const copy: { signal: AbortSignal; cancellation?: unknown } = {
      ...withCancellation({ ...fields }, c),
      signal: mine.signal,
    };
    // what remoteAgent and httpAgent listen to: `task.cancellation ?? task.signal`
    expect(copy.cancellation ?? copy.signal).toBe(mine.signal);
  });
});
