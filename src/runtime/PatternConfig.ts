import { z } from 'zod';
import { successRateScorer, type ConfidenceScorer } from '../learning/confidence.js';
import { parseWith } from '../core/validate.js';

const configSchema = z
  .object({
    /** 0..1: patterns below it (with enough samples) are not selected. */
    globalConfidenceThreshold: z.number().min(0).max(1),
    /** 0..1: step size of recency-weighted learning. */
    learningRate: z.number().min(0).max(1),
    /** Days learning data is kept by cleanup. */
    memoryRetentionDays: z.number().int().min(1),
    /** Default pattern timeout, seconds. */
    patternTimeoutSeconds: z.number().positive(),
    confidenceAlgorithm: z.enum(['simple_average', 'weighted_average', 'adaptive_bayes']),
    /** Executions before a confidence level above LOW is given. */
    minSamples: z.number().int().min(1),
    /** 0..1. */
    convergenceThreshold: z.number().min(0).max(1),
  })
  .strict();
export type PatternConfigValues = z.infer<typeof configSchema>;

const defaults: PatternConfigValues = {
  globalConfidenceThreshold: 0,
  learningRate: 0.1,
  memoryRetentionDays: 30,
  patternTimeoutSeconds: 60,
  confidenceAlgorithm: 'simple_average',
  minSamples: 5,
  convergenceThreshold: 0.95,
};

let current: PatternConfigValues = { ...defaults };

function update(patch: Partial<PatternConfigValues>): void {
  current = parseWith(configSchema, { ...current, ...patch }, 'PatternConfig');
}

/**
 * Process-wide configuration (the reference's class methods). Every setter validates and
 * throws PatternValidationError naming the field.
 *
 * @example
 * PatternConfig.setGlobalConfidenceThreshold(0.75);
 * PatternConfig.setPatternTimeout(120); // seconds
 */
export const PatternConfig = {
  /** @param threshold - 0..1 */
  setGlobalConfidenceThreshold(threshold: number): void {
    update({ globalConfidenceThreshold: threshold });
  },
  /** @param rate - 0..1 */
  setLearningRate(rate: number): void {
    update({ learningRate: rate });
  },
  setMemoryRetentionDays(days: number): void {
    update({ memoryRetentionDays: days });
  },
  /** @param timeoutSeconds - default pattern timeout, seconds */
  setPatternTimeout(timeoutSeconds: number): void {
    update({ patternTimeoutSeconds: timeoutSeconds });
  },
  /**
   * @param algorithm - `simple_average` | `weighted_average` | `adaptive_bayes` (the learning
   *   work implements the last two; until then every algorithm scores by success rate)
   * @param minSamples - executions before confidence can leave LOW
   * @param convergenceThreshold - 0..1
   */
  configureConfidenceCalculation(
    algorithm: PatternConfigValues['confidenceAlgorithm'] = 'adaptive_bayes',
    minSamples = 5,
    convergenceThreshold = 0.95,
  ): void {
    update({ confidenceAlgorithm: algorithm, minSamples, convergenceThreshold });
  },
  getCurrentConfig(): PatternConfigValues {
    return { ...current };
  },
  /** Back to the defaults (tests). */
  reset(): void {
    current = { ...defaults };
  },
  /** The scorer the current configuration implies. */
  scorer(): ConfidenceScorer {
    return successRateScorer(current.minSamples);
  },
} as const;
