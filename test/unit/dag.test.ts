import { describe, expect, it } from 'vitest';
import { findCycle } from '../../src/core/dag.js';

const t = (name: string, ...dependsOn: string[]) => ({ name, dependsOn });

describe('findCycle', () => {
  it('returns undefined for no tasks', () => {
    expect(findCycle([])).toBeUndefined();
  });

  it('returns undefined for a DAG (diamond)', () => {
    expect(findCycle([t('a'), t('b', 'a'), t('c', 'a'), t('d', 'b', 'c')])).toBeUndefined();
  });

  it('finds a self-dependency', () => {
    expect(findCycle([t('a', 'a')])).toEqual(['a', 'a']);
  });

  it('finds a two-task cycle as a closed path', () => {
    expect(findCycle([t('a', 'b'), t('b', 'a')])).toEqual(['a', 'b', 'a']);
  });

  it('finds a longer cycle and leaves out the tasks leading into it', () => {
    const cycle = findCycle([t('start', 'x'), t('x', 'y'), t('y', 'z'), t('z', 'x'), t('free')]);
    expect(cycle).toEqual(['x', 'y', 'z', 'x']);
  });

  it('finds a cycle reachable only from a later task', () => {
    expect(findCycle([t('a'), t('b', 'a'), t('c', 'd'), t('d', 'c')])).toEqual(['c', 'd', 'c']);
  });

  it('ignores dependencies on unknown tasks', () => {
    expect(findCycle([t('a', 'ghost'), t('b', 'a')])).toBeUndefined();
  });

  it('handles a long chain without a cycle', () => {
    const chain = Array.from({ length: 500 }, (_, i) => (i === 0 ? t('n0') : t(`n${i}`, `n${i - 1}`)));
    expect(findCycle(chain)).toBeUndefined();
    expect(findCycle([...chain.slice(1), t('n0', 'n499')])).toHaveLength(501);
  });
});
