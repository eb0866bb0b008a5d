import { afterEach, describe, expect, it } from 'vitest';
import { PatternAnalytics } from '../../src/learning/analytics.js';
import { PatternConfig } from '../../src/runtime/PatternConfig.js';
import { PatternContext } from '../../src/runtime/PatternContext.js';
import { PatternRegistry } from '../../src/runtime/PatternRegistry.js';
import {
  PatternAlreadyExistsError,
  PatternError,
  PatternNotFoundError,
  PatternValidationError,
  isPatternNotFoundError,
} from '../../src/core/errors.js';
import {
  DelegationPattern,
  MetaOrchestrationPattern,
  ParallelCoordinationPattern,
  SequentialDelegationPattern,
} from '../../src/runtime/patterns/index.js';

const HOUR = 3_600_000;

afterEach(() => PatternConfig.reset());

function thrown(fn: () => unknown): PatternError {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(PatternError);
    return error as PatternError;
  }
  throw new Error('expected a PatternError');
}

class OpsPattern extends DelegationPattern {
  matches(context: PatternContext): boolean {
    return context.matchesDomain('ops.*');
  }
  async execute(): Promise<boolean> {
    return true;
  }
}

const seq = (name: string, steps: string[] = ['a'], domains: string[] = []) =>
  new SequentialDelegationPattern({ name, steps, domains });

/** Records `ok` successes then `fail` failures. */
function record(p: DelegationPattern, ok: number, fail = 0, domain?: string): void {
  for (let i = 0; i < ok; i++) p.recordExecution(true, domain, 100, 1_000 + i);
  for (let i = 0; i < fail; i++) p.recordExecution(false, domain, 300, 2_000 + i);
}

describe('PatternRegistry constructor', () => {
  it('has the reference defaults', () => {
    const r = new PatternRegistry();
    expect([r.cacheSize, r.learningEnabled]).toEqual([1000, true]);
  });

  it('accepts the positional form and the options form', () => {
    const positional = new PatternRegistry(100, false);
    expect([positional.cacheSize, positional.learningEnabled]).toEqual([100, false]);
    expect(new PatternRegistry(7).learningEnabled).toBe(true);
    const options = new PatternRegistry({ cacheSize: 3, enableLearning: false });
    expect([options.cacheSize, options.learningEnabled]).toEqual([3, false]);
  });

  it('rejects a bad cache size naming the field', () => {
    const error = thrown(() => new PatternRegistry({ cacheSize: 0 }));
    expect(error).toBeInstanceOf(PatternValidationError);
    expect(error.details.field).toBe('PatternRegistry.cacheSize');
    expect(thrown(() => new PatternRegistry({ size: 3 } as never))).toBeInstanceOf(PatternValidationError);
  });
});

describe('registerPattern / register', () => {
  it('registers patterns retrievable by name, in registration order', () => {
    const r = new PatternRegistry();
    const a = seq('a');
    const b = new ParallelCoordinationPattern('b', 'd', ['t']);
    r.registerPattern(a);
    r.register(b);
    expect(r.getPattern('a')).toBe(a);
    expect(r.getPattern('b')).toBe(b);
    expect(r.has('a')).toBe(true);
    expect(r.has('c')).toBe(false);
    expect(r.listPatterns()).toEqual([a, b]);
  });

  it('rejects a duplicate name with PatternAlreadyExistsError and keeps the first', () => {
    const r = new PatternRegistry();
    const first = seq('flow');
    r.registerPattern(first);
    const error = thrown(() => r.register(seq('flow')));
    expect(error).toBeInstanceOf(PatternAlreadyExistsError);
    expect(error.message).toBe('Pattern "flow" is already registered');
    expect(error.details.patternName).toBe('flow');
    expect(r.getPattern('flow')).toBe(first);
    expect(r.listPatterns()).toHaveLength(1);
  });

  it('rejects something that is not a pattern', () => {
    const error = thrown(() =>
      new PatternRegistry().registerPattern({ name: 'x' } as unknown as DelegationPattern),
    );
    expect(error).toBeInstanceOf(PatternValidationError);
    expect(error.details.field).toBe('pattern');
  });

  it('disables learning on patterns registered in a registry without learning', () => {
    const r = new PatternRegistry({ enableLearning: false });
    const p = seq('p');
    r.registerPattern(p);
    expect(p.learningEnabled).toBe(false);
    p.recordExecution(true);
    expect(p.executionCount).toBe(0);
  });

  it('never forgets a registered pattern or its learning data when more than cacheSize are registered', () => {
    const r = new PatternRegistry({ cacheSize: 2 });
    const a = seq('a');
    const b = seq('b');
    a.lastUsedAt = 500;
    b.lastUsedAt = 100;
    b.recordExecution(true, 'data', 10);
    r.registerPattern(a);
    r.registerPattern(b);
    r.registerPattern(seq('c'));
    expect(r.listPatterns().map((p) => p.name)).toEqual(['a', 'b', 'c']);
    expect(r.getPattern('b').executionCount).toBe(1);
    // the bounded lookup cache still answers similarity searches across more domains than it holds
    expect(r.findSimilarPatterns({ domain: 'x_y.z' }, 0).length).toBe(3);
  });

  it('notifies onRegister listeners until disposed', () => {
    const r = new PatternRegistry();
    const seen: string[] = [];
    const dispose = r.onRegister((p) => seen.push(p.name));
    r.registerPattern(seq('one'));
    dispose();
    r.registerPattern(seq('two'));
    expect(seen).toEqual(['one']);
  });

  it('unregister removes a pattern and reports whether it existed', () => {
    const r = new PatternRegistry();
    r.registerPattern(seq('p'));
    expect(r.unregister('p')).toBe(true);
    expect(r.unregister('p')).toBe(false);
    expect(r.has('p')).toBe(false);
  });
});

