import { z } from 'zod';
import { parseWith } from '../core/validate.js';
import { defaultLearningParams, type LearningParams } from '../learning/params.js';
import { PatternConfig, configRevision, setLearningKnobs } from './PatternConfig.js';

const schema = z
  .object({
    learningAlgorithm: z.enum(['statistical_bayes', 'adaptive_gradient']),
    explorationRate: z.number().min(0).max(1),
    patternSimilarityThreshold: z.number().min(0).max(1),
    prior: z.object({ alpha: z.number().positive(), beta: z.number().positive() }).strict(),
    discount: z.number().gt(0).max(1),
    transferCap: z.number().min(0),
    changeDelta: z.number().gt(0).max(1),
    changeThreshold: z.number().min(0),
  })
  .strict();
type Values = z.infer<typeof schema>;

const defaults: Values = {
  learningAlgorithm: defaultLearningParams.algorithm,
  explorationRate: defaultLearningParams.explorationRate,
  patternSimilarityThreshold: defaultLearningParams.similarityThreshold,
  prior: defaultLearningParams.prior,
  discount: defaultLearningParams.discount,
  transferCap: defaultLearningParams.transferCap,
  changeDelta: defaultLearningParams.changeDelta,
  changeThreshold: defaultLearningParams.changeThreshold,
};

let current: Values = { ...defaults };

function update(patch: Partial<Values>): void {
  current = parseWith(schema, { ...current, ...patch }, 'LearningConfig');
}

/**
 * Process-wide knobs of the learning layer (the user guide's `LearningConfig`). Every setter
 * validates and throws PatternValidationError naming the field. The learning rate, `minSamples`,
 * the convergence threshold and the retention live in `PatternConfig` (shared with scoring).
 *
 * @example
 * LearningConfig.setLearningAlgorithm('adaptive_gradient');
 * LearningConfig.setExplorationRate(0.05);
 */
export const LearningConfig = {
  /** `statistical_bayes` (Thompson sampling) or `adaptive_gradient` (gradient bandit, Sutton & Barto §2.8). */
  setLearningAlgorithm(algorithm: 'statistical_bayes' | 'adaptive_gradient'): void {
    update({ learningAlgorithm: algorithm });
  },
  /**
   * P(best), 0..1, at which exploration stops and the leader is exploited (learning continues).
   * The same value as `PatternConfig.configureConfidenceCalculation`'s `convergenceThreshold`.
   */
  setConvergenceThreshold(threshold: number): void {
    const c = PatternConfig.getCurrentConfig();
    PatternConfig.configureConfidenceCalculation(c.confidenceAlgorithm, c.minSamples, threshold);
  },
  /** Exploration floor, 0..1: probability of a uniform pick among the eligible arms. */
  setExplorationRate(rate: number): void {
    update({ explorationRate: rate });
  },
  /** Least context similarity, 0..1, for a new context cell to start from a known one. */
  setPatternSimilarityThreshold(threshold: number): void {
    update({ patternSimilarityThreshold: threshold });
  },
  /**
   * The finer knobs: Beta `prior`, `discount` γ in (0, 1], `transferCap` (pseudo-counts),
   * `changeDelta` (0..1) and `changeThreshold` (CUSUM h; 0 = off).
   */
  configure(
    patch: Partial<Pick<Values, 'prior' | 'discount' | 'transferCap' | 'changeDelta' | 'changeThreshold'>>,
  ): void {
    update(patch);
  },
  getCurrentConfig(): Values {
    return { ...current, prior: { ...current.prior } };
  },
  /** Back to the defaults (tests). */
  reset(): void {
    current = { ...defaults };
  },
  /** The knobs the pure learning functions take, from this and `PatternConfig` (the same object until either changes). */
  params(): LearningParams {
    if (memo?.mine === current && memo.revision === configRevision()) return memo.params;
    memo = { mine: current, revision: configRevision(), params: build() };
    return memo.params;
  },
} as const;

let memo: { mine: Values; revision: number; params: LearningParams } | undefined;

function build(): LearningParams {
  const p = PatternConfig.getCurrentConfig();
  return {
    algorithm: current.learningAlgorithm,
    prior: current.prior,
    discount: current.discount,
    learningRate: p.learningRate,
    minSamples: p.minSamples,
    explorationRate: current.explorationRate,
    convergenceThreshold: p.convergenceThreshold,
    retentionDays: p.memoryRetentionDays,
    similarityThreshold: current.patternSimilarityThreshold,
    transferCap: current.transferCap,
    changeDelta: current.changeDelta,
    changeThreshold: current.changeThreshold,
  };
}

setLearningKnobs(() => ({ prior: current.prior, discount: current.discount }));
