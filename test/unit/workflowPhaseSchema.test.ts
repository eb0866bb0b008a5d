import { describe, expect, it } from 'vitest';
import { metaPatternSchema } from '../../src/cli/workflow/patternSchema.js';

const meta = (resourceAllocation: unknown) => ({
  type: 'meta',
  phases: [{ name: 'p1', patterns: ['a'], coordination: 'parallel', resourceAllocation }],
});

describe('workflow files: a phase resourceAllocation', () => {
  it('accepts cpu and memory caps as fractions', () => {
    const parsed = metaPatternSchema.parse(meta({ cpu: 0.5, memory: 0.25 }));
    expect(parsed.phases[0]?.resourceAllocation).toEqual({ cpu: 0.5, memory: 0.25 });
  });

  it('rejects keys the runtime does not cap and fractions above 1, naming the field', () => {
    const unknownKey = metaPatternSchema.safeParse(meta({ gpu: 1 }));
    expect(unknownKey.success).toBe(false);
    expect(JSON.stringify(unknownKey.error?.issues)).toContain('gpu');
    const tooLarge = metaPatternSchema.safeParse(meta({ cpu: 2 }));
    expect(tooLarge.error?.issues[0]?.path).toEqual(['phases', 0, 'resourceAllocation', 'cpu']);
  });
});