describe('getPattern', () => {
  it('throws PatternNotFoundError naming the pattern and listing the registered ones', () => {
    const r = new PatternRegistry();
    r.registerPattern(seq('alpha'));
    r.registerPattern(seq('beta'));
    const error = thrown(() => r.getPattern('gamma'));
    expect(error).toBeInstanceOf(PatternNotFoundError);
    expect(isPatternNotFoundError(error)).toBe(true);
    expect(error.message).toBe('Pattern "gamma" is not registered (registered: alpha, beta)');
    expect(error.details.patternName).toBe('gamma');
  });

  it('says "none" when nothing is registered', () => {
    expect(thrown(() => new PatternRegistry().getPattern('x')).message).toBe(
      'Pattern "x" is not registered (registered: none)',
    );
  });
});

describe('findPatternsByDomain', () => {
  it('finds patterns by declared domain (wildcards) or domains they ran in, highest confidence first', () => {
    const r = new PatternRegistry();
    const web = seq('web', ['a'], ['web_development.*']);
    const webAll = seq('web_all', ['a'], ['web_*']);
    const data = seq('data', ['a'], ['data_processing']);
    const experienced = seq('experienced', ['a']);
    record(web, 2, 3);
    record(webAll, 5);
    record(experienced, 5, 0, 'web_development.frontend');
    experienced.recordExecution(false, 'web_development.frontend', 1, 3_000);
    for (const p of [web, webAll, data, experienced]) r.registerPattern(p);
    expect(r.findPatternsByDomain('web_development.frontend').map((p) => p.name)).toEqual([
      'web_all',
      'experienced',
      'web',
    ]);
    expect(r.findPatternsByDomain('data_processing').map((p) => p.name)).toEqual(['data']);
    expect(r.findPatternsByDomain('billing')).toEqual([]);
  });

  it('asks a custom pattern whether it matches the domain', () => {
    const r = new PatternRegistry();
    const ops = new OpsPattern('ops', 'd');
    r.registerPattern(ops);
    expect(r.findPatternsByDomain('ops.db')).toEqual([ops]);
    expect(r.findPatternsByDomain('web')).toEqual([]);
  });

  it('a pattern without declared domains is found only by domains it ran in', () => {
    const r = new PatternRegistry();
    const p = seq('p');
    r.registerPattern(p);
    expect(r.findPatternsByDomain('general')).toEqual([]);
    p.recordExecution(true, 'general');
    expect(r.findPatternsByDomain('general')).toEqual([p]);
  });
});

describe('findSimilarPatterns', () => {
  function registry() {
    const r = new PatternRegistry();
    const a = seq('a', ['validate', 'process', 'store'], ['data_*']);
    const b = seq('b', ['validate', 'store'], ['data_*']);
    const c = new ParallelCoordinationPattern({ name: 'c', resources: ['cpu'], domains: ['web.*'] });
    const d = seq('d', ['x']);
    d.recordExecution(true, 'data_processing');
    for (const p of [a, b, c, d]) r.registerPattern(p);
    return r;
  }
  const context = new PatternContext({
    domain: 'data_processing',
    agentType: 'sequential',
    attributes: { required_steps: ['validate', 'store'] },
  });

  const named = (list: [DelegationPattern, number][]) => list.map(([p, s]) => [p.name, Number(s.toFixed(4))]);

  it('returns patterns at or above the default threshold 0.7, most similar first', () => {
    expect(named(registry().findSimilarPatterns(context))).toEqual([
      ['b', 1],
      ['a', 0.875],
    ]);
  });

  it('lowers and raises the threshold', () => {
    const r = registry();
    expect(named(r.findSimilarPatterns(context, 0.5))).toEqual([
      ['b', 1],
      ['a', 0.875],
      ['d', 0.625],
    ]);
    expect(named(r.findSimilarPatterns(context, 0))).toEqual([
      ['b', 1],
      ['a', 0.875],
      ['d', 0.625],
      ['c', 0],
    ]);
    expect(named(r.findSimilarPatterns(context, 0.9))).toEqual([['b', 1]]);
  });

  it('accepts a plain object context and scores parallel resources and meta domains', () => {
    const r = new PatternRegistry();
    r.registerPattern(new ParallelCoordinationPattern('res', 'd', new Set(['cpu', 'memory', 'network'])));
    r.registerPattern(new MetaOrchestrationPattern('dom', 'd', new Set(['auth', 'data'])));
    const parallel = r.findSimilarPatterns(
      { agentType: 'parallel', attributes: { required_resources: ['cpu', 'memory'] } },
      0.1,
    );
    // rest: {cpu, memory, kind:parallel} vs {cpu, memory, network, kind:parallel} = 3/4; domain 0.
    expect(named(parallel)).toEqual([['res', 0.375]]);
    const meta = r.findSimilarPatterns(
      { agentType: 'orchestrator', attributes: { requiredDomains: ['auth', 'data'] } },
      0.1,
    );
    expect(named(meta)).toEqual([['dom', 0.5]]);
  });

  it('returns nothing when no pattern is registered', () => {
    expect(new PatternRegistry().findSimilarPatterns(context, 0)).toEqual([]);
  });
});

