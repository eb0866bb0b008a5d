import { z } from 'zod';
import { successRateScorer, type ConfidenceScorer } from '../learning/confidence.js';
import { parseWith } from '../core/validate.js';
import { durationSeconds } from '../core/duration.js';

const configSchema = z
  .object({
    /** 0..1: patterns below it (with enough samples) are not selected. */
    globalConfidenceThreshold: z.number().min(0).max(1),
    /** 0..1: step size of recency-weighted learning. Stored only: nothing reads it yet (see setLearningRate). */
    learningRate: z.number().min(0).max(1),
    /** Days learning data is to be kept. Stored only: nothing reads it yet (see setMemoryRetentionDays). */
    memoryRetentionDays: z.number().int().min(1),
    /** Default pattern timeout, seconds. */
    patternTimeoutSeconds: durationSeconds,
    confidenceAlgorithm: z.enum(['simple_average', 'weighted_average', 'adaptive_bayes']),
    /** Executions before a confidence level above LOW is given. */
    minSamples: z.number().int().min(1),
    /** 0..1. Stored only: nothing reads it yet (see configureConfidenceCalculation). */
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
  /**
   * Stores the learning rate. Not yet acted on: every algorithm scores by success rate and
   * nothing reads this value until the learning work (recency-weighted scoring) lands.
   * @param rate - 0..1
   * @throws PatternValidationError when out of range
   */
  setLearningRate(rate: number): void {
    update({ learningRate: rate });
  },
  /**
   * Stores how many days learning data is to be kept. Not yet acted on: outcome history is
   * bounded by count (200), and nothing reads this value until the learning work lands.
   * @param days - an integer ≥ 1
   * @throws PatternValidationError when invalid
   */
  setMemoryRetentionDays(days: number): void {
    update({ memoryRetentionDays: days });
  },
  /** @param timeoutSeconds - default pattern timeout, seconds */
  setPatternTimeout(timeoutSeconds: number): void {
    update({ patternTimeoutSeconds: timeoutSeconds });
  },
  /**
   * Configures confidence scoring. Only `minSamples` acts today; `algorithm` and
   * `convergenceThreshold` are stored and not read: every algorithm scores by success rate
   * until the learning work implements `weighted_average` and `adaptive_bayes`.
   * @param algorithm - `simple_average` | `weighted_average` | `adaptive_bayes` (stored only, see above)
   * @param minSamples - executions before confidence can leave LOW
   * @param convergenceThreshold - 0..1 (stored only, see above)
   * @throws PatternValidationError naming an invalid field
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
