import { describe, expect, it } from 'vitest';
import { ConfidenceLevel } from '../../src/learning/ConfidenceLevel.js';
import { PatternAnalytics } from '../../src/learning/analytics.js';
import { successRateScorer } from '../../src/learning/confidence.js';
import {
  HISTORY_LIMIT,
  emptyStats,
  recordOutcome,
  successRate,
  type Outcome,
  type OutcomeStats,
} from '../../src/learning/outcomes.js';
import { contextSimilarity, domainFeatures, jaccard } from '../../src/learning/similarity.js';

const DAY = 86_400_000;
const NOW = 100 * DAY;

function statsOf(outcomes: readonly Outcome[]): OutcomeStats {
  return outcomes.reduce(recordOutcome, emptyStats);
}

/** `n` outcomes, `ok` of which succeed (first), spaced one minute apart ending at `end`. */
function outcomes(successes: readonly boolean[], end = NOW, durationMs = 100, domain?: string): Outcome[] {
  return successes.map((success, i) => ({
    at: end - (successes.length - 1 - i) * 60_000,
    success,
    durationMs,
    domain,
  }));
}

const repeat = (value: boolean, n: number): boolean[] => Array.from({ length: n }, () => value);

describe('ConfidenceLevel', () => {
  it('has the reference values LOW=0, MEDIUM=1, HIGH=2', () => {
    expect([ConfidenceLevel.LOW, ConfidenceLevel.MEDIUM, ConfidenceLevel.HIGH]).toEqual([0, 1, 2]);
  });

  it.each([
    [0, ConfidenceLevel.LOW],
    [0.3, ConfidenceLevel.LOW],
    [0.4999, ConfidenceLevel.LOW],
    [0.5, ConfidenceLevel.MEDIUM],
    [0.6, ConfidenceLevel.MEDIUM],
    [0.8, ConfidenceLevel.MEDIUM],
    [0.8001, ConfidenceLevel.HIGH],
    [0.85, ConfidenceLevel.HIGH],
    [1, ConfidenceLevel.HIGH],
  ])('fromScore(%s) is %s', (score, level) => {
    expect(ConfidenceLevel.fromScore(score)).toBe(level);
  });

  it('orders LOW < MEDIUM < HIGH with the comparison operators', () => {
    const { LOW, MEDIUM, HIGH } = ConfidenceLevel;
    expect(LOW < MEDIUM && MEDIUM < HIGH).toBe(true);
    expect(HIGH >= MEDIUM && MEDIUM <= HIGH && HIGH > LOW).toBe(true);
    expect(ConfidenceLevel.fromScore(0.85) > ConfidenceLevel.fromScore(0.6)).toBe(true);
  });

  it('compare returns -1, 0 or 1 and sorts ascending', () => {
    expect(ConfidenceLevel.compare(ConfidenceLevel.LOW, ConfidenceLevel.HIGH)).toBe(-1);
    expect(ConfidenceLevel.compare(ConfidenceLevel.MEDIUM, ConfidenceLevel.MEDIUM)).toBe(0);
    expect(ConfidenceLevel.compare(ConfidenceLevel.HIGH, ConfidenceLevel.LOW)).toBe(1);
    const levels: ConfidenceLevel[] = [2, 0, 1, 0];
    expect(levels.sort((a, b) => ConfidenceLevel.compare(a, b))).toEqual([0, 0, 1, 2]);
  });

  it('nameOf gives the enum names', () => {
    expect([0, 1, 2].map((l) => ConfidenceLevel.nameOf(l as ConfidenceLevel))).toEqual([
      'LOW',
      'MEDIUM',
      'HIGH',
    ]);
  });
});

