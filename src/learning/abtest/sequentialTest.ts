import { armResponseVariance, armSuccessRate, type ArmStats } from './armStats.js';
import { confidenceHalfWidth, logMixtureLikelihoodRatio } from './msprt.js';

/**
 * An always-valid sequential A/B test of treatment against control: the mSPRT of `./msprt.ts`
 * applied to the difference of the arms' means, with the normal approximation and plug-in
 * variances (Johari, Pekelis & Walsh, "Always Valid Inference", 2017, section 4.2 and
 * Appendix; the Optimizely stats engine does the same for two proportions).
 *
 * - `success_rate`: effect θ = p_T − p_C (0..1 points); θ̂ = p̂_T − p̂_C. The p-value tests
 *   θ = 0 with the variance under that hypothesis, V₀ = p̄(1 − p̄)(1/n_T + 1/n_C), p̄ the pooled
 *   rate (the two-proportion z-test's choice: with an unbalanced split, the unpooled variance of
 *   a small arm that happens to sit near 0 or 1 is too small, and false positives rise to 5.4%
 *   at a 0.1 split and rates of 0.95, against 3.2% pooled). The interval uses the unpooled
 *   V = p̃_T(1 − p̃_T)/n_T + p̃_C(1 − p̃_C)/n_C. Both smooth the rates, p̃ = (successes + 1)/(n + 2),
 *   so that an arm with all successes (or none) so far does not claim zero variance.
 * - `response_time`: effect θ = mean_T − mean_C over the successful outcomes (ms, negative =
 *   treatment faster); V = s²_T/k_T + s²_C/k_C with k the successes and s² the unbiased sample
 *   variances.
 *
 * The always-valid p-value is the running minimum of min(1, 1/Λ) over the looks, and the
 * confidence interval the running intersection of the per-look intervals, so both stay valid
 * whenever they are read, after every outcome or at any data-dependent time. The arms may be
 * unbalanced (a traffic split other than 0.5); the normal approximation needs
 * `minSamplesPerArm` outcomes in each arm (successful ones for response_time) before the first
 * look counts.
 *
 * Pure: state in, state out.
 */

/** The metric an A/B test compares. */
export type SuccessMetric = 'success_rate' | 'response_time';

/** The fixed parameters of one sequential test. */
export interface SequentialTestSpec {
  readonly metric: SuccessMetric;
  /** α = 1 − the confidence level: the type-I error bound, 0 < α < 1 (e.g. 0.05). */
  readonly alpha: number;
  /**
   * τ, the standard deviation of the normal mixing distribution over the effect, in the
   * metric's units (0..1 for success_rate, ms for response_time), > 0. The test has the most
   * power for effects of about this size. Undefined: {@link DEFAULT_SUCCESS_MIXING_SD} for
   * success_rate; for response_time {@link DEFAULT_RESPONSE_MIXING_SCALE} × the pooled sample
   * standard deviation (a plug-in, like the variances).
   */
  readonly mixingSd?: number | undefined;
  /** Outcomes each arm needs before a look counts (integer ≥ 2). */
  readonly minSamplesPerArm: number;
}

/**
 * τ for success_rate when none is given: 0.1, effects of about 10 points are detected fastest.
 * In the S5 simulation (docs/ab-testing.md) τ = 0.05 and 0.1 keep about the same A/A error
 * (2.1%, 2.4%); 0.1 stops sooner on a 10-point effect (359 against 404 outcomes per arm) and on
 * a 30-point one (75 against 108).
 */
export const DEFAULT_SUCCESS_MIXING_SD = 0.1;
/** τ for response_time when none is given, as a multiple of the pooled standard deviation. */
export const DEFAULT_RESPONSE_MIXING_SCALE = 0.25;

/** Which arm an effect favours. */
export type Arm = 'control' | 'treatment';

/** What the test has seen so far (serialisable: `null` where unbounded or undecided). */
export interface SequentialTestState {
  /** Looks that counted (both arms had `minSamplesPerArm` outcomes and a positive variance). */
  readonly looks: number;
  /** Always-valid p-value of H₀: θ = 0, 0..1, non-increasing. */
  readonly pValue: number;
  /** Lower bound of the always-valid (1 − α) interval of θ; null while unbounded. */
  readonly lower: number | null;
  /** Upper bound; null while unbounded. */
  readonly upper: number | null;
  /** The arm the estimate favoured at the first look where pValue ≤ α; null until then. */
  readonly winner: Arm | null;
}

/** No look yet: p = 1, the interval is the whole line. */
export const initialTestState: SequentialTestState = {
  looks: 0,
  pValue: 1,
  lower: null,
  upper: null,
  winner: null,
};

