import { describe, expect, it } from 'vitest';
import { PatternContext, patternContextSchema } from '../../src/runtime/PatternContext.js';
import { ErrorCode, PatternValidationError } from '../../src/core/errors.js';

function validationError(fn: () => unknown): PatternValidationError {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(PatternValidationError);
    return error as PatternValidationError;
  }
  throw new Error('expected a PatternValidationError');
}

describe('PatternContext constructor', () => {
  it('fills the defaults from an empty object', () => {
    const ctx = new PatternContext();
    expect(ctx.toJSON()).toEqual({ domain: 'general', agentType: 'general', priority: 1, attributes: {} });
  });

  it('accepts the options form', () => {
    const ctx = new PatternContext({
      domain: 'web',
      agentType: 'frontend',
      priority: 3,
      attributes: { a: 1 },
    });
    expect([ctx.domain, ctx.agentType, ctx.priority, ctx.attributes]).toEqual([
      'web',
      'frontend',
      3,
      { a: 1 },
    ]);
  });

  it('accepts the positional form (domain, agentType, priority, attributes)', () => {
    const ctx = new PatternContext('data', 'validator', 2, { size: 'large' });
    expect(ctx.toJSON()).toEqual({
      domain: 'data',
      agentType: 'validator',
      priority: 2,
      attributes: { size: 'large' },
    });
  });

  it('fills defaults for omitted positional arguments', () => {
    const ctx = new PatternContext('data');
    expect(ctx.toJSON()).toEqual({ domain: 'data', agentType: 'general', priority: 1, attributes: {} });
  });

  it('rejects a priority out of 1..5 naming the field', () => {
    const error = validationError(() => new PatternContext({ priority: 6 }));
    expect(error.code).toBe(ErrorCode.PATTERN_VALIDATION);
    expect(error.details.field).toBe('context.priority');
    expect(error.message).toContain('context.priority');
  });

  it('rejects a non-integer priority and a non-string domain', () => {
    expect(validationError(() => new PatternContext({ priority: 1.5 })).details.field).toBe(
      'context.priority',
    );
    expect(validationError(() => new PatternContext({ domain: 3 as unknown as string })).details.field).toBe(
      'context.domain',
    );
  });

  it('rejects unknown keys (strict)', () => {
    const error = validationError(() => new PatternContext({ domian: 'x' } as unknown as { domain: string }));
    expect(error.message).toContain('domian');
  });

  it('exposes the zod schema used for validation', () => {
    expect(patternContextSchema.parse({ domain: 'x' })).toEqual({
      domain: 'x',
      agentType: 'general',
      priority: 1,
      attributes: {},
    });
  });
});

describe('PatternContext.from', () => {
  it('returns the same instance for a PatternContext', () => {
    const ctx = new PatternContext({ domain: 'a' });
    expect(PatternContext.from(ctx)).toBe(ctx);
  });

  it('builds a context from a plain object', () => {
    const ctx = PatternContext.from({ domain: 'ops', priority: 4 });
    expect(ctx).toBeInstanceOf(PatternContext);
    expect(ctx.toJSON()).toEqual({ domain: 'ops', agentType: 'general', priority: 4, attributes: {} });
  });

  it('builds a default context from undefined', () => {
    expect(PatternContext.from(undefined).domain).toBe('general');
  });
});

describe('PatternContext.matchesDomain', () => {
  const ctx = new PatternContext({ domain: 'web_development.frontend' });

  it.each([
    ['web_development.*', true],
    ['web_*', true],
    ['*', true],
    ['web_development.frontend', true],
    ['*.frontend', true],
    ['data_*', false],
    ['web_development', false],
    ['web_development.backend', false],
    ['web_development.front', false],
  ])('%s → %s', (pattern, expected) => {
    expect(ctx.matchesDomain(pattern)).toBe(expected);
  });

  it('treats regex metacharacters other than * literally', () => {
    const dotted = new PatternContext({ domain: 'aXb' });
    expect(dotted.matchesDomain('a.b')).toBe(false);
    expect(new PatternContext({ domain: 'a+b' }).matchesDomain('a+b')).toBe(true);
    expect(new PatternContext({ domain: 'a(b)' }).matchesDomain('a(*)')).toBe(true);
  });
});

describe('PatternContext.hasAttribute', () => {
  const ctx = new PatternContext({
    domain: 'web_dev',
    agentType: 'frontend',
    attributes: { framework: 'react', complexity: 'medium', tags: ['a', 'b'], nothing: null },
  });

  it('checks existence when no value is given', () => {
    expect(ctx.hasAttribute('framework')).toBe(true);
    expect(ctx.hasAttribute('nothing')).toBe(true);
    expect(ctx.hasAttribute('missing')).toBe(false);
  });

  it('compares the value when given', () => {
    expect(ctx.hasAttribute('framework', 'react')).toBe(true);
    expect(ctx.hasAttribute('framework', 'vue')).toBe(false);
  });

  it('compares structured values deeply', () => {
    expect(ctx.hasAttribute('tags', ['a', 'b'])).toBe(true);
    expect(ctx.hasAttribute('tags', ['b', 'a'])).toBe(false);
  });

  it('does not see inherited properties', () => {
    expect(ctx.hasAttribute('toString')).toBe(false);
  });
});

describe('PatternContext.mergeAttributes', () => {
  it('returns a new context with merged attributes and leaves the original unchanged', () => {
    const ctx = new PatternContext({ domain: 'd', agentType: 't', priority: 2, attributes: { a: 1, b: 2 } });
    const merged = ctx.mergeAttributes({ b: 3, c: 4 });
    expect(merged).not.toBe(ctx);
    expect(merged.toJSON()).toEqual({
      domain: 'd',
      agentType: 't',
      priority: 2,
      attributes: { a: 1, b: 3, c: 4 },
    });
    expect(ctx.attributes).toEqual({ a: 1, b: 2 });
  });
});

describe('PatternContext.toJSON', () => {
  it('serialises to the plain data that the constructor accepts', () => {
    const ctx = new PatternContext('x', 'y', 5, { k: [1] });
    const json = JSON.parse(JSON.stringify(ctx)) as ReturnType<PatternContext['toJSON']>;
    expect(json).toEqual({ domain: 'x', agentType: 'y', priority: 5, attributes: { k: [1] } });
    expect(new PatternContext(json).toJSON()).toEqual(json);
  });
});