describe('recordOutcome and successRate', () => {
  it('counts executions, successes, failures and durations', () => {
    const stats = statsOf([
      { at: 1, success: true, durationMs: 10 },
      { at: 2, success: false, durationMs: 30 },
      { at: 3, success: true, durationMs: 20 },
    ]);
    expect(stats).toMatchObject({
      executions: 3,
      successes: 2,
      failures: 1,
      totalDurationMs: 60,
      byDomain: {},
    });
    expect(stats.history.map((o) => o.at)).toEqual([1, 2, 3]);
    expect(successRate(stats)).toBeCloseTo(2 / 3);
  });

  it('counts per domain only when a domain is given', () => {
    const stats = statsOf([
      { at: 1, success: true, durationMs: 0, domain: 'web' },
      { at: 2, success: false, durationMs: 0, domain: 'web' },
      { at: 3, success: false, durationMs: 0, domain: 'data' },
      { at: 4, success: true, durationMs: 0 },
    ]);
    expect(stats.byDomain).toEqual({
      web: { successes: 1, failures: 1 },
      data: { successes: 0, failures: 1 },
    });
  });

  it('is pure: the input stats are unchanged', () => {
    const before = statsOf([{ at: 1, success: true, durationMs: 5, domain: 'x' }]);
    const snapshot = JSON.stringify(before);
    recordOutcome(before, { at: 2, success: false, durationMs: 1, domain: 'x' });
    expect(JSON.stringify(before)).toBe(snapshot);
    expect(emptyStats.executions).toBe(0);
  });

  it(`keeps at most ${HISTORY_LIMIT} outcomes of history, the most recent`, () => {
    const stats = statsOf(
      Array.from({ length: HISTORY_LIMIT + 5 }, (_, i) => ({ at: i, success: true, durationMs: 1 })),
    );
    expect(stats.executions).toBe(HISTORY_LIMIT + 5);
    expect(stats.history).toHaveLength(HISTORY_LIMIT);
    expect(stats.history[0]!.at).toBe(5);
    expect(stats.history[HISTORY_LIMIT - 1]!.at).toBe(HISTORY_LIMIT + 4);
  });

  it('successRate is 0 when never executed', () => {
    expect(successRate(emptyStats)).toBe(0);
  });
});

describe('successRateScorer', () => {
  it('shrinks the success rate until minSamples outcomes exist', () => {
    const scorer = successRateScorer(5);
    expect(scorer.score(emptyStats)).toBe(0);
    expect(scorer.score(statsOf(outcomes(repeat(true, 1))))).toBeCloseTo(0.2);
    expect(scorer.score(statsOf(outcomes(repeat(true, 4))))).toBeCloseTo(0.8);
    expect(scorer.score(statsOf(outcomes(repeat(true, 5))))).toBe(1);
    expect(scorer.score(statsOf(outcomes([true, true, true, false, false, true])))).toBeCloseTo(4 / 6);
  });

  it('keeps the level LOW below minSamples whatever the score', () => {
    const scorer = successRateScorer(3);
    expect(scorer.level(statsOf(outcomes(repeat(true, 2))))).toBe(ConfidenceLevel.LOW);
    expect(scorer.level(statsOf(outcomes(repeat(true, 3))))).toBe(ConfidenceLevel.HIGH);
    expect(scorer.level(statsOf(outcomes([true, true, false])))).toBe(ConfidenceLevel.MEDIUM);
    expect(scorer.level(statsOf(outcomes([true, false, false])))).toBe(ConfidenceLevel.LOW);
  });

  it('defaults minSamples to 5 and treats minSamples below 1 as 1', () => {
    expect(successRateScorer().score(statsOf(outcomes(repeat(true, 4))))).toBeCloseTo(0.8);
    expect(successRateScorer(0).score(statsOf(outcomes([true])))).toBe(1);
  });
});

