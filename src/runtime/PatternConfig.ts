import { z } from 'zod';
import { confidenceScorer, type ConfidenceScorer } from '../learning/confidence.js';
import { parseWith } from '../core/validate.js';
import { durationSeconds } from '../core/duration.js';

const configSchema = z
  .object({
    /** 0..1: patterns below it (with enough samples) are not selected. */
    globalConfidenceThreshold: z.number().min(0).max(1),
    /** 0..1: step size of `weighted_average` and of the gradient bandit. */
    learningRate: z.number().min(0).max(1),
    /** Days outcomes count; older ones are dropped (patterns, agents, storage). */
    memoryRetentionDays: z.number().int().min(1),
    /** Default pattern timeout, seconds. */
    patternTimeoutSeconds: durationSeconds,
    confidenceAlgorithm: z.enum(['simple_average', 'weighted_average', 'adaptive_bayes']),
    /** Executions before a confidence level above LOW is given. */
    minSamples: z.number().int().min(1),
    /** 0..1: P(best) at which selection stops exploring (see LearningConfig.setConvergenceThreshold). */
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
  convergenceThreshold: 0.85,
};

let current: PatternConfigValues = { ...defaults };
let cached: { key: string; scorer: ConfidenceScorer } | undefined;
/** The Beta prior and discount of `adaptive_bayes` (LearningConfig registers itself here: no import cycle). */
let learningKnobs: () => { prior: { alpha: number; beta: number }; discount: number } = () => ({
  prior: { alpha: 1, beta: 1 },
  discount: 1,
});

/** @internal LearningConfig hands its prior and discount to the scorers. */
export function setLearningKnobs(source: typeof learningKnobs): void {
  learningKnobs = source;
}

function update(patch: Partial<PatternConfigValues>): void {
  current = parseWith(configSchema, { ...current, ...patch }, 'PatternConfig');
  revision += 1;
}
let revision = 0;

/** @internal Changes whenever the configuration does (learners refresh their knobs on it). */
export function configRevision(): number {
  return revision;
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
   * The step size α of `weighted_average` (Q ← Q + α(r − Q)) and of the gradient bandit.
   * @param rate - 0..1
   * @throws PatternValidationError when out of range
   */
  setLearningRate(rate: number): void {
    update({ learningRate: rate });
  },
  /**
   * How many days outcomes count: older ones stop counting in confidence, selection and
   * analytics, and are removed from storage when saved.
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
   * Configures confidence scoring (formulas and sources in `learning/confidence.ts`):
   * `simple_average` (sample mean), `weighted_average` (recency-weighted, step = learning rate),
   * `adaptive_bayes` (discounted Beta posterior mean, prior and γ from LearningConfig).
   * @param minSamples - outcomes before the level can leave LOW, and before a context cell is used alone
   * @param convergenceThreshold - 0..1: P(best) at which selection exploits the leader
   * @throws PatternValidationError naming an invalid field
   */
  configureConfidenceCalculation(
    algorithm: PatternConfigValues['confidenceAlgorithm'] = 'adaptive_bayes',
    minSamples = 5,
    convergenceThreshold = 0.85,
  ): void {
    update({ confidenceAlgorithm: algorithm, minSamples, convergenceThreshold });
  },
  getCurrentConfig(): PatternConfigValues {
    return { ...current };
  },
  /** Back to the defaults (tests). */
  reset(): void {
    current = { ...defaults };
    revision += 1;
  },
  /** The scorer the current configuration implies. */
  scorer(): ConfidenceScorer {
    const key = JSON.stringify([current, learningKnobs()]);
    if (cached?.key !== key) {
      const knobs = learningKnobs();
      cached = {
        key,
        scorer: confidenceScorer(current.confidenceAlgorithm, {
          minSamples: current.minSamples,
          learningRate: current.learningRate,
          prior: knobs.prior,
          discount: knobs.discount,
        }),
      };
    }
    return cached.scorer;
  },
} as const;
