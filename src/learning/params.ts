import { z } from 'zod';

/**
 * The knobs of the learning layer, as one validated value handed to the pure functions
 * (the runtime builds it from `PatternConfig` and `LearningConfig`).
 */
export const learningParamsSchema = z
  .object({
    /** `statistical_bayes`: Thompson sampling on Beta posteriors; `adaptive_gradient`: gradient bandit. */
    algorithm: z.enum(['statistical_bayes', 'adaptive_gradient']),
    /** Beta prior of every arm: pseudo-successes `alpha`, pseudo-failures `beta` (> 0). */
    prior: z.object({ alpha: z.number().positive(), beta: z.number().positive() }).strict(),
    /**
     * Discount factor γ in (0, 1]: each outcome recorded in a context cell multiplies every arm's
     * counts in that cell by γ (discounted Thompson sampling, Raj & Kalyani 2017). 1 = stationary.
     */
    discount: z.number().gt(0).max(1),
    /** Step size, 0..1: of `weighted_average` and of the gradient bandit's preferences. */
    learningRate: z.number().min(0).max(1),
    /** Shift of an arm's success rate that change detection looks for, 0..1. */
    changeDelta: z.number().gt(0).max(1),
    /** CUSUM decision threshold h (≥ 0); 0 turns change detection off. */
    changeThreshold: z.number().min(0),
    /** Outcomes a context cell needs before it is used on its own (else its parent cell is). */
    minSamples: z.number().int().min(1),
    /** Exploration floor, 0..1: probability of a uniform pick among the eligible arms. */
    explorationRate: z.number().min(0).max(1),
    /** 0..1: once P(best) of the leading arm reaches it, the leader is exploited (no sampling). */
    convergenceThreshold: z.number().min(0).max(1),
    /** Outcomes older than this many days (before `now`) stop counting and are dropped. */
    retentionDays: z.number().positive(),
    /** 0..1: least context similarity for a new cell to start from a known one (transfer). */
    similarityThreshold: z.number().min(0).max(1),
    /**
     * Most pseudo-counts a transferred prior carries (scaled by the similarity, or for the catch-all
     * cell `*` by its measured skill, `ArmLearner.rootSkill`).
     */
    transferCap: z.number().min(0),
  })
  .strict();
export type LearningParams = z.infer<typeof learningParamsSchema>;

/**
 * Defaults. Drift handling: CUSUM change detection with no discount (γ = 1), chosen on DelegBench
 * over discounting (γ 0.99–0.999) and a windowed z-test; CUSUM δ, h and the convergence threshold
 * were chosen on DelegBench seeds other than the 200 it reports (1001–1400); see docs/learning.md.
 */
export const defaultLearningParams: LearningParams = {
  algorithm: 'statistical_bayes',
  prior: { alpha: 1, beta: 1 },
  discount: 1,
  changeDelta: 0.08,
  changeThreshold: 9,
  learningRate: 0.1,
  minSamples: 5,
  explorationRate: 0,
  convergenceThreshold: 0.85,
  retentionDays: 30,
  similarityThreshold: 0.7,
  transferCap: 200,
};