/** The effect estimate θ̂ (treatment − control) and its variance V at one look. */
export interface EffectEstimate {
  readonly estimate: number;
  readonly variance: number;
}

/**
 * θ̂ and V of the arms (see the module comment); undefined while an arm has fewer than
 * `minSamplesPerArm` outcomes (successful ones for response_time) or V is 0 (every response
 * time identical).
 */
export function estimateEffect(
  spec: SequentialTestSpec,
  control: ArmStats,
  treatment: ArmStats,
): EffectEstimate | undefined {
  const count = (a: ArmStats) => (spec.metric === 'success_rate' ? a.n : a.successes);
  if (count(control) < spec.minSamplesPerArm || count(treatment) < spec.minSamplesPerArm) return undefined;
  let estimate: number;
  let variance: number;
  if (spec.metric === 'success_rate') {
    estimate = armSuccessRate(treatment) - armSuccessRate(control);
    variance =
      smoothedBernoulliVariance(treatment) / treatment.n + smoothedBernoulliVariance(control) / control.n;
  } else {
    estimate = treatment.meanMs - control.meanMs;
    variance =
      armResponseVariance(treatment) / treatment.successes + armResponseVariance(control) / control.successes;
  }
  return variance > 0 ? { estimate, variance } : undefined;
}

function smoothedBernoulliVariance(arm: ArmStats): number {
  const p = (arm.successes + 1) / (arm.n + 2);
  return p * (1 - p);
}

/** τ² of the spec for these arms (see {@link SequentialTestSpec.mixingSd}). */
export function mixingVariance(spec: SequentialTestSpec, control: ArmStats, treatment: ArmStats): number {
  if (spec.mixingSd !== undefined) return spec.mixingSd * spec.mixingSd;
  if (spec.metric === 'success_rate') return DEFAULT_SUCCESS_MIXING_SD * DEFAULT_SUCCESS_MIXING_SD;
  const pooled = (control.m2Ms + treatment.m2Ms) / Math.max(1, control.successes + treatment.successes - 2);
  return DEFAULT_RESPONSE_MIXING_SCALE * DEFAULT_RESPONSE_MIXING_SCALE * pooled;
}

/** The arm an effect θ (treatment − control) favours: higher success rate, lower response time. */
export function favouredArm(metric: SuccessMetric, effect: number): Arm | null {
  if (effect === 0) return null;
  return (metric === 'success_rate' ? effect > 0 : effect < 0) ? 'treatment' : 'control';
}

/**
 * One look at the arms: the state after updating the always-valid p-value (running minimum of
 * 1/Λ at θ₀ = 0, with the variance under the null for success_rate) and the confidence interval (running intersection; should a look's interval miss the
 * running one entirely, which the normal approximation can produce, the look's own interval
 * replaces it). A look before both arms have `minSamplesPerArm` outcomes changes nothing.
 */
export function lookAt(
  state: SequentialTestState,
  spec: SequentialTestSpec,
  control: ArmStats,
  treatment: ArmStats,
): SequentialTestState {
  const effect = estimateEffect(spec, control, treatment);
  if (!effect) return state;
  const tauSq = mixingVariance(spec, control, treatment);
  const nullVariance = varianceUnderNull(spec, control, treatment) ?? effect.variance;
  const lookP = Math.min(1, Math.exp(-logMixtureLikelihoodRatio(effect.estimate, nullVariance, tauSq)));
  const pValue = Math.min(state.pValue, lookP);
  const half = confidenceHalfWidth(effect.variance, tauSq, spec.alpha);
  let lower = Math.max(state.lower ?? -Infinity, effect.estimate - half);
  let upper = Math.min(state.upper ?? Infinity, effect.estimate + half);
  if (lower > upper) {
    lower = effect.estimate - half;
    upper = effect.estimate + half;
  }
  const winner = state.winner ?? (pValue <= spec.alpha ? favouredArm(spec.metric, effect.estimate) : null);
  return { looks: state.looks + 1, pValue, lower, upper, winner };
}

/**
 * success_rate: the variance of θ̂ under H₀ (one common rate), p̄(1 − p̄)(1/n_C + 1/n_T) with the
 * pooled, Laplace-smoothed p̄ = (s_C + s_T + 1)/(n_C + n_T + 2), as in the two-proportion z-test.
 * Undefined for response_time (the plug-in variance serves both).
 */
function varianceUnderNull(
  spec: SequentialTestSpec,
  control: ArmStats,
  treatment: ArmStats,
): number | undefined {
  if (spec.metric !== 'success_rate') return undefined;
  const p = (control.successes + treatment.successes + 1) / (control.n + treatment.n + 2);
  return p * (1 - p) * (1 / control.n + 1 / treatment.n);
}
