import { describe, expect, it } from 'vitest';
import { AttemptCancellation } from '../../src/actors/cancellation.js';

describe('AttemptCancellation', () => {
  it('aborts a signal created before the abort, after the runtime hook', () => {
    const c = new AttemptCancellation();
    const order: string[] = [];
    c.onAbort(() => order.push('hook'));
    c.signal.addEventListener('abort', () => order.push('signal'));
    expect(c.aborted).toBe(false);
    c.abort();
    c.abort();
    expect(c.aborted).toBe(true);
    expect(c.signal.aborted).toBe(true);
    expect(order).toEqual(['hook', 'signal']);
  });

  it('hands out an aborted signal when first read after the abort', () => {
    const c = new AttemptCancellation();
    c.abort();
    expect(c.signal.aborted).toBe(true);
  });

  it('a cleared hook is not called', () => {
    const c = new AttemptCancellation();
    let called = 0;
    c.onAbort(() => (called += 1));
    c.onAbort(undefined);
    c.abort();
    expect(called).toBe(0);
  });
});
