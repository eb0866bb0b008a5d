import { betaMean, betaVariance } from './beta.js';
import { softmax, type ArmLearner, type ArmView } from './ArmLearner.js';
import { cellPath, type CellContext } from './cells.js';
import { sampleBeta, type Random } from './random.js';

/** An arm left out of a decision, and why (breaker open, below threshold, busy…). */
export interface Exclusion {
  readonly arm: string;
  readonly why: string;
}

/**
 * Why a decision chose what it chose. Emitted in the run's events as `learning.decision`.
 * - `only`: one eligible arm; `explore`: the exploration floor's uniform pick;
 * - `thompson`: the highest of one Beta draw per arm (`sampled`);
 * - `exploit`: converged, P(best) of the highest posterior mean ≥ the convergence threshold;
 * - `gradient`: a draw from the gradient bandit's softmax (`probabilities`).
 */
export interface Decision {
  readonly chosen: string;
  readonly rule: 'only' | 'explore' | 'thompson' | 'exploit' | 'gradient';
  /** Per eligible arm: posterior mean (0..1), samples behind it and the cell used. */
  readonly arms: readonly { arm: string; mean: number; samples: number; cell: string }[];
  /** Thompson draws per arm, 0..1 (rule `thompson`). */
  readonly sampled?: Readonly<Record<string, number>> | undefined;
  /** Softmax probabilities per arm, 0..1 (rule `gradient`). */
  readonly probabilities?: Readonly<Record<string, number>> | undefined;
  /** P(best) of the leader, 0..1, when it was estimated. */
  readonly pBest?: number | undefined;
  readonly excluded: readonly Exclusion[];
}

/** Draws used to estimate P(best) once every pairwise test passes. */
const P_BEST_DRAWS = 128;

/** Standard normal CDF Φ(x), Abramowitz & Stegun 7.1.26 (|error| < 1.5e-7). */
export function normalCdf(x: number): number {
  const t = 1 / (1 + 0.3275911 * (Math.abs(x) / Math.SQRT2));
  const y =
    1 -
    ((((1.061405429 * t - 1.453152027) * t + 1.421413741) * t - 0.284496736) * t + 0.254829592) *
      t *
      Math.exp(-(x * x) / 2);
  return x >= 0 ? 0.5 * (1 + y) : 0.5 * (1 - y);
}

/**
 * P(best) of `leader`: the probability that its value is the highest of `views`, estimated by
 * Monte Carlo with `P_BEST_DRAWS` joint posterior draws over the contenders. Arms whose pairwise
 * chance to beat the leader (normal approximation) is below 1e-3 are left out of the draws, and
 * when some pairwise chance already exceeds 1 − `threshold` the answer is that pairwise bound
 * (P(best) ≤ min over j of P(leader > j)) with no draws, and when the product of the pairwise
 * chances (a lower bound) already reaches `threshold` that product is returned with no draws.
 */
export function probabilityBest(
  leader: ArmView,
  views: readonly ArmView[],
  threshold: number,
  random: Random,
): number {
  const ml = betaMean(leader.posterior);
  const vl = betaVariance(leader.posterior);
  const contenders: ArmView[] = [];
  let bound = 1;
  let product = 1;
  for (const v of views) {
    if (v === leader) continue;
    const z = (ml - betaMean(v.posterior)) / Math.sqrt(vl + betaVariance(v.posterior));
    const win = normalCdf(z);
    bound = Math.min(bound, win);
    product *= win;
    if (1 - win >= 1e-3) contenders.push(v);
  }
  if (bound < threshold || contenders.length === 0) return bound;
  // The events {leader > j} all increase with the leader's value, so they are positively
  // associated (Harris 1960): P(best) ≥ Π P(leader > j). Past the threshold already: no draws.
  if (product >= threshold) return product;
  let wins = 0;
  for (let i = 0; i < P_BEST_DRAWS; i++) {
    const x = sampleBeta(leader.posterior.alpha, leader.posterior.beta, random);
    let best = true;
    for (const v of contenders) {
      if (sampleBeta(v.posterior.alpha, v.posterior.beta, random) > x) {
        best = false;
        break;
      }
    }
    if (best) wins += 1;
  }
  return wins / P_BEST_DRAWS;
}

/**
 * Chooses one of `eligible` arms for a context, by the learner's algorithm:
 * - with probability `explorationRate`, uniformly (the exploration floor);
 * - `statistical_bayes`: Beta–Bernoulli Thompson sampling (W. R. Thompson, Biometrika 25, 1933;
 *   Chapelle & Li, "An Empirical Evaluation of Thompson Sampling", NIPS 2011): one draw per arm
 *   from its posterior, highest wins; but once P(best) of the highest posterior mean reaches
 *   `convergenceThreshold`, that arm is exploited without a draw (learning continues: its
 *   outcomes still update the posteriors, so a change brings the sampling back; a threshold of 1
 *   never converges);
 * - `adaptive_gradient`: a draw from the softmax of the cell's gradient preferences.
 * Every random draw comes from `random`.
 * @param eligible - non-empty
 * @throws RangeError when `eligible` is empty
 */
export function decide(
  learner: ArmLearner,
  eligible: readonly string[],
  ctx: CellContext,
  random: Random,
  excluded: readonly Exclusion[] = [],
): Decision {
  if (eligible.length === 0) throw new RangeError('decide: no eligible arm');
  const { explorationRate, convergenceThreshold, algorithm } = learner.params;
  const path = cellPath(ctx);
  const views = eligible.map((a) => learner.view(a, ctx, path));
  const arms = views.map((v) => ({
    arm: v.arm,
    mean: betaMean(v.posterior),
    samples: v.samples,
    cell: v.cell,
  }));
  const base = { arms, excluded };
  if (eligible.length === 1) return { ...base, chosen: eligible[0]!, rule: 'only' };
  if (explorationRate > 0 && random() < explorationRate) {
    return { ...base, chosen: eligible[Math.floor(random() * eligible.length)]!, rule: 'explore' };
  }
  if (algorithm === 'adaptive_gradient') {
    const { prefs } = learner.gradientCell(path);
    const pi = softmax(new Map(eligible.map((a) => [a, prefs.get(a) ?? 0])));
    let u = random();
    let chosen = eligible[eligible.length - 1]!;
    for (const [a, p] of pi) {
      u -= p;
      if (u < 0) {
        chosen = a;
        break;
      }
    }
    return { ...base, chosen, rule: 'gradient', probabilities: Object.fromEntries(pi) };
  }
  let leader = views[0]!;
  for (const v of views) if (betaMean(v.posterior) > betaMean(leader.posterior)) leader = v;
  const pBest = probabilityBest(leader, views, convergenceThreshold, random);
  if (convergenceThreshold < 1 && pBest >= convergenceThreshold)
    return { ...base, chosen: leader.arm, rule: 'exploit', pBest };
  const sampled: Record<string, number> = {};
  let chosen = leader.arm;
  let top = -1;
  for (const v of views) {
    const x = sampleBeta(v.posterior.alpha, v.posterior.beta, random);
    sampled[v.arm] = x;
    if (x > top) {
      top = x;
      chosen = v.arm;
    }
  }
  return { ...base, chosen, rule: 'thompson', sampled, pBest };
}