describe('PatternAnalytics', () => {
  it('computes the summary figures', () => {
    const stats = statsOf([
      { at: NOW - 3000, success: true, durationMs: 100, domain: 'web' },
      { at: NOW - 2000, success: false, durationMs: 300, domain: 'web' },
      { at: NOW - 1000, success: true, durationMs: 200, domain: 'data' },
    ]);
    const a = new PatternAnalytics(stats, successRateScorer(2), 4, NOW);
    expect(a.executionCount).toBe(3);
    expect(a.successRate).toBeCloseTo(2 / 3);
    expect(a.avgResponseTime).toBe(200);
    expect(a.domainPerformance).toEqual({ web: 0.5, data: 1 });
    expect(a.resourceUsage).toEqual({});
    expect(a.lastExecution).toEqual(new Date(NOW - 1000));
    // 1 − sd(Beta(3, 2)) / sd(Beta(1, 1)).
    expect(a.learningProgress).toBeCloseTo(1 - Math.sqrt(6 / (25 * 6)) / Math.sqrt(1 / 12), 10);
    // Scores after each outcome with minSamples 2: 1*0.5, 0.5*1, (2/3)*1.
    expect(a.confidenceTrend).toHaveLength(3);
    expect(a.confidenceTrend[0]).toBeCloseTo(0.5);
    expect(a.confidenceTrend[1]).toBeCloseTo(0.5);
    expect(a.confidenceTrend[2]).toBeCloseTo(2 / 3);
  });

  it('is all zero for a pattern never executed', () => {
    const a = new PatternAnalytics(emptyStats, successRateScorer(), 5, NOW);
    expect([a.executionCount, a.successRate, a.avgResponseTime, a.learningProgress]).toEqual([0, 0, 0, 0]);
    expect(a.lastExecution).toBeUndefined();
    expect(a.confidenceTrend).toEqual([]);
  });

  it('learningProgress grows with the outcomes toward 1, whatever they are', () => {
    const progress = (list: boolean[]) =>
      new PatternAnalytics(statsOf(outcomes(list)), successRateScorer(), 3, NOW).learningProgress;
    const few = progress(repeat(true, 9));
    const many = progress(repeat(true, 900));
    expect(few).toBeGreaterThan(0.6);
    expect(many).toBeGreaterThan(few);
    expect(many).toBeLessThan(1);
    expect(progress([...repeat(true, 450), ...repeat(false, 450)])).toBeGreaterThan(0.9);
  });

  describe('getTrendAnalysis', () => {
    it('reports insufficient data below 4 outcomes in the period', () => {
      const a = new PatternAnalytics(statsOf(outcomes([true, false, true])), successRateScorer(), 5, NOW);
      const t = a.getTrendAnalysis(7);
      expect(t).toEqual({
        days: 7,
        executions: 3,
        successRate: 2 / 3,
        successRateChange: 0,
        success_rate_trend: 'insufficient data',
        avgResponseTimeMs: 100,
        performance_outlook: 'watch',
      });
    });

    it('detects an improving trend (second half better than the first)', () => {
      const a = new PatternAnalytics(
        statsOf(outcomes([false, false, true, true])),
        successRateScorer(),
        5,
        NOW,
      );
      const t = a.getTrendAnalysis();
      expect(t.days).toBe(7);
      expect(t.successRateChange).toBe(1);
      expect(t.success_rate_trend).toBe('improving');
      expect(t.successRate).toBe(0.5);
      expect(t.performance_outlook).toBe('poor');
    });

    it('detects a declining trend', () => {
      const a = new PatternAnalytics(
        statsOf(outcomes([true, true, true, false])),
        successRateScorer(),
        5,
        NOW,
      );
      const t = a.getTrendAnalysis(1);
      expect(t.successRateChange).toBe(-0.5);
      expect(t.success_rate_trend).toBe('declining');
      expect(t.performance_outlook).toBe('watch');
    });

    it('reports a stable trend and a good outlook', () => {
      const a = new PatternAnalytics(statsOf(outcomes(repeat(true, 10))), successRateScorer(), 5, NOW);
      const t = a.getTrendAnalysis(7);
      expect(t.success_rate_trend).toBe('stable');
      expect(t.successRateChange).toBe(0);
      expect(t.performance_outlook).toBe('good');
    });

    it('only counts outcomes within the last `days` days', () => {
      const old = outcomes(repeat(false, 6), NOW - 10 * DAY, 1_000);
      const recent = outcomes(repeat(true, 4), NOW, 50);
      const a = new PatternAnalytics(statsOf([...old, ...recent]), successRateScorer(), 5, NOW);
      const week = a.getTrendAnalysis(7);
      expect(week.executions).toBe(4);
      expect(week.successRate).toBe(1);
      expect(week.avgResponseTimeMs).toBe(50);
      const month = a.getTrendAnalysis(30);
      expect(month.executions).toBe(10);
      expect(month.successRate).toBe(0.4);
      expect(month.success_rate_trend).toBe('improving');
    });

    it('reports an unknown outlook with no outcomes in the period', () => {
      const a = new PatternAnalytics(statsOf(outcomes([true], NOW - 30 * DAY)), successRateScorer(), 5, NOW);
      expect(a.getTrendAnalysis(7)).toMatchObject({
        executions: 0,
        successRate: 0,
        avgResponseTimeMs: 0,
        performance_outlook: 'unknown',
        success_rate_trend: 'insufficient data',
      });
    });
  });

  describe('generateRecommendations', () => {
    it('asks for more samples while learning is incomplete', () => {
      const a = new PatternAnalytics(statsOf(outcomes([true, true])), successRateScorer(), 5, NOW);
      expect(a.generateRecommendations()).toEqual([
        'Gather more executions: 2 so far, confidence stays LOW until enough samples.',
      ]);
    });

    it('returns nothing for a healthy, well-sampled pattern', () => {
      const a = new PatternAnalytics(statsOf(outcomes(repeat(true, 6))), successRateScorer(), 5, NOW);
      expect(a.generateRecommendations()).toEqual([]);
    });

    it('flags a low success rate, weak domains and slow responses', () => {
      const stats = statsOf([
        ...outcomes([true, true, true], NOW - 10_000, 2_000, 'web'),
        ...outcomes([false, false, true], NOW, 2_000, 'legacy'),
      ]);
      const a = new PatternAnalytics(stats, successRateScorer(), 5, NOW);
      expect(a.generateRecommendations()).toEqual([
        'Success rate 66.7% is below 85%: add retries or a fallback pattern.',
        'Domain "legacy" succeeds only 33% of the time: route it to another pattern.',
        'Average response time 2000 ms: consider parallel coordination.',
      ]);
    });
  });
});

