import { describe, expect, it } from 'vitest';
import * as fc from 'fast-check';
import { PersistentArray } from '../../src/machines/persistentArray.js';

describe('PersistentArray', () => {
  it('keeps every version readable while the newest is written', () => {
    const v0 = PersistentArray.from(['a', 'b', 'c']);
    const v1 = v0.set(1, 'B');
    const v2 = v1.set(2, 'C');
    const w1 = v0.set(0, 'x'); // a branch from an older version
    expect(v2.toArray()).toEqual(['a', 'B', 'C']);
    expect(v0.toArray()).toEqual(['a', 'b', 'c']);
    expect(w1.toArray()).toEqual(['x', 'b', 'c']);
    expect(v1.get(1)).toBe('B');
    expect(v1.get(2)).toBe('c');
    expect(v2.get(2)).toBe('C');
    expect(v0.get(0)).toBe('a');
    expect(v0.set(0, 'a')).toBe(v0);
  });

  it('agrees with copied arrays on random writes to random versions', () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.nat(), fc.nat(4), fc.integer()), { maxLength: 60 }),
        fc.array(fc.nat(), { maxLength: 30 }),
        (writes, reads) => {
          const versions = [PersistentArray.from([0, 0, 0, 0, 0])];
          const copies = [[0, 0, 0, 0, 0]];
          for (const [from, i, value] of writes) {
            const k = from % versions.length;
            versions.push(versions[k]!.set(i, value));
            const copy = copies[k]!.slice();
            copy[i] = value;
            copies.push(copy);
          }
          for (const r of reads) {
            const k = r % versions.length;
            expect(versions[k]!.toArray()).toEqual(copies[k]);
          }
          versions.forEach((v, k) => expect(v.toArray()).toEqual(copies[k]));
        },
      ),
    );
  });
});
