import { ConfidenceLevel } from './ConfidenceLevel.js';
import { successRate, type OutcomeStats } from './outcomes.js';

/**
 * How confidence is computed from outcomes. One small interface so the learning work can
 * swap in a Beta posterior without touching patterns or the registry.
 */
export interface ConfidenceScorer {
  /** 0..1. */
  score(stats: OutcomeStats): number;
  level(stats: OutcomeStats): ConfidenceLevel;
}

/**
 * Success rate, shrunk toward 0 until `minSamples` outcomes exist:
 * `score = successRate * min(1, n / minSamples)`. Below `minSamples` the level is LOW
 * whatever the score.
 */
export function successRateScorer(minSamples = 5): ConfidenceScorer {
  return {
    score: (stats) => successRate(stats) * Math.min(1, stats.executions / Math.max(1, minSamples)),
    level(stats) {
      if (stats.executions < minSamples) return ConfidenceLevel.LOW;
      return ConfidenceLevel.fromScore(this.score(stats));
    },
  };
}
