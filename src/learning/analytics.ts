import type { ConfidenceScorer } from './confidence.js';
import { emptyStats, recordOutcome, successRate, type OutcomeStats } from './outcomes.js';

const DAY_MS = 86_400_000;
const MIB = 1024 * 1024;

/** Means and peak of the measured outcomes (see `PatternAnalytics.resourceUsage`). */
function resourceFigures(history: OutcomeStats['history']): Record<string, number> {
  const measured = history.filter((o) => o.cpuMs !== undefined || o.peakRssBytes !== undefined);
  if (measured.length === 0) return {};
  const sum = (f: (o: (typeof measured)[number]) => number) => measured.reduce((s, o) => s + f(o), 0);
  return {
    measuredRuns: measured.length,
    avgWallTimeMs: sum((o) => o.durationMs) / measured.length,
    avgCpuTimeMs: sum((o) => o.cpuMs ?? 0) / measured.length,
    peakRssMb: Math.max(...measured.map((o) => o.peakRssBytes ?? 0)) / MIB,
  };
}

/** Trend over a period. */
export interface TrendAnalysis {
  readonly days: number;
  readonly executions: number;
  /** 0..1 in the period. */
  readonly successRate: number;
  /** Success rate of the second half of the period minus the first half (-1..1). */
  readonly successRateChange: number;
  readonly success_rate_trend: 'improving' | 'declining' | 'stable' | 'insufficient data';
  /** Mean duration in the period, ms. */
  readonly avgResponseTimeMs: number;
  readonly performance_outlook: 'good' | 'watch' | 'poor' | 'unknown';
}

/**
 * Performance analytics of one pattern, computed from its outcome statistics (pure).
 */
export class PatternAnalytics {
  readonly executionCount: number;
  /** 0..1. */
  readonly successRate: number;
  /** Mean duration, ms. */
  readonly avgResponseTime: number;
  /** Confidence score after each recorded outcome (oldest first), 0..1. */
  readonly confidenceTrend: readonly number[];
  /** Success rate by domain, 0..1. */
  readonly domainPerformance: Readonly<Record<string, number>>;
  /**
   * Measured resource figures over the recorded history's runs that carry them (the
   * executor measures every built-in pattern run; empty when none was measured):
   * `measuredRuns` (count), `avgWallTimeMs` (mean wall time, ms), `avgCpuTimeMs` (mean CPU
   * time of the process and its reaped children, e.g. command agents, during the run, ms),
   * `peakRssMb` (highest resident set size of the process sampled during a run, MiB).
   * Process-wide figures: runs that overlap share them.
   */
  readonly resourceUsage: Readonly<Record<string, number>>;
  readonly lastExecution: Date | undefined;
  /**
   * Posterior certainty, 0..1: 1 − sd(posterior) / sd(prior) of the Beta posterior of its success
   * rate (the prior alone is 0; it approaches 1 as outcomes accumulate, whatever they are).
   */
  readonly learningProgress: number;
  /**
   * How well the confidence score predicted the outcomes, 0..1: 1 − the Brier score (G. W. Brier,
   * Monthly Weather Review 78, 1950), i.e. 1 − mean over retained outcomes of
   * (confidence before the outcome − outcome)², the confidence before the first being 0.5.
   * 1 means every outcome was predicted with certainty; 0.75 is a constant 0.5 guess.
   */
  readonly accuracy: number;
  private readonly minSamples: number;

  constructor(
    private readonly stats: OutcomeStats,
    scorer: ConfidenceScorer,
    minSamples: number,
    private readonly now: number = Date.now(),
    prior: { readonly alpha: number; readonly beta: number } = { alpha: 1, beta: 1 },
  ) {
    this.executionCount = stats.executions;
    this.successRate = successRate(stats);
    this.avgResponseTime = stats.executions === 0 ? 0 : stats.totalDurationMs / stats.executions;
    let running = emptyStats;
    this.confidenceTrend = stats.history.map((o) => {
      running = recordOutcome(running, o);
      return scorer.score(running);
    });
    this.domainPerformance = Object.fromEntries(
      Object.entries(stats.byDomain).map(([d, c]) => [
        d,
        c.successes / Math.max(1, c.successes + c.failures),
      ]),
    );
    this.resourceUsage = resourceFigures(stats.history);
    const last = stats.history[stats.history.length - 1];
    this.lastExecution = last ? new Date(last.at) : undefined;
    const sd = (a: number, b: number) => Math.sqrt((a * b) / ((a + b) * (a + b) * (a + b + 1)));
    this.learningProgress =
      1 - sd(prior.alpha + stats.successes, prior.beta + stats.failures) / sd(prior.alpha, prior.beta);
    let brier = 0;
    stats.history.forEach((o, i) => {
      const predicted = i === 0 ? 0.5 : this.confidenceTrend[i - 1]!;
      brier += (predicted - (o.success ? 1 : 0)) ** 2;
    });
    this.accuracy = stats.history.length === 0 ? 0 : 1 - brier / stats.history.length;
    this.minSamples = minSamples;
  }

  /** Trend of the outcomes in the last `days` days (from the recorded history). */
  getTrendAnalysis(days = 7): TrendAnalysis {
    const since = this.now - days * DAY_MS;
    const recent = this.stats.history.filter((o) => o.at >= since);
    const rate = (list: typeof recent) =>
      list.length === 0 ? 0 : list.filter((o) => o.success).length / list.length;
    const half = Math.floor(recent.length / 2);
    const change = recent.length < 4 ? 0 : rate(recent.slice(half)) - rate(recent.slice(0, half));
    const r = rate(recent);
    return {
      days,
      executions: recent.length,
      successRate: r,
      successRateChange: change,
      success_rate_trend:
        recent.length < 4
          ? 'insufficient data'
          : change > 0.05
            ? 'improving'
            : change < -0.05
              ? 'declining'
              : 'stable',
      avgResponseTimeMs:
        recent.length === 0 ? 0 : recent.reduce((s, o) => s + o.durationMs, 0) / recent.length,
      performance_outlook: recent.length === 0 ? 'unknown' : r >= 0.85 ? 'good' : r >= 0.6 ? 'watch' : 'poor',
    };
  }

  /** Readable suggestions derived from the numbers above. */
  generateRecommendations(): string[] {
    const out: string[] = [];
    if (this.executionCount < this.minSamples) {
      out.push(
        `Gather more executions: ${this.executionCount} so far, confidence stays LOW until enough samples.`,
      );
    }
    if (this.executionCount > 0 && this.successRate < 0.85) {
      out.push(
        `Success rate ${(this.successRate * 100).toFixed(1)}% is below 85%: add retries or a fallback pattern.`,
      );
    }
    const weak = Object.entries(this.domainPerformance).filter(([, r]) => r < 0.5);
    for (const [domain, r] of weak)
      out.push(
        `Domain "${domain}" succeeds only ${(r * 100).toFixed(0)}% of the time: route it to another pattern.`,
      );
    if (this.avgResponseTime > 1000)
      out.push(
        `Average response time ${this.avgResponseTime.toFixed(0)} ms: consider parallel coordination.`,
      );
    return out;
  }
}
