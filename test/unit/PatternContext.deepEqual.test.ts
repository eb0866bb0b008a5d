import { describe, expect, it } from 'vitest';
import { PatternContext } from '../../src/runtime/PatternContext.js';

describe('PatternContext.hasAttribute compares values structurally (util.isDeepStrictEqual)', () => {
  const ctx = new PatternContext({ attributes: { owner: { team: 'data', region: 'eu' }, when: 3 } });

  it('ignores key order, which JSON text comparison did not', () => {
    expect(ctx.hasAttribute('owner', { region: 'eu', team: 'data' })).toBe(true);
  });

  it('still tells different values and types apart', () => {
    expect(ctx.hasAttribute('owner', { team: 'data' })).toBe(false);
    expect(ctx.hasAttribute('when', '3')).toBe(false);
  });
});
