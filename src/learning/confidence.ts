import { credibleInterval, wilsonInterval } from './beta.js';
import { ConfidenceLevel } from './ConfidenceLevel.js';
import { successRate, type OutcomeStats } from './outcomes.js';

/**
 * How confidence is computed from outcomes. One small interface so that patterns and the
 * registry do not depend on the algorithm.
 */
export interface ConfidenceScorer {
  /** 0..1. */
  score(stats: OutcomeStats): number;
  level(stats: OutcomeStats): ConfidenceLevel;
  /** The 95% interval around the score (Wilson, or the Beta credible interval), 0..1. */
  interval?(stats: OutcomeStats): [number, number];
}

/** The algorithms of `PatternConfig.configureConfidenceCalculation`. */
export type ConfidenceAlgorithm = 'simple_average' | 'weighted_average' | 'adaptive_bayes';

/** Knobs of the scorers. */
export interface ScorerOptions {
  readonly minSamples: number;
  /** Step size of `weighted_average`, 0..1. */
  readonly learningRate: number;
  /** Beta prior of `adaptive_bayes`. */
  readonly prior: { readonly alpha: number; readonly beta: number };
  /** Discount factor γ of `adaptive_bayes`, (0, 1]. */
  readonly discount: number;
}

/**
 * The level from the 95% interval's lower bound, once `minSamples` outcomes exist:
 * `ConfidenceLevel.fromScore(lower)` (LOW < 0.5 ≤ MEDIUM ≤ 0.8 < HIGH). So 3 successes of 3 are
 * not HIGH (Wilson lower bound 0.44), 20 of 20 are (0.84).
 */
function levelOf(n: number, minSamples: number, lower: number): ConfidenceLevel {
  if (n < minSamples) return ConfidenceLevel.LOW;
  return ConfidenceLevel.fromScore(lower);
}

/** Memo of a computation on immutable stats (stats objects are replaced, never changed). */
function memo<T>(compute: (stats: OutcomeStats) => T): (stats: OutcomeStats) => T {
  const cache = new WeakMap<OutcomeStats, T>();
  return (stats) => {
    let v = cache.get(stats);
    if (v === undefined) {
      v = compute(stats);
      cache.set(stats, v);
    }
    return v;
  };
}

/**
 * `simple_average`: the sample mean successes / n; interval: Wilson's (1927) on n.
 */
export function simpleAverageScorer(options: Pick<ScorerOptions, 'minSamples'>): ConfidenceScorer {
  return {
    score: successRate,
    interval: (s) => wilsonInterval(s.successes, s.executions),
    level: (s) => levelOf(s.executions, options.minSamples, wilsonInterval(s.successes, s.executions)[0]),
  };
}

/**
 * `weighted_average`: the exponential recency-weighted average Q ← Q + α(r − Q) over the retained
 * outcomes in order, Q₁ = r₁, α = learning rate (Sutton & Barto, "Reinforcement Learning",
 * 2nd ed., §2.5, eq. 2.5). Interval: Wilson's on the effective sample size
 * min(n, (2 − α)/α) of an exponential average.
 */
export function weightedAverageScorer(
  options: Pick<ScorerOptions, 'minSamples' | 'learningRate'>,
): ConfidenceScorer {
  const alpha = options.learningRate;
  const score = memo((s) => {
    let q = 0;
    s.history.forEach((o, i) => {
      const r = o.success ? 1 : 0;
      q = i === 0 ? r : q + alpha * (r - q);
    });
    return s.history.length === 0 ? successRate(s) : q;
  });
  const interval = (s: OutcomeStats): [number, number] => {
    const n = Math.min(s.executions, alpha > 0 ? (2 - alpha) / alpha : Infinity);
    return wilsonInterval(score(s) * n, n);
  };
  return {
    score,
    interval,
    level: (s) => levelOf(s.executions, options.minSamples, interval(s)[0]),
  };
}

/**
 * `adaptive_bayes`: the mean of a discounted Beta posterior, (α₀ + S) / (α₀ + β₀ + S + F) with
 * S = Σ γ^(n−i) r_i and F = Σ γ^(n−i)(1 − r_i) over the retained outcomes (γ = 1: the standard
 * Beta–Bernoulli posterior; γ < 1: discounting for non-stationarity, Raj & Kalyani 2017).
 * Interval: the 95% credible interval (normal approximation).
 */
export function adaptiveBayesScorer(
  options: Pick<ScorerOptions, 'minSamples' | 'prior' | 'discount'>,
): ConfidenceScorer {
  const { prior, discount } = options;
  const posterior = memo((s) => {
    if (discount === 1 || s.history.length === 0)
      return { alpha: prior.alpha + s.successes, beta: prior.beta + s.failures };
    let a = 0;
    let b = 0;
    for (const o of s.history) {
      a = a * discount + (o.success ? 1 : 0);
      b = b * discount + (o.success ? 0 : 1);
    }
    return { alpha: prior.alpha + a, beta: prior.beta + b };
  });
  return {
    score: (s) => {
      const p = posterior(s);
      return p.alpha / (p.alpha + p.beta);
    },
    interval: (s) => credibleInterval(posterior(s)),
    level: (s) => levelOf(s.executions, options.minSamples, credibleInterval(posterior(s))[0]),
  };
}

/** The scorer of an algorithm. */
export function confidenceScorer(algorithm: ConfidenceAlgorithm, options: ScorerOptions): ConfidenceScorer {
  if (algorithm === 'weighted_average') return weightedAverageScorer(options);
  if (algorithm === 'adaptive_bayes') return adaptiveBayesScorer(options);
  return simpleAverageScorer(options);
}

/**
 * Success rate shrunk toward 0 until `minSamples` outcomes exist (the scorer before the learning
 * layer; kept for callers that use it directly): `score = successRate × min(1, n / minSamples)`.
 */
export function successRateScorer(minSamples = 5): ConfidenceScorer {
  return {
    score: (stats) => successRate(stats) * Math.min(1, stats.executions / Math.max(1, minSamples)),
    interval: (s) => wilsonInterval(s.successes, s.executions),
    level(stats) {
      if (stats.executions < minSamples) return ConfidenceLevel.LOW;
      return ConfidenceLevel.fromScore(this.score(stats));
    },
  };
}
