import { describe, expect, it } from 'vitest';
import { BoundedCache } from '../../src/runtime/BoundedCache.js';

describe('BoundedCache', () => {
  it('keeps at most capacity entries, dropping the least recently used, and recomputes on a miss', () => {
    const computed: string[] = [];
    const cache = new BoundedCache<string, number>(2);
    const get = (k: string) => cache.get(k, (key) => (computed.push(key), key.length));
    expect([get('a'), get('bb'), get('a'), get('ccc')]).toEqual([1, 2, 1, 3]);
    expect(cache.size).toBe(2);
    expect(get('a')).toBe(1); // kept: used more recently than 'bb'
    expect(get('bb')).toBe(2); // dropped, recomputed
    expect(computed).toEqual(['a', 'bb', 'ccc', 'bb']);
  });
});