describe('similarity', () => {
  it('jaccard is |A∩B| / |A∪B|', () => {
    expect(jaccard(new Set(['a', 'b']), new Set(['b', 'c']))).toBeCloseTo(1 / 3);
    expect(jaccard(new Set(['a']), new Set(['a']))).toBe(1);
    expect(jaccard(new Set(['a']), new Set(['b']))).toBe(0);
    expect(jaccard(new Set(), new Set(['b']))).toBe(0);
    expect(jaccard(new Set(), new Set())).toBe(0);
  });

  it('domainFeatures lists the domain and each prefix', () => {
    expect(domainFeatures('web')).toEqual(['domain:web']);
    expect(domainFeatures('data.etl')).toEqual(['domain:data.etl', 'domain-prefix:data']);
    expect(domainFeatures('web_development.frontend')).toHaveLength(3);
    expect(domainFeatures('web_development.frontend')[0]).toBe('domain:web_development.frontend');
    expect(domainFeatures('web_development.frontend')[1]).toBe('domain-prefix:web');
  });

  it('contextSimilarity weighs domain and other features half each', () => {
    const s = (items: string[]) => new Set(items);
    expect(
      contextSimilarity(
        { domainMatch: true, domainFeatures: s([]), features: s(['item:a', 'item:b']) },
        { domainFeatures: s(['domain:x']), features: s(['item:a', 'item:b']) },
      ),
    ).toBe(1);
    expect(
      contextSimilarity(
        { domainMatch: true, domainFeatures: s([]), features: s(['item:a']) },
        { domainFeatures: s([]), features: s(['item:b']) },
      ),
    ).toBe(0.5);
    expect(
      contextSimilarity(
        { domainMatch: false, domainFeatures: s(['domain:a', 'domain-prefix:x']), features: s(['item:a']) },
        { domainFeatures: s(['domain:b', 'domain-prefix:x']), features: s(['item:a', 'item:b']) },
      ),
    ).toBeCloseTo(0.5 * (1 / 3) + 0.5 * 0.5);
  });

  it('uses the domain similarity for the rest when neither side has other features', () => {
    const s = (items: string[]) => new Set(items);
    expect(
      contextSimilarity(
        { domainMatch: false, domainFeatures: s(['domain:a', 'domain-prefix:x']), features: s([]) },
        { domainFeatures: s(['domain:a']), features: s([]) },
      ),
    ).toBe(0.5);
  });
});