describe('getPatternAnalytics', () => {
  it('returns analytics computed from the pattern outcomes', () => {
    const r = new PatternRegistry();
    const p = seq('p');
    r.registerPattern(p);
    record(p, 3, 1, 'web');
    const a = r.getPatternAnalytics('p');
    expect(a).toBeInstanceOf(PatternAnalytics);
    expect(a.executionCount).toBe(4);
    expect(a.successRate).toBe(0.75);
    expect(a.avgResponseTime).toBe(150);
    expect(a.domainPerformance).toEqual({ web: 0.75 });
    // Posterior certainty: 1 − sd(Beta(4, 2)) / sd(Beta(1, 1)).
    expect(a.learningProgress).toBeCloseTo(1 - Math.sqrt(8 / (36 * 7)) / Math.sqrt(1 / 12), 10);
    expect(a.confidenceTrend.map((x) => Number(x.toFixed(2)))).toEqual([1, 1, 1, 0.75]);
    // 1 − Brier: predictions 0.5, 1, 1, 1 against outcomes 1, 1, 1, 0.
    expect(a.accuracy).toBeCloseTo(1 - (0.25 + 0 + 0 + 1) / 4, 10);
    expect(a.lastExecution).toEqual(new Date(2_000));
  });

  it('uses the configured minSamples', () => {
    PatternConfig.configureConfidenceCalculation('simple_average', 2);
    const r = new PatternRegistry();
    const p = seq('p');
    r.registerPattern(p);
    record(p, 1);
    expect(r.getPatternAnalytics('p').generateRecommendations()[0]).toMatch(/^Gather more executions/);
    PatternConfig.configureConfidenceCalculation('simple_average', 1);
    expect(r.getPatternAnalytics('p').generateRecommendations()).toEqual([]);
  });

  it('throws PatternNotFoundError for an unknown pattern', () => {
    expect(thrown(() => new PatternRegistry().getPatternAnalytics('nope'))).toBeInstanceOf(
      PatternNotFoundError,
    );
  });
});

describe('cleanupUnusedPatterns', () => {
  it('removes patterns unused for longer than maxAgeHours at the injected now', () => {
    const r = new PatternRegistry();
    const now = 1_000 * HOUR;
    const stale = seq('stale');
    const fresh = seq('fresh');
    const edge = seq('edge');
    stale.lastUsedAt = now - 25 * HOUR;
    fresh.lastUsedAt = now - 1 * HOUR;
    edge.lastUsedAt = now - 24 * HOUR;
    for (const p of [stale, fresh, edge]) r.registerPattern(p);
    expect(r.cleanupUnusedPatterns(24, now)).toBe(1);
    expect(r.listPatterns().map((p) => p.name)).toEqual(['fresh', 'edge']);
    expect(r.cleanupUnusedPatterns(0.5, now)).toBe(2);
    expect(r.listPatterns()).toEqual([]);
    expect(thrown(() => r.getPattern('fresh'))).toBeInstanceOf(PatternNotFoundError);
  });

  it('counts an execution as use', () => {
    const r = new PatternRegistry();
    const p = seq('p');
    p.lastUsedAt = 0;
    r.registerPattern(p);
    p.recordExecution(true, undefined, 0, 48 * HOUR);
    expect(r.cleanupUnusedPatterns(24, 50 * HOUR)).toBe(0);
    expect(r.cleanupUnusedPatterns(1, 50 * HOUR)).toBe(1);
  });

  it('defaults to 24 hours and the wall clock', () => {
    const r = new PatternRegistry();
    const p = seq('recent');
    r.registerPattern(p);
    expect(r.cleanupUnusedPatterns()).toBe(0);
    p.lastUsedAt = Date.now() - 48 * HOUR;
    expect(r.cleanupUnusedPatterns()).toBe(1);
  });
});
